//! `custos export --evidence … -o BUNDLE` and `custos verify-bundle BUNDLE [--key PUB]` (E5, H5,
//! E2). The logic is in `custos-evidence`; the format in its `FORMAT.md`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use custos_core::{Error, ErrorKind};

use super::export::Args;

/// `custos export --evidence`: recipient and legal basis are required (H5); the output is a
/// new bundle directory.
pub async fn run_export(mut a: Args) -> Result<()> {
    if let Some(id) = a.request {
        if a.recipient.is_some() || a.basis.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "--request names the recipient and the legal basis; drop --recipient/--basis",
            )
            .into());
        }
        let (data, store) = super::open(&a.range.data).await?;
        let (journal, _) = custos_footage::Journal::open(&data)?;
        let reqs = custos_requests::Requests::new(store, journal, data);
        let r = reqs.get(id).await?;
        let now = custos_core::Time90k::from_system_time(std::time::SystemTime::now());
        if !custos_requests::covers(
            &r,
            &r.created_by,
            custos_requests::Needed::Copy,
            &a.range.camera,
            a.range.from,
            a.range.to,
            now,
        ) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "H2, H5: request {id} ({}) does not cover a copy of camera {} {} .. {} now; it must be a released copy/retrieve request within its time, naming that camera and range",
                    r.state, a.range.camera, a.range.from, a.range.to
                ),
            )
            .into());
        }
        a.recipient = Some(format!("{} ({})", r.fields.organ, r.fields.organ_type.zh()));
        a.basis = Some(format!("{} — footage request {id}", r.fields.legal_basis));
        if a.case.is_none() {
            a.case = r.fields.case.clone();
        }
    }
    let req = custos_evidence::Request {
        camera: a.range.camera.clone(),
        from: a.range.from,
        to: a.range.to,
        recipient: a.recipient.clone().unwrap_or_default(),
        legal_basis: a.basis.clone().unwrap_or_default(),
        case: a.case.clone().filter(|c| !c.trim().is_empty()),
        operator: super::export::operator(&a.range.operator),
        out: a.out.clone(),
    };
    // Checked before anything is opened, registered or written.
    custos_evidence::export::validate(&req)?;
    let (data, store) = super::open(&a.range.data).await?;
    let (cam, stream) = super::camera_stream(&store, &a.range.camera, a.range.stream).await?;
    let req = custos_evidence::Request {
        camera: cam.name.as_str().to_string(),
        ..req
    };
    let s = custos_evidence::export_bundle(&store, &data, &stream, &req)
        .await
        .with_context(|| format!("evidence export of camera {}", cam.name))?;
    let m = &s.manifest;
    println!(
        "wrote evidence bundle {}: {} original segment(s), export.mp4 ({}, {} frames) covering {} .. {}",
        s.bundle.display(),
        m.segments.len(),
        super::mib(s.export.bytes as f64),
        s.export.frames,
        s.export.start,
        s.export.end
    );
    println!("recipient: {}; legal basis: {}", m.recipient, m.legal_basis);
    println!(
        "signed by key fingerprint {}; ledger entries {} (export) and {} (manifest)",
        m.key.fingerprint, m.export_entry.seq, m.manifest_entry.seq
    );
    for g in &s.export.gaps {
        println!(
            "gap: {} .. {} ({:.1} s, {}): no footage",
            g.start,
            g.end,
            (g.end - g.start).as_secs_f64(),
            g.reason
        );
    }
    println!("verify with: custos verify-bundle {}", s.bundle.display());
    Ok(())
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The operator's published public key; the bundle must be signed by it. Without it, only
    /// the bundle's internal consistency is proven: compare the printed fingerprint.
    #[arg(long)]
    pub key: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// `custos verify-bundle`: offline, no database. Exit 7 on any problem.
pub async fn run_verify(a: VerifyArgs) -> Result<()> {
    let pinned = match &a.key {
        None => None,
        Some(p) => Some(
            custos_ledger::load_verifying_key(p)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("--key {}: {e}", p.display()),
                    )
                })?
                .1,
        ),
    };
    let dir = a.bundle.clone();
    let r =
        tokio::task::spawn_blocking(move || custos_evidence::verify_bundle(&dir, pinned.as_ref()))
            .await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!("bundle:      {}", a.bundle.display());
        if let Some(m) = &r.manifest {
            println!("camera:      {} ({})", m.camera, m.stream);
            println!("range:       {} .. {}", m.from, m.to);
            println!("recipient:   {}", m.recipient);
            println!("legal basis: {}", m.legal_basis);
            if let Some(c) = &m.case {
                println!("case:        {c}");
            }
            println!("exported by: {} at {}", m.exported_by, m.exported_at);
        }
        if let Some(f) = &r.fingerprint {
            println!(
                "key:         fingerprint {f} ({})",
                if r.pinned {
                    "pinned with --key"
                } else {
                    "NOT pinned: compare it with the operator's published fingerprint"
                }
            );
        }
        println!(
            "segments:    {} original segment file(s) verified against the ledger",
            r.segments_verified
        );
        if r.is_ok() {
            println!("OK: the bundle is intact and every file is proven by the signed ledger");
        } else {
            println!("FAILED: {} problem(s):", r.problems.len());
            for p in &r.problems {
                println!("  {p}");
            }
        }
    }
    if r.is_ok() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::DataLoss,
            format!(
                "bundle {} failed verification: {} problem(s)",
                a.bundle.display(),
                r.problems.len()
            ),
        )
        .into())
    }
}
