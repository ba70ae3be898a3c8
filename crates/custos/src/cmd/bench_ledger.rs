//! `custos bench ledger [--entries N] [--batch B] [--dir DIR]`: the ledger's fsynced batched
//! appends, inclusion-proof generation and full verification (`verify_dir`), each against a
//! baseline measured in the same run on the same files (see `custos_ledger::bench`). Each
//! section ends with `ratio R` = ledger throughput / baseline throughput (higher is better;
//! below 1 the ledger is slower than its baseline).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use custos_ledger::bench::{self, Timed};
use custos_ledger::{Ledger, SigningKey, verify_dir};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct LedgerArgs {
    /// Entries to append (about 310 bytes of ledger files each: 10 M take ~3.1 GB).
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,
    /// Entries per append call (one fsynced batch).
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Directory in which a fresh ledger directory is made (default: the system temporary
    /// directory). Put it on the disk you care about; fsync on tmpfs measures nothing.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Sign a checkpoint whenever this many entries were appended since the last one (and at
    /// the end); 1000 is the server's default cadence.
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: u64,
    /// Inclusion proofs to generate (random leaves of the full tree).
    #[arg(long, default_value_t = 100_000)]
    pub proofs: u64,
    /// Keep the ledger and baseline files (printed) instead of deleting them.
    #[arg(long)]
    pub keep: bool,
}

fn num(x: f64) -> String {
    let s = format!("{:.0}", x);
    let (sign, digits) = s.split_at(if s.starts_with('-') { 1 } else { 0 });
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn secs(t: &Timed) -> f64 {
    t.elapsed.as_secs_f64()
}

pub fn run(a: LedgerArgs) -> Result<()> {
    if a.entries == 0 || a.batch == 0 {
        bail!("use --entries >= 1 and --batch >= 1");
    }
    let parent = a.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix("custos-bench-ledger-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a directory in {}", parent.display()))?;
    let dir = tmp.path().join("ledger");
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let vk = key.verifying_key();
    let (ledger, _) = Ledger::open(&dir, key, "bench.custos")?;
    println!(
        "custos bench ledger: {} entries, batch {}, checkpoint every {} entries, in {}",
        num(a.entries as f64),
        a.batch,
        a.checkpoint_every,
        tmp.path().display()
    );
    println!("(ratio = ledger throughput / baseline throughput, same run, same bytes)");

    // 1. Appends.
    let pb = ProgressBar::new(a.entries);
    pb.set_style(
        ProgressStyle::with_template(
            "appending [{bar:40}] {human_pos}/{human_len} entries ({per_sec}, eta {eta})",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    let run = bench::append_samples(&ledger, a.entries, a.batch, a.checkpoint_every, &mut |n| {
        pb.set_position(n)
    })?;
    pb.finish_and_clear();
    let base = bench::baseline_appends(&dir, &tmp.path().join("baseline-appends"), a.batch)?;
    let appends = a.entries.div_ceil(a.batch as u64);
    println!("\n== appends: batches of {}, fsynced ==", a.batch);
    println!(
        "ledger:   {} entries/s ({} appends in {:.2} s; entries.log, entries.idx, hashes each written and fdatasynced per append; {:.1} MB)",
        num(run.appends.per_sec()),
        num(appends as f64),
        secs(&run.appends),
        run.appends.bytes as f64 / 1e6
    );
    println!(
        "baseline: {} entries/s (the same framed records, same batches: one write + fdatasync + SHA-256 per batch to one file; {:.1} MB in {:.2} s)",
        num(base.per_sec()),
        base.bytes as f64 / 1e6,
        secs(&base)
    );
    println!(
        "checkpoints: {} signed and fsynced in {:.2} s (not in the figures above)",
        run.checkpoints.count,
        secs(&run.checkpoints)
    );
    println!("ratio {:.2}", run.appends.per_sec() / base.per_sec());

    // 2. Inclusion proofs.
    let size = ledger.len();
    let proofs = bench::inclusion_proofs(&ledger, a.proofs, 42)?;
    let reads = bench::baseline_random_reads(&dir, a.proofs, 42)?;
    println!("\n== inclusion proofs: tree size {} ==", num(size as f64));
    println!(
        "ledger:   {} proofs/s ({} proofs of random leaves in {:.2} s, {:.1} hashes each)",
        num(proofs.per_sec()),
        num(proofs.count as f64),
        secs(&proofs),
        proofs.bytes as f64 / 32.0 / proofs.count.max(1) as f64
    );
    println!(
        "baseline: {} reads/s ({} positional reads of one random 32-byte hash of the hashes file in {:.2} s)",
        num(reads.per_sec()),
        num(reads.count as f64),
        secs(&reads)
    );
    println!("ratio {:.2}", proofs.per_sec() / reads.per_sec());

    // 3. Full verification.
    let floor = bench::baseline_hash_files(&dir)?;
    let t = Instant::now();
    let report = verify_dir(&dir, &vk);
    let dv = t.elapsed().as_secs_f64();
    let per10m = |s: f64| s * 10_000_000.0 / report.entries.max(1) as f64;
    println!("\n== verify_dir: {} entries ==", num(size as f64));
    println!(
        "ledger:   {:.2} s ({} entries/s, {} checkpoints, clean: {}) => {:.1} s per 10 M entries{}",
        dv,
        num(report.entries as f64 / dv.max(1e-9)),
        report.checkpoints,
        report.is_clean(),
        per10m(dv),
        if report.entries == 10_000_000 {
            " (measured)"
        } else {
            " (extrapolated linearly from this run)"
        }
    );
    println!(
        "baseline: {:.2} s (SHA-256 of all {:.1} MB of the ledger's files read sequentially, one thread) => {:.1} s per 10 M entries",
        secs(&floor),
        floor.bytes as f64 / 1e6,
        per10m(secs(&floor))
    );
    println!("ratio {:.2}", secs(&floor) / dv.max(1e-9));
    if !report.is_clean() {
        eprint!("{report}");
        bail!("the benchmark ledger does not verify clean");
    }
    drop(ledger);
    if a.keep {
        println!("kept {}", tmp.keep().display());
    }
    Ok(())
}
