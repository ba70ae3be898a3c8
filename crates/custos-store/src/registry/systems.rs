//! Units and systems (A1), lifecycle transitions (C1–C4).

use super::*;

impl Store {
    pub async fn upsert_unit(&self, u: &UnitRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_unit (id, name, credit_code, address, contact, state_owned)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, credit_code = excluded.credit_code,
                address = excluded.address, contact = excluded.contact, state_owned = excluded.state_owned",
        )
        .bind(&u.id)
        .bind(&u.name)
        .bind(&u.credit_code)
        .bind(&u.address)
        .bind(&u.contact)
        .bind(u.state_owned)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving unit", e))?;
        Ok(())
    }

    pub async fn units(&self) -> Result<Vec<UnitRow>> {
        sqlx::query_as::<_, UnitRow>(
            "SELECT id, name, credit_code, address, contact, state_owned FROM reg_unit ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing units", e))
    }

    /// Creates or updates a system's registry fields. The lifecycle state of an existing system
    /// is not changed here: only [`Store::record_transition`] changes it (C1).
    pub async fn upsert_system(&self, s: &SystemRow, now: Time90k) -> Result<()> {
        self.upsert_systems(std::slice::from_ref(s), now).await
    }

    /// As [`Store::upsert_system`], many in one transaction.
    pub async fn upsert_systems(&self, all: &[SystemRow], now: Time90k) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning systems", e))?;
        for s in all {
            sqlx::query(
                "INSERT INTO reg_system (id, name, building_unit, using_unit, maintenance_unit,
                responsible_unit, responsibility_basis, funding, division, profile, state, in_use,
                accepted_on, put_into_use_on, filed_on, completed_before_rules,
                stores_police_important_info, must_connect, public_name, has_duty_roster,
                has_operating_procedures, has_emergency_plan, created_90k)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                building_unit = excluded.building_unit, using_unit = excluded.using_unit,
                maintenance_unit = excluded.maintenance_unit,
                responsible_unit = excluded.responsible_unit,
                responsibility_basis = excluded.responsibility_basis, funding = excluded.funding,
                division = excluded.division, profile = excluded.profile, in_use = excluded.in_use,
                put_into_use_on = excluded.put_into_use_on,
                completed_before_rules = excluded.completed_before_rules,
                stores_police_important_info = excluded.stores_police_important_info,
                must_connect = excluded.must_connect, public_name = excluded.public_name,
                has_duty_roster = excluded.has_duty_roster,
                has_operating_procedures = excluded.has_operating_procedures,
                has_emergency_plan = excluded.has_emergency_plan",
            )
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.building_unit)
            .bind(&s.using_unit)
            .bind(&s.maintenance_unit)
            .bind(&s.responsible_unit)
            .bind(&s.responsibility_basis)
            .bind(&s.funding)
            .bind(&s.division)
            .bind(&s.profile)
            .bind(&s.state)
            .bind(s.in_use)
            .bind(&s.accepted_on)
            .bind(&s.put_into_use_on)
            .bind(&s.filed_on)
            .bind(s.completed_before_rules)
            .bind(s.stores_police_important_info)
            .bind(s.must_connect)
            .bind(&s.public_name)
            .bind(s.has_duty_roster)
            .bind(s.has_operating_procedures)
            .bind(s.has_emergency_plan)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("saving system", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing systems", e))?;
        Ok(())
    }

    pub async fn system(&self, id: &str) -> Result<SystemRow> {
        let r = sqlx::query(&format!("{SYSTEM_COLS} WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading system", e))?;
        r.as_ref()
            .map(system_from_row)
            .ok_or_else(|| not_found(format!("no system {id:?}; register it first")))
    }

    pub async fn systems(&self) -> Result<Vec<SystemRow>> {
        let rows = sqlx::query(&format!("{SYSTEM_COLS} ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing systems", e))?;
        Ok(rows.iter().map(system_from_row).collect())
    }

    /// Sets the observed in-use flag (streams live or recorded).
    pub async fn set_system_in_use(&self, id: &str, in_use: bool) -> Result<()> {
        let r = sqlx::query("UPDATE reg_system SET in_use = ? WHERE id = ?")
            .bind(in_use)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("saving system", e))?;
        if r.rows_affected() == 0 {
            return Err(not_found(format!("no system {id:?}")));
        }
        Ok(())
    }

    /// Records a lifecycle transition and applies it to the system in one transaction. The
    /// caller has checked it (custos-registry) and recorded the ledger entry `t.ledger_seq`.
    /// `accepted_on` / `filed_on` are set when the transition is to accepted / filed.
    pub async fn record_transition(&self, t: &TransitionRow) -> Result<i64> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning transition", e))?;
        let r = sqlx::query(
            "UPDATE reg_system SET state = ?,
                accepted_on = CASE WHEN ? = 'accepted' THEN ? ELSE accepted_on END,
                filed_on = CASE WHEN ? = 'filed' THEN ? ELSE filed_on END
             WHERE id = ? AND state = ?",
        )
        .bind(&t.to_state)
        .bind(&t.to_state)
        .bind(&t.on_date)
        .bind(&t.to_state)
        .bind(&t.on_date)
        .bind(&t.system_id)
        .bind(&t.from_state)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("applying transition", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "system {} is no longer in state {}; reload and retry",
                    t.system_id, t.from_state
                ),
            ));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO reg_transition (system_id, from_state, to_state, on_date, evidence,
                by_person, at_90k, ledger_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&t.system_id)
        .bind(&t.from_state)
        .bind(&t.to_state)
        .bind(&t.on_date)
        .bind(&t.evidence)
        .bind(&t.by)
        .bind(t.at.0)
        .bind(t.ledger_seq)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_err("recording transition", e))?
        .get(0);
        tx.commit()
            .await
            .map_err(|e| db_err("committing transition", e))?;
        Ok(id)
    }

    pub async fn transitions(&self, system_id: &str) -> Result<Vec<TransitionRow>> {
        sqlx::query_as::<_, TransitionRow>(
            "SELECT id, system_id, from_state, to_state, on_date, evidence, by_person, at_90k,
                    ledger_seq FROM reg_transition WHERE system_id = ? ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing transitions", e))
    }
}
