//! End-to-end checks of the camera simulator with real GStreamer and real ffmpeg/ffprobe.

use std::path::Path;
use std::time::{Duration, Instant};

use custos_testkit::{
    Camsim, CamsimOptions, ffmpeg_decode_errors, ffprobe_frames, ffprobe_json, now_unix_ms,
    pull_rtsp, read_timecode_ms, require_tool,
};

fn tools() {
    require_tool("ffmpeg");
    require_tool("ffprobe");
    require_tool("timeout");
    require_tool("/usr/bin/python3");
}

fn video_stream(path: &Path) -> serde_json::Value {
    let v = ffprobe_json(path);
    v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("a video stream")
        .clone()
}

fn duration_s(path: &Path) -> f64 {
    ffprobe_json(path)["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("format duration")
}

fn pull_ok(url: &str, secs: f64, out: &Path) {
    let o = pull_rtsp(url, secs, out).expect("run ffmpeg");
    assert!(
        o.status.success(),
        "ffmpeg pull of {url} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn h264_camera_streams_with_burned_in_wall_clock_timecode() {
    tools();
    let sim = Camsim::start(&CamsimOptions::default()).expect("start camsim");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cam1.mp4");
    let fetched_at = now_unix_ms();
    pull_ok(&sim.url(1), 3.0, &out);

    let st = video_stream(&out);
    assert_eq!(st["codec_name"], "h264");
    assert_eq!(
        (st["width"].as_u64(), st["height"].as_u64()),
        (Some(640), Some(360))
    );
    let d = duration_s(&out);
    assert!((2.5..=3.5).contains(&d), "duration {d}");

    let t0 = read_timecode_ms(&out, 0).expect("timecode on frame 0");
    assert!(
        (t0 - fetched_at).abs() < 1500,
        "frame 0 timecode {t0} vs wall clock at fetch {fetched_at}"
    );
    let t15 = read_timecode_ms(&out, 15).expect("timecode on frame 15");
    let frame_ms = 1000 / 15 + 1;
    assert!(
        ((t15 - t0) - 1000).abs() <= frame_ms,
        "15 frames at 15 fps should span ~1000 ms, got {}",
        t15 - t0
    );
    assert!(ffmpeg_decode_errors(&out).is_empty());
}

#[test]
fn h265_camera_and_sub_stream_are_served() {
    tools();
    let opts = CamsimOptions {
        codec: "h265".into(),
        sub_streams: true,
        ..Default::default()
    };
    let sim = Camsim::start(&opts).expect("start camsim");
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.mp4");
    pull_ok(&sim.url(1), 2.0, &main);
    assert_eq!(video_stream(&main)["codec_name"], "hevc");
    assert!(
        read_timecode_ms(&main, 2).is_some(),
        "timecode on h265 frame"
    );

    let sub = dir.path().join("sub.mp4");
    pull_ok(&sim.sub_url(1), 2.0, &sub);
    let st = video_stream(&sub);
    assert_eq!(
        (st["width"].as_u64(), st["height"].as_u64()),
        (Some(320), Some(180))
    );
    assert!(
        read_timecode_ms(&sub, 2).is_some(),
        "timecode on the 320-wide sub stream"
    );
}

#[test]
fn bframes_option_produces_real_b_frames() {
    tools();
    let opts = CamsimOptions {
        bframes: 2,
        ..Default::default()
    };
    let sim = Camsim::start(&opts).expect("start camsim");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.mp4");
    pull_ok(&sim.url(1), 3.0, &out);
    let frames = ffprobe_frames(&out);
    let b = frames.iter().filter(|f| f.pict_type == "B").count();
    assert!(
        b >= 5,
        "expected B frames, got types {:?}",
        frames
            .iter()
            .map(|f| f.pict_type.as_str())
            .collect::<String>()
    );
}

#[test]
fn digest_auth_rejects_missing_or_wrong_credentials_and_accepts_correct_ones() {
    tools();
    let opts = CamsimOptions {
        auth: Some(("user".into(), "s3cret".into())),
        ..Default::default()
    };
    let sim = Camsim::start(&opts).expect("start camsim");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.mp4");

    let o = pull_rtsp(&sim.url(1), 1.0, &out).unwrap();
    assert!(!o.status.success(), "no credentials must fail");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("401"),
        "expected 401: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let wrong = format!("rtsp://user:wrong@127.0.0.1:{}/cam1", sim.port());
    assert!(
        !pull_rtsp(&wrong, 1.0, &out).unwrap().status.success(),
        "wrong password must fail"
    );

    let good = format!("rtsp://user:s3cret@127.0.0.1:{}/cam1", sim.port());
    pull_ok(&good, 1.0, &out);
    assert_eq!(video_stream(&out)["codec_name"], "h264");
}

#[test]
fn stopped_camera_drops_sessions_and_refuses_clients_until_started() {
    tools();
    let opts = CamsimOptions {
        cameras: 2,
        ..Default::default()
    };
    let mut sim = Camsim::start(&opts).expect("start camsim");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.mp4");

    // a running session is closed by stop
    let url = sim.url(1);
    let long_out = dir.path().join("long.mp4");
    let started = Instant::now();
    let puller = std::thread::spawn(move || pull_rtsp(&url, 20.0, &long_out).unwrap());
    std::thread::sleep(Duration::from_secs(3));
    sim.stop_camera(1).expect("stop cam1");
    let _ = puller.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "session of a stopped camera should end promptly, took {:?}",
        started.elapsed()
    );

    let o = pull_rtsp(&sim.url(1), 1.0, &out).unwrap();
    assert!(!o.status.success(), "stopped camera must refuse clients");
    // the other camera is unaffected
    pull_ok(&sim.url(2), 1.0, &out);

    sim.start_camera(1).expect("start cam1");
    pull_ok(&sim.url(1), 1.0, &out);
    assert_eq!(video_stream(&out)["codec_name"], "h264");

    // the other controls answer OK
    sim.change_scene(1).expect("scene");
    sim.stall_camera(2, 0.5).expect("stall");
    assert!(sim.command("stop cam9").is_err());
}

#[test]
fn loop_mode_serves_a_clip_seamlessly_without_reencoding() {
    tools();
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.h264");
    let opts = CamsimOptions::default();
    Camsim::make_clip(&clip, &opts, 4).expect("make clip");
    let clip_frames = ffprobe_frames(&clip);
    assert_eq!(clip_frames.len(), 60, "4 s at 15 fps, whole GOPs");
    assert_eq!(clip_frames.iter().filter(|f| f.key_frame).count(), 2);

    let loop_opts = CamsimOptions {
        cameras: 2,
        loop_file: Some(clip.clone()),
        timecode: false,
        ..Default::default()
    };
    let sim = Camsim::start(&loop_opts).expect("start camsim in loop mode");
    let out = dir.path().join("loop.mp4");
    pull_ok(&sim.url(2), 10.0, &out);
    let errors = ffmpeg_decode_errors(&out);
    assert!(
        errors.is_empty(),
        "decode errors across the loop point: {errors}"
    );
    let d = duration_s(&out);
    assert!((9.5..=10.5).contains(&d), "duration {d}");
    let frames = ffprobe_frames(&out);
    assert!(
        (140..=160).contains(&frames.len()),
        "~150 frames in 10 s, got {}",
        frames.len()
    );
}
