//! One supervised task per camera stream: connect, play, forward frames, and on any failure
//! report an interruption and reconnect with exponential backoff (0.5 s doubling to 4 s, with
//! jitter), until shut down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_core::camera::{CameraName, StreamKind};
use custos_core::frame::{Codec, EncodedFrame, StreamEvent, VideoParams};
use custos_core::{Error, ErrorKind, Result, Time90k};
use futures::StreamExt;
use retina::client::{Credentials, PlayOptions, SessionGroup, SessionOptions, SetupOptions};
use retina::codec::{CodecItem, FrameFormat, ParametersRef};
use tokio::sync::{mpsc, watch};

use crate::health::{Health, StreamState};
use crate::timing::Timing;

/// RTSP lower transport. TCP (interleaved) is the default; some servers answer 461 to it, and
/// then UDP is configured per camera.
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
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(4);

/// Runs the stream until `shutdown` turns true. Never returns early on camera errors: they are
/// reported through `health` and as [`StreamEvent::Interrupted`].
pub async fn run_stream(
    src: Source,
    tx: mpsc::Sender<StreamEvent>,
    health: Health,
    mut shutdown: watch::Receiver<bool>,
) {
    let group = Arc::new(SessionGroup::default());
    let mut backoff = BACKOFF_START;
    loop {
        if *shutdown.borrow() {
            break;
        }
        health.set_state(StreamState::Connecting);
        let started = Instant::now();
        let r = session(&src, &tx, &health, &group, &mut shutdown).await;
        match r {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(camera = %src.camera, stream = %src.kind, error = %e, "stream interrupted");
                health.failed(e.to_string());
                if tx
                    .send(StreamEvent::Interrupted {
                        reason: e.to_string(),
                    })
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            backoff = BACKOFF_START;
        }
        let jitter = 0.9 + 0.2 * (started.elapsed().subsec_nanos() % 1000) as f64 / 1000.0;
        let wait = backoff.mul_f64(jitter);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
        if *shutdown.borrow() {
            break;
        }
        health.reconnecting();
    }
    health.set_state(StreamState::Stopped);
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
        let transport = match src.transport {
            Transport::Tcp => retina::client::Transport::Tcp(Default::default()),
            Transport::Udp => retina::client::Transport::Udp(Default::default()),
        };
        s.setup(
            video,
            SetupOptions::default()
                .transport(transport)
                .frame_format(FrameFormat::MP4),
        )
        .await
        .map_err(|e| rtsp_err("SETUP", e))?;
        let playing = s
            .play(PlayOptions::default())
            .await
            .map_err(|e| rtsp_err("PLAY", e))?;
        let demuxed = playing.demuxed().map_err(|e| rtsp_err("demuxing", e))?;
        Ok::<_, Error>((demuxed, video))
    };
    let (mut demuxed, video) = tokio::select! {
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
    loop {
        let item = tokio::select! {
            r = tokio::time::timeout(FRAME_TIMEOUT, demuxed.next()) => match r {
                Ok(Some(item)) => item.map_err(|e| rtsp_err("receiving", e))?,
                Ok(None) => return Err(Error::new(ErrorKind::Unavailable, "camera ended the session")),
                Err(_) => return Err(Error::new(ErrorKind::Unavailable, format!("no frames for {} s (camera stalled)", FRAME_TIMEOUT.as_secs()))),
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
        if params.is_none() || frame.has_new_parameters() {
            let Some(ParametersRef::Video(v)) = demuxed.streams()[video].parameters() else {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    "video frame before codec parameters (no SPS/PPS)",
                ));
            };
            params = Some(Arc::new(video_params(v)?));
            let p = params.as_ref().unwrap();
            health.params(p.codec.as_str(), p.width, p.height);
        }
        let p = params.clone().unwrap();
        let ts = frame.timestamp();
        let media = ts.elapsed() * 90_000 / ts.clock_rate().get() as i64;
        let received = Time90k::from_system_time(std::time::SystemTime::now());
        let is_key =
            frame.is_random_access_point() || (p.codec == Codec::H265 && h265_irap(frame.data()));
        let data = bytes::Bytes::from(frame.into_data());
        let waiting = !timing.has_sender_report()
            && first_frame_at.get_or_insert_with(Instant::now).elapsed() < SR_WAIT;
        held.push((media, received, is_key, data, p));
        if waiting {
            continue;
        }
        if !release(&mut held, &mut timing, tx, health).await {
            return Ok(());
        }
    }
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
