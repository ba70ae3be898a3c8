//! Retention tests (F1, F2, E3, E5): real segments recorded from the simulator, then the
//! sweeper run against an injected free-space source and an injected "now".

mod common;

use common::*;
use custos_core::{Duration90k, Time90k};
use custos_footage::DataDir;
use custos_footage::retention::{DiskSpace, Space, SweepPolicy, sweep};
use custos_store::{SegmentState, Store};

/// A disk that always reports the given free fraction.
struct FakeDisk(f64);

impl DiskSpace for FakeDisk {
    fn space(&self, _: &std::path::Path) -> custos_core::Result<Space> {
        let total = 1_000_000_000u64;
        Ok(Space {
            total_bytes: total,
            free_bytes: (total as f64 * self.0) as u64,
        })
    }
}

fn now() -> Time90k {
    Time90k::from_system_time(std::time::SystemTime::now())
}

/// F1, F2, E3, E5: with the disk "full", segments inside their minimum survive a sweep and an
/// alarm is raised; 31 days later the 30-day camera's segments go — except those under a legal
/// hold — while the 90-day camera's stay; with free space, nothing is deleted even when expired.
#[test]
fn f1_f2_sweeper_never_deletes_inside_minimum_or_hold() {
    let sim = Camsim::start(&CamsimOptions {
        cameras: 2,
        ..small_cam("h264")
    })
    .unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data_dir = tmp.path().join("data");
    let cfg = write_config(
        tmp.path(),
        5,
        &[
            ("short", sim.url(1), "retention = \"30d\""),
            ("long", sim.url(2), "retention = \"90d\""),
        ],
    );
    record_ok(data_dir.to_str().unwrap(), cfg.to_str().unwrap(), "14s");
    drop(sim);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let data = DataDir::open_existing(&data_dir).unwrap();
        let store = Store::open_sqlite(&data.db_path()).await.unwrap();
        let (journal, _) = custos_footage::Journal::open(&data).unwrap();
        let short = store.camera_by_name("short").await.unwrap();
        let long = store.camera_by_name("long").await.unwrap();
        let short_stream = store
            .stream_of(&short, "main".parse().unwrap())
            .await
            .unwrap();
        let long_stream = store
            .stream_of(&long, "main".parse().unwrap())
            .await
            .unwrap();
        let seg_count = |s: Vec<custos_store::Segment>, st: SegmentState| {
            s.iter().filter(|x| x.state == st).count()
        };
        let n_short = seg_count(
            store.stream_segments(short_stream.id).await.unwrap(),
            SegmentState::Sealed,
        );
        let n_long = seg_count(
            store.stream_segments(long_stream.id).await.unwrap(),
            SegmentState::Sealed,
        );
        assert!(
            n_short >= 2 && n_long >= 2,
            "need several segments per camera"
        );

        // Disk full, nothing expired: nothing deleted, alarm raised.
        let full = FakeDisk(0.01);
        let r = sweep(
            &store,
            &data,
            &journal,
            &full,
            SweepPolicy::default(),
            now(),
        )
        .await
        .unwrap();
        assert!(r.deleted.is_empty(), "deleted inside the minimum: {r:?}");
        assert!(
            r.alarm.as_deref().unwrap_or("").contains("nearly full"),
            "{r:?}"
        );
        assert!(
            store
                .active_alarms()
                .await
                .unwrap()
                .iter()
                .any(|a| a.kind == "disk_nearly_full")
        );

        // A legal hold on the first segment of the 30-day camera.
        let segs = store.stream_segments(short_stream.id).await.unwrap();
        let held = segs[0].clone();
        store
            .place_hold(&custos_store::NewHold {
                camera_id: short.id,
                start: held.start,
                end: held.end.unwrap(),
                case_number: "CASE-2026-001".into(),
                reason: "evidence".into(),
                placed_by: "officer-1".into(),
                placed_at: now(),
                ledger_seq: None,
            })
            .await
            .unwrap();

        // 31 days later, disk still full.
        let later = now() + Duration90k::from_secs(31 * 86_400);
        let r = sweep(
            &store,
            &data,
            &journal,
            &full,
            SweepPolicy::default(),
            later,
        )
        .await
        .unwrap();
        assert_eq!(r.deleted.len(), n_short - 1, "{r:?}");
        assert_eq!(r.kept_on_hold, 1);
        assert!(r.kept_inside_minimum as usize >= n_long, "{r:?}");
        let after_short = store.stream_segments(short_stream.id).await.unwrap();
        for s in &after_short {
            let exists = data.abs(&s.path).exists();
            if s.id == held.id {
                assert_eq!(s.state, SegmentState::Sealed);
                assert!(exists, "held segment file deleted");
            } else {
                assert_eq!(s.state, SegmentState::Deleted);
                assert!(!exists);
                assert!(s.delete_reason.as_deref().unwrap().contains("past minimum"));
            }
        }
        for s in store.stream_segments(long_stream.id).await.unwrap() {
            assert_eq!(
                s.state,
                SegmentState::Sealed,
                "90-day segment deleted after 31 days"
            );
            assert!(data.abs(&s.path).exists());
        }

        // With room on the disk, expired footage is kept (retention is a floor, not a quota).
        let roomy = FakeDisk(0.5);
        let r = sweep(
            &store,
            &data,
            &journal,
            &roomy,
            SweepPolicy::default(),
            now() + Duration90k::from_secs(91 * 86_400),
        )
        .await
        .unwrap();
        assert!(r.deleted.is_empty(), "{r:?}");
        assert!(
            store.active_alarms().await.unwrap().is_empty(),
            "alarm not cleared"
        );
    });
}

/// F2: capacity prediction from measured bitrates flags a camera whose minimum the disk
/// cannot hold.
#[test]
fn f2_capacity_reports_days_against_minimum() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data_dir = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 5, &[("yard", sim.url(1), "retention = \"2y\"")]);
    record_ok(data_dir.to_str().unwrap(), cfg.to_str().unwrap(), "8s");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let data = DataDir::open_existing(&data_dir).unwrap();
        let store = Store::open_sqlite(&data.db_path()).await.unwrap();
        // A tiny disk: 1 MB free of 1 GB.
        struct Tiny;
        impl DiskSpace for Tiny {
            fn space(&self, _: &std::path::Path) -> custos_core::Result<Space> {
                Ok(Space {
                    total_bytes: 1_000_000_000,
                    free_bytes: 60_000_000,
                })
            }
        }
        let r = custos_footage::capacity::predict(&store, &data, &Tiny, now())
            .await
            .unwrap();
        let yard = r.cameras.iter().find(|c| c.camera == "yard").unwrap();
        assert!(
            yard.bitrate_bps > 100_000.0,
            "bitrate not measured: {yard:?}"
        );
        assert_eq!(yard.retention_days, 730);
        assert_eq!(yard.status, "insufficient", "{r:?}");
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("yard") && w.contains("730")),
            "{r:?}"
        );
    });
    // The CLI prints the same.
    let out = custos_ok(&["capacity", "--data", data_dir.to_str().unwrap()]);
    assert!(out.contains("yard") && out.contains("730"), "{out}");
}
