//! The metadata database of custos: cameras, streams, segment index rows, gaps, legal holds,
//! stream health, alarms, and accounts with their role grants, sessions, API tokens and duty
//! shifts (`accounts.rs`). Every read and write of metadata flows through [`Store`].
//!
//! SQLite (WAL, embedded) is the default engine. The API speaks domain types only (no SQL, no
//! sqlx types leak out), so a PostgreSQL engine can be added behind the same methods without
//! touching callers. This crate must not hold business rules: it does not decide what may be
//! deleted or who may read — callers (footage, server) do, and pass their decision in.

#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod accounts;
pub use accounts::{
    AccountId, AccountRow, LoginFailures, NewAccount, NewSession, SessionKind, SessionRow,
};
mod citizen;
pub use citizen::{CitizenRange, CitizenSessionRow, CitizenState, NewCitizenSession};
mod events;
mod gb28181;
mod gb_acceptance;
mod gb_camera;
pub use gb_camera::gb_stream_url;
pub mod registry;
mod requests;
pub use requests::{RequestDocumentRow, RequestRow};

pub use gb_acceptance::GbAcceptance;
pub use gb28181::{GbChannel, GbDevice};

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use custos_core::camera::{CameraName, StreamKind};
use custos_core::retention::RetentionClass;
use custos_core::{Duration90k, Error, ErrorKind, Result, Time90k};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

pub type CameraId = i64;
pub type StreamId = i64;
pub type SegmentId = i64;

/// Maps a database error to a kind. Busy/locked means another process holds the database.
fn db_err(what: &str, e: sqlx::Error) -> Error {
    let kind = match &e {
        sqlx::Error::RowNotFound => ErrorKind::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => ErrorKind::Unavailable,
        sqlx::Error::Database(d)
            if d.message().contains("locked") || d.message().contains("busy") =>
        {
            ErrorKind::Unavailable
        }
        sqlx::Error::Database(d) if d.is_unique_violation() => ErrorKind::AlreadyExists,
        // SQLITE_FULL
        sqlx::Error::Database(d) if d.message().contains("disk is full") => {
            ErrorKind::ResourceExhausted
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
            ErrorKind::ResourceExhausted
        }
        _ => ErrorKind::Internal,
    };
    Error::with_source(kind, format!("database: {what}"), e)
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Camera {
    pub id: CameraId,
    pub name: CameraName,
    pub retention: RetentionClass,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Stream {
    pub id: StreamId,
    pub camera_id: CameraId,
    pub kind: StreamKind,
    pub url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentState {
    Open,
    Sealed,
    Deleted,
}

impl SegmentState {
    fn as_str(self) -> &'static str {
        match self {
            SegmentState::Open => "open",
            SegmentState::Sealed => "sealed",
            SegmentState::Deleted => "deleted",
        }
    }
}

/// An index row for one segment file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Segment {
    pub id: SegmentId,
    pub stream_id: StreamId,
    pub state: SegmentState,
    /// Path relative to the data directory.
    pub path: String,
    pub start: Time90k,
    pub end: Option<Time90k>,
    pub media_start_90k: i64,
    pub media_end_90k: Option<i64>,
    pub frames: Option<i64>,
    pub key_frames: Option<i64>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub codec: String,
    pub width: i64,
    pub height: i64,
    pub recovered: bool,
    pub sealed_at: Option<Time90k>,
    pub deleted_at: Option<Time90k>,
    pub delete_reason: Option<String>,
    pub ledger_seq: Option<i64>,
    pub delete_ledger_seq: Option<i64>,
}

/// What is known when a segment file is created.
#[derive(Clone, Debug)]
pub struct NewSegment {
    pub stream_id: StreamId,
    pub path: String,
    pub start: Time90k,
    pub media_start_90k: i64,
    pub codec: String,
    pub width: i64,
    pub height: i64,
}

/// What sealing adds.
#[derive(Clone, Debug)]
pub struct Seal {
    pub end: Time90k,
    pub media_end_90k: i64,
    pub frames: i64,
    pub key_frames: i64,
    pub bytes: i64,
    pub sha256: String,
    pub recovered: bool,
    pub sealed_at: Time90k,
    /// The ledger entry recording this seal, if the ledger took it.
    pub ledger_seq: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Gap {
    pub id: i64,
    pub stream_id: StreamId,
    pub start: Time90k,
    /// For an open gap, the last time it was seen to continue.
    pub end: Time90k,
    pub reason: String,
    /// Still going on: no footage since `start`; the recorder closes it when footage resumes.
    pub open: bool,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct StreamStatus {
    pub state: String,
    pub fps: f64,
    pub bitrate_bps: f64,
    pub last_frame: Option<Time90k>,
    pub reconnects: i64,
    pub last_error: Option<String>,
    pub updated: Time90k,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Alarm {
    pub id: i64,
    pub kind: String,
    pub camera_id: Option<CameraId>,
    pub message: String,
    pub raised: Time90k,
    pub cleared: Option<Time90k>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Hold {
    pub id: i64,
    pub camera_id: CameraId,
    pub start: Time90k,
    pub end: Time90k,
    pub case_number: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: Time90k,
    pub released_by: Option<String>,
    pub released_at: Option<Time90k>,
}

/// A legal hold to place (E5).
#[derive(Clone, Debug)]
pub struct NewHold {
    pub camera_id: CameraId,
    pub start: Time90k,
    pub end: Time90k,
    pub case_number: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: Time90k,
    pub ledger_seq: Option<i64>,
}

/// Per-stream totals used by capacity prediction (F2).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StreamUsage {
    pub stream_id: StreamId,
    /// Bytes of live (not deleted) segments.
    pub bytes: i64,
    /// Recorded seconds of live segments.
    pub seconds: f64,
    /// Bytes and seconds of the most recent sealed segments (for the current bitrate).
    pub recent_bytes: i64,
    pub recent_seconds: f64,
}

/// The metadata database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| db_err(&format!("opening {}", path.display()), e))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| {
                Error::with_source(ErrorKind::Internal, "database: applying migrations", e)
            })?;
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- cameras and streams ----

    /// Creates the camera or updates its retention class; returns its id.
    pub async fn upsert_camera(
        &self,
        name: &CameraName,
        retention: RetentionClass,
        now: Time90k,
    ) -> Result<CameraId> {
        let row = sqlx::query(
            "INSERT INTO camera (name, retention_days, created_90k) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET retention_days = excluded.retention_days
             RETURNING id",
        )
        .bind(name.as_str())
        .bind(retention.days() as i64)
        .bind(now.0)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("saving camera", e))?;
        Ok(row.get(0))
    }

    pub async fn upsert_stream(
        &self,
        camera_id: CameraId,
        kind: StreamKind,
        url: &str,
    ) -> Result<StreamId> {
        let row = sqlx::query(
            "INSERT INTO stream (camera_id, kind, url) VALUES (?, ?, ?)
             ON CONFLICT (camera_id, kind) DO UPDATE SET url = excluded.url
             RETURNING id",
        )
        .bind(camera_id)
        .bind(kind.as_str())
        .bind(url)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("saving stream", e))?;
        Ok(row.get(0))
    }

    pub async fn cameras(&self) -> Result<Vec<Camera>> {
        let rows = sqlx::query("SELECT id, name, retention_days FROM camera ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing cameras", e))?;
        rows.iter().map(camera_from_row).collect()
    }

    /// The camera of that name, or a NotFound error that names no other camera (callers over
    /// the network must not learn which cameras exist).
    pub async fn camera_by_name(&self, name: &str) -> Result<Camera> {
        let row = sqlx::query("SELECT id, name, retention_days FROM camera WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("looking up a camera", e))?;
        match row {
            Some(r) => camera_from_row(&r),
            None => Err(Error::new(
                ErrorKind::NotFound,
                format!("unknown camera {name:?}"),
            )),
        }
    }

    /// [`Self::camera_by_name`] for the node's operator at the command line: the error lists
    /// the known names.
    pub async fn camera_by_name_listing(&self, name: &str) -> Result<Camera> {
        match self.camera_by_name(name).await {
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            r => return r,
        }
        let cams = self.cameras().await?;
        let known: Vec<&str> = cams.iter().map(|c| c.name.as_str()).collect();
        Err(Error::new(
            ErrorKind::NotFound,
            if known.is_empty() {
                format!(
                    "unknown camera {name:?}: this data directory has no cameras yet; record first"
                )
            } else {
                format!(
                    "unknown camera {name:?}; known cameras: {}",
                    known.join(", ")
                )
            },
        ))
    }

    /// Every camera's area: name → (organisation, system, area).
    pub async fn camera_areas(
        &self,
    ) -> Result<std::collections::HashMap<String, (String, String, String)>> {
        let rows = sqlx::query("SELECT camera, org, system, area FROM camera_area")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("reading camera areas", e))?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
            .collect())
    }

    /// Places a camera (the caller has written the ledger entry first).
    pub async fn set_camera_area(
        &self,
        camera: &str,
        (org, system, area): (&str, &str, &str),
        at: Time90k,
        by: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO camera_area (camera, org, system, area, set_90k, set_by)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (camera) DO UPDATE SET org = excluded.org, system = excluded.system,
               area = excluded.area, set_90k = excluded.set_90k, set_by = excluded.set_by",
        )
        .bind(camera)
        .bind(org)
        .bind(system)
        .bind(area)
        .bind(at.0)
        .bind(by)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("placing a camera", e))?;
        Ok(())
    }

    pub async fn streams(&self, camera_id: CameraId) -> Result<Vec<Stream>> {
        let rows = sqlx::query(
            "SELECT id, camera_id, kind, url FROM stream WHERE camera_id = ? ORDER BY kind",
        )
        .bind(camera_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing streams", e))?;
        rows.iter().map(stream_from_row).collect()
    }

    pub async fn all_streams(&self) -> Result<Vec<Stream>> {
        let rows =
            sqlx::query("SELECT id, camera_id, kind, url FROM stream ORDER BY camera_id, kind")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("listing streams", e))?;
        rows.iter().map(stream_from_row).collect()
    }

    /// The stream of `kind` of the camera, or NotFound saying which streams it has.
    pub async fn stream_of(&self, camera: &Camera, kind: StreamKind) -> Result<Stream> {
        let streams = self.streams(camera.id).await?;
        streams
            .iter()
            .find(|s| s.kind == kind)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("camera {} has no {kind} stream recorded", camera.name),
                )
            })
    }

    // ---- segments ----

    /// Inserts the row of a segment that is about to be written (state `open`).
    pub async fn insert_open_segment(&self, s: &NewSegment) -> Result<SegmentId> {
        let row = sqlx::query(
            "INSERT INTO segment (stream_id, state, path, start_90k, media_start_90k, codec, width, height)
             VALUES (?, 'open', ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(s.stream_id)
        .bind(&s.path)
        .bind(s.start.0)
        .bind(s.media_start_90k)
        .bind(&s.codec)
        .bind(s.width)
        .bind(s.height)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("inserting segment", e))?;
        Ok(row.get(0))
    }

    /// Records the seal of an open segment. Fails if the segment is not open (sealed rows are
    /// immutable).
    pub async fn seal_segment(&self, id: SegmentId, seal: &Seal) -> Result<()> {
        let r = sqlx::query(
            "UPDATE segment SET state = 'sealed', end_90k = ?, media_end_90k = ?, frames = ?,
                 key_frames = ?, bytes = ?, sha256 = ?, recovered = ?, sealed_90k = ?, ledger_seq = ?
             WHERE id = ? AND state = 'open'",
        )
        .bind(seal.end.0)
        .bind(seal.media_end_90k)
        .bind(seal.frames)
        .bind(seal.key_frames)
        .bind(seal.bytes)
        .bind(&seal.sha256)
        .bind(seal.recovered)
        .bind(seal.sealed_at.0)
        .bind(seal.ledger_seq)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("sealing segment", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("segment {id} is not open; sealed segments cannot be changed"),
            ));
        }
        Ok(())
    }

    /// Marks a sealed segment deleted. The caller (the retention sweeper) has proven it is past
    /// its minimum and not held; this method only refuses rows that are not sealed.
    pub async fn mark_segment_deleted(
        &self,
        id: SegmentId,
        at: Time90k,
        reason: &str,
        ledger_seq: Option<i64>,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE segment SET state = 'deleted', deleted_90k = ?, delete_reason = ?, delete_ledger_seq = ?
             WHERE id = ? AND state = 'sealed'",
        )
        .bind(at.0)
        .bind(reason)
        .bind(ledger_seq)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("marking segment deleted", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("segment {id} is not sealed"),
            ));
        }
        Ok(())
    }

    /// Removes the row of an open segment whose file never received a frame.
    pub async fn discard_empty_open_segment(&self, id: SegmentId) -> Result<()> {
        sqlx::query("DELETE FROM segment WHERE id = ? AND state = 'open'")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("discarding empty segment", e))?;
        Ok(())
    }

    /// Links a sealed segment recorded in the ledger late (after a crash) to its entry. Only
    /// rows without a link may be linked.
    pub async fn link_segment_ledger(&self, id: SegmentId, seq: i64) -> Result<()> {
        sqlx::query("UPDATE segment SET ledger_seq = ? WHERE id = ? AND ledger_seq IS NULL AND state = 'sealed'")
            .bind(seq)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("linking segment to ledger", e))?;
        Ok(())
    }

    pub async fn segment(&self, id: SegmentId) -> Result<Segment> {
        let row = sqlx::query(&format!("{SEGMENT_COLS} WHERE id = ?"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err(&format!("segment {id}"), e))?;
        segment_from_row(&row)
    }

    pub async fn open_segments(&self) -> Result<Vec<Segment>> {
        let rows = sqlx::query(&format!("{SEGMENT_COLS} WHERE state = 'open' ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing open segments", e))?;
        rows.iter().map(segment_from_row).collect()
    }

    /// All segment rows (any state), for reconciliation and verification.
    pub async fn all_segments(&self) -> Result<Vec<Segment>> {
        let rows = sqlx::query(&format!("{SEGMENT_COLS} ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing segments", e))?;
        rows.iter().map(segment_from_row).collect()
    }

    /// Sealed segments of a stream overlapping [from, to), in time order.
    pub async fn sealed_segments(
        &self,
        stream_id: StreamId,
        from: Time90k,
        to: Time90k,
    ) -> Result<Vec<Segment>> {
        let rows = sqlx::query(&format!(
            "{SEGMENT_COLS} WHERE stream_id = ? AND state = 'sealed' AND start_90k < ? AND end_90k > ?
             ORDER BY start_90k"
        ))
        .bind(stream_id)
        .bind(to.0)
        .bind(from.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing segments", e))?;
        rows.iter().map(segment_from_row).collect()
    }

    /// Segments of a stream in any state, in time order (for listings).
    pub async fn stream_segments(&self, stream_id: StreamId) -> Result<Vec<Segment>> {
        let rows = sqlx::query(&format!(
            "{SEGMENT_COLS} WHERE stream_id = ? ORDER BY start_90k, id"
        ))
        .bind(stream_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing segments", e))?;
        rows.iter().map(segment_from_row).collect()
    }

    /// The end of the latest sealed segment of the stream (to detect downtime gaps).
    pub async fn last_sealed_end(&self, stream_id: StreamId) -> Result<Option<Time90k>> {
        let row =
            sqlx::query("SELECT MAX(end_90k) FROM segment WHERE stream_id = ? AND state != 'open'")
                .bind(stream_id)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| db_err("finding last segment", e))?;
        Ok(row.get::<Option<i64>, _>(0).map(Time90k))
    }

    /// Sealed segments whose end lies before `ended_before`, oldest first — candidates the
    /// retention sweeper will check against retention and holds.
    pub async fn sealed_segments_ended_before(
        &self,
        ended_before: Time90k,
        limit: i64,
    ) -> Result<Vec<Segment>> {
        let rows = sqlx::query(&format!(
            "{SEGMENT_COLS} WHERE state = 'sealed' AND end_90k <= ? ORDER BY end_90k LIMIT ?"
        ))
        .bind(ended_before.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing old segments", e))?;
        rows.iter().map(segment_from_row).collect()
    }

    pub async fn usage(&self, recent: Duration90k, now: Time90k) -> Result<Vec<StreamUsage>> {
        let rows = sqlx::query(
            "SELECT stream_id,
                    COALESCE(SUM(bytes), 0),
                    COALESCE(SUM(end_90k - start_90k), 0),
                    COALESCE(SUM(CASE WHEN end_90k >= ? THEN bytes ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN end_90k >= ? THEN end_90k - start_90k ELSE 0 END), 0)
             FROM segment WHERE state = 'sealed' GROUP BY stream_id",
        )
        .bind((now - recent).0)
        .bind((now - recent).0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("summing usage", e))?;
        Ok(rows
            .iter()
            .map(|r| StreamUsage {
                stream_id: r.get(0),
                bytes: r.get(1),
                seconds: r.get::<i64, _>(2) as f64 / 90_000.0,
                recent_bytes: r.get(3),
                recent_seconds: r.get::<i64, _>(4) as f64 / 90_000.0,
            })
            .collect())
    }

    // ---- gaps ----

    pub async fn insert_gap(
        &self,
        stream_id: StreamId,
        start: Time90k,
        end: Time90k,
        reason: &str,
        ledger_seq: Option<i64>,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO gap (stream_id, start_90k, end_90k, reason, ledger_seq) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
            .bind(stream_id)
            .bind(start.0)
            .bind(end.0.max(start.0))
            .bind(reason)
            .bind(ledger_seq)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err("inserting gap", e))?;
        Ok(row.get(0))
    }

    pub async fn gaps(&self, stream_id: StreamId, from: Time90k, to: Time90k) -> Result<Vec<Gap>> {
        let rows = sqlx::query(
            "SELECT id, stream_id, start_90k, end_90k, reason, open FROM gap
             WHERE stream_id = ? AND start_90k < ? AND (end_90k > ? OR open = 1) ORDER BY start_90k",
        )
        .bind(stream_id)
        .bind(to.0)
        .bind(from.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing gaps", e))?;
        Ok(rows.iter().map(gap_from_row).collect())
    }

    /// Opens a gap at `start` (E7); its end is `start` until extended or closed.
    pub async fn open_gap(&self, stream_id: StreamId, start: Time90k, reason: &str) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO gap (stream_id, start_90k, end_90k, reason, open) VALUES (?, ?, ?, ?, 1) RETURNING id",
        )
        .bind(stream_id)
        .bind(start.0)
        .bind(start.0)
        .bind(reason)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("opening gap", e))?;
        Ok(row.get(0))
    }

    /// Extends an open gap to `end` (never before its start) and sets its reason.
    pub async fn extend_gap(&self, id: i64, end: Time90k, reason: &str) -> Result<()> {
        sqlx::query(
            "UPDATE gap SET end_90k = MAX(start_90k, ?), reason = ? WHERE id = ? AND open = 1",
        )
        .bind(end.0)
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("extending gap", e))?;
        Ok(())
    }

    /// Closes an open gap at `end` with its final reason and the ledger entry recording it.
    pub async fn close_gap(
        &self,
        id: i64,
        end: Time90k,
        reason: &str,
        ledger_seq: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE gap SET end_90k = MAX(start_90k, ?), reason = ?, ledger_seq = ?, open = 0
             WHERE id = ? AND open = 1",
        )
        .bind(end.0)
        .bind(reason)
        .bind(ledger_seq)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("closing gap", e))?;
        Ok(())
    }

    /// Removes an open gap that turned out empty (footage resumed where it began).
    pub async fn discard_open_gap(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM gap WHERE id = ? AND open = 1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("discarding empty gap", e))?;
        Ok(())
    }

    /// Open gaps of a stream (a run that died leaves one behind).
    pub async fn open_gaps(&self, stream_id: StreamId) -> Result<Vec<Gap>> {
        let rows = sqlx::query(
            "SELECT id, stream_id, start_90k, end_90k, reason, open FROM gap
             WHERE stream_id = ? AND open = 1 ORDER BY start_90k",
        )
        .bind(stream_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing open gaps", e))?;
        Ok(rows.iter().map(gap_from_row).collect())
    }

    /// The end of everything accounted for on a stream: the latest end of a sealed segment or
    /// a gap. Time after it (until a recorder runs again) is unaccounted.
    pub async fn last_accounted_end(&self, stream_id: StreamId) -> Result<Option<Time90k>> {
        let row = sqlx::query(
            "SELECT MAX(e) FROM (
                SELECT MAX(end_90k) AS e FROM segment WHERE stream_id = ? AND state != 'open'
                UNION ALL SELECT MAX(end_90k) FROM gap WHERE stream_id = ?)",
        )
        .bind(stream_id)
        .bind(stream_id)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("finding the end of the stream's record", e))?;
        Ok(row.get::<Option<i64>, _>(0).map(Time90k))
    }

    // ---- holds ----

    /// Active (unreleased) holds of a camera overlapping [from, to).
    pub async fn active_holds(
        &self,
        camera_id: CameraId,
        from: Time90k,
        to: Time90k,
    ) -> Result<Vec<Hold>> {
        let rows = sqlx::query(
            "SELECT id, camera_id, start_90k, end_90k, case_number, reason, placed_by, placed_90k,
                    released_by, released_90k
             FROM hold WHERE camera_id = ? AND released_90k IS NULL AND start_90k < ? AND end_90k > ?",
        )
        .bind(camera_id)
        .bind(to.0)
        .bind(from.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing holds", e))?;
        Ok(rows.iter().map(hold_from_row).collect())
    }

    pub async fn place_hold(&self, h: &NewHold) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO hold (camera_id, start_90k, end_90k, case_number, reason, placed_by, placed_90k, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(h.camera_id)
        .bind(h.start.0)
        .bind(h.end.0)
        .bind(&h.case_number)
        .bind(&h.reason)
        .bind(&h.placed_by)
        .bind(h.placed_at.0)
        .bind(h.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("placing hold", e))?;
        Ok(row.get(0))
    }

    /// All holds (active and released), newest first.
    pub async fn holds(&self) -> Result<Vec<Hold>> {
        let rows = sqlx::query(
            "SELECT id, camera_id, start_90k, end_90k, case_number, reason, placed_by, placed_90k,
                    released_by, released_90k
             FROM hold ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing holds", e))?;
        Ok(rows.iter().map(hold_from_row).collect())
    }

    /// Each hold's ledger links: (hold id, entry of the placing, entry of the release).
    pub async fn hold_ledger_links(&self) -> Result<Vec<(i64, Option<i64>, Option<i64>)>> {
        let rows = sqlx::query("SELECT id, ledger_seq, release_ledger_seq FROM hold ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing holds", e))?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// Releases an active hold, recording both persons. The caller has checked they differ.
    pub async fn release_hold(
        &self,
        id: i64,
        by: &str,
        approved_by: &str,
        at: Time90k,
        ledger_seq: Option<i64>,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE hold SET released_by = ?, release_approved_by = ?, released_90k = ?, release_ledger_seq = ?
             WHERE id = ? AND released_90k IS NULL",
        )
        .bind(by)
        .bind(approved_by)
        .bind(at.0)
        .bind(ledger_seq)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("releasing hold", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no active hold {id}; see `custos hold list`"),
            ));
        }
        Ok(())
    }

    // ---- status and alarms ----

    /// Saves the status of several streams in one transaction (one fsync).
    pub async fn put_statuses(&self, all: &[(StreamId, StreamStatus)]) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("saving stream status", e))?;
        for (stream_id, s) in all {
            sqlx::query(
                "INSERT INTO stream_status (stream_id, state, fps, bitrate_bps, last_frame_90k, reconnects, last_error, updated_90k)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (stream_id) DO UPDATE SET state = excluded.state, fps = excluded.fps,
                    bitrate_bps = excluded.bitrate_bps, last_frame_90k = excluded.last_frame_90k,
                    reconnects = excluded.reconnects, last_error = excluded.last_error,
                    updated_90k = excluded.updated_90k",
            )
            .bind(stream_id)
            .bind(&s.state)
            .bind(s.fps)
            .bind(s.bitrate_bps)
            .bind(s.last_frame.map(|t| t.0))
            .bind(s.reconnects)
            .bind(&s.last_error)
            .bind(s.updated.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("saving stream status", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("saving stream status", e))?;
        Ok(())
    }

    pub async fn status(&self, stream_id: StreamId) -> Result<Option<StreamStatus>> {
        let row = sqlx::query(
            "SELECT state, fps, bitrate_bps, last_frame_90k, reconnects, last_error, updated_90k
             FROM stream_status WHERE stream_id = ?",
        )
        .bind(stream_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading stream status", e))?;
        Ok(row.map(|r| StreamStatus {
            state: r.get(0),
            fps: r.get(1),
            bitrate_bps: r.get(2),
            last_frame: r.get::<Option<i64>, _>(3).map(Time90k),
            reconnects: r.get(4),
            last_error: r.get(5),
            updated: Time90k(r.get(6)),
        }))
    }

    /// Raises an alarm of `kind` unless one of the same kind and camera is already active.
    pub async fn raise_alarm(
        &self,
        kind: &str,
        camera_id: Option<CameraId>,
        message: &str,
        now: Time90k,
    ) -> Result<bool> {
        let existing = sqlx::query(
            "SELECT id FROM alarm WHERE kind = ? AND camera_id IS ? AND cleared_90k IS NULL",
        )
        .bind(kind)
        .bind(camera_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading alarms", e))?;
        if existing.is_some() {
            return Ok(false);
        }
        sqlx::query("INSERT INTO alarm (kind, camera_id, message, raised_90k) VALUES (?, ?, ?, ?)")
            .bind(kind)
            .bind(camera_id)
            .bind(message)
            .bind(now.0)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("raising alarm", e))?;
        Ok(true)
    }

    pub async fn clear_alarm(
        &self,
        kind: &str,
        camera_id: Option<CameraId>,
        now: Time90k,
    ) -> Result<()> {
        sqlx::query("UPDATE alarm SET cleared_90k = ? WHERE kind = ? AND camera_id IS ? AND cleared_90k IS NULL")
            .bind(now.0)
            .bind(kind)
            .bind(camera_id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("clearing alarm", e))?;
        Ok(())
    }

    pub async fn active_alarms(&self) -> Result<Vec<Alarm>> {
        let rows = sqlx::query(
            "SELECT id, kind, camera_id, message, raised_90k, cleared_90k FROM alarm
             WHERE cleared_90k IS NULL ORDER BY raised_90k",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing alarms", e))?;
        Ok(rows
            .iter()
            .map(|r| Alarm {
                id: r.get(0),
                kind: r.get(1),
                camera_id: r.get(2),
                message: r.get(3),
                raised: Time90k(r.get(4)),
                cleared: r.get::<Option<i64>, _>(5).map(Time90k),
            })
            .collect())
    }
}

const SEGMENT_COLS: &str = "SELECT id, stream_id, state, path, start_90k, end_90k, media_start_90k,
    media_end_90k, frames, key_frames, bytes, sha256, codec, width, height, recovered, sealed_90k,
    deleted_90k, delete_reason, ledger_seq, delete_ledger_seq FROM segment";

fn segment_from_row(r: &SqliteRow) -> Result<Segment> {
    let state = match r.get::<&str, _>(2) {
        "open" => SegmentState::Open,
        "sealed" => SegmentState::Sealed,
        "deleted" => SegmentState::Deleted,
        other => {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!("segment row has unknown state {other:?}"),
            ));
        }
    };
    Ok(Segment {
        id: r.get(0),
        stream_id: r.get(1),
        state,
        path: r.get(3),
        start: Time90k(r.get(4)),
        end: r.get::<Option<i64>, _>(5).map(Time90k),
        media_start_90k: r.get(6),
        media_end_90k: r.get(7),
        frames: r.get(8),
        key_frames: r.get(9),
        bytes: r.get(10),
        sha256: r.get(11),
        codec: r.get(12),
        width: r.get(13),
        height: r.get(14),
        recovered: r.get(15),
        sealed_at: r.get::<Option<i64>, _>(16).map(Time90k),
        deleted_at: r.get::<Option<i64>, _>(17).map(Time90k),
        delete_reason: r.get(18),
        ledger_seq: r.get(19),
        delete_ledger_seq: r.get(20),
    })
}

fn hold_from_row(r: &SqliteRow) -> Hold {
    Hold {
        id: r.get(0),
        camera_id: r.get(1),
        start: Time90k(r.get(2)),
        end: Time90k(r.get(3)),
        case_number: r.get(4),
        reason: r.get(5),
        placed_by: r.get(6),
        placed_at: Time90k(r.get(7)),
        released_by: r.get(8),
        released_at: r.get::<Option<i64>, _>(9).map(Time90k),
    }
}

fn camera_from_row(r: &SqliteRow) -> Result<Camera> {
    let days: i64 = r.get(2);
    Ok(Camera {
        id: r.get(0),
        name: CameraName::new(r.get::<String, _>(1))?,
        retention: RetentionClass::custom(days as u32)?,
    })
}

fn stream_from_row(r: &SqliteRow) -> Result<Stream> {
    Ok(Stream {
        id: r.get(0),
        camera_id: r.get(1),
        kind: StreamKind::from_str(r.get::<&str, _>(2))?,
        url: r.get(3),
    })
}

impl SegmentState {
    pub fn label(self) -> &'static str {
        self.as_str()
    }
}

fn gap_from_row(r: &sqlx::sqlite::SqliteRow) -> Gap {
    Gap {
        id: r.get(0),
        stream_id: r.get(1),
        start: Time90k(r.get(2)),
        end: Time90k(r.get(3)),
        reason: r.get(4),
        open: r.get::<i64, _>(5) != 0,
    }
}

#[cfg(test)]
mod gap_tests {
    use super::*;

    /// E7: an open gap is listed while it lasts (even when its last extension is before the
    /// window asked for), its end follows the extensions, closing fixes end, reason and ledger
    /// link; `last_accounted_end` covers gaps as well as segments.
    #[tokio::test]
    async fn e7_open_gap_lifecycle_and_accounted_end() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_sqlite(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        let cam = s
            .upsert_camera(
                &"gate".parse().unwrap(),
                RetentionClass::Standard30d,
                Time90k(0),
            )
            .await
            .unwrap();
        let st = s
            .upsert_stream(cam, StreamKind::Main, "rtsp://cam/1")
            .await
            .unwrap();
        assert_eq!(s.last_accounted_end(st).await.unwrap(), None);
        let t = |secs: i64| Time90k(secs * 90_000);
        let id = s.open_gap(st, t(100), "connecting").await.unwrap();
        s.extend_gap(id, t(105), "camera unreachable: refused")
            .await
            .unwrap();
        let g = s.gaps(st, t(200), t(300)).await.unwrap();
        assert_eq!(g.len(), 1, "an open gap overlaps every later window");
        assert!(g[0].open);
        assert_eq!((g[0].start, g[0].end), (t(100), t(105)));
        assert_eq!(g[0].reason, "camera unreachable: refused");
        assert_eq!(s.open_gaps(st).await.unwrap().len(), 1);
        assert_eq!(s.last_accounted_end(st).await.unwrap(), Some(t(105)));
        s.close_gap(id, t(110), "camera unreachable: refused", Some(7))
            .await
            .unwrap();
        // Closed: no longer extended, no longer in later windows.
        s.extend_gap(id, t(500), "x").await.unwrap();
        assert!(s.gaps(st, t(200), t(300)).await.unwrap().is_empty());
        let g = s.gaps(st, Time90k::MIN, Time90k::MAX).await.unwrap();
        assert_eq!((g[0].end, g[0].open), (t(110), false));
        assert!(s.open_gaps(st).await.unwrap().is_empty());
        assert_eq!(s.last_accounted_end(st).await.unwrap(), Some(t(110)));
        // An empty open gap can be discarded; a closed one cannot.
        let id2 = s.open_gap(st, t(120), "connecting").await.unwrap();
        s.discard_open_gap(id2).await.unwrap();
        s.discard_open_gap(id).await.unwrap();
        assert_eq!(
            s.gaps(st, Time90k::MIN, Time90k::MAX).await.unwrap().len(),
            1
        );
    }
}

#[cfg(test)]
mod camera_tests {
    use super::*;

    /// H1/E2 (lookups by name): `camera_by_name` finds the camera by its name in the database;
    /// an unknown name is NotFound without naming other cameras, while the operator's
    /// `camera_by_name_listing` lists them.
    #[tokio::test]
    async fn h1_camera_by_name_finds_one_and_names_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_sqlite(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        for (n, r) in [
            ("gate", RetentionClass::Standard30d),
            ("lobby", RetentionClass::custom(90).unwrap()),
        ] {
            s.upsert_camera(&n.parse().unwrap(), r, Time90k(0))
                .await
                .unwrap();
        }
        let c = s.camera_by_name("lobby").await.unwrap();
        assert_eq!(c.name.as_str(), "lobby");
        assert_eq!(c.retention.days(), 90);
        let e = s.camera_by_name("yard").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(!e.to_string().contains("gate"), "{e}");
        let e = s.camera_by_name_listing("yard").await.unwrap_err();
        assert!(e.to_string().contains("gate, lobby"), "{e}");
        assert_eq!(
            s.camera_by_name_listing("gate")
                .await
                .unwrap()
                .name
                .as_str(),
            "gate"
        );
    }
}
