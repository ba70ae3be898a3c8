//! `custos gb devices|accept|reject` and the `--sip-*` options of `demo`/`record`/`serve`;
//! the GB/T 28181 glue itself is `custos_node::gb`.

use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_gb28181::MediaTransport;
use custos_node::gb::GbOptions;

#[derive(clap::Args, Clone, Debug)]
pub struct SipArgs {
    /// Run the GB/T 28181 platform: SIP over UDP and TCP on ADDR:PORT (port 5060 if omitted).
    #[arg(long, value_name = "ADDR:PORT")]
    pub sip_listen: Option<String>,
    /// The platform's 20-digit SIP id; its first 10 digits are the SIP domain.
    #[arg(long, default_value = custos_gb28181::DEFAULT_SIP_ID)]
    pub sip_id: String,
    /// The password devices register with (digest).
    #[arg(long, env = "CUSTOS_SIP_PASSWORD", hide_env_values = true)]
    pub sip_password: Option<String>,
    /// Devices' keepalive interval in seconds (offline after 3 missed).
    #[arg(long, default_value_t = 60)]
    pub sip_keepalive_secs: u64,
    /// How devices send media: udp, tcp-passive (they connect to us) or tcp-active.
    #[arg(long, default_value = "udp")]
    pub sip_media: MediaTransport,
    /// Register to an upper platform as a lower platform: UPPER_ID@HOST:PORT.
    #[arg(long, value_name = "ID@HOST:PORT")]
    pub sip_upper: Option<String>,
    /// The password for the upper platform.
    #[arg(long, env = "CUSTOS_SIP_UPPER_PASSWORD", hide_env_values = true)]
    pub sip_upper_password: Option<String>,
    /// An address (besides the upper platform's own) that the upper platform's INVITEs may
    /// name as the media target, e.g. its media server; repeat for several. Other targets are
    /// refused.
    #[arg(long, value_name = "IP")]
    pub sip_upper_media_ip: Vec<std::net::IpAddr>,
}

impl SipArgs {
    /// The platform's options as the node takes them.
    pub fn options(&self) -> GbOptions {
        GbOptions {
            listen: self.sip_listen.clone(),
            id: self.sip_id.clone(),
            password: self.sip_password.clone(),
            keepalive_secs: self.sip_keepalive_secs,
            media: self.sip_media,
            upper: self.sip_upper.clone(),
            upper_password: self.sip_upper_password.clone(),
            upper_media_ips: self.sip_upper_media_ip.clone(),
        }
    }
}

#[derive(clap::Args)]
pub struct DevicesArgs {
    /// Data directory.
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct RegistryArgs {
    /// Data directory.
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// The device's 20-digit code.
    pub device: String,
    /// One of its channels (default: the device itself).
    #[arg(long)]
    pub channel: Option<String>,
    /// Who decides (recorded in the ledger).
    #[arg(long)]
    pub by: String,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// GB/T 28181 devices that registered, with online state and channels.
    Devices(DevicesArgs),
    /// Accept a device (or one channel) that registered into the device registry (A2).
    Accept(RegistryArgs),
    /// Reject a device (or one channel) from the device registry (A2).
    Reject(RegistryArgs),
}

pub async fn run(c: Cmd) -> Result<()> {
    match c {
        Cmd::Devices(a) => devices(a).await,
        Cmd::Accept(a) => decide(a, "accepted").await,
        Cmd::Reject(a) => decide(a, "rejected").await,
    }
}

/// The administrator's registry decision (A2), recorded in the ledger first (E4); a running
/// node starts or stops recording within seconds.
async fn decide(a: RegistryArgs, status: &str) -> Result<()> {
    let (d, store) = super::open(&a.data).await?;
    custos_node::gb::decide(&d, &store, &a.device, a.channel.as_deref(), status, &a.by).await?;
    println!(
        "{} {status}",
        a.channel.as_deref().unwrap_or(a.device.as_str())
    );
    Ok(())
}

async fn devices(a: DevicesArgs) -> Result<()> {
    let (_d, store) = super::open(&a.data).await?;
    let devs = store.gb_devices().await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&devs)?);
        return Ok(());
    }
    if devs.is_empty() {
        println!("no GB/T 28181 device has registered");
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "device / channel",
        "name",
        "state",
        "transport",
        "address",
        "registry",
        "last seen",
    ]);
    for d in &devs {
        t.add_row([
            d.id.clone(),
            d.name.clone(),
            if d.online {
                "online".to_owned()
            } else {
                format!(
                    "offline{}",
                    d.offline_reason
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            },
            d.transport.clone(),
            d.addr.clone(),
            d.registry_status.clone(),
            d.last_seen.to_string(),
        ]);
        for c in &d.channels {
            t.add_row([
                format!("  └ {}", c.id),
                c.name.clone(),
                c.status.clone(),
                String::new(),
                c.address.clone(),
                c.registry_status.clone(),
                String::new(),
            ]);
        }
    }
    println!("{t}");
    Ok(())
}
