//! `custos record --data DIR --config FILE [--for DURATION]`

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use custos_node::{Node, wait_for_stop};

use crate::config::Config;

#[derive(clap::Args)]
pub struct Args {
    /// Data directory (created if missing; default: `data` of the config, else custos-data).
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// TOML file listing the cameras (see docs/operations.md).
    #[arg(long)]
    pub config: PathBuf,
    /// Stop cleanly after this long (e.g. 90s, 2h); default: until Ctrl-C or SIGTERM.
    #[arg(long = "for", value_parser = super::parse_duration)]
    pub for_: Option<Duration>,
    /// Start even if no camera answers now (keep retrying them).
    #[arg(long)]
    pub keep_trying: bool,
    #[command(flatten)]
    pub sip: super::gb::SipArgs,
}

/// Probes every camera once; prints one line per failure. Fails when no camera can be
/// recorded, unless `keep_trying`.
pub async fn preflight(cfg: &Config, keep_trying: bool) -> Result<()> {
    custos_node::preflight(cfg, keep_trying, |e| eprintln!("warning: {e}")).await?;
    Ok(())
}

pub async fn run(mut a: Args) -> Result<()> {
    let cfg = Config::load(&a.config)?;
    a.data = crate::config::data_dir(&a.data, &cfg);
    crate::config::apply_gb(&mut a.sip, &cfg.gb28181)?;
    #[cfg(feature = "gb28181")]
    let gb_devices = a.sip.sip_listen.is_some();
    #[cfg(not(feature = "gb28181"))]
    let gb_devices = false;
    if cfg.cameras.is_empty() && !gb_devices {
        return Err(custos_core::Error::new(
            custos_core::ErrorKind::InvalidArgument,
            format!(
                "config {}: {}",
                a.config.display(),
                crate::config::NO_CAMERA
            ),
        )
        .into());
    }
    if !cfg.cameras.is_empty() {
        preflight(&cfg, a.keep_trying).await?;
    }
    let mut node = Node::start(&a.data, &cfg, &a.sip.options()).await?;
    for l in &node.rt.recovery.lines {
        eprintln!("recovery: {l}");
    }
    eprintln!(
        "recording {} camera(s) into {}; Ctrl-C or SIGTERM stops cleanly",
        cfg.cameras.len(),
        a.data.display()
    );
    let stop = wait_for_stop(a.for_);
    tokio::pin!(stop);
    let why = node.run_until(&mut stop, None, |_| {}).await;
    eprintln!("{why}: sealing open segments…");
    let n = node.stop().await?;
    eprintln!("stopped; {n} stream(s) sealed");
    Ok(())
}
