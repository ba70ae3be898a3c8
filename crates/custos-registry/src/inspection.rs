//! J1: inspections. Each inspection type (001 art. 23; 003 art. 32) has a checklist; an
//! inspector fills it item by item, and finishing it turns every failed item into a
//! rectification order with a deadline, moving the system's open findings to "rectification
//! ordered". Needs `Inspect` (and `CreateFinding` for the order); each step is a ledger entry.

use chrono::{DateTime, Duration, Utc};
use custos_core::access::{Action as AccessAction, Principal};
use custos_core::compliance::FindingStatus;
use custos_core::compliance::lifecycle::legal_date;
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::{InspectionItemRow, OrderRow};
use serde::Serialize;

use crate::access::{require, system_scope};

/// An inspection type.
pub const KINDS: &[&str] = &[
    "construction",
    "acceptance",
    "rectification",
    "network_security",
    "operation_maintenance",
    "information_management",
    "filing",
];

/// One checklist item: key, question, article.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Item {
    pub key: &'static str,
    pub question: &'static str,
    pub article: &'static str,
}

const fn it(key: &'static str, question: &'static str, article: &'static str) -> Item {
    Item {
        key,
        question,
        article,
    }
}

/// The checklist of an inspection type.
pub fn checklist(kind: &str) -> Result<&'static [Item]> {
    Ok(match kind {
        "construction" => {
            const {
                &[
                    it(
                        "design_reviewed",
                        "Design plan passed the feasibility review",
                        "001 art. 12 para. 1",
                    ),
                    it(
                        "no_prohibited_place",
                        "No device at a prohibited place",
                        "001 art. 11 para. 2",
                    ),
                    it(
                        "residences_masked",
                        "Views of residences masked or avoided",
                        "001 art. 11 para. 1",
                    ),
                    it(
                        "signage",
                        "Conspicuous signage at every device",
                        "001 art. 10",
                    ),
                    it(
                        "archive",
                        "Design and construction documents archived",
                        "001 art. 14",
                    ),
                ]
            }
        }
        "acceptance" => {
            const {
                &[
                    it(
                        "acceptance_report",
                        "Acceptance report on file before use",
                        "001 art. 12 para. 1",
                    ),
                    it(
                        "test_report",
                        "Test report on file",
                        "004 §3 (measures art. 15)",
                    ),
                    it(
                        "mandatory_coverage",
                        "Mandatory places covered by working cameras",
                        "002 §2; 003 art. 8; 004 §2",
                    ),
                ]
            }
        }
        "rectification" => {
            const {
                &[
                    it(
                        "orders_done",
                        "Every ordered rectification done by its deadline",
                        "001 art. 23",
                    ),
                    it(
                        "evidence",
                        "Evidence of each rectification on file",
                        "001 art. 23",
                    ),
                ]
            }
        }
        "network_security" => {
            const {
                &[
                    it(
                        "level_protection",
                        "Network security level protection graded and assessed",
                        "001 art. 16",
                    ),
                    it(
                        "isolation",
                        "Video network isolated from the internet or protected",
                        "001 art. 16",
                    ),
                    it(
                        "accounts",
                        "Accounts per person, least privilege, no shared passwords",
                        "001 art. 18",
                    ),
                ]
            }
        }
        "operation_maintenance" => {
            const {
                &[
                    it(
                        "duty_roster",
                        "Duty roster and shift logs kept",
                        "001 art. 17(1)",
                    ),
                    it(
                        "training",
                        "Staff trained in law, secrecy and skills",
                        "001 art. 17(2)",
                    ),
                    it(
                        "maintenance",
                        "Periodic checks and maintenance recorded",
                        "001 art. 17(3)",
                    ),
                    it(
                        "uptime",
                        "Devices online and recording completely",
                        "004 §4 (measures art. 19)",
                    ),
                ]
            }
        }
        "information_management" => {
            const {
                &[
                    it(
                        "retention",
                        "Footage kept for at least the legal minimum",
                        "001 art. 20",
                    ),
                    it(
                        "access_log",
                        "Every view, copy and export logged",
                        "001 art. 19",
                    ),
                    it(
                        "confidential_basic_info",
                        "Positions and address codes kept confidential",
                        "001 art. 6",
                    ),
                ]
            }
        }
        "filing" => {
            const {
                &[
                    it(
                        "filed",
                        "Filed with the police within 30 days of acceptance",
                        "001 art. 12 para. 2",
                    ),
                    it(
                        "changes_filed",
                        "Adjustments and removals filed",
                        "000 §3(2)",
                    ),
                ]
            }
        }
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unknown inspection type {kind:?}; use one of {}",
                    KINDS.join(", ")
                ),
            ));
        }
    })
}

pub async fn start(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    system_id: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    checklist(kind)?;
    let sys = store.system(system_id).await?;
    require(
        journal,
        p,
        AccessAction::Inspect,
        system_scope(&sys),
        &format!("system/{system_id}"),
        now,
    )?;
    let seq = journal.record(
        NewEntry::new(
            &p.id,
            Action::Other("InspectionStarted".into()),
            format!("system/{system_id}"),
        )
        .details(serde_json::json!({ "kind": kind })),
    )?;
    store
        .start_inspection(
            system_id,
            kind,
            &p.id,
            Time90k::from_datetime(now),
            seq as i64,
        )
        .await
}

/// Answers one item: `pass`, `fail` or `not_applicable`.
pub async fn answer(
    store: &Store,
    p: &Principal,
    inspection_id: i64,
    item: &str,
    answer: &str,
    note: &str,
) -> Result<()> {
    let (ins, _) = store.inspection(inspection_id).await?;
    if ins.inspector != p.id {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "inspection {inspection_id} is {}'s; only the inspector fills it",
                ins.inspector
            ),
        ));
    }
    if !checklist(&ins.kind)?.iter().any(|i| i.key == item) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{item:?} is not an item of the {} checklist", ins.kind),
        ));
    }
    if !matches!(answer, "pass" | "fail" | "not_applicable") {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("answer {answer:?}: use pass, fail or not_applicable"),
        ));
    }
    store
        .answer_inspection_item(
            inspection_id,
            &InspectionItemRow {
                item: item.to_owned(),
                answer: answer.to_owned(),
                note: note.to_owned(),
            },
        )
        .await
}

/// Finishes an inspection. If any item failed (or the system has open findings), issues a
/// rectification order due in `days` (default: the jurisdiction's rectification period) and
/// moves the system's open findings to "rectification ordered". Returns the order, if any.
pub async fn finish(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    inspection_id: i64,
    days: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<OrderRow>> {
    let (ins, items) = store.inspection(inspection_id).await?;
    let list = checklist(&ins.kind)?;
    let unanswered: Vec<&str> = list
        .iter()
        .filter(|i| !items.iter().any(|a| a.item == i.key))
        .map(|i| i.key)
        .collect();
    if !unanswered.is_empty() {
        return Err(Error::new(
            ErrorKind::FailedPrecondition,
            format!(
                "inspection {inspection_id} has unanswered items: {}",
                unanswered.join(", ")
            ),
        ));
    }
    let sys = store.system(&ins.system_id).await?;
    require(
        journal,
        p,
        AccessAction::CreateFinding,
        system_scope(&sys),
        &format!("system/{}", sys.id),
        now,
    )?;
    let failed: Vec<serde_json::Value> = items
        .iter()
        .filter(|a| a.answer == "fail")
        .map(|a| {
            let art = list
                .iter()
                .find(|i| i.key == a.item)
                .map(|i| i.article)
                .unwrap_or("");
            serde_json::json!({ "item": a.item, "article": art, "note": a.note })
        })
        .collect();
    let open: Vec<String> = store
        .findings(Some(&sys.id), false)
        .await?
        .into_iter()
        .filter(|f| f.status == "open")
        .map(|f| f.id)
        .collect();
    let now90 = Time90k::from_datetime(now);
    let mut order = None;
    if !failed.is_empty() || !open.is_empty() {
        let j = crate::convert::jurisdiction(&sys.profile)?;
        let days = days.unwrap_or(j.policy.rectification_days);
        let deadline = legal_date(now) + Duration::days(days);
        let items_json = serde_json::json!({ "failed_items": failed, "findings": open });
        let seq = journal.record(
            NewEntry::new(&p.id, Action::Other("RectificationOrdered".into()), format!("system/{}", sys.id))
                .details(serde_json::json!({ "inspection": inspection_id, "deadline": deadline.to_string(), "items": items_json })),
        )?;
        let mut o = OrderRow {
            id: 0,
            inspection_id: Some(inspection_id),
            system_id: sys.id.clone(),
            issued_by: p.id.clone(),
            issued_at: now90,
            deadline: deadline.to_string(),
            items: items_json.to_string(),
            ledger_seq: seq as i64,
        };
        o.id = store.add_rectification_order(&o).await?;
        let deadline_t = now + Duration::days(days);
        for f in &open {
            crate::findings::advance(
                store,
                journal,
                p,
                f,
                FindingStatus::RectificationOrdered,
                &format!("order {}", o.id),
                Some(deadline_t),
                Some(o.id),
                now,
            )
            .await?;
        }
        order = Some(o);
    }
    store.finish_inspection(inspection_id, now90).await?;
    Ok(order)
}
