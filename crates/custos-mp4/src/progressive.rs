//! Progressive ("faststart") MP4 writer for exports: `ftyp` + `moov` + `mdat`.

use std::io::{self, Write};

use crate::boxbuf::{BoxBuf, MP4_EPOCH_OFFSET, check_sample_entry, invalid_input};
use crate::fragment::TRACK_ID;
use crate::{ExportPlan, ExportSample};

/// A run of consecutive samples stored as one chunk.
struct Chunk {
    /// Offset relative to the start of the `mdat` payload.
    rel_offset: u64,
    samples: u32,
    entry: u32,
}

/// Everything before the sample bytes, plus the payload size.
struct Layout {
    head: Vec<u8>,
    payload: u64,
}

/// Exact size of the file [`write_progressive`] writes for `plan`, without
/// reading any sample. Returns 0 for a plan that `write_progressive` rejects.
pub fn progressive_len(plan: &ExportPlan) -> u64 {
    layout(plan)
        .map(|l| l.head.len() as u64 + l.payload)
        .unwrap_or(0)
}

/// Everything [`write_progressive`] writes before the first sample's bytes (`ftyp`, `moov` and
/// the `mdat` header). The samples follow in plan order, so a reader can serve any byte range
/// of the file without writing it (HTTP Range over a virtual file).
pub fn progressive_head(plan: &ExportPlan) -> io::Result<Vec<u8>> {
    layout(plan).map(|l| l.head)
}

/// Writes the export. `read_sample(sample, buf)` must fill `buf`
/// (`buf.len() == sample.size`) with the sample's bytes. Returns total bytes
/// written, always equal to [`progressive_len`].
///
/// Tables: `stts` (deltas between consecutive `dts`, the last sample's
/// `duration`), `ctts` (version 1 if any offset is negative; omitted if all
/// are 0), `stss` (omitted if all samples are sync), `stsz`, `stsc` (one
/// chunk per run of samples with the same entry and source), `stco`, or
/// `co64` when an offset exceeds 4 GiB. With an edit, `edts/elst` presents
/// `media_time..media_time + duration` and `mvhd`/`tkhd` carry the edit's
/// duration; `mdhd` carries the media duration.
pub fn write_progressive<W: Write>(
    w: &mut W,
    plan: &ExportPlan,
    read_sample: &mut dyn FnMut(&ExportSample, &mut [u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let l = layout(plan)?;
    w.write_all(&l.head)?;
    let mut buf = Vec::new();
    for s in &plan.samples {
        buf.clear();
        buf.resize(s.size as usize, 0);
        read_sample(s, &mut buf)?;
        if buf.len() != s.size as usize {
            return Err(invalid_input("read_sample changed the buffer length"));
        }
        w.write_all(&buf)?;
    }
    Ok(l.head.len() as u64 + l.payload)
}

fn validate(plan: &ExportPlan) -> io::Result<()> {
    if plan.timescale == 0 {
        return Err(invalid_input("timescale must not be 0"));
    }
    if plan.sample_entries.is_empty() {
        return Err(invalid_input("no sample entries"));
    }
    for e in &plan.sample_entries {
        check_sample_entry(e)?;
    }
    if u32::try_from(plan.samples.len()).is_err() {
        return Err(invalid_input("too many samples"));
    }
    let n_entries = plan.sample_entries.len() as u64;
    let mut prev: Option<u64> = None;
    for (i, s) in plan.samples.iter().enumerate() {
        if s.entry == 0 || u64::from(s.entry) > n_entries {
            return Err(invalid_input(format!(
                "sample {i}: entry {} is not in 1..={n_entries}",
                s.entry
            )));
        }
        match prev {
            None if s.dts != 0 => {
                return Err(invalid_input(format!(
                    "first sample has dts {}, expected 0",
                    s.dts
                )));
            }
            Some(p) if s.dts <= p => {
                return Err(invalid_input(format!(
                    "sample {i}: dts {} does not increase (previous {p})",
                    s.dts
                )));
            }
            Some(p) if s.dts - p > u64::from(u32::MAX) => {
                return Err(invalid_input(format!(
                    "sample {i}: gap of {} ticks does not fit in stts",
                    s.dts - p
                )));
            }
            _ => {}
        }
        prev = Some(s.dts);
    }
    Ok(())
}

fn chunks(samples: &[ExportSample]) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::new();
    let mut rel: u64 = 0;
    let mut prev: Option<(u32, u32)> = None;
    for s in samples {
        let key = (s.entry, s.source);
        match out.last_mut() {
            Some(c) if prev == Some(key) => c.samples += 1,
            _ => out.push(Chunk {
                rel_offset: rel,
                samples: 1,
                entry: s.entry,
            }),
        }
        prev = Some(key);
        rel += u64::from(s.size);
    }
    out
}

fn layout(plan: &ExportPlan) -> io::Result<Layout> {
    validate(plan)?;
    let chunks = chunks(&plan.samples);
    let payload: u64 = plan.samples.iter().map(|s| u64::from(s.size)).sum();

    let mut ftyp = BoxBuf::new();
    ftyp.ftyp(b"isom", 0x200, &[b"isom", b"iso2", b"mp41"])?;
    let mdat_hdr_len: u64 = if payload + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    };

    // The moov size does not depend on the offsets, only on stco vs co64.
    let max_rel = chunks.last().map_or(0, |c| c.rel_offset);
    let mut co64 = false;
    let mut moov_len = moov(plan, &chunks, 0, co64)?.len() as u64;
    if ftyp.buf.len() as u64 + moov_len + mdat_hdr_len + max_rel > u64::from(u32::MAX) {
        co64 = true;
        moov_len = moov(plan, &chunks, 0, co64)?.len() as u64;
    }
    let data_start = ftyp.buf.len() as u64 + moov_len + mdat_hdr_len;
    let moov = moov(plan, &chunks, data_start, co64)?;

    let mut head = ftyp;
    head.bytes(&moov);
    if mdat_hdr_len == 16 {
        head.u32(1);
        head.bytes(b"mdat");
        head.u64(payload + 16);
    } else {
        head.u32((payload + 8) as u32);
        head.bytes(b"mdat");
    }
    Ok(Layout {
        head: head.buf,
        payload,
    })
}

fn moov(plan: &ExportPlan, chunks: &[Chunk], data_start: u64, co64: bool) -> io::Result<Vec<u8>> {
    let samples = &plan.samples;
    let time = u64::try_from(plan.creation_time_unix.saturating_add(MP4_EPOCH_OFFSET)).unwrap_or(0);
    let media_duration = samples
        .last()
        .map_or(0, |s| s.dts.saturating_add(u64::from(s.duration)));
    let presentation_duration = plan.edit.map_or(media_duration, |e| e.duration);

    let mut b = BoxBuf::new();
    let moov = b.open(b"moov");
    let mvhd = b.open_full(b"mvhd", 1, 0);
    b.u64(time);
    b.u64(time);
    b.u32(plan.timescale);
    b.u64(presentation_duration);
    b.u32(0x0001_0000);
    b.u16(0x0100);
    b.zeros(10);
    b.matrix();
    b.zeros(24);
    b.u32(TRACK_ID + 1);
    b.close(mvhd)?;

    let trak = b.open(b"trak");
    let tkhd = b.open_full(b"tkhd", 1, 3);
    b.u64(time);
    b.u64(time);
    b.u32(TRACK_ID);
    b.u32(0);
    b.u64(presentation_duration);
    b.zeros(8);
    b.u16(0);
    b.u16(0);
    b.u16(0);
    b.u16(0);
    b.matrix();
    b.u32(u32::from(plan.width) << 16);
    b.u32(u32::from(plan.height) << 16);
    b.close(tkhd)?;

    if let Some(edit) = plan.edit {
        let edts = b.open(b"edts");
        let elst = b.open_full(b"elst", 1, 0);
        b.u32(1);
        b.u64(edit.duration);
        b.i64(edit.media_time);
        b.u16(1); // media_rate_integer
        b.u16(0); // media_rate_fraction
        b.close(elst)?;
        b.close(edts)?;
    }

    let mdia = b.open(b"mdia");
    let mdhd = b.open_full(b"mdhd", 1, 0);
    b.u64(time);
    b.u64(time);
    b.u32(plan.timescale);
    b.u64(media_duration);
    b.u16(0x55c4);
    b.u16(0);
    b.close(mdhd)?;
    b.hdlr_vide()?;
    let minf = b.open(b"minf");
    b.vmhd_dinf()?;
    let stbl = b.open(b"stbl");

    let stsd = b.open_full(b"stsd", 0, 0);
    b.u32(plan.sample_entries.len() as u32);
    for e in &plan.sample_entries {
        b.bytes(e);
    }
    b.close(stsd)?;

    // stts: run-length (count, delta).
    let mut stts: Vec<(u32, u32)> = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let delta = match samples.get(i + 1) {
            Some(n) => (n.dts - s.dts) as u32, // validated: increasing, fits u32
            None => s.duration,
        };
        match stts.last_mut() {
            Some((c, d)) if *d == delta => *c += 1,
            _ => stts.push((1, delta)),
        }
    }
    let x = b.open_full(b"stts", 0, 0);
    b.u32(stts.len() as u32);
    for (c, d) in &stts {
        b.u32(*c);
        b.u32(*d);
    }
    b.close(x)?;

    if samples.iter().any(|s| s.composition_offset != 0) {
        let mut ctts: Vec<(u32, i32)> = Vec::new();
        for s in samples {
            match ctts.last_mut() {
                Some((c, o)) if *o == s.composition_offset => *c += 1,
                _ => ctts.push((1, s.composition_offset)),
            }
        }
        let version = u8::from(samples.iter().any(|s| s.composition_offset < 0));
        let x = b.open_full(b"ctts", version, 0);
        b.u32(ctts.len() as u32);
        for (c, o) in &ctts {
            b.u32(*c);
            b.i32(*o);
        }
        b.close(x)?;
    }

    if !samples.iter().all(|s| s.is_sync) {
        let x = b.open_full(b"stss", 0, 0);
        b.u32(samples.iter().filter(|s| s.is_sync).count() as u32);
        for (i, s) in samples.iter().enumerate() {
            if s.is_sync {
                b.u32(i as u32 + 1);
            }
        }
        b.close(x)?;
    }

    // stsc: entries only where (samples_per_chunk, description) changes.
    let mut stsc: Vec<(u32, u32, u32)> = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        match stsc.last() {
            Some((_, n, e)) if *n == c.samples && *e == c.entry => {}
            _ => stsc.push((i as u32 + 1, c.samples, c.entry)),
        }
    }
    let x = b.open_full(b"stsc", 0, 0);
    b.u32(stsc.len() as u32);
    for (first, n, e) in &stsc {
        b.u32(*first);
        b.u32(*n);
        b.u32(*e);
    }
    b.close(x)?;

    let x = b.open_full(b"stsz", 0, 0);
    b.u32(0);
    b.u32(samples.len() as u32);
    for s in samples {
        b.u32(s.size);
    }
    b.close(x)?;

    let x = b.open_full(if co64 { b"co64" } else { b"stco" }, 0, 0);
    b.u32(chunks.len() as u32);
    for c in chunks {
        let off = data_start + c.rel_offset;
        if co64 {
            b.u64(off);
        } else {
            b.u32(off as u32);
        }
    }
    b.close(x)?;

    b.close(stbl)?;
    b.close(minf)?;
    b.close(mdia)?;
    b.close(trak)?;
    b.close(moov)?;
    Ok(b.buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Edit;

    fn entry() -> Vec<u8> {
        let mut e = vec![0, 0, 0, 16];
        e.extend_from_slice(b"avc1");
        e.extend_from_slice(&[0; 8]);
        e
    }

    fn plan(n: usize, sizes: impl Fn(usize) -> u32) -> ExportPlan {
        ExportPlan {
            timescale: 90_000,
            width: 320,
            height: 240,
            sample_entries: vec![entry(), entry()],
            samples: (0..n)
                .map(|i| ExportSample {
                    dts: i as u64 * 6000,
                    duration: 6000,
                    composition_offset: if i % 3 == 1 { -6000 } else { 0 },
                    is_sync: i % 10 == 0,
                    size: sizes(i),
                    entry: 1 + (i / 7 % 2) as u32,
                    source: (i / 5) as u32,
                    source_offset: 0,
                })
                .collect(),
            edit: Some(Edit {
                media_time: 12_000,
                duration: 60_000,
            }),
            creation_time_unix: 1_700_000_000,
        }
    }

    #[test]
    fn progressive_len_equals_bytes_written() {
        for n in [0usize, 1, 2, 30, 257] {
            let p = plan(n, |i| (i as u32 * 37) % 1000 + 1);
            let mut out = Vec::new();
            let written = write_progressive(&mut out, &p, &mut |s, buf| {
                buf.fill(s.size as u8);
                Ok(())
            })
            .unwrap();
            assert_eq!(written, out.len() as u64);
            assert_eq!(progressive_len(&p), written, "n={n}");
        }
    }

    #[test]
    fn co64_used_beyond_4gib_and_len_is_exact() {
        // 3 samples of ~2 GiB: the third chunk starts beyond 4 GiB. Only sizes
        // are computed; nothing is written.
        let mut p = plan(3, |_| 2_200_000_000);
        for (i, s) in p.samples.iter_mut().enumerate() {
            s.source = i as u32; // one chunk per sample
        }
        let l = layout(&p).unwrap();
        let head = &l.head;
        assert!(head.windows(4).any(|w| w == b"co64"));
        assert!(!head.windows(4).any(|w| w == b"stco"));
        // 64-bit mdat header: size field 1, then largesize.
        let mdat = &head[head.len() - 16..];
        assert_eq!(&mdat[..8], &[0, 0, 0, 1, b'm', b'd', b'a', b't']);
        let large = u64::from_be_bytes(mdat[8..].try_into().unwrap());
        assert_eq!(large, 6_600_000_000 + 16);
        assert_eq!(progressive_len(&p), head.len() as u64 + 6_600_000_000);
    }

    #[test]
    fn invalid_plans_are_rejected_not_panicking() {
        let mut p = plan(5, |_| 10);
        p.samples[2].dts = p.samples[1].dts;
        assert!(layout(&p).is_err());
        assert_eq!(progressive_len(&p), 0);
        let mut p = plan(5, |_| 10);
        p.samples[0].entry = 3;
        assert!(layout(&p).is_err());
        let mut p = plan(5, |_| 10);
        p.samples[0].dts = 5;
        assert!(layout(&p).is_err());
        let mut p = plan(5, |_| 10);
        p.sample_entries[0].truncate(7);
        assert!(layout(&p).is_err());
    }

    #[test]
    fn optional_tables_omitted() {
        let mut p = plan(20, |_| 10);
        for s in &mut p.samples {
            s.is_sync = true;
            s.composition_offset = 0;
        }
        let l = layout(&p).unwrap();
        assert!(!l.head.windows(4).any(|w| w == b"ctts"));
        assert!(!l.head.windows(4).any(|w| w == b"stss"));
        let p = plan(20, |_| 10);
        let l = layout(&p).unwrap();
        assert!(l.head.windows(4).any(|w| w == b"ctts"));
        assert!(l.head.windows(4).any(|w| w == b"stss"));
    }
}
