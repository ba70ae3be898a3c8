//! GB/T 28181 devices in the console: the devices and channels that registered (from the
//! store), the running platform's status and cascade, and PTZ control of a channel.
//!
//! The platform itself lives in `custos-gb28181`; this module reaches the running one only
//! through [`GbControl`], which the binary installs with [`AppState::set_gb`] once the platform
//! has started (the server does not depend on the GB crate). Addresses and coordinates of
//! devices are confidential basic information (A3): shown only to callers with
//! `read_basic_info`, and each such read is registered in the ledger first (E2).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use custos_core::access::Action;
use custos_core::compliance::DeviceCode;
use custos_core::{Error, ErrorKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, bad_request};
use crate::state::AppState;

/// The running platform's state, as the console shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GbStatus {
    /// The platform's 20-digit SIP id.
    pub id: String,
    /// The SIP address it listens on (UDP and TCP).
    pub listen: String,
    pub devices: usize,
    pub online: usize,
    pub channels: usize,
    pub media_sessions: usize,
    /// Registration to an upper platform, if configured.
    pub cascade: Option<CascadeStatus>,
    /// What the platform refused since it started, by reason (also in `/metrics`).
    pub refused: GbRefused,
}

/// Counts of refused GB/T 28181 traffic since start.
#[derive(Clone, Copy, Debug, Default, Serialize, ToSchema)]
pub struct GbRefused {
    /// REGISTERs with a bad device code, a wrong password or another device's name.
    pub bad_registration: u64,
    /// Requests naming a device (or the upper platform) from another address than its
    /// authenticated registration (spoofing).
    pub wrong_source: u64,
    /// Requests from a device that is not (or no longer) registered.
    pub unregistered: u64,
    /// REGISTERs with a stale, reused or foreign nonce (replays).
    pub stale_nonce: u64,
    /// Upper-platform INVITEs naming a media target that is not allowed.
    pub media_target: u64,
    /// RTP packets or connections from another source or with another SSRC than negotiated.
    pub foreign_rtp: u64,
}

/// The cascade to an upper platform.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CascadeStatus {
    pub upper_id: String,
    pub addr: String,
    pub registered: bool,
    pub last_error: Option<String>,
    pub keepalives_sent: u64,
    pub catalog_answers: u64,
    /// Streams the upper platform is watching now.
    pub streams: usize,
}

/// One PTZ motion; all `false` (or `direction: stop`) stops the camera.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PtzMotion {
    pub left: bool,
    pub right: bool,
    pub up: bool,
    pub down: bool,
    pub zoom_in: bool,
    pub zoom_out: bool,
    /// Pan/tilt speed 0–255; zoom uses the upper 4 bits.
    pub speed: u8,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the console needs of the running GB/T 28181 platform.
pub trait GbControl: Send + Sync {
    fn status(&self) -> GbStatus;
    /// The last keepalive the platform received from `device` (RFC 3339), if any.
    fn last_keepalive(&self, device: &str) -> Option<String>;
    /// Sends a PTZ DeviceControl to `channel` of `device`.
    fn ptz<'a>(
        &'a self,
        device: &'a str,
        channel: &'a str,
        m: PtzMotion,
    ) -> BoxFuture<'a, custos_core::Result<()>>;
}

impl AppState {
    /// Installs the running platform (once; later calls are ignored).
    pub fn set_gb(&self, gb: Arc<dyn GbControl>) {
        let _ = self.gb.set(gb);
    }

    fn gb_control(&self) -> ApiResult<Arc<dyn GbControl>> {
        self.gb.get().cloned().ok_or_else(|| {
            ApiError(Error::new(
                ErrorKind::Unavailable,
                "this server runs no GB/T 28181 platform: start it with --sip-listen ADDR:PORT and --sip-password",
            ))
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct GbChannelView {
    /// 20-digit channel id; also the camera name when recorded.
    pub id: String,
    pub name: String,
    /// The channel it hangs under in the catalog tree (the device, a group, …).
    pub parent_id: String,
    /// `ON`/`OFF` as the device reports.
    pub status: String,
    /// A video channel (camera type code 131/132): PTZ commands may be sent.
    pub ptz: bool,
    /// Recorded by this server: live view and playback under the camera named `id`.
    pub recorded: bool,
    /// Registry (A2): `pending`, `accepted` or `rejected`.
    pub registry_status: String,
    /// The caller may watch or play back this channel's camera (the console links to it).
    pub watch: bool,
    /// The caller may steer it now (the live-view right: in scope and on duty, D5).
    pub control: bool,
    /// Confidential (A3): only with `read_basic_info`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub civil_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct GbDeviceView {
    pub id: String,
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub online: bool,
    pub offline_reason: Option<String>,
    /// Last keepalive (running platform), else the last time the device was seen; RFC 3339.
    pub last_keepalive: Option<String>,
    /// Registry (A2): `pending`, `accepted` or `rejected`.
    pub registry_status: String,
    pub transport: String,
    /// The device is itself a recorded camera (an IPC registering on its own).
    pub recorded: bool,
    /// The caller may watch or play back the device's own camera.
    pub watch: bool,
    /// Confidential (A3): the device's network address, only with `read_basic_info`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    pub channels: Vec<GbChannelView>,
}

fn may(caller: &Caller, st: &AppState, action: Action, camera: &str) -> bool {
    st.may_camera(caller, action, camera)
}

/// May see the device/channel in the list: manages or reads basic information of it, or may
/// watch or play it back.
fn may_list(caller: &Caller, st: &AppState, id: &str) -> bool {
    [
        Action::ManageConfig,
        Action::ReadBasicInfo,
        Action::ViewLive,
        Action::Playback,
    ]
    .into_iter()
    .any(|a| may(caller, st, a, id))
}

/// GB/T 28181 devices that registered, with their channels (A2 registry state, I2).
/// Addresses and coordinates only with `read_basic_info` (A3), registered in the ledger.
#[utoipa::path(get, path = "/api/gb/devices", tag = "gb28181",
    responses((status = 200, body = Vec<GbDeviceView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn devices(
    State(st): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<GbDeviceView>>> {
    let devs = st.store.gb_devices().await?;
    let recorded: HashSet<String> = st
        .store
        .cameras()
        .await?
        .into_iter()
        .map(|c| c.name.to_string())
        .collect();
    let live = st.gb.get().cloned();
    let mut out = Vec::new();
    let mut confidential: Vec<String> = Vec::new();
    for d in devs {
        let whole = may_list(&caller, &st, &d.id);
        let basic = may(&caller, &st, Action::ReadBasicInfo, &d.id);
        let mut channels = Vec::new();
        for c in d.channels {
            if !whole && !may_list(&caller, &st, &c.id) {
                continue;
            }
            let cb = may(&caller, &st, Action::ReadBasicInfo, &c.id);
            if cb {
                confidential.push(c.id.clone());
            }
            let control = may(&caller, &st, Action::ViewLive, &c.id);
            channels.push(GbChannelView {
                watch: control || may(&caller, &st, Action::Playback, &c.id),
                control,
                ptz: DeviceCode::parse(&c.id).is_ok_and(|x| x.is_camera()),
                recorded: recorded.contains(&c.id),
                address: cb.then_some(c.address),
                civil_code: cb.then_some(c.civil_code),
                longitude: if cb { c.longitude } else { None },
                latitude: if cb { c.latitude } else { None },
                id: c.id,
                name: c.name,
                parent_id: c.parent_id,
                status: c.status,
                registry_status: c.registry_status,
            });
        }
        if !whole && channels.is_empty() {
            continue;
        }
        if basic {
            confidential.push(d.id.clone());
        }
        let last_keepalive = live
            .as_ref()
            .and_then(|g| g.last_keepalive(&d.id))
            .or_else(|| (d.last_seen.0 > 0).then(|| d.last_seen.to_rfc3339()));
        out.push(GbDeviceView {
            watch: may(&caller, &st, Action::ViewLive, &d.id)
                || may(&caller, &st, Action::Playback, &d.id),
            recorded: recorded.contains(&d.id),
            addr: basic.then_some(d.addr),
            id: d.id,
            name: d.name,
            manufacturer: d.manufacturer,
            model: d.model,
            online: d.online,
            offline_reason: d.offline_reason,
            last_keepalive,
            registry_status: d.registry_status,
            transport: d.transport,
            channels,
        });
    }
    // Nothing visible: an account with rights somewhere sees an empty list; one with none at
    // all is refused, and the refusal audited.
    if out.is_empty() && !may_anything(&caller, &st).await? {
        st.authorize_org(&caller, Action::ReadBasicInfo).await?;
    }
    if !confidential.is_empty() {
        // A3: a read of confidential basic information is registered before it is shown (E2).
        st.register(
            &caller,
            custos_ledger::Action::ConfidentialRead,
            "gb28181/devices".into(),
            Some("GB/T 28181 device list with addresses".into()),
            serde_json::json!({"shown": confidential}),
        )
        .await?;
    }
    Ok(Json(out))
}

/// Whether the caller has any right the device list serves: on any placed camera or GB
/// channel, or as an administrator who places them.
async fn may_anything(caller: &Caller, st: &AppState) -> ApiResult<bool> {
    // Administrators place unplaced devices and channels.
    if may(caller, st, Action::ManageConfig, "") {
        return Ok(true);
    }
    let placed: Vec<String> = st
        .placements
        .read()
        .expect("placements")
        .0
        .keys()
        .cloned()
        .collect();
    Ok(placed.iter().any(|c| may_list(caller, st, c)))
}

/// Whether this server runs a GB/T 28181 platform, and its status.
#[derive(Serialize, ToSchema)]
pub struct GbPlatformState {
    /// `false` when the server was started without `--sip-listen`.
    pub running: bool,
    pub status: Option<GbStatus>,
}

/// The running GB/T 28181 platform: id, SIP address, device counts, cascade (I2).
#[utoipa::path(get, path = "/api/gb/status", tag = "gb28181",
    responses((status = 200, body = GbPlatformState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<GbPlatformState>> {
    if !may_anything(&caller, &st).await? {
        st.authorize_org(&caller, Action::ReadBasicInfo).await?;
    }
    let status = st.gb.get().map(|g| g.status());
    Ok(Json(GbPlatformState {
        running: status.is_some(),
        status,
    }))
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PtzDirection {
    Up,
    Down,
    Left,
    Right,
    Stop,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PtzZoom {
    In,
    Out,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PtzRequest {
    /// Pan/tilt direction; `stop` (or neither direction nor zoom) stops the camera.
    pub direction: Option<PtzDirection>,
    pub zoom: Option<PtzZoom>,
    /// 1–255 (default 128).
    pub speed: Option<u8>,
}

impl PtzRequest {
    fn motion(&self) -> PtzMotion {
        let d = self.direction;
        PtzMotion {
            left: d == Some(PtzDirection::Left),
            right: d == Some(PtzDirection::Right),
            up: d == Some(PtzDirection::Up),
            down: d == Some(PtzDirection::Down),
            zoom_in: self.zoom == Some(PtzZoom::In),
            zoom_out: self.zoom == Some(PtzZoom::Out),
            speed: self.speed.unwrap_or(128),
        }
    }
}

/// Pans, tilts or zooms a channel of a GB device (press: start; release: `stop`). Allowed to
/// whoever may watch that camera live now (D5: on duty, in scope); every command is a ledger
/// entry.
#[utoipa::path(post, path = "/api/gb/devices/{id}/channels/{ch}/ptz", tag = "gb28181",
    params(("id" = String, Path, description = "device id"), ("ch" = String, Path, description = "channel id")),
    request_body = PtzRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn ptz(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, ch)): Path<(String, String)>,
    Json(req): Json<PtzRequest>,
) -> ApiResult<axum::http::StatusCode> {
    if DeviceCode::parse(&ch).is_err() {
        return Err(bad_request(format!(
            "channel {ch:?} is not a 20-digit GB/T 28181 code"
        )));
    }
    // PTZ steers the picture being watched: the live-view right on that camera (D5).
    st.authorize_camera(&caller, Action::ViewLive, &ch).await?;
    let dev = st
        .store
        .gb_devices()
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| crate::api::not_found(format!("no GB device {id} has registered")))?;
    if ch != id && !dev.channels.iter().any(|c| c.id == ch) {
        return Err(crate::api::not_found(format!(
            "GB device {id} has no channel {ch} in its catalog"
        )));
    }
    let gb = st.gb_control()?;
    let m = req.motion();
    let entry = custos_ledger::NewEntry::new(
        &caller.name,
        custos_ledger::Action::Other("PtzControl".into()),
        format!("camera/{ch}"),
    )
    .details(serde_json::json!({"device": id, "channel": ch, "direction": req.direction, "zoom": req.zoom, "speed": m.speed}));
    let j = st.journal.clone();
    // Recorded before the camera moves; a command that cannot be recorded is not sent.
    tokio::task::spawn_blocking(move || j.record(entry))
        .await
        .map_err(|e| Error::new(ErrorKind::Unavailable, format!("ledger: {e}")))??;
    gb.ptz(&id, &ch, m).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
