//! Attacks on the GB/T 28181 cascade through the `custos` binary (C1, E1, I2): the test plays
//! the upper platform over raw UDP and asks for what it must not get. The gate is the
//! binary's own (placement in the database and the C1 lifecycle gate over the registry that
//! `custos registry load/import` fill), not a test stand-in.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
// The shared helpers re-export the camera simulator; `custos demo` starts its own here.
#[allow(unused_imports)]
use common::Camsim as _;
use custos_gb28181::sip::{self, Message, Parsed};

const UPPER: &str = "34010000002000000001";

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The channel id custos offers its `i`-th configured camera under (no 20-digit name).
fn channel(i: usize) -> String {
    format!("{}132{i:07}", &custos_gb28181::DEFAULT_SIP_ID[..10])
}

struct Upper {
    sock: UdpSocket,
    custos: SocketAddr,
}

impl Upper {
    fn send(&self, m: &str) {
        self.sock.send_to(m.as_bytes(), self.custos).unwrap();
    }

    fn send_msg(&self, m: &Message) {
        self.sock.send_to(&m.to_bytes(), self.custos).unwrap();
    }

    /// The next message within `secs`; custos's own requests (keepalives, catalog answers)
    /// are answered 200 and returned too.
    fn recv(&self, secs: u64) -> Option<Message> {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut buf = vec![0u8; 65536];
        while Instant::now() < end {
            self.sock
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let Ok((n, _)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            if let Ok(Parsed::Message(m, _)) = sip::parse(&buf[..n], true) {
                if m.method().is_some() && m.method() != Some("ACK") {
                    self.send_msg(&Message::response_to(&m, 200, "OK", Some("up")));
                }
                return Some(m);
            }
        }
        None
    }

    /// The response to `call_id` within `secs` (provisional ones skipped).
    fn response(&self, call_id: &str, secs: u64) -> Message {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if let Some(m) = self.recv(1)
                && m.call_id() == call_id
                && m.status().is_some_and(|s| s >= 200)
            {
                return m;
            }
        }
        panic!("no final response to {call_id} within {secs} s");
    }

    fn request(
        &self,
        method: &str,
        ruri_user: &str,
        call_id: &str,
        ctype: &str,
        body: &str,
    ) -> String {
        let me = self.sock.local_addr().unwrap();
        let domain = &custos_gb28181::DEFAULT_SIP_ID[..10];
        format!(
            "{method} sip:{ruri_user}@{domain} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {me};rport;branch=z9hG4bK{}\r\n\
             From: <sip:{UPPER}@{}>;tag=upper\r\n\
             To: <sip:{ruri_user}@{domain}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: 1 {method}\r\n\
             Max-Forwards: 70\r\n\
             Content-Type: {ctype}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            sip::token(),
            &UPPER[..10],
            body.len()
        )
    }

    fn invite(&self, ch: &str, call_id: &str) -> Message {
        let me = self.sock.local_addr().unwrap();
        let sdp = format!(
            "v=0\r\no={ch} 0 0 IN IP4 {ip}\r\ns=Play\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=video {port} RTP/AVP 96\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\ny=0100000001\r\n",
            ip = me.ip(),
            port = free_port()
        );
        self.send(&self.request("INVITE", ch, call_id, "APPLICATION/SDP", &sdp));
        self.response(call_id, 20)
    }

    /// Our Catalog query; returns the bodies of custos's answers (until SumNum is reached).
    fn catalog(&self) -> String {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Query>\r\n<CmdType>Catalog</CmdType>\r\n<SN>17</SN>\r\n<DeviceID>{}</DeviceID>\r\n</Query>\r\n",
            custos_gb28181::DEFAULT_SIP_ID
        );
        let cid = format!("{}@upper", sip::token());
        self.send(&self.request(
            "MESSAGE",
            custos_gb28181::DEFAULT_SIP_ID,
            &cid,
            "Application/MANSCDP+xml",
            &body,
        ));
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end {
            if let Some(m) = self.recv(1)
                && m.method() == Some("MESSAGE")
            {
                let b = String::from_utf8_lossy(&m.body).into_owned();
                if b.contains("<CmdType>Catalog</CmdType>") && b.contains("<SN>17</SN>") {
                    return b;
                }
            }
        }
        panic!("no Catalog answer within 20 s");
    }
}

fn spawn_demo(data: &std::path::Path, sip_port: u16, upper: SocketAddr) -> Child {
    common::console_env(&mut Command::new(bin()))
        .args([
            "demo",
            "--cameras",
            "2",
            "--for",
            "120s",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--data")
        .arg(data)
        .args(["--sip-listen", &format!("127.0.0.1:{sip_port}")])
        .args(["--sip-password", "12345678"])
        .args(["--sip-upper", &format!("{UPPER}@{upper}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn custos demo")
}

/// Drains the demo's stdout; the flag turns true once it prints its console line (it is up,
/// and stops cleanly on SIGTERM from then on).
fn watch_up(demo: &mut Child) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::io::BufRead;
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (flag, out) = (up.clone(), demo.stdout.take().unwrap());
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if l.starts_with("console:") {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    up
}

/// C1 through the binary's real gate: camera cam1 belongs to a system in use but not
/// accepted (loaded with `custos registry load/import`, as an operator would). The upper
/// platform's Catalog does not list it (cam2, placed and in no unaccepted system, is
/// listed), and its INVITE for cam1 is refused with 403 naming the rule, while cam2's is
/// served.
#[test]
fn c1_cascade_offers_and_serves_only_accepted_placed_cameras() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sip_port = free_port();
    let mut demo = spawn_demo(&data, sip_port, sock.local_addr().unwrap());
    let demo_up = watch_up(&mut demo);
    let up = Upper {
        sock,
        custos: format!("127.0.0.1:{sip_port}").parse().unwrap(),
    };
    // custos registers to us: accept it (no challenge needed for this test).
    let end = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(Instant::now() < end, "custos never registered to the upper");
        if let Some(m) = up.recv(1)
            && m.method() == Some("REGISTER")
        {
            break;
        }
    }
    // cam1 joins a system that is in use but not accepted.
    let csv = dir.path().join("devices.csv");
    let src = std::fs::read_to_string(format!(
        "{}/../custos-registry/testdata/devices.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut lines = src.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap().replace(",hall-east", ",cam1");
    std::fs::write(&csv, format!("{header}\n{row}\n")).unwrap();
    let d = data.to_str().unwrap();
    custos_ok(&[
        "registry",
        "load",
        &format!(
            "{}/../custos-registry/testdata/registry.json",
            env!("CARGO_MANIFEST_DIR")
        ),
        "--data",
        d,
    ]);
    custos_ok(&[
        "registry",
        "import",
        csv.to_str().unwrap(),
        "--by",
        "clerk",
        "--data",
        d,
    ]);
    let (ch1, ch2) = (channel(1), channel(2));
    // The demo may still be starting its cameras: ask until cam2 is offered.
    let mut cat = String::new();
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end {
        cat = up.catalog();
        if cat.contains(&ch2) {
            break;
        }
        sleep(1.0);
    }
    assert!(cat.contains(&ch2), "cam2 is offered: {cat}");
    assert!(
        !cat.contains(&ch1),
        "C1: a camera of a system not accepted is offered upward: {cat}"
    );
    assert!(cat.contains("<SumNum>1</SumNum>"), "{cat}");
    // The attack: the upper asks for cam1 anyway.
    let r = up.invite(&ch1, "c1@upper");
    assert_eq!(r.status(), Some(403), "{r:?}");
    let warning = r.header("Warning").unwrap_or("");
    assert!(
        warning.contains("not yet accepted") && warning.contains("cam1"),
        "the refusal names the rule: {warning}"
    );
    // The control: cam2 is served.
    let r = up.invite(&ch2, "c2@upper");
    assert_eq!(r.status(), Some(200), "{r:?}");
    up.send(&up.request("BYE", &ch2, "c2@upper", "Application/MANSCDP+xml", ""));
    wait_until(120.0, "the demo to be up", || {
        demo_up.load(std::sync::atomic::Ordering::SeqCst)
    });
    let out = terminate(demo);
    assert!(out.status.success(), "demo: {}", stderr(&out));
    // Every access the upper made is in a ledger that verifies (E2).
    custos_ok(&["verify", "--data", d]);
}
