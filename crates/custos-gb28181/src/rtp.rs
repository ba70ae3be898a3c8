//! RTP (RFC 3550) for GB/T 28181 media: packet parse/build, RFC 4571 framing over TCP, a small
//! reorder (jitter) buffer, and the PS packetiser (PT 96, 90 kHz, marker on a frame's last
//! packet).

use bytes::Bytes;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpPacket {
    pub pt: u8,
    pub marker: bool,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub payload: Bytes,
}

/// Parses one RTP packet; `None` if it is not one.
pub fn parse(b: &[u8]) -> Option<RtpPacket> {
    if b.len() < 12 || b[0] >> 6 != 2 {
        return None;
    }
    let cc = (b[0] & 0x0f) as usize;
    let mut off = 12 + 4 * cc;
    if b[0] & 0x10 != 0 {
        let ext = b.get(off..off + 4)?;
        off += 4 + 4 * u16::from_be_bytes([ext[2], ext[3]]) as usize;
    }
    let mut end = b.len();
    if b[0] & 0x20 != 0 {
        let pad = *b.last()? as usize;
        end = end.checked_sub(pad)?;
    }
    if off > end {
        return None;
    }
    Some(RtpPacket {
        pt: b[1] & 0x7f,
        marker: b[1] & 0x80 != 0,
        seq: u16::from_be_bytes([b[2], b[3]]),
        ts: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        payload: Bytes::copy_from_slice(&b[off..end]),
    })
}

pub fn build(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(12 + payload.len());
    o.push(0x80);
    o.push(pt | if marker { 0x80 } else { 0 });
    o.extend_from_slice(&seq.to_be_bytes());
    o.extend_from_slice(&ts.to_be_bytes());
    o.extend_from_slice(&ssrc.to_be_bytes());
    o.extend_from_slice(payload);
    o
}

/// Splits RFC 4571 frames (2-byte big-endian length + packet) off the front of a TCP buffer.
#[derive(Default)]
pub struct Rfc4571 {
    buf: Vec<u8>,
}

impl Rfc4571 {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    pub fn next_packet(&mut self) -> Option<Vec<u8>> {
        if self.buf.len() < 2 {
            return None;
        }
        let n = u16::from_be_bytes([self.buf[0], self.buf[1]]) as usize;
        if self.buf.len() < 2 + n {
            return None;
        }
        let p = self.buf[2..2 + n].to_vec();
        self.buf.drain(..2 + n);
        Some(p)
    }
}

/// RFC 4571 framing of one packet.
pub fn frame_4571(pkt: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(pkt.len() + 2);
    o.extend_from_slice(&(pkt.len() as u16).to_be_bytes());
    o.extend_from_slice(pkt);
    o
}

/// What the jitter buffer hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum Jitter {
    Packet(RtpPacket),
    /// Packets were lost before the next one: the consumer must resync.
    Lost(u16),
}

/// Reorders packets by sequence number within a window; gives up on a missing packet once
/// `depth` later packets have arrived (UDP loss) and reports the loss.
pub struct JitterBuffer {
    depth: usize,
    next: Option<u16>,
    held: std::collections::BTreeMap<u16, RtpPacket>,
    pub lost: u64,
    pub reordered: u64,
}

impl JitterBuffer {
    pub fn new(depth: usize) -> Self {
        JitterBuffer {
            depth: depth.max(1),
            next: None,
            held: Default::default(),
            lost: 0,
            reordered: 0,
        }
    }

    /// Adds a packet; appends what is now in order to `out`.
    pub fn push(&mut self, p: RtpPacket, out: &mut Vec<Jitter>) {
        let next = *self.next.get_or_insert(p.seq);
        let ahead = p.seq.wrapping_sub(next);
        if ahead >= 0x8000 {
            return; // late duplicate or too old
        }
        if ahead > 0 {
            self.reordered += 1;
        }
        self.held.insert(ahead, p);
        self.drain(out, false);
    }

    fn drain(&mut self, out: &mut Vec<Jitter>, force: bool) {
        loop {
            if let Some(p) = self.held.remove(&0) {
                let n = self.next.unwrap_or(0).wrapping_add(1);
                self.next = Some(n);
                self.rekey(1);
                out.push(Jitter::Packet(p));
                continue;
            }
            if self.held.is_empty() || (!force && self.held.len() < self.depth) {
                return;
            }
            // Give up on the gap.
            let (&first, _) = self.held.iter().next().expect("not empty");
            self.lost += first as u64;
            out.push(Jitter::Lost(first));
            self.next = Some(self.next.unwrap_or(0).wrapping_add(first));
            self.rekey(first);
        }
    }

    fn rekey(&mut self, by: u16) {
        if by == 0 || self.held.is_empty() {
            return;
        }
        let old = std::mem::take(&mut self.held);
        self.held = old.into_iter().map(|(k, v)| (k - by, v)).collect();
    }

    /// Packets held back waiting for a missing one.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Releases everything held (end of stream, or the missing packet is overdue).
    pub fn flush(&mut self, out: &mut Vec<Jitter>) {
        self.drain(out, true);
    }
}

/// Packetises one PS pack (one access unit) into RTP payloads of at most `mtu` bytes; the last
/// gets the marker bit.
pub struct Packetizer {
    pub ssrc: u32,
    pub seq: u16,
    pub mtu: usize,
}

impl Packetizer {
    pub fn packetize(&mut self, ps: &[u8], ts: u32) -> Vec<Vec<u8>> {
        let chunks: Vec<&[u8]> = ps.chunks(self.mtu.max(64)).collect();
        let n = chunks.len();
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let p = build(96, i + 1 == n, self.seq, ts, self.ssrc, c);
                self.seq = self.seq.wrapping_add(1);
                p
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(seq: u16) -> RtpPacket {
        parse(&build(96, false, seq, 0, 1, &[seq as u8])).unwrap()
    }

    fn seqs(v: &[Jitter]) -> Vec<i32> {
        v.iter()
            .map(|j| match j {
                Jitter::Packet(p) => p.seq as i32,
                Jitter::Lost(n) => -(*n as i32),
            })
            .collect()
    }

    /// I2 (GB/T 28181 interface, rtp): jitter reorders and reports loss across wrap.
    #[test]
    fn jitter_reorders_and_reports_loss_across_wrap() {
        let mut j = JitterBuffer::new(3);
        let mut out = Vec::new();
        for s in [65534u16, 0, 65535, 1, 3, 4, 5] {
            j.push(pkt(s), &mut out);
        }
        assert_eq!(seqs(&out), vec![65534, 65535, 0, 1, -1, 3, 4, 5]);
        assert_eq!(j.lost, 1);
        out.clear();
        j.push(pkt(2), &mut out); // too late
        j.push(pkt(7), &mut out);
        j.flush(&mut out);
        assert_eq!(seqs(&out), vec![-1, 7]);
    }

    /// I2 (GB/T 28181 interface, rtp): rfc4571 and rtp round trip.
    #[test]
    fn rfc4571_and_rtp_round_trip() {
        let mut f = Rfc4571::default();
        let a = build(96, true, 9, 90_000, 200_006_334, b"abc");
        let framed = frame_4571(&a);
        f.push(&framed[..3]);
        assert!(f.next_packet().is_none());
        f.push(&framed[3..]);
        let p = parse(&f.next_packet().unwrap()).unwrap();
        assert_eq!(
            (p.seq, p.ts, p.ssrc, p.marker),
            (9, 90_000, 200_006_334, true)
        );
        assert_eq!(&p.payload[..], b"abc");
        assert!(parse(&[0x80; 5]).is_none());
    }
}
