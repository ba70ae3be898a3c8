//! `GET /api/events`: the event table (suspicious reports D6, device alarms I4, released
//! requests for the police side) as Server-Sent Events, filtered by what the caller may see.
//! The stream re-checks the caller's session every [`RECHECK`] (and at once when a right may
//! have ended) and closes when it is gone.
//!
//! Who sees an event ([`may_see`]): an event of a camera, whoever may watch or play back that
//! camera; an event naming cameras in its body (`"cameras": [...]`), whoever may watch or play
//! back one of them; a `request_*` event (the police side), police officers and approvers, and
//! if it names cameras only those whose scope covers one. Anything else: nobody (deny by
//! default).

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
use crate::error::{ApiResult, ErrorBody};
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

/// Whether `caller` may see event `e` (see the module docs).
pub fn may_see(st: &AppState, caller: &Caller, e: &EventRow) -> bool {
    let watches = |camera: &str| {
        [Action::ViewLive, Action::Playback]
            .into_iter()
            .any(|a| st.may_camera(caller, a, camera))
    };
    if let Some(c) = &e.camera {
        return watches(c);
    }
    let cameras: Vec<String> = serde_json::from_str::<serde_json::Value>(&e.body)
        .ok()
        .and_then(|b| b.get("cameras").cloned())
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    if e.kind.starts_with("request_") {
        let police = [Role::PoliceOfficer, Role::PoliceApprover]
            .into_iter()
            .any(|r| caller.principal.has_role(r));
        return police && (cameras.is_empty() || cameras.iter().any(|c| watches(c)));
    }
    !cameras.is_empty() && cameras.iter().any(|c| watches(c))
}

fn event_of(e: &EventRow) -> Event {
    let body: serde_json::Value =
        serde_json::from_str(&e.body).unwrap_or(serde_json::Value::String(e.body.clone()));
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
    let (mut tx, rx) = mpsc::channel::<Result<Event, Infallible>>(64);
    tokio::spawn(async move {
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
                        if may_see(&st, &caller, &e) && tx.send(Ok(event_of(&e))).await.is_err() {
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
