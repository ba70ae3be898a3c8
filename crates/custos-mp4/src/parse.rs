//! Tolerant parser of fragmented MP4 files with one video track.
//!
//! A missing or malformed `ftyp`/`moov` is an error. After `moov`, parsing
//! walks `moof` + `mdat` pairs and stops at the first thing that is not a
//! complete, valid pair or a complete ignorable box; what it found there is
//! reported in [`ParsedFile::torn_tail`], never silently dropped.

use std::io::{Read, Seek, SeekFrom};

use crate::{InitInfo, Mp4Error, ParsedFile, ParsedFragment, ParsedSample, fourcc};

/// Largest `moov` / `moof` body read into memory.
const MAX_META_BOX: u64 = 64 << 20;
/// Largest number of samples accepted in one fragment.
const MAX_SAMPLES_PER_FRAGMENT: usize = 1 << 18;

/// Random access to the file's bytes.
trait Source {
    fn len(&self) -> u64;
    /// Reads exactly `buf.len()` bytes at `off` (the caller has checked the range).
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), Mp4Error>;
}

struct SliceSource<'a>(&'a [u8]);

impl Source for SliceSource<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), Mp4Error> {
        let src = usize::try_from(off)
            .ok()
            .and_then(|o| self.0.get(o..o.checked_add(buf.len())?))
            .ok_or_else(|| Mp4Error::invalid("(file)", off, "read past end of data"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

struct ReaderSource<'a, R> {
    r: &'a mut R,
    len: u64,
}

impl<R: Read + Seek> Source for ReaderSource<'_, R> {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), Mp4Error> {
        self.r.seek(SeekFrom::Start(off))?;
        self.r.read_exact(buf)?;
        Ok(())
    }
}

/// Parses a fragmented MP4 held in memory. See [`ParsedFile`] for the meaning
/// of `valid_len` and `torn_tail`.
pub fn parse_fragmented(data: &[u8]) -> Result<ParsedFile, Mp4Error> {
    parse(&mut SliceSource(data))
}

/// Like [`parse_fragmented`], but reads only box headers and `moov`/`moof`
/// bodies from `r`, seeking over `mdat` payloads.
pub fn parse_fragmented_reader<R: Read + Seek>(r: &mut R) -> Result<ParsedFile, Mp4Error> {
    let len = r.seek(SeekFrom::End(0))?;
    parse(&mut ReaderSource { r, len })
}

/// A top-level box header.
#[derive(Debug, Clone, Copy)]
struct Header {
    typ: [u8; 4],
    start: u64,
    hdr_len: u64,
    /// Declared size (a size of 0 is resolved to "up to the end of the file").
    size: u64,
}

impl Header {
    fn body_start(&self) -> u64 {
        self.start + self.hdr_len
    }
    /// End offset; may lie beyond the end of the file.
    fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }
}

/// Reads the header at `pos`. Errors are plain descriptions (the caller
/// decides whether they are fatal or a torn tail).
fn read_header(src: &mut dyn Source, pos: u64) -> Result<Result<Header, String>, Mp4Error> {
    let len = src.len();
    let left = len.saturating_sub(pos);
    if left < 8 {
        return Ok(Err(format!(
            "{left} byte(s) at offset {pos}, too short for a box header"
        )));
    }
    let mut h = [0u8; 8];
    src.read_at(pos, &mut h)?;
    let typ = [h[4], h[5], h[6], h[7]];
    if !typ.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Ok(Err(format!(
            "garbage at offset {pos}: box type \"{}\" is not printable",
            fourcc(&typ)
        )));
    }
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let (hdr_len, size) = match size32 {
        0 => {
            if &typ != b"mdat" {
                return Ok(Err(format!(
                    "garbage at offset {pos}: `{}` box with size 0 (to end of file)",
                    fourcc(&typ)
                )));
            }
            (8, left)
        }
        1 => {
            if left < 16 {
                return Ok(Err(format!(
                    "{left} byte(s) at offset {pos}, too short for a 64-bit box header"
                )));
            }
            let mut l = [0u8; 8];
            src.read_at(pos + 8, &mut l)?;
            (16, u64::from_be_bytes(l))
        }
        n => (8, u64::from(n)),
    };
    if size < hdr_len {
        return Ok(Err(format!(
            "garbage at offset {pos}: `{}` box size {size} is smaller than its header",
            fourcc(&typ)
        )));
    }
    Ok(Ok(Header {
        typ,
        start: pos,
        hdr_len,
        size,
    }))
}

/// Reads a whole box body into memory (bounded by [`MAX_META_BOX`]).
fn read_body(src: &mut dyn Source, h: &Header) -> Result<Result<Vec<u8>, String>, Mp4Error> {
    let body_len = h.size - h.hdr_len;
    if h.end() > src.len() {
        return Ok(Err(format!(
            "`{}` box at offset {} is truncated: declares {} bytes, only {} present",
            fourcc(&h.typ),
            h.start,
            h.size,
            src.len() - h.start
        )));
    }
    if body_len > MAX_META_BOX {
        return Ok(Err(format!(
            "`{}` box at offset {} is implausibly large ({} bytes)",
            fourcc(&h.typ),
            h.start,
            h.size
        )));
    }
    let mut body = vec![0u8; body_len as usize];
    src.read_at(h.body_start(), &mut body)?;
    Ok(Ok(body))
}

fn parse(src: &mut dyn Source) -> Result<ParsedFile, Mp4Error> {
    let len = src.len();
    // ftyp first.
    let ftyp = read_header(src, 0)?.map_err(|e| Mp4Error::invalid("ftyp", 0, e))?;
    if &ftyp.typ != b"ftyp" {
        return Err(Mp4Error::invalid(
            "ftyp",
            0,
            format!("file starts with `{}`, not `ftyp`", fourcc(&ftyp.typ)),
        ));
    }
    if ftyp.end() > len {
        return Err(Mp4Error::invalid("ftyp", 0, "truncated"));
    }
    // Then anything up to moov.
    let mut pos = ftyp.end();
    let (moov, moov_body) = loop {
        if pos >= len {
            return Err(Mp4Error::invalid("moov", pos, "no `moov` box in the file"));
        }
        let h = read_header(src, pos)?.map_err(|e| Mp4Error::invalid("moov", pos, e))?;
        match &h.typ {
            b"moov" => {
                let body = read_body(src, &h)?.map_err(|e| Mp4Error::invalid("moov", pos, e))?;
                break (h, body);
            }
            b"moof" | b"mdat" => {
                return Err(Mp4Error::invalid(
                    fourcc(&h.typ),
                    pos,
                    "found before `moov`",
                ));
            }
            _ => {
                if h.end() > len {
                    return Err(Mp4Error::invalid(
                        fourcc(&h.typ),
                        pos,
                        "truncated box before `moov`",
                    ));
                }
                pos = h.end();
            }
        }
    };
    let track = parse_moov(&moov_body, moov.body_start())?;
    let init = InitInfo {
        sample_entry: track.sample_entry.clone(),
        width: track.width,
        height: track.height,
        timescale: track.timescale,
        len: moov.end(),
    };

    let mut fragments = Vec::new();
    let mut pos = moov.end();
    let mut valid_len = pos;
    let mut torn_tail = None;
    let mut next_dts: u64 = 0;
    while pos < len {
        let h = match read_header(src, pos)? {
            Ok(h) => h,
            Err(e) => {
                torn_tail = Some(e);
                break;
            }
        };
        if &h.typ != b"moof" {
            // Ignorable box (free, skip, mfra, sidx, styp, ...): must be complete.
            if h.end() > len {
                torn_tail = Some(format!(
                    "`{}` box at offset {} is truncated: declares {} bytes, only {} present",
                    fourcc(&h.typ),
                    h.start,
                    h.size,
                    len - h.start
                ));
                break;
            }
            pos = h.end();
            continue;
        }
        match parse_fragment(src, &h, &track, next_dts)? {
            Ok(frag) => {
                if let Some(last) = frag.samples.last() {
                    next_dts = last.dts.saturating_add(u64::from(last.duration));
                } else {
                    next_dts = frag.base_decode_time;
                }
                pos = frag.offset + frag.len;
                valid_len = pos;
                fragments.push(frag);
            }
            Err(e) => {
                torn_tail = Some(e);
                break;
            }
        }
    }
    Ok(ParsedFile {
        init,
        fragments,
        valid_len,
        torn_tail,
    })
}

/// What `moov` says about the video track.
#[derive(Debug, Clone)]
struct Track {
    track_id: u32,
    sample_entry: Vec<u8>,
    width: u16,
    height: u16,
    timescale: u32,
    trex: Defaults,
}

/// Default sample values (from `trex`, overridden by `tfhd`).
#[derive(Debug, Clone, Copy, Default)]
struct Defaults {
    duration: u32,
    size: u32,
    flags: u32,
}

/// Cursor over a box body, producing errors that name the box and file offset.
struct Cur<'a> {
    d: &'a [u8],
    pos: usize,
    /// File offset of `d[0]`.
    off: u64,
    path: &'a str,
}

impl<'a> Cur<'a> {
    fn new(d: &'a [u8], off: u64, path: &'a str) -> Self {
        Cur {
            d,
            pos: 0,
            off,
            path,
        }
    }
    fn err(&self, reason: impl Into<String>) -> Mp4Error {
        self.err_at(self.pos, reason)
    }
    /// Error about the field that started at body position `pos`.
    fn err_at(&self, pos: usize, reason: impl Into<String>) -> Mp4Error {
        Mp4Error::invalid(self.path, self.off + pos as u64, reason)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], Mp4Error> {
        let s = self
            .pos
            .checked_add(n)
            .and_then(|end| self.d.get(self.pos..end))
            .ok_or_else(|| {
                self.err(format!(
                    "box body too short: need {n} more byte(s), {} left",
                    self.d.len().saturating_sub(self.pos)
                ))
            })?;
        self.pos += n;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], Mp4Error> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, Mp4Error> {
        Ok(u32::from_be_bytes(self.arr()?))
    }
    fn i32(&mut self) -> Result<i32, Mp4Error> {
        Ok(i32::from_be_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, Mp4Error> {
        Ok(u64::from_be_bytes(self.arr()?))
    }
    /// version, flags
    fn full(&mut self) -> Result<(u8, u32), Mp4Error> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }
    fn skip(&mut self, n: usize) -> Result<(), Mp4Error> {
        self.take(n).map(|_| ())
    }
    fn remaining(&self) -> usize {
        self.d.len().saturating_sub(self.pos)
    }
}

/// A child box inside a parent body.
struct Child<'a> {
    typ: [u8; 4],
    /// Whole box including header.
    raw: &'a [u8],
    body: &'a [u8],
    /// File offset of the box start.
    off: u64,
    hdr_len: usize,
}

impl Child<'_> {
    fn body_off(&self) -> u64 {
        self.off + self.hdr_len as u64
    }
}

/// Splits a box body into its child boxes.
fn children<'a>(body: &'a [u8], body_off: u64, path: &str) -> Result<Vec<Child<'a>>, Mp4Error> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < body.len() {
        let off = body_off + pos as u64;
        let rest = &body[pos..];
        let bad = |reason: String| Mp4Error::invalid(path, off, reason);
        if rest.len() < 8 {
            return Err(bad(format!(
                "{} trailing byte(s), too short for a child box header",
                rest.len()
            )));
        }
        let size32 = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let typ = [rest[4], rest[5], rest[6], rest[7]];
        let (hdr_len, size) = match size32 {
            0 => (8usize, rest.len() as u64),
            1 => {
                let l = rest
                    .get(8..16)
                    .ok_or_else(|| bad("truncated 64-bit child box header".into()))?;
                let mut a = [0u8; 8];
                a.copy_from_slice(l);
                (16usize, u64::from_be_bytes(a))
            }
            n => (8usize, u64::from(n)),
        };
        if size < hdr_len as u64 || size > rest.len() as u64 {
            return Err(bad(format!(
                "child box `{}` has size {size}, outside 8..={} bytes available",
                fourcc(&typ),
                rest.len()
            )));
        }
        let size = size as usize;
        out.push(Child {
            typ,
            raw: &rest[..size],
            body: &rest[hdr_len..size],
            off,
            hdr_len,
        });
        pos += size;
    }
    Ok(out)
}

fn find<'a, 'b>(kids: &'b [Child<'a>], typ: &[u8; 4]) -> Option<&'b Child<'a>> {
    kids.iter().find(|c| &c.typ == typ)
}

fn need<'a, 'b>(
    kids: &'b [Child<'a>],
    typ: &[u8; 4],
    parent: &str,
    parent_off: u64,
) -> Result<&'b Child<'a>, Mp4Error> {
    find(kids, typ).ok_or_else(|| {
        Mp4Error::invalid(parent, parent_off, format!("missing `{}` box", fourcc(typ)))
    })
}

fn parse_moov(body: &[u8], body_off: u64) -> Result<Track, Mp4Error> {
    let kids = children(body, body_off, "moov")?;
    let mut track: Option<Track> = None;
    for trak in kids.iter().filter(|c| &c.typ == b"trak") {
        if let Some(t) = parse_trak(trak)? {
            track = Some(t);
            break;
        }
    }
    let mut track = track.ok_or_else(|| {
        Mp4Error::invalid(
            "moov",
            body_off.saturating_sub(8),
            "no video (`vide`) track",
        )
    })?;
    if let Some(mvex) = find(&kids, b"mvex") {
        for trex in children(mvex.body, mvex.body_off(), "moov/mvex")?
            .iter()
            .filter(|c| &c.typ == b"trex")
        {
            let mut c = Cur::new(trex.body, trex.body_off(), "moov/mvex/trex");
            c.full()?;
            if c.u32()? == track.track_id {
                c.u32()?; // default_sample_description_index
                track.trex = Defaults {
                    duration: c.u32()?,
                    size: c.u32()?,
                    flags: c.u32()?,
                };
            }
        }
    }
    Ok(track)
}

/// Returns `None` if the track is not a video track.
fn parse_trak(trak: &Child) -> Result<Option<Track>, Mp4Error> {
    const P: &str = "moov/trak";
    let kids = children(trak.body, trak.body_off(), P)?;
    let mdia = need(&kids, b"mdia", P, trak.off)?;
    let mdia_kids = children(mdia.body, mdia.body_off(), "moov/trak/mdia")?;
    let hdlr = need(&mdia_kids, b"hdlr", "moov/trak/mdia", mdia.off)?;
    let mut c = Cur::new(hdlr.body, hdlr.body_off(), "moov/trak/mdia/hdlr");
    c.full()?;
    c.u32()?; // pre_defined
    if &c.arr::<4>()? != b"vide" {
        return Ok(None);
    }

    let tkhd = need(&kids, b"tkhd", P, trak.off)?;
    let mut c = Cur::new(tkhd.body, tkhd.body_off(), "moov/trak/tkhd");
    let (v, _) = c.full()?;
    c.skip(if v == 1 { 16 } else { 8 })?;
    let track_id = c.u32()?;
    c.skip(4)?;
    c.skip(if v == 1 { 8 } else { 4 })?;
    c.skip(8 + 2 + 2 + 2 + 2 + 36)?;
    let width = (c.u32()? >> 16) as u16;
    let height = (c.u32()? >> 16) as u16;

    let mdhd = need(&mdia_kids, b"mdhd", "moov/trak/mdia", mdia.off)?;
    let mut c = Cur::new(mdhd.body, mdhd.body_off(), "moov/trak/mdia/mdhd");
    let (v, _) = c.full()?;
    c.skip(if v == 1 { 16 } else { 8 })?;
    let at = c.pos;
    let timescale = c.u32()?;
    if timescale == 0 {
        return Err(c.err_at(at, "timescale is 0"));
    }

    let minf = need(&mdia_kids, b"minf", "moov/trak/mdia", mdia.off)?;
    let minf_kids = children(minf.body, minf.body_off(), "moov/trak/mdia/minf")?;
    let stbl = need(&minf_kids, b"stbl", "moov/trak/mdia/minf", minf.off)?;
    let stbl_kids = children(stbl.body, stbl.body_off(), "moov/trak/mdia/minf/stbl")?;
    let stsd = need(&stbl_kids, b"stsd", "moov/trak/mdia/minf/stbl", stbl.off)?;
    let mut c = Cur::new(stsd.body, stsd.body_off(), "moov/trak/mdia/minf/stbl/stsd");
    c.full()?;
    let at = c.pos;
    let count = c.u32()?;
    if count == 0 {
        return Err(c.err_at(at, "no sample entries"));
    }
    let rest = &stsd.body[c.pos..];
    let entries = children(
        rest,
        stsd.body_off() + c.pos as u64,
        "moov/trak/mdia/minf/stbl/stsd",
    )?;
    let first = entries.first().ok_or_else(|| c.err("no sample entries"))?;
    Ok(Some(Track {
        track_id,
        sample_entry: first.raw.to_vec(),
        width,
        height,
        timescale,
        trex: Defaults::default(),
    }))
}

/// Parses the `moof` at `h` and its following `mdat`. Inner `Err` = torn tail description.
fn parse_fragment(
    src: &mut dyn Source,
    h: &Header,
    track: &Track,
    next_dts: u64,
) -> Result<Result<ParsedFragment, String>, Mp4Error> {
    let body = match read_body(src, h)? {
        Ok(b) => b,
        Err(e) => return Ok(Err(e)),
    };
    let mdat = match read_header(src, h.end())? {
        Ok(m) => m,
        Err(e) => {
            return Ok(Err(format!(
                "`moof` at offset {} is not followed by a complete `mdat`: {e}",
                h.start
            )));
        }
    };
    if &mdat.typ != b"mdat" {
        return Ok(Err(format!(
            "`moof` at offset {} is followed by `{}`, not `mdat`",
            h.start,
            fourcc(&mdat.typ)
        )));
    }
    if mdat.end() > src.len() {
        return Ok(Err(format!(
            "truncated `mdat` at offset {} (of the `moof` at {}): declares {} bytes, only {} present",
            mdat.start,
            h.start,
            mdat.size,
            src.len() - mdat.start
        )));
    }
    match parse_moof(&body, h, track, next_dts, mdat.body_start(), mdat.end()) {
        Ok((sequence_number, base_decode_time, samples)) => Ok(Ok(ParsedFragment {
            offset: h.start,
            len: mdat.end() - h.start,
            sequence_number,
            base_decode_time,
            samples,
        })),
        Err(e) => Ok(Err(format!("invalid fragment at offset {}: {e}", h.start))),
    }
}

type MoofContent = (u32, u64, Vec<ParsedSample>);

fn parse_moof(
    body: &[u8],
    h: &Header,
    track: &Track,
    next_dts: u64,
    data_start: u64,
    data_end: u64,
) -> Result<MoofContent, Mp4Error> {
    let kids = children(body, h.body_start(), "moof")?;
    let mfhd = need(&kids, b"mfhd", "moof", h.start)?;
    let mut c = Cur::new(mfhd.body, mfhd.body_off(), "moof/mfhd");
    c.full()?;
    let seq = c.u32()?;

    let mut samples: Vec<ParsedSample> = Vec::new();
    let mut base_decode_time: Option<u64> = None;
    let mut dts = next_dts;
    for traf in kids.iter().filter(|c| &c.typ == b"traf") {
        let tk = children(traf.body, traf.body_off(), "moof/traf")?;
        let tfhd = need(&tk, b"tfhd", "moof/traf", traf.off)?;
        let mut c = Cur::new(tfhd.body, tfhd.body_off(), "moof/traf/tfhd");
        let (_, flags) = c.full()?;
        if c.u32()? != track.track_id {
            continue; // another track
        }
        let base_data_offset = if flags & 0x01 != 0 {
            Some(c.u64()?)
        } else {
            None
        };
        if flags & 0x02 != 0 {
            c.u32()?; // sample_description_index
        }
        let mut d = track.trex;
        if flags & 0x08 != 0 {
            d.duration = c.u32()?;
        }
        if flags & 0x10 != 0 {
            d.size = c.u32()?;
        }
        if flags & 0x20 != 0 {
            d.flags = c.u32()?;
        }
        // Without an explicit base, the moof start is the base (default-base-is-moof,
        // and the rule for the first traf otherwise).
        let base = base_data_offset.unwrap_or(h.start);

        if let Some(tfdt) = find(&tk, b"tfdt") {
            let mut c = Cur::new(tfdt.body, tfdt.body_off(), "moof/traf/tfdt");
            let (v, _) = c.full()?;
            let t = if v == 1 {
                c.u64()?
            } else {
                u64::from(c.u32()?)
            };
            dts = t;
        }
        if base_decode_time.is_none() {
            base_decode_time = Some(dts);
        }

        let mut data_pos: u64 = base;
        for trun in tk.iter().filter(|c| &c.typ == b"trun") {
            let mut c = Cur::new(trun.body, trun.body_off(), "moof/traf/trun");
            let (_, tf) = c.full()?;
            let count_at = c.pos;
            let count = c.u32()? as usize;
            if tf & 0x01 != 0 {
                let at = c.pos;
                let off = c.i32()?;
                data_pos = base
                    .checked_add_signed(i64::from(off))
                    .ok_or_else(|| c.err_at(at, "data offset out of range"))?;
            }
            let first_flags = if tf & 0x04 != 0 { Some(c.u32()?) } else { None };
            let rec = 4 * [0x100u32, 0x200, 0x400, 0x800]
                .iter()
                .filter(|&&b| tf & b != 0)
                .count();
            if samples.len().saturating_add(count) > MAX_SAMPLES_PER_FRAGMENT {
                return Err(c.err_at(count_at, format!("too many samples ({count})")));
            }
            if rec > 0 && count.saturating_mul(rec) > c.remaining() {
                return Err(c.err_at(
                    count_at,
                    format!(
                        "{count} samples need {} bytes, box has {}",
                        count.saturating_mul(rec),
                        c.remaining()
                    ),
                ));
            }
            // Every sample must occupy file bytes (a trun record or mdat data), so
            // the number of samples, and the memory they take, is bounded by the
            // file's length.
            if rec == 0 && d.size == 0 && count > 0 {
                return Err(c.err_at(
                    count_at,
                    format!("{count} samples without per-sample fields and default size 0"),
                ));
            }
            for i in 0..count {
                let duration = if tf & 0x100 != 0 {
                    c.u32()?
                } else {
                    d.duration
                };
                let size = if tf & 0x200 != 0 { c.u32()? } else { d.size };
                let mut sflags = if tf & 0x400 != 0 { c.u32()? } else { d.flags };
                if let (0, Some(f)) = (i, first_flags) {
                    sflags = f;
                }
                // Version 0 offsets are nominally unsigned; like most readers, read them as signed.
                let composition_offset = if tf & 0x800 != 0 { c.i32()? } else { 0 };
                let end = data_pos.checked_add(u64::from(size));
                match end {
                    Some(end) if data_pos >= data_start && end <= data_end => {}
                    _ => {
                        return Err(c.err(format!(
                            "sample {i} ({size} bytes at file offset {data_pos}) lies outside its mdat ({data_start}..{data_end})"
                        )));
                    }
                }
                let depends_on = (sflags >> 24) & 0x3;
                let is_sync = sflags & 0x0001_0000 == 0 && depends_on != 1;
                samples.push(ParsedSample {
                    dts,
                    duration,
                    composition_offset,
                    size,
                    file_offset: data_pos,
                    is_sync,
                });
                dts = dts.saturating_add(u64::from(duration));
                data_pos += u64::from(size);
            }
        }
    }
    Ok((seq, base_decode_time.unwrap_or(next_dts), samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cur_reports_box_and_offset() {
        let mut c = Cur::new(&[0, 1, 2, 3, 4], 100, "moov/mvhd");
        c.u32().unwrap();
        let e = c.u32().unwrap_err().to_string();
        assert!(e.contains("moov/mvhd"), "{e}");
        assert!(e.contains("offset 104"), "{e}");
    }
}
