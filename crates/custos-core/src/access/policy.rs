//! The policy: who may do what, where, and why not. One function, [`decide`], answers every
//! request; everything it does not explicitly allow is denied (E1), and every denial names the
//! rule that caused it.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::matrix::{Grant, grant};
use super::scope::{Level, Scope};
use crate::{Error, ErrorKind};

// ---------------------------------------------------------------------------------------------
// Vocabulary.

crate::all_variants! {
    /// What a person is in the system. A principal may hold several roles, each with its own scope.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Role {
        /// 系统管理员: manages accounts and configuration; no footage rights (separation of duties).
        Administrator,
        /// 值班员: watches live video while on duty for the device (D5), reviews recordings,
        /// reports and holds suspicious footage (D6).
        WatchOperator,
        /// 维护人员 of a maintenance contractor: scoped to their systems and expiring (E10).
        Maintainer,
        /// 民警: obtains footage for enforcement (H1) after approval (H2).
        PoliceOfficer,
        /// 审批负责人: the principal head who approves police requests (H2).
        PoliceApprover,
        /// 检查人员: police inspection of the units (J1).
        Inspector,
        /// 审计员: reads the audit log (E2, E4), nothing else.
        Auditor,
        /// 公民查看人: an interested party viewing related footage, view-only and time-limited (H4).
        CitizenViewer,
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::WatchOperator => "watch_operator",
            Role::Maintainer => "maintainer",
            Role::PoliceOfficer => "police_officer",
            Role::PoliceApprover => "police_approver",
            Role::Inspector => "inspector",
            Role::Auditor => "auditor",
            Role::CitizenViewer => "citizen_viewer",
        }
    }

    /// The Chinese label for the console (zh-CN is the default UI language).
    pub fn zh(self) -> &'static str {
        match self {
            Role::Administrator => "系统管理员",
            Role::WatchOperator => "值班员",
            Role::Maintainer => "维护人员",
            Role::PoliceOfficer => "民警",
            Role::PoliceApprover => "审批负责人",
            Role::Inspector => "检查人员",
            Role::Auditor => "审计员",
            Role::CitizenViewer => "公民查看人",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.as_str().replace('_', "-") == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown role {s:?}: use one of {}", names.join(", ")),
                )
            })
    }
}

crate::all_variants! {
    /// What a request wants to do.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Action {
        /// Watch a camera live (D5).
        ViewLive,
        /// Play back recorded footage.
        Playback,
        /// Export or download footage (E1 "copying"; H5: exports carry a recipient and legal basis).
        Export,
        /// Copy or transmit footage to another system (E1 "transmitting").
        CopyTransmit,
        /// Read confidential basic information: positions, address codes, device types, design
        /// plans (A3).
        ReadBasicInfo,
        ManageUsers,
        ManageConfig,
        /// Put footage under legal hold (E5, D6).
        PlaceHold,
        /// Release a hold: also needs a second, different person ([`approve`]).
        ReleaseHold,
        /// Approve a police request for footage (H2).
        ApprovePoliceRequest,
        /// Read (and verify) the audit log (E2, E4).
        ViewAuditLog,
        /// Carry out an inspection: checklists, findings, integrity verification (J1).
        Inspect,
        /// Record a finding or rectification order (J1).
        CreateFinding,
    }
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ViewLive => "view_live",
            Action::Playback => "playback",
            Action::Export => "export",
            Action::CopyTransmit => "copy_transmit",
            Action::ReadBasicInfo => "read_basic_info",
            Action::ManageUsers => "manage_users",
            Action::ManageConfig => "manage_config",
            Action::PlaceHold => "place_hold",
            Action::ReleaseHold => "release_hold",
            Action::ApprovePoliceRequest => "approve_police_request",
            Action::ViewAuditLog => "view_audit_log",
            Action::Inspect => "inspect",
            Action::CreateFinding => "create_finding",
        }
    }

    /// Touches footage itself (view, copy, transmit): the rights administrators do not get.
    pub fn is_footage(self) -> bool {
        matches!(
            self,
            Action::ViewLive | Action::Playback | Action::Export | Action::CopyTransmit
        )
    }

    /// The lowest label of what this action reads, whatever the resource says: basic
    /// information is confidential by nature (A3).
    pub fn floor(self) -> Classification {
        match self {
            Action::ReadBasicInfo => Classification::Confidential,
            _ => Classification::Public,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, format!("unknown action {s:?}")))
    }
}

/// Classification labels (E6), ordered: a principal sees a resource only if its label is at or
/// below the principal's clearance.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    #[default]
    Public,
    /// 内部
    Internal,
    /// 秘密 / confidential: basic information (A3) is at least this.
    Confidential,
    /// 机密 and above: state secrets (E6).
    Secret,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Public => "public",
            Classification::Internal => "internal",
            Classification::Confidential => "confidential",
            Classification::Secret => "secret",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One role held within one scope.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub scope: Scope,
}

impl RoleGrant {
    pub fn new(role: Role, scope: Scope) -> Self {
        RoleGrant { role, scope }
    }
}

/// Who is asking: an account as the server has authenticated it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub id: String,
    pub grants: Vec<RoleGrant>,
    /// E6: the highest label this person may see.
    pub clearance: Classification,
    /// Start of the account's window (H4 viewing sessions open at a set time); `None`: always.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of the account's window; required for contractors (E10) and citizens (H4).
    pub expires_at: Option<DateTime<Utc>>,
    /// D5: the cameras or areas this person is on duty for right now (from the duty roster,
    /// D2, or a maintainer's open work order). `None`: not on duty.
    pub on_duty_for: Option<BTreeSet<Scope>>,
}

impl Principal {
    /// A principal with no roles (it may do nothing), public clearance and no window.
    pub fn new(id: impl Into<String>) -> Self {
        Principal {
            id: id.into(),
            grants: Vec::new(),
            clearance: Classification::Public,
            valid_from: None,
            expires_at: None,
            on_duty_for: None,
        }
    }

    pub fn with_grant(mut self, role: Role, scope: Scope) -> Self {
        self.grants.push(RoleGrant::new(role, scope));
        self
    }

    pub fn with_clearance(mut self, c: Classification) -> Self {
        self.clearance = c;
        self
    }

    pub fn with_window(
        mut self,
        from: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        self.valid_from = from;
        self.expires_at = expires_at;
        self
    }

    pub fn on_duty_for(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.on_duty_for = Some(scopes.into_iter().collect());
        self
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

/// What the request is about: where it sits and how it is labelled. For a camera's footage or
/// basic information the location is the camera ([`Resource::camera`]); for a system's
/// configuration the system; for accounts and the audit log the organisation (or narrower).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub location: Scope,
    pub classification: Classification,
}

impl Resource {
    pub fn at(location: Scope, classification: Classification) -> Self {
        Resource {
            location,
            classification,
        }
    }

    pub fn camera(p: &super::Placement, classification: Classification) -> Self {
        Resource::at(p.scope(), classification)
    }
}

// ---------------------------------------------------------------------------------------------
// Decisions.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", content = "reason", rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny(Reason),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Decision::Allow => None,
            Decision::Deny(r) => Some(r),
        }
    }
}

/// Why a request was denied. [`Reason::rule`] is the requirement id (or principle) it enforces;
/// `Display` is `"<rule>: <explanation>"`, fit for the audit log and a 403 body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// E1: none of the principal's roles grants the action anywhere.
    NoGrant { action: Action },
    /// E1: a role grants the action, but not at this location.
    OutOfScope { action: Action, location: Scope },
    /// E1: the account's window has closed.
    AccountExpired { at: DateTime<Utc> },
    /// E1: the account's window has not opened.
    AccountNotYetValid { from: DateTime<Utc> },
    /// E10: a contractor's account expired.
    ContractorExpired { at: DateTime<Utc> },
    /// E10: a contractor account without an end date.
    ContractorNoExpiry,
    /// E10: a contractor grant wider than a system.
    ContractorScopeTooWide { scope: Scope },
    /// H4: the citizen's viewing window has closed.
    CitizenWindowClosed { at: DateTime<Utc> },
    /// H4: the citizen's viewing window has not opened.
    CitizenWindowNotOpen { from: DateTime<Utc> },
    /// H4: a citizen account without an end date.
    CitizenNoWindow,
    /// H4: a citizen account that also holds another role.
    CitizenMixedRoles,
    /// H4: citizens view; they never copy, download or do anything else.
    CitizenViewOnly { action: Action },
    /// H4: a citizen account gives no footage; the applicant watches through a citizen view
    /// session (made by a police officer, watermarked on the server).
    CitizenSessionOnly,
    /// D5: live view is for on-duty staff; citizens view recordings.
    LiveViewStaffOnly,
    /// D5: the principal is on duty for nothing.
    NotOnDuty,
    /// D5: on duty, but not for this camera.
    NotOnDutyForCamera { location: Scope },
    /// D5: live view names one camera.
    LiveViewNeedsCamera { location: Scope },
    /// E6: the resource's label is above the principal's clearance.
    AboveClearance {
        classification: Classification,
        clearance: Classification,
    },
    /// A3: basic information is confidential; the clearance is below that.
    BasicInfoNeedsClearance { clearance: Classification },
    /// Separation of duties: administrators get no footage rights.
    AdminNoFootage { action: Action },
    /// Separation of duties: administrators do not read the audit log.
    AdminNoAuditLog,
    /// Separation of duties: one account is both administrator and auditor.
    AdminAuditorCombined,
    /// Separation of duties: auditors read the audit log, nothing else.
    AuditorAuditOnly { action: Action },
    /// E5 / H2: the second person of a two-person action is the first person again.
    SamePerson { action: Action },
}

pub const RULE_SOD: &str = "separation of duties";

impl Reason {
    /// The requirement id (E1, D5, E6, E10, H4, A3, E5, H2) or principle this denial enforces.
    pub fn rule(&self) -> &'static str {
        use Reason::*;
        match self {
            NoGrant { .. }
            | OutOfScope { .. }
            | AccountExpired { .. }
            | AccountNotYetValid { .. } => "E1",
            ContractorExpired { .. } | ContractorNoExpiry | ContractorScopeTooWide { .. } => "E10",
            CitizenWindowClosed { .. }
            | CitizenWindowNotOpen { .. }
            | CitizenNoWindow
            | CitizenMixedRoles
            | CitizenViewOnly { .. }
            | CitizenSessionOnly => "H4",
            LiveViewStaffOnly
            | NotOnDuty
            | NotOnDutyForCamera { .. }
            | LiveViewNeedsCamera { .. } => "D5",
            AboveClearance { .. } => "E6",
            BasicInfoNeedsClearance { .. } => "A3",
            AdminNoFootage { .. }
            | AdminNoAuditLog
            | AdminAuditorCombined
            | AuditorAuditOnly { .. } => RULE_SOD,
            SamePerson {
                action: Action::ApprovePoliceRequest,
            } => "H2",
            SamePerson { .. } => "E5",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Reason::*;
        write!(f, "{}: ", self.rule())?;
        match self {
            NoGrant { action } => write!(f, "no role grants {action} (deny by default)"),
            OutOfScope { action, location } => {
                write!(f, "no role grants {action} in this scope ({location})")
            }
            AccountExpired { at } => write!(f, "account expired at {}", at.to_rfc3339()),
            AccountNotYetValid { from } => {
                write!(f, "account is not valid before {}", from.to_rfc3339())
            }
            ContractorExpired { at } => {
                write!(f, "contractor account expired at {}", at.to_rfc3339())
            }
            ContractorNoExpiry => f.write_str("contractor accounts must have an expiry date"),
            ContractorScopeTooWide { scope } => write!(
                f,
                "contractor accounts are scoped to their systems; {scope} is a whole organisation"
            ),
            CitizenWindowClosed { at } => {
                write!(f, "citizen viewing window closed at {}", at.to_rfc3339())
            }
            CitizenWindowNotOpen { from } => {
                write!(f, "citizen viewing window opens at {}", from.to_rfc3339())
            }
            CitizenNoWindow => f.write_str("citizen viewing must be time-limited"),
            CitizenMixedRoles => f.write_str("a citizen viewer account holds no other role"),
            CitizenViewOnly { action } => write!(
                f,
                "citizen viewers may only view recorded footage, never copy or download ({action})"
            ),
            CitizenSessionOnly => f.write_str(
                "a citizen viewer account gets no footage: citizens watch through a citizen view session made by a police officer (watermarked, never copied or downloaded)",
            ),
            LiveViewStaffOnly => f.write_str(
                "live view is only for staff on duty; citizen viewers see recorded footage",
            ),
            NotOnDuty => f.write_str("live view only for staff on duty; not on duty"),
            NotOnDutyForCamera { location } => {
                write!(f, "not on duty for this camera ({location})")
            }
            LiveViewNeedsCamera { location } => {
                write!(f, "live view names one camera, not {location}")
            }
            AboveClearance {
                classification,
                clearance,
            } => write!(
                f,
                "classification {classification} is above the clearance {clearance}"
            ),
            BasicInfoNeedsClearance { clearance } => write!(
                f,
                "basic information is confidential; clearance {clearance} is not enough"
            ),
            AdminNoFootage { action } => write!(
                f,
                "administrators manage accounts but do not get footage rights ({action})"
            ),
            AdminNoAuditLog => f.write_str(
                "administrators do not read the audit log of their own actions; auditors do",
            ),
            AdminAuditorCombined => {
                f.write_str("one account may not be both administrator and auditor")
            }
            AuditorAuditOnly { action } => {
                write!(f, "auditors read the audit log, nothing else ({action})")
            }
            SamePerson {
                action: Action::ApprovePoliceRequest,
            } => f.write_str("a request cannot be approved by the person who made it"),
            SamePerson { action } => {
                write!(f, "{action} needs a second, different person")
            }
        }
    }
}

impl std::error::Error for Reason {}

impl From<Reason> for Error {
    /// A denial as the crate's error: `PermissionDenied` with the reason as message.
    fn from(r: Reason) -> Error {
        Error::new(ErrorKind::PermissionDenied, r.to_string())
    }
}

/// An approval the request needs on top of an allowed decision; the workflows that collect
/// them live outside this policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// H2: approved by the principal head of the requesting agency (for other administrative
    /// departments, of the city or county police), checked with [`approve`] by a
    /// [`Role::PoliceApprover`]. The request also carries two officers' identities and the
    /// documents (H3), and for exports a recipient and legal basis (H5).
    AgencyHead,
    /// A second, different person with the same right confirms (release of a legal hold, E5).
    SecondPerson,
}

/// Which approval `role` needs, beyond an `Allow`, to carry out `action`.
pub fn needs_approval(action: Action, role: Role) -> Option<Approval> {
    match (role, action) {
        (_, Action::ReleaseHold) => Some(Approval::SecondPerson),
        (Role::PoliceOfficer, a) if a.is_footage() => Some(Approval::AgencyHead),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The decision function.

/// Decides whether `p` may do `action` on `r` at `now`. Deny by default (E1); the reason of a
/// denial names the rule.
///
/// Order: the account itself (window, E10/H4 constraints), then each role grant (the matrix in
/// `docs/access.md`, scope, D5 duty), then the labels (E6, A3). When several grants deny, the
/// most specific reason wins (duty over scope over "no role grants").
pub fn decide(p: &Principal, action: Action, r: &Resource, now: DateTime<Utc>) -> Decision {
    match evaluate(p, action, r, now) {
        Ok(_) => Decision::Allow,
        Err(reason) => Decision::Deny(reason),
    }
}

/// The second person of a two-person action: `second` confirms what `first` (an account id)
/// started — releasing a hold (E5) or approving a police request (H2). Denied if it is the same
/// person; otherwise `second` must be allowed the action on their own.
pub fn approve(
    first: &str,
    second: &Principal,
    action: Action,
    r: &Resource,
    now: DateTime<Utc>,
) -> Decision {
    if second.id == first {
        return Decision::Deny(Reason::SamePerson { action });
    }
    decide(second, action, r, now)
}

/// Account-level problems, for refusing to create or update such an account (`custos users
/// add`); [`decide`] enforces the same rules at request time.
pub fn validate(p: &Principal) -> Vec<Reason> {
    let mut out = Vec::new();
    if p.has_role(Role::CitizenViewer) && p.grants.iter().any(|g| g.role != Role::CitizenViewer) {
        out.push(Reason::CitizenMixedRoles);
    }
    if p.has_role(Role::CitizenViewer) && p.expires_at.is_none() {
        out.push(Reason::CitizenNoWindow);
    }
    if p.has_role(Role::Maintainer) && p.expires_at.is_none() {
        out.push(Reason::ContractorNoExpiry);
    }
    for g in &p.grants {
        if g.role == Role::Maintainer && g.scope.level() < Level::System {
            out.push(Reason::ContractorScopeTooWide {
                scope: g.scope.clone(),
            });
        }
    }
    if p.has_role(Role::Administrator) && p.has_role(Role::Auditor) {
        out.push(Reason::AdminAuditorCombined);
    }
    out
}

/// As [`decide`], returning the grant that allowed the action (preferring one that needs no
/// further approval).
pub(super) fn evaluate<'p>(
    p: &'p Principal,
    action: Action,
    r: &Resource,
    now: DateTime<Utc>,
) -> Result<&'p RoleGrant, Reason> {
    if p.grants.is_empty() {
        return Err(Reason::NoGrant { action });
    }
    check_account(p, now)?;
    if action == Action::ViewAuditLog
        && p.has_role(Role::Administrator)
        && p.has_role(Role::Auditor)
    {
        return Err(Reason::AdminAuditorCombined);
    }

    let mut allowed: Option<&RoleGrant> = None;
    let mut best_denial: Option<(u8, Reason)> = None;
    for g in &p.grants {
        match check_grant(g, p, action, r) {
            Ok(()) => {
                let better = match allowed {
                    None => true,
                    Some(prev) => {
                        needs_approval(action, prev.role).is_some()
                            && needs_approval(action, g.role).is_none()
                    }
                };
                if better {
                    allowed = Some(g);
                }
            }
            Err((rank, reason)) => {
                if best_denial.as_ref().is_none_or(|(r0, _)| rank > *r0) {
                    best_denial = Some((rank, reason));
                }
            }
        }
    }
    let Some(g) = allowed else {
        return Err(best_denial
            .map(|(_, reason)| reason)
            .unwrap_or(Reason::NoGrant { action }));
    };

    // E6 / A3: labels narrow what an allowed role may see.
    if r.classification > p.clearance {
        return Err(Reason::AboveClearance {
            classification: r.classification,
            clearance: p.clearance,
        });
    }
    if action.floor() > p.clearance {
        return Err(Reason::BasicInfoNeedsClearance {
            clearance: p.clearance,
        });
    }
    Ok(g)
}

/// The account's own constraints: its window, and what E10 and H4 require of it.
fn check_account(p: &Principal, now: DateTime<Utc>) -> Result<(), Reason> {
    let contractor = p.has_role(Role::Maintainer);
    let citizen = p.has_role(Role::CitizenViewer);
    if citizen && p.grants.iter().any(|g| g.role != Role::CitizenViewer) {
        return Err(Reason::CitizenMixedRoles);
    }
    if contractor && p.expires_at.is_none() {
        return Err(Reason::ContractorNoExpiry);
    }
    if citizen && p.expires_at.is_none() {
        return Err(Reason::CitizenNoWindow);
    }
    if let Some(from) = p.valid_from
        && now < from
    {
        return Err(if citizen {
            Reason::CitizenWindowNotOpen { from }
        } else {
            Reason::AccountNotYetValid { from }
        });
    }
    if let Some(at) = p.expires_at
        && now >= at
    {
        return Err(if contractor {
            Reason::ContractorExpired { at }
        } else if citizen {
            Reason::CitizenWindowClosed { at }
        } else {
            Reason::AccountExpired { at }
        });
    }
    Ok(())
}

/// One grant against the request. A denial comes with a rank: the more of the request the
/// grant matched before failing, the more telling its reason.
fn check_grant(
    g: &RoleGrant,
    p: &Principal,
    action: Action,
    r: &Resource,
) -> Result<(), (u8, Reason)> {
    let need_duty = match grant(g.role, action) {
        Grant::No => {
            return Err(match role_denial(g.role, action) {
                Some(reason) => (1, reason),
                None => (0, Reason::NoGrant { action }),
            });
        }
        Grant::InScope => false,
        Grant::OnDuty => true,
    };
    if g.role == Role::Maintainer && g.scope.level() < Level::System {
        return Err((
            3,
            Reason::ContractorScopeTooWide {
                scope: g.scope.clone(),
            },
        ));
    }
    if !g.scope.covers(&r.location) {
        return Err((
            2,
            Reason::OutOfScope {
                action,
                location: r.location.clone(),
            },
        ));
    }
    if need_duty {
        if r.location.level() != Level::Camera {
            return Err((
                4,
                Reason::LiveViewNeedsCamera {
                    location: r.location.clone(),
                },
            ));
        }
        match &p.on_duty_for {
            None => return Err((4, Reason::NotOnDuty)),
            Some(duty) if !duty.iter().any(|s| s.covers(&r.location)) => {
                return Err((
                    4,
                    Reason::NotOnDutyForCamera {
                        location: r.location.clone(),
                    },
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The named rule behind a "—" of the matrix, where there is one more specific than E1's deny
/// by default.
pub(super) fn role_denial(role: Role, action: Action) -> Option<Reason> {
    match (role, action) {
        (Role::Administrator, a) if a.is_footage() => Some(Reason::AdminNoFootage { action: a }),
        (Role::Administrator, Action::ViewAuditLog) => Some(Reason::AdminNoAuditLog),
        (Role::Auditor, a) if a != Action::ViewAuditLog => {
            Some(Reason::AuditorAuditOnly { action: a })
        }
        (Role::CitizenViewer, Action::ViewLive) => Some(Reason::LiveViewStaffOnly),
        (Role::CitizenViewer, Action::Playback) => Some(Reason::CitizenSessionOnly),
        (Role::CitizenViewer, a) => Some(Reason::CitizenViewOnly { action: a }),
        _ => None,
    }
}
