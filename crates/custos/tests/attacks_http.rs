//! Attacks on `custos serve` over HTTP (E1, E2, D5, C1, J3): each test performs one and
//! asserts it fails, against the real server and (where footage is involved) a real camera.

mod common;

use std::time::{Duration, Instant};

use common::server::{ADMIN_PW, Served, USER_PW, add_user, client, login, serve};
use common::*;
use futures::StreamExt;

fn data_only() -> (tempfile::TempDir, Served) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let s = serve(&data, None, &[]);
    (tmp, s)
}

/// E1 (lockout race): 20 wrong passwords sent at once are counted one by one — only four are
/// answered "wrong" — and no late failure clears the lock: the right password then gets 429
/// and the account shows as locked.
#[tokio::test(flavor = "multi_thread")]
async fn e1_attack_parallel_wrong_passwords_then_the_right_one_is_429() {
    let (_tmp, s) = data_only();
    add_user(&s, "op", "watch_operator", &["local"], None).await;
    let http = client();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, url) = (http.clone(), s.url("/api/login"));
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&serde_json::json!({"username": "op", "password": "wrong-password-xyz"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(
        codes.iter().filter(|c| **c == 401).count(),
        4,
        "guesses tried before the lock: {codes:?}"
    );
    assert!(codes.iter().all(|c| *c == 401 || *c == 429), "{codes:?}");
    let r = http
        .post(s.url("/api/login"))
        .json(&serde_json::json!({"username": "op", "password": USER_PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let admin = login(&s, "admin", ADMIN_PW).await;
    let users: serde_json::Value = admin.get(&s.url("/api/users")).await.json().await.unwrap();
    let op = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "op")
        .unwrap();
    assert!(op["locked_until"].is_string(), "the lock was cleared: {op}");
}

/// E1: changing the password ends the account's other sessions (the one that changed it
/// stays); an administrator-created account has no rights before its first change.
#[tokio::test(flavor = "multi_thread")]
async fn e1_attack_old_session_dies_with_the_password() {
    let (_tmp, s) = data_only();
    let admin = login(&s, "admin", ADMIN_PW).await;
    let r = admin
        .post(
            &s.url("/api/users"),
            serde_json::json!({"name": "aud", "password": USER_PW, "role": "auditor", "scopes": ["local"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // The administrator who chose the password cannot use the account unnoticed: no rights
    // until the owner changes it.
    let as_admin = login(&s, "aud", USER_PW).await;
    let r = as_admin.get(&s.url("/api/audit")).await;
    assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());
    let owner = login(&s, "aud", USER_PW).await;
    let r = owner
        .post(
            &s.url("/api/password"),
            serde_json::json!({"old_password": USER_PW, "new_password": "the owner's own phrase"}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(owner.get(&s.url("/api/audit")).await.status(), 200);
    // E2: that read of the audit log is itself in the log.
    let page: serde_json::Value = owner
        .get(&s.url("/api/audit?action=AuditRead"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "aud" && e["object"] == "ledger"),
        "the audit read is not recorded: {page}"
    );
    assert_eq!(
        as_admin.get(&s.url("/api/session")).await.status(),
        401,
        "the other session outlived the password change"
    );
}

/// Unbounded growth from outside: request methods nobody uses do not each become a label in
/// /metrics; complaint fields other than the body are capped.
#[tokio::test(flavor = "multi_thread")]
async fn j3_attack_unauthenticated_input_cannot_grow_without_bound() {
    let (_tmp, s) = data_only();
    let http = client();
    for i in 0..5 {
        let m = reqwest::Method::from_bytes(format!("XMETHOD{i}").as_bytes()).unwrap();
        let _ = http.request(m, s.url("/api/healthz")).send().await.unwrap();
    }
    let text = http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("XMETHOD"), "a label per method: {text}");
    assert!(text.contains("method=\"other\""), "{text}");
    let big = "x".repeat(10_000);
    for (field, body) in [
        (
            "against",
            serde_json::json!({"against": big, "body": "they refused my request"}),
        ),
        (
            "contact",
            serde_json::json!({"against": "district office", "body": "refused", "contact": big}),
        ),
    ] {
        let r = http
            .post(s.url("/api/public/complaints"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{field}");
        assert!(r.text().await.unwrap().contains(field));
    }
}

fn one_camera(dir: &std::path::Path, sim: &Camsim) -> std::path::PathBuf {
    let extra = format!(
        "sub_url = \"{}\"\narea = \"local/main/gate\"",
        sim.sub_url(1)
    );
    write_config(dir, 5, &[("cam1", sim.url(1), extra.as_str())])
}

async fn cookie_login(s: &Served, user: &str) -> (String, String) {
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

async fn post(s: &Served, path: &str, cookie: &str, csrf: &str, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(s.url(path))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_live(s: &Served, cookie: &str, origin: Option<&str>) -> Result<Ws, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = s
        .ws_url("/api/cameras/cam1/live?stream=sub")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads until the server closes the socket; returns the close code and how long it took.
async fn until_closed(ws: &mut Ws, within: Duration) -> (Option<u16>, Duration) {
    use tokio_tungstenite::tungstenite::Message;
    let t0 = Instant::now();
    loop {
        match tokio::time::timeout(within.saturating_sub(t0.elapsed()), ws.next()).await {
            Err(_) => panic!("the live view was still open after {within:?}"),
            Ok(None) | Ok(Some(Err(_))) => return (None, t0.elapsed()),
            Ok(Some(Ok(Message::Close(f)))) => {
                return (f.map(|f| u16::from(f.code)), t0.elapsed());
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Receives live frames for a moment (the view works).
async fn streams(ws: &mut Ws) {
    use tokio_tungstenite::tungstenite::Message;
    let mut n = 0;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        if let Ok(Some(Ok(Message::Binary(_)))) =
            tokio::time::timeout(Duration::from_secs(2), ws.next()).await
        {
            n += 1;
        }
    }
    assert!(n > 5, "the live view did not stream ({n} messages)");
}

/// D5, E1 (live view outlives its right), E2 (HLS beyond the registered range), C1 (gate):
/// a page from another origin cannot open the live view; an open live view is closed (4403)
/// within seconds of the end of the shift and of logout; an HLS segment is served only in the
/// byte ranges its playlist registered; once the camera belongs to a system in use but not
/// accepted, live view, playback and export are refused naming C1's rule.
#[tokio::test(flavor = "multi_thread")]
async fn d5_e2_c1_attack_live_view_hls_and_lifecycle_gate() {
    let sim = Camsim::start(&CamsimOptions {
        sub_streams: true,
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = one_camera(tmp.path(), &sim);
    let s = serve(&tmp.path().join("data"), Some(&cfg), &["--insecure-http"]);
    add_user(&s, "op", "watch_operator", &["local/main/gate"], None).await;
    wait_until(30.0, "cam1 online", || {
        let o = custos(&["health", "--data", s.data.to_str().unwrap(), "--json"]);
        stdout(&o).contains("\"online\"")
    });
    let (cookie, csrf) = cookie_login(&s, "op").await;
    assert_eq!(
        post(
            &s,
            "/api/duty",
            &cookie,
            &csrf,
            serde_json::json!({"on": true})
        )
        .await,
        200
    );

    // Another site's page riding on the operator's cookie.
    let e = open_live(&s, &cookie, Some("https://evil.example"))
        .await
        .unwrap_err();
    assert!(e.contains("403"), "{e}");
    // The console's own origin is fine.
    let own = s.base.clone();
    let mut ws = open_live(&s, &cookie, Some(&own))
        .await
        .expect("same origin");
    streams(&mut ws).await;
    // End of shift closes it.
    assert_eq!(
        post(
            &s,
            "/api/duty",
            &cookie,
            &csrf,
            serde_json::json!({"on": false})
        )
        .await,
        200
    );
    let (code, took) = until_closed(&mut ws, Duration::from_secs(6)).await;
    assert_eq!(code, Some(4403), "closed after {took:?}");
    eprintln!("live view closed {took:?} after the end of the shift");

    // Logout closes it too.
    assert_eq!(
        post(
            &s,
            "/api/duty",
            &cookie,
            &csrf,
            serde_json::json!({"on": true})
        )
        .await,
        200
    );
    let mut ws = open_live(&s, &cookie, None).await.expect("on duty again");
    streams(&mut ws).await;
    assert_eq!(
        post(&s, "/api/logout", &cookie, &csrf, serde_json::json!({})).await,
        204
    );
    let (code, took) = until_closed(&mut ws, Duration::from_secs(6)).await;
    assert_eq!(code, Some(4403), "closed after {took:?}");

    // HLS: a playlist of two seconds inside a segment lets through only those bytes.
    let (cookie, _csrf) = cookie_login(&s, "op").await;
    // An unknown camera says nothing about the others.
    let r = reqwest::Client::new()
        .get(
            s.url("/api/cameras/nope/recordings?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"),
        )
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("cam1"),
        "an unknown camera lists the others: {body}"
    );
    let http = reqwest::Client::new();
    let get = |path: String, range: Option<&str>| {
        let mut r = http.get(s.url(&path)).header("cookie", &cookie);
        if let Some(x) = range {
            r = r.header("range", x);
        }
        r.send()
    };
    let seg = loop {
        let v = recordings(&s.data, "cam1");
        if let Some(x) = segments(&v).into_iter().next() {
            break x;
        }
        sleep(1.0);
    };
    let a = seg["start_90k"].as_i64().unwrap() + 90_000;
    let pl = get(
        format!(
            "/api/cameras/cam1/playback.m3u8?from={}&to={}",
            rfc3339(a),
            rfc3339(a + 2 * 90_000)
        ),
        None,
    )
    .await
    .unwrap();
    assert_eq!(pl.status(), 200);
    let pl = pl.text().await.unwrap();
    let uri = pl
        .lines()
        .find(|l| l.starts_with("/api/"))
        .expect("a segment URI")
        .to_owned();
    let (len, off): (u64, u64) = {
        let r = pl
            .lines()
            .find_map(|l| l.strip_prefix("#EXT-X-BYTERANGE:"))
            .unwrap();
        let (l, o) = r.split_once('@').unwrap();
        (l.parse().unwrap(), o.parse().unwrap())
    };
    let named = format!("bytes={off}-{}", off + len - 1);
    assert_eq!(get(uri.clone(), Some(&named)).await.unwrap().status(), 206);
    let whole = get(uri.clone(), None).await.unwrap();
    assert_eq!(
        whole.status(),
        403,
        "the whole segment beyond the registered range"
    );
    let last = pl
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-BYTERANGE:"))
        .map(|r| {
            let (l, o) = r.split_once('@').unwrap();
            l.parse::<u64>().unwrap() + o.parse::<u64>().unwrap()
        })
        .max()
        .unwrap();
    let beyond = format!("bytes={last}-{}", last + 1000);
    let r = get(uri, Some(&beyond)).await.unwrap();
    assert!(
        r.status() == 403 || r.status() == 416,
        "bytes past the registered range: {}",
        r.status()
    );

    // C1: the camera now belongs to a system in use but not accepted.
    let csv = tmp.path().join("devices.csv");
    let src = std::fs::read_to_string(format!(
        "{}/../custos-registry/testdata/devices.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut lines = src.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap().replace(",hall-east", ",cam1");
    std::fs::write(&csv, format!("{header}\n{row}\n")).unwrap();
    let d = s.data.to_str().unwrap();
    custos_ok(&[
        "registry",
        "load",
        &format!(
            "{}/../custos-registry/testdata/registry.json",
            env!("CARGO_MANIFEST_DIR")
        ),
        "--data",
        d,
    ]);
    custos_ok(&[
        "registry",
        "import",
        csv.to_str().unwrap(),
        "--by",
        "clerk",
        "--data",
        d,
    ]);
    let (cookie, csrf) = cookie_login(&s, "op").await;
    assert_eq!(
        post(
            &s,
            "/api/duty",
            &cookie,
            &csrf,
            serde_json::json!({"on": true})
        )
        .await,
        200
    );
    let e = open_live(&s, &cookie, None).await.unwrap_err();
    assert!(e.contains("409"), "live view of a system not accepted: {e}");
    let range = format!("from={}&to={}", rfc3339(a), rfc3339(a + 2 * 90_000));
    for path in [
        format!("/api/cameras/cam1/view.mp4?{range}"),
        format!("/api/cameras/cam1/playback.m3u8?{range}"),
    ] {
        let r = reqwest::Client::new()
            .get(s.url(&path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let st = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(st, 409, "{path}: {body}");
        assert!(body.contains("not yet accepted"), "{path}: {body}");
    }
    // Export is a police officer's right (H1).
    add_user(&s, "cop", "police_officer", &["local/main/gate"], None).await;
    let (cookie, csrf) = cookie_login(&s, "cop").await;
    let r = reqwest::Client::new()
        .post(s.url("/api/exports"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"camera": "cam1", "from": rfc3339(a), "to": rfc3339(a + 2 * 90_000), "purpose": "case 1"}))
        .send()
        .await
        .unwrap();
    let st = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(st, 409, "export: {body}");
    assert!(body.contains("not yet accepted"), "export: {body}");
}

/// E1 (fail open): a camera's area is kept in the database. Served again without the
/// configuration that placed it, the camera stays in its area (visible to its area's operator,
/// not to another area's), instead of falling into a default area visible to a wider scope.
#[tokio::test(flavor = "multi_thread")]
async fn e1_attack_camera_outside_the_configuration_keeps_its_area() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(
        tmp.path(),
        5,
        &[("cam1", sim.url(1), "area = \"local/main/gate\"")],
    );
    let data = tmp.path().join("data");
    let mut s = serve(&data, Some(&cfg), &[]);
    add_user(&s, "gate", "watch_operator", &["local/main/gate"], None).await;
    add_user(&s, "dflt", "watch_operator", &["local/main/default"], None).await;
    s.stop();
    drop(sim);
    // Without --config: the placement comes from the database.
    let s = serve(&data, None, &[]);
    let names = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let gate = login(&s, "gate", USER_PW).await;
    let v: serde_json::Value = gate.get(&s.url("/api/cameras")).await.json().await.unwrap();
    assert_eq!(names(v.clone()), ["cam1"], "{v}");
    assert_eq!(v[0]["scope"], "local/main/gate/cam1");
    let dflt = login(&s, "dflt", USER_PW).await;
    let v: serde_json::Value = dflt.get(&s.url("/api/cameras")).await.json().await.unwrap();
    assert!(
        names(v.clone()).is_empty(),
        "the camera fell into the default area: {v}"
    );
}

/// H2 (contract): a police officer without a released live-connection request is refused the
/// live WebSocket with 403, on a camera that is online and in the officer's scope, and the
/// refusal is an `AccessDenied` ledger entry with rule H2.
#[tokio::test(flavor = "multi_thread")]
async fn h2_attack_police_live_without_a_released_request_is_403() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = one_camera(tmp.path(), &sim);
    let data = tmp.path().join("data");
    let mut s = serve(&data, Some(&cfg), &["--insecure-http"]);
    add_user(&s, "cop", "police_officer", &["local/main/gate"], None).await;
    wait_until(30.0, "cam1 online", || {
        let o = custos(&["health", "--data", s.data.to_str().unwrap(), "--json"]);
        stdout(&o).contains("\"online\"")
    });
    let (cookie, _) = cookie_login(&s, "cop").await;
    let e = open_live(&s, &cookie, None).await.unwrap_err();
    assert!(
        e.contains("403"),
        "live view by police without a request: {e}"
    );
    s.stop();
    let d = custos_footage::DataDir::open_existing(&data).unwrap();
    let (j, _) = custos_footage::Journal::open(&d).unwrap();
    let l = j.ledger();
    let denied = (0..l.len()).filter_map(|i| l.entry(i).ok()).any(|e| {
        e.actor == "cop"
            && e.action.as_str() == "AccessDenied"
            && e.details["action"] == "view_live"
            && e.details["rule"] == "H2"
    });
    assert!(
        denied,
        "no AccessDenied entry with rule H2 for cop's live view"
    );
}
