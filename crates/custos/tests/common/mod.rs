//! Shared helpers of the CLI end-to-end tests: run the real `custos` binary against the real
//! camera simulator, and judge its output with ffprobe/ffmpeg.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub use custos_testkit::{Camsim, CamsimOptions};

pub mod server;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_custos")
}

/// Whether the binary under test carries the web console (built with web/dist present).
pub const EMBEDDED_CONSOLE: bool = cfg!(custos_console);

/// For a binary built without web/dist (`serve`/`demo` refuse to start without a console):
/// points CUSTOS_WEB_DIR at a one-page stand-in, so the tests of other things still run.
/// A binary with its console is left as it is.
pub fn console_env(cmd: &mut Command) -> &mut Command {
    if !EMBEDDED_CONSOLE && std::env::var_os("CUSTOS_WEB_DIR").is_none() {
        let dir = std::env::temp_dir().join(format!("custos-test-console-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("stand-in console dir");
        std::fs::write(
            dir.join("index.html"),
            "<!doctype html><title>stand-in console</title>",
        )
        .expect("stand-in index.html");
        cmd.env("CUSTOS_WEB_DIR", dir);
    }
    cmd
}

/// Runs `custos ARGS` to completion (killed after 120 s).
pub fn custos(args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["-k", "5", "120", bin()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run custos")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `custos ARGS`, which must succeed.
pub fn custos_ok(args: &[&str]) -> String {
    let o = custos(args);
    assert!(
        o.status.success(),
        "custos {args:?} failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// `custos record --data DATA --config CONFIG --for DURATION`, run to completion.
pub fn record(data: &str, config: &str, for_: &str) -> Output {
    custos(&["record", "--data", data, "--config", config, "--for", for_])
}

/// [`record`], which must succeed.
pub fn record_ok(data: &str, config: &str, for_: &str) {
    let o = record(data, config, for_);
    assert!(o.status.success(), "custos record failed: {}", stderr(&o));
}

/// Writes a config with one `[[camera]]` per (name, url, extra TOML lines).
pub fn write_config(dir: &Path, segment_seconds: u32, cams: &[(&str, String, &str)]) -> PathBuf {
    let mut s = format!("segment_seconds = {segment_seconds}\n\n");
    for (name, url, extra) in cams {
        s.push_str(&format!(
            "[[camera]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n\n"
        ));
    }
    let p = dir.join("custos.toml");
    std::fs::write(&p, s).unwrap();
    p
}

/// Starts `custos record` in the background.
pub fn spawn_record(data: &Path, config: &Path, extra: &[&str]) -> Child {
    Command::new(bin())
        .arg("record")
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn custos record")
}

/// Sends SIGTERM and waits (at most 30 s) for a clean exit.
pub fn terminate(mut child: Child) -> Output {
    let pid = child.id();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        panic!("custos record did not stop within 30 s of SIGTERM");
    }
    child.wait_with_output().unwrap()
}

pub fn recordings(data: &Path, camera: &str) -> serde_json::Value {
    let out = custos_ok(&[
        "recordings",
        "--data",
        data.to_str().unwrap(),
        "--camera",
        camera,
        "--json",
    ]);
    serde_json::from_str(&out).expect("recordings json")
}

pub fn segments(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["segments"].as_array().unwrap().clone()
}

pub fn gaps(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["gaps"].as_array().unwrap().clone()
}

/// 90 kHz wall time → RFC 3339 with nanosecond precision.
pub fn rfc3339(t90k: i64) -> String {
    let secs = t90k.div_euclid(90_000);
    let nanos = t90k.rem_euclid(90_000) * 1_000_000_000 / 90_000;
    let dt = chrono::DateTime::from_timestamp(secs, nanos as u32).unwrap();
    dt.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

pub fn sleep(secs: f64) {
    std::thread::sleep(Duration::from_secs_f64(secs));
}

/// Waits until `f` is true (checking every 200 ms) or panics after `secs`.
pub fn wait_until(secs: f64, what: &str, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + Duration::from_secs_f64(secs);
    while std::time::Instant::now() < end {
        if f() {
            return;
        }
        sleep(0.2);
    }
    panic!("timed out after {secs} s waiting for {what}");
}

pub fn duration_of(path: &Path) -> f64 {
    let v = custos_testkit::ffprobe_json(path);
    v["format"]["duration"].as_str().unwrap().parse().unwrap()
}

/// Small, cheap simulated cameras for multi-camera tests.
pub fn small_cam(codec: &str) -> CamsimOptions {
    CamsimOptions {
        codec: codec.into(),
        width: 320,
        height: 180,
        fps: 15,
        bitrate_kbps: 300,
        ..Default::default()
    }
}

/// Gaps other than the "connecting" one each run opens until its first footage (E7 accounts
/// for it too): the interruptions a test provoked.
pub fn outage_gaps(v: &serde_json::Value) -> Vec<serde_json::Value> {
    gaps(v)
        .into_iter()
        .filter(|g| g["reason"] != "connecting")
        .collect()
}

/// E7: every instant from the stream's first record to its last is inside a segment or a gap
/// (within `slack_s`), and no gap overlaps footage. Returns the covered span in seconds.
pub fn assert_every_second_accounted(v: &serde_json::Value, slack_s: f64) -> f64 {
    let mut iv: Vec<(i64, i64, String)> = Vec::new();
    for s in segments(v) {
        if let (Some(a), Some(b)) = (s["start_90k"].as_i64(), s["end_90k"].as_i64()) {
            iv.push((a, b, format!("segment {}", s["id"])));
        }
    }
    for g in gaps(v) {
        iv.push((
            g["start_90k"].as_i64().unwrap(),
            g["end_90k"].as_i64().unwrap(),
            format!("gap {:?}", g["reason"]),
        ));
    }
    assert!(!iv.is_empty(), "nothing recorded and no gap: {v:#}");
    iv.sort();
    let slack = (slack_s * 90_000.0) as i64;
    let mut end = iv[0].1;
    for w in iv.windows(2) {
        let (next_start, next_end, ref what) = w[1];
        assert!(
            next_start <= end + slack,
            "{:.2} s unaccounted before {what}: {v:#}",
            (next_start - end) as f64 / 90_000.0
        );
        assert!(
            next_start >= end - slack || !what.starts_with("gap") && !w[0].2.starts_with("gap"),
            "{what} overlaps {} by {:.2} s: {v:#}",
            w[0].2,
            (end - next_start) as f64 / 90_000.0
        );
        end = end.max(next_end);
    }
    (end - iv[0].0) as f64 / 90_000.0
}

/// `custos health --json` streams.
pub fn health_streams(data: &Path) -> Vec<serde_json::Value> {
    let out = custos_ok(&["health", "--data", data.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("health json");
    v["streams"].as_array().unwrap().clone()
}

/// Every segment of a `recordings --json` listing decodes with `ffmpeg -v error` without a
/// single message; returns the frames recorded.
pub fn assert_segments_decode(data: &Path, v: &serde_json::Value) -> i64 {
    let segs = segments(v);
    assert!(!segs.is_empty(), "nothing recorded: {v:#}");
    for s in &segs {
        let p = data.join(s["path"].as_str().unwrap());
        assert_eq!(
            custos_testkit::ffmpeg_decode_errors(&p),
            "",
            "{} does not decode cleanly",
            p.display()
        );
    }
    segs.iter().map(|s| s["frames"].as_i64().unwrap_or(0)).sum()
}
