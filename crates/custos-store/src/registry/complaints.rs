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
        let rows = sqlx::query(
            "SELECT id, submitted_90k, against, body, contact, sha256, ledger_seq
             FROM reg_complaint ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing complaints", e))?;
        Ok(rows
            .iter()
            .map(|r| ComplaintRow {
                id: r.get(0),
                submitted_at: Time90k(r.get(1)),
                against: r.get(2),
                body: r.get(3),
                contact: r.get(4),
                sha256: r.get(5),
                ledger_seq: r.get(6),
            })
            .collect())
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
