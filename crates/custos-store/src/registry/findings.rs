//! Findings of the compliance scan (J1/J2).

use super::*;

impl Store {
    /// Saves one scan's findings: new ones are inserted as open; ones seen before keep their
    /// status and get the new message and `last_seen`; ones the scan no longer sees are marked
    /// resolved (`resolved_at`), current again if seen again; a verified one seen again is a
    /// recurrence and opens afresh (new detection time and deadline). One transaction.
    pub async fn save_scan(&self, found: &[FindingRow], now: Time90k) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning scan", e))?;
        for f in found {
            sqlx::query(
                "INSERT INTO reg_finding (id, rule, subject, system_id, articles, severity,
                    detected_90k, deadline_90k, consequence, status, message, last_seen_90k)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
                 ON CONFLICT (id) DO UPDATE SET message = excluded.message,
                    articles = excluded.articles, consequence = excluded.consequence,
                    last_seen_90k = excluded.last_seen_90k, resolved_90k = NULL,
                    detected_90k = iif(status = 'verified', excluded.detected_90k, detected_90k),
                    deadline_90k = iif(status = 'verified', excluded.deadline_90k, deadline_90k),
                    order_id = iif(status = 'verified', NULL, order_id),
                    status = iif(status = 'verified', 'open', status)",
            )
            .bind(&f.id)
            .bind(&f.rule)
            .bind(&f.subject)
            .bind(&f.system_id)
            .bind(&f.articles)
            .bind(&f.severity)
            .bind(f.detected_at.0)
            .bind(f.deadline.0)
            .bind(&f.consequence)
            .bind(&f.message)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("saving finding", e))?;
        }
        sqlx::query(
            "UPDATE reg_finding SET resolved_90k = ? WHERE last_seen_90k < ? AND resolved_90k IS NULL",
        )
        .bind(now.0)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("resolving findings", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("committing scan", e))?;
        Ok(())
    }

    /// Findings, current ones (not resolved) unless `include_resolved`; optionally of one system.
    pub async fn findings(
        &self,
        system_id: Option<&str>,
        include_resolved: bool,
    ) -> Result<Vec<FindingRow>> {
        let rows = sqlx::query(&format!(
            "{FINDING_COLS} WHERE (?1 IS NULL OR system_id = ?1)
               AND (?2 OR resolved_90k IS NULL) ORDER BY id"
        ))
        .bind(system_id)
        .bind(include_resolved)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing findings", e))?;
        Ok(rows.iter().map(finding_from_row).collect())
    }

    pub async fn finding(&self, id: &str) -> Result<FindingRow> {
        let r = sqlx::query(&format!("{FINDING_COLS} WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading finding", e))?;
        r.as_ref()
            .map(finding_from_row)
            .ok_or_else(|| not_found(format!("no finding {id:?}; run `custos findings`")))
    }

    /// Moves a finding to a new status (checked by the caller) and records the event.
    pub async fn set_finding_status(
        &self,
        ev: &FindingEventRow,
        deadline: Option<Time90k>,
        order_id: Option<i64>,
    ) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning finding update", e))?;
        let r = sqlx::query(
            "UPDATE reg_finding SET status = ?, deadline_90k = coalesce(?, deadline_90k),
                order_id = coalesce(?, order_id) WHERE id = ? AND status = ?",
        )
        .bind(&ev.to_status)
        .bind(deadline.map(|t| t.0))
        .bind(order_id)
        .bind(&ev.finding_id)
        .bind(&ev.from_status)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("updating finding", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "finding {} is not {} any more; reload it",
                    ev.finding_id, ev.from_status
                ),
            ));
        }
        sqlx::query(
            "INSERT INTO reg_finding_event (finding_id, from_status, to_status, by_person, at_90k,
                note, ledger_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&ev.finding_id)
        .bind(&ev.from_status)
        .bind(&ev.to_status)
        .bind(&ev.by)
        .bind(ev.at.0)
        .bind(&ev.note)
        .bind(ev.ledger_seq)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("recording finding event", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("committing finding update", e))?;
        Ok(())
    }

    pub async fn finding_events(&self, finding_id: &str) -> Result<Vec<FindingEventRow>> {
        sqlx::query_as::<_, FindingEventRow>(
            "SELECT finding_id, from_status, to_status, by_person, at_90k, note, ledger_seq
             FROM reg_finding_event WHERE finding_id = ? ORDER BY id",
        )
        .bind(finding_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing finding events", e))
    }
}
