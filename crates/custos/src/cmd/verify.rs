//! `custos verify --data DIR [--key PUB] [--json]` (E3, E4, E7): checks the ledger (consistency
//! from the first to the latest checkpoint, checkpoint signatures) and every segment file
//! against its sealed hash, every index row against the ledger, and missing segments that
//! retention did not delete. Read-only. Exit code 7 on any problem.

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
    #[arg(long)]
    pub json: bool,
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
    let (_, key): (String, VerifyingKey) =
        custos_ledger::load_verifying_key(&key_path).map_err(|e| {
            custos_core::Error::new(
                custos_core::ErrorKind::NotFound,
                format!("public key {}: {e}", key_path.display()),
            )
        })?;
    let ledger_dir = data.root().join("ledger");
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
    let errors = ledger_errors + footage.errors();
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
    if errors > 0 {
        return Err(custos_core::Error::new(
            custos_core::ErrorKind::DataLoss,
            format!("verification failed: {errors} problem(s)"),
        )
        .into());
    }
    Ok(())
}
