//! # custos-evidence
//!
//! Evidence export (E5 "signed export that a third party can verify without trusting the
//! system", H5 "exports carry a recipient and a legal basis", E2 "register every access").
//!
//! [`export::export_bundle`] writes a bundle directory: the ORIGINAL sealed segment files byte
//! for byte, a joined `export.mp4`, a `README.txt`, and a `manifest.json` holding a signed
//! ledger checkpoint plus RFC 9162 inclusion proofs of every ledger entry it relies on (each
//! segment's seal, the export registration, and the `ExportManifest` entry listing every
//! file's SHA-256), signed as a whole in `manifest.sig`. [`verify::verify_bundle`] checks a
//! bundle offline, with no database. The byte-level format is in `FORMAT.md`; the standalone
//! `custos-bundle-verify` crate re-implements the verifier without any custos code.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod export;
pub mod manifest;
pub mod verify;

pub use export::{Request, Summary, export_bundle};
pub use manifest::Manifest;
pub use verify::{Problem, Report, verify_bundle};
