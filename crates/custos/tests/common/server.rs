//! `custos serve` as a child process, and an HTTP client that trusts its self-signed
//! certificate, for the server tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The administrator password the tests start the server with (CUSTOS_ADMIN_PASSWORD).
pub const ADMIN_PW: &str = "root-secret-for-tests";
/// The password of accounts the tests create.
pub const USER_PW: &str = "user-password-for-tests";

pub struct Served {
    pub child: Option<Child>,
    /// e.g. `https://127.0.0.1:41234`
    pub base: String,
    pub data: PathBuf,
    pub printed: Vec<String>,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.replacen("http", "ws", 1))
    }
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }
    /// SIGTERM and wait; returns stderr.
    pub fn stop(&mut self) -> String {
        let child = self.child.take().expect("running");
        let out = super::terminate(child);
        super::stderr(&out)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `custos serve --data DATA [--config CONFIG] --listen 127.0.0.1:0 EXTRA…` and waits
/// for its `console:` line.
pub fn serve(data: &Path, config: Option<&Path>, extra: &[&str]) -> Served {
    let mut cmd = Command::new(super::bin());
    cmd.arg("serve").arg("--data").arg(data);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    super::console_env(&mut cmd);
    cmd.args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("CUSTOS_ADMIN_PASSWORD", ADMIN_PW)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn custos serve");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let base = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                printed.push(l.clone());
                if let Some(u) = l.strip_prefix("console: ") {
                    break u.trim_end_matches('/').to_owned();
                }
            }
            Err(_) => {
                let _ = child.kill();
                let o = child.wait_with_output().unwrap();
                panic!(
                    "custos serve printed no `console:` line: {printed:?} {}",
                    super::stderr(&o)
                );
            }
        }
    };
    Served {
        child: Some(child),
        base,
        data: data.to_owned(),
        printed,
    }
}

/// A client with a cookie jar that accepts the server's self-signed certificate (the
/// certificate itself is tested by fingerprint elsewhere).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A logged-in browser-like session: client with the cookie, and the CSRF token.
pub struct Session {
    pub http: reqwest::Client,
    pub csrf: String,
}

impl Session {
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }
    pub async fn post(&self, url: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(url)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

pub async fn login(s: &Served, user: &str, password: &str) -> Session {
    let http = client();
    let r = http
        .post(s.url("/api/login"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 200, "login of {user} failed: {body}");
    Session {
        http,
        csrf: body["csrf"].as_str().unwrap().to_owned(),
    }
}

/// Creates an account through the API as the administrator.
pub async fn add_user(s: &Served, name: &str, role: &str, scopes: &[&str], expires: Option<&str>) {
    let admin = login(s, "admin", ADMIN_PW).await;
    let r = admin
        .post(
            &s.url("/api/users"),
            serde_json::json!({"name": name, "password": USER_PW, "role": role, "scopes": scopes, "expires": expires}),
        )
        .await;
    let status = r.status();
    assert_eq!(status, 201, "adding {name}: {}", r.text().await.unwrap());
    first_login(s, name).await;
}

/// What the owner of an account an administrator created does at first login (E1): change
/// the password the administrator chose (here to another and back to [`USER_PW`], so that the
/// tests keep logging in with it). Until then the account has no rights.
pub async fn first_login(s: &Served, name: &str) {
    let tmp = format!("{USER_PW}-own");
    for (old, new) in [(USER_PW, tmp.as_str()), (tmp.as_str(), USER_PW)] {
        let me = login(s, name, old).await;
        let r = me
            .post(
                &s.url("/api/password"),
                serde_json::json!({"old_password": old, "new_password": new}),
            )
            .await;
        let status = r.status();
        assert_eq!(
            status,
            204,
            "first login of {name}: {}",
            r.text().await.unwrap()
        );
    }
}

/// Carries a view request through the procedure (H1–H3) over HTTPS and returns its id: police
/// account `officer` drafts it for `camera` × [`from`, `to`) (RFC 3339) with two officers and a
/// unit letter and submits it, `approver` (role police_approver) approves, `releaser` (the
/// camera's watch operator) releases it for an hour.
pub async fn released_view_request(
    s: &Served,
    officer: &str,
    approver: &str,
    releaser: &str,
    camera: &str,
    from: &str,
    to: &str,
) -> i64 {
    use base64::Engine;
    let po = login(s, officer, USER_PW).await;
    let r = po
        .post(
            &s.url("/api/requests"),
            serde_json::json!({
                "organ": "某市公安局某分局", "organ_type": "police",
                "purpose": "查找走失人员", "legal_basis": "调取证据通知书 2026-002",
                "kind": "view",
                "cameras": [{"camera": camera, "from": from, "to": to}],
                "officers": [{"name": "张伟", "work_id": "110101"}, {"name": "李娜", "work_id": "110102"}],
            }),
        )
        .await;
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 201, "drafting a request: {v}");
    let id = v["id"].as_i64().unwrap();
    let letter = base64::engine::general_purpose::STANDARD.encode("介绍信");
    let steps = [
        (
            &po,
            format!("/api/requests/{id}/documents"),
            serde_json::json!({"kind": "unit_letter", "title": "介绍信", "content_base64": letter}),
        ),
        (
            &po,
            format!("/api/requests/{id}/submit"),
            serde_json::json!({}),
        ),
    ];
    for (who, path, body) in steps {
        let r = who.post(&s.url(&path), body).await;
        let status = r.status();
        assert!(status.is_success(), "{path}: {}", r.text().await.unwrap());
    }
    let head = login(s, approver, USER_PW).await;
    let r = head
        .post(
            &s.url(&format!("/api/requests/{id}/approve")),
            serde_json::json!({"work_id": "110001", "unit": "某市公安局某分局", "unit_type": "police"}),
        )
        .await;
    let status = r.status();
    assert!(
        status.is_success(),
        "approving: {}",
        r.text().await.unwrap()
    );
    let op = login(s, releaser, USER_PW).await;
    let r = op
        .post(
            &s.url(&format!("/api/requests/{id}/release")),
            serde_json::json!({"valid_hours": 1}),
        )
        .await;
    let status = r.status();
    assert!(
        status.is_success(),
        "releasing: {}",
        r.text().await.unwrap()
    );
    id
}
