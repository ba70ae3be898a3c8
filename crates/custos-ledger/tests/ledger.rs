//! Ledger storage, crash recovery and the independent verifier (E2, E4, E5).

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use custos_ledger::merkle::{self, MemoryTree};
use custos_ledger::storage::{self, RecordRead, RecordReader};
use custos_ledger::verify::verify_consistency;
use custos_ledger::{
    Action, Entry, Ledger, NewEntry, Report, SigningKey, verify_dir, verify_inclusion,
};
use proptest::prelude::*;
use serde_json::json;

const ORIGIN: &str = "custos.test/ledger";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn entry(i: u64, pad: usize) -> NewEntry {
    NewEntry::new(
        format!("user-{}", i % 7),
        Action::Playback,
        format!("camera/gate-{i}/segment/{i}"),
    )
    .purpose("case 2026-001")
    .details(json!({"destination": "workstation-3", "pad": "x".repeat(pad), "n": i}))
}

fn names(r: &Report, seq: u64) -> bool {
    r.problems
        .iter()
        .any(|p| p.seq == Some(seq) || p.message.contains(&format!("seq {seq}")))
}

fn names_checkpoint(r: &Report, c: u64) -> bool {
    r.problems.iter().any(|p| p.checkpoint == Some(c))
}

fn record_offsets(dir: &Path) -> Vec<u64> {
    let b = fs::read(dir.join(storage::INDEX_FILE)).unwrap();
    b.chunks(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn checkpoint_offsets(dir: &Path) -> Vec<(u64, usize)> {
    let p = dir.join(storage::CHECKPOINTS_FILE);
    let f = fs::File::open(&p).unwrap();
    let len = f.metadata().unwrap().len();
    let mut rd = RecordReader::new(f, 8, len).unwrap();
    let mut out = Vec::new();
    loop {
        let off = rd.offset();
        match rd.next_record().unwrap() {
            Some(RecordRead::Ok(p)) => out.push((off, p.len())),
            None => break,
            Some(x) => panic!("{x:?}"),
        }
    }
    out
}

/// Build a ledger with the given batches; checkpoint after batches flagged true and at
/// the end. Returns (entries, checkpoints).
fn build(dir: &Path, batches: &[(usize, bool)]) -> (u64, u64) {
    let (l, rec) = Ledger::open(dir, key(), ORIGIN).unwrap();
    assert!(rec.is_clean());
    let t = Arc::new(AtomicU64::new(1_700_000_000_000));
    let tc = t.clone();
    l.set_clock(move || tc.fetch_add(1, Ordering::SeqCst));
    let mut n = 0u64;
    let mut cps = 0;
    for (size, cp) in batches {
        let es = (0..*size)
            .map(|j| entry(n + j as u64, (n as usize * 7 + j) % 40))
            .collect();
        let rs = l.append(es).unwrap();
        for (j, r) in rs.iter().enumerate() {
            assert_eq!(r.seq, n + j as u64);
            assert_eq!(r.tree_size_after, n + *size as u64);
        }
        n += *size as u64;
        if *cp {
            l.checkpoint().unwrap();
            cps += 1;
        }
    }
    l.checkpoint().unwrap();
    (n, cps + 1)
}

#[derive(Debug, Clone)]
enum Tamper {
    AlterByte {
        entry: usize,
        byte: usize,
        refix: bool,
    },
    Delete {
        entry: usize,
    },
    Swap {
        a: usize,
        b: usize,
    },
    Truncate {
        at: usize,
    },
    Forge,
    AlterCheckpoint {
        cp: usize,
        byte: usize,
        refix: bool,
    },
}

fn tamper_strategy() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), any::<bool>())
            .prop_map(|(entry, byte, refix)| Tamper::AlterByte { entry, byte, refix }),
        any::<usize>().prop_map(|entry| Tamper::Delete { entry }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Tamper::Swap { a, b }),
        any::<usize>().prop_map(|at| Tamper::Truncate { at }),
        Just(Tamper::Forge),
        (any::<usize>(), any::<usize>(), any::<bool>())
            .prop_map(|(cp, byte, refix)| Tamper::AlterCheckpoint { cp, byte, refix }),
    ]
}

/// Rewrite `entries.log` from a list of raw payloads (keeps `entries.idx`/`hashes` as
/// they were, like an attacker editing only the log).
fn rewrite_entries(dir: &Path, payloads: &[Vec<u8>]) {
    let mut b = storage::ENTRIES_MAGIC.to_vec();
    for p in payloads {
        storage::frame(p, &mut b);
    }
    fs::write(dir.join(storage::ENTRIES_FILE), b).unwrap();
}

fn payloads(dir: &Path) -> Vec<Vec<u8>> {
    let p = dir.join(storage::ENTRIES_FILE);
    let f = fs::File::open(&p).unwrap();
    let len = f.metadata().unwrap().len();
    let mut rd = RecordReader::new(f, 8, len).unwrap();
    let mut out = Vec::new();
    while let Some(RecordRead::Ok(p)) = rd.next_record().unwrap() {
        out.push(p);
    }
    out
}

/// Apply a tamper; returns a check that the report names what was changed.
fn apply(dir: &Path, t: &Tamper, n: u64, cps: u64) -> Box<dyn Fn(&Report) -> bool> {
    let ep = dir.join(storage::ENTRIES_FILE);
    match t.clone() {
        Tamper::AlterByte { entry, byte, refix } => {
            let k = (entry as u64 % n) as usize;
            let mut ps = payloads(dir);
            if refix {
                // Attacker edits the payload and recomputes the record check value.
                let i = byte % ps[k].len();
                ps[k][i] ^= 0x01 << (byte % 7);
                rewrite_entries(dir, &ps);
            } else {
                let offs = record_offsets(dir);
                let rec_len = storage::FRAMING as usize + ps[k].len();
                let at = offs[k] + (byte % rec_len) as u64;
                let f = OpenOptions::new().write(true).read(true).open(&ep).unwrap();
                let mut b = [0u8];
                f.read_exact_at(&mut b, at).unwrap();
                b[0] ^= 0x80;
                f.write_all_at(&b, at).unwrap();
            }
            Box::new(move |r| names(r, k as u64))
        }
        Tamper::Delete { entry } => {
            let k = (entry as u64 % n) as usize;
            let mut ps = payloads(dir);
            ps.remove(k);
            rewrite_entries(dir, &ps);
            Box::new(move |r| names(r, k as u64))
        }
        Tamper::Swap { a, b } => {
            let (a, b) = ((a as u64 % n) as usize, (b as u64 % n) as usize);
            let (a, b) = (a.min(b), a.max(b));
            if a == b {
                return Box::new(|r| r.is_clean());
            }
            let mut ps = payloads(dir);
            ps.swap(a, b);
            rewrite_entries(dir, &ps);
            Box::new(move |r| names(r, a as u64))
        }
        Tamper::Truncate { at } => {
            let len = fs::metadata(&ep).unwrap().len();
            let cut = 8 + (at as u64 % (len - 8));
            let offs = record_offsets(dir);
            let k = offs.iter().rposition(|&o| o <= cut).unwrap() as u64;
            OpenOptions::new()
                .write(true)
                .open(&ep)
                .unwrap()
                .set_len(cut)
                .unwrap();
            Box::new(move |r| names(r, k))
        }
        Tamper::Forge => {
            // A well-formed entry with the next seq, also indexed and hashed: only the
            // missing signed checkpoint can give it away.
            let e = Entry {
                seq: n,
                time_unix_ms: 1_800_000_000_000,
                actor: "mallory".into(),
                action: Action::View,
                object: "camera/gate-1".into(),
                purpose: None,
                details: json!(null),
            };
            let bytes = e.to_canonical_bytes();
            let mut t = MemoryTree::new();
            for p in payloads(dir) {
                t.push(&p);
            }
            let before = t.stored().len();
            t.push(&bytes);
            let elen = fs::metadata(&ep).unwrap().len();
            let mut rec = Vec::new();
            storage::frame(&bytes, &mut rec);
            let app = |name: &str, b: &[u8]| {
                use std::io::Write;
                OpenOptions::new()
                    .append(true)
                    .open(dir.join(name))
                    .unwrap()
                    .write_all(b)
                    .unwrap();
            };
            app(storage::ENTRIES_FILE, &rec);
            app(storage::INDEX_FILE, &elen.to_le_bytes());
            app(storage::HASHES_FILE, &t.stored()[before..].concat());
            Box::new(move |r| names(r, n))
        }
        Tamper::AlterCheckpoint { cp, byte, refix } => {
            let c = (cp as u64 % cps) as usize;
            let offs = checkpoint_offsets(dir);
            let (off, plen) = offs[c];
            let p = dir.join(storage::CHECKPOINTS_FILE);
            let f = OpenOptions::new().write(true).read(true).open(&p).unwrap();
            if refix {
                let mut payload = vec![0u8; plen];
                f.read_exact_at(&mut payload, off + 4).unwrap();
                let i = byte % plen;
                payload[i] ^= 0x01 << (byte % 7);
                let mut rec = Vec::new();
                storage::frame(&payload, &mut rec);
                f.write_all_at(&rec, off).unwrap();
            } else {
                let at = off + (byte % (plen + 8)) as u64;
                let mut b = [0u8];
                f.read_exact_at(&mut b, at).unwrap();
                b[0] ^= 0x40;
                f.write_all_at(&b, at).unwrap();
            }
            Box::new(move |r| names_checkpoint(r, c as u64))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    /// E4: untouched ledgers verify clean; every alteration, deletion, reordering,
    /// truncation, forged unsigned entry or altered checkpoint is reported, naming the
    /// entry seq or checkpoint concerned.
    #[test]
    fn e4_verifier_detects_every_tampering(
        batches in prop::collection::vec((1usize..6, any::<bool>()), 1..6),
        t in tamper_strategy(),
    ) {
        let d = tempfile::tempdir().unwrap();
        let (n, cps) = build(d.path(), &batches);
        let vk = key().verifying_key();
        let clean = verify_dir(d.path(), &vk);
        prop_assert!(clean.is_clean(), "untouched ledger not clean:\n{clean}");
        prop_assert_eq!(clean.entries, n);
        prop_assert_eq!(clean.verified_size, n);
        prop_assert_eq!(clean.checkpoints, cps);
        let check = apply(d.path(), &t, n, cps);
        let r = verify_dir(d.path(), &vk);
        prop_assert!(!r.is_clean() || matches!(t, Tamper::Swap { .. }), "{t:?} not detected:\n{r}");
        prop_assert!(check(&r), "{t:?}: report does not name it:\n{r}");
    }

    /// E4/E5: consistency proofs verify between any two sizes m <= n and inclusion
    /// proofs for every leaf, from the on-disk ledger, and match the in-memory tree.
    #[test]
    fn e4_proofs_verify_for_all_sizes_and_leaves(
        sizes in prop::collection::vec(1usize..9, 1..5),
    ) {
        let d = tempfile::tempdir().unwrap();
        let (l, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
        let mut mem = MemoryTree::new();
        let mut roots = vec![merkle::empty_root()];
        for s in sizes {
            let start = l.len();
            l.append((0..s).map(|j| entry(start + j as u64, j)).collect()).unwrap();
            for seq in start..l.len() {
                mem.push(&l.entry_bytes(seq).unwrap());
                roots.push(mem.root());
            }
        }
        let n = l.len();
        prop_assert_eq!(l.root(), mem.root());
        for m in 0..=n {
            prop_assert_eq!(l.root_at(m).unwrap(), roots[m as usize]);
            for k in m..=n {
                let p = l.consistency_proof(m, k).unwrap();
                prop_assert_eq!(&p, &merkle::consistency_proof(&mem, m, k).unwrap());
                prop_assert!(merkle::verify_consistency_proof(m, k, &p, &roots[m as usize], &roots[k as usize]), "consistency {m}->{k}");
            }
        }
        for size in 1..=n {
            for i in 0..size {
                let p = l.inclusion_proof(i, size).unwrap();
                let leaf = merkle::leaf_hash(&l.entry_bytes(i).unwrap());
                prop_assert!(merkle::verify_inclusion_proof(&leaf, i, size, &p, &roots[size as usize]), "inclusion {i} in {size}");
            }
        }
    }
}

/// E5: a single entry, its inclusion proof and a signed checkpoint verify offline with the
/// public key alone; any change to the entry, proof or checkpoint is rejected.
#[test]
fn e5_single_leaf_inclusion_against_signed_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let (l, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    l.append((0..13).map(|i| entry(i, 3)).collect()).unwrap();
    let c1 = l.checkpoint().unwrap();
    l.append((13..20).map(|i| entry(i, 3)).collect()).unwrap();
    let c2 = l.checkpoint().unwrap();
    let vk = key().verifying_key();
    let bytes = l.entry_bytes(7).unwrap();
    let proof = l.inclusion_proof(7, c2.checkpoint.tree_size).unwrap();
    verify_inclusion(&bytes, 7, &proof, &c2, &vk).unwrap();
    let mut altered = bytes.clone();
    altered[10] ^= 1;
    assert!(verify_inclusion(&altered, 7, &proof, &c2, &vk).is_err());
    assert!(verify_inclusion(&bytes, 8, &proof, &c2, &vk).is_err());
    let other = SigningKey::from_bytes(&[1u8; 32]).verifying_key();
    assert!(verify_inclusion(&bytes, 7, &proof, &c2, &other).is_err());
    let cproof = l.consistency_proof(13, 20).unwrap();
    verify_consistency(&c1, &c2, &cproof, &vk).unwrap();
    assert!(verify_consistency(&c2, &c1, &cproof, &vk).is_err());
    assert_eq!(l.latest_checkpoint(), Some(c2.clone()));
    // The text form round-trips.
    let t = c2.to_text();
    assert!(t.contains("\n\n\u{2014} custos.test/ledger "));
    assert_eq!(custos_ledger::SignedCheckpoint::parse(&t).unwrap(), c2);
}

/// E4 crash safety: a torn trailing record is cut on reopen and reported (and recorded
/// in the ledger itself); the log is intact up to the last complete record; appends
/// continue; the verifier is clean.
#[test]
fn e4_torn_write_is_recovered_and_reported() {
    let d = tempfile::tempdir().unwrap();
    let (n, _) = build(d.path(), &[(5, true), (3, false)]);
    let before: Vec<Vec<u8>> = payloads(d.path());
    // Torn write: a length prefix promising 200 bytes followed by only 10.
    let ep = d.path().join(storage::ENTRIES_FILE);
    let len0 = fs::metadata(&ep).unwrap().len();
    let mut torn = 200u32.to_le_bytes().to_vec();
    torn.extend_from_slice(b"{\"action\":");
    {
        use std::io::Write;
        OpenOptions::new()
            .append(true)
            .open(&ep)
            .unwrap()
            .write_all(&torn)
            .unwrap();
    }
    // The verifier sees it before repair.
    let r = verify_dir(d.path(), &key().verifying_key());
    assert!(r.has_errors() && names(&r, n), "{r}");

    let (l, rec) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    assert!(!rec.is_clean());
    assert_eq!(rec.entries_truncated_bytes, torn.len() as u64);
    assert!(
        rec.repairs[0].contains(&format!("byte offset {len0}")),
        "{rec:?}"
    );
    assert_eq!(rec.recorded_as, Some(n));
    let e = l.entry(n).unwrap();
    assert_eq!(e.action, Action::LedgerRecovered);
    assert_eq!(l.len(), n + 1);
    for (i, p) in before.iter().enumerate() {
        assert_eq!(&l.entry_bytes(i as u64).unwrap(), p);
    }
    l.record(entry(99, 1)).unwrap();
    l.checkpoint().unwrap();
    drop(l);
    let r = verify_dir(d.path(), &key().verifying_key());
    assert!(r.is_clean(), "{r}");
    assert_eq!(r.entries, n + 2);

    // A clean reopen reports nothing.
    let (_l, rec) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    assert!(rec.is_clean(), "{rec:?}");
}

/// E4 crash safety: a crash after `entries.log` was synced but before `entries.idx` /
/// `hashes` were: reopen re-indexes the complete records and reports it.
#[test]
fn e4_crash_between_log_and_index_is_reindexed() {
    let d = tempfile::tempdir().unwrap();
    let (n, _) = build(d.path(), &[(4, true), (4, false)]);
    let ip = d.path().join(storage::INDEX_FILE);
    let hp = d.path().join(storage::HASHES_FILE);
    OpenOptions::new()
        .write(true)
        .open(&ip)
        .unwrap()
        .set_len(5 * 8 + 3)
        .unwrap();
    OpenOptions::new()
        .write(true)
        .open(&hp)
        .unwrap()
        .set_len(merkle::stored_hash_count(6) * 32 + 5)
        .unwrap();
    let (l, rec) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    assert_eq!(rec.reindexed, n - 5);
    assert_eq!(rec.recorded_as, Some(n));
    l.checkpoint().unwrap();
    drop(l);
    let r = verify_dir(d.path(), &key().verifying_key());
    assert!(r.is_clean(), "{r}");
}

/// E4 fail closed: a ledger whose signed entries were removed refuses to open.
#[test]
fn e4_open_refuses_truncation_below_signed_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    build(d.path(), &[(6, false)]);
    let ep = d.path().join(storage::ENTRIES_FILE);
    let offs = record_offsets(d.path());
    OpenOptions::new()
        .write(true)
        .open(&ep)
        .unwrap()
        .set_len(offs[4])
        .unwrap();
    // Index and hashes cut too, as a careful attacker would.
    OpenOptions::new()
        .write(true)
        .open(d.path().join(storage::INDEX_FILE))
        .unwrap()
        .set_len(32)
        .unwrap();
    OpenOptions::new()
        .write(true)
        .open(d.path().join(storage::HASHES_FILE))
        .unwrap()
        .set_len(merkle::stored_hash_count(4) * 32)
        .unwrap();
    let err = Ledger::open(d.path(), key(), ORIGIN)
        .err()
        .expect("must refuse");
    assert!(err.to_string().contains("covers 6 entries"), "{err}");
    // Wrong key: refuses too.
    let d2 = tempfile::tempdir().unwrap();
    build(d2.path(), &[(2, false)]);
    assert!(Ledger::open(d2.path(), SigningKey::from_bytes(&[5u8; 32]), ORIGIN).is_err());
}

/// E7/E4: a clock going backwards is reported as a warning, not an integrity error.
#[test]
fn e4_clock_backwards_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let (l, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    l.set_clock(|| 2_000);
    l.record(entry(0, 0)).unwrap();
    l.set_clock(|| 1_000);
    l.record(entry(1, 0)).unwrap();
    l.checkpoint().unwrap();
    let r = verify_dir(d.path(), &key().verifying_key());
    assert!(!r.has_errors() && names(&r, 1), "{r}");
    assert!(r.problems[0].message.contains("clock went backwards"));
}

/// E2: entries carry actor, purpose, object and details; batches get contiguous seqs;
/// concurrent appenders from many threads all land, each exactly once.
#[test]
fn e2_concurrent_appends_are_all_registered() {
    let d = tempfile::tempdir().unwrap();
    let (l, _) = Ledger::open(d.path(), key(), ORIGIN).unwrap();
    let l = Arc::new(l);
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    l.append(vec![entry(t * 100 + i, 1), entry(t * 100 + i, 2)])
                        .unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(l.len(), 80);
    let es = l.entries(0..80).unwrap();
    for (i, e) in es.iter().enumerate() {
        assert_eq!(e.seq, i as u64);
        assert_eq!(e.purpose.as_deref(), Some("case 2026-001"));
    }
    l.checkpoint().unwrap();
    assert!(verify_dir(d.path(), &key().verifying_key()).is_clean());
}

/// Cadence helper: due after N entries or T elapsed with new entries.
#[test]
fn checkpoint_cadence() {
    let c = custos_ledger::CheckpointCadence {
        every_entries: 10,
        every: std::time::Duration::from_secs(5),
    };
    assert!(!c.due(0, None, 0));
    assert!(c.due(10, Some((0, 1_000)), 1_000));
    assert!(!c.due(9, Some((0, 1_000)), 1_000));
    assert!(c.due(1, Some((0, 1_000)), 6_000));
    assert!(!c.due(5, Some((5, 1_000)), 60_000));
}
