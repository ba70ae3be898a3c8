//! Who is calling: the session cookie or bearer token becomes a [`Caller`] (or 401), and every
//! state-changing request with a cookie must carry the session's CSRF token (or 403). The
//! accounts themselves (hashing, sessions, lockout, TOTP) live in `custos-auth`; this module
//! only adapts them to HTTP.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use custos_core::access::Principal;
use custos_core::{Error, ErrorKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "custos_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub principal: Principal,
    pub user: custos_auth::User,
    /// Set for cookie sessions (CSRF applies); `None` for bearer tokens.
    pub csrf: Option<String>,
    pub session_id: Option<String>,
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn unauthenticated(msg: &str) -> ApiError {
    ApiError(Error::new(ErrorKind::Unauthenticated, msg))
}

/// Resolves the caller from the request headers.
pub async fn caller_of(st: &AppState, headers: &HeaderMap) -> ApiResult<Caller> {
    let now = st.clock.now();
    let auth = if let Some(t) = bearer_token(headers) {
        st.accounts.authenticate_bearer(&t, now).await?
    } else if let Some(t) = cookie_token(headers) {
        st.accounts.authenticate_session(&t, now).await?
    } else {
        return Err(unauthenticated(
            "not signed in: log in at /api/login or send an API token as `Authorization: Bearer …`",
        ));
    };
    let principal = auth.user.principal(now);
    Ok(Caller {
        name: auth.user.name.clone(),
        principal,
        user: auth.user,
        csrf: auth.csrf,
        session_id: Some(auth.session_id),
    })
}

/// Middleware on every protected route: authenticates (401) and checks CSRF (403).
pub async fn require_caller(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let caller = match caller_of(&st, req.headers()).await {
        Ok(c) => c,
        Err(e) => {
            // H4: a citizen view session's credentials are refused (403), not just unknown.
            let path = req.uri().path().to_owned();
            if let Some(r) = crate::citizen::refuse_elsewhere(&st, req.headers(), &path).await {
                return r;
            }
            return e.into_response();
        }
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && let Some(expected) = &caller.csrf {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            return ApiError(Error::new(
                ErrorKind::PermissionDenied,
                "missing or wrong X-CSRF-Token header: send the `csrf` value from /api/session",
            ))
            .into_response();
        }
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| unauthenticated("not signed in"))
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The current TOTP code, for accounts with a second factor.
    pub totp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RoleInScope {
    pub role: String,
    /// e.g. `local/main/default`.
    pub scope: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<RoleInScope>,
    pub expires: Option<String>,
    /// A watch operator on shift (D5).
    pub on_duty: bool,
    /// The password must be changed (POST /api/password) before anything else is allowed.
    pub must_change_password: bool,
    /// Disabled by an administrator (kept: the ledger names it).
    pub disabled: bool,
    /// Locked after failed logins until this time.
    pub locked_until: Option<String>,
    pub totp: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub user: UserView,
    /// Send as `X-CSRF-Token` on every POST/PUT/PATCH/DELETE.
    pub csrf: Option<String>,
}

pub fn user_view(u: &custos_auth::User, p: &Principal) -> UserView {
    UserView {
        name: u.name.clone(),
        roles: p
            .grants
            .iter()
            .map(|g| RoleInScope {
                role: g.role.as_str().to_owned(),
                scope: g.scope.to_string(),
            })
            .collect(),
        expires: p.expires_at.map(|t| t.to_rfc3339()),
        on_duty: p.on_duty_for.as_ref().is_some_and(|s| !s.is_empty()),
        must_change_password: u.must_change_password,
        disabled: u.disabled_at.is_some(),
        locked_until: u.locked_until.map(|t| t.to_rfc3339()),
        totp: u.totp_enabled,
    }
}

fn session_cookie(token: &str, max_age_s: i64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_s}"
    )
}

/// Log in with name and password (and TOTP when enrolled). Sets the session cookie.
#[utoipa::path(post, path = "/api/login", request_body = LoginRequest, tag = "session",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let now = st.clock.now();
    let l = st
        .accounts
        .login(
            &req.username,
            &req.password,
            req.totp.as_deref(),
            peer.ip(),
            now,
        )
        .await?;
    let p = l.user.principal(now);
    let body = SessionView {
        user: user_view(&l.user, &p),
        csrf: Some(l.csrf.clone()),
    };
    Ok((
        StatusCode::OK,
        [(
            header::SET_COOKIE,
            session_cookie(&l.token, (l.expires_at - now).num_seconds().max(0)),
        )],
        Json(body),
    )
        .into_response())
}

/// End the current session (the cookie is cleared and the session revoked on the server).
#[utoipa::path(post, path = "/api/logout", tag = "session", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(t) = cookie_token(&headers) {
        st.accounts.logout(&t).await?;
        st.access_changed();
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie("", 0))],
    )
        .into_response())
}

/// Who am I, and the CSRF token of this session.
#[utoipa::path(get, path = "/api/session", tag = "session", responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub async fn session(caller: Caller) -> Json<SessionView> {
    Json(SessionView {
        user: user_view(&caller.user, &caller.principal),
        csrf: caller.csrf.clone(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct DutyRequest {
    /// true: start a shift; false: end it.
    pub on: bool,
}

/// A watch operator starts or ends a shift; live view is allowed only on duty (D5). Logged.
#[utoipa::path(post, path = "/api/duty", request_body = DutyRequest, tag = "session",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn duty(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<DutyRequest>,
) -> ApiResult<Json<SessionView>> {
    let now = st.clock.now();
    if req.on {
        st.accounts.start_shift(&caller.name, now).await?;
    } else {
        st.accounts.end_shift(&caller.name, now).await?;
        st.access_changed();
    }
    let user = st.accounts.user(&caller.name).await?;
    let p = user.principal(now);
    Ok(Json(SessionView {
        user: user_view(&user, &p),
        csrf: caller.csrf.clone(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

/// Change one's own password (required after a generated or reset password: until then the
/// account has no rights). Every other session and every API token of the account end.
#[utoipa::path(post, path = "/api/password", request_body = PasswordChange, tag = "session",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    st.accounts
        .change_password_in(
            &caller.name,
            &req.old_password,
            &req.new_password,
            st.clock.now(),
            caller.session_id.as_deref(),
        )
        .await?;
    st.access_changed();
    Ok(StatusCode::NO_CONTENT)
}
