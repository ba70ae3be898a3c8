//! MPEG-2 program stream (ISO/IEC 13818-1 §2.5), the container GB/T 28181 puts inside RTP:
//! a streaming demuxer that yields H.264/H.265 access units (Annex B) with their timestamps,
//! and a muxer that writes one pack per access unit the way GB devices do (pack header; system
//! header and program stream map before each key frame; PES packets of at most 64 KiB).
//!
//! The demuxer is total: any byte sequence is either consumed or skipped while it resyncs on the
//! next start code (fuzzed by `fuzz/fuzz_targets/ps_demux.rs`). Audio and private streams are
//! skipped.

use custos_core::frame::Codec;

pub const STREAM_TYPE_H264: u8 = 0x1b;
pub const STREAM_TYPE_H265: u8 = 0x24;

/// One demuxed video access unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsFrame {
    /// From the program stream map; `None` if no map was seen (callers may sniff NALs).
    pub codec: Option<Codec>,
    /// 90 kHz, extended past the 33-bit wrap.
    pub pts: i64,
    pub dts: i64,
    /// Annex B byte stream (start codes included).
    pub data: Vec<u8>,
}

/// Largest access unit accepted before it is dropped as garbage.
const MAX_FRAME: usize = 8 << 20;
/// Largest amount of unparsed bytes kept while waiting for a packet to complete.
const MAX_PENDING: usize = 1 << 20;

#[derive(Default)]
pub struct PsDemuxer {
    buf: Vec<u8>,
    pos: usize,
    /// Video stream id (0xE0..=0xEF) → stream_type from the PSM.
    video_types: [u8; 16],
    cur: Option<PsFrame>,
    last_pts33: Option<u64>,
    pts_epoch: i64,
    out: std::collections::VecDeque<PsFrame>,
    /// Bytes skipped while resynchronising (for diagnostics).
    pub skipped: u64,
}

enum Step {
    NeedMore,
    Consumed(usize),
}

impl PsDemuxer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes (e.g. one RTP payload).
    pub fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
        loop {
            match self.step() {
                Step::NeedMore => break,
                Step::Consumed(n) => self.pos += n,
            }
        }
        if self.buf.len() - self.pos > MAX_PENDING {
            // A packet claims to be longer than we will ever buffer: drop it and resync.
            self.skipped += (self.buf.len() - self.pos) as u64;
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Ends the current access unit (an RTP marker bit, or end of input).
    pub fn flush(&mut self) {
        if let Some(f) = self.cur.take()
            && !f.data.is_empty()
        {
            self.out.push_back(f);
        }
    }

    /// Forgets the partial access unit and buffered bytes (after packet loss).
    pub fn reset(&mut self) {
        self.cur = None;
        self.skipped += (self.buf.len() - self.pos) as u64;
        self.buf.clear();
        self.pos = 0;
    }

    pub fn pop(&mut self) -> Option<PsFrame> {
        self.out.pop_front()
    }

    fn step(&mut self) -> Step {
        let b = &self.buf[self.pos..];
        if b.len() < 4 {
            return Step::NeedMore;
        }
        if b[0] != 0 || b[1] != 0 || b[2] != 1 {
            // Resync: find the next start code prefix.
            let skip = b
                .windows(3)
                .position(|w| w == [0, 0, 1])
                .unwrap_or(b.len() - 2);
            self.skipped += skip as u64;
            return Step::Consumed(skip.max(1));
        }
        let id = b[3];
        match id {
            0xBA => {
                // Pack header: MPEG-2 (14 bytes + stuffing) or MPEG-1 (12 bytes).
                if b.len() < 5 {
                    return Step::NeedMore;
                }
                if b[4] & 0xC0 == 0x40 {
                    if b.len() < 14 {
                        return Step::NeedMore;
                    }
                    let n = 14 + (b[13] & 7) as usize;
                    if b.len() < n {
                        return Step::NeedMore;
                    }
                    Step::Consumed(n)
                } else {
                    if b.len() < 12 {
                        return Step::NeedMore;
                    }
                    Step::Consumed(12)
                }
            }
            0xB9 => Step::Consumed(4),
            0xBB..=0xFF => {
                if b.len() < 6 {
                    return Step::NeedMore;
                }
                let len = u16::from_be_bytes([b[4], b[5]]) as usize;
                if b.len() < 6 + len {
                    return Step::NeedMore;
                }
                let pkt = b[..6 + len].to_vec();
                match id {
                    0xBC => self.psm(&pkt[6..]),
                    0xE0..=0xEF => self.video_pes(id, &pkt),
                    _ => {} // system header, audio, private, padding
                }
                Step::Consumed(6 + len)
            }
            _ => {
                // A start code inside garbage (0x00..=0xB8: not a PS packet): skip it.
                self.skipped += 3;
                Step::Consumed(3)
            }
        }
    }

    fn psm(&mut self, p: &[u8]) {
        // current_next/version (1), marker (1), info length (2), info, map length (2), map, CRC.
        if p.len() < 4 {
            return;
        }
        let info = u16::from_be_bytes([p[2], p[3]]) as usize;
        let Some(m) = p.get(4 + info..4 + info + 2) else {
            return;
        };
        let map_len = u16::from_be_bytes([m[0], m[1]]) as usize;
        let Some(mut map) = p.get(6 + info..6 + info + map_len) else {
            return;
        };
        while map.len() >= 4 {
            let (st, es) = (map[0], map[1]);
            let il = u16::from_be_bytes([map[2], map[3]]) as usize;
            if (0xE0..=0xEF).contains(&es) {
                self.video_types[(es - 0xE0) as usize] = st;
            }
            map = map.get(4 + il..).unwrap_or(&[]);
        }
    }

    fn extend_ts(&mut self, t33: u64) -> i64 {
        if let Some(last) = self.last_pts33 {
            let wrap = 1i64 << 33;
            let d = t33 as i64 - last as i64;
            if d < -(wrap / 2) {
                self.pts_epoch += wrap;
            } else if d > wrap / 2 {
                self.pts_epoch -= wrap;
            }
        }
        self.last_pts33 = Some(t33);
        self.pts_epoch + t33 as i64
    }

    fn video_pes(&mut self, id: u8, pkt: &[u8]) {
        // MPEG-2 PES header only (what every GB device sends).
        if pkt.len() < 9 || pkt[6] & 0xC0 != 0x80 {
            return;
        }
        let flags = pkt[7];
        let hl = pkt[8] as usize;
        let Some(payload) = pkt.get(9 + hl..) else {
            return;
        };
        let opt = &pkt[9..9 + hl];
        let pts = (flags & 0x80 != 0 && opt.len() >= 5).then(|| read_ts(&opt[0..5]));
        let dts = (flags & 0xC0 == 0xC0 && opt.len() >= 10).then(|| read_ts(&opt[5..10]));
        let codec = match self.video_types[(id - 0xE0) as usize] {
            STREAM_TYPE_H264 => Some(Codec::H264),
            STREAM_TYPE_H265 => Some(Codec::H265),
            _ => None,
        };
        if let Some(p) = pts {
            let p = self.extend_ts(p);
            let d = match (dts, self.last_pts33) {
                // DTS precedes PTS by at most a few frames; never by more than 10 s.
                (Some(d), Some(p33)) => {
                    p - (p33 as i64 - d as i64).rem_euclid(1 << 33).min(900_000)
                }
                _ => p,
            };
            // A new timestamp starts a new access unit; the same one continues it.
            if self.cur.as_ref().is_some_and(|c| c.pts != p) {
                self.flush();
            }
            if self.cur.is_none() {
                self.cur = Some(PsFrame {
                    codec,
                    pts: p,
                    dts: d,
                    data: Vec::new(),
                });
            }
        }
        if let Some(c) = self.cur.as_mut() {
            if c.data.len() + payload.len() > MAX_FRAME {
                self.cur = None;
                return;
            }
            c.codec = c.codec.or(codec);
            c.data.extend_from_slice(payload);
        }
    }
}

fn read_ts(b: &[u8]) -> u64 {
    (((b[0] as u64 >> 1) & 7) << 30)
        | ((b[1] as u64) << 22)
        | (((b[2] as u64) >> 1) << 15)
        | ((b[3] as u64) << 7)
        | ((b[4] as u64) >> 1)
}

fn write_ts(out: &mut Vec<u8>, prefix: u8, t: u64) {
    let t = t & ((1 << 33) - 1);
    out.push((prefix << 4) | (((t >> 29) & 0x0E) as u8) | 1);
    out.push((t >> 22) as u8);
    out.push((((t >> 14) & 0xFE) as u8) | 1);
    out.push((t >> 7) as u8);
    out.push((((t << 1) & 0xFE) as u8) | 1);
}

/// MPEG-2 CRC-32 (polynomial 0x04C11DB7, MSB first, no final xor), for the PSM.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Writes one access unit (Annex B) as a PS pack.
pub fn mux_frame(codec: Codec, data: &[u8], pts: i64, dts: i64, key: bool) -> Vec<u8> {
    let mut o = Vec::with_capacity(data.len() + 64 + data.len() / 65000 * 9);
    let scr = dts.max(0) as u64 & ((1 << 33) - 1);
    // Pack header.
    o.extend_from_slice(&[0, 0, 1, 0xBA]);
    o.push(0x44 | (((scr >> 27) & 0x38) as u8) | (((scr >> 28) & 3) as u8));
    o.push((scr >> 20) as u8);
    o.push((((scr >> 12) & 0xF8) as u8) | 0x04 | (((scr >> 13) & 3) as u8));
    o.push((scr >> 5) as u8);
    o.push((((scr << 3) & 0xF8) as u8) | 0x04);
    o.push(0x01);
    let mux_rate: u32 = 6106; // units of 50 bytes/s (≈2.4 Mbit/s); informative only.
    o.push((mux_rate >> 14) as u8);
    o.push((mux_rate >> 6) as u8);
    o.push(((mux_rate << 2) as u8) | 0x03);
    o.push(0xF8); // reserved, no stuffing
    if key {
        // System header: one video stream.
        o.extend_from_slice(&[0, 0, 1, 0xBB, 0, 9]);
        let rate = mux_rate;
        o.push(0x80 | ((rate >> 15) & 0x7F) as u8);
        o.push((rate >> 7) as u8);
        o.push(((rate << 1) as u8) | 1);
        o.push(0x04); // audio_bound 1, fixed 0, CSPS 0
        o.push(0xE1); // audio lock, video lock, marker, video_bound 1
        o.push(0x7F);
        o.extend_from_slice(&[0xE0, 0xE0, 0xE8]); // stream E0, P-STD scale 1, 232 KiB
        // Program stream map.
        let st = match codec {
            Codec::H264 => STREAM_TYPE_H264,
            Codec::H265 => STREAM_TYPE_H265,
        };
        let start = o.len();
        o.extend_from_slice(&[0, 0, 1, 0xBC, 0, 14, 0xE0, 0xFF, 0, 0, 0, 4, st, 0xE0, 0, 0]);
        let crc = crc32_mpeg2(&o[start..]);
        o.extend_from_slice(&crc.to_be_bytes());
    }
    // Video PES packets.
    const MAX_PAYLOAD: usize = 65_535 - 3 - 10;
    let mut first = true;
    let mut rest = data;
    while first || !rest.is_empty() {
        let n = rest.len().min(MAX_PAYLOAD);
        let with_dts = first && dts != pts;
        let hl = if !first {
            0
        } else if with_dts {
            10
        } else {
            5
        };
        let len = 3 + hl + n;
        o.extend_from_slice(&[0, 0, 1, 0xE0, (len >> 8) as u8, len as u8]);
        o.push(if first { 0x84 } else { 0x80 }); // '10', data_alignment on the first
        o.push(match (first, with_dts) {
            (false, _) => 0,
            (true, false) => 0x80,
            (true, true) => 0xC0,
        });
        o.push(hl as u8);
        if first {
            write_ts(&mut o, if with_dts { 3 } else { 2 }, pts.max(0) as u64);
            if with_dts {
                write_ts(&mut o, 1, dts.max(0) as u64);
            }
        }
        o.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        first = false;
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demux_all(chunks: &[&[u8]]) -> Vec<PsFrame> {
        let mut d = PsDemuxer::new();
        let mut v = Vec::new();
        for c in chunks {
            d.push(c);
            while let Some(f) = d.pop() {
                v.push(f);
            }
        }
        d.flush();
        while let Some(f) = d.pop() {
            v.push(f);
        }
        v
    }

    /// I2 (GB/T 28181 interface, ps): mux demux round trip big frame and split input.
    #[test]
    fn mux_demux_round_trip_big_frame_and_split_input() {
        let big: Vec<u8> = [0u8, 0, 0, 1, 0x65]
            .iter()
            .copied()
            .chain((0..200_000u32).map(|i| (i % 251) as u8 | 1))
            .collect();
        let small = vec![0, 0, 0, 1, 0x41, 9, 9, 9];
        let mut ps = mux_frame(Codec::H264, &big, 3600, 3600, true);
        ps.extend(mux_frame(Codec::H264, &small, 7200, 3700, false));
        // Feed in awkward pieces.
        let pieces: Vec<&[u8]> = ps.chunks(1399).collect();
        let f = demux_all(&pieces);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].codec, Some(Codec::H264));
        assert_eq!(f[0].data, big);
        assert_eq!((f[0].pts, f[1].pts, f[1].dts), (3600, 7200, 3700));
        assert_eq!(f[1].data, small);
    }

    /// I2 (GB/T 28181 interface, ps): pts extended across the 33 bit wrap.
    #[test]
    fn pts_extended_across_the_33_bit_wrap() {
        let small = [0, 0, 0, 1, 0x41, 9];
        let mut ps = Vec::new();
        for t in [(1i64 << 33) - 3600, (1 << 33) - 1, (1 << 33) + 3600] {
            ps.extend(mux_frame(Codec::H264, &small, t, t, false));
        }
        let pts: Vec<i64> = demux_all(&[&ps]).iter().map(|f| f.pts).collect();
        assert_eq!(pts, vec![(1 << 33) - 3600, (1 << 33) - 1, (1 << 33) + 3600]);
    }

    /// I2 (GB/T 28181 interface, ps): resyncs after garbage.
    #[test]
    fn resyncs_after_garbage() {
        let a = mux_frame(Codec::H265, &[0, 0, 1, 0x26, 1, 7], 1000, 1000, true);
        let b = mux_frame(Codec::H265, &[0, 0, 1, 0x02, 1, 8], 4600, 4600, false);
        let mut s = vec![0x47, 0, 0, 1, 0x20, 0xff, 0xff];
        s.extend(&a);
        s.extend([1, 2, 3]);
        s.extend(&b);
        let f = demux_all(&[&s]);
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].codec, Some(Codec::H265));
        assert_eq!(f[1].data, [0, 0, 1, 0x02, 1, 8]);
    }

    /// I2 (GB/T 28181 interface, ps): crc known answer.
    #[test]
    fn crc_known_answer() {
        // CRC-32/MPEG-2 check value of "123456789".
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
    }
}
