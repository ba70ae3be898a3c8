//! Fragmented MP4 writer: init segment and `moof` + `mdat` fragments.

use std::io::{self, Write};

use crate::FragmentSample;
use crate::boxbuf::{BoxBuf, check_sample_entry, invalid_input};

/// Track id of the single video track.
pub(crate) const TRACK_ID: u32 = 1;

/// `sample_flags` of a sync sample: sample_depends_on = 2 (does not depend on others).
pub(crate) const SYNC_FLAGS: u32 = 0x0200_0000;
/// `sample_flags` of a non-sync sample: sample_depends_on = 1, sample_is_non_sync_sample = 1.
pub(crate) const NON_SYNC_FLAGS: u32 = 0x0101_0000;

/// Writes `ftyp` + `moov` for a fragmented file with one video track.
///
/// `sample_entry` is the complete `avc1`/`hvc1` box (with its 8-byte header).
/// Returns the number of bytes written.
pub fn write_init_segment<W: Write>(
    w: &mut W,
    sample_entry: &[u8],
    width: u16,
    height: u16,
    timescale: u32,
) -> io::Result<u64> {
    let buf = init_segment(sample_entry, width, height, timescale)?;
    w.write_all(&buf)?;
    Ok(buf.len() as u64)
}

fn init_segment(
    sample_entry: &[u8],
    width: u16,
    height: u16,
    timescale: u32,
) -> io::Result<Vec<u8>> {
    check_sample_entry(sample_entry)?;
    if timescale == 0 {
        return Err(invalid_input("timescale must not be 0"));
    }
    let mut b = BoxBuf::new();
    b.ftyp(b"isom", 0x200, &[b"isom", b"iso5", b"iso6", b"mp41"])?;

    let moov = b.open(b"moov");
    let mvhd = b.open_full(b"mvhd", 0, 0);
    b.u32(0); // creation_time
    b.u32(0); // modification_time
    b.u32(timescale);
    b.u32(0); // duration: unknown, given by the fragments
    b.u32(0x0001_0000); // rate 1.0
    b.u16(0x0100); // volume 1.0
    b.zeros(10);
    b.matrix();
    b.zeros(24); // pre_defined
    b.u32(TRACK_ID + 1); // next_track_ID
    b.close(mvhd)?;

    let trak = b.open(b"trak");
    let tkhd = b.open_full(b"tkhd", 0, 3); // enabled | in_movie
    b.u32(0);
    b.u32(0);
    b.u32(TRACK_ID);
    b.u32(0); // reserved
    b.u32(0); // duration
    b.zeros(8);
    b.u16(0); // layer
    b.u16(0); // alternate_group
    b.u16(0); // volume
    b.u16(0);
    b.matrix();
    b.u32(u32::from(width) << 16);
    b.u32(u32::from(height) << 16);
    b.close(tkhd)?;

    let mdia = b.open(b"mdia");
    let mdhd = b.open_full(b"mdhd", 0, 0);
    b.u32(0);
    b.u32(0);
    b.u32(timescale);
    b.u32(0);
    b.u16(0x55c4); // language "und"
    b.u16(0);
    b.close(mdhd)?;
    b.hdlr_vide()?;
    let minf = b.open(b"minf");
    b.vmhd_dinf()?;
    let stbl = b.open(b"stbl");
    let stsd = b.open_full(b"stsd", 0, 0);
    b.u32(1);
    b.bytes(sample_entry);
    b.close(stsd)?;
    for typ in [b"stts", b"stsc", b"stco"] {
        let x = b.open_full(typ, 0, 0);
        b.u32(0);
        b.close(x)?;
    }
    let stsz = b.open_full(b"stsz", 0, 0);
    b.u32(0); // sample_size
    b.u32(0); // sample_count
    b.close(stsz)?;
    b.close(stbl)?;
    b.close(minf)?;
    b.close(mdia)?;
    b.close(trak)?;

    let mvex = b.open(b"mvex");
    let trex = b.open_full(b"trex", 0, 0);
    b.u32(TRACK_ID);
    b.u32(1); // default_sample_description_index
    b.u32(0);
    b.u32(0);
    b.u32(0);
    b.close(trex)?;
    b.close(mvex)?;
    b.close(moov)?;
    Ok(b.buf)
}

/// Writes one `moof` + `mdat` holding `samples`. Returns the number of bytes written.
pub fn write_fragment<W: Write>(
    w: &mut W,
    sequence_number: u32,
    base_decode_time: u64,
    samples: &[FragmentSample],
) -> io::Result<u64> {
    let count = u32::try_from(samples.len()).map_err(|_| invalid_input("too many samples"))?;
    let mut payload: u64 = 0;
    for s in samples {
        if u32::try_from(s.data.len()).is_err() {
            return Err(invalid_input("sample larger than 4 GiB"));
        }
        payload += s.data.len() as u64;
    }
    // moof = 8 + mfhd 16 + traf(8 + tfhd 16 + tfdt 20 + trun 20 + 16 n)
    let moof_len = 8 + 16 + 8 + 16 + 20 + 20 + 16 * samples.len() as u64;
    let mdat_hdr_len: u64 = if payload + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    };
    let data_offset = i32::try_from(moof_len + mdat_hdr_len)
        .map_err(|_| invalid_input("too many samples in one fragment"))?;

    let mut b = BoxBuf::new();
    let moof = b.open(b"moof");
    let mfhd = b.open_full(b"mfhd", 0, 0);
    b.u32(sequence_number);
    b.close(mfhd)?;
    let traf = b.open(b"traf");
    let tfhd = b.open_full(b"tfhd", 0, 0x02_0000); // default-base-is-moof
    b.u32(TRACK_ID);
    b.close(tfhd)?;
    let tfdt = b.open_full(b"tfdt", 1, 0);
    b.u64(base_decode_time);
    b.close(tfdt)?;
    // data-offset | sample-duration | sample-size | sample-flags | sample-composition-time-offset
    let trun = b.open_full(
        b"trun",
        1,
        0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800,
    );
    b.u32(count);
    b.i32(data_offset);
    for s in samples {
        b.u32(s.duration);
        b.u32(s.data.len() as u32);
        b.u32(if s.is_sync {
            SYNC_FLAGS
        } else {
            NON_SYNC_FLAGS
        });
        b.i32(s.composition_offset);
    }
    b.close(trun)?;
    b.close(traf)?;
    b.close(moof)?;
    debug_assert_eq!(b.buf.len() as u64, moof_len);

    if mdat_hdr_len == 16 {
        b.u32(1);
        b.bytes(b"mdat");
        b.u64(payload + 16);
    } else {
        b.u32((payload + 8) as u32);
        b.bytes(b"mdat");
    }
    w.write_all(&b.buf)?;
    for s in samples {
        w.write_all(s.data)?;
    }
    Ok(b.buf.len() as u64 + payload)
}
