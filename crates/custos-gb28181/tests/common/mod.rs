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
    let mut cmd = tokio::process::Command::new("sipp");
    cmd.arg(target.to_string())
        .args(args)
        .args(["-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error"])
        .args(["-deadcall_wait", "0", "-trace_err", "-error_file"])
        .arg(&err_file)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        // Dropping the future (test done, task aborted) kills sipp.
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("sipp ran over 90 s")
        .expect("run sipp");
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

/// `frames` of 320x240 25 fps H.264 (or H.265) from GStreamer, muxed to PS by `mpegpsmux`.
pub fn gst_ps(dir: &std::path::Path, frames: u32, h265: bool) -> Vec<u8> {
    let out = dir.join(if h265 { "src265.ps" } else { "src264.ps" });
    let enc = if h265 {
        "x265enc key-int-max=25 tune=zerolatency ! h265parse"
    } else {
        "x264enc key-int-max=25 bframes=0 tune=zerolatency ! h264parse"
    };
    let pipeline = format!(
        "videotestsrc num-buffers={frames} ! video/x-raw,width=320,height=240,framerate=25/1 ! {enc} ! mpegpsmux ! filesink location={}",
        out.display()
    );
    let st = std::process::Command::new("timeout")
        .arg("120")
        .arg("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split(' '))
        .status()
        .expect("gst-launch-1.0 (run scripts/setup)");
    assert!(st.success(), "GStreamer pipeline failed: {pipeline}");
    std::fs::read(out).unwrap()
}

/// Splits a program stream into per-frame chunks (pack/system headers and PSM go with the
/// frame they precede), each with its video PTS. Independent of the crate's demuxer.
pub fn ps_frames(ps: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut cur_pts: Option<u32> = None;
    let mut i = 0;
    while i + 4 <= ps.len() {
        assert_eq!(&ps[i..i + 3], &[0, 0, 1], "PS packet at {i}");
        let id = ps[i + 3];
        let len = if id == 0xB9 {
            4
        } else if id == 0xBA {
            14 + (ps[i + 13] & 7) as usize
        } else {
            6 + u16::from_be_bytes([ps[i + 4], ps[i + 5]]) as usize
        };
        let is_video = (0xE0..=0xEF).contains(&id);
        let pts = (is_video && ps[i + 7] & 0x80 != 0).then(|| {
            let b = &ps[i + 9..i + 14];
            ((((b[0] as u64 >> 1) & 7) << 30)
                | ((b[1] as u64) << 22)
                | (((b[2] as u64) >> 1) << 15)
                | ((b[3] as u64) << 7)
                | ((b[4] as u64) >> 1)) as u32
        });
        if cur_pts.is_some() && (!is_video || pts.is_some()) {
            out.push((cur_pts.take().unwrap(), std::mem::take(&mut cur)));
        }
        if pts.is_some() {
            cur_pts = pts;
        }
        cur.extend_from_slice(&ps[i..(i + len).min(ps.len())]);
        i += len;
    }
    if let Some(p) = cur_pts {
        out.push((p, cur));
    }
    out
}

/// RTP packets the GB way: PT 96, 90 kHz (the PS PTS), the SSRC from `y=`, at most 1400
/// payload bytes, marker on a frame's last packet.
pub fn rtp_packets(frames: &[(u32, Vec<u8>)], ssrc: u32) -> Vec<Vec<Vec<u8>>> {
    let mut seq: u16 = 1000;
    frames
        .iter()
        .map(|(ts, data)| {
            let chunks: Vec<&[u8]> = data.chunks(1400).collect();
            let n = chunks.len();
            chunks
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let mut p = vec![0x80, 96 | if k + 1 == n { 0x80 } else { 0 }];
                    p.extend_from_slice(&seq.to_be_bytes());
                    p.extend_from_slice(&ts.to_be_bytes());
                    p.extend_from_slice(&ssrc.to_be_bytes());
                    p.extend_from_slice(c);
                    seq = seq.wrapping_add(1);
                    p
                })
                .collect()
        })
        .collect()
}

/// ffprobe's frame count and error output for a file.
pub fn ffprobe_frames(path: &std::path::Path, format: Option<&str>) -> (u64, String) {
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["60", "ffprobe", "-v", "error"]);
    if let Some(f) = format {
        cmd.args(["-f", f]);
    }
    let out = cmd
        .args([
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames,codec_name,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    let s = String::from_utf8_lossy(&out.stdout).to_string();
    let n = s
        .trim()
        .split(',')
        .next_back()
        .and_then(|x| x.trim().parse().ok())
        .unwrap_or(0);
    (n, format!("{s} {}", String::from_utf8_lossy(&out.stderr)))
}

/// `frames` H.265 access units (Annex B) from GStreamer's x265enc, one file per AU.
pub fn gst_h265_aus(dir: &std::path::Path, frames: u32) -> Vec<Vec<u8>> {
    let pipeline = format!(
        "videotestsrc num-buffers={frames} ! video/x-raw,width=320,height=240,framerate=25/1 ! x265enc key-int-max=25 tune=zerolatency ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au ! multifilesink location={}/au_%05d.h265",
        dir.display()
    );
    let st = std::process::Command::new("timeout")
        .arg("120")
        .arg("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split(' '))
        .status()
        .expect("gst-launch-1.0 (run scripts/setup)");
    assert!(st.success(), "GStreamer pipeline failed: {pipeline}");
    (0..frames)
        .map(|i| std::fs::read(dir.join(format!("au_{i:05}.h265"))).unwrap())
        .collect()
}
