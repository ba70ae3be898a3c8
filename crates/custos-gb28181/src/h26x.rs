//! From demuxed Annex B access units to recorder frames: splits NAL units, converts to 4-byte
//! length prefixes (ISO/IEC 14496-15), finds key pictures and parameter sets, and keeps the
//! stream's [`VideoParams`] (built by `custos_ingest::params_from_parameter_sets`, the same
//! sample-entry code RTSP ingest uses).

use std::sync::Arc;

use custos_core::Result;
use custos_core::frame::{Codec, EncodedFrame, VideoParams};

use crate::ps::PsFrame;

/// NAL units of an Annex B byte stream (without start codes, trailing zeros trimmed).
pub fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut start: Option<usize> = None;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            if let Some(s) = start {
                push_nal(&mut out, &data[s..i]);
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    if let Some(s) = start {
        push_nal(&mut out, &data[s..]);
    }
    out
}

fn push_nal<'a>(out: &mut Vec<&'a [u8]>, mut n: &'a [u8]) {
    while let [rest @ .., 0] = n {
        n = rest;
    }
    if !n.is_empty() {
        out.push(n);
    }
}

/// Guesses the codec of an access unit without a program stream map.
pub fn sniff(nals: &[&[u8]]) -> Codec {
    // H.265 VPS (type 32: 0x40 0x01) or an H.265 IRAP header; else H.264.
    if nals
        .iter()
        .any(|n| n.len() >= 2 && n[0] == 0x40 && n[1] == 0x01)
    {
        Codec::H265
    } else {
        Codec::H264
    }
}

/// Turns demuxed frames into [`EncodedFrame`]s. Frames before the first key picture with
/// parameter sets are dropped (a decoder could not start there).
pub struct FrameBuilder {
    codec: Option<Codec>,
    vps: Option<Vec<u8>>,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
    params: Option<Arc<VideoParams>>,
    /// Set after loss: drop frames until the next key picture.
    pub need_key: bool,
}

impl Default for FrameBuilder {
    fn default() -> Self {
        FrameBuilder {
            codec: None,
            vps: None,
            sps: None,
            pps: None,
            params: None,
            need_key: true,
        }
    }
}

impl FrameBuilder {
    pub fn params(&self) -> Option<&Arc<VideoParams>> {
        self.params.as_ref()
    }

    /// Converts one access unit. `wall` maps its pts to wall-clock time.
    pub fn build(
        &mut self,
        f: &PsFrame,
        wall: custos_core::Time90k,
    ) -> Result<Option<EncodedFrame>> {
        let nals = split_annexb(&f.data);
        let codec = *self
            .codec
            .get_or_insert_with(|| f.codec.unwrap_or_else(|| sniff(&nals)));
        let mut key = false;
        let mut changed = false;
        let mut out = Vec::with_capacity(f.data.len() + 16);
        for n in &nals {
            let (ps_slot, is_key, skip) = match codec {
                Codec::H264 => {
                    let t = n[0] & 0x1f;
                    let slot = match t {
                        7 => Some(&mut self.sps),
                        8 => Some(&mut self.pps),
                        _ => None,
                    };
                    (slot, t == 5, t == 9)
                }
                Codec::H265 => {
                    let t = (n[0] >> 1) & 0x3f;
                    let slot = match t {
                        32 => Some(&mut self.vps),
                        33 => Some(&mut self.sps),
                        34 => Some(&mut self.pps),
                        _ => None,
                    };
                    (slot, (16..=21).contains(&t), t == 35)
                }
            };
            if let Some(slot) = ps_slot
                && slot.as_deref() != Some(*n)
            {
                *slot = Some(n.to_vec());
                changed = true;
            }
            key |= is_key;
            if skip {
                continue;
            }
            out.extend_from_slice(&(n.len() as u32).to_be_bytes());
            out.extend_from_slice(n);
        }
        if (changed || self.params.is_none())
            && let (Some(sps), Some(pps)) = (&self.sps, &self.pps)
        {
            self.params = Some(Arc::new(custos_ingest::params_from_parameter_sets(
                codec,
                self.vps.as_deref(),
                sps,
                pps,
            )?));
        }
        let Some(params) = &self.params else {
            return Ok(None);
        };
        if self.need_key {
            if !key {
                return Ok(None);
            }
            self.need_key = false;
        }
        if out.is_empty() {
            return Ok(None);
        }
        Ok(Some(EncodedFrame {
            pts_90k: f.pts,
            wall,
            is_key: key,
            data: out.into(),
            params: params.clone(),
        }))
    }
}

/// Length-prefixed NAL units (as recorded) back to Annex B (for the PS muxer).
pub fn avcc_to_annexb(mut data: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(data.len() + 8);
    while data.len() >= 4 {
        let n = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let Some(nal) = data.get(4..4 + n) else {
            break;
        };
        o.extend_from_slice(&[0, 0, 0, 1]);
        o.extend_from_slice(nal);
        data = &data[4 + n..];
    }
    o
}

/// The parameter sets (H.264 SPS, PPS; H.265 VPS, SPS, PPS) inside an `avc1`/`hvc1` sample
/// entry's `avcC`/`hvcC` box, in decoder order. Empty if the entry is malformed.
pub fn parameter_sets(sample_entry: &[u8]) -> Vec<Vec<u8>> {
    // Box header (8) + VisualSampleEntry fields (78), then child boxes.
    let mut rest = sample_entry.get(86..).unwrap_or(&[]);
    while rest.len() >= 8 {
        let size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if size < 8 || size > rest.len() {
            break;
        }
        let body = &rest[8..size];
        match &rest[4..8] {
            b"avcC" => return avcc_sets(body).unwrap_or_default(),
            b"hvcC" => return hvcc_sets(body).unwrap_or_default(),
            _ => {}
        }
        rest = &rest[size..];
    }
    Vec::new()
}

fn take_nal<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
    let nal = b.get(2..2 + n)?;
    *b = &b[2 + n..];
    Some(nal)
}

fn avcc_sets(b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let nsps = (*b.get(5)? & 0x1f) as usize;
    let mut r = b.get(6..)?;
    for _ in 0..nsps {
        out.push(take_nal(&mut r)?.to_vec());
    }
    let npps = *r.first()? as usize;
    r = &r[1..];
    for _ in 0..npps {
        out.push(take_nal(&mut r)?.to_vec());
    }
    Some(out)
}

fn hvcc_sets(b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let arrays = *b.get(22)? as usize;
    let mut r = b.get(23..)?;
    for _ in 0..arrays {
        let n = u16::from_be_bytes([*r.get(1)?, *r.get(2)?]) as usize;
        r = r.get(3..)?;
        for _ in 0..n {
            out.push(take_nal(&mut r)?.to_vec());
        }
    }
    Some(out)
}

/// A recorded frame as Annex B for the PS muxer; key frames get the stream's parameter sets
/// in front when they do not carry them (RTSP ingest keeps them in the sample entry only).
pub fn frame_annexb(f: &EncodedFrame) -> Vec<u8> {
    let body = avcc_to_annexb(&f.data);
    if !f.is_key {
        return body;
    }
    let has_sps = split_annexb(&body).iter().any(|n| match f.params.codec {
        Codec::H264 => n[0] & 0x1f == 7,
        Codec::H265 => (n[0] >> 1) & 0x3f == 33,
    });
    if has_sps {
        return body;
    }
    let mut o = Vec::with_capacity(body.len() + 128);
    for ps in parameter_sets(&f.params.sample_entry) {
        o.extend_from_slice(&[0, 0, 0, 1]);
        o.extend_from_slice(&ps);
    }
    o.extend_from_slice(&body);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I2 (GB/T 28181 interface, h26x): split handles 3 and 4 byte start codes.
    #[test]
    fn split_handles_3_and_4_byte_start_codes() {
        let d = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 0,
        ];
        let n = split_annexb(&d);
        assert_eq!(n, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4]]);
        assert_eq!(
            split_annexb(&avcc_to_annexb(&[0, 0, 0, 2, 0x65, 9])),
            vec![&[0x65, 9][..]]
        );
    }
}
