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

/// A static privacy mask (G3): a polygon in normalised frame coordinates (0–1 across the
/// width and down the height), so one mask fits every stream of a camera.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Polygon {
    pub points: Vec<(f32, f32)>,
}

impl Polygon {
    /// Checks the polygon: at least 3 points, every coordinate finite and within 0–1.
    pub fn validate(&self) -> custos_core::Result<()> {
        use custos_core::{Error, ErrorKind};
        if self.points.len() < 3 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "a privacy mask needs at least 3 points, got {}; give corners as x,y pairs \
                     in 0–1 frame coordinates",
                    self.points.len()
                ),
            ));
        }
        if let Some((x, y)) = self
            .points
            .iter()
            .find(|(x, y)| !(0.0..=1.0).contains(x) || !(0.0..=1.0).contains(y))
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "privacy mask point ({x}, {y}) is outside the frame: coordinates are \
                     fractions of the width and height, from 0 to 1"
                ),
            ));
        }
        Ok(())
    }

    /// Parses `x,y x,y x,y …` (normalised coordinates separated by spaces or semicolons).
    pub fn parse(s: &str) -> custos_core::Result<Polygon> {
        use custos_core::{Error, ErrorKind};
        let mut points = Vec::new();
        for p in s.split([' ', ';']).filter(|p| !p.is_empty()) {
            let bad = || {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "privacy mask point '{p}' is not x,y (e.g. \"0.1,0.1 0.4,0.1 0.4,0.5\")"
                    ),
                )
            };
            let (x, y) = p.split_once(',').ok_or_else(bad)?;
            let x: f32 = x.trim().parse().map_err(|_| bad())?;
            let y: f32 = y.trim().parse().map_err(|_| bad())?;
            points.push((x, y));
        }
        let poly = Polygon { points };
        poly.validate()?;
        Ok(poly)
    }
}

/// The pixels of a set of polygons on a `w × h` frame, as spans `[x0, x1)` per row, for luma
/// and for the half-resolution chroma planes (a chroma sample is masked when any of its four
/// luma pixels is, so no colour of a masked pixel survives).
#[derive(Clone, Debug, Default)]
pub struct StaticMask {
    luma: Vec<Vec<(usize, usize)>>,
    chroma: Vec<Vec<(usize, usize)>>,
}

impl StaticMask {
    pub fn new(polys: &[Polygon], w: usize, h: usize) -> StaticMask {
        let mut bits = vec![false; w * h];
        for p in polys {
            let pts: Vec<(f32, f32)> = p
                .points
                .iter()
                .map(|&(x, y)| (x * w as f32, y * h as f32))
                .collect();
            for row in 0..h {
                // Even-odd rule at the row's pixel centres.
                let yc = row as f32 + 0.5;
                let mut xs = Vec::new();
                for i in 0..pts.len() {
                    let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
                    if (a.1 <= yc) != (b.1 <= yc) {
                        xs.push(a.0 + (yc - a.1) / (b.1 - a.1) * (b.0 - a.0));
                    }
                }
                xs.sort_by(f32::total_cmp);
                for pair in xs.chunks_exact(2) {
                    // Pixels whose centre lies between the two crossings.
                    let x0 = (pair[0] - 0.5).ceil().max(0.0) as usize;
                    let x1 = ((pair[1] - 0.5).floor() + 1.0).clamp(0.0, w as f32) as usize;
                    for b in &mut bits[row * w + x0.min(w)..row * w + x1.max(x0.min(w))] {
                        *b = true;
                    }
                }
            }
        }
        let spans = |get: &dyn Fn(usize, usize) -> bool, w: usize, h: usize| {
            (0..h)
                .map(|y| {
                    let mut v = Vec::new();
                    let mut x = 0;
                    while x < w {
                        if get(x, y) {
                            let s = x;
                            while x < w && get(x, y) {
                                x += 1;
                            }
                            v.push((s, x));
                        } else {
                            x += 1;
                        }
                    }
                    v
                })
                .collect::<Vec<_>>()
        };
        let luma = spans(&|x, y| bits[y * w + x], w, h);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let chroma = spans(
            &|x, y| {
                [(0, 0), (1, 0), (0, 1), (1, 1)].iter().any(|(dx, dy)| {
                    let (lx, ly) = (2 * x + dx, 2 * y + dy);
                    lx < w && ly < h && bits[ly * w + lx]
                })
            },
            cw,
            ch,
        );
        StaticMask { luma, chroma }
    }

    pub fn is_empty(&self) -> bool {
        self.luma.iter().all(|r| r.is_empty())
    }

    /// Paints the masked pixels flat black (Y 16, U and V 128): nothing of them remains.
    pub fn apply<'a>(&self, y: &mut PlaneMut, u: &mut PlaneMut<'a>, v: &mut PlaneMut<'a>) {
        for (row, spans) in self.luma.iter().enumerate().take(y.h) {
            for &(a, b) in spans {
                y.data[row * y.stride + a..row * y.stride + b].fill(16);
            }
        }
        for c in [&mut *u, &mut *v] {
            for (row, spans) in self.chroma.iter().enumerate().take(c.h) {
                for &(a, b) in spans {
                    c.data[row * c.stride + a..row * c.stride + b].fill(128);
                }
            }
        }
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
