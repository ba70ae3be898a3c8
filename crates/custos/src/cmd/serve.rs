//! `custos serve --data DIR [--config FILE] [--listen ADDR] [--insecure-http] [--web DIR]`:
//! records the configured cameras (as `record` does) and serves the API, live view, playback
//! and the web console over HTTPS.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use custos_core::access::Placement;
use custos_server::{LiveStream, Placements, TlsSource};

use crate::config::Config;
use crate::runtime::{Runtime, wait_for_stop};

/// Default address: loopback only, until the operator chooses to expose it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

#[derive(clap::Args)]
pub struct Args {
    /// Data directory (created if missing).
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// TOML file listing the cameras to record (optional: without it, only recorded footage
    /// is served).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub web: WebArgs,
    #[command(flatten)]
    pub sip: super::gb::SipArgs,
    /// Stop cleanly after this long (e.g. 90s); default: until Ctrl-C or SIGTERM.
    #[arg(long = "for", value_parser = super::parse_duration)]
    pub for_: Option<Duration>,
}

/// How the console is served: shared by `serve` and `demo`.
#[derive(clap::Args, Clone)]
pub struct WebArgs {
    /// Address to listen on (default 127.0.0.1:8443, or [server] listen in the config).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve plain HTTP instead of HTTPS; allowed only on a loopback address (E8/E9).
    #[arg(long)]
    pub insecure_http: bool,
    /// Directory of the built web console (default: web/dist of this source tree).
    #[arg(long)]
    pub web: Option<PathBuf>,
}

/// The console's files: `--web`, else `CUSTOS_WEB_DIR`, else web/dist beside the sources.
fn web_dir(arg: &Option<PathBuf>) -> Option<PathBuf> {
    if let Some(d) = arg {
        return Some(d.clone());
    }
    if let Ok(d) = std::env::var("CUSTOS_WEB_DIR") {
        return Some(PathBuf::from(d));
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    built.join("index.html").exists().then_some(built)
}

pub fn placement(cam: &crate::config::CameraConfig) -> Placement {
    let area = cam.area.clone().unwrap_or_else(|| {
        let (o, s, a) = custos_server::state::DEFAULT_AREA;
        format!("{o}/{s}/{a}")
    });
    let p: Vec<&str> = area.split('/').collect();
    Placement::new(p[0], p[1], p[2], cam.name.as_str())
}

/// What a person needs to log in, printed once.
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
    web: &WebArgs,
    accounts: custos_auth::Accounts,
    admin_password: Option<String>,
) -> Result<Started> {
    let listen: SocketAddr = match (web.listen, cfg.server.listen) {
        (Some(l), _) | (None, Some(l)) => l,
        _ => DEFAULT_LISTEN.parse().expect("default address"),
    };
    if web.insecure_http && !listen.ip().is_loopback() {
        return Err(custos_core::Error::new(
            custos_core::ErrorKind::InvalidArgument,
            format!(
                "--insecure-http is allowed only on a loopback address, not {listen}: \
                 footage must not cross a network unencrypted (drop the flag to use HTTPS)"
            ),
        )
        .into());
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
    // The configuration's placements go to the database (ledger entries first); every
    // camera's area is read from there (a camera nobody placed is visible to nobody).
    let placements = custos_server::state::load_placements(
        &rt.store,
        &rt.journal,
        &Placements(
            cfg.cameras
                .iter()
                .map(|c| (c.name.to_string(), placement(c)))
                .collect(),
        ),
    )
    .await?;
    let st = custos_server::state(
        rt.data.clone(),
        rt.store.clone(),
        rt.journal.clone(),
        accounts,
        live,
        placements,
        web_dir(&web.web),
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

/// Opens the accounts and creates the administrator on first start (password from
/// `CUSTOS_ADMIN_PASSWORD`, else generated and returned once).
pub async fn open_accounts(rt: &Runtime) -> Result<(custos_auth::Accounts, Option<String>)> {
    let env = std::env::var("CUSTOS_ADMIN_PASSWORD").ok();
    open_accounts_with(rt, env.as_deref()).await
}

pub async fn open_accounts_with(
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

pub fn print_started(s: &Started) {
    if let Some(f) = &s.fingerprint {
        println!("certificate SHA-256: {f}");
    }
    println!("console: {}", s.url);
    if let Some(p) = &s.admin_password {
        println!("admin password: {p}");
        println!("  (shown once: log in as admin and change it)");
    }
}

pub async fn run(a: Args) -> Result<()> {
    let cfg = match &a.config {
        Some(p) => {
            let c = Config::load(p)?;
            // A server keeps running while a camera is down; it keeps retrying.
            super::record::preflight(&c, true).await?;
            c
        }
        None => Config::empty(),
    };
    if a.config.is_none() && !a.data.exists() {
        bail!(
            "{} does not exist: give --config FILE to record cameras, or --data of an existing data directory",
            a.data.display()
        );
    }
    let mut rt = Runtime::start(&a.data, &cfg).await?;
    for l in &rt.recovery.lines {
        eprintln!("recovery: {l}");
    }
    let mut gb = super::gb::Gb::start(&a.sip, &rt).await?;
    let (accounts, admin) = open_accounts(&rt).await?;
    let started = start_server(&rt, &cfg, &a.web, accounts, admin).await?;
    if let Some(g) = &gb {
        started
            .state
            .set_gb(std::sync::Arc::new(super::gb::Console(g.platform.clone())));
    }
    print_started(&started);
    eprintln!(
        "recording {} camera(s) into {}; Ctrl-C or SIGTERM stops cleanly",
        cfg.cameras.len(),
        a.data.display()
    );
    let stop = wait_for_stop(a.for_);
    tokio::pin!(stop);
    let why = loop {
        tokio::select! {
            w = &mut stop => break w,
            ch = super::gb::Gb::next_channel(&mut gb) => {
                if let Some(g) = gb.as_mut() {
                    match g.attach(&mut rt, ch, cfg.segment_seconds).await {
                        Ok(_) => sync_live(&started.state, &rt),
                        Err(e) => eprintln!("warning: cannot record GB channel: {e:#}"),
                    }
                }
            }
        }
    };
    eprintln!("{why}: closing connections and sealing open segments…");
    started.server.stop().await;
    if let Some(g) = gb {
        g.stop().await;
    }
    let n = rt.streams.len();
    rt.stop().await?;
    eprintln!("stopped; {n} stream(s) sealed");
    Ok(())
}
