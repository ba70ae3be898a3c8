//! `custos bench compliance --devices N`: generates a registry of N devices with health data
//! (`custos_registry::bench`), then times the full rule scan (`custos_registry::scan::scan`:
//! read every device, system, place, residence and staff record and apply every rule) against
//! a plain SQL scan that reads and decodes the same device rows with no rule. Prints
//! `scan N.NN s` and, last, `ratio X.X` (scan / plain scan).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use custos_core::compliance::Jurisdiction;
use custos_registry::{bench, scan};

#[derive(clap::Args)]
pub struct ComplianceArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub devices: u64,
    /// Keep the generated registry here (default: a temporary directory, removed after).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

pub async fn run(a: ComplianceArgs) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = a.data.clone().unwrap_or_else(|| tmp.path().join("data"));
    let (_, store, _) = super::registry::open_or_create(&dir).await?;
    let now = Utc::now();
    let t = Instant::now();
    let g = bench::generate(&store, a.devices, now).await?;
    println!(
        "generated {} devices, {} systems, {} places, {} residences, {} staff in {:.2} s",
        g.devices,
        g.systems,
        g.places,
        g.residences,
        g.staff,
        t.elapsed().as_secs_f64()
    );
    // Warm the page cache once so both timed passes read from memory.
    store.plain_device_scan().await?;
    let t = Instant::now();
    let (rows, _) = store.plain_device_scan().await?;
    let plain = t.elapsed().as_secs_f64();
    let j = Jurisdiction::default();
    let t = Instant::now();
    let s = scan::scan(&store, now, &j).await?;
    let secs = t.elapsed().as_secs_f64();
    let mut per_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &s.findings {
        *per_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    println!(
        "{} devices, {} findings: {}",
        s.devices,
        s.findings.len(),
        per_rule
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("plain SQL scan of {rows} rows {plain:.2} s");
    println!("scan {secs:.2} s");
    println!("ratio {:.1}", secs / plain.max(1e-9));
    store.close().await;
    Ok(())
}
