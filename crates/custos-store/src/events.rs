//! Reading the event table for the event stream (the rows themselves are written in
//! `registry.rs`).

use custos_core::Result;
use sqlx::Row;

use crate::{Store, db_err};

impl Store {
    /// The id of the newest event (0 when there is none): a stream that starts now sends only
    /// what comes after it.
    pub async fn last_event_id(&self) -> Result<i64> {
        sqlx::query("SELECT COALESCE(MAX(id), 0) FROM reg_event")
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
            .map_err(|e| db_err("reading the newest event", e))
    }
}
