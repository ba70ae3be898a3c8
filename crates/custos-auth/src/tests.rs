//! Accounts against a real SQLite database and a real ledger in a temporary data directory.

use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use custos_core::ErrorKind;
use custos_core::access::{
    Action, Classification, Decision, Placement, Resource, Role, RoleGrant, Scope, decide,
};
use custos_journal::Journal;
use custos_ledger::Action as LedgerAction;
use custos_store::Store;

use super::*;

const PW: &str = "river stone lamp";
const ADMIN: &str = "root-admin";

struct Env {
    _dir: tempfile::TempDir,
    /// The data directory (its root).
    data: std::path::PathBuf,
    store: Store,
    journal: Journal,
    acc: Accounts,
}

async fn env_with(settings: Settings) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let store = Store::open_sqlite(&data.join("custos.db")).await.unwrap();
    let (journal, _) = Journal::open(&data).unwrap();
    let acc = Accounts::with_settings(&store, journal.clone(), settings)
        .await
        .unwrap();
    Env {
        _dir: dir,
        data,
        store,
        journal,
        acc,
    }
}

async fn env() -> Env {
    env_with(Settings::default()).await
}

fn peer(n: u8) -> IpAddr {
    IpAddr::from([192, 0, 2, n])
}

fn t0() -> DateTime<Utc> {
    // Fixed instants keep the tests independent of the clock; accounts created in them have
    // no window unless a test gives one.
    Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap()
}

fn g(role: Role, scope: &str) -> Vec<RoleGrant> {
    vec![RoleGrant::new(role, scope.parse().unwrap())]
}

fn cam(system: &str, camera: &str) -> Resource {
    Resource::camera(
        &Placement::new(DEFAULT_ORG, system, "a1", camera),
        Classification::Public,
    )
}

fn denied(d: Decision) -> String {
    match d {
        Decision::Allow => panic!("allowed, expected a denial"),
        Decision::Deny(r) => r.to_string(),
    }
}

/// Ledger entries of account changes: (actor, change, user).
fn admin_changes(j: &Journal) -> Vec<(String, String, String)> {
    let l = j.ledger();
    l.entries(0..l.len())
        .unwrap()
        .into_iter()
        .filter(|e| e.action == LedgerAction::AdminChange)
        .map(|e| {
            (
                e.actor,
                e.details["change"].as_str().unwrap().to_owned(),
                e.details["user"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// E1: a password round trip through login and the session cookie; a wrong password and an
/// unknown name get the same kind and message, and the unknown name costs a hash too.
#[tokio::test]
async fn e1_login_wrong_password_and_unknown_user_look_the_same() {
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("alice", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let l = e.acc.login("alice", PW, None, peer(1), t0()).await.unwrap();
    assert_eq!(l.token.len(), 43);
    assert_ne!(l.token, l.csrf);
    assert_eq!(l.expires_at, t0() + Duration::hours(12));
    let a = e.acc.authenticate_session(&l.token, t0()).await.unwrap();
    assert_eq!(a.user.name, "alice");
    assert_eq!(a.session_id, l.session_id);
    assert_eq!(a.via, Via::Session);
    assert_eq!(a.csrf.as_deref(), Some(l.csrf.as_str()));

    let mut wrong = std::time::Duration::MAX;
    let mut unknown = std::time::Duration::MAX;
    for _ in 0..4 {
        let s = Instant::now();
        let w = e
            .acc
            .login("alice", "river stone lamb", None, peer(2), t0())
            .await
            .unwrap_err();
        wrong = wrong.min(s.elapsed());
        let s = Instant::now();
        let u = e
            .acc
            .login("nobody", PW, None, peer(2), t0())
            .await
            .unwrap_err();
        unknown = unknown.min(s.elapsed());
        assert_eq!(w.kind(), ErrorKind::Unauthenticated);
        assert_eq!(u.kind(), ErrorKind::Unauthenticated);
        assert_eq!(w.msg(), u.msg());
        assert_eq!(w.msg(), "wrong user name or password");
    }
    // Both run one Argon2id verification; without the dummy hash the unknown name would
    // answer in microseconds.
    assert!(
        unknown * 3 >= wrong,
        "unknown user answered in {unknown:?}, wrong password in {wrong:?}"
    );
    // The session cookie value is not stored: only its SHA-256.
    let row = e.store.session_by_id(&l.session_id).await.unwrap().unwrap();
    assert_eq!(row.token_sha256, secret::digest(&l.token));
}

/// E1: five wrong passwords within 15 minutes lock the account for 15 minutes (even the right
/// password is refused, and the lock survives a restart); afterwards it logs in again.
#[tokio::test]
async fn e1_lockout_after_five_failures_and_unlock_after_the_window() {
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("bob", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    // Failures further apart than the window do not add up.
    for i in 0..4 {
        let err = e
            .acc
            .login("bob", "nope nope nope", None, peer(1), t0())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated, "attempt {i}");
    }
    let later = t0() + Duration::minutes(16);
    let err = e
        .acc
        .login("bob", "nope nope nope", None, peer(1), later)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    e.acc.login("bob", PW, None, peer(1), later).await.unwrap();

    // Five within the window lock it.
    for _ in 0..4 {
        e.acc
            .login("bob", "nope nope nope", None, peer(1), later)
            .await
            .unwrap_err();
    }
    let err = e
        .acc
        .login("bob", "nope nope nope", None, peer(1), later)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourceExhausted, "{}", err.msg());
    let until = later + Duration::minutes(15);
    assert!(
        err.msg()
            .contains(&until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "{}",
        err.msg()
    );
    // The right password does not open a locked account, not even from another address or
    // another process.
    e.acc.settled().await;
    let again = Accounts::open(&e.store, e.journal.clone()).await.unwrap();
    let err = again
        .login("bob", PW, None, peer(9), later + Duration::minutes(14))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourceExhausted);
    assert_eq!(again.user("bob").await.unwrap().locked_until, Some(until));
    // After the lock it works, and the counter starts again from zero.
    again.login("bob", PW, None, peer(9), until).await.unwrap();
    let err = again
        .login("bob", "nope nope nope", None, peer(9), until)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);

    // The lockout is a run record in the ledger.
    e.acc.settled().await;
    let l = e.journal.ledger();
    let locks: Vec<_> = l
        .entries(0..l.len())
        .unwrap()
        .into_iter()
        .filter(|x| x.action.as_str() == "LoginLocked")
        .collect();
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].object, "user/bob");

    // An administrator may unlock early.
    for _ in 0..5 {
        let _ = again
            .login("bob", "nope nope nope", None, peer(9), until)
            .await;
    }
    assert!(again.login("bob", PW, None, peer(9), until).await.is_err());
    again.unlock_user(ADMIN, "bob").await.unwrap();
    again.login("bob", PW, None, peer(9), until).await.unwrap();
}

/// E1 (attack): 20 wrong passwords sent in parallel (from 20 addresses, below each address's
/// limit) are counted one by one; the account locks at the fifth and no later failure clears
/// the lock: the right password then gets ResourceExhausted (429) until the lock ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn e1_attack_parallel_wrong_passwords_cannot_outrun_the_lockout() {
    let e = env().await;
    e.acc
        .add_user_local(ADMIN, NewUser::new("race", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let now = t0();
    let mut tasks = Vec::new();
    for i in 0..20u8 {
        let acc = e.acc.clone();
        tasks.push(tokio::spawn(async move {
            acc.login("race", "wrong wrong wrong", None, peer(10 + i), now)
                .await
                .unwrap_err()
                .kind()
        }));
    }
    let mut kinds = Vec::new();
    for t in tasks {
        kinds.push(t.await.unwrap());
    }
    let wrong = kinds
        .iter()
        .filter(|k| **k == ErrorKind::Unauthenticated)
        .count();
    assert_eq!(
        wrong, 4,
        "only 4 guesses may be answered 'wrong' before the lock: {kinds:?}"
    );
    e.acc.settled().await;
    let until = e.acc.user("race").await.unwrap().locked_until;
    assert_eq!(until, Some(round90k(now + Duration::minutes(15))));
    for at in [now, now + Duration::minutes(14)] {
        let err = e
            .acc
            .login("race", PW, None, peer(200), at)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ResourceExhausted, "{}", err.msg());
    }
    e.acc
        .login("race", PW, None, peer(200), now + Duration::minutes(15))
        .await
        .unwrap();
}

/// E1 (attack): someone who knew the old password keeps nothing after a change or a reset:
/// the owner's change ends every other session and every API token (the session it was made
/// from stays); an administrator's reset ends them all and forces a change at next login.
#[tokio::test]
async fn e1_attack_password_change_and_reset_end_other_sessions_and_tokens() {
    let e = env().await;
    e.acc
        .add_user_local(ADMIN, NewUser::new("ivy", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let now = Utc::now();
    let mine = e.acc.login("ivy", PW, None, peer(1), now).await.unwrap();
    let thief = e.acc.login("ivy", PW, None, peer(66), now).await.unwrap();
    let tok = e
        .acc
        .create_api_token(ADMIN, "ivy", "script", None)
        .await
        .unwrap();
    e.acc
        .change_password_in("ivy", PW, "a brand new phrase", now, Some(&mine.session_id))
        .await
        .unwrap();
    e.acc.authenticate_session(&mine.token, now).await.unwrap();
    assert!(e.acc.authenticate_session(&thief.token, now).await.is_err());
    assert!(e.acc.authenticate_bearer(&tok.token, now).await.is_err());

    let tok2 = e
        .acc
        .create_api_token(ADMIN, "ivy", "script 2", None)
        .await
        .unwrap();
    e.acc
        .set_password(ADMIN, "ivy", "reset by the admin")
        .await
        .unwrap();
    assert!(e.acc.authenticate_session(&mine.token, now).await.is_err());
    assert!(e.acc.authenticate_bearer(&tok2.token, now).await.is_err());
    assert!(e.acc.user("ivy").await.unwrap().must_change_password);
}

/// E1 (separation of duties): an account an administrator created has no rights until its
/// owner changes the password the administrator chose; one created at the node's command
/// line by its operator has.
#[tokio::test]
async fn e1_admin_created_account_must_change_password_at_first_login() {
    let e = env().await;
    let u = e
        .acc
        .add_user(ADMIN, NewUser::new("jun", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    assert!(u.must_change_password);
    let now = Utc::now();
    let l = e.acc.login("jun", PW, None, peer(1), now).await.unwrap();
    assert!(l.user.must_change_password);
    let org = Resource::at(Scope::organisation(DEFAULT_ORG), Classification::Public);
    assert!(!decide(&l.user.principal(now), Action::ViewAuditLog, &org, now).is_allowed());
    e.acc
        .change_password_in("jun", PW, "my own phrase now", now, Some(&l.session_id))
        .await
        .unwrap();
    let a = e.acc.authenticate_session(&l.token, now).await.unwrap();
    assert!(!a.user.must_change_password);
    assert!(decide(&a.user.principal(now), Action::ViewAuditLog, &org, now).is_allowed());
    let local = e
        .acc
        .add_user_local(
            "cli:root",
            NewUser::new("kai", g(Role::Auditor, "local"), PW),
        )
        .await
        .unwrap();
    assert!(!local.must_change_password);
}

/// E1: one address that fails too often is refused for the rest of the window, even with
/// right credentials; other addresses are not affected.
#[tokio::test]
async fn e1_peer_address_rate_limit() {
    let e = env_with(Settings {
        ip_max_failures: 3,
        ..Settings::default()
    })
    .await;
    e.acc
        .add_user(ADMIN, NewUser::new("carol", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    for n in 0..3 {
        let err = e
            .acc
            .login(&format!("guess{n}"), PW, None, peer(7), t0())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    }
    let err = e
        .acc
        .login("carol", PW, None, peer(7), t0())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourceExhausted);
    assert!(err.msg().contains("192.0.2.7"), "{}", err.msg());
    e.acc.login("carol", PW, None, peer(8), t0()).await.unwrap();
    e.acc
        .login("carol", PW, None, peer(7), t0() + Duration::minutes(10))
        .await
        .unwrap();
}

/// E10: a contractor account must have an end date and a system-level scope; after its end it
/// can neither log in nor use an open session, and the policy denies it with E10.
#[tokio::test]
async fn e10_expired_maintainer_denied() {
    let e = env().await;
    let now = Utc::now();
    let err = e
        .acc
        .add_user(
            ADMIN,
            NewUser::new("fixer", g(Role::Maintainer, "local/s1"), PW),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.msg().contains("E10"), "{}", err.msg());
    let err = e
        .acc
        .add_user(
            ADMIN,
            NewUser {
                expires: Some(now + Duration::days(1)),
                ..NewUser::new("fixer", g(Role::Maintainer, "local"), PW)
            },
        )
        .await
        .unwrap_err();
    assert!(err.msg().contains("E10"), "{}", err.msg());

    let end = now + Duration::hours(1);
    let u = e
        .acc
        .add_user_local(
            ADMIN,
            NewUser {
                expires: Some(end),
                ..NewUser::new("fixer", g(Role::Maintainer, "local/s1"), PW)
            },
        )
        .await
        .unwrap();
    assert_eq!(u.expires_at, Some(round90k(end)));
    let shown = u.view(now).expires.unwrap();
    assert_eq!(shown, api_time(round90k(end)));
    assert_eq!((shown.len(), &shown[19..20], &shown[23..]), (24, ".", "Z"));
    let l = e
        .acc
        .login("fixer", PW, None, peer(1), end - Duration::minutes(10))
        .await
        .unwrap();
    let after = end + Duration::minutes(1);
    let err = e
        .acc
        .authenticate_session(&l.token, after)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(
        err.msg().starts_with("E10: contractor account"),
        "{}",
        err.msg()
    );
    let err = e
        .acc
        .login("fixer", PW, None, peer(1), after)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.msg().contains("expired"), "{}", err.msg());
    let cfg = Resource::at(Scope::system(DEFAULT_ORG, "s1"), Classification::Public);
    let p = u.principal(after);
    assert!(denied(decide(&p, Action::ManageConfig, &cfg, after)).starts_with("E10"));
    assert!(decide(&u.principal(now), Action::ManageConfig, &cfg, now).is_allowed());
}

/// An instant as the database keeps it (90 kHz clock).
fn round90k(t: DateTime<Utc>) -> DateTime<Utc> {
    custos_core::Time90k::from_datetime(t).to_datetime()
}

/// E1: a session ends after 30 minutes without a request and 12 hours after login however
/// active it is.
#[tokio::test]
async fn e1_session_idle_and_absolute_expiry() {
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("dave", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let l = e.acc.login("dave", PW, None, peer(1), t0()).await.unwrap();
    let err = e
        .acc
        .authenticate_session(&l.token, t0() + Duration::minutes(30))
        .await
        .unwrap_err();
    assert!(
        err.msg().contains("30 min without activity"),
        "{}",
        err.msg()
    );

    let l = e.acc.login("dave", PW, None, peer(1), t0()).await.unwrap();
    let mut t = t0();
    while t + Duration::minutes(29) < t0() + Duration::hours(12) {
        t += Duration::minutes(29);
        e.acc.authenticate_session(&l.token, t).await.unwrap();
    }
    let err = e
        .acc
        .authenticate_session(&l.token, t0() + Duration::hours(12))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.msg().contains("12 h limit"), "{}", err.msg());
}

/// E1: logout and an administrator's revocation end a session at once; disabling an account
/// ends all its sessions and tokens and refuses its login.
#[tokio::test]
async fn e1_logout_revoke_and_disable() {
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("erin", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let now = Utc::now();
    let a = e.acc.login("erin", PW, None, peer(1), now).await.unwrap();
    let b = e.acc.login("erin", PW, None, peer(2), now).await.unwrap();
    let listed = e.acc.sessions(Some("erin"), now).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].peer.as_deref(), Some("192.0.2.1"));

    e.acc.logout(&a.token).await.unwrap();
    let err = e.acc.authenticate_session(&a.token, now).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.msg().contains("ended"), "{}", err.msg());
    e.acc.authenticate_session(&b.token, now).await.unwrap();

    e.acc.revoke_session(ADMIN, &b.session_id).await.unwrap();
    assert!(e.acc.authenticate_session(&b.token, now).await.is_err());
    assert!(e.acc.sessions(Some("erin"), now).await.unwrap().is_empty());
    let err = e
        .acc
        .revoke_session(ADMIN, &b.session_id)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let c = e.acc.login("erin", PW, None, peer(1), now).await.unwrap();
    let tok = e
        .acc
        .create_api_token(ADMIN, "erin", "export script", None)
        .await
        .unwrap();
    e.acc.disable_user(ADMIN, "erin").await.unwrap();
    assert!(e.acc.authenticate_session(&c.token, now).await.is_err());
    assert!(e.acc.authenticate_bearer(&tok.token, now).await.is_err());
    let err = e
        .acc
        .login("erin", PW, None, peer(1), now)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.msg().contains("disabled"), "{}", err.msg());
    e.acc.enable_user(ADMIN, "erin").await.unwrap();
    let d = e.acc.login("erin", PW, None, peer(1), now).await.unwrap();

    // Ended sessions are forgotten after 30 days; live ones are kept.
    assert_eq!(e.acc.purge_sessions(now).await.unwrap(), 0);
    let later = now + Duration::days(31);
    assert_eq!(e.acc.purge_sessions(later).await.unwrap(), 5);
    assert!(
        e.store
            .session_by_id(&a.session_id)
            .await
            .unwrap()
            .is_none()
    );
    let f = e.acc.login("erin", PW, None, peer(1), later).await.unwrap();
    assert_eq!(e.acc.purge_sessions(later).await.unwrap(), 0);
    assert!(e.acc.authenticate_session(&f.token, later).await.is_ok());
    assert!(e.acc.authenticate_session(&d.token, later).await.is_err());
}

/// E1: API tokens authenticate as bearer tokens only, need no CSRF token, end at their end
/// date or on revocation; sessions need their CSRF token for changes.
#[tokio::test]
async fn e1_bearer_token_and_csrf() {
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("frank", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let now = Utc::now();
    let tok = e
        .acc
        .create_api_token(ADMIN, "frank", "metrics", Some(now + Duration::days(2)))
        .await
        .unwrap();
    assert!(tok.token.starts_with("cst_"));
    let a = e.acc.authenticate_bearer(&tok.token, now).await.unwrap();
    assert_eq!(a.via, Via::Token);
    assert_eq!(a.user.name, "frank");
    assert_eq!(a.session_id, tok.id);
    a.check_csrf(None).unwrap();
    // A token is not a cookie, nor a cookie a token.
    assert!(e.acc.authenticate_session(&tok.token, now).await.is_err());
    let l = e.acc.login("frank", PW, None, peer(1), now).await.unwrap();
    assert!(e.acc.authenticate_bearer(&l.token, now).await.is_err());
    assert!(e.acc.authenticate_bearer("cst_made-up", now).await.is_err());
    // Its end.
    let err = e
        .acc
        .authenticate_bearer(&tok.token, now + Duration::days(2))
        .await
        .unwrap_err();
    assert!(err.msg().contains("expired"), "{}", err.msg());
    // Default lifetime 90 days; revocation.
    let t2 = e
        .acc
        .create_api_token(ADMIN, "frank", "backup", None)
        .await
        .unwrap();
    assert!(t2.expires_at > now + Duration::days(89));
    let listed = e.acc.sessions(Some("frank"), now).await.unwrap();
    assert_eq!(listed.iter().filter(|s| s.via == Via::Token).count(), 2);
    e.acc.revoke_session(ADMIN, &t2.id).await.unwrap();
    assert!(e.acc.authenticate_bearer(&t2.token, now).await.is_err());

    // CSRF.
    let s = e.acc.authenticate_session(&l.token, now).await.unwrap();
    assert_eq!(
        s.check_csrf(None).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        s.check_csrf(Some("forged")).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    s.check_csrf(Some(&l.csrf)).unwrap();
    let other = e.acc.login("frank", PW, None, peer(1), now).await.unwrap();
    assert!(
        s.check_csrf(Some(&other.csrf)).is_err(),
        "CSRF tokens are per session"
    );
}

/// E1: with TOTP on, login needs a current code, a code is accepted once, and wrong codes
/// count towards the lockout.
#[tokio::test]
async fn e1_totp_second_factor() {
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("gina", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let uri = e.acc.enroll_totp("gina").await.unwrap();
    assert!(
        uri.starts_with("otpauth://totp/custos:gina?secret="),
        "{uri}"
    );
    let row = e.store.account_by_name("gina").await.unwrap().unwrap();
    let key = row.totp_secret.unwrap();
    assert!(uri.contains(&totp::base32(&key)));
    let code = |t: DateTime<Utc>| totp::totp(totp::Algorithm::Sha1, &key, t.timestamp(), 6);
    // Not required until confirmed.
    e.acc.login("gina", PW, None, peer(1), t0()).await.unwrap();
    let err = e.acc.confirm_totp(ADMIN, "gina", "000000", t0()).await;
    if code(t0()) != "000000" {
        assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
    e.acc
        .confirm_totp(ADMIN, "gina", &code(t0()), t0())
        .await
        .unwrap();
    assert!(e.acc.user("gina").await.unwrap().totp_enabled);

    let t1 = t0() + Duration::seconds(60);
    let err = e
        .acc
        .login("gina", PW, None, peer(1), t1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.msg().contains("second factor"), "{}", err.msg());
    // The confirmation's code cannot be replayed.
    assert!(
        e.acc
            .login("gina", PW, Some(&code(t0())), peer(1), t0())
            .await
            .is_err()
    );
    e.acc
        .login("gina", PW, Some(&code(t1)), peer(1), t1)
        .await
        .unwrap();
    let err = e
        .acc
        .login("gina", PW, Some(&code(t1)), peer(1), t1)
        .await
        .unwrap_err();
    assert!(err.msg().contains("already used"), "{}", err.msg());
    let far = code(t1 + Duration::minutes(10));
    let err = e
        .acc
        .login("gina", PW, Some(&far), peer(1), t1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    e.acc.settled().await;
    let after = e.store.account_by_name("gina").await.unwrap().unwrap();
    assert_eq!(
        after.failed_logins, 2,
        "wrong codes count towards the lockout"
    );

    e.acc.disable_totp(ADMIN, "gina").await.unwrap();
    e.acc.login("gina", PW, None, peer(1), t1).await.unwrap();
}

/// D5: a watch operator is on duty for the scopes of their watch_operator grants only while a
/// shift is open (and for at most 12 hours); duty never widens their scope.
#[tokio::test]
async fn d5_on_duty_principal_from_the_shift() {
    let e = env().await;
    let u = e
        .acc
        .add_user_local(
            ADMIN,
            NewUser::new("hana", g(Role::WatchOperator, "local/s1"), PW),
        )
        .await
        .unwrap();
    let now = t0();
    assert!(
        denied(decide(
            &u.principal(now),
            Action::ViewLive,
            &cam("s1", "c1"),
            now
        ))
        .starts_with("D5")
    );

    let u = e.acc.start_shift("hana", now).await.unwrap();
    assert!(u.on_duty(now));
    assert_eq!(
        serde_json::to_value(u.view(now)).unwrap(),
        serde_json::json!({"name": "hana", "roles": [{"role": "watch_operator", "role_zh": "值班员",
            "scope": "local/s1"}], "clearance": "public", "disabled": false,
            "must_change_password": false, "totp": false, "on_duty": true})
    );
    let p = e.acc.user("hana").await.unwrap().principal(now);
    assert_eq!(
        p.on_duty_for,
        Some([Scope::system(DEFAULT_ORG, "s1")].into_iter().collect())
    );
    assert!(decide(&p, Action::ViewLive, &cam("s1", "c1"), now).is_allowed());
    assert!(denied(decide(&p, Action::ViewLive, &cam("s2", "c1"), now)).starts_with("E1"));
    // A shift left open stops counting after 12 hours.
    let late = now + Duration::hours(12);
    assert!(
        denied(decide(
            &e.acc.user("hana").await.unwrap().principal(late),
            Action::ViewLive,
            &cam("s1", "c1"),
            late
        ))
        .starts_with("D5")
    );
    // Ending the shift ends duty.
    assert!(
        e.acc
            .end_shift("hana", now + Duration::hours(1))
            .await
            .unwrap()
    );
    let t = now + Duration::hours(2);
    assert!(
        denied(decide(
            &e.acc.user("hana").await.unwrap().principal(t),
            Action::ViewLive,
            &cam("s1", "c1"),
            t
        ))
        .starts_with("D5")
    );
    assert!(!e.acc.end_shift("hana", t).await.unwrap());

    e.acc
        .add_user(ADMIN, NewUser::new("ivan", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let err = e.acc.start_shift("ivan", now).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    assert!(err.msg().starts_with("D5"), "{}", err.msg());
}

/// Separation of duties: the first-start administrator manages accounts but gets no footage
/// rights; with a generated one-time password it has no rights at all until it changes it.
#[tokio::test]
async fn e1_bootstrap_admin_separation_of_duties() {
    let e = env().await;
    let pw = e
        .acc
        .bootstrap_admin(None)
        .await
        .unwrap()
        .expect("first start");
    assert_eq!(pw.len(), password::GENERATED_LEN);
    assert_eq!(
        e.acc.bootstrap_admin(None).await.unwrap(),
        None,
        "only once"
    );
    let now = Utc::now();
    let l = e
        .acc
        .login(BOOTSTRAP_ADMIN, &pw, None, peer(1), now)
        .await
        .unwrap();
    assert!(l.user.must_change_password);
    let org = Resource::at(Scope::organisation(DEFAULT_ORG), Classification::Public);
    assert!(!decide(&l.user.principal(now), Action::ManageUsers, &org, now).is_allowed());
    let err = e
        .acc
        .change_password(BOOTSTRAP_ADMIN, "wrong one", "a new secret phrase", now)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    e.acc
        .change_password(BOOTSTRAP_ADMIN, &pw, "a new secret phrase", now)
        .await
        .unwrap();
    let u = e.acc.user(BOOTSTRAP_ADMIN).await.unwrap();
    assert!(!u.must_change_password);
    assert_eq!(u.grants, g(Role::Administrator, DEFAULT_ORG));
    let p = u.principal(now);
    assert!(decide(&p, Action::ManageUsers, &org, now).is_allowed());
    for a in [
        Action::ViewLive,
        Action::Playback,
        Action::Export,
        Action::CopyTransmit,
    ] {
        let why = denied(decide(&p, a, &cam("s1", "c1"), now));
        assert!(why.starts_with("separation of duties"), "{a}: {why}");
    }
    // The last administrator cannot be disabled or demoted.
    assert_eq!(
        e.acc
            .disable_user("x", BOOTSTRAP_ADMIN)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::FailedPrecondition
    );
    // A chosen password (from the environment or standard input) is kept.
    let e2 = env().await;
    assert_eq!(
        e2.acc
            .bootstrap_admin(Some("chosen door phrase"))
            .await
            .unwrap(),
        None
    );
    let l = e2
        .acc
        .login(BOOTSTRAP_ADMIN, "chosen door phrase", None, peer(1), now)
        .await
        .unwrap();
    assert!(!l.user.must_change_password);
    assert!(
        e2.acc.bootstrap_admin(Some("short")).await.is_ok(),
        "accounts exist: nothing to do"
    );
}

/// E4: every account change is a ledger entry naming who did it, and no entry holds a
/// secret.
#[tokio::test]
async fn e4_every_account_change_is_in_the_ledger() {
    let e = env().await;
    e.acc
        .bootstrap_admin(Some("chosen door phrase"))
        .await
        .unwrap();
    e.acc
        .add_user(
            "admin",
            NewUser::new("jo", g(Role::WatchOperator, "local/s1"), PW),
        )
        .await
        .unwrap();
    e.acc
        .set_roles(
            "admin",
            "jo",
            g(Role::WatchOperator, "local"),
            Classification::Internal,
            None,
            None,
        )
        .await
        .unwrap();
    e.acc
        .set_password("admin", "jo", "reset by admin 1")
        .await
        .unwrap();
    e.acc.disable_user("admin", "jo").await.unwrap();
    e.acc.enable_user("admin", "jo").await.unwrap();
    e.acc.unlock_user("admin", "jo").await.unwrap();
    let tok = e
        .acc
        .create_api_token("admin", "jo", "wall display", None)
        .await
        .unwrap();
    e.acc.revoke_session("admin", &tok.id).await.unwrap();
    e.acc.enroll_totp("jo").await.unwrap();
    let key = e
        .store
        .account_by_name("jo")
        .await
        .unwrap()
        .unwrap()
        .totp_secret
        .unwrap();
    let now = Utc::now();
    let code = totp::totp(totp::Algorithm::Sha1, &key, now.timestamp(), 6);
    e.acc.confirm_totp("admin", "jo", &code, now).await.unwrap();
    e.acc.disable_totp("admin", "jo").await.unwrap();
    let l = e
        .acc
        .login("jo", "reset by admin 1", None, peer(1), now)
        .await
        .unwrap();
    e.acc.start_shift("jo", now).await.unwrap();

    let got = admin_changes(&e.journal);
    let changes: Vec<&str> = got.iter().map(|(_, c, _)| c.as_str()).collect();
    assert_eq!(
        changes,
        [
            "add",
            "add",
            "roles",
            "password",
            "disable",
            "enable",
            "unlock",
            "api_token",
            "revoke_session",
            "totp_on",
            "totp_off"
        ]
    );
    assert_eq!(
        got[0],
        ("custos (first start)".into(), "add".into(), "admin".into())
    );
    assert!(
        got[1..]
            .iter()
            .all(|(by, _, user)| by == "admin" && user == "jo")
    );
    let l2 = e.journal.ledger();
    let all = l2.entries(0..l2.len()).unwrap();
    assert!(
        all.iter()
            .any(|x| x.action.as_str() == "Login" && x.actor == "jo")
    );
    assert!(
        all.iter()
            .any(|x| x.action.as_str() == "Duty" && x.details["change"] == "shift_start")
    );
    let text = serde_json::to_string(&all.iter().map(|x| &x.details).collect::<Vec<_>>()).unwrap();
    for secret in [
        PW,
        "reset by admin 1",
        "chosen door phrase",
        &tok.token,
        &l.token,
        &l.csrf,
    ] {
        assert!(!text.contains(secret), "the ledger holds a secret");
    }
    assert!(!text.contains("$argon2id$"));
}

/// E4 fail closed: while the ledger cannot take an entry, accounts are neither changed nor
/// logged in, and nothing is half done.
#[tokio::test]
async fn e4_change_refused_when_the_ledger_cannot_record_it() {
    use nix::fcntl::{Flock, FlockArg};
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("kim", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let before = e.journal.ledger().len();
    e.journal
        .ledger()
        .set_lock_timeout(std::time::Duration::from_millis(200));
    let lock_file = std::fs::File::open(e.data.join("ledger/lock")).unwrap();
    let held = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).unwrap();

    let err = e
        .acc
        .add_user(ADMIN, NewUser::new("lee", g(Role::Auditor, "local"), PW))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(
        err.msg()
            .contains("could not be recorded in the ledger (E4)"),
        "{}",
        err.msg()
    );
    assert_eq!(
        e.acc.user("lee").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(e.acc.disable_user(ADMIN, "kim").await.is_err());
    assert!(e.acc.user("kim").await.unwrap().disabled_at.is_none());
    assert!(
        e.acc
            .create_api_token(ADMIN, "kim", "x", None)
            .await
            .is_err()
    );
    assert!(
        e.acc
            .set_password(ADMIN, "kim", "another password")
            .await
            .is_err()
    );
    let err = e
        .acc
        .login("kim", PW, None, peer(1), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(e.acc.sessions(None, Utc::now()).await.unwrap().is_empty());
    assert_eq!(e.journal.ledger().len(), before);

    drop(held);
    e.acc
        .login("kim", PW, None, peer(1), Utc::now())
        .await
        .unwrap();
    e.acc
        .add_user(ADMIN, NewUser::new("lee", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
}

/// Account names, roles and passwords are checked before anything is stored.
#[tokio::test]
async fn e1_bad_accounts_refused() {
    let e = env().await;
    for (name, grants, pw, kind) in [
        (
            "bad name",
            g(Role::Auditor, "local"),
            PW,
            ErrorKind::InvalidArgument,
        ),
        (
            "-x",
            g(Role::Auditor, "local"),
            PW,
            ErrorKind::InvalidArgument,
        ),
        ("ok", vec![], PW, ErrorKind::InvalidArgument),
        (
            "ok",
            g(Role::Auditor, "local"),
            "short",
            ErrorKind::InvalidArgument,
        ),
    ] {
        let err = e
            .acc
            .add_user(ADMIN, NewUser::new(name, grants, pw))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {}", err.msg());
    }
    let mut both = g(Role::Administrator, "local");
    both.extend(g(Role::Auditor, "local"));
    let err = e
        .acc
        .add_user(ADMIN, NewUser::new("both", both, PW))
        .await
        .unwrap_err();
    assert!(err.msg().contains("separation of duties"), "{}", err.msg());
    e.acc
        .add_user(ADMIN, NewUser::new("张三", g(Role::Inspector, "local"), PW))
        .await
        .unwrap();
    let err = e
        .acc
        .add_user(ADMIN, NewUser::new("张三", g(Role::Inspector, "local"), PW))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(
        admin_changes(&e.journal).len(),
        1,
        "refused accounts leave no entry"
    );
}

/// Latency of a login (one Argon2id verification plus a ledger entry and a session row) and of
/// a session check, on this machine:
/// `cargo test -p custos-auth bench_login_latency -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn bench_login_latency() {
    let e = env().await;
    e.acc
        .add_user(ADMIN, NewUser::new("perf", g(Role::Auditor, "local"), PW))
        .await
        .unwrap();
    let mut logins = Vec::new();
    let mut checks = Vec::new();
    let mut token = String::new();
    for _ in 0..20 {
        let s = Instant::now();
        let l = e
            .acc
            .login("perf", PW, None, peer(1), Utc::now())
            .await
            .unwrap();
        logins.push(s.elapsed());
        token = l.token;
    }
    for _ in 0..200 {
        let s = Instant::now();
        e.acc
            .authenticate_session(&token, Utc::now())
            .await
            .unwrap();
        checks.push(s.elapsed());
    }
    let s = Instant::now();
    password::hash(PW).unwrap();
    let hash = s.elapsed();
    logins.sort();
    checks.sort();
    println!(
        "argon2id hash {hash:?}; login median {:?} (p95 {:?}) over 20; session check median {:?} (p95 {:?}) over 200",
        logins[10], logins[18], checks[100], checks[190]
    );
}
