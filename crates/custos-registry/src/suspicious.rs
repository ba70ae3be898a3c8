//! D6: a watch operator reports suspicious information on a camera: the moment is bookmarked,
//! the surrounding footage is put under legal hold (E5), and the police side is notified by an
//! event (`reg_event`, kind `suspicious_report`) that the console and the police platform read.
//! Needs `PlaceHold` on the camera (asked of `custos_core::access::decide`); one ledger entry
//! (HoldPlaced, with the report) is written before anything changes.

use chrono::{DateTime, Utc};
use custos_core::access::{Action as AccessAction, Principal, Scope};
use custos_core::{Duration90k, Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::registry::BookmarkRow;
use custos_store::{NewHold, Store};
use serde::Serialize;

use crate::access::require;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub bookmark_id: i64,
    pub hold_id: i64,
    pub event_id: i64,
    pub ledger_seq: u64,
    pub hold_from: Time90k,
    pub hold_to: Time90k,
}

/// What is reported.
pub struct Suspicious<'a> {
    pub camera: &'a str,
    /// The camera's access-control location (the server knows its placement).
    pub location: Scope,
    pub at: Time90k,
    pub note: &'a str,
    /// Footage held around `at`: [at - before, at + after).
    pub before: Duration90k,
    pub after: Duration90k,
}

pub async fn report(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    s: &Suspicious<'_>,
    now: DateTime<Utc>,
) -> Result<Report> {
    if s.note.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "say what was seen: the note goes to the police",
        ));
    }
    let cam = store.camera_by_name(s.camera).await?;
    require(
        journal,
        p,
        AccessAction::PlaceHold,
        s.location.clone(),
        &format!("camera/{}", s.camera),
        now,
    )?;
    let (from, to) = (s.at - s.before, s.at + s.after);
    let case = format!("D6-{}-{}", s.camera, s.at.0);
    let seq = journal.record(
        NewEntry::new(&p.id, Action::HoldPlaced, format!("camera/{}", s.camera))
            .purpose("report of suspicious information (D6)")
            .details(serde_json::json!({
                "camera": s.camera, "at": s.at.to_rfc3339(), "at_90k": s.at.0,
                "from_90k": from.0, "to_90k": to.0, "case": case, "note": s.note,
            })),
    )?;
    let now90 = Time90k::from_datetime(now);
    let hold_id = store
        .place_hold(&NewHold {
            camera_id: cam.id,
            start: from,
            end: to,
            case_number: case.clone(),
            reason: format!("D6 report: {}", s.note),
            placed_by: p.id.clone(),
            placed_at: now90,
            ledger_seq: Some(seq as i64),
        })
        .await?;
    let bookmark_id = store
        .add_bookmark(&BookmarkRow {
            id: 0,
            camera: s.camera.to_owned(),
            at: s.at,
            note: s.note.to_owned(),
            by: p.id.clone(),
            created_at: now90,
            hold_id: Some(hold_id),
            ledger_seq: Some(seq as i64),
        })
        .await?;
    let body = serde_json::json!({
        "camera": s.camera, "at": s.at.to_rfc3339(), "note": s.note, "reported_by": p.id,
        "hold_id": hold_id, "bookmark_id": bookmark_id, "case": case,
        "hold_from": from.to_rfc3339(), "hold_to": to.to_rfc3339(), "ledger_seq": seq,
    });
    let event_id = store
        .add_event(
            "suspicious_report",
            Some(s.camera),
            s.at,
            &body.to_string(),
            now90,
        )
        .await?;
    Ok(Report {
        bookmark_id,
        hold_id,
        event_id,
        ledger_seq: seq,
        hold_from: from,
        hold_to: to,
    })
}
