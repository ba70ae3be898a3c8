//! `custos users add|list|disable|enable|passwd|unlock|token|totp` (E1, E4, E10): accounts of
//! the data directory, managed by whoever may write the data directory (that person can change
//! anything anyway; the web console asks the access policy). Every change is a ledger entry
//! written before the change (fail closed), with the actor `cli:<login name>`.
//!
//! `--scope` is repeatable and written `org`, `org/system`, `org/system/area` or
//! `org/system/area/camera`; without it a grant covers the whole default organisation `local`.
//! Passwords are read from standard input only (`--password-stdin`: one line), never from the
//! command line where other users could see them.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_auth::{Accounts, DEFAULT_ORG, NewUser, User};
use custos_core::access::{Classification, Role, RoleGrant, Scope};
use custos_core::{Error, ErrorKind};
use custos_footage::{DataDir, Journal};
use custos_store::Store;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Create an account: one role in one or more scopes, password on standard input.
    Add(AddArgs),
    /// List accounts.
    List(ListArgs),
    /// Disable an account: no login; its sessions and API tokens end.
    Disable(NameArgs),
    /// Enable a disabled account again.
    Enable(NameArgs),
    /// Set an account's password (read from standard input); it must be changed at next login.
    Passwd(PasswdArgs),
    /// Lift a lockout after failed logins.
    Unlock(NameArgs),
    /// Create an API token for an account; printed once.
    Token(TokenArgs),
    /// TOTP second factor: enrol (prints the otpauth:// URI), confirm a code, or turn it off.
    Totp(TotpArgs),
}

fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("bad time {s:?}: {e}; write RFC 3339, e.g. 2026-12-31T18:00:00+08:00"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|e| e.msg().to_owned())
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse::<Scope>().map_err(|e| e.msg().to_owned())
}

fn parse_clearance(s: &str) -> Result<Classification, String> {
    [
        Classification::Public,
        Classification::Internal,
        Classification::Confidential,
        Classification::Secret,
    ]
    .into_iter()
    .find(|c| c.as_str() == s)
    .ok_or_else(|| format!("unknown clearance {s:?}: use public, internal, confidential or secret"))
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// Account name (letters, digits, '.', '_', '-', '@').
    pub name: String,
    /// administrator, watch_operator, maintainer, police_officer, police_approver, inspector,
    /// auditor or citizen_viewer.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Where the role applies (repeatable): org, org/system, org/system/area or
    /// org/system/area/camera. Default: the whole organisation `local`.
    #[arg(long, value_parser = parse_scope)]
    pub scope: Vec<Scope>,
    /// End of the account (RFC 3339); required for maintainers (E10) and citizen viewers (H4).
    #[arg(long, value_parser = parse_rfc3339, allow_hyphen_values = true)]
    pub expires: Option<DateTime<Utc>>,
    /// Start of the account's window (RFC 3339).
    #[arg(long, value_parser = parse_rfc3339, allow_hyphen_values = true)]
    pub valid_from: Option<DateTime<Utc>>,
    /// Highest classification the account may see (E6): public, internal, confidential, secret.
    #[arg(long, value_parser = parse_clearance, default_value = "public")]
    pub clearance: Classification,
    /// Read the password from the first line of standard input (required).
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
}

#[derive(clap::Args)]
pub struct NameArgs {
    pub name: String,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
}

#[derive(clap::Args)]
pub struct PasswdArgs {
    pub name: String,
    /// Read the new password from the first line of standard input (required).
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
}

#[derive(clap::Args)]
pub struct TokenArgs {
    pub name: String,
    /// What the token is for (shown in listings and the ledger).
    #[arg(long)]
    pub label: String,
    /// End of the token (RFC 3339); default 90 days from now.
    #[arg(long, value_parser = parse_rfc3339, allow_hyphen_values = true)]
    pub expires: Option<DateTime<Utc>>,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
}

#[derive(clap::Args)]
pub struct TotpArgs {
    pub name: String,
    /// Confirm the enrolment with the 6-digit code the app shows now.
    #[arg(long, conflicts_with = "off")]
    pub confirm: Option<String>,
    /// Turn TOTP off (e.g. a lost device).
    #[arg(long)]
    pub off: bool,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
}

/// The actor named in ledger entries.
fn actor() -> String {
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}")
}

/// Opens the accounts of a data directory (created if `create`).
async fn open(data: &std::path::Path, create: bool) -> Result<(Store, Accounts)> {
    let d = if create {
        DataDir::create(data)?
    } else {
        DataDir::open_existing(data)?
    };
    let store = Store::open_sqlite(&d.db_path()).await?;
    let (journal, _) = Journal::open(&d)?;
    let acc = Accounts::open(&store, journal).await?;
    Ok((store, acc))
}

fn read_password(flag: bool) -> Result<String> {
    if !flag {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "give the password on standard input with --password-stdin \
             (e.g. `printf '%s\\n' \"$PW\" | custos users add …`)",
        )
        .into());
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("reading the password from standard input", e))?;
    let pw = line.trim_end_matches(['\n', '\r']).to_owned();
    if pw.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "standard input held no password (--password-stdin reads its first line)",
        )
        .into());
    }
    Ok(pw)
}

pub async fn run(c: Cmd) -> Result<()> {
    match c {
        Cmd::Add(a) => add(a).await,
        Cmd::List(a) => list(a).await,
        Cmd::Disable(a) => {
            let (_, acc) = open(&a.data, false).await?;
            acc.disable_user(&actor(), &a.name).await?;
            println!(
                "account {} disabled; its sessions and API tokens are ended",
                a.name
            );
            Ok(())
        }
        Cmd::Enable(a) => {
            let (_, acc) = open(&a.data, false).await?;
            acc.enable_user(&actor(), &a.name).await?;
            println!("account {} enabled", a.name);
            Ok(())
        }
        Cmd::Unlock(a) => {
            let (_, acc) = open(&a.data, false).await?;
            acc.unlock_user(&actor(), &a.name).await?;
            println!("account {} unlocked", a.name);
            Ok(())
        }
        Cmd::Passwd(a) => {
            let pw = read_password(a.password_stdin)?;
            let (_, acc) = open(&a.data, false).await?;
            acc.user(&a.name).await?;
            acc.set_password(&actor(), &a.name, &pw).await?;
            println!(
                "password of {} set; it must be changed at the next login, and its sessions are ended",
                a.name
            );
            Ok(())
        }
        Cmd::Token(a) => {
            let (_, acc) = open(&a.data, false).await?;
            let t = acc
                .create_api_token(&actor(), &a.name, &a.label, a.expires)
                .await?;
            println!("{}", t.token);
            eprintln!(
                "API token {} for {} ({}), valid until {}; shown only this once: send it as \
                 `Authorization: Bearer <token>`",
                t.id,
                a.name,
                a.label,
                t.expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            Ok(())
        }
        Cmd::Totp(a) => {
            let (_, acc) = open(&a.data, false).await?;
            if a.off {
                acc.disable_totp(&actor(), &a.name).await?;
                println!("TOTP turned off for {}", a.name);
            } else if let Some(code) = a.confirm {
                acc.confirm_totp(&actor(), &a.name, &code, Utc::now())
                    .await?;
                println!("TOTP on for {}: login now needs the app's code", a.name);
            } else {
                let uri = acc.enroll_totp(&a.name).await?;
                println!("{uri}");
                eprintln!(
                    "add this to the authenticator app (or as a QR code), then confirm with \
                     `custos users totp {} --confirm CODE`",
                    a.name
                );
            }
            Ok(())
        }
    }
}

async fn add(a: AddArgs) -> Result<()> {
    let password = read_password(a.password_stdin)?;
    let scopes = if a.scope.is_empty() {
        vec![Scope::organisation(DEFAULT_ORG)]
    } else {
        a.scope
    };
    let grants = scopes
        .into_iter()
        .map(|s| RoleGrant::new(a.role, s))
        .collect();
    let (_, acc) = open(&a.data, true).await?;
    let u = acc
        .add_user_local(
            &actor(),
            NewUser {
                clearance: a.clearance,
                valid_from: a.valid_from,
                expires: a.expires,
                ..NewUser::new(&a.name, grants, password)
            },
        )
        .await?;
    println!(
        "account {} created: {}{}",
        u.name,
        roles(&u),
        u.expires_at
            .map(|t| format!(
                ", until {}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
            .unwrap_or_default()
    );
    Ok(())
}

fn roles(u: &User) -> String {
    u.grants
        .iter()
        .map(|g| format!("{} ({}) in {}", g.role, g.role.zh(), g.scope))
        .collect::<Vec<_>>()
        .join(", ")
}

fn status(u: &User, now: DateTime<Utc>) -> String {
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut s = Vec::new();
    if u.disabled_at.is_some() {
        s.push("disabled".to_owned());
    }
    if let Some(e) = u.expires_at.filter(|e| *e <= now) {
        s.push(format!("expired {}", fmt(e)));
    }
    if let Some(l) = u.locked_until.filter(|l| *l > now) {
        s.push(format!("locked until {}", fmt(l)));
    }
    if u.must_change_password {
        s.push("must change password".into());
    }
    if u.on_duty(now) {
        s.push("on duty".into());
    }
    if s.is_empty() {
        "active".into()
    } else {
        s.join(", ")
    }
}

async fn list(a: ListArgs) -> Result<()> {
    let (_, acc) = open(&a.data, false).await?;
    let users = acc.users().await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&users)?);
        return Ok(());
    }
    let now = Utc::now();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["name", "roles", "clearance", "expires", "TOTP", "status"]);
    for u in &users {
        t.add_row([
            u.name.clone(),
            roles(u),
            u.clearance.to_string(),
            u.expires_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_else(|| "—".into()),
            if u.totp_enabled { "on" } else { "off" }.into(),
            status(u, now),
        ]);
    }
    println!("{t}");
    Ok(())
}
