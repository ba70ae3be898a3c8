//! Web console end-to-end: the real `custos serve` over HTTPS (its self-signed certificate),
//! two simulated cameras (360p15 with sub streams), and the real Debian Chromium driven by
//! playwright-core running `web/e2e/console.e2e.mjs`. Screenshots and the script's
//! `results.json` are kept under `$CARGO_TARGET_DIR/test-artifacts/web/`.
//!
//! Needs what `scripts/setup` installs: `chromium`, `node` and `web/node_modules`. The console
//! is built from the current sources into `$CARGO_TARGET_DIR/test-artifacts/web-dist`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::server::{ADMIN_PW, serve};
use common::*;

const OPERATOR: (&str, &str) = ("op1", "operator-Passw0rd-1");
const NOSCOPE: (&str, &str) = ("op2", "operator-Passw0rd-2");
const AUDITOR: (&str, &str) = ("aud1", "auditor-Passw0rd-3");
const POLICE: (&str, &str) = ("po1", "officer-Passw0rd-4");
const APPROVER: (&str, &str) = ("head1", "approver-Passw0rd-6");
const TOTP: (&str, &str) = ("tot1", "second-factor-Passw0rd-5");
const CHROMIUM: &str = "/usr/bin/chromium";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `$CARGO_TARGET_DIR/test-artifacts/web` (the target dir is where the test binary's `custos` is).
fn artifacts_dir() -> PathBuf {
    let target = Path::new(bin())
        .parent()
        .and_then(Path::parent)
        .expect("custos binary lives in TARGET/PROFILE/");
    target.join("test-artifacts").join("web")
}

fn require(path: &Path, what: &str) {
    assert!(
        path.exists(),
        "{} not found ({what}); run scripts/setup",
        path.display()
    );
}

/// E1, E2, E7, D5: in real Chromium, the administrator (no footage rights: sees no camera, is
/// refused the audit log) adds two watch operators and an auditor on the Users page; a watch
/// operator logs in and starts a shift (D5); a live
/// tile plays on the sub stream (currentTime advances, a decoded frame is not blank) and
/// full screen on the main stream shows a first frame within 1 s of the click (E2); the
/// timeline of a camera that was stopped for ~10 s shows the gap and a past range plays back
/// (E7); a watch operator whose scope covers no camera sees no tile (E1, D5); the auditor finds
/// the operator's reads in the audit log viewer (E2: every read is registered); a watch
/// operator's export is refused with a message naming the request (E1); the footage request
/// procedure on the console (H1–H5): a police officer without a released request is refused
/// the export (H2), drafts a copy request with two officers and the unit letter and submits it,
/// the agency head approves it, the watch operator sees both officers and the document and
/// releases it as an evidence bundle, which `custos verify-bundle` verifies; the officer's
/// export is then a playable MP4 and the registration form a PDF; every step is in the ledger
/// and `custos verify` passes; an account with TOTP is asked for the one-time code and logs in
/// with it (E1). All of it over HTTPS (E9).
#[test]
fn e1_e2_e7_d5_web_console_in_chromium() {
    let web = repo().join("web");
    require(Path::new(CHROMIUM), "Debian package chromium");
    require(&web.join("node_modules/playwright-core"), "npm ci in web/");

    // The console under test is built from the current sources (type check included).
    let dist = artifacts_dir().with_file_name("web-dist");
    let build = Command::new("timeout")
        .args(["-k", "5", "180", "npm", "run", "build", "--", "--outDir"])
        .arg(&dist)
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

    let mut sim = Camsim::start(&CamsimOptions {
        cameras: 2,
        width: 640,
        height: 360,
        fps: 15,
        bitrate_kbps: 500,
        sub_streams: true,
        ..Default::default()
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let sub = |i: usize| format!("sub_url = \"{}\"", sim.sub_url(i));
    let (s1, s2) = (sub(1), sub(2));
    let cfg = write_config(
        tmp.path(),
        10,
        &[("cam1", sim.url(1), &s1), ("cam2", sim.url(2), &s2)],
    );
    let mut server = serve(&data, Some(&cfg), &["--web", dist.to_str().unwrap()]);
    assert!(
        server.base.starts_with("https://"),
        "console is not served over HTTPS: {}",
        server.base
    );
    let url = format!("{}/", server.base);

    // An account with TOTP, made with the CLI while the server runs. Its enrolment code is
    // used here; the console logs in more than 30 s later, with the next time step's code.
    let d = data.to_str().unwrap();
    let mut add = Command::new("timeout")
        .args([
            "-k",
            "5",
            "60",
            bin(),
            "users",
            "add",
            TOTP.0,
            "--role",
            "auditor",
        ])
        .args(["--scope", "local", "--password-stdin", "--data", d])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut add.stdin.take().unwrap(),
        format!("{}\n", TOTP.1).as_bytes(),
    )
    .unwrap();
    let o = add.wait_with_output().unwrap();
    assert!(o.status.success(), "custos users add: {}", stderr(&o));
    let uri = custos_ok(&["users", "totp", TOTP.0, "--data", d])
        .trim()
        .to_string();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let code = Command::new("timeout")
        .args(["-k", "5", "30", "node", "e2e/totp.mjs", &uri])
        .current_dir(&web)
        .output()
        .unwrap();
    let code = stdout(&code).trim().to_string();
    custos_ok(&["users", "totp", TOTP.0, "--confirm", &code, "--data", d]);

    // Record, then stop cam2 for 10 s so its timeline has a gap, then let it resume.
    sleep(12.0);
    sim.stop_camera(2).unwrap();
    sleep(10.0);
    sim.start_camera(2).unwrap();
    sleep(10.0);

    let dir = artifacts_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("timeout")
        .args(["-k", "5", "240", "node", "e2e/console.e2e.mjs"])
        .current_dir(&web)
        .env("CUSTOS_URL", &url)
        .env("CUSTOS_ADMIN_USER", "admin")
        .env("CUSTOS_ADMIN_PASSWORD", ADMIN_PW)
        .env("CUSTOS_AUDITOR_USER", AUDITOR.0)
        .env("CUSTOS_AUDITOR_PASSWORD", AUDITOR.1)
        .env("CUSTOS_POLICE_USER", POLICE.0)
        .env("CUSTOS_POLICE_PASSWORD", POLICE.1)
        .env("CUSTOS_APPROVER_USER", APPROVER.0)
        .env("CUSTOS_APPROVER_PASSWORD", APPROVER.1)
        .env("CUSTOS_TOTP_USER", TOTP.0)
        .env("CUSTOS_TOTP_PASSWORD", TOTP.1)
        .env("CUSTOS_TOTP_URI", &uri)
        .env("CUSTOS_NOSCOPE_SCOPE", "local/main/default/no-such-camera")
        .env("CUSTOS_USER", OPERATOR.0)
        .env("CUSTOS_PASSWORD", OPERATOR.1)
        .env("CUSTOS_NOSCOPE_USER", NOSCOPE.0)
        .env("CUSTOS_NOSCOPE_PASSWORD", NOSCOPE.1)
        .env("CUSTOS_GAP_CAMERA", "cam2")
        .env("CUSTOS_ARTIFACTS", &dir)
        .env("CUSTOS_CHROMIUM", CHROMIUM)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let report = format!(
        "--- e2e stdout ---\n{}\n--- e2e stderr ---\n{}",
        stdout(&out),
        stderr(&out),
    );
    if !out.status.success() {
        let server_log = server.stop();
        panic!(
            "web console e2e failed ({}); artifacts in {}\n{report}\n--- custos serve ---\n{server_log}",
            out.status,
            dir.display()
        );
    }
    eprintln!("{report}");

    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let checks = results["checks"].as_array().unwrap();
    assert!(
        checks.len() >= 10 && checks.iter().all(|c| c["ok"] == true),
        "{results:#}"
    );
    let ms = results["timings"]["click_to_first_frame_ms"]
        .as_f64()
        .unwrap();
    assert!(ms < 1000.0, "E2: click to first frame took {ms} ms");
    for shot in [
        "00-users",
        "01-wall",
        "02-fullscreen-main",
        "03-timeline-gap",
        "04-playback",
        "05-health",
        "06-no-scope",
        "07-audit",
        "08-export",
        "09-login-totp",
        "10-request-submitted",
        "11-release-screen",
    ] {
        let p = dir.join(format!("{shot}.png"));
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 5_000, "screenshot {} missing or empty", p.display());
    }
    // The console's export, judged by ffprobe: a playable MP4 of the recorded range.
    let mp4 = dir.join("export.mp4");
    let secs = duration_of(&mp4);
    assert!(
        secs > 5.0,
        "exported MP4 {} lasts {secs} s; expected the recorded range",
        mp4.display()
    );
    assert_eq!(custos_testkit::ffmpeg_decode_errors(&mp4), "");
    // H1–H5: the released bundle verifies offline, the form is a PDF, every step of the
    // request is in the ledger, and the whole data directory verifies.
    let bundle = std::fs::read_to_string(dir.join("bundle.txt")).expect("bundle.txt");
    let out = custos_ok(&["verify-bundle", bundle.trim()]);
    assert!(out.contains("OK: the bundle is intact"), "{out}");
    let pdf = std::fs::read(dir.join("form.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.len() > 5_000, "form.pdf");
    server.stop();
    // `custos verify` exits non-zero on any problem (custos_ok asserts success).
    custos_ok(&["verify", "--data", d]);
    for step in [
        "RequestCreated",
        "RequestDocument",
        "RequestSubmitted",
        "RequestApproved",
        "RequestReleased",
    ] {
        assert!(ledger_has(&data, step), "the ledger has no {step} entry");
    }
}

/// Whether the ledger of `data` holds an entry with action `action` (read with the library).
fn ledger_has(data: &Path, action: &str) -> bool {
    let d = custos_footage::DataDir::open_existing(data).unwrap();
    let (j, _) = custos_footage::Journal::open(&d).unwrap();
    let l = j.ledger();
    (0..l.len()).any(|i| l.entry(i).is_ok_and(|e| e.action.as_str() == action))
}
