//! Accounts of custos (E1, E4, E10, D5): who a request comes from. This crate owns accounts
//! and their role grants, password hashing, server-side sessions, API tokens, CSRF tokens,
//! login lockout and rate limiting, the optional TOTP second factor, and watch operators' duty
//! shifts. It must not serve HTTP (the server does, and calls [`Accounts`]) and must not decide
//! authorisation: that is `custos_core::access::decide`, asked with [`User::principal`].
//!
//! # API (what the server calls)
//!
//! - [`Accounts::open`]`(&Store, Journal)`; [`Accounts::bootstrap_admin`] on first start.
//! - [`Accounts::login`] → [`Login`] (cookie value, CSRF token, session id, [`User`]);
//!   [`Accounts::authenticate_session`] (cookie) and [`Accounts::authenticate_bearer`]
//!   (`Authorization: Bearer`) → [`Authenticated`]; [`Authenticated::check_csrf`] for every
//!   state-changing request; [`Accounts::logout`].
//! - Account management (the server first asks `decide(ManageUsers)`): [`Accounts::add_user`],
//!   [`Accounts::set_roles`], [`Accounts::disable_user`], [`Accounts::enable_user`],
//!   [`Accounts::set_password`], [`Accounts::change_password`] (own, with the old password),
//!   [`Accounts::unlock_user`], [`Accounts::users`], [`Accounts::user`], [`Accounts::sessions`],
//!   [`Accounts::revoke_session`], [`Accounts::purge_sessions`],
//!   [`Accounts::create_api_token`], [`Accounts::enroll_totp`], [`Accounts::confirm_totp`],
//!   [`Accounts::disable_totp`].
//! - Duty (D5): [`Accounts::start_shift`], [`Accounts::end_shift`].
//!
//! # Rules, with numbers ([`Settings::default`]; `docs/access.md` "Accounts and sessions")
//!
//! - Passwords: Argon2id, m = 19 MiB, t = 2, p = 1 (OWASP), 128-bit salt; policy 12–256
//!   characters, not containing the account name. Unknown names are checked against a dummy
//!   hash so they take as long as a wrong password and get the same message.
//! - Sessions: 256-bit random cookie value, stored only as its SHA-256; a CSRF token per
//!   session; idle timeout 30 min, absolute lifetime 12 h; revocable (logout, administrator,
//!   disabling the account, a password reset).
//! - API tokens: `cst_` + 256-bit random value, stored as SHA-256, default lifetime 90 days,
//!   revocable; no CSRF needed (not sent automatically by browsers).
//! - Lockout: 5 wrong passwords (or TOTP codes) within 15 min lock the account for 15 min
//!   (persisted); 20 failures from one peer address within 10 min block that address for the
//!   rest of the window (in memory).
//! - TOTP (RFC 6238): SHA-1, 6 digits, 30 s, ±1 step, no step accepted twice.
//! - First start: `admin` (administrator of the whole organisation [`DEFAULT_ORG`]); a
//!   generated one-time password must be changed at first login: until then
//!   [`User::principal`] carries no grants, so `decide` denies everything except what the
//!   server allows without the policy (changing the own password, logging out).
//! - Separation of duties is the policy's: administrators hold the administrator role only and
//!   `decide` gives it no footage rights.
//! - Every account change (add, roles, disable/enable, password, unlock, API token, session
//!   revocation, TOTP on/off) and every login and duty shift is written to the ledger
//!   (`AdminChange`, `Login`, `Duty`) *before* it takes effect; if the ledger cannot take the
//!   entry the change does not happen (fail closed, E4). Lockouts are recorded too
//!   (`LoginLocked`, best effort: the lock holds even if the entry cannot be written).

#![cfg_attr(not(test), forbid(clippy::print_stdout, clippy::print_stderr))]

mod accounts;
pub mod password;
pub mod secret;
pub mod totp;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use custos_core::access::{Classification, Principal, Role, RoleGrant, Scope};
use custos_core::{Error, ErrorKind, Result};
use serde::Serialize;

pub use accounts::Accounts;

/// The organisation id of the default scope: the bootstrap administrator's, and the one
/// `custos users add` uses when no `--scope` is given. Cameras without a placement belong to it.
pub const DEFAULT_ORG: &str = "local";

/// Name of the account created on first start.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The environment variable from which the server takes the first administrator's password on
/// first start, instead of generating a one-time password ([`Accounts::bootstrap_admin`]).
pub const ADMIN_PASSWORD_ENV: &str = "CUSTOS_ADMIN_PASSWORD";

/// Timeouts and limits. [`Default`] holds the documented values.
#[derive(Clone, Debug)]
pub struct Settings {
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after login, active or not.
    pub session_lifetime: Duration,
    /// `last_seen` is written at most this often per session (bounds writes; the idle
    /// timeout is exact to within this).
    pub touch_interval: Duration,
    /// Wrong passwords / codes within `failure_window` that lock the account.
    pub max_failures: u32,
    pub failure_window: Duration,
    /// How long a locked account stays locked.
    pub lockout: Duration,
    /// Failed logins from one peer address within `ip_window` that block the address.
    pub ip_max_failures: u32,
    pub ip_window: Duration,
    /// Lifetime of an API token created without an explicit end.
    pub token_lifetime: Duration,
    /// A duty shift counts as ended this long after it started, if nobody ended it (D5).
    pub max_shift: Duration,
    /// Ended sessions and tokens are kept this long for listings ([`Accounts::purge_sessions`]).
    pub keep_ended_sessions: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_timeout: Duration::minutes(30),
            session_lifetime: Duration::hours(12),
            touch_interval: Duration::seconds(60),
            max_failures: 5,
            failure_window: Duration::minutes(15),
            lockout: Duration::minutes(15),
            ip_max_failures: 20,
            ip_window: Duration::minutes(10),
            token_lifetime: Duration::days(90),
            max_shift: Duration::hours(12),
            keep_ended_sessions: Duration::days(30),
        }
    }
}

/// An account as callers see it (no secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub name: String,
    /// Serialized as `[{"role": "watch_operator", "scope": "local/s1"}]`.
    #[serde(serialize_with = "grants_as_text")]
    pub grants: Vec<RoleGrant>,
    pub clearance: Classification,
    pub valid_from: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Set for a generated one-time password or after an administrator's reset: the account
    /// has no rights until its owner changes the password.
    pub must_change_password: bool,
    pub totp_enabled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    /// Start of the open duty shift (D5).
    pub on_shift_since: Option<DateTime<Utc>>,
    /// When the open shift stops counting (start + [`Settings::max_shift`]).
    pub shift_ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

fn grants_as_text<S: serde::Serializer>(g: &[RoleGrant], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    #[derive(Serialize)]
    struct G<'a> {
        role: &'a str,
        scope: String,
    }
    let mut seq = s.serialize_seq(Some(g.len()))?;
    for x in g {
        seq.serialize_element(&G {
            role: x.role.as_str(),
            scope: x.scope.to_string(),
        })?;
    }
    seq.end()
}

impl User {
    /// The principal for `custos_core::access::decide`: the account's grants, clearance and
    /// window; no grants while disabled or while the password must be changed; on duty (D5)
    /// for the scopes of its `watch_operator` grants while a shift is open.
    pub fn principal(&self, now: DateTime<Utc>) -> Principal {
        let mut p = Principal::new(&self.name)
            .with_clearance(self.clearance)
            .with_window(self.valid_from, self.expires_at);
        if self.disabled_at.is_none() && !self.must_change_password {
            p.grants = self.grants.clone();
        }
        if self.on_duty(now) {
            let scopes: BTreeSet<Scope> = p
                .grants
                .iter()
                .filter(|g| g.role == Role::WatchOperator)
                .map(|g| g.scope.clone())
                .collect();
            p.on_duty_for = Some(scopes);
        }
        p
    }

    /// A duty shift is open and has not run past its limit.
    pub fn on_duty(&self, now: DateTime<Utc>) -> bool {
        match (self.on_shift_since, self.shift_ends_at) {
            (Some(s), Some(e)) => s <= now && now < e,
            _ => false,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// The account as `GET /api/session` and `GET /api/users` show it (docs/api.md).
    pub fn view(&self, now: DateTime<Utc>) -> UserView {
        UserView {
            name: self.name.clone(),
            roles: self
                .grants
                .iter()
                .map(|g| GrantView {
                    role: g.role.as_str(),
                    role_zh: g.role.zh(),
                    scope: g.scope.to_string(),
                })
                .collect(),
            clearance: self.clearance.as_str(),
            expires: self.expires_at.map(api_time),
            disabled: self.disabled_at.is_some(),
            locked_until: self.locked_until.filter(|l| *l > now).map(api_time),
            must_change_password: self.must_change_password,
            totp: self.totp_enabled,
            on_duty: self.on_duty(now),
        }
    }
}

/// RFC 3339 UTC with milliseconds, the time format of the HTTP API.
pub fn api_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// One role grant as the HTTP API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantView {
    pub role: &'static str,
    /// The Chinese name for the console.
    pub role_zh: &'static str,
    /// `org[/system[/area[/camera]]]`.
    pub scope: String,
}

/// An account as the HTTP API shows it: `{name, roles: [{role, role_zh, scope}], clearance,
/// expires?, disabled, locked_until?, must_change_password, totp, on_duty}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<GrantView>,
    pub clearance: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
    pub must_change_password: bool,
    pub totp: bool,
    pub on_duty: bool,
}

/// An account to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub name: String,
    pub grants: Vec<RoleGrant>,
    pub clearance: Classification,
    pub valid_from: Option<DateTime<Utc>>,
    /// Required for maintainers (E10) and citizen viewers (H4).
    pub expires: Option<DateTime<Utc>>,
    pub password: String,
}

impl NewUser {
    /// An account with public clearance and no window.
    pub fn new(
        name: impl Into<String>,
        grants: Vec<RoleGrant>,
        password: impl Into<String>,
    ) -> Self {
        NewUser {
            name: name.into(),
            grants,
            clearance: Classification::Public,
            valid_from: None,
            expires: None,
            password: password.into(),
        }
    }
}

/// How a request authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Browser session cookie: state-changing requests need the CSRF token.
    Session,
    /// `Authorization: Bearer` API token.
    Token,
}

/// A successful login.
#[derive(Clone, Debug)]
pub struct Login {
    /// The secret cookie value (`custos_session`); shown once, stored only as its hash.
    pub token: String,
    /// The CSRF token of this session (`X-CSRF-Token`).
    pub csrf: String,
    pub session_id: String,
    /// The absolute end of the session.
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// An authenticated request.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user: User,
    pub session_id: String,
    /// The session's CSRF token (`None` for API tokens).
    pub csrf: Option<String>,
    pub via: Via,
}

impl Authenticated {
    /// The principal to ask `decide` with ([`User::principal`]).
    pub fn principal(&self, now: DateTime<Utc>) -> Principal {
        self.user.principal(now)
    }

    /// For requests that change something (POST, PUT, PATCH, DELETE): a session must send its
    /// CSRF token in `X-CSRF-Token` (compared in constant time); API tokens need none.
    pub fn check_csrf(&self, header: Option<&str>) -> Result<()> {
        match (&self.csrf, self.via) {
            (_, Via::Token) => Ok(()),
            (Some(want), Via::Session) if header.is_some_and(|h| secret::ct_eq(h, want)) => Ok(()),
            _ => Err(Error::new(
                ErrorKind::PermissionDenied,
                "missing or wrong X-CSRF-Token header: send the csrf value from the login \
                 answer or GET /api/session",
            )),
        }
    }
}

/// A live session or API token, for listing and revoking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub user: String,
    pub via: Via,
    pub label: Option<String>,
    pub peer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When it ends if nothing happens: idle or absolute end for sessions, the end of a token.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new API token: the secret is shown once.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests;
