//! The recording runtime shared by `record`, `demo` and `serve`: opens the data directory,
//! recovers after a crash, records the configuration's changes in the ledger before applying
//! them (E4), starts one ingest task and one recorder thread per stream, writes health to the
//! database, runs the retention sweeper and the ledger checkpoints, and stops cleanly (every
//! open segment sealed and committed) when asked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use custos_core::camera::{CameraName, StreamKind};
use custos_core::{Duration90k, Error, ErrorKind, Result, Time90k};
use custos_footage::recorder::{Recorder, RecorderConfig, RecorderStats};
use custos_footage::recovery::RecoveryReport;
use custos_footage::retention::{Statvfs, SweepPolicy};
use custos_footage::{DataDir, Journal};
use custos_ingest::{Health, LiveHub, Source, StreamEvent};
use custos_store::{Store, StreamStatus};
use tokio::sync::{mpsc, watch};

use crate::config::Config;

/// A task that could not be joined (it panicked): an internal error.
pub(crate) fn joined(what: &str, e: tokio::task::JoinError) -> Error {
    Error::new(ErrorKind::Internal, format!("{what}: {e}"))
}

pub struct StreamRuntime {
    pub camera: CameraName,
    pub kind: StreamKind,
    /// The stream's index row (for callers that join runtime state with the store).
    pub stream_id: i64,
    pub health: Health,
    pub stats: Arc<Mutex<RecorderStats>>,
    /// Frames as they arrive, for live viewers.
    pub live: LiveHub,
}

pub struct Runtime {
    pub data: DataDir,
    pub store: Store,
    pub journal: Journal,
    pub streams: Vec<StreamRuntime>,
    pub recovery: RecoveryReport,
    shutdown: watch::Sender<bool>,
    ingest: Vec<tokio::task::JoinHandle<()>>,
    recorders: Vec<std::thread::JoinHandle<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    /// What the status writer saves: every stream added, RTSP and GB/T 28181 alike.
    statuses: StatusList,
}

type StatusList = Arc<Mutex<Vec<(i64, Health, Arc<Mutex<RecorderStats>>)>>>;

/// How often stream health is saved for `custos health` (which calls a stream stale after 10 s).
const STATUS_EVERY: Duration = Duration::from_secs(4);

pub fn now() -> Time90k {
    Time90k::from_system_time(std::time::SystemTime::now())
}

impl Runtime {
    pub async fn start(data_dir: &std::path::Path, cfg: &Config) -> Result<Runtime> {
        let data = DataDir::create(data_dir)?;
        // Room kept for the index and the ledger when the filesystem fills (E7).
        if let Err(e) = custos_footage::reserve::ensure(&data) {
            tracing::warn!(error = %e, "no space reserve; relying on the free-space floor");
        }
        let store = Store::open_sqlite(&data.db_path()).await?;
        let (journal, repairs) = Journal::open(&data)?;
        let mut recovery = custos_footage::recovery::recover(&store, &data, &journal).await?;
        recovery
            .lines
            .extend(repairs.into_iter().map(|r| format!("ledger: {r}")));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut rt = Runtime {
            data: data.clone(),
            store: store.clone(),
            journal: journal.clone(),
            streams: Vec::new(),
            recovery,
            shutdown,
            ingest: Vec::new(),
            recorders: Vec::new(),
            background: Vec::new(),
            statuses: StatusList::default(),
        };
        let known = store.cameras().await?;
        let known_streams = store.all_streams().await?;
        for cam in &cfg.cameras {
            // Configuration changes are run records (E4): record them before applying them.
            let before = known.iter().find(|c| c.name == cam.name);
            let mut changes = Vec::new();
            match before {
                None => changes.push(serde_json::json!({"change": "camera added", "retention": cam.retention.to_string()})),
                Some(b) if b.retention != cam.retention => changes.push(serde_json::json!({
                    "change": "retention changed", "from": b.retention.to_string(), "to": cam.retention.to_string()
                })),
                _ => {}
            }
            for (kind, url) in std::iter::once((StreamKind::Main, Some(&cam.url)))
                .chain(std::iter::once((StreamKind::Sub, cam.sub_url.as_ref())))
            {
                let clean = url.map(|u| {
                    let mut c = u.clone();
                    let _ = c.set_password(None);
                    let _ = c.set_username("");
                    c.to_string()
                });
                let old = before.and_then(|b| {
                    known_streams
                        .iter()
                        .find(|s| s.camera_id == b.id && s.kind == kind)
                });
                if clean.is_some() && old.map(|o| &o.url) != clean.as_ref() {
                    changes.push(serde_json::json!({"change": "stream url set", "stream": kind.as_str(), "from": old.map(|o| o.url.clone()), "to": clean}));
                }
            }
            for ch in changes {
                journal.record(
                    custos_ledger::NewEntry::new(
                        "recorder config",
                        custos_ledger::Action::ConfigChange,
                        format!("camera/{}", cam.name),
                    )
                    .details(ch),
                )?;
            }
            let cam_id = store.upsert_camera(&cam.name, cam.retention, now()).await?;
            let urls = std::iter::once((StreamKind::Main, &cam.url))
                .chain(cam.sub_url.as_ref().map(|u| (StreamKind::Sub, u)));
            for (kind, url) in urls {
                let mut clean = url.clone();
                let _ = clean.set_password(None);
                let _ = clean.set_username("");
                let stream_id = store.upsert_stream(cam_id, kind, clean.as_str()).await?;
                let (tx, health) = rt
                    .add_stream(cam_id, &cam.name, kind, stream_id, cfg.segment_seconds)
                    .await?;
                let src = Source {
                    camera: cam.name.clone(),
                    kind,
                    url: url.clone(),
                    username: cam.username.clone(),
                    password: cam.password.clone(),
                    transport: cam.transport,
                };
                rt.ingest.push(tokio::spawn(custos_ingest::run_stream(
                    src,
                    tx,
                    health,
                    shutdown_rx.clone(),
                )));
            }
        }
        // Health to the database every STATUS_EVERY, for every stream added (now or later:
        // GB/T 28181 channels are added as their devices appear).
        let statuses = rt.statuses.clone();
        let (st, mut srx) = (store.clone(), shutdown_rx.clone());
        rt.background.push(tokio::spawn(async move {
            loop {
                write_statuses(&st, &statuses).await;
                tokio::select! {
                    _ = tokio::time::sleep(STATUS_EVERY) => {}
                    _ = srx.changed() => break,
                }
            }
        }));
        // Retention sweeper: at start and every minute.
        let (st, d, j, mut srx) = (
            store.clone(),
            data.clone(),
            journal.clone(),
            shutdown_rx.clone(),
        );
        rt.background.push(tokio::spawn(async move {
            loop {
                match custos_footage::retention::sweep(
                    &st,
                    &d,
                    &j,
                    &Statvfs,
                    SweepPolicy::default(),
                    now(),
                )
                .await
                {
                    Ok(r) if !r.deleted.is_empty() => {
                        tracing::info!(
                            deleted = r.deleted.len(),
                            bytes = r.bytes_freed,
                            "retention sweep"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "retention sweep failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                    _ = srx.changed() => break,
                }
            }
        }));
        // A signed ledger checkpoint every minute (and at stop).
        let (j, mut srx) = (journal.clone(), shutdown_rx.clone());
        rt.background.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                    _ = srx.changed() => break,
                }
                let j = j.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || j.checkpoint()).await {
                    tracing::error!(error = %e, "ledger checkpoint failed");
                }
            }
        }));
        Ok(rt)
    }

    /// Adds a recorded stream fed by any source (RTSP ingest, GB/T 28181 media): starts its
    /// recorder thread and returns the sender the source writes [`StreamEvent`]s to and the
    /// health the source keeps. Every frame also reaches the stream's [`LiveHub`].
    pub async fn add_stream(
        &mut self,
        camera_id: i64,
        camera: &CameraName,
        kind: StreamKind,
        stream_id: i64,
        segment_seconds: u32,
    ) -> Result<(mpsc::Sender<StreamEvent>, Health)> {
        let rec = Recorder::new(
            RecorderConfig {
                camera: camera.clone(),
                stream_kind: kind,
                stream_id,
                camera_id,
                segment_duration: Duration90k::from_secs(segment_seconds as i64),
            },
            self.data.clone(),
            self.store.clone(),
            self.journal.clone(),
            None,
        )
        .await?;
        let stats = rec.stats();
        let (rec_tx, rec_rx) = mpsc::channel(1024);
        self.recorders.push(rec.spawn(rec_rx));
        // The tee: source → live viewers (never blocking) → recorder (back-pressure as before).
        let (tx, mut rx) = mpsc::channel::<StreamEvent>(1024);
        let live = LiveHub::default();
        let hub = live.clone();
        self.ingest.push(tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                match &ev {
                    StreamEvent::Frame(f) => hub.publish(f),
                    StreamEvent::Interrupted { .. } => hub.interrupted(),
                }
                if rec_tx.send(ev).await.is_err() {
                    break;
                }
            }
        }));
        let health = Health::default();
        self.statuses
            .lock()
            .unwrap()
            .push((stream_id, health.clone(), stats.clone()));
        self.streams.push(StreamRuntime {
            camera: camera.clone(),
            kind,
            stream_id,
            health: health.clone(),
            stats,
            live,
        });
        Ok((tx, health))
    }

    /// Changes to `true` when [`Runtime::stop`] begins: frame sources that are not started by
    /// the runtime (GB/T 28181 media) stop on it and drop their senders.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Stops ingest, lets every recorder write its buffered GOP and seal, and waits for all.
    pub async fn stop(self) -> Result<()> {
        let _ = self.shutdown.send(true);
        for t in self.ingest {
            let _ = t.await;
        }
        // Ingest senders are gone: recorder threads drain, seal and exit.
        let recs = self.recorders;
        tokio::task::spawn_blocking(move || {
            for r in recs {
                let _ = r.join();
            }
        })
        .await
        .map_err(|e| joined("waiting for the recorders", e))?;
        for t in self.background {
            let _ = t.await;
        }
        write_statuses(&self.store, &self.statuses).await;
        let j = self.journal.clone();
        tokio::task::spawn_blocking(move || j.checkpoint())
            .await
            .map_err(|e| joined("the last ledger checkpoint", e))??;
        self.store.close().await;
        Ok(())
    }
}

async fn write_statuses(store: &Store, streams: &StatusList) {
    let list = streams.lock().unwrap().clone();
    let all: Vec<(i64, StreamStatus)> = list
        .iter()
        .map(|(id, h, stats)| {
            let s = h.snapshot();
            let not_recording = stats.lock().unwrap().not_recording.clone();
            // Frames arriving do not make a stream "online" when footage is not written.
            let (state, last_error) = match not_recording {
                Some(why) if s.state == custos_ingest::StreamState::Online => {
                    ("not recording".to_owned(), Some(why))
                }
                _ => (s.state.as_str().to_owned(), s.last_error),
            };
            (
                *id,
                StreamStatus {
                    state,
                    fps: s.fps,
                    bitrate_bps: s.bitrate_bps,
                    last_frame: s.last_frame,
                    reconnects: s.reconnects as i64,
                    last_error,
                    updated: now(),
                },
            )
        })
        .collect();
    if let Err(e) = store.put_statuses(&all).await {
        tracing::warn!(error = %e, "could not save stream status");
    }
}
