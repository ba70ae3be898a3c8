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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlaceRow {
    pub id: String,
    pub name: String,
    /// `mandatory:<category>`, `prohibited:<category>` or `general`.
    pub category: String,
    pub anti_terror_key_target: bool,
    pub polygon: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StaffRow {
    pub id: String,
    pub system_id: String,
    pub name: String,
    pub role: String,
    pub id_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRow {
    pub staff_id: String,
    /// legal | secrecy | skills | safety.
    pub topic: String,
    pub on_date: String,
    pub provider: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitionRow {
    pub id: i64,
    pub system_id: String,
    pub from_state: String,
    pub to_state: String,
    pub on_date: String,
    /// JSON.
    pub evidence: String,
    pub by: String,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingEventRow {
    pub finding_id: String,
    pub from_status: String,
    pub to_status: String,
    pub by: String,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: i64,
    pub inspection_id: Option<i64>,
    pub system_id: String,
    pub issued_by: String,
    pub issued_at: Time90k,
    pub deadline: String,
    pub items: String,
    pub ledger_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComplaintRow {
    pub id: i64,
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

impl Store {
    // ---- units and systems (A1) ----

    pub async fn upsert_unit(&self, u: &UnitRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_unit (id, name, credit_code, address, contact, state_owned)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, credit_code = excluded.credit_code,
                address = excluded.address, contact = excluded.contact, state_owned = excluded.state_owned",
        )
        .bind(&u.id)
        .bind(&u.name)
        .bind(&u.credit_code)
        .bind(&u.address)
        .bind(&u.contact)
        .bind(u.state_owned)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving unit", e))?;
        Ok(())
    }

    pub async fn units(&self) -> Result<Vec<UnitRow>> {
        let rows = sqlx::query(
            "SELECT id, name, credit_code, address, contact, state_owned FROM reg_unit ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing units", e))?;
        Ok(rows
            .iter()
            .map(|r| UnitRow {
                id: r.get(0),
                name: r.get(1),
                credit_code: r.get(2),
                address: r.get(3),
                contact: r.get(4),
                state_owned: r.get(5),
            })
            .collect())
    }

    /// Creates or updates a system's registry fields. The lifecycle state of an existing system
    /// is not changed here: only [`Store::record_transition`] changes it (C1).
    pub async fn upsert_system(&self, s: &SystemRow, now: Time90k) -> Result<()> {
        self.upsert_systems(std::slice::from_ref(s), now).await
    }

    /// As [`Store::upsert_system`], many in one transaction.
    pub async fn upsert_systems(&self, all: &[SystemRow], now: Time90k) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning systems", e))?;
        for s in all {
            sqlx::query(
                "INSERT INTO reg_system (id, name, building_unit, using_unit, maintenance_unit,
                responsible_unit, responsibility_basis, funding, division, profile, state, in_use,
                accepted_on, put_into_use_on, filed_on, completed_before_rules,
                stores_police_important_info, must_connect, public_name, has_duty_roster,
                has_operating_procedures, has_emergency_plan, created_90k)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                building_unit = excluded.building_unit, using_unit = excluded.using_unit,
                maintenance_unit = excluded.maintenance_unit,
                responsible_unit = excluded.responsible_unit,
                responsibility_basis = excluded.responsibility_basis, funding = excluded.funding,
                division = excluded.division, profile = excluded.profile, in_use = excluded.in_use,
                put_into_use_on = excluded.put_into_use_on,
                completed_before_rules = excluded.completed_before_rules,
                stores_police_important_info = excluded.stores_police_important_info,
                must_connect = excluded.must_connect, public_name = excluded.public_name,
                has_duty_roster = excluded.has_duty_roster,
                has_operating_procedures = excluded.has_operating_procedures,
                has_emergency_plan = excluded.has_emergency_plan",
            )
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.building_unit)
            .bind(&s.using_unit)
            .bind(&s.maintenance_unit)
            .bind(&s.responsible_unit)
            .bind(&s.responsibility_basis)
            .bind(&s.funding)
            .bind(&s.division)
            .bind(&s.profile)
            .bind(&s.state)
            .bind(s.in_use)
            .bind(&s.accepted_on)
            .bind(&s.put_into_use_on)
            .bind(&s.filed_on)
            .bind(s.completed_before_rules)
            .bind(s.stores_police_important_info)
            .bind(s.must_connect)
            .bind(&s.public_name)
            .bind(s.has_duty_roster)
            .bind(s.has_operating_procedures)
            .bind(s.has_emergency_plan)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("saving system", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing systems", e))?;
        Ok(())
    }

    pub async fn system(&self, id: &str) -> Result<SystemRow> {
        let r = sqlx::query(&format!("{SYSTEM_COLS} WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading system", e))?;
        r.as_ref()
            .map(system_from_row)
            .ok_or_else(|| not_found(format!("no system {id:?}; register it first")))
    }

    pub async fn systems(&self) -> Result<Vec<SystemRow>> {
        let rows = sqlx::query(&format!("{SYSTEM_COLS} ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing systems", e))?;
        Ok(rows.iter().map(system_from_row).collect())
    }

    /// Sets the observed in-use flag (streams live or recorded).
    pub async fn set_system_in_use(&self, id: &str, in_use: bool) -> Result<()> {
        let r = sqlx::query("UPDATE reg_system SET in_use = ? WHERE id = ?")
            .bind(in_use)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("saving system", e))?;
        if r.rows_affected() == 0 {
            return Err(not_found(format!("no system {id:?}")));
        }
        Ok(())
    }

    /// Records a lifecycle transition and applies it to the system in one transaction. The
    /// caller has checked it (custos-registry) and recorded the ledger entry `t.ledger_seq`.
    /// `accepted_on` / `filed_on` are set when the transition is to accepted / filed.
    pub async fn record_transition(&self, t: &TransitionRow) -> Result<i64> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning transition", e))?;
        let r = sqlx::query(
            "UPDATE reg_system SET state = ?,
                accepted_on = CASE WHEN ? = 'accepted' THEN ? ELSE accepted_on END,
                filed_on = CASE WHEN ? = 'filed' THEN ? ELSE filed_on END
             WHERE id = ? AND state = ?",
        )
        .bind(&t.to_state)
        .bind(&t.to_state)
        .bind(&t.on_date)
        .bind(&t.to_state)
        .bind(&t.on_date)
        .bind(&t.system_id)
        .bind(&t.from_state)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("applying transition", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "system {} is no longer in state {}; reload and retry",
                    t.system_id, t.from_state
                ),
            ));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO reg_transition (system_id, from_state, to_state, on_date, evidence,
                by_person, at_90k, ledger_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&t.system_id)
        .bind(&t.from_state)
        .bind(&t.to_state)
        .bind(&t.on_date)
        .bind(&t.evidence)
        .bind(&t.by)
        .bind(t.at.0)
        .bind(t.ledger_seq)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_err("recording transition", e))?
        .get(0);
        tx.commit()
            .await
            .map_err(|e| db_err("committing transition", e))?;
        Ok(id)
    }

    pub async fn transitions(&self, system_id: &str) -> Result<Vec<TransitionRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, from_state, to_state, on_date, evidence, by_person, at_90k,
                    ledger_seq FROM reg_transition WHERE system_id = ? ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing transitions", e))?;
        Ok(rows
            .iter()
            .map(|r| TransitionRow {
                id: r.get(0),
                system_id: r.get(1),
                from_state: r.get(2),
                to_state: r.get(3),
                on_date: r.get(4),
                evidence: r.get(5),
                by: r.get(6),
                at: Time90k(r.get(7)),
                ledger_seq: r.get(8),
            })
            .collect())
    }

    // ---- places and residences (B1–B3) ----

    pub async fn upsert_place(&self, p: &PlaceRow) -> Result<()> {
        self.upsert_places(std::slice::from_ref(p)).await
    }

    /// As [`Store::upsert_place`], many in one transaction.
    pub async fn upsert_places(&self, all: &[PlaceRow]) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning places", e))?;
        for p in all {
            sqlx::query(
            "INSERT INTO reg_place (id, name, category, anti_terror_key_target, polygon)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, category = excluded.category,
                anti_terror_key_target = excluded.anti_terror_key_target, polygon = excluded.polygon",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.category)
        .bind(p.anti_terror_key_target)
        .bind(&p.polygon)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("saving place", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing places", e))?;
        Ok(())
    }

    pub async fn places(&self) -> Result<Vec<PlaceRow>> {
        let rows = sqlx::query(
            "SELECT id, name, category, anti_terror_key_target, polygon FROM reg_place ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing places", e))?;
        Ok(rows
            .iter()
            .map(|r| PlaceRow {
                id: r.get(0),
                name: r.get(1),
                category: r.get(2),
                anti_terror_key_target: r.get(3),
                polygon: r.get(4),
            })
            .collect())
    }

    pub async fn upsert_residence(&self, p: &ResidenceRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_residence (id, name, polygon) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, polygon = excluded.polygon",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.polygon)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving residence", e))?;
        Ok(())
    }

    pub async fn residences(&self) -> Result<Vec<ResidenceRow>> {
        let rows = sqlx::query("SELECT id, name, polygon FROM reg_residence ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing residences", e))?;
        Ok(rows
            .iter()
            .map(|r| ResidenceRow {
                id: r.get(0),
                name: r.get(1),
                polygon: r.get(2),
            })
            .collect())
    }

    // ---- devices (A2, I4, D1) ----

    /// Creates or replaces devices in one transaction (an import batch). Health columns of an
    /// existing device are kept.
    pub async fn upsert_devices(&self, devices: &[DeviceRow]) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning device import", e))?;
        for d in devices {
            sqlx::query(
                "INSERT INTO reg_device (code, system_id, kind, name, vendor, model, certification,
                    lon, lat, height_m, bearing_deg, fov, place_id, public_area, signage,
                    fixed_range, activated, privacy_mask, stream_main, stream_sub, retention,
                    camera_name, online, offline_since_90k, completeness, health_90k)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (code) DO UPDATE SET system_id = excluded.system_id,
                    kind = excluded.kind, name = excluded.name, vendor = excluded.vendor,
                    model = excluded.model, certification = excluded.certification,
                    lon = excluded.lon, lat = excluded.lat, height_m = excluded.height_m,
                    bearing_deg = excluded.bearing_deg, fov = excluded.fov,
                    place_id = excluded.place_id, public_area = excluded.public_area,
                    signage = excluded.signage, fixed_range = excluded.fixed_range,
                    activated = excluded.activated, privacy_mask = excluded.privacy_mask,
                    stream_main = excluded.stream_main, stream_sub = excluded.stream_sub,
                    retention = excluded.retention, camera_name = excluded.camera_name",
            )
            .bind(&d.code)
            .bind(&d.system_id)
            .bind(&d.kind)
            .bind(&d.name)
            .bind(&d.vendor)
            .bind(&d.model)
            .bind(&d.certification)
            .bind(d.lon)
            .bind(d.lat)
            .bind(d.height_m)
            .bind(d.bearing_deg)
            .bind(&d.fov)
            .bind(&d.place_id)
            .bind(d.public_area)
            .bind(d.signage)
            .bind(d.fixed_range)
            .bind(d.activated)
            .bind(d.privacy_mask)
            .bind(&d.stream_main)
            .bind(&d.stream_sub)
            .bind(&d.retention)
            .bind(&d.camera_name)
            .bind(d.online)
            .bind(d.offline_since.map(|t| t.0))
            .bind(d.completeness)
            .bind(d.health_at.map(|t| t.0))
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err(&format!("saving device {}", d.code), e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing device import", e))?;
        Ok(())
    }

    /// Saves the latest health of a device (D1).
    pub async fn set_device_health(
        &self,
        code: &str,
        online: bool,
        offline_since: Option<Time90k>,
        completeness: Option<f64>,
        at: Time90k,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE reg_device SET online = ?, offline_since_90k = ?, completeness = ?, health_90k = ?
             WHERE code = ?",
        )
        .bind(online)
        .bind(offline_since.map(|t| t.0))
        .bind(completeness)
        .bind(at.0)
        .bind(code)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving device health", e))?;
        if r.rows_affected() == 0 {
            return Err(not_found(format!("no device {code}")));
        }
        Ok(())
    }

    pub async fn device(&self, code: &str) -> Result<DeviceRow> {
        let r = sqlx::query(&format!("{DEVICE_COLS} WHERE code = ?"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading device", e))?;
        r.as_ref()
            .map(device_from_row)
            .ok_or_else(|| not_found(format!("no device {code}; see `custos registry export`")))
    }

    /// The registry devices recorded as the recorder's camera `name` (usually one).
    pub async fn devices_of_camera(&self, name: &str) -> Result<Vec<DeviceRow>> {
        let rows = sqlx::query(&format!(
            "{DEVICE_COLS} WHERE camera_name = ? ORDER BY code"
        ))
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading devices of camera", e))?;
        Ok(rows.iter().map(device_from_row).collect())
    }

    /// Devices of one system (or all with `None`), ordered by code.
    pub async fn devices(&self, system_id: Option<&str>) -> Result<Vec<DeviceRow>> {
        let rows = match system_id {
            Some(s) => {
                sqlx::query(&format!("{DEVICE_COLS} WHERE system_id = ? ORDER BY code"))
                    .bind(s)
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                sqlx::query(&format!("{DEVICE_COLS} ORDER BY code"))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(|e| db_err("listing devices", e))?;
        Ok(rows.iter().map(device_from_row).collect())
    }

    pub async fn device_count(&self) -> Result<i64> {
        sqlx::query("SELECT count(*) FROM reg_device")
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
            .map_err(|e| db_err("counting devices", e))
    }

    /// Streams every device to `f` without holding them all in memory.
    pub async fn for_each_device(&self, f: impl FnMut(DeviceRow)) -> Result<u64> {
        self.paged(DEVICE_PAGE_SQL, f).await
    }

    /// Streams every device's rule columns to `f` (the rule scan; see [`DeviceRuleRow`]).
    pub async fn for_each_device_for_rules(&self, f: impl FnMut(DeviceRuleRow)) -> Result<u64> {
        self.paged(DEVICE_RULE_PAGE_SQL, f).await
    }

    /// Pages through `sql` (rows after a rowid, packed by SQLite into one JSON array per page
    /// of [`DEVICE_PAGE`]), so the driver's per-row cost is paid once per page. The next page is
    /// requested before `f` runs over the current one: SQLite (on its own thread) builds page
    /// k+1 while this thread decodes and checks page k.
    async fn paged<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        mut f: impl FnMut(T),
    ) -> Result<u64> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_err("scanning devices", e))?;
        let mut page = device_page(&mut conn, sql, i64::MIN).await?;
        let mut n = 0u64;
        while let (Some(last), json) = page {
            let work = async {
                let rows: Vec<T> = serde_json::from_str(&json).map_err(|e| {
                    Error::new(
                        ErrorKind::DataLoss,
                        format!("database: a device row does not decode: {e}"),
                    )
                })?;
                n += rows.len() as u64;
                rows.into_iter().for_each(&mut f);
                Ok::<(), Error>(())
            };
            let (next, done) = futures::join!(device_page(&mut conn, sql, last), work);
            done?;
            page = next?;
        }
        Ok(n)
    }

    /// The baseline of the compliance benchmark: the same query, rows and columns as
    /// [`Store::for_each_device`], each row decoded, with no rule applied. Returns (rows, a
    /// checksum so the work cannot be skipped).
    pub async fn plain_device_scan(&self) -> Result<(u64, u64)> {
        let mut sum = 0u64;
        let n = self
            .for_each_device_for_rules(|d| {
                sum = sum.wrapping_add(d.code.len() as u64 + d.online as u64);
            })
            .await?;
        Ok((n, sum))
    }

    /// Benchmark fixture: `n` synthetic devices (numbers `first..first + n`) spread over `systems` systems and `places`
    /// places, generated inside SQLite (seconds for a million rows). Health: about 1% offline,
    /// 2% below full recording completeness, 3% without signage. Codes are valid GB/T 28181
    /// (division 3201xxxx, type 132).
    pub async fn generate_synthetic_devices(
        &self,
        first: u64,
        n: u64,
        systems: u64,
        places: u64,
        now: Time90k,
    ) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning generation", e))?;
        sqlx::query(
            "INSERT INTO reg_device (code, system_id, kind, name, lon, lat, height_m, bearing_deg,
                fov, place_id, public_area, signage, fixed_range, activated, privacy_mask,
                stream_main, retention, online, offline_since_90k, completeness, health_90k)
             WITH RECURSIVE seq(i) AS (SELECT ?5 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?5 + ?1)
             SELECT printf('3201%04d%02d132%d%06d', i / 1000000 % 10000, 0, 1, i % 1000000),
                    printf('sys%05d', i % ?2), 'camera', printf('cam %d', i),
                    118.70 + (i % 1000) * 0.0004, 31.90 + (i / 1000 % 1000) * 0.0004, 6.0,
                    (i * 37) % 360,
                    printf('[[%f,%f],[%f,%f],[%f,%f]]',
                        118.70 + (i % 1000) * 0.0004, 31.90 + (i / 1000 % 1000) * 0.0004,
                        118.70 + (i % 1000) * 0.0004 + 0.0003, 31.90 + (i / 1000 % 1000) * 0.0004 + 0.0001,
                        118.70 + (i % 1000) * 0.0004 + 0.0001, 31.90 + (i / 1000 % 1000) * 0.0004 + 0.0003),
                    printf('place%06d', i % ?3), 1, (i % 33) != 7, 1, 1, 0,
                    printf('rtsp://10.%d.%d.%d/main', i / 65536 % 256, i / 256 % 256, i % 256),
                    '30d', (i % 100) != 3,
                    CASE WHEN (i % 100) = 3 THEN ?4 - 90000 * 3600 ELSE NULL END,
                    CASE WHEN (i % 50) = 11 THEN 0.9 ELSE 1.0 END, ?4
             FROM seq",
        )
        .bind(n as i64)
        .bind(systems.max(1) as i64)
        .bind(places.max(1) as i64)
        .bind(now.0)
        .bind(first as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("generating devices", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("committing generation", e))?;
        Ok(())
    }

    // ---- archive (A4) ----

    /// Files a document; if `supersedes` is set, marks that one superseded in the same
    /// transaction (it must not be superseded already). Documents are never overwritten.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_document(&self, d: &DocumentRow) -> Result<i64> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning document", e))?;
        let id: i64 = sqlx::query(
            "INSERT INTO reg_document (system_id, kind, title, dated, author_unit, sha256, bytes,
                path, supersedes, added_by, added_90k, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&d.system_id)
        .bind(&d.kind)
        .bind(&d.title)
        .bind(&d.dated)
        .bind(&d.author_unit)
        .bind(&d.sha256)
        .bind(d.bytes)
        .bind(&d.path)
        .bind(d.supersedes)
        .bind(&d.added_by)
        .bind(d.added_at.0)
        .bind(d.ledger_seq)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_err("filing document", e))?
        .get(0);
        if let Some(old) = d.supersedes {
            let r = sqlx::query(
                "UPDATE reg_document SET superseded_by = ? WHERE id = ? AND system_id = ?
                   AND superseded_by IS NULL",
            )
            .bind(id)
            .bind(old)
            .bind(&d.system_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("superseding document", e))?;
            if r.rows_affected() != 1 {
                return Err(Error::new(
                    ErrorKind::FailedPrecondition,
                    format!(
                        "document {old} is not a current document of system {}; supersede the \
                         current version",
                        d.system_id
                    ),
                ));
            }
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing document", e))?;
        Ok(id)
    }

    /// The archive of a system, all versions, oldest first.
    pub async fn documents(&self, system_id: &str) -> Result<Vec<DocumentRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, kind, title, dated, author_unit, sha256, bytes, path, supersedes,
                    superseded_by, added_by, added_90k, ledger_seq
             FROM reg_document WHERE system_id = ? ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing documents", e))?;
        Ok(rows
            .iter()
            .map(|r| DocumentRow {
                id: r.get(0),
                system_id: r.get(1),
                kind: r.get(2),
                title: r.get(3),
                dated: r.get(4),
                author_unit: r.get(5),
                sha256: r.get(6),
                bytes: r.get(7),
                path: r.get(8),
                supersedes: r.get(9),
                superseded_by: r.get(10),
                added_by: r.get(11),
                added_at: Time90k(r.get(12)),
                ledger_seq: r.get(13),
            })
            .collect())
    }

    // ---- staff, training, duty, maintenance (A5, D2–D4) ----

    pub async fn upsert_staff(&self, s: &StaffRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_staff (id, system_id, name, role, id_number) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET system_id = excluded.system_id, name = excluded.name,
                role = excluded.role, id_number = excluded.id_number",
        )
        .bind(&s.id)
        .bind(&s.system_id)
        .bind(&s.name)
        .bind(&s.role)
        .bind(&s.id_number)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving staff", e))?;
        Ok(())
    }

    pub async fn staff(&self, system_id: Option<&str>) -> Result<Vec<StaffRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, name, role, id_number FROM reg_staff
             WHERE ?1 IS NULL OR system_id = ?1 ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing staff", e))?;
        Ok(rows
            .iter()
            .map(|r| StaffRow {
                id: r.get(0),
                system_id: r.get(1),
                name: r.get(2),
                role: r.get(3),
                id_number: r.get(4),
            })
            .collect())
    }

    pub async fn add_training(&self, t: &TrainingRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_training (staff_id, topic, on_date, provider) VALUES (?, ?, ?, ?)",
        )
        .bind(&t.staff_id)
        .bind(&t.topic)
        .bind(&t.on_date)
        .bind(&t.provider)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving training", e))?;
        Ok(())
    }

    pub async fn trainings(&self) -> Result<Vec<TrainingRow>> {
        let rows = sqlx::query(
            "SELECT staff_id, topic, on_date, provider FROM reg_training ORDER BY staff_id, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing training", e))?;
        Ok(rows
            .iter()
            .map(|r| TrainingRow {
                staff_id: r.get(0),
                topic: r.get(1),
                on_date: r.get(2),
                provider: r.get(3),
            })
            .collect())
    }

    pub async fn add_duty_shift(
        &self,
        system_id: &str,
        staff_id: &str,
        start: Time90k,
        end: Time90k,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_duty_shift (system_id, staff_id, start_90k, end_90k)
             VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(system_id)
        .bind(staff_id)
        .bind(start.0)
        .bind(end.0)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving duty shift", e))
    }

    /// Staff on duty for `system_id` at `at` (D5 feeds `Principal::on_duty_for` from this).
    pub async fn on_duty(&self, system_id: &str, at: Time90k) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT staff_id FROM reg_duty_shift
             WHERE system_id = ? AND start_90k <= ? AND end_90k > ? ORDER BY staff_id",
        )
        .bind(system_id)
        .bind(at.0)
        .bind(at.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing duty", e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub async fn add_duty_log(
        &self,
        system_id: &str,
        staff_id: &str,
        at: Time90k,
        entry: &str,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_duty_log (system_id, staff_id, at_90k, entry) VALUES (?, ?, ?, ?)
             RETURNING id",
        )
        .bind(system_id)
        .bind(staff_id)
        .bind(at.0)
        .bind(entry)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving duty log", e))
    }

    /// Latest duty-log entry time per system.
    pub async fn last_duty_logs(&self) -> Result<Vec<(String, Time90k)>> {
        let rows =
            sqlx::query("SELECT system_id, max(at_90k) FROM reg_duty_log GROUP BY system_id")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("reading duty logs", e))?;
        Ok(rows.iter().map(|r| (r.get(0), Time90k(r.get(1)))).collect())
    }

    pub async fn add_maintenance(&self, m: &MaintenanceRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_maintenance (system_id, device_code, kind, on_date, by_unit, result, notes)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&m.system_id)
        .bind(&m.device_code)
        .bind(&m.kind)
        .bind(&m.on_date)
        .bind(&m.by_unit)
        .bind(&m.result)
        .bind(&m.notes)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving maintenance record", e))
    }

    pub async fn maintenance(&self, system_id: &str) -> Result<Vec<MaintenanceRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, device_code, kind, on_date, by_unit, result, notes
             FROM reg_maintenance WHERE system_id = ? ORDER BY on_date, id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing maintenance", e))?;
        Ok(rows
            .iter()
            .map(|r| MaintenanceRow {
                id: r.get(0),
                system_id: r.get(1),
                device_code: r.get(2),
                kind: r.get(3),
                on_date: r.get(4),
                by_unit: r.get(5),
                result: r.get(6),
                notes: r.get(7),
            })
            .collect())
    }

    pub async fn upsert_change(&self, c: &ChangeRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_change (id, system_id, kind, on_date, done, police_notified_on, filed_on)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, on_date = excluded.on_date,
                done = excluded.done, police_notified_on = excluded.police_notified_on,
                filed_on = excluded.filed_on",
        )
        .bind(&c.id)
        .bind(&c.system_id)
        .bind(&c.kind)
        .bind(&c.on_date)
        .bind(c.done)
        .bind(&c.police_notified_on)
        .bind(&c.filed_on)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving change", e))?;
        Ok(())
    }

    pub async fn changes(&self) -> Result<Vec<ChangeRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, kind, on_date, done, police_notified_on, filed_on
             FROM reg_change ORDER BY system_id, on_date, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing changes", e))?;
        Ok(rows
            .iter()
            .map(|r| ChangeRow {
                id: r.get(0),
                system_id: r.get(1),
                kind: r.get(2),
                on_date: r.get(3),
                done: r.get(4),
                police_notified_on: r.get(5),
                filed_on: r.get(6),
            })
            .collect())
    }

    // ---- findings (J1/J2) ----

    /// Saves one scan's findings: new ones are inserted as open; ones seen before keep their
    /// status and get the new message and `last_seen`; ones the scan no longer sees are marked
    /// resolved (`resolved_at`), current again if seen again; a verified one seen again is a
    /// recurrence and opens afresh (new detection time and deadline). One transaction.
    pub async fn save_scan(&self, found: &[FindingRow], now: Time90k) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning scan", e))?;
        for f in found {
            sqlx::query(
                "INSERT INTO reg_finding (id, rule, subject, system_id, articles, severity,
                    detected_90k, deadline_90k, consequence, status, message, last_seen_90k)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
                 ON CONFLICT (id) DO UPDATE SET message = excluded.message,
                    articles = excluded.articles, consequence = excluded.consequence,
                    last_seen_90k = excluded.last_seen_90k, resolved_90k = NULL,
                    detected_90k = iif(status = 'verified', excluded.detected_90k, detected_90k),
                    deadline_90k = iif(status = 'verified', excluded.deadline_90k, deadline_90k),
                    order_id = iif(status = 'verified', NULL, order_id),
                    status = iif(status = 'verified', 'open', status)",
            )
            .bind(&f.id)
            .bind(&f.rule)
            .bind(&f.subject)
            .bind(&f.system_id)
            .bind(&f.articles)
            .bind(&f.severity)
            .bind(f.detected_at.0)
            .bind(f.deadline.0)
            .bind(&f.consequence)
            .bind(&f.message)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("saving finding", e))?;
        }
        sqlx::query(
            "UPDATE reg_finding SET resolved_90k = ? WHERE last_seen_90k < ? AND resolved_90k IS NULL",
        )
        .bind(now.0)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("resolving findings", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("committing scan", e))?;
        Ok(())
    }

    /// Findings, current ones (not resolved) unless `include_resolved`; optionally of one system.
    pub async fn findings(
        &self,
        system_id: Option<&str>,
        include_resolved: bool,
    ) -> Result<Vec<FindingRow>> {
        let rows = sqlx::query(&format!(
            "{FINDING_COLS} WHERE (?1 IS NULL OR system_id = ?1)
               AND (?2 OR resolved_90k IS NULL) ORDER BY id"
        ))
        .bind(system_id)
        .bind(include_resolved)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing findings", e))?;
        Ok(rows.iter().map(finding_from_row).collect())
    }

    pub async fn finding(&self, id: &str) -> Result<FindingRow> {
        let r = sqlx::query(&format!("{FINDING_COLS} WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading finding", e))?;
        r.as_ref()
            .map(finding_from_row)
            .ok_or_else(|| not_found(format!("no finding {id:?}; run `custos findings`")))
    }

    /// Moves a finding to a new status (checked by the caller) and records the event.
    pub async fn set_finding_status(
        &self,
        ev: &FindingEventRow,
        deadline: Option<Time90k>,
        order_id: Option<i64>,
    ) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning finding update", e))?;
        let r = sqlx::query(
            "UPDATE reg_finding SET status = ?, deadline_90k = coalesce(?, deadline_90k),
                order_id = coalesce(?, order_id) WHERE id = ? AND status = ?",
        )
        .bind(&ev.to_status)
        .bind(deadline.map(|t| t.0))
        .bind(order_id)
        .bind(&ev.finding_id)
        .bind(&ev.from_status)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("updating finding", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "finding {} is not {} any more; reload it",
                    ev.finding_id, ev.from_status
                ),
            ));
        }
        sqlx::query(
            "INSERT INTO reg_finding_event (finding_id, from_status, to_status, by_person, at_90k,
                note, ledger_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&ev.finding_id)
        .bind(&ev.from_status)
        .bind(&ev.to_status)
        .bind(&ev.by)
        .bind(ev.at.0)
        .bind(&ev.note)
        .bind(ev.ledger_seq)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("recording finding event", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("committing finding update", e))?;
        Ok(())
    }

    pub async fn finding_events(&self, finding_id: &str) -> Result<Vec<FindingEventRow>> {
        let rows = sqlx::query(
            "SELECT finding_id, from_status, to_status, by_person, at_90k, note, ledger_seq
             FROM reg_finding_event WHERE finding_id = ? ORDER BY id",
        )
        .bind(finding_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing finding events", e))?;
        Ok(rows
            .iter()
            .map(|r| FindingEventRow {
                finding_id: r.get(0),
                from_status: r.get(1),
                to_status: r.get(2),
                by: r.get(3),
                at: Time90k(r.get(4)),
                note: r.get(5),
                ledger_seq: r.get(6),
            })
            .collect())
    }

    // ---- inspections and orders (J1) ----

    pub async fn start_inspection(
        &self,
        system_id: &str,
        kind: &str,
        inspector: &str,
        at: Time90k,
        ledger_seq: i64,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_inspection (system_id, kind, inspector, started_90k, ledger_seq)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(system_id)
        .bind(kind)
        .bind(inspector)
        .bind(at.0)
        .bind(ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("starting inspection", e))
    }

    /// Answers a checklist item of an unfinished inspection (answering again replaces it).
    pub async fn answer_inspection_item(
        &self,
        inspection_id: i64,
        item: &InspectionItemRow,
    ) -> Result<()> {
        let open: Option<i64> =
            sqlx::query("SELECT id FROM reg_inspection WHERE id = ? AND finished_90k IS NULL")
                .bind(inspection_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_err("reading inspection", e))?
                .map(|r| r.get(0));
        if open.is_none() {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("inspection {inspection_id} does not exist or is finished"),
            ));
        }
        sqlx::query(
            "INSERT INTO reg_inspection_item (inspection_id, item, answer, note) VALUES (?, ?, ?, ?)
             ON CONFLICT (inspection_id, item) DO UPDATE SET answer = excluded.answer,
                note = excluded.note",
        )
        .bind(inspection_id)
        .bind(&item.item)
        .bind(&item.answer)
        .bind(&item.note)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("answering inspection item", e))?;
        Ok(())
    }

    pub async fn finish_inspection(&self, inspection_id: i64, at: Time90k) -> Result<()> {
        let r = sqlx::query(
            "UPDATE reg_inspection SET finished_90k = ? WHERE id = ? AND finished_90k IS NULL",
        )
        .bind(at.0)
        .bind(inspection_id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("finishing inspection", e))?;
        if r.rows_affected() != 1 {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!("inspection {inspection_id} does not exist or is finished"),
            ));
        }
        Ok(())
    }

    pub async fn inspection(
        &self,
        inspection_id: i64,
    ) -> Result<(InspectionRow, Vec<InspectionItemRow>)> {
        let r = sqlx::query(
            "SELECT id, system_id, kind, inspector, started_90k, finished_90k, ledger_seq
             FROM reg_inspection WHERE id = ?",
        )
        .bind(inspection_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading inspection", e))?
        .ok_or_else(|| not_found(format!("no inspection {inspection_id}")))?;
        let ins = InspectionRow {
            id: r.get(0),
            system_id: r.get(1),
            kind: r.get(2),
            inspector: r.get(3),
            started_at: Time90k(r.get(4)),
            finished_at: r.get::<Option<i64>, _>(5).map(Time90k),
            ledger_seq: r.get(6),
        };
        let items = sqlx::query(
            "SELECT item, answer, note FROM reg_inspection_item WHERE inspection_id = ? ORDER BY item",
        )
        .bind(inspection_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading inspection items", e))?
        .iter()
        .map(|r| InspectionItemRow {
            item: r.get(0),
            answer: r.get(1),
            note: r.get(2),
        })
        .collect();
        Ok((ins, items))
    }

    pub async fn inspections(&self, system_id: &str) -> Result<Vec<InspectionRow>> {
        let rows = sqlx::query(
            "SELECT id, system_id, kind, inspector, started_90k, finished_90k, ledger_seq
             FROM reg_inspection WHERE system_id = ? ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing inspections", e))?;
        Ok(rows
            .iter()
            .map(|r| InspectionRow {
                id: r.get(0),
                system_id: r.get(1),
                kind: r.get(2),
                inspector: r.get(3),
                started_at: Time90k(r.get(4)),
                finished_at: r.get::<Option<i64>, _>(5).map(Time90k),
                ledger_seq: r.get(6),
            })
            .collect())
    }

    pub async fn add_rectification_order(&self, o: &OrderRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_rectification_order (inspection_id, system_id, issued_by, issued_90k,
                deadline, items, ledger_seq) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(o.inspection_id)
        .bind(&o.system_id)
        .bind(&o.issued_by)
        .bind(o.issued_at.0)
        .bind(&o.deadline)
        .bind(&o.items)
        .bind(o.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving rectification order", e))
    }

    pub async fn rectification_orders(&self, system_id: &str) -> Result<Vec<OrderRow>> {
        let rows = sqlx::query(
            "SELECT id, inspection_id, system_id, issued_by, issued_90k, deadline, items, ledger_seq
             FROM reg_rectification_order WHERE system_id = ? ORDER BY id",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing orders", e))?;
        Ok(rows
            .iter()
            .map(|r| OrderRow {
                id: r.get(0),
                inspection_id: r.get(1),
                system_id: r.get(2),
                issued_by: r.get(3),
                issued_at: Time90k(r.get(4)),
                deadline: r.get(5),
                items: r.get(6),
                ledger_seq: r.get(7),
            })
            .collect())
    }

    // ---- complaints (J3) ----

    pub async fn add_complaint(&self, c: &ComplaintRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_complaint (submitted_90k, against, body, contact, sha256, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(c.submitted_at.0)
        .bind(&c.against)
        .bind(&c.body)
        .bind(&c.contact)
        .bind(&c.sha256)
        .bind(c.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving complaint", e))
    }

    pub async fn complaints(&self) -> Result<Vec<ComplaintRow>> {
        let rows = sqlx::query(
            "SELECT id, submitted_90k, against, body, contact, sha256, ledger_seq
             FROM reg_complaint ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing complaints", e))?;
        Ok(rows
            .iter()
            .map(|r| ComplaintRow {
                id: r.get(0),
                submitted_at: Time90k(r.get(1)),
                against: r.get(2),
                body: r.get(3),
                contact: r.get(4),
                sha256: r.get(5),
                ledger_seq: r.get(6),
            })
            .collect())
    }

    /// For tests of the append-only guarantee: tries to rewrite a complaint's body with plain SQL.
    #[doc(hidden)]
    pub async fn try_rewrite_complaint(&self, id: i64, body: &str) -> Result<()> {
        sqlx::query("UPDATE reg_complaint SET body = ? WHERE id = ?")
            .bind(body)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("rewriting complaint", e))?;
        Ok(())
    }

    // ---- bookmarks and events (D6, I4) ----

    pub async fn add_bookmark(&self, b: &BookmarkRow) -> Result<i64> {
        sqlx::query(
            "INSERT INTO bookmark (camera, at_90k, note, by_person, created_90k, hold_id, ledger_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&b.camera)
        .bind(b.at.0)
        .bind(&b.note)
        .bind(&b.by)
        .bind(b.created_at.0)
        .bind(b.hold_id)
        .bind(b.ledger_seq)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving bookmark", e))
    }

    /// Bookmarks of `camera` with `from <= at < to`, oldest first (the web timeline).
    pub async fn bookmarks(
        &self,
        camera: &str,
        from: Time90k,
        to: Time90k,
    ) -> Result<Vec<BookmarkRow>> {
        let rows = sqlx::query(
            "SELECT id, camera, at_90k, note, by_person, created_90k, hold_id, ledger_seq
             FROM bookmark WHERE camera = ? AND at_90k >= ? AND at_90k < ? ORDER BY at_90k, id",
        )
        .bind(camera)
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing bookmarks", e))?;
        Ok(rows
            .iter()
            .map(|r| BookmarkRow {
                id: r.get(0),
                camera: r.get(1),
                at: Time90k(r.get(2)),
                note: r.get(3),
                by: r.get(4),
                created_at: Time90k(r.get(5)),
                hold_id: r.get(6),
                ledger_seq: r.get(7),
            })
            .collect())
    }

    pub async fn add_event(
        &self,
        kind: &str,
        camera: Option<&str>,
        at: Time90k,
        body: &str,
        now: Time90k,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO reg_event (kind, camera, at_90k, body, created_90k) VALUES (?, ?, ?, ?, ?)
             RETURNING id",
        )
        .bind(kind)
        .bind(camera)
        .bind(at.0)
        .bind(body)
        .bind(now.0)
        .fetch_one(&self.pool)
        .await
        .map(|r| r.get(0))
        .map_err(|e| db_err("saving event", e))
    }

    /// Events of a camera with `from <= at < to`, oldest first (the timeline: D6 reports, I4
    /// alarm and access-control events of devices linked to it).
    pub async fn camera_events(
        &self,
        camera: &str,
        from: Time90k,
        to: Time90k,
    ) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, camera, at_90k, body, created_90k FROM reg_event
             WHERE camera = ? AND at_90k >= ? AND at_90k < ? ORDER BY at_90k, id",
        )
        .bind(camera)
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing camera events", e))?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                id: r.get(0),
                kind: r.get(1),
                camera: r.get(2),
                at: Time90k(r.get(3)),
                body: r.get(4),
                created_at: Time90k(r.get(5)),
            })
            .collect())
    }

    /// Events with id > `after`, oldest first (the console and police side poll or stream this).
    pub async fn events_since(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, camera, at_90k, body, created_90k FROM reg_event
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing events", e))?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                id: r.get(0),
                kind: r.get(1),
                camera: r.get(2),
                at: Time90k(r.get(3)),
                body: r.get(4),
                created_at: Time90k(r.get(5)),
            })
            .collect())
    }
}
