//! IoU tracking: a box found in one frame stays covered while its object is missed for up to
//! `hold` frames, and a box first found late is carried back over the `hold` frames before
//! it (the pipeline keeps that many frames in a look-ahead buffer before masking).

use serde::{Deserialize, Serialize};

use crate::geom::{Detection, Kind, Rect};

/// A masked box of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackBox {
    pub track: u64,
    pub kind: Kind,
    pub rect: Rect,
}

struct Track {
    id: u64,
    kind: Kind,
    rect: Rect,
    /// Velocity of the box centre per frame (smoothed).
    vx: f32,
    vy: f32,
    last_seen: u64,
}

/// The tracker's settings.
#[derive(Clone, Copy, Debug)]
pub struct TrackerConfig {
    /// Frames a track is kept (and masked) after its last detection, and carried back before
    /// its first.
    pub hold: u32,
    /// Minimum IoU to continue a track (after padding both boxes).
    pub iou: f32,
    /// Padding added on every side of a masked box, as a fraction of its size.
    pub pad: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            hold: 8,
            iou: 0.2,
            pad: 0.2,
        }
    }
}

/// What one frame's update produced.
pub struct Update {
    /// Boxes to mask in this frame (padded).
    pub boxes: Vec<TrackBox>,
    /// Tracks born in this frame (padded boxes): the caller also masks them in the buffered
    /// frames before this one.
    pub born: Vec<TrackBox>,
}

pub struct Tracker {
    cfg: TrackerConfig,
    tracks: Vec<Track>,
    next: u64,
}

impl Tracker {
    pub fn new(cfg: TrackerConfig) -> Tracker {
        Tracker {
            cfg,
            tracks: Vec::new(),
            next: 1,
        }
    }

    pub fn config(&self) -> TrackerConfig {
        self.cfg
    }

    /// Feeds frame `frame`'s detections (frames in presentation order).
    pub fn update(&mut self, frame: u64, dets: &[Detection]) -> Update {
        let mut used = vec![false; dets.len()];
        // Greedy matching, best IoU first.
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            let predicted = predict(t, frame);
            for (di, d) in dets.iter().enumerate() {
                if d.kind != t.kind {
                    continue;
                }
                let iou = predicted
                    .padded(self.cfg.pad)
                    .iou(&d.rect.padded(self.cfg.pad));
                if iou >= self.cfg.iou {
                    pairs.push((iou, ti, di));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut matched = vec![false; self.tracks.len()];
        for (_, ti, di) in pairs {
            if matched[ti] || used[di] {
                continue;
            }
            matched[ti] = true;
            used[di] = true;
            let t = &mut self.tracks[ti];
            let gap = (frame - t.last_seen).max(1) as f32;
            let (ocx, ocy) = centre(&t.rect);
            let (ncx, ncy) = centre(&dets[di].rect);
            t.vx = 0.5 * t.vx + 0.5 * (ncx - ocx) / gap;
            t.vy = 0.5 * t.vy + 0.5 * (ncy - ocy) / gap;
            t.rect = dets[di].rect;
            t.last_seen = frame;
        }
        let hold = self.cfg.hold as u64;
        self.tracks.retain(|t| frame - t.last_seen <= hold);
        let mut born = Vec::new();
        for (di, d) in dets.iter().enumerate() {
            if used[di] {
                continue;
            }
            let id = self.next;
            self.next += 1;
            self.tracks.push(Track {
                id,
                kind: d.kind,
                rect: d.rect,
                vx: 0.0,
                vy: 0.0,
                last_seen: frame,
            });
            born.push(TrackBox {
                track: id,
                kind: d.kind,
                rect: d.rect.padded(self.cfg.pad),
            });
        }
        let boxes = self
            .tracks
            .iter()
            .map(|t| {
                // A missed object is covered where it was, stretched towards where it is
                // heading, so a moving face stays under the mask.
                let p = predict(t, frame);
                let r = if t.last_seen == frame {
                    t.rect
                } else {
                    Rect::new(
                        t.rect.x0.min(p.x0),
                        t.rect.y0.min(p.y0),
                        t.rect.x1.max(p.x1),
                        t.rect.y1.max(p.y1),
                    )
                };
                TrackBox {
                    track: t.id,
                    kind: t.kind,
                    rect: r.padded(self.cfg.pad),
                }
            })
            .collect();
        Update { boxes, born }
    }
}

fn centre(r: &Rect) -> (f32, f32) {
    ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0)
}

fn predict(t: &Track, frame: u64) -> Rect {
    let k = (frame - t.last_seen) as f32;
    Rect::new(
        t.rect.x0 + t.vx * k,
        t.rect.y0 + t.vy * k,
        t.rect.x1 + t.vx * k,
        t.rect.y1 + t.vy * k,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32) -> Detection {
        Detection {
            rect: Rect::new(x, 10.0, x + 40.0, 50.0),
            kind: Kind::Face,
            score: 0.9,
        }
    }

    /// G1: a face missed for a few frames stays covered, under the same track.
    #[test]
    fn g1_missed_face_stays_covered_for_hold_frames() {
        let mut t = Tracker::new(TrackerConfig {
            hold: 3,
            ..Default::default()
        });
        let a = t.update(0, &[face(0.0)]);
        assert_eq!(a.born.len(), 1);
        let b = t.update(1, &[face(4.0)]);
        assert!(b.born.is_empty());
        assert_eq!(b.boxes[0].track, a.boxes[0].track);
        for f in 2..=4 {
            let u = t.update(f, &[]);
            assert_eq!(u.boxes.len(), 1, "frame {f}: face not covered");
            // The hidden face moved on at 4 px/frame: still under the box.
            let x = 4.0 * f as f32;
            assert!(u.boxes[0].rect.x0 <= x && u.boxes[0].rect.x1 >= x + 40.0);
        }
        assert!(t.update(5, &[]).boxes.is_empty(), "held beyond `hold`");
    }
}
