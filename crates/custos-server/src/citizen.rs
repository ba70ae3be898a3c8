//! Citizen view-only sessions (H4). A police officer makes a time-limited, single-use session
//! for an applicant looking for a missing elderly person, child or person with an intellectual
//! disability, for given cameras and ranges; the applicant opens the link (no account) and
//! watches in the browser. The footage is transcoded on the server for these sessions only,
//! with a visible watermark burned into the pixels (applicant name and ID number, viewing time,
//! session id), and sent as fMP4 over a WebSocket into Media Source Extensions: no progressive
//! MP4, no file URL, no download, no export, no API token.
//!
//! State machine (custos-store): `created` → `open` (the link, once) → `ended` (by the
//! applicant, the officer or the time limit). Every step — created, opened, ended, refused —
//! is a ledger entry, and every watch is registered as a playback before a byte is read (E2);
//! the footage goes through the registered read path (`custos_footage::read` with a
//! `Registered`).
//!
//! Who may create a session is decided in one place:
//! [`authorize_citizen_session_creation`].

use std::time::Duration;

use axum::Json;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custos_core::access::{Principal, Role};
use custos_core::{Error, ErrorKind, Time90k};
use custos_store::{CitizenRange, CitizenSessionRow, CitizenState, NewCitizenSession};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use utoipa::{IntoParams, ToSchema};

use crate::api::parse_time;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, bad_request};
use crate::state::AppState;

/// The cookie that carries the viewer token of an opened session (HttpOnly; the page's script
/// never sees it).
pub const CITIZEN_COOKIE: &str = "custos_citizen";

/// The font of the watermark (Debian package fonts-noto-cjk): Chinese names print as text.
pub const WATERMARK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// Why an applicant may view (H4, 003 art. 25), as stored, with the console's label.
pub const REASONS: [(&str, &str); 3] = [
    ("missing_elderly", "查找走失老人"),
    ("missing_child", "查找走失儿童"),
    ("missing_intellectual_disability", "查找走失智力障碍人员"),
];

/// Default and longest time a session stays usable after it is made.
const DEFAULT_VALID: Duration = Duration::from_secs(3600);
const MAX_VALID: Duration = Duration::from_secs(24 * 3600);
/// At most this many sessions of one officer not yet ended.
const MAX_LIVE_SESSIONS: usize = 3;
/// At most this many ranges, each at most this long.
const MAX_RANGES: usize = 8;
const MAX_RANGE_SECS: i64 = 6 * 3600;
/// How often an open watch re-checks its session.
const RECHECK: Duration = Duration::from_secs(2);
/// At most this many transcodes at once (each is one ffmpeg process).
const MAX_TRANSCODES: usize = 4;

static TRANSCODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_TRANSCODES);
/// A viewer that does not take a message within this long is gone: the watch ends (and its
/// transcode slot is freed).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The sessions watching now: one watch per session, so one applicant cannot hold every
/// transcode slot.
fn watching() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static W: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    W.get_or_init(Default::default)
}

/// The one watch of a session; dropping it lets the session watch again.
struct WatchSlot(String);

impl WatchSlot {
    fn take(session: &str) -> ApiResult<WatchSlot> {
        if !watching()
            .lock()
            .expect("watching")
            .insert(session.to_owned())
        {
            return Err(ApiError(Error::new(
                ErrorKind::ResourceExhausted,
                format!(
                    "citizen view session {session} is watching already; close the other player first (one at a time)"
                ),
            )));
        }
        Ok(WatchSlot(session.to_owned()))
    }
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        watching().lock().expect("watching").remove(&self.0);
    }
}

/// Sends one message; `false` if the viewer left or did not take it within [`SEND_TIMEOUT`].
async fn send(socket: &mut WebSocket, m: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(m)).await,
        Ok(Ok(()))
    )
}

// ---------------------------------------------------------------------------------------------
// API types.

#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct RangeSpec {
    pub camera: String,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339 (exclusive).
    pub to: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CitizenSessionRequest {
    /// The applicant's name as on the identity document.
    pub applicant_name: String,
    /// The applicant's identity document number.
    pub applicant_id: String,
    /// `missing_elderly`, `missing_child` or `missing_intellectual_disability` (H4).
    pub reason: String,
    /// Case details (optional).
    pub note: Option<String>,
    /// The cameras and ranges the applicant may view (1–8, each at most 6 h, in the past).
    pub ranges: Vec<RangeSpec>,
    /// Until when the session can be opened and watched (RFC 3339; default one hour from now,
    /// at most 24 h, and never after the officer's released view request ends).
    pub expires: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CitizenSessionView {
    pub id: String,
    pub applicant_name: String,
    pub applicant_id: String,
    pub reason: String,
    /// `created`, `open` or `ended`.
    pub state: String,
    pub created_by: String,
    pub created: String,
    pub expires: String,
    pub opened: Option<String>,
    pub ended: Option<String>,
    /// `applicant_ended`, `officer_ended`, `expired` or `grant_ended`.
    pub end_reason: Option<String>,
    pub ranges: Vec<RangeSpec>,
}

#[derive(Serialize, ToSchema)]
pub struct CitizenSessionCreated {
    pub session: CitizenSessionView,
    /// The one-time code; it is shown once and stored only as a digest.
    pub code: String,
    /// The link to hand to the applicant (this server's console).
    pub link: String,
}

#[derive(Deserialize, ToSchema)]
pub struct OpenRequest {
    /// The code from the link.
    pub code: String,
}

#[derive(Deserialize, IntoParams)]
pub struct WatchQuery {
    /// Which of the session's ranges (0-based).
    pub range: usize,
}

fn view(s: &CitizenSessionRow) -> CitizenSessionView {
    CitizenSessionView {
        id: s.id.clone(),
        applicant_name: s.applicant_name.clone(),
        applicant_id: s.applicant_id.clone(),
        reason: s.reason.clone(),
        state: s.state.as_str().to_owned(),
        created_by: s.created_by.clone(),
        created: s.created.to_rfc3339(),
        expires: s.expires.to_rfc3339(),
        opened: s.opened.map(|t| t.to_rfc3339()),
        ended: s.ended.map(|t| t.to_rfc3339()),
        end_reason: s.end_reason.clone(),
        ranges: s
            .ranges
            .iter()
            .map(|r| RangeSpec {
                camera: r.camera.clone(),
                from: r.from.to_rfc3339(),
                to: r.to.to_rfc3339(),
            })
            .collect(),
    }
}

fn now90k() -> Time90k {
    Time90k::from_system_time(std::time::SystemTime::now())
}

fn denied(msg: impl Into<String>) -> ApiError {
    ApiError(Error::new(ErrorKind::PermissionDenied, msg))
}

fn digest_hex(secret: &str) -> String {
    custos_auth::secret::hex(&custos_auth::secret::digest(secret))
}

// ---------------------------------------------------------------------------------------------
// The ledger.

/// Writes one ledger entry; the step it records happens only if this succeeds (fail closed).
async fn ledger(
    st: &AppState,
    actor: &str,
    action: &str,
    session: &str,
    purpose: Option<&str>,
    details: serde_json::Value,
) -> ApiResult<u64> {
    let mut e = custos_ledger::NewEntry::new(
        actor,
        custos_ledger::Action::Other(action.to_owned()),
        format!("citizen-session/{session}"),
    )
    .details(details);
    if let Some(p) = purpose {
        e = e.purpose(p);
    }
    let j = st.journal.clone();
    tokio::task::spawn_blocking(move || j.record(e))
        .await
        .map_err(|e| Error::new(ErrorKind::Unavailable, format!("ledger: {e}")))?
        .map_err(|e| {
            ApiError(Error::new(
                ErrorKind::Unavailable,
                format!("{action} not done: the ledger cannot record it ({e})"),
            ))
        })
}

/// Records a refusal (best effort: the request is refused either way) and returns the 403.
async fn refuse(st: &AppState, session: &CitizenSessionRow, why: String) -> ApiError {
    let id = session.id.as_str();
    let actor = actor_of(session);
    if let Err(e) = ledger(
        st,
        &actor,
        "CitizenSessionRefused",
        id,
        None,
        json!({"session": id, "reason": why}),
    )
    .await
    {
        tracing::error!(error = %e.0, "could not record a refused citizen session");
    }
    denied(why)
}

/// Refuses a request that names no session (an unknown code or viewer token): counted in the
/// `custos_citizen_unknown` metric, not written to the ledger (anyone can send these, without
/// any login; a ledger entry each would let them fill the ledger).
fn refuse_unknown(st: &AppState, what: &str, why: &str) -> ApiError {
    st.metrics
        .citizen_unknown
        .get_or_create(&vec![("what".to_owned(), what.to_owned())])
        .inc();
    denied(why)
}

/// The ledger's actor for what the applicant does: the session, with the applicant's name.
fn actor_of(s: &CitizenSessionRow) -> String {
    format!("citizen:{}", s.id)
}

/// Ends a session whose time is up, or whose officer's released view request no longer covers
/// every range (H2/H4: the session never outlives the grant it was made under; recorded once,
/// by whoever notices first).
async fn end_if_expired(st: &AppState, s: &mut CitizenSessionRow) -> ApiResult<()> {
    if s.state == CitizenState::Ended {
        return Ok(());
    }
    let now = now90k();
    if now >= s.expires {
        end(st, s, "expired", "custos").await?;
    } else if grant_until(st, &s.created_by, &s.ranges).await?.is_none() {
        end(st, s, "grant_ended", "custos").await?;
    }
    Ok(())
}

/// When the released view requests of `officer` that cover every range end (the earliest of
/// them); `None` if some range is not covered now (H2).
async fn grant_until(
    st: &AppState,
    officer: &str,
    ranges: &[CitizenRange],
) -> ApiResult<Option<Time90k>> {
    let now = st.clock.now_90k();
    let mut until: Option<Time90k> = None;
    for r in ranges {
        let Some(req) = st
            .requests
            .cover(
                officer,
                custos_requests::Needed::View,
                &r.camera,
                Some((r.from, r.to)),
                now,
            )
            .await?
        else {
            return Ok(None);
        };
        let Some(end) = req.release.as_ref().map(|x| x.until) else {
            return Ok(None);
        };
        until = Some(until.map_or(end, |u| u.min(end)));
    }
    Ok(until)
}

/// `→ ended`, recorded first. A session that had ended already stays as it was.
async fn end(st: &AppState, s: &mut CitizenSessionRow, reason: &str, by: &str) -> ApiResult<()> {
    if s.state == CitizenState::Ended {
        return Ok(());
    }
    ledger(
        st,
        by,
        "CitizenSessionEnded",
        &s.id,
        None,
        json!({"session": s.id, "reason": reason, "applicant_name": s.applicant_name,
               "applicant_id": s.applicant_id}),
    )
    .await?;
    let now = now90k();
    st.store.end_citizen_session(&s.id, reason, now).await?;
    s.state = CitizenState::Ended;
    s.ended = Some(now);
    s.end_reason = Some(reason.to_owned());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Creating (police).

/// Who may create a citizen view session: a `police_officer` whose scope covers every camera of
/// the session (the policy's `playback` decision for that grant, E1/H1). A refusal is recorded
/// in the ledger as `AccessDenied`. This is the one place the rule lives: the officer needs a
/// released view request covering every camera and range shown to the applicant (H2).
pub async fn authorize_citizen_session_creation(
    st: &AppState,
    caller: &Caller,
    ranges: &[CitizenRange],
) -> ApiResult<()> {
    if !caller.principal.has_role(Role::PoliceOfficer) {
        let msg = format!(
            "{} may not create a citizen view session: only a police officer (role police_officer) may (H4)",
            caller.name
        );
        let entry = custos_ledger::NewEntry::new(
            &caller.name,
            custos_ledger::Action::AccessDenied,
            "citizen-session",
        )
        .details(json!({"action": "create_citizen_session", "rule": "H4", "reason": msg}));
        let j = st.journal.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || j.record(entry)).await {
            tracing::error!(error = %e, "could not record a denial");
        }
        return Err(denied(msg));
    }
    // Only the police officer grants count: another role of the same account does not widen
    // what it may show a citizen.
    let officer = Caller {
        principal: Principal {
            grants: caller
                .principal
                .grants
                .iter()
                .filter(|g| g.role == Role::PoliceOfficer)
                .cloned()
                .collect(),
            ..caller.principal.clone()
        },
        ..caller.clone()
    };
    // H2 as for the officer's own viewing: a released view request of this officer covering
    // each camera × range (refused with 403 and an `AccessDenied` entry otherwise).
    for r in ranges {
        st.authorize_footage::<custos_core::access::act::Playback>(
            &officer, &r.camera, r.from, r.to,
        )
        .await?;
    }
    Ok(())
}

/// A name as on an identity document: 1–40 letters (any script), spaces, `·`, `.`, `-`.
fn check_name(n: &str) -> ApiResult<String> {
    let n = n.trim();
    let ok = !n.is_empty()
        && n.chars().count() <= 40
        && n.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '·' | '.' | '-'));
    if ok {
        Ok(n.to_owned())
    } else {
        Err(bad_request(format!(
            "applicant_name {n:?}: write the name as on the identity document (1–40 letters, spaces, '·', '.', '-')"
        )))
    }
}

/// An identity document number: 6–20 letters A–Z and digits (a resident ID is 18).
fn check_id_number(n: &str) -> ApiResult<String> {
    let n = n.trim().to_ascii_uppercase();
    if (6..=20).contains(&n.len()) && n.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(n)
    } else {
        Err(bad_request(format!(
            "applicant_id {n:?}: write the identity document number (6–20 letters and digits, e.g. an 18-character resident ID)"
        )))
    }
}

/// Create a citizen view-only session (H4): police only, for cameras in the officer's scope.
/// The answer carries the one-time code and link; nothing else can open the session.
#[utoipa::path(post, path = "/api/citizen-sessions", tag = "citizen", request_body = CitizenSessionRequest,
    responses((status = 201, body = CitizenSessionCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_session(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<CitizenSessionRequest>,
) -> ApiResult<(StatusCode, Json<CitizenSessionCreated>)> {
    let name = check_name(&req.applicant_name)?;
    let id_number = check_id_number(&req.applicant_id)?;
    if !REASONS.iter().any(|(r, _)| *r == req.reason) {
        let all: Vec<&str> = REASONS.iter().map(|(r, _)| *r).collect();
        return Err(bad_request(format!(
            "reason {:?}: citizens may view footage only to look for a missing person (H4); use one of {}",
            req.reason,
            all.join(", ")
        )));
    }
    if req.ranges.is_empty() || req.ranges.len() > MAX_RANGES {
        return Err(bad_request(format!(
            "ranges: give 1 to {MAX_RANGES} camera ranges (got {})",
            req.ranges.len()
        )));
    }
    let now = now90k();
    let mut ranges = Vec::new();
    for (i, r) in req.ranges.iter().enumerate() {
        let (from, to) = (
            parse_time(&format!("ranges[{i}].from"), &r.from)?,
            parse_time(&format!("ranges[{i}].to"), &r.to)?,
        );
        if to <= from {
            return Err(bad_request(format!(
                "ranges[{i}]: `to` must be after `from`"
            )));
        }
        if (to.0 - from.0) / 90_000 > MAX_RANGE_SECS {
            return Err(bad_request(format!(
                "ranges[{i}]: at most {} h per range; split it",
                MAX_RANGE_SECS / 3600
            )));
        }
        if from >= now {
            return Err(bad_request(format!(
                "ranges[{i}]: citizens view recorded footage; `from` must be in the past"
            )));
        }
        st.store.camera_by_name(&r.camera).await?;
        ranges.push(CitizenRange {
            camera: r.camera.clone(),
            from,
            to,
        });
    }
    let expires = match &req.expires {
        Some(e) => parse_time("expires", e)?,
        None => Time90k(now.0 + DEFAULT_VALID.as_secs() as i64 * 90_000),
    };
    if expires <= now || expires.0 - now.0 > MAX_VALID.as_secs() as i64 * 90_000 {
        return Err(bad_request(
            "expires: give a time in the future, at most 24 h from now",
        ));
    }
    authorize_citizen_session_creation(&st, &caller, &ranges).await?;
    // H2: the session ends when the officer's grant does, at the latest.
    let Some(until) = grant_until(&st, &caller.name, &ranges).await? else {
        return Err(denied(format!(
            "H2: no released view request of {} covers every range now",
            caller.name
        )));
    };
    let expires = expires.min(until);
    // One applicant at a time per officer and grant: a bounded number of live sessions.
    let live = st
        .store
        .citizen_sessions(Some(&caller.name))
        .await?
        .into_iter()
        .filter(|s| s.state != CitizenState::Ended && s.expires > now)
        .count();
    if live >= MAX_LIVE_SESSIONS {
        return Err(ApiError(Error::new(
            ErrorKind::ResourceExhausted,
            format!(
                "{} has {live} citizen view sessions not yet ended (at most {MAX_LIVE_SESSIONS}); end one (POST /api/citizen-sessions/ID/end) first",
                caller.name
            ),
        )));
    }

    let id = custos_auth::secret::hex(&custos_auth::secret::random::<8>()?);
    let code = custos_auth::secret::new_secret()?;
    let note = req.note.clone().unwrap_or_default();
    let seq = ledger(
        &st,
        &caller.name,
        "CitizenSessionCreated",
        &id,
        Some(&req.reason),
        json!({"session": id, "applicant_name": name, "applicant_id": id_number,
               "reason": req.reason, "note": note, "expires": expires.to_rfc3339(),
               "ranges": ranges.iter().map(|r| json!({"camera": r.camera,
                   "from": r.from.to_rfc3339(), "to": r.to.to_rfc3339()})).collect::<Vec<_>>()}),
    )
    .await?;
    st.store
        .insert_citizen_session(&NewCitizenSession {
            id: id.clone(),
            code_sha256: digest_hex(&code),
            created_by: caller.name.clone(),
            applicant_name: name,
            applicant_id: id_number,
            reason: req.reason.clone(),
            note,
            created: now,
            expires,
            ledger_seq: Some(seq as i64),
            ranges,
        })
        .await?;
    let s = st
        .store
        .citizen_session(&id)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::Internal, "the new session is not stored"))?;
    Ok((
        StatusCode::CREATED,
        Json(CitizenSessionCreated {
            session: view(&s),
            link: format!("/#/view/{code}"),
            code,
        }),
    ))
}

/// The citizen view sessions this officer made (newest first).
#[utoipa::path(get, path = "/api/citizen-sessions", tag = "citizen",
    responses((status = 200, body = [CitizenSessionView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_sessions(
    State(st): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<CitizenSessionView>>> {
    if !caller.principal.has_role(Role::PoliceOfficer) {
        return Err(denied(
            "only police officers make and list citizen view sessions (H4)",
        ));
    }
    let mut out = Vec::new();
    for mut s in st.store.citizen_sessions(Some(&caller.name)).await? {
        end_if_expired(&st, &mut s).await?;
        out.push(view(&s));
    }
    Ok(Json(out))
}

/// The officer who made a session ends it (an open watch stops within seconds).
#[utoipa::path(post, path = "/api/citizen-sessions/{id}/end", tag = "citizen", params(("id" = String, Path)),
    responses((status = 200, body = CitizenSessionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn officer_end(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CitizenSessionView>> {
    let mut s = st
        .store
        .citizen_session(&id)
        .await?
        .filter(|s| s.created_by == caller.name)
        .ok_or_else(|| {
            ApiError(Error::new(
                ErrorKind::NotFound,
                format!("you made no citizen view session {id:?}; see GET /api/citizen-sessions"),
            ))
        })?;
    end(&st, &mut s, "officer_ended", &caller.name).await?;
    Ok(Json(view(&s)))
}

// ---------------------------------------------------------------------------------------------
// The applicant (no account).

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn viewer_cookie(token: &str, max_age_s: i64) -> String {
    format!(
        "{CITIZEN_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_s}"
    )
}

/// The open session of the request's viewer cookie, or a recorded refusal.
async fn viewer_session(st: &AppState, headers: &HeaderMap) -> ApiResult<CitizenSessionRow> {
    let Some(token) = cookie(headers, CITIZEN_COOKIE) else {
        return Err(ApiError(Error::new(
            ErrorKind::Unauthenticated,
            "no citizen view session: open the link the police gave you",
        )));
    };
    let Some(mut s) = st
        .store
        .citizen_session_by_viewer(&digest_hex(&token))
        .await?
    else {
        return Err(refuse_unknown(
            st,
            "viewer",
            "unknown citizen view session: open the link the police gave you",
        ));
    };
    end_if_expired(st, &mut s).await?;
    match s.state {
        CitizenState::Open => Ok(s),
        _ => {
            let why = format!(
                "citizen view session {} has ended ({}); it cannot be reopened — ask the police for a new one",
                s.id,
                s.end_reason.as_deref().unwrap_or("ended")
            );
            Err(refuse(st, &s, why).await)
        }
    }
}

/// Open a session with the code of its link (once: a second open is refused). Sets the viewer
/// cookie.
#[utoipa::path(post, path = "/api/citizen/open", tag = "citizen", request_body = OpenRequest,
    responses((status = 200, body = CitizenSessionView), (status = 403, body = ErrorBody)))]
pub async fn open(State(st): State<AppState>, Json(req): Json<OpenRequest>) -> ApiResult<Response> {
    let code = req.code.trim();
    let Some(mut s) = st.store.citizen_session_by_code(&digest_hex(code)).await? else {
        return Err(refuse_unknown(
            &st,
            "code",
            "no citizen view session has this code; check the link the police gave you",
        ));
    };
    end_if_expired(&st, &mut s).await?;
    if s.state != CitizenState::Created {
        let why = match s.state {
            CitizenState::Open => format!(
                "citizen view session {} was opened already; a link opens once",
                s.id
            ),
            _ => format!(
                "citizen view session {} has ended ({}); it cannot be reopened",
                s.id,
                s.end_reason.as_deref().unwrap_or("ended")
            ),
        };
        return Err(refuse(&st, &s, why).await);
    }
    let token = custos_auth::secret::new_secret()?;
    ledger(
        &st,
        &actor_of(&s),
        "CitizenSessionOpened",
        &s.id,
        Some(&s.reason),
        json!({"session": s.id, "applicant_name": s.applicant_name,
               "applicant_id": s.applicant_id}),
    )
    .await?;
    let now = now90k();
    if !st
        .store
        .open_citizen_session(&s.id, &digest_hex(&token), now)
        .await?
    {
        // Another open won the race, or the time ran out in between.
        let why = format!("citizen view session {} cannot be opened now", s.id);
        return Err(refuse(&st, &s, why).await);
    }
    s.state = CitizenState::Open;
    s.opened = Some(now);
    let max_age = (s.expires.0 - now.0) / 90_000;
    Ok((
        StatusCode::OK,
        [
            (header::SET_COOKIE, viewer_cookie(&token, max_age.max(1))),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(view(&s)),
    )
        .into_response())
}

/// The open session of this browser (its ranges and time limit).
#[utoipa::path(get, path = "/api/citizen/session", tag = "citizen",
    responses((status = 200, body = CitizenSessionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn current(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<CitizenSessionView>> {
    Ok(Json(view(&viewer_session(&st, &headers).await?)))
}

/// The applicant ends the session (it cannot be reopened). Clears the cookie.
#[utoipa::path(post, path = "/api/citizen/end", tag = "citizen",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn applicant_end(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let mut s = viewer_session(&st, &headers).await?;
    let actor = actor_of(&s);
    end(&st, &mut s, "applicant_ended", &actor).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, viewer_cookie("", 0))],
    )
        .into_response())
}

/// Any other API route with a citizen session's credentials (its cookie, or its token sent as
/// a bearer token) and no staff session: 403, recorded. A citizen session watches through
/// `/api/citizen/watch` and nothing else (no `view.mp4`, no export, no download, no API).
pub async fn refuse_elsewhere(st: &AppState, headers: &HeaderMap, path: &str) -> Option<Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let token = cookie(headers, CITIZEN_COOKIE).or(bearer)?;
    let s = st
        .store
        .citizen_session_by_viewer(&digest_hex(&token))
        .await
        .ok()
        .flatten()?;
    let why = format!(
        "H4: citizen view session {} may only watch its footage on the viewing page; {path} is refused (no download, no export, no API)",
        s.id
    );
    let entry =
        custos_ledger::NewEntry::new(actor_of(&s), custos_ledger::Action::AccessDenied, path)
            .details(json!({"session": s.id, "rule": "H4", "reason": why}));
    let j = st.journal.clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || j.record(entry)).await {
        tracing::error!(error = %e, "could not record a denial");
    }
    Some(denied(why).into_response())
}

// ---------------------------------------------------------------------------------------------
// Watching: registered read → ffmpeg (watermark) → fMP4 over a WebSocket.

/// Watch one range of the open session: a WebSocket carrying a JSON text message (`mime`,
/// `codec`, `width`, `height`), then the init segment, then `moof`+`mdat` fragments of the
/// watermarked transcode at playback speed, then `{"end": true}`. Registered as a playback
/// before any footage is read (E2). Closes with code 4403 once the session ends.
#[utoipa::path(get, path = "/api/citizen/watch", tag = "citizen", params(WatchQuery),
    responses((status = 101, description = "WebSocket upgrade"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn watch(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<WatchQuery>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let s = viewer_session(&st, &headers).await?;
    let Some(r) = s.ranges.get(q.range).cloned() else {
        return Err(bad_request(format!(
            "range {}: this session has {} range(s), numbered from 0",
            q.range,
            s.ranges.len()
        )));
    };
    // C1: footage of a system in use but not accepted is not served.
    st.gate_camera_live(&r.camera).await?;
    let cam = st.store.camera_by_name(&r.camera).await?;
    let stream = st
        .store
        .stream_of(&cam, custos_core::camera::StreamKind::Main)
        .await?;
    let slot = WatchSlot::take(&s.id)?;
    let permit = TRANSCODES.try_acquire().map_err(|_| {
        ApiError(Error::new(
            ErrorKind::ResourceExhausted,
            "the server is busy with other viewing sessions; try again in a minute",
        ))
    })?;
    let actor = actor_of(&s);
    let (j, object, purpose) = (
        st.journal.clone(),
        format!("camera/{}/main", r.camera),
        s.reason.clone(),
    );
    let details = json!({"camera": r.camera, "stream": "main", "from": r.from.to_rfc3339(),
        "to": r.to.to_rfc3339(), "via": "citizen-watermarked", "session": s.id,
        "applicant_name": s.applicant_name, "applicant_id": s.applicant_id,
        "created_by": s.created_by});
    let reg = tokio::task::spawn_blocking(move || {
        j.register_access(
            &actor,
            custos_ledger::Action::Playback,
            &object,
            Some(&purpose),
            details,
        )
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Unavailable, format!("ledger: {e}")))?
    .map_err(|e| Error::new(ErrorKind::Unavailable, e.to_string()))?;
    let v =
        custos_footage::read::view_mp4(&reg, &st.store, &st.data, &stream, r.from, r.to).await?;
    let text = watermark_text(&s);
    Ok(ws.on_upgrade(move |socket| async move {
        let (_slot, _permit) = (slot, permit);
        let id = s.id.clone();
        if let Err(e) = run_watch(socket, st, s.id, std::sync::Arc::new(v), text).await {
            tracing::info!(error = %e, session = %id, "citizen watch ended");
        }
    }))
}

/// The watermark: two lines (H4: applicant name and ID number, the viewing time, the session
/// id). Names and numbers are validated on creation, so they carry no `%` or `\`.
fn watermark_text(s: &CitizenSessionRow) -> String {
    format!(
        "仅供查看 禁止复制 {} {}\n会话 {} %{{localtime:%Y-%m-%d %X}}",
        s.applicant_name, s.applicant_id, s.id
    )
}

/// The ffmpeg filter that burns the watermark in: a boxed block at 40 % of the height on the
/// left (where nothing of the picture is spared), and the session id again near the bottom.
pub fn watermark_filter(textfile: &std::path::Path, session: &str) -> String {
    format!(
        "drawtext=fontfile={WATERMARK_FONT}:textfile={}:expansion=normal:x=16:y=h*0.4:fontsize=h/20:fontcolor=white@0.9:box=1:boxcolor=black@0.6:boxborderw=6:line_spacing=6,\
         drawtext=fontfile={WATERMARK_FONT}:text=custos {session}:x=16:y=h*0.8:fontsize=h/24:fontcolor=white@0.5",
        textfile.display()
    )
}

/// Top-level boxes out of a byte stream.
#[derive(Default)]
struct Boxes {
    buf: Vec<u8>,
}

impl Boxes {
    fn push(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    /// The next complete box (type, bytes).
    fn next(&mut self) -> Option<([u8; 4], Vec<u8>)> {
        if self.buf.len() < 8 {
            return None;
        }
        let mut size = u32::from_be_bytes(self.buf[0..4].try_into().ok()?) as usize;
        if size == 1 {
            if self.buf.len() < 16 {
                return None;
            }
            size = u64::from_be_bytes(self.buf[8..16].try_into().ok()?) as usize;
        }
        if size < 8 || self.buf.len() < size {
            return None;
        }
        let t: [u8; 4] = self.buf[4..8].try_into().ok()?;
        let b: Vec<u8> = self.buf.drain(..size).collect();
        Some((t, b))
    }
}

/// The RFC 6381 codec of an H.264 init segment, from its `avcC`.
fn avc_codec(init: &[u8]) -> Option<String> {
    let i = init.windows(4).position(|w| w == b"avcC")?;
    let c = init.get(i + 5..i + 8)?;
    Some(format!("avc1.{:02x}{:02x}{:02x}", c[0], c[1], c[2]))
}

fn tk_width_height(init: &[u8]) -> (u32, u32) {
    // `tkhd` ends with width and height in 16.16 fixed point.
    let Some(i) = init.windows(4).position(|w| w == b"tkhd") else {
        return (0, 0);
    };
    let start = i - 4;
    let size = u32::from_be_bytes(init[start..start + 4].try_into().unwrap_or([0; 4])) as usize;
    let end = start + size;
    if size < 16 || init.len() < end {
        return (0, 0);
    }
    let w = u32::from_be_bytes(init[end - 8..end - 4].try_into().unwrap_or([0; 4])) >> 16;
    let h = u32::from_be_bytes(init[end - 4..end].try_into().unwrap_or([0; 4])) >> 16;
    (w, h)
}

async fn still_open(st: &AppState, id: &str) -> Result<(), String> {
    let mut s = st
        .store
        .citizen_session(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the session is gone".to_owned())?;
    end_if_expired(st, &mut s)
        .await
        .map_err(|e| e.0.to_string())?;
    if s.state == CitizenState::Open {
        Ok(())
    } else {
        Err(format!(
            "the session has ended ({})",
            s.end_reason.as_deref().unwrap_or("ended")
        ))
    }
}

async fn run_watch(
    mut socket: WebSocket,
    st: AppState,
    id: String,
    v: std::sync::Arc<custos_footage::read::ViewMp4>,
    text: String,
) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "custos-citizen-{}",
        custos_auth::secret::new_id().map_err(|e| e.to_string())?
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let textfile = dir.join("watermark.txt");
    let r = async {
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&textfile)
                .map_err(|e| e.to_string())?;
            std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| e.to_string())?;
        }
        transcode(&mut socket, &st, &id, v, &textfile).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(()) => {
            let _ = send(
                &mut socket,
                Message::Text(json!({"end": true}).to_string().into()),
            )
            .await;
            let _ = send(&mut socket, Message::Close(None)).await;
            Ok(())
        }
        Err(reason) => {
            let mut t = format!("citizen view ended: {reason}");
            while t.len() > 123 {
                t.pop();
            }
            let _ = send(
                &mut socket,
                Message::Close(Some(CloseFrame {
                    code: 4403,
                    reason: t.into(),
                })),
            )
            .await;
            Err(reason)
        }
    }
}

async fn transcode(
    socket: &mut WebSocket,
    st: &AppState,
    id: &str,
    v: std::sync::Arc<custos_footage::read::ViewMp4>,
    textfile: &std::path::Path,
) -> Result<(), String> {
    if !std::path::Path::new(WATERMARK_FONT).exists() {
        return Err(format!(
            "the watermark font {WATERMARK_FONT} is missing (install the Debian package fonts-noto-cjk)"
        ));
    }
    let mut child = tokio::process::Command::new("ffmpeg")
        .args([
            "-v", "error", "-re", "-f", "mp4", "-i", "pipe:0", "-an", "-sn", "-vf",
        ])
        .arg(watermark_filter(textfile, id))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "15",
            "-f",
            "mp4",
            "-movflags",
            "frag_keyframe+empty_moov+default_base_moof",
            "pipe:1",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run ffmpeg (install the Debian package ffmpeg): {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // Feeds the registered view into ffmpeg.
    let feeder = tokio::spawn(async move {
        let mut pos = 0u64;
        while pos < v.len() {
            let vv = v.clone();
            let chunk = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; 256 * 1024];
                vv.read_at(pos, &mut buf).map(|n| {
                    buf.truncate(n);
                    buf
                })
            })
            .await;
            let Ok(Ok(chunk)) = chunk else { break };
            if chunk.is_empty() || stdin.write_all(&chunk).await.is_err() {
                break;
            }
            pos += chunk.len() as u64;
        }
        drop(stdin);
    });
    let errors = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let mut boxes = Boxes::default();
    let mut init: Vec<u8> = Vec::new();
    let mut started = false;
    let mut fragment: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut changed = st.access_changed.subscribe();
    let mut tick = tokio::time::interval(RECHECK);
    tick.reset();
    let result = loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(r) = still_open(st, id).await { break Err(r); }
            }
            _ = changed.changed() => {
                if let Err(r) = still_open(st, id).await { break Err(r); }
            }
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break Ok(false),
                Some(Ok(_)) => {}
            },
            n = stdout.read(&mut buf) => {
                let n = match n { Ok(n) => n, Err(e) => break Err(e.to_string()) };
                if n == 0 { break Ok(true); }
                boxes.push(&buf[..n]);
                let mut failed = None;
                while let Some((t, b)) = boxes.next() {
                    match &t {
                        b"ftyp" | b"moov" if !started => {
                            init.extend_from_slice(&b);
                            if &t == b"moov" {
                                let codec = avc_codec(&init).unwrap_or_else(|| "avc1.640028".into());
                                let (w, h) = tk_width_height(&init);
                                let hello = json!({"mime": format!("video/mp4; codecs=\"{codec}\""),
                                    "codec": codec, "width": w, "height": h, "watermarked": true});
                                if !send(socket, Message::Text(hello.to_string().into())).await
                                    || !send(socket, Message::Binary(std::mem::take(&mut init).into())).await {
                                    failed = Some("the viewer left or stopped reading".to_owned());
                                    break;
                                }
                                started = true;
                            }
                        }
                        b"moof" => fragment = b,
                        b"mdat" => {
                            fragment.extend_from_slice(&b);
                            if !send(socket, Message::Binary(std::mem::take(&mut fragment).into())).await {
                                failed = Some("the viewer left or stopped reading".to_owned());
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(f) = failed { break Err(f); }
            }
        }
    };
    feeder.abort();
    let _ = child.start_kill();
    let status = child.wait().await.ok();
    let err = errors.await.unwrap_or_default();
    match result {
        Ok(true) if status.is_some_and(|s| s.success()) && started => Ok(()),
        Ok(true) => Err(format!(
            "the footage could not be transcoded: {}",
            err.trim()
        )),
        Ok(false) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// H4: names and ID numbers that would break out of the watermark are refused.
    #[test]
    fn h4_applicant_fields_are_checked() {
        assert!(check_name("张三").is_ok());
        assert!(check_name("Anna-Lena Müller").is_ok());
        assert!(check_name("a%{eif}").is_err());
        assert!(check_name("x\\y").is_err());
        assert!(check_name("").is_err());
        assert_eq!(
            check_id_number("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert!(check_id_number("1101:05").is_err());
    }

    #[test]
    fn boxes_split_a_stream() {
        let mut b = Boxes::default();
        b.push(&[0, 0, 0, 8, b'f', b't', b'y', b'p', 0, 0]);
        assert_eq!(b.next().unwrap().0, *b"ftyp");
        assert!(b.next().is_none());
        b.push(&[0, 10, b'm', b'o', b'o', b'v', 1, 2]);
        assert_eq!(b.next().unwrap().1.len(), 10);
    }
}
