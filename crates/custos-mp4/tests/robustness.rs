//! Parser robustness: torn tails, garbage, corrupt boxes, random input.

mod common;

use std::io::Cursor;

use common::*;
use custos_mp4::{
    FragmentSample, ParsedFile, parse_fragmented, parse_fragmented_reader, write_fragment,
    write_init_segment,
};
use proptest::prelude::*;

/// Both parsers give the same outcome (errors compared by message).
fn parse_both(data: &[u8]) -> Result<ParsedFile, String> {
    let a = parse_fragmented(data).map_err(|e| e.to_string());
    let b = parse_fragmented_reader(&mut Cursor::new(data)).map_err(|e| e.to_string());
    assert_eq!(a, b, "slice and reader parsers disagree");
    a
}

/// Truncates `data` at every offset past `moov` and checks what is reported.
fn check_every_truncation(data: &[u8], step_reader: usize) {
    let full = parse_fragmented(data).unwrap();
    let init_len = full.init.len;
    let mut boundaries = vec![init_len];
    boundaries.extend(full.fragments.iter().map(|f| f.offset + f.len));
    for t in init_len as usize..=data.len() {
        let cut = &data[..t];
        let p = if t % step_reader == 0 {
            parse_both(cut).unwrap()
        } else {
            parse_fragmented(cut).unwrap()
        };
        let t = t as u64;
        let expect_valid = *boundaries.iter().filter(|&&b| b <= t).max().unwrap();
        assert_eq!(p.valid_len, expect_valid, "valid_len when cut at {t}");
        let complete = full
            .fragments
            .iter()
            .filter(|f| f.offset + f.len <= t)
            .count();
        assert_eq!(
            p.fragments[..],
            full.fragments[..complete],
            "fragments when cut at {t}"
        );
        // A cut exactly at a fragment boundary is clean; a cut inside
        // trailing ignorable boxes (ffmpeg's mfra) or inside a fragment is not.
        let clean = t == data.len() as u64 && full.torn_tail.is_none() || boundaries.contains(&t);
        assert_eq!(
            p.torn_tail.is_none(),
            clean,
            "torn_tail when cut at {t}: {:?}",
            p.torn_tail
        );
    }
    // Cutting into ftyp/moov is an error, not a torn tail.
    for t in [0, 4, 8, 20, init_len as usize - 1] {
        assert!(
            parse_both(&data[..t]).is_err(),
            "cut at {t} must be an error"
        );
    }
}

#[test]
fn e7_truncated_tail_reported_not_hidden() {
    let data = synthetic_fragmented(5);
    check_every_truncation(&data, 1);
    // A torn tail names what is wrong.
    let full = parse_fragmented(&data).unwrap();
    let f = &full.fragments[2];
    let cut = parse_fragmented(&data[..(f.offset + f.len - 10) as usize]).unwrap();
    let msg = cut.torn_tail.unwrap();
    assert!(msg.contains("truncated `mdat`"), "{msg}");
    assert_eq!(cut.valid_len, f.offset);
    assert_eq!(cut.fragments.len(), 2);
    let cut = parse_fragmented(&data[..(f.offset + 20) as usize]).unwrap();
    assert!(cut.torn_tail.unwrap().contains("`moof`"));
}

#[test]
fn e7_truncated_ffmpeg_file_reported_not_hidden() {
    if skip_without_ffmpeg("e7_truncated_ffmpeg_file_reported_not_hidden") {
        return;
    }
    let data = std::fs::read(h264_fixture()).unwrap();
    check_every_truncation(&data, 97);
}

#[test]
fn garbage_tail_is_reported() {
    let data = synthetic_fragmented(3);
    let full = parse_fragmented(&data).unwrap();
    assert_eq!(full.torn_tail, None);
    assert_eq!(full.valid_len, data.len() as u64);
    for junk in [
        vec![0u8; 4096],                          // preallocated zeros
        vec![0xff; 100],                          // noise
        b"\x00\x00\x00\x10moof\x00".to_vec(),     // truncated moof
        b"\x00\x00\x00\x04free".to_vec(),         // size smaller than header
        b"\x00\x00\x00\x01mdat\x00\x00".to_vec(), // truncated largesize
        vec![1, 2, 3],
    ] {
        let mut d = data.clone();
        d.extend_from_slice(&junk);
        let p = parse_both(&d).unwrap();
        assert_eq!(p.fragments, full.fragments);
        assert_eq!(p.valid_len, data.len() as u64);
        assert!(p.torn_tail.is_some(), "junk {junk:?} not reported");
    }
    // Complete ignorable boxes are fine.
    let mut d = data.clone();
    d.extend_from_slice(b"\x00\x00\x00\x0cfree\x01\x02\x03\x04");
    let p = parse_both(&d).unwrap();
    assert_eq!(p.torn_tail, None);
    assert_eq!(p.fragments, full.fragments);
}

#[test]
fn sample_outside_mdat_is_reported() {
    let mut out = Vec::new();
    let init = write_init_segment(&mut out, &fake_entry(), 1, 1, 90_000).unwrap() as usize;
    let data = [1u8; 100];
    let s = [FragmentSample {
        duration: 1,
        composition_offset: 0,
        is_sync: true,
        data: &data,
    }];
    write_fragment(&mut out, 1, 0, &s).unwrap();
    write_fragment(&mut out, 2, 1, &s).unwrap();
    let frag_len = (out.len() - init) / 2;
    // Grow the first sample's size field (last trun entry: duration, size, flags, cto).
    let moof_len = frag_len - 100 - 8;
    let size_at = init + moof_len - 12;
    assert_eq!(&out[size_at..size_at + 4], &100u32.to_be_bytes());
    out[size_at..size_at + 4].copy_from_slice(&101u32.to_be_bytes());
    let p = parse_both(&out).unwrap();
    assert!(p.fragments.is_empty());
    assert_eq!(p.valid_len, init as u64);
    let msg = p.torn_tail.unwrap();
    assert!(
        msg.contains("outside its mdat") && msg.contains("moof/traf/trun"),
        "{msg}"
    );
}

#[test]
fn bad_init_is_an_error_naming_box_and_offset() {
    let data = synthetic_fragmented(1);
    // Not starting with ftyp.
    let mut d = data.clone();
    d[4..8].copy_from_slice(b"ftyq");
    let e = parse_fragmented(&d).unwrap_err().to_string();
    assert!(e.contains("ftyp") && e.contains("offset 0"), "{e}");
    // mdhd timescale 0.
    let mut d = data.clone();
    let mdhd = d.windows(4).position(|w| w == b"mdhd").unwrap();
    d[mdhd + 16..mdhd + 20].copy_from_slice(&0u32.to_be_bytes());
    let e = parse_fragmented(&d).unwrap_err().to_string();
    assert!(e.contains("mdhd") && e.contains("timescale is 0"), "{e}");
    assert!(e.contains(&format!("offset {}", mdhd + 16)), "{e}");
    // No video track.
    let mut d = data.clone();
    let hdlr = d.windows(4).position(|w| w == b"vide").unwrap();
    d[hdlr..hdlr + 4].copy_from_slice(b"soun");
    let e = parse_fragmented(&d).unwrap_err().to_string();
    assert!(e.contains("no video"), "{e}");
    // Missing moov.
    let ftyp_len = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
    let e = parse_fragmented(&data[..ftyp_len]).unwrap_err().to_string();
    assert!(e.contains("no `moov`"), "{e}");
}

#[test]
fn writer_round_trip() {
    let data = synthetic_fragmented(3);
    let p = parse_both(&data).unwrap();
    assert_eq!(p.init.sample_entry, fake_entry());
    assert_eq!(
        (p.init.width, p.init.height, p.init.timescale),
        (640, 480, 90_000)
    );
    assert_eq!(p.fragments.len(), 3);
    for (g, f) in p.fragments.iter().enumerate() {
        assert_eq!(f.sequence_number, g as u32 + 1);
        assert_eq!(f.base_decode_time, g as u64 * 30_000);
        assert_eq!(f.samples.len(), 10);
        for (i, s) in f.samples.iter().enumerate() {
            assert_eq!(s.dts, f.base_decode_time + i as u64 * 3000);
            assert_eq!(s.duration, 3000);
            assert_eq!(s.composition_offset, if i % 3 == 2 { -3000 } else { 3000 });
            assert_eq!(s.is_sync, i == 0);
            assert_eq!(s.size as usize, 50 + i * 13);
            let bytes = &data[s.file_offset as usize..][..s.size as usize];
            assert!(bytes.iter().all(|&b| b == i as u8));
        }
    }
}

#[test]
fn empty_and_large_fragments() {
    let mut out = Vec::new();
    write_init_segment(&mut out, &fake_entry(), 1, 1, 90_000).unwrap();
    assert_eq!(
        write_fragment(&mut out, 1, 0, &[]).unwrap(),
        8 + 16 + 8 + 16 + 20 + 20 + 8
    );
    let p = parse_both(&out).unwrap();
    assert_eq!(p.fragments.len(), 1);
    assert!(p.fragments[0].samples.is_empty());
    assert_eq!(p.valid_len, out.len() as u64);
    // Invalid sample entry is rejected.
    assert!(write_init_segment(&mut Vec::new(), b"short", 1, 1, 90_000).is_err());
    assert!(write_init_segment(&mut Vec::new(), &fake_entry(), 1, 1, 0).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_both(&data);
    }

    #[test]
    fn random_tail_after_valid_init_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut d = synthetic_fragmented(1);
        d.extend_from_slice(&tail);
        let p = parse_both(&d).unwrap();
        prop_assert!(!p.fragments.is_empty());
    }

    #[test]
    fn byte_flips_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut d = synthetic_fragmented(3);
        for (i, v) in flips {
            let i = i.index(d.len());
            d[i] = v;
        }
        if let Ok(p) = parse_both(&d) {
            prop_assert!(p.valid_len <= d.len() as u64);
            for f in &p.fragments {
                for s in &f.samples {
                    prop_assert!(s.file_offset + u64::from(s.size) <= f.offset + f.len);
                    prop_assert!(s.file_offset >= f.offset);
                }
            }
        }
    }
}

#[test]
fn samples_without_bytes_are_rejected_so_memory_stays_bounded() {
    // A trun with no per-sample fields and default size 0 would describe
    // millions of samples in a few bytes; it must be reported, not materialised.
    let mut out = Vec::new();
    let init = write_init_segment(&mut out, &fake_entry(), 1, 1, 90_000).unwrap() as usize;
    let data = [1u8; 10];
    let s = [FragmentSample {
        duration: 1,
        composition_offset: 0,
        is_sync: true,
        data: &data,
    }];
    write_fragment(&mut out, 1, 0, &s).unwrap();
    let trun = init + out[init..].windows(4).position(|w| w == b"trun").unwrap();
    // version/flags: only data-offset; sample_count: 200000.
    out[trun + 4..trun + 8].copy_from_slice(&0x0100_0001u32.to_be_bytes());
    out[trun + 8..trun + 12].copy_from_slice(&200_000u32.to_be_bytes());
    let p = parse_both(&out).unwrap();
    assert!(p.fragments.is_empty());
    let msg = p.torn_tail.unwrap();
    assert!(msg.contains("default size 0"), "{msg}");
}
