//! ISO BMFF (ISO/IEC 14496-12) box layout for custos' recorded segments and
//! exports. This crate owns the bytes: the fragmented-MP4 init segment and
//! fragments that custos appends while recording, a tolerant parser for those
//! files (used by crash recovery and playback, reporting a torn tail instead of
//! hiding it), and the progressive "faststart" MP4 written for exports. It
//! handles exactly one video track whose sample entry (`avc1`/`hvc1`, with its
//! codec configuration) is built by the caller. It must not know about
//! cameras, databases or clocks: every timestamp and byte source is passed in,
//! and its only I/O is through the `Write` / `Read + Seek` the caller hands it.
//! No input, however malformed, may make it panic or allocate without bound.
#![forbid(clippy::print_stdout, clippy::print_stderr)]
#![forbid(unsafe_code)]

mod boxbuf;
mod fragment;
mod parse;
mod progressive;

use std::fmt;
use std::io;

pub use fragment::{write_fragment, write_init_segment};
pub use parse::{parse_fragmented, parse_fragmented_reader};
pub use progressive::{progressive_head, progressive_len, write_progressive};

/// One sample (access unit, AVC/HEVC length-prefixed) of a fragment to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentSample<'a> {
    /// Decode duration, in the track timescale.
    pub duration: u32,
    /// Presentation time minus decode time, in the track timescale.
    pub composition_offset: i32,
    /// Whether this is a sync sample (key frame).
    pub is_sync: bool,
    /// The sample's bytes, stored verbatim in `mdat`.
    pub data: &'a [u8],
}

/// What the init segment (`ftyp` + `moov`) of a fragmented file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitInfo {
    /// The first sample entry of the video track's `stsd`, with its 8-byte header.
    pub sample_entry: Vec<u8>,
    /// Track width from `tkhd` (integer part of the 16.16 value).
    pub width: u16,
    /// Track height from `tkhd` (integer part of the 16.16 value).
    pub height: u16,
    /// Media timescale from `mdhd`.
    pub timescale: u32,
    /// Bytes from the start of the file to the end of `moov`.
    pub len: u64,
}

/// One sample found in a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedSample {
    /// Absolute decode time: `tfdt` plus the durations of the earlier samples of the fragment.
    pub dts: u64,
    pub duration: u32,
    pub composition_offset: i32,
    pub size: u32,
    /// Offset of the sample's first byte in the file (always inside the fragment's `mdat`).
    pub file_offset: u64,
    pub is_sync: bool,
}

/// One complete `moof` + `mdat` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFragment {
    /// File offset of the `moof` box.
    pub offset: u64,
    /// Bytes of `moof` + `mdat`.
    pub len: u64,
    pub sequence_number: u32,
    /// `tfdt` base media decode time (or the previous fragment's end if `tfdt` is absent).
    pub base_decode_time: u64,
    pub samples: Vec<ParsedSample>,
}

/// A parsed fragmented MP4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub init: InitInfo,
    pub fragments: Vec<ParsedFragment>,
    /// End offset of the last complete, valid `moof` + `mdat` (or of `moov` if
    /// there is none). Truncating the file here yields a clean file.
    pub valid_len: u64,
    /// `None` if everything after `valid_len` is well-formed (possibly
    /// ignorable boxes such as `free` or `mfra`); otherwise what is wrong there.
    pub torn_tail: Option<String>,
}

/// A sample of a progressive export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSample {
    /// Decode time in the timescale; the first is 0 and they strictly increase.
    /// The `stts` delta of a sample is the distance to the next sample's `dts`
    /// (so gaps stay visible); `duration` is only used for the last sample.
    pub dts: u64,
    pub duration: u32,
    pub composition_offset: i32,
    pub is_sync: bool,
    pub size: u32,
    /// 1-based index into [`ExportPlan::sample_entries`].
    pub entry: u32,
    /// The caller's id of the file holding the sample.
    pub source: u32,
    /// Offset of the sample in that file.
    pub source_offset: u64,
}

/// An edit list entry: present the media from `media_time` for `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    /// Presentation time (dts + composition offset) in the timescale where playback starts.
    pub media_time: i64,
    /// How long to present, in the movie timescale (equal to the track timescale).
    pub duration: u64,
}

/// Everything needed to write a progressive (non-fragmented, faststart) MP4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPlan {
    pub timescale: u32,
    pub width: u16,
    pub height: u16,
    /// Complete sample entry boxes (`avc1`/`hvc1` ...), referenced 1-based by [`ExportSample::entry`].
    pub sample_entries: Vec<Vec<u8>>,
    pub samples: Vec<ExportSample>,
    /// Edit list: hides the lead-in from the key frame before the requested start.
    pub edit: Option<Edit>,
    /// Creation time written to `mvhd`/`tkhd`/`mdhd`, as Unix seconds.
    pub creation_time_unix: i64,
}

/// Error of the parser: what was wrong, in which box, at which file offset.
#[derive(Debug)]
pub enum Mp4Error {
    /// The bytes do not form the expected structure.
    Invalid {
        /// Box path, e.g. `moov/trak/mdia/mdhd`.
        path: String,
        /// File offset of the offending box or field.
        offset: u64,
        reason: String,
    },
    /// The reader failed.
    Io(io::Error),
}

impl Mp4Error {
    pub(crate) fn invalid(path: impl Into<String>, offset: u64, reason: impl Into<String>) -> Self {
        Mp4Error::Invalid {
            path: path.into(),
            offset,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Mp4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mp4Error::Invalid {
                path,
                offset,
                reason,
            } => write!(f, "invalid MP4: `{path}` box at offset {offset}: {reason}"),
            Mp4Error::Io(e) => write!(f, "I/O error while reading MP4: {e}"),
        }
    }
}

impl std::error::Error for Mp4Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Mp4Error::Io(e) => Some(e),
            Mp4Error::Invalid { .. } => None,
        }
    }
}

impl From<io::Error> for Mp4Error {
    fn from(e: io::Error) -> Self {
        Mp4Error::Io(e)
    }
}

/// Printable form of a box type (`moov`, or escaped bytes for garbage).
pub(crate) fn fourcc(t: &[u8; 4]) -> String {
    t.iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect()
}
