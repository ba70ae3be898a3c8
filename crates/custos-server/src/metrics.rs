//! Prometheus `/metrics`: per-stream fps, bitrate, state and reconnects, recording gaps and
//! completeness, disk space, ledger size and checkpoint lag, HTTP requests and live viewers.
//! Values are read at scrape time from the same sources the console uses.

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::state::AppState;

/// Counters kept by the server itself.
#[derive(Clone, Default)]
pub struct HttpMetrics {
    pub requests: Family<Vec<(String, String)>, prometheus_client::metrics::counter::Counter>,
    pub live_viewers: Gauge,
    /// Citizen requests with an unknown code or viewer token (label `what`: `code`, `viewer`):
    /// counted here, not in the ledger, so that nobody without a session can fill the ledger.
    pub citizen_unknown:
        Family<Vec<(String, String)>, prometheus_client::metrics::counter::Counter>,
}

/// Counts every request by route template and status class.
pub async fn count(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "other".into());
    // Only the standard methods get their own label: anyone can send any method name, and
    // each new label would be kept forever.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "CONNECT"
        | "TRACE") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let resp = next.run(req).await;
    st.metrics
        .requests
        .get_or_create(&vec![
            ("route".into(), route),
            ("method".into(), method),
            ("status".into(), resp.status().as_u16().to_string()),
        ])
        .inc();
    resp
}

fn gauge_f(reg: &mut Registry, name: &str, help: &str, values: Vec<(Vec<(String, String)>, f64)>) {
    let fam = Family::<Vec<(String, String)>, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    for (labels, v) in values {
        fam.get_or_create(&labels).set(v);
    }
    reg.register(name, help, fam);
}

/// Prometheus text format. Served without login to loopback clients (the usual scraper
/// set-up); others need an administrator's or auditor's API token.
pub async fn metrics(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Response {
    // Per-camera names and health are not for every account: off loopback, only an
    // administrator or an auditor (whose work is oversight of the whole system) may read them.
    if !peer.ip().is_loopback() {
        match crate::auth::caller_of(&st, &headers).await {
            Err(e) => return e.into_response(),
            Ok(c)
                if !c.principal.grants.iter().any(|g| {
                    matches!(
                        g.role,
                        custos_core::access::Role::Administrator
                            | custos_core::access::Role::Auditor
                    )
                }) =>
            {
                return crate::error::ApiError(custos_core::Error::new(
                    custos_core::ErrorKind::PermissionDenied,
                    "/metrics shows every camera: it needs an administrator's or auditor's API token",
                ))
                .into_response();
            }
            Ok(_) => {}
        }
    }
    let now = custos_core::Time90k::from_system_time(std::time::SystemTime::now());
    let health = custos_footage::status::stream_health(&st.store, now)
        .await
        .unwrap_or_default();
    let mut reg = Registry::with_prefix("custos");
    let lbl = |c: &str, s: &str| {
        vec![
            ("camera".to_owned(), c.to_owned()),
            ("stream".to_owned(), s.to_owned()),
        ]
    };
    gauge_f(
        &mut reg,
        "stream_fps",
        "Frames per second received",
        health
            .iter()
            .map(|h| (lbl(&h.camera, &h.stream), h.fps))
            .collect(),
    );
    gauge_f(
        &mut reg,
        "stream_bitrate_bps",
        "Bits per second received",
        health
            .iter()
            .map(|h| (lbl(&h.camera, &h.stream), h.bitrate_bps))
            .collect(),
    );
    gauge_f(
        &mut reg,
        "stream_up",
        "1 if the stream is delivering frames",
        health
            .iter()
            .map(|h| {
                (
                    lbl(&h.camera, &h.stream),
                    if h.state == "online" { 1.0 } else { 0.0 },
                )
            })
            .collect(),
    );
    gauge_f(
        &mut reg,
        "stream_reconnects",
        "Reconnects since start",
        health
            .iter()
            .map(|h| (lbl(&h.camera, &h.stream), h.reconnects as f64))
            .collect(),
    );
    gauge_f(
        &mut reg,
        "stream_gaps_24h",
        "Recording gaps in the last 24 hours",
        health
            .iter()
            .map(|h| (lbl(&h.camera, &h.stream), h.gaps_24h as f64))
            .collect(),
    );
    gauge_f(
        &mut reg,
        "stream_gap_seconds_24h",
        "Seconds without footage in the last 24 hours",
        health
            .iter()
            .map(|h| (lbl(&h.camera, &h.stream), h.gap_seconds_24h))
            .collect(),
    );
    gauge_f(
        &mut reg,
        "stream_completeness_ratio_24h",
        "Recorded share of the last 24 hours",
        health
            .iter()
            .filter_map(|h| {
                h.completeness_pct
                    .map(|c| (lbl(&h.camera, &h.stream), c / 100.0))
            })
            .collect(),
    );
    if let Ok(space) = custos_footage::retention::DiskSpace::space(
        &custos_footage::retention::Statvfs,
        &st.data.footage_dir(),
    ) {
        gauge_f(
            &mut reg,
            "disk_total_bytes",
            "Size of the footage file system",
            vec![(vec![], space.total_bytes as f64)],
        );
        gauge_f(
            &mut reg,
            "disk_free_bytes",
            "Free bytes on the footage file system",
            vec![(vec![], space.free_bytes as f64)],
        );
    }
    let ledger = st.journal.ledger();
    gauge_f(
        &mut reg,
        "ledger_entries",
        "Entries in the ledger",
        vec![(vec![], ledger.len() as f64)],
    );
    if let Some(c) = ledger.latest_checkpoint() {
        let lag = ledger.len().saturating_sub(c.checkpoint.tree_size);
        gauge_f(
            &mut reg,
            "ledger_unsigned_entries",
            "Entries not yet covered by a signed checkpoint",
            vec![(vec![], lag as f64)],
        );
        let age = chrono::Utc::now().timestamp_millis() as f64 / 1000.0
            - c.checkpoint.time_unix_ms as f64 / 1000.0;
        gauge_f(
            &mut reg,
            "ledger_checkpoint_age_seconds",
            "Seconds since the last signed checkpoint",
            vec![(vec![], age)],
        );
    }
    reg.register(
        "http_requests",
        "HTTP requests by route, method and status",
        st.metrics.requests.clone(),
    );
    reg.register(
        "live_viewers",
        "Open live-view connections",
        st.metrics.live_viewers.clone(),
    );
    reg.register(
        "citizen_unknown",
        "Citizen requests refused for an unknown code or viewer token",
        st.metrics.citizen_unknown.clone(),
    );
    if let Some(gb) = st.gb.get() {
        let r = gb.status().refused;
        let rs = |k: &str, v: u64| (vec![("reason".to_owned(), k.to_owned())], v as f64);
        gauge_f(
            &mut reg,
            "gb_refused",
            "GB/T 28181 traffic refused since start, by reason (wrong_source: spoofed device or upper platform)",
            vec![
                rs("bad_registration", r.bad_registration),
                rs("wrong_source", r.wrong_source),
                rs("unregistered", r.unregistered),
                rs("stale_nonce", r.stale_nonce),
                rs("media_target", r.media_target),
                rs("foreign_rtp", r.foreign_rtp),
            ],
        );
    }
    gauge_f(
        &mut reg,
        "uptime_seconds",
        "Seconds since the server started",
        vec![(vec![], st.started.elapsed().as_secs_f64())],
    );
    let mut out = String::new();
    if let Err(e) = encode(&mut out, &reg) {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
