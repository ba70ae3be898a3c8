//! The per-stream recorder: encoded frames in (decode order, from ingest), sealed segments and
//! index rows out.
//!
//! Frames are buffered one GOP at a time; at the next key frame the GOP becomes one fragment
//! (`moof`+`mdat`) appended and fsynced, so a crash loses at most the open GOP. A segment is
//! sealed at the first key frame after `segment_duration`, when codec parameters change, when
//! the stream is interrupted and on shutdown; sealing records SHA-256, size, wall and media
//! times and frame counts. Every interruption becomes a gap row (E7).
//!
//! Decode times: RTP carries presentation times, frames arrive in decode order. Within a
//! (closed) GOP the decode times are the GOP's sorted presentation times, shifted back by a
//! per-run decode delay `D` chosen from the first GOP so that every composition offset is ≥ 0.
//! See `design/recording.md`.
//!
//! The recorder runs on its own OS thread (file I/O and fsync block) and reaches the database
//! through the tokio runtime handle it is given.

use std::path::PathBuf;
use std::sync::Arc;

use custos_core::camera::{CameraName, StreamKind};
pub use custos_core::frame::StreamEvent;
use custos_core::frame::{EncodedFrame, VideoParams};
use custos_core::{Duration90k, Error, ErrorKind, Result, Time90k};
use custos_store::{NewSegment, Seal, SegmentId, Store, StreamId};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::journal::Journal;
use crate::layout::DataDir;
use crate::segment_file::SegmentFile;

#[derive(Clone, Debug)]
pub struct RecorderConfig {
    pub camera: CameraName,
    pub stream_kind: StreamKind,
    pub stream_id: StreamId,
    pub camera_id: i64,
    /// Seal at the first key frame after this much footage (default 60 s).
    pub segment_duration: Duration90k,
}

/// Counters the recorder keeps; shared with health reporting.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RecorderStats {
    pub segments_sealed: u64,
    pub fragments: u64,
    pub frames: u64,
    pub bytes: u64,
    pub gaps: u64,
    pub frames_dropped_waiting_for_key: u64,
    pub write_errors: u64,
    pub last_error: Option<String>,
    /// Set while footage writes are stopped (full disk, write error), with the reason: the
    /// stream may be online, but nothing is recorded.
    pub not_recording: Option<String>,
}

/// Something the recorder reports upward (for alarms and logs).
#[derive(Debug, Clone)]
pub enum RecorderNotice {
    Sealed {
        segment: SegmentId,
        path: String,
        bytes: u64,
        sha256: String,
        start: Time90k,
        end: Time90k,
    },
    Gap {
        start: Time90k,
        end: Time90k,
        reason: String,
    },
    WriteFailed {
        kind: ErrorKind,
        message: String,
    },
}

struct OpenSegment {
    id: SegmentId,
    rel_path: String,
    file: SegmentFile,
    params: Arc<VideoParams>,
    start_wall: Time90k,
    /// Presentation time of the first frame (media clock).
    media_start: i64,
    /// Decode time of the first sample; the file's decode times count from here.
    dts_origin: i64,
    /// Presentation end of the last written sample (media clock).
    media_end: i64,
    frames: i64,
    key_frames: i64,
}

/// One run: frames from one connection with one wall-clock anchor.
struct Run {
    decode_delay: Option<i64>,
    last_dts: Option<i64>,
    /// Added to every frame's wall time of this run so it never overlaps earlier footage.
    wall_shift: i64,
    gop: Vec<EncodedFrame>,
}

/// A gap in progress: its row is written at once (open) and extended every
/// [`GAP_HEARTBEAT`], so `recordings`, `health` and the timeline show it while it lasts.
struct OpenGap {
    /// Row id, once the row is written (a full database may delay it).
    id: Option<i64>,
    start: Time90k,
    reason: String,
    written: Option<std::time::Instant>,
}

/// Reasons that only hold until a real cause is known.
const PROVISIONAL: &[&str] = &["connecting"];

pub struct Recorder {
    cfg: RecorderConfig,
    data: DataDir,
    store: Store,
    rt: Handle,
    run: Option<Run>,
    seg: Option<OpenSegment>,
    /// The gap going on since the last recorded footage (or since the stream was configured),
    /// with its reason; `None` while footage is being recorded.
    gap: Option<OpenGap>,
    /// End of the last segment this run sealed.
    last_sealed_end: Option<Time90k>,
    /// While set, frames are dropped until this instant (after a write failure).
    paused_until: Option<std::time::Instant>,
    stats: Arc<std::sync::Mutex<RecorderStats>>,
    notices: Option<mpsc::UnboundedSender<RecorderNotice>>,
    journal: Journal,
}

/// How long the recorder thread sleeps when its channel is empty.
pub const DRAIN_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// How often an open gap's row is extended to the present.
pub const GAP_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);

/// Free space below which footage writes stop, so the index and the ledger can still record
/// the gap of the outage (a full disk included): 2% of the filesystem, at least 1 MiB, at
/// most 256 MiB.
pub fn footage_floor(total_bytes: u64) -> u64 {
    (total_bytes / 50).clamp(1 << 20, 256 << 20)
}

fn now90k() -> Time90k {
    Time90k::from_system_time(std::time::SystemTime::now())
}

/// Longest GOP buffered before it is written anyway (bounds loss on a crash and memory).
const MAX_GOP: Duration90k = Duration90k::from_secs(10);

impl Recorder {
    /// Prepares a recorder and accounts for every second since the stream's record ends (E7):
    /// an open gap left by a run that died is closed where it was last seen, the time since
    /// then is a "recorder not running" gap, and a "connecting" gap is opened from now until
    /// footage arrives — so a stream that never records is one gap covering all its time.
    pub async fn new(
        cfg: RecorderConfig,
        data: DataDir,
        store: Store,
        journal: Journal,
        notices: Option<mpsc::UnboundedSender<RecorderNotice>>,
    ) -> Result<Recorder> {
        let (cam, kind) = (cfg.camera.as_str().to_owned(), cfg.stream_kind.as_str());
        // As while recording: a ledger failure does not stop recording; the row then has no
        // link and `custos verify` reports it.
        let ledger = |start, end, reason: &str| match journal.gap(&cam, kind, start, end, reason) {
            Ok(seq) => Some(seq as i64),
            Err(e) => {
                tracing::error!(camera = %cam, stream = kind, error = %e, "gap not recorded in the ledger");
                None
            }
        };
        for g in store.open_gaps(cfg.stream_id).await? {
            let seq = ledger(g.start, g.end, &g.reason);
            store.close_gap(g.id, g.end, &g.reason, seq).await?;
        }
        let now = now90k();
        if let Some(last) = store.last_accounted_end(cfg.stream_id).await?
            && now > last
        {
            let reason = "recorder not running";
            let seq = ledger(last, now, reason);
            store
                .insert_gap(cfg.stream_id, last, now, reason, seq)
                .await?;
        }
        let id = store.open_gap(cfg.stream_id, now, "connecting").await?;
        let rt = Handle::current();
        Ok(Recorder {
            cfg,
            data,
            store,
            rt,
            run: None,
            seg: None,
            gap: Some(OpenGap {
                id: Some(id),
                start: now,
                reason: "connecting".to_owned(),
                written: Some(std::time::Instant::now()),
            }),
            last_sealed_end: None,
            paused_until: None,
            stats: Arc::default(),
            notices,
            journal,
        })
    }

    pub fn stats(&self) -> Arc<std::sync::Mutex<RecorderStats>> {
        self.stats.clone()
    }

    /// Runs until the channel closes, then writes what is buffered and seals.
    ///
    /// The thread does not park on the channel: it drains it, then sleeps [`DRAIN_EVERY`].
    /// Senders then never have to wake it (no futex per frame), which cut the recorder's
    /// system time noticeably (see docs/performance.md); frames wait at most that long in
    /// the channel, far less than the GOP a crash may lose anyway.
    pub fn run_blocking(mut self, mut rx: mpsc::Receiver<StreamEvent>) {
        use tokio::sync::mpsc::error::TryRecvError;
        let mut events = 0u32;
        loop {
            match rx.try_recv() {
                Ok(StreamEvent::Frame(f)) => self.on_frame(f),
                Ok(StreamEvent::Interrupted { reason }) => self.interrupt(&reason),
                Err(TryRecvError::Empty) => {
                    self.heartbeat();
                    std::thread::sleep(DRAIN_EVERY);
                }
                Err(TryRecvError::Disconnected) => break,
            }
            events = events.wrapping_add(1);
            if events.is_multiple_of(64) {
                self.heartbeat();
            }
        }
        self.stop();
    }

    /// Shutdown: buffered footage is written and sealed. A gap going on (camera down, disk
    /// full) is closed now; the time from here to the next run is that run's "recorder not
    /// running" gap, which starts where this record ends.
    fn stop(&mut self) {
        if self.run.as_ref().is_some_and(|r| !r.gop.is_empty())
            && let Err(e) = self.flush_gop(None)
        {
            self.fail(&e);
        }
        if let Err(e) = self.seal() {
            self.fail(&e);
        }
        self.run = None;
        if self.gap.is_some() {
            self.close_gap(now90k());
        }
    }

    /// Writes the open gap's row if it could not be written yet, or extends it to now.
    fn heartbeat(&mut self) {
        let Some(g) = self.gap.as_mut() else {
            return;
        };
        if g.written.is_some_and(|w| w.elapsed() < GAP_HEARTBEAT) {
            return;
        }
        let (rt, store, data, stream) = (&self.rt, &self.store, &self.data, self.cfg.stream_id);
        let r = match g.id {
            Some(id) => with_reserve(data, || {
                rt.block_on(store.extend_gap(id, now90k(), &g.reason))
            }),
            None => with_reserve(data, || {
                rt.block_on(store.open_gap(stream, g.start, &g.reason))
            })
            .map(|id| g.id = Some(id)),
        };
        g.written = Some(std::time::Instant::now());
        if let Err(e) = r {
            tracing::warn!(camera = %self.cfg.camera, stream = %self.cfg.stream_kind, error = %e, "could not write the open gap; retrying");
        }
    }

    /// Footage stopped at `from` for `reason`: opens a gap there, or, if one is open, gives
    /// it a better reason than a provisional one.
    fn open_gap(&mut self, from: Option<Time90k>, reason: &str) {
        if let Some(g) = self.gap.as_mut() {
            if PROVISIONAL.contains(&g.reason.as_str()) && g.reason != reason {
                g.reason = reason.to_owned();
                g.written = None;
                self.heartbeat();
            }
            return;
        }
        let start = from.unwrap_or_else(now90k);
        self.gap = Some(OpenGap {
            id: None,
            start,
            reason: reason.to_owned(),
            written: None,
        });
        self.heartbeat();
    }

    /// Footage resumes at `end`: the open gap becomes final, in the ledger and the index.
    fn close_gap(&mut self, end: Time90k) {
        let Some(g) = self.gap.take() else {
            return;
        };
        if end <= g.start {
            if let Some(id) = g.id
                && let Err(e) = self.rt.block_on(self.store.discard_open_gap(id))
            {
                self.fail(&e);
            }
            return;
        }
        // Recording goes on even if the ledger fails; the row then has no link and
        // `custos verify` reports it.
        let seq = match with_reserve(&self.data, || {
            self.journal.gap(
                self.cfg.camera.as_str(),
                self.cfg.stream_kind.as_str(),
                g.start,
                end,
                &g.reason,
            )
        }) {
            Ok(s) => Some(s as i64),
            Err(e) => {
                self.fail(&e);
                None
            }
        };
        let (rt, store, data, stream) = (&self.rt, &self.store, &self.data, self.cfg.stream_id);
        let r = match g.id {
            Some(id) => with_reserve(data, || {
                rt.block_on(store.close_gap(id, end, &g.reason, seq))
            }),
            None => with_reserve(data, || {
                rt.block_on(store.insert_gap(stream, g.start, end, &g.reason, seq))
            })
            .map(|_| ()),
        };
        if let Err(e) = r {
            self.fail(&e);
            // Keep it open (in memory) so a later attempt records it.
            self.gap = Some(g);
            return;
        }
        self.stats.lock().unwrap().gaps += 1;
        let dur = end - g.start;
        tracing::info!(camera = %self.cfg.camera, stream = %self.cfg.stream_kind, from = %g.start, %dur, reason = %g.reason, "gap recorded");
        self.note(RecorderNotice::Gap {
            start: g.start,
            end,
            reason: g.reason,
        });
    }

    /// Spawns [`Self::run_blocking`] on a named OS thread.
    pub fn spawn(self, rx: mpsc::Receiver<StreamEvent>) -> std::thread::JoinHandle<()> {
        let name = format!("rec-{}-{}", self.cfg.camera, self.cfg.stream_kind);
        std::thread::Builder::new()
            .name(name)
            .spawn(move || self.run_blocking(rx))
            .expect("spawning recorder thread")
    }

    fn note(&self, n: RecorderNotice) {
        if let Some(tx) = &self.notices {
            let _ = tx.send(n);
        }
    }

    fn fail(&mut self, e: &Error) {
        tracing::error!(camera = %self.cfg.camera, stream = %self.cfg.stream_kind, error = %e, "recording failed");
        {
            let mut s = self.stats.lock().unwrap();
            s.write_errors += 1;
            s.last_error = Some(e.to_string());
        }
        self.note(RecorderNotice::WriteFailed {
            kind: e.kind(),
            message: e.to_string(),
        });
    }

    pub fn on_frame(&mut self, frame: EncodedFrame) {
        if let Some(until) = self.paused_until {
            if std::time::Instant::now() < until {
                return;
            }
            self.paused_until = None;
        }
        if self.run.is_none() {
            if !frame.is_key {
                self.stats.lock().unwrap().frames_dropped_waiting_for_key += 1;
                return;
            }
            let shift = match &self.gap {
                Some(g) if frame.wall < g.start => g.start.0 - frame.wall.0,
                _ => 0,
            };
            self.run = Some(Run {
                decode_delay: None,
                last_dts: None,
                wall_shift: shift,
                gop: Vec::new(),
            });
        }
        let run = self.run.as_mut().unwrap();
        let gop_len = run
            .gop
            .first()
            .map(|f| frame.pts_90k - f.pts_90k)
            .unwrap_or(0);
        if frame.is_key && !run.gop.is_empty() {
            let next_pts = frame.pts_90k;
            if let Err(e) = self.flush_gop(Some(next_pts)) {
                self.on_write_error(e);
                return;
            }
            // Roll over at this key frame if the segment is long enough or parameters changed.
            if let Some(seg) = &self.seg {
                let long = seg.media_end - seg.media_start >= self.cfg.segment_duration.0;
                if (long || seg.params != frame.params)
                    && let Err(e) = self.seal()
                {
                    self.fail(&e);
                }
            }
        } else if gop_len > MAX_GOP.0
            && !has_reordering(&run.gop)
            && let Err(e) = self.flush_gop(Some(frame.pts_90k))
        {
            self.on_write_error(e);
            return;
        }
        if let Some(run) = self.run.as_mut() {
            run.gop.push(frame);
        }
    }

    fn on_write_error(&mut self, e: Error) {
        self.fail(&e);
        // Keep what is on disk: seal the segment up to its last complete fragment.
        let end = self.footage_end();
        if let Err(e2) = self.seal() {
            self.fail(&e2);
        }
        if let Some(run) = self.run.as_mut() {
            run.gop.clear();
        }
        self.run = None;
        let reason = if e.kind() == ErrorKind::ResourceExhausted {
            "disk full".to_owned()
        } else {
            format!("write error: {}", e.msg())
        };
        self.open_gap(end, &reason);
        self.stats.lock().unwrap().not_recording = Some(reason);
        // Try again in a few seconds (the sweeper may free space; the operator may act).
        self.paused_until = Some(std::time::Instant::now() + std::time::Duration::from_secs(5));
    }

    /// Writes the buffered GOP, seals the segment and opens a gap.
    pub fn interrupt(&mut self, reason: &str) {
        if self.run.as_ref().is_some_and(|r| !r.gop.is_empty())
            && let Err(e) = self.flush_gop(None)
        {
            self.fail(&e);
        }
        let end = self.footage_end();
        if let Err(e) = self.seal() {
            self.fail(&e);
        }
        if end.is_some() || self.gap.is_some() {
            self.open_gap(end, reason);
        }
        self.run = None;
    }

    /// Where the recorded footage ends: the open segment's end, or — between a roll-over seal
    /// and the next segment — the last sealed one's.
    fn footage_end(&self) -> Option<Time90k> {
        self.seg
            .as_ref()
            .map(|s| s.start_wall + Duration90k(s.media_end - s.media_start))
            .or(self.last_sealed_end)
    }

    fn flush_gop(&mut self, next_pts: Option<i64>) -> Result<()> {
        let run = self.run.as_mut().expect("flush without run");
        let gop = std::mem::take(&mut run.gop);
        if gop.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<i64> = gop.iter().map(|f| f.pts_90k).collect();
        sorted.sort_unstable();
        let needed_delay = gop
            .iter()
            .zip(&sorted)
            .map(|(f, s)| s - f.pts_90k)
            .max()
            .unwrap_or(0)
            .max(0);
        let delay = *run.decode_delay.get_or_insert(needed_delay);
        let mut dts: Vec<i64> = Vec::with_capacity(gop.len());
        let mut prev = run.last_dts;
        for s in &sorted {
            let mut d = s - delay;
            if let Some(p) = prev
                && d <= p
            {
                d = p + 1;
            }
            dts.push(d);
            prev = Some(d);
        }
        let avg = if gop.len() > 1 {
            ((dts[dts.len() - 1] - dts[0]) / (dts.len() as i64 - 1)).max(1)
        } else {
            3000
        };
        let last_dur = match next_pts {
            Some(n) if n - delay > dts[dts.len() - 1] => n - delay - dts[dts.len() - 1],
            _ => avg,
        };
        let wall_shift = run.wall_shift;
        run.last_dts = Some(dts[dts.len() - 1] + last_dur - 1);

        // Open a segment if none is open.
        if self.seg.is_none() {
            let first = &gop[0];
            let start_wall = Time90k(first.wall.0 + wall_shift);
            self.check_floor()?;
            let rel = DataDir::segment_rel_path(&self.cfg.camera, self.cfg.stream_kind, start_wall);
            let p = &first.params;
            let id = self
                .rt
                .block_on(self.store.insert_open_segment(&NewSegment {
                    stream_id: self.cfg.stream_id,
                    path: rel.clone(),
                    start: start_wall,
                    media_start_90k: first.pts_90k,
                    codec: p.codec.as_str().to_owned(),
                    width: p.width as i64,
                    height: p.height as i64,
                }))?;
            let path: PathBuf = self.data.abs(&rel);
            let file = match SegmentFile::create(&path, &p.sample_entry, p.width, p.height) {
                Ok(f) => f,
                Err(e) => {
                    let _ = self.rt.block_on(self.store.discard_empty_open_segment(id));
                    return Err(e);
                }
            };
            self.seg = Some(OpenSegment {
                id,
                rel_path: rel,
                file,
                params: p.clone(),
                start_wall,
                media_start: first.pts_90k,
                dts_origin: dts[0],
                media_end: first.pts_90k,
                frames: 0,
                key_frames: 0,
            });
            self.close_gap(start_wall);
            self.stats.lock().unwrap().not_recording = None;
        } else {
            self.check_floor()?;
        }
        let seg = self.seg.as_mut().unwrap();
        let samples: Vec<custos_mp4::FragmentSample<'_>> = gop
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let dur = if i + 1 < dts.len() {
                    dts[i + 1] - dts[i]
                } else {
                    last_dur
                };
                custos_mp4::FragmentSample {
                    duration: dur.clamp(1, u32::MAX as i64) as u32,
                    composition_offset: (f.pts_90k - dts[i]).clamp(i32::MIN as i64, i32::MAX as i64)
                        as i32,
                    is_sync: f.is_key,
                    data: &f.data,
                }
            })
            .collect();
        let base = (dts[0] - seg.dts_origin).max(0) as u64;
        seg.file.append(base, &samples)?;
        let bytes: u64 = gop.iter().map(|f| f.data.len() as u64).sum();
        seg.frames += gop.len() as i64;
        seg.key_frames += gop.iter().filter(|f| f.is_key).count() as i64;
        seg.media_end = seg.media_end.max(dts[dts.len() - 1] + last_dur + delay);
        let mut s = self.stats.lock().unwrap();
        s.fragments += 1;
        s.frames += gop.len() as u64;
        s.bytes += bytes;
        Ok(())
    }

    fn seal(&mut self) -> Result<()> {
        let Some(seg) = self.seg.take() else {
            return Ok(());
        };
        if seg.file.fragments() == 0 {
            seg.file.discard();
            self.rt
                .block_on(self.store.discard_empty_open_segment(seg.id))?;
            return Ok(());
        }
        let (bytes, sha256) = seg.file.seal()?;
        let end = seg.start_wall + Duration90k(seg.media_end - seg.media_start);
        self.last_sealed_end = Some(end);
        let ledger_seq = match self.journal.segment_sealed(
            seg.id,
            self.cfg.camera.as_str(),
            self.cfg.stream_kind.as_str(),
            &seg.rel_path,
            &sha256,
            bytes,
            seg.start_wall,
            end,
            false,
        ) {
            Ok(s) => Some(s as i64),
            Err(e) => {
                self.fail(&e);
                None
            }
        };
        self.rt.block_on(self.store.seal_segment(
            seg.id,
            &Seal {
                end,
                media_end_90k: seg.media_end,
                frames: seg.frames,
                key_frames: seg.key_frames,
                bytes: bytes as i64,
                sha256: sha256.clone(),
                recovered: false,
                sealed_at: Time90k::from_system_time(std::time::SystemTime::now()),
                ledger_seq,
            },
        ))?;
        self.stats.lock().unwrap().segments_sealed += 1;
        tracing::debug!(camera = %self.cfg.camera, path = %seg.rel_path, bytes, "segment sealed");
        self.note(RecorderNotice::Sealed {
            segment: seg.id,
            path: seg.rel_path,
            bytes,
            sha256,
            start: seg.start_wall,
            end,
        });
        Ok(())
    }
}

impl Recorder {
    /// Refuses footage writes below the free-space floor ([`footage_floor`]): the space left
    /// is the index's and the ledger's, so the gap of the outage can always be recorded.
    fn check_floor(&self) -> Result<()> {
        use crate::retention::DiskSpace as _;
        let Ok(sp) = crate::retention::Statvfs.space(self.data.root()) else {
            return Ok(());
        };
        let floor = footage_floor(sp.total_bytes);
        if sp.free_bytes < floor {
            return Err(Error::new(
                ErrorKind::ResourceExhausted,
                format!(
                    "disk full: {} KiB free on {}, below the {} KiB kept for the index and the ledger; footage writes stop until space is freed (retention, or a larger disk)",
                    sp.free_bytes / 1024,
                    self.data.root().display(),
                    floor / 1024
                ),
            ));
        }
        Ok(())
    }
}

/// Runs a write of the gap record; if the disk is full, releases the space reserve
/// ([`crate::reserve`]) and tries once more.
fn with_reserve<T>(data: &DataDir, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    match f() {
        Err(e) if e.kind() == ErrorKind::ResourceExhausted && crate::reserve::release(data) > 0 => {
            f()
        }
        r => r,
    }
}

fn has_reordering(gop: &[EncodedFrame]) -> bool {
    gop.windows(2).any(|w| w[1].pts_90k < w[0].pts_90k)
}
