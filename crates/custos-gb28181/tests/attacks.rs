//! Attacks on the GB/T 28181 platform (I1, I2, E1): each test performs one and asserts it has
//! no effect and is counted. The attacker sends raw SIP/RTP over UDP from another loopback
//! address (127.0.0.2, 127.0.0.3: all of 127/8 is loopback on Linux) or from another port
//! than the registered device, as a spoofer on the network would.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use custos_gb28181::manscdp::CatalogItem;
use custos_gb28181::sip::{self, Message, Parsed};
use custos_gb28181::{
    FrameSource, MediaProvider, MediaTransport, Mode, Platform, PlatformEvent, UpperConfig,
};
use tokio::net::UdpSocket;

const DOMAIN: &str = "3402000000";
const PLATFORM: &str = custos_gb28181::DEFAULT_SIP_ID;

/// A device (or attacker) speaking SIP over one UDP socket.
struct Raw {
    sock: UdpSocket,
}

impl Raw {
    async fn bind(ip: &str) -> Raw {
        Raw {
            sock: UdpSocket::bind(format!("{ip}:0")).await.unwrap(),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    async fn send(&self, to: SocketAddr, m: &str) {
        self.sock.send_to(m.as_bytes(), to).await.unwrap();
    }

    /// The next SIP message (request or response) within `secs`.
    async fn recv(&self, secs: u64) -> Option<Message> {
        let mut buf = vec![0u8; 65536];
        let (n, _) = tokio::time::timeout(Duration::from_secs(secs), self.sock.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        match sip::parse(&buf[..n], true) {
            Ok(Parsed::Message(m, _)) => Some(m),
            _ => None,
        }
    }

    /// The next response (requests from the platform are skipped).
    async fn response(&self, secs: u64) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let m = self.recv(left.as_secs().max(1)).await?;
            if m.status().is_some() {
                return Some(m);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
        }
    }
}

/// A SIP request from `from` (its Via names `via`).
fn request(
    method: &str,
    from: &str,
    via: SocketAddr,
    call_id: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) -> String {
    let ct = if body.is_empty() {
        String::new()
    } else if method == "INVITE" {
        "Content-Type: APPLICATION/SDP\r\n".to_owned()
    } else {
        "Content-Type: Application/MANSCDP+xml\r\n".to_owned()
    };
    format!(
        "{method} sip:{PLATFORM}@{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {via};rport;branch=z9hG4bK{}\r\n\
         From: <sip:{from}@{DOMAIN}>;tag=t{cseq}\r\n\
         To: <sip:{PLATFORM}@{DOMAIN}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         Max-Forwards: 70\r\n\
         {extra}{ct}Content-Length: {}\r\n\r\n{body}",
        sip::token(),
        body.len()
    )
}

fn manscdp(root: &str, cmd: &str, device: &str, inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<{root}>\r\n<CmdType>{cmd}</CmdType>\r\n<SN>7</SN>\r\n<DeviceID>{device}</DeviceID>\r\n{inner}</{root}>\r\n"
    )
}

/// Registers `dev` (digest) from `raw`; returns the authenticated REGISTER as sent.
async fn register(raw: &Raw, p: &Platform, dev: &str, expires: u32) -> String {
    let call_id = format!("{}@attack", sip::token());
    let contact = format!(
        "Contact: <sip:{dev}@{}>\r\nExpires: {expires}\r\n",
        raw.addr()
    );
    raw.send(
        p.local_addr(),
        &request("REGISTER", dev, raw.addr(), &call_id, 1, &contact, ""),
    )
    .await;
    let ch = raw.response(5).await.expect("401 challenge");
    assert_eq!(ch.status(), Some(401));
    let auth = custos_gb28181::digest::answer(
        ch.header("WWW-Authenticate").unwrap(),
        dev,
        PASSWORD,
        "REGISTER",
        &format!("sip:{PLATFORM}@{DOMAIN}"),
    )
    .unwrap();
    let second = request(
        "REGISTER",
        dev,
        raw.addr(),
        &call_id,
        2,
        &format!("{contact}Authorization: {auth}\r\n"),
        "",
    );
    raw.send(p.local_addr(), &second).await;
    let ok = raw.response(5).await.expect("200 to REGISTER");
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    second
}

fn counters(p: &Platform) -> custos_gb28181::platform::Counters {
    p.status().counters
}

/// I2: MESSAGE/NOTIFY/BYE naming a registered device but sent from another address (or
/// port) are refused with 403, counted as `wrong_source`, and change nothing: no catalog
/// rewrite, no new channel, no alarm event, no ended session; the device's binding stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i2_spoofed_device_messages_are_refused_counted_and_change_nothing() {
    let p = platform(Duration::from_secs(30), false).await;
    let dev = Raw::bind("127.0.0.1").await;
    register(&dev, &p, DEVICE, 3600).await;
    // The real device's catalog: one channel.
    let item = |id: &str, name: &str| {
        format!(
            "<Item><DeviceID>{id}</DeviceID><Name>{name}</Name><Status>ON</Status><Longitude>118.1</Longitude><Latitude>32.1</Latitude></Item>"
        )
    };
    let real = manscdp(
        "Response",
        "Catalog",
        DEVICE,
        &format!(
            "<SumNum>1</SumNum><DeviceList Num=\"1\">{}</DeviceList>\r\n",
            item("34020000001320000101", "gate")
        ),
    );
    dev.send(
        p.local_addr(),
        &request("MESSAGE", DEVICE, dev.addr(), "cat@dev", 3, "", &real),
    )
    .await;
    assert_eq!(dev.response(5).await.unwrap().status(), Some(200));
    let before = p.device(DEVICE).unwrap();
    assert_eq!(before.channels.len(), 1);
    let mut events = p.subscribe();

    let other_ip = Raw::bind("127.0.0.2").await;
    let other_port = Raw::bind("127.0.0.1").await;
    let fake_catalog = manscdp(
        "Notify",
        "Catalog",
        DEVICE,
        &format!(
            "<SumNum>1</SumNum><DeviceList Num=\"1\">{}</DeviceList>\r\n",
            item("34020000001320000999", "fake").replace("<Item>", "<Item><Event>ADD</Event>")
        ),
    );
    let alarm = manscdp(
        "Notify",
        "Alarm",
        DEVICE,
        "<AlarmPriority>1</AlarmPriority><AlarmMethod>2</AlarmMethod>\r\n",
    );
    let ended = manscdp(
        "Notify",
        "MediaStatus",
        DEVICE,
        "<NotifyType>121</NotifyType>\r\n",
    );
    let mut sent = 0;
    for atk in [&other_ip, &other_port] {
        for (i, (method, body)) in [
            ("MESSAGE", fake_catalog.as_str()),
            ("MESSAGE", alarm.as_str()),
            ("MESSAGE", ended.as_str()),
            ("NOTIFY", fake_catalog.as_str()),
        ]
        .into_iter()
        .enumerate()
        {
            atk.send(
                p.local_addr(),
                &request(
                    method,
                    DEVICE,
                    atk.addr(),
                    &format!("spoof{i}@x"),
                    10 + i as u32,
                    "",
                    body,
                ),
            )
            .await;
            let r = atk
                .response(5)
                .await
                .expect("an answer to the spoofed request");
            assert_eq!(
                r.status(),
                Some(403),
                "{method} from {} answered {r:?}",
                atk.addr()
            );
            sent += 1;
        }
    }
    let c = counters(&p);
    assert_eq!(c.wrong_source, sent, "every spoofed request counted: {c:?}");
    // Nothing changed.
    let after = p.device(DEVICE).unwrap();
    assert_eq!(after.channels.len(), 1, "catalog rewritten by a spoofer");
    assert_eq!(after.channels[0].device_id, "34020000001320000101");
    assert_eq!(after.addr, before.addr, "the device was re-bound");
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(e) = events.try_recv() {
        assert!(
            !matches!(
                e,
                PlatformEvent::Alarm { .. }
                    | PlatformEvent::Catalog { .. }
                    | PlatformEvent::MediaStatus { .. }
            ),
            "a spoofed message had an effect: {e:?}"
        );
    }
    // The real device still speaks for itself.
    dev.send(
        p.local_addr(),
        &request(
            "MESSAGE",
            DEVICE,
            dev.addr(),
            "ka@dev",
            20,
            "",
            &manscdp("Notify", "Keepalive", DEVICE, "<Status>OK</Status>\r\n"),
        ),
    )
    .await;
    assert_eq!(dev.response(5).await.unwrap().status(), Some(200));
}

/// I2: a device whose registration expired is offline and its messages are refused (403,
/// counted as `unregistered`), not silently accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i2_messages_after_registration_expiry_are_refused() {
    let p = platform(Duration::from_secs(30), false).await;
    let dev = Raw::bind("127.0.0.1").await;
    register(&dev, &p, DEVICE, 1).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(
        !p.device(DEVICE).unwrap().online,
        "expired registration still online"
    );
    let ka = manscdp("Notify", "Keepalive", DEVICE, "<Status>OK</Status>\r\n");
    dev.send(
        p.local_addr(),
        &request("MESSAGE", DEVICE, dev.addr(), "ka@dev", 5, "", &ka),
    )
    .await;
    assert_eq!(dev.response(5).await.unwrap().status(), Some(403));
    assert!(counters(&p).unregistered >= 1);
    assert!(
        !p.device(DEVICE).unwrap().online,
        "a message revived an expired device"
    );
}

/// I2: a captured authenticated REGISTER replayed from another address, or again from the
/// same one, is challenged again (401 stale) and does not re-bind the device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i2_replayed_register_is_challenged_and_does_not_rebind() {
    let p = platform(Duration::from_secs(30), false).await;
    let dev = Raw::bind("127.0.0.1").await;
    let captured = register(&dev, &p, DEVICE, 3600).await;
    let bound = p.device(DEVICE).unwrap().addr.clone();
    let atk = Raw::bind("127.0.0.2").await;
    atk.send(p.local_addr(), &captured).await;
    let r = atk.response(5).await.unwrap();
    assert_eq!(r.status(), Some(401), "replay from elsewhere: {r:?}");
    assert!(r.header("WWW-Authenticate").unwrap().contains("stale=TRUE"));
    // The same bytes from the device's own address (a spoofed source): nc was used.
    dev.send(p.local_addr(), &captured).await;
    assert_eq!(dev.response(5).await.unwrap().status(), Some(401));
    assert_eq!(
        p.device(DEVICE).unwrap().addr,
        bound,
        "a replay re-bound the device"
    );
    assert!(counters(&p).stale_nonces >= 2, "{:?}", counters(&p));
}

/// I2: RTP is accepted only from the device's address with the negotiated SSRC; packets from
/// another address, or with another SSRC, are dropped and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i2_media_from_another_source_or_ssrc_is_dropped() {
    let p = platform(Duration::from_secs(30), false).await;
    let dev = Raw::bind("127.0.0.1").await;
    register(&dev, &p, DEVICE, 3600).await;
    let p2 = p.clone();
    let inv = tokio::spawn(async move { p2.invite(DEVICE, Mode::Live, MediaTransport::Udp).await });
    // Answer the INVITE like a device.
    let m = loop {
        let m = dev.recv(10).await.expect("INVITE");
        if m.method() == Some("INVITE") {
            break m;
        }
    };
    let offer = custos_gb28181::sdp::parse(std::str::from_utf8(&m.body).unwrap()).unwrap();
    let mut answer = offer.clone();
    answer.addr = "127.0.0.1".into();
    answer.port = 9;
    answer.direction = Some("sendonly".into());
    let mut ok = Message::response_to(&m, 200, "OK", Some("dev"));
    ok.with_body(
        "APPLICATION/SDP",
        custos_gb28181::sdp::build(&answer, DEVICE).into_bytes(),
    );
    dev.sock
        .send_to(&ok.to_bytes(), p.local_addr())
        .await
        .unwrap();
    let s = inv.await.unwrap().expect("session");
    let to: SocketAddr = format!("127.0.0.1:{}", s.local_port).parse().unwrap();
    let pkt = |ssrc: u32, seq: u16| {
        let mut v = vec![0x80, 96 | 0x80];
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&3600u32.to_be_bytes());
        v.extend_from_slice(&ssrc.to_be_bytes());
        v.extend_from_slice(&[0, 0, 1, 0xBA]);
        v
    };
    let atk = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    for i in 0..5 {
        atk.send_to(&pkt(s.ssrc, i), to).await.unwrap();
    }
    let same_ip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for i in 5..8 {
        same_ip.send_to(&pkt(s.ssrc ^ 1, i), to).await.unwrap();
    }
    // Then one genuine packet, so that the receiver publishes its counters.
    same_ip.send_to(&pkt(s.ssrc, 8), to).await.unwrap();
    let mut stats = s.stats.clone();
    let st = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let st = *stats.borrow_and_update();
            if st.packets >= 1 {
                return st;
            }
            stats.changed().await.unwrap();
        }
    })
    .await
    .expect("the genuine packet arrived");
    assert_eq!(st.packets, 1, "only the genuine packet was taken: {st:?}");
    assert_eq!(st.foreign_source, 5, "{st:?}");
    assert_eq!(st.ssrc_mismatch, 3, "{st:?}");
    assert_eq!(counters(&p).foreign_rtp, 8);
}

struct Offered(Arc<AtomicUsize>);

impl MediaProvider for Offered {
    fn catalog(&self) -> Vec<CatalogItem> {
        Vec::new()
    }
    fn live(&self, _channel: &str) -> Option<FrameSource> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let (_tx, rx) = tokio::sync::mpsc::channel(1);
        Some(FrameSource::Recorded(rx))
    }
    fn recorded(&self, _channel: &str, _s: u64, _e: u64) -> Option<FrameSource> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let (_tx, rx) = tokio::sync::mpsc::channel(1);
        Some(FrameSource::Recorded(rx))
    }
}

/// I1/E1: an INVITE that names the upper platform but comes from another address is refused
/// (403, counted, never reaches the footage); a genuine upper INVITE that asks for media at
/// an address other than its own (a reflector or amplifier target) is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_upper_platform_impersonation_and_foreign_media_target_are_refused() {
    const UPPER: &str = "34020000002000000002";
    let p = platform(Duration::from_secs(30), false).await;
    let upper = Raw::bind("127.0.0.1").await;
    let asked = Arc::new(AtomicUsize::new(0));
    p.add_upper(
        UpperConfig {
            id: UPPER.into(),
            addr: upper.addr(),
            password: String::new(),
            expires: 3600,
            keepalive: Duration::from_secs(60),
            charset: Default::default(),
            media_targets: Vec::new(),
        },
        Arc::new(Offered(asked.clone())),
    );
    // Accept our registration.
    let reg = loop {
        let m = upper.recv(10).await.expect("REGISTER to the upper");
        if m.method() == Some("REGISTER") {
            break m;
        }
    };
    let ok = Message::response_to(&reg, 200, "OK", Some("up"));
    upper
        .sock
        .send_to(&ok.to_bytes(), p.local_addr())
        .await
        .unwrap();
    let channel = "34020000001310000001";
    let sdp = |ip: &str, session: &str| {
        format!(
            "v=0\r\no={channel} 0 0 IN IP4 {ip}\r\ns={session}\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=video 40000 RTP/AVP 96\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\ny=0100000001\r\n"
        )
    };
    let invite = |via: SocketAddr, ip: &str, session: &str, cid: &str| {
        request("INVITE", UPPER, via, cid, 1, "", &sdp(ip, session)).replacen(
            &format!("INVITE sip:{PLATFORM}@"),
            &format!("INVITE sip:{channel}@"),
            1,
        )
    };
    let atk = Raw::bind("127.0.0.2").await;
    for session in ["Play", "Playback"] {
        atk.send(
            p.local_addr(),
            &invite(atk.addr(), "127.0.0.2", session, &format!("{session}@atk")),
        )
        .await;
        let r = atk.response(5).await.expect("answer to the spoofed INVITE");
        assert_eq!(r.status(), Some(403), "{session}: {r:?}");
    }
    // The same from the upper's IP but another port.
    let atk2 = Raw::bind("127.0.0.1").await;
    atk2.send(
        p.local_addr(),
        &invite(atk2.addr(), "127.0.0.1", "Play", "port@atk"),
    )
    .await;
    assert_eq!(atk2.response(5).await.unwrap().status(), Some(403));
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "a spoofed INVITE reached the footage"
    );
    assert_eq!(counters(&p).wrong_source, 3);
    // The real upper asking for media to be sent to a third address.
    upper
        .send(
            p.local_addr(),
            &invite(upper.addr(), "127.0.0.3", "Play", "reflect@up"),
        )
        .await;
    let r = upper.response(5).await.unwrap();
    assert_eq!(r.status(), Some(403), "{r:?}");
    assert_eq!(counters(&p).media_target_refused, 1);
    assert_eq!(asked.load(Ordering::SeqCst), 0);
    // And the legitimate request is served.
    upper
        .send(
            p.local_addr(),
            &invite(upper.addr(), "127.0.0.1", "Play", "real@up"),
        )
        .await;
    let r = upper.response(5).await.unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
}

/// A provider whose channels belong to a system in use but not accepted (C1).
struct NotAccepted(Arc<AtomicUsize>);

impl MediaProvider for NotAccepted {
    fn catalog(&self) -> Vec<CatalogItem> {
        Vec::new()
    }
    fn live(&self, channel: &str) -> Option<FrameSource> {
        Offered(self.0.clone()).live(channel)
    }
    fn may_serve<'a>(
        &'a self,
        _channel: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async { Err("C1: the system is not yet accepted".to_owned()) })
    }
}

/// C1: the genuine upper platform's INVITE for a channel the provider's gate refuses gets 403
/// and never reaches the footage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c1_upper_platform_invite_refused_by_the_lifecycle_gate() {
    const UPPER: &str = "34020000002000000002";
    let p = platform(Duration::from_secs(30), false).await;
    let upper = Raw::bind("127.0.0.1").await;
    let asked = Arc::new(AtomicUsize::new(0));
    p.add_upper(
        UpperConfig {
            id: UPPER.into(),
            addr: upper.addr(),
            password: String::new(),
            expires: 3600,
            keepalive: Duration::from_secs(60),
            charset: Default::default(),
            media_targets: Vec::new(),
        },
        Arc::new(NotAccepted(asked.clone())),
    );
    let reg = loop {
        let m = upper.recv(10).await.expect("REGISTER to the upper");
        if m.method() == Some("REGISTER") {
            break m;
        }
    };
    let ok = Message::response_to(&reg, 200, "OK", Some("up"));
    upper
        .sock
        .send_to(&ok.to_bytes(), p.local_addr())
        .await
        .unwrap();
    let channel = "34020000001310000001";
    let sdp = format!(
        "v=0\r\no={channel} 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 40000 RTP/AVP 96\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\ny=0100000001\r\n"
    );
    let inv = request("INVITE", UPPER, upper.addr(), "c1@up", 1, "", &sdp).replacen(
        &format!("INVITE sip:{PLATFORM}@"),
        &format!("INVITE sip:{channel}@"),
        1,
    );
    upper.send(p.local_addr(), &inv).await;
    let r = upper.response(5).await.unwrap();
    assert_eq!(r.status(), Some(403), "{r:?}");
    assert!(r.header("Warning").unwrap_or("").contains("C1"), "{r:?}");
    assert_eq!(asked.load(Ordering::SeqCst), 0);
}

/// I2: requests are handled concurrently: one that waits on an unresponsive peer (an alarm
/// whose answer MESSAGE is never acknowledged, up to 8 s) does not hold up another device's
/// REGISTER.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i2_a_stalled_transaction_does_not_block_the_dispatcher() {
    let p = platform(Duration::from_secs(30), false).await;
    let silent = Raw::bind("127.0.0.1").await;
    register(&silent, &p, DEVICE, 3600).await;
    let alarm = manscdp(
        "Notify",
        "Alarm",
        DEVICE,
        "<AlarmPriority>1</AlarmPriority>\r\n",
    );
    silent
        .send(
            p.local_addr(),
            &request("MESSAGE", DEVICE, silent.addr(), "al@dev", 5, "", &alarm),
        )
        .await;
    // The platform now waits for the silent device to answer its alarm Response.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let other = Raw::bind("127.0.0.1").await;
    let t0 = std::time::Instant::now();
    register(&other, &p, "34020000001320000002", 3600).await;
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "REGISTER waited {:?} behind a stalled transaction",
        t0.elapsed()
    );
}

/// D1/A2 (channel hijack by device id): a device that authenticates with the shared
/// password under the id of another device's catalog channel is refused (403, counted as
/// rejected), and the channel still resolves to the device that listed it, so the hijacker
/// neither stops its recording nor receives its INVITEs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d1_register_under_another_devices_channel_id_is_refused() {
    let p = platform(Duration::from_secs(30), false).await;
    let nvr = Raw::bind("127.0.0.1").await;
    register(&nvr, &p, DEVICE, 3600).await;
    let chan = "34020000001310000101";
    let cat = manscdp(
        "Response",
        "Catalog",
        DEVICE,
        &format!(
            "<SumNum>1</SumNum><DeviceList Num=\"1\"><Item><DeviceID>{chan}</DeviceID><Name>gate</Name><Status>ON</Status></Item></DeviceList>\r\n"
        ),
    );
    nvr.send(
        p.local_addr(),
        &request("MESSAGE", DEVICE, nvr.addr(), "cat@nvr", 3, "", &cat),
    )
    .await;
    assert_eq!(nvr.response(5).await.unwrap().status(), Some(200));
    assert_eq!(p.owner_of(chan).unwrap().id, DEVICE);
    let rejected_before = counters(&p).rejected;

    // The attacker registers as the channel.
    let evil = Raw::bind("127.0.0.2").await;
    let contact = format!("Contact: <sip:{chan}@{}>\r\nExpires: 3600\r\n", evil.addr());
    evil.send(
        p.local_addr(),
        &request(
            "REGISTER",
            chan,
            evil.addr(),
            "hijack@evil",
            1,
            &contact,
            "",
        ),
    )
    .await;
    let ch = evil.response(5).await.expect("401 challenge");
    assert_eq!(ch.status(), Some(401));
    let auth = custos_gb28181::digest::answer(
        ch.header("WWW-Authenticate").unwrap(),
        chan,
        PASSWORD,
        "REGISTER",
        &format!("sip:{PLATFORM}@{DOMAIN}"),
    )
    .unwrap();
    evil.send(
        p.local_addr(),
        &request(
            "REGISTER",
            chan,
            evil.addr(),
            "hijack@evil",
            2,
            &format!("{contact}Authorization: {auth}\r\n"),
            "",
        ),
    )
    .await;
    let r = evil.response(5).await.expect("answer to REGISTER");
    assert_eq!(r.status(), Some(403), "{r:?}");
    assert!(
        r.header("Warning")
            .is_some_and(|w| w.contains("channel of another device")),
        "{r:?}"
    );
    assert!(counters(&p).rejected > rejected_before);
    assert!(p.device(chan).is_none(), "the hijacker became a device");
    assert_eq!(p.owner_of(chan).unwrap().id, DEVICE);
}
