//! The platform (UAS) against sipp playing a GB/T 28181 device, over UDP and TCP (I1, I2):
//! digest REGISTER with a wrong password first (403), the right one (200 with a GB `Date`),
//! the Catalog answer collected from 3 MESSAGEs (SumNum 7), DeviceInfo, keepalives, and the
//! device going offline after 3 missed beats.

mod common;

use std::time::Duration;

use common::*;
use custos_gb28181::PlatformEvent;

async fn device_lifecycle(transport: &str) {
    let p = platform(Duration::from_secs(1), true).await;
    let mut events = p.subscribe();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "-sf",
        scenario("device_register.xml").to_str().unwrap(),
        "-oocsf",
        scenario("device_answers.xml").to_str().unwrap(),
        "-i",
        "127.0.0.1",
        "-p",
        &free_port().to_string(),
        "-t",
        transport,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, diag) = sipp(p.local_addr(), &args, dir.path()).await;
    assert!(ok, "sipp device scenario failed over {transport}: {diag}");
    // sipp finished right after its last keepalive: the device is online with its catalog.
    let d = p.device(DEVICE).expect("device registered");
    assert!(d.online, "{d:?}");
    assert_eq!(d.transport, if transport == "t1" { "TCP" } else { "UDP" });
    assert_eq!(
        d.channels.len(),
        7,
        "SumNum 7 over 3 MESSAGEs: {:?}",
        d.channels
    );
    assert!(
        d.channels.iter().any(|c| c.name == "萳道 south"),
        "UTF-8 body declared GB2312 decoded: {:?}",
        d.channels.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    assert_eq!(d.manufacturer, "sipp");
    assert_eq!(d.model, "GB-IPC");
    let st = p.status();
    assert_eq!(st.counters.keepalives, 2);
    assert!(st.counters.rejected >= 1, "the wrong password was rejected");
    // No more beats: offline 3 × 1 s after the last one (the sweep runs every 250 ms).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let reason = loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(PlatformEvent::Offline { device, reason })) if device == DEVICE => break reason,
            Ok(_) => continue,
            Err(_) => panic!("device never went offline"),
        }
    };
    let last_beat = p.device(DEVICE).unwrap().last_keepalive.unwrap();
    let waited = (chrono::Utc::now() - last_beat).to_std().unwrap();
    assert!(reason.contains("keepalives missed"), "{reason}");
    assert!(
        waited >= Duration::from_millis(2900) && waited < Duration::from_secs(8),
        "offline {waited:?} after the last keepalive"
    );
    assert!(!p.device(DEVICE).unwrap().online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_i2_sipp_device_registers_keepalives_catalog_offline_udp() {
    device_lifecycle("u1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_i2_sipp_device_registers_keepalives_catalog_offline_tcp() {
    device_lifecycle("t1").await;
}
