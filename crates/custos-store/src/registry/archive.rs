//! The document archive (A4).

use super::*;

impl Store {
    /// Files a document; if `supersedes` is set, marks that one superseded in the same
    /// transaction (it must not be superseded already). Documents are never overwritten.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_document(&self, d: &DocumentRow) -> Result<i64> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning document", e))?;
        let id: i64 = sqlx::query(
            "INSERT INTO reg_document (system_id, kind, title, dated, author_unit, sha256, bytes,
                path, supersedes, added_by, added_90k, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&d.system_id)
        .bind(&d.kind)
        .bind(&d.title)
        .bind(&d.dated)
        .bind(&d.author_unit)
        .bind(&d.sha256)
        .bind(d.bytes)
        .bind(&d.path)
        .bind(d.supersedes)
        .bind(&d.added_by)
        .bind(d.added_at.0)
        .bind(d.ledger_seq)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_err("filing document", e))?
        .get(0);
        if let Some(old) = d.supersedes {
            let r = sqlx::query(
                "UPDATE reg_document SET superseded_by = ? WHERE id = ? AND system_id = ?
                   AND superseded_by IS NULL",
            )
            .bind(id)
            .bind(old)
            .bind(&d.system_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("superseding document", e))?;
            if r.rows_affected() != 1 {
                return Err(Error::new(
                    ErrorKind::FailedPrecondition,
                    format!(
                        "document {old} is not a current document of system {}; supersede the \
                         current version",
                        d.system_id
                    ),
                ));
            }
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing document", e))?;
        Ok(id)
    }

    /// The archive of a system, all versions, oldest first.
    pub async fn documents(&self, system_id: &str) -> Result<Vec<DocumentRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, kind, title, dated, author_unit, sha256, bytes, path, supersedes,
                    superseded_by, added_by, added_90k, ledger_seq
             FROM reg_document WHERE system_id = ? ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing documents", e))?;
        Ok(rows
            .iter()
            .map(|r| DocumentRow {
                id: r.get(0),
                system_id: r.get(1),
                kind: r.get(2),
                title: r.get(3),
                dated: r.get(4),
                author_unit: r.get(5),
                sha256: r.get(6),
                bytes: r.get(7),
                path: r.get(8),
                supersedes: r.get(9),
                superseded_by: r.get(10),
                added_by: r.get(11),
                added_at: Time90k(r.get(12)),
                ledger_seq: r.get(13),
            })
            .collect())
    }
}
