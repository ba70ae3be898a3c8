//! Bookmarks and events (D6, I4).

use super::*;

impl Store {
    pub async fn add_bookmark(&self, b: &BookmarkRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO bookmark (camera, at_90k, note, by_person, created_90k, hold_id, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&b.camera)
        .bind(b.at.0)
        .bind(&b.note)
        .bind(&b.by)
        .bind(b.created_at.0)
        .bind(b.hold_id)
        .bind(b.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving bookmark", e))
    }

    /// Bookmarks of `camera` with `from <= at < to`, oldest first (the web timeline).
    pub async fn bookmarks(
        &self,
        camera: &str,
        from: Time90k,
        to: Time90k,
    ) -> Result<Vec<BookmarkRow>> {
        let rows = sqlx::query(
            "SELECT id, camera, at_90k, note, by_person, created_90k, hold_id, ledger_seq
             FROM bookmark WHERE camera = ? AND at_90k >= ? AND at_90k < ? ORDER BY at_90k, id",
        )
        .bind(camera)
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing bookmarks", e))?;
        Ok(rows
            .iter()
            .map(|r| BookmarkRow {
                id: r.get(0),
                camera: r.get(1),
                at: Time90k(r.get(2)),
                note: r.get(3),
                by: r.get(4),
                created_at: Time90k(r.get(5)),
                hold_id: r.get(6),
                ledger_seq: r.get(7),
            })
            .collect())
    }

    pub async fn add_event(
        &self,
        kind: &str,
        camera: Option<&str>,
        at: Time90k,
        body: &str,
        now: Time90k,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_event (kind, camera, at_90k, body, created_90k) VALUES (?, ?, ?, ?, ?)
             RETURNING id",
        )
        .bind(kind)
        .bind(camera)
        .bind(at.0)
        .bind(body)
        .bind(now.0)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving event", e))
    }

    /// Events of a camera with `from <= at < to`, oldest first (the timeline: D6 reports, I4
    /// alarm and access-control events of devices linked to it).
    pub async fn camera_events(
        &self,
        camera: &str,
        from: Time90k,
        to: Time90k,
    ) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, camera, at_90k, body, created_90k FROM reg_event
             WHERE camera = ? AND at_90k >= ? AND at_90k < ? ORDER BY at_90k, id",
        )
        .bind(camera)
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing camera events", e))?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                id: r.get(0),
                kind: r.get(1),
                camera: r.get(2),
                at: Time90k(r.get(3)),
                body: r.get(4),
                created_at: Time90k(r.get(5)),
            })
            .collect())
    }

    /// Events with id > `after`, oldest first (the console and police side poll or stream this).
    pub async fn events_since(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, camera, at_90k, body, created_90k FROM reg_event
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing events", e))?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                id: r.get(0),
                kind: r.get(1),
                camera: r.get(2),
                at: Time90k(r.get(3)),
                body: r.get(4),
                created_at: Time90k(r.get(5)),
            })
            .collect())
    }
}
