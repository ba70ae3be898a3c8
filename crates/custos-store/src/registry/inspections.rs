//! Inspections and rectification orders (J1).

use super::*;

impl Store {
    pub async fn start_inspection(
        &self,
        system_id: &str,
        kind: &str,
        inspector: &str,
        at: Time90k,
        ledger_seq: i64,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_inspection (system_id, kind, inspector, started_90k, ledger_seq)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(system_id)
        .bind(kind)
        .bind(inspector)
        .bind(at.0)
        .bind(ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("starting inspection", e))
    }

    /// Answers a checklist item of an unfinished inspection (answering again replaces it).
    pub async fn answer_inspection_item(
        &self,
        inspection_id: i64,
        item: &InspectionItemRow,
    ) -> Result<()> {
        let open: Option<i64> =
            sqlx::query("SELECT id FROM reg_inspection WHERE id = ? AND finished_90k IS NULL")
                .bind(inspection_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_err("reading inspection", e))?
                .map(|r| r.get(0));
        if open.is_none() {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("inspection {inspection_id} does not exist or is finished"),
            ));
        }
        sqlx::query(
            "INSERT INTO reg_inspection_item (inspection_id, item, answer, note) VALUES (?, ?, ?, ?)
             ON CONFLICT (inspection_id, item) DO UPDATE SET answer = excluded.answer,
                note = excluded.note",
        )
        .bind(inspection_id)
        .bind(&item.item)
        .bind(&item.answer)
        .bind(&item.note)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("answering inspection item", e))?;
        Ok(())
    }

    pub async fn finish_inspection(&self, inspection_id: i64, at: Time90k) -> Result<()> {
        let r = sqlx::query(
            "UPDATE reg_inspection SET finished_90k = ? WHERE id = ? AND finished_90k IS NULL",
        )
        .bind(at.0)
        .bind(inspection_id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("finishing inspection", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("inspection {inspection_id} does not exist or is finished"),
            ));
        }
        Ok(())
    }

    pub async fn inspection(
        &self,
        inspection_id: i64,
    ) -> Result<(InspectionRow, Vec<InspectionItemRow>)> {
        let r = sqlx::query(
            "SELECT id, system_id, kind, inspector, started_90k, finished_90k, ledger_seq
             FROM reg_inspection WHERE id = ?",
        )
        .bind(inspection_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading inspection", e))?
        .ok_or_else(|| not_found(format!("no inspection {inspection_id}")))?;
        let ins = InspectionRow {
            id: r.get(0),
            system_id: r.get(1),
            kind: r.get(2),
            inspector: r.get(3),
            started_at: Time90k(r.get(4)),
            finished_at: r.get::<Option<i64>, _>(5).map(Time90k),
            ledger_seq: r.get(6),
        };
        let items = sqlx::query(
            "SELECT item, answer, note FROM reg_inspection_item WHERE inspection_id = ? ORDER BY item",
        )
        .bind(inspection_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading inspection items", e))?
        .iter()
        .map(|r| InspectionItemRow {
            item: r.get(0),
            answer: r.get(1),
            note: r.get(2),
        })
        .collect();
        Ok((ins, items))
    }

    pub async fn inspections(&self, system_id: &str) -> Result<Vec<InspectionRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, kind, inspector, started_90k, finished_90k, ledger_seq
             FROM reg_inspection WHERE system_id = ? ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing inspections", e))?;
        Ok(rows
            .iter()
            .map(|r| InspectionRow {
                id: r.get(0),
                system_id: r.get(1),
                kind: r.get(2),
                inspector: r.get(3),
                started_at: Time90k(r.get(4)),
                finished_at: r.get::<Option<i64>, _>(5).map(Time90k),
                ledger_seq: r.get(6),
            })
            .collect())
    }

    pub async fn add_rectification_order(&self, o: &OrderRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_rectification_order (inspection_id, system_id, issued_by, issued_90k,
                deadline, items, ledger_seq) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(o.inspection_id)
        .bind(&o.system_id)
        .bind(&o.issued_by)
        .bind(o.issued_at.0)
        .bind(&o.deadline)
        .bind(&o.items)
        .bind(o.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving rectification order", e))
    }

    pub async fn rectification_orders(&self, system_id: &str) -> Result<Vec<OrderRow>> {
        sqlx::query_as::<_, OrderRow>("SELECT id, inspection_id, system_id, issued_by, issued_90k, deadline, items, ledger_seq
             FROM reg_rectification_order WHERE system_id = ? ORDER BY id")
        .bind(system_id)
        .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing orders", e))
    }
}
