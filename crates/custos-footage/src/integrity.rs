//! Integrity check of footage against the index and the ledger (E3, E4, E7): every sealed
//! segment file exists, has its sealed size and SHA-256, and is recorded in the ledger with
//! the same hash; every deletion and gap is in the ledger; nothing the ledger recorded is
//! missing from the index. Read-only: it never repairs.

use std::collections::HashMap;

use custos_core::{Result, Time90k};
use custos_ledger::{Action, Entry};
use custos_store::{SegmentState, Store};

use crate::layout::DataDir;
use crate::segment_file::sha256_file;

/// One thing wrong, naming the object.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// `segment/12`, `gap/3`, `ledger/seq/40`…
    pub object: String,
    pub problem: String,
    /// Warnings do not make the check fail (e.g. a segment still being recorded).
    pub warning: bool,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FootageReport {
    pub segments_checked: u64,
    pub bytes_hashed: u64,
    pub deleted_by_retention: u64,
    pub gaps_checked: u64,
    pub findings: Vec<Finding>,
}

impl FootageReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| !f.warning).count()
    }
}

/// Checks every index row and every footage entry of the ledger. `entries` are all ledger
/// entries in order; `progress` is called with bytes hashed so far.
pub async fn check(
    store: &Store,
    data: &DataDir,
    entries: &[Entry],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FootageReport> {
    let mut rep = FootageReport::default();
    let mut bad = |object: String, problem: String, warning: bool| {
        rep_push(&mut rep.findings, object, problem, warning)
    };
    let by_seq: HashMap<u64, &Entry> = entries.iter().map(|e| (e.seq, e)).collect();
    let seg_id = |e: &Entry| e.details.get("segment_id").and_then(|v| v.as_i64());
    let mut sealed_in_ledger: HashMap<i64, &Entry> = HashMap::new();
    let mut deleted_in_ledger: HashMap<i64, &Entry> = HashMap::new();
    for e in entries {
        match (&e.action, seg_id(e)) {
            (Action::SegmentSealed, Some(id)) => {
                sealed_in_ledger.insert(id, e);
            }
            (Action::SegmentDeleted, Some(id)) => {
                deleted_in_ledger.insert(id, e);
            }
            _ => {}
        }
    }
    let rows = store.all_segments().await?;
    let mut hashed = 0u64;
    for s in &rows {
        let obj = format!("segment/{} ({})", s.id, s.path);
        let path = data.abs(&s.path);
        match s.state {
            SegmentState::Open => bad(obj, "still open: being recorded now, or the recorder crashed (starting it recovers the segment)".into(), true),
            SegmentState::Sealed => {
                rep.segments_checked += 1;
                if !path.exists() {
                    bad(obj, "MISSING: the sealed file is gone and retention did not delete it".into(), false);
                    continue;
                }
                let (len, sha) = sha256_file(&path)?;
                hashed += len;
                progress(hashed);
                if Some(len as i64) != s.bytes {
                    bad(obj.clone(), format!("size is {len} bytes but it was sealed at {} bytes", s.bytes.unwrap_or(-1)), false);
                }
                if Some(sha.as_str()) != s.sha256.as_deref() {
                    bad(obj.clone(), format!("content changed: SHA-256 is {sha}, sealed as {}", s.sha256.as_deref().unwrap_or("?")), false);
                }
                match s.ledger_seq.and_then(|q| by_seq.get(&(q as u64))) {
                    None if s.ledger_seq.is_none() => bad(obj.clone(), "not recorded in the ledger".into(), false),
                    None => bad(obj.clone(), format!("its ledger entry {} does not exist", s.ledger_seq.unwrap()), false),
                    Some(e) => {
                        let e_sha = e.details.get("sha256").and_then(|v| v.as_str());
                        if e.action != Action::SegmentSealed || seg_id(e) != Some(s.id) {
                            bad(obj.clone(), format!("ledger entry {} is not this segment's seal", e.seq), false);
                        } else if e_sha != s.sha256.as_deref() {
                            bad(obj.clone(), format!("index hash {} differs from the ledger's {}", s.sha256.as_deref().unwrap_or("?"), e_sha.unwrap_or("?")), false);
                        }
                    }
                }
            }
            SegmentState::Deleted => {
                rep.deleted_by_retention += 1;
                if path.exists() {
                    bad(obj.clone(), "marked deleted by retention but the file is still there".into(), true);
                }
                if !deleted_in_ledger.contains_key(&s.id) {
                    bad(obj, "marked deleted but the ledger has no deletion entry for it".into(), false);
                }
            }
        }
    }
    // What the ledger recorded must still be in the index.
    let row_ids: HashMap<i64, &custos_store::Segment> = rows.iter().map(|s| (s.id, s)).collect();
    for (id, e) in &sealed_in_ledger {
        match row_ids.get(id) {
            None => bad(
                format!("ledger/seq/{}", e.seq),
                format!(
                    "the ledger records segment {id} ({}) but the index has no row for it: the row was removed",
                    e.details
                        .get("path")
                        .and_then(|v| v.as_str())
                        .unwrap_or("?")
                ),
                false,
            ),
            // A later seal of the same segment (recovery after a crash) is fine if hashes match.
            Some(s)
                if s.state == SegmentState::Sealed
                    && s.ledger_seq.is_some()
                    && s.ledger_seq != Some(e.seq as i64)
                    && e.details.get("sha256").and_then(|v| v.as_str()) != s.sha256.as_deref() =>
            {
                bad(
                    format!("segment/{id}"),
                    format!("ledger entry {} records a different hash", e.seq),
                    false,
                );
            }
            _ => {}
        }
    }
    // Gaps.
    let gap_entries: Vec<&Entry> = entries.iter().filter(|e| e.action == Action::Gap).collect();
    for st in store.all_streams().await? {
        for g in store.gaps(st.id, Time90k::MIN, Time90k::MAX).await? {
            if g.open {
                // Still going on: the ledger records a gap when it ends (or when the next
                // run closes it).
                continue;
            }
            rep.gaps_checked += 1;
            let obj = format!("gap/{} ({} .. {})", g.id, g.start, g.end);
            let ok = gap_entries.iter().any(|e| {
                e.details.get("start_90k").and_then(|v| v.as_i64()) == Some(g.start.0)
                    && e.details.get("end_90k").and_then(|v| v.as_i64()) == Some(g.end.0)
            });
            if !ok {
                bad(
                    obj,
                    "gap not recorded in the ledger (or its times were changed)".into(),
                    false,
                );
            }
        }
    }
    rep.bytes_hashed = hashed;
    Ok(rep)
}

fn rep_push(v: &mut Vec<Finding>, object: String, problem: String, warning: bool) {
    v.push(Finding {
        object,
        problem,
        warning,
    });
}
