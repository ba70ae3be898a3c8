//! Fault tests (issue: recording core): a camera that vanishes, `kill -9` of the recorder, a
//! clean SIGTERM. Real simulator, real binary, ffprobe/ffmpeg as judges.

mod common;

use common::*;
use custos_testkit::ffmpeg_decode_errors;

/// E7, D1: a camera stopped for 10 s and restarted gives exactly one gap row of about 10 s;
/// recording resumes; an export across the gap decodes and reports the gap.
#[test]
fn e7_camera_stopped_10s_is_one_gap_and_recording_resumes() {
    let mut sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 10, &[("door", sim.url(1), "")]);
    let rec = spawn_record(&data, &cfg, &[]);
    sleep(9.0);
    sim.stop_camera(1).unwrap();
    sleep(10.0);
    sim.start_camera(1).unwrap();
    sleep(12.0);
    let out = terminate(rec);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = recordings(&data, "door");
    assert_every_second_accounted(&v, 0.01);
    let g = outage_gaps(&v);
    assert_eq!(g.len(), 1, "expected exactly one gap: {v:#}");
    assert!(
        g[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("camera unreachable"),
        "{v:#}"
    );
    let secs = g[0]["duration_s"].as_f64().unwrap();
    // Stopped for 10 s; reconnect backoff and waiting for the next key frame add at most ~4 s.
    assert!(
        (9.0..=14.5).contains(&secs),
        "gap of {secs} s, expected about 10 s"
    );
    let segs = segments(&v);
    let gap_start = g[0]["start_90k"].as_i64().unwrap();
    let gap_end = g[0]["end_90k"].as_i64().unwrap();
    assert!(
        segs.iter()
            .any(|s| s["end_90k"].as_i64() == Some(gap_start)),
        "gap does not start at a segment end"
    );
    let after: Vec<_> = segs
        .iter()
        .filter(|s| s["start_90k"].as_i64().unwrap() >= gap_end)
        .collect();
    assert!(!after.is_empty(), "recording did not resume after the gap");
    assert_eq!(
        after[0]["start_90k"].as_i64(),
        Some(gap_end),
        "resumed segment does not start at the gap's end"
    );
    // Export across the gap.
    let from = gap_start - 4 * 90_000;
    let to = gap_end + 4 * 90_000;
    let mp4 = tmp.path().join("across.mp4");
    let o = custos_ok(&[
        "export",
        "--data",
        data.to_str().unwrap(),
        "--camera",
        "door",
        "--from",
        &rfc3339(from),
        "--to",
        &rfc3339(to),
        "-o",
        mp4.to_str().unwrap(),
    ]);
    assert!(o.contains("gap:"), "export does not report the gap: {o}");
    assert_eq!(ffmpeg_decode_errors(&mp4), "");
    let d = duration_of(&mp4);
    let want = (to - from) as f64 / 90_000.0;
    assert!(
        (d - want).abs() <= 0.1,
        "export across the gap lasts {d} s, wall span is {want} s"
    );
}

/// E3, E7: `kill -9` mid-segment; on restart the open segment is recovered up to its last
/// complete fragment: playable, hashed, index and files agree, and at most the open GOP
/// (2 s at the simulator's GOP) plus one fsync interval is lost.
#[test]
fn e3_kill9_mid_segment_recovers_every_complete_fragment() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 60, &[("lobby", sim.url(1), "")]);
    let mut rec = spawn_record(&data, &cfg, &[]);
    sleep(14.0);
    let killed_at = custos_testkit::now_unix_ms();
    rec.kill().unwrap(); // SIGKILL
    rec.wait().unwrap();
    // Restart: recovery runs first and reports what it repaired.
    let o = record(data.to_str().unwrap(), cfg.to_str().unwrap(), "6s");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("recovered after a crash"),
        "restart did not report recovery: {err}"
    );
    let v = recordings(&data, "lobby");
    let segs = segments(&v);
    let first = &segs[0];
    assert_eq!(first["state"], "sealed");
    assert_eq!(first["recovered"], true);
    let end_ms = first["end_90k"].as_i64().unwrap() * 1000 / 90_000;
    let lost_ms = killed_at - end_ms;
    assert!(
        lost_ms <= 2_000 + 1_500,
        "recovered segment ends {lost_ms} ms before the kill"
    );
    let path = data.join(first["path"].as_str().unwrap());
    assert_eq!(
        ffmpeg_decode_errors(&path),
        "",
        "recovered segment does not decode"
    );
    // The index agrees with the file: size and SHA-256.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(first["bytes"].as_u64(), Some(bytes.len() as u64));
    use sha2::Digest;
    assert_eq!(
        first["sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    // The downtime is a gap, and recording resumed.
    let g = outage_gaps(&v);
    assert_eq!(g.len(), 1, "{v:#}");
    assert_eq!(g[0]["reason"], "recorder not running");
    assert_every_second_accounted(&v, 0.01);
    assert!(segs.len() >= 2 && segs.iter().all(|s| s["state"] == "sealed"));
}

/// E3: SIGTERM seals every open segment and commits its row: nothing recorded is lost.
#[test]
fn e3_sigterm_seals_everything_nothing_lost() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 60, &[("hall", sim.url(1), "")]);
    let rec = spawn_record(&data, &cfg, &[]);
    sleep(11.0);
    let stopped_at = custos_testkit::now_unix_ms();
    let out = terminate(rec);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = recordings(&data, "hall");
    let segs = segments(&v);
    assert!(
        segs.iter()
            .all(|s| s["state"] == "sealed" && s["recovered"] == false),
        "{v:#}"
    );
    let end_ms = segs.last().unwrap()["end_90k"].as_i64().unwrap() * 1000 / 90_000;
    // Everything up to the signal is on disk (the GOP in flight is written, not dropped).
    assert!(
        (stopped_at - end_ms).abs() <= 700,
        "last footage ends {} ms before SIGTERM",
        stopped_at - end_ms
    );
    for s in &segs {
        let p = data.join(s["path"].as_str().unwrap());
        let mode = std::fs::metadata(&p).unwrap().permissions();
        assert!(
            mode.readonly(),
            "sealed segment {} is writable",
            p.display()
        );
    }
}

/// Unmounts the tmpfs when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (needs root, as CI has). Never skips silently.
    fn mount(dir: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(
            st.success(),
            "mounting a small tmpfs failed: this test needs root (CI runs as root)"
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// F2, E3, E7, D1: recording onto a disk that fills up: the recorder keeps running, reports the
/// full disk, and every segment sealed before is intact (its hash still matches); footage
/// writes stop at the free-space floor, so the index and the ledger still record the whole
/// outage as one "disk full" gap up to the stop; exporting to a full disk is one clear error.
#[test]
fn f2_disk_full_loses_nothing_already_recorded() {
    let sim = Camsim::start(&CamsimOptions {
        bitrate_kbps: 3000,
        width: 640,
        height: 360,
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let mnt = Tmpfs::mount(&tmp.path().join("small"), "2m");
    let data = mnt.0.join("data");
    let cfg = write_config(tmp.path(), 5, &[("full", sim.url(1), "")]);
    let rec = spawn_record(&data, &cfg, &[]);
    // ~375 KB/s into 2 MB: the disk fills after a few seconds; the recorder retries every 5 s.
    sleep(20.0);
    // D1: frames still arrive, but `health` does not call the stream online.
    let h = health_streams(&data);
    assert_eq!(h[0]["state"], "not recording", "{h:?}");
    assert_eq!(h[0]["last_error"], "disk full", "{h:?}");
    assert_eq!(h[0]["ongoing_gap"], "disk full", "{h:?}");
    let stopped_ms = custos_testkit::now_unix_ms();
    let out = terminate(rec);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("disk full") || err.contains("No space left on device"),
        "full disk not reported: {err}"
    );
    // The outage is in the index up to the stop, though the disk is full.
    let v = recordings(&data, "full");
    let g = outage_gaps(&v);
    let last = g
        .last()
        .unwrap_or_else(|| panic!("no gap for the full disk: {v:#}"));
    assert_eq!(last["reason"], "disk full", "{v:#}");
    let end_ms = last["end_90k"].as_i64().unwrap() / 90;
    assert!(
        (stopped_ms - end_ms).abs() < 3000,
        "the disk-full gap ends {} ms before the stop: {v:#}",
        stopped_ms - end_ms
    );
    assert_every_second_accounted(&v, 0.01);
    // Move the data to a roomy disk and check every sealed segment against its hash.
    let roomy = tmp.path().join("copy");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(&data)
        .arg(&roomy)
        .status()
        .unwrap();
    assert!(st.success());
    let v = recordings(&roomy, "full");
    let sealed: Vec<_> = segments(&v)
        .into_iter()
        .filter(|s| s["state"] == "sealed")
        .collect();
    assert!(
        !sealed.is_empty(),
        "nothing sealed before the disk filled: {v:#}"
    );
    use sha2::Digest;
    for s in &sealed {
        let p = roomy.join(s["path"].as_str().unwrap());
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(
            s["sha256"].as_str().unwrap(),
            hex::encode(sha2::Sha256::digest(&bytes)),
            "{} changed",
            p.display()
        );
        assert_eq!(ffmpeg_decode_errors(&p), "");
    }
    // Export into the full tmpfs: exit 6 and one line.
    let (a, b) = (
        sealed[0]["start_90k"].as_i64().unwrap(),
        sealed[0]["end_90k"].as_i64().unwrap(),
    );
    let filler = mnt.0.join("filler");
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "count=100"])
        .arg(format!("of={}", filler.display()))
        .status();
    let o = custos(&[
        "export",
        "--data",
        roomy.to_str().unwrap(),
        "--camera",
        "full",
        "--from",
        &rfc3339(a),
        "--to",
        &rfc3339(b),
        "-o",
        mnt.0.join("x.mp4").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count()
            == 1,
        "{}",
        stderr(&o)
    );
}

/// E7, F2: another program fills the disk while a camera is down: the recorder releases the
/// space reserve of the data directory, and the outage is still in the index and the ledger
/// up to the stop.
#[test]
fn e7_f2_disk_filled_by_another_program_gap_still_recorded() {
    let mut sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let mnt = Tmpfs::mount(&tmp.path().join("small"), "16m");
    let data = mnt.0.join("data");
    let cfg = write_config(tmp.path(), 5, &[("yard", sim.url(1), "")]);
    let rec = spawn_record(&data, &cfg, &[]);
    sleep(6.0);
    sim.stop_camera(1).unwrap();
    sleep(2.0);
    // Fill the filesystem completely.
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", mnt.0.join("filler").display()))
        .stderr(std::process::Stdio::null())
        .status();
    sleep(12.0);
    let stopped_ms = custos_testkit::now_unix_ms();
    let out = terminate(rec);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("released the space reserve"), "{err}");
    let v = recordings(&data, "yard");
    let g = outage_gaps(&v);
    let last = g.last().unwrap_or_else(|| panic!("no gap: {v:#}"));
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .starts_with("camera unreachable"),
        "{v:#}"
    );
    assert_eq!(last["open"], false, "{v:#}");
    let end_ms = last["end_90k"].as_i64().unwrap() / 90;
    assert!(
        (stopped_ms - end_ms).abs() < 3000,
        "the gap ends {} ms before the stop: {v:#}",
        stopped_ms - end_ms
    );
    assert_every_second_accounted(&v, 0.01);
    // The ledger took the gap too.
    let _ = std::fs::remove_file(mnt.0.join("filler"));
    custos_ok(&["verify", "--data", data.to_str().unwrap()]);
}
