//! GB/T 28181 in a running node: starting the platform inside a [`Runtime`] (devices' video
//! channels are INVITEd live and recorded like RTSP cameras once their device is accepted in
//! the registry, camera name = the channel's 20-digit id), persisting what the platform
//! learns to the store and the ledger ([`persist`]), the optional cascade to an upper platform
//! ([`offered`]), the console's view of the platform, and the registry decision (A2).

mod feed;
mod offered;
mod persist;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use custos_core::camera::{CameraName, StreamKind};
use custos_core::compliance::DeviceCode;
use custos_core::retention::RetentionClass;
use custos_core::{Error, ErrorKind, Result};
use custos_gb28181::{MediaTransport, Platform, PlatformConfig, UpperConfig};
use custos_store::Store;
use tokio::sync::{mpsc, watch};

use crate::runtime::{Runtime, now};
use offered::Offered;

/// How to run the platform (the binary's `--sip-*` options and `[gb28181]`).
#[derive(Clone, Debug)]
pub struct GbOptions {
    /// SIP over UDP and TCP on ADDR:PORT (port 5060 if omitted); `None`: no platform.
    pub listen: Option<String>,
    /// The platform's 20-digit SIP id; its first 10 digits are the SIP domain.
    pub id: String,
    /// The password devices register with (digest).
    pub password: Option<String>,
    /// Devices' keepalive interval in seconds (offline after 3 missed).
    pub keepalive_secs: u64,
    /// How devices send media.
    pub media: MediaTransport,
    /// The upper platform to register to: UPPER_ID@HOST:PORT.
    pub upper: Option<String>,
    pub upper_password: Option<String>,
    /// Addresses besides the upper platform's own that its INVITEs may name as media target.
    pub upper_media_ips: Vec<std::net::IpAddr>,
}

impl Default for GbOptions {
    fn default() -> Self {
        GbOptions {
            listen: None,
            id: custos_gb28181::DEFAULT_SIP_ID.to_owned(),
            password: None,
            keepalive_secs: 60,
            media: MediaTransport::Udp,
            upper: None,
            upper_password: None,
            upper_media_ips: Vec::new(),
        }
    }
}

fn bad(msg: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

fn listen_addr(s: &str) -> Result<SocketAddr> {
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    format!("{s}:5060").parse().map_err(|e| {
        bad(format!(
            "--sip-listen {s:?}: write ADDR:PORT, e.g. 0.0.0.0:5060 ({e})"
        ))
    })
}

/// The most channels of one device that are recorded or wait for acceptance; a catalog
/// listing more is cut there (the rest are logged and ignored).
pub const MAX_CHANNELS_PER_DEVICE: usize = 256;

/// Channels waiting for their device's acceptance, by device.
#[derive(Clone, Default)]
struct Waiting(Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>);

impl Waiting {
    fn add(&self, device: &str, channel: &str) {
        let mut w = self.0.lock().unwrap();
        let set = w.entry(device.to_owned()).or_default();
        if set.len() < MAX_CHANNELS_PER_DEVICE || set.contains(channel) {
            set.insert(channel.to_owned());
        } else {
            tracing::warn!(
                device,
                channel,
                "GB device has too many channels waiting; ignored"
            );
        }
    }
}

/// Hands waiting channels back to the node once their device is accepted: one registry
/// read per waiting device every [`feed::ACCEPTANCE_EVERY`], nothing per channel before that.
async fn admit_waiting(
    waiting: Waiting,
    store: Store,
    tx: mpsc::UnboundedSender<(String, String)>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(feed::ACCEPTANCE_EVERY) => {}
            _ = stop.changed() => return,
        }
        let devices: Vec<String> = waiting.0.lock().unwrap().keys().cloned().collect();
        for d in devices {
            let accepted = matches!(
                store.gb_acceptance(&d, &d).await,
                Ok(Some(a)) if a.device == "accepted"
            );
            if !accepted {
                continue;
            }
            let chans: Vec<String> = waiting
                .0
                .lock()
                .unwrap()
                .get(&d)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            for c in chans {
                // A rejected (or unlisted) channel of an accepted device keeps waiting.
                if !matches!(
                    store.gb_acceptance(&d, &c).await,
                    Ok(Some(a)) if a.refusal(&d, &c).is_none()
                ) {
                    continue;
                }
                if let Some(set) = waiting.0.lock().unwrap().get_mut(&d) {
                    set.remove(&c);
                }
                if tx.send((d.clone(), c)).is_err() {
                    return;
                }
            }
            let mut w = waiting.0.lock().unwrap();
            if w.get(&d).is_some_and(|s| s.is_empty()) {
                w.remove(&d);
            }
        }
    }
}

/// The channel id a camera is offered under: its name if that is a valid device code, else
/// `domain + 132 + 7-digit index`.
pub fn channel_id_for(name: &str, domain: &str, index: usize) -> String {
    if DeviceCode::parse(name).is_ok() {
        name.to_owned()
    } else {
        format!("{domain}132{:07}", index + 1)
    }
}

/// The running GB service of a `demo`/`record`/`serve` process.
pub struct Gb {
    pub platform: Platform,
    new_channels: mpsc::UnboundedReceiver<(String, String)>,
    /// Channels announced by devices not (yet) accepted, by device: nothing is created for
    /// them until the registry admits them (A2); at most [`MAX_CHANNELS_PER_DEVICE`] each.
    waiting: Waiting,
    recording: HashSet<String>,
    media: MediaTransport,
    offered: Arc<Offered>,
    feeders: Vec<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    store: Store,
}

impl Gb {
    /// Starts the platform if `o.listen` is given.
    pub async fn start(o: &GbOptions, rt: &Runtime) -> Result<Option<Gb>> {
        let Some(listen) = &o.listen else {
            if o.upper.is_some() {
                return Err(bad(
                    "--sip-upper needs --sip-listen (the SIP port we serve the upper platform from)"
                        .into(),
                ));
            }
            return Ok(None);
        };
        let Some(password) = &o.password else {
            return Err(bad(
                "--sip-listen needs --sip-password (or CUSTOS_SIP_PASSWORD): the password GB devices register with"
                    .into(),
            ));
        };
        let mut cfg = PlatformConfig::new(&o.id, password, listen_addr(listen)?)?;
        cfg.keepalive_interval = Duration::from_secs(o.keepalive_secs.max(1));
        let platform = Platform::start(cfg).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let waiting = Waiting::default();
        tokio::spawn(admit_waiting(
            waiting.clone(),
            rt.store.clone(),
            tx.clone(),
            stop.subscribe(),
        ));
        let offered = Arc::new(Offered {
            channels: Mutex::new(Vec::new()),
            domain: o.id[..10].to_owned(),
            upper: o
                .upper
                .as_deref()
                .and_then(|u| u.split_once('@'))
                .map(|(id, _)| id.to_owned())
                .unwrap_or_default(),
            journal: rt.journal.clone(),
            store: rt.store.clone(),
            data: rt.data.clone(),
        });
        for (i, s) in rt
            .streams
            .iter()
            .filter(|s| s.kind == StreamKind::Main)
            .enumerate()
        {
            offered.channels.lock().unwrap().push((
                channel_id_for(s.camera.as_str(), &o.id[..10], i),
                s.camera.to_string(),
                s.live.clone(),
            ));
        }
        tokio::spawn(persist::persist(
            platform.clone(),
            rt.store.clone(),
            rt.journal.clone(),
            tx,
        ));
        if let Some(up) = &o.upper {
            let (id, addr) = up
                .split_once('@')
                .ok_or_else(|| bad(format!("--sip-upper {up:?}: write UPPER_ID@HOST:PORT")))?;
            DeviceCode::parse(id).map_err(|e| bad(format!("--sip-upper id {id:?}: {e}")))?;
            let addr = tokio::net::lookup_host(addr)
                .await
                .map_err(|e| bad(format!("--sip-upper address {addr:?}: {e}")))?
                .next()
                .ok_or_else(|| bad(format!("--sip-upper address {addr:?} resolves to nothing")))?;
            platform.add_upper(
                UpperConfig {
                    id: id.to_owned(),
                    addr,
                    password: o.upper_password.clone().unwrap_or_default(),
                    expires: 3600,
                    keepalive: Duration::from_secs(o.keepalive_secs.max(1)),
                    charset: Default::default(),
                    media_targets: o.upper_media_ips.clone(),
                },
                offered.clone(),
            );
        }
        Ok(Some(Gb {
            platform,
            new_channels: rx,
            waiting,
            recording: HashSet::new(),
            media: o.media,
            offered,
            feeders: Vec::new(),
            stop,
            store: rt.store.clone(),
        }))
    }

    /// The console's view of the platform.
    pub fn console(&self) -> Console {
        Console(self.platform.clone())
    }

    /// The next GB video channel to start recording (pending forever when there is none).
    pub async fn next_channel(gb: &mut Option<Gb>) -> (String, String) {
        match gb {
            Some(g) => match g.new_channels.recv().await {
                Some(c) => c,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// Records `channel` of `device` like an RTSP camera (camera name = the channel id) once
    /// the device is accepted in the registry: until then nothing is created and the channel
    /// waits (A2). INVITEs it live and keeps re-INVITing while the process runs, under the
    /// common reconnect supervisor. A channel never takes over a camera that is not its own,
    /// nor changes any camera's retention (E3, F1).
    pub async fn attach(
        &mut self,
        rt: &mut Runtime,
        (device, channel): (String, String),
        segment_seconds: u32,
    ) -> Result<()> {
        if self.recording.contains(&channel) {
            return Ok(());
        }
        let name = CameraName::new(channel.clone())?;
        match rt.store.gb_acceptance(&device, &channel).await? {
            Some(a) if a.refusal(&device, &channel).is_none() => {}
            _ => {
                self.waiting.add(&device, &channel);
                return Ok(());
            }
        }

        // Configuration changes are run records (E4), as for configured cameras.
        if rt.store.camera_by_name(&channel).await.is_err() {
            let entry = custos_ledger::NewEntry::new(
                "gb28181 platform",
                custos_ledger::Action::ConfigChange,
                format!("camera/{channel}"),
            )
            .details(serde_json::json!({"change": "camera added", "source": "GB/T 28181 device", "retention": RetentionClass::Standard30d.to_string()}));
            let j = rt.journal.clone();
            tokio::task::spawn_blocking(move || j.record(entry))
                .await
                .map_err(|e| crate::runtime::joined("recording a GB channel's addition", e))??;
        }
        let (cam_id, stream_id) = rt
            .store
            .gb_channel_camera(&name, RetentionClass::Standard30d, now())
            .await?;
        self.recording.insert(channel.clone());
        let (tx, health) = rt
            .add_stream(cam_id, &name, StreamKind::Main, stream_id, segment_seconds)
            .await?;
        if let Some(s) = rt.streams.last() {
            let n = self.offered.channels.lock().unwrap().len();
            self.offered.channels.lock().unwrap().push((
                channel_id_for(&channel, &self.platform.config().id[..10], n),
                channel.clone(),
                s.live.clone(),
            ));
        }
        let session = feed::GbMedia {
            device,
            platform: self.platform.clone(),
            store: rt.store.clone(),
            channel: channel.clone(),
            media: self.media,
        };
        let stop = self.stop.subscribe();
        let mut rt_stop = rt.shutdown_signal();
        self.feeders.push(tokio::spawn(async move {
            tokio::select! {
                _ = custos_ingest::supervise::supervise(
                    &channel, session, tx, health, stop, feed::GB_BACKOFF,
                ) => {}
                _ = rt_stop.changed() => {}
            }
        }));
        Ok(())
    }

    /// Ends every media session (BYE) and feeder; call before `Runtime::stop`.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for f in self.feeders {
            let _ = f.await;
        }
        // Feeders' drop guards sent BYE; give them a moment to leave.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for d in self.platform.devices().iter().filter(|d| d.online) {
            let _ = self
                .store
                .gb_set_online(&d.id, false, Some("platform stopped"), now())
                .await;
        }
    }
}

/// The console's view of the running platform (`custos_server::gb::GbControl`).
pub struct Console(pub Platform);

impl custos_server::gb::GbControl for Console {
    fn status(&self) -> custos_server::gb::GbStatus {
        let s = self.0.status();
        custos_server::gb::GbStatus {
            id: s.id,
            listen: s.listen,
            devices: s.devices,
            online: s.online,
            channels: s.channels,
            media_sessions: s.media_sessions,
            cascade: s.cascade.map(|u| custos_server::gb::CascadeStatus {
                upper_id: u.upper_id,
                addr: u.addr,
                registered: u.registered,
                last_error: u.last_error,
                keepalives_sent: u.keepalives_sent,
                catalog_answers: u.catalog_answers,
                streams: u.streams,
            }),
            refused: custos_server::gb::GbRefused {
                bad_registration: s.counters.rejected,
                wrong_source: s.counters.wrong_source,
                unregistered: s.counters.unregistered,
                stale_nonce: s.counters.stale_nonces,
                media_target: s.counters.media_target_refused,
                foreign_rtp: s.counters.foreign_rtp,
            },
        }
    }

    fn last_keepalive(&self, device: &str) -> Option<String> {
        let d = self.0.device(device)?;
        d.last_keepalive.or(d.registered_at).map(|t| t.to_rfc3339())
    }

    fn ptz<'a>(
        &'a self,
        device: &'a str,
        channel: &'a str,
        m: custos_server::gb::PtzMotion,
    ) -> custos_server::gb::BoxFuture<'a, custos_core::Result<()>> {
        let p = custos_gb28181::ptz::Ptz {
            left: m.left,
            right: m.right,
            up: m.up,
            down: m.down,
            zoom_in: m.zoom_in,
            zoom_out: m.zoom_out,
            pan_speed: m.speed,
            tilt_speed: m.speed,
            zoom_speed: (m.speed >> 4).max(1),
        };
        Box::pin(async move { self.0.ptz(device, channel, p).await })
    }
}

/// The administrator's registry decision (A2) on a device, or one of its channels, that has
/// registered: recorded in the ledger first (E4), then saved. `status` is pending, accepted
/// or rejected. A running node picks it up within seconds (recording starts or stops).
pub async fn decide(
    data: &custos_footage::DataDir,
    store: &Store,
    device: &str,
    channel: Option<&str>,
    status: &str,
    by: &str,
) -> Result<()> {
    let devs = store.gb_devices().await?;
    let dev = devs.iter().find(|x| x.id == device).ok_or_else(|| {
        custos_core::err!(
            NotFound,
            "no GB device {device} has registered; see custos gb devices"
        )
    })?;
    if let Some(c) = channel
        && !dev.channels.iter().any(|x| x.id == c)
    {
        custos_core::bail!(NotFound, "GB device {device} has no channel {c}");
    }
    let object = match channel {
        Some(c) => format!("gb28181/{device}/{c}"),
        None => format!("gb28181/{device}"),
    };
    let (journal, _) = custos_footage::Journal::open(data)?;
    journal.record(
        custos_ledger::NewEntry::new(by, custos_ledger::Action::AdminChange, object)
            .details(serde_json::json!({"change": "device registry", "status": status})),
    )?;
    store.gb_set_registry_status(device, channel, status).await
}
