//! GB/T 28181 in the binary: `--sip-*` options for `demo`/`record`/`serve`, starting the
//! platform inside a running [`Runtime`] (devices' video channels are INVITEd live and recorded
//! like RTSP cameras, camera name = the channel's 20-digit id), persisting devices to the store,
//! the optional cascade to an upper platform, and `custos gb devices`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::camera::{CameraName, StreamKind};
use custos_core::compliance::DeviceCode;
use custos_core::frame::StreamEvent;
use custos_core::retention::RetentionClass;
use custos_gb28181::manscdp::CatalogItem;
use custos_gb28181::{
    FrameSource, MediaProvider, MediaTransport, Mode, Platform, PlatformConfig, PlatformEvent,
    UpperConfig,
};
use custos_ingest::{Health, LiveHub, StreamState};
use custos_store::{GbChannel, Store};
use tokio::sync::{mpsc, watch};

use crate::runtime::{Runtime, now};

#[derive(clap::Args, Clone, Debug)]
pub struct SipArgs {
    /// Run the GB/T 28181 platform: SIP over UDP and TCP on ADDR:PORT (port 5060 if omitted).
    #[arg(long, value_name = "ADDR:PORT")]
    pub sip_listen: Option<String>,
    /// The platform's 20-digit SIP id; its first 10 digits are the SIP domain.
    #[arg(long, default_value = custos_gb28181::DEFAULT_SIP_ID)]
    pub sip_id: String,
    /// The password devices register with (digest).
    #[arg(long, env = "CUSTOS_SIP_PASSWORD", hide_env_values = true)]
    pub sip_password: Option<String>,
    /// Devices' keepalive interval in seconds (offline after 3 missed).
    #[arg(long, default_value_t = 60)]
    pub sip_keepalive_secs: u64,
    /// How devices send media: udp, tcp-passive (they connect to us) or tcp-active.
    #[arg(long, default_value = "udp")]
    pub sip_media: MediaTransport,
    /// Register to an upper platform as a lower platform: UPPER_ID@HOST:PORT.
    #[arg(long, value_name = "ID@HOST:PORT")]
    pub sip_upper: Option<String>,
    /// The password for the upper platform.
    #[arg(long, env = "CUSTOS_SIP_UPPER_PASSWORD", hide_env_values = true)]
    pub sip_upper_password: Option<String>,
    /// An address (besides the upper platform's own) that the upper platform's INVITEs may
    /// name as the media target, e.g. its media server; repeat for several. Other targets are
    /// refused.
    #[arg(long, value_name = "IP")]
    pub sip_upper_media_ip: Vec<std::net::IpAddr>,
}

fn listen_addr(s: &str) -> Result<SocketAddr> {
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    format!("{s}:5060")
        .parse()
        .with_context(|| format!("--sip-listen {s:?}: write ADDR:PORT, e.g. 0.0.0.0:5060"))
}

/// Our cameras as the upper platform sees them.
struct Offered {
    /// (20-digit channel id, display name, live frames)
    channels: Mutex<Vec<(String, String, LiveHub)>>,
    domain: String,
    /// The upper platform, as the actor of its views in the ledger.
    upper: String,
    journal: custos_footage::Journal,
    store: Store,
    data: custos_footage::DataDir,
}

impl Offered {
    /// The camera offered as `channel`, if any.
    fn camera_of(&self, channel: &str) -> Option<String> {
        self.channels
            .lock()
            .unwrap()
            .iter()
            .find(|(id, _, _)| id == channel)
            .map(|(_, name, _)| name.clone())
    }
}

impl MediaProvider for Offered {
    fn catalog(&self) -> Vec<CatalogItem> {
        self.channels
            .lock()
            .unwrap()
            .iter()
            .map(|(id, name, _)| CatalogItem {
                device_id: id.clone(),
                name: name.clone(),
                manufacturer: "custos".into(),
                model: "recorded camera".into(),
                civil_code: self.domain[..6].to_owned(),
                address: String::new(),
                parent_id: String::new(),
                status: "ON".into(),
                longitude: None,
                latitude: None,
            })
            .collect()
    }

    fn recorded(&self, channel: &str, start: u64, end: u64) -> Option<FrameSource> {
        let name = self.camera_of(channel)?;
        let (from, to) = (
            custos_core::Time90k(start as i64 * 90_000),
            custos_core::Time90k(end as i64 * 90_000),
        );
        // Playback by the upper platform is a registered access (E2), like any other.
        let reg = self.journal.register_access(
            &format!("gb28181 upper platform {}", self.upper),
            custos_ledger::Action::Playback,
            &format!("camera/{name}"),
            Some("GB/T 28181 cascade playback"),
            serde_json::json!({"channel": channel, "from": from.to_string(), "to": to.to_string()}),
        );
        if let Err(e) = reg {
            tracing::error!(error = %e, %channel, "upper platform playback refused");
            return None;
        }
        let (tx, rx) = mpsc::channel(64);
        let (store, data) = (self.store.clone(), self.data.clone());
        tokio::spawn(async move {
            if let Err(e) = play_recorded(&store, &data, &name, from, to, tx).await {
                tracing::warn!(error = %e, camera = %name, "cascade playback stopped");
            }
        });
        Some(FrameSource::Recorded(rx))
    }

    fn may_serve<'a>(
        &'a self,
        channel: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let name = self.camera_of(channel);
            match name {
                // C1: footage of a system in use but not accepted goes to nobody, the upper
                // platform included.
                Some(n) => custos_registry::lifecycle::gate_camera_live(&self.store, &n)
                    .await
                    .map_err(|e| e.to_string()),
                None => Ok(()),
            }
        })
    }

    fn live(&self, channel: &str) -> Option<FrameSource> {
        let (name, hub) = self
            .channels
            .lock()
            .unwrap()
            .iter()
            .find(|(id, _, _)| id == channel)
            .map(|(_, name, hub)| (name.clone(), hub.clone()))?;
        // A live view by the upper platform is an access like any other (E2): registered in
        // the ledger before the first frame leaves, refused if it cannot be registered.
        match self.journal.register_access(
            &format!("gb28181 upper platform {}", self.upper),
            custos_ledger::Action::View,
            &format!("camera/{name}"),
            Some("GB/T 28181 cascade live view"),
            serde_json::json!({"channel": channel}),
        ) {
            Ok(_) => Some(FrameSource::Live(hub.subscribe())),
            Err(e) => {
                tracing::error!(error = %e, %channel, "upper platform view refused");
                None
            }
        }
    }
}

/// Reads the sealed footage of [from, to) and sends its frames (PTS = wall time from `from`),
/// starting at the key frame at or before `from`; the cascade paces them.
async fn play_recorded(
    store: &Store,
    data: &custos_footage::DataDir,
    camera: &str,
    from: custos_core::Time90k,
    to: custos_core::Time90k,
    tx: mpsc::Sender<custos_core::frame::EncodedFrame>,
) -> Result<()> {
    let cam = store.camera_by_name(camera).await?;
    let stream = store.stream_of(&cam, StreamKind::Main).await?;
    let segs = store.sealed_segments(stream.id, from, to).await?;
    let mut first_pts: Option<i64> = None;
    for seg in segs {
        let bytes = tokio::fs::read(data.abs(&seg.path)).await?;
        let parsed = custos_mp4::parse_fragmented(&bytes)
            .map_err(|e| anyhow::anyhow!("segment {} is damaged: {e}", seg.id))?;
        let entry = &parsed.init.sample_entry;
        let params = std::sync::Arc::new(custos_core::frame::VideoParams {
            codec: if entry.get(4..8) == Some(b"avc1") {
                custos_core::frame::Codec::H264
            } else {
                custos_core::frame::Codec::H265
            },
            width: parsed.init.width,
            height: parsed.init.height,
            rfc6381_codec: String::new(),
            sample_entry: entry.clone().into(),
        });
        let scale = |t: i64| t * 90_000 / i64::from(parsed.init.timescale.max(1));
        let samples: Vec<_> = parsed
            .fragments
            .iter()
            .flat_map(|f| f.samples.iter())
            .collect();
        let Some(s0) = samples.first() else { continue };
        let base = s0.dts as i64 + i64::from(s0.composition_offset);
        for (i, s) in samples.iter().enumerate() {
            let wall = seg.start.0 + scale(s.dts as i64 + i64::from(s.composition_offset) - base);
            if wall >= to.0 {
                return Ok(());
            }
            // Start at the last key frame at or before `from`.
            if first_pts.is_none() {
                let next_key_le_from = samples[i + 1..]
                    .iter()
                    .find(|n| n.is_sync)
                    .map(|n| {
                        seg.start.0 + scale(n.dts as i64 + i64::from(n.composition_offset) - base)
                    })
                    .is_some_and(|w| w <= from.0);
                if !s.is_sync || next_key_le_from {
                    continue;
                }
            }
            let pts = wall - from.0;
            first_pts.get_or_insert(pts);
            let off = s.file_offset as usize;
            let Some(body) = bytes.get(off..off + s.size as usize) else {
                anyhow::bail!("segment {} sample past the end of the file", seg.id);
            };
            let f = custos_core::frame::EncodedFrame {
                pts_90k: pts,
                wall: custos_core::Time90k(wall),
                is_key: s.is_sync,
                data: body.to_vec().into(),
                params: params.clone(),
            };
            if tx.send(f).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
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
    new_channels: mpsc::UnboundedReceiver<String>,
    recording: HashSet<String>,
    media: MediaTransport,
    offered: Arc<Offered>,
    feeders: Vec<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    store: Store,
}

impl Gb {
    /// Starts the platform if `--sip-listen` is given.
    pub async fn start(a: &SipArgs, rt: &Runtime) -> Result<Option<Gb>> {
        let Some(listen) = &a.sip_listen else {
            if a.sip_upper.is_some() {
                bail!(
                    "--sip-upper needs --sip-listen (the SIP port we serve the upper platform from)"
                );
            }
            return Ok(None);
        };
        let Some(password) = &a.sip_password else {
            bail!(
                "--sip-listen needs --sip-password (or CUSTOS_SIP_PASSWORD): the password GB devices register with"
            );
        };
        let mut cfg = PlatformConfig::new(&a.sip_id, password, listen_addr(listen)?)?;
        cfg.keepalive_interval = Duration::from_secs(a.sip_keepalive_secs.max(1));
        let platform = Platform::start(cfg).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let offered = Arc::new(Offered {
            channels: Mutex::new(Vec::new()),
            domain: a.sip_id[..10].to_owned(),
            upper: a
                .sip_upper
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
                channel_id_for(s.camera.as_str(), &a.sip_id[..10], i),
                s.camera.to_string(),
                s.live.clone(),
            ));
        }
        tokio::spawn(persist(
            platform.clone(),
            rt.store.clone(),
            rt.journal.clone(),
            tx,
        ));
        if let Some(up) = &a.sip_upper {
            let (id, addr) = up
                .split_once('@')
                .context("--sip-upper: write UPPER_ID@HOST:PORT")?;
            DeviceCode::parse(id).map_err(|e| anyhow::anyhow!("--sip-upper id {id:?}: {e}"))?;
            let addr = tokio::net::lookup_host(addr)
                .await
                .with_context(|| format!("--sip-upper address {addr:?}"))?
                .next()
                .context("--sip-upper address resolves to nothing")?;
            platform.add_upper(
                UpperConfig {
                    id: id.to_owned(),
                    addr,
                    password: a.sip_upper_password.clone().unwrap_or_default(),
                    expires: 3600,
                    keepalive: Duration::from_secs(a.sip_keepalive_secs.max(1)),
                    charset: Default::default(),
                    media_targets: a.sip_upper_media_ip.clone(),
                },
                offered.clone(),
            );
        }
        Ok(Some(Gb {
            platform,
            new_channels: rx,
            recording: HashSet::new(),
            media: a.sip_media,
            offered,
            feeders: Vec::new(),
            stop,
            store: rt.store.clone(),
        }))
    }

    /// The next GB video channel to start recording (pending forever when there is none).
    pub async fn next_channel(gb: &mut Option<Gb>) -> String {
        match gb {
            Some(g) => match g.new_channels.recv().await {
                Some(c) => c,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// Records `channel` like an RTSP camera (camera name = the channel id): INVITEs it live
    /// and keeps re-INVITing while the process runs.
    pub async fn attach(
        &mut self,
        rt: &mut Runtime,
        channel: String,
        segment_seconds: u32,
    ) -> Result<()> {
        if !self.recording.insert(channel.clone()) {
            return Ok(());
        }
        let name = CameraName::new(channel.clone())?;
        // Configuration changes are run records (E4), as for configured cameras.
        if rt.store.camera_by_name(&channel).await.is_err() {
            let entry = custos_ledger::NewEntry::new(
                "gb28181 platform",
                custos_ledger::Action::ConfigChange,
                format!("camera/{channel}"),
            )
            .details(serde_json::json!({"change": "camera added", "source": "GB/T 28181 device", "retention": RetentionClass::Standard30d.to_string()}));
            let j = rt.journal.clone();
            tokio::task::spawn_blocking(move || j.record(entry)).await??;
        }
        let cam_id = rt
            .store
            .upsert_camera(&name, RetentionClass::Standard30d, now())
            .await?;
        let url = format!("gb28181://{channel}");
        let stream_id = rt
            .store
            .upsert_stream(cam_id, StreamKind::Main, &url)
            .await?;
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
        let p = self.platform.clone();
        let media = self.media;
        let mut stop = self.stop.subscribe();
        let mut rt_stop = rt.shutdown_signal();
        self.feeders.push(tokio::spawn(async move {
            tokio::select! {
                _ = feed(p, channel, media, tx, health) => {}
                _ = stop.changed() => {}
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

/// One channel's media loop: INVITE, forward frames, and after an end wait and INVITE again.
async fn feed(
    p: Platform,
    channel: String,
    media: MediaTransport,
    tx: mpsc::Sender<StreamEvent>,
    health: Health,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let online = p.owner_of(&channel).is_some_and(|d| d.online);
        if online {
            health.set_state(StreamState::Connecting);
            match p.invite(&channel, Mode::Live, media).await {
                Ok(mut s) => {
                    let call_id = s.call_id.clone();
                    backoff = Duration::from_secs(1);
                    struct Bye(Platform, String);
                    impl Drop for Bye {
                        fn drop(&mut self) {
                            let (p, c) = (self.0.clone(), self.1.clone());
                            tokio::spawn(async move { p.bye(&c).await });
                        }
                    }
                    let _bye = Bye(p.clone(), call_id);
                    let mut first = true;
                    while let Some(ev) = s.frames.recv().await {
                        if let StreamEvent::Frame(f) = &ev {
                            if first {
                                health.params(
                                    f.params.codec.as_str(),
                                    f.params.width,
                                    f.params.height,
                                );
                                health.set_state(StreamState::Online);
                                first = false;
                            }
                            health.frame(f.wall, f.data.len());
                        }
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                    }
                    health.failed("GB/T 28181 media session ended".to_owned());
                    if tx
                        .send(StreamEvent::Interrupted {
                            reason: "camera unreachable: GB/T 28181 media session ended".into(),
                        })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    health.failed(e.to_string());
                    tracing::warn!(%channel, error = %e, "GB INVITE failed");
                    let reason = format!("camera unreachable: GB/T 28181 INVITE failed: {e}");
                    if tx.send(StreamEvent::Interrupted { reason }).await.is_err() {
                        return;
                    }
                }
            }
        } else {
            health.failed("GB/T 28181 device offline".to_owned());
            let reason = "camera unreachable: GB/T 28181 device offline".to_owned();
            if tx.send(StreamEvent::Interrupted { reason }).await.is_err() {
                return;
            }
        }
        health.reconnecting();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Writes what the platform learns to the store and asks for new video channels to record.
async fn persist(
    p: Platform,
    store: Store,
    journal: custos_footage::Journal,
    new_channels: mpsc::UnboundedSender<String>,
) {
    let mut ev = p.subscribe();
    loop {
        let e = match ev.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "GB events lagged; state will catch up");
                continue;
            }
            Err(_) => return,
        };
        let r: custos_core::Result<()> = async {
            match &e {
                PlatformEvent::Registered { device, addr } => {
                    let t = p.device(device).map(|d| d.transport).unwrap_or("UDP");
                    store.gb_registered(device, t, addr, now()).await?;
                    // An IP camera registering on its own is its own video channel.
                    if DeviceCode::parse(device).is_ok_and(|c| c.is_camera()) {
                        let _ = new_channels.send(device.clone());
                    }
                }
                PlatformEvent::Online { device } => {
                    store.gb_set_online(device, true, None, now()).await?
                }
                PlatformEvent::Offline { device, reason } => {
                    store
                        .gb_set_online(device, false, Some(reason), now())
                        .await?
                }
                PlatformEvent::Unregistered { device } => {
                    store
                        .gb_set_online(device, false, Some("unregistered"), now())
                        .await?
                }
                PlatformEvent::DeviceInfo { device } => {
                    if let Some(d) = p.device(device) {
                        store
                            .gb_set_info(device, &d.name, &d.manufacturer, &d.model, &d.firmware)
                            .await?;
                    }
                }
                PlatformEvent::Catalog { device, items } => {
                    let rows: Vec<GbChannel> = items
                        .iter()
                        .map(|i| GbChannel {
                            id: i.device_id.clone(),
                            name: i.name.clone(),
                            manufacturer: i.manufacturer.clone(),
                            model: i.model.clone(),
                            civil_code: i.civil_code.clone(),
                            address: i.address.clone(),
                            parent_id: i.parent_id.clone(),
                            status: i.status.clone(),
                            longitude: i.longitude,
                            latitude: i.latitude,
                            code_valid: DeviceCode::parse(&i.device_id).is_ok(),
                            registry_status: "pending".into(),
                        })
                        .collect();
                    store.gb_set_channels(device, &rows).await?;
                    for i in items {
                        if i.device_id != *device
                            && DeviceCode::parse(&i.device_id).is_ok_and(|c| c.is_camera())
                        {
                            let _ = new_channels.send(i.device_id.clone());
                        }
                    }
                }
                PlatformEvent::Alarm { device, fields } => {
                    // I4: alarm events enter the same timeline and audit as footage.
                    let j = journal.clone();
                    let entry = custos_ledger::NewEntry::new(
                        format!("gb28181 device {device}"),
                        custos_ledger::Action::Other("alarm".into()),
                        format!("gb28181/{device}"),
                    )
                    .details(serde_json::json!({
                        "source": "GB/T 28181 Notify Alarm",
                        "fields": fields.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                    }));
                    match tokio::task::spawn_blocking(move || j.record(entry)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "could not record GB alarm in the ledger")
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "could not record GB alarm in the ledger")
                        }
                    }
                    let desc: Vec<String> =
                        fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    store
                        .raise_alarm(
                            &format!("gb28181 alarm {device}"),
                            None,
                            &format!("GB/T 28181 alarm from {device}: {}", desc.join(", ")),
                            now(),
                        )
                        .await?;
                }
                _ => {}
            }
            Ok(())
        }
        .await;
        if let Err(err) = r {
            tracing::warn!(error = %err, event = ?e, "could not save GB state");
        }
    }
}

#[derive(clap::Args)]
pub struct DevicesArgs {
    /// Data directory.
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct RegistryArgs {
    /// Data directory.
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// The device's 20-digit code.
    pub device: String,
    /// One of its channels (default: the device itself).
    #[arg(long)]
    pub channel: Option<String>,
    /// Who decides (recorded in the ledger).
    #[arg(long)]
    pub by: String,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// GB/T 28181 devices that registered, with online state and channels.
    Devices(DevicesArgs),
    /// Accept a device (or one channel) that registered into the device registry (A2).
    Accept(RegistryArgs),
    /// Reject a device (or one channel) from the device registry (A2).
    Reject(RegistryArgs),
}

pub async fn run(c: Cmd) -> Result<()> {
    match c {
        Cmd::Devices(a) => devices(a).await,
        Cmd::Accept(a) => decide(a, "accepted").await,
        Cmd::Reject(a) => decide(a, "rejected").await,
    }
}

/// The administrator's registry decision (A2), recorded in the ledger first (E4).
async fn decide(a: RegistryArgs, status: &str) -> Result<()> {
    let (d, store) = super::open(&a.data).await?;
    let devs = store.gb_devices().await?;
    let dev = devs.iter().find(|x| x.id == a.device).ok_or_else(|| {
        custos_core::err!(
            NotFound,
            "no GB device {} has registered; see custos gb devices",
            a.device
        )
    })?;
    if let Some(c) = &a.channel
        && !dev.channels.iter().any(|x| &x.id == c)
    {
        return Err(
            custos_core::err!(NotFound, "GB device {} has no channel {c}", a.device).into(),
        );
    }
    let object = match &a.channel {
        Some(c) => format!("gb28181/{}/{c}", a.device),
        None => format!("gb28181/{}", a.device),
    };
    let (journal, _) = custos_footage::Journal::open(&d)?;
    journal.record(
        custos_ledger::NewEntry::new(&a.by, custos_ledger::Action::AdminChange, object)
            .details(serde_json::json!({"change": "device registry", "status": status})),
    )?;
    store
        .gb_set_registry_status(&a.device, a.channel.as_deref(), status)
        .await?;
    println!(
        "{} {status}",
        a.channel.as_deref().unwrap_or(a.device.as_str())
    );
    Ok(())
}

async fn devices(a: DevicesArgs) -> Result<()> {
    let (_d, store) = super::open(&a.data).await?;
    let devs = store.gb_devices().await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&devs)?);
        return Ok(());
    }
    if devs.is_empty() {
        println!("no GB/T 28181 device has registered");
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "device / channel",
        "name",
        "state",
        "transport",
        "address",
        "registry",
        "last seen",
    ]);
    for d in &devs {
        t.add_row([
            d.id.clone(),
            d.name.clone(),
            if d.online {
                "online".to_owned()
            } else {
                format!(
                    "offline{}",
                    d.offline_reason
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            },
            d.transport.clone(),
            d.addr.clone(),
            d.registry_status.clone(),
            d.last_seen.to_string(),
        ]);
        for c in &d.channels {
            t.add_row([
                format!("  └ {}", c.id),
                c.name.clone(),
                c.status.clone(),
                String::new(),
                c.address.clone(),
                c.registry_status.clone(),
                String::new(),
            ]);
        }
    }
    println!("{t}");
    Ok(())
}
