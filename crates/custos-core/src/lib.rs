//! Domain types and rules of custos: time in 90 kHz units, the error type with its kinds,
//! camera and stream identities, retention classes (F1), the encoded-frame hand-off between
//! ingest and footage, the compliance rules of the registry ([`compliance`]) and the
//! authorisation policy ([`access`]).
//!
//! This crate owns the vocabulary every other crate speaks. It must not do I/O: no files, no
//! sockets, no clocks read implicitly (callers pass "now" in), no printing.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod access;
pub mod camera;
pub mod compliance;
pub mod error;
pub mod frame;
pub mod retention;
pub mod text;
pub mod time;
pub mod variants;

pub use error::{Error, ErrorKind, Result};
pub use time::{Duration90k, Time90k};
