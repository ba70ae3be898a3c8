//! Footage requests of the authorities (H1–H5): who may obtain footage, and how.
//!
//! A [`Request`] is drafted by a police account for a requesting organ (H1), names two
//! distinct officers with work IDs and carries the unit letter or legal document (H3); it is
//! approved by the principal head with jurisdiction (H2) or rejected with a reason; the unit's
//! operator, who sees both officers and the documents, releases it as a time-limited view
//! grant or an evidence bundle, and only to an allowed organ (H5); then it is closed.
//!
//! - [`model`]: the record and its vocabulary;
//! - [`rules`]: the state machine and every rule, as pure functions (no I/O);
//! - [`service`]: the steps on a data directory — each a ledger entry written before the row
//!   changes (fail closed); documents filed with SHA-256 in `DATA/archive/requests/`;
//! - [`form`]: the printable registration form (HTML, PDF).

pub mod form;
pub mod model;
pub mod rules;
pub mod service;

pub use model::{
    Approval, CameraRange, Document, DocumentKind, Kind, NewRequest, Officer, OrganType, Refusal,
    Release, Request, State, Step,
};
pub use rules::{Needed, covers, next};
pub use service::{Approver, ReleaseOrder, Requests};
