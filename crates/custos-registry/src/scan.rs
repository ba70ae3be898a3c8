//! The rule scan: applies the pure rules of `custos_core::compliance::rules` to the stored
//! registry and saves the findings (J1/J2).
//!
//! Devices are streamed, not loaded: each device is checked as it is read (B2, B3, B4, D1, F1)
//! and only per-place coverage counters are kept for B1, so a million devices need little memory.
//! Residences are indexed on a 0.01° grid so B3 compares a field of view only with the
//! residences near it. Each device is judged under its system's jurisdiction; places (B1) under
//! the scan's area jurisdiction (default: the strictest).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use custos_core::compliance::article::cite;
use custos_core::compliance::findings::Subject;
use custos_core::compliance::geo::LonLat;
use custos_core::compliance::jurisdiction::Jurisdiction;
use custos_core::compliance::rules::{
    self, DeviceRecord, PlaceRecord, ResidenceRecord, StaffRecord, SystemRecord, TrainingRecord,
    TrainingTopic,
};
use custos_core::compliance::{Finding, LifecycleState};
use custos_core::{Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::FindingRow;
use serde::Serialize;

use crate::convert;

const CELL: f64 = 0.01;

/// The result of a scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Scan {
    pub findings: Vec<Finding>,
    /// Finding id → system id (for reports per system).
    pub system_of: HashMap<String, String>,
    pub devices: u64,
    /// Stored rows the rules could not read (bad code, bad polygon…): (subject, problem).
    pub unreadable: Vec<(String, String)>,
}

type Bbox = (f64, f64, f64, f64);

fn bbox(p: &[LonLat]) -> Bbox {
    p.iter().fold(
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
        |(a, b, c, d), q| (a.min(q.lon), b.min(q.lat), c.max(q.lon), d.max(q.lat)),
    )
}

fn cells(b: Bbox) -> impl Iterator<Item = (i32, i32)> {
    let (x0, y0) = ((b.0 / CELL).floor() as i32, (b.1 / CELL).floor() as i32);
    let (x1, y1) = ((b.2 / CELL).floor() as i32, (b.3 / CELL).floor() as i32);
    (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
}

/// Residences on a grid, for B3 candidate lookup.
struct ResidenceIndex {
    all: Vec<(ResidenceRecord, Bbox)>,
    grid: HashMap<(i32, i32), Vec<usize>>,
}

impl ResidenceIndex {
    fn new(all: Vec<ResidenceRecord>) -> Self {
        let mut grid: HashMap<(i32, i32), Vec<usize>> = HashMap::new();
        let all: Vec<(ResidenceRecord, Bbox)> = all
            .into_iter()
            .map(|r| {
                let b = bbox(&r.polygon);
                (r, b)
            })
            .collect();
        for (i, (_, b)) in all.iter().enumerate() {
            for c in cells(*b) {
                grid.entry(c).or_default().push(i);
            }
        }
        ResidenceIndex { all, grid }
    }

    /// Residences whose bounding box meets the polygon's, in id order.
    fn near(&self, fov: &[LonLat]) -> Vec<ResidenceRecord> {
        if fov.len() < 3 || self.all.is_empty() {
            return Vec::new();
        }
        let b = bbox(fov);
        let mut idx: Vec<usize> = cells(b)
            .filter_map(|c| self.grid.get(&c))
            .flatten()
            .copied()
            .filter(|&i| {
                let r = self.all[i].1;
                !(r.2 < b.0 || b.2 < r.0 || r.3 < b.1 || b.3 < r.1)
            })
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|i| self.all[i].0.clone()).collect()
    }
}

/// Per place: a working camera seen, or the devices seen so far (all not working).
enum Coverage {
    Working,
    None(Vec<DeviceRecord>),
}

fn topic(s: &str) -> Option<TrainingTopic> {
    Some(match s {
        "legal" => TrainingTopic::Legal,
        "secrecy" => TrainingTopic::Secrecy,
        "skills" => TrainingTopic::Skills,
        "safety" => TrainingTopic::Safety,
        _ => return None,
    })
}

/// Runs every rule over the stored registry. `area` is the jurisdiction for places (B1); its
/// policy (thresholds no text fixes: offline grace, completeness, duty-log gap, training
/// validity, rectification period) applies to every system, each under its own texts.
pub async fn scan(store: &Store, now: DateTime<Utc>, area: &Jurisdiction) -> Result<Scan> {
    let mut out = Scan::default();
    let changes = store.changes().await?;
    let duty: HashMap<String, Time90k> = store.last_duty_logs().await?.into_iter().collect();
    let mut systems: HashMap<String, (SystemRecord, Jurisdiction)> = HashMap::new();
    for s in store.systems().await? {
        match convert::system_record(&s, &changes, duty.get(&s.id).copied()).and_then(|r| {
            // The system's texts, the deployment's thresholds.
            let mut j = convert::jurisdiction(&s.profile)?;
            j.policy = area.policy.clone();
            Ok((r, j))
        }) {
            Ok(v) => {
                systems.insert(s.id.clone(), v);
            }
            Err(e) => out
                .unreadable
                .push((format!("system:{}", s.id), e.to_string())),
        }
    }
    let sys_refs: HashMap<&str, &SystemRecord> =
        systems.iter().map(|(k, v)| (k.as_str(), &v.0)).collect();
    let mut places: HashMap<String, PlaceRecord> = HashMap::new();
    for p in store.places().await? {
        match convert::place_record(&p) {
            Ok(r) => {
                places.insert(p.id.clone(), r);
            }
            Err(e) => out
                .unreadable
                .push((format!("place:{}", p.id), e.to_string())),
        }
    }
    let mut res = Vec::new();
    for r in store.residences().await? {
        match convert::parse_polygon(&r.polygon) {
            Ok(polygon) => res.push(ResidenceRecord {
                id: r.id.clone(),
                polygon,
            }),
            Err(e) => out
                .unreadable
                .push((format!("residence:{}", r.id), e.to_string())),
        }
    }
    let residences = ResidenceIndex::new(res);

    let mut coverage: HashMap<String, Coverage> = HashMap::new();
    let mut found: Vec<(Finding, String)> = Vec::new();
    let mut unreadable = Vec::new();
    out.devices = store
        .for_each_device_for_rules(|row| {
            let d = match convert::device_record(row) {
                Ok(d) => d,
                Err(e) => {
                    // The message names the device.
                    unreadable.push(("device".to_owned(), e.to_string()));
                    return;
                }
            };
            let entry = systems.get(d.system_id.as_str());
            let system = entry.map(|e| &e.0);
            if system.is_some_and(|s| s.state == LifecycleState::Decommissioned) {
                return;
            }
            let j = entry.map_or(area, |e| &e.1);
            let place = d.place_id.as_deref().and_then(|p| places.get(p));
            let sys = d.system_id.as_str();
            let mut push = |f: Finding| found.push((f, sys.to_owned()));
            rules::b2_prohibited_place(&d, place, now, j)
                .into_iter()
                .for_each(&mut push);
            if !d.has_static_privacy_mask && d.field_of_view.len() >= 3 {
                let near = residences.near(&d.field_of_view);
                if !near.is_empty() {
                    rules::b3_residence_unmasked(&d, &near, now, j)
                        .into_iter()
                        .for_each(&mut push);
                }
            }
            rules::b4_signage(&d, now, j)
                .into_iter()
                .for_each(&mut push);
            rules::d1_health(&d, system, now, j)
                .into_iter()
                .for_each(&mut push);
            rules::f1_retention(&d, place, system, now, j)
                .into_iter()
                .for_each(&mut push);
            let working = d.place_id.is_some() && rules::is_working_camera(&d, system);
            if let Some(p) = d.place_id.as_deref() {
                match coverage.get_mut(p) {
                    Some(Coverage::Working) => {}
                    Some(e) if working => *e = Coverage::Working,
                    Some(Coverage::None(v)) => v.push(d),
                    None => {
                        let c = if working {
                            Coverage::Working
                        } else {
                            Coverage::None(vec![d.clone()])
                        };
                        coverage.insert(p.to_owned(), c);
                    }
                }
            }
        })
        .await?;
    out.unreadable.extend(unreadable);

    let mut place_ids: Vec<&String> = places.keys().collect();
    place_ids.sort();
    for pid in place_ids {
        let p = &places[pid];
        let devs: Vec<&DeviceRecord> = match coverage.get(pid) {
            Some(Coverage::Working) => continue,
            Some(Coverage::None(v)) => v.iter().collect(),
            None => Vec::new(),
        };
        if let Some(f) = rules::b1_coverage(p, &devs, &sys_refs, now, area) {
            let sys = devs
                .first()
                .map(|d| d.system_id.clone())
                .unwrap_or_default();
            found.push((f, sys));
        }
    }
    for (id, (s, j)) in &systems {
        for f in rules::c1_in_use_not_accepted(s, now, j)
            .into_iter()
            .chain(rules::c2_filing_overdue(s, now, j))
            .chain(rules::c3_changes(s, now, j))
            .chain(rules::d2_duty(s, now, j))
        {
            found.push((f, id.clone()));
        }
    }
    let mut trainings: HashMap<String, Vec<TrainingRecord>> = HashMap::new();
    for t in store.trainings().await? {
        match (topic(&t.topic), convert::parse_date(&t.on_date)) {
            (Some(topic), Ok(on)) => trainings
                .entry(t.staff_id.clone())
                .or_default()
                .push(TrainingRecord { topic, on }),
            _ => out.unreadable.push((
                format!("staff:{}", t.staff_id),
                format!("bad training record {} {}", t.topic, t.on_date),
            )),
        }
    }
    for p in store.staff(None).await? {
        let Some((s, j)) = systems.get(&p.system_id) else {
            continue;
        };
        if s.state == LifecycleState::Decommissioned {
            continue;
        }
        let rec = StaffRecord {
            id: p.id.clone(),
            system_id: p.system_id.clone(),
            trainings: trainings.remove(&p.id).unwrap_or_default(),
        };
        if let Some(f) = rules::d3_training(&rec, now, j) {
            found.push((f, p.system_id.clone()));
        }
    }
    found.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    found.dedup_by(|a, b| a.0.id == b.0.id);
    for (f, s) in found {
        if !s.is_empty() {
            out.system_of.insert(f.id.clone(), s);
        }
        out.findings.push(f);
    }
    Ok(out)
}

/// The stored row of a finding.
pub fn finding_row(f: &Finding, system_id: Option<&str>) -> FindingRow {
    FindingRow {
        id: f.id.clone(),
        rule: f.rule.as_str().to_owned(),
        subject: f.subject.to_string(),
        system_id: system_id.map(str::to_owned).or_else(|| match &f.subject {
            Subject::System(s) => Some(s.clone()),
            _ => None,
        }),
        articles: cite(&f.articles),
        severity: serde_json::to_value(f.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        detected_at: Time90k::from_datetime(f.detected_at),
        deadline: Time90k::from_datetime(f.deadline),
        consequence: serde_json::to_string(&f.consequence).expect("serialisable"),
        status: "open".to_owned(),
        message: f.message.clone(),
        last_seen: Time90k::from_datetime(f.detected_at),
        resolved_at: None,
        order_id: None,
    }
}

/// Scans and saves: findings seen before keep their status; ones no longer seen are marked
/// resolved. The scan is one ledger entry (counts per rule).
pub async fn scan_and_save(
    store: &Store,
    journal: &Journal,
    by: &str,
    now: DateTime<Utc>,
    area: &Jurisdiction,
) -> Result<Scan> {
    let s = scan(store, now, area).await?;
    let rows: Vec<FindingRow> = s
        .findings
        .iter()
        .map(|f| finding_row(f, s.system_of.get(&f.id).map(|x| x.as_str())))
        .collect();
    let mut per_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &s.findings {
        *per_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    journal.record(
        NewEntry::new(by, Action::Other("ComplianceScan".into()), "registry/findings").details(
            serde_json::json!({ "devices": s.devices, "findings": s.findings.len(), "per_rule": per_rule }),
        ),
    )?;
    store.save_scan(&rows, Time90k::from_datetime(now)).await?;
    Ok(s)
}
