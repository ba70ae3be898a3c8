//! The rule scan over stored data: a compliant registry has no finding; each case breaks it in
//! one way and must raise exactly the expected rules — and the fixed variant none (B1–B4,
//! C1–C3, D1–D3, F1; J2: every finding names its articles and consequence).

mod common;

use std::collections::BTreeSet;

use chrono::Duration;
use common::*;
use custos_core::Time90k;
use custos_core::compliance::Jurisdiction;
use custos_registry::scan;
use custos_store::registry::{ChangeRow, PlaceRow, ResidenceRow, StaffRow, TrainingRow};

async fn rules(e: &Env) -> BTreeSet<String> {
    let s = scan::scan(&e.store, now(), &Jurisdiction::default())
        .await
        .unwrap();
    assert!(s.unreadable.is_empty(), "{:?}", s.unreadable);
    for f in &s.findings {
        assert!(!f.articles.is_empty(), "J2: {} names no article", f.id);
        assert!(
            !f.consequence.measures.is_empty(),
            "J2: {} has no consequence",
            f.id
        );
    }
    s.findings.iter().map(|f| f.rule.to_string()).collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn second_system(e: &Env, id: &str, f: impl FnOnce(&mut custos_store::registry::SystemRow)) {
    let mut s = good_system(id);
    f(&mut s);
    e.store
        .upsert_system(&s, Time90k::from_datetime(now()))
        .await
        .unwrap();
    e.store
        .add_duty_log(id, "w1", Time90k::from_datetime(now()), "shift")
        .await
        .unwrap();
}

/// J1 negative control for every rule below (B1–B4, C1–C3, D1–D3, F1): the fully compliant
/// registry the rule tests start from raises no finding at all.
#[tokio::test]
async fn compliant_registry_has_no_finding() {
    let e = env().await;
    compliant(&e).await;
    assert_eq!(rules(&e).await, set(&[]));
}

/// B1: a mandatory place with no working camera; covered → none.
#[tokio::test]
async fn b1_mandatory_place_without_working_camera() {
    let e = env().await;
    compliant(&e).await;
    let school = PlaceRow {
        id: "p-school".into(),
        name: "school".into(),
        category: "mandatory:school_kindergarten".into(),
        anti_terror_key_target: false,
        polygon: None,
    };
    e.store.upsert_place(&school).await.unwrap();
    assert_eq!(rules(&e).await, set(&["B1.coverage"]));
    // A finding about a place with no device belongs to no system; an inspector of the
    // division may still order its rectification, someone without the role may not.
    scan::scan_and_save(
        &e.store,
        &e.journal,
        "scanner",
        now(),
        &Jurisdiction::default(),
    )
    .await
    .unwrap();
    let id = "B1.coverage:place:p-school";
    assert_eq!(e.store.finding(id).await.unwrap().system_id, None);
    let err = custos_registry::findings::advance(
        &e.store,
        &e.journal,
        &watch_operator("op"),
        id,
        custos_core::compliance::FindingStatus::RectificationOrdered,
        "",
        None,
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), custos_core::ErrorKind::PermissionDenied);
    custos_registry::findings::advance(
        &e.store,
        &e.journal,
        &inspector("insp"),
        id,
        custos_core::compliance::FindingStatus::RectificationOrdered,
        "",
        None,
        None,
        now(),
    )
    .await
    .unwrap();
    e.store
        .upsert_devices(&[good_camera(2, "s1", "p-school")])
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
    // A general place needs no camera.
    e.store
        .upsert_place(&PlaceRow {
            id: "p-alley".into(),
            name: "alley".into(),
            category: "general".into(),
            ..school
        })
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// B2: a device stored at a prohibited place (written past the import check) is a critical
/// finding with an immediate deadline.
#[tokio::test]
async fn b2_device_at_prohibited_place() {
    let e = env().await;
    compliant(&e).await;
    prohibited_place(&e).await;
    e.store
        .upsert_devices(&[good_camera(3, "s1", "p-wc")])
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["B2.prohibited-place"]));
    let s = scan::scan(&e.store, now(), &Jurisdiction::default())
        .await
        .unwrap();
    let f = &s.findings[0];
    assert_eq!(f.deadline, now(), "remove immediately");
    assert!(
        f.consequence
            .fines
            .iter()
            .any(|x| x.article.to_string() == "001 art. 27")
    );
    // Moved to the market: no finding.
    e.store
        .upsert_devices(&[good_camera(3, "s1", "p-market")])
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// B3: a field of view overlapping a residence without a mask; masked → none.
#[tokio::test]
async fn b3_residence_in_view_without_mask() {
    let e = env().await;
    compliant(&e).await;
    let cam = good_camera(1, "s1", "p-market");
    let lon = cam.lon.unwrap();
    e.store
        .upsert_residence(&ResidenceRow {
            id: "r-near".into(),
            name: "flat 3".into(),
            polygon: format!(
                "[[{},32.0399],[{},32.0399],[{},32.0401],[{},32.0401]]",
                lon + 0.0002,
                lon + 0.0006,
                lon + 0.0006,
                lon + 0.0002
            ),
        })
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["B3.residence-unmasked"]));
    e.store
        .upsert_devices(&[custos_store::registry::DeviceRow {
            privacy_mask: true,
            ..cam
        }])
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// B4: no signage.
#[tokio::test]
async fn b4_missing_signage() {
    let e = env().await;
    compliant(&e).await;
    let mut cam = good_camera(1, "s1", "p-market");
    cam.signage = false;
    e.store.upsert_devices(&[cam.clone()]).await.unwrap();
    assert_eq!(rules(&e).await, set(&["B4.signage"]));
    cam.signage = true;
    e.store.upsert_devices(&[cam]).await.unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// C1: in use but not accepted; not in use → none.
#[tokio::test]
async fn c1_in_use_not_accepted() {
    let e = env().await;
    compliant(&e).await;
    second_system(&e, "s2", |s| {
        s.state = "under_construction".into();
        s.accepted_on = None;
        s.put_into_use_on = None;
        s.filed_on = None;
    })
    .await;
    assert_eq!(rules(&e).await, set(&["C1.in-use-not-accepted"]));
    e.store.set_system_in_use("s2", false).await.unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// C2: not filed 30 days after acceptance; accepted 10 days ago → not yet due.
#[tokio::test]
async fn c2_filing_overdue() {
    let e = env().await;
    compliant(&e).await;
    second_system(&e, "s2", |s| {
        s.accepted_on = Some(days_ago(45));
        s.put_into_use_on = None;
        s.filed_on = None;
    })
    .await;
    assert_eq!(rules(&e).await, set(&["C2.filing-overdue"]));
    second_system(&e, "s3", |s| {
        s.accepted_on = Some(days_ago(10));
        s.put_into_use_on = None;
        s.filed_on = None;
    })
    .await;
    assert_eq!(
        rules(&e).await,
        set(&["C2.filing-overdue"]),
        "s3 is not due yet"
    );
}

/// C3: a removal not notified 10 days before; an adjustment not filed within 15 days.
#[tokio::test]
async fn c3_removal_notice_and_change_filing() {
    let e = env().await;
    compliant(&e).await;
    let removal = ChangeRow {
        id: "ch1".into(),
        system_id: "s1".into(),
        kind: "removal".into(),
        on_date: days_ago(-5),
        done: false,
        police_notified_on: None,
        filed_on: None,
    };
    e.store.upsert_change(&removal).await.unwrap();
    assert_eq!(rules(&e).await, set(&["C3.removal-notice"]));
    e.store
        .upsert_change(&ChangeRow {
            police_notified_on: Some(days_ago(10)),
            ..removal
        })
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
    let adj = ChangeRow {
        id: "ch2".into(),
        system_id: "s1".into(),
        kind: "adjustment".into(),
        on_date: days_ago(20),
        done: true,
        police_notified_on: None,
        filed_on: None,
    };
    e.store.upsert_change(&adj).await.unwrap();
    assert_eq!(rules(&e).await, set(&["C3.change-filing-overdue"]));
    e.store
        .upsert_change(&ChangeRow {
            filed_on: Some(days_ago(10)),
            ..adj
        })
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// D1: offline beyond the grace period (and the place loses coverage); incomplete recording.
#[tokio::test]
async fn d1_offline_and_incomplete() {
    let e = env().await;
    compliant(&e).await;
    let code = common::code(132, 1);
    let t = Time90k::from_datetime(now());
    e.store
        .set_device_health(
            &code,
            false,
            Some(Time90k::from_datetime(now() - Duration::minutes(5))),
            Some(1.0),
            t,
        )
        .await
        .unwrap();
    // Within the 15-minute grace: no D1, but the place has no working camera now.
    assert_eq!(rules(&e).await, set(&["B1.coverage"]));
    e.store
        .set_device_health(
            &code,
            false,
            Some(Time90k::from_datetime(now() - Duration::hours(1))),
            Some(1.0),
            t,
        )
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["B1.coverage", "D1.offline"]));
    e.store
        .set_device_health(&code, true, None, Some(0.9), t)
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["D1.recording-incomplete"]));
    e.store
        .set_device_health(&code, true, None, Some(0.99), t)
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// D2: missing emergency plan; no duty-log entry in 24 h.
#[tokio::test]
async fn d2_procedures_and_duty_log() {
    let e = env().await;
    compliant(&e).await;
    let mut s1 = good_system("s1");
    s1.has_emergency_plan = false;
    e.store
        .upsert_system(&s1, Time90k::from_datetime(now()))
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["D2.procedures"]));
    s1.has_emergency_plan = true;
    e.store
        .upsert_system(&s1, Time90k::from_datetime(now()))
        .await
        .unwrap();
    let mut s2 = good_system("s2");
    s2.state = "operating".into();
    e.store
        .upsert_system(&s2, Time90k::from_datetime(now()))
        .await
        .unwrap();
    e.store
        .add_duty_log(
            "s2",
            "w1",
            Time90k::from_datetime(now() - Duration::hours(30)),
            "old",
        )
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["D2.duty-log"]));
    e.store
        .add_duty_log(
            "s2",
            "w1",
            Time90k::from_datetime(now() - Duration::hours(1)),
            "new",
        )
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// D3: a staff member without secrecy training.
#[tokio::test]
async fn d3_missing_training() {
    let e = env().await;
    compliant(&e).await;
    e.store
        .upsert_staff(&StaffRow {
            id: "w2".into(),
            system_id: "s1".into(),
            name: "Wang".into(),
            role: "watch".into(),
            id_number: None,
        })
        .await
        .unwrap();
    for topic in ["legal", "skills", "safety"] {
        e.store
            .add_training(&TrainingRow {
                staff_id: "w2".into(),
                topic: topic.into(),
                on_date: days_ago(3),
                provider: "x".into(),
            })
            .await
            .unwrap();
    }
    assert_eq!(rules(&e).await, set(&["D3.training"]));
    e.store
        .add_training(&TrainingRow {
            staff_id: "w2".into(),
            topic: "secrecy".into(),
            on_date: days_ago(1),
            provider: "x".into(),
        })
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// F1: 30-day retention at an anti-terrorism key target (90 days, 003 art. 28).
#[tokio::test]
async fn f1_retention_below_minimum() {
    let e = env().await;
    compliant(&e).await;
    e.store
        .upsert_place(&PlaceRow {
            id: "p-market".into(),
            name: "market".into(),
            category: "mandatory:commercial_exhibition".into(),
            anti_terror_key_target: true,
            polygon: None,
        })
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["F1.retention"]));
    let mut cam = good_camera(1, "s1", "p-market");
    cam.retention = "90d".into();
    e.store.upsert_devices(&[cam]).await.unwrap();
    assert_eq!(rules(&e).await, set(&[]));
}

/// J1: saving scans keeps a finding's status, resolves what is no longer seen.
#[tokio::test]
async fn j1_scan_persistence_keeps_status_and_resolves() {
    let e = env().await;
    compliant(&e).await;
    let mut cam = good_camera(1, "s1", "p-market");
    cam.signage = false;
    e.store.upsert_devices(&[cam.clone()]).await.unwrap();
    let j = Jurisdiction::default();
    scan::scan_and_save(&e.store, &e.journal, "scanner", now(), &j)
        .await
        .unwrap();
    let f = e.store.findings(None, false).await.unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, "B4.signage");
    assert_eq!(f[0].system_id.as_deref(), Some("s1"));
    custos_registry::findings::advance(
        &e.store,
        &e.journal,
        &inspector("insp"),
        &f[0].id,
        custos_core::compliance::FindingStatus::RectificationOrdered,
        "fix it",
        None,
        None,
        now(),
    )
    .await
    .unwrap();
    let later = now() + Duration::hours(1);
    scan::scan_and_save(&e.store, &e.journal, "scanner", later, &j)
        .await
        .unwrap();
    assert_eq!(
        e.store.finding(&f[0].id).await.unwrap().status,
        "rectification_ordered"
    );
    cam.signage = true;
    e.store.upsert_devices(&[cam]).await.unwrap();
    scan::scan_and_save(
        &e.store,
        &e.journal,
        "scanner",
        later + Duration::hours(1),
        &j,
    )
    .await
    .unwrap();
    assert!(e.store.findings(None, false).await.unwrap().is_empty());
    assert_eq!(e.store.findings(None, true).await.unwrap().len(), 1);
}

/// A2: a row written past validation (bad code) is reported as unreadable, naming it, and does
/// not stop the scan.
#[tokio::test]
async fn a2_unreadable_stored_device_is_reported() {
    let e = env().await;
    compliant(&e).await;
    let mut bad = good_camera(9, "s1", "p-market");
    bad.code = "ABCDEFGHIJKLMNOPQRST".into();
    e.store.upsert_devices(&[bad]).await.unwrap();
    let s = scan::scan(&e.store, now(), &Jurisdiction::default())
        .await
        .unwrap();
    assert_eq!(s.devices, 2);
    assert_eq!(s.unreadable.len(), 1);
    assert!(
        s.unreadable[0].1.contains("ABCDEFGHIJKLMNOPQRST"),
        "{:?}",
        s.unreadable
    );
    assert!(s.findings.is_empty());
}

/// D1 thresholds are the deployment's policy (no text fixes them): the scan applies the area
/// policy to every system, each still under its own texts.
#[tokio::test]
async fn d1_policy_threshold_is_configurable() {
    let e = env().await;
    compliant(&e).await;
    let t = Time90k::from_datetime(now());
    e.store
        .set_device_health(&common::code(132, 1), true, None, Some(0.96), t)
        .await
        .unwrap();
    assert_eq!(rules(&e).await, set(&["D1.recording-incomplete"]));
    let mut lenient = Jurisdiction::default();
    lenient.policy.min_recording_completeness = 0.95;
    let s = scan::scan(&e.store, now(), &lenient).await.unwrap();
    assert!(s.findings.is_empty(), "{:?}", s.findings);
}
