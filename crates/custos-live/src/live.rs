//! Live fan-out: the frames a stream delivers, to any number of live viewers, without ever
//! slowing the recorder.
//!
//! A [`LiveHub`] keeps the current group of pictures (from the last key frame) so a new viewer
//! starts decoding at once instead of waiting up to a GOP for the next key frame (click to first
//! frame), and a bounded broadcast of newer frames. A viewer that falls behind loses frames from
//! the broadcast ([`LiveEvent::Lagged`]) and must skip to the next key frame; the publisher never
//! waits for anyone.

use std::sync::{Arc, Mutex};

use custos_core::frame::EncodedFrame;
use tokio::sync::broadcast;

/// Frames a viewer may fall behind before it is told it lagged (≈ 10 s at 25 fps).
const BACKLOG: usize = 256;
/// A GOP longer than this many frames is not cached whole (the viewer waits for a key frame).
const MAX_GOP: usize = 600;

#[derive(Clone)]
pub struct LiveHub(Arc<Inner>);

struct Inner {
    gop: Mutex<Vec<EncodedFrame>>,
    tx: broadcast::Sender<EncodedFrame>,
}

impl Default for LiveHub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(BACKLOG);
        LiveHub(Arc::new(Inner {
            gop: Mutex::new(Vec::new()),
            tx,
        }))
    }
}

/// What [`LiveSubscription::next`] yields.
#[derive(Debug)]
pub enum LiveEvent {
    Frame(EncodedFrame),
    /// Frames were dropped for this viewer; skip to the next key frame.
    Lagged(u64),
    /// The stream's publisher is gone (the process is stopping).
    Closed,
}

pub struct LiveSubscription {
    /// The cached GOP, delivered first (oldest first).
    backlog: std::vec::IntoIter<EncodedFrame>,
    rx: broadcast::Receiver<EncodedFrame>,
}

impl LiveHub {
    /// Hands one frame to every viewer. Never blocks on viewers.
    pub fn publish(&self, f: &EncodedFrame) {
        let mut gop = self.0.gop.lock().expect("live gop lock");
        if f.is_key {
            gop.clear();
        }
        if gop.len() < MAX_GOP && (f.is_key || !gop.is_empty()) {
            gop.push(f.clone());
        }
        // Sent under the lock: a subscriber sees each frame exactly once, either in the cached
        // GOP or from the broadcast.
        let _ = self.0.tx.send(f.clone());
    }

    /// The stream was interrupted: the cached GOP no longer leads to the next frame.
    pub fn interrupted(&self) {
        self.0.gop.lock().expect("live gop lock").clear();
    }

    /// Number of live viewers right now.
    pub fn viewers(&self) -> usize {
        self.0.tx.receiver_count()
    }

    pub fn subscribe(&self) -> LiveSubscription {
        let gop = self.0.gop.lock().expect("live gop lock");
        let rx = self.0.tx.subscribe();
        LiveSubscription {
            backlog: gop.clone().into_iter(),
            rx,
        }
    }
}

impl LiveSubscription {
    pub async fn next(&mut self) -> LiveEvent {
        if let Some(f) = self.backlog.next() {
            return LiveEvent::Frame(f);
        }
        match self.rx.recv().await {
            Ok(f) => LiveEvent::Frame(f),
            Err(broadcast::error::RecvError::Lagged(n)) => LiveEvent::Lagged(n),
            Err(broadcast::error::RecvError::Closed) => LiveEvent::Closed,
        }
    }

    /// Frames of the cached GOP not yet taken (a viewer may skip ahead to the live edge).
    pub fn backlog_len(&self) -> usize {
        self.backlog.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use custos_core::Time90k;
    use custos_core::frame::{Codec, VideoParams};

    fn frame(pts: i64, key: bool) -> EncodedFrame {
        EncodedFrame {
            pts_90k: pts,
            wall: Time90k(pts),
            is_key: key,
            data: Bytes::from_static(b"\0\0\0\x01\x65"),
            params: Arc::new(VideoParams {
                codec: Codec::H264,
                width: 2,
                height: 2,
                rfc6381_codec: "avc1.640000".into(),
                sample_entry: Bytes::new(),
            }),
        }
    }

    /// D5 live view: a viewer joining mid-GOP starts at the last key frame and then sees every
    /// later frame exactly once.
    #[tokio::test]
    async fn d5_viewer_starts_at_last_key_frame_and_misses_nothing() {
        let hub = LiveHub::default();
        hub.publish(&frame(0, false)); // before any key frame: not cached
        hub.publish(&frame(1, true));
        hub.publish(&frame(2, false));
        let mut sub = hub.subscribe();
        hub.publish(&frame(3, false));
        let mut got = Vec::new();
        for _ in 0..3 {
            match sub.next().await {
                LiveEvent::Frame(f) => got.push((f.pts_90k, f.is_key)),
                e => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(got, vec![(1, true), (2, false), (3, false)]);
    }

    /// D1/D5: a viewer that does not read is told it lagged; the publisher (the recorder's tee)
    /// never waits, so a slow viewer cannot stall recording.
    #[tokio::test]
    async fn slow_viewer_lags_and_publisher_never_blocks() {
        let hub = LiveHub::default();
        hub.publish(&frame(0, true));
        let mut sub = hub.subscribe();
        for i in 1..(BACKLOG as i64 + 50) {
            hub.publish(&frame(i, i % 25 == 0));
        }
        assert!(matches!(sub.next().await, LiveEvent::Frame(f) if f.pts_90k == 0));
        assert!(matches!(sub.next().await, LiveEvent::Lagged(n) if n > 0));
    }
}
