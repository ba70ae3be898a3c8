//! Findings (J1, J2): what an inspector acts on. Each names the rule, the violated articles, the
//! consequence the texts attach (measures, and fine ranges for the unit, the responsible persons
//! and individuals), a deadline and a status that moves open → rectification_ordered → rectified →
//! verified.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::article::{Article, Source};
use super::device_code::DeviceCode;
use super::jurisdiction::Jurisdiction;
use crate::{Error, ErrorKind};

crate::all_variants! {
    /// The rules of this module; ids are stable (they appear in stored findings and `docs/rules.md`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    pub enum RuleId {
        #[serde(rename = "B1.coverage")]
        B1Coverage,
        #[serde(rename = "B2.prohibited-place")]
        B2ProhibitedPlace,
        #[serde(rename = "B3.residence-unmasked")]
        B3ResidenceUnmasked,
        #[serde(rename = "B4.signage")]
        B4Signage,
        #[serde(rename = "C1.in-use-not-accepted")]
        C1InUseNotAccepted,
        #[serde(rename = "C2.filing-overdue")]
        C2FilingOverdue,
        #[serde(rename = "C3.removal-notice")]
        C3RemovalNotice,
        #[serde(rename = "C3.change-filing-overdue")]
        C3ChangeFilingOverdue,
        #[serde(rename = "D1.offline")]
        D1Offline,
        #[serde(rename = "D1.recording-incomplete")]
        D1RecordingIncomplete,
        #[serde(rename = "D2.procedures")]
        D2Procedures,
        #[serde(rename = "D2.duty-log")]
        D2DutyLog,
        #[serde(rename = "D3.training")]
        D3Training,
        #[serde(rename = "F1.retention")]
        F1Retention,
    }
}

impl RuleId {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::B1Coverage => "B1.coverage",
            RuleId::B2ProhibitedPlace => "B2.prohibited-place",
            RuleId::B3ResidenceUnmasked => "B3.residence-unmasked",
            RuleId::B4Signage => "B4.signage",
            RuleId::C1InUseNotAccepted => "C1.in-use-not-accepted",
            RuleId::C2FilingOverdue => "C2.filing-overdue",
            RuleId::C3RemovalNotice => "C3.removal-notice",
            RuleId::C3ChangeFilingOverdue => "C3.change-filing-overdue",
            RuleId::D1Offline => "D1.offline",
            RuleId::D1RecordingIncomplete => "D1.recording-incomplete",
            RuleId::D2Procedures => "D2.procedures",
            RuleId::D2DutyLog => "D2.duty-log",
            RuleId::D3Training => "D3.training",
            RuleId::F1Retention => "F1.retention",
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// What a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    System(String),
    Device(DeviceCode),
    Place(String),
    Staff(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::System(s) => write!(f, "system:{s}"),
            Subject::Device(d) => write!(f, "device:{d}"),
            Subject::Place(p) => write!(f, "place:{p}"),
            Subject::Staff(s) => write!(f, "staff:{s}"),
        }
    }
}

/// An administrative measure the police take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 警告.
    Warning,
    /// 责令（限期）改正: the limit is set by the police; findings default to the policy value.
    RectifyWithinLimit,
    /// 责令立即拆除 (001 art. 27; 004 §5).
    RemoveImmediately,
    /// Not to be used until accepted (001 art. 12 para. 1).
    StopUse,
    /// 立即修复 (004 §4, measures art. 19).
    RepairImmediately,
}

impl Measure {
    fn is_immediate(self) -> bool {
        matches!(
            self,
            Measure::RemoveImmediately | Measure::StopUse | Measure::RepairImmediately
        )
    }
}

/// Who a fine is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liable {
    /// 对单位.
    Unit,
    /// 对直接负责的主管人员和其他直接责任人员.
    ResponsiblePerson,
    /// 个人 (a person who installed or acted on their own account).
    Individual,
}

/// When a fine applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FineCondition {
    /// Whenever the violation is established.
    Always,
    /// 逾期不改(正/整改).
    IfNotRectifiedInTime,
    /// 情节严重.
    IfSerious,
    /// Only if the removal counts as 擅自拆除 (001 art. 22(1)).
    IfUnauthorisedRemoval,
}

/// A fine range in yuan (inclusive), with its article.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fine {
    pub liable: Liable,
    pub min_yuan: u32,
    pub max_yuan: u32,
    pub condition: FineCondition,
    /// "处警告或…罚款": a warning may replace the fine (001 art. 31, responsible persons).
    pub or_warning: bool,
    pub article: Article,
}

/// What the texts say follows from a violation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consequence {
    pub measures: Vec<Measure>,
    pub fines: Vec<Fine>,
    /// The liability articles (empty: the texts in force name no penalty for this).
    pub basis: Vec<Article>,
}

impl Consequence {
    fn add(&mut self, measures: &[Measure], fines: &[Fine], basis: Article) {
        for m in measures {
            if !self.measures.contains(m) {
                self.measures.push(*m);
            }
        }
        self.fines.extend_from_slice(fines);
        self.basis.push(basis);
    }

    /// The strongest fine for the unit (max of the ranges), if any.
    pub fn max_unit_fine(&self) -> Option<u32> {
        self.fines
            .iter()
            .filter(|f| f.liable == Liable::Unit)
            .map(|f| f.max_yuan)
            .max()
    }
}

const fn fine(
    liable: Liable,
    min_yuan: u32,
    max_yuan: u32,
    condition: FineCondition,
    article: Article,
) -> Fine {
    Fine {
        liable,
        min_yuan,
        max_yuan,
        condition,
        or_warning: false,
        article,
    }
}

/// The liability articles the rules use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Liability {
    /// 001 art. 27: installation in privacy places (art. 11).
    N27,
    /// 001 art. 28: construction/use violations; item (3) in use without acceptance.
    N28,
    /// 001 art. 29: filing (art. 12 para. 2) and archive (art. 14).
    N29,
    /// 001 art. 30: operation (arts. 17, 18, 20).
    N30,
    /// 001 art. 31: prohibited acts (art. 22).
    N31,
    /// 004 §5 (measures art. 24): installation in prohibited places (measures art. 9).
    C24,
}

impl Liability {
    pub fn article(self) -> Article {
        use Source::*;
        match self {
            Liability::N27 => Article::art(National001, 27),
            Liability::N28 => Article::item(National001, 28, 3),
            Liability::N29 => Article::art(National001, 29),
            Liability::N30 => Article::art(National001, 30),
            Liability::N31 => Article::art(National001, 31),
            Liability::C24 => Article::sec(Chongqing004, 5, None, Some(24)),
        }
    }

    fn apply(self, c: &mut Consequence) {
        use FineCondition::*;
        use Liable::*;
        use Measure::*;
        let a = self.article();
        match self {
            Liability::N27 => c.add(
                &[RemoveImmediately],
                &[
                    fine(Unit, 10_000, 100_000, Always, a),
                    fine(Individual, 1_000, 5_000, Always, a),
                ],
                a,
            ),
            Liability::N28 => c.add(
                &[RectifyWithinLimit, Warning],
                &[
                    fine(Unit, 10_000, 100_000, IfNotRectifiedInTime, a),
                    fine(ResponsiblePerson, 1_000, 5_000, IfNotRectifiedInTime, a),
                ],
                a,
            ),
            Liability::N29 => c.add(
                &[RectifyWithinLimit],
                &[
                    fine(Unit, 10_000, 30_000, IfNotRectifiedInTime, a),
                    fine(ResponsiblePerson, 1_000, 5_000, IfNotRectifiedInTime, a),
                ],
                a,
            ),
            Liability::N30 => c.add(
                &[RectifyWithinLimit, Warning],
                &[
                    fine(Unit, 10_000, 30_000, IfSerious, a),
                    fine(ResponsiblePerson, 1_000, 3_000, IfSerious, a),
                ],
                a,
            ),
            Liability::N31 => c.add(
                &[RectifyWithinLimit],
                &[
                    fine(Unit, 10_000, 100_000, IfUnauthorisedRemoval, a),
                    Fine {
                        or_warning: true,
                        ..fine(ResponsiblePerson, 1_000, 5_000, IfUnauthorisedRemoval, a)
                    },
                    fine(Individual, 1_000, 5_000, IfUnauthorisedRemoval, a),
                ],
                a,
            ),
            Liability::C24 => c.add(
                &[RemoveImmediately],
                &[
                    fine(Unit, 1_000, 3_000, Always, a),
                    fine(ResponsiblePerson, 500, 1_000, Always, a),
                    fine(Individual, 500, 1_000, Always, a),
                ],
                a,
            ),
        }
    }
}

/// Builds the consequence of a rule in `j`: the liabilities whose text is in force there. When
/// none is, the consequence is `fallback` (usually "rectify") with no fine and no basis: the
/// texts in force state the duty but no penalty.
pub fn consequence(
    liabilities: &[Liability],
    fallback: &[Measure],
    j: &Jurisdiction,
) -> Consequence {
    let mut c = Consequence::default();
    for l in liabilities {
        if j.applies(l.article().source) {
            l.apply(&mut c);
        }
    }
    for m in fallback {
        if !c.measures.contains(m) {
            c.measures.push(*m);
        }
    }
    c
}

/// Where a finding stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    RectificationOrdered,
    Rectified,
    Verified,
}

impl FindingStatus {
    /// open → rectification_ordered → rectified → verified; a failed verification sends a
    /// rectified finding back to rectification_ordered. Verified is final.
    pub fn can_become(self, to: FindingStatus) -> bool {
        use FindingStatus::*;
        matches!(
            (self, to),
            (Open, RectificationOrdered)
                | (RectificationOrdered, Rectified)
                | (Rectified, Verified)
                | (Rectified, RectificationOrdered)
        )
    }
}

/// One violation found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across evaluations of the same fact: `<rule>:<subject>[:<detail>]`, so a store can
    /// upsert and keep the status and the first detection time.
    pub id: String,
    pub rule: RuleId,
    pub subject: Subject,
    pub articles: Vec<Article>,
    pub severity: Severity,
    pub detected_at: DateTime<Utc>,
    /// By when it must be put right: `detected_at` for immediate measures, else `detected_at`
    /// plus the policy's rectification days.
    pub deadline: DateTime<Utc>,
    pub consequence: Consequence,
    pub status: FindingStatus,
    /// For a person: what is wrong, with the numbers.
    pub message: String,
}

impl Finding {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        rule: RuleId,
        subject: Subject,
        detail: Option<&str>,
        articles: Vec<Article>,
        severity: Severity,
        now: DateTime<Utc>,
        consequence: Consequence,
        j: &Jurisdiction,
        message: String,
    ) -> Finding {
        let mut id = format!("{rule}:{subject}");
        if let Some(d) = detail {
            id.push(':');
            id.push_str(d);
        }
        let deadline = if consequence.measures.iter().any(|m| m.is_immediate()) {
            now
        } else {
            now + chrono::Duration::days(j.policy.rectification_days)
        };
        Finding {
            id,
            rule,
            subject,
            articles,
            severity,
            detected_at: now,
            deadline,
            consequence,
            status: FindingStatus::Open,
            message,
        }
    }

    /// Moves the status, refusing anything but the allowed steps.
    pub fn advance(&mut self, to: FindingStatus) -> Result<(), Error> {
        if !self.status.can_become(to) {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "finding {} cannot go from {:?} to {to:?} (open → rectification_ordered → \
                     rectified → verified)",
                    self.id, self.status
                ),
            ));
        }
        self.status = to;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::jurisdiction::Profile;
    use FindingStatus::*;

    /// J1: the finding status machine, every pair.
    #[test]
    fn j1_finding_status_table() {
        let all = [Open, RectificationOrdered, Rectified, Verified];
        let ok = [
            (Open, RectificationOrdered),
            (RectificationOrdered, Rectified),
            (Rectified, Verified),
            (Rectified, RectificationOrdered),
        ];
        for a in all {
            for b in all {
                assert_eq!(a.can_become(b), ok.contains(&(a, b)), "{a:?} → {b:?}");
            }
        }
    }

    /// J2: fine ranges per liability article, as the texts state them.
    #[test]
    fn j2_fine_ranges_table() {
        let j = Jurisdiction::default();
        let cases: &[(Liability, Liable, u32, u32, FineCondition, &str)] = &[
            (
                Liability::N27,
                Liable::Unit,
                10_000,
                100_000,
                FineCondition::Always,
                "001 art. 27",
            ),
            (
                Liability::N27,
                Liable::Individual,
                1_000,
                5_000,
                FineCondition::Always,
                "001 art. 27",
            ),
            (
                Liability::N28,
                Liable::Unit,
                10_000,
                100_000,
                FineCondition::IfNotRectifiedInTime,
                "001 art. 28(3)",
            ),
            (
                Liability::N28,
                Liable::ResponsiblePerson,
                1_000,
                5_000,
                FineCondition::IfNotRectifiedInTime,
                "001 art. 28(3)",
            ),
            (
                Liability::N29,
                Liable::Unit,
                10_000,
                30_000,
                FineCondition::IfNotRectifiedInTime,
                "001 art. 29",
            ),
            (
                Liability::N29,
                Liable::ResponsiblePerson,
                1_000,
                5_000,
                FineCondition::IfNotRectifiedInTime,
                "001 art. 29",
            ),
            (
                Liability::N30,
                Liable::Unit,
                10_000,
                30_000,
                FineCondition::IfSerious,
                "001 art. 30",
            ),
            (
                Liability::N30,
                Liable::ResponsiblePerson,
                1_000,
                3_000,
                FineCondition::IfSerious,
                "001 art. 30",
            ),
            (
                Liability::N31,
                Liable::Unit,
                10_000,
                100_000,
                FineCondition::IfUnauthorisedRemoval,
                "001 art. 31",
            ),
            (
                Liability::C24,
                Liable::Unit,
                1_000,
                3_000,
                FineCondition::Always,
                "004 §5 (measures art. 24)",
            ),
            (
                Liability::C24,
                Liable::ResponsiblePerson,
                500,
                1_000,
                FineCondition::Always,
                "004 §5 (measures art. 24)",
            ),
            (
                Liability::C24,
                Liable::Individual,
                500,
                1_000,
                FineCondition::Always,
                "004 §5 (measures art. 24)",
            ),
        ];
        for (l, who, lo, hi, cond, art) in cases {
            let c = consequence(&[*l], &[], &j);
            let f = c.fines.iter().find(|f| f.liable == *who).unwrap();
            assert_eq!(
                (f.min_yuan, f.max_yuan, f.condition),
                (*lo, *hi, *cond),
                "{l:?} {who:?}"
            );
            assert_eq!(f.article.to_string(), *art);
        }
        let n31 = consequence(&[Liability::N31], &[], &j);
        assert!(
            n31.fines
                .iter()
                .any(|f| f.liable == Liable::ResponsiblePerson && f.or_warning)
        );
        // Out of force: a Chongqing-only liability is dropped in the national profile.
        let nat = consequence(
            &[Liability::C24],
            &[Measure::RectifyWithinLimit],
            &Jurisdiction::profile(Profile::NationalDraft),
        );
        assert!(nat.fines.is_empty() && nat.basis.is_empty());
        assert_eq!(nat.measures, vec![Measure::RectifyWithinLimit]);
    }

    /// J2: rule ids are distinct and name their requirement id.
    #[test]
    fn j2_rule_ids_are_unique_and_name_the_requirement() {
        let ids: std::collections::BTreeSet<&str> =
            RuleId::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(ids.len(), RuleId::ALL.len());
        for r in RuleId::ALL {
            let (req, _) = r.as_str().split_once('.').unwrap();
            assert!(format!("{r:?}").starts_with(req), "{r:?}");
        }
    }
}
