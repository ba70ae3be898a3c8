//! Bad input (issue: recording core): every error is one clear line naming what was wrong and
//! what to do, with a non-zero exit code; nothing panics; nothing recorded is lost.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::*;

fn one_clear_line(o: &std::process::Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    let last = err
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect::<Vec<_>>();
    assert_eq!(last.len(), 1, "expected one error line: {err}");
    assert!(
        last[0].contains(needle),
        "error line lacks {needle:?}: {err}"
    );
}

/// Serves one canned reply to every RTSP request on a fresh loopback port.
fn fake_rtsp(reply: impl Fn(&str, &str) -> Vec<u8> + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming().take(8) {
            let Ok(mut c) = conn else { continue };
            let mut r = BufReader::new(c.try_clone().unwrap());
            loop {
                let mut first = String::new();
                if r.read_line(&mut first).unwrap_or(0) == 0 {
                    break;
                }
                let mut cseq = String::from("1");
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.strip_prefix("CSeq:") {
                        cseq = v.trim().to_owned();
                    }
                }
                let method = first.split(' ').next().unwrap_or("").to_owned();
                if c.write_all(&reply(&method, &cseq)).is_err() {
                    break;
                }
            }
        }
    });
    port
}

/// E7: asking for a camera, time or range that has no footage says so, and where footage is.
#[test]
fn unknown_camera_bad_time_and_empty_range_are_clear() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let d = tmp.path().join("nodata");
    let o = custos(&["recordings", "--data", d.to_str().unwrap(), "--camera", "x"]);
    one_clear_line(&o, 3, "not a custos data directory");
    // A real data directory with one camera.
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 5, &[("porch", sim.url(1), "")]);
    record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "6s");
    let ds = data.to_str().unwrap();
    one_clear_line(
        &custos(&["recordings", "--data", ds, "--camera", "garage"]),
        3,
        "known cameras: porch",
    );
    let o = custos(&[
        "export",
        "--data",
        ds,
        "--camera",
        "porch",
        "--from",
        "yesterday",
        "--to",
        "2026-01-01T00:00:00Z",
        "-o",
        "/tmp/x.mp4",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("RFC 3339"), "{}", stderr(&o));
    let o = custos(&[
        "export",
        "--data",
        ds,
        "--camera",
        "porch",
        "--from",
        "2001-01-01T00:00:00Z",
        "--to",
        "2001-01-01T00:01:00Z",
        "-o",
        "/tmp/x.mp4",
    ]);
    one_clear_line(&o, 3, "no footage between");
    assert!(
        stderr(&o).contains("recorded footage spans"),
        "{}",
        stderr(&o)
    );
    let o = custos(&[
        "export",
        "--data",
        ds,
        "--camera",
        "porch",
        "--from",
        "2001-01-01T00:01:00Z",
        "--to",
        "2001-01-01T00:00:00Z",
        "-o",
        "/tmp/x.mp4",
    ]);
    one_clear_line(&o, 2, "is not after");
}

/// E7: a truncated (damaged) sealed segment is reported by name, not exported as if whole.
#[test]
fn e7_truncated_segment_file_is_reported_not_hidden() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 5, &[("shed", sim.url(1), "")]);
    record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "9s");
    let v = recordings(&data, "shed");
    let seg = &segments(&v)[0];
    let p = data.join(seg["path"].as_str().unwrap());
    let len = std::fs::metadata(&p).unwrap().len();
    // Sealed files are immutable where the filesystem allows: clear that first, as root could.
    custos_testkit::unprotect_tree(&p).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let (s, e) = (
        seg["start_90k"].as_i64().unwrap(),
        seg["end_90k"].as_i64().unwrap(),
    );
    let o = custos(&[
        "export",
        "--data",
        data.to_str().unwrap(),
        "--camera",
        "shed",
        "--from",
        &rfc3339(s),
        "--to",
        &rfc3339(e),
        "-o",
        tmp.path().join("x.mp4").to_str().unwrap(),
    ]);
    one_clear_line(&o, 7, "is damaged");
    assert!(
        stderr(&o).contains(seg["path"].as_str().unwrap()),
        "{}",
        stderr(&o)
    );
}

/// I2: digest auth; a wrong password is named as such (exit 4), the right one records.
#[test]
fn wrong_password_is_named() {
    let opts = CamsimOptions {
        auth: Some(("admin".into(), "right".into())),
        ..small_cam("h264")
    };
    let sim = Camsim::start(&opts).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let cfg = write_config(
        tmp.path(),
        5,
        &[(
            "gate",
            sim.url(1),
            "username = \"admin\"\npassword = \"wrong\"",
        )],
    );
    let o = record(
        tmp.path().join("d").to_str().unwrap(),
        cfg.to_str().unwrap(),
        "5s",
    );
    one_clear_line(&o, 4, "wrong username or password");
    // And with the right one it records.
    let cfg = write_config(
        tmp.path(),
        5,
        &[(
            "gate",
            sim.url(1),
            "username = \"admin\"\npassword = \"right\"",
        )],
    );
    record_ok(
        tmp.path().join("d").to_str().unwrap(),
        cfg.to_str().unwrap(),
        "6s",
    );
    assert!(!segments(&recordings(&tmp.path().join("d"), "gate")).is_empty());
}

/// I2, D1: an unreachable camera is named with what to check (exit 5).
#[test]
fn unreachable_camera_is_named() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = write_config(
        tmp.path(),
        5,
        &[("far", format!("rtsp://127.0.0.1:{port}/x"), "")],
    );
    let o = record(
        tmp.path().join("d").to_str().unwrap(),
        cfg.to_str().unwrap(),
        "5s",
    );
    one_clear_line(&o, 5, "camera far");
    assert!(stderr(&o).contains("reachable"), "{}", stderr(&o));
}

/// F1: a broken config or a retention below the legal floor is refused with file and line.
#[test]
fn garbage_config_is_named() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let cfg = tmp.path().join("bad.toml");
    std::fs::write(&cfg, "[[camera]\nname = 'x'").unwrap();
    let o = custos(&[
        "record",
        "--data",
        tmp.path().join("d").to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    one_clear_line(&o, 2, "bad.toml");
    std::fs::write(
        &cfg,
        "[[camera]]\nname = 'x'\nurl = 'rtsp://h/'\nretention = '10d'\n",
    )
    .unwrap();
    let o = custos(&[
        "record",
        "--data",
        tmp.path().join("d").to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    one_clear_line(&o, 2, "legal minimum");
}

/// I2: a server that answers RTSP with garbage: a clear protocol error, no panic.
#[test]
fn malformed_rtsp_response_is_a_clear_error() {
    let port = fake_rtsp(|_, _| b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_vec());
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let cfg = write_config(
        tmp.path(),
        5,
        &[("odd", format!("rtsp://127.0.0.1:{port}/x"), "")],
    );
    let o = record(
        tmp.path().join("d").to_str().unwrap(),
        cfg.to_str().unwrap(),
        "5s",
    );
    one_clear_line(&o, 5, "camera odd");
}

/// I2: a stream with no video (audio only): refused with what was found.
#[test]
fn non_video_stream_is_refused_with_what_was_found() {
    let port = fake_rtsp(|method, cseq| {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=audio\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:track1\r\n";
        match method {
            "DESCRIBE" => format!(
                "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            )
            .into_bytes(),
            _ => format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n").into_bytes(),
        }
    });
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let cfg = write_config(
        tmp.path(),
        5,
        &[("mic", format!("rtsp://127.0.0.1:{port}/x"), "")],
    );
    let o = record(
        tmp.path().join("d").to_str().unwrap(),
        cfg.to_str().unwrap(),
        "5s",
    );
    one_clear_line(&o, 5, "no H.264/H.265 video");
    assert!(stderr(&o).contains("audio/pcmu"), "{}", stderr(&o));
}
