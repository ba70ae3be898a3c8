//! Jurisdiction profiles: which of the five texts apply, plus the operational thresholds the texts
//! leave to the operator. Where the texts differ the rule is configurable per jurisdiction; the
//! default profile is the strictest (every text applies at once).
//!
//! A local profile applies its own text *and* the national draft (001) as the national baseline.
//! A deployment that does not want the draft can build a profile with `sources` of its own.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::article::Source;

/// The named profiles shipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Union of every text: the strictest reading (default).
    #[default]
    Strictest,
    /// 001 only.
    NationalDraft,
    /// 001 + 002.
    Anhui,
    /// 001 + 003.
    Yangzhou,
    /// 001 + 004.
    Chongqing,
    /// 001 + 000.
    Shenzhen,
}

/// Thresholds that no text fixes; each is a policy choice of the operator, documented in
/// `docs/rules.md`. Defaults are deliberately strict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// D1: a device offline longer than this is a finding (004 §4 wants faults "repaired at once").
    pub offline_grace_minutes: i64,
    /// D1: recording completeness (0–1) over the health window below this is a finding.
    pub min_recording_completeness: f64,
    /// D2: an operating system with no duty-log entry for this long is a finding.
    pub duty_log_max_gap_hours: i64,
    /// D3: training older than this no longer counts (None: any record counts forever).
    pub training_valid_days: Option<i64>,
    /// "责令限期改正": the texts leave the time limit to the police; this is the default the
    /// findings carry until an inspector sets another.
    pub rectification_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            offline_grace_minutes: 15,
            min_recording_completeness: 0.98,
            duty_log_max_gap_hours: 24,
            training_valid_days: None,
            rectification_days: 15,
        }
    }
}

/// The rules in force where a system is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Jurisdiction {
    pub profile: Profile,
    /// Which texts apply.
    pub sources: Vec<Source>,
    /// When the local rules took effect; systems completed before it must file within 30 days
    /// of this date (004 §3, measures art. 15). None: no such transitional deadline.
    pub rules_effective_on: Option<NaiveDate>,
    pub policy: Policy,
}

impl Default for Jurisdiction {
    fn default() -> Self {
        Jurisdiction::profile(Profile::Strictest)
    }
}

impl Jurisdiction {
    pub fn profile(profile: Profile) -> Self {
        use Source::*;
        let (sources, effective) = match profile {
            Profile::Strictest => (Source::ALL.to_vec(), None),
            Profile::NationalDraft => (vec![National001], None),
            // 002: in force 2017-01-01; 003: 2021-04-12; 004: 2009-12-11 (per each text).
            Profile::Anhui => (
                vec![National001, Anhui002],
                NaiveDate::from_ymd_opt(2017, 1, 1),
            ),
            Profile::Yangzhou => (
                vec![National001, Yangzhou003],
                NaiveDate::from_ymd_opt(2021, 4, 12),
            ),
            Profile::Chongqing => (
                vec![National001, Chongqing004],
                NaiveDate::from_ymd_opt(2009, 12, 11),
            ),
            // The Shenzhen text is a draft without a date.
            Profile::Shenzhen => (vec![National001, Shenzhen000], None),
        };
        Jurisdiction {
            profile,
            sources,
            rules_effective_on: effective,
            policy: Policy::default(),
        }
    }

    pub fn applies(&self, s: Source) -> bool {
        self.sources.contains(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// B1/B2: the default profile is the strictest: every text applies.
    #[test]
    fn b1_b2_default_is_strictest_union() {
        let j = Jurisdiction::default();
        assert_eq!(j.profile, Profile::Strictest);
        for s in Source::ALL {
            assert!(j.applies(s), "{s:?}");
        }
        let cq = Jurisdiction::profile(Profile::Chongqing);
        assert!(cq.applies(Source::National001) && cq.applies(Source::Chongqing004));
        assert!(!cq.applies(Source::Anhui002));
    }
}
