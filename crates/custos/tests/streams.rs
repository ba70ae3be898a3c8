//! Stream options (I2): RTSP over UDP as a per-camera option, and a camera's main and sub
//! streams both recorded.

mod common;

use common::*;
use custos_testkit::ffmpeg_decode_errors;

/// I2: `transport = "udp"` records over RTP/UDP (for servers that answer 461 to interleaved
/// TCP); the segments decode cleanly.
#[test]
fn i2_udp_transport_records() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(
        tmp.path(),
        5,
        &[("udp-cam", sim.url(1), "transport = \"udp\"")],
    );
    record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "9s");
    let segs = segments(&recordings(&data, "udp-cam"));
    assert!(!segs.is_empty(), "nothing recorded over UDP");
    let frames: i64 = segs.iter().map(|s| s["frames"].as_i64().unwrap()).sum();
    assert!(frames >= 5 * 15, "only {frames} frames over UDP");
    for s in &segs {
        assert_eq!(
            ffmpeg_decode_errors(&data.join(s["path"].as_str().unwrap())),
            ""
        );
    }
}

/// I2, D1: a camera with a main and a sub stream: both are recorded, each at its own size.
#[test]
fn i2_main_and_sub_streams_both_recorded() {
    let sim = Camsim::start(&CamsimOptions {
        sub_streams: true,
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let extra = format!("sub_url = \"{}\"", sim.sub_url(1));
    let cfg = write_config(tmp.path(), 5, &[("dual", sim.url(1), &extra)]);
    record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "9s");
    let main = segments(&recordings(&data, "dual"));
    let out = custos_ok(&[
        "recordings",
        "--data",
        data.to_str().unwrap(),
        "--camera",
        "dual",
        "--stream",
        "sub",
        "--json",
    ]);
    let sub = segments(&serde_json::from_str(&out).unwrap());
    assert!(
        !main.is_empty() && !sub.is_empty(),
        "main {} / sub {} segments",
        main.len(),
        sub.len()
    );
    assert_eq!(main[0]["width"], 320);
    assert!(sub[0]["width"].as_i64().unwrap() <= 320, "{:?}", sub[0]);
    assert!(
        main[0]["path"].as_str().unwrap().contains("/main/")
            && sub[0]["path"].as_str().unwrap().contains("/sub/")
    );
}

// ---- RTSP interoperability: the camera simulator's quirk modes (docs/rtsp-interop.md) ----

/// Records `secs` seconds of camera 1 of `sim` as camera `name` with extra config lines, and
/// returns the data directory's recordings listing.
fn record_quirky(
    tmp: &std::path::Path,
    name: &str,
    url: String,
    extra: &str,
    for_: &str,
) -> (std::path::PathBuf, serde_json::Value) {
    let data = tmp.join("data");
    let cfg = write_config(tmp, 5, &[(name, url, extra)]);
    let o = record(data.to_str().unwrap(), cfg.to_str().unwrap(), for_);
    assert!(o.status.success(), "custos record failed: {}", stderr(&o));
    let v = recordings(&data, name);
    (data, v)
}

fn reconnects(data: &std::path::Path, camera: &str) -> i64 {
    health_streams(data)
        .iter()
        .find(|s| s["camera"] == camera)
        .unwrap_or_else(|| panic!("{camera} not in health"))["reconnects"]
        .as_i64()
        .unwrap()
}

/// D1, E7, I2: the camera of the field report — H.264 with B-frames, RTP over UDP only, the
/// SPS/PPS only in the SDP, an `a=fmtp` line ending in `;`, and the first packet received in
/// the middle of a fragmented NAL unit. Recorded without a reconnect; every segment decodes;
/// the only gap is the start ("connecting") and every second is accounted for.
#[test]
fn d1_e7_i2_udp_bframes_sdp_only_params_fmtp_semicolon_midfrag_recorded() {
    let sim = Camsim::start(&CamsimOptions {
        bframes: 2,
        transport: Some("udp".into()),
        quirks: vec![
            "fmtp-semicolon".into(),
            "sdp-only-params".into(),
            "midfrag".into(),
        ],
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (data, v) = record_quirky(
        tmp.path(),
        "field",
        sim.url(1),
        "transport = \"udp\"",
        "14s",
    );
    let frames = assert_segments_decode(&data, &v);
    assert!(frames >= 8 * 15, "only {frames} frames in 14 s: {v:#}");
    assert_eq!(outage_gaps(&v), Vec::<serde_json::Value>::new(), "{v:#}");
    let span = assert_every_second_accounted(&v, 0.1);
    assert!(span >= 13.0, "accounted span {span} s of a 14 s run");
    assert_eq!(reconnects(&data, "field"), 0, "reconnected");
    assert!(
        sim.stderr_text()
            .contains("first packet sent is the middle of a fragment"),
        "the simulator did not start mid-fragment"
    );
}

/// Seconds from the first footage to the start of gap `g`.
fn gap_offset(v: &serde_json::Value, g: &serde_json::Value) -> f64 {
    let first = segments(v)[0]["start_90k"].as_i64().unwrap();
    (g["start_90k"].as_i64().unwrap() - first) as f64 / 90_000.0
}

/// D1, E7: six RTP packets lost in a row on UDP, 7 s after the camera starts sending: the
/// session goes on (no reconnect); the damaged stretch is dropped to the next key frame and is
/// exactly one gap, where the loss was, whose reason says so; the footage decodes cleanly.
#[test]
fn d1_e7_udp_burst_loss_is_one_gap_where_it_happened() {
    let sim = Camsim::start(&CamsimOptions {
        transport: Some("udp".into()),
        quirks: vec!["burst-loss=6@7".into()],
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (data, v) = record_quirky(
        tmp.path(),
        "lossy",
        sim.url(1),
        "transport = \"udp\"",
        "15s",
    );
    assert_segments_decode(&data, &v);
    let g = outage_gaps(&v);
    assert_eq!(g.len(), 1, "{v:#}");
    let r = g[0]["reason"].as_str().unwrap();
    assert!(r.starts_with("damaged stream:"), "gap reason {r:?}");
    // At most one GOP (2 s) is dropped, plus a frame.
    let d = g[0]["duration_s"].as_f64().unwrap();
    assert!(d > 0.0 && d <= 2.5, "damage gap of {d} s: {v:#}");
    // The simulator's clock starts when the media is prepared (DESCRIBE), just before the
    // first footage.
    let at = gap_offset(&v, &g[0]);
    assert!(
        (5.0..=8.5).contains(&at),
        "gap {at} s after the first footage"
    );
    assert_every_second_accounted(&v, 0.1);
    assert_eq!(reconnects(&data, "lossy"), 0, "reconnected");
}

/// D1, E7: random loss and reordering on UDP: no reconnect; every gap is a damaged stretch
/// dropped to the next intact key frame; all footage decodes; every second is accounted for.
#[test]
fn d1_e7_udp_random_loss_and_reordering_drop_to_key_frame() {
    let sim = Camsim::start(&CamsimOptions {
        transport: Some("udp".into()),
        quirks: vec!["loss=0.002".into(), "reorder=0.003".into()],
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (data, v) = record_quirky(
        tmp.path(),
        "lossy",
        sim.url(1),
        "transport = \"udp\"",
        "16s",
    );
    let frames = assert_segments_decode(&data, &v);
    assert!(frames >= 3 * 15, "only {frames} frames survived: {v:#}");
    let g = outage_gaps(&v);
    assert!(!g.is_empty(), "loss and reordering left no gap: {v:#}");
    for x in &g {
        let r = x["reason"].as_str().unwrap();
        assert!(r.starts_with("damaged stream:"), "gap reason {r:?}: {v:#}");
        // Dropped to the next intact key frame: a GOP (2 s), or two when the key frame was
        // hit too (it is the largest picture, the likeliest to lose a packet).
        let d = x["duration_s"].as_f64().unwrap();
        assert!(d <= 4.5, "damage gap of {d} s: {v:#}");
    }
    assert_every_second_accounted(&v, 0.1);
    assert_eq!(reconnects(&data, "lossy"), 0, "reconnected");
}

/// E7: the camera's RTP timestamps jump an hour ahead mid-stream: one gap with the reason
/// where it happened, the footage after it keeps wall-clock time, no reconnect.
#[test]
fn e7_rtp_timestamp_jump_is_a_gap_not_an_hour_of_footage() {
    let sim = Camsim::start(&CamsimOptions {
        quirks: vec!["ts-jump=3600@7".into()],
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let t0 = custos_testkit::now_unix_ms();
    let (data, v) = record_quirky(tmp.path(), "jumpy", sim.url(1), "", "16s");
    let t1 = custos_testkit::now_unix_ms();
    assert_segments_decode(&data, &v);
    let g = outage_gaps(&v);
    assert_eq!(g.len(), 1, "{v:#}");
    assert!(
        g[0]["reason"]
            .as_str()
            .unwrap()
            .contains("media clock jumped"),
        "{v:#}"
    );
    let at = gap_offset(&v, &g[0]);
    assert!(
        (5.0..=8.5).contains(&at),
        "gap {at} s after the first footage"
    );
    // Footage stays on the wall clock: nothing ends an hour in the future.
    for s in segments(&v) {
        let end_ms = s["end_90k"].as_i64().unwrap() / 90;
        assert!(
            end_ms <= t1 + 1000 && end_ms >= t0,
            "segment outside the run: {s}"
        );
    }
    assert_every_second_accounted(&v, 0.1);
    assert_eq!(reconnects(&data, "jumpy"), 0);
}

/// D1, E7: the camera changes resolution mid-stream (a new SPS): the segment is sealed and
/// the next starts at the new size, contiguous with it; both decode.
#[test]
fn d1_e7_sps_change_mid_stream_starts_a_new_segment() {
    let mut sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 60, &[("zoom", sim.url(1), "")]);
    let rec = spawn_record(&data, &cfg, &[]);
    sleep(7.0);
    sim.resize_camera(1, 480, 270).unwrap();
    sleep(7.0);
    let out = terminate(rec);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = recordings(&data, "zoom");
    assert_segments_decode(&data, &v);
    let segs = segments(&v);
    let widths: Vec<i64> = segs.iter().map(|s| s["width"].as_i64().unwrap()).collect();
    assert!(
        widths.contains(&320) && widths.contains(&480),
        "sizes {widths:?}: {v:#}"
    );
    let i = widths.iter().position(|w| *w == 480).unwrap();
    assert!(i > 0);
    assert_eq!(
        segs[i - 1]["end_90k"],
        segs[i]["start_90k"],
        "the new size does not continue the old: {v:#}"
    );
    assert_eq!(outage_gaps(&v), Vec::<serde_json::Value>::new(), "{v:#}");
    assert_every_second_accounted(&v, 0.1);
}

/// I2, D1: a camera without RTCP (no sender reports) whose SDP lists an audio track first:
/// the video track is found and recorded; timing falls back to receive times.
#[test]
fn i2_d1_no_rtcp_and_audio_track_first_recorded() {
    let sim = Camsim::start(&CamsimOptions {
        quirks: vec!["no-rtcp".into(), "audio-first".into()],
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (data, v) = record_quirky(tmp.path(), "mute", sim.url(1), "", "12s");
    let frames = assert_segments_decode(&data, &v);
    assert!(frames >= 5 * 15, "only {frames} frames: {v:#}");
    assert_eq!(outage_gaps(&v), Vec::<serde_json::Value>::new(), "{v:#}");
    assert_every_second_accounted(&v, 0.1);
}

/// I2, D1: H.265 with VPS/SPS/PPS only in the SDP (`sprop-vps/sps/pps`, fmtp ending in `;`).
#[test]
fn i2_d1_h265_parameter_sets_only_in_sdp_recorded() {
    let sim = Camsim::start(&CamsimOptions {
        quirks: vec!["sdp-only-params".into(), "fmtp-semicolon".into()],
        ..small_cam("h265")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (data, v) = record_quirky(tmp.path(), "hevc", sim.url(1), "", "12s");
    let frames = assert_segments_decode(&data, &v);
    assert!(frames >= 5 * 15, "only {frames} frames: {v:#}");
    assert_eq!(segments(&v)[0]["codec"], "h265");
    assert_eq!(outage_gaps(&v), Vec::<serde_json::Value>::new(), "{v:#}");
}

/// E7, D1: a configured camera that never answers is one gap covering all its configured
/// time, with the reason; `health` counts it. While a run lasts its gap is open and extended;
/// after a `kill -9` the next run closes it where it was last seen, the time between runs is
/// "recorder not running", everything is accounted for and the ledger agrees (`verify`).
#[test]
fn e7_d1_never_connected_stream_is_one_gap_over_its_whole_time() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("rtsp://127.0.0.1:{port}/cam1");
    let cfg = write_config(tmp.path(), 5, &[("dark", url, "")]);
    let t0 = custos_testkit::now_unix_ms();
    let keep = |for_: &str| {
        custos_ok(&[
            "record",
            "--data",
            data.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
            "--for",
            for_,
            "--keep-trying",
        ])
    };
    keep("6s");
    let t1 = custos_testkit::now_unix_ms();
    let v = recordings(&data, "dark");
    assert!(segments(&v).is_empty());
    let g = gaps(&v);
    assert_eq!(g.len(), 1, "{v:#}");
    let r = g[0]["reason"].as_str().unwrap();
    assert!(r.starts_with("camera unreachable"), "reason {r:?}");
    let (a, b) = (
        g[0]["start_90k"].as_i64().unwrap() / 90,
        g[0]["end_90k"].as_i64().unwrap() / 90,
    );
    // The preflight probe tries for up to 8 s before recording starts.
    assert!(
        a >= t0 && a - t0 < 9000,
        "gap starts {} ms after launch",
        a - t0
    );
    assert!(
        b <= t1 && t1 - b < 1500,
        "gap ends {} ms before exit",
        t1 - b
    );
    assert_eq!(g[0]["open"], false);
    let h = health_streams(&data);
    assert_eq!(h[0]["gaps_24h"], 1, "{h:?}");
    assert!(h[0]["gap_seconds_24h"].as_f64().unwrap() >= 5.0, "{h:?}");
    assert_eq!(h[0]["completeness_pct"].as_f64(), Some(0.0), "{h:?}");
    // A second run, killed with SIGKILL: while it runs its gap is open and kept up to date.
    let mut run2 = spawn_record(&data, &cfg, &["--keep-trying"]);
    sleep(8.0);
    let v = recordings(&data, "dark");
    let open: Vec<_> = gaps(&v).into_iter().filter(|g| g["open"] == true).collect();
    assert_eq!(open.len(), 1, "{v:#}");
    let seen_ms = open[0]["end_90k"].as_i64().unwrap() / 90;
    let lag = custos_testkit::now_unix_ms() - seen_ms;
    assert!(lag <= 7000, "open gap last extended {lag} ms ago: {v:#}");
    let _ = run2.kill();
    let _ = run2.wait();
    // A third run closes the dead run's gap where it was last seen and records the time
    // after it as "recorder not running".
    keep("3s");
    let v = recordings(&data, "dark");
    let all = gaps(&v);
    let reasons: Vec<&str> = all.iter().map(|g| g["reason"].as_str().unwrap()).collect();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == "recorder not running")
            .count(),
        2,
        "{v:#}"
    );
    assert!(all.iter().all(|g| g["open"] == false), "{v:#}");
    let span = assert_every_second_accounted(&v, 0.01);
    assert!(span >= 16.0, "{span} s accounted");
    // The ledger records every gap (verify checks rows against entries).
    custos_ok(&["verify", "--data", data.to_str().unwrap()]);
}

/// I2: a server that answers `461 Unsupported Transport` to interleaved TCP is recorded over
/// UDP without any configuration.
#[test]
fn i2_461_to_tcp_falls_back_to_udp() {
    let sim = Camsim::start(&CamsimOptions {
        transport: Some("udp".into()),
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (data, v) = record_quirky(tmp.path(), "udponly", sim.url(1), "", "10s");
    let frames = assert_segments_decode(&data, &v);
    assert!(frames >= 5 * 15, "only {frames} frames: {v:#}");
    assert_eq!(outage_gaps(&v), Vec::<serde_json::Value>::new(), "{v:#}");
    assert_eq!(reconnects(&data, "udponly"), 0);
}
