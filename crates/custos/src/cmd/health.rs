//! `custos health --data DIR [--json]` (D1): per stream state, fps, bitrate, last frame,
//! reconnects, gaps and recording completeness over the last 24 hours; active alarms.

use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::{Duration90k, Time90k};

use crate::runtime::now;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// Status rows older than this mean no recorder is running.
const STALE: Duration90k = Duration90k::from_secs(10);
const WINDOW: Duration90k = Duration90k::from_secs(86_400);

#[derive(serde::Serialize)]
struct Row {
    camera: String,
    stream: String,
    state: String,
    fps: f64,
    bitrate_bps: f64,
    last_frame: Option<String>,
    reconnects: i64,
    gaps_24h: usize,
    gap_seconds_24h: f64,
    completeness_pct: Option<f64>,
    segments: usize,
    last_error: Option<String>,
}

pub async fn run(a: Args) -> Result<()> {
    let (_, store) = super::open(&a.data).await?;
    let now = now();
    let from = now - WINDOW;
    let mut rows = Vec::new();
    for cam in store.cameras().await? {
        for st in store.streams(cam.id).await? {
            let status = store.status(st.id).await?;
            let segs = store.sealed_segments(st.id, from, Time90k::MAX).await?;
            let gaps = store.gaps(st.id, from, Time90k::MAX).await?;
            let gap_secs: f64 = gaps
                .iter()
                .map(|g| (g.end.min(now) - g.start.max(from)).as_secs_f64().max(0.0))
                .sum();
            // Completeness: recorded time / time since recording began (within the window).
            let first = store.stream_segments(st.id).await?.first().map(|s| s.start);
            let completeness = first.map(|f| {
                let start = f.max(from);
                let span = (now - start).as_secs_f64();
                let rec: f64 = segs
                    .iter()
                    .map(|s| {
                        (s.end.unwrap_or(s.start).min(now) - s.start.max(start))
                            .as_secs_f64()
                            .max(0.0)
                    })
                    .sum();
                if span > 0.0 {
                    (rec / span * 100.0).min(100.0)
                } else {
                    100.0
                }
            });
            let (state, fps, br, last, rec, err) = match status {
                Some(s) if now - s.updated <= STALE => (
                    s.state,
                    s.fps,
                    s.bitrate_bps,
                    s.last_frame,
                    s.reconnects,
                    s.last_error,
                ),
                Some(s) => (
                    "not recording".to_owned(),
                    0.0,
                    0.0,
                    s.last_frame,
                    s.reconnects,
                    s.last_error,
                ),
                None => ("never recorded".to_owned(), 0.0, 0.0, None, 0, None),
            };
            rows.push(Row {
                camera: cam.name.to_string(),
                stream: st.kind.to_string(),
                state,
                fps,
                bitrate_bps: br,
                last_frame: last.map(|t| t.to_rfc3339()),
                reconnects: rec,
                gaps_24h: gaps.len(),
                gap_seconds_24h: gap_secs,
                completeness_pct: completeness,
                segments: segs.len(),
                last_error: err,
            });
        }
    }
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
