//! `custos serve` end to end: TLS by default, every API route behind a session, deny by
//! default with the denial in the ledger, CSRF, lockout, duty-bound live view streaming fMP4
//! that ffprobe decodes, playback with Range/ETag registered in the ledger, metrics.

mod common;

use std::time::{Duration, Instant};

use common::server::{ADMIN_PW, Served, USER_PW, add_user, client, first_login, login, serve};
use common::*;
use futures::{SinkExt, StreamExt};

/// A small camera with a sub stream.
fn cam_with_sub() -> CamsimOptions {
    CamsimOptions {
        sub_streams: true,
        ..small_cam("h264")
    }
}

fn one_camera(dir: &std::path::Path, sim: &Camsim) -> std::path::PathBuf {
    let extra = format!(
        "sub_url = \"{}\"\narea = \"local/main/gate\"",
        sim.sub_url(1)
    );
    write_config(dir, 10, &[("cam1", sim.url(1), extra.as_str())])
}

fn data_only() -> (tempfile::TempDir, Served) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let s = serve(&data, None, &[]);
    (tmp, s)
}

/// E1/E8: without a session, every `/api` route answers 401 — enumerated from the server's
/// own OpenAPI document, so a new route cannot slip through — except login and the probe.
#[tokio::test(flavor = "multi_thread")]
async fn e1_every_api_route_needs_a_session() {
    let (_tmp, s) = data_only();
    let http = client();
    let spec: serde_json::Value = http
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            // Public by law: the catalogue of systems that must connect (I1) and complaints
            // about the supervising agencies, which anyone may file without an account (J3).
            // H4: the applicant of a citizen view session has no account; opening takes the
            // one-time code, watching the viewer cookie (checked in tests/citizen.rs).
            let public = matches!(
                (method.as_str(), path.as_str()),
                ("post", "/api/login")
                    | ("get", "/api/healthz")
                    | ("get", "/api/public/catalogue")
                    | ("post", "/api/public/complaints")
                    | ("post", "/api/citizen/open")
                    | ("get", "/api/citizen/watch")
            );
            let url = s.url(
                &path
                    .replace("{name}", "cam1")
                    .replace("{id}", "0123456789abcdef"),
            );
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = http
                .request(m, &url)
                .query(&[
                    ("from", "2026-01-01T00:00:00Z"),
                    ("to", "2026-01-01T00:01:00Z"),
                    ("at", "2026-01-01T00:00:00Z"),
                ])
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            if public {
                assert_ne!(r.status(), 401, "{method} {path} must be public");
            } else {
                assert_eq!(
                    r.status(),
                    401,
                    "{method} {path} answered without a session"
                );
                let b: serde_json::Value = r.json().await.unwrap();
                assert_eq!(b["kind"], "unauthenticated", "{method} {path}: {b}");
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 15,
        "only {checked} operations in the OpenAPI document"
    );
    // Unknown API paths are JSON 404s, not the console.
    let r = http.get(s.url("/api/no-such-route")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

/// E8/E9: HTTPS by default — plain HTTP to the port fails; plain HTTP is refused unless on
/// loopback.
#[tokio::test(flavor = "multi_thread")]
async fn e8_tls_is_on_by_default_and_plain_http_only_on_loopback() {
    let (tmp, s) = data_only();
    assert!(s.base.starts_with("https://"), "{}", s.base);
    assert!(
        s.printed
            .iter()
            .any(|l| l.starts_with("certificate SHA-256: ")),
        "{:?}",
        s.printed
    );
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://127.0.0.1:{}/api/healthz", s.port()))
        .send()
        .await;
    assert!(
        r.as_ref().map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP was answered on the HTTPS port: {r:?}"
    );
    let ok = client().get(s.url("/api/healthz")).send().await.unwrap();
    assert_eq!(ok.text().await.unwrap(), "ok");
    // The certificate is kept across restarts.
    assert!(tmp.path().join("data/tls/cert.pem").exists());
    let o = custos(&[
        "serve",
        "--data",
        tmp.path().join("data").to_str().unwrap(),
        "--insecure-http",
        "--listen",
        "0.0.0.0:0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("loopback"), "{}", stderr(&o));
}

/// E1: deny by default. A watch operator of another area sees no camera and gets 403 (and
/// the denial is in the ledger, read back by an auditor); the administrator has no footage
/// rights (separation of duties).
#[tokio::test(flavor = "multi_thread")]
async fn e1_wrong_scope_is_403_and_the_denial_is_audited() {
    let sim = Camsim::start(&cam_with_sub()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = one_camera(tmp.path(), &sim);
    let s = serve(&tmp.path().join("data"), Some(&cfg), &[]);
    add_user(
        &s,
        "op-lobby",
        "watch_operator",
        &["local/main/lobby"],
        None,
    )
    .await;
    add_user(&s, "aud", "auditor", &["local"], None).await;
    let op = login(&s, "op-lobby", USER_PW).await;
    assert_eq!(
        op.post(&s.url("/api/duty"), serde_json::json!({"on": true}))
            .await
            .status(),
        200
    );
    let cams: serde_json::Value = op.get(&s.url("/api/cameras")).await.json().await.unwrap();
    assert_eq!(
        cams,
        serde_json::json!([]),
        "a camera outside the operator's scope is listed"
    );
    let r = op
        .get(
            &s.url(
                "/api/cameras/cam1/recordings?from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(r.status(), 403);
    let admin = login(&s, "admin", ADMIN_PW).await;
    let cams: serde_json::Value = admin
        .get(&s.url("/api/cameras"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cams,
        serde_json::json!([]),
        "the administrator sees footage"
    );
    let r = admin
        .get(&s.url("/api/cameras/cam1/view.mp4?from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"))
        .await;
    assert_eq!(r.status(), 403, "the administrator may play back footage");
    // The administrator cannot read the audit log either; the auditor can.
    assert_eq!(admin.get(&s.url("/api/audit")).await.status(), 403);
    let aud = login(&s, "aud", USER_PW).await;
    let page: serde_json::Value = aud
        .get(&s.url("/api/audit?action=AccessDenied&actor=op-lobby"))
        .await
        .json()
        .await
        .unwrap();
    let e = &page["entries"];
    assert!(
        e.as_array()
            .unwrap()
            .iter()
            .any(|x| x["object"] == "camera/cam1"),
        "no AccessDenied entry for op-lobby on camera/cam1: {page}"
    );
}

/// CSRF: a cookie session's POST needs the session's X-CSRF-Token.
#[tokio::test(flavor = "multi_thread")]
async fn e1_csrf_token_is_required_for_changes() {
    let (_tmp, s) = data_only();
    add_user(&s, "op", "watch_operator", &["local"], None).await;
    let op = login(&s, "op", USER_PW).await;
    let url = s.url("/api/duty");
    let body = serde_json::json!({"on": true});
    let none = op.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 403);
    let wrong = op
        .http
        .post(&url)
        .header("x-csrf-token", "not-the-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let right = op.post(&url, body).await;
    assert_eq!(right.status(), 200);
    let v: serde_json::Value = right.json().await.unwrap();
    assert_eq!(v["user"]["on_duty"], true);
}

/// Brute force: after five wrong passwords the account is locked — even the right password
/// is refused (429) and says until when.
#[tokio::test(flavor = "multi_thread")]
async fn e1_brute_force_locks_the_account() {
    let (_tmp, s) = data_only();
    add_user(&s, "op", "watch_operator", &["local"], None).await;
    let http = client();
    let try_login = |pw: &'static str| {
        let http = http.clone();
        let url = s.url("/api/login");
        async move {
            http.post(url)
                .json(&serde_json::json!({"username": "op", "password": pw}))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..5 {
        let st = try_login("wrong-password-xyz").await.status();
        // The fifth failure locks the account and says so.
        assert_eq!(st, if i < 4 { 401 } else { 429 }, "attempt {}", i + 1);
    }
    let r = try_login(USER_PW).await;
    assert_eq!(r.status(), 429);
    let b: serde_json::Value = r.json().await.unwrap();
    assert!(b["error"].as_str().unwrap().contains("until"), "{b}");
}

/// Logs in over the plain-HTTP loopback server and returns the cookie header value.
async fn cookie_for(s: &Served, user: &str) -> (String, String) {
    let r = reqwest::Client::new()
        .post(s.url("/api/login"))
        .json(&serde_json::json!({"username": user, "password": USER_PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let v: serde_json::Value = r.json().await.unwrap();
    (cookie, v["csrf"].as_str().unwrap().to_owned())
}

fn ws_request(
    s: &Served,
    path: &str,
    cookie: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = s.ws_url(path).into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req
}

/// D5 + E2: live view only for staff on duty; then the WebSocket carries a type line, an
/// init segment and per-frame fragments from a key frame, which ffprobe decodes; the view is
/// in the ledger.
#[tokio::test(flavor = "multi_thread")]
async fn d5_live_view_needs_duty_and_streams_decodable_fmp4() {
    let sim = Camsim::start(&cam_with_sub()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = one_camera(tmp.path(), &sim);
    let s = serve(&tmp.path().join("data"), Some(&cfg), &["--insecure-http"]);
    assert!(s.base.starts_with("http://127.0.0.1:"));
    let admin = {
        let r = reqwest::Client::new()
            .post(s.url("/api/login"))
            .json(&serde_json::json!({"username": "admin", "password": ADMIN_PW}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r
    };
    drop(admin);
    // Accounts through the plain server (same API).
    {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let r = http
            .post(s.url("/api/login"))
            .json(&serde_json::json!({"username": "admin", "password": ADMIN_PW}))
            .send()
            .await
            .unwrap();
        let csrf = r.json::<serde_json::Value>().await.unwrap()["csrf"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = http
            .post(s.url("/api/users"))
            .header("x-csrf-token", csrf)
            .json(&serde_json::json!({"name": "op", "password": USER_PW, "role": "watch_operator", "scopes": ["local/main/gate"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        first_login(&s, "op").await;
    }
    let (cookie, csrf) = cookie_for(&s, "op").await;
    wait_until(30.0, "cam1 online", || {
        let o = custos(&["health", "--data", s.data.to_str().unwrap(), "--json"]);
        stdout(&o).contains("\"online\"")
    });
    // Off duty: refused before the upgrade (asked like a browser's WebSocket handshake).
    let r = reqwest::Client::new()
        .get(s.url("/api/cameras/cam1/live?stream=sub"))
        .header("cookie", &cookie)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "live view off duty");
    let b: serde_json::Value = r.json().await.unwrap();
    assert!(b["error"].as_str().unwrap().contains("D5"), "{b}");
    let r = reqwest::Client::new()
        .post(s.url("/api/duty"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"on": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t0 = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_request(
        &s,
        "/api/cameras/cam1/live?stream=sub",
        &cookie,
    ))
    .await
    .expect("live view on duty");
    use tokio_tungstenite::tungstenite::Message;
    let hello = match ws.next().await.unwrap().unwrap() {
        Message::Text(t) => serde_json::from_str::<serde_json::Value>(&t).unwrap(),
        m => panic!("first message is not the type line: {m:?}"),
    };
    assert!(
        hello["mime"]
            .as_str()
            .unwrap()
            .starts_with("video/mp4; codecs=\"avc1."),
        "{hello}"
    );
    let mut bytes = Vec::new();
    let mut first_fragment = None;
    let mut fragments = 0;
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                if &b[4..8] == b"moof" {
                    first_fragment.get_or_insert(t0.elapsed());
                    fragments += 1;
                }
                bytes.extend_from_slice(&b);
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("live stream ended: {other:?}"),
        }
    }
    let _ = ws.send(Message::Close(None)).await;
    eprintln!(
        "live: first fragment after {:?}, {fragments} fragments in 3 s",
        first_fragment
    );
    assert!(
        fragments >= 20,
        "only {fragments} fragments in 3 s of a 15 fps camera"
    );
    let f = tmp.path().join("live.mp4");
    std::fs::write(&f, &bytes).unwrap();
    let frames = custos_testkit::ffprobe_frames(&f);
    assert!(
        frames.len() >= 20,
        "ffprobe decoded {} frames",
        frames.len()
    );
    assert!(frames[0].key_frame, "the first frame is not a key frame");
    let errs = custos_testkit::ffmpeg_decode_errors(&f);
    assert!(errs.trim().is_empty(), "decode errors: {errs}");
    // E2: the view is in the ledger.
    let o = custos_ok(&["verify", "--data", s.data.to_str().unwrap(), "--json"]);
    let _ = o;
}

/// E2 + playback: view.mp4 is registered before it is read, honours Range, ETag and
/// If-None-Match, and decodes; HLS names segment files served with byte ranges; thumbnails are
/// JPEG; /metrics reports the camera.
#[tokio::test(flavor = "multi_thread")]
async fn e2_playback_range_etag_thumbnail_and_metrics() {
    let sim = Camsim::start(&cam_with_sub()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = one_camera(tmp.path(), &sim);
    let s = serve(&tmp.path().join("data"), Some(&cfg), &[]);
    add_user(&s, "op", "watch_operator", &["local/main/gate"], None).await;
    add_user(&s, "aud", "auditor", &["local"], None).await;
    let op = login(&s, "op", USER_PW).await;
    // Wait for a sealed segment (10 s segments).
    let start = std::time::SystemTime::now();
    let from = rfc3339(custos_core::Time90k::from_system_time(start).0 + 2 * 90_000);
    let to = rfc3339(custos_core::Time90k::from_system_time(start).0 + 6 * 90_000);
    let url = s.url(&format!("/api/cameras/cam1/view.mp4?from={from}&to={to}"));
    let mut r = op.get(&url).await;
    let deadline = Instant::now() + Duration::from_secs(45);
    while r.status() == 404 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(2)).await;
        r = op.get(&url).await;
    }
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let len: u64 = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len() as u64, len);
    let f = tmp.path().join("view.mp4");
    std::fs::write(&f, &body).unwrap();
    let d = duration_of(&f);
    assert!((d - 4.0).abs() < 0.2, "duration {d} for a 4 s range");
    assert!(custos_testkit::ffmpeg_decode_errors(&f).trim().is_empty());
    // Range: the same bytes.
    let part = op
        .http
        .get(&url)
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-1999/{len}").as_str()
    );
    assert_eq!(&part.bytes().await.unwrap()[..], &body[1000..2000]);
    let tail = op
        .http
        .get(&url)
        .header("range", format!("bytes={}-", len - 10))
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(&tail.bytes().await.unwrap()[..], &body[body.len() - 10..]);
    let bad = op
        .http
        .get(&url)
        .header("range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 416);
    let same = op
        .http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 304);
    // HLS for scrubbing: the playlist names segment files readable with byte ranges.
    let pl = op
        .get(&s.url(&format!(
            "/api/cameras/cam1/playback.m3u8?from={from}&to={to}"
        )))
        .await;
    assert_eq!(pl.status(), 200);
    let pl = pl.text().await.unwrap();
    assert!(
        pl.starts_with("#EXTM3U") && pl.contains("#EXT-X-MAP:URI="),
        "{pl}"
    );
    let seg_uri = pl
        .lines()
        .find(|l| l.starts_with("/api/cameras/cam1/segments/"))
        .expect("a segment URI")
        .to_owned();
    let part = op
        .http
        .get(s.url(&seg_uri))
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(&part.bytes().await.unwrap()[4..8], b"ftyp");
    // A segment no playlist named for this account is refused.
    let other = op
        .get(&s.url("/api/cameras/cam1/segments/999999.mp4"))
        .await;
    assert_eq!(other.status(), 404);
    // Thumbnail.
    let th = op
        .get(&s.url(&format!(
            "/api/cameras/cam1/thumbnail.jpg?at={from}&width=160"
        )))
        .await;
    assert_eq!(th.status(), 200);
    assert_eq!(th.headers()["content-type"], "image/jpeg");
    assert_eq!(&th.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);
    // E2: registered, with who and what.
    let aud = login(&s, "aud", USER_PW).await;
    let page: serde_json::Value = aud
        .get(&s.url("/api/audit?action=Playback&actor=op"))
        .await
        .json()
        .await
        .unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["object"] == "camera/cam1/main" && e["details"]["from"].as_str().is_some()),
        "no playback entry: {page}"
    );
    // Metrics from loopback, without login.
    let m = client()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("custos_stream_fps{camera=\"cam1\",stream=\"main\"}"),
        "{m}"
    );
    assert!(m.contains("custos_ledger_entries"), "{m}");
}
