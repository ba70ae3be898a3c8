//! I4: intrusion-alarm and access-control devices are registered like cameras (same code, same
//! registry, same A3 rules) and their events enter the same timeline and audit: each event is a
//! ledger entry and a `reg_event` row on the timeline of the camera the device is linked to
//! (`camera_name`), if any.

use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::EventRow;

/// Records an event of an alarm or access-control device (`kind`: e.g. `intrusion`,
/// `door_forced`, `access_granted`). Refused for devices that are not alarm or access control.
pub async fn record_event(
    store: &Store,
    journal: &Journal,
    code: &str,
    kind: &str,
    at: Time90k,
    detail: serde_json::Value,
    now: Time90k,
) -> Result<EventRow> {
    let d = store.device(code).await?;
    if !matches!(d.kind.as_str(), "alarm" | "access_control") {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "device {code} is a {} device; only alarm and access-control devices report events",
                d.kind
            ),
        ));
    }
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("event kind {kind:?}: use lower_case words, e.g. intrusion or door_forced"),
        ));
    }
    let body = serde_json::json!({
        "device": code, "device_kind": d.kind, "system": d.system_id, "event": kind,
        "at": at.to_rfc3339(), "detail": detail,
    });
    let seq = journal.record(
        NewEntry::new(
            format!("device/{code}"),
            Action::Other("DeviceEvent".into()),
            format!("device/{code}"),
        )
        .details(body.clone()),
    )?;
    let mut body = body;
    body["ledger_seq"] = seq.into();
    let kind = format!("{}:{kind}", d.kind);
    let id = store
        .add_event(&kind, d.camera_name.as_deref(), at, &body.to_string(), now)
        .await?;
    Ok(EventRow {
        id,
        kind,
        camera: d.camera_name,
        at,
        body: body.to_string(),
        created_at: now,
    })
}
