//! The system lifecycle (C1–C3): states, allowed transitions, the evidence each transition
//! needs, the deadlines that follow from transition dates, and the C1 gate "not accepted ⇒
//! streams do not go live".
//!
//! ```text
//! planned → design_reviewed → under_construction → accepted → filed → operating ⇄ adjusting
//!                                                      └──────────────↗      │
//!   (any state) ─────────────────────────────────────────────────────→ decommissioned
//! ```
//!
//! `accepted → operating` is allowed: every text lets a system be used once accepted and counts
//! the filing period from acceptance (001 art. 12 para. 2) or from delivery for use (002 §6);
//! the filing deadline is tracked by [`deadlines`] and by rule C2.
//!
//! Legal dates are calendar dates in China Standard Time (UTC+8); "within N days from" a date D
//! ends at the end of day D+N (the starting day is not counted).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::article::{Article, Source, cite};
use super::jurisdiction::Jurisdiction;
use crate::{Error, ErrorKind};

/// Days to file after acceptance (001 art. 12 para. 2) or delivery for use (002 §6); also after
/// the local rules took effect for systems built before (004 §3).
pub const FILING_DAYS: u64 = 30;
/// Days before removal the police must be told (003 art. 17).
pub const REMOVAL_NOTICE_DAYS: u64 = 10;
/// Days after an adjustment or removal to file it (000 §3(2), draft art. 16).
pub const CHANGE_FILING_DAYS: u64 = 15;

pub const ART_NOT_ACCEPTED: [Article; 3] = [
    Article::para(Source::National001, 12, 1),
    Article::art(Source::Yangzhou003, 15),
    Article::sec(Source::Anhui002, 6, Some(1), Some(13)),
];
pub const ART_FILING: [Article; 3] = [
    Article::para(Source::National001, 12, 2),
    Article::sec(Source::Anhui002, 6, Some(1), Some(13)),
    Article::sec(Source::Chongqing004, 3, None, Some(15)),
];
pub const ART_REMOVAL_NOTICE: [Article; 1] = [Article::art(Source::Yangzhou003, 17)];
pub const ART_CHANGE_FILING: [Article; 1] =
    [Article::sec(Source::Shenzhen000, 3, Some(2), Some(16))];
pub const ART_FEASIBILITY: [Article; 1] = [Article::para(Source::National001, 12, 1)];
pub const ART_ARCHIVE: [Article; 2] = [
    Article::art(Source::National001, 14),
    Article::art(Source::Yangzhou003, 16),
];

/// The China Standard Time calendar date of an instant.
pub fn legal_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("valid offset"))
        .date_naive()
}

pub(crate) fn add_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

pub(crate) fn sub_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap_or(NaiveDate::MIN)
}

crate::all_variants! {
    /// A system's lifecycle state (C1).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum LifecycleState {
        Planned,
        /// 设计方案可行性论证 done.
        DesignReviewed,
        UnderConstruction,
        /// 验收合格.
        Accepted,
        /// 备案 with the police.
        Filed,
        Operating,
        /// Equipment being moved, changed or partly removed.
        Adjusting,
        Decommissioned,
    }
}

impl LifecycleState {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Planned => "planned",
            LifecycleState::DesignReviewed => "design_reviewed",
            LifecycleState::UnderConstruction => "under_construction",
            LifecycleState::Accepted => "accepted",
            LifecycleState::Filed => "filed",
            LifecycleState::Operating => "operating",
            LifecycleState::Adjusting => "adjusting",
            LifecycleState::Decommissioned => "decommissioned",
        }
    }

    /// Has the system passed acceptance (and not been decommissioned)?
    pub fn is_accepted(self) -> bool {
        matches!(
            self,
            LifecycleState::Accepted
                | LifecycleState::Filed
                | LifecycleState::Operating
                | LifecycleState::Adjusting
        )
    }
}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LifecycleState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        LifecycleState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "bad lifecycle state {s:?}; use one of {}",
                        LifecycleState::ALL.map(|s| s.as_str()).join(", ")
                    ),
                )
            })
    }
}

/// Documents a transition may need (they live in the A4 archive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// 设计方案.
    DesignPlan,
    /// 可行性论证 conclusion.
    FeasibilityReview,
    /// 工程竣工验收 report (验收合格).
    AcceptanceReport,
    /// 检测 report (004 §3 files "检测、验收的有关材料").
    TestReport,
    /// Police filing receipt (备案回执).
    FilingReceipt,
    /// Notice to the police before removal (003 art. 17).
    RemovalNotice,
    /// Filing of an adjustment or removal (000 §3(2), draft art. 16).
    ChangeFiling,
}

/// One piece of evidence, dated (legal date).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub dated: NaiveDate,
}

/// Is `from → to` an allowed transition?
pub fn is_allowed(from: LifecycleState, to: LifecycleState) -> bool {
    use LifecycleState::*;
    matches!(
        (from, to),
        (Planned, DesignReviewed)
            | (DesignReviewed, UnderConstruction)
            | (UnderConstruction, Accepted)
            | (Accepted, Filed)
            | (Accepted, Operating)
            | (Filed, Operating)
            | (Operating, Adjusting)
            | (Adjusting, Operating)
    ) || (to == Decommissioned && from != Decommissioned)
}

/// The evidence `from → to` needs in `j`, each with the article requiring it.
pub fn required_evidence(
    from: LifecycleState,
    to: LifecycleState,
    j: &Jurisdiction,
) -> Vec<(EvidenceKind, Vec<Article>)> {
    use LifecycleState::*;
    let only = |arts: &[Article]| -> Vec<Article> {
        arts.iter()
            .copied()
            .filter(|a| j.applies(a.source))
            .collect()
    };
    let mut need = Vec::new();
    match (from, to) {
        (Planned, DesignReviewed) => {
            need.push((EvidenceKind::DesignPlan, only(&ART_ARCHIVE)));
            need.push((EvidenceKind::FeasibilityReview, only(&ART_FEASIBILITY)));
        }
        (UnderConstruction, Accepted) => {
            need.push((EvidenceKind::AcceptanceReport, only(&ART_NOT_ACCEPTED)));
            if j.applies(Source::Chongqing004) {
                need.push((
                    EvidenceKind::TestReport,
                    vec![Article::sec(Source::Chongqing004, 3, None, Some(15))],
                ));
            }
        }
        (Accepted, Filed) => need.push((EvidenceKind::FilingReceipt, only(&ART_FILING))),
        // Removing a system that was in place needs the prior notice where 003 applies.
        (Accepted | Filed | Operating | Adjusting, Decommissioned)
            if j.applies(Source::Yangzhou003) =>
        {
            need.push((EvidenceKind::RemovalNotice, ART_REMOVAL_NOTICE.to_vec()))
        }
        _ => {}
    }
    // Drop requirements whose every source is out of force here.
    need.retain(|(_, arts)| !arts.is_empty());
    need
}

/// A recorded transition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub from: LifecycleState,
    pub to: LifecycleState,
    /// Legal date of the transition (for `→ accepted`: the acceptance date).
    pub on: NaiveDate,
    pub evidence: Vec<Evidence>,
}

/// Checks and builds a transition: refused (`FailedPrecondition`) if not allowed, or if evidence
/// is missing (the message lists each missing document with its article), or if a removal notice
/// came less than 10 days before the removal (003 art. 17).
pub fn transition(
    from: LifecycleState,
    to: LifecycleState,
    on: NaiveDate,
    evidence: &[Evidence],
    j: &Jurisdiction,
) -> Result<Transition, Error> {
    if !is_allowed(from, to) {
        let next: Vec<&str> = LifecycleState::ALL
            .into_iter()
            .filter(|s| is_allowed(from, *s))
            .map(|s| s.as_str())
            .collect();
        return Err(Error::new(
            ErrorKind::FailedPrecondition,
            format!(
                "a system cannot go from {from} to {to}; from {from} it may go to {}",
                if next.is_empty() {
                    "nothing".to_owned()
                } else {
                    next.join(", ")
                }
            ),
        ));
    }
    let mut missing = Vec::new();
    for (kind, arts) in required_evidence(from, to, j) {
        match evidence.iter().find(|e| e.kind == kind) {
            None => missing.push(format!("{kind:?} ({})", cite(&arts))),
            Some(e) if kind == EvidenceKind::RemovalNotice
                && e.dated > sub_days(on, REMOVAL_NOTICE_DAYS) =>
            {
                missing.push(format!(
                    "RemovalNotice dated {} is less than {REMOVAL_NOTICE_DAYS} days before removal on {on} ({})",
                    e.dated,
                    cite(&arts)
                ))
            }
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        return Err(Error::new(
            ErrorKind::FailedPrecondition,
            format!("{from} → {to} needs: {}", missing.join("; ")),
        ));
    }
    Ok(Transition {
        from,
        to,
        on,
        evidence: evidence.to_vec(),
    })
}

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// C2: file with the police.
    Filing,
    /// C3: tell the police before removal.
    RemovalNotice,
    /// C3: file an adjustment or removal after it.
    ChangeFiling,
}

/// A date by which (inclusive) something must be done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub due: NaiveDate,
    pub articles: Vec<Article>,
}

/// C2 filing due date: the earliest of acceptance + 30 days (001 art. 12 para. 2), delivery for
/// use + 30 days (002 §6) and, for systems completed before the local rules took effect,
/// rules effective + 30 days (004 §3). None if no applicable base date is known.
pub fn filing_due(
    accepted_on: Option<NaiveDate>,
    put_into_use_on: Option<NaiveDate>,
    completed_before_rules: bool,
    j: &Jurisdiction,
) -> Option<Deadline> {
    let mut due: Option<NaiveDate> = None;
    let mut arts = Vec::new();
    let mut consider = |base: Option<NaiveDate>, art: Article| {
        if let Some(b) = base.filter(|_| j.applies(art.source)) {
            let d = add_days(b, FILING_DAYS);
            due = Some(due.map_or(d, |x| x.min(d)));
            arts.push(art);
        }
    };
    consider(accepted_on, ART_FILING[0]);
    consider(put_into_use_on, ART_FILING[1]);
    if completed_before_rules {
        consider(j.rules_effective_on, ART_FILING[2]);
    }
    due.map(|due| Deadline {
        kind: DeadlineKind::Filing,
        due,
        articles: arts,
    })
}

/// C3: the last day the police may be told of a removal planned for `removal_on` (003 art. 17).
pub fn removal_notice_due(removal_on: NaiveDate, j: &Jurisdiction) -> Option<Deadline> {
    j.applies(Source::Yangzhou003).then(|| Deadline {
        kind: DeadlineKind::RemovalNotice,
        due: sub_days(removal_on, REMOVAL_NOTICE_DAYS),
        articles: ART_REMOVAL_NOTICE.to_vec(),
    })
}

/// C3: the last day to file an adjustment or removal done on `changed_on` (000 §3(2)).
pub fn change_filing_due(changed_on: NaiveDate, j: &Jurisdiction) -> Option<Deadline> {
    j.applies(Source::Shenzhen000).then(|| Deadline {
        kind: DeadlineKind::ChangeFiling,
        due: add_days(changed_on, CHANGE_FILING_DAYS),
        articles: ART_CHANGE_FILING.to_vec(),
    })
}

/// The open deadlines that follow from a transition history: filing after acceptance (until a
/// transition to `filed` or a filing receipt is recorded), change filing after each adjustment
/// or decommissioning (until a change filing is recorded after it).
pub fn deadlines(history: &[Transition], j: &Jurisdiction) -> Vec<Deadline> {
    let mut out = Vec::new();
    let filed = history.iter().any(|t| {
        t.to == LifecycleState::Filed
            || t.evidence
                .iter()
                .any(|e| e.kind == EvidenceKind::FilingReceipt)
    });
    if !filed {
        let accepted_on = history
            .iter()
            .rev()
            .find(|t| t.to == LifecycleState::Accepted)
            .map(|t| t.on);
        if let Some(d) = filing_due(accepted_on, None, false, j) {
            out.push(d);
        }
    }
    for (i, t) in history.iter().enumerate() {
        let is_change = t.to == LifecycleState::Adjusting
            || (t.to == LifecycleState::Decommissioned && t.from.is_accepted());
        if !is_change {
            continue;
        }
        let filed_after = history[i..]
            .iter()
            .flat_map(|t| t.evidence.iter())
            .any(|e| e.kind == EvidenceKind::ChangeFiling && e.dated >= t.on);
        if !filed_after && let Some(d) = change_filing_due(t.on, j) {
            out.push(d);
        }
    }
    out
}

/// C1: may this system's streams go live (be viewed, recorded, shared)? Only once accepted and
/// until decommissioned (001 art. 12 para. 1; 003 art. 15).
pub fn may_go_live(state: LifecycleState, j: &Jurisdiction) -> Result<(), Error> {
    if state.is_accepted() {
        return Ok(());
    }
    let arts: Vec<Article> = ART_NOT_ACCEPTED
        .iter()
        .copied()
        .filter(|a| j.applies(a.source))
        .collect();
    let why = if state == LifecycleState::Decommissioned {
        "the system is decommissioned".to_owned()
    } else {
        format!(
            "the system is {state} and not yet accepted; a system that has not passed acceptance \
             must not be put into use ({})",
            cite(&arts)
        )
    };
    Err(Error::new(
        ErrorKind::FailedPrecondition,
        format!("streams may not go live: {why}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::jurisdiction::Profile;
    use LifecycleState::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    /// C1: the full transition table: every (from, to) pair, allowed or not.
    #[test]
    fn c1_transition_table() {
        let allowed = [
            (Planned, DesignReviewed),
            (DesignReviewed, UnderConstruction),
            (UnderConstruction, Accepted),
            (Accepted, Filed),
            (Accepted, Operating),
            (Filed, Operating),
            (Operating, Adjusting),
            (Adjusting, Operating),
        ];
        for from in LifecycleState::ALL {
            for to in LifecycleState::ALL {
                let want = allowed.contains(&(from, to))
                    || (to == Decommissioned && from != Decommissioned);
                assert_eq!(is_allowed(from, to), want, "{from} → {to}");
            }
        }
        // Skipping acceptance is refused and the message lists where one may go.
        let e = transition(
            UnderConstruction,
            Operating,
            d(2025, 1, 1),
            &[],
            &Jurisdiction::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FailedPrecondition);
        assert!(
            e.msg().contains("may go to accepted, decommissioned"),
            "{}",
            e.msg()
        );
    }

    /// C1/C2/A4: each transition's evidence, per jurisdiction (table).
    #[test]
    #[allow(clippy::type_complexity)]
    fn c1_evidence_table() {
        let ev = |k| Evidence {
            kind: k,
            dated: d(2025, 1, 1),
        };
        let strict = Jurisdiction::default();
        let national = Jurisdiction::profile(Profile::NationalDraft);
        use EvidenceKind::*;
        let cases: Vec<(
            &Jurisdiction,
            LifecycleState,
            LifecycleState,
            Vec<Evidence>,
            Option<&str>,
        )> = vec![
            (
                &strict,
                Planned,
                DesignReviewed,
                vec![ev(DesignPlan), ev(FeasibilityReview)],
                None,
            ),
            (
                &strict,
                Planned,
                DesignReviewed,
                vec![ev(DesignPlan)],
                Some("FeasibilityReview (001 art. 12 para. 1)"),
            ),
            (
                &strict,
                UnderConstruction,
                Accepted,
                vec![],
                Some("AcceptanceReport (001 art. 12 para. 1; 003 art. 15"),
            ),
            (
                &strict,
                UnderConstruction,
                Accepted,
                vec![ev(AcceptanceReport)],
                Some("TestReport (004 §3 (measures art. 15))"),
            ),
            (
                &strict,
                UnderConstruction,
                Accepted,
                vec![ev(AcceptanceReport), ev(TestReport)],
                None,
            ),
            (
                &national,
                UnderConstruction,
                Accepted,
                vec![ev(AcceptanceReport)],
                None,
            ),
            (
                &strict,
                Accepted,
                Filed,
                vec![],
                Some("FilingReceipt (001 art. 12 para. 2"),
            ),
            (&strict, Accepted, Filed, vec![ev(FilingReceipt)], None),
            (&strict, Filed, Operating, vec![], None),
            (&strict, Planned, Decommissioned, vec![], None),
        ];
        for (j, from, to, evidence, want) in cases {
            let got = transition(from, to, d(2025, 2, 1), &evidence, j);
            match (want, got) {
                (None, Ok(t)) => assert_eq!((t.from, t.to), (from, to)),
                (Some(m), Err(e)) => assert!(e.msg().contains(m), "{from}→{to}: {}", e.msg()),
                (w, g) => panic!("{from}→{to}: want {w:?} got {g:?}"),
            }
        }
    }

    /// C3: removal needs a notice at least 10 days before (003 art. 17); not where 003 is not in force.
    #[test]
    fn c3_removal_notice_table() {
        let removal = d(2025, 3, 20);
        let notice = |dated| {
            vec![Evidence {
                kind: EvidenceKind::RemovalNotice,
                dated,
            }]
        };
        let strict = Jurisdiction::default();
        let anhui = Jurisdiction::profile(Profile::Anhui);
        let cases: Vec<(&Jurisdiction, Vec<Evidence>, bool)> = vec![
            (&strict, notice(d(2025, 3, 10)), true), // exactly 10 days before
            (&strict, notice(d(2025, 3, 1)), true),
            (&strict, notice(d(2025, 3, 11)), false), // 9 days
            (&strict, vec![], false),
            (&anhui, vec![], true),
        ];
        for (j, ev, ok) in cases {
            let r = transition(Operating, Decommissioned, removal, &ev, j);
            assert_eq!(r.is_ok(), ok, "{ev:?}: {r:?}");
            if let Err(e) = r {
                assert!(e.msg().contains("003 art. 17"), "{}", e.msg());
            }
        }
    }

    /// C2/C3: deadlines computed from transition dates.
    #[test]
    fn c2_c3_deadlines_from_history() {
        let j = Jurisdiction::default();
        let t = |from, to, on, evidence: Vec<Evidence>| Transition {
            from,
            to,
            on,
            evidence,
        };
        let mut h = vec![t(UnderConstruction, Accepted, d(2025, 1, 10), vec![])];
        let dl = deadlines(&h, &j);
        assert_eq!(dl.len(), 1);
        assert_eq!(dl[0].kind, DeadlineKind::Filing);
        assert_eq!(dl[0].due, d(2025, 2, 9)); // 001 art. 12 para. 2: 30 days
        assert!(dl[0].articles.contains(&ART_FILING[0]));

        h.push(t(Accepted, Filed, d(2025, 2, 1), vec![]));
        h.push(t(Filed, Operating, d(2025, 2, 2), vec![]));
        assert!(deadlines(&h, &j).is_empty());

        h.push(t(Operating, Adjusting, d(2025, 6, 1), vec![]));
        let dl = deadlines(&h, &j);
        assert_eq!(dl.len(), 1);
        assert_eq!(
            (dl[0].kind, dl[0].due),
            (DeadlineKind::ChangeFiling, d(2025, 6, 16))
        ); // 000: 15 days

        h.push(t(
            Adjusting,
            Operating,
            d(2025, 6, 5),
            vec![Evidence {
                kind: EvidenceKind::ChangeFiling,
                dated: d(2025, 6, 10),
            }],
        ));
        assert!(deadlines(&h, &j).is_empty());
        // No change-filing deadline where 000 is not in force.
        h.push(t(Operating, Adjusting, d(2025, 9, 1), vec![]));
        assert!(deadlines(&h, &Jurisdiction::profile(Profile::Chongqing)).is_empty());

        assert_eq!(
            removal_notice_due(d(2025, 3, 20), &j).unwrap().due,
            d(2025, 3, 10)
        );
    }

    /// C2: filing due date per jurisdiction and base date (table).
    #[test]
    fn c2_filing_due_table() {
        let cq = Jurisdiction::profile(Profile::Chongqing);
        let anhui = Jurisdiction::profile(Profile::Anhui);
        let cases = [
            // (jurisdiction, accepted, put into use, built before rules) → due
            (
                &anhui,
                Some(d(2025, 1, 1)),
                Some(d(2024, 12, 20)),
                false,
                Some(d(2025, 1, 19)),
            ),
            (
                &anhui,
                Some(d(2025, 1, 1)),
                None,
                false,
                Some(d(2025, 1, 31)),
            ),
            (&cq, None, Some(d(2025, 1, 1)), false, None), // 002 not in force in Chongqing
            (&cq, None, None, true, Some(d(2010, 1, 10))), // 2009-12-11 + 30 (004 §3)
            (&cq, Some(d(2025, 1, 1)), None, true, Some(d(2010, 1, 10))),
        ];
        for (j, acc, used, before, want) in cases {
            assert_eq!(
                filing_due(acc, used, before, j).map(|d| d.due),
                want,
                "{:?}",
                j.profile
            );
        }
    }

    /// C1: streams go live only for accepted systems.
    #[test]
    fn c1_streams_go_live_only_when_accepted() {
        let j = Jurisdiction::default();
        for s in LifecycleState::ALL {
            let r = may_go_live(s, &j);
            let want = matches!(s, Accepted | Filed | Operating | Adjusting);
            assert_eq!(r.is_ok(), want, "{s}");
            if let Err(e) = r {
                assert_eq!(e.kind(), ErrorKind::FailedPrecondition);
                if s != Decommissioned {
                    assert!(e.msg().contains("001 art. 12 para. 1"), "{}", e.msg());
                }
            }
        }
    }

    #[test]
    fn c1_state_names_round_trip() {
        for s in LifecycleState::ALL {
            assert_eq!(s.as_str().parse::<LifecycleState>().unwrap(), s);
        }
        assert!("live".parse::<LifecycleState>().is_err());
        // Legal dates are China Standard Time: 2025-01-01T16:30Z is already 2 January.
        let t = DateTime::parse_from_rfc3339("2025-01-01T16:30:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(legal_date(t), d(2025, 1, 2));
    }
}
