//! Live view over a WebSocket (D5): a JSON text message naming the MSE type, then binary
//! messages — the init segment (`ftyp`+`moov`), then one `moof`+`mdat` per frame, starting at a
//! key frame. The server starts from the cached GOP so the first picture shows at once; a
//! viewer that falls behind skips to the next key frame instead of buffering.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use custos_core::access::Action;
use custos_core::camera::StreamKind;
use custos_core::frame::{EncodedFrame, VideoParams};
use custos_ingest::{LiveEvent, LiveHub};
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
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    st.authorize_camera(&caller, Action::ViewLive, &name)
        .await?;
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
        s.health.snapshot().state == custos_ingest::StreamState::Online
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
        if let Err(e) = run(socket, stream.hub).await {
            tracing::debug!(error = %e, camera = %name, "live viewer left");
        }
        metrics.live_viewers.dec();
    }))
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

async fn run(mut socket: WebSocket, hub: LiveHub) -> Result<(), axum::Error> {
    let mut sub = hub.subscribe();
    let mut mux: Option<Muxer> = None;
    let mut waiting_for_key = true;
    loop {
        tokio::select! {
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
