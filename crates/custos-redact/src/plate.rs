//! Chinese licence plates by colour and character contrast (no model).
//!
//! Plates of the mainland standard (GA 36) are 440 × 140 mm (aspect 3.14) in four background
//! colours: blue (white characters, small cars), yellow (black, large vehicles), green (black,
//! new-energy; a light-to-dark gradient) and white (black/red, police and some official
//! vehicles). The detector works on the decoded YUV 4:2:0 frame as it is:
//!
//! 1. each chroma sample (half resolution) is classed by its hue angle and saturation in the
//!    U/V plane (plus a luma bound) as one of the four plate colours or none;
//! 2. 4-connected regions of one class are measured by their second moments, which give the
//!    length and width of the equivalent rectangle whatever its rotation (each row is first
//!    filled between its outermost samples, so character holes do not count); a region is
//!    kept when that rectangle is plate-shaped (aspect 1.6–6), the region fills it and it is
//!    not huge;
//! 3. the full-resolution luma is sampled along the region's long axis: a plate shows many
//!    strong dark/light alternations (its 7–8 characters), sky, walls, car bodies and lane
//!    markings do not.
//!
//! Its limits (measured in the tests, stated in design/redaction.md): a plate on a body of
//! the same colour merges with it; plates below ~40 px wide or seen beyond ~55° are missed.

use crate::geom::{Detection, Kind, Rect};

/// A borrowed YUV 4:2:0 frame (planar, 8 bit).
#[derive(Clone, Copy)]
pub struct Yuv<'a> {
    pub w: usize,
    pub h: usize,
    pub y: &'a [u8],
    pub y_stride: usize,
    pub u: &'a [u8],
    pub u_stride: usize,
    pub v: &'a [u8],
    pub v_stride: usize,
}

const NONE: u8 = 0;
const BLUE: u8 = 1;
const YELLOW: u8 = 2;
const GREEN: u8 = 3;
const WHITE: u8 = 4;

/// The plate detector (a 64 KiB hue table; cheap to clone, no state between frames).
#[derive(Clone)]
pub struct PlateDetector {
    lut: Vec<u8>,
    /// Smallest plate width considered, in full-resolution pixels.
    pub min_width: f32,
    /// Fewest strong luma alternations along the plate's axis.
    pub min_transitions: u32,
}

impl Default for PlateDetector {
    fn default() -> Self {
        Self::new()
    }
}

fn chroma_class(u: u8, v: u8) -> u8 {
    let (cu, cv) = (u as f32 - 128.0, v as f32 - 128.0);
    let c = (cu * cu + cv * cv).sqrt();
    let a = cv.atan2(cu).to_degrees();
    if c <= 12.0 {
        WHITE
    } else if c >= 28.0 && (-60.0..=8.0).contains(&a) {
        BLUE
    } else if c >= 35.0 && (118.0..=178.0).contains(&a) {
        YELLOW
    } else if c >= 15.0 && (-155.0..=-72.0).contains(&a) {
        GREEN
    } else {
        NONE
    }
}

struct Region {
    class: u8,
    /// Samples of the plate colour.
    n: f64,
    /// Samples of the row-filled region (moments below are of this).
    filled: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl PlateDetector {
    pub fn new() -> PlateDetector {
        let mut lut = vec![0u8; 65536];
        for u in 0..256usize {
            for v in 0..256usize {
                lut[u * 256 + v] = chroma_class(u as u8, v as u8);
            }
        }
        PlateDetector {
            lut,
            min_width: 36.0,
            min_transitions: 8,
        }
    }

    /// Plates in a frame; boxes in full-resolution pixels.
    pub fn detect(&self, f: &Yuv) -> Vec<Detection> {
        let (cw, ch) = (f.w / 2, f.h / 2);
        if cw < 8 || ch < 8 {
            return Vec::new();
        }
        // 1. Class map at chroma resolution.
        let mut cls = vec![NONE; cw * ch];
        for yy in 0..ch {
            let ur = &f.u[yy * f.u_stride..yy * f.u_stride + cw];
            let vr = &f.v[yy * f.v_stride..yy * f.v_stride + cw];
            let yr = &f.y[2 * yy * f.y_stride..2 * yy * f.y_stride + 2 * cw];
            let out = &mut cls[yy * cw..(yy + 1) * cw];
            for (x, o) in out.iter_mut().enumerate() {
                let c = self.lut[ur[x] as usize * 256 + vr[x] as usize];
                let l = yr[2 * x];
                *o = match c {
                    WHITE if l >= 165 => WHITE,
                    BLUE if l <= 190 => BLUE,
                    YELLOW if l >= 80 => YELLOW,
                    GREEN if l >= 60 => GREEN,
                    _ => NONE,
                };
            }
        }
        // 2. Regions (4-connected, one class), with their moments.
        let mut seen = vec![false; cw * ch];
        let mut stack: Vec<usize> = Vec::new();
        let mut pix: Vec<usize> = Vec::new();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let min_n =
            ((self.min_width / 2.0) * (self.min_width / 2.0 / (440.0 / 140.0)) * 0.35) as f64;
        let mut out = Vec::new();
        for start in 0..cw * ch {
            if seen[start] || cls[start] == NONE {
                continue;
            }
            let class = cls[start];
            let mut r = Region {
                class,
                n: 0.0,
                filled: 0.0,
                sx: 0.0,
                sy: 0.0,
                sxx: 0.0,
                syy: 0.0,
                sxy: 0.0,
                x0: usize::MAX,
                y0: usize::MAX,
                x1: 0,
                y1: 0,
            };
            seen[start] = true;
            stack.push(start);
            pix.clear();
            while let Some(i) = stack.pop() {
                let (x, y) = (i % cw, i / cw);
                pix.push(i);
                r.n += 1.0;
                r.x0 = r.x0.min(x);
                r.y0 = r.y0.min(y);
                r.x1 = r.x1.max(x);
                r.y1 = r.y1.max(y);
                let mut push = |j: usize| {
                    if !seen[j] && cls[j] == class {
                        seen[j] = true;
                        stack.push(j);
                    }
                };
                if x > 0 {
                    push(i - 1);
                }
                if x + 1 < cw {
                    push(i + 1);
                }
                if y > 0 {
                    push(i - cw);
                }
                if y + 1 < ch {
                    push(i + cw);
                }
            }
            if r.n < min_n.max(12.0) {
                continue;
            }
            // Fill each row between the region's leftmost and rightmost sample, so the holes
            // the characters leave do not distort the shape; the moments are of the filled
            // region.
            spans.clear();
            spans.resize(r.y1 - r.y0 + 1, (usize::MAX, 0));
            for &i in &pix {
                let (x, y) = (i % cw, i / cw);
                let s = &mut spans[y - r.y0];
                s.0 = s.0.min(x);
                s.1 = s.1.max(x);
            }
            let s2 = |n: f64| n * (n + 1.0) * (2.0 * n + 1.0) / 6.0;
            for (k, &(a, b)) in spans.iter().enumerate() {
                if a > b {
                    continue;
                }
                let (a, b, y) = (a as f64, b as f64, (r.y0 + k) as f64);
                let m = b - a + 1.0;
                let sx = m * (a + b) / 2.0;
                r.filled += m;
                r.sx += sx;
                r.sy += m * y;
                r.sxx += s2(b) - s2(a - 1.0);
                r.syy += m * y * y;
                r.sxy += y * sx;
            }
            if let Some(d) = self.judge(&r, f) {
                out.push(d);
            }
        }
        out
    }

    /// Shape and character test of one region.
    fn judge(&self, r: &Region, f: &Yuv) -> Option<Detection> {
        let n = r.filled;
        if r.n / n < 0.2 {
            return None;
        }
        let (mx, my) = (r.sx / n, r.sy / n);
        let cxx = r.sxx / n - mx * mx;
        let cyy = r.syy / n - my * my;
        let cxy = r.sxy / n - mx * my;
        let tr = cxx + cyy;
        let det = cxx * cyy - cxy * cxy;
        let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
        let (l1, l2) = (tr / 2.0 + disc, (tr / 2.0 - disc).max(1e-6));
        // Equivalent rectangle (chroma pixels); a uniform L×W rectangle has variances L²/12, W²/12.
        let (len, wid) = ((12.0 * l1).sqrt(), (12.0 * l2).sqrt());
        let aspect = len / wid;
        if !(1.6..=6.0).contains(&aspect) {
            return None;
        }
        if len * 2.0 < self.min_width as f64 || len * 2.0 > f.w as f64 * 0.5 {
            return None;
        }
        let fill = n / (len * wid);
        if !(0.7..=1.2).contains(&fill) {
            return None;
        }
        // Major axis direction.
        let theta = 0.5 * (2.0 * cxy).atan2(cxx - cyy);
        let (ux, uy) = (theta.cos(), theta.sin());
        let (px, py) = (-uy, ux);
        // 3. Luma alternations along three lines parallel to the long axis (full resolution).
        let (cx, cy) = (2.0 * mx + 0.5, 2.0 * my + 0.5);
        let (len_f, wid_f) = (2.0 * len, 2.0 * wid);
        let steps = (len_f * 0.9 * 2.0).ceil() as usize; // half-pixel steps
        let mut best = 0u32;
        for off in [-0.15, 0.0, 0.15] {
            let (ox, oy) = (cx + px * off * wid_f, cy + py * off * wid_f);
            let mut prof = Vec::with_capacity(steps);
            for k in 0..steps {
                let t = -0.45 * len_f + k as f64 * 0.5;
                let (x, y) = (ox + ux * t, oy + uy * t);
                if x < 0.0 || y < 0.0 || x >= f.w as f64 || y >= f.h as f64 {
                    continue;
                }
                prof.push(f.y[y as usize * f.y_stride + x as usize]);
            }
            // Characters run along the whole plate; a car body that merely contains a plate
            // has its alternations bunched in the middle.
            let (n, first, last) = transitions(&prof);
            if n > 0 && (last - first) as f64 >= 0.6 * prof.len() as f64 {
                best = best.max(n);
            }
        }
        if best < self.min_transitions {
            return None;
        }
        let rect = Rect::new(
            (2 * r.x0) as f32,
            (2 * r.y0) as f32,
            (2 * r.x1 + 2) as f32,
            (2 * r.y1 + 2) as f32,
        );
        let score = (best as f32 / 16.0).min(1.0);
        let _ = r.class;
        Some(Detection {
            rect,
            kind: Kind::Plate,
            score,
        })
    }
}

/// Strong dark↔light alternations of a luma profile: with the levels at its 10th and 90th
/// percentiles (at least 40 apart), a crossing is counted when the profile moves from below
/// the lower third to above the upper third or back. Returns the count and the positions of
/// the first and last crossing.
fn transitions(p: &[u8]) -> (u32, usize, usize) {
    if p.len() < 8 {
        return (0, 0, 0);
    }
    let mut s = p.to_vec();
    s.sort_unstable();
    let (lo, hi) = (s[s.len() / 10] as i32, s[s.len() * 9 / 10] as i32);
    if hi - lo < 40 {
        return (0, 0, 0);
    }
    let (t_lo, t_hi) = (lo + (hi - lo) / 3, hi - (hi - lo) / 3);
    let mut state = 0i8;
    let mut n = 0;
    let (mut first, mut last) = (0, 0);
    for (i, &v) in p.iter().enumerate() {
        let v = v as i32;
        let s2 = if v <= t_lo {
            -1
        } else if v >= t_hi {
            1
        } else {
            state
        };
        if s2 != state && state != 0 {
            if n == 0 {
                first = i;
            }
            last = i;
            n += 1;
        }
        state = s2;
    }
    (n, first, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plate_colours_are_classed() {
        // BT.601 limited-range U/V of typical plate colours.
        let yuv = |r: f32, g: f32, b: f32| {
            let u = -0.148 * r - 0.291 * g + 0.439 * b + 128.0;
            let v = 0.439 * r - 0.368 * g - 0.071 * b + 128.0;
            chroma_class(u as u8, v as u8)
        };
        assert_eq!(yuv(10.0, 60.0, 200.0), BLUE);
        assert_eq!(yuv(240.0, 190.0, 0.0), YELLOW);
        assert_eq!(yuv(60.0, 190.0, 100.0), GREEN);
        assert_eq!(yuv(235.0, 235.0, 235.0), WHITE);
        assert_eq!(yuv(200.0, 30.0, 30.0), NONE);
    }

    #[test]
    fn transitions_count_characters() {
        let mut p = Vec::new();
        for _ in 0..7 {
            p.extend([40u8; 4]);
            p.extend([220u8; 4]);
        }
        assert_eq!(transitions(&p).0, 13);
        assert_eq!(transitions(&[100u8; 40]).0, 0);
    }
}
