//! Cascade: custos as a lower platform (UAC) toward an upper platform. Registers with digest,
//! keeps alive, answers the upper's Catalog with our cameras, and serves live video: an INVITE
//! for one of our channels gets our H.264/H.265 muxed into PS over RTP (UDP, or TCP with RFC
//! 4571 framing) with the upper's SSRC, until the upper's BYE.
//!
//! What we offer comes from a [`MediaProvider`] (the `custos` binary maps cameras to 20-digit
//! channel ids and hands out live subscriptions); this module never reads footage itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use custos_core::frame::EncodedFrame;
use custos_live::{LiveEvent, LiveSubscription};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};

use crate::h26x::frame_annexb;
use crate::manscdp::{self, CatalogItem, Charset};
use crate::platform::Platform;
use crate::rtp::{Packetizer, frame_4571};
use crate::sdp::{self, MediaSdp};
use crate::sip::{self, Message};
use crate::transport::Peer;

/// The upper platform we register to.
#[derive(Clone, Debug)]
pub struct UpperConfig {
    /// The upper platform's 20-digit id (its domain = first 10 digits).
    pub id: String,
    pub addr: SocketAddr,
    pub password: String,
    pub expires: u32,
    pub keepalive: Duration,
    pub charset: Charset,
    /// Addresses besides the upper's own that its INVITEs may name as the media target
    /// (its media servers). Any other target is refused: custos does not stream footage to
    /// an address of the requester's choosing.
    pub media_targets: Vec<std::net::IpAddr>,
}

/// Frames of what we serve upward.
pub enum FrameSource {
    Live(LiveSubscription),
    /// Recorded footage, already in order; the channel closes at the end.
    Recorded(mpsc::Receiver<EncodedFrame>),
}

/// What we offer to the upper platform.
pub trait MediaProvider: Send + Sync {
    /// Our channels (20-digit ids), as the Catalog answer lists them.
    fn catalog(&self) -> Vec<CatalogItem>;
    /// Live frames of a channel, if it exists.
    fn live(&self, channel: &str) -> Option<FrameSource>;
    /// Recorded frames of a channel between two Unix times, if any, in order and as fast as the
    /// receiver takes them: the cascade paces them by their timestamps (and the upper's Scale).
    fn recorded(&self, _channel: &str, _start: u64, _end: u64) -> Option<FrameSource> {
        None
    }
    /// Whether the channel may be served now (e.g. C1: its system is accepted); `Err` says
    /// why not. Asked before [`Self::live`] and [`Self::recorded`], and for every item of
    /// [`Self::catalog`] before it is offered (a refused channel is not listed); by default,
    /// yes.
    fn may_serve<'a>(
        &'a self,
        _channel: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
}

/// Cascade state for a console.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UpperStatus {
    pub upper_id: String,
    pub addr: String,
    pub registered: bool,
    pub last_error: Option<String>,
    pub keepalives_sent: u64,
    pub catalog_answers: u64,
    pub streams: usize,
}

pub struct Upper {
    cfg: UpperConfig,
    provider: Arc<dyn MediaProvider>,
    status: Mutex<UpperStatus>,
    /// Call-ID → (stop signal, the sender waiting for ACK).
    dialogs: Mutex<HashMap<String, Dialog>>,
}

/// An upper's INVITE dialog: its stop signal, its playback pace (INFO), and until the ACK
/// what to send.
struct Dialog {
    stop: watch::Sender<bool>,
    pace: watch::Sender<Pace>,
    plan: Option<SendPlan>,
}

/// Playback pace set by the upper's MANSRTSP INFO (recorded sources only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    pub paused: bool,
    pub scale: f64,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            paused: false,
            scale: 1.0,
        }
    }
}

/// Applies a MANSRTSP body (`PLAY`/`PAUSE`, `Scale:`) to a pace; `None` if it is not one.
pub fn apply_mansrtsp(body: &str, mut pace: Pace) -> Option<Pace> {
    let mut lines = body.lines();
    let first = lines.next()?.trim();
    if first.starts_with("PAUSE") {
        pace.paused = true;
    } else if first.starts_with("PLAY") {
        pace.paused = false;
    } else {
        return None;
    }
    for l in lines {
        if let Some(v) = l.trim().strip_prefix("Scale:") {
            let sc: f64 = v.trim().parse().ok()?;
            if sc > 0.0 && sc <= 64.0 {
                pace.scale = sc;
            }
        }
    }
    Some(pace)
}

struct SendPlan {
    channel: String,
    source: FrameSource,
    target: MediaSdp,
    local_port: u16,
}

impl Upper {
    pub(crate) fn is_upper(&self, from: &str) -> bool {
        from == self.cfg.id
    }

    /// The upper platform's requests come from its address over UDP (what we register over).
    pub(crate) fn is_upper_peer(&self, peer: Peer) -> bool {
        peer == self.peer()
    }

    /// Whether media may be sent to `ip`: the upper's own address or a configured one.
    fn media_target_allowed(&self, ip: std::net::IpAddr) -> bool {
        ip == self.cfg.addr.ip() || self.cfg.media_targets.contains(&ip)
    }

    pub fn status(&self) -> UpperStatus {
        let mut s = self.status.lock().unwrap().clone();
        s.streams = self.dialogs.lock().unwrap().len();
        s
    }

    fn peer(&self) -> Peer {
        Peer::Udp(self.cfg.addr)
    }

    fn domain(&self) -> &str {
        &self.cfg.id[..10]
    }

    pub(crate) async fn handle(self: &Arc<Self>, p: &Platform, m: Message, peer: Peer) {
        let method = m.method().unwrap_or("").to_owned();
        let r = match method.as_str() {
            "MESSAGE" => self.on_message(p, &m, peer).await,
            "INVITE" => self.on_invite(p, &m, peer).await,
            "ACK" => {
                self.on_ack(p, &m, peer);
                Ok(())
            }
            "BYE" => {
                let _ = p.reply(&m, peer, 200, "OK").await;
                if let Some(d) = self.dialogs.lock().unwrap().remove(m.call_id()) {
                    let _ = d.stop.send(true);
                }
                Ok(())
            }
            "INFO" => {
                let ok = {
                    let d = self.dialogs.lock().unwrap();
                    match (d.get(m.call_id()), std::str::from_utf8(&m.body).ok()) {
                        (Some(d), Some(b)) => {
                            // Copy out first: `send` must not run while a borrow is held.
                            let cur = *d.pace.borrow();
                            match apply_mansrtsp(b, cur) {
                                Some(np) => {
                                    d.pace.send_replace(np);
                                    true
                                }
                                None => false,
                            }
                        }
                        _ => false,
                    }
                };
                if ok {
                    p.reply(&m, peer, 200, "OK").await
                } else {
                    p.reply(&m, peer, 481, "Call/Transaction Does Not Exist")
                        .await
                }
            }
            _ => p.reply(&m, peer, 200, "OK").await,
        };
        if let Err(e) = r {
            tracing::warn!(%method, error = %e, "upper platform request failed");
        }
    }

    fn request(&self, p: &Platform, method: &str, call_id: &str, cseq: u32, tag: &str) -> Message {
        let host = p.public_ip().to_string();
        let mut m = Message::request(method, &format!("sip:{}@{}", self.cfg.id, self.cfg.addr));
        m.push("Via", p.transport().via(self.peer(), &host))
            .push(
                "From",
                format!("<sip:{}@{}>;tag={tag}", p.config().id, p.config().domain()),
            )
            .push("To", format!("<sip:{}@{}>", self.cfg.id, self.domain()))
            .push("Call-ID", call_id.to_owned())
            .push("CSeq", format!("{cseq} {method}"))
            .push("Max-Forwards", "70")
            .push("User-Agent", "custos");
        m
    }

    async fn send_manscdp(&self, p: &Platform, body: Vec<u8>) -> custos_core::Result<()> {
        self.send_manscdp_in(p, body, None).await
    }

    /// A MANSCDP MESSAGE, out of dialog or (with `call_id`) inside the media dialog it is
    /// about (MediaStatus), which RFC 3261 allows and upper platforms accept either way.
    async fn send_manscdp_in(
        &self,
        p: &Platform,
        body: Vec<u8>,
        call_id: Option<&str>,
    ) -> custos_core::Result<()> {
        let host = p.public_ip().to_string();
        let mut m = self.request(
            p,
            "MESSAGE",
            &call_id
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{}@{host}", sip::token())),
            if call_id.is_some() { 100 } else { 1 },
            &sip::token(),
        );
        m.with_body("Application/MANSCDP+xml", body);
        p.transport()
            .request(self.peer(), &m, Duration::from_secs(8))
            .await
            .map(|_| ())
    }

    /// The channels we offer the upper platform: the provider's catalog, less every channel
    /// it may not serve now (e.g. unplaced, or C1: its system not accepted). The upper is
    /// never told of a channel it would be refused.
    async fn offered(&self) -> Vec<CatalogItem> {
        let mut out = Vec::new();
        for i in self.provider.catalog() {
            if self.provider.may_serve(&i.device_id).await.is_ok() {
                out.push(i);
            }
        }
        out
    }

    async fn on_message(&self, p: &Platform, m: &Message, peer: Peer) -> custos_core::Result<()> {
        let x = match manscdp::parse(&m.body) {
            Ok(x) => x,
            Err(e) => {
                p.reply(m, peer, 400, "Bad Request").await?;
                return Err(e);
            }
        };
        p.reply(m, peer, 200, "OK").await?;
        let cs = self.cfg.charset;
        match (x.root.as_str(), x.cmd_type.as_str()) {
            ("Query", "Catalog") => {
                let items = self.offered().await;
                let sum = items.len();
                // A few items per MESSAGE keeps each datagram small (and shows SumNum in use).
                let chunks: Vec<&[CatalogItem]> = if items.is_empty() {
                    vec![&[]]
                } else {
                    items.chunks(4).collect()
                };
                for c in chunks {
                    let list: String = c.iter().map(|i| i.to_xml()).collect();
                    let body = manscdp::build(
                        "Response",
                        "Catalog",
                        x.sn,
                        &p.config().id,
                        &[
                            ("SumNum", sum.to_string()),
                            (&format!("DeviceList Num=\"{}\"", c.len()), list),
                        ],
                        cs,
                    );
                    self.send_manscdp(p, body).await?;
                }
                self.status.lock().unwrap().catalog_answers += 1;
            }
            ("Query", "DeviceInfo") => {
                let body = manscdp::build(
                    "Response",
                    "DeviceInfo",
                    x.sn,
                    &p.config().id,
                    &[
                        ("DeviceName", "custos".into()),
                        ("Result", "OK".into()),
                        ("Manufacturer", "custos".into()),
                        ("Model", "custos".into()),
                        ("Firmware", env!("CARGO_PKG_VERSION").into()),
                        ("Channel", self.offered().await.len().to_string()),
                    ],
                    cs,
                );
                self.send_manscdp(p, body).await?;
            }
            ("Query", "DeviceStatus") => {
                let body = manscdp::build(
                    "Response",
                    "DeviceStatus",
                    x.sn,
                    &x.device_id,
                    &[
                        ("Result", "OK".into()),
                        ("Online", "ONLINE".into()),
                        ("Status", "OK".into()),
                    ],
                    cs,
                );
                self.send_manscdp(p, body).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn on_invite(&self, p: &Platform, m: &Message, peer: Peer) -> custos_core::Result<()> {
        let channel = match &m.start {
            sip::StartLine::Request { uri, .. } => sip::uri_user(uri).unwrap_or("").to_owned(),
            _ => String::new(),
        };
        let offer = std::str::from_utf8(&m.body).ok().and_then(sdp::parse);
        let Some(offer) = offer else {
            return p.reply(m, peer, 400, "Bad Request").await;
        };
        let target_ok = offer
            .addr
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| self.media_target_allowed(ip));
        if !target_ok {
            p.0.counters.lock().unwrap().media_target_refused += 1;
            tracing::warn!(upper = %self.cfg.id, target = %offer.addr, %channel,
                "upper platform INVITE names a media target that is neither its address nor a configured one; refused");
            let mut r = Message::response_to(m, 403, "Forbidden", Some(&sip::token()));
            r.push(
                "Warning",
                "399 custos \"media target not allowed; configure it as an upper media address\"",
            );
            return p.transport().send(peer, &r).await;
        }
        if let Err(why) = self.provider.may_serve(&channel).await {
            tracing::warn!(upper = %self.cfg.id, %channel, reason = %why, "upper platform INVITE refused");
            let mut r = Message::response_to(m, 403, "Forbidden", Some(&sip::token()));
            let why: String = why.chars().filter(|c| *c != '"').take(200).collect();
            r.push("Warning", format!("399 custos \"{why}\""));
            return p.transport().send(peer, &r).await;
        }
        let source = match offer.session.as_str() {
            "Playback" | "Download" => self.provider.recorded(&channel, offer.start, offer.end),
            _ => self.provider.live(&channel),
        };
        let Some(source) = source else {
            return p.reply(m, peer, 404, "Not Found").await;
        };
        let ip = p.public_ip();
        // UDP: we send from an ephemeral port. TCP: the upper's setup decides who connects;
        // we support the upper listening (offer `passive` → we are active).
        let local = std::net::UdpSocket::bind(std::net::SocketAddr::new(ip, 0))
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .unwrap_or(0);
        let ssrc = offer
            .ssrc
            .unwrap_or_else(|| sdp::make_ssrc(offer.session != "Play", p.config().domain(), 1));
        let answer = MediaSdp {
            session: offer.session.clone(),
            origin: channel.clone(),
            addr: ip.to_string(),
            port: local,
            tcp: offer.tcp,
            setup: offer.tcp.then(|| match offer.setup.as_deref() {
                Some("active") => "passive".to_owned(),
                _ => "active".to_owned(),
            }),
            ssrc: Some(ssrc),
            start: offer.start,
            end: offer.end,
            uri: None,
            direction: Some("sendonly".into()),
        };
        let mut r = Message::response_to(m, 200, "OK", Some(&sip::token()));
        r.push(
            "Contact",
            format!("<sip:{}@{}:{}>", p.config().id, ip, p.local_addr().port()),
        );
        r.with_body(
            "APPLICATION/SDP",
            sdp::build(&answer, &channel).into_bytes(),
        );
        let (stop, _) = watch::channel(false);
        let (pace, _) = watch::channel(Pace::default());
        let mut target = offer;
        target.ssrc = Some(ssrc);
        self.dialogs.lock().unwrap().insert(
            m.call_id().to_owned(),
            Dialog {
                stop,
                pace,
                plan: Some(SendPlan {
                    channel: channel.clone(),
                    source,
                    target,
                    local_port: local,
                }),
            },
        );
        p.transport().send(peer, &r).await
    }

    fn on_ack(self: &Arc<Self>, p: &Platform, m: &Message, _peer: Peer) {
        let mut d = self.dialogs.lock().unwrap();
        let Some(dialog) = d.get_mut(m.call_id()) else {
            return;
        };
        let Some(plan) = dialog.plan.take() else {
            return;
        };
        let stop_rx = dialog.stop.subscribe();
        let pace_rx = dialog.pace.subscribe();
        let ip = p.public_ip();
        let call_id = m.call_id().to_owned();
        let recorded = matches!(plan.source, FrameSource::Recorded(_));
        let channel = plan.channel.clone();
        let (u, p) = (self.clone(), p.clone());
        tokio::spawn(async move {
            match send_media(plan, ip, stop_rx, pace_rx).await {
                Err(e) => tracing::warn!(%call_id, error = %e, "cascade media stopped"),
                // The recording is over: tell the upper (MediaStatus 121); it sends BYE.
                Ok(true) if recorded => {
                    let body = manscdp::build(
                        "Notify",
                        "MediaStatus",
                        p.next_sn(),
                        &channel,
                        &[("NotifyType", "121".into())],
                        u.cfg.charset,
                    );
                    if let Err(e) = u.send_manscdp_in(&p, body, Some(&call_id)).await {
                        tracing::warn!(%call_id, error = %e, "MediaStatus to the upper platform failed");
                    }
                }
                Ok(_) => {}
            }
        });
    }
}

/// Muxes frames into PS, packetises into RTP, sends until stopped (`Ok(false)`) or the source
/// ends (`Ok(true)`).
async fn send_media(
    plan: SendPlan,
    ip: std::net::IpAddr,
    mut stop: watch::Receiver<bool>,
    mut pace: watch::Receiver<Pace>,
) -> std::io::Result<bool> {
    let dest: SocketAddr = format!("{}:{}", plan.target.addr, plan.target.port)
        .parse()
        .map_err(|_| std::io::Error::other("bad media address in the upper's SDP"))?;
    enum Out {
        Udp(tokio::net::UdpSocket),
        Tcp(tokio::net::TcpStream),
    }
    let mut out = if plan.target.tcp {
        let mut last = None;
        let mut s = None;
        for _ in 0..4 {
            match tokio::net::TcpStream::connect(dest).await {
                Ok(c) => {
                    s = Some(c);
                    break;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        match s {
            Some(s) => Out::Tcp(s),
            None => return Err(last.unwrap_or_else(|| std::io::Error::other("connect failed"))),
        }
    } else {
        let s = tokio::net::UdpSocket::bind(SocketAddr::new(ip, plan.local_port))
            .await
            .or(tokio::net::UdpSocket::bind(SocketAddr::new(ip, 0)).await)?;
        Out::Udp(s)
    };
    let mut pk = Packetizer {
        ssrc: plan.target.ssrc.unwrap_or(0),
        seq: 0,
        mtu: 1400,
    };
    let mut source = plan.source;
    let mut started = false;
    let mut sent: u64 = 0;
    // (instant, pts, scale) that recorded frames are paced from.
    let mut clock: Option<(tokio::time::Instant, i64, f64)> = None;
    loop {
        let f = tokio::select! {
            _ = stop.changed() => return Ok(false),
            f = async {
                match &mut source {
                    FrameSource::Live(s) => loop {
                        match s.next().await {
                            LiveEvent::Frame(f) => break Some(f),
                            LiveEvent::Lagged(_) => continue,
                            LiveEvent::Closed => break None,
                        }
                    },
                    FrameSource::Recorded(r) => r.recv().await,
                }
            } => f,
        };
        let Some(f) = f else { return Ok(true) };
        if !started && !f.is_key {
            continue;
        }
        started = true;
        // Recorded footage is sent at its own pace (× the upper's Scale; held while paused);
        // live frames go out as they arrive.
        if matches!(source, FrameSource::Recorded(_)) {
            loop {
                let pc = *pace.borrow_and_update();
                if pc.paused {
                    tokio::select! {
                        _ = stop.changed() => return Ok(false),
                        _ = pace.changed() => {}
                    }
                    clock = None;
                    continue;
                }
                let (t0, p0, sc) =
                    *clock.get_or_insert((tokio::time::Instant::now(), f.pts_90k, pc.scale));
                if sc != pc.scale {
                    clock = None;
                    continue;
                }
                let due =
                    t0 + Duration::from_secs_f64((f.pts_90k - p0).max(0) as f64 / 90_000.0 / sc);
                tokio::select! {
                    _ = stop.changed() => return Ok(false),
                    _ = pace.changed() => {
                        // Re-base at this frame under the new pace.
                        clock = None;
                        continue;
                    }
                    _ = tokio::time::sleep_until(due) => break,
                }
            }
        }
        let annexb = frame_annexb(&f);
        let ps = crate::ps::mux_frame(f.params.codec, &annexb, f.pts_90k, f.pts_90k, f.is_key);
        for pkt in pk.packetize(&ps, f.pts_90k as u32) {
            match &mut out {
                Out::Udp(s) => {
                    s.send_to(&pkt, dest).await?;
                    sent += 1;
                    // Pace bursts (the cached GOP at start) so that the receiver's socket
                    // buffer is not overrun: at most 16 packets per millisecond (~22 MB/s).
                    if sent.is_multiple_of(16) {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                Out::Tcp(s) => s.write_all(&frame_4571(&pkt)).await?,
            }
        }
    }
}

impl Platform {
    /// Starts registering to an upper platform and serving it.
    pub fn add_upper(&self, cfg: UpperConfig, provider: Arc<dyn MediaProvider>) -> Arc<Upper> {
        let u = Arc::new(Upper {
            status: Mutex::new(UpperStatus {
                upper_id: cfg.id.clone(),
                addr: cfg.addr.to_string(),
                registered: false,
                last_error: None,
                keepalives_sent: 0,
                catalog_answers: 0,
                streams: 0,
            }),
            cfg,
            provider,
            dialogs: Mutex::new(HashMap::new()),
        });
        *self.0.upper.lock().unwrap() = Some(u.clone());
        let p = self.clone();
        let u2 = u.clone();
        tokio::spawn(async move { register_loop(p, u2).await });
        u
    }
}

/// Registers (digest), refreshes before expiry with the same Call-ID, sends keepalives; after
/// 3 unanswered keepalives or a failed refresh it registers anew. Never two REGISTERs at once.
async fn register_loop(p: Platform, u: Arc<Upper>) {
    let host = p.public_ip().to_string();
    let call_id = format!("{}@{host}", sip::token());
    let tag = sip::token();
    let mut cseq = 0u32;
    loop {
        if p.0
            .upper
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|x| !Arc::ptr_eq(x, &u))
        {
            return; // replaced
        }
        let r = register_once(&p, &u, &call_id, &tag, &mut cseq).await;
        {
            let mut s = u.status.lock().unwrap();
            s.registered = r.is_ok();
            s.last_error = r.as_ref().err().map(|e| e.to_string());
        }
        if let Err(e) = r {
            tracing::warn!(upper = %u.cfg.id, error = %e, "cascade registration failed; retrying in 5 s");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        tracing::info!(upper = %u.cfg.id, "registered to the upper platform");
        // Keepalives until the refresh is due.
        let refresh = Duration::from_secs((u.cfg.expires as u64 / 2).max(10));
        let until = tokio::time::Instant::now() + refresh;
        let mut missed = 0;
        while tokio::time::Instant::now() + u.cfg.keepalive < until {
            tokio::time::sleep(u.cfg.keepalive).await;
            let sn = p.next_sn();
            let body = manscdp::build(
                "Notify",
                "Keepalive",
                sn,
                &p.config().id,
                &[("Status", "OK".into())],
                u.cfg.charset,
            );
            match u.send_manscdp(&p, body).await {
                Ok(()) => {
                    missed = 0;
                    u.status.lock().unwrap().keepalives_sent += 1;
                }
                Err(_) => {
                    missed += 1;
                    if missed >= 3 {
                        u.status.lock().unwrap().registered = false;
                        break;
                    }
                }
            }
        }
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        tokio::time::sleep(left).await;
    }
}

async fn register_once(
    p: &Platform,
    u: &Upper,
    call_id: &str,
    tag: &str,
    cseq: &mut u32,
) -> custos_core::Result<()> {
    let host = p.public_ip().to_string();
    let uri = format!("sip:{}@{}", u.cfg.id, u.domain());
    let mk = |cseq: u32, auth: Option<String>| {
        let mut m = u.request(p, "REGISTER", call_id, cseq, tag);
        if let sip::StartLine::Request { uri: ru, .. } = &mut m.start {
            *ru = uri.clone();
        }
        // REGISTER's To is ourselves (RFC 3261 §10.2).
        m.set(
            "To",
            format!("<sip:{}@{}>", p.config().id, p.config().domain()),
        );
        m.push(
            "Contact",
            format!("<sip:{}@{host}:{}>", p.config().id, p.local_addr().port()),
        )
        .push("Expires", u.cfg.expires.to_string());
        if let Some(a) = auth {
            m.push("Authorization", a);
        }
        m
    };
    *cseq += 1;
    let r = p
        .transport()
        .request(u.peer(), &mk(*cseq, None), Duration::from_secs(8))
        .await?;
    let r = match r.status() {
        Some(401) | Some(407) => {
            let ch = r
                .header("WWW-Authenticate")
                .or_else(|| r.header("Proxy-Authenticate"))
                .unwrap_or("");
            let auth = crate::digest::answer(ch, &p.config().id, &u.cfg.password, "REGISTER", &uri)
                .ok_or_else(|| {
                    custos_core::err!(Protocol, "upper platform sent an unusable challenge {ch:?}")
                })?;
            *cseq += 1;
            p.transport()
                .request(u.peer(), &mk(*cseq, Some(auth)), Duration::from_secs(8))
                .await?
        }
        _ => r,
    };
    match r.status() {
        Some(200..=299) => Ok(()),
        Some(403) => Err(custos_core::err!(
            Unauthenticated,
            "upper platform {} rejected our password (403); check the cascade password",
            u.cfg.id
        )),
        s => Err(custos_core::err!(
            Unavailable,
            "upper platform {} answered REGISTER with {s:?}",
            u.cfg.id
        )),
    }
}
