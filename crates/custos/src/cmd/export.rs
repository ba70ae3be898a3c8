//! `custos export --data DIR --camera NAME --from T --to T -o OUT.mp4` and `custos hls …`.

use std::path::PathBuf;

use anyhow::{Context, Result};
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
    /// Start, RFC 3339 (e.g. 2026-11-27T08:00:00+08:00).
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub from: Time90k,
    /// End (exclusive), RFC 3339.
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub to: Time90k,
    /// Output MP4.
    #[arg(short = 'o', long = "output")]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct HlsArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub camera: String,
    #[arg(long, default_value = "main")]
    pub stream: StreamKind,
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub from: Time90k,
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub to: Time90k,
    /// Output playlist (.m3u8); it refers to the segment files by absolute path.
    #[arg(short = 'o', long = "output")]
    pub out: PathBuf,
}

pub async fn run(a: Args) -> Result<()> {
    let (data, store) = super::open(&a.data).await?;
    let (cam, stream) = super::camera_stream(&store, &a.camera, a.stream).await?;
    let s = custos_footage::read::export_mp4(&store, &data, &stream, a.from, a.to, &a.out)
        .await
        .with_context(|| format!("camera {}", cam.name))?;
    println!(
        "wrote {} ({}, {} frames) covering {} .. {} ({:.3} s) from {} segment(s)",
        a.out.display(),
        super::mib(s.bytes as f64),
        s.frames,
        s.start,
        s.end,
        (s.end - s.start).as_secs_f64(),
        s.segments.len()
    );
    if s.start > a.from || s.end < a.to {
        println!(
            "note: footage covers only {} .. {} of the requested range",
            s.start, s.end
        );
    }
    for g in &s.gaps {
        println!(
            "gap: {} .. {} ({:.1} s, {}): no footage; the export shows the last frame before it",
            g.start,
            g.end,
            (g.end - g.start).as_secs_f64(),
            g.reason
        );
    }
    Ok(())
}

pub async fn run_hls(a: HlsArgs) -> Result<()> {
    let (data, store) = super::open(&a.data).await?;
    let (_, stream) = super::camera_stream(&store, &a.camera, a.stream).await?;
    let root = std::fs::canonicalize(data.root()).unwrap_or(data.root().to_path_buf());
    let uri = move |s: &custos_store::Segment| root.join(&s.path).display().to_string();
    let pl = custos_footage::read::hls_playlist(&store, &data, &stream, a.from, a.to, &uri).await?;
    std::fs::write(&a.out, pl).with_context(|| format!("writing {}", a.out.display()))?;
    println!("wrote {}", a.out.display());
    Ok(())
}
