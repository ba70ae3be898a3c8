//! A3: positions, address codes, device types and design plans are confidential. Reading them
//! needs `ReadBasicInfo` (asked of `custos_core::access::decide` with the caller's principal)
//! and every read is a ledger entry written before the data is returned (fail closed). A refusal
//! is a ledger entry too, and a `PermissionDenied` error (the server answers 403). Everyone else
//! gets masked rows ([`masked`]).
//!
//! Resource of a device: the camera scope `division/system/place/code` (organisation = the
//! system's administrative division), labelled confidential.

use chrono::{DateTime, Utc};
use custos_core::access::{Classification, Decision, Principal, Resource, Scope, decide};
use custos_core::{Error, ErrorKind, Result};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::{DeviceRow, DocumentRow, SystemRow};

/// The access-control location of a device.
pub fn device_scope(system: &SystemRow, d: &DeviceRow) -> Scope {
    Scope::Camera {
        org: system.division.clone(),
        system: system.id.clone(),
        area: d.place_id.clone().unwrap_or_else(|| "unplaced".to_owned()),
        camera: d.code.clone(),
    }
}

pub fn system_scope(system: &SystemRow) -> Scope {
    Scope::system(system.division.clone(), system.id.clone())
}

/// Asks the policy; a denial is recorded (best effort: the denial stands even if recording
/// fails) and returned as `PermissionDenied` naming the rule.
pub fn require(
    journal: &Journal,
    p: &Principal,
    action: custos_core::access::Action,
    location: Scope,
    object: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let r = Resource::at(location, action.floor());
    match decide(p, action, &r, now) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => {
            let seq = journal
                .record(
                    NewEntry::new(&p.id, Action::AccessDenied, object).details(
                        serde_json::json!({ "action": action.as_str(), "reason": reason.to_string(), "rule": reason.rule() }),
                    ),
                )
                .ok();
            Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{} may not {} {object}: {reason}{}",
                    p.id,
                    action.as_str(),
                    seq.map(|s| format!(" (refusal recorded, ledger entry {s})"))
                        .unwrap_or_default()
                ),
            ))
        }
    }
}

/// As [`require`], allowed if the action is allowed at any of `locations` (e.g. a finding about
/// a place that belongs to no system: any division the principal covers). A refusal is
/// recorded once, for the first location.
pub fn require_any(
    journal: &Journal,
    p: &Principal,
    action: custos_core::access::Action,
    locations: Vec<Scope>,
    object: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if locations
        .iter()
        .any(|l| decide(p, action, &Resource::at(l.clone(), action.floor()), now).is_allowed())
    {
        return Ok(());
    }
    let first = locations
        .into_iter()
        .next()
        .unwrap_or_else(|| Scope::organisation("registry"));
    require(journal, p, action, first, object, now)
}

/// Records a confidential read before it happens; failure refuses the read.
fn register_read(
    journal: &Journal,
    p: &Principal,
    object: &str,
    purpose: Option<&str>,
    fields: &[&str],
) -> Result<u64> {
    journal
        .register_access(
            &p.id,
            Action::ConfidentialRead,
            object,
            purpose,
            serde_json::json!({ "fields": fields }),
        )
        .map(|r| r.seq())
}

const DEVICE_FIELDS: &[&str] = &[
    "code",
    "model",
    "lon",
    "lat",
    "height_m",
    "bearing_deg",
    "fov",
    "stream_main",
    "stream_sub",
];

/// A3: one device with its confidential fields, for a permitted principal; audited.
pub async fn read_device(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    code: &str,
    purpose: Option<&str>,
    now: DateTime<Utc>,
) -> Result<DeviceRow> {
    let d = store.device(code).await?;
    let s = store.system(&d.system_id).await?;
    let object = format!("device/{code}");
    require(
        journal,
        p,
        custos_core::access::Action::ReadBasicInfo,
        device_scope(&s, &d),
        &object,
        now,
    )?;
    register_read(journal, p, &object, purpose, DEVICE_FIELDS)?;
    Ok(d)
}

/// Masks an address code: the division's first four digits and the last four remain.
pub fn mask_code(code: &str) -> String {
    if code.len() != 20 {
        return "*".repeat(code.len());
    }
    format!("{}{}{}", &code[..4], "*".repeat(12), &code[16..])
}

/// A device with every confidential field removed (A3): the list view for those without
/// `ReadBasicInfo`.
pub fn masked(d: &DeviceRow) -> DeviceRow {
    DeviceRow {
        code: mask_code(&d.code),
        system_id: d.system_id.clone(),
        kind: d.kind.clone(),
        name: d.name.clone(),
        vendor: d.vendor.clone(),
        model: String::new(),
        certification: d.certification.clone(),
        lon: None,
        lat: None,
        height_m: None,
        bearing_deg: None,
        fov: None,
        place_id: d.place_id.clone(),
        public_area: d.public_area,
        signage: d.signage,
        fixed_range: d.fixed_range,
        activated: d.activated,
        privacy_mask: d.privacy_mask,
        stream_main: None,
        stream_sub: None,
        retention: d.retention.clone(),
        camera_name: d.camera_name.clone(),
        online: d.online,
        offline_since: d.offline_since,
        completeness: d.completeness,
        health_at: d.health_at,
    }
}

/// The device list of a system: full rows (one audited read for the list) if `p` may read
/// basic information of the system, masked rows otherwise (no refusal: the list is still shown).
pub async fn list_devices(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    system_id: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<DeviceRow>, bool)> {
    let s = store.system(system_id).await?;
    let devices = store.devices(Some(system_id)).await?;
    let r = Resource::at(system_scope(&s), Classification::Confidential);
    if decide(p, custos_core::access::Action::ReadBasicInfo, &r, now).is_allowed() {
        register_read(
            journal,
            p,
            &format!("system/{system_id}/devices"),
            None,
            DEVICE_FIELDS,
        )?;
        Ok((devices, true))
    } else {
        Ok((devices.iter().map(masked).collect(), false))
    }
}

/// A3: a design plan (or any archived document) of a system, for a permitted principal; audited.
pub async fn read_document(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    system_id: &str,
    document_id: i64,
    now: DateTime<Utc>,
) -> Result<DocumentRow> {
    let s = store.system(system_id).await?;
    let doc = store
        .documents(system_id)
        .await?
        .into_iter()
        .find(|d| d.id == document_id)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("system {system_id} has no document {document_id}"),
            )
        })?;
    let object = format!("document/{document_id}");
    require(
        journal,
        p,
        custos_core::access::Action::ReadBasicInfo,
        system_scope(&s),
        &object,
        now,
    )?;
    register_read(journal, p, &object, None, &["document"])?;
    Ok(doc)
}
