//! Boxes in full-resolution pixel coordinates.

use serde::{Deserialize, Serialize};

/// What a box covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Face,
    Plate,
}

/// An axis-aligned box, `[x0, x1) × [y0, y1)` in pixels of the full-resolution frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Rect {
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Rect {
        Rect { x0, y0, x1, y1 }
    }
    pub fn w(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }
    pub fn h(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }
    pub fn area(&self) -> f32 {
        self.w() * self.h()
    }
    pub fn intersection(&self, o: &Rect) -> f32 {
        let w = (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0);
        let h = (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0);
        w * h
    }
    pub fn iou(&self, o: &Rect) -> f32 {
        let i = self.intersection(o);
        let u = self.area() + o.area() - i;
        if u <= 0.0 { 0.0 } else { i / u }
    }
    /// Grows the box by `frac` of its size on every side.
    pub fn padded(&self, frac: f32) -> Rect {
        let (dx, dy) = (self.w() * frac, self.h() * frac);
        Rect::new(self.x0 - dx, self.y0 - dy, self.x1 + dx, self.y1 + dy)
    }
    pub fn scaled(&self, s: f32) -> Rect {
        Rect::new(self.x0 * s, self.y0 * s, self.x1 * s, self.y1 * s)
    }
    pub fn clamped(&self, w: f32, h: f32) -> Rect {
        Rect::new(
            self.x0.clamp(0.0, w),
            self.y0.clamp(0.0, h),
            self.x1.clamp(0.0, w),
            self.y1.clamp(0.0, h),
        )
    }
}

/// A detection: a box, what it is, and the detector's confidence.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub rect: Rect,
    pub kind: Kind,
    pub score: f32,
}

/// Greedy non-maximum suppression: keeps the best-scoring of boxes overlapping by ≥ `iou`.
pub fn nms(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep: Vec<Detection> = Vec::with_capacity(dets.len());
    for d in dets {
        if keep.iter().all(|k| k.rect.iou(&d.rect) < iou) {
            keep.push(d);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_half_overlap() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        let b = Rect::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&Rect::new(20.0, 20.0, 30.0, 30.0)), 0.0);
    }

    #[test]
    fn nms_keeps_best_of_overlapping() {
        let d = |x: f32, s: f32| Detection {
            rect: Rect::new(x, 0.0, x + 10.0, 10.0),
            kind: Kind::Face,
            score: s,
        };
        let k = nms(vec![d(0.0, 0.5), d(1.0, 0.9), d(50.0, 0.3)], 0.3);
        assert_eq!(k.len(), 2);
        assert_eq!(k[0].score, 0.9);
    }
}
