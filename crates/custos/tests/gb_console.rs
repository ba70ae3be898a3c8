//! GB/T 28181 devices through the console API, with a real device (sipp) registering to
//! `custos serve --sip-listen`: the device list by role, confidential addresses (A3), the
//! platform status, and PTZ control with its ledger entries.

mod common;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::server::{ADMIN_PW, USER_PW, add_user, client, login, serve};
// The shared helpers re-export the camera simulator; this test needs none.
#[allow(unused_imports)]
use common::Camsim as _;

const DEVICE: &str = "34020000001320000001";
const CHANNEL: &str = "34020000001310000004";

fn sipp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../custos-gb28181/tests/sipp")
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The device: REGISTER (digest), keepalive, then stays registered for 120 s; its out-of-call
/// scenario answers the platform's Catalog (7 channels with addresses) and other MESSAGEs.
fn spawn_device(dir: &std::path::Path, sip_port: u16) -> Child {
    assert!(
        Command::new("sipp").arg("-v").output().is_ok(),
        "sipp is not installed: run scripts/setup (Debian package sip-tester)"
    );
    Command::new("sipp")
        .arg(format!("127.0.0.1:{sip_port}"))
        .arg("-sf")
        .arg(sipp_dir().join("device_media.xml"))
        .arg("-oocsf")
        .arg(sipp_dir().join("device_answers.xml"))
        .args(["-i", "127.0.0.1", "-p", &free_port().to_string(), "-m", "1"])
        .args([
            "-nostdin",
            "-timeout",
            "100s",
            "-deadcall_wait",
            "0",
            "-trace_msg",
        ])
        .arg("-message_file")
        .arg(dir.join("sipp_messages.log"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sipp")
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// I2 console, A3, E1, D5, E2: a GB device registering to `custos serve` is listed by
/// `GET /api/gb/devices` for a watch operator — online, with its catalog channels and a recent
/// keepalive — without any address or coordinate; the administrator (read_basic_info) sees the
/// addresses and that read is a ConfidentialRead ledger entry; an auditor (no footage or basic
/// information rights) gets 403; PTZ is refused off duty and sent on duty, each command
/// recorded in the ledger; the platform status names the SIP id and the device count.
#[tokio::test(flavor = "multi_thread")]
async fn i2_a3_gb_devices_in_the_console_by_role() {
    let tmp = tempfile::tempdir().unwrap();
    let sip_port = free_port();
    let port = sip_port.to_string();
    let sip_listen = format!("127.0.0.1:{port}");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut s = serve(
        &data,
        None,
        &["--sip-listen", &sip_listen, "--sip-password", "12345678"],
    );
    add_user(&s, "op", "watch_operator", &["local"], None).await;
    add_user(&s, "aud", "auditor", &["local"], None).await;
    let _device = Kill(spawn_device(tmp.path(), sip_port));
    let op = login(&s, "op", USER_PW).await;

    // E1: a GB device and its channels have no area until an administrator places them:
    // until then the operator sees nothing, the administrator sees them as unplaced.
    let admin = login(&s, "admin", ADMIN_PW).await;
    let start = Instant::now();
    let unplaced = loop {
        let v: serde_json::Value = admin
            .get(&s.url("/api/cameras/unplaced"))
            .await
            .json()
            .await
            .unwrap();
        let names: Vec<String> = v["cameras"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect();
        if names.len() >= 8 {
            break names;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the device and its 7 channels never appeared unplaced: {v}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    // Nothing placed yet in the operator's scope: refused (no right anywhere), and no device
    // in the answer.
    let r = op.get(&s.url("/api/gb/devices")).await;
    assert_eq!(r.status(), 403);
    assert!(
        !r.text().await.unwrap().contains(DEVICE),
        "unplaced device shown to the operator"
    );
    for id in &unplaced {
        let r = admin
            .http
            .put(s.url(&format!("/api/cameras/{id}/area")))
            .header("x-csrf-token", &admin.csrf)
            .json(&serde_json::json!({"area": "local/main/gb"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "placing {id}: {}", r.text().await.unwrap());
    }

    // The operator sees the device online with its catalog.
    let start = Instant::now();
    let (dev, body) = loop {
        let r = op.get(&s.url("/api/gb/devices")).await;
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(d) = v.as_array().unwrap().iter().find(|d| {
            d["id"] == DEVICE && d["online"] == true && d["channels"].as_array().unwrap().len() == 7
        }) {
            break (d.clone(), text);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the device never appeared online with 7 channels: {text}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(
        dev["registry_status"], "pending",
        "A2: pending until accepted"
    );
    let ka = dev["last_keepalive"].as_str().expect("last keepalive");
    let ka = chrono::DateTime::parse_from_rfc3339(ka).unwrap();
    assert!(
        (chrono::Utc::now() - ka.with_timezone(&chrono::Utc)).num_seconds() < 120,
        "stale keepalive {ka}"
    );
    let lobby = dev["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == CHANNEL)
        .unwrap_or_else(|| panic!("no channel {CHANNEL}: {dev}"));
    assert_eq!(lobby["name"], "Lobby");
    assert_eq!(lobby["parent_id"], DEVICE);
    assert_eq!(lobby["ptz"], true);
    assert_eq!(lobby["watch"], true, "the operator may play it back");
    assert_eq!(lobby["control"], false, "off duty: no PTZ (D5)");
    // A3: no address, civil code or coordinates for the operator.
    for secret in ["addr", "address", "civil_code", "longitude", "latitude"] {
        assert!(
            !body.contains(&format!("\"{secret}\"")),
            "operator sees {secret}: {body}"
        );
    }
    assert!(!body.contains("Gate 4"), "operator sees an address: {body}");
    assert!(
        !body.contains("127.0.0.1"),
        "operator sees the device's address"
    );

    // The administrator reads basic information: addresses shown, and registered.
    let v: serde_json::Value = admin
        .get(&s.url("/api/gb/devices"))
        .await
        .json()
        .await
        .unwrap();
    let d = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == DEVICE)
        .unwrap();
    assert!(d["addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{d}");
    let lobby = d["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == CHANNEL)
        .unwrap();
    assert_eq!(lobby["address"], "Gate 4");
    assert_eq!(
        (&lobby["watch"], &lobby["control"]),
        (&serde_json::json!(false), &serde_json::json!(false)),
        "the administrator has no footage rights (separation of duties)"
    );
    assert_eq!(lobby["civil_code"], "340200");

    // I2 (attack): a keepalive naming the device from another address is refused and shows
    // in /metrics.
    let spoof = UdpSocket::bind("127.0.0.2:0").unwrap();
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>9</SN>\r\n<DeviceID>{DEVICE}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n"
    );
    let msg = format!(
        "MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKspoof\r\nFrom: <sip:{DEVICE}@3402000000>;tag=x\r\nTo: <sip:34020000002000000001@3402000000>\r\nCall-ID: spoof@x\r\nCSeq: 1 MESSAGE\r\nContent-Type: Application/MANSCDP+xml\r\nContent-Length: {}\r\n\r\n{body}",
        spoof.local_addr().unwrap(),
        body.len()
    );
    spoof.send_to(msg.as_bytes(), &sip_listen).unwrap();
    spoof
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let n = spoof
        .recv(&mut buf)
        .expect("an answer to the spoofed MESSAGE");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("SIP/2.0 403"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let m = client()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("custos_gb_refused{reason=\"wrong_source\"} 1"),
        "{}",
        m.lines()
            .filter(|l| l.contains("gb_refused"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // Platform status.
    let st: serde_json::Value = admin
        .get(&s.url("/api/gb/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(st["running"], true, "{st}");
    let st = &st["status"];
    assert_eq!(st["id"], "34020000002000000001", "{st}");
    assert_eq!(st["listen"], sip_listen);
    assert_eq!(st["devices"], 1, "{st}");
    assert_eq!(st["online"], 1, "{st}");
    assert!(st["cascade"].is_null(), "{st}");

    // An auditor has no right the list serves.
    let aud = login(&s, "aud", USER_PW).await;
    let r = aud.get(&s.url("/api/gb/devices")).await;
    assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());

    // PTZ: live-view right on that camera, so off duty is refused (D5) …
    let ptz = s.url(&format!("/api/gb/devices/{DEVICE}/channels/{CHANNEL}/ptz"));
    let r = op
        .post(&ptz, serde_json::json!({"direction": "left", "speed": 90}))
        .await;
    assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());
    // … and on duty the command is sent, and so is the stop.
    assert_eq!(
        op.post(&s.url("/api/duty"), serde_json::json!({"on": true}))
            .await
            .status(),
        200
    );
    let v: serde_json::Value = op
        .get(&s.url("/api/gb/devices"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        v[0]["channels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == CHANNEL && c["control"] == true),
        "on duty the operator may steer: {v}"
    );
    for body in [
        serde_json::json!({"direction": "left", "speed": 90}),
        serde_json::json!({"zoom": "in"}),
        serde_json::json!({"direction": "stop"}),
    ] {
        let r = op.post(&ptz, body.clone()).await;
        assert_eq!(r.status(), 204, "{body}: {}", r.text().await.unwrap());
    }
    let r = op
        .post(
            &s.url(&format!(
                "/api/gb/devices/{DEVICE}/channels/34020000001310000099/ptz"
            )),
            serde_json::json!({"direction": "up"}),
        )
        .await;
    // A channel not in the catalog has no area: refused like any unplaced one (E1), which
    // also tells nothing about which ids exist.
    assert_eq!(r.status(), 403, "a channel not in the catalog");
    // The device received the three DeviceControl PTZCmds (GB/T 28181 A.3) for that channel:
    // pan left, zoom in, stop.
    let msgs = std::fs::read_to_string(tmp.path().join("sipp_messages.log")).unwrap_or_default();
    let controls: Vec<&str> = msgs
        .split("<CmdType>DeviceControl</CmdType>")
        .skip(1)
        .collect();
    assert_eq!(
        controls.len(),
        3,
        "DeviceControl MESSAGEs at the device: {msgs}"
    );
    for (c, cmd) in controls.iter().zip(["A50F0102", "A50F0110", "A50F0100"]) {
        assert!(
            c.contains(&format!("<DeviceID>{CHANNEL}</DeviceID>"))
                && c.contains(&format!("<PTZCmd>{cmd}")),
            "expected PTZCmd {cmd}… for {CHANNEL}: {c}"
        );
    }

    // The ledger: the admin's confidential read, the operator's three PTZ commands and the
    // auditor's refusal.
    let page: serde_json::Value = aud
        .get(&s.url("/api/audit?limit=1000"))
        .await
        .json()
        .await
        .unwrap();
    let e = page["entries"].as_array().unwrap();
    assert!(
        e.iter().any(|x| x["action"] == "ConfidentialRead"
            && x["actor"] == "admin"
            && x["object"] == "gb28181/devices"
            && x["details"]["shown"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == DEVICE))),
        "no ConfidentialRead by admin: {page}"
    );
    assert!(
        !e.iter()
            .any(|x| x["action"] == "ConfidentialRead" && x["actor"] == "op"),
        "the operator's list was registered as a confidential read"
    );
    // E4: each placement is a configuration change in the ledger, by the administrator.
    assert!(
        e.iter().any(|x| x["action"] == "ConfigChange"
            && x["actor"] == "admin"
            && x["object"] == format!("camera/{CHANNEL}/area")
            && x["details"]["to"] == "local/main/gb"),
        "no ledger entry for the placement: {page}"
    );
    let ptz_entries: Vec<_> = e
        .iter()
        .filter(|x| {
            x["action"] == "PtzControl"
                && x["actor"] == "op"
                && x["object"] == format!("camera/{CHANNEL}")
        })
        .collect();
    assert_eq!(ptz_entries.len(), 3, "{page}");
    assert!(
        e.iter()
            .any(|x| x["action"] == "AccessDenied" && x["actor"] == "aud"),
        "the auditor's refusal is not audited: {page}"
    );
    s.stop();
}
