//! `custos serve --data DIR [--config FILE] [--listen ADDR] [--insecure-http] [--web DIR]`:
//! records the configured cameras (as `record` does) and serves the API, live view, playback
//! and the web console (built into the binary) over HTTPS. Under systemd it reports readiness
//! and feeds the watchdog (`crate::notify`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use custos_core::access::Placement;
use custos_server::{Console, LiveStream, Placements, TlsSource};

use crate::config::Config;
use crate::runtime::{Runtime, wait_for_stop};

/// Default address: loopback only, until the operator chooses to expose it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

#[derive(clap::Args)]
pub struct Args {
    /// Data directory (created if missing; default: `data` of the config, else custos-data).
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// TOML config: cameras to record, [server], [gb28181], data (optional: without it, only
    /// recorded footage is served). The package installs /etc/custos/custos.toml.
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
    /// Directory of a built web console to serve instead of the one built into the binary
    /// (development; also CUSTOS_WEB_DIR).
    #[arg(long)]
    pub web: Option<PathBuf>,
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
    console: Console,
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

pub async fn run(mut a: Args) -> Result<()> {
    let cfg = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::empty(),
    };
    a.data = crate::config::data_dir(&a.data, &cfg);
    crate::config::apply_gb(&mut a.sip, &cfg.gb28181)?;
    // Before anything starts: no console, no server (never a URL that serves nothing).
    let console = crate::console::choose(a.web.web.as_ref())?;
    if a.config.is_none() && !a.data.exists() {
        bail!(
            "{} does not exist: give --config FILE to record cameras, or --data of an existing data directory",
            a.data.display()
        );
    }
    if !cfg.cameras.is_empty() {
        // A server keeps running while a camera is down; it keeps retrying.
        super::record::preflight(&cfg, true).await?;
    }
    let mut rt = Runtime::start(&a.data, &cfg).await?;
    for l in &rt.recovery.lines {
        eprintln!("recovery: {l}");
    }
    let mut gb = super::gb::Gb::start(&a.sip, &rt).await?;
    let (accounts, admin) = open_accounts(&rt).await?;
    let started = start_server(&rt, &cfg, &a.web, console, accounts, admin).await?;
    if let Some(g) = &gb {
        started
            .state
            .set_gb(std::sync::Arc::new(super::gb::Console(g.platform.clone())));
    }
    let stop = wait_for_stop(a.for_);
    tokio::pin!(stop);
    // Polled once: the SIGTERM and Ctrl-C handlers are in place before anyone is told the
    // server is up (a SIGTERM right after the console line or READY=1 stops it cleanly).
    let early = match futures::poll!(&mut stop) {
        std::task::Poll::Ready(w) => Some(w),
        std::task::Poll::Pending => None,
    };
    print_started(&started);
    eprintln!(
        "recording {} camera(s) into {}; Ctrl-C or SIGTERM stops cleanly",
        cfg.cameras.len(),
        a.data.display()
    );
    crate::notify::ready(&format!(
        "serving {} ; recording {} camera(s) into {}",
        started.url,
        cfg.cameras.len(),
        a.data.display()
    ));
    let mut watchdog = crate::notify::Watchdog::from_env();
    let why = if let Some(w) = early {
        w
    } else {
        loop {
            tokio::select! {
                w = &mut stop => break w,
                _ = watchdog.tick() => {}
                ch = super::gb::Gb::next_channel(&mut gb) => {
                    if let Some(g) = gb.as_mut() {
                        match g.attach(&mut rt, ch, cfg.segment_seconds).await {
                            Ok(_) => sync_live(&started.state, &rt),
                            Err(e) => eprintln!("warning: cannot record GB channel: {e:#}"),
                        }
                    }
                }
            }
        }
    };
    crate::notify::stopping(&format!("{why}: sealing open segments"));
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
