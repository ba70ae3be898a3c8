//! The running custos node, shared by `custos demo`, `record` and `serve`: the configuration
//! file ([`config`]), the recording runtime that audits configuration changes into the ledger
//! and runs one supervised source and recorder per stream ([`runtime`]), the HTTPS server's
//! start over it ([`server`]), the GB/T 28181 glue ([`gb`]: platform, recording of accepted
//! devices, persistence, cascade), systemd notifications ([`notify`]), and the one loop that
//! runs a node until it is stopped and stops it cleanly ([`node`]).
//!
//! The `custos` binary parses arguments, calls this library, prints, and maps error kinds to
//! exit codes; the domain logic is here and in the crates below it.

pub mod config;
pub mod demo;
#[cfg(feature = "gb28181")]
pub mod gb;
#[cfg(not(feature = "gb28181"))]
#[path = "gb_off.rs"]
pub mod gb;
pub mod node;
pub mod notify;
pub mod preflight;
pub mod runtime;
pub mod server;

pub use config::Config;
pub use node::{Node, wait_for_stop};
pub use preflight::preflight;
pub use runtime::{Runtime, StreamRuntime, now};
