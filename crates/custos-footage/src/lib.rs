//! Footage of custos: the segment files and everything that reads or removes them.
//!
//! Owns the on-disk layout ([`layout`]), the per-stream recorder that turns encoded frames
//! into fragmented-MP4 segments and index rows ([`recorder`]), crash recovery and
//! reconciliation of files with rows ([`recovery`]), the read path that gives any time range
//! back as one MP4 or an HLS playlist ([`read`]), and retention with capacity prediction
//! ([`retention`], [`capacity`]).
//!
//! Footage never transcodes and never decides who may read: callers (server, CLI) authorise
//! and register access before calling the read path. Nothing here deletes a segment inside its
//! legal minimum or under a hold: the only deletion path takes an [`retention::ExpiredSegment`],
//! which can be made only by checking both. Sealed segments are immutable and the ledger's
//! files append-only where the filesystem allows ([`protect`]); only that deletion path clears
//! a segment's flag.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod capacity;
pub mod frames;
pub mod integrity;
pub mod layout;
pub mod protect;
pub mod read;
pub mod recorder;
pub mod recovery;
pub mod reserve;
pub mod retention;
mod segment_file;
pub mod status;

/// The journal moved to its own crate (the trust spine); `custos_footage::journal::X` still
/// names the same items.
pub use custos_journal as journal;
pub use custos_journal::{Journal, Registered};
pub use layout::DataDir;
