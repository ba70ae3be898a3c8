//! Registry rows (A1–A5, B1–B4, C1–C4, D2–D4, D6, I4, J1–J3): units, systems, places,
//! residences, devices with their latest health, the document archive, staff and training, duty
//! shifts and logs, maintenance, changes, lifecycle transitions, findings, inspections,
//! complaints, bookmarks and events.
//!
//! Rows are plain data: dates are `YYYY-MM-DD` strings (China Standard Time legal dates),
//! instants are [`Time90k`], polygons are JSON text. The registry crate (`custos-registry`)
//! parses them into the compliance types and owns every rule; this module only stores.

use custos_core::{Error, ErrorKind, Result, Time90k};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, db_err};

mod archive;
mod complaints;
mod devices;
mod events;
mod findings;
mod inspections;
mod places;
mod staff;
mod systems;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(default)]
pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub credit_code: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub state_owned: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemRow {
    pub id: String,
    pub name: String,
    pub building_unit: Option<String>,
    pub using_unit: Option<String>,
    pub maintenance_unit: Option<String>,
    pub responsible_unit: Option<String>,
    /// agreement | owner | state_manager | state_user | state_operator (000 §8).
    pub responsibility_basis: String,
    /// government | private.
    pub funding: String,
    pub division: String,
    pub profile: String,
    pub state: String,
    pub in_use: bool,
    pub accepted_on: Option<String>,
    pub put_into_use_on: Option<String>,
    pub filed_on: Option<String>,
    pub completed_before_rules: bool,
    pub stores_police_important_info: bool,
    pub must_connect: bool,
    pub public_name: Option<String>,
    pub has_duty_roster: bool,
    pub has_operating_procedures: bool,
    pub has_emergency_plan: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(default)]
pub struct PlaceRow {
    pub id: String,
    pub name: String,
    /// `mandatory:<category>`, `prohibited:<category>` or `general`.
    pub category: String,
    pub anti_terror_key_target: bool,
    pub polygon: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(default)]
pub struct ResidenceRow {
    pub id: String,
    pub name: String,
    pub polygon: String,
}

/// The columns of a device the compliance rules read (B2–B4, D1, F1): what the scan streams.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct DeviceRuleRow {
    pub code: String,
    pub system_id: String,
    pub place_id: Option<String>,
    #[serde(deserialize_with = "int_bool")]
    pub public_area: bool,
    #[serde(deserialize_with = "int_bool")]
    pub signage: bool,
    #[serde(deserialize_with = "int_bool")]
    pub activated: bool,
    #[serde(deserialize_with = "int_bool")]
    pub privacy_mask: bool,
    pub fov: Option<String>,
    pub retention: String,
    #[serde(deserialize_with = "int_bool")]
    pub online: bool,
    pub offline_since: Option<Time90k>,
    pub completeness: Option<f64>,
}

/// A device (A2, I4) with its latest health (D1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceRow {
    pub code: String,
    pub system_id: String,
    /// camera | alarm | access_control | other.
    pub kind: String,
    pub name: String,
    pub vendor: String,
    pub model: String,
    pub certification: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub height_m: Option<f64>,
    pub bearing_deg: Option<f64>,
    pub fov: Option<String>,
    pub place_id: Option<String>,
    pub public_area: bool,
    pub signage: bool,
    pub fixed_range: bool,
    pub activated: bool,
    pub privacy_mask: bool,
    pub stream_main: Option<String>,
    pub stream_sub: Option<String>,
    pub retention: String,
    pub camera_name: Option<String>,
    pub online: bool,
    pub offline_since: Option<Time90k>,
    pub completeness: Option<f64>,
    pub health_at: Option<Time90k>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentRow {
    pub id: i64,
    pub system_id: String,
    pub kind: String,
    pub title: String,
    pub dated: String,
    pub author_unit: String,
    pub sha256: String,
    pub bytes: i64,
    pub path: String,
    pub supersedes: Option<i64>,
    pub superseded_by: Option<i64>,
    pub added_by: String,
    pub added_at: Time90k,
    pub ledger_seq: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(default)]
pub struct StaffRow {
    pub id: String,
    pub system_id: String,
    pub name: String,
    pub role: String,
    pub id_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TrainingRow {
    pub staff_id: String,
    /// legal | secrecy | skills | safety.
    pub topic: String,
    pub on_date: String,
    pub provider: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct MaintenanceRow {
    #[serde(default)]
    pub id: i64,
    pub system_id: String,
    #[serde(default)]
    pub device_code: Option<String>,
    /// check | maintenance | efficiency_assessment | security_assessment | image_quality (D4).
    pub kind: String,
    pub on_date: String,
    pub by_unit: String,
    pub result: String,
    #[serde(default)]
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: String,
    pub system_id: String,
    /// adjustment | removal.
    pub kind: String,
    pub on_date: String,
    pub done: bool,
    pub police_notified_on: Option<String>,
    pub filed_on: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TransitionRow {
    pub id: i64,
    pub system_id: String,
    pub from_state: String,
    pub to_state: String,
    pub on_date: String,
    /// JSON.
    pub evidence: String,
    #[sqlx(rename = "by_person")]
    pub by: String,
    #[sqlx(rename = "at_90k", try_from = "i64")]
    pub at: Time90k,
    pub ledger_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    pub id: String,
    pub rule: String,
    pub subject: String,
    pub system_id: Option<String>,
    pub articles: String,
    pub severity: String,
    pub detected_at: Time90k,
    pub deadline: Time90k,
    /// JSON of the consequence.
    pub consequence: String,
    pub status: String,
    pub message: String,
    pub last_seen: Time90k,
    pub resolved_at: Option<Time90k>,
    pub order_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct FindingEventRow {
    pub finding_id: String,
    pub from_status: String,
    pub to_status: String,
    #[sqlx(rename = "by_person")]
    pub by: String,
    #[sqlx(rename = "at_90k", try_from = "i64")]
    pub at: Time90k,
    pub note: String,
    pub ledger_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InspectionRow {
    pub id: i64,
    pub system_id: String,
    pub kind: String,
    pub inspector: String,
    pub started_at: Time90k,
    pub finished_at: Option<Time90k>,
    pub ledger_seq: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InspectionItemRow {
    pub item: String,
    /// pass | fail | not_applicable.
    pub answer: String,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub inspection_id: Option<i64>,
    pub system_id: String,
    pub issued_by: String,
    #[sqlx(rename = "issued_90k", try_from = "i64")]
    pub issued_at: Time90k,
    pub deadline: String,
    pub items: String,
    pub ledger_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ComplaintRow {
    pub id: i64,
    #[sqlx(rename = "submitted_90k", try_from = "i64")]
    pub submitted_at: Time90k,
    pub against: String,
    pub body: String,
    pub contact: Option<String>,
    pub sha256: String,
    pub ledger_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookmarkRow {
    pub id: i64,
    pub camera: String,
    pub at: Time90k,
    pub note: String,
    pub by: String,
    pub created_at: Time90k,
    pub hold_id: Option<i64>,
    pub ledger_seq: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub camera: Option<String>,
    pub at: Time90k,
    /// JSON.
    pub body: String,
    pub created_at: Time90k,
}

const DEVICE_COLS: &str =
    "SELECT code, system_id, kind, name, vendor, model, certification, lon, lat,
    height_m, bearing_deg, fov, place_id, public_area, signage, fixed_range, activated,
    privacy_mask, stream_main, stream_sub, retention, camera_name, online, offline_since_90k,
    completeness, health_90k FROM reg_device";

/// Rows per page of [`Store::for_each_device`].
pub const DEVICE_PAGE: i64 = 4096;

/// One page of devices after a rowid, as (last rowid, JSON array of rows in [`DeviceRow`] field
/// order; booleans as JSON booleans).
const DEVICE_PAGE_SQL: &str = "SELECT max(rid), json_group_array(json_array(code, system_id,
    kind, name, vendor, model, certification, lon, lat, height_m, bearing_deg, fov, place_id,
    json(iif(public_area, 'true', 'false')), json(iif(signage, 'true', 'false')),
    json(iif(fixed_range, 'true', 'false')), json(iif(activated, 'true', 'false')),
    json(iif(privacy_mask, 'true', 'false')), stream_main, stream_sub, retention, camera_name,
    json(iif(online, 'true', 'false')), offline_since_90k, completeness, health_90k))
    FROM (SELECT rowid AS rid, * FROM reg_device WHERE rowid > ? ORDER BY rowid LIMIT ?)";

/// One page of devices after rowid `after`: (last rowid, JSON), (None, _) past the end.
async fn device_page(
    conn: &mut sqlx::SqliteConnection,
    sql: &'static str,
    after: i64,
) -> Result<(Option<i64>, String)> {
    let r = sqlx::query(sql)
        .bind(after)
        .bind(DEVICE_PAGE)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| db_err("scanning devices", e))?;
    Ok((r.get(0), r.get(1)))
}

/// The rule columns of every device, as [`DeviceRuleRow`] (booleans as 0/1).
const DEVICE_RULE_PAGE_SQL: &str = "SELECT max(rid), json_group_array(json_array(code,
    system_id, place_id, public_area, signage, activated, privacy_mask, fov, retention, online,
    offline_since_90k, completeness))
    FROM (SELECT rowid AS rid, code, system_id, place_id, public_area, signage, activated,
          privacy_mask, fov, retention, online, offline_since_90k, completeness
          FROM reg_device WHERE rowid > ? ORDER BY rowid LIMIT ?)";

fn int_bool<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(i64::deserialize(d)? != 0)
}

fn device_from_row(r: &SqliteRow) -> DeviceRow {
    DeviceRow {
        code: r.get(0),
        system_id: r.get(1),
        kind: r.get(2),
        name: r.get(3),
        vendor: r.get(4),
        model: r.get(5),
        certification: r.get(6),
        lon: r.get(7),
        lat: r.get(8),
        height_m: r.get(9),
        bearing_deg: r.get(10),
        fov: r.get(11),
        place_id: r.get(12),
        public_area: r.get(13),
        signage: r.get(14),
        fixed_range: r.get(15),
        activated: r.get(16),
        privacy_mask: r.get(17),
        stream_main: r.get(18),
        stream_sub: r.get(19),
        retention: r.get(20),
        camera_name: r.get(21),
        online: r.get(22),
        offline_since: r.get::<Option<i64>, _>(23).map(Time90k),
        completeness: r.get(24),
        health_at: r.get::<Option<i64>, _>(25).map(Time90k),
    }
}

const SYSTEM_COLS: &str = "SELECT id, name, building_unit, using_unit, maintenance_unit,
    responsible_unit, responsibility_basis, funding, division, profile, state, in_use,
    accepted_on, put_into_use_on, filed_on, completed_before_rules, stores_police_important_info,
    must_connect, public_name, has_duty_roster, has_operating_procedures, has_emergency_plan
    FROM reg_system";

fn system_from_row(r: &SqliteRow) -> SystemRow {
    SystemRow {
        id: r.get(0),
        name: r.get(1),
        building_unit: r.get(2),
        using_unit: r.get(3),
        maintenance_unit: r.get(4),
        responsible_unit: r.get(5),
        responsibility_basis: r.get(6),
        funding: r.get(7),
        division: r.get(8),
        profile: r.get(9),
        state: r.get(10),
        in_use: r.get(11),
        accepted_on: r.get(12),
        put_into_use_on: r.get(13),
        filed_on: r.get(14),
        completed_before_rules: r.get(15),
        stores_police_important_info: r.get(16),
        must_connect: r.get(17),
        public_name: r.get(18),
        has_duty_roster: r.get(19),
        has_operating_procedures: r.get(20),
        has_emergency_plan: r.get(21),
    }
}

const FINDING_COLS: &str = "SELECT id, rule, subject, system_id, articles, severity, detected_90k,
    deadline_90k, consequence, status, message, last_seen_90k, resolved_90k, order_id
    FROM reg_finding";

fn finding_from_row(r: &SqliteRow) -> FindingRow {
    FindingRow {
        id: r.get(0),
        rule: r.get(1),
        subject: r.get(2),
        system_id: r.get(3),
        articles: r.get(4),
        severity: r.get(5),
        detected_at: Time90k(r.get(6)),
        deadline: Time90k(r.get(7)),
        consequence: r.get(8),
        status: r.get(9),
        message: r.get(10),
        last_seen: Time90k(r.get(11)),
        resolved_at: r.get::<Option<i64>, _>(12).map(Time90k),
        order_id: r.get(13),
    }
}

fn not_found(what: String) -> Error {
    Error::new(ErrorKind::NotFound, what)
}
