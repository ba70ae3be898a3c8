//! The HTTPS server over a running recorder, shared by `serve` and `demo`: placements from the
//! configuration to the database, the accounts (and the first administrator), TLS (files or a
//! kept self-signed certificate), and live view of every stream, GB/T 28181 channels included.

use std::collections::HashMap;
use std::net::SocketAddr;

use custos_core::access::Placement;
use custos_core::{Error, ErrorKind, Result};
use custos_server::{Console, LiveStream, Placements, TlsSource};

use crate::config::{CameraConfig, Config};
use crate::runtime::Runtime;

/// Default address: loopback only, until the operator chooses to expose it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

/// How the server listens (the binary's `--listen`, `--insecure-http`).
#[derive(Clone, Debug, Default)]
pub struct WebOptions {
    /// Address to listen on (default [`DEFAULT_LISTEN`], or `[server] listen`).
    pub listen: Option<SocketAddr>,
    /// Plain HTTP instead of HTTPS; allowed only on a loopback address (E8/E9).
    pub insecure_http: bool,
}

/// A configured camera's placement: its `area`, or the default area.
pub fn placement(cam: &CameraConfig) -> Placement {
    let area = cam.area.clone().unwrap_or_else(|| {
        let (o, s, a) = custos_server::state::DEFAULT_AREA;
        format!("{o}/{s}/{a}")
    });
    let p: Vec<&str> = area.split('/').collect();
    Placement::new(p[0], p[1], p[2], cam.name.as_str())
}

/// The configuration's placements go to the database (ledger entries first); every camera's
/// area is read from there (a camera nobody placed is visible to nobody, the upper GB/T 28181
/// platform included).
pub async fn store_placements(rt: &Runtime, cfg: &Config) -> Result<Placements> {
    custos_server::state::load_placements(
        &rt.store,
        &rt.journal,
        &Placements(
            cfg.cameras
                .iter()
                .map(|c| (c.name.to_string(), placement(c)))
                .collect(),
        ),
    )
    .await
}

/// A started server and what a person needs to log in (printed once by the caller).
pub struct Started {
    pub server: custos_server::Running,
    pub state: custos_server::AppState,
    pub url: String,
    pub admin_password: Option<String>,
    pub fingerprint: Option<String>,
}

/// Starts the HTTPS server over a running recorder.
pub async fn start_server(
    rt: &Runtime,
    cfg: &Config,
    web: &WebOptions,
    console: Console,
    accounts: custos_auth::Accounts,
    admin_password: Option<String>,
) -> Result<Started> {
    let listen: SocketAddr = match (web.listen, cfg.server.listen) {
        (Some(l), _) | (None, Some(l)) => l,
        _ => DEFAULT_LISTEN.parse().expect("default address"),
    };
    if web.insecure_http && !listen.ip().is_loopback() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "--insecure-http is allowed only on a loopback address, not {listen}: \
                 footage must not cross a network unencrypted (drop the flag to use HTTPS)"
            ),
        ));
    }
    let tls = if web.insecure_http {
        None
    } else if let (Some(cert), Some(key)) = (&cfg.server.cert, &cfg.server.key) {
        Some(TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        })
    } else {
        Some(TlsSource::SelfSigned {
            dir: rt.data.root().join("tls"),
            names: vec![listen.ip().to_string()],
        })
    };
    let fingerprint = match &tls {
        Some(src) => {
            let (cert, _) = custos_server::tls::ensure_certificate(src)?;
            Some(custos_server::tls::fingerprint(&cert)?)
        }
        None => None,
    };
    let live: HashMap<_, _> = rt
        .streams
        .iter()
        .map(|s| {
            (
                (s.camera.to_string(), s.kind),
                LiveStream {
                    hub: s.live.clone(),
                    health: s.health.clone(),
                },
            )
        })
        .collect();
    let placements = store_placements(rt, cfg).await?;
    let st = custos_server::state(
        rt.data.clone(),
        rt.store.clone(),
        rt.journal.clone(),
        accounts,
        live,
        placements,
        Some(console),
    );
    let server = custos_server::start(
        st.clone(),
        custos_server::ServerConfig {
            listen,
            tls: tls.clone(),
        },
    )
    .await?;
    let host = match server.addr {
        a if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
        a => a.to_string(),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    Ok(Started {
        url: format!("{scheme}://{host}/"),
        server,
        state: st,
        admin_password,
        fingerprint,
    })
}

/// Opens the accounts and creates the administrator on first start (with `admin_password`,
/// else a generated password returned once).
pub async fn open_accounts(
    rt: &Runtime,
    admin_password: Option<&str>,
) -> Result<(custos_auth::Accounts, Option<String>)> {
    let accounts = custos_auth::Accounts::open(&rt.store, rt.journal.clone()).await?;
    let generated = accounts.bootstrap_admin(admin_password).await?;
    Ok((accounts, generated))
}

/// Streams attached after the server started (GB/T 28181 channels) get live view too.
pub fn sync_live(st: &custos_server::AppState, rt: &Runtime) {
    for s in &rt.streams {
        st.add_live(
            s.camera.as_str(),
            s.kind,
            LiveStream {
                hub: s.live.clone(),
                health: s.health.clone(),
            },
        );
    }
}
