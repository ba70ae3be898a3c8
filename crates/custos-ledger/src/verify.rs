//! The independent verifier (E4, E5): needs only the ledger files and the public key.
//!
//! [`verify_dir`] walks `entries.log` from the first record, recomputes every leaf and
//! stored hash, and checks: record framing and check values, canonical entry encoding,
//! contiguous seq numbers, `entries.idx` offsets, every stored hash in `hashes`, each
//! checkpoint's signature and origin, each checkpoint's root against the recomputed tree
//! at its size, consistency proofs between consecutive checkpoints, checkpoint sizes never
//! going down, and reports (as warnings) times going backwards and entries not yet covered
//! by a signed checkpoint. It streams: memory is `O(log n)` plus the checkpoint list.
//!
//! [`verify_inclusion`] / [`verify_consistency`] are pure checks of single proofs against
//! signed checkpoints (for evidence bundles).

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use ed25519_dalek::VerifyingKey;

use crate::checkpoint::SignedCheckpoint;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::merkle::{self, Frontier, Hash};
use crate::storage::{
    CHECKPOINTS_FILE, CHECKPOINTS_MAGIC, ENTRIES_FILE, ENTRIES_MAGIC, HASHES_FILE, INDEX_FILE,
    RecordRead, RecordReader,
};

/// Stop collecting problems after this many (the report says it was cut).
pub const MAX_PROBLEMS: usize = 1000;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Severity {
    /// Integrity is broken (alteration, truncation, reordering, bad signature...).
    Error,
    /// Not proof of tampering, but to be looked at (clock went backwards, entries not yet
    /// covered by a signed checkpoint).
    Warning,
}

/// One finding, naming exactly where.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// File concerned (`entries.log`, `entries.idx`, `hashes`, `checkpoints.log`).
    pub file: &'static str,
    /// Entry seq (position in the log) concerned, if any.
    pub seq: Option<u64>,
    /// Checkpoint number (0-based position in `checkpoints.log`), if any.
    pub checkpoint: Option<u64>,
    /// Byte offset in `file`, if known.
    pub offset: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}", self.severity, self.file)?;
        if let Some(s) = self.seq {
            write!(f, " seq {s}")?;
        }
        if let Some(c) = self.checkpoint {
            write!(f, " checkpoint #{c}")?;
        }
        if let Some(o) = self.offset {
            write!(f, " offset {o}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Verification result.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Complete entry records read.
    pub entries: u64,
    /// Checkpoint records read.
    pub checkpoints: u64,
    /// Largest tree size covered by a checkpoint whose signature and root verified.
    pub verified_size: u64,
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
    /// True when more than [`MAX_PROBLEMS`] were found and the rest left out.
    pub truncated: bool,
}

impl Report {
    /// No problem at all.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
    /// Any [`Severity::Error`].
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
    fn push(&mut self, p: Problem) {
        if self.problems.len() >= MAX_PROBLEMS {
            self.truncated = true;
        } else {
            self.problems.push(p);
        }
    }
    fn err(&mut self, file: &'static str, seq: Option<u64>, offset: Option<u64>, msg: String) {
        self.push(Problem {
            severity: Severity::Error,
            file,
            seq,
            checkpoint: None,
            offset,
            message: msg,
        });
    }
    fn cp(&mut self, sev: Severity, cp: u64, offset: Option<u64>, msg: String) {
        self.push(Problem {
            severity: sev,
            file: CHECKPOINTS_FILE,
            seq: None,
            checkpoint: Some(cp),
            offset,
            message: msg,
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} entries, {} checkpoints, verified up to tree size {}, {} problem(s){}",
            self.entries,
            self.checkpoints,
            self.verified_size,
            self.problems.len(),
            if self.truncated { " (list cut)" } else { "" }
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

struct Cp {
    n: u64,
    offset: u64,
    c: SignedCheckpoint,
    /// Signature verified and not superseded by a size decrease.
    valid: bool,
    root_ok: Option<bool>,
}

fn open(dir: &Path, name: &'static str, r: &mut Report) -> Option<(File, u64)> {
    let p = dir.join(name);
    match File::open(&p).and_then(|f| f.metadata().map(|m| (f, m.len()))) {
        Ok(x) => Some(x),
        Err(e) => {
            r.err(
                name,
                None,
                None,
                format!("cannot open {}: {e}", p.display()),
            );
            None
        }
    }
}

fn check_magic(f: &File, len: u64, magic: &[u8; 8], name: &'static str, r: &mut Report) -> bool {
    use std::os::unix::fs::FileExt;
    let mut b = [0u8; 8];
    if len < 8 || f.read_exact_at(&mut b, 0).is_err() || &b != magic {
        r.err(
            name,
            None,
            Some(0),
            format!(
                "missing or wrong file header (want {:?})",
                String::from_utf8_lossy(magic)
            ),
        );
        return false;
    }
    true
}

fn read_checkpoints(dir: &Path, key: &VerifyingKey, r: &mut Report) -> Vec<Cp> {
    let mut out = Vec::new();
    let Some((f, len)) = open(dir, CHECKPOINTS_FILE, r) else {
        return out;
    };
    if !check_magic(&f, len, CHECKPOINTS_MAGIC, CHECKPOINTS_FILE, r) {
        return out;
    }
    let mut rd = match RecordReader::new(f, 8, len) {
        Ok(x) => x,
        Err(e) => {
            r.err(CHECKPOINTS_FILE, None, None, format!("read error: {e}"));
            return out;
        }
    };
    let mut n = 0u64;
    let mut origin: Option<String> = None;
    loop {
        let off = rd.offset();
        let rec = match rd.next_record() {
            Ok(None) => break,
            Ok(Some(x)) => x,
            Err(e) => {
                r.cp(Severity::Error, n, Some(off), format!("read error: {e}"));
                break;
            }
        };
        let payload = match rec {
            RecordRead::Ok(p) => p,
            RecordRead::Torn { need, have } => {
                r.cp(
                    Severity::Error,
                    n,
                    Some(off),
                    format!("truncated checkpoint record: needs {need} bytes, file has {have}"),
                );
                break;
            }
            RecordRead::Bad(m) => {
                r.cp(
                    Severity::Error,
                    n,
                    Some(off),
                    format!("damaged checkpoint record: {m}"),
                );
                break;
            }
        };
        let parsed = String::from_utf8(payload)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(|t| SignedCheckpoint::parse(&t));
        match parsed {
            Err(m) => r.cp(
                Severity::Error,
                n,
                Some(off),
                format!("unparsable checkpoint: {m}"),
            ),
            Ok(c) => {
                let mut valid = true;
                if let Err(e) = c.verify(key) {
                    r.cp(Severity::Error, n, Some(off), e.to_string());
                    valid = false;
                }
                match &origin {
                    None => origin = Some(c.checkpoint.origin.clone()),
                    Some(o) if *o != c.checkpoint.origin => {
                        r.cp(
                            Severity::Error,
                            n,
                            Some(off),
                            format!(
                                "origin {:?} differs from earlier {o:?}",
                                c.checkpoint.origin
                            ),
                        );
                        valid = false;
                    }
                    _ => {}
                }
                if let Some(prev) = out.iter().rev().find(|p: &&Cp| p.valid) {
                    if c.checkpoint.tree_size < prev.c.checkpoint.tree_size {
                        r.cp(
                            Severity::Error,
                            n,
                            Some(off),
                            format!(
                                "tree size {} is smaller than checkpoint #{}'s {}: the log went backwards",
                                c.checkpoint.tree_size, prev.n, prev.c.checkpoint.tree_size
                            ),
                        );
                    }
                    if c.checkpoint.time_unix_ms < prev.c.checkpoint.time_unix_ms {
                        r.cp(
                            Severity::Warning,
                            n,
                            Some(off),
                            format!(
                                "time {} ms is before checkpoint #{}'s {} ms (clock went backwards)",
                                c.checkpoint.time_unix_ms, prev.n, prev.c.checkpoint.time_unix_ms
                            ),
                        );
                    }
                }
                out.push(Cp {
                    n,
                    offset: off,
                    c,
                    valid,
                    root_ok: None,
                });
            }
        }
        n += 1;
    }
    r.checkpoints = n;
    out
}

/// Verify a ledger directory with the signer's public key. Never fails: every problem,
/// including I/O errors, is in the report.
pub fn verify_dir(dir: &Path, key: &VerifyingKey) -> Report {
    let mut r = Report::default();
    let mut cps = read_checkpoints(dir, key, &mut r);
    // Checkpoint positions by tree size (several may share a size).
    let mut by_size: Vec<usize> = (0..cps.len()).collect();
    by_size.sort_by_key(|&i| cps[i].c.checkpoint.tree_size);
    let mut next_cp = 0usize;
    let mut check_roots = |size: u64, root: &Hash, cps: &mut Vec<Cp>, r: &mut Report| {
        while next_cp < by_size.len() && cps[by_size[next_cp]].c.checkpoint.tree_size == size {
            let c = &mut cps[by_size[next_cp]];
            let ok = c.c.checkpoint.root_hash == *root;
            c.root_ok = Some(ok);
            if !ok {
                let (n, off, cr) = (c.n, c.offset, c.c.checkpoint.root_hash);
                r.cp(
                    Severity::Error,
                    n,
                    Some(off),
                    format!(
                        "root {} of tree size {size} differs from the root {} recomputed from {ENTRIES_FILE}",
                        hex::encode(cr),
                        hex::encode(root)
                    ),
                );
            }
            next_cp += 1;
        }
    };
    let mut frontier = Frontier::new();
    check_roots(0, &frontier.root(), &mut cps, &mut r);

    let ents = open(dir, ENTRIES_FILE, &mut r);
    let idx = open(dir, INDEX_FILE, &mut r);
    let hs = open(dir, HASHES_FILE, &mut r);
    let mut n = 0u64;
    let mut hashes_ok = hs.is_some();
    let mut idx_ok = idx.is_some();
    let (idx_len, hs_len) = (
        idx.as_ref().map(|x| x.1).unwrap_or(0),
        hs.as_ref().map(|x| x.1).unwrap_or(0),
    );
    let mut idx_r = idx.map(|(f, _)| BufReader::with_capacity(1 << 16, f));
    let mut hs_r = hs.map(|(f, _)| BufReader::with_capacity(1 << 20, f));
    let mut stored_i = 0u64;
    if let Some((ef, elen)) = ents
        && check_magic(&ef, elen, ENTRIES_MAGIC, ENTRIES_FILE, &mut r)
    {
        {
            match RecordReader::new(ef, 8, elen) {
                Err(e) => r.err(ENTRIES_FILE, None, None, format!("read error: {e}")),
                Ok(mut rd) => {
                    let mut prev_time = 0u64;
                    let mut out = Vec::with_capacity(64);
                    loop {
                        let off = rd.offset();
                        let payload = match rd.next_record() {
                            Ok(None) => break,
                            Ok(Some(RecordRead::Ok(p))) => p,
                            Ok(Some(RecordRead::Torn { need, have })) => {
                                r.err(ENTRIES_FILE, Some(n), Some(off), format!(
                                    "truncated record: needs {need} bytes, file ends after {have} (torn write or truncation)"
                                ));
                                break;
                            }
                            Ok(Some(RecordRead::Bad(m))) => {
                                r.err(
                                    ENTRIES_FILE,
                                    Some(n),
                                    Some(off),
                                    format!("damaged record ({m}); cannot read further"),
                                );
                                break;
                            }
                            Err(e) => {
                                r.err(ENTRIES_FILE, Some(n), Some(off), format!("read error: {e}"));
                                break;
                            }
                        };
                        // Index slot.
                        if let (Some(ir), true) = (idx_r.as_mut(), idx_ok) {
                            let mut b = [0u8; 8];
                            if ir.read_exact(&mut b).is_err() {
                                r.err(
                                    INDEX_FILE,
                                    Some(n),
                                    Some(n * 8),
                                    format!("index ends at {idx_len} bytes before entry seq {n}"),
                                );
                                idx_ok = false;
                            } else if u64::from_le_bytes(b) != off {
                                r.err(
                                    INDEX_FILE,
                                    Some(n),
                                    Some(n * 8),
                                    format!(
                                        "slot says offset {}, the record is at offset {off}",
                                        u64::from_le_bytes(b)
                                    ),
                                );
                            }
                        }
                        match Entry::from_canonical_bytes(&payload) {
                            Err(m) => {
                                r.err(ENTRIES_FILE, Some(n), Some(off), format!("bad entry: {m}"))
                            }
                            Ok(e) => {
                                if e.seq != n {
                                    r.err(ENTRIES_FILE, Some(n), Some(off), format!(
                                        "entry says seq {} at position {n} (deleted, inserted or reordered entries)",
                                        e.seq
                                    ));
                                }
                                if e.time_unix_ms < prev_time {
                                    r.push(Problem {
                                        severity: Severity::Warning,
                                        file: ENTRIES_FILE,
                                        seq: Some(n),
                                        checkpoint: None,
                                        offset: Some(off),
                                        message: format!(
                                            "time {} ms is before the previous entry's {prev_time} ms (clock went backwards)",
                                            e.time_unix_ms
                                        ),
                                    });
                                }
                                prev_time = e.time_unix_ms;
                            }
                        }
                        out.clear();
                        frontier.push(merkle::leaf_hash(&payload), &mut out);
                        if let (Some(hr), true) = (hs_r.as_mut(), hashes_ok) {
                            for h in &out {
                                let mut b = [0u8; 32];
                                if hr.read_exact(&mut b).is_err() {
                                    r.err(HASHES_FILE, Some(n), Some(stored_i * 32), format!(
                                        "hashes file ends at {hs_len} bytes; stored hash #{stored_i} for entry seq {n} is missing"
                                    ));
                                    hashes_ok = false;
                                    break;
                                }
                                if b != *h {
                                    r.err(
                                        HASHES_FILE,
                                        Some(n),
                                        Some(stored_i * 32),
                                        format!(
                                            "stored hash #{stored_i} is {}, recomputed {}",
                                            hex::encode(b),
                                            hex::encode(h)
                                        ),
                                    );
                                    hashes_ok = false;
                                    break;
                                }
                                stored_i += 1;
                            }
                        }
                        n += 1;
                        check_roots(n, &frontier.root(), &mut cps, &mut r);
                    }
                }
            }
        }
    }
    r.entries = n;
    if idx_ok && idx_len != n * 8 {
        r.err(INDEX_FILE, None, Some(n * 8), format!(
            "index is {idx_len} bytes; {n} entries need {} (entries missing from {ENTRIES_FILE}?)",
            n * 8
        ));
    }
    let want_h = merkle::stored_hash_count(n) * 32;
    if hashes_ok && hs_len != want_h {
        r.err(HASHES_FILE, None, Some(want_h), format!(
            "hashes file is {hs_len} bytes; {n} entries need {want_h} (entries missing from {ENTRIES_FILE}?)"
        ));
    }
    // Checkpoints beyond the log.
    for c in cps.iter_mut().filter(|c| c.c.checkpoint.tree_size > n) {
        c.root_ok = Some(false);
        r.cp(
            Severity::Error,
            c.n,
            Some(c.offset),
            format!(
                "signed tree size {} but {ENTRIES_FILE} holds only {n} complete entries: signed entries seq {n}..{} are missing (truncation)",
                c.c.checkpoint.tree_size,
                c.c.checkpoint.tree_size - 1
            ),
        );
    }
    // Consistency between consecutive good checkpoints, from the stored hashes.
    let good: Vec<&Cp> = cps
        .iter()
        .filter(|c| c.valid && c.root_ok == Some(true))
        .collect();
    r.verified_size = good
        .iter()
        .map(|c| c.c.checkpoint.tree_size)
        .max()
        .unwrap_or(0);
    if hashes_ok && let Ok(f) = File::open(dir.join(HASHES_FILE)) {
        {
            let src = |level: u32, index: u64| -> Result<Hash> {
                use std::os::unix::fs::FileExt;
                let mut h = [0u8; 32];
                f.read_exact_at(&mut h, merkle::stored_hash_index(level, index) * 32)
                    .map_err(Error::io("read", dir.join(HASHES_FILE)))?;
                Ok(h)
            };
            for w in good.windows(2) {
                let (a, b) = (&w[0].c.checkpoint, &w[1].c.checkpoint);
                if a.tree_size > b.tree_size {
                    continue; // reported above
                }
                let ok = merkle::consistency_proof(&src, a.tree_size, b.tree_size)
                    .map(|p| {
                        merkle::verify_consistency_proof(
                            a.tree_size,
                            b.tree_size,
                            &p,
                            &a.root_hash,
                            &b.root_hash,
                        )
                    })
                    .unwrap_or(false);
                if !ok {
                    r.cp(Severity::Error, w[1].n, Some(w[1].offset), format!(
                        "no valid consistency proof from checkpoint #{} (size {}) to this one (size {})",
                        w[0].n, a.tree_size, b.tree_size
                    ));
                }
            }
        }
    }
    // Entries not covered by any signed checkpoint.
    if n > r.verified_size {
        r.push(Problem {
            severity: Severity::Warning,
            file: ENTRIES_FILE,
            seq: Some(r.verified_size),
            checkpoint: None,
            offset: None,
            message: format!(
                "entries seq {}..{} are not covered by a verified signed checkpoint (unsigned tail: could be forged or appended after the last checkpoint)",
                r.verified_size,
                n - 1
            ),
        });
    }
    r
}

/// Verify that `leaf_bytes` is entry `index` of the log signed by `checkpoint`, given the
/// inclusion `proof` (RFC 9162 §2.1.3.2) and the signer's public key (E5).
pub fn verify_inclusion(
    leaf_bytes: &[u8],
    index: u64,
    proof: &[Hash],
    checkpoint: &SignedCheckpoint,
    key: &VerifyingKey,
) -> Result<()> {
    checkpoint.verify(key)?;
    let c = &checkpoint.checkpoint;
    if !merkle::verify_inclusion_proof(
        &merkle::leaf_hash(leaf_bytes),
        index,
        c.tree_size,
        proof,
        &c.root_hash,
    ) {
        return Err(Error::Inconsistent(format!(
            "inclusion proof of leaf {index} ({} hashes) does not lead to the root of the checkpoint of size {}",
            proof.len(),
            c.tree_size
        )));
    }
    Ok(())
}

/// Verify that the log at `new` extends the log at `old` (RFC 9162 §2.1.4.2), both
/// checkpoints signed by `key`.
pub fn verify_consistency(
    old: &SignedCheckpoint,
    new: &SignedCheckpoint,
    proof: &[Hash],
    key: &VerifyingKey,
) -> Result<()> {
    old.verify(key)?;
    new.verify(key)?;
    let (a, b) = (&old.checkpoint, &new.checkpoint);
    if a.origin != b.origin {
        return Err(Error::Inconsistent(format!(
            "checkpoints of different logs: {:?} vs {:?}",
            a.origin, b.origin
        )));
    }
    if !merkle::verify_consistency_proof(
        a.tree_size,
        b.tree_size,
        proof,
        &a.root_hash,
        &b.root_hash,
    ) {
        return Err(Error::Inconsistent(format!(
            "consistency proof from size {} to size {} does not verify",
            a.tree_size, b.tree_size
        )));
    }
    Ok(())
}
