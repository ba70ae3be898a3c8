//! Crash recovery and reconciliation, run at every start before recording (like `fsck`).
//!
//! A fragmented MP4 is valid up to its last complete `moof`+`mdat`. For every segment row left
//! `open` by a crash, the file is scanned, its torn tail truncated, and the segment sealed with
//! the footage it really holds (marked `recovered`). Files without rows are adopted; rows whose
//! sealed file is gone are reported (they are evidence of tampering or disk loss, never hidden).

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::path::Path;

use custos_core::{Duration90k, Error, Result, Time90k};
use custos_store::{NewSegment, Seal, Segment, SegmentState, Store};

use crate::journal::Journal;
use crate::layout::DataDir;
use crate::protect;
use crate::segment_file::{make_read_only, sha256_file};

/// What recovery found and did; each line names the file and the action.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RecoveryReport {
    pub sealed: u32,
    pub truncated_bytes: u64,
    pub discarded: u32,
    pub adopted: u32,
    pub missing: u32,
    pub lines: Vec<String>,
}

impl RecoveryReport {
    pub fn is_clean(&self) -> bool {
        self.lines.is_empty()
    }
}

/// What a scan of a segment file says it holds.
pub(crate) struct FileFacts {
    pub valid_len: u64,
    pub torn_tail: Option<String>,
    pub frames: i64,
    pub key_frames: i64,
    /// Presentation span of the samples, 90 kHz.
    pub duration: i64,
    pub width: u16,
    pub height: u16,
    pub codec: &'static str,
}

pub(crate) fn scan_file(path: &Path) -> Result<FileFacts> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let parsed = custos_mp4::parse_fragmented_reader(&mut f).map_err(|e| {
        Error::new(
            custos_core::ErrorKind::DataLoss,
            format!("{} is not a readable segment: {e}", path.display()),
        )
    })?;
    let samples = parsed.fragments.iter().flat_map(|fr| fr.samples.iter());
    let (mut frames, mut keys, mut first_dts, mut end_dts) = (0i64, 0i64, None, 0i64);
    for s in samples {
        frames += 1;
        keys += s.is_sync as i64;
        first_dts.get_or_insert(s.dts as i64);
        end_dts = end_dts.max(s.dts as i64 + s.duration as i64);
    }
    let codec = if parsed.init.sample_entry.get(4..8) == Some(b"avc1") {
        "h264"
    } else {
        "h265"
    };
    Ok(FileFacts {
        valid_len: parsed.valid_len,
        torn_tail: parsed.torn_tail,
        frames,
        key_frames: keys,
        duration: end_dts - first_dts.unwrap_or(0),
        width: parsed.init.width,
        height: parsed.init.height,
        codec,
    })
}

/// Recovers open segments and reconciles the footage directory with the index.
///
/// Also applies and reports (once per run) the filesystem protection in effect: the ledger's
/// log files are made append-only, and a probe says whether sealed segments can be made
/// immutable ([`crate::protect`]). Neither ever fails the start.
pub async fn recover(store: &Store, data: &DataDir, journal: &Journal) -> Result<RecoveryReport> {
    let mut rep = RecoveryReport::default();
    let ledger_dir = journal.ledger().dir();
    protect::note_ledger(protect::protect_ledger(&ledger_dir), &ledger_dir);
    let footage = data.footage_dir();
    let probe_dir = if footage.is_dir() {
        footage
    } else {
        data.root().to_path_buf()
    };
    protect::note_segments(protect::probe(&probe_dir), &probe_dir);
    let now = Time90k::from_system_time(std::time::SystemTime::now());
    for seg in store.open_segments().await? {
        recover_open(store, data, journal, &seg, now, &mut rep).await?;
    }
    // Reconcile: rows whose files are gone, files without rows.
    let rows = store.all_segments().await?;
    let known: HashSet<&str> = rows.iter().map(|s| s.path.as_str()).collect();
    for s in rows.iter().filter(|s| s.state == SegmentState::Sealed) {
        if !data.abs(&s.path).exists() {
            rep.missing += 1;
            rep.lines.push(format!(
                "segment {} ({}): sealed file is MISSING — footage lost or removed outside custos",
                s.id, s.path
            ));
        }
    }
    let mut files = Vec::new();
    walk(&data.footage_dir(), data.root(), &mut files);
    for rel in files {
        if known.contains(rel.as_str()) {
            continue;
        }
        adopt(store, data, journal, &rel, now, &mut rep).await;
    }
    // Sealed rows the ledger never heard of (crash between seal and ledger, or ledger
    // unavailable then): record them now, late, and link them.
    let cams = store.cameras().await?;
    let streams = store.all_streams().await?;
    for s in store.all_segments().await? {
        if s.state != SegmentState::Sealed || s.ledger_seq.is_some() {
            continue;
        }
        let st = streams.iter().find(|x| x.id == s.stream_id);
        let cam = st.and_then(|st| cams.iter().find(|c| c.id == st.camera_id));
        let (Some(st), Some(cam)) = (st, cam) else {
            continue;
        };
        let seq = journal.segment_sealed(
            s.id,
            cam.name.as_str(),
            st.kind.as_str(),
            &s.path,
            s.sha256.as_deref().unwrap_or(""),
            s.bytes.unwrap_or(0) as u64,
            s.start,
            s.end.unwrap_or(s.start),
            true,
        )?;
        store.link_segment_ledger(s.id, seq as i64).await?;
        rep.lines.push(format!(
            "segment {} ({}): sealed but not in the ledger; recorded now (entry {seq})",
            s.id, s.path
        ));
    }
    for l in &rep.lines {
        tracing::warn!("recovery: {l}");
    }
    Ok(rep)
}

async fn recover_open(
    store: &Store,
    data: &DataDir,
    journal: &Journal,
    seg: &Segment,
    now: Time90k,
    rep: &mut RecoveryReport,
) -> Result<()> {
    let path = data.abs(&seg.path);
    if !path.exists() {
        store.discard_empty_open_segment(seg.id).await?;
        rep.discarded += 1;
        rep.lines.push(format!(
            "segment {} ({}): open row without a file; row removed (no footage was written)",
            seg.id, seg.path
        ));
        return Ok(());
    }
    let facts = match scan_file(&path) {
        Ok(f) if f.frames > 0 => f,
        Ok(_) | Err(_) => {
            let _ = std::fs::remove_file(&path);
            store.discard_empty_open_segment(seg.id).await?;
            rep.discarded += 1;
            rep.lines.push(format!(
                "segment {} ({}): crashed before its first complete fragment; empty file and row removed",
                seg.id, seg.path
            ));
            return Ok(());
        }
    };
    let len = std::fs::metadata(&path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
        .len();
    if len > facts.valid_len {
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        f.set_len(facts.valid_len)
            .map_err(|e| Error::io(format!("truncating {}", path.display()), e))?;
        f.sync_all()
            .map_err(|e| Error::io(format!("syncing {}", path.display()), e))?;
        rep.truncated_bytes += len - facts.valid_len;
        rep.lines.push(format!(
            "segment {} ({}): torn tail of {} bytes after the last complete fragment truncated ({})",
            seg.id,
            seg.path,
            len - facts.valid_len,
            facts.torn_tail.as_deref().unwrap_or("incomplete fragment")
        ));
    }
    seal_recovered(
        store,
        data,
        journal,
        seg.id,
        &seg.path,
        seg.start,
        seg.media_start_90k,
        &facts,
        now,
    )
    .await?;
    rep.sealed += 1;
    rep.lines.push(format!(
        "segment {} ({}): recovered after a crash: {} frames, {:.1} s, sealed",
        seg.id,
        seg.path,
        facts.frames,
        facts.duration as f64 / 90_000.0
    ));
    Ok(())
}

async fn adopt(
    store: &Store,
    data: &DataDir,
    journal: &Journal,
    rel: &str,
    now: Time90k,
    rep: &mut RecoveryReport,
) {
    let path = data.abs(rel);
    let stream = match DataDir::parse_rel_path(rel) {
        Some((cam, kind)) => match store.camera_by_name(cam.as_str()).await {
            Ok(c) => store.stream_of(&c, kind).await.ok(),
            Err(_) => None,
        },
        None => None,
    };
    let start = file_name_time(rel);
    let (Some(stream), Some(start)) = (stream, start) else {
        rep.lines.push(format!("{rel}: file in the footage directory has no index row and no known camera; left untouched"));
        return;
    };
    let facts = match scan_file(&path) {
        Ok(f) if f.frames > 0 && f.torn_tail.is_none() => f,
        _ => {
            rep.lines.push(format!(
                "{rel}: file has no index row and is not a complete segment; left untouched"
            ));
            return;
        }
    };
    let r = async {
        let id = store
            .insert_open_segment(&NewSegment {
                stream_id: stream.id,
                path: rel.to_owned(),
                start,
                media_start_90k: 0,
                codec: facts.codec.to_owned(),
                width: facts.width as i64,
                height: facts.height as i64,
            })
            .await?;
        seal_recovered(store, data, journal, id, rel, start, 0, &facts, now).await?;
        Ok::<_, Error>(id)
    }
    .await;
    match r {
        Ok(id) => {
            rep.adopted += 1;
            rep.lines.push(format!(
                "{rel}: file had no index row; adopted as segment {id}"
            ));
        }
        Err(e) => rep.lines.push(format!(
            "{rel}: file has no index row and could not be adopted: {e}"
        )),
    }
}

/// Hashes, protects and seals (as `recovered`) a segment whose file holds `facts`, recording
/// the seal in the ledger first. Shared by crash recovery and adoption of orphan files.
#[allow(clippy::too_many_arguments)]
async fn seal_recovered(
    store: &Store,
    data: &DataDir,
    journal: &Journal,
    id: i64,
    rel: &str,
    start: Time90k,
    media_start_90k: i64,
    facts: &FileFacts,
    now: Time90k,
) -> Result<()> {
    let path = data.abs(rel);
    let (bytes, sha256) = sha256_file(&path)?;
    make_read_only(&path)?;
    let (cam, kind) = DataDir::parse_rel_path(rel)
        .map(|(c, k)| (c.to_string(), k.to_string()))
        .unwrap_or_default();
    let end = start + Duration90k(facts.duration);
    let seq = journal.segment_sealed(id, &cam, &kind, rel, &sha256, bytes, start, end, true)?;
    store
        .seal_segment(
            id,
            &Seal {
                end,
                media_end_90k: media_start_90k + facts.duration,
                frames: facts.frames,
                key_frames: facts.key_frames,
                bytes: bytes as i64,
                sha256,
                recovered: true,
                sealed_at: now,
                ledger_seq: Some(seq as i64),
            },
        )
        .await
}

/// Start time from a `YYYY-MM-DD/HHMMSS.mmmZ.mp4` path.
fn file_name_time(rel: &str) -> Option<Time90k> {
    let mut it = rel.rsplit('/');
    let file = it.next()?;
    let day = it.next()?;
    let t = file.strip_suffix("Z.mp4")?;
    let s = format!("{day}T{}:{}:{}Z", t.get(0..2)?, t.get(2..4)?, t.get(4..)?);
    Time90k::parse_rfc3339(&s).ok()
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "mp4")
            && let Ok(rel) = p.strip_prefix(root)
        {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_time_round_trips_the_layout() {
        let t = Time90k::parse_rfc3339("2026-11-27T08:04:05.120Z").unwrap();
        let cam = custos_core::camera::CameraName::new("gate-1").unwrap();
        let rel = DataDir::segment_rel_path(&cam, custos_core::camera::StreamKind::Main, t);
        assert_eq!(rel, "footage/gate-1/main/2026-11-27/080405.120Z.mp4");
        assert_eq!(file_name_time(&rel), Some(t));
    }
}
