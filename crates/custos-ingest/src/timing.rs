//! Frame timing: the media clock (RTP timestamps, 90 kHz) anchored to wall time.
//!
//! The best reference is the camera's RTCP sender report (SR), which maps an RTP timestamp to
//! the sender's wall clock at *capture*: it excludes encoder and network latency. An SR is used
//! only when plausible (within [`MAX_SR_SKEW`] of the recorder's clock, which is the trusted
//! one: camera clocks are often not synchronised). Without a plausible SR the reference is the
//! receive time of the frame, which includes the camera's encode latency.
//!
//! The run's anchor is taken from the reference at its first frame (the supervisor holds the
//! first frames back briefly so the first SR can arrive). Afterwards wall times follow the
//! media clock exactly, so frame spacing is the camera's own. At each key frame the anchored
//! time is compared with the reference; when they differ by more than [`MAX_DRIFT`], the
//! stream is re-anchored and the recorder told, so the jump is a recorded discontinuity rather
//! than silently stretched footage. A forward jump of the media clock larger than
//! [`MAX_JUMP`] (the camera paused) is likewise an interruption.

use custos_core::{Duration90k, Time90k};

pub const MAX_DRIFT: Duration90k = Duration90k::from_millis(1_000);
pub const MAX_JUMP: Duration90k = Duration90k::from_millis(1_500);
/// A sender report further than this from the recorder's clock is not trusted.
pub const MAX_SR_SKEW: Duration90k = Duration90k::from_secs(10);

#[derive(Debug, Default)]
pub struct Timing {
    anchor: Option<(Time90k, i64)>,
    /// Latest plausible sender report: (wall, media).
    sr: Option<(Time90k, i64)>,
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
    /// Records a sender report: media time `media` was captured at `sender_wall`; it arrived at
    /// `received`. Returns false (and ignores it) when implausible.
    pub fn sender_report(&mut self, media: i64, sender_wall: Time90k, received: Time90k) -> bool {
        let skew = received - sender_wall;
        if skew.0.abs() > MAX_SR_SKEW.0 {
            return false;
        }
        self.sr = Some((sender_wall, media));
        true
    }

    pub fn has_sender_report(&self) -> bool {
        self.sr.is_some()
    }

    fn reference(&mut self, media: i64, received: Time90k) -> Time90k {
        match self.sr {
            // A sender report maps this frame only while the media clock it was taken on
            // holds: after an RTP timestamp jump it would place the frame far from now.
            Some((w, m)) if (Time90k(w.0 + (media - m)) - received).0.abs() <= MAX_SR_SKEW.0 => {
                Time90k(w.0 + (media - m))
            }
            Some(_) => {
                self.sr = None;
                received
            }
            None => received,
        }
    }

    /// `media` is the frame's presentation time (90 kHz, extended); `received` the wall time it
    /// arrived.
    pub fn frame(&mut self, media: i64, received: Time90k, is_key: bool) -> Timed {
        let reference = self.reference(media, received);
        let mut discontinuity = None;
        if let (Some(last), Some(_)) = (self.last_media, self.anchor)
            && media - last > MAX_JUMP.0
        {
            discontinuity = Some(format!(
                "stream paused: media clock jumped {:.1} s",
                (media - last) as f64 / 90_000.0
            ));
            self.anchor = Some((reference, media));
        } else if let (Some(last), Some(_)) = (self.last_media, self.anchor)
            && last - media > MAX_JUMP.0
        {
            // B-frames go back a few frames; a larger step back is a reset RTP clock.
            discontinuity = Some(format!(
                "media clock jumped back {:.1} s; re-anchored",
                (last - media) as f64 / 90_000.0
            ));
            self.anchor = Some((reference, media));
            self.last_media = Some(media);
        }
        let (w0, m0) = *self.anchor.get_or_insert((reference, media));
        let mut wall = Time90k(w0.0 + (media - m0));
        if is_key && discontinuity.is_none() {
            let drift = reference - wall;
            if drift.0.abs() > MAX_DRIFT.0 {
                discontinuity = Some(format!(
                    "clock drift of {:+.3} s between camera and recorder; re-anchored",
                    drift.as_secs_f64()
                ));
                self.anchor = Some((reference, media));
                wall = reference;
            }
        }
        self.last_media = Some(self.last_media.map_or(media, |l| l.max(media)));
        Timed {
            wall,
            discontinuity,
        }
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

    /// E7: a plausible sender report anchors at capture time, excluding encode latency.
    #[test]
    fn e7_sender_report_gives_capture_time() {
        let mut t = Timing::default();
        // Frame with media 9000 captured at wall 100_000 but received 400 ms later.
        assert!(t.sender_report(0, Time90k(91_000), Time90k(91_000 + 36_000)));
        let x = t.frame(9_000, Time90k(100_000 + 36_000), true);
        assert_eq!(x.wall, Time90k(100_000));
        // A sender report from a camera whose clock is an hour off is ignored.
        let mut u = Timing::default();
        assert!(!u.sender_report(0, Time90k(0), Time90k(3600 * 90_000)));
        assert!(!u.has_sender_report());
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

    /// E7: an RTP timestamp reset (a large step back) is a recorded discontinuity, and a
    /// sender report taken before a timestamp jump no longer places frames.
    #[test]
    fn e7_timestamp_jump_back_and_stale_sender_report() {
        let mut t = Timing::default();
        t.frame(10 * 90_000, Time90k(1_000_000), true);
        t.frame(10 * 90_000 + FRAME, Time90k(1_000_000 + FRAME), false);
        let x = t.frame(0, Time90k(1_000_000 + 2 * FRAME), true);
        assert!(x.discontinuity.unwrap().contains("jumped back"));
        assert_eq!(x.wall, Time90k(1_000_000 + 2 * FRAME));
        // Next frames follow the new anchor without a further discontinuity.
        let y = t.frame(FRAME, Time90k(1_000_000 + 3 * FRAME + 500), false);
        assert!(y.discontinuity.is_none());
        assert_eq!(y.wall, Time90k(1_000_000 + 3 * FRAME));

        let mut u = Timing::default();
        let now = Time90k(50_000_000);
        assert!(u.sender_report(0, now, now));
        u.frame(0, now, true);
        // The camera's RTP clock jumps an hour ahead: the old report would put the frame an
        // hour in the future; the receive time is used instead.
        let z = u.frame(3600 * 90_000, Time90k(now.0 + FRAME), true);
        assert!(z.discontinuity.unwrap().contains("paused"));
        assert_eq!(z.wall, Time90k(now.0 + FRAME));
    }
}
