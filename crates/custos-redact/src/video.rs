//! The pipeline: decode ‖ detect (N workers) ‖ track + mask + encode.
//!
//! - one thread demuxes and decodes (libavcodec: H.264/H.265, B-frames are reordered by the
//!   decoder, so frames arrive in presentation order) and deals frames round-robin to the
//!   detection workers;
//! - each worker scales its frame down once (libswscale, aspect kept) for the face network and
//!   runs the plate detector on the full-resolution YUV planes;
//! - the calling thread puts results back in order, tracks boxes, keeps `hold` frames in a
//!   look-ahead buffer so a track found late is carried back, pixelates at full resolution and
//!   encodes with libx264 into an MP4.
//!
//! Detection dominates the cost, so two workers on a two-core machine keep both cores busy
//! while decoding and encoding take the slack.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use custos_core::{Error, ErrorKind, Result};
use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};

use crate::face::{Engine, EngineOptions, FaceDetector, InputSize};
use crate::geom::{Detection, Kind};
use crate::mask::{PlaneMut, StaticMask, pixelate_yuv420};
use crate::plate::{PlateDetector, Yuv};
use crate::track::{TrackBox, Tracker, TrackerConfig};

/// What to detect and how to encode.
#[derive(Clone, Debug)]
pub struct Options {
    /// Width of the downscaled copy the face network sees (aspect kept).
    pub det_width: u32,
    /// CenterFace heatmap threshold.
    pub face_threshold: f32,
    pub faces: bool,
    pub plates: bool,
    pub tracker: TrackerConfig,
    /// Detection workers (threads).
    pub workers: usize,
    /// Which engine runs the face network ([`Engine::Auto`]: onnxruntime when installed).
    pub engine: Engine,
    /// onnxruntime's intra-op threads per worker (0: onnxruntime's default, one per core).
    pub engine_threads: usize,
    /// Static privacy masks (G3), painted flat on every frame of the copy.
    pub static_masks: Vec<crate::mask::Polygon>,
    /// libx264 preset and constant rate factor.
    pub preset: String,
    pub crf: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            det_width: 960,
            face_threshold: 0.3,
            faces: true,
            plates: true,
            tracker: TrackerConfig::default(),
            workers: 2,
            engine: Engine::Auto,
            engine_threads: 1,
            static_masks: Vec::new(),
            preset: "veryfast".into(),
            crf: 20,
        }
    }
}

/// The boxes of one frame: what the detectors found and what was masked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FrameBoxes {
    /// Presentation timestamp in the input's time base.
    pub pts: i64,
    pub detections: Vec<Detection>,
    pub masked: Vec<TrackBox>,
}

/// The box track of a redaction job: stored with the job and hashed into the ledger.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoxTrack {
    pub width: u32,
    pub height: u32,
    /// Time base of `pts` (numerator, denominator).
    pub time_base: (i32, i32),
    pub det_width: u32,
    pub face_threshold: f32,
    /// What ran the face network (e.g. `onnxruntime (…), 2 session(s), 1 intra-op thread(s)`).
    #[serde(default)]
    pub engine: String,
    pub hold_frames: u32,
    pub pad: f32,
    /// The static privacy masks painted on every frame (G3).
    #[serde(default)]
    pub static_masks: Vec<crate::mask::Polygon>,
    pub frames: Vec<FrameBoxes>,
}

impl BoxTrack {
    /// Canonical bytes (compact JSON) whose SHA-256 identifies the track.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("box track serialises")
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Report {
    pub frames: u64,
    pub seconds: f64,
    pub face_detections: u64,
    pub plate_detections: u64,
    pub tracks: u64,
    pub masked_boxes: u64,
    pub track: BoxTrack,
}

impl Report {
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.seconds.max(1e-9)
    }
}

fn fferr(what: &str, e: ff::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("{what}: {e}"))
}

fn is_420(p: ff::format::Pixel) -> bool {
    matches!(p, ff::format::Pixel::YUV420P | ff::format::Pixel::YUVJ420P)
}

struct Work {
    idx: u64,
    frame: ff::frame::Video,
}

struct Done {
    idx: u64,
    frame: ff::frame::Video,
    dets: Vec<Detection>,
}

/// Redacts `input` (any file libavformat reads, first video stream) into a new MP4 `output`.
/// `model` is the CenterFace ONNX file (needed when `opts.faces`). Audio is dropped.
pub fn redact_file(input: &Path, output: &Path, model: &Path, opts: &Options) -> Result<Report> {
    ff::init().map_err(|e| fferr("initialising FFmpeg", e))?;
    ff::util::log::set_level(ff::util::log::Level::Error);
    let t0 = Instant::now();
    let mut ictx = ff::format::input(&input).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("cannot open {} as video: {e}", input.display()),
        )
    })?;
    let (vi, tb, rate, params) = {
        let st = ictx.streams().best(ff::media::Type::Video).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{} has no video stream", input.display()),
            )
        })?;
        (
            st.index(),
            st.time_base(),
            st.avg_frame_rate(),
            st.parameters(),
        )
    };
    let mut dec = ff::codec::context::Context::from_parameters(params)
        .and_then(|c| c.decoder().video())
        .map_err(|e| fferr("opening the decoder", e))?;
    let (w, h) = (dec.width(), dec.height());
    if w < 16 || h < 16 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{}: bad frame size {w}x{h}", input.display()),
        ));
    }
    for p in &opts.static_masks {
        p.validate()?;
    }
    let statics = StaticMask::new(&opts.static_masks, w as usize, h as usize);
    let src_fmt = dec.format();
    let out_fmt = if is_420(src_fmt) {
        src_fmt
    } else {
        ff::format::Pixel::YUV420P
    };

    // Encoder and muxer.
    let codec = ff::encoder::find_by_name("libx264").ok_or_else(|| {
        Error::new(
            ErrorKind::FailedPrecondition,
            "FFmpeg has no libx264 encoder; install Debian's libavcodec with x264",
        )
    })?;
    let mut octx = ff::format::output_as(&output, "mp4").map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("cannot create {}: {e}", output.display()),
        )
    })?;
    let global = octx
        .format()
        .flags()
        .contains(ff::format::Flags::GLOBAL_HEADER);
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| fferr("creating the encoder", e))?;
    enc.set_width(w);
    enc.set_height(h);
    enc.set_format(out_fmt);
    enc.set_time_base(tb);
    if rate.numerator() > 0 {
        enc.set_frame_rate(Some(rate));
    }
    if global {
        enc.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    }
    let mut xopts = ff::Dictionary::new();
    xopts.set("preset", &opts.preset);
    xopts.set("crf", &opts.crf.to_string());
    let mut enc = enc
        .open_with(xopts)
        .map_err(|e| fferr("opening libx264", e))?;
    {
        let mut ost = octx
            .add_stream(codec)
            .map_err(|e| fferr("adding the output stream", e))?;
        ost.set_parameters(&enc);
    }
    octx.write_header()
        .map_err(|e| fferr("writing the MP4 header", e))?;
    let ost_tb = octx.stream(0).map(|s| s.time_base()).unwrap_or(tb);

    // Detectors.
    let size = InputSize::for_source(w, h, opts.det_width);
    let to_full = w as f32 / size.w as f32;
    let face = if opts.faces {
        Some(FaceDetector::load_with(
            model,
            size,
            opts.face_threshold,
            &EngineOptions {
                engine: opts.engine,
                sessions: opts.workers.max(1),
                threads: opts.engine_threads,
            },
        )?)
    } else {
        None
    };
    let plate = if opts.plates {
        Some(PlateDetector::new())
    } else {
        None
    };

    let nw = opts.workers.max(1);
    let (done_tx, done_rx) = sync_channel::<Result<Done>>(2 * nw + 2);
    let mut work_txs: Vec<SyncSender<Work>> = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..nw {
        let (tx, rx) = sync_channel::<Work>(2);
        work_txs.push(tx);
        let (face, plate, done_tx) = (face.clone(), plate.clone(), done_tx.clone());
        handles.push(std::thread::spawn(move || {
            worker(rx, done_tx, face, plate, size, to_full)
        }));
    }
    drop(done_tx);

    let decoder = std::thread::spawn(move || -> Result<u64> {
        let mut scaler = None;
        let mut n = 0u64;
        let mut send = |f: ff::frame::Video, n: &mut u64| -> bool {
            let f = if is_420(f.format()) {
                f
            } else {
                let sc = scaler.get_or_insert_with(|| {
                    ff::software::scaling::Context::get(
                        f.format(),
                        w,
                        h,
                        ff::format::Pixel::YUV420P,
                        w,
                        h,
                        ff::software::scaling::Flags::BILINEAR,
                    )
                    .expect("YUV 4:2:0 converter")
                });
                let mut o = ff::frame::Video::empty();
                if sc.run(&f, &mut o).is_err() {
                    return false;
                }
                o.set_pts(f.timestamp());
                o
            };
            let i = *n;
            *n += 1;
            work_txs[(i % nw as u64) as usize]
                .send(Work { idx: i, frame: f })
                .is_ok()
        };
        for (st, pkt) in ictx.packets() {
            if st.index() != vi {
                continue;
            }
            // A damaged packet loses its frames (they are not in the copy, so nothing leaks);
            // the rest of the range is still redacted.
            if let Err(e) = dec.send_packet(&pkt) {
                tracing::warn!("skipping an undecodable packet: {e}");
            }
            loop {
                let mut f = ff::frame::Video::empty();
                if dec.receive_frame(&mut f).is_err() {
                    break;
                }
                let ts = f.timestamp();
                f.set_pts(ts);
                if !send(f, &mut n) {
                    return Ok(n);
                }
            }
        }
        let _ = dec.send_eof();
        loop {
            let mut f = ff::frame::Video::empty();
            if dec.receive_frame(&mut f).is_err() {
                break;
            }
            let ts = f.timestamp();
            f.set_pts(ts);
            if !send(f, &mut n) {
                break;
            }
        }
        Ok(n)
    });

    // Collect in order, track, mask, encode.
    let frame_dur = if rate.numerator() > 0 {
        ((tb.denominator() as i64 * rate.denominator() as i64)
            / (tb.numerator() as i64 * rate.numerator() as i64).max(1))
        .max(1)
    } else {
        1
    };
    let mut tracker = Tracker::new(opts.tracker);
    let hold = opts.tracker.hold as usize;
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut buffer: VecDeque<(ff::frame::Video, FrameBoxes)> = VecDeque::new();
    let mut next = 0u64;
    let mut last_pts = i64::MIN;
    let mut track = BoxTrack {
        width: w,
        height: h,
        time_base: (tb.numerator(), tb.denominator()),
        det_width: size.w,
        face_threshold: opts.face_threshold,
        engine: face.as_ref().map(|f| f.engine.clone()).unwrap_or_default(),
        hold_frames: opts.tracker.hold,
        pad: opts.tracker.pad,
        static_masks: opts.static_masks.clone(),
        frames: Vec::new(),
    };
    let (mut faces, mut plates, mut masked) = (0u64, 0u64, 0u64);
    let mut tracks = std::collections::HashSet::new();
    let mut enc_err: Option<Error> = None;
    let emit = |frame: ff::frame::Video,
                fb: FrameBoxes,
                enc: &mut ff::encoder::Video,
                octx: &mut ff::format::context::Output,
                track: &mut BoxTrack|
     -> Result<()> {
        let mut frame = frame;
        if !fb.masked.is_empty() || !statics.is_empty() {
            mask_frame(&mut frame, &fb.masked, &statics)?;
        }
        frame.set_pts(Some(fb.pts));
        frame.set_kind(ff::picture::Type::None);
        enc.send_frame(&frame)
            .map_err(|e| fferr("encoding a frame", e))?;
        drain(enc, octx, tb, ost_tb, frame_dur)?;
        track.frames.push(fb);
        Ok(())
    };
    for d in done_rx.iter() {
        let d = match d {
            Ok(d) => d,
            Err(e) => {
                enc_err.get_or_insert(e);
                break;
            }
        };
        pending.insert(d.idx, d);
        while let Some(d) = pending.remove(&next) {
            next += 1;
            let mut pts = d.frame.pts().unwrap_or(d.idx as i64 * frame_dur);
            if pts <= last_pts {
                pts = last_pts + 1;
            }
            last_pts = pts;
            for x in &d.dets {
                match x.kind {
                    Kind::Face => faces += 1,
                    Kind::Plate => plates += 1,
                }
            }
            let u = tracker.update(d.idx, &d.dets);
            for b in &u.born {
                for (_, fb) in buffer.iter_mut() {
                    fb.masked.push(*b);
                }
            }
            for b in &u.boxes {
                tracks.insert(b.track);
            }
            buffer.push_back((
                d.frame,
                FrameBoxes {
                    pts,
                    detections: d.dets,
                    masked: u.boxes,
                },
            ));
            while buffer.len() > hold {
                let (f, fb) = buffer.pop_front().unwrap();
                masked += fb.masked.len() as u64;
                if let Err(e) = emit(f, fb, &mut enc, &mut octx, &mut track) {
                    enc_err.get_or_insert(e);
                }
            }
        }
        if enc_err.is_some() {
            break;
        }
    }
    drop(done_rx);
    let decoded = decoder
        .join()
        .map_err(|_| Error::new(ErrorKind::Internal, "the decoder thread panicked"))?;
    for hnd in handles {
        let _ = hnd.join();
    }
    if let Some(e) = enc_err {
        return Err(e);
    }
    let decoded = decoded?;
    while let Some((f, fb)) = buffer.pop_front() {
        masked += fb.masked.len() as u64;
        emit(f, fb, &mut enc, &mut octx, &mut track)?;
    }
    if next != decoded {
        return Err(Error::new(
            ErrorKind::Internal,
            format!("decoded {decoded} frames but encoded {next}"),
        ));
    }
    if decoded == 0 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{} has no decodable video frame", input.display()),
        ));
    }
    enc.send_eof()
        .map_err(|e| fferr("flushing the encoder", e))?;
    drain(&mut enc, &mut octx, tb, ost_tb, frame_dur)?;
    octx.write_trailer()
        .map_err(|e| fferr("finishing the MP4", e))?;
    Ok(Report {
        frames: decoded,
        seconds: t0.elapsed().as_secs_f64(),
        face_detections: faces,
        plate_detections: plates,
        tracks: tracks.len() as u64,
        masked_boxes: masked,
        track,
    })
}

/// Moves encoded packets to the muxer. Every packet gets a duration (one frame): without it
/// the MP4's edit list ends at the last frame's start and players drop that frame.
fn drain(
    enc: &mut ff::encoder::Video,
    octx: &mut ff::format::context::Output,
    tb: ff::Rational,
    ost_tb: ff::Rational,
    frame_dur: i64,
) -> Result<()> {
    let mut p = ff::Packet::empty();
    while enc.receive_packet(&mut p).is_ok() {
        p.set_stream(0);
        if p.duration() <= 0 {
            p.set_duration(frame_dur);
        }
        p.rescale_ts(tb, ost_tb);
        p.write_interleaved(octx)
            .map_err(|e| fferr("writing the MP4", e))?;
    }
    Ok(())
}

fn worker(
    rx: Receiver<Work>,
    tx: SyncSender<Result<Done>>,
    face: Option<FaceDetector>,
    plate: Option<PlateDetector>,
    size: InputSize,
    to_full: f32,
) {
    let mut scaler: Option<ff::software::scaling::Context> = None;
    let mut rgb = ff::frame::Video::new(ff::format::Pixel::RGB24, size.w, size.h);
    for Work { idx, frame } in rx.iter() {
        let r = detect_one(
            &frame,
            face.as_ref(),
            plate.as_ref(),
            &mut scaler,
            &mut rgb,
            size,
            to_full,
        );
        let msg = r.map(|dets| Done { idx, frame, dets });
        if tx.send(msg).is_err() {
            return;
        }
    }
}

fn detect_one(
    frame: &ff::frame::Video,
    face: Option<&FaceDetector>,
    plate: Option<&PlateDetector>,
    scaler: &mut Option<ff::software::scaling::Context>,
    rgb: &mut ff::frame::Video,
    size: InputSize,
    to_full: f32,
) -> Result<Vec<Detection>> {
    let mut dets = Vec::new();
    if let Some(face) = face {
        if scaler.is_none() {
            *scaler = Some(
                ff::software::scaling::Context::get(
                    frame.format(),
                    frame.width(),
                    frame.height(),
                    ff::format::Pixel::RGB24,
                    size.w,
                    size.h,
                    ff::software::scaling::Flags::BILINEAR,
                )
                .map_err(|e| fferr("creating the detection scaler", e))?,
            );
        }
        scaler
            .as_mut()
            .unwrap()
            .run(frame, rgb)
            .map_err(|e| fferr("scaling for detection", e))?;
        dets.extend(face.detect(rgb.data(0), rgb.stride(0), to_full)?);
    }
    if let Some(plate) = plate {
        let y = Yuv {
            w: frame.width() as usize,
            h: frame.height() as usize,
            y: frame.data(0),
            y_stride: frame.stride(0),
            u: frame.data(1),
            u_stride: frame.stride(1),
            v: frame.data(2),
            v_stride: frame.stride(2),
        };
        dets.extend(plate.detect(&y));
    }
    Ok(dets)
}

/// Pixelates boxes into a frame and paints its static masks; the frame's buffers are first made private (a decoded frame
/// may share them with the decoder's reference pictures).
fn mask_frame(
    frame: &mut ff::frame::Video,
    boxes: &[TrackBox],
    statics: &StaticMask,
) -> Result<()> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    // SAFETY: `as_mut_ptr` is a valid AVFrame owned by `frame`.
    let r = unsafe { ff::ffi::av_frame_make_writable(frame.as_mut_ptr()) };
    if r < 0 {
        return Err(fferr("copying a frame for masking", ff::Error::from(r)));
    }
    let (ys, us, vs) = (frame.stride(0), frame.stride(1), frame.stride(2));
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    // SAFETY: after av_frame_make_writable the three planes are distinct, writable buffers of
    // at least stride × plane height bytes; the slices do not outlive `frame`'s borrow.
    let (yp, up, vp) = unsafe {
        let f = &*frame.as_ptr();
        (
            std::slice::from_raw_parts_mut(f.data[0], ys * h),
            std::slice::from_raw_parts_mut(f.data[1], us * ch),
            std::slice::from_raw_parts_mut(f.data[2], vs * ch),
        )
    };
    let mut y = PlaneMut {
        data: yp,
        stride: ys,
        w,
        h,
    };
    let mut u = PlaneMut {
        data: up,
        stride: us,
        w: cw,
        h: ch,
    };
    let mut v = PlaneMut {
        data: vp,
        stride: vs,
        w: cw,
        h: ch,
    };
    for b in boxes {
        pixelate_yuv420(&mut y, &mut u, &mut v, &b.rect);
    }
    statics.apply(&mut y, &mut u, &mut v);
    Ok(())
}
