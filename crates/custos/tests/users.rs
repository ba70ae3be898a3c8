//! `custos users` end to end (E1, E4, E10): the real binary against a data directory, the
//! password on standard input, the results read back from the database and the ledger.

#[allow(unused_imports)]
mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{custos, custos_ok, stderr, stdout};

/// Runs `custos ARGS` with `input` on standard input.
fn custos_in(args: &[&str], input: &str) -> Output {
    let mut child = Command::new("timeout")
        .args(["-k", "5", "60", common::bin()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run custos");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn password_hashes(data: &Path) -> Vec<(String, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Row;
        let url = format!("sqlite://{}?mode=ro", data.join("custos.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows = sqlx::query("SELECT name, password_hash FROM account ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    })
}

/// E1, E4: `users add --password-stdin` creates an account with an Argon2id hash (the
/// password itself is stored nowhere), `users list` shows it, and the ledger has the change.
#[test]
fn e1_e4_users_add_with_password_stdin_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let o = custos_in(
        &[
            "users",
            "add",
            "wang",
            "--role",
            "watch_operator",
            "--scope",
            "local/s1",
            "--scope",
            "local/s2/gate",
            "--password-stdin",
            "--data",
            d,
        ],
        "blue river morning\n",
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("account wang created"),
        "{}",
        stdout(&o)
    );
    let o = custos_in(
        &[
            "users",
            "add",
            "li",
            "--role",
            "auditor",
            "--password-stdin",
            "--data",
            d,
        ],
        "green hill evening\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));

    let table = custos_ok(&["users", "list", "--data", d]);
    assert!(table.contains("wang") && table.contains("li"), "{table}");
    assert!(
        table.contains("watch_operator (值班员) in local/s1"),
        "{table}"
    );
    assert!(table.contains("auditor (审计员) in local"), "{table}");

    let v: serde_json::Value =
        serde_json::from_str(&custos_ok(&["users", "list", "--json", "--data", d])).unwrap();
    let users = v.as_array().unwrap();
    assert_eq!(users.len(), 2);
    let wang = users.iter().find(|u| u["name"] == "wang").unwrap();
    let scopes: Vec<String> = wang["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            assert_eq!(g["role"], "watch_operator");
            g["scope"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(scopes, ["local/s1", "local/s2/gate"]);
    assert_eq!(wang["must_change_password"], false);

    let hashes = password_hashes(&data);
    assert_eq!(hashes.len(), 2);
    for (name, h) in &hashes {
        assert!(
            h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{name}: {h}"
        );
        assert!(!h.contains("river") && !h.contains("hill"));
    }

    // E4: both additions are ledger entries, and the ledger verifies.
    let out = custos_ok(&["verify", "--data", d]);
    assert!(!out.is_empty());
    let log = std::fs::read(data.join("ledger/entries.log")).unwrap();
    let text = String::from_utf8_lossy(&log);
    assert_eq!(text.matches("AdminChange").count(), 2, "{text}");
    assert!(!text.contains("blue river morning"));

    // Disable, token, password: each changes what list shows or prints.
    custos_ok(&["users", "disable", "li", "--data", d]);
    let v: serde_json::Value =
        serde_json::from_str(&custos_ok(&["users", "list", "--json", "--data", d])).unwrap();
    let li = v
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "li")
        .unwrap()
        .clone();
    assert!(li["disabled_at"].is_string(), "{li}");
    let tok = custos_ok(&[
        "users",
        "token",
        "wang",
        "--label",
        "wall display",
        "--data",
        d,
    ]);
    assert!(
        tok.trim().starts_with("cst_") && tok.trim().len() == 47,
        "{tok}"
    );
    let o = custos_in(
        &["users", "passwd", "wang", "--password-stdin", "--data", d],
        "short\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("at least 12"), "{}", stderr(&o));
    let o = custos_in(
        &["users", "passwd", "wang", "--password-stdin", "--data", d],
        "a fresh long password\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(custos_ok(&["users", "list", "--data", d]).contains("must change password"));
    let text = String::from_utf8_lossy(&std::fs::read(data.join("ledger/entries.log")).unwrap())
        .into_owned();
    assert_eq!(text.matches("AdminChange").count(), 5, "{text}");
}

/// A role that does not exist is a usage error (exit 2) naming the roles that do.
#[test]
fn e1_users_add_bad_role_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = custos_in(
        &[
            "users",
            "add",
            "x",
            "--role",
            "superuser",
            "--password-stdin",
            "--data",
            d,
        ],
        "blue river morning\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("unknown role \"superuser\""), "{e}");
    assert!(
        e.contains("watch_operator") && e.contains("police_approver"),
        "{e}"
    );
    let o = custos_in(
        &[
            "users",
            "add",
            "x",
            "--role",
            "auditor",
            "--scope",
            "org//a",
            "--password-stdin",
            "--data",
            d,
        ],
        "blue river morning\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad scope"), "{}", stderr(&o));
    // Without --password-stdin nothing is created.
    let o = custos(&["users", "add", "x", "--role", "auditor", "--data", d]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--password-stdin"), "{}", stderr(&o));
}

/// E10: a maintainer (contractor) account without an end date, or wider than one system, is
/// refused (exit 2, saying why); with both it is created.
#[test]
fn e10_users_add_maintainer_needs_expiry_and_system_scope() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = custos_in(
        &[
            "users",
            "add",
            "fixer",
            "--role",
            "maintainer",
            "--scope",
            "local/s1",
            "--password-stdin",
            "--data",
            d,
        ],
        "blue river morning\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("E10"), "{}", stderr(&o));
    let o = custos_in(
        &[
            "users",
            "add",
            "fixer",
            "--role",
            "maintainer",
            "--expires",
            "2099-01-01T00:00:00Z",
            "--password-stdin",
            "--data",
            d,
        ],
        "blue river morning\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("E10: contractor accounts are scoped"),
        "{}",
        stderr(&o)
    );
    let o = custos_in(
        &[
            "users",
            "add",
            "fixer",
            "--role",
            "maintainer",
            "--scope",
            "local/s1",
            "--expires",
            "2099-01-01T00:00:00+08:00",
            "--password-stdin",
            "--data",
            d,
        ],
        "blue river morning\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&custos_ok(&["users", "list", "--json", "--data", d])).unwrap();
    assert_eq!(v[0]["name"], "fixer");
    assert_eq!(v[0]["expires_at"], "2098-12-31T16:00:00Z");
}

/// RFC 4648 base32 (no padding) back to bytes.
fn base32_decode(s: &str) -> Vec<u8> {
    let (mut buf, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        buf = (buf << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

/// E1: `users totp` enrols (an otpauth:// URI an authenticator app reads), a wrong code is
/// refused, the app's current code turns TOTP on, `--off` turns it off; each change is in the
/// ledger.
#[test]
fn e1_users_totp_enrol_confirm_and_off() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = custos_in(
        &[
            "users",
            "add",
            "zhao",
            "--role",
            "inspector",
            "--password-stdin",
            "--data",
            d,
        ],
        "blue river morning\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let uri = custos_ok(&["users", "totp", "zhao", "--data", d]);
    let uri = uri.trim();
    assert!(
        uri.starts_with("otpauth://totp/custos:zhao?secret="),
        "{uri}"
    );
    assert!(
        uri.ends_with("&issuer=custos&algorithm=SHA1&digits=6&period=30"),
        "{uri}"
    );
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let key = base32_decode(secret);
    assert_eq!(key.len(), 20);
    let now = chrono::Utc::now().timestamp();
    let code = custos_auth::totp::totp(custos_auth::totp::Algorithm::Sha1, &key, now, 6);
    // A code from an hour ago is not accepted.
    let stale = custos_auth::totp::totp(custos_auth::totp::Algorithm::Sha1, &key, now - 3600, 6);
    if stale != code {
        let o = custos(&["users", "totp", "zhao", "--confirm", &stale, "--data", d]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("wrong TOTP code"), "{}", stderr(&o));
    }
    custos_ok(&["users", "totp", "zhao", "--confirm", &code, "--data", d]);
    let v: serde_json::Value =
        serde_json::from_str(&custos_ok(&["users", "list", "--json", "--data", d])).unwrap();
    assert_eq!(v[0]["totp_enabled"], true);
    custos_ok(&["users", "totp", "zhao", "--off", "--data", d]);
    let v: serde_json::Value =
        serde_json::from_str(&custos_ok(&["users", "list", "--json", "--data", d])).unwrap();
    assert_eq!(v[0]["totp_enabled"], false);
    let log = std::fs::read(dir.path().join("ledger/entries.log")).unwrap();
    let text = String::from_utf8_lossy(&log);
    assert!(
        text.contains("totp_on") && text.contains("totp_off"),
        "{text}"
    );
    assert!(!text.contains(secret));
}
