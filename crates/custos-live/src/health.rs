//! Health of one stream (D1): state, frame rate and bitrate over a sliding window, last frame,
//! reconnects, last error.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custos_core::Time90k;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamState {
    Connecting,
    Online,
    Offline,
    Stopped,
}

impl StreamState {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamState::Connecting => "connecting",
            StreamState::Online => "online",
            StreamState::Offline => "offline",
            StreamState::Stopped => "stopped",
        }
    }
}

const WINDOW: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Inner {
    state: StreamState,
    window: VecDeque<(Instant, usize)>,
    last_frame: Option<Time90k>,
    reconnects: u64,
    frames: u64,
    bytes: u64,
    last_error: Option<String>,
    codec: Option<String>,
    resolution: Option<(u16, u16)>,
    damaged: u64,
}

/// Shared, cheap to clone.
#[derive(Clone, Debug)]
pub struct Health(Arc<Mutex<Inner>>);

#[derive(Clone, Debug, serde::Serialize)]
pub struct HealthSnapshot {
    pub state: StreamState,
    pub fps: f64,
    pub bitrate_bps: f64,
    pub last_frame: Option<Time90k>,
    pub reconnects: u64,
    pub frames: u64,
    pub bytes: u64,
    pub last_error: Option<String>,
    pub codec: Option<String>,
    pub resolution: Option<(u16, u16)>,
    /// Times the stream lost data (unusable packets, packet loss) and was resumed at the next
    /// key frame without reconnecting.
    pub damaged: u64,
}

impl Default for Health {
    fn default() -> Self {
        Health(Arc::new(Mutex::new(Inner {
            state: StreamState::Connecting,
            window: VecDeque::new(),
            last_frame: None,
            reconnects: 0,
            frames: 0,
            bytes: 0,
            last_error: None,
            codec: None,
            resolution: None,
            damaged: 0,
        })))
    }
}

impl Health {
    pub fn set_state(&self, s: StreamState) {
        self.0.lock().unwrap().state = s;
    }

    pub fn frame(&self, wall: Time90k, bytes: usize) {
        let now = Instant::now();
        let mut i = self.0.lock().unwrap();
        i.state = StreamState::Online;
        i.window.push_back((now, bytes));
        while i
            .window
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > WINDOW)
        {
            i.window.pop_front();
        }
        i.last_frame = Some(wall);
        i.frames += 1;
        i.bytes += bytes as u64;
    }

    pub fn params(&self, codec: &str, w: u16, h: u16) {
        let mut i = self.0.lock().unwrap();
        i.codec = Some(codec.to_owned());
        i.resolution = Some((w, h));
    }

    pub fn failed(&self, err: String) {
        let mut i = self.0.lock().unwrap();
        i.state = StreamState::Offline;
        i.last_error = Some(err);
        i.window.clear();
    }

    /// The stream lost data and resumes at the next key frame (no reconnect).
    pub fn damaged(&self, reason: &str) {
        let mut i = self.0.lock().unwrap();
        i.damaged += 1;
        i.last_error = Some(reason.to_owned());
    }

    pub fn reconnecting(&self) {
        let mut i = self.0.lock().unwrap();
        i.reconnects += 1;
        i.state = StreamState::Connecting;
    }

    pub fn snapshot(&self) -> HealthSnapshot {
        let now = Instant::now();
        let i = self.0.lock().unwrap();
        let recent: Vec<&(Instant, usize)> = i
            .window
            .iter()
            .filter(|(t, _)| now.duration_since(*t) <= WINDOW)
            .collect();
        let (fps, bitrate) = match (recent.first(), recent.last()) {
            (Some(a), Some(b)) if recent.len() > 1 && b.0 > a.0 => {
                let secs = b.0.duration_since(a.0).as_secs_f64();
                let bytes: usize = recent[1..].iter().map(|(_, n)| n).sum();
                ((recent.len() - 1) as f64 / secs, bytes as f64 * 8.0 / secs)
            }
            _ => (0.0, 0.0),
        };
        HealthSnapshot {
            state: i.state,
            fps,
            bitrate_bps: bitrate,
            last_frame: i.last_frame,
            reconnects: i.reconnects,
            frames: i.frames,
            bytes: i.bytes,
            last_error: i.last_error.clone(),
            codec: i.codec.clone(),
            resolution: i.resolution,
            damaged: i.damaged,
        }
    }
}
