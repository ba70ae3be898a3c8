//! `custos health --data DIR [--json]` (D1): per stream state, fps, bitrate, last frame,
//! reconnects, gaps and recording completeness over the last 24 hours; active alarms.

use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use custos_node::now;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args) -> Result<()> {
    let (_, store) = super::open(&a.data).await?;
    let now = now();
    let rows = custos_footage::status::stream_health(&store, now).await?;
    let alarms = store.active_alarms().await?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "at": now.to_rfc3339(), "streams": rows, "alarms": alarms })
            )?
        );
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "camera",
        "stream",
        "state",
        "fps",
        "bitrate",
        "last frame (UTC)",
        "reconnects",
        "gaps 24h",
        "complete 24h",
        "last error",
    ]);
    for r in &rows {
        t.add_row([
            r.camera.clone(),
            r.stream.clone(),
            r.state.clone(),
            format!("{:.1}", r.fps),
            super::kbps(r.bitrate_bps),
            r.last_frame.clone().unwrap_or_default(),
            r.reconnects.to_string(),
            format!("{} ({:.0} s)", r.gaps_24h, r.gap_seconds_24h),
            r.completeness_pct
                .map(|c| format!("{c:.1}%"))
                .unwrap_or_default(),
            r.last_error
                .clone()
                .unwrap_or_default()
                .chars()
                .take(50)
                .collect(),
        ]);
    }
    println!("{t}");
    if alarms.is_empty() {
        println!("no active alarms");
    }
    for al in alarms {
        println!("ALARM {} since {}: {}", al.kind, al.raised, al.message);
    }
    Ok(())
}
