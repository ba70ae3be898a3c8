//! Staff, training, duty shifts and logs, maintenance, changes (A5, D2–D4).

use super::*;

impl Store {
    pub async fn upsert_staff(&self, s: &StaffRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_staff (id, system_id, name, role, id_number) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET system_id = excluded.system_id, name = excluded.name,
                role = excluded.role, id_number = excluded.id_number",
        )
        .bind(&s.id)
        .bind(&s.system_id)
        .bind(&s.name)
        .bind(&s.role)
        .bind(&s.id_number)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving staff", e))?;
        Ok(())
    }

    pub async fn staff(&self, system_id: Option<&str>) -> Result<Vec<StaffRow>> {
        sqlx::query_as::<_, StaffRow>(
            "SELECT id, system_id, name, role, id_number FROM reg_staff
             WHERE ?1 IS NULL OR system_id = ?1 ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing staff", e))
    }

    pub async fn add_training(&self, t: &TrainingRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_training (staff_id, topic, on_date, provider) VALUES (?, ?, ?, ?)",
        )
        .bind(&t.staff_id)
        .bind(&t.topic)
        .bind(&t.on_date)
        .bind(&t.provider)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving training", e))?;
        Ok(())
    }

    pub async fn trainings(&self) -> Result<Vec<TrainingRow>> {
        sqlx::query_as::<_, TrainingRow>(
            "SELECT staff_id, topic, on_date, provider FROM reg_training ORDER BY staff_id, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing training", e))
    }

    pub async fn add_duty_shift(
        &self,
        system_id: &str,
        staff_id: &str,
        start: Time90k,
        end: Time90k,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_duty_shift (system_id, staff_id, start_90k, end_90k)
             VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(system_id)
        .bind(staff_id)
        .bind(start.0)
        .bind(end.0)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving duty shift", e))
    }

    /// Staff on duty for `system_id` at `at` (D5 feeds `Principal::on_duty_for` from this).
    pub async fn on_duty(&self, system_id: &str, at: Time90k) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT staff_id FROM reg_duty_shift
             WHERE system_id = ? AND start_90k <= ? AND end_90k > ? ORDER BY staff_id",
        )
        .bind(system_id)
        .bind(at.0)
        .bind(at.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing duty", e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub async fn add_duty_log(
        &self,
        system_id: &str,
        staff_id: &str,
        at: Time90k,
        entry: &str,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_duty_log (system_id, staff_id, at_90k, entry) VALUES (?, ?, ?, ?)
             RETURNING id",
        )
        .bind(system_id)
        .bind(staff_id)
        .bind(at.0)
        .bind(entry)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving duty log", e))
    }

    /// Latest duty-log entry time per system.
    pub async fn last_duty_logs(&self) -> Result<Vec<(String, Time90k)>> {
        let rows =
            sqlx::query("SELECT system_id, max(at_90k) FROM reg_duty_log GROUP BY system_id")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("reading duty logs", e))?;
        Ok(rows.iter().map(|r| (r.get(0), Time90k(r.get(1)))).collect())
    }

    pub async fn add_maintenance(&self, m: &MaintenanceRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_maintenance (system_id, device_code, kind, on_date, by_unit, result, notes)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&m.system_id)
        .bind(&m.device_code)
        .bind(&m.kind)
        .bind(&m.on_date)
        .bind(&m.by_unit)
        .bind(&m.result)
        .bind(&m.notes)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving maintenance record", e))
    }

    pub async fn maintenance(&self, system_id: &str) -> Result<Vec<MaintenanceRow>> {
        sqlx::query_as::<_, MaintenanceRow>(
            "SELECT id, system_id, device_code, kind, on_date, by_unit, result, notes
             FROM reg_maintenance WHERE system_id = ? ORDER BY on_date, id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing maintenance", e))
    }

    pub async fn upsert_change(&self, c: &ChangeRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_change (id, system_id, kind, on_date, done, police_notified_on, filed_on)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, on_date = excluded.on_date,
                done = excluded.done, police_notified_on = excluded.police_notified_on,
                filed_on = excluded.filed_on",
        )
        .bind(&c.id)
        .bind(&c.system_id)
        .bind(&c.kind)
        .bind(&c.on_date)
        .bind(c.done)
        .bind(&c.police_notified_on)
        .bind(&c.filed_on)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving change", e))?;
        Ok(())
    }

    pub async fn changes(&self) -> Result<Vec<ChangeRow>> {
        sqlx::query_as::<_, ChangeRow>(
            "SELECT id, system_id, kind, on_date, done, police_notified_on, filed_on
             FROM reg_change ORDER BY system_id, on_date, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing changes", e))
    }
}
