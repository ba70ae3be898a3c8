//! RTSP ingest of custos: one supervised task per camera stream pulls H.264/H.265 over RTSP
//! (retina; TCP interleaved by default, UDP per camera), anchors its media clock to wall time,
//! measures health ([`custos_live::Health`]), and hands every access unit — untouched — to footage as
//! [`StreamEvent`]s. It reconnects with exponential backoff and reports every interruption, so
//! the recorder can write a gap row for it (E7).
//!
//! Ingest must not write files or touch the database: it only produces events and health.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod supervise;
pub mod supervisor;
pub mod timing;

pub use custos_core::frame::StreamEvent;
/// The live hub and health moved to the protocol-neutral `custos-live`; these names still work.
pub use custos_live::{Health, HealthSnapshot, LiveEvent, LiveHub, LiveSubscription, StreamState};
pub use custos_live::{health, live};
pub use supervisor::{ProbeInfo, Source, Transport, params_from_parameter_sets, probe, run_stream};
