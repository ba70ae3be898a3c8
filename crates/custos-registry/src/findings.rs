//! J1/J2: the workflow of a stored finding: open → rectification ordered → rectified →
//! verified (or back to ordered when the rectification is rejected). The allowed moves are
//! `custos_core::compliance::FindingStatus::can_become`; ordering and verifying need
//! `CreateFinding` (inspectors), marking rectified needs `ManageConfig` (the unit). Each move
//! is a ledger entry.

use chrono::{DateTime, Utc};
use custos_core::access::{Action as AccessAction, Principal, Scope};
use custos_core::compliance::FindingStatus;
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::{FindingEventRow, FindingRow};

use crate::access::{require, require_any, system_scope};

pub fn status_str(s: FindingStatus) -> &'static str {
    match s {
        FindingStatus::Open => "open",
        FindingStatus::RectificationOrdered => "rectification_ordered",
        FindingStatus::Rectified => "rectified",
        FindingStatus::Verified => "verified",
    }
}

pub fn parse_status(s: &str) -> Result<FindingStatus> {
    Ok(match s {
        "open" => FindingStatus::Open,
        "rectification_ordered" => FindingStatus::RectificationOrdered,
        "rectified" => FindingStatus::Rectified,
        "verified" => FindingStatus::Verified,
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unknown finding status {s:?}; use open, rectification_ordered, rectified or verified"
                ),
            ));
        }
    })
}

/// Moves a finding. `deadline` (for an order) overrides the default rectification deadline.
#[allow(clippy::too_many_arguments)]
pub async fn advance(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    finding_id: &str,
    to: FindingStatus,
    note: &str,
    deadline: Option<DateTime<Utc>>,
    order_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<FindingRow> {
    let f = store.finding(finding_id).await?;
    let from = parse_status(&f.status)?;
    if !from.can_become(to) {
        return Err(Error::new(
            ErrorKind::FailedPrecondition,
            format!(
                "finding {finding_id} cannot go from {} to {} (open → rectification_ordered → \
                 rectified → verified)",
                f.status,
                status_str(to)
            ),
        ));
    }
    let action = if to == FindingStatus::Rectified {
        AccessAction::ManageConfig
    } else {
        AccessAction::CreateFinding
    };
    let object = format!("finding/{finding_id}");
    match &f.system_id {
        Some(s) => require(
            journal,
            p,
            action,
            system_scope(&store.system(s).await?),
            &object,
            now,
        )?,
        None => {
            // A place with no device belongs to no system: any division of the registry.
            let mut divisions: Vec<String> = store
                .systems()
                .await?
                .into_iter()
                .map(|s| s.division)
                .collect();
            divisions.sort();
            divisions.dedup();
            let scopes = divisions.into_iter().map(Scope::organisation).collect();
            require_any(journal, p, action, scopes, &object, now)?
        }
    }
    let seq = journal.record(
        NewEntry::new(
            &p.id,
            Action::Other("FindingStatus".into()),
            format!("finding/{finding_id}"),
        )
        .details(serde_json::json!({
            "from": f.status, "to": status_str(to), "note": note,
            "deadline": deadline.map(|d| d.to_rfc3339()), "order_id": order_id,
        })),
    )?;
    store
        .set_finding_status(
            &FindingEventRow {
                finding_id: finding_id.to_owned(),
                from_status: f.status.clone(),
                to_status: status_str(to).to_owned(),
                by: p.id.clone(),
                at: Time90k::from_datetime(now),
                note: note.to_owned(),
                ledger_seq: seq as i64,
            },
            deadline.map(Time90k::from_datetime),
            order_id,
        )
        .await?;
    store.finding(finding_id).await
}
