//! `custos capacity --data DIR [--json]` (F2).

use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_footage::retention::Statvfs;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args) -> Result<()> {
    let (data, store) = super::open(&a.data).await?;
    let r = custos_footage::capacity::predict(&store, &data, &Statvfs, custos_node::now()).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!(
        "disk: {} total, {} free; footage {}; writing {}/day → holds {} days at the current rate",
        super::mib(r.total_bytes as f64),
        super::mib(r.free_bytes as f64),
        super::mib(r.footage_bytes as f64),
        super::mib(r.bytes_per_day),
        if r.days_possible.is_finite() {
            format!("{:.1}", r.days_possible)
        } else {
            "∞".into()
        }
    );
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "camera",
        "minimum (days)",
        "bitrate",
        "stored",
        "needed for minimum",
        "disk holds (days)",
        "status",
    ]);
    for c in &r.cameras {
        t.add_row([
            c.camera.clone(),
            c.retention_days.to_string(),
            super::kbps(c.bitrate_bps),
            super::mib(c.stored_bytes as f64),
            super::mib(c.needed_bytes),
            if c.days_possible.is_finite() {
                format!("{:.1}", c.days_possible)
            } else {
                "∞".into()
            },
            c.status.clone(),
        ]);
    }
    println!("{t}");
    for w in &r.warnings {
        println!("WARNING: {w}");
    }
    Ok(())
}
