//! `GET /api/events`: the event table (suspicious reports D6, device alarms I4, released
//! requests for the police side) as Server-Sent Events, filtered by what the caller may see.
//! The stream re-checks the caller's session every [`RECHECK`] (and at once when a right may
//! have ended) and closes when it is gone.
//!
//! Who sees an event ([`may_see`]), decided by its kind first: a `request_*` event (the police
//! side), the officer it is for and police approvers whose scope covers one of its cameras
//! (they see only those cameras); an event of a camera, whoever may watch or play back that
//! camera (and every camera its body names); an event naming cameras in its body
//! (`"cameras": [...]`), whoever may watch or play back one of them. A citizen viewer sees
//! none (H4). Anything else: nobody (deny by default). At most
//! [`MAX_STREAMS_PER_ACCOUNT`] streams per account.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use custos_core::access::{Action, Role};
use custos_store::registry::EventRow;
use futures::SinkExt as _;
use futures::channel::mpsc;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// How often an open stream re-checks the caller's session.
pub const RECHECK: Duration = Duration::from_secs(2);
/// How often the event table is read for new rows.
const POLL: Duration = Duration::from_millis(500);

#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Send only events with a larger id (a reconnecting client may send `Last-Event-ID`
    /// instead). Default: only events that arrive from now on.
    pub after: Option<i64>,
}

/// Whether `caller` may see event `e` (see the module docs). The kind decides first: a
/// `request_*` event is never shown because of its camera alone (E1, H2).
pub fn may_see(st: &AppState, caller: &Caller, e: &EventRow) -> bool {
    // H4: a citizen viewer sees no events (reports, alarms and requests are staff matters);
    // only the caller's other grants count.
    let staff = staff_of(caller);
    let Some(caller) = staff.as_ref() else {
        return false;
    };
    let watches = |camera: &str| {
        [Action::ViewLive, Action::Playback]
            .into_iter()
            .any(|a| st.may_camera(caller, a, camera))
    };
    let body = body_of(e);
    let cameras = cameras_of(&body);
    if e.kind.starts_with("request_") {
        return may_see_request(st, caller, &body, &cameras);
    }
    if let Some(c) = &e.camera {
        return watches(c) && cameras.iter().all(|c| watches(c));
    }
    !cameras.is_empty() && cameras.iter().any(|c| watches(c))
}

/// The caller without its `citizen_viewer` grants; `None` when nothing else is left.
fn staff_of(caller: &Caller) -> Option<Caller> {
    let grants: Vec<_> = caller
        .principal
        .grants
        .iter()
        .filter(|g| g.role != Role::CitizenViewer)
        .cloned()
        .collect();
    if grants.is_empty() {
        return None;
    }
    let mut c = caller.clone();
    c.principal.grants = grants;
    Some(c)
}

fn body_of(e: &EventRow) -> serde_json::Value {
    serde_json::from_str(&e.body).unwrap_or(serde_json::Value::String(e.body.clone()))
}

fn cameras_of(body: &serde_json::Value) -> Vec<String> {
    body.get("cameras")
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default()
}

/// Whether a police grant of `role` of the caller covers `camera` (placed cameras only).
fn police_scope(st: &AppState, caller: &Caller, role: Role, camera: &str) -> bool {
    st.placement_of(camera).is_some_and(|p| {
        caller
            .principal
            .grants
            .iter()
            .any(|g| g.role == role && g.scope.contains(&p))
    })
}

/// A `request_*` event (H2): the officer the request is for, or a police approver whose scope
/// covers one of its cameras. Nobody else, whatever they may watch.
fn may_see_request(
    st: &AppState,
    caller: &Caller,
    body: &serde_json::Value,
    cameras: &[String],
) -> bool {
    let own = body.get("for").and_then(|f| f.as_str()) == Some(caller.name.as_str())
        && caller.principal.has_role(Role::PoliceOfficer);
    if own {
        return true;
    }
    caller.principal.has_role(Role::PoliceApprover)
        && cameras
            .iter()
            .any(|c| police_scope(st, caller, Role::PoliceApprover, c))
}

/// The event as this caller may read it: a `request_*` event shown to an approver lists only
/// the cameras of the approver's scope.
fn redacted_for(st: &AppState, caller: &Caller, e: &EventRow) -> serde_json::Value {
    let mut body = body_of(e);
    if e.kind.starts_with("request_")
        && body.get("for").and_then(|f| f.as_str()) != Some(caller.name.as_str())
    {
        let mine: Vec<String> = cameras_of(&body)
            .into_iter()
            .filter(|c| police_scope(st, caller, Role::PoliceApprover, c))
            .collect();
        if let Some(o) = body.as_object_mut() {
            o.insert("cameras".into(), serde_json::json!(mine));
        }
        return body;
    }
    body
}

/// At most this many open event streams per account (each reads the event table); more is
/// 429 `resource_exhausted`.
pub const MAX_STREAMS_PER_ACCOUNT: usize = 4;

fn open_streams() -> &'static std::sync::Mutex<std::collections::HashMap<String, usize>> {
    static S: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, usize>>> =
        std::sync::OnceLock::new();
    S.get_or_init(Default::default)
}

/// One open stream of an account; dropping it frees the place.
struct StreamSlot(String);

impl StreamSlot {
    fn take(account: &str) -> ApiResult<StreamSlot> {
        let mut m = open_streams().lock().expect("event streams");
        let n = m.entry(account.to_owned()).or_default();
        if *n >= MAX_STREAMS_PER_ACCOUNT {
            return Err(ApiError(custos_core::Error::new(
                custos_core::ErrorKind::ResourceExhausted,
                format!(
                    "{account} has {MAX_STREAMS_PER_ACCOUNT} event streams open already; close one (GET /api/events) before opening another"
                ),
            )));
        }
        *n += 1;
        Ok(StreamSlot(account.to_owned()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut m = open_streams().lock().expect("event streams");
        if let Some(n) = m.get_mut(&self.0) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.0);
            }
        }
    }
}

fn event_of(e: &EventRow, body: serde_json::Value) -> Event {
    Event::default()
        .id(e.id.to_string())
        .event(e.kind.clone())
        .data(
            serde_json::json!({
                "id": e.id,
                "kind": e.kind,
                "camera": e.camera,
                "at": e.at.to_rfc3339(),
                "created": e.created_at.to_rfc3339(),
                "body": body,
            })
            .to_string(),
        )
}

/// The events the caller may see, as Server-Sent Events (`id:` the event id, `event:` its
/// kind, `data:` JSON with id, kind, camera, at, created and body). The stream ends with an
/// `end` event when the caller's session ends (logout, revocation, expiry, disabled account).
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventsQuery, ("Last-Event-ID" = Option<String>, Header, description = "resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", description = "the event stream"),
        (status = 401, body = ErrorBody)))]
pub async fn events(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Response> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let mut after = match resume.or(q.after) {
        Some(a) => a,
        None => st.store.last_event_id().await?,
    };
    let slot = StreamSlot::take(&caller.name)?;
    let (mut tx, rx) = mpsc::channel::<Result<Event, Infallible>>(64);
    tokio::spawn(async move {
        let _slot = slot;
        let mut caller = caller;
        let mut changed = st.access_changed.subscribe();
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.reset();
        let mut poll = tokio::time::interval(POLL);
        loop {
            if tx.is_closed() {
                return;
            }
            tokio::select! {
                _ = recheck.tick() => {}
                r = changed.changed() => { if r.is_err() { return; } }
                _ = poll.tick() => {
                    let rows = match st.store.events_since(after, 100).await {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!(error = %e, "event stream: reading events failed");
                            continue;
                        }
                    };
                    for e in rows {
                        after = e.id;
                        if may_see(&st, &caller, &e)
                            && tx.send(Ok(event_of(&e, redacted_for(&st, &caller, &e)))).await.is_err()
                        {
                            return;
                        }
                    }
                    continue;
                }
            }
            // A right may have ended: the session must still be valid.
            match crate::auth::caller_of(&st, &headers).await {
                Ok(c) => caller = c,
                Err(e) => {
                    let _ = tx
                        .send(Ok(Event::default().event("end").data(
                            serde_json::json!({"reason": e.0.to_string()}).to_string(),
                        )))
                        .await;
                    return;
                }
            }
        }
    });
    Ok(Sse::new(rx)
        .keep_alive(KeepAlive::default())
        .into_response())
}
