//! Frame timing: the media clock (RTP timestamps, 90 kHz) anchored to wall time.
//!
//! The anchor is the wall-clock receive time of the first frame. Afterwards wall times follow
//! the media clock exactly, so frame spacing is the camera's own. At each key frame the receive
//! time is compared with the anchored time; when they differ by more than [`MAX_DRIFT`] (camera
//! clock running fast or slow, or frames delayed), the stream is re-anchored and the recorder
//! is told, so the jump is a recorded discontinuity rather than silently stretched footage. A
//! forward jump of the media clock larger than [`MAX_JUMP`] (the camera paused) is likewise an
//! interruption.

use custos_core::{Duration90k, Time90k};

pub const MAX_DRIFT: Duration90k = Duration90k::from_millis(1_000);
pub const MAX_JUMP: Duration90k = Duration90k::from_millis(1_500);

#[derive(Debug, Default)]
pub struct Timing {
    anchor: Option<(Time90k, i64)>,
    last_media: Option<i64>,
}

/// What the timing says about a frame.
#[derive(Debug, PartialEq, Eq)]
pub struct Timed {
    pub wall: Time90k,
    /// Set when the stream must be interrupted before this frame, with the reason.
    pub discontinuity: Option<String>,
}

impl Timing {
    /// `media` is the frame's presentation time (90 kHz, extended); `received` the wall time it
    /// arrived.
    pub fn frame(&mut self, media: i64, received: Time90k, is_key: bool) -> Timed {
        let mut discontinuity = None;
        if let (Some(last), Some(_)) = (self.last_media, self.anchor)
            && media - last > MAX_JUMP.0
        {
            discontinuity = Some(format!(
                "stream paused: media clock jumped {:.1} s",
                (media - last) as f64 / 90_000.0
            ));
            self.anchor = Some((received, media));
        }
        let (w0, m0) = *self.anchor.get_or_insert((received, media));
        let mut wall = Time90k(w0.0 + (media - m0));
        if is_key && discontinuity.is_none() {
            let drift = received - wall;
            if drift.0.abs() > MAX_DRIFT.0 {
                discontinuity = Some(format!(
                    "clock drift of {:+.3} s between camera and recorder; re-anchored",
                    drift.as_secs_f64()
                ));
                self.anchor = Some((received, media));
                wall = received;
            }
        }
        self.last_media = Some(self.last_media.map_or(media, |l| l.max(media)));
        Timed { wall, discontinuity }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: i64 = 6000; // 15 fps

    /// E7: wall times follow the media clock exactly after the anchor.
    #[test]
    fn e7_follows_media_clock_after_anchor() {
        let mut t = Timing::default();
        let r0 = Time90k(1_000_000);
        assert_eq!(t.frame(0, r0, true).wall, r0);
        // Receive jitter does not move frame times.
        let x = t.frame(FRAME, Time90k(r0.0 + FRAME + 900), false);
        assert_eq!(x.wall, Time90k(r0.0 + FRAME));
        assert!(x.discontinuity.is_none());
    }

    /// E7: a paused camera is an interruption, not a stretched frame.
    #[test]
    fn e7_media_jump_is_a_discontinuity() {
        let mut t = Timing::default();
        t.frame(0, Time90k(0), true);
        let x = t.frame(5 * 90_000, Time90k(5 * 90_000), true);
        assert!(x.discontinuity.unwrap().contains("paused"));
        assert_eq!(x.wall, Time90k(5 * 90_000));
    }

    /// E7: drift beyond the bound re-anchors at a key frame and is reported.
    #[test]
    fn e7_drift_reanchors_at_key_frame() {
        let mut t = Timing::default();
        t.frame(0, Time90k(0), true);
        // Camera clock runs slow: 1 s of media took 2.2 s of wall.
        let x = t.frame(90_000, Time90k(198_000), false);
        assert!(x.discontinuity.is_none());
        let y = t.frame(96_000, Time90k(204_000), true);
        assert!(y.discontinuity.unwrap().contains("drift"));
        assert_eq!(y.wall, Time90k(204_000));
    }
}
