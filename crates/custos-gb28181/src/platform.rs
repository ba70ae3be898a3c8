//! The platform (UAS for devices): registration with digest, keepalive liveness, MANSCDP
//! queries and answers (Catalog collected over many MESSAGEs by SN and SumNum), PTZ control,
//! alarms, catalog subscription, and media sessions (INVITE/ACK/BYE) whose PS/RTP becomes
//! recorder frames (see [`crate::media`]).
//!
//! State lives in memory; the caller persists what it needs from [`PlatformEvent`]s and
//! [`Platform::devices`] (the `custos` binary writes them to the store).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custos_core::compliance::DeviceCode;
use custos_core::{Error, ErrorKind, Result};
use tokio::sync::{Semaphore, broadcast, oneshot};

use crate::digest;
use crate::manscdp::{self, CatalogItem, Charset, Manscdp};
use crate::sip::{self, Message};
use crate::transport::{Peer, Stats, Transport};

/// How the platform runs.
#[derive(Clone, Debug)]
pub struct PlatformConfig {
    /// Our 20-digit SIP id; the domain (realm) is its first 10 digits.
    pub id: String,
    /// The password devices register with.
    pub password: String,
    pub listen: SocketAddr,
    /// The address devices and upper platforms reach us at (SDP `c=`, Via, Contact). Defaults
    /// to the listen address, or 127.0.0.1 when that is unspecified.
    pub public_ip: Option<IpAddr>,
    /// Devices' keepalive interval; a device missing `max_missed` beats is offline.
    pub keepalive_interval: Duration,
    pub max_missed: u32,
    /// How long to wait for all MESSAGEs of a multi-part answer.
    pub query_timeout: Duration,
    /// Ask a newly registered device for its catalog and device info.
    pub query_on_register: bool,
}

impl PlatformConfig {
    pub fn new(id: &str, password: &str, listen: SocketAddr) -> Result<Self> {
        DeviceCode::parse(id)
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("--sip-id: {e}")))?;
        Ok(PlatformConfig {
            id: id.to_owned(),
            password: password.to_owned(),
            listen,
            public_ip: None,
            keepalive_interval: Duration::from_secs(60),
            max_missed: 3,
            query_timeout: Duration::from_secs(10),
            query_on_register: true,
        })
    }

    pub fn domain(&self) -> &str {
        &self.id[..10]
    }
}

/// A registered device, as the console and `custos gb devices` show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Device {
    pub id: String,
    pub transport: &'static str,
    pub addr: String,
    pub online: bool,
    pub registered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_keepalive: Option<chrono::DateTime<chrono::Utc>>,
    pub expires: u32,
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub firmware: String,
    pub channels: Vec<CatalogItem>,
    pub charset: Charset,
    #[serde(skip)]
    peer: Option<Peer>,
    #[serde(skip)]
    expires_at: Option<Instant>,
    #[serde(skip)]
    last_seen: Option<Instant>,
}

impl Device {
    fn new(id: &str) -> Device {
        Device {
            id: id.to_owned(),
            transport: "UDP",
            addr: String::new(),
            online: false,
            registered_at: None,
            last_keepalive: None,
            expires: 0,
            name: String::new(),
            manufacturer: String::new(),
            model: String::new(),
            firmware: String::new(),
            channels: Vec::new(),
            charset: Charset::Gb18030,
            peer: None,
            expires_at: None,
            last_seen: None,
        }
    }

    pub fn peer(&self) -> Option<Peer> {
        self.peer
    }
}

/// What happened, for persistence and the event stream (alarms: I4).
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "event")]
pub enum PlatformEvent {
    Registered {
        device: String,
        addr: String,
    },
    Unregistered {
        device: String,
    },
    Online {
        device: String,
    },
    Offline {
        device: String,
        reason: String,
    },
    Catalog {
        device: String,
        items: Vec<CatalogItem>,
    },
    DeviceInfo {
        device: String,
    },
    Alarm {
        device: String,
        fields: Vec<(String, String)>,
    },
    MediaStatus {
        device: String,
        call_id: String,
        notify_type: String,
    },
    MediaEnded {
        call_id: String,
        reason: String,
    },
}

/// A nonce we issued: when, to which source, and the highest `nc` used with it.
struct NonceState {
    issued: Instant,
    to: Peer,
    /// `None` until first used; without `qop` (no `nc`) a use removes the nonce.
    last_nc: Option<u32>,
}

/// Whether a device's request is admitted.
enum Admit {
    Yes,
    /// Another address or transport than the device's registration.
    WrongSource,
    /// Never registered, unregistered, or the registration expired.
    Unregistered,
}

/// Answers being collected (by sender and SN).
struct Collect {
    msg: Option<Manscdp>,
    waiter: Option<oneshot::Sender<Manscdp>>,
    started: Instant,
}

pub(crate) struct Inner {
    pub cfg: PlatformConfig,
    pub t: Arc<Transport>,
    pub devices: Mutex<HashMap<String, Device>>,
    /// Nonces we issued: when, and to which source (a nonce is good once, from there only).
    nonces: Mutex<HashMap<String, NonceState>>,
    /// Sources already logged as refused (one log line per source; bounded).
    refused_logged: Mutex<HashSet<SocketAddr>>,
    collects: Mutex<HashMap<(String, u32), Collect>>,
    pub events: broadcast::Sender<PlatformEvent>,
    sn: AtomicU32,
    pub serial: AtomicU32,
    pub sessions: Mutex<HashMap<String, crate::media::SessionCtl>>,
    pub upper: Mutex<Option<Arc<crate::cascade::Upper>>>,
    pub counters: Mutex<Counters>,
}

/// Work counters for the benchmark and the console.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Counters {
    pub registrations: u64,
    pub keepalives: u64,
    pub rejected: u64,
    /// Requests naming a registered device (or the upper platform) that came from another
    /// address or transport than its authenticated registration: dropped.
    pub wrong_source: u64,
    /// Requests from a device whose registration expired or was never made: refused.
    pub unregistered: u64,
    /// REGISTERs with a nonce that was not ours, already used, expired or issued to another
    /// source (replays): challenged again.
    pub stale_nonces: u64,
    /// Upper-platform INVITEs whose media target was not an allowed address: refused.
    pub media_target_refused: u64,
    /// RTP packets from another source than the session's device or with another SSRC.
    pub foreign_rtp: u64,
}

/// How long a nonce we issue stays good (it is good for one REGISTER only).
pub const NONCE_LIFETIME: Duration = Duration::from_secs(30);
/// At most this many SIP requests are handled at once.
pub const MAX_CONCURRENT_REQUESTS: usize = 64;

/// The running platform; cheap to clone.
#[derive(Clone)]
pub struct Platform(pub(crate) Arc<Inner>);

/// A status snapshot for a console.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PlatformStatus {
    pub id: String,
    pub listen: String,
    pub devices: usize,
    pub online: usize,
    pub channels: usize,
    pub media_sessions: usize,
    pub counters: Counters,
    pub sip: Stats,
    pub cascade: Option<crate::cascade::UpperStatus>,
}

impl Platform {
    /// Binds UDP and TCP and starts serving.
    pub async fn start(cfg: PlatformConfig) -> Result<Platform> {
        let (t, mut inbound) = Transport::bind(cfg.listen).await?;
        let (events, _) = broadcast::channel(4096);
        let p = Platform(Arc::new(Inner {
            cfg,
            t,
            devices: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashMap::new()),
            refused_logged: Mutex::new(HashSet::new()),
            collects: Mutex::new(HashMap::new()),
            events,
            sn: AtomicU32::new(1),
            serial: AtomicU32::new(1),
            sessions: Mutex::new(HashMap::new()),
            upper: Mutex::new(None),
            counters: Mutex::new(Counters::default()),
        }));
        let p2 = p.clone();
        tokio::spawn(async move {
            // Transactions run concurrently (a request waiting on a slow or unreachable peer
            // must not hold up the others), at most MAX_CONCURRENT_REQUESTS at a time.
            let slots = Arc::new(Semaphore::new(MAX_CONCURRENT_REQUESTS));
            while let Some((m, peer)) = inbound.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let p3 = p2.clone();
                tokio::spawn(async move {
                    p3.dispatch(m, peer).await;
                    drop(slot);
                });
            }
        });
        let weak = Arc::downgrade(&p.0);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let Some(inner) = weak.upgrade() else { break };
                Platform(inner).sweep();
            }
        });
        Ok(p)
    }

    pub fn config(&self) -> &PlatformConfig {
        &self.0.cfg
    }

    /// The bound SIP address (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.0.t.local
    }

    /// Our address as peers see it.
    pub fn public_ip(&self) -> IpAddr {
        self.0.cfg.public_ip.unwrap_or_else(|| {
            let ip = self.0.t.local.ip();
            if ip.is_unspecified() {
                IpAddr::from([127, 0, 0, 1])
            } else {
                ip
            }
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<PlatformEvent> {
        self.0.events.subscribe()
    }

    pub fn devices(&self) -> Vec<Device> {
        let mut v: Vec<Device> = self.0.devices.lock().unwrap().values().cloned().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    pub fn device(&self, id: &str) -> Option<Device> {
        self.0.devices.lock().unwrap().get(id).cloned()
    }

    pub fn status(&self) -> PlatformStatus {
        let d = self.0.devices.lock().unwrap();
        PlatformStatus {
            id: self.0.cfg.id.clone(),
            listen: self.0.t.local.to_string(),
            devices: d.len(),
            online: d.values().filter(|x| x.online).count(),
            channels: d.values().map(|x| x.channels.len()).sum(),
            media_sessions: self.0.sessions.lock().unwrap().len(),
            counters: *self.0.counters.lock().unwrap(),
            sip: *self.0.t.stats.lock().unwrap(),
            cascade: self.0.upper.lock().unwrap().as_ref().map(|u| u.status()),
        }
    }

    pub(crate) fn emit(&self, e: PlatformEvent) {
        let _ = self.0.events.send(e);
    }

    pub(crate) fn next_sn(&self) -> u32 {
        self.0.sn.fetch_add(1, Ordering::Relaxed)
    }

    /// Marks devices offline after missed keepalives or registration expiry; drops stale
    /// nonces and abandoned collections.
    fn sweep(&self) {
        let now = Instant::now();
        let grace = self.0.cfg.keepalive_interval * self.0.cfg.max_missed;
        let mut off = Vec::new();
        for d in self.0.devices.lock().unwrap().values_mut() {
            if !d.online {
                continue;
            }
            let reason = if d.expires_at.is_some_and(|e| now >= e) {
                Some("registration expired".to_owned())
            } else if d.last_seen.is_some_and(|s| now.duration_since(s) > grace) {
                Some(format!(
                    "{} keepalives missed ({}s interval)",
                    self.0.cfg.max_missed,
                    self.0.cfg.keepalive_interval.as_secs_f64()
                ))
            } else {
                None
            };
            if let Some(r) = reason {
                d.online = false;
                off.push((d.id.clone(), r));
            }
        }
        for (id, reason) in off {
            tracing::info!(device = %id, %reason, "GB device offline");
            self.emit(PlatformEvent::Offline { device: id, reason });
        }
        self.0
            .nonces
            .lock()
            .unwrap()
            .retain(|_, st| now.duration_since(st.issued) < NONCE_LIFETIME);
        let timeout = self.0.cfg.query_timeout;
        let mut expired = Vec::new();
        self.0.collects.lock().unwrap().retain(|k, c| {
            if now.duration_since(c.started) > timeout + Duration::from_secs(1) {
                if let Some(m) = c.msg.take() {
                    expired.push((k.0.clone(), m));
                }
                false
            } else {
                true
            }
        });
        for (from, m) in expired {
            tracing::warn!(device = %from, sn = m.sn, got = m.items.len(), sum = ?m.sum_num(),
                "incomplete {} answer; keeping the part received", m.cmd_type);
            self.apply_answer(&from, &m);
        }
    }

    async fn dispatch(&self, m: Message, peer: Peer) {
        let method = m.method().unwrap_or("").to_owned();
        let from = m.from_user().unwrap_or("").to_owned();
        let upper = self.0.upper.lock().unwrap().clone();
        if let Some(u) = upper
            && u.is_upper(&from)
        {
            // Only the upper platform's own address, over the transport we registered with,
            // speaks for it: anyone else naming it is refused (and counted, and logged).
            if u.is_upper_peer(peer) {
                u.handle(self, m, peer).await;
            } else {
                self.refuse_wrong_source(&m, peer, &from, "the upper platform")
                    .await;
            }
            return;
        }
        let r = match method.as_str() {
            "REGISTER" => self.on_register(&m, peer).await,
            "MESSAGE" => self.on_message(&m, peer).await,
            "NOTIFY" => self.on_notify(&m, peer).await,
            "BYE" => self.on_bye(&m, peer).await,
            "ACK" => Ok(()),
            "OPTIONS" | "INFO" => self.reply(&m, peer, 200, "OK").await,
            _ => self.reply(&m, peer, 405, "Method Not Allowed").await,
        };
        if let Err(e) = r {
            tracing::warn!(%method, device = %from, call_id = m.call_id(), error = %e, "SIP request failed");
        }
    }

    pub(crate) async fn reply(
        &self,
        req: &Message,
        peer: Peer,
        code: u16,
        reason: &str,
    ) -> Result<()> {
        let r = Message::response_to(req, code, reason, Some(&sip::token()));
        self.0.t.send(peer, &r).await
    }

    async fn on_register(&self, m: &Message, peer: Peer) -> Result<()> {
        let Some(id) = m.from_user().map(str::to_owned) else {
            return self.reply(m, peer, 400, "Bad From").await;
        };
        if let Err(e) = DeviceCode::parse(&id) {
            self.0.counters.lock().unwrap().rejected += 1;
            let mut r = Message::response_to(m, 403, "Forbidden", Some(&sip::token()));
            r.push("Warning", format!("399 custos \"bad device code: {e}\""));
            return self.0.t.send(peer, &r).await;
        }
        let realm = self.0.cfg.domain().to_owned();
        let challenge = |stale: bool| {
            let nonce = sip::token() + &sip::token();
            self.0.nonces.lock().unwrap().insert(
                nonce.clone(),
                NonceState {
                    issued: Instant::now(),
                    to: peer,
                    last_nc: None,
                },
            );
            let mut r = Message::response_to(m, 401, "Unauthorized", Some(&sip::token()));
            r.push(
                "WWW-Authenticate",
                format!(
                    "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"{}",
                    if stale { ", stale=TRUE" } else { "" }
                ),
            );
            r
        };
        let Some(auth) = m.header("Authorization") else {
            return self.0.t.send(peer, &challenge(false)).await;
        };
        // A nonce is good from the source it was issued to, for NONCE_LIFETIME, and each
        // nonce-count once (RFC 2617 §3.2.2: `nc` must grow; without qop, once): a captured
        // REGISTER replayed, from anywhere, is challenged again.
        let nc = digest::nc_of(auth);
        let verdict = digest::verify(auth, "REGISTER", &realm, &self.0.cfg.password, |n| {
            self.0.nonces.lock().unwrap().get(n).is_some_and(|st| {
                st.to == peer
                    && st.issued.elapsed() < NONCE_LIFETIME
                    && match (nc, st.last_nc) {
                        (_, None) => true,
                        (Some(nc), Some(last)) => nc > last,
                        (None, Some(_)) => false,
                    }
            })
        });
        if !matches!(verdict, Err(digest::Reject::Stale))
            && let Some(n) = digest::nonce_of(auth)
        {
            let mut ns = self.0.nonces.lock().unwrap();
            match nc {
                Some(nc) => {
                    if let Some(st) = ns.get_mut(&n) {
                        st.last_nc = Some(nc);
                    }
                }
                None => {
                    ns.remove(&n);
                }
            }
        }
        match verdict {
            Err(digest::Reject::Stale) => {
                self.0.counters.lock().unwrap().stale_nonces += 1;
                tracing::info!(device = %id, peer = %peer.addr(), "GB REGISTER with a stale, reused or foreign nonce; challenged again");
                return self.0.t.send(peer, &challenge(true)).await;
            }
            Err(digest::Reject::BadPassword) => {
                self.0.counters.lock().unwrap().rejected += 1;
                tracing::warn!(device = %id, peer = %peer.addr(), "GB REGISTER with a wrong password");
                return self.reply(m, peer, 403, "Forbidden").await;
            }
            Ok(user) if user != id => {
                self.0.counters.lock().unwrap().rejected += 1;
                return self.reply(m, peer, 403, "Forbidden").await;
            }
            Ok(_) if self.is_listed_channel(&id) => {
                // D1: a device may not register under another device's channel id.
                self.0.counters.lock().unwrap().rejected += 1;
                tracing::warn!(device = %id, peer = %peer.addr(), "GB REGISTER under another device's channel id refused");
                let mut r = Message::response_to(m, 403, "Forbidden", Some(&sip::token()));
                r.push(
                    "Warning",
                    format!("399 custos \"{id} is a channel of another device\""),
                );
                return self.0.t.send(peer, &r).await;
            }
            Ok(_) => {}
        }
        let expires = m.expires().unwrap_or(3600);
        let mut r = Message::response_to(m, 200, "OK", Some(&sip::token()));
        if let Some(c) = m.header("Contact") {
            r.push("Contact", c.to_owned());
        }
        r.push("Expires", expires.to_string());
        r.push("Date", sip::gb_date(chrono::Utc::now()));
        self.0.t.send(peer, &r).await?;
        self.0.counters.lock().unwrap().registrations += 1;
        let now = Instant::now();
        if expires == 0 {
            let was = {
                let mut d = self.0.devices.lock().unwrap();
                d.get_mut(&id).map(|d| {
                    let w = d.online;
                    d.online = false;
                    d.expires_at = None;
                    w
                })
            };
            tracing::info!(device = %id, "GB device unregistered");
            self.emit(PlatformEvent::Unregistered { device: id.clone() });
            if was == Some(true) {
                self.emit(PlatformEvent::Offline {
                    device: id,
                    reason: "unregistered".into(),
                });
            }
            return Ok(());
        }
        let newly = {
            let mut devs = self.0.devices.lock().unwrap();
            let d = devs.entry(id.clone()).or_insert_with(|| Device::new(&id));
            let newly = !d.online || d.peer != Some(peer);
            d.online = true;
            d.peer = Some(peer);
            d.transport = peer.proto();
            d.addr = peer.addr().to_string();
            d.expires = expires;
            d.expires_at = Some(now + Duration::from_secs(expires as u64));
            d.last_seen = Some(now);
            d.registered_at = Some(chrono::Utc::now());
            newly
        };
        if newly {
            tracing::info!(device = %id, peer = %peer.addr(), "GB device registered");
            self.emit(PlatformEvent::Registered {
                device: id.clone(),
                addr: peer.addr().to_string(),
            });
            self.emit(PlatformEvent::Online { device: id.clone() });
            if self.0.cfg.query_on_register {
                let p = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = p.query_catalog(&id).await {
                        tracing::warn!(device = %id, error = %e, "catalog query failed");
                    }
                    if let Err(e) = p.query(&id, &id, "DeviceInfo", &[]).await {
                        tracing::warn!(device = %id, error = %e, "device info query failed");
                    }
                });
            }
        }
        Ok(())
    }

    /// Whether a request that names registered device `id` may act for it: it must come
    /// from the address and transport of the device's last authenticated REGISTER, and that
    /// registration must not have expired. Counts a keepalive as a sign of life.
    fn admit(&self, id: &str, peer: Peer) -> Admit {
        let now = Instant::now();
        let mut back_online = false;
        let verdict = {
            let mut devs = self.0.devices.lock().unwrap();
            match devs.get_mut(id) {
                Some(d) if d.peer.is_some_and(|p| p != peer) => Admit::WrongSource,
                Some(d) if d.expires_at.is_some_and(|e| now < e) => {
                    d.last_seen = Some(now);
                    if !d.online {
                        d.online = true;
                        back_online = true;
                    }
                    Admit::Yes
                }
                _ => Admit::Unregistered,
            }
        };
        if back_online {
            self.emit(PlatformEvent::Online {
                device: id.to_owned(),
            });
        }
        verdict
    }

    /// Admits a device's request, or answers 403, counts and logs why not. `Ok(true)`:
    /// go on.
    async fn gate(&self, m: &Message, peer: Peer, id: &str) -> Result<bool> {
        match self.admit(id, peer) {
            Admit::Yes => Ok(true),
            Admit::WrongSource => {
                self.refuse_wrong_source(m, peer, id, "a registered device")
                    .await;
                Ok(false)
            }
            Admit::Unregistered => {
                self.0.counters.lock().unwrap().unregistered += 1;
                // Not registered (or expired): it must register (again) first.
                self.reply(m, peer, 403, "Forbidden").await?;
                Ok(false)
            }
        }
    }

    /// A request naming `claimed` came from elsewhere than `claimed`'s registration: 403,
    /// counted in [`Counters::wrong_source`], logged once per source address.
    pub(crate) async fn refuse_wrong_source(
        &self,
        m: &Message,
        peer: Peer,
        claimed: &str,
        what: &str,
    ) {
        self.0.counters.lock().unwrap().wrong_source += 1;
        let first = {
            let mut l = self.0.refused_logged.lock().unwrap();
            if l.len() >= 4096 {
                l.clear();
            }
            l.insert(peer.addr())
        };
        if first {
            tracing::warn!(source = %peer.addr(), transport = peer.proto(), claimed = %claimed,
                method = m.method().unwrap_or(""),
                "GB/T 28181 request names {what} but does not come from its registered address; refused (further ones from this source are only counted)");
        }
        let mut r = Message::response_to(m, 403, "Forbidden", Some(&sip::token()));
        r.push(
            "Warning",
            "399 custos \"not the registered address of this id\"",
        );
        let _ = self.0.t.send(peer, &r).await;
    }

    async fn on_message(&self, m: &Message, peer: Peer) -> Result<()> {
        let from = m.from_user().unwrap_or("").to_owned();
        if !self.gate(m, peer, &from).await? {
            return Ok(());
        }
        let x = match manscdp::parse(&m.body) {
            Ok(x) => x,
            Err(e) => {
                self.reply(m, peer, 400, "Bad Request").await?;
                return Err(e.context(format!("MESSAGE from {from}")));
            }
        };
        self.reply(m, peer, 200, "OK").await?;
        if let Some(d) = self.0.devices.lock().unwrap().get_mut(&from) {
            d.charset = x.charset;
        }
        match (x.root.as_str(), x.cmd_type.as_str()) {
            ("Notify", "Keepalive") => {
                self.0.counters.lock().unwrap().keepalives += 1;
                if let Some(d) = self.0.devices.lock().unwrap().get_mut(&from) {
                    d.last_keepalive = Some(chrono::Utc::now());
                }
            }
            ("Notify", "Alarm") => {
                tracing::info!(device = %from, "GB alarm");
                self.emit(PlatformEvent::Alarm {
                    device: x.device_id.clone(),
                    fields: x.fields.clone(),
                });
                // A.2.5: the platform answers an alarm notify with a Response.
                let body = manscdp::build(
                    "Response",
                    "Alarm",
                    x.sn,
                    &x.device_id,
                    &[("Result", "OK".into())],
                    x.charset,
                );
                let _ = self.send_message(&from, body).await;
            }
            ("Notify", "MediaStatus") => {
                let nt = x.field("NotifyType").unwrap_or("").to_owned();
                let call_id = crate::media::session_of_device(self, &x.device_id, &from);
                self.emit(PlatformEvent::MediaStatus {
                    device: from.clone(),
                    call_id: call_id.clone().unwrap_or_default(),
                    notify_type: nt.clone(),
                });
                if nt == "121"
                    && let Some(c) = call_id
                {
                    crate::media::end_session(
                        self,
                        &c,
                        "playback finished (MediaStatus 121)",
                        true,
                    )
                    .await;
                }
            }
            ("Notify", "Catalog") => self.catalog_notify(&from, &x),
            ("Response", _) => self.collect(&from, x),
            _ => tracing::debug!(device = %from, cmd = %x.cmd_type, "MANSCDP message ignored"),
        }
        Ok(())
    }

    /// Catalog subscription NOTIFYs (and MESSAGE Notify Catalog): items with `Event`
    /// ADD/DEL/UPDATE/ON/OFF.
    fn catalog_notify(&self, from: &str, x: &Manscdp) {
        let mut devs = self.0.devices.lock().unwrap();
        let Some(d) = devs.get_mut(from) else { return };
        for f in &x.items {
            let it = CatalogItem::from_fields(f);
            let ev = f
                .iter()
                .find(|(k, _)| k == "Event")
                .map(|(_, v)| v.as_str())
                .unwrap_or("ADD");
            d.channels.retain(|c| c.device_id != it.device_id);
            if ev != "DEL" {
                let mut it = it;
                match ev {
                    "ON" => it.status = "ON".into(),
                    "OFF" => it.status = "OFF".into(),
                    _ => {}
                }
                d.channels.push(it);
            }
        }
        let items = d.channels.clone();
        drop(devs);
        self.emit(PlatformEvent::Catalog {
            device: from.to_owned(),
            items,
        });
    }

    async fn on_notify(&self, m: &Message, peer: Peer) -> Result<()> {
        let from = m.from_user().unwrap_or("").to_owned();
        if !self.gate(m, peer, &from).await? {
            return Ok(());
        }
        self.reply(m, peer, 200, "OK").await?;
        if let Ok(x) = manscdp::parse(&m.body)
            && x.cmd_type == "Catalog"
        {
            self.catalog_notify(&from, &x);
        }
        Ok(())
    }

    async fn on_bye(&self, m: &Message, peer: Peer) -> Result<()> {
        // Only the device of the session, from its registered address, ends it.
        let owner = self
            .0
            .sessions
            .lock()
            .unwrap()
            .get(m.call_id())
            .map(|s| (s.device.clone(), s.peer));
        match owner {
            None => {
                return self
                    .reply(m, peer, 481, "Call/Transaction Does Not Exist")
                    .await;
            }
            Some((dev, p)) if p != peer => {
                self.refuse_wrong_source(m, peer, &dev, "a media session's device")
                    .await;
                return Ok(());
            }
            Some(_) => {}
        }
        self.reply(m, peer, 200, "OK").await?;
        crate::media::end_session(self, m.call_id(), "device sent BYE", false).await;
        Ok(())
    }

    /// Adds one MESSAGE of a (possibly multi-part) answer; completes at SumNum items.
    fn collect(&self, from: &str, x: Manscdp) {
        let key = (from.to_owned(), x.sn);
        let done = {
            let mut cs = self.0.collects.lock().unwrap();
            let c = cs.entry(key.clone()).or_insert_with(|| Collect {
                msg: None,
                waiter: None,
                started: Instant::now(),
            });
            match &mut c.msg {
                Some(m) => m.items.extend(x.items),
                None => c.msg = Some(x),
            }
            let m = c.msg.as_ref().expect("set");
            let complete = match m.sum_num() {
                Some(n) => m.items.len() >= n as usize,
                None => true,
            };
            if complete { cs.remove(&key) } else { None }
        };
        if let Some(mut c) = done {
            let m = c.msg.take().expect("set");
            self.apply_answer(from, &m);
            if let Some(w) = c.waiter.take() {
                let _ = w.send(m);
            }
        }
    }

    fn apply_answer(&self, from: &str, m: &Manscdp) {
        match m.cmd_type.as_str() {
            "Catalog" => {
                let items: Vec<CatalogItem> = m
                    .items
                    .iter()
                    .map(|f| CatalogItem::from_fields(f))
                    .collect();
                if let Some(d) = self.0.devices.lock().unwrap().get_mut(from) {
                    d.channels = items.clone();
                }
                tracing::info!(device = %from, channels = items.len(), "GB catalog");
                self.emit(PlatformEvent::Catalog {
                    device: from.to_owned(),
                    items,
                });
            }
            "DeviceInfo" => {
                if let Some(d) = self.0.devices.lock().unwrap().get_mut(from) {
                    let g = |k| m.field(k).unwrap_or("").to_owned();
                    d.name = g("DeviceName");
                    d.manufacturer = g("Manufacturer");
                    d.model = g("Model");
                    d.firmware = g("Firmware");
                }
                self.emit(PlatformEvent::DeviceInfo {
                    device: from.to_owned(),
                });
            }
            _ => {}
        }
    }

    /// Sends a MESSAGE with a MANSCDP body to a registered device and waits for its 200.
    pub async fn send_message(&self, device: &str, body: Vec<u8>) -> Result<()> {
        let peer = self.device(device).and_then(|d| d.peer).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("GB device {device} is not registered"),
            )
        })?;
        let domain = self.0.cfg.domain();
        let host = self.public_ip().to_string();
        let mut m = Message::request("MESSAGE", &format!("sip:{device}@{}", peer.addr()));
        m.push("Via", self.0.t.via(peer, &host))
            .push(
                "From",
                format!("<sip:{}@{domain}>;tag={}", self.0.cfg.id, sip::token()),
            )
            .push("To", format!("<sip:{device}@{domain}>"))
            .push("Call-ID", format!("{}@{host}", sip::token()))
            .push("CSeq", "1 MESSAGE")
            .push("Max-Forwards", "70")
            .push("User-Agent", "custos");
        m.with_body("Application/MANSCDP+xml", body);
        let r = self.0.t.request(peer, &m, Duration::from_secs(8)).await?;
        match r.status() {
            Some(200..=299) => Ok(()),
            s => Err(Error::new(
                ErrorKind::Unavailable,
                format!("GB device {device} answered MESSAGE with {s:?}"),
            )),
        }
    }

    /// Sends a `<Query>` to `device` about `target` (the device or a channel) and waits for
    /// the complete answer (all SumNum items) up to the query timeout.
    pub async fn query(
        &self,
        device: &str,
        target: &str,
        cmd: &str,
        extra: &[(&str, String)],
    ) -> Result<Manscdp> {
        let sn = self.next_sn();
        let charset = self.device(device).map(|d| d.charset).unwrap_or_default();
        let (tx, rx) = oneshot::channel();
        self.0.collects.lock().unwrap().insert(
            (device.to_owned(), sn),
            Collect {
                msg: None,
                waiter: Some(tx),
                started: Instant::now(),
            },
        );
        let body = manscdp::build("Query", cmd, sn, target, extra, charset);
        if let Err(e) = self.send_message(device, body).await {
            self.0
                .collects
                .lock()
                .unwrap()
                .remove(&(device.to_owned(), sn));
            return Err(e);
        }
        match tokio::time::timeout(self.0.cfg.query_timeout, rx).await {
            Ok(Ok(m)) => Ok(m),
            _ => {
                let partial = self
                    .0
                    .collects
                    .lock()
                    .unwrap()
                    .remove(&(device.to_owned(), sn))
                    .and_then(|c| c.msg);
                if let Some(m) = &partial {
                    self.apply_answer(device, m);
                }
                Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "GB device {device} did not complete its {cmd} answer (SN {sn}) within {:?}: got {} of {} items",
                        self.0.cfg.query_timeout,
                        partial.as_ref().map(|m| m.items.len()).unwrap_or(0),
                        partial
                            .as_ref()
                            .and_then(|m| m.sum_num())
                            .map(|n| n.to_string())
                            .unwrap_or("?".into())
                    ),
                ))
            }
        }
    }

    pub async fn query_catalog(&self, device: &str) -> Result<Vec<CatalogItem>> {
        let m = self.query(device, device, "Catalog", &[]).await?;
        Ok(m.items
            .iter()
            .map(|f| CatalogItem::from_fields(f))
            .collect())
    }

    /// RecordInfo of a channel between two GB times (`yyyy-MM-ddTHH:mm:ss`).
    pub async fn query_records(
        &self,
        device: &str,
        channel: &str,
        start: &str,
        end: &str,
    ) -> Result<Manscdp> {
        self.query(
            device,
            channel,
            "RecordInfo",
            &[
                ("StartTime", start.to_owned()),
                ("EndTime", end.to_owned()),
                ("Secrecy", "0".into()),
                ("Type", "all".into()),
            ],
        )
        .await
    }

    /// PTZ control of a channel (DeviceControl with a checksummed PTZCmd).
    pub async fn ptz(&self, device: &str, channel: &str, p: crate::ptz::Ptz) -> Result<()> {
        let sn = self.next_sn();
        let charset = self.device(device).map(|d| d.charset).unwrap_or_default();
        let body = manscdp::build(
            "Control",
            "DeviceControl",
            sn,
            channel,
            &[
                ("PTZCmd", crate::ptz::ptz_cmd(p, 1)),
                ("Info", "<ControlPriority>5</ControlPriority>".into()),
            ],
            charset,
        );
        self.send_message(device, body).await
    }

    /// Subscribes to a device's catalog changes (NOTIFYs update the channel list).
    pub async fn subscribe_catalog(&self, device: &str, expires: u32) -> Result<()> {
        let peer = self.device(device).and_then(|d| d.peer).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("GB device {device} is not registered"),
            )
        })?;
        let domain = self.0.cfg.domain();
        let host = self.public_ip().to_string();
        let sn = self.next_sn();
        let mut m = Message::request("SUBSCRIBE", &format!("sip:{device}@{}", peer.addr()));
        m.push("Via", self.0.t.via(peer, &host))
            .push(
                "From",
                format!("<sip:{}@{domain}>;tag={}", self.0.cfg.id, sip::token()),
            )
            .push("To", format!("<sip:{device}@{domain}>"))
            .push("Call-ID", format!("{}@{host}", sip::token()))
            .push("CSeq", "1 SUBSCRIBE")
            .push(
                "Contact",
                format!("<sip:{}@{host}:{}>", self.0.cfg.id, self.0.t.local.port()),
            )
            .push("Event", format!("Catalog;id={sn}"))
            .push("Expires", expires.to_string())
            .push("Max-Forwards", "70");
        let charset = self.device(device).map(|d| d.charset).unwrap_or_default();
        m.with_body(
            "Application/MANSCDP+xml",
            manscdp::build("Query", "Catalog", sn, device, &[], charset),
        );
        let r = self.0.t.request(peer, &m, Duration::from_secs(8)).await?;
        match r.status() {
            Some(200..=299) => Ok(()),
            s => Err(Error::new(
                ErrorKind::Unavailable,
                format!("GB device {device} refused the catalog subscription ({s:?})"),
            )),
        }
    }

    /// A device's channels nested by `ParentID` (business groups, virtual organisations,
    /// cameras), for a console's catalog tree.
    pub fn catalog_tree(&self, device: &str) -> Option<Vec<crate::manscdp::CatalogNode>> {
        let d = self.device(device)?;
        Some(crate::manscdp::catalog_tree(&d.id, &d.channels))
    }

    /// The device that owns a channel: the device whose catalog lists it, else the device
    /// itself (an IP camera registering on its own). A device registering under another
    /// device's channel id never takes that channel over (D1).
    pub fn owner_of(&self, channel: &str) -> Option<Device> {
        let devs = self.0.devices.lock().unwrap();
        devs.values()
            .filter(|d| d.id != channel && d.channels.iter().any(|c| c.device_id == channel))
            .min_by(|a, b| a.id.cmp(&b.id))
            .or_else(|| devs.get(channel))
            .cloned()
    }

    /// Whether `id` is a channel in the catalog of a device other than `id` itself.
    pub fn is_listed_channel(&self, id: &str) -> bool {
        self.0
            .devices
            .lock()
            .unwrap()
            .values()
            .any(|d| d.id != id && d.channels.iter().any(|c| c.device_id == id))
    }

    pub(crate) fn transport(&self) -> &Arc<Transport> {
        &self.0.t
    }
}
