//! `custos verify --data DIR [--key PUB] [--checkpoint FILE] [--json]` (E3, E4, E7): checks the
//! ledger (consistency from the first to the latest checkpoint, checkpoint signatures; with
//! `--checkpoint`, that the ledger still extends a checkpoint kept elsewhere) and every segment
//! file against its sealed hash, every index row (segments, gaps, holds, camera placements)
//! against the ledger in both directions, every deletion against the retention minimum and the
//! holds in force, and missing segments that retention did not delete. Read-only. Exit code 7
//! on any problem, naming the object; a missing ledger directory or key is damage too (7).

use std::path::PathBuf;

use anyhow::{Context, Result};
use custos_ledger::storage::{ENTRIES_FILE, ENTRIES_MAGIC, RecordRead, RecordReader};
use custos_ledger::{Entry, VerifyingKey};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// The node's published public key. Without it, the key stored in the data directory is
    /// used, which proves internal consistency only: someone who replaced the key could
    /// re-sign everything.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A signed checkpoint kept elsewhere (one `--save-checkpoint` wrote earlier): the ledger
    /// must still contain exactly the entries it signed. This catches a rewrite of the ledger
    /// re-signed with the node's own key.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// After a clean verification, write the latest signed checkpoint to FILE, to keep
    /// somewhere the node cannot reach (for a later `--checkpoint FILE`).
    #[arg(long, value_name = "FILE")]
    pub save_checkpoint: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn damage(msg: String) -> anyhow::Error {
    custos_core::Error::new(custos_core::ErrorKind::DataLoss, msg).into()
}

/// The latest checkpoint in the ledger whose signature verifies with `key`.
fn latest_checkpoint(
    dir: &std::path::Path,
    key: &VerifyingKey,
) -> Result<Option<custos_ledger::SignedCheckpoint>> {
    use custos_ledger::storage::{CHECKPOINTS_FILE, CHECKPOINTS_MAGIC};
    let path = dir.join(CHECKPOINTS_FILE);
    let Ok(f) = std::fs::File::open(&path) else {
        return Ok(None);
    };
    let len = f.metadata()?.len();
    if len < CHECKPOINTS_MAGIC.len() as u64 {
        return Ok(None);
    }
    let mut r = RecordReader::new(f, CHECKPOINTS_MAGIC.len() as u64, len)?;
    let mut last = None;
    while let Some(RecordRead::Ok(payload)) = r.next_record()? {
        if let Ok(c) = custos_ledger::SignedCheckpoint::parse(&String::from_utf8_lossy(&payload))
            && c.verify(key).is_ok()
        {
            last = Some(c);
        }
    }
    Ok(last)
}

/// Reads every complete entry of the ledger (read-only).
fn read_entries(dir: &std::path::Path) -> Result<Vec<Entry>> {
    let path = dir.join(ENTRIES_FILE);
    let f = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let len = f.metadata()?.len();
    let mut out = Vec::new();
    if len < ENTRIES_MAGIC.len() as u64 {
        return Ok(out);
    }
    let mut r = RecordReader::new(f, ENTRIES_MAGIC.len() as u64, len)?;
    while let Some(rec) = r.next_record()? {
        match rec {
            RecordRead::Ok(payload) => match Entry::from_canonical_bytes(&payload) {
                Ok(e) => out.push(e),
                Err(_) => break,
            },
            _ => break,
        }
    }
    Ok(out)
}

pub async fn run(a: Args) -> Result<()> {
    let (data, store) = super::open(&a.data).await?;
    let (_, default_pub) = custos_footage::journal::key_paths(&data);
    let key_path = a.key.clone().unwrap_or(default_pub);
    let (_, key): (String, VerifyingKey) = match custos_ledger::load_verifying_key(&key_path) {
        Ok(k) => k,
        // The data directory's own key gone: damage to the data directory.
        Err(e) if a.key.is_none() => {
            return Err(damage(format!(
                "PROBLEM ledger key {}: {e}; the data directory's public key is missing or unreadable (pass --key with the published key to check the ledger anyway)",
                key_path.display()
            )));
        }
        Err(e) => {
            return Err(custos_core::Error::new(
                custos_core::ErrorKind::InvalidArgument,
                format!("--key {}: {e}", key_path.display()),
            )
            .into());
        }
    };
    let ledger_dir = data.root().join("ledger");
    if !ledger_dir.is_dir() {
        return Err(damage(format!(
            "PROBLEM ledger {}: the ledger directory is missing; every access and footage record is gone",
            ledger_dir.display()
        )));
    }
    let entries_path = ledger_dir.join(ENTRIES_FILE);
    if !entries_path.is_file() {
        return Err(damage(format!(
            "PROBLEM ledger {}: the ledger's entries file is missing",
            entries_path.display()
        )));
    }
    let against = match &a.checkpoint {
        None => None,
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| {
                custos_core::Error::new(
                    custos_core::ErrorKind::InvalidArgument,
                    format!("--checkpoint {}: {e}", f.display()),
                )
            })?;
            let cp = custos_ledger::SignedCheckpoint::parse(&text).map_err(|e| {
                custos_core::Error::new(
                    custos_core::ErrorKind::InvalidArgument,
                    format!(
                        "--checkpoint {}: not a signed checkpoint ({e}); give the text `custos ledger checkpoint` printed",
                        f.display()
                    ),
                )
            })?;
            let d = ledger_dir.clone();
            let k = key;
            let r = tokio::task::spawn_blocking(move || {
                custos_ledger::verify::verify_against_checkpoint(&d, &cp, &k).map(|()| cp)
            })
            .await?;
            Some((f.clone(), r))
        }
    };
    let ledger_report = tokio::task::spawn_blocking({
        let d = ledger_dir.clone();
        move || custos_ledger::verify_dir(&d, &key)
    })
    .await?;
    let entries = read_entries(&ledger_dir)?;
    let total: i64 = store
        .all_segments()
        .await?
        .iter()
        .filter(|s| s.state == custos_store::SegmentState::Sealed)
        .filter_map(|s| s.bytes)
        .sum();
    let pb = if a.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total.max(0) as u64)
    };
    pb.set_style(
        ProgressStyle::with_template("hashing footage [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .unwrap()
            .progress_chars("=> "),
    );
    let pbc = pb.clone();
    let footage =
        custos_footage::integrity::check(&store, &data, &entries, &move |n| pbc.set_position(n))
            .await?;
    pb.finish_and_clear();
    let ledger_errors = ledger_report
        .problems
        .iter()
        .filter(|p| matches!(p.severity, custos_ledger::Severity::Error))
        .count();
    let checkpoint_error = against
        .as_ref()
        .and_then(|(f, r)| r.as_ref().err().map(|e| (f.clone(), e.clone())));
    let errors = ledger_errors + footage.errors() + usize::from(checkpoint_error.is_some());
    if a.json {
        let v = serde_json::json!({
            "ok": errors == 0,
            "key": key_path.display().to_string(),
            "key_fingerprint": custos_ledger::fingerprint(&key),
            "ledger": {
                "entries": ledger_report.entries,
                "checkpoints": ledger_report.checkpoints,
                "verified_size": ledger_report.verified_size,
                "problems": ledger_report.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            },
            "footage": footage,
            "checkpoint": against.as_ref().map(|(f, r)| serde_json::json!({
                "file": f.display().to_string(),
                "ok": r.is_ok(),
                "tree_size": r.as_ref().ok().map(|c| c.checkpoint.tree_size),
                "problem": r.as_ref().err(),
            })),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "ledger: {} entries, {} checkpoints, signed up to entry {} (key {} {})",
            ledger_report.entries,
            ledger_report.checkpoints,
            ledger_report.verified_size,
            custos_ledger::fingerprint(&key),
            if a.key.is_some() {
                "as given"
            } else {
                "from the data directory; pass --key with the published key to trust it"
            }
        );
        println!(
            "footage: {} sealed segments ({}) hashed, {} deleted by retention, {} gaps checked",
            footage.segments_checked,
            super::mib(footage.bytes_hashed as f64),
            footage.deleted_by_retention,
            footage.gaps_checked
        );
        for p in &ledger_report.problems {
            println!("PROBLEM ledger: {p}");
        }
        match &against {
            Some((f, Ok(c))) => println!(
                "checkpoint {}: the ledger still holds the {} entries it signed",
                f.display(),
                c.checkpoint.tree_size
            ),
            Some((f, Err(e))) => println!("PROBLEM checkpoint {}: {e}", f.display()),
            None => {}
        }
        for f in &footage.findings {
            println!(
                "{} {}: {}",
                if f.warning { "warning" } else { "PROBLEM" },
                f.object,
                f.problem
            );
        }
        println!(
            "{}",
            if errors == 0 {
                "verified: no problems".to_owned()
            } else {
                format!("{errors} problem(s) found")
            }
        );
    }
    if errors == 0
        && let Some(out) = &a.save_checkpoint
    {
        match latest_checkpoint(&ledger_dir, &key)? {
            Some(c) => {
                std::fs::write(out, c.to_text())
                    .with_context(|| format!("--save-checkpoint {}", out.display()))?;
                if !a.json {
                    println!(
                        "checkpoint of {} entries written to {}: keep it where this node cannot change it",
                        c.checkpoint.tree_size,
                        out.display()
                    );
                }
            }
            None => {
                return Err(custos_core::Error::new(
                    custos_core::ErrorKind::FailedPrecondition,
                    "--save-checkpoint: the ledger has no signed checkpoint yet; run the recorder or server until it signs one",
                )
                .into());
            }
        }
    }
    if errors > 0 {
        return Err(custos_core::Error::new(
            custos_core::ErrorKind::DataLoss,
            format!("verification failed: {errors} problem(s)"),
        )
        .into());
    }
    Ok(())
}
