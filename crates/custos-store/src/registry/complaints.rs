//! Complaints (J3): append-only.

use super::*;

impl Store {
    pub async fn add_complaint(&self, c: &ComplaintRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_complaint (submitted_90k, against, body, contact, sha256, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(c.submitted_at.0)
        .bind(&c.against)
        .bind(&c.body)
        .bind(&c.contact)
        .bind(&c.sha256)
        .bind(c.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving complaint", e))
    }

    pub async fn complaints(&self) -> Result<Vec<ComplaintRow>> {
        sqlx::query_as::<_, ComplaintRow>(
            "SELECT id, submitted_90k, against, body, contact, sha256, ledger_seq
             FROM reg_complaint ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing complaints", e))
    }

    /// For tests of the append-only guarantee: tries to rewrite a complaint's body with plain SQL.
    #[doc(hidden)]
    pub async fn try_rewrite_complaint(&self, id: i64, body: &str) -> Result<()> {
        sqlx::query("UPDATE reg_complaint SET body = ? WHERE id = ?")
            .bind(body)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("rewriting complaint", e))?;
        Ok(())
    }
}
