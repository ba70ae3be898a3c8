//! Real judges: files written by ffmpeg are read with our parser, re-muxed with
//! our writers, and the results are checked with ffprobe / ffmpeg.

mod common;

use std::path::Path;

use common::*;
use custos_mp4::{
    Edit, ExportPlan, ExportSample, FragmentSample, ParsedFile, ParsedSample, parse_fragmented,
    parse_fragmented_reader, progressive_len, write_fragment, write_init_segment,
    write_progressive,
};

const TS: u32 = 90_000;

fn all_samples(p: &ParsedFile) -> Vec<ParsedSample> {
    p.fragments
        .iter()
        .flat_map(|f| f.samples.iter().copied())
        .collect()
}

fn rescale(ticks: i64, from: u32) -> i64 {
    let v = ticks * i64::from(TS);
    assert_eq!(
        v % i64::from(from),
        0,
        "timescale {from} does not rescale exactly"
    );
    v / i64::from(from)
}

/// Our parser on ffmpeg's fragmented output agrees with ffprobe's packet list.
fn check_parser_against_ffprobe(path: &Path, codec_fourcc: &[u8; 4]) {
    let (data, parsed) = parse_file(path);
    assert_eq!(parsed.torn_tail, None, "ffmpeg's file should end cleanly");
    assert_eq!(
        parsed.valid_len,
        parsed.fragments.last().map(|f| f.offset + f.len).unwrap()
    );
    assert_eq!(&parsed.init.sample_entry[4..8], codec_fourcc);
    assert_eq!((parsed.init.width, parsed.init.height), (320, 240));
    let via_reader = parse_fragmented_reader(&mut std::io::Cursor::new(&data)).unwrap();
    assert_eq!(via_reader, parsed);

    let ours = all_samples(&parsed);
    let theirs = ffprobe_packets(path);
    assert_eq!(ours.len(), theirs.len(), "sample count");
    assert_eq!(ours.len(), 60);
    // ffmpeg applies its edit list, so timestamps differ from ours by a constant.
    let dts_shift = theirs[0].dts - ours[0].dts as i64;
    let pts_shift = theirs[0].pts - (ours[0].dts as i64 + i64::from(ours[0].composition_offset));
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(u64::from(o.size), t.size, "size of sample {i}");
        assert_eq!(o.is_sync, t.key, "key flag of sample {i}");
        assert_eq!(o.dts as i64 + dts_shift, t.dts, "dts of sample {i}");
        assert_eq!(
            o.dts as i64 + i64::from(o.composition_offset) + pts_shift,
            t.pts,
            "pts of sample {i}"
        );
        let end = (o.file_offset + u64::from(o.size)) as usize;
        assert!(end <= data.len());
    }
    // B-frames: presentation order differs from decode order.
    assert!(
        ours.iter()
            .any(|s| s.composition_offset != ours[0].composition_offset)
    );
}

#[test]
fn parser_matches_ffprobe_on_ffmpeg_h264() {
    if skip_without_ffmpeg("parser_matches_ffprobe_on_ffmpeg_h264") {
        return;
    }
    check_parser_against_ffprobe(&h264_fixture(), b"avc1");
}

#[test]
fn parser_matches_ffprobe_on_ffmpeg_h265() {
    if skip_without_ffmpeg("parser_matches_ffprobe_on_ffmpeg_h265") {
        return;
    }
    check_parser_against_ffprobe(&h265_fixture(), b"hvc1");
}

/// Re-muxes `src` as init + one fragment per GOP at 90 kHz and judges the result.
fn check_fragmented_remux(src: &Path, codec_name: &str) {
    let (data, parsed) = parse_file(src);
    let samples = all_samples(&parsed);
    let from = parsed.init.timescale;
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("remux.mp4");

    let mut out = Vec::new();
    let init_len = write_init_segment(&mut out, &parsed.init.sample_entry, 320, 240, TS).unwrap();
    assert_eq!(init_len, out.len() as u64);
    let mut gops: Vec<Vec<ParsedSample>> = Vec::new();
    for s in &samples {
        if s.is_sync || gops.is_empty() {
            gops.push(Vec::new());
        }
        gops.last_mut().unwrap().push(*s);
    }
    assert_eq!(gops.len(), 4);
    for (g, gop) in gops.iter().enumerate() {
        let frag: Vec<FragmentSample> = gop
            .iter()
            .map(|s| FragmentSample {
                duration: rescale(i64::from(s.duration), from) as u32,
                composition_offset: rescale(i64::from(s.composition_offset), from) as i32,
                is_sync: s.is_sync,
                data: &data[s.file_offset as usize..][..s.size as usize],
            })
            .collect();
        let base = rescale(gop[0].dts as i64, from) as u64;
        let before = out.len() as u64;
        let n = write_fragment(&mut out, g as u32 + 1, base, &frag).unwrap();
        assert_eq!(n, out.len() as u64 - before);
    }
    std::fs::write(&out_path, &out).unwrap();

    // Our parser reads it back exactly.
    let back = parse_fragmented(&out).unwrap();
    assert_eq!(back.torn_tail, None);
    assert_eq!(back.valid_len, out.len() as u64);
    assert_eq!(back.fragments.len(), 4);
    assert_eq!(back.init.timescale, TS);
    assert_eq!(back.init.sample_entry, parsed.init.sample_entry);
    let back_samples = all_samples(&back);
    for (a, b) in samples.iter().zip(&back_samples) {
        assert_eq!(rescale(a.dts as i64, from), b.dts as i64);
        assert_eq!((a.size, a.is_sync), (b.size, b.is_sync));
    }

    // ffprobe: codec, size, frame count, duration.
    let info = ffprobe_info(&out_path);
    let st = &info["streams"][0];
    assert_eq!(st["codec_name"], codec_name);
    assert_eq!(st["width"], 320);
    assert_eq!(st["height"], 240);
    assert_eq!(st["nb_read_frames"], "60");
    let dur: f64 = info["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((dur - 4.0).abs() <= 1.0 / 15.0 + 1e-6, "duration {dur}");
    assert_eq!(decode_errors(&out_path), "");

    // Packets keep the source's pts/dts (up to a constant: ffmpeg's source
    // had an edit list) and sizes / key flags.
    let src_pk = ffprobe_packets(src);
    let out_pk = ffprobe_packets(&out_path);
    assert_eq!(src_pk.len(), out_pk.len());
    let dts_shift = out_pk[0].dts - rescale(src_pk[0].dts, from);
    let pts_shift = out_pk[0].pts - rescale(src_pk[0].pts, from);
    for (i, (s, o)) in src_pk.iter().zip(&out_pk).enumerate() {
        assert_eq!(rescale(s.dts, from) + dts_shift, o.dts, "dts of packet {i}");
        assert_eq!(rescale(s.pts, from) + pts_shift, o.pts, "pts of packet {i}");
        assert_eq!((s.size, s.key), (o.size, o.key), "packet {i}");
    }
    // Decoded pictures are identical.
    let a: Vec<String> = frame_md5s(src).into_iter().map(|f| f.1).collect();
    let b: Vec<String> = frame_md5s(&out_path).into_iter().map(|f| f.1).collect();
    assert_eq!(a, b);
}

#[test]
fn fragmented_remux_h264_judged_by_ffprobe() {
    if skip_without_ffmpeg("fragmented_remux_h264_judged_by_ffprobe") {
        return;
    }
    check_fragmented_remux(&h264_fixture(), "h264");
}

#[test]
fn fragmented_remux_h265_judged_by_ffprobe() {
    if skip_without_ffmpeg("fragmented_remux_h265_judged_by_ffprobe") {
        return;
    }
    check_fragmented_remux(&h265_fixture(), "hevc");
}

/// Export samples `range` of `parsed` (rebased to dts 0, rescaled to 90 kHz).
fn export_samples(
    parsed: &ParsedFile,
    range: std::ops::Range<usize>,
    entry: u32,
    source: u32,
    dts_base: u64,
) -> Vec<ExportSample> {
    let from = parsed.init.timescale;
    let samples = all_samples(parsed);
    let first_dts = samples[range.start].dts;
    samples[range]
        .iter()
        .map(|s| ExportSample {
            dts: dts_base + rescale((s.dts - first_dts) as i64, from) as u64,
            duration: rescale(i64::from(s.duration), from) as u32,
            composition_offset: rescale(i64::from(s.composition_offset), from) as i32,
            is_sync: s.is_sync,
            size: s.size,
            entry,
            source,
            source_offset: s.file_offset,
        })
        .collect()
}

fn write_export(plan: &ExportPlan, sources: &[&[u8]], path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let n = write_progressive(&mut out, plan, &mut |s, buf| {
        let src = sources[s.source as usize];
        buf.copy_from_slice(&src[s.source_offset as usize..][..buf.len()]);
        Ok(())
    })
    .unwrap();
    assert_eq!(n, out.len() as u64);
    assert_eq!(progressive_len(plan), n);
    std::fs::write(path, &out).unwrap();
    out
}

#[test]
fn progressive_export_edit_hides_lead_in() {
    if skip_without_ffmpeg("progressive_export_edit_hides_lead_in") {
        return;
    }
    let src = h264_fixture();
    let (data, parsed) = parse_file(&src);
    let samples = all_samples(&parsed);
    let frame = rescale(i64::from(samples[0].duration), parsed.init.timescale);
    assert_eq!(frame, 6000);
    // Start 7 frames after the 2nd key frame, 30 frames long: 3 whole GOPs cover it.
    let key = samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_sync)
        .nth(1)
        .unwrap()
        .0;
    assert_eq!(key, 15);
    let exported = export_samples(&parsed, key..key + 45, 1, 0, 0);
    let key_pts = exported[0].dts as i64 + i64::from(exported[0].composition_offset);
    let plan = ExportPlan {
        timescale: TS,
        width: 320,
        height: 240,
        sample_entries: vec![parsed.init.sample_entry.clone()],
        samples: exported,
        edit: Some(Edit {
            media_time: key_pts + 7 * frame,
            duration: 30 * frame as u64,
        }),
        creation_time_unix: 1_700_000_000,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.mp4");
    let out = write_export(&plan, &[&data], &path);
    // faststart: moov before mdat.
    let moov = out.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = out.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat);

    let info = ffprobe_info(&path);
    let dur: f64 = info["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (dur - 2.0).abs() <= 1.0 / 15.0 + 1e-6,
        "format.duration {dur}"
    );
    assert_eq!(info["streams"][0]["codec_name"], "h264");
    assert_eq!(decode_errors(&path), "");

    // The decoded frames are exactly source frames key+7 .. key+37 (presentation
    // order), and the first one is presented at 0.
    let src_frames = frame_md5s(&src);
    let got = frame_md5s(&path);
    assert!(
        got[0].0.abs() < 1e-9,
        "first decoded frame pts {}",
        got[0].0
    );
    let want: Vec<&String> = src_frames[key + 7..key + 37].iter().map(|f| &f.1).collect();
    let got_md5: Vec<&String> = got.iter().map(|f| &f.1).collect();
    assert_eq!(got_md5, want);
}

#[test]
fn progressive_export_two_sample_entries() {
    if skip_without_ffmpeg("progressive_export_two_sample_entries") {
        return;
    }
    let (a_data, a) = parse_file(&h264_fixture());
    let (b_data, b) = parse_file(&h264_other_fixture());
    assert_ne!(a.init.sample_entry, b.init.sample_entry);
    // Two GOPs from each file; the second starts where the first ends.
    let mut samples = export_samples(&a, 0..30, 1, 0, 0);
    let last = *samples.last().unwrap();
    samples.extend(export_samples(
        &b,
        0..30,
        2,
        1,
        last.dts + u64::from(last.duration),
    ));
    let plan = ExportPlan {
        timescale: TS,
        width: 320,
        height: 240,
        sample_entries: vec![a.init.sample_entry.clone(), b.init.sample_entry.clone()],
        samples,
        edit: None,
        creation_time_unix: 0,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.mp4");
    write_export(&plan, &[&a_data, &b_data], &path);
    let info = ffprobe_info(&path);
    assert_eq!(info["streams"][0]["codec_name"], "h264");
    assert_eq!(info["streams"][0]["nb_read_frames"], "60");
    let pk = ffprobe_packets(&path);
    assert_eq!(pk.len(), 60);
    assert_eq!(pk.iter().filter(|p| p.key).count(), 4);
    // ffmpeg switches decoder configuration at the sample-description change.
    assert_eq!(decode_errors(&path), "");
    let a: Vec<String> = frame_md5s(&h264_fixture())[..30]
        .iter()
        .map(|f| f.1.clone())
        .collect();
    let b: Vec<String> = frame_md5s(&h264_other_fixture())[..30]
        .iter()
        .map(|f| f.1.clone())
        .collect();
    let got: Vec<String> = frame_md5s(&path).into_iter().map(|f| f.1).collect();
    assert_eq!(got, [a, b].concat());
}

#[test]
fn progressive_export_whole_h265() {
    if skip_without_ffmpeg("progressive_export_whole_h265") {
        return;
    }
    let src = h265_fixture();
    let (data, parsed) = parse_file(&src);
    let exported = export_samples(&parsed, 0..60, 1, 0, 0);
    let first_pts = exported
        .iter()
        .map(|s| s.dts as i64 + i64::from(s.composition_offset))
        .min()
        .unwrap();
    let plan = ExportPlan {
        timescale: TS,
        width: 320,
        height: 240,
        sample_entries: vec![parsed.init.sample_entry.clone()],
        samples: exported,
        edit: Some(Edit {
            media_time: first_pts,
            duration: 60 * 6000,
        }),
        creation_time_unix: 1_700_000_000,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h265.mp4");
    write_export(&plan, &[&data], &path);
    let info = ffprobe_info(&path);
    assert_eq!(info["streams"][0]["codec_name"], "hevc");
    assert_eq!(info["streams"][0]["nb_read_frames"], "60");
    let dur: f64 = info["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (dur - 4.0).abs() <= 1.0 / 15.0 + 1e-6,
        "format.duration {dur}"
    );
    assert_eq!(decode_errors(&path), "");
    let a: Vec<String> = frame_md5s(&src).into_iter().map(|f| f.1).collect();
    let b: Vec<String> = frame_md5s(&path).into_iter().map(|f| f.1).collect();
    assert_eq!(a, b);
}
