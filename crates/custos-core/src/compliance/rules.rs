//! The rules: pure functions from plain input records (which the store will fill) to findings.
//! Each rule takes the records it needs, `now` and the [`Jurisdiction`]; [`evaluate`] runs them
//! all over a [`RegistrySnapshot`]. Rule ids, articles and consequences: `docs/rules.md`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::article::{Article, Source, cite};
use super::device_code::DeviceCode;
use super::findings::{Finding, Liability, Measure, RuleId, Severity, Subject, consequence};
use super::geo::{LonLat, polygons_overlap};
use super::jurisdiction::Jurisdiction;
use super::lifecycle::{
    self, ART_CHANGE_FILING, ART_NOT_ACCEPTED, ART_REMOVAL_NOTICE, LifecycleState, legal_date,
};
use super::places::PlaceCategory;
use crate::retention::RetentionClass;

// ---------------------------------------------------------------------------------------------
// Input records.

/// Everything the rules look at, as plain data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistrySnapshot {
    pub systems: Vec<SystemRecord>,
    pub devices: Vec<DeviceRecord>,
    pub places: Vec<PlaceRecord>,
    pub residences: Vec<ResidenceRecord>,
    pub staff: Vec<StaffRecord>,
}

/// A1/C1–C3/D2: one system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemRecord {
    pub id: String,
    pub state: LifecycleState,
    /// Observed: streams are live, recorded or viewed (whatever the registered state says).
    pub in_use: bool,
    pub accepted_on: Option<NaiveDate>,
    /// 交付使用 date (002 §6 counts the filing period from it).
    pub put_into_use_on: Option<NaiveDate>,
    /// Date of the police filing receipt.
    pub filed_on: Option<NaiveDate>,
    /// Completed before the local rules took effect (004 §3 transitional filing).
    pub completed_before_rules: bool,
    /// F1: this system stores important public-safety information handed to the police
    /// (004 §4: at least 2 years).
    pub stores_police_important_info: bool,
    pub duty: DutyRecord,
    pub changes: Vec<ChangeRecord>,
}

/// D2: duty-watch arrangements of a system.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DutyRecord {
    pub has_duty_roster: bool,
    pub has_operating_procedures: bool,
    pub has_emergency_plan: bool,
    pub last_duty_log_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Adjustment,
    Removal,
}

/// C3: a planned or performed adjustment or removal of equipment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub id: String,
    pub kind: ChangeKind,
    /// Legal date it is planned for, or was done on.
    pub on: NaiveDate,
    pub done: bool,
    pub police_notified_on: Option<NaiveDate>,
    pub filed_on: Option<NaiveDate>,
}

/// A2/D1: one device with its latest health.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub code: DeviceCode,
    pub system_id: String,
    pub place_id: Option<String>,
    /// Installed in a social public area (社会公共区域).
    pub public_area: bool,
    /// Activated: meant to be capturing (not a spare, not switched off by decision).
    pub activated: bool,
    pub signage_present: bool,
    /// Field of view on the ground, WGS-84; empty if unknown.
    pub field_of_view: Vec<LonLat>,
    /// A static privacy mask (G3) hides residences in the view.
    pub has_static_privacy_mask: bool,
    pub retention: RetentionClass,
    pub health: DeviceHealth,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceHealth {
    pub online: bool,
    /// When it went offline, if it is offline and that is known.
    pub offline_since: Option<DateTime<Utc>>,
    /// Recording completeness over the health window, 0–1; None if not measured.
    pub recording_completeness: Option<f64>,
}

/// B1/B2/F1: a registered place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceRecord {
    pub id: String,
    pub category: PlaceCategory,
    /// An anti-terrorism key target (反恐重点目标; 003 art. 28: 90 days).
    pub anti_terror_key_target: bool,
}

/// B3: a registered residence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidenceRecord {
    pub id: String,
    pub polygon: Vec<LonLat>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingTopic {
    /// 法律知识 (001 art. 17(2)).
    Legal,
    /// 保密知识 (001 art. 17(2); 002 §6).
    Secrecy,
    /// 岗位技能 (001 art. 17(2)).
    Skills,
    /// 安全知识 (002 §6, measures art. 17).
    Safety,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub topic: TrainingTopic,
    pub on: NaiveDate,
}

/// A5/D3: a person who watches, operates or maintains a system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffRecord {
    pub id: String,
    pub system_id: String,
    pub trainings: Vec<TrainingRecord>,
}

// ---------------------------------------------------------------------------------------------
// Articles.

fn in_force(arts: &[Article], j: &Jurisdiction) -> Vec<Article> {
    arts.iter()
        .copied()
        .filter(|a| j.applies(a.source))
        .collect()
}

const ART_B3: [Article; 1] = [Article::para(Source::National001, 11, 1)];
const ART_B4: [Article; 4] = [
    Article::art(Source::National001, 10),
    Article::sec(Source::Anhui002, 4, None, Some(14)),
    Article::art(Source::Yangzhou003, 14),
    Article::sec(Source::Chongqing004, 4, None, Some(10)),
];
const ART_D1: [Article; 2] = [
    Article::sec(Source::Chongqing004, 4, None, Some(19)),
    Article::item(Source::National001, 17, 3),
];
const ART_D2: [Article; 3] = [
    Article::item(Source::National001, 17, 1),
    Article::art(Source::Yangzhou003, 30),
    Article::sec(Source::Chongqing004, 4, None, Some(19)),
];
const ART_D3_N: Article = Article::item(Source::National001, 17, 2);
const ART_D3_A: Article = Article::sec(Source::Anhui002, 6, None, Some(17));
const ART_D3_C: Article = Article::sec(Source::Chongqing004, 4, None, Some(19));
const ART_F1_30: [Article; 3] = [
    Article::art(Source::National001, 20),
    Article::art(Source::Yangzhou003, 28),
    Article::sec(Source::Chongqing004, 4, None, Some(19)),
];
const ART_F1_90: Article = Article::art(Source::Yangzhou003, 28);
const ART_F1_2Y: Article = Article::sec(Source::Chongqing004, 4, None, Some(19));

// ---------------------------------------------------------------------------------------------
// Rules.

/// B2: a device registered at a place of a prohibited category. Refuse registration/activation
/// with [`super::places::check_placement`]; an existing one is this finding: order immediate
/// removal (001 art. 27; 004 §5).
pub fn b2_prohibited_place(
    d: &DeviceRecord,
    place: Option<&PlaceRecord>,
    now: DateTime<Utc>,
    j: &Jurisdiction,
) -> Option<Finding> {
    let place = place?;
    let PlaceCategory::Prohibited(p) = place.category else {
        return None;
    };
    let arts = p.articles_in(j);
    if arts.is_empty() {
        return None;
    }
    let c = consequence(
        &[Liability::N27, Liability::C24],
        &[Measure::RemoveImmediately],
        j,
    );
    Some(Finding::new(
        RuleId::B2ProhibitedPlace,
        Subject::Device(d.code),
        None,
        arts.clone(),
        Severity::Critical,
        now,
        c,
        j,
        format!(
            "device {} is installed at place {} in {} ({}), where capture devices are prohibited \
             ({}); remove it immediately",
            d.code,
            place.id,
            p.en(),
            p.zh(),
            cite(&arts)
        ),
    ))
}

/// B3: the device's field of view overlaps a registered residence and it has no static privacy
/// mask. One finding per residence.
pub fn b3_residence_unmasked(
    d: &DeviceRecord,
    residences: &[ResidenceRecord],
    now: DateTime<Utc>,
    j: &Jurisdiction,
) -> Vec<Finding> {
    let arts = in_force(&ART_B3, j);
    if arts.is_empty() || d.has_static_privacy_mask || d.field_of_view.len() < 3 {
        return Vec::new();
    }
    residences
        .iter()
        .filter(|r| polygons_overlap(&d.field_of_view, &r.polygon))
        .map(|r| {
            Finding::new(
                RuleId::B3ResidenceUnmasked,
                Subject::Device(d.code),
                Some(&r.id),
                arts.clone(),
                Severity::High,
                now,
                consequence(&[], &[Measure::RectifyWithinLimit], j),
                j,
                format!(
                    "the field of view of device {} overlaps residence {} and no static privacy \
                     mask is set; mask or reposition it before it records ({})",
                    d.code,
                    r.id,
                    cite(&arts)
                ),
            )
        })
        .collect()
}

/// B4: no conspicuous signage. Public-area devices everywhere (001 art. 10; 004 §4); every
/// device where 002 §4 or 003 art. 14 applies (they do not limit the duty to public areas).
pub fn b4_signage(d: &DeviceRecord, now: DateTime<Utc>, j: &Jurisdiction) -> Option<Finding> {
    if d.signage_present {
        return None;
    }
    let arts: Vec<Article> = in_force(&ART_B4, j)
        .into_iter()
        .filter(|a| d.public_area || matches!(a.source, Source::Anhui002 | Source::Yangzhou003))
        .collect();
    if arts.is_empty() {
        return None;
    }
    Some(Finding::new(
        RuleId::B4Signage,
        Subject::Device(d.code),
        None,
        arts.clone(),
        Severity::Low,
        now,
        consequence(&[], &[Measure::RectifyWithinLimit], j),
        j,
        format!(
            "device {} has no conspicuous signage ({})",
            d.code,
            cite(&arts)
        ),
    ))
}

/// Is this device a working camera: a camera (131/132) that is activated, online, and belongs to
/// an accepted system?
pub fn is_working_camera(d: &DeviceRecord, system: Option<&SystemRecord>) -> bool {
    d.code.is_camera()
        && d.activated
        && d.health.online
        && system.is_some_and(|s| s.state.is_accepted())
}

/// B1: a registered place of a category mandatory in `j` with no working camera.
pub fn b1_coverage(
    place: &PlaceRecord,
    devices_at_place: &[&DeviceRecord],
    systems: &HashMap<&str, &SystemRecord>,
    now: DateTime<Utc>,
    j: &Jurisdiction,
) -> Option<Finding> {
    let PlaceCategory::Mandatory(m) = place.category else {
        return None;
    };
    let arts = m.articles_in(j);
    if arts.is_empty() {
        return None;
    }
    let working = devices_at_place
        .iter()
        .filter(|d| is_working_camera(d, systems.get(d.system_id.as_str()).copied()))
        .count();
    if working > 0 {
        return None;
    }
    Some(Finding::new(
        RuleId::B1Coverage,
        Subject::Place(place.id.clone()),
        None,
        arts.clone(),
        Severity::High,
        now,
        consequence(&[], &[Measure::RectifyWithinLimit], j),
        j,
        format!(
            "place {} is {} ({}), which must be covered ({}), but has no working camera \
             ({} device(s) registered there)",
            place.id,
            m.en(),
            m.zh(),
            cite(&arts),
            devices_at_place.len()
        ),
    ))
}

/// C1: a system in use that has not passed acceptance (or is decommissioned).
pub fn c1_in_use_not_accepted(
    s: &SystemRecord,
    now: DateTime<Utc>,
    j: &Jurisdiction,
) -> Option<Finding> {
    if !s.in_use || s.state.is_accepted() {
        return None;
    }
    let arts = in_force(&ART_NOT_ACCEPTED, j);
    Some(Finding::new(
        RuleId::C1InUseNotAccepted,
        Subject::System(s.id.clone()),
        None,
        arts.clone(),
        Severity::Critical,
        now,
        consequence(&[Liability::N28], &[Measure::StopUse], j),
        j,
        format!(
            "system {} is in use but its state is {}: a system not accepted must not be put into \
             use ({}); its streams must not go live",
            s.id,
            s.state,
            cite(&arts)
        ),
    ))
}

/// C2: an accepted (or in-use) system not filed with the police by its due date.
pub fn c2_filing_overdue(
    s: &SystemRecord,
    now: DateTime<Utc>,
    j: &Jurisdiction,
) -> Option<Finding> {
    if s.filed_on.is_some() || s.state == LifecycleState::Decommissioned {
        return None;
    }
    let due = lifecycle::filing_due(
        s.accepted_on,
        s.put_into_use_on,
        s.completed_before_rules,
        j,
    )?;
    let today = legal_date(now);
    if today <= due.due {
        return None;
    }
    Some(Finding::new(
        RuleId::C2FilingOverdue,
        Subject::System(s.id.clone()),
        None,
        due.articles.clone(),
        Severity::Medium,
        now,
        consequence(&[Liability::N29], &[Measure::RectifyWithinLimit], j),
        j,
        format!(
            "system {} was due to be filed with the police by {} ({}); {} day(s) overdue",
            s.id,
            due.due,
            cite(&due.articles),
            (today - due.due).num_days()
        ),
    ))
}

/// C3: removal notice missing or late (003 art. 17: 10 days before), adjustment/removal filing
/// overdue (000 §3(2): 15 days after).
pub fn c3_changes(s: &SystemRecord, now: DateTime<Utc>, j: &Jurisdiction) -> Vec<Finding> {
    let today = legal_date(now);
    let mut out = Vec::new();
    for ch in &s.changes {
        if ch.kind == ChangeKind::Removal
            && let Some(due) = lifecycle::removal_notice_due(ch.on, j)
        {
            let problem = match ch.police_notified_on {
                None if today > due.due => Some(format!(
                    "removal {} on {} was not notified to the police by {}",
                    ch.id, ch.on, due.due
                )),
                Some(n) if n > due.due => Some(format!(
                    "removal {} on {} was notified to the police on {}, later than {}",
                    ch.id, ch.on, n, due.due
                )),
                _ => None,
            };
            if let Some(p) = problem {
                out.push(Finding::new(
                    RuleId::C3RemovalNotice,
                    Subject::System(s.id.clone()),
                    Some(&ch.id),
                    ART_REMOVAL_NOTICE.to_vec(),
                    Severity::Medium,
                    now,
                    consequence(&[Liability::N31], &[Measure::RectifyWithinLimit], j),
                    j,
                    format!("{p} (003 art. 17: at least 10 days before)"),
                ));
            }
        }
        if ch.done
            && ch.filed_on.is_none()
            && let Some(due) = lifecycle::change_filing_due(ch.on, j)
            && today > due.due
        {
            out.push(Finding::new(
                RuleId::C3ChangeFilingOverdue,
                Subject::System(s.id.clone()),
                Some(&ch.id),
                ART_CHANGE_FILING.to_vec(),
                Severity::Medium,
                now,
                consequence(&[], &[Measure::RectifyWithinLimit], j),
                j,
                format!(
                    "{:?} {} done on {} was due to be filed by {} ({}); {} day(s) overdue",
                    ch.kind,
                    ch.id,
                    ch.on,
                    due.due,
                    cite(&ART_CHANGE_FILING),
                    (today - due.due).num_days()
                ),
            ));
        }
    }
    out
}

fn system_operating(s: Option<&SystemRecord>) -> bool {
    s.is_some_and(|s| {
        s.in_use
            || matches!(
                s.state,
                LifecycleState::Operating | LifecycleState::Adjusting
            )
    })
}

/// D1: an activated device of an operating system offline beyond the grace period, or recording
/// completeness below the policy threshold.
pub fn d1_health(
    d: &DeviceRecord,
    system: Option<&SystemRecord>,
    now: DateTime<Utc>,
    j: &Jurisdiction,
) -> Vec<Finding> {
    let arts = in_force(&ART_D1, j);
    if arts.is_empty() || !d.activated || !system_operating(system) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let grace = chrono::Duration::minutes(j.policy.offline_grace_minutes);
    let offline_too_long = !d.health.online
        && d.health
            .offline_since
            .is_none_or(|since| now - since > grace);
    if offline_too_long {
        let since = d
            .health
            .offline_since
            .map_or("an unknown time".to_owned(), |t| t.to_rfc3339());
        out.push(Finding::new(
            RuleId::D1Offline,
            Subject::Device(d.code),
            None,
            arts.clone(),
            Severity::High,
            now,
            consequence(&[Liability::N30], &[Measure::RepairImmediately], j),
            j,
            format!(
                "device {} has been offline since {since} (more than {} min); systems run 24 hours \
                 a day and faults are repaired at once ({})",
                d.code,
                j.policy.offline_grace_minutes,
                cite(&arts)
            ),
        ));
    }
    if let Some(c) = d.health.recording_completeness
        && c < j.policy.min_recording_completeness
    {
        out.push(Finding::new(
            RuleId::D1RecordingIncomplete,
            Subject::Device(d.code),
            None,
            arts.clone(),
            Severity::Medium,
            now,
            consequence(&[Liability::N30], &[Measure::RectifyWithinLimit], j),
            j,
            format!(
                "device {} recorded {:.1}% of the window, below the {:.1}% threshold ({})",
                d.code,
                c * 100.0,
                j.policy.min_recording_completeness * 100.0,
                cite(&arts)
            ),
        ));
    }
    out
}

/// D2: an operating system without duty roster / operating procedures / emergency plan, or
/// without a duty-log entry within the policy's gap.
pub fn d2_duty(s: &SystemRecord, now: DateTime<Utc>, j: &Jurisdiction) -> Vec<Finding> {
    let arts = in_force(&ART_D2, j);
    if arts.is_empty() || !system_operating(Some(s)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut missing = Vec::new();
    if !s.duty.has_duty_roster {
        missing.push("duty-watch roster");
    }
    if !s.duty.has_operating_procedures {
        missing.push("operating procedures");
    }
    if !s.duty.has_emergency_plan {
        missing.push("emergency plan");
    }
    if !missing.is_empty() {
        out.push(Finding::new(
            RuleId::D2Procedures,
            Subject::System(s.id.clone()),
            None,
            arts.clone(),
            Severity::Medium,
            now,
            consequence(&[Liability::N30], &[Measure::RectifyWithinLimit], j),
            j,
            format!(
                "system {} has no {} ({})",
                s.id,
                missing.join(", "),
                cite(&arts)
            ),
        ));
    }
    let gap = chrono::Duration::hours(j.policy.duty_log_max_gap_hours);
    if s.duty.last_duty_log_at.is_none_or(|t| now - t > gap) {
        let last = s
            .duty
            .last_duty_log_at
            .map_or("never".to_owned(), |t| t.to_rfc3339());
        out.push(Finding::new(
            RuleId::D2DutyLog,
            Subject::System(s.id.clone()),
            None,
            arts.clone(),
            Severity::Medium,
            now,
            consequence(&[Liability::N30], &[Measure::RectifyWithinLimit], j),
            j,
            format!(
                "system {} has no duty-log entry in the last {} h (last: {last}) ({})",
                s.id,
                j.policy.duty_log_max_gap_hours,
                cite(&arts)
            ),
        ));
    }
    out
}

/// The training topics required in `j`, each with its article.
pub fn required_training(j: &Jurisdiction) -> Vec<(TrainingTopic, Article)> {
    let mut v = Vec::new();
    if j.applies(Source::National001) {
        v.push((TrainingTopic::Legal, ART_D3_N));
        v.push((TrainingTopic::Secrecy, ART_D3_N));
        v.push((TrainingTopic::Skills, ART_D3_N));
    }
    if j.applies(Source::Anhui002) {
        v.push((TrainingTopic::Safety, ART_D3_A));
        v.push((TrainingTopic::Secrecy, ART_D3_A));
    }
    if j.applies(Source::Chongqing004) && v.is_empty() {
        // 004 requires training without naming topics: any record will do.
        v.push((TrainingTopic::Skills, ART_D3_C));
    }
    v
}

/// D3: a staff member lacks a (valid) training record on a required topic.
pub fn d3_training(p: &StaffRecord, now: DateTime<Utc>, j: &Jurisdiction) -> Option<Finding> {
    let today = legal_date(now);
    let valid = |t: &TrainingRecord| {
        t.on <= today
            && j.policy
                .training_valid_days
                .is_none_or(|days| (today - t.on).num_days() <= days)
    };
    let mut missing: Vec<TrainingTopic> = Vec::new();
    let mut arts: Vec<Article> = Vec::new();
    for (topic, art) in required_training(j) {
        let chongqing_any = art == ART_D3_C;
        let ok = p
            .trainings
            .iter()
            .any(|t| valid(t) && (chongqing_any || t.topic == topic));
        if !ok {
            if !missing.contains(&topic) {
                missing.push(topic);
            }
            if !arts.contains(&art) {
                arts.push(art);
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    missing.sort();
    Some(Finding::new(
        RuleId::D3Training,
        Subject::Staff(p.id.clone()),
        None,
        arts.clone(),
        Severity::Medium,
        now,
        consequence(&[Liability::N30], &[Measure::RectifyWithinLimit], j),
        j,
        format!(
            "staff {} of system {} has no {}training on {:?} ({})",
            p.id,
            p.system_id,
            if j.policy.training_valid_days.is_some() {
                "current "
            } else {
                ""
            },
            missing,
            cite(&arts)
        ),
    ))
}

/// F1: the legal minimum retention in days for a device, with the articles that set it.
pub fn f1_minimum_days(
    place: Option<&PlaceRecord>,
    system: Option<&SystemRecord>,
    j: &Jurisdiction,
) -> (u32, Vec<Article>) {
    let mut days = 0;
    let mut arts = in_force(&ART_F1_30, j);
    if !arts.is_empty() {
        days = 30;
    }
    if place.is_some_and(|p| p.anti_terror_key_target) && j.applies(ART_F1_90.source) {
        days = 90;
        arts = vec![ART_F1_90];
    }
    if system.is_some_and(|s| s.stores_police_important_info) && j.applies(ART_F1_2Y.source) {
        days = 730;
        arts = vec![ART_F1_2Y];
    }
    (days, arts)
}

/// F1: a device's retention class below the legal minimum for its place and system.
pub fn f1_retention(
    d: &DeviceRecord,
    place: Option<&PlaceRecord>,
    system: Option<&SystemRecord>,
    now: DateTime<Utc>,
    j: &Jurisdiction,
) -> Option<Finding> {
    let (min, arts) = f1_minimum_days(place, system, j);
    if d.retention.days() >= min {
        return None;
    }
    Some(Finding::new(
        RuleId::F1Retention,
        Subject::Device(d.code),
        None,
        arts.clone(),
        Severity::High,
        now,
        consequence(&[Liability::N30], &[Measure::RectifyWithinLimit], j),
        j,
        format!(
            "device {} keeps footage {} days, below the minimum of {min} days ({})",
            d.code,
            d.retention.days(),
            cite(&arts)
        ),
    ))
}

/// Runs every rule over the snapshot. Findings are sorted by id; ids are stable across runs.
pub fn evaluate(snap: &RegistrySnapshot, now: DateTime<Utc>, j: &Jurisdiction) -> Vec<Finding> {
    let systems: HashMap<&str, &SystemRecord> =
        snap.systems.iter().map(|s| (s.id.as_str(), s)).collect();
    let places: HashMap<&str, &PlaceRecord> =
        snap.places.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut at_place: HashMap<&str, Vec<&DeviceRecord>> = HashMap::new();
    let mut out = Vec::new();

    for d in &snap.devices {
        let system = systems.get(d.system_id.as_str()).copied();
        if system.is_some_and(|s| s.state == LifecycleState::Decommissioned) {
            continue;
        }
        let place = d.place_id.as_deref().and_then(|p| places.get(p).copied());
        if let Some(p) = &d.place_id {
            at_place.entry(p.as_str()).or_default().push(d);
        }
        out.extend(b2_prohibited_place(d, place, now, j));
        out.extend(b3_residence_unmasked(d, &snap.residences, now, j));
        out.extend(b4_signage(d, now, j));
        out.extend(d1_health(d, system, now, j));
        out.extend(f1_retention(d, place, system, now, j));
    }
    for p in &snap.places {
        let devs = at_place
            .get(p.id.as_str())
            .map_or(&[][..], |v| v.as_slice());
        out.extend(b1_coverage(p, devs, &systems, now, j));
    }
    for s in &snap.systems {
        out.extend(c1_in_use_not_accepted(s, now, j));
        out.extend(c2_filing_overdue(s, now, j));
        out.extend(c3_changes(s, now, j));
        out.extend(d2_duty(s, now, j));
    }
    for p in &snap.staff {
        if systems
            .get(p.system_id.as_str())
            .is_some_and(|s| s.state != LifecycleState::Decommissioned)
        {
            out.extend(d3_training(p, now, j));
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
