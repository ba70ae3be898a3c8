//! Citizen view-only sessions (H4) end to end: the real `custos serve` recording a simulated
//! camera (with the simulator's machine-readable timecode), a police officer making a session
//! over the API, and the applicant's page in the real Debian Chromium (playwright-core,
//! `web/e2e/citizen.e2e.mjs`). The watermark is judged on a frame Chromium decoded: the frame's
//! timecode finds the original recorded frame of the same instant, and the watermark region
//! differs from it while the rest of the picture matches.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::server::{USER_PW, add_user, client, login, released_view_request, serve};
use common::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const W: usize = 640;
const H: usize = 360;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn artifacts_dir() -> PathBuf {
    let target = Path::new(bin())
        .parent()
        .and_then(Path::parent)
        .expect("custos binary lives in TARGET/PROFILE/");
    target.join("test-artifacts").join("citizen")
}

/// Builds the console from the current sources into `dir`.
fn build_console(dir: &Path) {
    let web = repo().join("web");
    assert!(
        web.join("node_modules/playwright-core").exists(),
        "web/node_modules missing: run `npm ci` in web/ (scripts/setup does)"
    );
    let build = Command::new("timeout")
        .args(["-k", "5", "240", "npm", "run", "build", "--", "--outDir"])
        .arg(dir)
        .arg("--emptyOutDir")
        .current_dir(&web)
        .stdin(Stdio::null())
        .output()
        .expect("run npm");
    assert!(
        build.status.success(),
        "npm run build failed:\n{}{}",
        stdout(&build),
        stderr(&build)
    );
}

/// Every frame of `mp4` as 8-bit gray W×H pictures.
fn gray_frames(mp4: &Path) -> Vec<Vec<u8>> {
    let o = custos_testkit::run_with_timeout(
        120,
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            mp4.to_str().unwrap(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
    )
    .unwrap();
    assert!(o.status.success(), "ffmpeg: {}", stderr(&o));
    o.stdout.chunks_exact(W * H).map(|f| f.to_vec()).collect()
}

/// Mean absolute difference of two gray pictures over x0..x1 × y0..y1.
fn mad(a: &[u8], b: &[u8], (x0, x1): (usize, usize), (y0, y1): (usize, usize)) -> f64 {
    let mut sum = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += u64::from(a[y * W + x].abs_diff(b[y * W + x]));
        }
    }
    sum as f64 / ((x1 - x0) * (y1 - y0)) as f64
}

fn ledger_text(data: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(data.join("ledger/entries.log")).unwrap()).into_owned()
}

/// H4, H2, E2: a police officer makes a session (a watch operator may not, nor the officer
/// before a view request covering the range is released), and on the console
/// opens one, sees its link and ends it; the applicant opens
/// the link in Chromium without an account and the range plays; the decoded frame carries the
/// watermark (its region differs from the original frame of the same instant by a wide margin,
/// the rest of the picture does not); with the session's cookie `view.mp4`, HLS, an export
/// and an export download are 403 `permission_denied`; the link opened again is refused; the
/// applicant ends it; an expired session's link is refused; every step (created, opened,
/// refused, ended, the registered playback) is in the ledger and `custos verify` passes.
#[test]
fn h4_citizen_session_plays_watermarked_in_chromium_and_cannot_be_copied_or_reopened() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "chromium missing: run scripts/setup"
    );
    let dist = artifacts_dir().with_file_name("citizen-dist");
    build_console(&dist);

    let sim = Camsim::start(&CamsimOptions {
        cameras: 1,
        width: W as u32,
        height: H as u32,
        fps: 15,
        bitrate_kbps: 800,
        ..Default::default()
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 5, &[("cam1", sim.url(1), "")]);
    let mut server = serve(&data, Some(&cfg), &["--web", dist.to_str().unwrap()]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t0 = chrono::Utc::now();
    rt.block_on(async {
        add_user(&server, "po1", "police_officer", &["local"], None).await;
        add_user(&server, "op1", "watch_operator", &["local"], None).await;
        add_user(&server, "head1", "police_approver", &["local"], None).await;
    });
    // Footage to show: 8 s that are sealed by the time the session is made.
    // Whole seconds: the console's range fields (and so the officer's session) have 1 s steps,
    // and must lie inside the released request's range.
    let from = chrono::DurationRound::duration_trunc(
        t0 + chrono::Duration::seconds(3),
        chrono::Duration::seconds(1),
    )
    .unwrap();
    let to = from + chrono::Duration::seconds(8);
    let wait = (to - chrono::Utc::now()).num_milliseconds() as f64 / 1000.0 + 10.0;
    sleep(wait.max(0.0));
    let (from_s, to_s) = (from.to_rfc3339(), to.to_rfc3339());
    let range = serde_json::json!([{"camera": "cam1", "from": from_s, "to": to_s}]);

    let (code, expired_code, session_id) = rt.block_on(async {
        // Only police make sessions.
        let op = login(&server, "op1", USER_PW).await;
        let r = op
            .post(
                &server.url("/api/citizen-sessions"),
                serde_json::json!({"applicant_name": "张三", "applicant_id": "11010519491231002X",
                    "reason": "missing_elderly", "ranges": range}),
            )
            .await;
        assert_eq!(r.status(), 403, "a watch operator made a citizen session");
        let po = login(&server, "po1", USER_PW).await;
        // Bad input is named.
        let r = po
            .post(
                &server.url("/api/citizen-sessions"),
                serde_json::json!({"applicant_name": "张三", "applicant_id": "11010519491231002X",
                    "reason": "curiosity", "ranges": range}),
            )
            .await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("missing_child"));
        // H2: the officer shows a citizen only what a released view request lets the officer see.
        let r = po
            .post(
                &server.url("/api/citizen-sessions"),
                serde_json::json!({"applicant_name": "张三", "applicant_id": "11010519491231002X",
                    "reason": "missing_elderly", "ranges": range}),
            )
            .await;
        assert_eq!(r.status(), 403, "a session without a released request");
        released_view_request(&server, "po1", "head1", "op1", "cam1", &from_s, &to_s).await;
        let make = |expires: Option<String>| {
            let po = &po;
            let range = range.clone();
            let url = server.url("/api/citizen-sessions");
            async move {
                let r = po
                    .post(
                        &url,
                        serde_json::json!({"applicant_name": "张三", "applicant_id": "11010519491231002X",
                            "reason": "missing_elderly", "note": "父亲走失", "ranges": range,
                            "expires": expires}),
                    )
                    .await;
                let status = r.status();
                let body: serde_json::Value = r.json().await.unwrap();
                assert_eq!(status, 201, "{body}");
                assert!(body["link"].as_str().unwrap().starts_with("/#/view/"));
                body
            }
        };
        let s = make(None).await;
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
        let e = make(Some(soon)).await;
        (
            s["code"].as_str().unwrap().to_owned(),
            e["code"].as_str().unwrap().to_owned(),
            s["session"]["id"].as_str().unwrap().to_owned(),
        )
    });

    // The original recording of the range, as a watch operator plays it back.
    let dir = artifacts_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let original = dir.join("original.mp4");
    rt.block_on(async {
        let op = login(&server, "op1", USER_PW).await;
        let url = format!(
            "{}?from={}&to={}",
            server.url("/api/cameras/cam1/view.mp4"),
            urlencode(&from_s),
            urlencode(&to_s)
        );
        let r = op.get(&url).await;
        assert_eq!(r.status(), 200);
        std::fs::write(&original, r.bytes().await.unwrap()).unwrap();
    });

    let out = Command::new("timeout")
        .args(["-k", "5", "240", "node", "e2e/citizen.e2e.mjs"])
        .current_dir(repo().join("web"))
        .env("CUSTOS_URL", format!("{}/", server.base))
        .env("CUSTOS_CODE", &code)
        .env("CUSTOS_CAMERA", "cam1")
        .env("CUSTOS_FROM", &from_s)
        .env("CUSTOS_TO", &to_s)
        .env("CUSTOS_ARTIFACTS", &dir)
        .env("CUSTOS_CHROMIUM", CHROMIUM)
        .env("CUSTOS_POLICE_USER", "po1")
        .env("CUSTOS_POLICE_PASSWORD", USER_PW)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let report = format!(
        "--- e2e stdout ---\n{}\n--- e2e stderr ---\n{}",
        stdout(&out),
        stderr(&out)
    );
    if !out.status.success() {
        let log = server.stop();
        panic!(
            "citizen e2e failed; artifacts in {}\n{report}\n--- custos serve ---\n{log}",
            dir.display()
        );
    }
    eprintln!("{report}");
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    assert!(
        results["checks"].as_array().unwrap().len() >= 18,
        "{results:#}"
    );
    assert_eq!(results["frame"]["width"], W as u64, "{results:#}");
    assert_eq!(results["frame"]["height"], H as u64, "{results:#}");

    // The watermark, judged on the frame Chromium decoded.
    let shown = std::fs::read(dir.join("frame.gray")).unwrap();
    assert_eq!(shown.len(), W * H);
    let t = custos_testkit::decode_timecode(&shown, W as u32, H as u32)
        .expect("the decoded frame's timecode (top-left) is readable: the watermark spares it");
    let frames = gray_frames(&original);
    let same = frames
        .iter()
        .find(|f| custos_testkit::decode_timecode(f, W as u32, H as u32) == Some(t))
        .unwrap_or_else(|| panic!("no original frame with timecode {t}"));
    // The watermark block starts at x = 16, y = 40 % of the height; the right half of the
    // band above it (below the timecode) is picture only.
    let mark = mad(&shown, same, (20, 300), (150, 175));
    let picture = mad(&shown, same, (360, 620), (60, 120));
    eprintln!(
        "watermark region differs by {mark:.1}, picture by {picture:.1} (mean |Δ| of 8-bit luma)"
    );
    assert!(
        mark > 40.0,
        "the watermark region differs from the original by only {mark:.1}: no watermark in the pixels"
    );
    assert!(
        picture < 15.0,
        "the picture outside the watermark differs by {picture:.1}: not the same frame"
    );

    // An expired session's link is refused.
    rt.block_on(async {
        sleep(1.0);
        let r = client()
            .post(server.url("/api/citizen/open"))
            .json(&serde_json::json!({"code": expired_code}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["kind"], "permission_denied");
        assert!(
            body["error"].as_str().unwrap().contains("expired"),
            "{body}"
        );
        // The officer sees both sessions ended.
        let po = login(&server, "po1", USER_PW).await;
        let list: serde_json::Value = po
            .get(&server.url("/api/citizen-sessions"))
            .await
            .json()
            .await
            .unwrap();
        let ended: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["end_reason"].as_str())
            .collect();
        assert!(
            ended.contains(&"applicant_ended")
                && ended.contains(&"expired")
                && ended.contains(&"officer_ended"),
            "{list:#}"
        );
    });
    server.stop();

    let log = ledger_text(&data);
    for step in [
        "CitizenSessionCreated",
        "CitizenSessionOpened",
        "CitizenSessionRefused",
        "CitizenSessionEnded",
        "citizen-watermarked",
    ] {
        assert!(log.contains(step), "{step} is not in the ledger");
    }
    assert!(
        log.contains(&format!("citizen:{session_id}")),
        "the applicant's session is not named in the ledger"
    );
    let o = custos(&[
        "verify",
        "--data",
        data.to_str().unwrap(),
        "--key",
        data.join("keys/ledger.pub").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
