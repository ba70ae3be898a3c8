//! Import/export (A2), lifecycle with evidence (C1–C4), A3 confidential reads, A4 archive,
//! J3 complaints, D6 reports, J1 inspections, I1 catalogue and the printable report.

mod common;

use std::io::Write;
use std::str::FromStr;

use chrono::Duration;
use common::*;
use custos_core::access::Placement;
use custos_core::camera::CameraName;
use custos_core::compliance::{FindingStatus, Jurisdiction, LifecycleState};
use custos_core::retention::RetentionClass;
use custos_core::{Duration90k, ErrorKind, Time90k};
use custos_ledger::Action;
use custos_registry::archive::{NewDocument, file_document};
use custos_registry::{access, complaint, import, inspection, lifecycle, report, scan, suspicious};

fn noop(_: usize, _: usize) {}

/// A2: 1,000 rows with 10 bad ones (each bad in a different way): exactly those rows are
/// reported with their column, the other 990 are imported.
#[tokio::test]
async fn a2_import_1000_rows_reports_exactly_the_10_bad() {
    let e = env().await;
    compliant(&e).await;
    prohibited_place(&e).await;
    let path = e.dir.path().join("devices.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        "code,system_id,name,lon,lat,bearing_deg,fov,place_id,signage,retention,stream_main"
    )
    .unwrap();
    let bad: [(usize, &str); 10] = [
        (7, "code"),
        (42, "code"),
        (100, "system_id"),
        (250, "lon"),
        (333, "bearing_deg"),
        (480, "fov"),
        (512, "place_id"),
        (640, "retention"),
        (777, "stream_main"),
        (999, "code"),
    ];
    for row in 1..=1000usize {
        let mut code = common::code(132, 1000 + row as u32);
        let (mut sys, mut lon, mut bearing, mut fov, mut place, mut ret, mut url) = (
            "s1".to_owned(),
            "118.78".to_owned(),
            "90".to_owned(),
            "118.78 32.04; 118.781 32.04; 118.781 32.041".to_owned(),
            "p-market".to_owned(),
            "30d".to_owned(),
            format!("rtsp://10.0.{}.{}/main", row / 256, row % 256),
        );
        match bad.iter().find(|b| b.0 == row).map(|b| b.1) {
            Some("code") if row == 7 => code = "1234".into(),
            Some("code") if row == 42 => code.replace_range(0..2, "99"),
            Some("code") => code = common::code(132, 1000 + 998), // duplicate of row 998
            Some("system_id") => sys = "nope".into(),
            Some("lon") => lon = "east".into(),
            Some("bearing_deg") => bearing = "400".into(),
            Some("fov") => fov = "118.78 32.04".into(),
            Some("place_id") => place = "p-wc".into(),
            Some("retention") => ret = "7d".into(),
            Some("stream_main") => url = "rtsp://admin:pw@10.0.0.1/main".into(),
            _ => {}
        }
        writeln!(
            f,
            "{code},{sys},cam {row},{lon},32.04,{bearing},{fov},{place},1,{ret},{url}"
        )
        .unwrap();
    }
    drop(f);
    let mut calls = 0;
    let r = import::import_file(&e.store, &e.journal, &path, None, "clerk", &mut |_, _| {
        calls += 1
    })
    .await
    .unwrap();
    let got: Vec<(usize, &str)> = r
        .errors
        .iter()
        .map(|x| (x.row, x.column.as_str()))
        .collect();
    assert_eq!(got, bad.to_vec(), "{:#?}", r.errors);
    assert_eq!((r.rows, r.imported), (1000, 990));
    assert!(calls >= 2, "progress reported per batch");
    // B2: the refusal names the article.
    let wc = r.errors.iter().find(|x| x.row == 512).unwrap();
    assert!(wc.message.contains("001 art. 11 para. 2"), "{}", wc.message);
    // 990 imported + the fixture's one camera.
    assert_eq!(e.store.device_count().await.unwrap(), 991);
    let last = e.entries().pop().unwrap();
    assert_eq!(last.action, Action::ConfigChange);
    assert_eq!(last.details["accepted"], 990);
}

/// A2: export to XLSX and CSV and re-import: the same devices, codes intact as text.
#[tokio::test]
async fn a2_export_xlsx_csv_round_trip() {
    let e = env().await;
    compliant(&e).await;
    let devs: Vec<_> = (2..40).map(|i| good_camera(i, "s1", "p-market")).collect();
    e.store.upsert_devices(&devs).await.unwrap();
    let all = e.store.devices(None).await.unwrap();
    for fmt in ["xlsx", "csv"] {
        let out = e.dir.path().join(format!("export.{fmt}"));
        import::write_devices(&all, &out, import::Format::from_str(fmt).unwrap()).unwrap();
        let e2 = env().await;
        compliant(&e2).await;
        let r = import::import_file(&e2.store, &e2.journal, &out, None, "clerk", &mut noop)
            .await
            .unwrap();
        assert!(r.errors.is_empty(), "{fmt}: {:?}", r.errors);
        let mut back = e2.store.devices(None).await.unwrap();
        let mut want = all.clone();
        for d in back.iter_mut().chain(want.iter_mut()) {
            // Health is not part of the registry file.
            d.health_at = None;
            d.completeness = None;
            d.online = false;
        }
        assert_eq!(back, want, "{fmt}");
    }
}

/// C1–C4: the transition table through the store: evidence from the archive, refusals name
/// the missing document and its article, the gate keeps streams off until accepted, deadlines
/// follow from the dates, and every transition is a ledger entry.
#[tokio::test]
async fn c1_c4_lifecycle_with_evidence() {
    let e = env().await;
    compliant(&e).await;
    let mut s = good_system("new");
    s.state = "planned".into();
    s.accepted_on = None;
    s.filed_on = None;
    s.put_into_use_on = None;
    e.store
        .upsert_system(&s, Time90k::from_datetime(now()))
        .await
        .unwrap();
    let doc = |kind: &'static str, dated: String| {
        let path = e.dir.path().join(format!("{kind}.pdf"));
        std::fs::write(&path, format!("{kind} content {dated}")).unwrap();
        (kind, dated, path)
    };
    let file = async |kind: &str, dated: &str, path: &std::path::Path, sup: Option<i64>| {
        file_document(
            &e.store,
            &e.journal,
            &e.data,
            &NewDocument {
                system_id: "new",
                kind,
                title: kind,
                dated,
                author_unit: "Design Institute",
                file: path,
                supersedes: sup,
                by: "clerk",
            },
            Time90k::from_datetime(now()),
        )
        .await
        .unwrap()
        .id
    };
    let go = async |to: LifecycleState, on: &str, ev: &[i64]| {
        lifecycle::transition(
            &e.store,
            &e.journal,
            &lifecycle::Request {
                system_id: "new",
                to,
                on: custos_registry::convert::parse_date(on).unwrap(),
                evidence: ev,
                by: "manager",
            },
            now(),
        )
        .await
    };
    // A transition dated in the future is refused.
    let err = go(LifecycleState::DesignReviewed, &days_ago(-3), &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    // Skipping ahead is refused.
    let err = go(LifecycleState::Accepted, &days_ago(50), &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    // Design review needs the plan and the feasibility review.
    let err = go(LifecycleState::DesignReviewed, &days_ago(100), &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("DesignPlan"), "{err}");
    let (k, d, p) = doc("design_plan", days_ago(110));
    let plan_v1 = file(k, &d, &p, None).await;
    std::fs::write(&p, "design plan v2").unwrap();
    let plan_v2 = file(k, &d, &p, Some(plan_v1)).await;
    let (k, d, p) = doc("feasibility_review", days_ago(105));
    let feas = file(k, &d, &p, None).await;
    // A superseded version is not evidence.
    let err = go(
        LifecycleState::DesignReviewed,
        &days_ago(100),
        &[plan_v1, feas],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("superseded"), "{err}");
    go(
        LifecycleState::DesignReviewed,
        &days_ago(100),
        &[plan_v2, feas],
    )
    .await
    .unwrap();
    go(LifecycleState::UnderConstruction, &days_ago(90), &[])
        .await
        .unwrap();
    assert!(
        lifecycle::gate_live(&e.store, "new").await.is_err(),
        "C1: not live before acceptance"
    );
    let err = go(LifecycleState::Accepted, &days_ago(40), &[])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("AcceptanceReport (001 art. 12 para. 1"),
        "{err}"
    );
    let (k, d, p) = doc("acceptance_report", days_ago(40));
    let acc = file(k, &d, &p, None).await;
    let (k, d, p) = doc("test_report", days_ago(41));
    let test = file(k, &d, &p, None).await;
    go(LifecycleState::Accepted, &days_ago(40), &[acc, test])
        .await
        .unwrap();
    lifecycle::gate_live(&e.store, "new").await.unwrap();
    lifecycle::gate_camera_live(&e.store, "door").await.unwrap();
    assert_eq!(
        e.store.system("new").await.unwrap().accepted_on,
        Some(days_ago(40))
    );
    // C2: filing due 30 days after acceptance, and overdue now.
    let dl = lifecycle::deadlines(&e.store, "new").await.unwrap();
    assert_eq!(dl[0].due.to_string(), days_ago(10));
    let s = scan::scan(&e.store, now(), &Jurisdiction::default())
        .await
        .unwrap();
    assert!(
        s.findings
            .iter()
            .any(|f| f.id == "C2.filing-overdue:system:new")
    );
    let err = go(LifecycleState::Filed, &days_ago(1), &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FilingReceipt"), "{err}");
    let (k, d, p) = doc("filing_receipt", days_ago(1));
    let rec = file(k, &d, &p, None).await;
    go(LifecycleState::Filed, &days_ago(1), &[rec])
        .await
        .unwrap();
    assert!(
        lifecycle::deadlines(&e.store, "new")
            .await
            .unwrap()
            .is_empty()
    );
    let hist = e.store.transitions("new").await.unwrap();
    assert_eq!(hist.len(), 4);
    for t in &hist {
        let entry = e.journal.ledger().entry(t.ledger_seq as u64).unwrap();
        assert_eq!(entry.action, Action::Other("LifecycleTransition".into()));
        assert_eq!(entry.details["to"], t.to_state.as_str());
    }
    // A4: the old plan stays, superseded; superseding it again is refused.
    let docs = e.store.documents("new").await.unwrap();
    let v1 = docs.iter().find(|d| d.id == plan_v1).unwrap();
    assert_eq!(v1.superseded_by, Some(plan_v2));
    assert!(e.data.join(&v1.path).exists());
    let err = file_document(
        &e.store,
        &e.journal,
        &e.data,
        &NewDocument {
            system_id: "new",
            kind: "design_plan",
            title: "v3",
            dated: &days_ago(1),
            author_unit: "x",
            file: &e.dir.path().join("design_plan.pdf"),
            supersedes: Some(plan_v1),
            by: "clerk",
        },
        Time90k::from_datetime(now()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
}

/// A3: reading a device's position without permission is refused (PermissionDenied → 403) and
/// recorded; with permission it is an audited ConfidentialRead; lists are masked for others.
#[tokio::test]
async fn a3_position_read_needs_permission_and_is_audited() {
    let e = env().await;
    compliant(&e).await;
    let code = common::code(132, 1);
    let before = e.entries().len();
    let op = watch_operator("op1");
    let err = access::read_device(&e.store, &e.journal, &op, &code, None, now())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let entries = e.entries();
    assert_eq!(entries.len(), before + 1);
    let denied = entries.last().unwrap();
    assert_eq!(denied.action, Action::AccessDenied);
    assert_eq!(denied.actor, "op1");
    assert_eq!(denied.object, format!("device/{code}"));
    let insp = inspector("insp1");
    let d = access::read_device(
        &e.store,
        &e.journal,
        &insp,
        &code,
        Some("inspection"),
        now(),
    )
    .await
    .unwrap();
    assert!(d.lon.is_some());
    let read = e.entries().pop().unwrap();
    assert_eq!(read.action, Action::ConfidentialRead);
    assert_eq!(read.actor, "insp1");
    let (list, full) = access::list_devices(&e.store, &e.journal, &op, "s1", now())
        .await
        .unwrap();
    assert!(!full);
    assert_eq!(list[0].lon, None);
    assert_eq!(list[0].fov, None);
    assert_eq!(
        list[0].code,
        format!("{}************{}", &code[..4], &code[16..])
    );
    let (list, full) = access::list_devices(&e.store, &e.journal, &insp, "s1", now())
        .await
        .unwrap();
    assert!(full && list[0].lon.is_some());
}

/// J3: anyone submits; the record is in the ledger and cannot be altered, even by SQL.
#[tokio::test]
async fn j3_complaints_are_append_only() {
    let e = env().await;
    let c = complaint::submit(
        &e.store,
        &e.journal,
        "District public security bureau",
        "Footage of my shop was shown to a third party.",
        None,
        Time90k::from_datetime(now()),
    )
    .await
    .unwrap();
    let entry = e.journal.ledger().entry(c.ledger_seq as u64).unwrap();
    assert_eq!(entry.actor, "public");
    assert_eq!(entry.details["sha256"], c.sha256.as_str());
    let err = e
        .store
        .try_rewrite_complaint(c.id, "nothing happened")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("database"), "{err}");
    assert_eq!(e.store.complaints().await.unwrap()[0].body, c.body);
    assert!(complaint::verify(&e.store).await.unwrap().is_empty());
    assert!(
        complaint::submit(
            &e.store,
            &e.journal,
            "",
            "x",
            None,
            Time90k::from_datetime(now())
        )
        .await
        .is_err()
    );
}

/// D6: a watch operator's report bookmarks the moment, holds the footage around it and
/// notifies the police side; someone without PlaceHold is refused and recorded.
#[tokio::test]
async fn d6_report_suspicious_bookmarks_holds_and_notifies() {
    let e = env().await;
    let name = CameraName::new("gate").unwrap();
    e.store
        .upsert_camera(
            &name,
            RetentionClass::Standard30d,
            Time90k::from_datetime(now()),
        )
        .await
        .unwrap();
    let at = Time90k::from_datetime(now() - Duration::minutes(3));
    let loc = Placement::new("320102", "s1", "p-market", "gate").scope();
    let s = suspicious::Suspicious {
        camera: "gate",
        location: loc.clone(),
        at,
        note: "unattended bag by the east gate",
        before: Duration90k::from_secs(300),
        after: Duration90k::from_secs(600),
    };
    let nobody = custos_core::access::Principal::new("visitor");
    let err = suspicious::report(&e.store, &e.journal, &nobody, &s, now())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let op = watch_operator("op1");
    let r = suspicious::report(&e.store, &e.journal, &op, &s, now())
        .await
        .unwrap();
    let cam = e.store.camera_by_name("gate").await.unwrap();
    let holds = e
        .store
        .active_holds(cam.id, at, at + Duration90k::from_secs(1))
        .await
        .unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!((holds[0].start, holds[0].end), (r.hold_from, r.hold_to));
    assert_eq!(r.hold_to - r.hold_from, Duration90k::from_secs(900));
    let b = e
        .store
        .bookmarks(
            "gate",
            at - Duration90k::from_secs(1),
            at + Duration90k::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].hold_id, Some(r.hold_id));
    assert!(
        e.store
            .bookmarks(
                "gate",
                at + Duration90k::from_secs(1),
                at + Duration90k::from_secs(60)
            )
            .await
            .unwrap()
            .is_empty()
    );
    let ev = e.store.events_since(0, 10).await.unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, "suspicious_report");
    assert!(ev[0].body.contains("unattended bag"));
    let entry = e.journal.ledger().entry(r.ledger_seq).unwrap();
    assert_eq!(entry.action, Action::HoldPlaced);
}

/// J1: an inspection fills its checklist; a failed item and the open findings become a
/// rectification order with a deadline, and the findings move to "rectification ordered".
#[tokio::test]
async fn j1_inspection_produces_rectification_order() {
    let e = env().await;
    compliant(&e).await;
    let mut cam = good_camera(1, "s1", "p-market");
    cam.signage = false;
    e.store.upsert_devices(&[cam]).await.unwrap();
    scan::scan_and_save(
        &e.store,
        &e.journal,
        "scanner",
        now(),
        &Jurisdiction::default(),
    )
    .await
    .unwrap();
    let insp = inspector("insp1");
    let err = inspection::start(
        &e.store,
        &e.journal,
        &watch_operator("op"),
        "s1",
        "construction",
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let id = inspection::start(&e.store, &e.journal, &insp, "s1", "construction", now())
        .await
        .unwrap();
    for item in inspection::checklist("construction").unwrap() {
        let ans = if item.key == "signage" {
            "fail"
        } else {
            "pass"
        };
        inspection::answer(&e.store, &insp, id, item.key, ans, "")
            .await
            .unwrap();
    }
    assert!(
        inspection::answer(&e.store, &insp, id, "bogus", "pass", "")
            .await
            .is_err()
    );
    let order = inspection::finish(&e.store, &e.journal, &insp, id, Some(10), now())
        .await
        .unwrap()
        .expect("an order");
    assert_eq!(order.deadline, days_ago(-10));
    assert!(order.items.contains("001 art. 10"));
    let f = e.store.findings(Some("s1"), false).await.unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, "rectification_ordered");
    assert_eq!(f[0].order_id, Some(order.id));
    // The status machine refuses skipping verification steps.
    let err = custos_registry::findings::advance(
        &e.store,
        &e.journal,
        &insp,
        &f[0].id,
        FindingStatus::Verified,
        "",
        None,
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
}

/// I1: the public catalogue lists systems that must connect and carries no confidential field.
#[tokio::test]
async fn i1_catalogue_has_no_confidential_field() {
    let e = env().await;
    compliant(&e).await;
    let cat = report::catalogue(&e.store).await.unwrap();
    assert_eq!(cat.len(), 1);
    assert_eq!(cat[0].cameras, 1);
    assert_eq!(cat[0].using_unit, "Market Co.");
    for ext in ["json", "csv", "html"] {
        let out = e.dir.path().join(format!("catalogue.{ext}"));
        report::catalogue_file(&cat, &out).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("Xinjiekou market cameras"));
        let code = common::code(132, 1);
        for secret in [&code[..], "118.78", "32.04", "rtsp://", "M-1"] {
            assert!(!text.contains(secret), "{ext} leaks {secret}");
        }
    }
}

/// J1/J2: the report prints to PDF (Chromium), renders to PNG (pdftoppm) and contains the
/// findings with their articles; building it needs ReadBasicInfo and is audited.
#[tokio::test]
async fn j2_report_pdf_renders_and_contains_findings() {
    let e = env().await;
    compliant(&e).await;
    let mut cam = good_camera(1, "s1", "p-market");
    cam.signage = false;
    e.store.upsert_devices(&[cam]).await.unwrap();
    scan::scan_and_save(
        &e.store,
        &e.journal,
        "scanner",
        now(),
        &Jurisdiction::default(),
    )
    .await
    .unwrap();
    let scope = report::Scope::System("s1".into());
    let err = report::render_html(
        &e.store,
        &e.journal,
        &watch_operator("op"),
        &scope,
        None,
        now(),
        report::Lang::En,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    // An uploaded site plan (SVG) under the market, drawn beneath the devices.
    let plan_file = e.dir.path().join("site.svg");
    std::fs::write(
        &plan_file,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="#ccd"/></svg>"##,
    )
    .unwrap();
    let plan = report::PlanImage::load(&plan_file, "118.779,32.039,118.782,32.041").unwrap();
    assert!(report::PlanImage::load(&plan_file, "118.78,32.04,118.77,32.05").is_err());
    let pdf = e.dir.path().join("report.pdf");
    report::write_report(
        &e.store,
        &e.journal,
        &inspector("insp1"),
        &scope,
        Some(&plan),
        &pdf,
        now(),
        report::Lang::En,
    )
    .await
    .unwrap();
    let html = std::fs::read_to_string(pdf.with_extension("html")).unwrap();
    assert!(html.contains("<svg") && html.contains("class=\"device\""));
    assert!(html.contains("class=\"site-plan\"") && html.contains("data:image/svg+xml;base64,"));
    let png = e.dir.path().join("page");
    let st = std::process::Command::new("timeout")
        .args(["60", "pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(&png)
        .status()
        .unwrap();
    assert!(st.success());
    let page = std::fs::read_dir(e.dir.path())
        .unwrap()
        .filter_map(|d| d.ok())
        .find(|d| d.file_name().to_string_lossy().starts_with("page"))
        .expect("a PNG page");
    assert!(page.metadata().unwrap().len() > 5_000);
    let text = std::process::Command::new("timeout")
        .args(["60", "pdftotext", "-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("B4.signage"), "{flat}");
    assert!(flat.contains("001 art. 10"), "{flat}");
    assert!(flat.contains("Findings by article"), "{flat}");
    assert!(
        e.entries()
            .iter()
            .any(|x| x.action == Action::ConfidentialRead && x.actor == "insp1")
    );
}

/// J1/J2: the report is written in Chinese by default and prints Chinese names: a device
/// named in Chinese is in `pdftotext`'s output of the Chromium-printed PDF (a CJK font is
/// installed: fonts-noto-cjk), with the Chinese headings and consequences; `Lang::En` gives
/// the English headings for the same data.
#[tokio::test]
async fn j1_j2_report_in_chinese_prints_chinese_device_names() {
    let e = env().await;
    compliant(&e).await;
    let mut cam = good_camera(1, "s1", "p-market");
    cam.name = "新街口市场东门摄像机".into();
    cam.signage = false;
    e.store.upsert_devices(&[cam]).await.unwrap();
    scan::scan_and_save(
        &e.store,
        &e.journal,
        "scanner",
        now(),
        &Jurisdiction::default(),
    )
    .await
    .unwrap();
    let scope = report::Scope::System("s1".into());
    let pdf_text = |lang: report::Lang, name: &str| {
        let pdf = e.dir.path().join(name);
        let (store, journal, scope) = (&e.store, &e.journal, &scope);
        async move {
            report::write_report(
                store,
                journal,
                &inspector("insp1"),
                scope,
                None,
                &pdf,
                now(),
                lang,
            )
            .await
            .unwrap();
            let o = std::process::Command::new("timeout")
                .args(["60", "pdftotext", "-layout"])
                .arg(&pdf)
                .arg("-")
                .output()
                .unwrap();
            assert!(o.status.success(), "pdftotext failed");
            // pdftotext may split runs of CJK text with spaces: compare without white space.
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .collect::<String>()
        }
    };
    let zh = pdf_text(report::Lang::default(), "report-zh.pdf").await;
    for want in [
        "新街口市场东门摄像机",
        "合规报告",
        "按条款列出的问题",
        "设备清单",
        "001art.10",
    ] {
        assert!(zh.contains(want), "{want:?} not in the Chinese PDF: {zh}");
    }
    assert!(!zh.contains("Findingsbyarticle"), "{zh}");
    let en = pdf_text(report::Lang::En, "report-en.pdf").await;
    for want in [
        "新街口市场东门摄像机",
        "Findingsbyarticle",
        "Compliancereport",
    ] {
        assert!(en.contains(want), "{want:?} not in the English PDF: {en}");
    }
    assert!("fr".parse::<report::Lang>().is_err());
}

/// I4: an access-control device registers like a camera and its events enter the linked
/// camera's timeline and the ledger; a camera cannot report alarm events.
#[tokio::test]
async fn i4_alarm_events_on_timeline_and_ledger() {
    let e = env().await;
    compliant(&e).await;
    let mut door = good_camera(0, "s1", "p-market");
    door.code = common::code(135, 77);
    door.kind = "access_control".into();
    door.camera_name = Some("gate".into());
    e.store.upsert_devices(&[door.clone()]).await.unwrap();
    let at = Time90k::from_datetime(now());
    let ev = custos_registry::alarm::record_event(
        &e.store,
        &e.journal,
        &door.code,
        "door_forced",
        at,
        serde_json::json!({"door": "east"}),
        at,
    )
    .await
    .unwrap();
    assert_eq!(ev.kind, "access_control:door_forced");
    let tl = e
        .store
        .camera_events(
            "gate",
            at - Duration90k::from_secs(1),
            at + Duration90k::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(tl.len(), 1);
    let entry = e.entries().pop().unwrap();
    assert_eq!(entry.action, Action::Other("DeviceEvent".into()));
    assert_eq!(entry.details["event"], "door_forced");
    let cam = common::code(132, 1);
    let err = custos_registry::alarm::record_event(
        &e.store,
        &e.journal,
        &cam,
        "intrusion",
        at,
        serde_json::json!({}),
        at,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}
