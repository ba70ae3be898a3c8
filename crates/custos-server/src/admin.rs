//! Accounts, sessions and the audit log viewer. Account management is the administrator's
//! (E1 `manage_users`); the audit log is the auditor's (`view_audit_log`) — separation of
//! duties: neither gets the other's right, nor footage.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use custos_core::access::{Action, RoleGrant};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, UserView, user_view};
use crate::error::{ApiResult, ErrorBody, bad_request};
use crate::state::AppState;

/// All accounts (administrator).
#[utoipa::path(get, path = "/api/users", tag = "accounts",
    responses((status = 200, body = Vec<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn users(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<UserView>>> {
    st.authorize_org(&caller, Action::ManageUsers).await?;
    let now = st.clock.now();
    Ok(Json(
        st.accounts
            .users()
            .await?
            .iter()
            .map(|u| user_view(u, &u.principal(now)))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserRequest {
    pub name: String,
    pub password: String,
    /// One of administrator, watch_operator, maintainer, police_officer, police_approver,
    /// inspector, auditor, citizen_viewer.
    pub role: String,
    /// Scopes such as `local` or `local/main/default/cam1` (default: `local`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// RFC 3339; required for maintainers (E10) and citizen viewers.
    pub expires: Option<String>,
    /// public (default), internal, confidential or secret (E6); reading basic information
    /// needs confidential (A3).
    pub clearance: Option<String>,
}

/// Create an account (administrator). Recorded in the ledger.
#[utoipa::path(post, path = "/api/users", tag = "accounts", request_body = NewUserRequest,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_user(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    st.authorize_org(&caller, Action::ManageUsers).await?;
    let role: custos_core::access::Role = req.role.parse()?;
    let scopes = if req.scopes.is_empty() {
        vec![crate::state::DEFAULT_AREA.0.to_owned()]
    } else {
        req.scopes.clone()
    };
    let mut grants = Vec::new();
    for s in &scopes {
        grants.push(RoleGrant::new(role, s.parse()?));
    }
    let expires = match &req.expires {
        Some(e) => Some(
            chrono::DateTime::parse_from_rfc3339(e)
                .map_err(|x| bad_request(format!("`expires` {e:?} is not RFC 3339: {x}")))?
                .with_timezone(&chrono::Utc),
        ),
        None => None,
    };
    let clearance = match req.clearance.as_deref() {
        None => custos_core::access::Classification::Public,
        Some(c) => [
            custos_core::access::Classification::Public,
            custos_core::access::Classification::Internal,
            custos_core::access::Classification::Confidential,
            custos_core::access::Classification::Secret,
        ]
        .into_iter()
        .find(|x| x.as_str() == c)
        .ok_or_else(|| {
            bad_request(format!(
                "unknown clearance {c:?}: use public, internal, confidential or secret"
            ))
        })?,
    };
    let u = st
        .accounts
        .add_user(
            &caller.name,
            custos_auth::NewUser {
                expires,
                clearance,
                ..custos_auth::NewUser::new(req.name.clone(), grants, req.password.clone())
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(user_view(&u, &u.principal(st.clock.now()))),
    ))
}

/// Disable an account and end its sessions (administrator). Accounts are never deleted: the
/// ledger names them.
#[utoipa::path(delete, path = "/api/users/{name}", tag = "accounts", params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn disable_user(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    st.authorize_org(&caller, Action::ManageUsers).await?;
    st.accounts.disable_user(&caller.name, &name).await?;
    st.access_changed();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct SessionInfoView {
    pub id: String,
    pub user: String,
    pub created: String,
    pub last_seen: String,
    pub peer: Option<String>,
    /// This request's own session.
    pub current: bool,
}

/// Sessions: all (administrator) or the caller's own.
#[utoipa::path(get, path = "/api/sessions", tag = "accounts",
    responses((status = 200, body = Vec<SessionInfoView>), (status = 401, body = ErrorBody)))]
pub async fn sessions(
    State(st): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SessionInfoView>>> {
    let all = st.authorize_org(&caller, Action::ManageUsers).await.is_ok();
    let list = st
        .accounts
        .sessions(
            if all {
                None
            } else {
                Some(caller.name.as_str())
            },
            st.clock.now(),
        )
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionInfoView {
                current: caller.session_id.as_deref() == Some(s.id.as_str()),
                id: s.id,
                user: s.user,
                created: s.created_at.to_rfc3339(),
                last_seen: s.last_seen.to_rfc3339(),
                peer: s.peer,
            })
            .collect(),
    ))
}

/// End a session (administrator, or its own user).
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let own = st
        .accounts
        .sessions(Some(caller.name.as_str()), st.clock.now())
        .await?
        .iter()
        .any(|s| s.id == id);
    if !own {
        st.authorize_org(&caller, Action::ManageUsers).await?;
    }
    st.accounts.revoke_session(&caller.name, &id).await?;
    st.access_changed();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only entries at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Only entries before this time (RFC 3339).
    pub to: Option<String>,
    /// Exact actor name.
    pub actor: Option<String>,
    /// Action name, e.g. `View`, `Playback`, `Export`, `AccessDenied`.
    pub action: Option<String>,
    /// Substring of the object, e.g. `camera/cam1`.
    pub object: Option<String>,
    /// At most this many entries (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Only entries with a sequence number below this (paging backwards).
    pub before: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub purpose: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Entries in the ledger.
    pub total: u64,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<u64>,
}

/// The ledger, newest first, filtered (auditor; E2, E4). Reading it is itself recorded.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    st.authorize_org(&caller, Action::ViewAuditLog).await?;
    // E2: reading the audit log is itself recorded, before the read (fail closed).
    st.register(
        &caller,
        custos_ledger::Action::Other("AuditRead".into()),
        "ledger".into(),
        None,
        serde_json::json!({
            "from": q.from, "to": q.to, "actor": q.actor, "action": q.action,
            "object": q.object, "before": q.before, "limit": q.limit,
        }),
    )
    .await?;
    let ms = |name: &str, v: &Option<String>| -> ApiResult<Option<u64>> {
        v.as_deref()
            .map(|s| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .map(|t| t.timestamp_millis().max(0) as u64)
                    .map_err(|e| bad_request(format!("`{name}` {s:?} is not RFC 3339: {e}")))
            })
            .transpose()
    };
    let (from, to) = (ms("from", &q.from)?, ms("to", &q.to)?);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let journal = st.journal.clone();
    let total = journal.ledger().len();
    let (actor, action, object, before) = (
        q.actor.clone(),
        q.action.clone(),
        q.object.clone(),
        q.before,
    );
    let (entries, next_before) = tokio::task::spawn_blocking(move || -> custos_core::Result<_> {
        let mut out = Vec::new();
        let mut end = before.unwrap_or(total).min(total);
        const BATCH: u64 = 512;
        let mut next = None;
        'scan: while end > 0 {
            let start = end.saturating_sub(BATCH);
            let batch = journal.ledger().entries(start..end).map_err(|e| {
                custos_core::Error::new(
                    custos_core::ErrorKind::Internal,
                    format!("reading the ledger: {e}"),
                )
            })?;
            for e in batch.into_iter().rev() {
                if from.is_some_and(|f| e.time_unix_ms < f) {
                    // Entries are in time order: nothing older can match.
                    break 'scan;
                }
                let keep = to.is_none_or(|t| e.time_unix_ms < t)
                    && actor.as_ref().is_none_or(|a| &e.actor == a)
                    && action
                        .as_ref()
                        .is_none_or(|a| e.action.to_string().eq_ignore_ascii_case(a))
                    && object
                        .as_ref()
                        .is_none_or(|o| e.object.contains(o.as_str()));
                if keep {
                    if out.len() == limit {
                        next = Some(e.seq + 1);
                        break 'scan;
                    }
                    out.push(AuditEntry {
                        seq: e.seq,
                        time: chrono::DateTime::from_timestamp_millis(e.time_unix_ms as i64)
                            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                            .unwrap_or_default(),
                        actor: e.actor,
                        action: e.action.to_string(),
                        object: e.object,
                        purpose: e.purpose,
                        details: e.details,
                    });
                }
            }
            end = start;
        }
        Ok((out, next))
    })
    .await
    .map_err(|e| custos_core::Error::new(custos_core::ErrorKind::Internal, e.to_string()))??;
    Ok(Json(AuditPage {
        entries,
        total,
        next_before,
    }))
}
