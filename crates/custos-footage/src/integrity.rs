//! Integrity check of footage against the index and the ledger (E3, E4, E7): every sealed
//! segment file exists, has its sealed size and SHA-256, and is recorded in the ledger with
//! the same hash, times, size, path and stream; every deletion, gap, hold and camera placement
//! is in the ledger and every one the ledger recorded is still in the index, unchanged
//! (both directions); every deletion is provably legitimate from the ledger alone: the
//! segment's sealed end (from its seal entry) plus the camera's retention minimum had passed
//! when the deletion entry was written, and no hold the ledger shows in force then covered
//! it. Read-only: it never repairs.

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
    // Names of streams and cameras, for what the ledger records by name.
    let cameras = store.cameras().await?;
    let cam_name: HashMap<i64, &custos_store::Camera> = cameras.iter().map(|c| (c.id, c)).collect();
    let streams = store.all_streams().await?;
    let stream_name: HashMap<i64, (String, String)> = streams
        .iter()
        .map(|st| {
            (
                st.id,
                (
                    cam_name
                        .get(&st.camera_id)
                        .map(|c| c.name.to_string())
                        .unwrap_or_default(),
                    st.kind.as_str().to_owned(),
                ),
            )
        })
        .collect();
    let det_i = |e: &Entry, k: &str| e.details.get(k).and_then(|v| v.as_i64());
    let det_s = |e: &Entry, k: &str| e.details.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    // Every field the seal recorded, on the row that points at it.
    for s in &rows {
        let Some(e) = s.ledger_seq.and_then(|q| by_seq.get(&(q as u64))) else {
            continue;
        };
        if e.action != Action::SegmentSealed || seg_id(e) != Some(s.id) {
            continue; // reported above
        }
        let obj = format!("segment/{} ({})", s.id, s.path);
        let mut diffs = Vec::new();
        if det_i(e, "start_90k") != Some(s.start.0) {
            diffs.push(format!(
                "start {} (ledger {})",
                s.start.0,
                det_i(e, "start_90k").unwrap_or(-1)
            ));
        }
        if det_i(e, "end_90k") != s.end.map(|t| t.0) {
            diffs.push(format!(
                "end {} (ledger {})",
                s.end.map(|t| t.0).unwrap_or(-1),
                det_i(e, "end_90k").unwrap_or(-1)
            ));
        }
        if s.state == SegmentState::Sealed && det_i(e, "bytes") != s.bytes {
            diffs.push(format!(
                "size {} (ledger {})",
                s.bytes.unwrap_or(-1),
                det_i(e, "bytes").unwrap_or(-1)
            ));
        }
        if det_s(e, "path").as_deref() != Some(s.path.as_str()) {
            diffs.push(format!(
                "path {} (ledger {})",
                s.path,
                det_s(e, "path").unwrap_or_default()
            ));
        }
        if let Some((c, k)) = stream_name.get(&s.stream_id)
            && (det_s(e, "camera").as_deref() != Some(c.as_str())
                || det_s(e, "stream").as_deref() != Some(k.as_str()))
        {
            diffs.push(format!(
                "stream {c}/{k} (ledger {}/{})",
                det_s(e, "camera").unwrap_or_default(),
                det_s(e, "stream").unwrap_or_default()
            ));
        }
        if !diffs.is_empty() {
            bad(
                obj,
                format!(
                    "index row differs from its ledger seal (entry {}): {}",
                    e.seq,
                    diffs.join(", ")
                ),
                false,
            );
        }
    }
    // Gaps, both ways: every row is in the ledger, every gap the ledger recorded has its row.
    let gap_entries: Vec<&Entry> = entries.iter().filter(|e| e.action == Action::Gap).collect();
    let mut gap_rows: Vec<(String, String, i64, i64)> = Vec::new();
    for st in &streams {
        let (c, k) = stream_name.get(&st.id).cloned().unwrap_or_default();
        for g in store.gaps(st.id, Time90k::MIN, Time90k::MAX).await? {
            if g.open {
                // Still going on: the ledger records a gap when it ends (or when the next
                // run closes it).
                continue;
            }
            rep.gaps_checked += 1;
            let obj = format!("gap/{} ({} .. {})", g.id, g.start, g.end);
            let ok = gap_entries.iter().any(|e| {
                det_i(e, "start_90k") == Some(g.start.0)
                    && det_i(e, "end_90k") == Some(g.end.0)
                    && det_s(e, "camera").is_none_or(|x| x == c)
                    && det_s(e, "stream").is_none_or(|x| x == k)
            });
            if !ok {
                bad(
                    obj,
                    "gap not recorded in the ledger (or its times were changed)".into(),
                    false,
                );
            }
            gap_rows.push((c.clone(), k.clone(), g.start.0, g.end.0));
        }
    }
    for e in &gap_entries {
        let (c, k) = (
            det_s(e, "camera").unwrap_or_default(),
            det_s(e, "stream").unwrap_or_default(),
        );
        let (a, b) = (
            det_i(e, "start_90k").unwrap_or(-1),
            det_i(e, "end_90k").unwrap_or(-1),
        );
        if !gap_rows
            .iter()
            .any(|r| r.0 == c && r.1 == k && r.2 == a && r.3 == b)
        {
            bad(
                format!("ledger/seq/{}", e.seq),
                format!(
                    "the ledger records a gap of {c}/{k} ({} .. {}) but the index has no such row: the gap row was removed or changed",
                    Time90k(a),
                    Time90k(b)
                ),
                false,
            );
        }
    }
    // Holds, both ways.
    let holds = store.holds().await?;
    let links: HashMap<i64, (Option<i64>, Option<i64>)> = store
        .hold_ledger_links()
        .await?
        .into_iter()
        .map(|(id, p, r)| (id, (p, r)))
        .collect();
    let placed: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.action == Action::HoldPlaced)
        .collect();
    let released: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.action == Action::HoldReleased)
        .collect();
    for h in &holds {
        let obj = format!("hold/{} (case {})", h.id, h.case_number);
        let cam = cam_name
            .get(&h.camera_id)
            .map(|c| c.name.to_string())
            .unwrap_or_default();
        let (pseq, rseq) = links.get(&h.id).copied().unwrap_or((None, None));
        match pseq.and_then(|q| by_seq.get(&(q as u64))) {
            None => bad(obj.clone(), "hold not recorded in the ledger".into(), false),
            Some(e)
                if e.action != Action::HoldPlaced
                    || det_s(e, "camera").as_deref() != Some(cam.as_str())
                    || det_i(e, "from_90k") != Some(h.start.0)
                    || det_i(e, "to_90k") != Some(h.end.0) =>
            {
                bad(
                    obj.clone(),
                    format!(
                        "hold row differs from its ledger entry {} (camera, times or kind)",
                        e.seq
                    ),
                    false,
                )
            }
            Some(_) => {}
        }
        let release_entry = released.iter().find(|e| det_i(e, "hold_id") == Some(h.id));
        match (h.released_at, release_entry) {
            (Some(_), None) => bad(
                obj.clone(),
                "marked released but the ledger has no release entry for it".into(),
                false,
            ),
            (None, Some(e)) => bad(
                obj.clone(),
                format!(
                    "the ledger released it (entry {}) but the row shows it in force",
                    e.seq
                ),
                false,
            ),
            (Some(_), Some(e)) if rseq.is_some_and(|r| r != e.seq as i64) => bad(
                obj.clone(),
                format!(
                    "release linked to entry {:?}, the ledger's is {}",
                    rseq, e.seq
                ),
                false,
            ),
            _ => {}
        }
    }
    for e in &placed {
        let linked = links.values().any(|(p, _)| *p == Some(e.seq as i64));
        if !linked {
            bad(
                format!("ledger/seq/{}", e.seq),
                format!(
                    "the ledger records a hold on {} (case {}) but the index has no hold row for it: the hold row was removed",
                    det_s(e, "camera").unwrap_or_default(),
                    det_s(e, "case").unwrap_or_default()
                ),
                false,
            );
        }
    }
    // Every deletion must be legitimate from the ledger alone.
    let hold_id_of_entry: HashMap<u64, i64> = links
        .iter()
        .filter_map(|(id, (p, _))| p.map(|p| (p as u64, *id)))
        .collect();
    let retention_of = |camera: &str| {
        cameras
            .iter()
            .find(|c| c.name.as_str() == camera)
            .map(|c| c.retention)
            .unwrap_or(custos_core::retention::RetentionClass::Standard30d)
    };
    let floor = custos_core::retention::RetentionClass::Standard30d;
    for (id, d) in &deleted_in_ledger {
        let obj = format!("ledger/seq/{}", d.seq);
        let seal = entries.iter().rfind(|e| {
            e.seq < d.seq && e.action == Action::SegmentSealed && seg_id(e) == Some(*id)
        });
        let Some(seal) = seal else {
            bad(
                obj,
                format!("deletion of segment {id}, which the ledger never sealed before"),
                false,
            );
            continue;
        };
        let camera = det_s(seal, "camera").unwrap_or_default();
        let (start, end) = (
            det_i(seal, "start_90k").unwrap_or(i64::MAX),
            det_i(seal, "end_90k").unwrap_or(i64::MAX),
        );
        let at = Time90k(d.time_unix_ms as i64 * 90);
        let ret = retention_of(&camera);
        let ret = if ret.days() < floor.days() {
            floor
        } else {
            ret
        };
        let after = ret.deletable_after(Time90k(end));
        if at < after {
            bad(
                obj.clone(),
                format!(
                    "segment {id} of {camera} was deleted at {at}, inside its {}-day minimum (deletable only after {after})",
                    ret.days()
                ),
                false,
            );
        }
        // Holds in force when the deletion was written.
        for p in placed
            .iter()
            .filter(|p| p.seq < d.seq && det_s(p, "camera").as_deref() == Some(camera.as_str()))
        {
            let (hs, he) = (
                det_i(p, "from_90k").unwrap_or(i64::MAX),
                det_i(p, "to_90k").unwrap_or(i64::MIN),
            );
            if !(hs < end && he > start) {
                continue;
            }
            let released_before = released.iter().any(|r| {
                r.seq < d.seq
                    && match hold_id_of_entry.get(&p.seq) {
                        Some(hid) => det_i(r, "hold_id") == Some(*hid),
                        None => det_s(r, "case") == det_s(p, "case"),
                    }
            });
            if !released_before {
                bad(
                    obj.clone(),
                    format!(
                        "segment {id} of {camera} was deleted while the hold of entry {} (case {}) covered it",
                        p.seq,
                        det_s(p, "case").unwrap_or_default()
                    ),
                    false,
                );
            }
        }
    }
    // Camera placements (configuration): each row is the last placement the ledger recorded.
    let mut last_area: HashMap<String, (u64, String)> = HashMap::new();
    for e in entries.iter().filter(|e| {
        e.action == Action::ConfigChange && det_s(e, "change").as_deref() == Some("camera_area")
    }) {
        if let (Some(c), Some(to)) = (det_s(e, "camera"), det_s(e, "to")) {
            last_area.insert(c, (e.seq, to));
        }
    }
    let areas = store.camera_areas().await?;
    for (cam, (o, s2, a)) in &areas {
        let row = format!("{o}/{s2}/{a}");
        match last_area.get(cam) {
            None => bad(
                format!("camera_area/{cam}"),
                format!("camera placed in {row} without a ledger entry"),
                false,
            ),
            Some((seq, to)) if *to != row => bad(
                format!("camera_area/{cam}"),
                format!(
                    "camera placed in {row} but the ledger's last placement (entry {seq}) is {to}"
                ),
                false,
            ),
            _ => {}
        }
    }
    for (cam, (seq, to)) in &last_area {
        if !areas.contains_key(cam) {
            bad(
                format!("ledger/seq/{seq}"),
                format!(
                    "the ledger places camera {cam} in {to} but the index has no placement for it: the row was removed"
                ),
                false,
            );
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
