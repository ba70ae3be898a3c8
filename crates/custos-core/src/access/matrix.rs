//! The role × action matrix: the one place that says which role may do what.
//! [`decide`](super::decide) reads it; `docs/access.md` shows it as rendered by
//! [`matrix_markdown`] (a test keeps the two equal).

use super::policy::{Action, Approval, Role, needs_approval, role_denial};

/// What a role's grant gives for one action, inside the grant's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grant {
    /// Denied (deny by default, E1).
    No,
    /// Allowed within the grant's scope.
    InScope,
    /// Allowed within the grant's scope, and only for cameras the person is on duty for (D5).
    OnDuty,
}

/// The matrix. Anything not listed is [`Grant::No`].
pub fn grant(role: Role, action: Action) -> Grant {
    use Action::*;
    use Grant::*;
    use Role::*;
    match (role, action) {
        // Separation of duties: accounts and configuration; configuration includes the
        // devices' address codes and positions, so basic information too (A3, audited).
        (Administrator, ManageUsers | ManageConfig | ReadBasicInfo) => InScope,

        // D5: live only while on duty for the device; D6: review recordings and hold what
        // is reported to the police.
        (WatchOperator, ViewLive) => OnDuty,
        (WatchOperator, Playback | PlaceHold) => InScope,

        // E10: contractors maintain their systems; checking a picture ("keep it clear", D4) is
        // live view under an open work order, which sets `on_duty_for`.
        (Maintainer, ViewLive) => OnDuty,
        (Maintainer, ManageConfig | ReadBasicInfo) => InScope,

        // H1: police obtain footage for enforcement; H2 approval is required on top
        // (`needs_approval`), including for a direct live connection.
        (PoliceOfficer, ViewLive | Playback | Export | CopyTransmit) => InScope,
        (PoliceOfficer, ReadBasicInfo | PlaceHold | ReleaseHold) => InScope,

        // H2: the principal head approves; with an officer, the second person of a release.
        (PoliceApprover, ApprovePoliceRequest | ReleaseHold) => InScope,

        // J1: inspections within the jurisdiction; no footage.
        (Inspector, ReadBasicInfo | Inspect | CreateFinding) => InScope,

        // E2/E4: auditors read the audit log, nothing else.
        (Auditor, ViewAuditLog) => InScope,

        // H4: a citizen never gets raw footage with an account (no request, no watermark);
        // the applicant watches through a citizen view session made by a police officer
        // (custos-server citizen.rs), watermarked on the server. `citizen_viewer` has nothing.
        _ => No,
    }
}

/// One cell of the matrix as shown in `docs/access.md`.
pub fn cell(role: Role, action: Action) -> String {
    match grant(role, action) {
        Grant::No => match role_denial(role, action) {
            Some(reason) => format!("— ({})", short_rule(reason.rule())),
            None => "—".to_owned(),
        },
        Grant::OnDuty => "✓ on duty (D5)".to_owned(),
        Grant::InScope => match needs_approval(action, role) {
            Some(Approval::AgencyHead) => "✓ + approval (H2)".to_owned(),
            Some(Approval::SecondPerson) => "✓ + 2nd person".to_owned(),
            None => "✓".to_owned(),
        },
    }
}

fn short_rule(rule: &str) -> &str {
    if rule == super::policy::RULE_SOD {
        "SoD"
    } else {
        rule
    }
}

/// The matrix as a Markdown table: one row per action, one column per role.
pub fn matrix_markdown() -> String {
    let mut s = String::from("| action |");
    for r in Role::ALL {
        s.push_str(&format!(" {} |", r.as_str()));
    }
    s.push_str("\n|---|");
    for _ in Role::ALL {
        s.push_str("---|");
    }
    s.push('\n');
    for a in Action::ALL {
        s.push_str(&format!("| `{}` |", a.as_str()));
        for r in Role::ALL {
            s.push_str(&format!(" {} |", cell(r, a)));
        }
        s.push('\n');
    }
    s
}
