//! Table tests of every rule: input → finding (with its article) or none.

#![allow(clippy::type_complexity)] // the case tables are tuples by design

use super::*;
use crate::compliance::findings::{FindingStatus, Liable, Measure};
use crate::compliance::jurisdiction::Profile;
use crate::compliance::places::{MandatoryCategory, ProhibitedCategory};

fn now() -> DateTime<Utc> {
    // 2025-06-30 12:00 China Standard Time.
    DateTime::parse_from_rfc3339("2025-06-30T04:00:00Z")
        .unwrap()
        .to_utc()
}
fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}
fn strict() -> Jurisdiction {
    Jurisdiction::default()
}
fn prof(p: Profile) -> Jurisdiction {
    Jurisdiction::profile(p)
}

fn dev(serial: u32) -> DeviceRecord {
    DeviceRecord {
        code: format!("3401000000132{:07}", serial).parse().unwrap(),
        system_id: "sys".into(),
        place_id: Some("p".into()),
        public_area: true,
        activated: true,
        signage_present: true,
        field_of_view: Vec::new(),
        has_static_privacy_mask: false,
        retention: RetentionClass::Standard30d,
        health: DeviceHealth {
            online: true,
            offline_since: None,
            recording_completeness: Some(1.0),
        },
    }
}

fn sys(state: LifecycleState) -> SystemRecord {
    SystemRecord {
        id: "sys".into(),
        state,
        in_use: state == LifecycleState::Operating,
        accepted_on: Some(d(2025, 1, 1)),
        put_into_use_on: None,
        filed_on: Some(d(2025, 1, 15)),
        completed_before_rules: false,
        stores_police_important_info: false,
        duty: DutyRecord {
            has_duty_roster: true,
            has_operating_procedures: true,
            has_emergency_plan: true,
            last_duty_log_at: Some(now() - chrono::Duration::hours(2)),
        },
        changes: Vec::new(),
    }
}

fn place(cat: PlaceCategory) -> PlaceRecord {
    PlaceRecord {
        id: "p".into(),
        category: cat,
        anti_terror_key_target: false,
    }
}

/// Asserts a rule's output: `want` None = no finding; Some(art) = exactly the expected rule with
/// `art` among its citations (or in its message).
fn check(name: &str, got: Vec<Finding>, rule: RuleId, want: Option<&str>) {
    match want {
        None => assert!(got.is_empty(), "{name}: unexpected {got:#?}"),
        Some(art) => {
            assert_eq!(got.len(), 1, "{name}: {got:#?}");
            let f = &got[0];
            assert_eq!(f.rule, rule, "{name}");
            assert_eq!(f.status, FindingStatus::Open);
            let cited = super::cite(&f.articles);
            assert!(
                cited.contains(art) || f.message.contains(art),
                "{name}: want {art} in {cited} / {}",
                f.message
            );
        }
    }
}

/// B2: devices at prohibited places → "remove immediately" with articles and fine ranges.
#[test]
fn b2_prohibited_place_table() {
    use ProhibitedCategory::*;
    let cases: Vec<(&str, PlaceCategory, Jurisdiction, Option<&str>)> = vec![
        (
            "toilet, strictest",
            PlaceCategory::Prohibited(Toilet),
            strict(),
            Some("001 art. 11 para. 2"),
        ),
        (
            "bathhouse, Yangzhou",
            PlaceCategory::Prohibited(Bathhouse),
            prof(Profile::Yangzhou),
            Some("003 art. 9"),
        ),
        (
            "nursing room, Anhui",
            PlaceCategory::Prohibited(NursingRoom),
            prof(Profile::Anhui),
            Some("002 §3(2) (measures art. 8)"),
        ),
        (
            "KTV room, Chongqing",
            PlaceCategory::Prohibited(EntertainmentPrivateRoom),
            prof(Profile::Chongqing),
            Some("004 §4 (measures art. 9)"),
        ),
        (
            "KTV room, national",
            PlaceCategory::Prohibited(EntertainmentPrivateRoom),
            prof(Profile::NationalDraft),
            None,
        ),
        (
            "hotel lobby",
            PlaceCategory::Mandatory(MandatoryCategory::HotelSpecialTrade),
            strict(),
            None,
        ),
        ("general", PlaceCategory::General, strict(), None),
    ];
    for (name, cat, j, want) in cases {
        let got: Vec<_> = b2_prohibited_place(&dev(1), Some(&place(cat)), now(), &j)
            .into_iter()
            .collect();
        check(name, got, RuleId::B2ProhibitedPlace, want);
    }
    // Consequence: immediate removal; 001 art. 27 and 004 §5 fine ranges in the strictest profile.
    let f = b2_prohibited_place(
        &dev(1),
        Some(&place(PlaceCategory::Prohibited(Toilet))),
        now(),
        &strict(),
    )
    .unwrap();
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.deadline, f.detected_at);
    assert!(f.consequence.measures.contains(&Measure::RemoveImmediately));
    assert_eq!(f.consequence.max_unit_fine(), Some(100_000));
    assert!(
        f.consequence
            .fines
            .iter()
            .any(|x| x.liable == Liable::Unit && x.min_yuan == 1_000 && x.max_yuan == 3_000)
    );
    assert!(f.message.contains("remove it immediately"));
    // No place known → nothing to judge.
    assert!(b2_prohibited_place(&dev(1), None, now(), &strict()).is_none());
}

/// B3: field of view overlapping a residence without a static mask.
#[test]
fn b3_residence_table() {
    let sq = |x: f64, y: f64, s: f64| {
        vec![
            LonLat::new(x, y),
            LonLat::new(x + s, y),
            LonLat::new(x + s, y + s),
            LonLat::new(x, y + s),
        ]
    };
    let home = ResidenceRecord {
        id: "home-1".into(),
        polygon: sq(117.2700, 31.8600, 0.0002),
    };
    let cases: Vec<(&str, Vec<LonLat>, bool, Jurisdiction, Option<&str>)> = vec![
        (
            "view into home",
            sq(117.2701, 31.8601, 0.0002),
            false,
            strict(),
            Some("001 art. 11 para. 1"),
        ),
        (
            "masked",
            sq(117.2701, 31.8601, 0.0002),
            true,
            strict(),
            None,
        ),
        (
            "view elsewhere",
            sq(117.2800, 31.8700, 0.0002),
            false,
            strict(),
            None,
        ),
        ("no view registered", Vec::new(), false, strict(), None),
        (
            "view into home, national",
            sq(117.2701, 31.8601, 0.0002),
            false,
            prof(Profile::NationalDraft),
            Some("001 art. 11 para. 1"),
        ),
    ];
    for (name, fov, mask, j, want) in cases {
        let mut d = dev(2);
        d.field_of_view = fov;
        d.has_static_privacy_mask = mask;
        check(
            name,
            b3_residence_unmasked(&d, std::slice::from_ref(&home), now(), &j),
            RuleId::B3ResidenceUnmasked,
            want,
        );
    }
}

/// B4: missing signage.
#[test]
fn b4_signage_table() {
    let cases: Vec<(&str, bool, bool, Jurisdiction, Option<&str>)> = vec![
        (
            "public, no sign",
            true,
            false,
            strict(),
            Some("001 art. 10"),
        ),
        ("public, sign", true, true, strict(), None),
        (
            "private, no sign, Yangzhou",
            false,
            false,
            prof(Profile::Yangzhou),
            Some("003 art. 14"),
        ),
        (
            "private, no sign, Anhui",
            false,
            false,
            prof(Profile::Anhui),
            Some("002 §4 (measures art. 14)"),
        ),
        (
            "private, no sign, national",
            false,
            false,
            prof(Profile::NationalDraft),
            None,
        ),
        (
            "public, no sign, Chongqing",
            true,
            false,
            prof(Profile::Chongqing),
            Some("004 §4 (measures art. 10)"),
        ),
    ];
    for (name, public, sign, j, want) in cases {
        let mut d = dev(3);
        d.public_area = public;
        d.signage_present = sign;
        check(
            name,
            b4_signage(&d, now(), &j).into_iter().collect(),
            RuleId::B4Signage,
            want,
        );
    }
}

/// B1: a mandatory place without a working camera.
#[test]
fn b1_coverage_table() {
    use MandatoryCategory::*;
    let operating = sys(LifecycleState::Operating);
    let building = sys(LifecycleState::UnderConstruction);
    let offline = {
        let mut x = dev(4);
        x.health.online = false;
        x
    };
    let encoder = {
        let mut x = dev(5);
        x.code = "34010000001130000005".parse().unwrap();
        x
    };
    let cam = dev(6);
    let cases: Vec<(
        &str,
        MandatoryCategory,
        Vec<&DeviceRecord>,
        &SystemRecord,
        Jurisdiction,
        Option<&str>,
    )> = vec![
        (
            "school, no device",
            SchoolKindergarten,
            vec![],
            &operating,
            strict(),
            Some("002 §2(11)"),
        ),
        (
            "school, working camera",
            SchoolKindergarten,
            vec![&cam],
            &operating,
            strict(),
            None,
        ),
        (
            "school, camera offline",
            SchoolKindergarten,
            vec![&offline],
            &operating,
            strict(),
            Some("003 art. 8(1)"),
        ),
        (
            "school, only an encoder",
            SchoolKindergarten,
            vec![&encoder],
            &operating,
            strict(),
            Some("004 §2(6)"),
        ),
        (
            "school, camera of unaccepted system",
            SchoolKindergarten,
            vec![&cam],
            &building,
            strict(),
            Some("002 §2(11)"),
        ),
        (
            "school, national profile has no list",
            SchoolKindergarten,
            vec![],
            &operating,
            prof(Profile::NationalDraft),
            None,
        ),
        (
            "fuel station, Yangzhou",
            FuelStationDepot,
            vec![],
            &operating,
            prof(Profile::Yangzhou),
            Some("003 art. 8(2)"),
        ),
        (
            "fuel station, Chongqing",
            FuelStationDepot,
            vec![],
            &operating,
            prof(Profile::Chongqing),
            None,
        ),
    ];
    for (name, cat, devs, s, j, want) in cases {
        let systems: HashMap<&str, &SystemRecord> = [("sys", s)].into_iter().collect();
        let p = place(PlaceCategory::Mandatory(cat));
        check(
            name,
            b1_coverage(&p, &devs, &systems, now(), &j)
                .into_iter()
                .collect(),
            RuleId::B1Coverage,
            want,
        );
    }
}

/// C1: in use but not accepted.
#[test]
fn c1_in_use_not_accepted_table() {
    use LifecycleState::*;
    let cases = [
        (
            "under construction, in use",
            UnderConstruction,
            true,
            Some("001 art. 12 para. 1"),
        ),
        (
            "design reviewed, in use",
            DesignReviewed,
            true,
            Some("003 art. 15"),
        ),
        (
            "decommissioned, in use",
            Decommissioned,
            true,
            Some("001 art. 12 para. 1"),
        ),
        (
            "under construction, not in use",
            UnderConstruction,
            false,
            None,
        ),
        ("accepted, in use", Accepted, true, None),
        ("operating, in use", Operating, true, None),
    ];
    for (name, state, in_use, want) in cases {
        let mut s = sys(state);
        s.in_use = in_use;
        let got: Vec<_> = c1_in_use_not_accepted(&s, now(), &strict())
            .into_iter()
            .collect();
        if let Some(f) = got.first() {
            assert_eq!(f.severity, Severity::Critical);
            assert!(f.consequence.measures.contains(&Measure::StopUse));
            assert!(
                f.consequence
                    .basis
                    .iter()
                    .any(|a| a.to_string() == "001 art. 28(3)")
            );
        }
        check(name, got, RuleId::C1InUseNotAccepted, want);
    }
}

/// C2: filing overdue 30 days after acceptance (001 art. 12 para. 2) / delivery for use (002 §6) /
/// rules effective (004 §3).
#[test]
fn c2_filing_overdue_table() {
    // now = 2025-06-30 (CST).
    let cases: Vec<(
        &str,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<NaiveDate>,
        bool,
        Jurisdiction,
        Option<&str>,
    )> = vec![
        (
            "accepted 31 days ago, not filed",
            Some(d(2025, 5, 30)),
            None,
            None,
            false,
            strict(),
            Some("001 art. 12 para. 2"),
        ),
        (
            "accepted 30 days ago, not filed (last day)",
            Some(d(2025, 5, 31)),
            None,
            None,
            false,
            strict(),
            None,
        ),
        (
            "accepted long ago, filed",
            Some(d(2025, 1, 1)),
            None,
            Some(d(2025, 1, 20)),
            false,
            strict(),
            None,
        ),
        (
            "in use 40 days, accepted 10 days ago, Anhui",
            Some(d(2025, 6, 20)),
            Some(d(2025, 5, 21)),
            None,
            false,
            prof(Profile::Anhui),
            Some("002 §6(1) (measures art. 13)"),
        ),
        (
            "same, national profile",
            Some(d(2025, 6, 20)),
            Some(d(2025, 5, 21)),
            None,
            false,
            prof(Profile::NationalDraft),
            None,
        ),
        (
            "pre-existing, Chongqing",
            None,
            None,
            None,
            true,
            prof(Profile::Chongqing),
            Some("004 §3 (measures art. 15)"),
        ),
        ("never accepted", None, None, None, false, strict(), None),
    ];
    for (name, acc, used, filed, before, j, want) in cases {
        let mut s = sys(LifecycleState::Operating);
        s.accepted_on = acc;
        s.put_into_use_on = used;
        s.filed_on = filed;
        s.completed_before_rules = before;
        let got: Vec<_> = c2_filing_overdue(&s, now(), &j).into_iter().collect();
        if let Some(f) = got.first() {
            assert!(
                f.consequence
                    .basis
                    .iter()
                    .any(|a| a.to_string() == "001 art. 29")
            );
            assert_eq!(
                f.deadline,
                now() + chrono::Duration::days(j.policy.rectification_days)
            );
        }
        check(name, got, RuleId::C2FilingOverdue, want);
    }
}

/// C3: removal notice 10 days before (003 art. 17); change filing 15 days after (000 §3(2)).
#[test]
fn c3_changes_table() {
    let ch = |kind, on, done, notified, filed| ChangeRecord {
        id: "ch1".into(),
        kind,
        on,
        done,
        police_notified_on: notified,
        filed_on: filed,
    };
    use ChangeKind::*;
    let cases: Vec<(&str, ChangeRecord, Jurisdiction, Vec<RuleId>)> = vec![
        (
            "removal in 5 days, not notified",
            ch(Removal, d(2025, 7, 5), false, None, None),
            strict(),
            vec![RuleId::C3RemovalNotice],
        ),
        (
            "removal in 15 days, not notified yet",
            ch(Removal, d(2025, 7, 15), false, None, None),
            strict(),
            vec![],
        ),
        (
            "removal in 5 days, notified 12 days before",
            ch(Removal, d(2025, 7, 5), false, Some(d(2025, 6, 23)), None),
            strict(),
            vec![],
        ),
        (
            "removal done, notified 3 days before, filed",
            ch(
                Removal,
                d(2025, 6, 10),
                true,
                Some(d(2025, 6, 7)),
                Some(d(2025, 6, 12)),
            ),
            strict(),
            vec![RuleId::C3RemovalNotice],
        ),
        (
            "removal done 20 days ago, not filed",
            ch(Removal, d(2025, 6, 10), true, Some(d(2025, 5, 20)), None),
            strict(),
            vec![RuleId::C3ChangeFilingOverdue],
        ),
        (
            "adjustment 15 days ago, not filed (last day)",
            ch(Adjustment, d(2025, 6, 15), true, None, None),
            strict(),
            vec![],
        ),
        (
            "adjustment 16 days ago, not filed",
            ch(Adjustment, d(2025, 6, 14), true, None, None),
            strict(),
            vec![RuleId::C3ChangeFilingOverdue],
        ),
        (
            "adjustment 16 days ago, Yangzhou (no 000)",
            ch(Adjustment, d(2025, 6, 14), true, None, None),
            prof(Profile::Yangzhou),
            vec![],
        ),
        (
            "removal in 5 days, Anhui (no 003)",
            ch(Removal, d(2025, 7, 5), false, None, None),
            prof(Profile::Anhui),
            vec![],
        ),
    ];
    for (name, c, j, want) in cases {
        let mut s = sys(LifecycleState::Operating);
        s.changes = vec![c];
        let got = c3_changes(&s, now(), &j);
        let rules: Vec<RuleId> = got.iter().map(|f| f.rule).collect();
        assert_eq!(rules, want, "{name}: {got:#?}");
        for f in &got {
            let art = if f.rule == RuleId::C3RemovalNotice {
                "003 art. 17"
            } else {
                "000 §3(2) (draft art. 16)"
            };
            assert_eq!(super::cite(&f.articles), art, "{name}");
        }
    }
}

/// D1: offline beyond grace, completeness below threshold.
#[test]
fn d1_health_table() {
    let min = chrono::Duration::minutes;
    let cases: Vec<(
        &str,
        bool,
        Option<DateTime<Utc>>,
        Option<f64>,
        LifecycleState,
        Vec<RuleId>,
    )> = vec![
        (
            "healthy",
            true,
            None,
            Some(0.999),
            LifecycleState::Operating,
            vec![],
        ),
        (
            "offline 5 min",
            false,
            Some(now() - min(5)),
            Some(1.0),
            LifecycleState::Operating,
            vec![],
        ),
        (
            "offline 2 h",
            false,
            Some(now() - min(120)),
            Some(1.0),
            LifecycleState::Operating,
            vec![RuleId::D1Offline],
        ),
        (
            "offline since unknown",
            false,
            None,
            None,
            LifecycleState::Operating,
            vec![RuleId::D1Offline],
        ),
        (
            "completeness 90%",
            true,
            None,
            Some(0.90),
            LifecycleState::Operating,
            vec![RuleId::D1RecordingIncomplete],
        ),
        (
            "both",
            false,
            Some(now() - min(600)),
            Some(0.5),
            LifecycleState::Operating,
            vec![RuleId::D1Offline, RuleId::D1RecordingIncomplete],
        ),
        (
            "system still under construction",
            false,
            None,
            Some(0.0),
            LifecycleState::UnderConstruction,
            vec![],
        ),
    ];
    for (name, online, since, compl, state, want) in cases {
        let mut dv = dev(7);
        dv.health = DeviceHealth {
            online,
            offline_since: since,
            recording_completeness: compl,
        };
        let s = sys(state);
        let got = d1_health(&dv, Some(&s), now(), &strict());
        assert_eq!(
            got.iter().map(|f| f.rule).collect::<Vec<_>>(),
            want,
            "{name}"
        );
        for f in &got {
            assert!(
                super::cite(&f.articles).contains("004 §4 (measures art. 19)"),
                "{name}"
            );
        }
    }
    // A deactivated device is not judged.
    let mut dv = dev(8);
    dv.activated = false;
    dv.health.online = false;
    assert!(d1_health(&dv, Some(&sys(LifecycleState::Operating)), now(), &strict()).is_empty());
}

/// D2: duty roster, procedures, emergency plan, duty log.
#[test]
fn d2_duty_table() {
    let h = chrono::Duration::hours;
    let cases: Vec<(&str, DutyRecord, Vec<RuleId>, &str)> = vec![
        ("complete", sys(LifecycleState::Operating).duty, vec![], ""),
        (
            "no roster",
            DutyRecord {
                has_duty_roster: false,
                ..sys(LifecycleState::Operating).duty
            },
            vec![RuleId::D2Procedures],
            "duty-watch roster",
        ),
        (
            "no plan",
            DutyRecord {
                has_emergency_plan: false,
                ..sys(LifecycleState::Operating).duty
            },
            vec![RuleId::D2Procedures],
            "emergency plan",
        ),
        (
            "log 30 h old",
            DutyRecord {
                last_duty_log_at: Some(now() - h(30)),
                ..sys(LifecycleState::Operating).duty
            },
            vec![RuleId::D2DutyLog],
            "last 24 h",
        ),
        (
            "never logged",
            DutyRecord {
                last_duty_log_at: None,
                ..sys(LifecycleState::Operating).duty
            },
            vec![RuleId::D2DutyLog],
            "never",
        ),
    ];
    for (name, duty, want, msg) in cases {
        let mut s = sys(LifecycleState::Operating);
        s.duty = duty;
        let got = d2_duty(&s, now(), &strict());
        assert_eq!(
            got.iter().map(|f| f.rule).collect::<Vec<_>>(),
            want,
            "{name}"
        );
        for f in &got {
            assert!(f.message.contains(msg), "{name}: {}", f.message);
            assert!(super::cite(&f.articles).contains("001 art. 17(1)"));
        }
    }
    // Not operating: not judged.
    let mut s = sys(LifecycleState::UnderConstruction);
    s.duty = DutyRecord::default();
    assert!(d2_duty(&s, now(), &strict()).is_empty());
}

/// D3: training on legal, secrecy, skills (001 art. 17(2)) and safety (002 §6).
#[test]
fn d3_training_table() {
    use TrainingTopic::*;
    let tr = |topics: &[TrainingTopic]| {
        topics
            .iter()
            .map(|t| TrainingRecord {
                topic: *t,
                on: d(2025, 1, 10),
            })
            .collect::<Vec<_>>()
    };
    let cases: Vec<(&str, Vec<TrainingRecord>, Jurisdiction, Option<&str>)> = vec![
        (
            "all four, strictest",
            tr(&[Legal, Secrecy, Skills, Safety]),
            strict(),
            None,
        ),
        (
            "no safety, strictest",
            tr(&[Legal, Secrecy, Skills]),
            strict(),
            Some("002 §6 (measures art. 17)"),
        ),
        (
            "no safety, national",
            tr(&[Legal, Secrecy, Skills]),
            prof(Profile::NationalDraft),
            None,
        ),
        (
            "no secrecy, national",
            tr(&[Legal, Skills]),
            prof(Profile::NationalDraft),
            Some("001 art. 17(2)"),
        ),
        (
            "nothing",
            vec![],
            prof(Profile::Chongqing),
            Some("001 art. 17(2)"),
        ),
    ];
    for (name, trainings, j, want) in cases {
        let p = StaffRecord {
            id: "alice".into(),
            system_id: "sys".into(),
            trainings,
        };
        check(
            name,
            d3_training(&p, now(), &j).into_iter().collect(),
            RuleId::D3Training,
            want,
        );
    }
    // Validity window (policy): training older than a year no longer counts.
    let mut j = prof(Profile::NationalDraft);
    j.policy.training_valid_days = Some(365);
    let old = StaffRecord {
        id: "bob".into(),
        system_id: "sys".into(),
        trainings: [Legal, Secrecy, Skills]
            .iter()
            .map(|t| TrainingRecord {
                topic: *t,
                on: d(2024, 1, 1),
            })
            .collect(),
    };
    assert!(d3_training(&old, now(), &j).is_some());
}

/// F1: retention class vs the legal minimum for place and system.
#[test]
fn f1_retention_table() {
    let cases: Vec<(&str, RetentionClass, bool, bool, Jurisdiction, Option<&str>)> = vec![
        (
            "30 d, general",
            RetentionClass::Standard30d,
            false,
            false,
            strict(),
            None,
        ),
        (
            "30 d, anti-terror key target",
            RetentionClass::Standard30d,
            true,
            false,
            strict(),
            Some("003 art. 28"),
        ),
        (
            "90 d, anti-terror key target",
            RetentionClass::KeyTarget90d,
            true,
            false,
            strict(),
            None,
        ),
        (
            "30 d, key target, national",
            RetentionClass::Standard30d,
            true,
            false,
            prof(Profile::NationalDraft),
            None,
        ),
        (
            "90 d, police important info",
            RetentionClass::KeyTarget90d,
            false,
            true,
            strict(),
            Some("004 §4 (measures art. 19)"),
        ),
        (
            "2 y, police important info",
            RetentionClass::PoliceEvidence2y,
            false,
            true,
            strict(),
            None,
        ),
        (
            "90 d, police important info, Anhui",
            RetentionClass::KeyTarget90d,
            false,
            true,
            prof(Profile::Anhui),
            None,
        ),
    ];
    for (name, class, key, police, j, want) in cases {
        let mut dv = dev(9);
        dv.retention = class;
        let mut p = place(PlaceCategory::General);
        p.anti_terror_key_target = key;
        let mut s = sys(LifecycleState::Operating);
        s.stores_police_important_info = police;
        check(
            name,
            f1_retention(&dv, Some(&p), Some(&s), now(), &j)
                .into_iter()
                .collect(),
            RuleId::F1Retention,
            want,
        );
    }
    assert_eq!(
        f1_minimum_days(None, None, &strict()),
        (30, ART_F1_30.to_vec())
    );
}

/// J1/J2: evaluate runs every rule over a snapshot; ids are stable and findings sorted.
#[test]
fn j1_evaluate_snapshot() {
    let mut ok_sys = sys(LifecycleState::Operating);
    ok_sys.id = "ok".into();
    let mut bad_sys = sys(LifecycleState::UnderConstruction);
    bad_sys.id = "bad".into();
    bad_sys.in_use = true;
    bad_sys.accepted_on = None;
    bad_sys.filed_on = None;
    bad_sys.duty = DutyRecord::default(); // in use, so D2 applies
    let mut gone = sys(LifecycleState::Decommissioned);
    gone.id = "gone".into();

    let mut toilet_cam = dev(10);
    toilet_cam.system_id = "ok".into();
    toilet_cam.place_id = Some("wc".into());
    let mut school_cam = dev(11);
    school_cam.system_id = "ok".into();
    school_cam.place_id = Some("school".into());
    let mut dead_cam = dev(12);
    dead_cam.system_id = "gone".into();
    dead_cam.signage_present = false; // ignored: its system is decommissioned

    let snap = RegistrySnapshot {
        systems: vec![ok_sys, bad_sys, gone],
        devices: vec![toilet_cam, school_cam, dead_cam],
        places: vec![
            PlaceRecord {
                id: "wc".into(),
                category: PlaceCategory::Prohibited(ProhibitedCategory::Toilet),
                anti_terror_key_target: false,
            },
            PlaceRecord {
                id: "school".into(),
                category: PlaceCategory::Mandatory(MandatoryCategory::SchoolKindergarten),
                anti_terror_key_target: false,
            },
            PlaceRecord {
                id: "hospital".into(),
                category: PlaceCategory::Mandatory(MandatoryCategory::MedicalInstitution),
                anti_terror_key_target: false,
            },
        ],
        residences: vec![],
        staff: vec![StaffRecord {
            id: "carol".into(),
            system_id: "ok".into(),
            trainings: vec![],
        }],
    };
    let f = evaluate(&snap, now(), &strict());
    let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "B1.coverage:place:hospital",
            "B2.prohibited-place:device:34010000001320000010",
            "C1.in-use-not-accepted:system:bad",
            "D2.duty-log:system:bad",
            "D2.procedures:system:bad",
            "D3.training:staff:carol",
        ],
        "{f:#?}"
    );
    // Stable: the same snapshot gives the same ids.
    assert_eq!(
        evaluate(&snap, now(), &strict())
            .iter()
            .map(|f| f.id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    // Status machine on a real finding.
    let mut b2 = f[1].clone();
    assert!(b2.advance(FindingStatus::Verified).is_err());
    b2.advance(FindingStatus::RectificationOrdered).unwrap();
    b2.advance(FindingStatus::Rectified).unwrap();
    b2.advance(FindingStatus::Verified).unwrap();
    assert!(b2.advance(FindingStatus::Open).is_err());
}
