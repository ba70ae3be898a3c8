//! Authorisation policy (E1, D5, E6, E10, H1–H5): who may view, copy, transmit or manage what,
//! where, and when — as pure code. The server authenticates a request, builds the [`Principal`]
//! and the [`Resource`], and asks [`decide`]; it registers the access (E2) before serving an
//! allowed one and registers the denial otherwise.
//!
//! - [`scope`]: the organisation ⊃ system ⊃ area ⊃ camera hierarchy and [`Placement`];
//! - [`policy`]: roles, actions, labels, [`decide`], [`approve`] (second person), [`validate`]
//!   and [`needs_approval`];
//! - [`matrix`]: the role × action table (`docs/access.md`);
//! - [`permit`](mod@permit): [`Permit<A>`] tokens, proof of an `Allow` for server code to
//!   demand.
//!
//! Deny by default. Administrators get no footage rights (separation of duties); contractors are
//! scoped to their systems and expire (E10); live view only while on duty for that camera (D5);
//! citizen viewers only view recordings within their window (H4); labels above the clearance are
//! hidden (E6); auditors read the audit log and nothing else.

pub mod matrix;
pub mod permit;
pub mod policy;
pub mod scope;

pub use matrix::{Grant, grant, matrix_markdown};
pub use permit::{Permit, PermitAction, act, permit, required_approval};
pub use policy::{
    Action, Approval, Classification, Decision, Principal, Reason, Resource, Role, RoleGrant,
    approve, decide, needs_approval, validate,
};
pub use scope::{Level, Placement, Scope};

#[cfg(test)]
mod tests;
