//! The live side of custos, whatever protocol the frames came in by: a [`LiveHub`] per stream
//! fans frames out to live viewers (browser live view, GB/T 28181 cascade) without slowing the
//! recorder, and [`Health`] measures a stream's state, frame rate and bitrate (D1, D5).
//!
//! Producers (RTSP ingest, a GB/T 28181 device feed) publish into these; consumers (server,
//! cascade) read them. Neither side depends on the other's protocol stack.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod health;
pub mod live;

pub use health::{Health, HealthSnapshot, StreamState};
pub use live::{LiveEvent, LiveHub, LiveSubscription};
