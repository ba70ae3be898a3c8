//! Irreversible masking on a decoded YUV 4:2:0 frame: every pixel inside a box is replaced by
//! the mean of its block (pixelation). The block is at least 1/6 of the box's larger side
//! (≥ 8 px), so a face is left with at most ~6 × 6 averages and cannot be recovered; the
//! original pixels are not kept anywhere.

use crate::geom::Rect;

/// One plane of 8-bit samples.
pub struct PlaneMut<'a> {
    pub data: &'a mut [u8],
    pub stride: usize,
    pub w: usize,
    pub h: usize,
}

/// Block size for a box of `w × h` full-resolution pixels (even, ≥ 8).
pub fn block_for(w: f32, h: f32) -> usize {
    let b = (w.max(h) / 6.0).ceil() as usize;
    (b.max(8) + 1) & !1
}

/// Pixelates `r` (full-resolution pixels) in a luma plane and its two half-resolution
/// chroma planes.
pub fn pixelate_yuv420<'a>(y: &mut PlaneMut, u: &mut PlaneMut<'a>, v: &mut PlaneMut<'a>, r: &Rect) {
    let r = r.clamped(y.w as f32, y.h as f32);
    if r.area() < 1.0 {
        return;
    }
    let b = block_for(r.w(), r.h());
    // Align to even pixels so luma blocks and chroma blocks cover the same area.
    let x0 = (r.x0.floor() as usize) & !1;
    let y0 = (r.y0.floor() as usize) & !1;
    let x1 = ((r.x1.ceil() as usize + 1) & !1).min(y.w);
    let y1 = ((r.y1.ceil() as usize + 1) & !1).min(y.h);
    pixelate(y, x0, y0, x1, y1, b);
    for c in [&mut *u, &mut *v] {
        pixelate(
            c,
            x0 / 2,
            y0 / 2,
            x1.div_ceil(2).min(c.w),
            y1.div_ceil(2).min(c.h),
            b / 2,
        );
    }
}

/// Replaces each `b × b` block of `[x0, x1) × [y0, y1)` by its mean.
pub fn pixelate(p: &mut PlaneMut, x0: usize, y0: usize, x1: usize, y1: usize, b: usize) {
    let b = b.max(1);
    let mut by = y0;
    while by < y1 {
        let ey = (by + b).min(y1);
        let mut bx = x0;
        while bx < x1 {
            let ex = (bx + b).min(x1);
            let mut sum = 0u32;
            for yy in by..ey {
                let row = &p.data[yy * p.stride + bx..yy * p.stride + ex];
                sum += row.iter().map(|&v| v as u32).sum::<u32>();
            }
            let n = ((ey - by) * (ex - bx)) as u32;
            let m = ((sum + n / 2) / n) as u8;
            for yy in by..ey {
                p.data[yy * p.stride + bx..yy * p.stride + ex].fill(m);
            }
            bx = ex;
        }
        by = ey;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// G1: inside the box only block means remain; outside nothing changes.
    #[test]
    fn g1_pixelation_replaces_detail_and_leaves_the_rest() {
        let (w, h) = (64usize, 48usize);
        let orig: Vec<u8> = (0..w * h).map(|i| ((i * 37) % 251) as u8).collect();
        let mut y = orig.clone();
        let mut u = vec![128u8; w * h / 4];
        let mut v = vec![128u8; w * h / 4];
        let r = Rect::new(10.0, 10.0, 34.0, 34.0);
        pixelate_yuv420(
            &mut PlaneMut {
                data: &mut y,
                stride: w,
                w,
                h,
            },
            &mut PlaneMut {
                data: &mut u,
                stride: w / 2,
                w: w / 2,
                h: h / 2,
            },
            &mut PlaneMut {
                data: &mut v,
                stride: w / 2,
                w: w / 2,
                h: h / 2,
            },
            &r,
        );
        for yy in 0..h {
            for xx in 0..w {
                let inside = (10..34).contains(&xx) && (10..34).contains(&yy);
                if !inside {
                    assert_eq!(y[yy * w + xx], orig[yy * w + xx], "({xx},{yy}) changed");
                }
            }
        }
        // An 8×8 block inside is flat.
        let b = &y[10 * w + 10..10 * w + 18];
        assert!(b.iter().all(|&v| v == b[0]));
        assert_ne!(
            &y[10 * w + 10..10 * w + 34],
            &orig[10 * w + 10..10 * w + 34]
        );
    }
}
