//! Recorded footage over HTTP: `view.mp4` (a virtual progressive MP4 served with `Range` and
//! `ETag`, never written to disk), thumbnails (one decoded frame, cached) and export requests.
//! Every read is registered in the ledger before the first byte is read (E2, fail closed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use custos_core::access::act;
use custos_core::{Error, ErrorKind, Time90k};
use custos_footage::read::ViewMp4;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{RangeQuery, TimeRange, parse_time, stream_of};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, bad_request};
use crate::state::AppState;

/// How long a laid-out view is reused for the same viewer (a player issues many range
/// requests for one playback; they are one registered access).
const VIEW_TTL: Duration = Duration::from_secs(300);
const CHUNK: usize = 256 * 1024;

type ViewKey = (String, i64, i64, i64);

#[derive(Default)]
pub struct ViewCache(Mutex<HashMap<ViewKey, (Instant, Arc<ViewMp4>)>>);

impl ViewCache {
    fn get(&self, k: &ViewKey) -> Option<Arc<ViewMp4>> {
        let mut m = self.0.lock().expect("view cache");
        m.retain(|_, (t, _)| t.elapsed() < VIEW_TTL);
        m.get(k).map(|(_, v)| v.clone())
    }
    fn put(&self, k: ViewKey, v: Arc<ViewMp4>) {
        self.0
            .lock()
            .expect("view cache")
            .insert(k, (Instant::now(), v));
    }
}

/// Lays out (or reuses) the view, registering the access first.
#[allow(clippy::too_many_arguments)]
async fn view_for(
    st: &AppState,
    caller: &Caller,
    camera: &str,
    stream: &custos_store::Stream,
    from: Time90k,
    to: Time90k,
    action: custos_ledger::Action,
    purpose: Option<String>,
) -> ApiResult<Arc<ViewMp4>> {
    let key = (caller.name.clone(), stream.id, from.0, to.0);
    let cacheable = action == custos_ledger::Action::Playback;
    if cacheable && let Some(v) = st.views.get(&key) {
        return Ok(v);
    }
    let reg = st
        .register(
            caller,
            action,
            format!("camera/{camera}/{}", stream.kind.as_str()),
            purpose,
            serde_json::json!({ "camera": camera, "stream": stream.kind.as_str(),
                "from": from.to_rfc3339(), "to": to.to_rfc3339(), "via": "http" }),
        )
        .await?;
    let v = Arc::new(
        custos_footage::read::view_mp4(&reg, &st.store, &st.data, stream, from, to).await?,
    );
    if cacheable {
        st.views.put(key, v.clone());
    }
    Ok(v)
}

/// Parses a single `bytes=` range against `len`. `Ok(None)`: no (usable) Range header.
fn parse_range(h: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(v) = h.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: serve the whole representation (allowed by RFC 9110).
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let r = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let s: u64 = a.parse().map_err(|_| ())?;
        let e: u64 = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1))
        };
        (s, e)
    };
    if r.0 >= len || r.0 > r.1 {
        return Err(());
    }
    Ok(Some(r))
}

/// Streams `[start, end]` of the view in chunks read on the blocking pool.
fn body_of(v: Arc<ViewMp4>, start: u64, end: u64) -> Body {
    let s = futures::stream::unfold(start, move |pos| {
        let v = v.clone();
        async move {
            if pos > end {
                return None;
            }
            let n = ((end - pos + 1) as usize).min(CHUNK);
            let r = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; n];
                v.read_at(pos, &mut buf).map(|got| {
                    buf.truncate(got);
                    buf
                })
            })
            .await;
            match r {
                Ok(Ok(buf)) if !buf.is_empty() => {
                    let next = pos + buf.len() as u64;
                    Some((Ok::<Bytes, std::io::Error>(Bytes::from(buf)), next))
                }
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), end + 1)),
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), end + 1)),
            }
        }
    });
    Body::from_stream(s)
}

pub fn serve_view(v: Arc<ViewMp4>, headers: &HeaderMap, filename: Option<&str>) -> Response {
    let len = v.len();
    let etag = v.etag().to_owned();
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    // If-Range with a different validator: send everything.
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|h| h.to_str().ok())
        .is_none_or(|h| h.trim() == etag);
    let range = if if_range_ok {
        parse_range(headers, len)
    } else {
        Ok(None)
    };
    let mut b = Response::builder()
        .header(header::CONTENT_TYPE, "video/mp4")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "private, max-age=300");
    if let Some(f) = filename {
        b = b.header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{f}\""),
        );
    }
    match range {
        Err(()) => Response::builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .body(Body::empty())
            .expect("response"),
        Ok(None) => b
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, len)
            .body(if len == 0 {
                Body::empty()
            } else {
                body_of(v, 0, len - 1)
            })
            .expect("response"),
        Ok(Some((s, e))) => b
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes {s}-{e}/{len}"))
            .header(header::CONTENT_LENGTH, e - s + 1)
            .body(body_of(v, s, e))
            .expect("response"),
    }
}

/// Recorded footage of [from, to) as one MP4 (HTTP Range and ETag honoured). Registered as a
/// playback before any byte is read (E2).
#[utoipa::path(get, path = "/api/cameras/{name}/view.mp4", tag = "playback", params(("name" = String, Path), RangeQuery),
    responses((status = 200, content_type = "video/mp4", description = "the footage"), (status = 206, description = "a byte range"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn view(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    q: TimeRange,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (from, to) = (q.from, q.to);
    let (_permit, request) = st
        .authorize_footage::<act::Playback>(&caller, &name, from, to)
        .await?;
    // C1: footage of a system in use but not accepted is not served.
    st.gate_camera_live(&name).await?;
    let stream = stream_of(&st, &name, q.stream.as_deref()).await?;
    let v = view_for(
        &st,
        &caller,
        &name,
        &stream,
        from,
        to,
        custos_ledger::Action::Playback,
        request.map(|id| format!("footage request {id}")),
    )
    .await?;
    Ok(serve_view(v, &headers, None))
}

#[derive(Deserialize, IntoParams)]
pub struct ThumbQuery {
    /// The moment, RFC 3339; the picture is the frame shown at that time.
    pub at: String,
    /// Width in pixels (16–1920, default 160).
    pub width: Option<u32>,
    pub stream: Option<String>,
}

#[derive(Default)]
pub struct ThumbCache(Mutex<HashMap<(i64, i64, u32), Bytes>>);

const THUMB_CACHE_MAX: usize = 4096;

/// A JPEG of the picture at `at` (decoded with ffmpeg, cached). Registered as a playback (E2).
#[utoipa::path(get, path = "/api/cameras/{name}/thumbnail.jpg", tag = "playback", params(("name" = String, Path), ThumbQuery),
    responses((status = 200, content_type = "image/jpeg", description = "the picture"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn thumbnail(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<ThumbQuery>,
) -> ApiResult<Response> {
    let at = parse_time("at", &q.at)?;
    st.authorize_footage::<act::Playback>(&caller, &name, at, Time90k(at.0 + 9_000))
        .await?;
    // C1: footage of a system in use but not accepted is not served.
    st.gate_camera_live(&name).await?;
    let width = q.width.unwrap_or(160).clamp(16, 1920);
    let stream = stream_of(&st, &name, q.stream.as_deref()).await?;
    // One picture per second is plenty for a timeline.
    let at = Time90k(at.0 - at.0.rem_euclid(90_000));
    let key = (stream.id, at.0, width);
    let cached = st.thumbs.0.lock().expect("thumbs").get(&key).cloned();
    let jpeg = match cached {
        Some(j) => {
            // Still a read of footage: registered, even when served from the cache.
            st.register(
                &caller,
                custos_ledger::Action::Playback,
                format!("camera/{name}/{}", stream.kind.as_str()),
                None,
                serde_json::json!({"thumbnail": at.to_rfc3339()}),
            )
            .await?;
            j
        }
        None => {
            let v = view_for(
                &st,
                &caller,
                &name,
                &stream,
                at,
                Time90k(at.0 + 9_000),
                custos_ledger::Action::Playback,
                None,
            )
            .await?;
            let j = decode_jpeg(v, width).await?;
            let mut m = st.thumbs.0.lock().expect("thumbs");
            if m.len() >= THUMB_CACHE_MAX {
                m.clear();
            }
            m.insert(key, j.clone());
            j
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        jpeg,
    )
        .into_response())
}

/// Decodes the first presented frame of `v` to a JPEG `width` wide with the ffmpeg program.
async fn decode_jpeg(v: Arc<ViewMp4>, width: u32) -> ApiResult<Bytes> {
    let mp4 = tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; v.len() as usize];
        v.read_at(0, &mut buf).map(|_| buf)
    })
    .await
    .map_err(|e| ApiError(Error::new(ErrorKind::Internal, e.to_string())))??;
    let dir = tempdir()?;
    let input = dir.join("in.mp4");
    tokio::fs::write(&input, &mp4)
        .await
        .map_err(|e| Error::io("writing a thumbnail input", e))?;
    let out = tokio::time::timeout(
        Duration::from_secs(15),
        tokio::process::Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-i"])
            .arg(&input)
            .args([
                "-frames:v",
                "1",
                "-vf",
                &format!("scale={width}:-2"),
                "-q:v",
                "5",
                "-f",
                "image2",
                "-c:v",
                "mjpeg",
                "pipe:1",
            ])
            .kill_on_drop(true)
            .output(),
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    let out = out
        .map_err(|_| {
            ApiError(Error::new(
                ErrorKind::Unavailable,
                "decoding the thumbnail took too long",
            ))
        })?
        .map_err(|e| {
            ApiError(Error::io(
                "running ffmpeg for a thumbnail (install the Debian package ffmpeg)",
                e,
            ))
        })?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(ApiError(Error::new(
            ErrorKind::DataLoss,
            format!(
                "the footage could not be decoded: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )));
    }
    Ok(Bytes::from(out.stdout))
}

fn tempdir() -> ApiResult<std::path::PathBuf> {
    let mut r = [0u8; 8];
    getrandom(&mut r);
    let d = std::env::temp_dir().join(format!("custos-thumb-{}", hex::encode(r)));
    std::fs::create_dir_all(&d).map_err(|e| Error::io("creating a temporary directory", e))?;
    Ok(d)
}

pub fn getrandom(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random source");
}

#[derive(Deserialize, ToSchema)]
pub struct ExportRequest {
    pub camera: String,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339 (exclusive).
    pub to: String,
    /// Why: case number, legal basis (registered in the ledger).
    pub purpose: String,
    /// `main` (default) or `sub`.
    pub stream: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportTicket {
    pub id: String,
    /// Where to download the MP4 (same account only, for 1 hour).
    pub url: String,
    pub bytes: u64,
}

pub struct ExportJob {
    by: String,
    camera: String,
    view: Arc<ViewMp4>,
    created: Instant,
    /// Made under a footage request (H2): the download re-checks that the request still
    /// covers this range (it may have been closed or have expired since).
    range: Option<(Time90k, Time90k)>,
}

const EXPORT_TTL: Duration = Duration::from_secs(3600);

/// Request an export of [from, to) (E1 `export`; registered with its purpose, E2).
#[utoipa::path(post, path = "/api/exports", tag = "playback", request_body = ExportRequest,
    responses((status = 200, body = ExportTicket), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_export(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<ExportRequest>,
) -> ApiResult<Json<ExportTicket>> {
    let (from, to) = TimeRange::parse(&req.from, &req.to)?;
    let (_permit, request) = st
        .authorize_footage::<act::Export>(&caller, &req.camera, from, to)
        .await?;
    // C1: footage of a system in use but not accepted is not served.
    st.gate_camera_live(&req.camera).await?;
    if req.purpose.trim().is_empty() {
        return Err(bad_request(
            "an export needs a purpose (case number or legal basis)",
        ));
    }
    let stream = stream_of(&st, &req.camera, req.stream.as_deref()).await?;
    let purpose = match request {
        Some(id) => format!("{} (footage request {id})", req.purpose),
        None => req.purpose.clone(),
    };
    let view = view_for(
        &st,
        &caller,
        &req.camera,
        &stream,
        from,
        to,
        custos_ledger::Action::Export,
        Some(purpose),
    )
    .await?;
    let mut r = [0u8; 16];
    getrandom(&mut r);
    let id = hex::encode(r);
    let bytes = view.len();
    let mut jobs = st.exports.lock().expect("exports");
    jobs.retain(|_, j| j.created.elapsed() < EXPORT_TTL);
    jobs.insert(
        id.clone(),
        ExportJob {
            by: caller.name.clone(),
            camera: req.camera.clone(),
            view,
            created: Instant::now(),
            range: request.map(|_| (from, to)),
        },
    );
    Ok(Json(ExportTicket {
        url: format!("/api/exports/{id}/file"),
        id,
        bytes,
    }))
}

/// Download an export made by the same account.
#[utoipa::path(get, path = "/api/exports/{id}/file", tag = "playback", params(("id" = String, Path)),
    responses((status = 200, content_type = "video/mp4", description = "the export"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_file(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (view, camera, range) = {
        let jobs = st.exports.lock().expect("exports");
        match jobs.get(&id) {
            Some(j) if j.by == caller.name && j.created.elapsed() < EXPORT_TTL => {
                (j.view.clone(), j.camera.clone(), j.range)
            }
            _ => {
                return Err(ApiError(Error::new(
                    ErrorKind::NotFound,
                    "no such export for this account (exports are kept for 1 hour); request it again",
                )));
            }
        }
    };
    if let Some((from, to)) = range {
        st.authorize_footage::<act::Export>(&caller, &camera, from, to)
            .await?;
    }
    let name = format!("{camera}-{id}.mp4");
    Ok(serve_view(view, &headers, Some(&name)))
}

/// Byte ranges `[start, end)` of a segment.
type Ranges = Vec<(u64, u64)>;

/// Byte ranges of segments a viewer may fetch for HLS: granted when a registered playlist
/// names them.
#[derive(Default)]
pub struct HlsGrants(Mutex<HashMap<(String, i64), (Instant, Ranges)>>);

impl HlsGrants {
    /// Lets `user` read, for a while, the byte ranges `[start, end)` of each segment that a
    /// playlist registered for them named (the init part and the fragments inside the
    /// registered time range; nothing beyond it).
    fn grant(&self, user: &str, ranges: HashMap<i64, Vec<(u64, u64)>>) {
        let mut m = self.0.lock().expect("hls grants");
        m.retain(|_, (t, _)| t.elapsed() < VIEW_TTL);
        for (id, mut r) in ranges {
            let e = m
                .entry((user.to_owned(), id))
                .or_insert_with(|| (Instant::now(), Vec::new()));
            e.0 = Instant::now();
            e.1.append(&mut r);
            e.1.sort_unstable();
            // Merge touching ranges.
            let mut merged: Vec<(u64, u64)> = Vec::new();
            for (a, b) in e.1.drain(..) {
                match merged.last_mut() {
                    Some(l) if a <= l.1 => l.1 = l.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            e.1 = merged;
        }
    }

    /// Whether `user` may read bytes `[a, b]` (inclusive) of segment `id`; `None`: no grant.
    fn allowed(&self, user: &str, id: i64, a: u64, b: u64) -> Option<bool> {
        let m = self.0.lock().expect("hls grants");
        let (t, r) = m.get(&(user.to_owned(), id))?;
        if t.elapsed() >= VIEW_TTL {
            return None;
        }
        Some(r.iter().any(|&(s, e)| s <= a && b < e))
    }
}

/// The byte ranges of each segment a playlist names (`#EXT-X-MAP` and `#EXT-X-BYTERANGE`).
fn playlist_ranges(pl: &str) -> HashMap<i64, Vec<(u64, u64)>> {
    let id_of = |u: &str| {
        u.rsplit('/')
            .next()
            .and_then(|f| f.strip_suffix(".mp4"))
            .and_then(|n| n.parse::<i64>().ok())
    };
    let range = |r: &str| {
        let (len, off) = r.split_once('@')?;
        let (len, off): (u64, u64) = (len.parse().ok()?, off.parse().ok()?);
        Some((off, off + len))
    };
    let mut out: HashMap<i64, Vec<(u64, u64)>> = HashMap::new();
    let mut pending = None;
    for l in pl.lines() {
        if let Some(m) = l.strip_prefix("#EXT-X-MAP:URI=\"") {
            if let Some((u, rest)) = m.split_once('"')
                && let (Some(id), Some(r)) = (
                    id_of(u),
                    rest.split("BYTERANGE=\"")
                        .nth(1)
                        .and_then(|x| x.split('"').next())
                        .and_then(range),
                )
            {
                out.entry(id).or_default().push(r);
            }
        } else if let Some(r) = l.strip_prefix("#EXT-X-BYTERANGE:") {
            pending = range(r);
        } else if !l.starts_with('#')
            && !l.is_empty()
            && let (Some(id), Some(r)) = (id_of(l), pending.take())
        {
            out.entry(id).or_default().push(r);
        }
    }
    out
}

/// HLS (fMP4, byte ranges) of [from, to) for scrubbing players. Registered as a playback
/// (E2); the segment URIs it names are then readable by the same account for 5 minutes.
#[utoipa::path(get, path = "/api/cameras/{name}/playback.m3u8", tag = "playback", params(("name" = String, Path), RangeQuery),
    responses((status = 200, content_type = "application/vnd.apple.mpegurl", description = "the playlist"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn hls_playlist(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    q: TimeRange,
) -> ApiResult<Response> {
    let (from, to) = (q.from, q.to);
    let (_permit, request) = st
        .authorize_footage::<act::Playback>(&caller, &name, from, to)
        .await?;
    // C1: footage of a system in use but not accepted is not served.
    st.gate_camera_live(&name).await?;
    let stream = stream_of(&st, &name, q.stream.as_deref()).await?;
    let reg = st
        .register(
            &caller,
            custos_ledger::Action::Playback,
            format!("camera/{name}/{}", stream.kind.as_str()),
            request.map(|id| format!("footage request {id}")),
            serde_json::json!({ "camera": name, "stream": stream.kind.as_str(),
                "from": from.to_rfc3339(), "to": to.to_rfc3339(), "via": "hls" }),
        )
        .await?;
    let cam = name.clone();
    let uri = move |s: &custos_store::Segment| format!("/api/cameras/{cam}/segments/{}.mp4", s.id);
    let pl = custos_footage::read::hls_playlist(&reg, &st.store, &st.data, &stream, from, to, &uri)
        .await?;
    st.hls.grant(&caller.name, playlist_ranges(&pl));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.apple.mpegurl"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        pl,
    )
        .into_response())
}

/// A sealed segment file named by a playlist the caller was given (byte ranges honoured).
#[utoipa::path(get, path = "/api/cameras/{name}/segments/{id}", tag = "playback", params(("name" = String, Path), ("id" = String, Path, description = "segment id followed by .mp4")),
    responses((status = 200, content_type = "video/mp4", description = "the segment file"), (status = 206, description = "a byte range"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn hls_segment(
    State(st): State<AppState>,
    caller: Caller,
    Path((name, id)): Path<(String, String)>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    use tower::ServiceExt as _;
    st.authorize_footage_in::<act::Playback>(&caller, &name, None)
        .await?;
    // C1: footage of a system in use but not accepted is not served.
    st.gate_camera_live(&name).await?;
    let id: i64 = id
        .strip_suffix(".mp4")
        .unwrap_or(&id)
        .parse()
        .map_err(|_| bad_request(format!("{id:?} is not a segment (write <id>.mp4)")))?;
    let missing = || {
        ApiError(Error::new(
            ErrorKind::NotFound,
            format!("camera {name} has no segment {id}"),
        ))
    };
    let seg = st.store.segment(id).await.map_err(|_| missing())?;
    let cam = st.store.camera_by_name(&name).await?;
    let own = st
        .store
        .streams(cam.id)
        .await?
        .iter()
        .any(|s| s.id == seg.stream_id);
    if !own || seg.state != custos_store::SegmentState::Sealed {
        return Err(missing());
    }
    let path = st.data.abs(&seg.path);
    // Only the bytes a registered playlist named: the footage outside the registered range
    // is not served, whole files only if all of it was named.
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let (a, b) = match parse_range(req.headers(), len) {
        Ok(Some(r)) => r,
        _ => (0, len.saturating_sub(1)),
    };
    match st.hls.allowed(&caller.name, id, a, b) {
        None => {
            return Err(ApiError(Error::new(
                ErrorKind::PermissionDenied,
                "this segment was not named by a playlist registered for you; request the playlist first (E2)",
            )));
        }
        Some(false) => {
            return Err(ApiError(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "bytes {a}-{b} of this segment lie outside the time range your playlist registered; request the byte ranges the playlist names (E2)"
                ),
            )));
        }
        Some(true) => {}
    }
    let mut resp =
        tower_http::services::ServeFile::new_with_mime(path, &"video/mp4".parse().expect("mime"))
            .oneshot(req)
            .await
            .map_err(|e| ApiError(Error::new(ErrorKind::Internal, e.to_string())))?
            .map(Body::new);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(resp)
}
