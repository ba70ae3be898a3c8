//! Rows of accounts, role grants, sessions / API tokens and duty shifts. Plain storage: the
//! rules (password policy, lockout, expiry, who may change what) live in `custos-auth`; this
//! module stores what it is told and reads it back.

use std::str::FromStr;

use custos_core::access::Role;
use custos_core::access::{Classification, RoleGrant, Scope};
use custos_core::{Error, ErrorKind, Result, Time90k};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, db_err};

pub type AccountId = i64;

/// One account as stored.
#[derive(Clone, Debug)]
pub struct AccountRow {
    pub id: AccountId,
    pub name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub clearance: Classification,
    pub valid_from: Option<Time90k>,
    pub expires: Option<Time90k>,
    pub disabled: Option<Time90k>,
    pub created: Time90k,
    pub created_by: String,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub failed_logins: i64,
    pub failed_since: Option<Time90k>,
    pub locked_until: Option<Time90k>,
    pub grants: Vec<RoleGrant>,
    /// Start of the open duty shift, if any.
    pub shift_started: Option<Time90k>,
}

/// A new account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub clearance: Classification,
    pub valid_from: Option<Time90k>,
    pub expires: Option<Time90k>,
    pub created: Time90k,
    pub created_by: String,
    pub grants: Vec<RoleGrant>,
}

/// The failed-login counter and lockout of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginFailures {
    pub count: i64,
    pub since: Option<Time90k>,
    pub locked_until: Option<Time90k>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Session,
    Token,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Session => "session",
            SessionKind::Token => "token",
        }
    }
}

/// A session or API token as stored (the secret itself only as its SHA-256).
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub id: String,
    pub token_sha256: Vec<u8>,
    pub account_id: AccountId,
    pub account_name: String,
    pub kind: SessionKind,
    pub label: Option<String>,
    pub csrf: Option<String>,
    pub peer: Option<String>,
    pub created: Time90k,
    pub last_seen: Time90k,
    pub expires: Option<Time90k>,
    pub revoked: Option<Time90k>,
    pub revoked_by: Option<String>,
}

/// A session or API token to insert.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub id: String,
    pub token_sha256: Vec<u8>,
    pub account_id: AccountId,
    pub kind: SessionKind,
    pub label: Option<String>,
    pub csrf: Option<String>,
    pub peer: Option<String>,
    pub created: Time90k,
    pub expires: Option<Time90k>,
}

const ACCOUNT_COLS: &str = "SELECT a.id, a.name, a.password_hash, a.must_change_password,
    a.clearance, a.valid_from_90k, a.expires_90k, a.disabled_90k, a.created_90k, a.created_by,
    a.totp_secret, a.totp_enabled, a.totp_last_step, a.failed_logins, a.failed_since_90k,
    a.locked_until_90k,
    (SELECT started_90k FROM duty_shift d WHERE d.account_id = a.id AND d.ended_90k IS NULL)
    FROM account a";

const SESSION_COLS: &str = "SELECT s.id, s.token_sha256, s.account_id, a.name, s.kind, s.label,
    s.csrf, s.peer, s.created_90k, s.last_seen_90k, s.expires_90k, s.revoked_90k, s.revoked_by
    FROM auth_session s JOIN account a ON a.id = s.account_id";

fn t(v: Option<i64>) -> Option<Time90k> {
    v.map(Time90k)
}

fn clearance_from(s: &str) -> Result<Classification> {
    Ok(match s {
        "public" => Classification::Public,
        "internal" => Classification::Internal,
        "confidential" => Classification::Confidential,
        "secret" => Classification::Secret,
        other => {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!("account row has unknown clearance {other:?}"),
            ));
        }
    })
}

fn account_from_row(r: &SqliteRow) -> Result<AccountRow> {
    Ok(AccountRow {
        id: r.get(0),
        name: r.get(1),
        password_hash: r.get(2),
        must_change_password: r.get(3),
        clearance: clearance_from(r.get::<&str, _>(4))?,
        valid_from: t(r.get(5)),
        expires: t(r.get(6)),
        disabled: t(r.get(7)),
        created: Time90k(r.get(8)),
        created_by: r.get(9),
        totp_secret: r.get(10),
        totp_enabled: r.get(11),
        totp_last_step: r.get(12),
        failed_logins: r.get(13),
        failed_since: t(r.get(14)),
        locked_until: t(r.get(15)),
        grants: Vec::new(),
        shift_started: t(r.get(16)),
    })
}

fn session_from_row(r: &SqliteRow) -> Result<SessionRow> {
    let kind = match r.get::<&str, _>(4) {
        "session" => SessionKind::Session,
        "token" => SessionKind::Token,
        other => {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!("session row has unknown kind {other:?}"),
            ));
        }
    };
    Ok(SessionRow {
        id: r.get(0),
        token_sha256: r.get(1),
        account_id: r.get(2),
        account_name: r.get(3),
        kind,
        label: r.get(5),
        csrf: r.get(6),
        peer: r.get(7),
        created: Time90k(r.get(8)),
        last_seen: Time90k(r.get(9)),
        expires: t(r.get(10)),
        revoked: t(r.get(11)),
        revoked_by: r.get(12),
    })
}

/// Fails with NotFound unless exactly one row changed.
fn one(what: &str, n: u64) -> Result<()> {
    if n == 1 {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::NotFound,
            format!("{what}: no such row"),
        ))
    }
}

impl Store {
    async fn load_grants(&self, a: &mut AccountRow) -> Result<()> {
        let rows = sqlx::query(
            "SELECT role, scope FROM account_grant WHERE account_id = ? ORDER BY role, scope",
        )
        .bind(a.id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading role grants", e))?;
        a.grants = rows
            .iter()
            .map(|r| {
                let bad = |e: Error| {
                    Error::new(
                        ErrorKind::DataLoss,
                        format!("account {:?} has a damaged role grant: {}", a.name, e.msg()),
                    )
                };
                Ok(RoleGrant::new(
                    Role::from_str(r.get::<&str, _>(0)).map_err(bad)?,
                    Scope::from_str(r.get::<&str, _>(1)).map_err(bad)?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(())
    }

    pub async fn count_accounts(&self) -> Result<i64> {
        sqlx::query("SELECT count(*) FROM account")
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
            .map_err(|e| db_err("counting accounts", e))
    }

    /// Inserts an account and its grants in one transaction; AlreadyExists if the name is taken.
    pub async fn insert_account(&self, a: &NewAccount) -> Result<AccountId> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("starting a transaction", e))?;
        let id: AccountId = sqlx::query(
            "INSERT INTO account (name, password_hash, must_change_password, clearance,
                 valid_from_90k, expires_90k, created_90k, created_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&a.name)
        .bind(&a.password_hash)
        .bind(a.must_change_password)
        .bind(a.clearance.as_str())
        .bind(a.valid_from.map(|t| t.0))
        .bind(a.expires.map(|t| t.0))
        .bind(a.created.0)
        .bind(&a.created_by)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match db_err("inserting account", e) {
            e if e.kind() == ErrorKind::AlreadyExists => Error::new(
                ErrorKind::AlreadyExists,
                format!("an account named {:?} already exists", a.name),
            ),
            e => e,
        })?
        .get(0);
        for g in &a.grants {
            sqlx::query(
                "INSERT OR IGNORE INTO account_grant (account_id, role, scope) VALUES (?, ?, ?)",
            )
            .bind(id)
            .bind(g.role.as_str())
            .bind(g.scope.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("inserting role grant", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing account", e))?;
        Ok(id)
    }

    pub async fn account_by_name(&self, name: &str) -> Result<Option<AccountRow>> {
        let row = sqlx::query(&format!("{ACCOUNT_COLS} WHERE a.name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading account", e))?;
        match row {
            None => Ok(None),
            Some(r) => {
                let mut a = account_from_row(&r)?;
                self.load_grants(&mut a).await?;
                Ok(Some(a))
            }
        }
    }

    pub async fn account_by_id(&self, id: AccountId) -> Result<AccountRow> {
        let r = sqlx::query(&format!("{ACCOUNT_COLS} WHERE a.id = ?"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err("reading account", e))?;
        let mut a = account_from_row(&r)?;
        self.load_grants(&mut a).await?;
        Ok(a)
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<AccountRow>> {
        let rows = sqlx::query(&format!("{ACCOUNT_COLS} ORDER BY a.name"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing accounts", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut a = account_from_row(r)?;
            self.load_grants(&mut a).await?;
            out.push(a);
        }
        Ok(out)
    }

    pub async fn set_account_password(
        &self,
        id: AccountId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE account SET password_hash = ?, must_change_password = ? WHERE id = ?",
        )
        .bind(password_hash)
        .bind(must_change)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("setting password", e))?;
        one("setting password", r.rows_affected())
    }

    /// Sets (or clears, with `None`) the disabled mark.
    pub async fn set_account_disabled(&self, id: AccountId, at: Option<Time90k>) -> Result<()> {
        let r = sqlx::query("UPDATE account SET disabled_90k = ? WHERE id = ?")
            .bind(at.map(|t| t.0))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("disabling account", e))?;
        one("disabling account", r.rows_affected())
    }

    /// Replaces the grants, window and clearance of an account in one transaction.
    pub async fn set_account_grants(
        &self,
        id: AccountId,
        grants: &[RoleGrant],
        clearance: Classification,
        valid_from: Option<Time90k>,
        expires: Option<Time90k>,
    ) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("starting a transaction", e))?;
        let r = sqlx::query(
            "UPDATE account SET clearance = ?, valid_from_90k = ?, expires_90k = ? WHERE id = ?",
        )
        .bind(clearance.as_str())
        .bind(valid_from.map(|t| t.0))
        .bind(expires.map(|t| t.0))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("updating account", e))?;
        one("updating account", r.rows_affected())?;
        sqlx::query("DELETE FROM account_grant WHERE account_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("removing role grants", e))?;
        for g in grants {
            sqlx::query(
                "INSERT OR IGNORE INTO account_grant (account_id, role, scope) VALUES (?, ?, ?)",
            )
            .bind(id)
            .bind(g.role.as_str())
            .bind(g.scope.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("inserting role grant", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing role grants", e))
    }

    pub async fn set_login_failures(&self, id: AccountId, f: LoginFailures) -> Result<()> {
        sqlx::query(
            "UPDATE account SET failed_logins = ?, failed_since_90k = ?, locked_until_90k = ?
             WHERE id = ?",
        )
        .bind(f.count)
        .bind(f.since.map(|t| t.0))
        .bind(f.locked_until.map(|t| t.0))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving failed logins", e))?;
        Ok(())
    }

    /// Sets the TOTP secret (or clears it with `None`) and whether it is confirmed.
    pub async fn set_totp(
        &self,
        id: AccountId,
        secret: Option<&[u8]>,
        enabled: bool,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE account SET totp_secret = ?, totp_enabled = ?, totp_last_step = NULL
             WHERE id = ?",
        )
        .bind(secret)
        .bind(enabled)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving the TOTP secret", e))?;
        one("saving the TOTP secret", r.rows_affected())
    }

    /// Records the time step of an accepted TOTP code. Returns false if a code of this or a
    /// later step was already accepted (a replay), atomically.
    pub async fn use_totp_step(&self, id: AccountId, step: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE account SET totp_last_step = ?
             WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
        )
        .bind(step)
        .bind(id)
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving the TOTP step", e))?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn insert_session(&self, s: &NewSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO auth_session (id, token_sha256, account_id, kind, label, csrf, peer,
                 created_90k, last_seen_90k, expires_90k)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.id)
        .bind(&s.token_sha256)
        .bind(s.account_id)
        .bind(s.kind.as_str())
        .bind(&s.label)
        .bind(&s.csrf)
        .bind(&s.peer)
        .bind(s.created.0)
        .bind(s.created.0)
        .bind(s.expires.map(|t| t.0))
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("inserting session", e))?;
        Ok(())
    }

    pub async fn session_by_token_hash(&self, sha256: &[u8]) -> Result<Option<SessionRow>> {
        sqlx::query(&format!("{SESSION_COLS} WHERE s.token_sha256 = ?"))
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading session", e))?
            .map(|r| session_from_row(&r))
            .transpose()
    }

    pub async fn session_by_id(&self, id: &str) -> Result<Option<SessionRow>> {
        sqlx::query(&format!("{SESSION_COLS} WHERE s.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading session", e))?
            .map(|r| session_from_row(&r))
            .transpose()
    }

    /// Sessions and tokens not revoked, of one account or of all, oldest first.
    pub async fn live_sessions(&self, account: Option<AccountId>) -> Result<Vec<SessionRow>> {
        let rows = sqlx::query(&format!(
            "{SESSION_COLS} WHERE s.revoked_90k IS NULL AND (? IS NULL OR s.account_id = ?)
             ORDER BY s.created_90k, s.rowid"
        ))
        .bind(account)
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing sessions", e))?;
        rows.iter().map(session_from_row).collect()
    }

    pub async fn touch_session(&self, id: &str, at: Time90k) -> Result<()> {
        sqlx::query("UPDATE auth_session SET last_seen_90k = ? WHERE id = ? AND last_seen_90k < ?")
            .bind(at.0)
            .bind(id)
            .bind(at.0)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("updating session", e))?;
        Ok(())
    }

    /// Revokes one session or token; false if it was unknown or already revoked.
    pub async fn revoke_session(&self, id: &str, at: Time90k, by: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE auth_session SET revoked_90k = ?, revoked_by = ?
             WHERE id = ? AND revoked_90k IS NULL",
        )
        .bind(at.0)
        .bind(by)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("revoking session", e))?;
        Ok(r.rows_affected() == 1)
    }

    /// Revokes every live session of an account (and its API tokens too if `tokens`); returns
    /// how many.
    pub async fn revoke_account_sessions(
        &self,
        account: AccountId,
        tokens: bool,
        at: Time90k,
        by: &str,
    ) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE auth_session SET revoked_90k = ?, revoked_by = ?
             WHERE account_id = ? AND revoked_90k IS NULL AND (kind = 'session' OR ?)",
        )
        .bind(at.0)
        .bind(by)
        .bind(account)
        .bind(tokens)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("revoking sessions", e))?;
        Ok(r.rows_affected())
    }

    /// Revokes every open session and API token of `account` except the session `keep`.
    pub async fn revoke_account_sessions_except(
        &self,
        account: AccountId,
        keep: Option<&str>,
        at: Time90k,
        by: &str,
    ) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE auth_session SET revoked_90k = ?, revoked_by = ?
             WHERE account_id = ? AND revoked_90k IS NULL AND (? IS NULL OR id <> ?)",
        )
        .bind(at.0)
        .bind(by)
        .bind(account)
        .bind(keep)
        .bind(keep)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("revoking sessions", e))?;
        Ok(r.rows_affected())
    }

    /// Deletes session and token rows that ended before `before`: revoked, past their end, or
    /// (sessions only) unused since. Returns how many.
    pub async fn delete_sessions_ended_before(&self, before: Time90k) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM auth_session
             WHERE revoked_90k < ?1 OR expires_90k < ?1
                OR (kind = 'session' AND last_seen_90k < ?1)",
        )
        .bind(before.0)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("deleting old sessions", e))?;
        Ok(r.rows_affected())
    }

    /// Opens a duty shift; AlreadyExists if one is open.
    pub async fn start_shift(&self, account: AccountId, at: Time90k) -> Result<()> {
        sqlx::query("INSERT INTO duty_shift (account_id, started_90k) VALUES (?, ?)")
            .bind(account)
            .bind(at.0)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("starting a duty shift", e))?;
        Ok(())
    }

    /// Ends the open duty shift; false if none was open.
    pub async fn end_shift(&self, account: AccountId, at: Time90k) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE duty_shift SET ended_90k = ? WHERE account_id = ? AND ended_90k IS NULL",
        )
        .bind(at.0)
        .bind(account)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("ending a duty shift", e))?;
        Ok(r.rows_affected() > 0)
    }
}
