//! G1: without a usable onnxruntime library the face detector falls back to tract (auto) or
//! refuses with an error that says what to do (onnxruntime asked for). Its own test binary:
//! the library choice is made once per process.

mod common;

use common::*;
use custos_redact::face::{Engine, EngineOptions, FaceDetector, InputSize, ONNXRUNTIME_ENV};

/// G1: `CUSTOS_ONNXRUNTIME` naming a missing file: auto runs tract (and still finds faces);
/// an explicit onnxruntime request fails, naming the file and the way out.
#[test]
fn g1_missing_onnxruntime_falls_back_to_tract_or_fails_clearly() {
    let missing = "/nonexistent/libonnxruntime.so.1";
    // SAFETY: set before any other thread of this test binary exists (its only test).
    unsafe { std::env::set_var(ONNXRUNTIME_ENV, missing) };
    let size = InputSize::for_source(640, 360, 640);
    let eo = |engine| EngineOptions {
        engine,
        sessions: 1,
        threads: 0,
    };
    let err = match FaceDetector::load_with(&model(), size, 0.3, &eo(Engine::Onnxruntime)) {
        Ok(_) => panic!("onnxruntime loaded from {missing}"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(missing) && err.contains("tract"),
        "unclear error: {err}"
    );
    let d = FaceDetector::load_with(&model(), size, 0.3, &eo(Engine::Auto)).expect("tract");
    assert_eq!(d.engine, "tract");
    // Tract really runs: a face drawn on a grey frame is found.
    let faces = lfw_faces();
    let mut img = Img::new(640, 360);
    img.fill_rect(0, 0, 640, 360, [120, 120, 120]);
    draw_face(&mut img, &faces[3], 200.0, 100.0, 120);
    let dets = d.detect(&img.px, 3 * 640, 1.0).unwrap();
    let gt = custos_redact::Rect::new(200.0, 100.0, 320.0, 220.0);
    let rects: Vec<_> = dets.iter().map(|d| d.rect).collect();
    assert!(found(&gt, &rects), "tract found {dets:?}");
}
