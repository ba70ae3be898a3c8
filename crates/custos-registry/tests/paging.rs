//! The paged device reader behind the scan (A2/D1): every row once, across page boundaries,
//! with awkward text intact; and the benchmark registry exercises the rules.

mod common;

use std::collections::HashSet;

use common::*;
use custos_core::compliance::Jurisdiction;
use custos_registry::{bench, scan};

#[tokio::test]
async fn a2_paged_reader_reads_every_row_once_with_text_intact() {
    let e = env().await;
    let g = bench::generate(&e.store, 10_000, now()).await.unwrap();
    assert_eq!(g.devices, 10_000);
    let mut odd = good_camera(1, "sys00000", "place000049");
    odd.name = "東門 \"north\" gate\n\\ 'quoted' \u{1f4f7}".into();
    odd.fov = None;
    e.store.upsert_devices(&[odd.clone()]).await.unwrap();
    let mut codes = HashSet::new();
    let mut seen_odd = None;
    let n = e
        .store
        .for_each_device(|d| {
            if d.code == odd.code {
                seen_odd = Some(d.clone());
            }
            assert!(codes.insert(d.code));
        })
        .await
        .unwrap();
    assert_eq!(n, 10_001);
    assert_eq!(codes.len(), 10_001);
    assert_eq!(seen_odd.unwrap(), e.store.device(&odd.code).await.unwrap());
    assert!(n as i64 > 2 * custos_store::registry::DEVICE_PAGE);
}

/// J1: the benchmark registry raises every device and system rule it was built to raise (B1–B4,
/// C1–C2, D1–D3, F1), so `custos bench compliance` times a scan that finds what it should.
#[tokio::test]
async fn bench_registry_raises_the_expected_rules() {
    let e = env().await;
    bench::generate(&e.store, 20_000, now()).await.unwrap();
    let s = scan::scan(&e.store, now(), &Jurisdiction::default())
        .await
        .unwrap();
    assert_eq!(s.devices, 20_000);
    assert!(
        s.unreadable.is_empty(),
        "{:?}",
        &s.unreadable[..3.min(s.unreadable.len())]
    );
    let rules: HashSet<&str> = s.findings.iter().map(|f| f.rule.as_str()).collect();
    for r in [
        "B2.prohibited-place",
        "B3.residence-unmasked",
        "B4.signage",
        "C1.in-use-not-accepted",
        "C2.filing-overdue",
        "D1.offline",
        "D1.recording-incomplete",
        "D2.procedures",
        "D3.training",
        "F1.retention",
    ] {
        assert!(rules.contains(r), "{r} missing from {rules:?}");
    }
    // 1 device in 100 is offline for 1 h; each is a D1 finding.
    let offline = s
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "D1.offline")
        .count();
    assert_eq!(offline, 200);
}
