//! C1–C4: lifecycle transitions of a stored system. The evidence is archived documents (A4)
//! named by id; the pure check is `custos_core::compliance::lifecycle::transition` (allowed
//! transitions, evidence per transition under the system's jurisdiction). A transition is a
//! ledger entry written before the state changes (fail closed).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use custos_core::compliance::LifecycleState;
use custos_core::compliance::lifecycle::{
    self, Deadline, Evidence, EvidenceKind, Transition, may_go_live,
};
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::TransitionRow;

use crate::convert;

pub fn evidence_kind(doc_kind: &str) -> Option<EvidenceKind> {
    serde_json::from_value(serde_json::Value::String(doc_kind.to_owned())).ok()
}

/// A requested transition.
pub struct Request<'a> {
    pub system_id: &'a str,
    pub to: LifecycleState,
    /// Legal date of the transition (for → accepted: the acceptance date).
    pub on: NaiveDate,
    /// Archived documents (ids) offered as evidence.
    pub evidence: &'a [i64],
    pub by: &'a str,
}

/// Checks and records a transition. Refused (`FailedPrecondition`) if not allowed or if the
/// evidence is missing — the message lists each missing document with its article — or if a
/// document named is not a current document of this system.
pub async fn transition(
    store: &Store,
    journal: &Journal,
    r: &Request<'_>,
    now: DateTime<Utc>,
) -> Result<TransitionRow> {
    if r.on > lifecycle::legal_date(now) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "a transition is recorded when it has happened; {} is in the future",
                r.on
            ),
        ));
    }
    let sys = store.system(r.system_id).await?;
    let j = convert::jurisdiction(&sys.profile)?;
    let from = LifecycleState::from_str(&sys.state)?;
    let docs = store.documents(r.system_id).await?;
    let mut evidence = Vec::new();
    let mut used = Vec::new();
    for id in r.evidence {
        let d = docs.iter().find(|d| d.id == *id).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "document {id} is not in the archive of system {}; file it first",
                    r.system_id
                ),
            )
        })?;
        if let Some(n) = d.superseded_by {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("document {id} was superseded by {n}; offer the current version"),
            ));
        }
        let kind = evidence_kind(&d.kind).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "document {id} is a {} document, which is not lifecycle evidence",
                    d.kind
                ),
            )
        })?;
        let dated = convert::parse_date(&d.dated)?;
        evidence.push(Evidence { kind, dated });
        used.push(serde_json::json!({"document_id": d.id, "kind": d.kind, "dated": d.dated, "sha256": d.sha256}));
    }
    let t: Transition = lifecycle::transition(from, r.to, r.on, &evidence, &j)?;
    let evidence_json = serde_json::Value::Array(used);
    let seq = journal.record(
        NewEntry::new(
            r.by,
            Action::Other("LifecycleTransition".into()),
            format!("system/{}", r.system_id),
        )
        .details(serde_json::json!({
            "from": t.from.as_str(), "to": t.to.as_str(), "on": t.on.to_string(),
            "evidence": evidence_json,
        })),
    )?;
    let mut row = TransitionRow {
        id: 0,
        system_id: r.system_id.to_owned(),
        from_state: t.from.as_str().to_owned(),
        to_state: t.to.as_str().to_owned(),
        on_date: t.on.to_string(),
        evidence: evidence_json.to_string(),
        by: r.by.to_owned(),
        at: Time90k::from_datetime(now),
        ledger_seq: seq as i64,
    };
    row.id = store.record_transition(&row).await?;
    Ok(row)
}

/// The stored history as pure transitions.
pub async fn history(store: &Store, system_id: &str) -> Result<Vec<Transition>> {
    let mut out = Vec::new();
    for t in store.transitions(system_id).await? {
        let ev: Vec<serde_json::Value> = serde_json::from_str(&t.evidence).unwrap_or_default();
        let evidence = ev
            .iter()
            .filter_map(|e| {
                Some(Evidence {
                    kind: evidence_kind(e.get("kind")?.as_str()?)?,
                    dated: convert::parse_date(e.get("dated")?.as_str()?).ok()?,
                })
            })
            .collect();
        out.push(Transition {
            from: LifecycleState::from_str(&t.from_state)?,
            to: LifecycleState::from_str(&t.to_state)?,
            on: convert::parse_date(&t.on_date)?,
            evidence,
        });
    }
    Ok(out)
}

/// C2/C3: the open deadlines of a system, from its transition history.
pub async fn deadlines(store: &Store, system_id: &str) -> Result<Vec<Deadline>> {
    let sys = store.system(system_id).await?;
    let j = convert::jurisdiction(&sys.profile)?;
    Ok(lifecycle::deadlines(&history(store, system_id).await?, &j))
}

/// C1: may the streams of this system go live? The recorder and the live/playback routes call
/// this before serving a system's camera; `Err(FailedPrecondition)` names the article.
pub async fn gate_live(store: &Store, system_id: &str) -> Result<()> {
    let sys = store.system(system_id).await?;
    let j = convert::jurisdiction(&sys.profile)?;
    may_go_live(LifecycleState::from_str(&sys.state)?, &j)
}

/// C1 for a recorder camera: its streams may go live only if every system it is registered in
/// is accepted (and not decommissioned). A camera not in the registry is not gated here (the
/// registry is optional for plain recording); the caller decides whether to require it.
pub async fn gate_camera_live(store: &Store, camera: &str) -> Result<()> {
    let mut systems: Vec<String> = store
        .devices_of_camera(camera)
        .await?
        .into_iter()
        .map(|d| d.system_id)
        .collect();
    systems.dedup();
    for s in systems {
        gate_live(store, &s)
            .await
            .map_err(|e| e.context(format!("camera {camera} belongs to system {s}")))?;
    }
    Ok(())
}
