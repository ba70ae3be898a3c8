//! G3 static privacy masks in redacted copies: a polygon in normalised coordinates is painted
//! flat on every frame; the rest of the frame is left as it was (beyond codec noise).

mod common;

use common::*;
use custos_redact::{Options, Polygon, redact_file};

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.len().max(1) as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// Inside the triangle (0.1,0.2) (0.6,0.2) (0.1,0.9) with a 3-pixel margin from its edges.
fn inside(x: usize, y: usize, w: usize, h: usize, margin: f32) -> bool {
    let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
    let (x0, y0, x1, y1) = (
        0.1 * w as f32,
        0.2 * h as f32,
        0.6 * w as f32,
        0.9 * h as f32,
    );
    if fx < x0 + margin || fy < y0 + margin {
        return false;
    }
    // Hypotenuse from (x1, y0) to (x0, y1): distance to it, positive inside.
    let (dx, dy) = (x0 - x1, y1 - y0);
    let len = (dx * dx + dy * dy).sqrt();
    let d = ((fx - x1) * dy - (fy - y0) * dx) / len;
    -d >= margin
}

/// G3: a static mask given as a polygon is flat black (grey ≤ 24 of 255, codec noise at its
/// edges included; the source there spans > 60 levels) in every decoded frame of
/// the copy, though the source is busy there; pixels well outside it keep PSNR ≥ 35 dB; the
/// copy decodes cleanly and its box track records the mask.
#[test]
fn g3_static_polygon_mask_is_flat_in_every_frame() {
    let (w, h, n) = (640usize, 360usize, 20usize);
    let tmp = tempfile::tempdir().unwrap();
    let (input, output) = (tmp.path().join("in.mp4"), tmp.path().join("out.mp4"));
    encode(w, h, 25, n, &input, |t| background(w, h, t, 11));
    let mask = Polygon::parse("0.1,0.2 0.6,0.2 0.1,0.9").unwrap();
    let opts = Options {
        faces: false,
        plates: false,
        static_masks: vec![mask.clone()],
        ..Default::default()
    };
    let rep = redact_file(&input, &output, std::path::Path::new("/nonexistent"), &opts)
        .expect("redaction with a static mask");
    assert_eq!(rep.frames as usize, n);
    assert_eq!(rep.track.static_masks, vec![mask]);
    assert_eq!(
        decode_errors(&output),
        "",
        "the copy does not decode cleanly"
    );
    let (_, _, a) = decode_gray(&input);
    let (_, _, b) = decode_gray(&output);
    assert_eq!(a.len(), n);
    assert_eq!(b.len(), n);
    let (mut oa, mut ob) = (Vec::new(), Vec::new());
    for t in 0..n {
        let (mut lo, mut hi, mut src_lo, mut src_hi, mut k) = (255u8, 0u8, 255u8, 0u8, 0);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if inside(x, y, w, h, 3.0) {
                    k += 1;
                    lo = lo.min(b[t][i]);
                    hi = hi.max(b[t][i]);
                    src_lo = src_lo.min(a[t][i]);
                    src_hi = src_hi.max(a[t][i]);
                } else if !inside(x, y, w, h, -12.0) {
                    oa.push(a[t][i]);
                    ob.push(b[t][i]);
                }
            }
        }
        assert!(k > 10_000, "the triangle covers only {k} pixels");
        assert!(
            src_hi - src_lo > 60,
            "frame {t}: the source is not busy under the mask ({src_lo}..{src_hi})"
        );
        assert!(
            hi <= 24,
            "frame {t}: the masked region is not flat black in the copy: grey {lo}..{hi}"
        );
    }
    let p = psnr(&oa, &ob);
    println!("static mask: flat in {n} frames; outside it PSNR {p:.1} dB");
    assert!(
        p >= 35.0,
        "outside the mask the copy changed: PSNR {p:.1} dB"
    );
}

/// G3: bad masks are refused with a message that says what to give.
#[test]
fn g3_bad_static_masks_are_refused_clearly() {
    let e = Polygon::parse("0.1,0.1 0.5,0.1").unwrap_err().to_string();
    assert!(e.contains("at least 3 points"), "{e}");
    let e = Polygon::parse("0.1,0.1 1.5,0.1 0.2,0.4")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("outside the frame") && e.contains("0 to 1"),
        "{e}"
    );
    let e = Polygon::parse("0.1;0.1 0.5,0.1 0.2,0.4")
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not x,y"), "{e}");
}
