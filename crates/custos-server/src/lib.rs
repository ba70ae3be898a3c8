//! The HTTPS server of custos: the JSON API (OpenAPI at `/api/openapi.json`), live view over
//! WebSocket, playback with HTTP Range, thumbnails, Prometheus `/metrics`, and the web console
//! (compiled into the binary, or a `web/dist` directory: [`console`]).
//!
//! It owns HTTP only: turning requests into calls of the library crates, choosing HTTP
//! statuses from error kinds (`error.rs`, the only place), and TLS. It must not decide access
//! itself — every decision is `custos_core::access::decide` — nor read footage without a
//! `Registered` from the ledger, nor store accounts (that is `custos-auth`).

pub mod admin;
pub mod api;
pub mod auth;
pub mod citizen;
pub mod clock;
pub mod console;
pub mod error;
pub mod events;
pub mod gb;
pub mod live;
pub mod metrics;
pub mod playback;
pub mod registry;
pub mod requests;
pub mod state;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use custos_core::{Error, ErrorKind, Result};
use custos_footage::{DataDir, Journal};
use custos_store::Store;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use console::Console;
pub use state::{AppState, Inner, LiveStream, Placements};
pub use tls::TlsSource;

#[derive(OpenApi)]
#[openapi(
    info(title = "custos", description = "Video management for public-safety video systems: cameras, live view, playback, export, accounts and the audit ledger."),
    tags(
        (name = "session", description = "Login, logout, duty shifts"),
        (name = "cameras", description = "Cameras, recordings, health"),
        (name = "live", description = "Live view"),
        (name = "playback", description = "Recorded footage and exports"),
        (name = "accounts", description = "Users and sessions"),
        (name = "audit", description = "The ledger"),
        (name = "registry", description = "Registry, findings, inspections, reports (A1–A5, C1–C4, J1, J2)"),
        (name = "public", description = "No account needed: the public catalogue (I1) and complaints (J3)"),
        (name = "gb28181", description = "GB/T 28181 devices, channels, PTZ and cascade"),
        (name = "citizen", description = "Citizen view-only sessions (H4): made by police, opened once by the applicant, watermarked"),
        (name = "events", description = "The event stream (Server-Sent Events)"),
        (name = "requests", description = "Footage requests of the authorities: draft, approve, release, registration form (H1–H5)"),
    )
)]
struct ApiDoc;

/// Liveness probe (no login).
#[utoipa::path(get, path = "/api/healthz", tag = "session", responses((status = 200, body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// The routes that need a caller, and the public ones, with their OpenAPI description.
pub fn routers(st: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let protected = OpenApiRouter::new()
        .routes(routes!(auth::logout))
        .routes(routes!(auth::session))
        .routes(routes!(auth::duty))
        .routes(routes!(auth::change_password))
        .routes(routes!(api::cameras))
        .routes(routes!(api::unplaced))
        .routes(routes!(api::set_area))
        .routes(routes!(api::recordings))
        .routes(routes!(api::health))
        .routes(routes!(live::live))
        .routes(routes!(playback::view))
        .routes(routes!(playback::thumbnail))
        .routes(routes!(playback::hls_playlist))
        .routes(routes!(playback::hls_segment))
        .routes(routes!(playback::create_export))
        .routes(routes!(playback::export_file))
        .routes(routes!(admin::users, admin::add_user))
        .routes(routes!(admin::disable_user))
        .routes(routes!(admin::sessions))
        .routes(routes!(admin::revoke_session))
        .routes(routes!(admin::audit))
        .routes(routes!(registry::systems))
        .routes(routes!(registry::system))
        .routes(routes!(registry::device))
        .routes(routes!(registry::transition))
        .routes(routes!(registry::list_findings))
        .routes(routes!(registry::run_scan))
        .routes(routes!(registry::advance))
        .routes(routes!(registry::checklists))
        .routes(routes!(registry::start_inspection))
        .routes(routes!(registry::answer))
        .routes(routes!(registry::finish))
        .routes(routes!(registry::system_report))
        .routes(routes!(registry::report_suspicious))
        .routes(routes!(gb::devices))
        .routes(routes!(gb::status))
        .routes(routes!(gb::ptz))
        .routes(routes!(citizen::create_session, citizen::list_sessions))
        .routes(routes!(citizen::officer_end))
        .routes(routes!(events::events))
        .routes(routes!(requests::list, requests::create))
        .routes(routes!(requests::show))
        .routes(routes!(requests::attach))
        .routes(routes!(requests::document))
        .routes(routes!(requests::submit))
        .routes(routes!(requests::approve))
        .routes(routes!(requests::reject))
        .routes(routes!(requests::release))
        .routes(routes!(requests::close))
        .routes(routes!(requests::form))
        .route_layer(axum::middleware::from_fn_with_state(
            st.clone(),
            auth::require_caller,
        ));
    let public = OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(healthz))
        // I1 and J3: the public catalogue and complaints need no account.
        .routes(routes!(registry::catalogue))
        .routes(routes!(registry::submit_complaint))
        // H4: the applicant has no account; the viewer cookie of an opened session is checked
        // by these handlers.
        .routes(routes!(citizen::open))
        .routes(routes!(citizen::current))
        .routes(routes!(citizen::applicant_end))
        .routes(routes!(citizen::watch));
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(protected)
        .merge(public)
        .split_for_parts();
    (router, api)
}

/// The whole application: API, OpenAPI document, metrics, console.
pub fn app(st: AppState) -> Router {
    let (api_router, api) = routers(st.clone());
    let spec = Arc::new(api.to_pretty_json().unwrap_or_default());
    let mut app = api_router
        .route(
            "/api/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        (*spec).clone(),
                    )
                }
            }),
        )
        .route("/metrics", get(metrics::metrics))
        .layer(axum::middleware::from_fn_with_state(
            st.clone(),
            metrics::count,
        ));
    // Unknown /api paths are JSON 404s, never the console's index.html.
    app = app.route(
        "/api/{*rest}",
        axum::routing::any(|| async {
            error::ApiError(Error::new(
                ErrorKind::NotFound,
                "no such API route; see /api/openapi.json",
            ))
        }),
    );
    match &st.web {
        Some(Console::Dir(dir)) => {
            let index = dir.join("index.html");
            app = app.fallback_service(
                tower_http::services::ServeDir::new(dir)
                    .fallback(tower_http::services::ServeFile::new(index)),
            );
        }
        Some(Console::Embedded(files)) => {
            let files = files.clone();
            app = app.fallback(
                move |method: axum::http::Method,
                      uri: axum::http::Uri,
                      headers: axum::http::HeaderMap| {
                    let files = files.clone();
                    async move { console::serve_embedded(&*files, &method, &uri, &headers) }
                },
            );
        }
        None => {}
    }
    app.layer(tower_http::trace::TraceLayer::new_for_http())
    .layer(SetResponseHeaderLayer::overriding(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("DENY"),
    ))
    .layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' wss: ws:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    ))
    .with_state(st)
}

/// What `serve` needs besides the shared state.
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `None`: plain HTTP (only allowed on loopback; the caller checks the flag).
    pub tls: Option<TlsSource>,
}

#[allow(clippy::too_many_arguments)]
pub fn state(
    data: DataDir,
    store: Store,
    journal: Journal,
    accounts: custos_auth::Accounts,
    live: HashMap<(String, custos_core::camera::StreamKind), LiveStream>,
    placements: Placements,
    web: Option<Console>,
) -> AppState {
    let requests = custos_requests::Requests::new(store.clone(), journal.clone(), data.clone());
    AppState(Arc::new(Inner {
        requests,
        data,
        store,
        journal,
        accounts,
        live: std::sync::RwLock::new(live),
        placements: std::sync::RwLock::new(placements),
        web,
        started: Instant::now(),
        metrics: Default::default(),
        views: Default::default(),
        thumbs: Default::default(),
        hls: Default::default(),
        exports: Mutex::new(HashMap::new()),
        complaints: Default::default(),
        gb: Default::default(),
        access_changed: tokio::sync::watch::Sender::new(0),
        clock: Arc::new(clock::SystemClock),
    }))
}

/// A running server; dropping the handle does not stop it — call [`Running::stop`].
pub struct Running {
    pub addr: SocketAddr,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets open requests finish for up to 5 s.
    pub async fn stop(self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        let _ = self.task.await;
    }
}

/// Binds and starts serving; returns once the socket listens.
pub async fn start(st: AppState, cfg: ServerConfig) -> Result<Running> {
    let app = app(st).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let listener = std::net::TcpListener::bind(cfg.listen).map_err(|e| {
        Error::io(
            format!(
                "cannot listen on {}: choose another --listen address or stop what uses it",
                cfg.listen
            ),
            e,
        )
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("listener", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("listener", e))?;
    let h = handle.clone();
    let task = match cfg.tls {
        Some(src) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let (cert, key) = tls::ensure_certificate(&src)?;
            let rc = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "TLS certificate {} / key {}: {e}",
                            cert.display(),
                            key.display()
                        ),
                    )
                })?;
            let server = axum_server::from_tcp_rustls(listener, rc)
                .map_err(|e| Error::io("listener", e))?
                .handle(h);
            tokio::spawn(async move { server.serve(app).await })
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|e| Error::io("listener", e))?
                .handle(h);
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    Ok(Running { addr, handle, task })
}
