//! Device events against sipp (I1, I2, I4): catalog subscription (SUBSCRIBE answered, NOTIFY
//! adds a channel), PTZ control with a checksummed PTZCmd, RecordInfo (2 MESSAGEs) and
//! DeviceStatus queries, an alarm notify reaching the event stream (and answered), and
//! unregistering (Expires: 0) taking the device offline.

mod common;

use std::time::Duration;

use common::*;
use custos_gb28181::PlatformEvent;
use custos_gb28181::ptz::Ptz;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_i4_sipp_device_subscription_ptz_alarm_unregister() {
    let p = platform(Duration::from_secs(30), false).await;
    let mut events = p.subscribe();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "-sf",
        scenario("device_events.xml").to_str().unwrap(),
        "-oocsf",
        scenario("device_events_ooc.xml").to_str().unwrap(),
        "-i",
        "127.0.0.1",
        "-p",
        &free_port().to_string(),
        "-trace_logs",
        "-log_file",
        dir.path().join("sipp.log").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let target = p.local_addr();
    let d2 = dir.path().to_owned();
    let sipp_task = tokio::spawn(async move { sipp(target, &args, &d2).await });
    let mut seen = Vec::new();
    let mut subscribed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let e = match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(e)) => e,
            _ => panic!("events so far: {seen:?}"),
        };
        if let PlatformEvent::Registered { .. } = &e
            && !subscribed
        {
            subscribed = true;
            p.subscribe_catalog(DEVICE, 60)
                .await
                .expect("SUBSCRIBE answered");
            let right = Ptz {
                right: true,
                pan_speed: 0x80,
                ..Default::default()
            };
            p.ptz(DEVICE, DEVICE, right).await.expect("PTZ answered");
            // RecordInfo answered in 2 MESSAGEs (SumNum 2), collected into one answer.
            let r = p
                .query_records(DEVICE, DEVICE, "2026-11-27T00:00:00", "2026-11-27T23:59:59")
                .await
                .expect("RecordInfo answered");
            let files: Vec<&str> = r
                .items
                .iter()
                .filter_map(|i| {
                    i.iter()
                        .find(|(k, _)| k == "FilePath")
                        .map(|(_, v)| v.as_str())
                })
                .collect();
            assert_eq!(files, vec!["rec1", "rec2"]);
            let st = p
                .query(DEVICE, DEVICE, "DeviceStatus", &[])
                .await
                .expect("DeviceStatus answered");
            assert_eq!(st.field("Online"), Some("ONLINE"));
            assert_eq!(st.field("Record"), Some("ON"));
        }
        let done = matches!(&e, PlatformEvent::Unregistered { .. });
        seen.push(e);
        if done {
            break;
        }
    }
    let (ok, diag) = sipp_task.await.unwrap();
    assert!(ok, "{diag}");
    let alarm = seen
        .iter()
        .find_map(|e| match e {
            PlatformEvent::Alarm { device, fields } => Some((device.clone(), fields.clone())),
            _ => None,
        })
        .expect("alarm event");
    assert_eq!(alarm.0, DEVICE);
    assert!(
        alarm
            .1
            .contains(&("AlarmDescription".into(), "motion".into())),
        "{alarm:?}"
    );
    let d = p.device(DEVICE).unwrap();
    assert!(!d.online, "unregistered");
    assert_eq!(d.channels.len(), 1);
    assert_eq!(d.channels[0].device_id, "34020000001310000009");
    assert_eq!(d.channels[0].name, "New gate");
    let log = std::fs::read_to_string(dir.path().join("sipp.log")).unwrap_or_default();
    assert!(log.contains("got SUBSCRIBE"), "{log}");
    assert!(log.contains("ptz=A50F010180000036"), "{log}");
    assert!(
        log.contains("start=2026-11-27T00:00:00"),
        "RecordInfo range: {log}"
    );
    assert!(
        log.contains("got <CmdType>Alarm<"),
        "the platform answered the alarm: {log}"
    );
}
