//! `custos redact` end to end (G1, G2, E2): a camera simulator serves a clip with faces, custos
//! records it, and a redacted copy of a range is made through the registered read path.
#![cfg(feature = "redact")]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use custos_redact::synth;

fn sha256(p: &Path) -> String {
    custos_redact::sha256_file(p).unwrap()
}

/// A 640 × 360, 15 fps Annex-B clip (no B-frames, headers on every key frame) with three
/// lfw_subset faces (64, 80, 100 px) drifting across a busy background.
fn face_clip(path: &Path) -> Vec<(f32, f32, usize)> {
    let faces = synth::lfw_faces();
    let mp4 = path.with_extension("mp4");
    let spots = vec![
        (60.0, 80.0, 64usize),
        (260.0, 150.0, 80),
        (450.0, 60.0, 100),
    ];
    let s2 = spots.clone();
    synth::encode(640, 360, 15, 90, &mp4, move |t| {
        let mut img = synth::background(640, 360, t, 5);
        for (i, (x, y, s)) in s2.iter().enumerate() {
            let dx = (t as f32 * 0.5) % 40.0;
            synth::draw_face(&mut img, &faces[i * 7], x + dx, *y, *s);
        }
        img
    });
    let o = Command::new("timeout")
        .args(["-k", "5", "120", "ffmpeg", "-v", "error", "-y", "-i"])
        .arg(&mp4)
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "15",
        ])
        .args(["-x264-params", "repeat-headers=1", "-f", "h264"])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    spots
}

/// G1, G2, E2: the redacted copy masks the faces, leaves the rest, decodes cleanly, and is
/// linked to its original by hash; the originals' hashes are unchanged; the ledger holds the
/// registered read (who, why, for whom, which segments) before it and the box track's and the
/// copy's hashes after it; `custos verify` still passes. Then, with the ledger unwritable, no
/// redacted copy is made (fail closed).
#[test]
fn g1_g2_e2_redact_recorded_faces_linked_by_hash() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let clip = tmp.path().join("faces.h264");
    face_clip(&clip);
    let sim = Camsim::start(&CamsimOptions {
        width: 640,
        height: 360,
        fps: 15,
        bframes: 0,
        timecode: false,
        loop_file: Some(clip.clone()),
        ..Default::default()
    })
    .unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 5, &[("lobby", sim.url(1), "")]);
    record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "16s");
    let segs = segments(&recordings(&data, "lobby"));
    assert!(segs.len() >= 2, "{segs:?}");
    let before: Vec<(String, String)> = segs
        .iter()
        .map(|s| {
            let p = data.join(s["path"].as_str().unwrap());
            (s["sha256"].as_str().unwrap().to_owned(), sha256(&p))
        })
        .collect();
    for (indexed, file) in &before {
        assert_eq!(
            indexed, file,
            "segment file and index disagree before redaction"
        );
    }
    let from = rfc3339(segs[0]["start_90k"].as_i64().unwrap());
    let to = rfc3339(segs[1]["end_90k"].as_i64().unwrap());
    let out = tmp.path().join("public.mp4");
    let plain = tmp.path().join("plain.mp4");
    let range = |o: &Path| {
        vec![
            "--data".to_owned(),
            data.display().to_string(),
            "--camera".into(),
            "lobby".into(),
            "--from".into(),
            from.clone(),
            "--to".into(),
            to.clone(),
            "-o".into(),
            o.display().to_string(),
            "--operator".into(),
            "officer-9".into(),
            "--purpose".into(),
            "press release 2026-31".into(),
        ]
    };
    let mut argv = vec!["redact".to_owned()];
    argv.extend(range(&out));
    argv.extend(["--recipient".into(), "city press office".into()]);
    // The faces are 64–100 px in a 640 × 360 frame: a 480-wide detection copy is enough.
    argv.extend(["--det-width".into(), "480".into()]);
    let text = custos_ok(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(text.contains("wrote"), "{text}");
    let mut argv = vec!["export".to_owned()];
    argv.extend(range(&plain));
    custos_ok(&argv.iter().map(String::as_str).collect::<Vec<_>>());

    // The copy decodes cleanly and is a new file linked to its original by hash.
    let errs = Command::new("timeout")
        .args(["-k", "5", "120", "ffmpeg", "-v", "error", "-i"])
        .arg(&out)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&errs.stderr),
        "",
        "copy does not decode cleanly"
    );
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join("public.mp4.redaction.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["output_sha256"].as_str().unwrap(), sha256(&out));
    let linked: Vec<&str> = m["originals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["sha256"].as_str().unwrap())
        .collect();
    for (h, _) in before.iter().take(2) {
        assert!(
            linked.contains(&h.as_str()),
            "original {h} not linked: {m:#}"
        );
    }
    let track = std::path::PathBuf::from(m["track"].as_str().unwrap());
    assert_eq!(
        m["track_sha256"].as_str().unwrap(),
        sha256(&track),
        "stored box track changed"
    );

    // The faces are masked: the box track covers them and the pixels there differ from the
    // plain export; elsewhere the copy matches it up to codec noise.
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&track).unwrap()).unwrap();
    let frames = t["frames"].as_array().unwrap();
    let with_faces = frames
        .iter()
        .filter(|f| f["masked"].as_array().unwrap().len() >= 3)
        .count();
    assert!(
        with_faces as f64 >= 0.9 * frames.len() as f64,
        "only {with_faces}/{} frames have the three faces masked",
        frames.len()
    );
    let gray = |p: &Path| {
        let o = Command::new("timeout")
            .args(["-k", "5", "120", "ffmpeg", "-v", "error", "-i"])
            .arg(p)
            .args([
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "gray",
                "-",
            ])
            .output()
            .unwrap();
        o.stdout
    };
    let (a, b) = (gray(&plain), gray(&out));
    assert_eq!(
        a.len(),
        b.len(),
        "frame count differs from the plain export"
    );
    let n = 640 * 360;
    let (mut se, mut k, mut inside_diff, mut inside_n) = (0f64, 0f64, 0f64, 0f64);
    for (fi, f) in frames.iter().enumerate() {
        let boxes: Vec<[f64; 4]> = f["masked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let r = &b["rect"];
                [
                    r["x0"].as_f64().unwrap(),
                    r["y0"].as_f64().unwrap(),
                    r["x1"].as_f64().unwrap(),
                    r["y1"].as_f64().unwrap(),
                ]
            })
            .collect();
        for y in (0..360).step_by(2) {
            for x in (0..640).step_by(2) {
                let (xf, yf) = (x as f64, y as f64);
                let d = a[fi * n + y * 640 + x] as f64 - b[fi * n + y * 640 + x] as f64;
                let near = boxes.iter().any(|r| {
                    xf >= r[0] - 3.0 && xf < r[2] + 3.0 && yf >= r[1] - 3.0 && yf < r[3] + 3.0
                });
                let deep = boxes.iter().any(|r| {
                    xf >= r[0] + 4.0 && xf < r[2] - 4.0 && yf >= r[1] + 4.0 && yf < r[3] - 4.0
                });
                if !near {
                    se += d * d;
                    k += 1.0;
                } else if deep {
                    inside_diff += d.abs();
                    inside_n += 1.0;
                }
            }
        }
    }
    let psnr = 10.0 * (255.0f64 * 255.0 / (se / k).max(1e-9)).log10();
    let inside = inside_diff / inside_n.max(1.0);
    println!("outside masks PSNR {psnr:.1} dB; mean |difference| inside masks {inside:.1}");
    assert!(
        psnr >= 32.0,
        "unmasked pixels changed beyond codec noise: {psnr:.1} dB"
    );
    assert!(
        inside >= 5.0,
        "masked pixels barely differ from the original: {inside:.1}"
    );

    // Originals untouched; ledger entries present; verify passes.
    for (s, (h, _)) in segs.iter().zip(&before) {
        assert_eq!(
            &sha256(&data.join(s["path"].as_str().unwrap())),
            h,
            "an original changed"
        );
    }
    let log = String::from_utf8_lossy(&std::fs::read(data.join("ledger/entries.log")).unwrap())
        .into_owned();
    assert!(
        log.contains("officer-9")
            && log.contains("press release 2026-31")
            && log.contains("city press office")
            && log.contains("\"redacted\":true"),
        "registered read missing from the ledger"
    );
    assert!(
        log.contains("\"Redacted\""),
        "redaction record missing from the ledger"
    );
    assert!(
        log.contains(m["track_sha256"].as_str().unwrap()),
        "box track hash not in the ledger"
    );
    assert!(
        log.contains(m["output_sha256"].as_str().unwrap()),
        "copy hash not in the ledger"
    );
    let v = custos(&["verify", "--data", data.to_str().unwrap()]);
    assert!(
        v.status.success(),
        "verify failed: {}{}",
        stdout(&v),
        stderr(&v)
    );

    // Fail closed: no ledger, no redacted copy.
    std::fs::rename(data.join("ledger"), tmp.path().join("ledger.moved")).unwrap();
    std::fs::write(data.join("ledger"), b"not a directory").unwrap();
    let out2 = tmp.path().join("again.mp4");
    let mut argv = vec!["redact".to_owned()];
    argv.extend(range(&out2));
    let o = custos(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        !o.status.success(),
        "redaction ran without its ledger entry"
    );
    assert!(stderr(&o).contains("ledger"), "{}", stderr(&o));
    assert!(
        !out2.exists(),
        "a copy was written although the read was not registered"
    );
}

/// G3: `custos redact --mask POLYGON` paints the polygon flat black on every frame of the
/// copy (the plain export is bright there: the simulator's colour bars), records the mask in
/// the manifest, and a malformed mask is refused before anything is read or registered.
#[test]
fn g3_redact_applies_a_static_mask_to_every_frame() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let sim = Camsim::start(&CamsimOptions {
        width: 640,
        height: 360,
        fps: 15,
        bframes: 0,
        timecode: false,
        ..Default::default()
    })
    .unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 5, &[("gate", sim.url(1), "")]);
    record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "12s");
    let segs = segments(&recordings(&data, "gate"));
    assert!(!segs.is_empty(), "nothing recorded");
    let from = rfc3339(segs[0]["start_90k"].as_i64().unwrap());
    let to = rfc3339(segs[0]["end_90k"].as_i64().unwrap());
    let args = |o: &Path, mask: &str| {
        vec![
            "redact".to_owned(),
            "--data".into(),
            data.display().to_string(),
            "--camera".into(),
            "gate".into(),
            "--from".into(),
            from.clone(),
            "--to".into(),
            to.clone(),
            "-o".into(),
            o.display().to_string(),
            "--operator".into(),
            "officer-9".into(),
            "--purpose".into(),
            "G3 check".into(),
            "--det-width".into(),
            "320".into(),
            "--mask".into(),
            mask.into(),
        ]
    };
    // Refused: a point outside the frame.
    let bad = tmp.path().join("bad.mp4");
    let argv = args(&bad, "0,0 1.5,0 0,0.5");
    let o = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(&argv)
        .output()
        .unwrap();
    assert!(!o.status.success(), "a mask outside the frame was accepted");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("outside the frame"), "{err}");
    assert!(!bad.exists());

    let out = tmp.path().join("masked.mp4");
    let argv = args(&out, "0,0 0.5,0 0.5,0.5 0,0.5");
    custos_ok(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join("masked.mp4.redaction.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        m["static_masks"][0]["points"].as_array().map(|a| a.len()),
        Some(4),
        "{m:#}"
    );
    let gray = |p: &Path| {
        Command::new("timeout")
            .args(["-k", "5", "120", "ffmpeg", "-v", "error", "-i"])
            .arg(p)
            .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
            .output()
            .unwrap()
            .stdout
    };
    let frames = gray(&out);
    let n = 640 * 360;
    assert!(frames.len() >= 10 * n, "only {} frames", frames.len() / n);
    for (t, f) in frames.chunks_exact(n).enumerate() {
        // The top-left quarter, 4 px in from its edges (codec noise at the boundary).
        let mut hi = 0u8;
        for y in 4..176 {
            for x in 4..316 {
                hi = hi.max(f[y * 640 + x]);
            }
        }
        assert!(
            hi <= 24,
            "frame {t}: the masked quarter is not flat black (max {hi})"
        );
        // The rest still carries the picture.
        let right: u64 = (0..360).map(|y| f[y * 640 + 480] as u64).sum::<u64>();
        assert!(right / 360 > 40, "frame {t}: the unmasked part is dark too");
    }
    let plain = tmp.path().join("plain.mp4");
    let mut argv = args(&plain, "");
    argv.truncate(argv.len() - 4); // no --det-width, no --mask
    argv[0] = "export".into();
    custos_ok(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    let p = gray(&plain);
    let mean: u64 = (4..176)
        .flat_map(|y| (4..316).map(move |x| (y, x)))
        .map(|(y, x)| p[y * 640 + x] as u64)
        .sum::<u64>()
        / (172 * 312);
    assert!(
        mean > 60,
        "the source is dark under the mask too (mean {mean}); the test proves nothing"
    );
}
