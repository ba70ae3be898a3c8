//! Compliance rules (B1–B4, C1–C3, D1–D3, F1, J1–J2): the pure part of the registry and
//! compliance engine. It owns
//!
//! - [`article`]: citations of the five texts in `seeds/`, numbered exactly as there;
//! - [`device_code`]: the GB/T 28181 20-digit device (address) code;
//! - [`places`]: the mandatory (B1) and prohibited (B2) place categories with their articles;
//! - [`jurisdiction`]: which texts apply where (default: the strictest, all of them) and the
//!   operational thresholds no text fixes;
//! - [`lifecycle`]: the C1 state machine, the evidence per transition, C2/C3 deadlines and the
//!   "not accepted ⇒ streams do not go live" gate;
//! - [`geo`]: field-of-view / residence polygon overlap on WGS-84 (B3);
//! - [`findings`]: findings, consequences (measures and fine ranges per article) and their status;
//! - [`rules`]: one pure function per rule over plain input records, and [`rules::evaluate`].
//!
//! It must not do I/O: no database, no files, no clock (callers pass `now`), no printing. The
//! store feeds [`rules::RegistrySnapshot`]; the server shows and persists the findings. The rule
//! table (id → function → articles → consequence) is `docs/rules.md`.

pub mod article;
pub mod device_code;
pub mod findings;
pub mod geo;
pub mod jurisdiction;
pub mod lifecycle;
pub mod places;
pub mod rules;

pub use article::{Article, Source, cite};
pub use device_code::{DeviceCode, DeviceCodeError, DeviceCodeField};
pub use findings::{Consequence, Finding, FindingStatus, RuleId, Severity};
pub use jurisdiction::{Jurisdiction, Profile};
pub use lifecycle::LifecycleState;
pub use places::{MandatoryCategory, PlaceCategory, ProhibitedCategory};
pub use rules::{RegistrySnapshot, evaluate};
