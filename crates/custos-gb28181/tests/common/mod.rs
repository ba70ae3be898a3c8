//! Helpers for the protocol tests: a platform on an ephemeral port and sipp runs.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use custos_gb28181::{Platform, PlatformConfig};

pub const PASSWORD: &str = "12345678";
pub const DEVICE: &str = "34020000001320000001";

pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

pub async fn platform(keepalive: Duration, query_on_register: bool) -> Platform {
    let mut cfg = PlatformConfig::new(
        custos_gb28181::DEFAULT_SIP_ID,
        PASSWORD,
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    cfg.keepalive_interval = keepalive;
    cfg.query_timeout = Duration::from_secs(5);
    cfg.query_on_register = query_on_register;
    Platform::start(cfg).await.unwrap()
}

pub fn free_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let p = s.local_addr().unwrap().port();
    // Also free for TCP (sipp -t t1 binds both sides of the port number).
    drop(s);
    p
}

/// Runs sipp against `target` with `args`; returns (success, diagnostics).
pub async fn sipp(target: SocketAddr, args: &[String], dir: &std::path::Path) -> (bool, String) {
    assert!(
        std::process::Command::new("sipp")
            .arg("-v")
            .output()
            .is_ok(),
        "sipp is not installed: run scripts/setup (Debian package sip-tester)"
    );
    let err_file = dir.join("sipp_errors.log");
    let mut cmd = tokio::process::Command::new("timeout");
    cmd.arg("90")
        .arg("sipp")
        .arg(target.to_string())
        .args(args)
        .args(["-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error"])
        .args(["-deadcall_wait", "0", "-trace_err", "-error_file"])
        .arg(&err_file)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let out = cmd.output().await.expect("run sipp");
    let errs = std::fs::read_to_string(&err_file).unwrap_or_default();
    (
        out.status.success(),
        format!(
            "sipp exit {:?}\nstderr: {}\nerrors: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr),
            errs.chars().take(6000).collect::<String>()
        ),
    )
}
