//! Live view over a WebSocket (D5): a JSON text message naming the MSE type, then binary
//! messages — the init segment (`ftyp`+`moov`), then one `moof`+`mdat` per frame, starting at a
//! key frame. The server starts from the cached GOP so the first picture shows at once; a
//! viewer that falls behind skips to the next key frame instead of buffering.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use custos_core::access::{Action, act};
use custos_core::camera::StreamKind;
use custos_core::frame::{EncodedFrame, VideoParams};
use custos_live::{LiveEvent, LiveHub};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::not_found;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct LiveQuery {
    /// `sub` (default, for tiles) or `main` (full screen).
    pub stream: Option<String>,
}

/// Live video as fMP4 over a WebSocket (see module docs). Registered as a view (E2); allowed
/// only to staff on duty for the camera (D5).
#[utoipa::path(get, path = "/api/cameras/{name}/live", tag = "live", params(("name" = String, Path), LiveQuery),
    responses((status = 101, description = "WebSocket upgrade"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn live(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<LiveQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    check_origin(&headers)?;
    // D5 for staff; H2 for police: a released live-connection request covering now.
    let now = st.clock.now_90k();
    st.authorize_footage::<act::ViewLive>(&caller, &name, now, now)
        .await?;
    st.gate_camera_live(&name).await?;
    let want: StreamKind = q
        .stream
        .as_deref()
        .unwrap_or("sub")
        .parse()
        .map_err(ApiError)?;
    // Tiles ask for the sub stream; a camera without one (or whose sub stream is down)
    // serves its main stream.
    let candidates: Vec<(StreamKind, crate::state::LiveStream)> = [want, StreamKind::Main]
        .into_iter()
        .filter_map(|k| st.live_stream(&name, k).map(|s| (k, s)))
        .collect();
    let online = |s: &crate::state::LiveStream| {
        s.health.snapshot().state == custos_live::StreamState::Online
    };
    let (kind, stream) = candidates
        .iter()
        .find(|(_, s)| online(s))
        .or(candidates.first())
        .cloned()
        .ok_or_else(|| {
            not_found(format!(
                "camera {name} is not being recorded by this server, so it has no live view"
            ))
        })?;
    st.register(
        &caller,
        custos_ledger::Action::View,
        format!("camera/{name}/{}", kind.as_str()),
        None,
        serde_json::json!({ "camera": name, "stream": kind.as_str(), "via": "websocket" }),
    )
    .await?;
    let metrics = st.metrics.clone();
    Ok(ws.on_upgrade(move |socket| async move {
        metrics.live_viewers.inc();
        let right = Right {
            st: st.clone(),
            headers,
            camera: name.clone(),
        };
        if let Err(e) = run(socket, stream.hub, right).await {
            tracing::debug!(error = %e, camera = %name, "live viewer left");
        }
        metrics.live_viewers.dec();
    }))
}

/// How often an open live view re-checks its right (besides at once on logout, revocation,
/// disable, end of shift and password change).
pub const RECHECK: Duration = Duration::from_secs(2);

/// A browser sends `Origin` with every WebSocket upgrade; one from another site (whose page
/// would ride on the viewer's cookie) is refused. Clients that are not browsers send none.
fn check_origin(headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, h)| h.trim_end_matches('/'))
        .unwrap_or("");
    if !host.is_empty() && origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError(custos_core::Error::new(
            custos_core::ErrorKind::PermissionDenied,
            format!(
                "live view refused: the page comes from {:?}, not from this server ({host}); open the console from this server",
                origin.to_str().unwrap_or("?")
            ),
        )))
    }
}

/// What an open live view needs to re-check its right.
struct Right {
    st: AppState,
    headers: HeaderMap,
    camera: String,
}

impl Right {
    /// `Err(reason)` once the caller's session, account, duty or the camera's acceptance
    /// no longer allows live view.
    async fn check(&self) -> Result<(), String> {
        let caller = crate::auth::caller_of(&self.st, &self.headers)
            .await
            .map_err(|e| e.0.to_string())?;
        let placement = self.st.placement_of(&self.camera);
        let r = match &placement {
            Some(p) => custos_core::access::Resource::camera(
                p,
                custos_core::access::Classification::Public,
            ),
            None => return Err(format!("camera {} has no area", self.camera)),
        };
        let now = self.st.clock.now();
        match custos_core::access::required_approval(&caller.principal, Action::ViewLive, &r, now) {
            Ok(None) => {}
            Ok(Some(_)) => {
                // H2: the live-connection request must still be released and within its time.
                let t = custos_core::Time90k::from_datetime(now);
                let open = self
                    .st
                    .requests
                    .cover(
                        &caller.name,
                        custos_requests::Needed::Live,
                        &self.camera,
                        Some((t, t)),
                        t,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                if open.is_none() {
                    return Err(format!(
                        "H2: the footage request that allowed this live connection to {} has ended",
                        self.camera
                    ));
                }
            }
            Err(reason) => return Err(reason.to_string()),
        }
        self.st
            .gate_camera_live(&self.camera)
            .await
            .map_err(|e| e.0.to_string())
    }
}

/// Turns frames into per-frame fragments with a continuous decode timeline.
struct Muxer {
    params: Arc<VideoParams>,
    seq: u32,
    /// Decode time of the next fragment (90 kHz, from the first frame sent).
    next_dts: i64,
    origin_pts: i64,
    last_pts: Option<i64>,
    /// Typical frame interval, from presentation times.
    interval: i64,
}

impl Muxer {
    fn new(first: &EncodedFrame) -> Self {
        Muxer {
            params: first.params.clone(),
            seq: 0,
            next_dts: 0,
            // Room for B-frames presented before the first decoded frame's time.
            origin_pts: first.pts_90k - 9_000,
            last_pts: None,
            interval: 3_600,
        }
    }

    fn hello(&self) -> String {
        let p = &self.params;
        serde_json::json!({
            "mime": format!("video/mp4; codecs=\"{}\"", p.rfc6381_codec),
            "codec": p.rfc6381_codec,
            "width": p.width,
            "height": p.height,
        })
        .to_string()
    }

    fn init(&self) -> std::io::Result<Vec<u8>> {
        let mut v = Vec::new();
        custos_mp4::write_init_segment(
            &mut v,
            &self.params.sample_entry,
            self.params.width,
            self.params.height,
            90_000,
        )?;
        Ok(v)
    }

    fn fragment(&mut self, f: &EncodedFrame) -> std::io::Result<Vec<u8>> {
        if let Some(lp) = self.last_pts {
            let d = f.pts_90k - lp;
            if d > 0 && d < 90_000 {
                // Smoothed estimate; survives B-frame reordering.
                self.interval = (self.interval * 7 + d) / 8;
            }
        }
        if self
            .last_pts
            .is_some_and(|lp| (f.pts_90k - lp).abs() > 5 * 90_000)
        {
            // The camera's clock restarted (reconnect): continue the viewer's timeline.
            self.origin_pts = f.pts_90k - self.next_dts;
        }
        let pts = f.pts_90k - self.origin_pts;
        // Decode times follow presentation when they can (no drift), else step by one frame.
        let dts = if pts >= self.next_dts && pts - self.next_dts < 4 * self.interval.max(1) {
            pts
        } else {
            self.next_dts
        };
        let duration = self.interval.max(1);
        self.next_dts = dts + duration;
        self.last_pts = Some(f.pts_90k);
        self.seq = self.seq.wrapping_add(1);
        let mut v = Vec::with_capacity(f.data.len() + 128);
        custos_mp4::write_fragment(
            &mut v,
            self.seq,
            dts.max(0) as u64,
            &[custos_mp4::FragmentSample {
                duration: duration as u32,
                composition_offset: (pts - dts).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                is_sync: f.is_key,
                data: &f.data,
            }],
        )?;
        Ok(v)
    }
}

async fn run(mut socket: WebSocket, hub: LiveHub, right: Right) -> Result<(), axum::Error> {
    let mut sub = hub.subscribe();
    let mut mux: Option<Muxer> = None;
    let mut waiting_for_key = true;
    let mut changed = right.st.access_changed.subscribe();
    let mut tick = tokio::time::interval(RECHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(reason) = right.check().await {
                    return close_for(&mut socket, &right.camera, &reason).await;
                }
            }
            r = changed.changed() => {
                if r.is_ok() && let Err(reason) = right.check().await {
                    return close_for(&mut socket, &right.camera, &reason).await;
                }
            }
            ev = sub.next() => match ev {
                LiveEvent::Frame(f) => {
                    if waiting_for_key && !f.is_key {
                        continue;
                    }
                    let new_params = mux.as_ref().is_none_or(|m| m.params != f.params);
                    if new_params {
                        let m = Muxer::new(&f);
                        socket.send(Message::Text(m.hello().into())).await?;
                        let init = m.init().map_err(axum::Error::new)?;
                        socket.send(Message::Binary(init.into())).await?;
                        mux = Some(m);
                    }
                    waiting_for_key = false;
                    let frag = mux.as_mut().expect("muxer").fragment(&f).map_err(axum::Error::new)?;
                    socket.send(Message::Binary(frag.into())).await?;
                }
                LiveEvent::Lagged(n) => {
                    tracing::debug!(dropped = n, "live viewer fell behind; skipping to the next key frame");
                    waiting_for_key = true;
                }
                LiveEvent::Closed => {
                    let _ = socket.send(Message::Close(None)).await;
                    return Ok(());
                }
            },
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(_)) => {}
            }
        }
    }
}

/// Closes a live view whose right has gone (code 4403, the reason as text) and logs it.
async fn close_for(socket: &mut WebSocket, camera: &str, reason: &str) -> Result<(), axum::Error> {
    tracing::info!(%camera, %reason, "live view closed: the right to it has ended");
    let mut text: String = format!("live view ended: {reason}");
    // A close reason is at most 123 bytes.
    while text.len() > 123 {
        text.pop();
    }
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 4403,
            reason: text.into(),
        })))
        .await;
    Ok(())
}
