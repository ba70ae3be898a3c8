//! Policy tests. Names carry the requirement id they prove (E1, D5, E6, E10, H2, H4, A3, E5).

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

/// The camera every "in scope" request is about.
fn cam_in() -> Placement {
    Placement::new("org1", "sysA", "area1", "cam1")
}

/// Same organisation, another system.
fn cam_out() -> Placement {
    Placement::new("org1", "sysB", "area1", "cam9")
}

fn sys_a() -> Scope {
    Scope::system("org1", "sysA")
}

fn internal(p: &Placement) -> Resource {
    Resource::camera(p, Classification::Internal)
}

/// One role over system sysA, cleared to secret, on duty for area1 of sysA, valid one more day.
fn principal(role: Role) -> Principal {
    Principal::new(format!("{role}-1"))
        .with_grant(role, sys_a())
        .with_clearance(Classification::Secret)
        .with_window(None, Some(now() + Duration::days(1)))
        .on_duty_for([Scope::area("org1", "sysA", "area1")])
}

fn rule_of(d: &Decision) -> Option<&'static str> {
    d.reason().map(Reason::rule)
}

#[track_caller]
fn assert_denied(d: &Decision, rule: &str) {
    match d {
        Decision::Allow => panic!("expected a {rule} denial, got Allow"),
        Decision::Deny(r) => {
            assert_eq!(r.rule(), rule, "{r}");
            assert!(r.to_string().starts_with(&format!("{rule}: ")), "{r}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The table: role × action × (in scope, out of scope).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Allow,
    /// Denied by the rule with this id.
    Deny(&'static str),
}

const A: Expect = Expect::Allow;
const E1: Expect = Expect::Deny("E1");
const D5: Expect = Expect::Deny("D5");
const H4: Expect = Expect::Deny("H4");
const SOD: Expect = Expect::Deny("separation of duties");

use Action::*;
use Role::*;

/// role, action, camera in the grant's system, camera in another system.
#[rustfmt::skip]
const TABLE: &[(Role, Action, Expect, Expect)] = &[
    // role            action                 in scope  out of scope
    (Administrator,  ViewLive,             SOD, SOD),
    (Administrator,  Playback,             SOD, SOD),
    (Administrator,  Export,               SOD, SOD),
    (Administrator,  CopyTransmit,         SOD, SOD),
    (Administrator,  ReadBasicInfo,        A,   E1),
    (Administrator,  ManageUsers,          A,   E1),
    (Administrator,  ManageConfig,         A,   E1),
    (Administrator,  PlaceHold,            E1,  E1),
    (Administrator,  ReleaseHold,          E1,  E1),
    (Administrator,  ApprovePoliceRequest, E1,  E1),
    (Administrator,  ViewAuditLog,         SOD, SOD),
    (Administrator,  Inspect,              E1,  E1),
    (Administrator,  CreateFinding,        E1,  E1),

    (WatchOperator,  ViewLive,             A,   E1),
    (WatchOperator,  Playback,             A,   E1),
    (WatchOperator,  Export,               E1,  E1),
    (WatchOperator,  CopyTransmit,         E1,  E1),
    (WatchOperator,  ReadBasicInfo,        E1,  E1),
    (WatchOperator,  ManageUsers,          E1,  E1),
    (WatchOperator,  ManageConfig,         E1,  E1),
    (WatchOperator,  PlaceHold,            A,   E1),
    (WatchOperator,  ReleaseHold,          E1,  E1),
    (WatchOperator,  ApprovePoliceRequest, E1,  E1),
    (WatchOperator,  ViewAuditLog,         E1,  E1),
    (WatchOperator,  Inspect,              E1,  E1),
    (WatchOperator,  CreateFinding,        E1,  E1),

    (Maintainer,     ViewLive,             A,   E1),
    (Maintainer,     Playback,             E1,  E1),
    (Maintainer,     Export,               E1,  E1),
    (Maintainer,     CopyTransmit,         E1,  E1),
    (Maintainer,     ReadBasicInfo,        A,   E1),
    (Maintainer,     ManageUsers,          E1,  E1),
    (Maintainer,     ManageConfig,         A,   E1),
    (Maintainer,     PlaceHold,            E1,  E1),
    (Maintainer,     ReleaseHold,          E1,  E1),
    (Maintainer,     ApprovePoliceRequest, E1,  E1),
    (Maintainer,     ViewAuditLog,         E1,  E1),
    (Maintainer,     Inspect,              E1,  E1),
    (Maintainer,     CreateFinding,        E1,  E1),

    (PoliceOfficer,  ViewLive,             A,   E1),
    (PoliceOfficer,  Playback,             A,   E1),
    (PoliceOfficer,  Export,               A,   E1),
    (PoliceOfficer,  CopyTransmit,         A,   E1),
    (PoliceOfficer,  ReadBasicInfo,        A,   E1),
    (PoliceOfficer,  ManageUsers,          E1,  E1),
    (PoliceOfficer,  ManageConfig,         E1,  E1),
    (PoliceOfficer,  PlaceHold,            A,   E1),
    (PoliceOfficer,  ReleaseHold,          A,   E1),
    (PoliceOfficer,  ApprovePoliceRequest, E1,  E1),
    (PoliceOfficer,  ViewAuditLog,         E1,  E1),
    (PoliceOfficer,  Inspect,              E1,  E1),
    (PoliceOfficer,  CreateFinding,        E1,  E1),

    (PoliceApprover, ViewLive,             E1,  E1),
    (PoliceApprover, Playback,             E1,  E1),
    (PoliceApprover, Export,               E1,  E1),
    (PoliceApprover, CopyTransmit,         E1,  E1),
    (PoliceApprover, ReadBasicInfo,        E1,  E1),
    (PoliceApprover, ManageUsers,          E1,  E1),
    (PoliceApprover, ManageConfig,         E1,  E1),
    (PoliceApprover, PlaceHold,            E1,  E1),
    (PoliceApprover, ReleaseHold,          A,   E1),
    (PoliceApprover, ApprovePoliceRequest, A,   E1),
    (PoliceApprover, ViewAuditLog,         E1,  E1),
    (PoliceApprover, Inspect,              E1,  E1),
    (PoliceApprover, CreateFinding,        E1,  E1),

    (Inspector,      ViewLive,             E1,  E1),
    (Inspector,      Playback,             E1,  E1),
    (Inspector,      Export,               E1,  E1),
    (Inspector,      CopyTransmit,         E1,  E1),
    (Inspector,      ReadBasicInfo,        A,   E1),
    (Inspector,      ManageUsers,          E1,  E1),
    (Inspector,      ManageConfig,         E1,  E1),
    (Inspector,      PlaceHold,            E1,  E1),
    (Inspector,      ReleaseHold,          E1,  E1),
    (Inspector,      ApprovePoliceRequest, E1,  E1),
    (Inspector,      ViewAuditLog,         E1,  E1),
    (Inspector,      Inspect,              A,   E1),
    (Inspector,      CreateFinding,        A,   E1),

    (Auditor,        ViewLive,             SOD, SOD),
    (Auditor,        Playback,             SOD, SOD),
    (Auditor,        Export,               SOD, SOD),
    (Auditor,        CopyTransmit,         SOD, SOD),
    (Auditor,        ReadBasicInfo,        SOD, SOD),
    (Auditor,        ManageUsers,          SOD, SOD),
    (Auditor,        ManageConfig,         SOD, SOD),
    (Auditor,        PlaceHold,            SOD, SOD),
    (Auditor,        ReleaseHold,          SOD, SOD),
    (Auditor,        ApprovePoliceRequest, SOD, SOD),
    (Auditor,        ViewAuditLog,         A,   E1),
    (Auditor,        Inspect,              SOD, SOD),
    (Auditor,        CreateFinding,        SOD, SOD),

    (CitizenViewer,  ViewLive,             D5,  D5),
    (CitizenViewer,  Playback,             H4,  H4),
    (CitizenViewer,  Export,               H4,  H4),
    (CitizenViewer,  CopyTransmit,         H4,  H4),
    (CitizenViewer,  ReadBasicInfo,        H4,  H4),
    (CitizenViewer,  ManageUsers,          H4,  H4),
    (CitizenViewer,  ManageConfig,         H4,  H4),
    (CitizenViewer,  PlaceHold,            H4,  H4),
    (CitizenViewer,  ReleaseHold,          H4,  H4),
    (CitizenViewer,  ApprovePoliceRequest, H4,  H4),
    (CitizenViewer,  ViewAuditLog,         H4,  H4),
    (CitizenViewer,  Inspect,              H4,  H4),
    (CitizenViewer,  CreateFinding,        H4,  H4),
];

fn outcome(d: &Decision) -> Expect {
    match d {
        Decision::Allow => Expect::Allow,
        Decision::Deny(r) => Expect::Deny(r.rule()),
    }
}

/// E1, D5, E10, H4: every role × action × (in scope, out of scope) against the table; deny by
/// default, and nothing out of scope is ever allowed.
#[test]
fn e1_d5_e10_h4_policy_table() {
    // The table is complete: every role × action exactly once.
    assert_eq!(TABLE.len(), Role::ALL.len() * Action::ALL.len());
    for r in Role::ALL {
        for a in Action::ALL {
            let n = TABLE.iter().filter(|row| row.0 == r && row.1 == a).count();
            assert_eq!(n, 1, "{r} × {a} appears {n} times");
        }
    }
    let mut failures = Vec::new();
    for &(role, action, want_in, want_out) in TABLE {
        let p = principal(role);
        for (where_, cam, want) in [("in", cam_in(), want_in), ("out", cam_out(), want_out)] {
            let d = decide(&p, action, &internal(&cam), now());
            if outcome(&d) != want {
                failures.push(format!(
                    "{role} {action} {where_} of scope: want {want:?}, got {d:?}"
                ));
            }
        }
        assert_ne!(
            want_out,
            Expect::Allow,
            "{role} {action}: out of scope is never allowed"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// E1: the table and the matrix agree: "allowed in scope" exactly where the matrix grants.
#[test]
fn e1_table_matches_matrix() {
    for &(role, action, want_in, _) in TABLE {
        assert_eq!(
            want_in == Expect::Allow,
            grant(role, action) != Grant::No,
            "{role} {action}"
        );
    }
}

/// E1: the matrix in docs/access.md is the one the code decides by.
#[test]
fn e1_docs_show_the_matrix() {
    let doc = include_str!("../../../../docs/access.md");
    assert!(
        doc.contains(&matrix_markdown()),
        "docs/access.md is out of date; paste this table:\n{}",
        matrix_markdown()
    );
}

/// E1: deny by default — no roles, no rights.
#[test]
fn e1_no_roles_denied() {
    let p = Principal::new("nobody").with_clearance(Classification::Secret);
    for a in Action::ALL {
        let d = decide(&p, a, &internal(&cam_in()), now());
        assert_denied(&d, "E1");
        assert_eq!(d.reason(), Some(&Reason::NoGrant { action: a }));
    }
}

/// E1: scope narrower than the system — an area or a single camera.
#[test]
fn e1_area_and_camera_scopes() {
    let p = Principal::new("op")
        .with_grant(
            WatchOperator,
            Placement::new("org1", "sysA", "area1", "cam1").scope(),
        )
        .with_grant(PoliceOfficer, Scope::area("org1", "sysA", "area2"))
        .with_clearance(Classification::Internal);
    let same_area_other_cam = Placement::new("org1", "sysA", "area1", "cam2");
    assert!(decide(&p, Playback, &internal(&cam_in()), now()).is_allowed());
    assert_denied(
        &decide(&p, Playback, &internal(&same_area_other_cam), now()),
        "E1",
    );
    let area2 = Placement::new("org1", "sysA", "area2", "camX");
    assert!(decide(&p, Export, &internal(&area2), now()).is_allowed());
    assert_denied(&decide(&p, Export, &internal(&cam_in()), now()), "E1");
    // A request about the whole system is not covered by a narrower grant.
    let whole = Resource::at(sys_a(), Classification::Internal);
    assert_denied(&decide(&p, Playback, &whole, now()), "E1");
}

/// E1: the out-of-scope reason says so and names the location.
#[test]
fn e1_out_of_scope_reason_names_the_location() {
    let d = decide(
        &principal(PoliceOfficer),
        Export,
        &internal(&cam_out()),
        now(),
    );
    assert_eq!(
        d.reason().unwrap().to_string(),
        "E1: no role grants export in this scope (org1/sysB/area1/cam9)"
    );
}

/// E1: an ordinary account past its end date.
#[test]
fn e1_expired_account_denied() {
    let mut p = principal(PoliceOfficer);
    p.expires_at = Some(now());
    let d = decide(&p, Playback, &internal(&cam_in()), now());
    assert_denied(&d, "E1");
    assert!(matches!(d.reason(), Some(Reason::AccountExpired { .. })));
    p.valid_from = Some(now() + Duration::hours(1));
    p.expires_at = None;
    assert!(matches!(
        decide(&p, Playback, &internal(&cam_in()), now()).reason(),
        Some(Reason::AccountNotYetValid { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Separation of duties.

/// E1, separation of duties: an administrator manages accounts but cannot export footage.
#[test]
fn e1_admin_export_denied_separation_of_duties() {
    let p = Principal::new("admin")
        .with_grant(Administrator, Scope::organisation("org1"))
        .with_clearance(Classification::Secret)
        .on_duty_for([Scope::organisation("org1")]);
    let r = internal(&cam_in());
    let d = decide(&p, Export, &r, now());
    assert_denied(&d, "separation of duties");
    assert_eq!(
        d.reason().unwrap().to_string(),
        "separation of duties: administrators manage accounts but do not get footage rights \
         (export)"
    );
    for a in [ViewLive, Playback, CopyTransmit] {
        assert_denied(&decide(&p, a, &r, now()), "separation of duties");
    }
    let org = Resource::at(Scope::organisation("org1"), Classification::Internal);
    assert!(decide(&p, ManageUsers, &org, now()).is_allowed());
    assert!(permit::<act::Export>(&p, &r, now()).is_err());
}

/// E2/E4, separation of duties: auditors read the audit log; an account holding both
/// administrator and auditor may not.
#[test]
fn e1_auditor_only_audit_log_and_not_with_admin() {
    let org = Resource::at(Scope::organisation("org1"), Classification::Internal);
    let auditor = Principal::new("aud")
        .with_grant(Auditor, Scope::organisation("org1"))
        .with_clearance(Classification::Confidential);
    assert!(decide(&auditor, ViewAuditLog, &org, now()).is_allowed());
    for a in Action::ALL.into_iter().filter(|a| *a != ViewAuditLog) {
        assert_denied(&decide(&auditor, a, &org, now()), "separation of duties");
    }
    let both = auditor
        .clone()
        .with_grant(Administrator, Scope::organisation("org1"));
    let d = decide(&both, ViewAuditLog, &org, now());
    assert_eq!(d.reason(), Some(&Reason::AdminAuditorCombined));
    assert!(validate(&both).contains(&Reason::AdminAuditorCombined));
}

// ---------------------------------------------------------------------------------------------
// E10: contractors.

fn contractor() -> Principal {
    Principal::new("contractor")
        .with_grant(Maintainer, sys_a())
        .with_clearance(Classification::Confidential)
        .with_window(None, Some(now() + Duration::days(30)))
        .on_duty_for([sys_a()])
}

/// E10: a contractor account past its end date is denied everything.
#[test]
fn e10_expired_contractor_denied() {
    let p = contractor();
    let r = internal(&cam_in());
    assert!(decide(&p, ManageConfig, &r, now()).is_allowed());
    let later = now() + Duration::days(30);
    for a in Action::ALL {
        let d = decide(&p, a, &r, later);
        assert_denied(&d, "E10");
        assert!(
            matches!(d.reason(), Some(Reason::ContractorExpired { .. })),
            "{d:?}"
        );
    }
    assert!(
        decide(&p, ManageConfig, &r, later)
            .reason()
            .unwrap()
            .to_string()
            .starts_with("E10: contractor account expired at 2025-07-01T12:00:00")
    );
}

/// E10: a contractor outside their system is denied, even with an organisation-wide duty.
#[test]
fn e10_contractor_out_of_their_system_denied() {
    let mut p = contractor();
    p.on_duty_for = Some([Scope::organisation("org1")].into());
    for a in [ViewLive, ManageConfig, ReadBasicInfo] {
        assert!(
            decide(&p, a, &internal(&cam_in()), now()).is_allowed(),
            "{a}"
        );
        assert_denied(&decide(&p, a, &internal(&cam_out()), now()), "E1");
    }
    let other_system = Resource::at(Scope::system("org1", "sysB"), Classification::Internal);
    assert_denied(&decide(&p, ManageConfig, &other_system, now()), "E1");
}

/// E10: contractor accounts must expire and be scoped to systems, not organisations.
#[test]
fn e10_contractor_must_expire_and_be_system_scoped() {
    let mut p = contractor();
    p.expires_at = None;
    assert_denied(
        &decide(&p, ManageConfig, &internal(&cam_in()), now()),
        "E10",
    );
    assert_eq!(validate(&p), vec![Reason::ContractorNoExpiry]);

    let wide = Principal::new("wide")
        .with_grant(Maintainer, Scope::organisation("org1"))
        .with_clearance(Classification::Confidential)
        .with_window(None, Some(now() + Duration::days(1)));
    let d = decide(&wide, ManageConfig, &internal(&cam_in()), now());
    assert_denied(&d, "E10");
    assert!(matches!(
        d.reason(),
        Some(Reason::ContractorScopeTooWide { .. })
    ));
    assert_eq!(validate(&wide).len(), 1);
    assert!(validate(&contractor()).is_empty());
}

// ---------------------------------------------------------------------------------------------
// D5: live view only on duty.

/// D5: a watch operator not on duty, or on duty elsewhere, cannot watch the camera live; on duty
/// for its area they can.
#[test]
fn d5_watch_operator_live_view_denied_when_not_on_duty_for_camera() {
    let mut p = principal(WatchOperator);
    let r = internal(&cam_in());
    assert!(decide(&p, ViewLive, &r, now()).is_allowed());

    p.on_duty_for = Some([Scope::area("org1", "sysA", "area2")].into());
    let d = decide(&p, ViewLive, &r, now());
    assert_denied(&d, "D5");
    assert_eq!(
        d.reason().unwrap().to_string(),
        "D5: not on duty for this camera (org1/sysA/area1/cam1)"
    );
    // Playback is not live view: D5 does not apply.
    assert!(decide(&p, Playback, &r, now()).is_allowed());

    p.on_duty_for = None;
    assert_eq!(
        decide(&p, ViewLive, &r, now()).reason(),
        Some(&Reason::NotOnDuty)
    );

    p.on_duty_for = Some([cam_in().scope()].into());
    assert!(decide(&p, ViewLive, &r, now()).is_allowed());
    // Live view names a camera, not a whole area.
    let area = Resource::at(
        Scope::area("org1", "sysA", "area1"),
        Classification::Internal,
    );
    assert_denied(&decide(&p, ViewLive, &area, now()), "D5");
}

/// D5: being on duty does not widen the role's scope.
#[test]
fn d5_duty_does_not_widen_scope() {
    let mut p = principal(WatchOperator);
    p.on_duty_for = Some([Scope::organisation("org1")].into());
    assert_denied(&decide(&p, ViewLive, &internal(&cam_out()), now()), "E1");
}

/// D5 over E1: with two grants, the reason names the rule that came closest to allowing.
#[test]
fn d5_most_specific_reason_wins() {
    let p = Principal::new("multi")
        .with_grant(Inspector, Scope::organisation("org1"))
        .with_grant(WatchOperator, sys_a())
        .with_clearance(Classification::Secret);
    assert_eq!(
        decide(&p, ViewLive, &internal(&cam_in()), now()).reason(),
        Some(&Reason::NotOnDuty)
    );
    assert_denied(&decide(&p, ViewLive, &internal(&cam_out()), now()), "E1");
}

// ---------------------------------------------------------------------------------------------
// E6 / A3: labels.

/// E6: footage labelled above the principal's clearance is denied even in scope and on duty.
#[test]
fn e6_classification_above_clearance_denied() {
    let mut p = principal(PoliceOfficer);
    p.clearance = Classification::Internal;
    let secret = Resource::camera(&cam_in(), Classification::Secret);
    for a in [ViewLive, Playback, Export, CopyTransmit] {
        let d = decide(&p, a, &secret, now());
        assert_denied(&d, "E6");
        assert_eq!(
            d.reason().unwrap().to_string(),
            "E6: classification secret is above the clearance internal"
        );
    }
    assert!(decide(&p, Playback, &internal(&cam_in()), now()).is_allowed());
    let mut w = principal(WatchOperator);
    w.clearance = Classification::Confidential;
    assert_denied(&decide(&w, ViewLive, &secret, now()), "E6");
}

/// A3, E6: basic information is confidential whatever its label says.
#[test]
fn e6_a3_basic_information_needs_confidential_clearance() {
    let mut p = principal(Inspector);
    p.clearance = Classification::Internal;
    let public_label = Resource::camera(&cam_in(), Classification::Public);
    assert_denied(&decide(&p, ReadBasicInfo, &public_label, now()), "A3");
    // The inspector's other rights do not read basic information.
    assert!(decide(&p, Inspect, &public_label, now()).is_allowed());
    p.clearance = Classification::Confidential;
    assert!(decide(&p, ReadBasicInfo, &public_label, now()).is_allowed());
}

// ---------------------------------------------------------------------------------------------
// H4: citizens.

fn citizen() -> Principal {
    Principal::new("citizen")
        .with_grant(CitizenViewer, cam_in().scope())
        .with_clearance(Classification::Internal)
        .with_window(
            Some(now() - Duration::hours(1)),
            Some(now() + Duration::hours(2)),
        )
}

/// H4: a citizen viewer account never gets footage: no raw playback (a citizen watches only
/// through a watermarked citizen view session), no export, copy or download, no live (D5).
#[test]
fn h4_citizen_viewer_export_denied() {
    let p = citizen();
    let r = internal(&cam_in());
    let d = decide(&p, Playback, &r, now());
    assert_denied(&d, "H4");
    assert!(matches!(d.reason(), Some(Reason::CitizenSessionOnly)));
    for a in [Export, CopyTransmit] {
        let d = decide(&p, a, &r, now());
        assert_denied(&d, "H4");
        assert!(
            d.reason()
                .unwrap()
                .to_string()
                .contains("never copy or download")
        );
    }
    assert_denied(&decide(&p, ViewLive, &r, now()), "D5");
    assert!(permit::<act::Export>(&p, &r, now()).is_err());
    // Nor on another camera.
    assert_denied(
        &decide(
            &p,
            Playback,
            &internal(&Placement::new("org1", "sysA", "area1", "cam2")),
            now(),
        ),
        "H4",
    );
}

/// H4: viewing is time-limited: denied before the window opens and after it closes.
#[test]
fn h4_citizen_viewer_view_denied_after_window() {
    let p = citizen();
    let r = internal(&cam_in());
    let d = decide(&p, Playback, &r, now() + Duration::hours(2));
    assert_denied(&d, "H4");
    assert!(matches!(
        d.reason(),
        Some(Reason::CitizenWindowClosed { .. })
    ));
    let d = decide(&p, Playback, &r, now() - Duration::hours(2));
    assert!(matches!(
        d.reason(),
        Some(Reason::CitizenWindowNotOpen { .. })
    ));
    // Inside the window the account still gets no raw footage (citizen view sessions only).
    assert!(matches!(
        decide(&p, Playback, &r, now() + Duration::minutes(119)).reason(),
        Some(Reason::CitizenSessionOnly)
    ));
}

/// H4: a citizen account must have an end and hold no other role.
#[test]
fn h4_citizen_account_must_be_time_limited_and_alone() {
    let mut p = citizen();
    p.expires_at = None;
    assert_eq!(
        decide(&p, Playback, &internal(&cam_in()), now()).reason(),
        Some(&Reason::CitizenNoWindow)
    );
    let mixed = citizen().with_grant(PoliceOfficer, sys_a());
    assert_eq!(
        decide(&mixed, Export, &internal(&cam_in()), now()).reason(),
        Some(&Reason::CitizenMixedRoles)
    );
    assert_eq!(validate(&mixed), vec![Reason::CitizenMixedRoles]);
}

// ---------------------------------------------------------------------------------------------
// Approvals (H2, E5) and permits.

/// H2, E5: which approvals come on top of an Allow.
#[test]
fn h2_e5_needs_approval() {
    for a in [ViewLive, Playback, Export, CopyTransmit] {
        assert_eq!(
            needs_approval(a, PoliceOfficer),
            Some(Approval::AgencyHead),
            "{a}"
        );
        assert_eq!(needs_approval(a, WatchOperator), None, "{a}");
    }
    assert_eq!(needs_approval(ReadBasicInfo, PoliceOfficer), None);
    for r in Role::ALL {
        assert_eq!(needs_approval(ReleaseHold, r), Some(Approval::SecondPerson));
    }
}

/// E5: releasing a hold needs a second, different person who is allowed to release it.
#[test]
fn e5_release_hold_needs_a_different_second_person() {
    let officer = principal(PoliceOfficer);
    let approver = principal(PoliceApprover);
    let r = internal(&cam_in());
    assert!(decide(&officer, ReleaseHold, &r, now()).is_allowed());
    let d = approve(&officer.id, &officer, ReleaseHold, &r, now());
    assert_denied(&d, "E5");
    assert_eq!(
        d.reason().unwrap().to_string(),
        "E5: release_hold needs a second, different person"
    );
    assert!(approve(&officer.id, &approver, ReleaseHold, &r, now()).is_allowed());
    // The second person must hold the right themselves.
    let operator = principal(WatchOperator);
    assert_denied(
        &approve(&officer.id, &operator, ReleaseHold, &r, now()),
        "E1",
    );
}

/// H2: a police request is approved by an approver who is not its requester.
#[test]
fn h2_police_request_not_approved_by_requester() {
    let approver = principal(PoliceApprover);
    let r = internal(&cam_in());
    assert_denied(
        &approve(&approver.id, &approver, ApprovePoliceRequest, &r, now()),
        "H2",
    );
    assert!(approve("officer-7", &approver, ApprovePoliceRequest, &r, now()).is_allowed());
    assert_denied(
        &approve(
            "officer-7",
            &principal(PoliceOfficer),
            ApprovePoliceRequest,
            &r,
            now(),
        ),
        "E1",
    );
}

/// E1: a Permit<A> exists only for an allowed action, and carries what is still needed.
#[test]
fn e1_permit_only_for_allowed_actions() {
    let officer = principal(PoliceOfficer);
    let r = internal(&cam_in());
    let p: Permit<act::Export> = permit(&officer, &r, now()).unwrap();
    assert_eq!(p.action(), Export);
    assert_eq!(p.principal(), officer.id);
    assert_eq!(p.role(), PoliceOfficer);
    assert_eq!(p.location(), &cam_in().scope());
    assert_eq!(p.needs_approval(), Some(Approval::AgencyHead));
    assert_eq!(p.decided_at(), now());

    let err = permit::<act::Export>(&officer, &internal(&cam_out()), now()).unwrap_err();
    assert_eq!(err.rule(), "E1");
    let e: crate::Error = err.into();
    assert_eq!(e.kind(), crate::ErrorKind::PermissionDenied);

    // With two roles allowing, the permit prefers the one needing no approval.
    let both = officer.clone().with_grant(WatchOperator, sys_a());
    let p = permit::<act::Playback>(&both, &r, now()).unwrap();
    assert_eq!(p.role(), WatchOperator);
    assert_eq!(p.needs_approval(), None);
}

// ---------------------------------------------------------------------------------------------
// Every denial names its rule.

/// E1, D5, E6, E10, H4: over many principals, actions, resources and times, every Deny's text
/// starts with the id of the rule it enforces.
#[test]
fn e1_every_deny_names_its_rule() {
    const RULES: &[&str] = &[
        "E1",
        "D5",
        "E6",
        "E10",
        "H4",
        "A3",
        "E5",
        "H2",
        "separation of duties",
    ];
    let mut principals: Vec<Principal> = Role::ALL.into_iter().map(principal).collect();
    principals.extend([contractor(), citizen(), Principal::new("nobody")]);
    for r in Role::ALL {
        let mut p = principal(r);
        p.clearance = Classification::Public;
        p.on_duty_for = None;
        principals.push(p);
    }
    let resources = [
        internal(&cam_in()),
        internal(&cam_out()),
        Resource::camera(&cam_in(), Classification::Secret),
        Resource::at(sys_a(), Classification::Public),
        Resource::at(Scope::organisation("org1"), Classification::Public),
    ];
    let times = [now() - Duration::days(1), now(), now() + Duration::days(40)];
    let mut denials = 0;
    for p in &principals {
        for a in Action::ALL {
            for r in &resources {
                for t in times {
                    for d in [decide(p, a, r, t), approve(&p.id, p, a, r, t)] {
                        if let Some(reason) = d.reason() {
                            denials += 1;
                            let rule = reason.rule();
                            assert!(RULES.contains(&rule), "{reason}");
                            assert!(reason.to_string().starts_with(&format!("{rule}: ")));
                            assert!(reason.to_string().len() > rule.len() + 10);
                        }
                    }
                }
            }
        }
    }
    assert!(denials > 1000);
    assert_eq!(rule_of(&Decision::Allow), None);
}

/// E1: role and action names as the CLI and API spell them (`custos users add --role ...`).
#[test]
fn e1_role_and_action_names_parse() {
    for r in Role::ALL {
        assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        assert!(!r.zh().is_empty());
    }
    for a in Action::ALL {
        assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
    }
    assert_eq!("police-officer".parse::<Role>().unwrap(), PoliceOfficer);
    assert!("root".parse::<Role>().is_err());
    assert!("delete_footage".parse::<Action>().is_err());
}
