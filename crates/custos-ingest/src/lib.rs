//! RTSP ingest of custos: one supervised task per camera stream pulls H.264/H.265 over RTSP
//! (retina; TCP interleaved by default, UDP per camera), anchors its media clock to wall time,
//! measures health, and hands every access unit — untouched — to footage as
//! [`StreamEvent`]s. It reconnects with exponential backoff and reports every interruption, so
//! the recorder can write a gap row for it (E7).
//!
//! Ingest must not write files or touch the database: it only produces events and health.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod health;
pub mod live;
pub mod supervise;
pub mod supervisor;
pub mod timing;

pub use custos_core::frame::StreamEvent;
pub use health::{Health, HealthSnapshot, StreamState};
pub use live::{LiveEvent, LiveHub, LiveSubscription};
pub use supervisor::{ProbeInfo, Source, Transport, params_from_parameter_sets, probe, run_stream};
