//! Ledger throughput: batched appends vs a baseline of plain `write + fdatasync` of the
//! same framed bytes in the same run, and verifier time per 100k entries.
//!
//! `cargo run --release -p custos-ledger --example ledger_bench [-- DIR]`
//! (DIR defaults to a fresh temporary directory; put it on the disk you care about.)

#![allow(clippy::print_stdout)]

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Instant;

use custos_ledger::{Action, Ledger, NewEntry, SigningKey, verify_dir};
use serde_json::json;

fn entry(i: u64) -> NewEntry {
    NewEntry::new(
        "operator-17",
        Action::Playback,
        format!("camera/gate-{}/segment/{i}", i % 500),
    )
    .purpose("case 2026-0042")
    .details(json!({"destination": "workstation-3", "ip": "10.1.2.3", "range_ms": [i, i + 60_000]}))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let base = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or(tmp.path().to_path_buf());
    let key = SigningKey::from_bytes(&[3u8; 32]);
    println!("dir: {}", base.display());
    for &batch in &[1usize, 10, 100, 1000] {
        let total: u64 = match batch {
            1 => 2_000,
            10 => 20_000,
            _ => 100_000,
        };
        let dir = base.join(format!("ledger-b{batch}"));
        let (l, _) = Ledger::open(&dir, key.clone(), "bench")?;
        let t = Instant::now();
        let mut i = 0u64;
        while i < total {
            l.append((0..batch as u64).map(|j| entry(i + j)).collect())?;
            i += batch as u64;
        }
        let dt = t.elapsed().as_secs_f64();
        l.checkpoint()?;
        // Baseline: the same framed bytes, one write + fdatasync per batch, one file.
        let mut bytes = Vec::new();
        for s in 0..total {
            custos_ledger::storage::frame(&l.entry_bytes(s)?, &mut bytes);
        }
        let per = bytes.len() / (total as usize / batch);
        let bp = base.join(format!("baseline-b{batch}"));
        let mut f = OpenOptions::new().create(true).append(true).open(&bp)?;
        let tb = Instant::now();
        for c in bytes.chunks(per.max(1)) {
            f.write_all(c)?;
            f.sync_data()?;
        }
        let db = tb.elapsed().as_secs_f64();
        println!(
            "batch {batch:>5}: ledger {:>9.0} entries/s ({:>7.0} batches/s) | baseline write+fdatasync {:>9.0} entries/s | ratio {:.2}",
            total as f64 / dt,
            total as f64 / batch as f64 / dt,
            total as f64 / db,
            db / dt
        );
    }
    // Verifier: 100k entries.
    let dir = base.join("ledger-b1000");
    let vk = key.verifying_key();
    let t = Instant::now();
    let r = verify_dir(&dir, &vk);
    let dv = t.elapsed().as_secs_f64();
    println!(
        "verify_dir: {} entries, {} checkpoints, clean={} in {:.3} s => {:.3} s per 100k entries",
        r.entries,
        r.checkpoints,
        r.is_clean(),
        dv,
        dv * 100_000.0 / r.entries as f64
    );
    Ok(())
}
