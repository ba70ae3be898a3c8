//! The rules of the procedure as pure functions (no I/O, "now" passed in). Every refusal is a
//! [`custos_core::Error`] whose message starts with the requirement id and says what to do.

use custos_core::{Error, ErrorKind, Result, Time90k};

use crate::model::*;

fn denied(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::PermissionDenied, msg)
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

/// The state machine: where `step` leads from `state`, or why it cannot be taken.
///
/// | from \ step | submit | approve | reject | release | close |
/// |---|---|---|---|---|---|
/// | drafted   | submitted | — | — | — | closed |
/// | submitted | — | approved | rejected | — | closed |
/// | approved  | — | — | rejected | released | closed |
/// | rejected  | — | — | — | — | closed |
/// | released  | — | — | — | — | closed |
/// | closed    | — | — | — | — | — |
pub fn next(state: State, step: Step) -> Result<State> {
    use State::*;
    use Step::*;
    let to = match (state, step) {
        (Drafted, Submit) => Some(Submitted),
        (Submitted, Approve) => Some(Approved),
        // The approver refuses, or the unit refuses after approval (H3: if the procedure is
        // not met, the unit may refuse).
        (Submitted | Approved, Reject) => Some(Rejected),
        (Approved, Release) => Some(Released),
        (Drafted | Submitted | Approved | Rejected | Released, Close) => Some(Closed),
        _ => None,
    };
    to.ok_or_else(|| {
        Error::new(
            ErrorKind::FailedPrecondition,
            format!(
                "a {} request cannot be {}: {}",
                state.as_str(),
                past(step),
                match state {
                    Drafted => "submit it first",
                    Submitted => "it waits for the approver",
                    Approved => "it waits for the unit's operator to release or refuse it",
                    Rejected => "it was refused; draft a new request",
                    Released => "it was released already; close it when done",
                    Closed => "it is closed; draft a new request",
                }
            ),
        )
    })
}

fn past(s: Step) -> &'static str {
    match s {
        Step::Submit => "submitted",
        Step::Approve => "approved",
        Step::Reject => "rejected",
        Step::Release => "released",
        Step::Close => "closed",
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A drafted request is complete and lawful on its face (H1, H2, H3, H5).
pub fn check_new(r: &NewRequest) -> Result<()> {
    if r.organ.trim().is_empty() {
        return Err(invalid(
            "H1: name the requesting organ (e.g. 某市公安局某分局)",
        ));
    }
    if !r.organ_type.may_request() {
        return Err(denied(format!(
            "H1: {} is not an organ that may obtain footage; only investigative, procuratorial and judicial organs, police, state security and county-level government in emergencies may",
            r.organ
        )));
    }
    if r.kind.is_copy() && !r.organ_type.may_receive_copies() {
        return Err(denied(format!(
            "H5: footage goes to no unit other than police, state security and other law-enforcement organs; a {} ({}) may ask to view, not to {}",
            r.organ_type.as_str(),
            r.organ,
            r.kind.as_str()
        )));
    }
    if r.kind == Kind::Live && !r.organ_type.approved_by_own_head() {
        return Err(denied(
            "H2: a direct live connection is for police and state security, with their head's approval",
        ));
    }
    if r.purpose.trim().is_empty() {
        return Err(invalid("H3: state the purpose of the request"));
    }
    if r.legal_basis.trim().is_empty() {
        return Err(invalid(
            "H3: state the legal basis (e.g. the case file or the legal document's number)",
        ));
    }
    if r.scope.is_empty() {
        return Err(invalid(
            "name at least one camera and time range (camera, from, to)",
        ));
    }
    for c in &r.scope {
        if c.camera.trim().is_empty() {
            return Err(invalid("a camera range without a camera name"));
        }
        if c.to <= c.from {
            return Err(invalid(format!(
                "camera {}: `to` {} is not after `from` {}",
                c.camera,
                c.to.to_rfc3339(),
                c.from.to_rfc3339()
            )));
        }
    }
    check_officers(&r.officers)
}

/// H3: at least two officers, each with a name and a work ID, all distinct.
pub fn check_officers(officers: &[Officer]) -> Result<()> {
    if officers.len() < 2 {
        return Err(denied(format!(
            "H3: at least two officers with work IDs must be present; the request names {}",
            officers.len()
        )));
    }
    for o in officers {
        if o.name.trim().is_empty() || o.work_id.trim().is_empty() {
            return Err(invalid(
                "H3: every officer needs a name and a work-ID number",
            ));
        }
    }
    for (i, a) in officers.iter().enumerate() {
        for b in &officers[i + 1..] {
            if norm(&a.work_id) == norm(&b.work_id) || norm(&a.name) == norm(&b.name) {
                return Err(denied(format!(
                    "H3: the officers must be two distinct persons; {} ({}) is named twice",
                    b.name, b.work_id
                )));
            }
        }
    }
    Ok(())
}

/// Whether `who` (an account name or a work ID) is one of the request's officers.
fn is_officer(r: &Request, name: &str, work_id: Option<&str>) -> bool {
    r.fields.officers.iter().any(|o| {
        norm(&o.name) == norm(name)
            || norm(&o.work_id) == norm(name)
            || work_id.is_some_and(|w| norm(&o.work_id) == norm(w))
    })
}

/// H1, H2: a view, copy or retrieve request is for footage already recorded: every range ends
/// by `now`. Otherwise a grant over `[now, now + 30 days]` would let an organ barred from live
/// connections (H2) watch the camera as it records, by polling playback.
pub fn check_recorded(f: &NewRequest, now: Time90k) -> Result<()> {
    if f.kind == Kind::Live {
        return Ok(());
    }
    for c in &f.scope {
        if c.to > now {
            return Err(invalid(format!(
                "H2: camera {}: a {} request is for recorded footage, so its range must end by now ({}), not at {}; watching as it records is a live request (police and state security only)",
                c.camera,
                f.kind.as_str(),
                now.to_rfc3339(),
                c.to.to_rfc3339()
            )));
        }
    }
    Ok(())
}

/// H3: a request is submitted with a unit letter or a legal document attached; H2: its ranges
/// are recorded footage at `now` ([`check_recorded`]).
pub fn check_submit(r: &Request, docs: &[Document], now: Time90k) -> Result<()> {
    next(r.state, Step::Submit)?;
    check_new(&r.fields)?;
    check_recorded(&r.fields, now)?;
    if !docs.iter().any(|d| d.kind.is_mandate()) {
        return Err(denied(
            "H3: attach the unit letter or the legal document before submitting (custos request attach … --kind unit_letter|legal_document)",
        ));
    }
    Ok(())
}

/// H2: `a` may approve `r`: not its author, not one of its officers, and the principal head
/// with jurisdiction — of the requesting agency itself for police and state security, of the
/// city or county police for every other organ.
pub fn check_approval(r: &Request, a: &Approval) -> Result<()> {
    next(r.state, Step::Approve)?;
    if a.work_id.trim().is_empty() || a.unit.trim().is_empty() {
        return Err(invalid(
            "H2: the approver gives their work ID and the agency they head",
        ));
    }
    if norm(&a.by) == norm(&r.created_by) {
        return Err(denied(
            "H2: a request cannot be approved by the account that drafted it",
        ));
    }
    if is_officer(r, &a.by, Some(&a.work_id)) {
        return Err(denied(format!(
            "H2: the approver must not be one of the request's officers ({} / {})",
            a.by, a.work_id
        )));
    }
    if r.fields.organ_type.approved_by_own_head() {
        if norm(&a.unit) != norm(&r.fields.organ) {
            return Err(denied(format!(
                "H2: a {} request is approved by the principal head of the requesting agency ({}), not of {}",
                r.fields.organ_type.as_str(),
                r.fields.organ,
                a.unit
            )));
        }
    } else if a.unit_type != OrganType::Police {
        return Err(denied(format!(
            "H2: a request of a {} is approved by the principal head of the city or county police, not of a {}",
            r.fields.organ_type.as_str(),
            a.unit_type.as_str()
        )));
    }
    Ok(())
}

/// H3, H5: the unit's operator `by` may release `r` with a grant ending at `until`.
pub fn check_release(
    r: &Request,
    by: &str,
    docs: &[Document],
    now: Time90k,
    until: Time90k,
) -> Result<()> {
    next(r.state, Step::Release)?;
    let Some(a) = &r.approval else {
        return Err(denied("H2: the request has no approval"));
    };
    if norm(by) == norm(&r.created_by) || norm(by) == norm(&a.by) || is_officer(r, by, None) {
        return Err(denied(format!(
            "H3: the unit's operator who releases ({by}) must be neither the requesting account, nor an officer, nor the approver"
        )));
    }
    if !r.fields.organ_type.may_receive_copies() && r.fields.kind.is_copy() {
        return Err(denied(format!(
            "H5: footage goes to no unit other than police, state security and other law-enforcement organs; {} ({}) may not receive a {}",
            r.fields.organ,
            r.fields.organ_type.as_str(),
            r.fields.kind.as_str()
        )));
    }
    if !r.fields.organ_type.may_request() {
        return Err(denied(format!(
            "H1: {} is not an organ that may obtain footage",
            r.fields.organ
        )));
    }
    check_officers(&r.fields.officers)?;
    check_recorded(&r.fields, now)?;
    if !docs.iter().any(|d| d.kind.is_mandate()) {
        return Err(denied(
            "H3: no unit letter or legal document is attached; the unit may refuse",
        ));
    }
    if until <= now {
        return Err(invalid(
            "the grant must end in the future (give --valid-for, e.g. 24h)",
        ));
    }
    Ok(())
}

/// H3: whether `p` is the unit's operator for the camera `res` and so may release its
/// footage: judged on `p`'s `watch_operator` grants alone, so an officer or approver grant of
/// the same account, or a watch-operator grant over other cameras, does not count.
pub fn may_release(
    p: &custos_core::access::Principal,
    res: &custos_core::access::Resource,
    now: Time90k,
) -> bool {
    use custos_core::access::{Action, Principal, Role, decide};
    let operator = Principal {
        grants: p
            .grants
            .iter()
            .filter(|g| g.role == Role::WatchOperator)
            .cloned()
            .collect(),
        ..p.clone()
    };
    decide(&operator, Action::Playback, res, now.to_datetime()).is_allowed()
}

/// What a footage read needs from a released request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needed {
    /// Playback, view.mp4, HLS, thumbnails.
    View,
    /// Export / download.
    Copy,
    /// Live connection.
    Live,
}

/// Whether released request `r` lets account `who` do `need` on `camera` over `[from, to)` at
/// `now` (for live, `[from, to)` is `[now, now]`). Nobody but the requesting account is
/// covered (H5). A view or copy never reaches past the moment of release, whatever the
/// stored ranges say (H2: only a live request watches what is being recorded).
pub fn covers(
    r: &Request,
    who: &str,
    need: Needed,
    camera: &str,
    from: Time90k,
    to: Time90k,
    now: Time90k,
) -> bool {
    let recorded = need == Needed::Live || r.release.as_ref().is_some_and(|rel| to <= rel.at);
    recorded
        && grant_open(r, who, need, camera, now)
        && r.fields
            .scope
            .iter()
            .any(|c| c.camera == camera && c.from <= from && to <= c.to)
}

/// Whether released request `r` still lets `who` do `need` on some range of `camera` at
/// `now` (for reads whose bytes are already limited to a registered range, e.g. HLS segments).
pub fn grant_open(r: &Request, who: &str, need: Needed, camera: &str, now: Time90k) -> bool {
    let Some(rel) = &r.release else {
        return false;
    };
    if r.state != State::Released || r.created_by != who || now >= rel.until || now < rel.at {
        return false;
    }
    let kind_ok = match need {
        Needed::View => matches!(r.fields.kind, Kind::View | Kind::Copy | Kind::Retrieve),
        Needed::Copy => r.fields.kind.is_copy(),
        Needed::Live => r.fields.kind == Kind::Live,
    };
    kind_ok && r.fields.scope.iter().any(|c| c.camera == camera)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Time90k {
        Time90k(1_800_000_000 * 90_000 + s * 90_000)
    }

    fn officers() -> Vec<Officer> {
        vec![
            Officer {
                name: "张伟".into(),
                work_id: "110101".into(),
            },
            Officer {
                name: "李娜".into(),
                work_id: "110102".into(),
            },
        ]
    }

    fn new_req(organ_type: OrganType, kind: Kind) -> NewRequest {
        NewRequest {
            organ: "某市公安局某分局".into(),
            organ_type,
            purpose: "案件侦查".into(),
            legal_basis: "调取证据通知书 2026-001".into(),
            case: Some("A-1".into()),
            kind,
            scope: vec![CameraRange {
                camera: "gate".into(),
                from: t(0),
                to: t(600),
            }],
            officers: officers(),
        }
    }

    fn req(state: State, organ_type: OrganType, kind: Kind) -> Request {
        Request {
            id: 1,
            state,
            fields: new_req(organ_type, kind),
            created_by: "police1".into(),
            created_at: t(0),
            submitted_at: None,
            approval: None,
            refusal: None,
            release: None,
            closed_at: None,
            closed_by: None,
            ledger: vec![],
        }
    }

    fn approval(by: &str, work_id: &str, unit: &str, unit_type: OrganType) -> Approval {
        Approval {
            by: by.into(),
            work_id: work_id.into(),
            unit: unit.into(),
            unit_type,
            at: t(10),
            note: None,
        }
    }

    fn letter() -> Vec<Document> {
        vec![Document {
            id: 1,
            kind: DocumentKind::UnitLetter,
            title: "介绍信".into(),
            sha256: "00".into(),
            bytes: 1,
            added_by: "police1".into(),
            added_at: t(1),
        }]
    }

    /// H1–H3: the whole state-machine table — every (state, step) pair, allowed or refused.
    #[test]
    fn h1_h3_state_machine_table() {
        use State::*;
        use Step::*;
        let table: &[(State, [Option<State>; 5])] = &[
            // submit, approve, reject, release, close
            (Drafted, [Some(Submitted), None, None, None, Some(Closed)]),
            (
                Submitted,
                [None, Some(Approved), Some(Rejected), None, Some(Closed)],
            ),
            (
                Approved,
                [None, None, Some(Rejected), Some(Released), Some(Closed)],
            ),
            (Rejected, [None, None, None, None, Some(Closed)]),
            (Released, [None, None, None, None, Some(Closed)]),
            (Closed, [None, None, None, None, None]),
        ];
        assert_eq!(table.len(), State::ALL.len());
        for (from, row) in table {
            for (step, want) in [Submit, Approve, Reject, Release, Close].iter().zip(row) {
                let got = next(*from, *step);
                match want {
                    Some(to) => assert_eq!(got.unwrap(), *to, "{from} --{step}-->"),
                    None => {
                        let e = got.expect_err(&format!("{from} --{step}--> must be refused"));
                        assert_eq!(e.kind(), ErrorKind::FailedPrecondition);
                        assert!(e.msg().contains(from.as_str()), "{}", e.msg());
                    }
                }
            }
        }
    }

    /// H3: one officer, or the same officer twice, is refused.
    #[test]
    fn h3_one_officer_or_the_same_twice_is_refused() {
        let mut r = new_req(OrganType::Police, Kind::Copy);
        r.officers.truncate(1);
        let e = check_new(&r).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.msg().starts_with("H3"), "{}", e.msg());
        let mut r = new_req(OrganType::Police, Kind::Copy);
        r.officers[1].work_id = " 110101 ".into();
        let e = check_new(&r).unwrap_err();
        assert!(e.msg().contains("distinct"), "{}", e.msg());
        let mut r = new_req(OrganType::Police, Kind::Copy);
        r.officers[1].work_id.clear();
        assert_eq!(
            check_new(&r).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert!(check_new(&new_req(OrganType::Police, Kind::Copy)).is_ok());
    }

    /// H2: the approver may be neither an officer nor the author, and must head the right
    /// agency.
    #[test]
    fn h2_officer_as_approver_and_wrong_jurisdiction_are_refused() {
        let r = req(State::Submitted, OrganType::Police, Kind::Copy);
        let unit = "某市公安局某分局";
        // An officer of the request (by work ID, or by name) approving.
        for a in [
            approval("head", "110101", unit, OrganType::Police),
            approval("张伟", "999", unit, OrganType::Police),
            approval("police1", "999", unit, OrganType::Police),
        ] {
            let e = check_approval(&r, &a).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::PermissionDenied);
            assert!(e.msg().starts_with("H2"), "{}", e.msg());
        }
        // Police: the head of another agency may not approve.
        let e =
            check_approval(&r, &approval("head", "9", "另一分局", OrganType::Police)).unwrap_err();
        assert!(e.msg().contains("requesting agency"), "{}", e.msg());
        assert!(check_approval(&r, &approval("head", "9", unit, OrganType::Police)).is_ok());
        // Procuratorate: approved by the city/county police head, not by its own.
        let mut p = req(State::Submitted, OrganType::Procuratorial, Kind::Copy);
        p.fields.organ = "某县人民检察院".into();
        assert!(
            check_approval(
                &p,
                &approval("head", "9", "某县人民检察院", OrganType::Procuratorial)
            )
            .is_err()
        );
        assert!(
            check_approval(&p, &approval("head", "9", "某县公安局", OrganType::Police)).is_ok()
        );
        // Not before submission.
        let d = req(State::Drafted, OrganType::Police, Kind::Copy);
        assert_eq!(
            check_approval(&d, &approval("head", "9", unit, OrganType::Police))
                .unwrap_err()
                .kind(),
            ErrorKind::FailedPrecondition
        );
    }

    /// H5, H1: a recipient outside the allowed organs is refused, at drafting and at release.
    #[test]
    fn h5_recipient_outside_allowed_organs_is_refused() {
        let e = check_new(&new_req(OrganType::CountyGovernment, Kind::Copy)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.msg().starts_with("H5"), "{}", e.msg());
        let e = check_new(&new_req(OrganType::Other, Kind::View)).unwrap_err();
        assert!(e.msg().starts_with("H1"), "{}", e.msg());
        // County government may view in an emergency.
        assert!(check_new(&new_req(OrganType::CountyGovernment, Kind::View)).is_ok());
        // A record that reached release anyway (e.g. written by an older version) is refused.
        let mut r = req(State::Approved, OrganType::CountyGovernment, Kind::Copy);
        r.approval = Some(approval("head", "9", "某县公安局", OrganType::Police));
        let e = check_release(&r, "operator", &letter(), t(700), t(3600)).unwrap_err();
        assert!(e.msg().starts_with("H5"), "{}", e.msg());
    }

    /// H3: the releaser differs from author, officers and approver; documents are required.
    #[test]
    fn h3_releaser_is_a_third_person_and_documents_are_required() {
        let mut r = req(State::Approved, OrganType::Police, Kind::Copy);
        r.approval = Some(approval("head", "9", "某市公安局某分局", OrganType::Police));
        for by in ["head", "police1", "李娜"] {
            assert!(
                check_release(&r, by, &letter(), t(700), t(3600)).is_err(),
                "{by}"
            );
        }
        assert!(check_release(&r, "operator", &[], t(700), t(3600)).is_err());
        assert!(check_release(&r, "operator", &letter(), t(700), t(10)).is_err());
        assert!(check_release(&r, "operator", &letter(), t(700), t(3600)).is_ok());
        let d = req(State::Submitted, OrganType::Police, Kind::Copy);
        assert!(check_submit(&d, &letter(), t(700)).is_err());
        let d = req(State::Drafted, OrganType::Police, Kind::Copy);
        assert!(check_submit(&d, &[], t(700)).is_err());
        assert!(check_submit(&d, &letter(), t(700)).is_ok());
    }

    /// H2, H5: a grant covers only its account, cameras, ranges, kind and time.
    #[test]
    fn h2_h5_grant_covers_only_its_scope_and_time() {
        let mut r = req(State::Released, OrganType::Police, Kind::View);
        r.release = Some(Release {
            by: "operator".into(),
            at: t(700),
            until: t(3600),
            bundles: vec![],
        });
        let ok = |who, need, cam, a, b, now| covers(&r, who, need, cam, t(a), t(b), t(now));
        assert!(ok("police1", Needed::View, "gate", 0, 600, 730));
        assert!(ok("police1", Needed::View, "gate", 100, 200, 730));
        assert!(
            !ok("police2", Needed::View, "gate", 100, 200, 730),
            "another account"
        );
        assert!(
            !ok("police1", Needed::View, "yard", 100, 200, 730),
            "another camera"
        );
        assert!(
            !ok("police1", Needed::View, "gate", 500, 700, 730),
            "outside the range"
        );
        assert!(
            !ok("police1", Needed::View, "gate", 100, 200, 3600),
            "after the grant"
        );
        assert!(
            !ok("police1", Needed::Copy, "gate", 100, 200, 730),
            "view is not copy"
        );
        assert!(
            !ok("police1", Needed::Live, "gate", 30, 30, 730),
            "view is not live"
        );
        r.state = State::Closed;
        assert!(!covers(
            &r,
            "police1",
            Needed::View,
            "gate",
            t(100),
            t(200),
            t(730)
        ));
    }

    /// H2 (attack): a county government (barred from live connections) drafts a view request
    /// for [now, now + 30 days] to watch the camera as it records. Submission and release
    /// refuse it; a released record with such a range (older version) covers nothing after
    /// the release.
    #[test]
    fn h2_future_view_range_is_not_live_access() {
        for kind in [Kind::View, Kind::Copy, Kind::Retrieve] {
            let organ = if kind == Kind::View {
                OrganType::CountyGovernment
            } else {
                OrganType::Police
            };
            let mut d = req(State::Drafted, organ, kind);
            d.fields.scope[0].from = t(700);
            d.fields.scope[0].to = t(700 + 30 * 86_400);
            assert!(check_new(&d.fields).is_ok(), "a draft may name any range");
            let e = check_submit(&d, &letter(), t(700)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{}", e.msg());
            assert!(
                e.msg().starts_with("H2") && e.msg().contains("recorded footage"),
                "{}",
                e.msg()
            );
            let mut a = d.clone();
            a.state = State::Approved;
            a.approval = Some(approval("head", "9", "某县公安局", OrganType::Police));
            let e = check_release(&a, "operator", &letter(), t(800), t(3600)).unwrap_err();
            assert!(e.msg().contains("recorded footage"), "{}", e.msg());
            // Ending exactly now is recorded footage.
            d.fields.scope[0].to = t(700);
            d.fields.scope[0].from = t(100);
            assert!(check_submit(&d, &letter(), t(700)).is_ok());
        }
        // A released view whose range reaches past the release: nothing after `at` is covered.
        let mut r = req(State::Released, OrganType::CountyGovernment, Kind::View);
        r.fields.scope[0].to = t(30 * 86_400);
        r.release = Some(Release {
            by: "operator".into(),
            at: t(700),
            until: t(30 * 86_400),
            bundles: vec![],
        });
        assert!(covers(
            &r,
            "police1",
            Needed::View,
            "gate",
            t(100),
            t(700),
            t(800)
        ));
        assert!(
            !covers(&r, "police1", Needed::View, "gate", t(750), t(760), t(800)),
            "footage recorded after the release is live access"
        );
        assert!(!covers(
            &r,
            "police1",
            Needed::Live,
            "gate",
            t(800),
            t(800),
            t(800)
        ));
    }

    /// H3 (attack): a police officer whose account also holds a watch-operator grant over
    /// another area releases a colleague's request for a camera it may only play back as an
    /// officer. Refused: only watch-operator grants over the camera count.
    #[test]
    fn h3_unrelated_watch_operator_grant_does_not_release() {
        use custos_core::access::{Classification, Placement, Principal, Resource, Role};
        let cam = Resource::camera(
            &Placement::new("local", "main", "default", "gate"),
            Classification::Public,
        );
        let area = |s: &str| -> custos_core::access::Scope { s.parse().expect("scope") };
        let attacker = Principal::new("police2")
            .with_grant(Role::PoliceOfficer, area("local/main/default"))
            .with_grant(Role::WatchOperator, area("local/main/other"));
        assert!(!may_release(&attacker, &cam, t(700)));
        let approver = Principal::new("head2")
            .with_grant(Role::PoliceApprover, area("local"))
            .with_grant(Role::WatchOperator, area("local/main/other"));
        assert!(!may_release(&approver, &cam, t(700)));
        let operator =
            Principal::new("operator").with_grant(Role::WatchOperator, area("local/main/default"));
        assert!(may_release(&operator, &cam, t(700)));
    }
}
