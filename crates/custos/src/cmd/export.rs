//! `custos export --data DIR --camera NAME --from T --to T -o OUT.mp4` and `custos hls …`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use custos_core::Time90k;
use custos_core::camera::StreamKind;

/// What to read and on whose behalf: shared by `export` and `hls`.
#[derive(clap::Args)]
pub struct Range {
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
    /// Who reads (registered in the ledger); default: the login name.
    #[arg(long)]
    pub operator: Option<String>,
    /// Why (registered in the ledger), e.g. a case number or legal basis.
    #[arg(long)]
    pub purpose: Option<String>,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub range: Range,
    /// Output MP4 (with --evidence: the bundle directory, which must not exist).
    #[arg(short = 'o', long = "output")]
    pub out: PathBuf,
    /// Evidence export (E5): a signed bundle directory with the original segments, the joined
    /// MP4, ledger proofs and a README, verifiable offline by `custos verify-bundle`.
    /// Requires --request (a released copy/retrieve footage request, H1–H5), or --recipient and
    /// --basis for the unit's own records.
    #[arg(long)]
    pub evidence: bool,
    /// A released footage request (`custos request list`): its organ is the recipient and its
    /// legal basis the basis (H5); the camera and range must lie inside it.
    #[arg(long)]
    pub request: Option<i64>,
    /// Receiving unit (police, state security or another law-enforcement organ; H5).
    #[arg(long)]
    pub recipient: Option<String>,
    /// Legal basis of the handover, e.g. the request or warrant number (H5).
    #[arg(long)]
    pub basis: Option<String>,
    /// Case number.
    #[arg(long)]
    pub case: Option<String>,
}

#[derive(clap::Args)]
pub struct HlsArgs {
    #[command(flatten)]
    pub range: Range,
    /// Output playlist (.m3u8); it refers to the segment files by absolute path.
    #[arg(short = 'o', long = "output")]
    pub out: PathBuf,
}

pub fn operator(o: &Option<String>) -> String {
    o.clone()
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "cli".into())
}

/// Registers the read in the ledger before it happens (E2); fails closed.
#[allow(clippy::too_many_arguments)]
pub fn register(
    data: &custos_footage::DataDir,
    who: &str,
    action: custos_ledger::Action,
    camera: &str,
    stream: custos_core::camera::StreamKind,
    from: Time90k,
    to: Time90k,
    purpose: Option<&str>,
    extra: serde_json::Value,
) -> Result<custos_footage::Registered> {
    let (journal, _) = custos_footage::Journal::open(data)?;
    Ok(journal.register_access(
        who,
        action,
        &format!("camera/{camera}/{stream}"),
        purpose,
        serde_json::json!({ "camera": camera, "stream": stream.as_str(), "from": from.to_rfc3339(), "to": to.to_rfc3339(), "extra": extra }),
    )?)
}

pub async fn run(a: Args) -> Result<()> {
    if a.evidence {
        return super::evidence::run_export(a).await;
    }
    let (data, store) = super::open(&a.range.data).await?;
    let (cam, stream) = super::camera_stream(&store, &a.range.camera, a.range.stream).await?;
    let access = register(
        &data,
        &operator(&a.range.operator),
        custos_ledger::Action::Export,
        cam.name.as_str(),
        stream.kind,
        a.range.from,
        a.range.to,
        a.range.purpose.as_deref(),
        serde_json::json!({ "output": a.out.display().to_string(), "recipient": a.recipient, "basis": a.basis, "case": a.case }),
    )?;
    let s = custos_footage::read::export_mp4(
        &access,
        &store,
        &data,
        &stream,
        a.range.from,
        a.range.to,
        &a.out,
    )
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
    if s.start > a.range.from || s.end < a.range.to {
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
    let (data, store) = super::open(&a.range.data).await?;
    let (cam, stream) = super::camera_stream(&store, &a.range.camera, a.range.stream).await?;
    let access = register(
        &data,
        &operator(&a.range.operator),
        custos_ledger::Action::Playback,
        cam.name.as_str(),
        stream.kind,
        a.range.from,
        a.range.to,
        a.range.purpose.as_deref(),
        serde_json::json!({ "playlist": a.out.display().to_string() }),
    )?;
    let root = std::fs::canonicalize(data.root()).unwrap_or(data.root().to_path_buf());
    let uri = move |s: &custos_store::Segment| root.join(&s.path).display().to_string();
    let pl = custos_footage::read::hls_playlist(
        &access,
        &store,
        &data,
        &stream,
        a.range.from,
        a.range.to,
        &uri,
    )
    .await?;
    std::fs::write(&a.out, pl).with_context(|| format!("writing {}", a.out.display()))?;
    println!("wrote {}", a.out.display());
    Ok(())
}
