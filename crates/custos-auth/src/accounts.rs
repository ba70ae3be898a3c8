//! [`Accounts`]: the account service over the store and the ledger.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use custos_core::access::{Classification, Role, RoleGrant, Scope, validate};
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::{
    AccountRow, LoginFailures, NewAccount, NewSession, SessionKind, SessionRow, Store,
};
use serde_json::{Value, json};

use crate::{
    Authenticated, BOOTSTRAP_ADMIN, DEFAULT_ORG, Login, NewToken, NewUser, SessionInfo, Settings,
    User, Via, password, secret, totp,
};

/// The account service. Cheap to clone; share one per process (the per-address rate limit
/// lives in memory).
#[derive(Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    journal: Journal,
    settings: Settings,
    /// Hash checked for unknown names, so they cost what a wrong password costs.
    dummy_hash: String,
    /// Recent failed logins per peer address.
    ip_failures: Mutex<HashMap<IpAddr, VecDeque<DateTime<Utc>>>>,
    /// Serialises the read-modify-write of failure counters, and makes a login wait for the
    /// counter write of an earlier failure before it reads the account.
    failure_lock: Arc<tokio::sync::Mutex<()>>,
    /// One password check at a time per account name: the lock is read, the password
    /// checked and the failure counted as one step, so that parallel guesses cannot all be
    /// tried before the count reaches the limit.
    name_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

fn t90k(t: DateTime<Utc>) -> Time90k {
    Time90k::from_datetime(t)
}

fn dt(t: Time90k) -> DateTime<Utc> {
    t.to_datetime()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn unauthenticated(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unauthenticated, msg)
}

/// The one answer for an unknown name and a wrong password.
fn bad_credentials() -> Error {
    unauthenticated("wrong user name or password")
}

fn locked(until: DateTime<Utc>) -> Error {
    Error::new(
        ErrorKind::ResourceExhausted,
        format!(
            "account locked after repeated failed logins until {}; try again then, or ask an \
             administrator to unlock it",
            rfc3339(until)
        ),
    )
}

fn not_found(name: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("no account named {name:?}; see `custos users list`"),
    )
}

/// Account names: 1–64 letters (any script), digits, `.`, `_`, `-`, `@`; not starting with `-`.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "bad account name {name:?}: use 1–64 letters, digits, '.', '_', '-' or '@', \
                 not starting with '-'"
            ),
        ))
    }
}

fn grants_json(g: &[RoleGrant]) -> Value {
    Value::Array(
        g.iter()
            .map(|g| json!({"role": g.role.as_str(), "scope": g.scope.to_string()}))
            .collect(),
    )
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Internal, format!("worker thread failed: {e}")))?
}

impl Accounts {
    /// The account service over `store`, recording changes in `journal`. A ledger is required:
    /// account changes that cannot be recorded do not happen (E4).
    pub async fn open(store: &Store, journal: Journal) -> Result<Accounts> {
        Self::with_settings(store, journal, Settings::default()).await
    }

    pub async fn with_settings(
        store: &Store,
        journal: Journal,
        settings: Settings,
    ) -> Result<Accounts> {
        let dummy_hash = blocking(|| password::hash(&secret::new_secret()?)).await?;
        Ok(Accounts {
            inner: Arc::new(Inner {
                store: store.clone(),
                journal,
                settings,
                dummy_hash,
                ip_failures: Mutex::new(HashMap::new()),
                failure_lock: Arc::new(tokio::sync::Mutex::new(())),
                name_locks: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Writes a ledger entry and returns its seq; Unavailable if it could not be written, and
    /// then the caller must not make the change.
    async fn record(
        &self,
        by: &str,
        action: Action,
        object: String,
        details: Value,
    ) -> Result<u64> {
        let j = self.inner.journal.clone();
        let what = format!(
            "{} of {object}",
            details["change"].as_str().unwrap_or("change")
        );
        let e = NewEntry::new(by, action, object).details(details);
        blocking(move || j.record(e)).await.map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!(
                    "{what} refused: it could not be recorded in the ledger (E4): {}; nothing \
                     was changed, try again when the ledger is writable",
                    e.msg()
                ),
            )
        })
    }

    async fn record_change(
        &self,
        by: &str,
        user: &str,
        change: &str,
        mut details: Value,
    ) -> Result<u64> {
        details["change"] = json!(change);
        details["user"] = json!(user);
        self.record(by, Action::AdminChange, format!("user/{user}"), details)
            .await
    }

    fn to_user(&self, a: &AccountRow) -> User {
        let shift = a.shift_started.map(dt);
        User {
            name: a.name.clone(),
            grants: a.grants.clone(),
            clearance: a.clearance,
            valid_from: a.valid_from.map(dt),
            expires_at: a.expires.map(dt),
            disabled_at: a.disabled.map(dt),
            must_change_password: a.must_change_password,
            totp_enabled: a.totp_enabled,
            locked_until: a.locked_until.map(dt),
            on_shift_since: shift,
            shift_ends_at: shift.map(|s| s + self.inner.settings.max_shift),
            created_at: dt(a.created),
            created_by: a.created_by.clone(),
        }
    }

    async fn account(&self, name: &str) -> Result<AccountRow> {
        self.store()
            .account_by_name(name)
            .await?
            .ok_or_else(|| not_found(name))
    }

    // ---- accounts ----

    /// On first start (no account at all) creates [`BOOTSTRAP_ADMIN`], administrator of the
    /// whole organisation [`DEFAULT_ORG`] with confidential clearance (A3: configuration holds
    /// basic information). With `password` (from an environment variable or standard input)
    /// that password is used and kept; without, a one-time password is generated and returned
    /// for printing once, and must be changed at first login. `Ok(None)` if accounts exist.
    pub async fn bootstrap_admin(&self, password: Option<&str>) -> Result<Option<String>> {
        if self.store().count_accounts().await? > 0 {
            return Ok(None);
        }
        let (pw, generated) = match password {
            Some(p) => (p.to_owned(), false),
            None => (password::generate()?, true),
        };
        password::check_policy(BOOTSTRAP_ADMIN, &pw)?;
        let grants = vec![RoleGrant::new(
            Role::Administrator,
            Scope::organisation(DEFAULT_ORG),
        )];
        self.create(
            "custos (first start)",
            NewUser {
                clearance: Classification::Confidential,
                ..NewUser::new(BOOTSTRAP_ADMIN, grants, pw.clone())
            },
            generated,
        )
        .await?;
        Ok(generated.then_some(pw))
    }

    /// Creates an account after checking its name, the password policy and the policy's
    /// account rules (`access::validate`: maintainers and citizen viewers need an end date
    /// (E10, H4), maintainers at most system scope, no administrator + auditor). `by` is who
    /// does it (for the ledger).
    ///
    /// The password was chosen by `by`, not by the account's owner: it must be changed at the
    /// first login, and until then the account has no rights (so that the administrator who
    /// set it cannot use the account unnoticed: separation of duties).
    pub async fn add_user(&self, by: &str, u: NewUser) -> Result<User> {
        let must_change = by != u.name;
        self.create(by, u, must_change).await
    }

    /// Creates an account whose password need not be changed at first login: for the node's
    /// operator at the command line (`custos users add`), who may write the data directory
    /// and so can change anything anyway. The ledger entry says so.
    pub async fn add_user_local(&self, by: &str, u: NewUser) -> Result<User> {
        self.create(by, u, false).await
    }

    async fn create(&self, by: &str, u: NewUser, must_change: bool) -> Result<User> {
        check_name(&u.name)?;
        self.check_grants(&u.name, &u.grants, u.clearance, u.valid_from, u.expires)?;
        if let Some(e) = u.expires
            && e <= Utc::now()
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the end date {} is in the past", rfc3339(e)),
            ));
        }
        password::check_policy(&u.name, &u.password)?;
        if self.store().account_by_name(&u.name).await?.is_some() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("an account named {:?} already exists", u.name),
            ));
        }
        let pw = u.password.clone();
        let hash = blocking(move || password::hash(&pw)).await?;
        self.record_change(
            by,
            &u.name,
            "add",
            json!({
                "grants": grants_json(&u.grants),
                "clearance": u.clearance.as_str(),
                "valid_from": u.valid_from.map(rfc3339),
                "expires": u.expires.map(rfc3339),
                "must_change_password": must_change,
            }),
        )
        .await?;
        let id = self
            .store()
            .insert_account(&NewAccount {
                name: u.name.clone(),
                password_hash: hash,
                must_change_password: must_change,
                clearance: u.clearance,
                valid_from: u.valid_from.map(t90k),
                expires: u.expires.map(t90k),
                created: t90k(Utc::now()),
                created_by: by.to_owned(),
                grants: u.grants.clone(),
            })
            .await?;
        Ok(self.to_user(&self.store().account_by_id(id).await?))
    }

    fn check_grants(
        &self,
        name: &str,
        grants: &[RoleGrant],
        clearance: Classification,
        valid_from: Option<DateTime<Utc>>,
        expires: Option<DateTime<Utc>>,
    ) -> Result<()> {
        if grants.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("account {name:?} needs at least one role (--role)"),
            ));
        }
        let mut p = custos_core::access::Principal::new(name)
            .with_clearance(clearance)
            .with_window(valid_from, expires);
        p.grants = grants.to_vec();
        let problems = validate(&p);
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|r| r.to_string()).collect();
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("account {name:?} refused: {}", list.join("; ")),
            ));
        }
        if let (Some(f), Some(e)) = (valid_from, expires)
            && e <= f
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("account {name:?}: the end date is not after the start date"),
            ));
        }
        Ok(())
    }

    /// Every account, by name.
    pub async fn users(&self) -> Result<Vec<User>> {
        Ok(self
            .store()
            .accounts()
            .await?
            .iter()
            .map(|a| self.to_user(a))
            .collect())
    }

    /// One account; NotFound if there is none of that name.
    pub async fn user(&self, name: &str) -> Result<User> {
        Ok(self.to_user(&self.account(name).await?))
    }

    /// Replaces an account's roles, clearance and window (validated as in [`Self::add_user`]).
    pub async fn set_roles(
        &self,
        by: &str,
        name: &str,
        grants: Vec<RoleGrant>,
        clearance: Classification,
        valid_from: Option<DateTime<Utc>>,
        expires: Option<DateTime<Utc>>,
    ) -> Result<User> {
        let a = self.account(name).await?;
        self.check_grants(name, &grants, clearance, valid_from, expires)?;
        if a.grants.iter().any(|g| g.role == Role::Administrator)
            && !grants.iter().any(|g| g.role == Role::Administrator)
        {
            self.keep_an_administrator(&a).await?;
        }
        self.record_change(
            by,
            name,
            "roles",
            json!({
                "old": {"grants": grants_json(&a.grants), "clearance": a.clearance.as_str(),
                        "valid_from": a.valid_from.map(|t| rfc3339(dt(t))),
                        "expires": a.expires.map(|t| rfc3339(dt(t)))},
                "grants": grants_json(&grants),
                "clearance": clearance.as_str(),
                "valid_from": valid_from.map(rfc3339),
                "expires": expires.map(rfc3339),
            }),
        )
        .await?;
        self.store()
            .set_account_grants(
                a.id,
                &grants,
                clearance,
                valid_from.map(t90k),
                expires.map(t90k),
            )
            .await?;
        self.user(name).await
    }

    /// Refuses to remove the last enabled administrator (nobody could manage accounts).
    async fn keep_an_administrator(&self, a: &AccountRow) -> Result<()> {
        let others = self
            .store()
            .accounts()
            .await?
            .into_iter()
            .filter(|o| {
                o.id != a.id
                    && o.disabled.is_none()
                    && o.grants.iter().any(|g| g.role == Role::Administrator)
            })
            .count();
        if others == 0 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "{:?} is the last enabled administrator; add another administrator first",
                    a.name
                ),
            ));
        }
        Ok(())
    }

    /// Disables an account: no login, and every session and API token of it is revoked.
    pub async fn disable_user(&self, by: &str, name: &str) -> Result<()> {
        let a = self.account(name).await?;
        if a.disabled.is_some() {
            return Ok(());
        }
        if a.grants.iter().any(|g| g.role == Role::Administrator) {
            self.keep_an_administrator(&a).await?;
        }
        self.record_change(by, name, "disable", json!({})).await?;
        let now = t90k(Utc::now());
        self.store().set_account_disabled(a.id, Some(now)).await?;
        self.store()
            .revoke_account_sessions(a.id, true, now, by)
            .await?;
        Ok(())
    }

    pub async fn enable_user(&self, by: &str, name: &str) -> Result<()> {
        let a = self.account(name).await?;
        if a.disabled.is_none() {
            return Ok(());
        }
        self.record_change(by, name, "enable", json!({})).await?;
        self.store().set_account_disabled(a.id, None).await
    }

    /// Sets a new password. Every session and API token of the account ends (someone who
    /// knew the old password keeps nothing). Set by someone else (an administrator's reset),
    /// it must be changed at the owner's next login.
    pub async fn set_password(&self, by: &str, name: &str, new_password: &str) -> Result<()> {
        self.set_password_keeping(by, name, new_password, None)
            .await
    }

    /// [`Self::set_password`], keeping the session `keep` (the owner's own, when they change
    /// it themselves) and ending every other session and token.
    async fn set_password_keeping(
        &self,
        by: &str,
        name: &str,
        new_password: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        let a = self.account(name).await?;
        password::check_policy(name, new_password)?;
        let reset = by != name;
        let pw = new_password.to_owned();
        let hash = blocking(move || password::hash(&pw)).await?;
        self.record_change(
            by,
            name,
            "password",
            json!({"reset_by_other": reset, "must_change_password": reset}),
        )
        .await?;
        self.store()
            .set_account_password(a.id, &hash, reset)
            .await?;
        self.store()
            .revoke_account_sessions_except(a.id, keep, t90k(Utc::now()), by)
            .await?;
        Ok(())
    }

    /// The owner changes their own password, proving the old one (a wrong one counts towards
    /// the lockout). Clears "must change password".
    pub async fn change_password(
        &self,
        name: &str,
        old_password: &str,
        new_password: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.change_password_in(name, old_password, new_password, now, None)
            .await
    }

    /// [`Self::change_password`] from the session `session` (which stays open; every other
    /// session and API token of the account ends).
    pub async fn change_password_in(
        &self,
        name: &str,
        old_password: &str,
        new_password: &str,
        now: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<()> {
        let _serial = self.name_lock(name).await;
        let a = self
            .account_for_login(name)
            .await?
            .ok_or_else(|| not_found(name))?;
        if let Some(u) = a.locked_until.map(dt)
            && u > now
        {
            return Err(locked(u));
        }
        if !self.verify(old_password, &a.password_hash).await? {
            self.account_failed(a.id, now).await?;
            return Err(unauthenticated("the current password is wrong"));
        }
        Self::check_active(&a, now)?;
        if old_password == new_password {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the new password must differ from the current one",
            ));
        }
        self.set_password_keeping(name, name, new_password, session)
            .await
    }

    /// Clears a lockout.
    pub async fn unlock_user(&self, by: &str, name: &str) -> Result<()> {
        let a = self.account(name).await?;
        self.record_change(by, name, "unlock", json!({})).await?;
        let _g = self.inner.failure_lock.lock().await;
        self.store()
            .set_login_failures(a.id, LoginFailures::default())
            .await
    }

    // ---- login ----

    async fn verify(&self, password: &str, hash: &str) -> Result<bool> {
        let (p, h) = (password.to_owned(), hash.to_owned());
        blocking(move || password::verify(&p, &h)).await
    }

    /// Blocks an address with too many recent failures.
    fn check_peer(&self, peer: IpAddr, now: DateTime<Utc>) -> Result<()> {
        let s = &self.inner.settings;
        let mut m = self.inner.ip_failures.lock().expect("rate limit lock");
        if let Some(q) = m.get_mut(&peer) {
            while q.front().is_some_and(|t| *t + s.ip_window <= now) {
                q.pop_front();
            }
            if q.len() >= s.ip_max_failures as usize {
                let until = q[q.len() - s.ip_max_failures as usize] + s.ip_window;
                return Err(Error::new(
                    ErrorKind::ResourceExhausted,
                    format!(
                        "too many failed logins from {peer}; try again after {}",
                        rfc3339(until)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn peer_failed(&self, peer: IpAddr, now: DateTime<Utc>) {
        let window = self.inner.settings.ip_window;
        let mut m = self.inner.ip_failures.lock().expect("rate limit lock");
        if m.len() > 10_000 {
            m.retain(|_, q| q.back().is_some_and(|t| *t + window > now));
        }
        m.entry(peer).or_default().push_back(now);
    }

    /// Counts a failure against the account; locks it at the limit and returns the lock's end.
    /// The counter is written in the background, holding the failure lock: the answer must not
    /// wait for the disk, or a wrong password would take longer than an unknown name (whose
    /// failure writes nothing), and the next login waits for the lock before reading.
    async fn account_failed(&self, id: i64, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let s = &self.inner.settings;
        let guard = self.inner.failure_lock.clone().lock_owned().await;
        let a = self.store().account_by_id(id).await?;
        let mut f = LoginFailures {
            count: a.failed_logins,
            since: a.failed_since,
            locked_until: None,
        };
        // A lock in force stays: a failure never shortens or clears it.
        let standing = a.locked_until.filter(|u| dt(*u) > now);
        if let Some(u) = standing {
            drop(guard);
            return Ok(Some(dt(u)));
        }
        if f.since.is_none_or(|t| dt(t) + s.failure_window <= now) {
            f = LoginFailures {
                count: 0,
                since: Some(t90k(now)),
                locked_until: None,
            };
        }
        f.count += 1;
        let mut until = None;
        if f.count >= s.max_failures as i64 {
            let u = now + s.lockout;
            until = Some(u);
            f = LoginFailures {
                count: 0,
                since: None,
                locked_until: Some(t90k(u)),
            };
            tracing::warn!(account = %a.name, until = %rfc3339(u), "account locked after failed logins");
        }
        let store = self.store().clone();
        let journal = self.inner.journal.clone();
        tokio::spawn(async move {
            let _guard = guard;
            if let Err(e) = store.set_login_failures(id, f).await {
                tracing::error!(account = %a.name, error = %e, "failed login not counted");
            }
            if let Some(u) = until {
                // A run record of the lockout; best effort: the lock holds either way.
                let e = NewEntry::new(
                    "custos",
                    Action::Other("LoginLocked".into()),
                    format!("user/{}", a.name),
                )
                .details(json!({"change": "locked", "user": a.name, "until": rfc3339(u)}));
                if let Err(e) = blocking(move || journal.record(e)).await {
                    tracing::error!(error = %e, "lockout not recorded in the ledger");
                }
            }
        });
        Ok(until)
    }

    /// Waits until failure counts of this instance are written (tests read the store directly).
    #[cfg(test)]
    pub(crate) async fn settled(&self) {
        drop(self.inner.failure_lock.lock().await);
    }

    /// Holds the per-name lock of `name` (see `Inner::name_locks`).
    async fn name_lock(&self, name: &str) -> NameGuard {
        let m = {
            let mut l = self.inner.name_locks.lock().expect("name locks");
            l.entry(name.to_owned()).or_default().clone()
        };
        let guard = m.clone().lock_owned().await;
        NameGuard {
            accounts: self.clone(),
            name: name.to_owned(),
            guard: Some(guard),
        }
    }

    /// The account of that name, read after any pending failure count is written.
    async fn account_for_login(&self, name: &str) -> Result<Option<AccountRow>> {
        let _g = self.inner.failure_lock.lock().await;
        self.store().account_by_name(name).await
    }

    /// Disabled, expired or not yet valid accounts may not log in or use sessions.
    fn check_active(a: &AccountRow, now: DateTime<Utc>) -> Result<()> {
        if let Some(d) = a.disabled {
            return Err(unauthenticated(format!(
                "account {:?} was disabled at {}; ask an administrator",
                a.name,
                rfc3339(dt(d))
            )));
        }
        if let Some(e) = a.expires.map(dt)
            && now >= e
        {
            let contractor = a.grants.iter().any(|g| g.role == Role::Maintainer);
            return Err(unauthenticated(if contractor {
                format!(
                    "E10: contractor account {:?} expired at {}; ask an administrator to extend it",
                    a.name,
                    rfc3339(e)
                )
            } else {
                format!(
                    "account {:?} expired at {}; ask an administrator to extend it",
                    a.name,
                    rfc3339(e)
                )
            }));
        }
        if let Some(f) = a.valid_from.map(dt)
            && now < f
        {
            return Err(unauthenticated(format!(
                "account {:?} is valid only from {}",
                a.name,
                rfc3339(f)
            )));
        }
        Ok(())
    }

    /// Logs in: checks the peer's rate limit, the lockout, the password (unknown names cost
    /// the same and get the same answer), the account's state and window, and the TOTP code if
    /// the account has one; then opens a session and records the login in the ledger.
    ///
    /// Errors: Unauthenticated (wrong name or password; disabled, expired; TOTP missing or
    /// wrong), ResourceExhausted (account locked or address blocked, saying until when),
    /// Unavailable (the ledger cannot record the login).
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        totp_code: Option<&str>,
        peer: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Login> {
        self.check_peer(peer, now)?;
        let _serial = self.name_lock(name).await;
        let Some(a) = self.account_for_login(name).await? else {
            self.verify(password, &self.inner.dummy_hash).await?;
            self.peer_failed(peer, now);
            return Err(bad_credentials());
        };
        if let Some(u) = a.locked_until.map(dt)
            && u > now
        {
            return Err(locked(u));
        }
        if !self.verify(password, &a.password_hash).await? {
            self.peer_failed(peer, now);
            if let Some(u) = self.account_failed(a.id, now).await? {
                return Err(locked(u));
            }
            return Err(bad_credentials());
        }
        Self::check_active(&a, now)?;
        if a.totp_enabled {
            let Some(code) = totp_code.filter(|c| !c.trim().is_empty()) else {
                return Err(unauthenticated(
                    "second factor needed: send the 6-digit code of the authenticator app (totp)",
                ));
            };
            let secret = a.totp_secret.clone().unwrap_or_default();
            let ok = match totp::matching_step(&secret, code, now.timestamp()) {
                Some(step) => self.store().use_totp_step(a.id, step).await?,
                None => false,
            };
            if !ok {
                self.peer_failed(peer, now);
                if let Some(u) = self.account_failed(a.id, now).await? {
                    return Err(locked(u));
                }
                return Err(unauthenticated("wrong or already used TOTP code"));
            }
        }
        if a.failed_logins != 0 || a.locked_until.is_some() {
            self.store()
                .set_login_failures(a.id, LoginFailures::default())
                .await?;
        }
        let token = secret::new_secret()?;
        let csrf = secret::new_secret()?;
        let session_id = secret::new_id()?;
        let expires_at = now + self.inner.settings.session_lifetime;
        self.record(
            name,
            Action::Other("Login".into()),
            format!("session/{session_id}"),
            json!({"change": "login", "user": name, "peer": peer.to_string(),
                   "totp": a.totp_enabled, "expires": rfc3339(expires_at)}),
        )
        .await?;
        self.store()
            .insert_session(&NewSession {
                id: session_id.clone(),
                token_sha256: secret::digest(&token),
                account_id: a.id,
                kind: SessionKind::Session,
                label: None,
                csrf: Some(csrf.clone()),
                peer: Some(peer.to_string()),
                created: t90k(now),
                expires: Some(t90k(expires_at)),
            })
            .await?;
        let a = self.store().account_by_id(a.id).await?;
        Ok(Login {
            token,
            csrf,
            session_id,
            expires_at,
            user: self.to_user(&a),
        })
    }

    /// Confirms a person's identity for a two-person action (the second person of a hold
    /// release, E5): the same checks as [`Accounts::login`] — lockout, password (unknown names
    /// cost the same and get the same answer), the account's state and window, the TOTP code
    /// if the account has one — with failures counted towards the lockout, but no session is
    /// opened. Returns the account.
    pub async fn confirm(
        &self,
        name: &str,
        password: &str,
        totp_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<User> {
        let _serial = self.name_lock(name).await;
        let Some(a) = self.account_for_login(name).await? else {
            self.verify(password, &self.inner.dummy_hash).await?;
            return Err(bad_credentials());
        };
        if let Some(u) = a.locked_until.map(dt)
            && u > now
        {
            return Err(locked(u));
        }
        if !self.verify(password, &a.password_hash).await? {
            if let Some(u) = self.account_failed(a.id, now).await? {
                return Err(locked(u));
            }
            return Err(bad_credentials());
        }
        Self::check_active(&a, now)?;
        if a.totp_enabled {
            let Some(code) = totp_code.filter(|c| !c.trim().is_empty()) else {
                return Err(unauthenticated(format!(
                    "account {name:?} has a second factor: give its current 6-digit TOTP code too"
                )));
            };
            let secret = a.totp_secret.clone().unwrap_or_default();
            let ok = match totp::matching_step(&secret, code, now.timestamp()) {
                Some(step) => self.store().use_totp_step(a.id, step).await?,
                None => false,
            };
            if !ok {
                if let Some(u) = self.account_failed(a.id, now).await? {
                    return Err(locked(u));
                }
                return Err(unauthenticated("wrong or already used TOTP code"));
            }
        }
        if a.failed_logins != 0 || a.locked_until.is_some() {
            self.store()
                .set_login_failures(a.id, LoginFailures::default())
                .await?;
        }
        Ok(self.to_user(&self.store().account_by_id(a.id).await?))
    }

    async fn authenticate(
        &self,
        token: &str,
        kind: SessionKind,
        now: DateTime<Utc>,
    ) -> Result<Authenticated> {
        let s = self.inner.settings.clone();
        let Some(row) = self
            .store()
            .session_by_token_hash(&secret::digest(token))
            .await?
            .filter(|r| r.kind == kind)
        else {
            return Err(unauthenticated(match kind {
                SessionKind::Session => "not logged in (unknown session); log in again",
                SessionKind::Token => "unknown API token",
            }));
        };
        let what = match kind {
            SessionKind::Session => "session",
            SessionKind::Token => "API token",
        };
        if let Some(r) = row.revoked {
            return Err(unauthenticated(format!(
                "{what} ended at {} (logged out or revoked){}",
                rfc3339(dt(r)),
                if kind == SessionKind::Session {
                    "; log in again"
                } else {
                    ""
                }
            )));
        }
        if kind == SessionKind::Session && now >= dt(row.last_seen) + s.idle_timeout {
            return Err(unauthenticated(format!(
                "session expired after {} min without activity; log in again",
                s.idle_timeout.num_minutes()
            )));
        }
        if let Some(e) = row.expires.map(dt)
            && now >= e
        {
            return Err(unauthenticated(match kind {
                SessionKind::Session => format!(
                    "session reached its {} h limit at {}; log in again",
                    s.session_lifetime.num_hours(),
                    rfc3339(e)
                ),
                SessionKind::Token => format!("API token expired at {}", rfc3339(e)),
            }));
        }
        let a = self.store().account_by_id(row.account_id).await?;
        Self::check_active(&a, now)?;
        if now - dt(row.last_seen) >= s.touch_interval {
            self.store().touch_session(&row.id, t90k(now)).await?;
        }
        Ok(Authenticated {
            user: self.to_user(&a),
            session_id: row.id,
            csrf: row.csrf,
            via: match kind {
                SessionKind::Session => Via::Session,
                SessionKind::Token => Via::Token,
            },
        })
    }

    /// The session of a `custos_session` cookie value: Unauthenticated if unknown, revoked,
    /// idle for [`Settings::idle_timeout`], past [`Settings::session_lifetime`], or if the
    /// account is disabled or outside its window.
    pub async fn authenticate_session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Authenticated> {
        self.authenticate(token, SessionKind::Session, now).await
    }

    /// The API token of an `Authorization: Bearer` header (same checks; tokens have no idle
    /// timeout, only their end date).
    pub async fn authenticate_bearer(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Authenticated> {
        self.authenticate(token, SessionKind::Token, now).await
    }

    /// Ends the session of a cookie value (unknown or already ended: nothing to do).
    pub async fn logout(&self, token: &str) -> Result<()> {
        if let Some(row) = self
            .store()
            .session_by_token_hash(&secret::digest(token))
            .await?
            .filter(|r| r.kind == SessionKind::Session)
        {
            self.store()
                .revoke_session(&row.id, t90k(Utc::now()), &row.account_name)
                .await?;
        }
        Ok(())
    }

    // ---- sessions and tokens ----

    fn info(&self, r: &SessionRow) -> SessionInfo {
        let s = &self.inner.settings;
        let expires_at = match r.kind {
            SessionKind::Session => {
                let idle = dt(r.last_seen) + s.idle_timeout;
                Some(r.expires.map(dt).map_or(idle, |e| e.min(idle)))
            }
            SessionKind::Token => r.expires.map(dt),
        };
        SessionInfo {
            id: r.id.clone(),
            user: r.account_name.clone(),
            via: match r.kind {
                SessionKind::Session => Via::Session,
                SessionKind::Token => Via::Token,
            },
            label: r.label.clone(),
            peer: r.peer.clone(),
            created_at: dt(r.created),
            last_seen: dt(r.last_seen),
            expires_at,
        }
    }

    /// Live (not revoked, not expired at `now`) sessions and API tokens, of one account or all.
    pub async fn sessions(
        &self,
        user: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionInfo>> {
        let id = match user {
            Some(n) => Some(self.account(n).await?.id),
            None => None,
        };
        Ok(self
            .store()
            .live_sessions(id)
            .await?
            .iter()
            .map(|r| self.info(r))
            .filter(|i| i.expires_at.is_none_or(|e| now < e))
            .collect())
    }

    /// Forgets sessions and tokens that ended more than [`Settings::keep_ended_sessions`]
    /// before `now` (their revocations stay in the ledger). Call it now and then, e.g. daily.
    pub async fn purge_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        self.store()
            .delete_sessions_ended_before(t90k(now - self.inner.settings.keep_ended_sessions))
            .await
    }

    /// Revokes a session or API token by its id; NotFound if there is no live one.
    pub async fn revoke_session(&self, by: &str, id: &str) -> Result<()> {
        let row = self
            .store()
            .session_by_id(id)
            .await?
            .filter(|r| r.revoked.is_none())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no live session or API token with id {id:?}"),
                )
            })?;
        self.record_change(
            by,
            &row.account_name,
            "revoke_session",
            json!({"session": id, "kind": self.info(&row).via}),
        )
        .await?;
        self.store()
            .revoke_session(id, t90k(Utc::now()), by)
            .await?;
        Ok(())
    }

    /// Creates an API token for `user` (default lifetime [`Settings::token_lifetime`]); the
    /// secret is returned once.
    pub async fn create_api_token(
        &self,
        by: &str,
        user: &str,
        label: &str,
        expires: Option<DateTime<Utc>>,
    ) -> Result<NewToken> {
        let a = self.account(user).await?;
        let now = Utc::now();
        Self::check_active(&a, now).map_err(|e| {
            Error::new(
                ErrorKind::FailedPrecondition,
                format!("no API token: {}", e.msg()),
            )
        })?;
        if label.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "an API token needs a label saying what it is for (--label)",
            ));
        }
        let expires_at = expires.unwrap_or(now + self.inner.settings.token_lifetime);
        if expires_at <= now {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the token's end {} is in the past", rfc3339(expires_at)),
            ));
        }
        let token = format!("{}{}", secret::TOKEN_PREFIX, secret::new_secret()?);
        let id = secret::new_id()?;
        self.record_change(
            by,
            user,
            "api_token",
            json!({"token": id, "label": label, "expires": rfc3339(expires_at)}),
        )
        .await?;
        self.store()
            .insert_session(&NewSession {
                id: id.clone(),
                token_sha256: secret::digest(&token),
                account_id: a.id,
                kind: SessionKind::Token,
                label: Some(label.to_owned()),
                csrf: None,
                peer: None,
                created: t90k(now),
                expires: Some(t90k(expires_at)),
            })
            .await?;
        Ok(NewToken {
            id,
            token,
            expires_at,
        })
    }

    // ---- TOTP ----

    /// Starts TOTP enrolment: a new secret, returned as an `otpauth://` URI for the
    /// authenticator app. Not required at login until [`Self::confirm_totp`].
    pub async fn enroll_totp(&self, name: &str) -> Result<String> {
        let a = self.account(name).await?;
        if a.totp_enabled {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("TOTP is already on for {name:?}; turn it off first to enrol a new device"),
            ));
        }
        let key = secret::random::<{ totp::SECRET_LEN }>()?;
        self.store().set_totp(a.id, Some(&key), false).await?;
        Ok(totp::uri("custos", name, &key))
    }

    /// Confirms enrolment with a current code; from then on login needs a code.
    pub async fn confirm_totp(
        &self,
        by: &str,
        name: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let a = self.account(name).await?;
        let key = match (&a.totp_secret, a.totp_enabled) {
            (Some(k), false) => k.clone(),
            (_, true) => return Ok(()),
            (None, false) => {
                return Err(Error::new(
                    ErrorKind::FailedPrecondition,
                    format!("no TOTP enrolment is pending for {name:?}; start one first"),
                ));
            }
        };
        let step = totp::matching_step(&key, code, now.timestamp()).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                "wrong TOTP code: check the device's clock and send the code it shows now",
            )
        })?;
        self.record_change(by, name, "totp_on", json!({})).await?;
        self.store().set_totp(a.id, Some(&key), true).await?;
        self.store().use_totp_step(a.id, step).await?;
        Ok(())
    }

    /// Turns TOTP off (a lost device); the next enrolment makes a new secret.
    pub async fn disable_totp(&self, by: &str, name: &str) -> Result<()> {
        let a = self.account(name).await?;
        if a.totp_secret.is_none() {
            return Ok(());
        }
        self.record_change(by, name, "totp_off", json!({})).await?;
        self.store().set_totp(a.id, None, false).await
    }

    // ---- duty (D5) ----

    /// A watch operator goes on duty: until [`Self::end_shift`] or [`Settings::max_shift`],
    /// [`User::principal`] is on duty for the scopes of their `watch_operator` grants.
    /// FailedPrecondition for accounts without that role; starting twice is harmless.
    pub async fn start_shift(&self, user: &str, now: DateTime<Utc>) -> Result<User> {
        let a = self.account(user).await?;
        Self::check_active(&a, now)?;
        if !a.grants.iter().any(|g| g.role == Role::WatchOperator) {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "D5: only watch operators go on duty; {user:?} holds no watch_operator role"
                ),
            ));
        }
        let u = self.to_user(&a);
        if u.on_duty(now) {
            return Ok(u);
        }
        self.record(
            user,
            Action::Other("Duty".into()),
            format!("user/{user}"),
            json!({"change": "shift_start", "user": user, "at": rfc3339(now)}),
        )
        .await?;
        if let Some(s) = u.on_shift_since {
            // A stale shift that ran past its limit ends where it stopped counting.
            let end = (s + self.inner.settings.max_shift).min(now);
            self.store().end_shift(a.id, t90k(end)).await?;
        }
        self.store().start_shift(a.id, t90k(now)).await?;
        self.user(user).await
    }

    /// Ends the open shift; false if none was open.
    pub async fn end_shift(&self, user: &str, now: DateTime<Utc>) -> Result<bool> {
        let a = self.account(user).await?;
        if a.shift_started.is_none() {
            return Ok(false);
        }
        self.record(
            user,
            Action::Other("Duty".into()),
            format!("user/{user}"),
            json!({"change": "shift_end", "user": user, "at": rfc3339(now)}),
        )
        .await?;
        self.store().end_shift(a.id, t90k(now)).await
    }
}

/// The per-name login lock; dropping it forgets the name's entry when nobody else waits.
struct NameGuard {
    accounts: Accounts,
    name: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for NameGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut l = self.accounts.inner.name_locks.lock().expect("name locks");
        if l.get(&self.name).is_some_and(|m| Arc::strong_count(m) == 1) {
            l.remove(&self.name);
        }
    }
}
