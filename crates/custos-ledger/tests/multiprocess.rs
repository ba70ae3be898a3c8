//! Multi-process safety of the ledger (E2 "every access registered, fail closed", E4
//! "append-only, verifiable"): several `Ledger` instances / processes on one directory,
//! serialised by `flock` on the `lock` file.
//!
//! Two `Ledger` instances in one process open the lock file separately, so they hold
//! distinct open file descriptions and their `flock`s conflict exactly as between two
//! processes. One test also spawns this test binary again as a real second process.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_ledger::storage::{self, LOCK_FILE};
use custos_ledger::{Action, Error, Ledger, NewEntry, SigningKey, verify_dir, verify_inclusion};
use nix::fcntl::{Flock, FlockArg};

const ORIGIN: &str = "custos.test/ledger";
const CHILD_DIR: &str = "CUSTOS_LEDGER_TEST_CHILD_DIR";
const CHILD_N: &str = "CUSTOS_LEDGER_TEST_CHILD_N";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn entry(who: &str, i: u64) -> NewEntry {
    NewEntry::new(who, Action::Export, format!("{who}/{i}"))
        .purpose("case 2026-007")
        .details(serde_json::json!({ "n": i }))
}

/// Every entry's object, mapped to its seq; asserts seqs are contiguous from 0 and no
/// object appears twice.
fn objects(l: &Ledger) -> BTreeMap<String, u64> {
    let n = l.len();
    let mut out = BTreeMap::new();
    for (i, e) in l.entries(0..n).unwrap().into_iter().enumerate() {
        assert_eq!(e.seq, i as u64);
        assert!(
            out.insert(e.object.clone(), e.seq).is_none(),
            "{} twice",
            e.object
        );
    }
    out
}

fn assert_verifies(dir: &Path) {
    let r = verify_dir(dir, &key().verifying_key());
    assert!(r.is_clean(), "{r}");
}

/// E2/E4: two instances on one directory append from two threads, interleaved. Every
/// entry lands exactly once with contiguous seqs, each instance sees the other's entries
/// (`len`, `entry`, inclusion proofs against the other's checkpoint), the verifier is
/// clean.
#[test]
fn e2_e4_two_instances_interleave_appends() {
    let d = tempfile::tempdir().unwrap();
    let (a, ra) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    let (b, rb) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    assert!(ra.is_clean() && rb.is_clean());
    let (a, b) = (Arc::new(a), Arc::new(b));
    const PER: u64 = 60;
    let hs: Vec<_> = [("a", a.clone()), ("b", b.clone())]
        .into_iter()
        .map(|(who, l)| {
            std::thread::spawn(move || {
                let mut seqs = Vec::new();
                let mut i = 0;
                while i < PER {
                    if i % 4 == 0 {
                        // A batch of three: contiguous seqs within the batch.
                        let rs = l
                            .append((i..i + 3).map(|j| entry(who, j)).collect())
                            .unwrap();
                        assert_eq!(rs[1].seq, rs[0].seq + 1);
                        assert_eq!(rs[2].seq, rs[0].seq + 2);
                        seqs.extend(rs.iter().map(|r| r.seq));
                        i += 3;
                    } else {
                        seqs.push(l.record(entry(who, i)).unwrap().seq);
                        i += 1;
                    }
                    if i % 20 == 0 {
                        l.checkpoint().unwrap();
                    }
                }
                seqs
            })
        })
        .collect();
    let seqs: Vec<Vec<u64>> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let total = 2 * PER;
    assert_eq!(a.len(), total);
    assert_eq!(b.len(), total);
    assert_eq!(a.root(), b.root());
    let objs = objects(&a);
    assert_eq!(objs.len() as u64, total);
    assert_eq!(objects(&b), objs);
    // Each receipt's seq holds that instance's entry, readable through the other one.
    for (who, mine, other) in [("a", &seqs[0], &b), ("b", &seqs[1], &a)] {
        assert_eq!(mine.len() as u64, PER);
        for s in mine {
            assert!(other.entry(*s).unwrap().object.starts_with(who));
        }
    }
    // Inclusion of B's entries against A's checkpoint, through B, and the reverse.
    let ca = a.checkpoint().unwrap();
    assert_eq!(ca.checkpoint.tree_size, total);
    assert_eq!(b.latest_checkpoint(), Some(ca.clone()));
    for s in &seqs[1] {
        let proof = b.inclusion_proof(*s, ca.checkpoint.tree_size).unwrap();
        verify_inclusion(
            &b.entry_bytes(*s).unwrap(),
            *s,
            &proof,
            &ca,
            &key().verifying_key(),
        )
        .unwrap();
    }
    b.record(entry("b", 1000)).unwrap();
    let cb = b.checkpoint().unwrap();
    assert_eq!(a.latest_checkpoint(), Some(cb.clone()));
    for s in &seqs[0] {
        let proof = a.inclusion_proof(*s, cb.checkpoint.tree_size).unwrap();
        verify_inclusion(
            &a.entry_bytes(*s).unwrap(),
            *s,
            &proof,
            &cb,
            &key().verifying_key(),
        )
        .unwrap();
    }
    // A consistency proof through A between A's and B's checkpoints.
    let p = a
        .consistency_proof(ca.checkpoint.tree_size, cb.checkpoint.tree_size)
        .unwrap();
    custos_ledger::verify::verify_consistency(&ca, &cb, &p, &key().verifying_key()).unwrap();
    assert!(a.take_recoveries().is_empty() && b.take_recoveries().is_empty());
    drop((a, b));
    assert_verifies(d.path());
}

/// E4: a checkpoint signed by instance A after instance B appended covers B's entries
/// (A refreshes under the lock before signing); no unsigned tail remains.
#[test]
fn e4_checkpoint_by_a_covers_appends_by_b() {
    let d = tempfile::tempdir().unwrap();
    let (a, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    a.record(entry("a", 0)).unwrap();
    let (b, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    let rs = b.append((0..5).map(|i| entry("b", i)).collect()).unwrap();
    assert_eq!(rs[0].seq, 1);
    let c = a.checkpoint().unwrap();
    assert_eq!(c.checkpoint.tree_size, 6);
    assert_eq!(c.checkpoint.root_hash, b.root());
    assert_eq!(b.latest_checkpoint(), Some(c.clone()));
    // `checkpoint_if_due` in B sees A's checkpoint: nothing new, nothing due.
    let cadence = custos_ledger::CheckpointCadence {
        every_entries: 1,
        every: Duration::from_secs(3600),
    };
    assert_eq!(b.checkpoint_if_due(&cadence).unwrap(), None);
    a.record(entry("a", 1)).unwrap();
    let c2 = b.checkpoint_if_due(&cadence).unwrap().expect("due");
    assert_eq!(c2.checkpoint.tree_size, 7);
    assert_eq!(a.latest_checkpoint(), Some(c2));
    let r = verify_dir(d.path(), &key().verifying_key());
    assert!(r.is_clean(), "{r}");
    assert_eq!(r.entries, 7);
}

/// Not a test on its own: the body of the second process spawned by
/// `e2_e4_second_process_appends` (does nothing unless the environment asks).
#[test]
fn child_append_many() {
    let (Ok(dir), Ok(n)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_N)) else {
        return;
    };
    let n: u64 = n.parse().unwrap();
    let dir = Path::new(&dir);
    let (l, _) = Ledger::open(dir, key(), ORIGIN).unwrap();
    fs::write(dir.join("child-ready"), b"").unwrap();
    for i in 0..n {
        l.record(entry("child", i)).unwrap();
        if i % 25 == 0 {
            l.checkpoint().unwrap();
        }
    }
}

/// E2/E4: a real second process (this test binary, re-run as `child_append_many`)
/// appends N entries while this process appends M: afterwards N + M entries, each once,
/// contiguous, verifier clean.
#[test]
fn e2_e4_second_process_appends() {
    const N: u64 = 150;
    const M: u64 = 150;
    let d = tempfile::tempdir().unwrap();
    let (l, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_append_many",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, d.path())
        .env(CHILD_N, N.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !d.path().join("child-ready").exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "child did not start"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut seqs = Vec::new();
    for i in 0..M {
        seqs.push(l.record(entry("parent", i)).unwrap().seq);
        if i % 30 == 0 {
            l.checkpoint().unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "child process failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(l.len(), N + M);
    let objs = objects(&l);
    for i in 0..N {
        assert!(objs.contains_key(&format!("child/{i}")));
    }
    for (i, s) in seqs.iter().enumerate() {
        assert_eq!(objs[&format!("parent/{i}")], *s);
    }
    let switches = seqs.windows(2).filter(|w| w[1] != w[0] + 1).count();
    eprintln!("parent's entries were interleaved with the child's at {switches} places");
    l.checkpoint().unwrap();
    drop(l);
    assert_verifies(d.path());
}

/// E2 fail closed: while another process holds the lock, an append waits for the bounded
/// time, then fails with `Error::Locked` naming the lock file, having written nothing.
#[test]
fn e2_append_fails_closed_when_lock_is_held() {
    let d = tempfile::tempdir().unwrap();
    let (l, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    l.record(entry("a", 0)).unwrap();
    let f = fs::File::open(d.path().join(LOCK_FILE)).unwrap();
    let held = Flock::lock(f, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    l.set_lock_timeout(Duration::from_millis(150));
    let t0 = Instant::now();
    let err = l.record(entry("a", 1)).unwrap_err();
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(err.to_string().contains("another custos process"), "{err}");
    assert!(err.to_string().contains(LOCK_FILE), "{err}");
    assert!(l.checkpoint().is_err());
    drop(held);
    assert_eq!(l.len(), 1);
    l.record(entry("a", 2)).unwrap();
    assert_eq!(l.len(), 2);
}

/// Bytes `dir`'s files gain when one more entry is appended (computed on a copy).
fn next_append_bytes(dir: &Path, scratch: &Path) -> Vec<(&'static str, u64, Vec<u8>)> {
    let names = [
        storage::ENTRIES_FILE,
        storage::INDEX_FILE,
        storage::HASHES_FILE,
    ];
    fs::create_dir_all(scratch).unwrap();
    for n in names.iter().chain([&storage::CHECKPOINTS_FILE]) {
        fs::copy(dir.join(n), scratch.join(n)).unwrap();
    }
    let (l, _) = Ledger::open(scratch, key(), ORIGIN).unwrap();
    l.record(entry("live", 0)).unwrap();
    names
        .iter()
        .map(|n| {
            let old = fs::metadata(dir.join(n)).unwrap().len();
            let new = fs::read(scratch.join(n)).unwrap();
            (*n, old, new[old as usize..].to_vec())
        })
        .collect()
}

/// E4: recovery never cuts a record that a live writer (holding the exclusive lock) is
/// in the middle of writing: an open during the write waits for the lock and then finds
/// the completed record, with nothing to repair.
#[test]
fn e4_open_does_not_truncate_a_live_writers_record() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    {
        let (l, _) = Ledger::open(&dir, key(), ORIGIN).unwrap();
        l.append((0..4).map(|i| entry("a", i)).collect()).unwrap();
        l.checkpoint().unwrap();
    }
    let parts = next_append_bytes(&dir, &d.path().join("scratch"));
    // The "live writer": holds the lock, writes half of the record.
    let f = fs::File::open(dir.join(LOCK_FILE)).unwrap();
    let held = Flock::lock(f, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    let open = |n: &str| OpenOptions::new().write(true).open(dir.join(n)).unwrap();
    let (_, eoff, ebytes) = &parts[0];
    let half = ebytes.len() / 2;
    open(storage::ENTRIES_FILE)
        .write_all_at(&ebytes[..half], *eoff)
        .unwrap();
    let dir2 = dir.clone();
    let opener = std::thread::spawn(move || Ledger::open(&dir2, key(), ORIGIN));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !opener.is_finished(),
        "open must wait for the writer's lock"
    );
    // The writer finishes its record, index slot and hashes, fsyncs, releases.
    open(storage::ENTRIES_FILE)
        .write_all_at(&ebytes[half..], *eoff + half as u64)
        .unwrap();
    for (n, off, bytes) in &parts[1..] {
        open(n).write_all_at(bytes, *off).unwrap();
    }
    drop(held);
    let (l, rec) = opener.join().unwrap().unwrap();
    assert!(rec.is_clean(), "{rec:?}");
    assert_eq!(l.len(), 5);
    assert_eq!(l.entry(4).unwrap().object, "live/0");
    l.checkpoint().unwrap();
    drop(l);
    assert_verifies(&dir);
}

/// E4: a writer that died mid-append (torn record, lock released by its death) is
/// repaired by the next writer of a live instance under the exclusive lock, recorded as a
/// `LedgerRecovered` entry and returned by `take_recoveries`; a reader meanwhile (shared
/// lock) sees the intact entries and modifies nothing.
#[test]
fn e4_crashed_writers_tail_is_repaired_by_live_instance() {
    let d = tempfile::tempdir().unwrap();
    let (a, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    let (b, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    b.append((0..3).map(|i| entry("b", i)).collect()).unwrap();
    // B "dies" while writing its next record: a torn tail, lock released.
    drop(b);
    let ep = d.path().join(storage::ENTRIES_FILE);
    let len0 = fs::metadata(&ep).unwrap().len();
    let mut torn = 300u32.to_le_bytes().to_vec();
    torn.extend_from_slice(b"{\"action\":\"Exp");
    OpenOptions::new()
        .write(true)
        .open(&ep)
        .unwrap()
        .write_all_at(&torn, len0)
        .unwrap();
    // Readers refresh under the shared lock and leave the tail alone.
    assert_eq!(a.len(), 3);
    assert_eq!(a.entry(2).unwrap().object, "b/2");
    assert_eq!(fs::metadata(&ep).unwrap().len(), len0 + torn.len() as u64);
    // The next write repairs it first.
    let r = a.record(entry("a", 0)).unwrap();
    assert_eq!(r.seq, 4);
    let recs = a.take_recoveries();
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0].entries_truncated_bytes, torn.len() as u64);
    assert_eq!(recs[0].recorded_as, Some(3));
    assert!(recs[0].repairs[0].contains(&format!("byte offset {len0}")));
    assert_eq!(a.entry(3).unwrap().action, Action::LedgerRecovered);
    assert!(a.take_recoveries().is_empty());
    a.checkpoint().unwrap();
    drop(a);
    assert_verifies(d.path());
}
