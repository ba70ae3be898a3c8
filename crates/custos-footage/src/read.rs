//! The read path: any [from, to) of a stream as one MP4 file or as an HLS (fMP4) playlist.
//!
//! Callers must have authorised and registered the access (E2) before calling: this module
//! only reads. An export starts at the key frame at or before `from`; an edit list hides the
//! lead-in so players and ffprobe report exactly the requested span. Gaps inside the range are
//! bridged by holding the last frame before the gap (the timeline stays true to wall time) and
//! are returned in [`ExportSummary::gaps`] so the caller reports them (E7).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use custos_core::{Duration90k, Error, ErrorKind, Result, Time90k};
use custos_store::{Gap, Segment, Store, Stream};

use crate::journal::Registered;
use crate::layout::DataDir;

/// What an export produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportSummary {
    pub bytes: u64,
    pub frames: u64,
    /// The span actually covered (may be narrower than asked if footage starts later/ends earlier).
    pub start: Time90k,
    pub end: Time90k,
    pub segments: Vec<i64>,
    pub gaps: Vec<Gap>,
}

pub(crate) struct SegSamples {
    pub(crate) seg: Segment,
    pub(crate) file: File,
    pub(crate) init: custos_mp4::InitInfo,
    pub(crate) samples: Vec<custos_mp4::ParsedSample>,
    fragments: Vec<(u64, u64, u64, bool)>,
}

impl SegSamples {
    /// Opens a sealed segment file, checking its size against the sealed one, and parses it.
    pub(crate) fn open(data: &DataDir, seg: Segment) -> Result<SegSamples> {
        let path = data.abs(&seg.path);
        let mut file = File::open(&path).map_err(|e| {
            Error::io(
                format!("segment {} ({}) cannot be read", seg.id, path.display()),
                e,
            )
        })?;
        // A sealed file must be exactly as sealed; a changed size means damage or tampering.
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
            .len();
        if let Some(sealed) = seg.bytes
            && len != sealed as u64
        {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!(
                    "segment {} ({}) is damaged: it is {len} bytes but was sealed at {sealed} bytes; \
                     run `custos verify` and restore it from backup",
                    seg.id,
                    path.display()
                ),
            ));
        }
        let parsed = custos_mp4::parse_fragmented_reader(&mut file).map_err(|e| {
            Error::new(
                ErrorKind::DataLoss,
                format!("segment {} ({}) is damaged: {e}", seg.id, path.display()),
            )
        })?;
        let fragments = parsed
            .fragments
            .iter()
            .map(|f| {
                let first = f
                    .samples
                    .first()
                    .map(|s| s.dts)
                    .unwrap_or(f.base_decode_time);
                let end = f
                    .samples
                    .last()
                    .map(|s| s.dts + s.duration as u64)
                    .unwrap_or(first);
                (
                    f.offset,
                    f.len,
                    end - first,
                    f.samples.first().is_some_and(|s| s.is_sync),
                )
            })
            .collect();
        let samples = parsed
            .fragments
            .into_iter()
            .flat_map(|f| f.samples)
            .collect();
        Ok(SegSamples {
            seg,
            file,
            init: parsed.init,
            samples,
            fragments,
        })
    }

    /// Wall time at a decode timestamp of this file (wall of the first sample's presentation
    /// is the row's start).
    fn wall_of_dts(&self, dts: u64) -> i64 {
        let s0 = &self.samples[0];
        self.seg.start.0 - s0.composition_offset as i64 + (dts as i64 - s0.dts as i64)
    }
}

/// Writes [from, to) of `stream` to `out` as one progressive MP4. `_access` proves the read
/// was registered first (E2).
pub async fn export_mp4(
    _access: &Registered,
    store: &Store,
    data: &DataDir,
    stream: &Stream,
    from: Time90k,
    to: Time90k,
    out: &Path,
) -> Result<ExportSummary> {
    if to <= from {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("empty range: --to {to} is not after --from {from}"),
        ));
    }
    let segs = store.sealed_segments(stream.id, from, to).await?;
    if segs.is_empty() {
        return Err(no_footage(store, stream, from, to).await);
    }
    let gaps = store.gaps(stream.id, from, to).await?;
    let data = data.clone();
    let out = out.to_path_buf();
    tokio::task::spawn_blocking(move || write_export(&data, segs, from, to, &out, gaps))
        .await
        .map_err(|e| Error::new(ErrorKind::Internal, format!("export task failed: {e}")))?
}

async fn no_footage(store: &Store, stream: &Stream, from: Time90k, to: Time90k) -> Error {
    let all = store.stream_segments(stream.id).await.unwrap_or_default();
    let sealed: Vec<&Segment> = all
        .iter()
        .filter(|s| s.end.is_some() && s.state == custos_store::SegmentState::Sealed)
        .collect();
    let hint = match (sealed.first(), sealed.last()) {
        (Some(a), Some(b)) => format!("recorded footage spans {} .. {}", a.start, b.end.unwrap()),
        _ => "this stream has no sealed footage yet".to_owned(),
    };
    Error::new(
        ErrorKind::NotFound,
        format!("no footage between {from} and {to}; {hint}"),
    )
}

/// An export laid out but not written: the plan, the open segment files it reads, and what it
/// covers.
struct Planned {
    plan: custos_mp4::ExportPlan,
    opened: Vec<SegSamples>,
    start: Time90k,
    end: Time90k,
}

fn plan_export(data: &DataDir, segs: Vec<Segment>, from: Time90k, to: Time90k) -> Result<Planned> {
    let opened: Vec<SegSamples> = segs
        .into_iter()
        .map(|s| SegSamples::open(data, s))
        .collect::<Result<_>>()?;
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut entry_of: HashMap<Vec<u8>, u32> = HashMap::new();
    let (mut width, mut height) = (0u16, 0u16);

    // Select samples: from the key frame at/before `from` to the last sample (in decode order)
    // presented before `to`.
    struct Pick {
        seg: usize,
        idx: usize,
        wall_dts: i64,
    }
    let mut picks: Vec<Pick> = Vec::new();
    for (si, s) in opened.iter().enumerate() {
        if s.samples.is_empty() {
            continue;
        }
        let wall_pts =
            |i: usize| s.wall_of_dts(s.samples[i].dts) + s.samples[i].composition_offset as i64;
        let mut start = 0usize;
        if picks.is_empty() {
            // Last key frame presented at or before `from`.
            for i in 0..s.samples.len() {
                if s.samples[i].is_sync && wall_pts(i) <= from.0 {
                    start = i;
                }
            }
        }
        let mut end = None;
        for i in start..s.samples.len() {
            if wall_pts(i) < to.0 {
                end = Some(i);
            }
        }
        let Some(end) = end else { continue };
        let e = s.init.sample_entry.clone();
        let n = entries.len() as u32 + 1;
        let idx = *entry_of.entry(e.clone()).or_insert_with(|| {
            entries.push(e);
            n
        });
        let _ = idx;
        if width == 0 {
            (width, height) = (s.init.width, s.init.height);
        }
        for i in start..=end {
            picks.push(Pick {
                seg: si,
                idx: i,
                wall_dts: s.wall_of_dts(s.samples[i].dts),
            });
        }
    }
    if picks.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("no frames between {from} and {to}"),
        ));
    }
    let origin = picks[0].wall_dts;
    let mut samples = Vec::with_capacity(picks.len());
    let mut prev_dts: Option<u64> = None;
    let mut first_pts = i64::MAX;
    let mut last_end = i64::MIN;
    for (k, p) in picks.iter().enumerate() {
        let s = &opened[p.seg];
        let ps = &s.samples[p.idx];
        let mut dts = (p.wall_dts - origin).max(0) as u64;
        if let Some(pd) = prev_dts
            && dts <= pd
        {
            dts = pd + 1;
        }
        prev_dts = Some(dts);
        // Duration reaches to the next picked sample, bridging segment joins and gaps.
        let duration = match picks.get(k + 1) {
            Some(n) => ((n.wall_dts - origin) - dts as i64).max(1),
            None => ps.duration as i64,
        };
        let pts = dts as i64 + ps.composition_offset as i64;
        first_pts = first_pts.min(pts);
        last_end = last_end.max(pts + duration);
        samples.push(custos_mp4::ExportSample {
            dts,
            duration: duration.min(u32::MAX as i64) as u32,
            composition_offset: ps.composition_offset,
            is_sync: ps.is_sync,
            size: ps.size,
            entry: entry_of[&s.init.sample_entry],
            source: p.seg as u32,
            source_offset: ps.file_offset,
        });
    }
    // Presented span: [max(from, first frame), min(to, end of footage)).
    let start_media = first_pts.max(from.0 - origin);
    let end_media = last_end.min(to.0 - origin);
    let plan = custos_mp4::ExportPlan {
        timescale: 90_000,
        width,
        height,
        sample_entries: entries,
        samples,
        edit: Some(custos_mp4::Edit {
            media_time: start_media,
            duration: (end_media - start_media).max(0) as u64,
        }),
        creation_time_unix: from.unix_seconds(),
    };
    Ok(Planned {
        plan,
        opened,
        start: Time90k(origin + start_media),
        end: Time90k(origin + end_media),
    })
}

fn write_export(
    data: &DataDir,
    segs: Vec<Segment>,
    from: Time90k,
    to: Time90k,
    out: &Path,
    gaps: Vec<Gap>,
) -> Result<ExportSummary> {
    let Planned {
        plan,
        opened,
        start,
        end,
    } = plan_export(data, segs, from, to)?;
    let tmp = out.with_extension("mp4.partial");
    let mut f = std::io::BufWriter::new(
        File::create(&tmp).map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?,
    );
    let mut read = |s: &custos_mp4::ExportSample, buf: &mut [u8]| {
        opened[s.source as usize]
            .file
            .read_exact_at(buf, s.source_offset)
    };
    let bytes = custos_mp4::write_progressive(&mut f, &plan, &mut read)
        .map_err(|e| Error::io(format!("writing {}", out.display()), e))?;
    let f = f
        .into_inner()
        .map_err(|e| Error::io(format!("writing {}", out.display()), e.into_error()))?;
    f.sync_all()
        .map_err(|e| Error::io(format!("syncing {}", out.display()), e))?;
    std::fs::rename(&tmp, out)
        .map_err(|e| Error::io(format!("renaming to {}", out.display()), e))?;
    Ok(ExportSummary {
        bytes,
        frames: plan.samples.len() as u64,
        start,
        end,
        segments: opened.iter().map(|s| s.seg.id).collect(),
        gaps,
    })
}

/// [from, to) of a stream as a progressive MP4 that is never written to disk: any byte range is
/// read on demand from the sealed segment files (HTTP playback with `Range`). Sealed segments
/// never change, so [`ViewMp4::etag`] names the content exactly.
pub struct ViewMp4 {
    head: Vec<u8>,
    /// Per sample: (offset in the view, size, segment file index, offset in that file).
    samples: Vec<(u64, u32, u32, u64)>,
    files: Vec<File>,
    len: u64,
    etag: String,
    pub start: Time90k,
    pub end: Time90k,
    pub gaps: Vec<Gap>,
}

impl ViewMp4 {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A strong entity tag: the segments' hashes, the range and the layout.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// Fills `buf` from `offset` (short only at the end of the view). Blocking file reads.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let want = buf.len().min((self.len - offset) as usize);
        let mut done = 0usize;
        while done < want {
            let pos = offset + done as u64;
            let out = &mut buf[done..want];
            let n = if pos < self.head.len() as u64 {
                let h = &self.head[pos as usize..];
                let n = h.len().min(out.len());
                out[..n].copy_from_slice(&h[..n]);
                n
            } else {
                // The sample holding `pos`.
                let i = self.samples.partition_point(|s| s.0 + s.1 as u64 <= pos);
                let (start, size, file, file_off) = self.samples[i];
                let within = pos - start;
                let n = ((size as u64 - within) as usize).min(out.len());
                self.files[file as usize]
                    .read_exact_at(&mut out[..n], file_off + within)
                    .map_err(|e| Error::io("reading a segment file for playback", e))?;
                n
            };
            done += n;
        }
        Ok(done)
    }
}

/// Lays out [from, to) of `stream` as a [`ViewMp4`]. `_access` proves the read was registered
/// first (E2).
pub async fn view_mp4(
    _access: &Registered,
    store: &Store,
    data: &DataDir,
    stream: &Stream,
    from: Time90k,
    to: Time90k,
) -> Result<ViewMp4> {
    if to <= from {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("empty range: `to` {to} is not after `from` {from}"),
        ));
    }
    let segs = store.sealed_segments(stream.id, from, to).await?;
    if segs.is_empty() {
        return Err(no_footage(store, stream, from, to).await);
    }
    let gaps = store.gaps(stream.id, from, to).await?;
    let data = data.clone();
    tokio::task::spawn_blocking(move || {
        use sha2::Digest as _;
        let mut tag = sha2::Sha256::new();
        for s in &segs {
            tag.update(s.id.to_le_bytes());
            tag.update(s.sha256.as_deref().unwrap_or("").as_bytes());
        }
        tag.update(from.0.to_le_bytes());
        tag.update(to.0.to_le_bytes());
        let p = plan_export(&data, segs, from, to)?;
        let head = custos_mp4::progressive_head(&p.plan)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("laying out the view: {e}")))?;
        let mut off = head.len() as u64;
        let mut samples = Vec::with_capacity(p.plan.samples.len());
        for s in &p.plan.samples {
            samples.push((off, s.size, s.source, s.source_offset));
            off += s.size as u64;
        }
        tag.update(off.to_le_bytes());
        let digest = tag.finalize();
        Ok(ViewMp4 {
            head,
            samples,
            len: off,
            etag: format!("\"{}\"", hex::encode(&digest[..16])),
            files: p.opened.into_iter().map(|o| o.file).collect(),
            start: p.start,
            end: p.end,
            gaps,
        })
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Internal, format!("view task failed: {e}")))?
}

/// An HLS (fMP4, byte-range) VOD playlist of [from, to): one `EXT-X-MAP` per segment file
/// (its init bytes), one media segment per fragment, `EXT-X-PROGRAM-DATE-TIME` for wall time and
/// `EXT-X-DISCONTINUITY` at every file change. `uri` names each segment file for the client.
pub async fn hls_playlist(
    _access: &Registered,
    store: &Store,
    data: &DataDir,
    stream: &Stream,
    from: Time90k,
    to: Time90k,
    uri: &(dyn Fn(&Segment) -> String + Sync),
) -> Result<String> {
    let segs = store.sealed_segments(stream.id, from, to).await?;
    if segs.is_empty() {
        return Err(no_footage(store, stream, from, to).await);
    }
    let mut opened = Vec::new();
    for s in segs {
        let d = data.clone();
        opened.push(
            tokio::task::spawn_blocking(move || SegSamples::open(&d, s))
                .await
                .map_err(|e| {
                    Error::new(ErrorKind::Internal, format!("reading segment failed: {e}"))
                })??,
        );
    }
    let mut body = String::new();
    let mut max_dur = 1.0f64;
    let mut first = true;
    for s in &opened {
        let u = uri(&s.seg);
        let mut wrote_map = false;
        let mut t = s.seg.start.0;
        for &(off, len, dur, _) in &s.fragments {
            let end = t + dur as i64;
            if end > from.0 && t < to.0 {
                if !wrote_map {
                    if !first {
                        body.push_str("#EXT-X-DISCONTINUITY\n");
                    }
                    let _ = writeln!(
                        body,
                        "#EXT-X-MAP:URI=\"{u}\",BYTERANGE=\"{}@0\"",
                        s.init.len
                    );
                    wrote_map = true;
                    first = false;
                }
                let secs = dur as f64 / 90_000.0;
                max_dur = max_dur.max(secs);
                let _ = writeln!(body, "#EXT-X-PROGRAM-DATE-TIME:{}", Time90k(t).to_rfc3339());
                let _ = writeln!(
                    body,
                    "#EXTINF:{secs:.3},\n#EXT-X-BYTERANGE:{len}@{off}\n{u}"
                );
            }
            t = end;
        }
    }
    let mut pl = String::new();
    let _ = write!(
        pl,
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n",
        max_dur.ceil() as u64
    );
    pl.push_str(&body);
    pl.push_str("#EXT-X-ENDLIST\n");
    Ok(pl)
}

/// Recorded spans of a stream in [from, to) joined where segments touch, for timelines.
pub fn spans(segs: &[Segment], tolerance: Duration90k) -> Vec<(Time90k, Time90k)> {
    let mut out: Vec<(Time90k, Time90k)> = Vec::new();
    for s in segs {
        let Some(end) = s.end else { continue };
        match out.last_mut() {
            Some(last) if s.start.0 <= last.1.0 + tolerance.0 => last.1 = last.1.max(end),
            _ => out.push((s.start, end)),
        }
    }
    out
}
