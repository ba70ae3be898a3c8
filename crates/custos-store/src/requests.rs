//! Footage requests (H1–H5) as stored: the state and a JSON body per request, and the
//! documents attached to them. The rules (who may approve, what a release covers) live in
//! `custos-requests`; this module only keeps rows, and refuses a state change whose expected
//! current state no longer holds (two operators acting on one request at once).

use custos_core::{Error, ErrorKind, Result, Time90k};
use sqlx::Row;

use crate::{Store, db_err};

/// A request row as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRow {
    pub id: i64,
    pub state: String,
    /// JSON written by `custos-requests`.
    pub body: String,
    pub created_at: Time90k,
    pub updated_at: Time90k,
}

/// A document attached to a request.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RequestDocumentRow {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub title: String,
    pub sha256: String,
    /// Relative to the data directory.
    pub path: String,
    pub bytes: i64,
    pub added_by: String,
    pub added_at: Time90k,
    pub ledger_seq: i64,
}

fn row_of(r: &sqlx::sqlite::SqliteRow) -> RequestRow {
    RequestRow {
        id: r.get(0),
        state: r.get(1),
        body: r.get(2),
        created_at: Time90k(r.get(3)),
        updated_at: Time90k(r.get(4)),
    }
}

impl Store {
    /// Inserts a new request; returns its id.
    pub async fn insert_request(&self, state: &str, body: &str, now: Time90k) -> Result<i64> {
        sqlx::query(
            "INSERT INTO footage_request (state, body, created_90k, updated_90k)
             VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(state)
        .bind(body)
        .bind(now.0)
        .bind(now.0)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving a footage request", e))
    }

    /// Rewrites request `id` from state `expected` to `state` with `body`. FailedPrecondition
    /// when the request is no longer in `expected` (someone else acted on it meanwhile).
    pub async fn update_request(
        &self,
        id: i64,
        expected: &str,
        state: &str,
        body: &str,
        now: Time90k,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE footage_request SET state = ?, body = ?, updated_90k = ?
             WHERE id = ? AND state = ?",
        )
        .bind(state)
        .bind(body)
        .bind(now.0)
        .bind(id)
        .bind(expected)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("updating a footage request", e))?
        .rows_affected();
        if n == 0 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "request {id} is no longer {expected} (someone acted on it meanwhile); show it again and retry"
                ),
            ));
        }
        Ok(())
    }

    pub async fn request(&self, id: i64) -> Result<RequestRow> {
        sqlx::query(
            "SELECT id, state, body, created_90k, updated_90k FROM footage_request WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading a footage request", e))?
        .map(|r| row_of(&r))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no footage request {id}; list them with `custos request list`"),
            )
        })
    }

    /// All requests, newest first; with `state`, only those in it.
    pub async fn requests(&self, state: Option<&str>) -> Result<Vec<RequestRow>> {
        let rows = sqlx::query(
            "SELECT id, state, body, created_90k, updated_90k FROM footage_request
             WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC",
        )
        .bind(state)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing footage requests", e))?;
        Ok(rows.iter().map(row_of).collect())
    }

    pub async fn add_request_document(&self, d: &RequestDocumentRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO footage_request_document
               (request_id, kind, title, sha256, path, bytes, added_by, added_90k, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(d.request_id)
        .bind(&d.kind)
        .bind(&d.title)
        .bind(&d.sha256)
        .bind(&d.path)
        .bind(d.bytes)
        .bind(&d.added_by)
        .bind(d.added_at.0)
        .bind(d.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving a request document", e))
    }

    pub async fn request_documents(&self, request_id: i64) -> Result<Vec<RequestDocumentRow>> {
        let rows = sqlx::query(
            "SELECT id, request_id, kind, title, sha256, path, bytes, added_by, added_90k, ledger_seq
             FROM footage_request_document WHERE request_id = ? ORDER BY id",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing request documents", e))?;
        Ok(rows
            .iter()
            .map(|r| RequestDocumentRow {
                id: r.get(0),
                request_id: r.get(1),
                kind: r.get(2),
                title: r.get(3),
                sha256: r.get(4),
                path: r.get(5),
                bytes: r.get(6),
                added_by: r.get(7),
                added_at: Time90k(r.get(8)),
                ledger_seq: r.get(9),
            })
            .collect())
    }
}
