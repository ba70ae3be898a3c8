//! GB/T 28181 through the `custos` binary, with real peers (sipp, GStreamer, ffprobe):
//! - a GB device (sipp signalling, PS/RTP from a GStreamer H.264 stream sent by this harness)
//!   is recorded like an RTSP camera, exported and decoded, and listed by `custos gb devices`;
//! - custos as a lower platform: sipp plays the upper platform, accepts our REGISTER (digest),
//!   queries our Catalog and INVITEs a camera; the PS/RTP we send decodes frame by frame.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
// The shared helpers re-export the camera simulator; `custos demo` starts its own here.
#[allow(unused_imports)]
use common::Camsim as _;

const DEVICE: &str = "34020000001320000001";

fn sipp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../custos-gb28181/tests/sipp")
}

fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// Waits until something holds UDP `port` on 127.0.0.1 (the platform is up).
fn wait_port_taken(port: u16) {
    wait_until(60.0, "the SIP port to be bound", || {
        UdpSocket::bind(("127.0.0.1", port)).is_err()
    });
}

fn spawn_demo(data: &Path, sip_port: u16, extra: &[&str]) -> Child {
    common::console_env(&mut Command::new(bin()))
        .args([
            "demo",
            "--cameras",
            "1",
            "--segment-seconds",
            "5",
            "--for",
            "120s",
            // The demo also serves the console: any free port, so tests can run side by side.
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--data")
        .arg(data)
        .args(["--sip-listen", &format!("127.0.0.1:{sip_port}")])
        .args(["--sip-password", "12345678"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn custos demo")
}

fn spawn_sipp(dir: &Path, args: &[String]) -> Child {
    assert!(
        Command::new("sipp").arg("-v").output().is_ok(),
        "sipp is not installed: run scripts/setup (Debian package sip-tester)"
    );
    Command::new("sipp")
        .args(args)
        .args([
            "-nostdin",
            "-timeout",
            "100s",
            "-timeout_error",
            "-deadcall_wait",
            "0",
        ])
        .args(["-trace_err", "-trace_logs"])
        .arg("-error_file")
        .arg(dir.join("sipp_errors.log"))
        .arg("-log_file")
        .arg(dir.join("sipp.log"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipp")
}

/// PS from GStreamer (x264enc → mpegpsmux), split per frame with each frame's PTS.
fn gst_ps_frames(dir: &Path, frames: u32) -> Vec<(u32, Vec<u8>)> {
    let out = dir.join("src.ps");
    let pipeline = format!(
        "videotestsrc num-buffers={frames} ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc key-int-max=25 bframes=0 tune=zerolatency ! h264parse ! mpegpsmux ! filesink location={}",
        out.display()
    );
    let st = Command::new("timeout")
        .args(["120", "gst-launch-1.0", "-q"])
        .args(pipeline.split(' '))
        .status()
        .unwrap();
    assert!(st.success(), "{pipeline}");
    let ps = std::fs::read(out).unwrap();
    let mut res: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut cur_pts: Option<u32> = None;
    let mut i = 0;
    while i + 4 <= ps.len() {
        let id = ps[i + 3];
        let len = match id {
            0xB9 => 4,
            0xBA => 14 + (ps[i + 13] & 7) as usize,
            _ => 6 + u16::from_be_bytes([ps[i + 4], ps[i + 5]]) as usize,
        };
        let video = (0xE0..=0xEF).contains(&id);
        let pts = (video && ps[i + 7] & 0x80 != 0).then(|| {
            let b = &ps[i + 9..i + 14];
            ((((b[0] as u64 >> 1) & 7) << 30)
                | ((b[1] as u64) << 22)
                | (((b[2] as u64) >> 1) << 15)
                | ((b[3] as u64) << 7)
                | ((b[4] as u64) >> 1)) as u32
        });
        if cur_pts.is_some() && (!video || pts.is_some()) {
            res.push((cur_pts.take().unwrap(), std::mem::take(&mut cur)));
        }
        if pts.is_some() {
            cur_pts = pts;
        }
        cur.extend_from_slice(&ps[i..(i + len).min(ps.len())]);
        i += len;
    }
    if let Some(p) = cur_pts {
        res.push((p, cur));
    }
    res
}

fn gb_devices(data: &Path) -> serde_json::Value {
    let out = custos_ok(&["gb", "devices", "--data", data.to_str().unwrap(), "--json"]);
    serde_json::from_str(&out).expect("gb devices json")
}

/// I1, I2 (GB/T 28181 access), A2 (registry acceptance), B1 (24/7 recording of every camera),
/// H1 (export): a GB device that registers to `custos demo --sip-listen` is listed as pending
/// and NOT recorded (no INVITE, no camera or stream created); once an administrator
/// runs `custos gb accept` (another process, no restart) it is INVITEd (TCP active: custos
/// connects to the device), its PS/RTP is recorded in segments like an RTSP camera's, exports
/// to an MP4 of the right duration that ffmpeg decodes without error, and `custos gb devices`
/// lists it online (and offline once custos stops).
#[test]
fn i1_i2_a2_gb_device_recorded_once_accepted_exported_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let frames = gst_ps_frames(dir.path(), 250); // 10 s at 25 fps
    let sip_port = free_port();
    let demo = spawn_demo(&data, sip_port, &["--sip-media", "tcp-active"]);
    wait_port_taken(sip_port);
    let media = TcpListener::bind("127.0.0.1:0").unwrap();
    let mport = media.local_addr().unwrap().port();
    let args: Vec<String> = [
        format!("127.0.0.1:{sip_port}"),
        "-sf".into(),
        sipp_dir().join("device_media.xml").display().to_string(),
        "-oocsf".into(),
        sipp_dir().join("device_invite.xml").display().to_string(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        free_port().to_string(),
        "-m".into(),
        "1".into(),
        "-key".into(),
        "mport".into(),
        mport.to_string(),
        "-key".into(),
        "mproto".into(),
        "TCP/RTP/AVP".into(),
        "-key".into(),
        "msetup".into(),
        "a=setup:passive".into(),
    ]
    .to_vec();
    let mut sipp = spawn_sipp(dir.path(), &args);
    media.set_nonblocking(true).unwrap();
    // A2, the attack: a device that merely registers (pending in the registry) is listed but
    // not recorded, and `custos health` says why.
    wait_until(60.0, "the device to register", || {
        gb_devices(&data)
            .as_array()
            .is_some_and(|a| a.iter().any(|d| d["id"] == DEVICE && d["online"] == true))
    });
    // Nothing is created for a pending device (A2, E3): no camera, no stream, no recorder —
    // so a device cannot touch an existing camera before an administrator accepts it.
    std::thread::sleep(Duration::from_secs(5));
    let out = custos(&["health", "--data", data.to_str().unwrap(), "--json"]);
    let h: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    assert!(
        !h["streams"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s["camera"] == DEVICE)),
        "A2: a stream was created for a pending GB device: {h}"
    );
    assert!(
        media.accept().is_err(),
        "A2: custos connected for media to a device not accepted in the registry"
    );
    let d = gb_devices(&data);
    let d = d
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == DEVICE)
        .unwrap();
    assert_eq!(d["registry_status"], "pending", "{d}");
    // The administrator accepts it, in another process: recording starts without a restart.
    custos_ok(&[
        "gb",
        "accept",
        "--data",
        data.to_str().unwrap(),
        DEVICE,
        "--by",
        "admin",
    ]);
    // custos INVITEs the accepted device, then connects to its media port.
    let start = Instant::now();
    let mut conn = loop {
        match media.accept() {
            Ok((c, _)) => break c,
            Err(_) if start.elapsed() < Duration::from_secs(60) => sleep(0.1),
            Err(e) => {
                let _ = sipp.kill();
                panic!("custos never connected for media: {e}");
            }
        }
    };
    conn.set_nonblocking(false).unwrap();
    // The SSRC custos chose, as the device (sipp) logged it from the INVITE's y= line.
    let log = std::fs::read_to_string(dir.path().join("sipp.log")).unwrap_or_default();
    let ssrc: u32 = log
        .split("INVITE ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.trim_start_matches("y=").parse().ok())
        .unwrap_or_else(|| panic!("no SSRC in sipp log: {log}"));
    let mut seq: u16 = 7;
    for (pts, ps) in &frames {
        let chunks: Vec<&[u8]> = ps.chunks(1400).collect();
        for (k, c) in chunks.iter().enumerate() {
            let mut p = vec![0x80, 96 | if k + 1 == chunks.len() { 0x80 } else { 0 }];
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&pts.to_be_bytes());
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend_from_slice(c);
            seq = seq.wrapping_add(1);
            let mut framed = (p.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&p);
            conn.write_all(&framed).unwrap();
        }
        sleep(0.04);
    }
    sleep(1.5);
    let devs = gb_devices(&data);
    let d = devs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == DEVICE)
        .unwrap_or_else(|| panic!("device not listed: {devs}"));
    assert_eq!(d["online"], true, "{d}");
    assert_eq!(d["transport"], "UDP");
    assert_eq!(d["registry_status"], "accepted");
    // I4: the device's alarm is an active alarm (and a ledger entry, checked by verify below).
    let health: serde_json::Value = serde_json::from_str(&custos_ok(&[
        "health",
        "--data",
        data.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert!(
        health["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["message"].as_str().unwrap_or("").contains("door forced")),
        "{}",
        health["alarms"]
    );
    // D1: `health` sees the GB/T 28181 channel as it records (it is fed by the GB glue, not
    // by RTSP ingest): online, with a frame rate, a bitrate and a last frame.
    let st = health["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["camera"] == DEVICE)
        .unwrap_or_else(|| panic!("GB channel not in health: {health}"))
        .clone();
    assert_eq!(st["state"], "online", "{st}");
    assert!(st["fps"].as_f64().unwrap() > 5.0, "{st}");
    assert!(st["bitrate_bps"].as_f64().unwrap() > 0.0, "{st}");
    assert!(st["last_frame"].is_string(), "{st}");
    let table = custos_ok(&["gb", "devices", "--data", data.to_str().unwrap()]);
    assert!(
        table.contains(DEVICE) && table.contains("online"),
        "{table}"
    );
    let out = terminate(demo);
    let _ = sipp.kill();
    let _ = sipp.wait();
    assert!(out.status.success(), "demo: {}", stderr(&out));
    let rec = recordings(&data, DEVICE);
    let segs = segments(&rec);
    assert!(segs.len() >= 2, "5 s segments of a 10 s stream: {rec}");
    let from = segs[0]["start_90k"].as_i64().unwrap();
    let to = segs.last().unwrap()["end_90k"].as_i64().unwrap();
    let mp4 = dir.path().join("gb.mp4");
    custos_ok(&[
        "export",
        "--data",
        data.to_str().unwrap(),
        "--camera",
        DEVICE,
        "--from",
        &rfc3339(from),
        "--to",
        &rfc3339(to),
        "-o",
        mp4.to_str().unwrap(),
    ]);
    let dur = duration_of(&mp4);
    assert!(
        (9.5..=10.2).contains(&dur),
        "exported duration {dur} s of a 10 s stream"
    );
    let dec = Command::new("timeout")
        .args(["60", "ffmpeg", "-v", "error", "-i"])
        .arg(&mp4)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        dec.status.success() && dec.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&dec.stderr)
    );
    // Audited like any camera: the ledger and every segment verify.
    custos_ok(&["verify", "--data", data.to_str().unwrap()]);
    assert!(
        tree_contains(&data, b"GB/T 28181 Notify Alarm"),
        "I4: the alarm is in the ledger"
    );
    let no = custos(&[
        "gb",
        "accept",
        "--data",
        data.to_str().unwrap(),
        "34020000001320000999",
        "--by",
        "admin",
    ]);
    assert_eq!(no.status.code(), Some(3), "unknown device: {}", stderr(&no));
    let after = gb_devices(&data);
    assert_eq!(after[0]["registry_status"], "accepted");
    assert_eq!(after[0]["online"], false, "{after}");
    assert_eq!(after[0]["offline_reason"], "platform stopped");
}

/// I2 (sharing with the police platform), cascade: sipp plays the upper platform. custos
/// registers with digest, answers Catalog with its camera under a 20-digit code, and on the
/// upper's INVITE sends PS over RTP (PT 96, the upper's SSRC) that ffprobe decodes, every
/// frame, without error; the upper's BYE stops it. Then the upper plays back a range of our
/// recordings (s=Playback): the recorded frames arrive the same way and MediaStatus 121 ends
/// it. Both accesses are registered in the ledger (E2).
#[test]
fn i2_cascade_upper_platform_receives_decodable_ps() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let upper_port = free_port();
    let (live, playback) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Playback of what custos records from 4 s after it starts, for 6 s.
    let (pbstart, pbend) = (now + 4, now + 10);
    let args: Vec<String> = [
        "-sf".to_string(),
        sipp_dir().join("upper_platform.xml").display().to_string(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        upper_port.to_string(),
        "-m".into(),
        "2".into(),
        "-key".into(),
        "rport".into(),
        live.local_addr().unwrap().port().to_string(),
        "-key".into(),
        "rport2".into(),
        playback.local_addr().unwrap().port().to_string(),
        "-key".into(),
        "pbstart".into(),
        pbstart.to_string(),
        "-key".into(),
        "pbend".into(),
        pbend.to_string(),
        "-d".into(),
        "9000".into(),
    ]
    .to_vec();
    let mut sipp = spawn_sipp(dir.path(), &args);
    sleep(0.5);
    let sip_port = free_port();
    let demo = spawn_demo(
        &data,
        sip_port,
        &[
            "--sip-upper",
            &format!("34010000002000000001@127.0.0.1:{upper_port}"),
            "--sip-upper-password",
            "upperpw",
        ],
    );
    // Each receiver collects until its stream has been quiet for 3 s.
    let collect = |s: UdpSocket| {
        std::thread::spawn(move || {
            s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
            let mut pkts: Vec<Vec<u8>> = Vec::new();
            let mut buf = vec![0u8; 65536];
            let (mut first, mut last) = (None, Instant::now());
            while let Ok(n) = s.recv(&mut buf) {
                pkts.push(buf[..n].to_vec());
                first.get_or_insert_with(Instant::now);
                last = Instant::now();
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            }
            (pkts, first.map(|f| last - f).unwrap_or_default())
        })
    };
    let (live_rx, pb_rx) = (collect(live), collect(playback));
    let (live_pkts, _) = live_rx.join().unwrap();
    let (pb_pkts, pb_span) = pb_rx.join().unwrap();
    let sipp_out = loop {
        if let Some(st) = sipp.try_wait().unwrap() {
            break st;
        }
        sleep(0.2);
    };
    let errs = std::fs::read_to_string(dir.path().join("sipp_errors.log")).unwrap_or_default();
    let out = terminate(demo);
    assert!(
        sipp_out.success(),
        "sipp upper platform failed: {errs}\n{}",
        stderr(&out)
    );
    let live_frames = check_ps_over_rtp(dir.path(), "live", &live_pkts, 123);
    assert!(
        live_frames >= 60,
        "9 s of live 15 fps video: {live_frames} frames"
    );
    let pb_frames = check_ps_over_rtp(dir.path(), "playback", &pb_pkts, 1_000_000_124);
    assert!(
        (30..=125).contains(&pb_frames),
        "up to 6 s of recorded 15 fps video, from the key frame before: {pb_frames} frames"
    );
    // Sent at 4x (the upper's Scale): the footage's duration / 4, plus slack for a busy machine.
    let footage = pb_frames as f64 / 15.0;
    assert!(
        pb_span.as_secs_f64() < footage / 4.0 + 1.5,
        "{footage:.1} s of footage took {pb_span:?} at Scale 4"
    );
    let mut s = String::new();
    let _ =
        std::fs::File::open(dir.path().join("sipp.log")).and_then(|mut f| f.read_to_string(&mut s));
    assert!(s.contains("catalog"), "sipp saw our catalog: {s}");
    assert!(
        s.contains("playback ended"),
        "MediaStatus 121 at the end: {s}"
    );
    // E2: the upper platform's live view and playback were registered in the ledger, which
    // verifies.
    custos_ok(&["verify", "--data", data.to_str().unwrap()]);
    assert!(
        tree_contains(&data, b"GB/T 28181 cascade live view")
            && tree_contains(&data, b"GB/T 28181 cascade playback"),
        "no ledger entries for the upper platform's accesses"
    );
}

/// RTP checks (v2, PT 96, the SSRC from y=, consecutive sequence numbers), then the PS payload
/// goes to ffprobe, which must decode every frame (one per marker bit) without error.
fn check_ps_over_rtp(dir: &Path, name: &str, pkts: &[Vec<u8>], ssrc: u32) -> u64 {
    assert!(pkts.len() > 20, "{name}: only {} RTP packets", pkts.len());
    let mut ps = Vec::new();
    let mut frames = 0;
    let mut last_seq: Option<u16> = None;
    for p in pkts {
        assert_eq!(p[0] >> 6, 2, "RTP v2");
        assert_eq!(p[1] & 0x7f, 96, "PT 96");
        assert_eq!(
            u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
            ssrc,
            "SSRC from y="
        );
        let seq = u16::from_be_bytes([p[2], p[3]]);
        if let Some(l) = last_seq {
            assert_eq!(
                seq,
                l.wrapping_add(1),
                "{name}: in order, no loss on loopback"
            );
        }
        last_seq = Some(seq);
        if p[1] & 0x80 != 0 {
            frames += 1;
        }
        ps.extend_from_slice(&p[12..]);
    }
    let file = dir.join(format!("{name}.ps"));
    std::fs::File::create(&file)
        .unwrap()
        .write_all(&ps)
        .unwrap();
    let probe = Command::new("timeout")
        .args([
            "60",
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
        ])
        .args([
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&probe.stdout).to_string();
    let se = String::from_utf8_lossy(&probe.stderr).to_string();
    assert!(se.trim().is_empty(), "{name}: ffprobe errors: {se}");
    assert_eq!(
        so.trim(),
        format!("h264,{frames}"),
        "{name}: every frame sent decodes"
    );
    frames
}

/// Whether any file under `dir` (except footage) contains `needle`.
fn tree_contains(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let p = e.unwrap().path();
        if p.is_dir() {
            !p.ends_with("footage") && tree_contains(&p, needle)
        } else {
            std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        }
    })
}
