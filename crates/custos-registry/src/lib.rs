//! The registry and compliance engine of custos (A1–A5, B1–B4, C1–C4, D2–D4, D6, I1, I4,
//! J1–J3). It owns
//!
//! - [`convert`]: store rows ⇄ the pure compliance records of `custos_core::compliance`;
//! - [`import`]: bulk import of device lists from CSV/XLSX with a row-level error report, and
//!   export to CSV/XLSX;
//! - [`scan`]: the rule scan — streams the stored registry through the rules of
//!   `custos_core::compliance::rules` and saves the findings;
//! - [`lifecycle`]: transitions with the evidence documents from the archive, each a ledger entry;
//! - [`archive`]: the A4 document archive (SHA-256, superseded, never overwritten);
//! - [`access`]: A3 confidential reads — `custos_core::access::decide`, a ledger entry per read,
//!   fail closed — and masked views for everyone else;
//! - [`findings`]: the finding workflow (open → rectification ordered → rectified → verified);
//! - [`inspection`]: J1 checklists per inspection type and rectification orders;
//! - [`complaint`]: J3 complaints (append-only, in the ledger);
//! - [`suspicious`]: D6 reports (bookmark, legal hold, police notification event);
//! - [`alarm`]: I4 events of alarm and access-control devices on the same timeline and ledger;
//! - [`report`]: printable HTML and PDF reports with an SVG coverage plan, and the public I1
//!   catalogue;
//! - [`bench`]: the synthetic registry of `custos bench compliance`.
//!
//! It must not serve HTTP, print, or decide authorisation itself: callers pass an authenticated
//! [`custos_core::access::Principal`] and this crate asks `custos_core::access::decide`. Every
//! function a server route needs takes `(&Store, &Journal, …)` and returns domain data or a
//! `custos_core::Error` whose kind maps to the HTTP status (PermissionDenied → 403, …).

#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod access;
pub mod alarm;
pub mod archive;
pub mod bench;
pub mod complaint;
pub mod convert;
pub mod findings;
pub mod import;
pub mod inspection;
pub mod lifecycle;
pub mod report;
pub mod scan;
pub mod suspicious;
