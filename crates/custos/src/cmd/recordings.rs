//! `custos recordings --data DIR --camera NAME [--stream main|sub] [--json]`

use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::Time90k;
use custos_core::camera::StreamKind;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub camera: String,
    #[arg(long, default_value = "main")]
    pub stream: StreamKind,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args) -> Result<()> {
    let (_, store) = super::open(&a.data).await?;
    let (cam, stream) = super::camera_stream(&store, &a.camera, a.stream).await?;
    let segs = store.stream_segments(stream.id).await?;
    let gaps = store.gaps(stream.id, Time90k::MIN, Time90k::MAX).await?;
    if a.json {
        let v = serde_json::json!({
            "camera": cam.name,
            "stream": stream.kind,
            "retention_days": cam.retention.days(),
            "segments": segs.iter().map(|s| serde_json::json!({
                "id": s.id, "state": s.state, "path": s.path,
                "start": s.start.to_rfc3339(), "end": s.end.map(|e| e.to_rfc3339()),
                "start_90k": s.start.0, "end_90k": s.end.map(|e| e.0),
                "duration_s": s.end.map(|e| (e - s.start).as_secs_f64()),
                "frames": s.frames, "key_frames": s.key_frames, "bytes": s.bytes, "sha256": s.sha256,
                "codec": s.codec, "width": s.width, "height": s.height, "recovered": s.recovered,
                "deleted_at": s.deleted_at.map(|t| t.to_rfc3339()), "delete_reason": s.delete_reason,
            })).collect::<Vec<_>>(),
            "gaps": gaps.iter().map(|g| serde_json::json!({
                "start": g.start.to_rfc3339(), "end": g.end.to_rfc3339(),
                "start_90k": g.start.0, "end_90k": g.end.0,
                "duration_s": (g.end - g.start).as_secs_f64(), "reason": g.reason,
                "open": g.open,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "camera {} ({} stream), retention {} days",
        cam.name,
        stream.kind,
        cam.retention.days()
    );
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "id",
        "state",
        "start (UTC)",
        "end (UTC)",
        "secs",
        "frames",
        "size",
        "sha256",
    ]);
    for s in &segs {
        t.add_row([
            s.id.to_string(),
            format!(
                "{}{}",
                s.state.label(),
                if s.recovered { " (recovered)" } else { "" }
            ),
            s.start.to_rfc3339(),
            s.end
                .map(|e| e.to_rfc3339())
                .unwrap_or_else(|| "recording…".into()),
            s.end
                .map(|e| format!("{:.1}", (e - s.start).as_secs_f64()))
                .unwrap_or_default(),
            s.frames.map(|f| f.to_string()).unwrap_or_default(),
            s.bytes.map(|b| super::mib(b as f64)).unwrap_or_default(),
            s.sha256
                .as_deref()
                .map(|h| format!("{}…", &h[..16]))
                .unwrap_or_default(),
        ]);
    }
    println!("{t}");
    if gaps.is_empty() {
        println!("no gaps");
    } else {
        let mut g = Table::new();
        g.load_preset(UTF8_FULL_CONDENSED);
        g.set_header(["gap start (UTC)", "gap end (UTC)", "secs", "reason"]);
        for x in &gaps {
            g.add_row([
                x.start.to_rfc3339(),
                if x.open {
                    format!("ongoing (seen {})", x.end.to_rfc3339())
                } else {
                    x.end.to_rfc3339()
                },
                format!("{:.1}", (x.end - x.start).as_secs_f64()),
                x.reason.clone(),
            ]);
        }
        println!("{} gap(s):\n{g}", gaps.len());
    }
    Ok(())
}
