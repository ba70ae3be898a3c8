//! G1/G2 face redaction measured on faces no rule here was tuned on: the 100 face images of
//! scikit-image's bundled `lfw_subset` (Labeled Faces in the Wild crops), composited at known
//! positions and sizes (25–150 px) into a moving 720p synthetic video with a busy background.

mod common;

use common::*;
use custos_redact::{Kind, Options, Rect, redact_file};

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let n = a.len().max(1) as f64;
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / n;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// G1, G2: face recall ≥ 0.95 for faces ≥ 40 px (per frame, detector alone and after tracking),
/// false positives per frame reported; the masked regions differ from the original; outside
/// them the frame is unchanged beyond codec noise (PSNR ≥ 35 dB); the output decodes cleanly.
#[test]
fn g1_g2_lfw_face_recall_masking_and_psnr() {
    let faces = lfw_faces();
    let tmp = tempfile::tempdir().unwrap();
    let (input, output) = (
        tmp.path().join("faces.mp4"),
        tmp.path().join("redacted.mp4"),
    );
    let (w, h, n) = (1280usize, 720usize, 50usize);
    write_face_scene(&faces, n, &input);
    let rep = redact_file(&input, &output, &model(), &Options::default()).expect("redaction");
    assert_eq!(rep.frames as usize, n);
    assert_eq!(rep.track.frames.len(), n);
    assert_eq!(
        decode_errors(&output),
        "",
        "redacted output does not decode cleanly"
    );

    // Recall by size bucket; false positives per frame.
    let buckets = [(25, 39), (40, 79), (80, 150)];
    let mut hit = [0u32; 3];
    let mut cov = [0u32; 3];
    let mut tot = [0u32; 3];
    let mut fp = 0u32;
    let mut per_size = std::collections::BTreeMap::<usize, (u32, u32, f32)>::new();
    for (t, fb) in rep.track.frames.iter().enumerate() {
        let dets: Vec<Rect> = fb
            .detections
            .iter()
            .filter(|d| d.kind == Kind::Face)
            .map(|d| d.rect)
            .collect();
        let masked: Vec<Rect> = fb.masked.iter().map(|b| b.rect).collect();
        let gt = face_truth(t);
        for (r, s, _) in &gt {
            let b = buckets
                .iter()
                .position(|&(a, z)| *s >= a && *s <= z)
                .unwrap();
            tot[b] += 1;
            hit[b] += found(r, &dets) as u32;
            let e = per_size.entry(*s).or_default();
            e.1 += 1;
            if let Some(d) = dets.iter().find(|d| found(r, &[**d])) {
                e.0 += 1;
                e.2 += d.area() / r.area();
            }
            cov[b] += covered(r, &masked) as u32;
        }
        fp += dets
            .iter()
            .filter(|d| {
                gt.iter()
                    .all(|(r, _, _)| d.iou(r) < 0.1 && d.intersection(r) < 0.3 * r.area())
            })
            .count() as u32;
    }
    println!("face recall on lfw_subset, 1280x720, {n} frames, detection width 960:");
    for (i, (a, z)) in buckets.iter().enumerate() {
        println!(
            "  {a:>3}-{z:<3} px: detected {}/{} = {:.3}, masked {}/{} = {:.3}",
            hit[i],
            tot[i],
            hit[i] as f64 / tot[i] as f64,
            cov[i],
            tot[i],
            cov[i] as f64 / tot[i] as f64
        );
    }
    for (s, (k, n, a)) in &per_size {
        println!(
            "  {s:>3} px: {k}/{n} detected, box/face area {:.2}",
            a / (*k).max(1) as f32
        );
    }
    println!(
        "  false positives: {fp} in {n} frames = {:.3} per frame; {:.1} fps",
        fp as f64 / n as f64,
        rep.fps()
    );
    let recall40 = (hit[1] + hit[2]) as f64 / (tot[1] + tot[2]) as f64;
    let masked40 = (cov[1] + cov[2]) as f64 / (tot[1] + tot[2]) as f64;
    assert!(
        recall40 >= 0.95,
        "detector recall at >= 40 px is {recall40:.3} < 0.95"
    );
    assert!(
        masked40 >= 0.95,
        "masked share at >= 40 px is {masked40:.3} < 0.95"
    );
    assert!(
        (fp as f64 / n as f64) <= 0.5,
        "{fp} false positives in {n} frames"
    );

    // Masked pixels differ; the rest is unchanged beyond codec noise.
    let (_, _, a) = decode_gray(&input);
    let (_, _, b) = decode_gray(&output);
    assert_eq!(a.len(), b.len(), "frame count changed");
    let mut outside_a = Vec::new();
    let mut outside_b = Vec::new();
    let mut changed = 0u32;
    let mut checked = 0u32;
    for (t, fb) in rep.track.frames.iter().enumerate() {
        let masked: Vec<Rect> = fb
            .masked
            .iter()
            .map(|b| b.rect.clamped(w as f32, h as f32))
            .collect();
        let inside = |x: usize, y: usize| {
            masked.iter().any(|m| {
                // Pixelation is aligned to even pixels: allow one pixel of slack.
                x as f32 >= m.x0 - 2.0
                    && (x as f32) < m.x1 + 2.0
                    && y as f32 >= m.y0 - 2.0
                    && (y as f32) < m.y1 + 2.0
            })
        };
        for y in (0..h).step_by(3) {
            for x in (0..w).step_by(3) {
                if !inside(x, y) {
                    outside_a.push(a[t][y * w + x]);
                    outside_b.push(b[t][y * w + x]);
                }
            }
        }
        for (r, s, _) in face_truth(t) {
            if s < 40 || !covered(&r, &masked) {
                continue;
            }
            let (mut d, mut k) = (0f64, 0f64);
            for y in r.y0 as usize..(r.y1 as usize).min(h) {
                for x in r.x0 as usize..(r.x1 as usize).min(w) {
                    d += (a[t][y * w + x] as f64 - b[t][y * w + x] as f64).abs();
                    k += 1.0;
                }
            }
            checked += 1;
            changed += (d / k >= 6.0) as u32;
        }
    }
    let p = psnr(&outside_a, &outside_b);
    println!("  outside masks PSNR {p:.1} dB; masked faces changed: {changed}/{checked}");
    assert!(
        p >= 35.0,
        "unmasked area changed beyond codec noise: PSNR {p:.1} dB"
    );
    assert!(
        checked > 0 && changed == checked,
        "a masked face is not changed: {changed}/{checked}"
    );
}
