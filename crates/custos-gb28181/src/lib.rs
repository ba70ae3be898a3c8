//! GB/T 28181 for custos: the national standard by which cameras, NVRs and lower platforms
//! connect to public-security video platforms.
//!
//! This crate owns the protocol: SIP messages ([`sip`]) and digest ([`digest`]) over UDP and
//! TCP ([`transport`]), MANSCDP XML in GB18030 or UTF-8 ([`manscdp`]), the platform role for
//! devices ([`platform`]: REGISTER, keepalive, Catalog/DeviceInfo/RecordInfo, PTZ, alarms,
//! subscriptions), media sessions ([`media`]: INVITE, RTP over UDP/TCP, jitter buffer
//! [`rtp`], PS demux [`ps`], frames for the recorder [`h26x`]) and the cascade role toward an
//! upper platform ([`cascade`]: register, keepalive, Catalog answers, PS/RTP out).
//!
//! It must not touch storage or footage: devices, channels and alarms leave it as
//! [`platform::PlatformEvent`]s and snapshots, frames as `custos_core::frame::StreamEvent`s,
//! and what is served upward comes from a [`cascade::MediaProvider`]. The `custos` binary
//! wires these to the store and the recorder. The library never prints.

#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod cascade;
pub mod digest;
pub mod h26x;
#[doc(hidden)]
pub mod loadgen;
pub mod manscdp;
pub mod media;
pub mod platform;
pub mod ps;
pub mod ptz;
pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod transport;

pub use cascade::{FrameSource, MediaProvider, UpperConfig, UpperStatus};
pub use media::{MediaSession, MediaTransport, Mode, PlaybackControl};
pub use platform::{Device, Platform, PlatformConfig, PlatformEvent, PlatformStatus};

/// The default platform id (`--sip-id`): domain `3402000000`, type 200 (central signalling).
pub const DEFAULT_SIP_ID: &str = "34020000002000000001";
