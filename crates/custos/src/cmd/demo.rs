//! `custos demo [--cameras N] [--data DIR] [--for DURATION]`: simulated cameras (GStreamer),
//! recorded like real ones, with a live status table.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::camera::CameraName;
use custos_core::retention::RetentionClass;
use custos_testkit::{Camsim, CamsimOptions};

use custos_node::{Node, StreamRuntime, wait_for_stop};

use crate::config::{CameraConfig, Config};

#[derive(clap::Args)]
pub struct Args {
    /// Number of simulated cameras (each with a main and a sub stream).
    #[arg(long, default_value_t = 4)]
    pub cameras: usize,
    /// Data directory.
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// Stop cleanly after this long (e.g. 90s); default: until Ctrl-C.
    #[arg(long = "for", value_parser = super::parse_duration)]
    pub for_: Option<Duration>,
    /// Codec of the simulated cameras.
    #[arg(long, default_value = "h264", value_parser = ["h264", "h265"])]
    pub codec: String,
    /// Seconds per segment (default 60).
    #[arg(long, default_value_t = 60)]
    pub segment_seconds: u32,
    #[command(flatten)]
    pub web: super::serve::WebArgs,
    #[command(flatten)]
    pub sip: super::gb::SipArgs,
}

pub fn status_table(streams: &[StreamRuntime]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "camera",
        "stream",
        "state",
        "fps",
        "bitrate",
        "frames",
        "segments",
        "gaps",
        "reconnects",
        "last error",
    ]);
    for s in streams {
        let h = s.health.snapshot();
        let st = s.stats.lock().unwrap().clone();
        t.add_row([
            s.camera.to_string(),
            s.kind.to_string(),
            h.state.as_str().to_owned(),
            format!("{:.1}", h.fps),
            super::kbps(h.bitrate_bps),
            st.frames.to_string(),
            st.segments_sealed.to_string(),
            st.gaps.to_string(),
            h.reconnects.to_string(),
            h.last_error.unwrap_or_default().chars().take(40).collect(),
        ]);
    }
    t
}

pub async fn run(a: Args) -> Result<()> {
    if a.cameras == 0 || a.cameras > 16 {
        anyhow::bail!("--cameras {} is out of range; use 1..16", a.cameras);
    }
    // Fail before anything starts if there is no console to serve.
    let console = crate::console::choose(a.web.web.as_ref())?;
    let opts = CamsimOptions {
        cameras: a.cameras,
        codec: a.codec.clone(),
        sub_streams: true,
        ..Default::default()
    };
    eprintln!("starting {} simulated camera(s) (GStreamer)…", a.cameras);
    let sim = Camsim::start(&opts).context(
        "cannot start the camera simulator; run scripts/setup (or: apt-get install python3-gi python3-gi-cairo \
         gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly \
         gstreamer1.0-plugins-bad)",
    )?;
    let cameras = (1..=a.cameras)
        .map(|i| {
            Ok(CameraConfig {
                name: CameraName::new(format!("cam{i}"))?,
                url: sim.url(i).parse()?,
                sub_url: Some(sim.sub_url(i).parse()?),
                username: None,
                password: None,
                password_env: None,
                transport: Default::default(),
                retention: if i == 1 {
                    RetentionClass::KeyTarget90d
                } else {
                    RetentionClass::Standard30d
                },
                area: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let cfg = Config {
        segment_seconds: a.segment_seconds,
        cameras,
        ..Config::empty()
    };
    let mut node = Node::start(&a.data, &cfg, &a.sip.options()).await?;
    for l in &node.rt.recovery.lines {
        eprintln!("recovery: {l}");
    }
    println!(
        "custos demo: recording {} simulated camera(s) from {}",
        a.cameras,
        sim.base_url()
    );
    println!(
        "data directory: {}",
        std::fs::canonicalize(&a.data)
            .unwrap_or(a.data.clone())
            .display()
    );
    let (accounts, logins) = custos_node::demo::demo_accounts(&node.rt).await?;
    let started = node
        .serve(&cfg, &a.web.options(), console, accounts, None)
        .await?;
    let (url, fingerprint) = (started.url.clone(), started.fingerprint.clone());
    println!("console: {url}");
    println!(
        "login: operator / {}   (watch operator on duty: live view, playback, export)",
        logins.operator
    );
    println!(
        "admin login: admin / {}   (accounts only; no footage rights: separation of duties)",
        logins.admin
    );
    if let Some(f) = &fingerprint {
        println!("certificate (self-signed) SHA-256: {f}");
        println!("  your browser will warn about it once; compare this fingerprint, then accept");
    }
    println!("command line meanwhile:");
    println!(
        "  custos recordings --data {} --camera cam1",
        a.data.display()
    );
    println!("  custos health --data {}", a.data.display());
    println!(
        "  custos export --data {} --camera cam1 --from <RFC3339> --to <RFC3339> -o cam1.mp4",
        a.data.display()
    );
    println!(
        "Ctrl-C stops cleanly{}.",
        a.for_
            .map(|d| format!(" (or after {})", humantime::format_duration(d)))
            .unwrap_or_default()
    );
    let tty = std::io::stdout().is_terminal();
    let stop = wait_for_stop(a.for_);
    tokio::pin!(stop);
    let every = if tty {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(15)
    };
    let why = node
        .run_until(&mut stop, Some(every), |rt| {
            if tty {
                print!("\x1b[2J\x1b[H");
                println!("custos demo — {} (Ctrl-C to stop)", custos_node::now());
                println!("console: {url}   login: operator / {}", logins.operator);
            }
            println!("{}", status_table(&rt.streams));
        })
        .await;
    println!("{why}: sealing open segments…");
    let streams_final = status_table(&node.rt.streams);
    let data = node.rt.data.clone();
    node.stop().await?;
    drop(sim);
    println!("{streams_final}");
    println!(
        "stopped cleanly; footage in {}",
        data.footage_dir().display()
    );
    Ok(())
}
