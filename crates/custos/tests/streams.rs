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
