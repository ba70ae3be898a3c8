//! `custos serve --data DIR [--config FILE] [--listen ADDR] [--insecure-http] [--web DIR]`:
//! records the configured cameras (as `record` does) and serves the API, live view, playback
//! and the web console (built into the binary) over HTTPS. Under systemd it reports readiness
//! and feeds the watchdog (`crate::notify`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use custos_node::notify;
use custos_node::server::{Started, WebOptions};
use custos_node::{Node, wait_for_stop};

use crate::config::Config;

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

impl WebArgs {
    /// How the node's server listens.
    pub fn options(&self) -> WebOptions {
        WebOptions {
            listen: self.listen,
            insecure_http: self.insecure_http,
        }
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
    let mut node = Node::start(&a.data, &cfg, &a.sip.options()).await?;
    for l in &node.rt.recovery.lines {
        eprintln!("recovery: {l}");
    }
    let env_admin = std::env::var("CUSTOS_ADMIN_PASSWORD").ok();
    let (accounts, admin) =
        custos_node::server::open_accounts(&node.rt, env_admin.as_deref()).await?;
    let started = node
        .serve(&cfg, &a.web.options(), console, accounts, admin)
        .await?;
    let url = started.url.clone();
    let stop = wait_for_stop(a.for_);
    tokio::pin!(stop);
    // Polled once: the SIGTERM and Ctrl-C handlers are in place before anyone is told the
    // server is up (a SIGTERM right after the console line or READY=1 stops it cleanly).
    let early = match futures::poll!(&mut stop) {
        std::task::Poll::Ready(w) => Some(w),
        std::task::Poll::Pending => None,
    };
    print_started(started);
    eprintln!(
        "recording {} camera(s) into {}; Ctrl-C or SIGTERM stops cleanly",
        cfg.cameras.len(),
        a.data.display()
    );
    notify::ready(&format!(
        "serving {url} ; recording {} camera(s) into {}",
        cfg.cameras.len(),
        a.data.display()
    ));
    let why = match early {
        Some(w) => w,
        None => {
            node.run_until(&mut stop, notify::watchdog_interval(), |_| {
                notify::watchdog()
            })
            .await
        }
    };
    notify::stopping(&format!("{why}: sealing open segments"));
    eprintln!("{why}: closing connections and sealing open segments…");
    let n = node.stop().await?;
    eprintln!("stopped; {n} stream(s) sealed");
    Ok(())
}
