//! Citizen view-only sessions (H4): the rows behind a single-use, time-limited viewing link.
//! The store keeps the state machine's transitions atomic (`created → open → ended`, each
//! guarded by the state it leaves); it does not decide who may create or open a session.

use custos_core::{Result, Time90k};
use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, db_err};

/// One camera × [from, to) a session may show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CitizenRange {
    pub camera: String,
    pub from: Time90k,
    pub to: Time90k,
}

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CitizenState {
    /// Made by an officer; the link has not been opened.
    Created,
    /// Opened once by the applicant's browser (the link cannot be opened again).
    Open,
    /// Ended (by the applicant, the officer, or its time limit): nothing more can be seen.
    Ended,
}

impl CitizenState {
    pub fn as_str(self) -> &'static str {
        match self {
            CitizenState::Created => "created",
            CitizenState::Open => "open",
            CitizenState::Ended => "ended",
        }
    }

    fn parse(s: &str) -> CitizenState {
        match s {
            "created" => CitizenState::Created,
            "open" => CitizenState::Open,
            // Unknown states are treated as ended: nothing is shown (fail closed).
            _ => CitizenState::Ended,
        }
    }
}

/// A session to create.
#[derive(Clone, Debug)]
pub struct NewCitizenSession {
    pub id: String,
    pub code_sha256: String,
    pub created_by: String,
    pub applicant_name: String,
    pub applicant_id: String,
    pub reason: String,
    pub note: String,
    pub created: Time90k,
    pub expires: Time90k,
    pub ledger_seq: Option<i64>,
    pub ranges: Vec<CitizenRange>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CitizenSessionRow {
    pub id: String,
    pub created_by: String,
    pub applicant_name: String,
    pub applicant_id: String,
    pub reason: String,
    pub note: String,
    pub created: Time90k,
    pub expires: Time90k,
    pub state: CitizenState,
    pub opened: Option<Time90k>,
    pub ended: Option<Time90k>,
    pub end_reason: Option<String>,
    pub ranges: Vec<CitizenRange>,
}

const COLS: &str = "id, created_by, applicant_name, applicant_id, reason, note, created_90k, \
                    expires_90k, state, opened_90k, ended_90k, end_reason";

fn row(r: &SqliteRow) -> CitizenSessionRow {
    CitizenSessionRow {
        id: r.get(0),
        created_by: r.get(1),
        applicant_name: r.get(2),
        applicant_id: r.get(3),
        reason: r.get(4),
        note: r.get(5),
        created: Time90k(r.get(6)),
        expires: Time90k(r.get(7)),
        state: CitizenState::parse(r.get::<String, _>(8).as_str()),
        opened: r.get::<Option<i64>, _>(9).map(Time90k),
        ended: r.get::<Option<i64>, _>(10).map(Time90k),
        end_reason: r.get(11),
        ranges: Vec::new(),
    }
}

impl Store {
    /// Saves a new session (state `created`) with its ranges, in one transaction.
    pub async fn insert_citizen_session(&self, s: &NewCitizenSession) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("saving a citizen session", e))?;
        sqlx::query(
            "INSERT INTO citizen_session (id, code_sha256, created_by, applicant_name, applicant_id,
                 reason, note, created_90k, expires_90k, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.id)
        .bind(&s.code_sha256)
        .bind(&s.created_by)
        .bind(&s.applicant_name)
        .bind(&s.applicant_id)
        .bind(&s.reason)
        .bind(&s.note)
        .bind(s.created.0)
        .bind(s.expires.0)
        .bind(s.ledger_seq)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("saving a citizen session", e))?;
        for (i, r) in s.ranges.iter().enumerate() {
            sqlx::query(
                "INSERT INTO citizen_session_range (session_id, idx, camera, from_90k, to_90k)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&s.id)
            .bind(i as i64)
            .bind(&r.camera)
            .bind(r.from.0)
            .bind(r.to.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("saving a citizen session's ranges", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("saving a citizen session", e))
    }

    async fn with_ranges(&self, mut s: CitizenSessionRow) -> Result<CitizenSessionRow> {
        let rows = sqlx::query(
            "SELECT camera, from_90k, to_90k FROM citizen_session_range
             WHERE session_id = ? ORDER BY idx",
        )
        .bind(&s.id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading a citizen session's ranges", e))?;
        s.ranges = rows
            .iter()
            .map(|r| CitizenRange {
                camera: r.get(0),
                from: Time90k(r.get(1)),
                to: Time90k(r.get(2)),
            })
            .collect();
        Ok(s)
    }

    async fn citizen_session_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<CitizenSessionRow>> {
        let r = sqlx::query(&format!(
            "SELECT {COLS} FROM citizen_session WHERE {column} = ?"
        ))
        .bind(value)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading a citizen session", e))?;
        match r {
            Some(r) => Ok(Some(self.with_ranges(row(&r)).await?)),
            None => Ok(None),
        }
    }

    /// The session with this id.
    pub async fn citizen_session(&self, id: &str) -> Result<Option<CitizenSessionRow>> {
        self.citizen_session_where("id", id).await
    }

    /// The session whose link code has this digest.
    pub async fn citizen_session_by_code(
        &self,
        code_sha256: &str,
    ) -> Result<Option<CitizenSessionRow>> {
        self.citizen_session_where("code_sha256", code_sha256).await
    }

    /// The session whose viewer token has this digest.
    pub async fn citizen_session_by_viewer(
        &self,
        viewer_sha256: &str,
    ) -> Result<Option<CitizenSessionRow>> {
        self.citizen_session_where("viewer_sha256", viewer_sha256)
            .await
    }

    /// Sessions made by `created_by` (all when `None`), newest first.
    pub async fn citizen_sessions(
        &self,
        created_by: Option<&str>,
    ) -> Result<Vec<CitizenSessionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM citizen_session WHERE (?1 IS NULL OR created_by = ?1)
             ORDER BY created_90k DESC, id LIMIT 500"
        ))
        .bind(created_by)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing citizen sessions", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.with_ranges(row(r)).await?);
        }
        Ok(out)
    }

    /// `created → open`, binding the viewer token; only if the session is still `created` and
    /// `now` is before its end. `false`: it was opened, ended or expired already (single use).
    pub async fn open_citizen_session(
        &self,
        id: &str,
        viewer_sha256: &str,
        now: Time90k,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE citizen_session SET state = 'open', opened_90k = ?, viewer_sha256 = ?
             WHERE id = ? AND state = 'created' AND expires_90k > ?",
        )
        .bind(now.0)
        .bind(viewer_sha256)
        .bind(id)
        .bind(now.0)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("opening a citizen session", e))?;
        Ok(r.rows_affected() == 1)
    }

    /// `created | open → ended`. `false`: it had ended already.
    pub async fn end_citizen_session(&self, id: &str, reason: &str, now: Time90k) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE citizen_session SET state = 'ended', ended_90k = ?, end_reason = ?
             WHERE id = ? AND state != 'ended'",
        )
        .bind(now.0)
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("ending a citizen session", e))?;
        Ok(r.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(id: &str, code: &str, expires: i64) -> NewCitizenSession {
        NewCitizenSession {
            id: id.into(),
            code_sha256: code.into(),
            created_by: "po1".into(),
            applicant_name: "张三".into(),
            applicant_id: "11010519491231002X".into(),
            reason: "missing_elderly".into(),
            note: String::new(),
            created: Time90k(0),
            expires: Time90k(expires),
            ledger_seq: Some(7),
            ranges: vec![
                CitizenRange {
                    camera: "cam1".into(),
                    from: Time90k(10),
                    to: Time90k(20),
                },
                CitizenRange {
                    camera: "cam2".into(),
                    from: Time90k(30),
                    to: Time90k(40),
                },
            ],
        }
    }

    /// H4: a session opens once, never after its end, and an ended one stays ended.
    #[tokio::test]
    async fn h4_citizen_session_opens_once_and_ends_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_sqlite(&dir.path().join("m.db")).await.unwrap();
        s.insert_citizen_session(&new("a", "ca", 1000))
            .await
            .unwrap();
        s.insert_citizen_session(&new("b", "cb", 1000))
            .await
            .unwrap();
        let a = s.citizen_session_by_code("ca").await.unwrap().unwrap();
        assert_eq!(a.state, CitizenState::Created);
        assert_eq!(a.ranges.len(), 2);
        assert_eq!(a.ranges[1].camera, "cam2");
        // Expired: cannot open.
        assert!(
            !s.open_citizen_session("b", "vb", Time90k(1000))
                .await
                .unwrap()
        );
        // Opens once; the second open is refused.
        assert!(s.open_citizen_session("a", "va", Time90k(5)).await.unwrap());
        assert!(
            !s.open_citizen_session("a", "va2", Time90k(6))
                .await
                .unwrap()
        );
        let a = s.citizen_session_by_viewer("va").await.unwrap().unwrap();
        assert_eq!(a.state, CitizenState::Open);
        assert!(s.citizen_session_by_viewer("va2").await.unwrap().is_none());
        assert!(
            s.end_citizen_session("a", "applicant_ended", Time90k(9))
                .await
                .unwrap()
        );
        assert!(
            !s.end_citizen_session("a", "expired", Time90k(10))
                .await
                .unwrap()
        );
        let a = s.citizen_session("a").await.unwrap().unwrap();
        assert_eq!(a.state, CitizenState::Ended);
        assert_eq!(a.end_reason.as_deref(), Some("applicant_ended"));
        assert!(
            !s.open_citizen_session("a", "vx", Time90k(11))
                .await
                .unwrap()
        );
        assert_eq!(s.citizen_sessions(Some("po1")).await.unwrap().len(), 2);
        assert_eq!(s.citizen_sessions(Some("other")).await.unwrap().len(), 0);
    }
}
