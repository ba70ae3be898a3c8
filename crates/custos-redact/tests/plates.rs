//! G1 plate redaction measured on synthetic Chinese-style plates (all four colours, GA 36
//! proportions, characters) on road-like frames at varied angles, foreshortening and sizes.

mod common;

use common::plates::{COLOURS, Placed, Plate, car, road};
use common::*;
use custos_redact::{Kind, Options, Rect, redact_file};

const WIDTHS: [f32; 6] = [44.0, 64.0, 90.0, 120.0, 160.0, 210.0];

/// The plates of frame `t` (six cars on a 3 × 2 grid; the scene changes every 10 frames and
/// drifts 2 px per frame in between).
fn scene(t: usize) -> Vec<Placed> {
    let cfg = t / 10;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (cfg as u64 * 7919 + 1));
    (0..6)
        .map(|slot| {
            let colour = COLOURS[(slot + cfg) % 4];
            let width = WIDTHS[(slot + cfg * 5) % 6];
            let (gx, gy) = (slot % 3, slot / 3);
            Placed {
                plate: Plate::random(colour, &mut rng),
                cx: 220.0 + 420.0 * gx as f32 + 2.0 * (t % 10) as f32,
                cy: 330.0 + 250.0 * gy as f32,
                width,
                angle: rng.range(-20.0, 20.0),
                yaw: rng.range(0.65, 1.0),
            }
        })
        .collect()
}

/// G1: plate recall by on-screen width, false positives per frame, and the mask over them.
///
/// Threshold: recall ≥ 0.90 per frame for plates ≥ 60 px wide (at 1280 × 720 a plate 60 px
/// wide has 8 px characters; a 2 MP camera sees a car plate that large out to ~15 m), rotated
/// up to ±20° and foreshortened to 65 %. Below 60 px the characters are 1–2 px strokes after
/// 4:2:0 chroma subsampling and H.264, so recall is reported, not required. Tracking then
/// carries a plate over single-frame misses, so the masked share is required to be at least
/// as high as detection recall.
#[test]
fn g1_synthetic_chinese_plates_recall() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, output) = (tmp.path().join("road.mp4"), tmp.path().join("redacted.mp4"));
    let (w, h, n) = (1280usize, 720usize, 60usize);
    let mut truth: Vec<Vec<(Rect, f32, String)>> = Vec::new();
    encode(w, h, 25, n, &input, |t| {
        let mut img = road(w, h, 3);
        let mut rng = Rng(t as u64 / 10 + 11);
        let mut gt = Vec::new();
        let placed = scene(t);
        for p in &placed {
            car(&mut img, p.cx, p.cy, p.width, &mut rng);
        }
        for p in placed {
            let r = p.draw(&mut img);
            gt.push((r, p.width, format!("{:?}", p.plate.colour)));
        }
        truth.push(gt);
        img
    });
    if let Some(d) = std::env::var_os("PLATE_KEEP") {
        std::fs::copy(&input, d).unwrap();
    }
    let opts = Options {
        faces: false,
        ..Options::default()
    };
    let rep = redact_file(&input, &output, &model(), &opts).expect("redaction");
    assert_eq!(rep.frames as usize, n);
    assert_eq!(decode_errors(&output), "");
    let buckets = [(0.0, 59.0), (60.0, 119.0), (120.0, 1000.0)];
    let (mut hit, mut cov, mut tot) = ([0u32; 3], [0u32; 3], [0u32; 3]);
    let mut by_colour: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    let mut fp = 0u32;
    for (t, fb) in rep.track.frames.iter().enumerate() {
        let dets: Vec<Rect> = fb
            .detections
            .iter()
            .filter(|d| d.kind == Kind::Plate)
            .map(|d| d.rect)
            .collect();
        let masked: Vec<Rect> = fb.masked.iter().map(|b| b.rect).collect();
        for (r, pw, col) in &truth[t] {
            let b = buckets
                .iter()
                .position(|&(a, z)| *pw >= a && *pw <= z)
                .unwrap();
            let f = found(r, &dets);
            tot[b] += 1;
            hit[b] += f as u32;
            cov[b] += covered(r, &masked) as u32;
            if *pw >= 60.0 {
                let e = by_colour.entry(col.clone()).or_default();
                e.0 += f as u32;
                e.1 += 1;
            }
        }
        for d in &dets {
            if truth[t]
                .iter()
                .all(|(r, _, _)| d.intersection(r) < 0.3 * d.area())
            {
                fp += 1;
                println!("  false positive in frame {t}: {d:?}");
            }
        }
    }
    println!("plate recall, 1280x720, {n} frames, angles ±20°, yaw 0.65–1.0:");
    for (i, (a, z)) in buckets.iter().enumerate() {
        println!(
            "  width {a:>4}-{z:<4} px: detected {}/{} = {:.3}, masked {}/{} = {:.3}",
            hit[i],
            tot[i],
            hit[i] as f64 / tot[i].max(1) as f64,
            cov[i],
            tot[i],
            cov[i] as f64 / tot[i].max(1) as f64
        );
    }
    for (c, (a, b)) in &by_colour {
        println!(
            "  {c:<6} (>= 60 px): {a}/{b} = {:.3}",
            *a as f64 / *b as f64
        );
    }
    println!(
        "  false positives: {fp} in {n} frames = {:.3} per frame; {:.1} fps",
        fp as f64 / n as f64,
        rep.fps()
    );
    let r60 = (hit[1] + hit[2]) as f64 / (tot[1] + tot[2]) as f64;
    let m60 = (cov[1] + cov[2]) as f64 / (tot[1] + tot[2]) as f64;
    assert!(r60 >= 0.90, "plate recall at >= 60 px is {r60:.3} < 0.90");
    assert!(
        m60 >= r60,
        "tracking lost plates: masked {m60:.3} < detected {r60:.3}"
    );
    assert!(
        fp as f64 / n as f64 <= 0.5,
        "{fp} false plates in {n} frames"
    );
}
