//! Measurements for `custos bench ledger`: each ledger operation and a baseline doing the
//! irreducible part of the same work (raw I/O and hashing of the same bytes), to be run in
//! the same process one after the other. Prints nothing: the caller reports.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::entry::{Action, NewEntry};
use crate::error::{Error, Result};
use crate::storage::{
    CHECKPOINTS_FILE, ENTRIES_FILE, ENTRIES_MAGIC, HASHES_FILE, INDEX_FILE, Ledger,
};

/// How many operations took how long.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timed {
    /// Operations (entries, proofs, reads...).
    pub count: u64,
    /// Bytes handled.
    pub bytes: u64,
    /// Time spent in the measured operations only.
    pub elapsed: Duration,
}

impl Timed {
    /// Operations per second.
    pub fn per_sec(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The sample entry number `i`: a playback by an operator, ~200 bytes canonical, the shape
/// of what the server records.
pub fn sample_entry(i: u64) -> NewEntry {
    NewEntry::new(
        "operator-17",
        Action::Playback,
        format!("camera/gate-{}/segment/{i}", i % 500),
    )
    .purpose("case 2026-0042")
    .details(serde_json::json!({
        "destination": "workstation-3",
        "ip": "10.1.2.3",
        "range_ms": [i, i + 60_000]
    }))
}

/// Result of [`append_samples`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AppendRun {
    /// Time inside [`Ledger::append`] only (building the entries is not counted); count =
    /// entries, bytes = growth of `entries.log`, `entries.idx` and `hashes`.
    pub appends: Timed,
    /// Time inside [`Ledger::checkpoint`]; count = checkpoints signed.
    pub checkpoints: Timed,
}

fn data_bytes(dir: &Path) -> u64 {
    [ENTRIES_FILE, INDEX_FILE, HASHES_FILE]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Append `n` [`sample_entry`]s in batches of `batch` (each fsynced by the ledger), signing
/// a checkpoint whenever `checkpoint_every` entries have accumulated since the last one
/// and at the end. `progress` gets the number of entries appended so far after each batch.
pub fn append_samples(
    ledger: &Ledger,
    n: u64,
    batch: usize,
    checkpoint_every: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<AppendRun> {
    let batch = batch.max(1) as u64;
    let dir = ledger.dir();
    let before = data_bytes(&dir);
    let mut run = AppendRun::default();
    let first = ledger.len();
    let mut last_cp = first;
    let mut done = 0u64;
    while done < n {
        let k = batch.min(n - done);
        let entries: Vec<NewEntry> = (0..k).map(|j| sample_entry(first + done + j)).collect();
        let t = Instant::now();
        ledger.append(entries)?;
        run.appends.elapsed += t.elapsed();
        done += k;
        if (checkpoint_every > 0 && first + done - last_cp >= checkpoint_every) || done == n {
            let t = Instant::now();
            ledger.checkpoint()?;
            run.checkpoints.elapsed += t.elapsed();
            run.checkpoints.count += 1;
            last_cp = first + done;
        }
        progress(done);
    }
    run.appends.count = n;
    run.appends.bytes = data_bytes(&dir).saturating_sub(before);
    Ok(run)
}

/// Baseline of [`append_samples`]: the framed records of `entries.log` in `ledger_dir`,
/// grouped in batches of `batch` records exactly as appended, each batch written to
/// `out` (a new file) with one `write`, one `fdatasync` and one SHA-256 over its bytes.
/// Only that is timed (reading the records back is not).
pub fn baseline_appends(ledger_dir: &Path, out: &Path, batch: usize) -> Result<Timed> {
    let batch = batch.max(1) as u64;
    let ep = ledger_dir.join(ENTRIES_FILE);
    let mut r = BufReader::with_capacity(1 << 20, File::open(&ep).map_err(Error::io("open", &ep))?);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(Error::io("read", &ep))?;
    if &magic != ENTRIES_MAGIC {
        return Err(Error::Inconsistent(format!(
            "{} is not an entry log",
            ep.display()
        )));
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(Error::io("create", out))?;
    let mut res = Timed::default();
    let mut buf = Vec::new();
    let mut sink = [0u8; 32];
    let mut eof = false;
    while !eof {
        buf.clear();
        let mut k = 0u64;
        while k < batch {
            let mut l = [0u8; 4];
            match r.read_exact(&mut l) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    eof = true;
                    break;
                }
                Err(e) => return Err(Error::io("read", &ep)(e)),
            }
            let start = buf.len();
            buf.extend_from_slice(&l);
            buf.resize(start + 4 + u32::from_le_bytes(l) as usize + 4, 0);
            r.read_exact(&mut buf[start + 4..])
                .map_err(Error::io("read", &ep))?;
            k += 1;
        }
        if k == 0 {
            break;
        }
        let t = Instant::now();
        f.write_all(&buf).map_err(Error::io("write", out))?;
        f.sync_data().map_err(Error::io("fdatasync", out))?;
        let d: [u8; 32] = Sha256::digest(&buf).into();
        res.elapsed += t.elapsed();
        sink[0] ^= d[0];
        res.count += k;
        res.bytes += buf.len() as u64;
    }
    std::hint::black_box(sink);
    Ok(res)
}

/// Small deterministic generator (splitmix64) for benchmark positions.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform-enough value below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// `count` inclusion proofs of random leaves in the ledger's full tree, through
/// [`Ledger::inclusion_proof`]; bytes = proof hashes × 32.
pub fn inclusion_proofs(ledger: &Ledger, count: u64, seed: u64) -> Result<Timed> {
    let size = ledger.len();
    if size == 0 {
        return Err(Error::InvalidArgument("empty ledger".into()));
    }
    let mut rng = SplitMix(seed);
    let idx: Vec<u64> = (0..count).map(|_| rng.below(size)).collect();
    let mut res = Timed::default();
    let t = Instant::now();
    for &i in &idx {
        let p = ledger.inclusion_proof(i, size)?;
        res.bytes += p.len() as u64 * 32;
    }
    res.elapsed = t.elapsed();
    res.count = count;
    Ok(res)
}

/// Baseline of [`inclusion_proofs`]: `count` positional reads of one random 32-byte hash
/// of the `hashes` file in `ledger_dir`.
pub fn baseline_random_reads(ledger_dir: &Path, count: u64, seed: u64) -> Result<Timed> {
    let hp = ledger_dir.join(HASHES_FILE);
    let f = File::open(&hp).map_err(Error::io("open", &hp))?;
    let slots = f.metadata().map_err(Error::io("stat", &hp))?.len() / 32;
    if slots == 0 {
        return Err(Error::InvalidArgument("empty hashes file".into()));
    }
    let mut rng = SplitMix(seed);
    let offs: Vec<u64> = (0..count).map(|_| rng.below(slots) * 32).collect();
    let mut h = [0u8; 32];
    let mut sink = 0u8;
    let t = Instant::now();
    for &o in &offs {
        f.read_exact_at(&mut h, o).map_err(Error::io("read", &hp))?;
        sink ^= h[0];
    }
    let elapsed = t.elapsed();
    std::hint::black_box(sink);
    Ok(Timed {
        count,
        bytes: count * 32,
        elapsed,
    })
}

/// Baseline of [`crate::verify_dir`]: read the ledger's four files sequentially (1 MiB
/// reads) and compute one SHA-256 over all their bytes, on one thread — the I/O and
/// hashing floor of reading everything once. count = bytes.
pub fn baseline_hash_files(ledger_dir: &Path) -> Result<Timed> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    let t = Instant::now();
    for name in [ENTRIES_FILE, INDEX_FILE, HASHES_FILE, CHECKPOINTS_FILE] {
        let p = ledger_dir.join(name);
        let mut f = File::open(&p).map_err(Error::io("open", &p))?;
        loop {
            let k = f.read(&mut buf).map_err(Error::io("read", &p))?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            bytes += k as u64;
        }
    }
    std::hint::black_box(h.finalize());
    Ok(Timed {
        count: bytes,
        bytes,
        elapsed: t.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_helpers_run() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("l");
        let key = crate::SigningKey::from_bytes(&[5u8; 32]);
        let (l, _) = Ledger::open(&dir, key.clone(), "bench").unwrap();
        let mut seen = 0;
        let run = append_samples(&l, 250, 100, 100, &mut |n| seen = n).unwrap();
        assert_eq!(
            (seen, run.appends.count, run.checkpoints.count),
            (250, 250, 3)
        );
        let b = baseline_appends(&dir, &d.path().join("base"), 100).unwrap();
        assert_eq!(b.count, 250);
        let ebytes = std::fs::metadata(dir.join(ENTRIES_FILE)).unwrap().len();
        assert_eq!(b.bytes, ebytes - 8);
        assert_eq!(inclusion_proofs(&l, 50, 1).unwrap().count, 50);
        assert_eq!(baseline_random_reads(&dir, 50, 1).unwrap().count, 50);
        assert!(baseline_hash_files(&dir).unwrap().bytes > ebytes);
        assert!(crate::verify_dir(&dir, &key.verifying_key()).is_clean());
    }
}
