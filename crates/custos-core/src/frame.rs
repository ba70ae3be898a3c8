//! The hand-off from ingest to footage: encoded access units, never transcoded.

use std::sync::Arc;

use bytes::Bytes;

use crate::Time90k;

/// The video codecs custos records as received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    H264,
    H265,
}

impl Codec {
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
        }
    }
}

/// What a decoder needs to know about a stream, as an ISO BMFF sample entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VideoParams {
    pub codec: Codec,
    pub width: u16,
    pub height: u16,
    /// RFC 6381 codec string, e.g. `avc1.64001f` (for HLS and MSE).
    pub rfc6381_codec: String,
    /// The complete `avc1`/`hvc1` sample entry box (header included), ready for an `stsd`.
    pub sample_entry: Bytes,
}

/// One encoded picture (access unit) as received, in decode order.
#[derive(Clone, Debug)]
pub struct EncodedFrame {
    /// Presentation time on the stream's media clock, 90 kHz, extended (never wraps) and
    /// starting near zero for each connection.
    pub pts_90k: i64,
    /// Wall-clock time of `pts_90k`, from the anchored media clock (see ingest timing).
    pub wall: Time90k,
    /// An IDR/IRAP picture: decoding can start here.
    pub is_key: bool,
    /// NAL units, each with a 4-byte big-endian length prefix (ISO/IEC 14496-15 framing).
    pub data: Bytes,
    pub params: Arc<VideoParams>,
}

/// What ingest sends to a stream's recorder.
#[derive(Debug)]
pub enum StreamEvent {
    Frame(EncodedFrame),
    /// The stream stopped delivering frames (connection lost, camera stopped or stalled, clock
    /// re-anchored). The recorder writes what it has buffered, seals the segment and records
    /// the time until the next frame as a gap with this reason.
    Interrupted {
        reason: String,
    },
}
