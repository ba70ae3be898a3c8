//! Cameras, recordings and health.

use axum::Json;
use axum::extract::{Path, Query, State};
use custos_core::access::Action;
use custos_core::{Error, ErrorKind, Time90k};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, bad_request};
use crate::state::AppState;

pub fn parse_time(name: &str, v: &str) -> ApiResult<Time90k> {
    let t = chrono::DateTime::parse_from_rfc3339(v).map_err(|e| {
        bad_request(format!(
            "`{name}` = {v:?} is not an RFC 3339 time ({e}); write e.g. 2026-11-27T08:00:00Z"
        ))
    })?;
    Ok(Time90k::from_system_time(
        t.with_timezone(&chrono::Utc).into(),
    ))
}

pub fn rfc3339(t: Time90k) -> String {
    t.to_rfc3339()
}

#[derive(Serialize, ToSchema)]
pub struct StreamView {
    /// `main` or `sub`.
    pub kind: String,
    pub state: String,
    pub fps: f64,
    pub bitrate_bps: f64,
    pub last_frame: Option<String>,
    pub codec: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Live view is available from this server.
    pub live: bool,
    pub completeness_24h: Option<f64>,
    pub gaps_24h: usize,
}

#[derive(Serialize, ToSchema)]
pub struct CameraView {
    pub name: String,
    /// Where the camera sits (organisation/system/area/camera).
    pub scope: String,
    pub retention_days: u32,
    pub streams: Vec<StreamView>,
    pub completeness_24h: Option<f64>,
}

/// The cameras the caller may watch or play back (others are not listed).
pub async fn visible_cameras(st: &AppState, caller: &Caller) -> ApiResult<Vec<CameraView>> {
    let now = st.clock.now_90k();
    let health = custos_footage::status::stream_health(&st.store, now).await?;
    let mut out = Vec::new();
    for cam in st.store.cameras().await? {
        let name = cam.name.to_string();
        // An unplaced camera is listed to nobody here (administrators see it in
        // GET /api/cameras/unplaced, to place it).
        let Some(placement) = st.placement_of(&name) else {
            continue;
        };
        let may = [Action::ViewLive, Action::Playback]
            .into_iter()
            .any(|a| st.may_camera(caller, a, &name));
        if !may {
            continue;
        }
        let streams: Vec<StreamView> = health
            .iter()
            .filter(|h| h.camera == name)
            .map(|h| StreamView {
                kind: h.stream.clone(),
                state: h.state.clone(),
                fps: h.fps,
                bitrate_bps: h.bitrate_bps,
                last_frame: h.last_frame.clone(),
                codec: h.codec.clone(),
                width: h.width,
                height: h.height,
                live: h
                    .stream
                    .parse()
                    .ok()
                    .is_some_and(|k| st.live_stream(&name, k).is_some()),
                completeness_24h: h.completeness_pct,
                gaps_24h: h.gaps_24h,
            })
            .collect();
        let completeness = streams
            .iter()
            .find(|s| s.kind == "main")
            .and_then(|s| s.completeness_24h);
        out.push(CameraView {
            scope: placement.scope().to_string(),
            retention_days: cam.retention.days(),
            name,
            streams,
            completeness_24h: completeness,
        });
    }
    Ok(out)
}

/// Cameras the caller may see, with stream health.
#[utoipa::path(get, path = "/api/cameras", tag = "cameras",
    responses((status = 200, body = Vec<CameraView>), (status = 401, body = ErrorBody)))]
pub async fn cameras(
    State(st): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<CameraView>>> {
    Ok(Json(visible_cameras(&st, &caller).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct RangeQuery {
    /// Start, RFC 3339.
    pub from: String,
    /// End (exclusive), RFC 3339.
    pub to: String,
    /// `main` (default) or `sub`.
    pub stream: Option<String>,
}

/// A checked `[from, to)` (and the stream) from the query string: both RFC 3339, `to` after
/// `from`; one error naming what is wrong. Handlers take this instead of parsing
/// [`RangeQuery`] themselves (which stays as the OpenAPI description of the parameters).
#[derive(Clone, Debug)]
pub struct TimeRange {
    pub from: Time90k,
    pub to: Time90k,
    pub stream: Option<String>,
}

impl TimeRange {
    /// Parses and checks `from`/`to` given in a body or query.
    pub fn parse(from: &str, to: &str) -> ApiResult<(Time90k, Time90k)> {
        let (f, t) = (parse_time("from", from)?, parse_time("to", to)?);
        if t <= f {
            return Err(bad_request(format!(
                "`to` ({to}) must be after `from` ({from})"
            )));
        }
        Ok((f, t))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for TimeRange {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        st: &S,
    ) -> Result<Self, Self::Rejection> {
        let Query(q) = Query::<RangeQuery>::from_request_parts(parts, st)
            .await
            .map_err(|e| {
                bad_request(format!(
                    "{}; give `from` and `to` as RFC 3339 times, e.g. ?from=2026-11-27T08:00:00Z&to=2026-11-27T08:10:00Z",
                    e.body_text()
                ))
            })?;
        let (from, to) = TimeRange::parse(&q.from, &q.to)?;
        Ok(TimeRange {
            from,
            to,
            stream: q.stream,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct Span {
    pub start: String,
    pub end: String,
}

#[derive(Serialize, ToSchema)]
pub struct GapView {
    pub start: String,
    /// For an ongoing gap, now.
    pub end: String,
    pub reason: String,
    /// No footage since `start` and none yet (E7).
    pub ongoing: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Bookmark {
    pub at: String,
    pub note: String,
    pub by: String,
    /// The legal hold placed with it (D6 reports).
    pub hold_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Recordings {
    /// Recorded spans (adjacent segments merged).
    pub spans: Vec<Span>,
    /// Recorded interruptions (E7).
    pub gaps: Vec<GapView>,
    pub bookmarks: Vec<Bookmark>,
}

pub async fn stream_of(
    st: &AppState,
    camera: &str,
    kind: Option<&str>,
) -> ApiResult<custos_store::Stream> {
    let kind: custos_core::camera::StreamKind = kind
        .unwrap_or("main")
        .parse()
        .map_err(|e: Error| ApiError(e))?;
    let cam = st.store.camera_by_name(camera).await?;
    Ok(st.store.stream_of(&cam, kind).await?)
}

/// Recorded spans, gaps and bookmarks of a camera in [from, to) — the timeline.
#[utoipa::path(get, path = "/api/cameras/{name}/recordings", tag = "cameras", params(("name" = String, Path), RangeQuery),
    responses((status = 200, body = Recordings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn recordings(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    q: TimeRange,
) -> ApiResult<Json<Recordings>> {
    st.authorize_camera(&caller, Action::Playback, &name)
        .await?;
    let (from, to) = (q.from, q.to);
    let stream = stream_of(&st, &name, q.stream.as_deref()).await?;
    let segs = st.store.sealed_segments(stream.id, from, to).await?;
    let mut all = segs;
    // The open segment is recorded footage too (playable once sealed).
    if let Ok(open) = st.store.open_segments().await {
        all.extend(open.into_iter().filter(|s| s.stream_id == stream.id));
    }
    let now = st.clock.now_90k();
    for s in all.iter_mut() {
        if s.end.is_none() {
            s.end = Some(now);
        }
    }
    let spans = custos_footage::read::spans(&all, custos_core::Duration90k::from_secs(2));
    let gaps = st.store.gaps(stream.id, from, to).await?;
    // D6 reports and other bookmarks of this camera in the window: police and duty notes,
    // shown only to those who may place holds on the camera (not to citizen viewers).
    let bookmarks = if st.may_camera(&caller, Action::PlaceHold, &name) {
        st.store.bookmarks(&name, from, to).await?
    } else {
        Vec::new()
    };
    Ok(Json(Recordings {
        spans: spans
            .into_iter()
            .map(|(a, b)| Span {
                start: rfc3339(a.max(from)),
                end: rfc3339(b.min(to)),
            })
            .collect(),
        gaps: gaps
            .into_iter()
            .map(|g| GapView {
                start: rfc3339(g.start),
                end: rfc3339(if g.open { now.max(g.end) } else { g.end }),
                reason: g.reason,
                ongoing: g.open,
            })
            .collect(),
        bookmarks: bookmarks
            .into_iter()
            .map(|b| Bookmark {
                at: rfc3339(b.at),
                note: b.note,
                by: b.by,
                hold_id: b.hold_id,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Disk {
    pub path: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
}

#[derive(Serialize, ToSchema)]
pub struct CapacityView {
    pub camera: String,
    pub days: f64,
    pub minimum_days: u32,
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerView {
    pub entries: u64,
    pub last_checkpoint: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HealthView {
    pub cameras: Vec<CameraView>,
    pub disk: Disk,
    pub capacity: Vec<CapacityView>,
    pub ledger: LedgerView,
    pub alarms: Vec<String>,
}

/// Health dashboard: streams, disk, capacity against each camera's minimum, ledger.
#[utoipa::path(get, path = "/api/health", tag = "cameras",
    responses((status = 200, body = HealthView), (status = 401, body = ErrorBody)))]
pub async fn health(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<HealthView>> {
    let cams = visible_cameras(&st, &caller).await?;
    let now = st.clock.now_90k();
    let cap = custos_footage::capacity::predict(
        &st.store,
        &st.data,
        &custos_footage::retention::Statvfs,
        now,
    )
    .await?;
    let names: std::collections::HashSet<&str> = cams.iter().map(|c| c.name.as_str()).collect();
    let ledger = st.journal.ledger();
    let last_checkpoint = ledger.latest_checkpoint().map(|c| {
        chrono::DateTime::from_timestamp_millis(c.checkpoint.time_unix_ms as i64)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    });
    // Alarms of cameras the caller cannot see are not shown (system alarms are).
    let ids: std::collections::HashSet<i64> = st
        .store
        .cameras()
        .await?
        .into_iter()
        .filter(|c| names.contains(c.name.as_str()))
        .map(|c| c.id)
        .collect();
    let alarms = st
        .store
        .active_alarms()
        .await?
        .into_iter()
        .filter(|a| a.camera_id.is_none_or(|id| ids.contains(&id)))
        .map(|a| format!("{}: {}", a.kind, a.message))
        .collect();
    Ok(Json(HealthView {
        disk: Disk {
            path: st.data.footage_dir().display().to_string(),
            total_bytes: cap.total_bytes,
            free_bytes: cap.free_bytes,
        },
        capacity: cap
            .cameras
            .into_iter()
            .filter(|c| names.contains(c.camera.as_str()))
            .map(|c| CapacityView {
                days: if c.days_possible.is_finite() {
                    c.days_possible
                } else {
                    1.0e6
                },
                minimum_days: c.retention_days,
                status: c.status,
                camera: c.camera,
            })
            .collect(),
        ledger: LedgerView {
            entries: ledger.len(),
            last_checkpoint,
        },
        alarms,
        cameras: cams,
    }))
}

pub fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError(Error::new(ErrorKind::NotFound, msg))
}

#[derive(Deserialize, ToSchema)]
pub struct AreaRequest {
    /// `organisation/system/area`, e.g. `local/main/gate`.
    pub area: String,
}

#[derive(Serialize, ToSchema)]
pub struct Unplaced {
    /// Cameras (and GB channels) that have no area: visible to nobody until placed.
    pub cameras: Vec<String>,
}

/// Cameras without an area, for an administrator to place (E1: a camera nobody placed is
/// visible to nobody).
#[utoipa::path(get, path = "/api/cameras/unplaced", tag = "cameras",
    responses((status = 200, body = Unplaced), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn unplaced(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<Unplaced>> {
    st.authorize_org(&caller, Action::ManageConfig).await?;
    let mut cameras: Vec<String> = placeable(&st)
        .await?
        .into_iter()
        .filter(|n| st.placement_of(n).is_none())
        .collect();
    cameras.sort();
    cameras.dedup();
    Ok(Json(Unplaced { cameras }))
}

/// Everything that can be placed: recorded cameras and GB/T 28181 devices and channels.
async fn placeable(st: &AppState) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = st
        .store
        .cameras()
        .await?
        .into_iter()
        .map(|c| c.name.to_string())
        .collect();
    for d in st.store.gb_devices().await? {
        out.extend(d.channels.into_iter().map(|c| c.id));
        out.push(d.id);
    }
    Ok(out)
}

/// Places a camera in an area (E1 scopes). Needs `manage_config` over the new area and, if
/// the camera is placed already, over its current one. Recorded in the ledger before it
/// takes effect.
#[utoipa::path(put, path = "/api/cameras/{name}/area", tag = "cameras", params(("name" = String, Path)), request_body = AreaRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_area(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(req): Json<AreaRequest>,
) -> ApiResult<axum::http::StatusCode> {
    use custos_core::access::{Classification, Resource, Scope};
    let scope: Scope = req.area.parse().map_err(ApiError)?;
    let parts: Vec<&str> = req.area.split('/').collect();
    if parts.len() != 3 {
        return Err(bad_request(format!(
            "area {:?}: write organisation/system/area, e.g. local/main/gate",
            req.area
        )));
    }
    st.authorize(
        &caller,
        Action::ManageConfig,
        &Resource::at(scope, Classification::Public),
        &format!("camera/{name}/area"),
    )
    .await?;
    if let Some(old) = st.placement_of(&name) {
        st.authorize(
            &caller,
            Action::ManageConfig,
            &Resource::camera(&old, Classification::Public),
            &format!("camera/{name}/area"),
        )
        .await?;
    }
    if !placeable(&st).await?.contains(&name) {
        return Err(crate::api::not_found(format!("unknown camera {name:?}")));
    }
    let from = st.store.camera_areas().await?.get(&name).cloned();
    let to = (
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    );
    crate::state::record_placement(&st.journal, &caller.name, &name, from.as_ref(), &to).await?;
    st.store
        .set_camera_area(
            &name,
            (&to.0, &to.1, &to.2),
            st.clock.now_90k(),
            &caller.name,
        )
        .await?;
    st.placements.write().expect("placements").0.insert(
        name.clone(),
        custos_core::access::Placement::new(&to.0, &to.1, &to.2, name.as_str()),
    );
    st.access_changed();
    Ok(axum::http::StatusCode::NO_CONTENT)
}
