//! One supervised task per RTSP camera stream: connect, play, forward frames; on any failure
//! the common supervisor ([`crate::supervise`]) reports an interruption and reconnects with
//! exponential backoff (0.5 s doubling to 4 s, with jitter), until shut down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_core::camera::{CameraName, StreamKind};
use custos_core::frame::{Codec, EncodedFrame, StreamEvent, VideoParams};
use custos_core::{Error, ErrorKind, Result, Time90k};
use futures::StreamExt;
use retina::client::{Credentials, PlayOptions, SessionGroup, SessionOptions, SetupOptions};
use retina::codec::{CodecItem, FrameFormat, ParametersRef};
use tokio::sync::{mpsc, watch};

use crate::health::Health;
pub use crate::supervise::gap_reason;
use crate::supervise::{Backoff, Session, supervise};
use crate::timing::Timing;

/// RTSP lower transport. TCP (interleaved) is the default; a server that answers 461 to it
/// gets UDP automatically; UDP can also be configured per camera.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tcp,
    Udp,
}

/// Where to pull a stream from.
#[derive(Clone)]
pub struct Source {
    pub camera: CameraName,
    pub kind: StreamKind,
    pub url: url::Url,
    pub username: Option<String>,
    pub password: Option<String>,
    pub transport: Transport,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("Source")
            .field("camera", &self.camera)
            .field("kind", &self.kind)
            .field("url", &self.url.as_str())
            .field("username", &self.username)
            .field("transport", &self.transport)
            .finish()
    }
}

/// No frame for this long ends the session (a stalled camera is an interruption).
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(5);
/// RTSP cameras reconnect quickly: 0.5 s doubling to 4 s.
pub const RTSP_BACKOFF: Backoff = Backoff {
    start: Duration::from_millis(500),
    max: Duration::from_secs(4),
};

/// Runs the stream until `shutdown` turns true, under the common supervisor
/// ([`crate::supervise`]). Never returns early on camera errors: they are reported through
/// `health` and as [`StreamEvent::Interrupted`].
pub async fn run_stream(
    src: Source,
    tx: mpsc::Sender<StreamEvent>,
    health: Health,
    shutdown: watch::Receiver<bool>,
) {
    let label = format!("{}/{}", src.camera, src.kind);
    let transport = src.transport;
    let rtsp = Rtsp {
        src,
        transport,
        group: Arc::new(SessionGroup::default()),
    };
    supervise(&label, rtsp, tx, health, shutdown, RTSP_BACKOFF).await
}

/// One RTSP camera stream as a supervised session (the transport it fell back to is kept).
struct Rtsp {
    src: Source,
    transport: Transport,
    group: Arc<SessionGroup>,
}

impl Session for Rtsp {
    async fn run(
        &mut self,
        tx: &mpsc::Sender<StreamEvent>,
        health: &Health,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<()> {
        session(
            &self.src,
            &mut self.transport,
            tx,
            health,
            &self.group,
            shutdown,
        )
        .await
    }
}

/// The URL without credentials (they go in the session options, never in logs) and the
/// session options for a source.
fn connect_options(src: &Source) -> (url::Url, SessionOptions) {
    let creds = match (&src.username, &src.password) {
        (Some(u), Some(p)) => Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        }),
        _ => None,
    };
    let mut url = src.url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    let opts = SessionOptions::default()
        .creds(creds)
        .user_agent(format!("custos/{}", env!("CARGO_PKG_VERSION")));
    (url, opts)
}

fn rtsp_err(what: &str, e: retina::Error) -> Error {
    // retina's messages carry connection context on further lines (for logs); the first line
    // says what went wrong.
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("").trim().to_owned();
    tracing::debug!(error = %full, "{what}");
    let kind = match e.status_code() {
        Some(401) | Some(403) => ErrorKind::Unauthenticated,
        Some(404) => ErrorKind::NotFound,
        Some(461) => ErrorKind::Protocol,
        _ if full.contains("Connection refused")
            || full.contains("timed out")
            || full.contains("Unable to connect") =>
        {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Protocol,
    };
    let hint = match (kind, e.status_code()) {
        (ErrorKind::Unauthenticated, _) => {
            "; wrong username or password: check the camera's credentials in the config"
        }
        (ErrorKind::NotFound, _) => "; the camera does not know this stream path: check the URL",
        (_, Some(461)) => {
            "; the camera refuses this transport: set transport = \"udp\" (or \"tcp\") for it"
        }
        (ErrorKind::Unavailable, _) => {
            "; check the camera is powered, reachable and the URL's host and port are right"
        }
        _ => "",
    };
    Error::new(kind, format!("{what}: {first}{hint}"))
}

async fn session(
    src: &Source,
    transport: &mut Transport,
    tx: &mpsc::Sender<StreamEvent>,
    health: &Health,
    group: &Arc<SessionGroup>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<()> {
    let (url, opts) = connect_options(src);
    let opts = opts.session_group(group.clone());
    let connect = async {
        let mut s = retina::client::Session::describe(url.clone(), opts)
            .await
            .map_err(|e| rtsp_err("DESCRIBE", e))?;
        let video = s
            .streams()
            .iter()
            .position(|st| st.media() == "video" && matches!(st.encoding_name(), "h264" | "h265"))
            .ok_or_else(|| {
                let found: Vec<String> =
                    s.streams().iter().map(|st| format!("{}/{}", st.media(), st.encoding_name())).collect();
                Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "{url} offers no H.264/H.265 video stream (found: {}); configure the camera to send H.264 or H.265",
                        if found.is_empty() { "nothing".to_owned() } else { found.join(", ") }
                    ),
                )
            })?;
        // retina drops an `a=fmtp` line it finds malformed (a trailing `;` is enough), and with
        // it the parameter sets; keep our own lenient reading of them for cameras that send
        // them only in the SDP.
        let fallback = {
            let st = &s.streams()[video];
            match st.parameters() {
                Some(_) => None,
                None => sdp_params(
                    s.sdp(),
                    st.encoding_name(),
                    st.control().map(|u| u.as_str()),
                ),
            }
        };
        if fallback.is_some() {
            tracing::info!(camera = %src.camera, stream = %src.kind, "parameter sets taken from a leniently parsed SDP fmtp line");
        }
        let setup = |t: Transport| {
            SetupOptions::default()
                .transport(match t {
                    Transport::Tcp => retina::client::Transport::Tcp(Default::default()),
                    Transport::Udp => retina::client::Transport::Udp(Default::default()),
                })
                .frame_format(FrameFormat::MP4)
        };
        match s.setup(video, setup(*transport)).await {
            // A server that refuses interleaved TCP ("461 Unsupported Transport") gets UDP,
            // in this session and the following ones.
            Err(e) if e.status_code() == Some(461) && *transport == Transport::Tcp => {
                tracing::warn!(camera = %src.camera, stream = %src.kind, "camera refuses RTP over TCP (461); using UDP");
                s.setup(video, setup(Transport::Udp))
                    .await
                    .map_err(|e| rtsp_err("SETUP (UDP, after 461 to TCP)", e))?;
                *transport = Transport::Udp;
            }
            r => r.map_err(|e| rtsp_err("SETUP", e))?,
        }
        let playing = s
            .play(PlayOptions::default())
            .await
            .map_err(|e| rtsp_err("PLAY", e))?;
        let demuxed = playing.demuxed().map_err(|e| rtsp_err("demuxing", e))?;
        Ok::<_, Error>((demuxed, video, fallback))
    };
    let (mut demuxed, video, sdp_fallback) = tokio::select! {
        r = tokio::time::timeout(Duration::from_secs(10), connect) => match r {
            Ok(r) => r?,
            Err(_) => return Err(Error::new(ErrorKind::Unavailable, format!("{url}: no answer within 10 s; check the camera is reachable"))),
        },
        _ = shutdown.changed() => return Ok(()),
    };
    tracing::info!(camera = %src.camera, stream = %src.kind, "playing");
    let mut timing = Timing::default();
    let mut params: Option<Arc<VideoParams>> = None;
    // Frames are held back until the first RTCP sender report (or SR_WAIT) so the run is
    // anchored at capture time; see `timing`.
    let mut held: Vec<(i64, Time90k, bool, bytes::Bytes, Arc<VideoParams>)> = Vec::new();
    let mut first_frame_at: Option<Instant> = None;
    // Damage recovery: after a packet the depacketizer could not use or lost packets, frames
    // are dropped until the next key frame (a decoder could not use them either) and the
    // recorder is told, so the dropped time is a gap with its reason; the session goes on.
    let mut need_key = false;
    let mut forwarded_since_damage = false;
    let mut last_packet_error: Option<String> = None;
    let mut last_video = Instant::now();
    loop {
        let wait = FRAME_TIMEOUT.saturating_sub(last_video.elapsed());
        let item = tokio::select! {
            r = tokio::time::timeout(wait, demuxed.next()) => match r {
                Ok(Some(Ok(item))) => item,
                Ok(Some(Err(e))) if is_packet_error(&e) => {
                    let full = e.to_string();
                    let first = full.lines().next().unwrap_or("").trim().to_owned();
                    tracing::debug!(camera = %src.camera, stream = %src.kind, error = %full, "unusable RTP packet; dropping to the next key frame");
                    if !need_key {
                        tracing::info!(camera = %src.camera, stream = %src.kind, error = %first, "unusable RTP packet; dropping to the next key frame");
                    }
                    let reason = format!("damaged stream: {first}");
                    if !damaged(&reason, &mut need_key, &mut forwarded_since_damage, &mut held, &mut timing, tx, health).await {
                        return Ok(());
                    }
                    last_packet_error = Some(first);
                    continue;
                }
                Ok(Some(Err(e))) => return Err(rtsp_err("receiving", e)),
                Ok(None) => return Err(match last_packet_error {
                    Some(m) => Error::new(ErrorKind::Protocol, format!("camera stream unusable: {m}")),
                    None => Error::new(ErrorKind::Unavailable, "camera ended the session"),
                }),
                Err(_) => return Err(Error::new(ErrorKind::Unavailable, match &last_packet_error {
                    Some(m) => format!("no usable frames for {} s (camera stalled; last error: {m})", FRAME_TIMEOUT.as_secs()),
                    None => format!("no frames for {} s (camera stalled)", FRAME_TIMEOUT.as_secs()),
                })),
            },
            _ = shutdown.changed() => {
                release(&mut held, &mut timing, tx, health).await;
                return Ok(());
            }
        };
        let frame = match item {
            CodecItem::VideoFrame(f) if f.stream_id() == video => f,
            CodecItem::Rtcp(rtcp) if rtcp.stream_id() == video => {
                if let Some(ts) = rtcp.rtp_timestamp()
                    && let Some(Ok(Some(sr))) = rtcp.pkts().next().map(|p| p.as_sender_report())
                {
                    let media = ts.elapsed() * 90_000 / ts.clock_rate().get() as i64;
                    let received = Time90k::from_system_time(std::time::SystemTime::now());
                    let had = timing.has_sender_report();
                    let sender_wall = ntp_to_time(sr.ntp_timestamp().0);
                    if timing.sender_report(media, sender_wall, received) {
                        if !had {
                            tracing::debug!(camera = %src.camera, stream = %src.kind, skew_ms = (received - sender_wall).0 / 90, "first RTCP sender report");
                        }
                    } else {
                        tracing::debug!(camera = %src.camera, "ignoring implausible RTCP sender report");
                    }
                }
                continue;
            }
            _ => continue,
        };
        last_video = Instant::now();
        if frame.loss() > 0 {
            let reason = format!(
                "damaged stream: {} RTP packet(s) lost before this frame",
                frame.loss()
            );
            if !damaged(
                &reason,
                &mut need_key,
                &mut forwarded_since_damage,
                &mut held,
                &mut timing,
                tx,
                health,
            )
            .await
            {
                return Ok(());
            }
            continue;
        }
        if params.is_none() || frame.has_new_parameters() {
            match demuxed.streams()[video].parameters() {
                Some(ParametersRef::Video(v)) => params = Some(Arc::new(video_params(v)?)),
                _ => match &sdp_fallback {
                    Some(p) => params = Some(p.clone()),
                    // Parameter sets may still come in-band with the next key frame.
                    None if !frame.is_random_access_point() => continue,
                    None => {
                        return Err(Error::new(
                            ErrorKind::Protocol,
                            "key frame without codec parameters (no SPS/PPS in the SDP nor in-band); configure the camera to send them",
                        ));
                    }
                },
            }
            let p = params.as_ref().unwrap();
            health.params(p.codec.as_str(), p.width, p.height);
        }
        let p = params.clone().unwrap();
        if !has_picture(p.codec, frame.data()) {
            // An access unit of parameter sets or SEI only (a camera splitting one picture
            // over two RTP timestamps): nothing to record, and decoders reject it.
            continue;
        }
        let is_key =
            frame.is_random_access_point() || (p.codec == Codec::H265 && h265_irap(frame.data()));
        if need_key {
            if !is_key {
                continue;
            }
            need_key = false;
            last_packet_error = None;
        }
        let ts = frame.timestamp();
        let media = ts.elapsed() * 90_000 / ts.clock_rate().get() as i64;
        let received = Time90k::from_system_time(std::time::SystemTime::now());
        let data = bytes::Bytes::from(frame.into_data());
        let waiting = !timing.has_sender_report()
            && first_frame_at.get_or_insert_with(Instant::now).elapsed() < SR_WAIT;
        held.push((media, received, is_key, data, p));
        forwarded_since_damage = true;
        if waiting {
            continue;
        }
        if !release(&mut held, &mut timing, tx, health).await {
            return Ok(());
        }
    }
}

/// The stream lost data (unusable packet, lost packets): forward what is held (it precedes the
/// damage), tell the recorder once per damaged stretch — only if frames were forwarded since the
/// last one, so a join mid-fragment before any frame is no gap of its own — and drop frames
/// until the next key frame. False if the recorder is gone.
async fn damaged(
    reason: &str,
    need_key: &mut bool,
    forwarded_since_damage: &mut bool,
    held: &mut Vec<(i64, Time90k, bool, bytes::Bytes, Arc<VideoParams>)>,
    timing: &mut Timing,
    tx: &mpsc::Sender<StreamEvent>,
    health: &Health,
) -> bool {
    if *need_key {
        return true;
    }
    *need_key = true;
    health.damaged(reason);
    if !*forwarded_since_damage {
        return true;
    }
    *forwarded_since_damage = false;
    if !release(held, timing, tx, health).await {
        return false;
    }
    tx.send(StreamEvent::Interrupted {
        reason: reason.to_owned(),
    })
    .await
    .is_ok()
}

/// Longest time the first frames wait for an RTCP sender report.
const SR_WAIT: Duration = Duration::from_secs(4);

/// Times and forwards held frames; false if the recorder is gone.
async fn release(
    held: &mut Vec<(i64, Time90k, bool, bytes::Bytes, Arc<VideoParams>)>,
    timing: &mut Timing,
    tx: &mpsc::Sender<StreamEvent>,
    health: &Health,
) -> bool {
    for (media, received, is_key, data, params) in held.drain(..) {
        let timed = timing.frame(media, received, is_key);
        if let Some(reason) = timed.discontinuity
            && tx.send(StreamEvent::Interrupted { reason }).await.is_err()
        {
            return false;
        }
        health.frame(timed.wall, data.len());
        let ev = EncodedFrame {
            pts_90k: media,
            wall: timed.wall,
            is_key,
            data,
            params,
        };
        if tx.send(StreamEvent::Frame(ev)).await.is_err() {
            return false;
        }
    }
    true
}

/// NTP 32.32 fixed point (since 1900) to wall time.
fn ntp_to_time(ntp: u64) -> Time90k {
    const NTP_UNIX_OFFSET: i64 = 2_208_988_800;
    let secs = (ntp >> 32) as i64 - NTP_UNIX_OFFSET;
    let frac = ntp & 0xffff_ffff;
    Time90k(secs * 90_000 + ((frac * 90_000) >> 32) as i64)
}

/// H.265 access unit whose first VCL NAL is an IRAP picture (BLA, IDR or CRA: types 16..=21).
/// retina flags only IDR pictures; cameras with open GOPs send CRA as their key frames.
fn h265_irap(data: &[u8]) -> bool {
    let mut rest = data;
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let nal_type = (rest[4] >> 1) & 0x3f;
        if nal_type < 32 {
            return (16..=21).contains(&nal_type);
        }
        rest = rest.get(4 + len..).unwrap_or(&[]);
    }
    false
}

/// Whether a length-prefixed access unit holds a coded picture (a VCL NAL unit: H.264 types
/// 1..=5, H.265 types 0..=31).
fn has_picture(codec: Codec, data: &[u8]) -> bool {
    let mut rest = data;
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let vcl = match codec {
            Codec::H264 => (1..=5).contains(&(rest[4] & 0x1f)),
            Codec::H265 => (rest[4] >> 1) & 0x3f < 32,
        };
        if vcl {
            return true;
        }
        rest = rest.get(4 + len..).unwrap_or(&[]);
    }
    false
}

/// Stream parameters (sample entry, RFC 6381 codec, size) from raw parameter-set NAL units
/// (no start code or length prefix), for sources that carry H.264/H.265 in another framing
/// (GB/T 28181 PS over RTP). `vps` is required for H.265 and ignored for H.264.
pub fn params_from_parameter_sets(
    codec: Codec,
    vps: Option<&[u8]>,
    sps: &[u8],
    pps: &[u8],
) -> Result<VideoParams> {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (enc, fmtp) = match codec {
        Codec::H264 => (
            "h264",
            format!(
                "packetization-mode=1;sprop-parameter-sets={},{}",
                b64(sps),
                b64(pps)
            ),
        ),
        Codec::H265 => {
            let vps = vps.ok_or_else(|| {
                Error::new(
                    ErrorKind::Protocol,
                    "H.265 stream has no VPS before its SPS",
                )
            })?;
            (
                "h265",
                format!(
                    "sprop-vps={};sprop-sps={};sprop-pps={}",
                    b64(vps),
                    b64(sps),
                    b64(pps)
                ),
            )
        }
    };
    let d =
        retina::codec::Depacketizer::new("video", enc, 90_000, None, Some(&fmtp)).map_err(|e| {
            Error::new(
                ErrorKind::Protocol,
                format!("bad {enc} parameter sets: {e}"),
            )
        })?;
    match d.parameters() {
        Some(retina::codec::ParametersRef::Video(v)) => video_params(v),
        _ => Err(Error::new(
            ErrorKind::Protocol,
            format!("{enc} parameter sets do not describe a video stream"),
        )),
    }
}

fn video_params(v: &retina::codec::VideoParameters) -> Result<VideoParams> {
    let codec = if v.rfc6381_codec().starts_with("avc1") {
        Codec::H264
    } else {
        Codec::H265
    };
    let entry = v.mp4_sample_entry().build().map_err(|e| {
        Error::new(
            ErrorKind::Protocol,
            format!("cannot describe the stream for MP4: {e}"),
        )
    })?;
    let (w, h) = v.pixel_dimensions();
    Ok(VideoParams {
        codec,
        width: w.min(u16::MAX as u32) as u16,
        height: h.min(u16::MAX as u32) as u16,
        rfc6381_codec: v.rfc6381_codec().to_owned(),
        sample_entry: entry.into(),
    })
}

/// Rewrites an SDP `a=fmtp` value into the strict form retina's parser accepts: parameters
/// separated by `;` with surrounding spaces removed, empty parameters (a trailing `;`, `;;`)
/// and parameters without a value dropped, keys in lower case (RFC 4566 makes them
/// case-insensitive). Cameras send all of these; retina discards the whole line — and with it
/// the parameter sets — on any of them.
pub fn lenient_fmtp(fmtp: &str) -> String {
    fmtp.split(';')
        .filter_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            let (k, v) = (k.trim(), v.trim());
            (!k.is_empty()).then(|| format!("{}={}", k.to_ascii_lowercase(), v))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The `a=fmtp` value of the SDP's video media section for `encoding` (`h264`/`h265`) whose
/// `a=control` ends like `control` (or, failing that, the first such section).
fn sdp_video_fmtp(sdp: &[u8], encoding: &str, control: Option<&str>) -> Option<String> {
    /// One media section; `pt` empty for non-video ones.
    #[derive(Default)]
    struct Section {
        control: Option<String>,
        encoding: Option<String>,
        fmtp: Option<String>,
        pt: String,
    }
    let sdp = String::from_utf8_lossy(sdp);
    let mut sections: Vec<Section> = Vec::new();
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            let mut f = m.split_ascii_whitespace();
            let video = f.next().unwrap_or("").eq_ignore_ascii_case("video");
            let pt = f.nth(2).unwrap_or("").to_owned();
            sections.push(Section {
                pt: if video { pt } else { String::new() },
                ..Default::default()
            });
            continue;
        }
        let Some(cur) = sections.last_mut() else {
            continue;
        };
        if cur.pt.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix("a=control:") {
            cur.control = Some(c.trim().to_owned());
        } else if let Some(r) = line.strip_prefix("a=rtpmap:") {
            if let Some((pt, enc)) = r.split_once(' ')
                && pt.trim() == cur.pt
            {
                let name = enc.trim().split('/').next().unwrap_or("");
                cur.encoding = Some(name.to_ascii_lowercase());
            }
        } else if let Some(r) = line.strip_prefix("a=fmtp:")
            && let Some((pt, v)) = r.split_once(' ')
            && pt.trim() == cur.pt
        {
            cur.fmtp = Some(v.to_owned());
        }
    }
    let candidates: Vec<Section> = sections
        .into_iter()
        .filter(|s| s.encoding.as_deref() == Some(encoding) && s.fmtp.is_some())
        .collect();
    let by_control = control.and_then(|c| {
        candidates.iter().find(|s| {
            s.control
                .as_deref()
                .is_some_and(|sc| !sc.is_empty() && (c == sc || c.ends_with(&format!("/{sc}"))))
        })
    });
    by_control
        .or(candidates.first())
        .and_then(|s| s.fmtp.clone())
}

/// Codec parameters from the SDP's parameter sets, parsed leniently (see [`lenient_fmtp`]):
/// the fallback when retina dropped the `a=fmtp` line and the camera sends no parameter sets
/// in-band.
fn sdp_params(sdp: &[u8], encoding: &str, control: Option<&str>) -> Option<Arc<VideoParams>> {
    let fmtp = lenient_fmtp(&sdp_video_fmtp(sdp, encoding, control)?);
    let d = retina::codec::Depacketizer::new("video", encoding, 90_000, None, Some(&fmtp)).ok()?;
    match d.parameters() {
        Some(ParametersRef::Video(v)) => video_params(v).ok().map(Arc::new),
        _ => None,
    }
}

/// Whether a retina error is about one RTP packet that the depacketizer could not use (joined
/// mid-fragment, a slice cut by loss, a malformed NAL): retina resets its depacketizer and the
/// session goes on. Other errors (connection, RTSP) end the session.
///
/// retina's error type is opaque; its per-packet errors are the ones whose context names the
/// packet's SSRC and sequence number.
fn is_packet_error(e: &retina::Error) -> bool {
    let s = e.to_string();
    s.contains("\nssrc: ") && s.contains("\nseq: ")
}

/// What a probe learned about a camera.
#[derive(Debug, Clone)]
pub struct ProbeInfo {
    pub video: String,
}

/// Connects once (DESCRIBE) to check the URL, the credentials and that there is H.264/H.265
/// video. Used before recording starts so misconfiguration is reported at once.
pub async fn probe(src: &Source, timeout: Duration) -> Result<ProbeInfo> {
    let (url, opts) = connect_options(src);
    let s = match tokio::time::timeout(
        timeout,
        retina::client::Session::describe(url.clone(), opts),
    )
    .await
    {
        Ok(r) => r.map_err(|e| rtsp_err(&format!("camera {} ({url})", src.camera), e))?,
        Err(_) => {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "camera {} ({url}): no answer within {} s; check it is reachable",
                    src.camera,
                    timeout.as_secs()
                ),
            ));
        }
    };
    let found: Vec<String> = s
        .streams()
        .iter()
        .map(|st| format!("{}/{}", st.media(), st.encoding_name()))
        .collect();
    match s
        .streams()
        .iter()
        .find(|st| st.media() == "video" && matches!(st.encoding_name(), "h264" | "h265"))
    {
        Some(st) => Ok(ProbeInfo {
            video: st.encoding_name().to_owned(),
        }),
        None => Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "camera {} ({url}) offers no H.264/H.265 video (found: {}); configure it to send H.264 or H.265",
                src.camera,
                if found.is_empty() {
                    "nothing".to_owned()
                } else {
                    found.join(", ")
                }
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPROP: &str = "Z2QAHqwsaoLA9puCgIKgAAADACAAAAMD0IAA,aO4xshsA";

    /// I2, D1: the fmtp forms cameras send (trailing `;`, empty parameters, spaces, upper-case
    /// keys, a key without value) are normalised so the parameter sets survive.
    #[test]
    fn i2_lenient_fmtp_normalises_camera_quirks() {
        assert_eq!(
            lenient_fmtp(&format!(
                " packetization-mode=1; Profile-Level-Id=64001E;;sprop-parameter-sets={SPROP};"
            )),
            format!("packetization-mode=1;profile-level-id=64001E;sprop-parameter-sets={SPROP}")
        );
        assert_eq!(lenient_fmtp("a=1;novalue;b = 2"), "a=1;b=2");
        assert_eq!(lenient_fmtp(";"), "");
    }

    /// I2, D1: the SDP of the camera (fmtp ending in `;`, audio first) still yields the
    /// H.264 parameters, which retina alone discards.
    #[test]
    fn i2_sdp_params_from_fmtp_with_trailing_semicolon() {
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n\
             m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:track1\r\n\
             m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
             a=fmtp:96 packetization-mode=1;profile-level-id=64001E;sprop-parameter-sets={SPROP};\r\n\
             a=control:track2\r\n"
        );
        // retina alone: the line is dropped.
        let strict = retina::codec::Depacketizer::new(
            "video",
            "h264",
            90_000,
            None,
            Some(&format!(
                "packetization-mode=1;profile-level-id=64001E;sprop-parameter-sets={SPROP};"
            )),
        )
        .unwrap();
        assert!(strict.parameters().is_none());
        let p = sdp_params(sdp.as_bytes(), "h264", Some("rtsp://cam/live/track2")).unwrap();
        assert_eq!(p.codec, Codec::H264);
        assert!(p.width > 0 && p.height > 0, "{}x{}", p.width, p.height);
        assert!(p.rfc6381_codec.starts_with("avc1."), "{}", p.rfc6381_codec);
        // No video section with that encoding: nothing.
        assert!(sdp_params(sdp.as_bytes(), "h265", None).is_none());
    }

    /// D1: access units without a picture (parameter sets or SEI only) are recognised.
    #[test]
    fn d1_access_unit_without_picture_is_recognised() {
        let nal = |b: &[u8]| {
            let mut v = (b.len() as u32).to_be_bytes().to_vec();
            v.extend_from_slice(b);
            v
        };
        let sps_pps = [nal(&[0x67, 1, 2]), nal(&[0x68, 3])].concat();
        assert!(!has_picture(Codec::H264, &sps_pps));
        assert!(has_picture(
            Codec::H264,
            &[sps_pps.clone(), nal(&[0x65, 0x88])].concat()
        ));
        assert!(has_picture(Codec::H264, &nal(&[0x41, 0x9a])));
        // H.265: VPS (32) and SEI (39) only; then a TRAIL_R (1) slice.
        let hdr = |t: u8| [t << 1, 1];
        assert!(!has_picture(
            Codec::H265,
            &[nal(&hdr(32)), nal(&hdr(39))].concat()
        ));
        assert!(has_picture(Codec::H265, &nal(&hdr(1))));
        assert!(!has_picture(Codec::H264, &[]));
    }

    /// I2: H.265 parameter sets (VPS/SPS/PPS) in the SDP, with spaces and a trailing `;`.
    #[test]
    fn i2_sdp_params_h265_in_sdp() {
        let sdp = "v=0\r\nm=video 0 RTP/AVP 97\r\na=rtpmap:97 H265/90000\r\n\
             a=fmtp:97 profile-id=1; sprop-vps=QAEMAf//AWAAAAMAsAAAAwAAAwBarAwAAAMABAAAAwAyqA==; \
             sprop-sps=QgEBAWAAAAMAsAAAAwAAAwBaoAWCAeFja5JFL83BQYFBAAADAAEAAAMADKE=; sprop-pps=RAHA8saNA7NA;\r\n";
        let p = sdp_params(sdp.as_bytes(), "h265", None).unwrap();
        assert_eq!(p.codec, Codec::H265);
        assert!(p.rfc6381_codec.starts_with("hvc1."), "{}", p.rfc6381_codec);
    }
}
