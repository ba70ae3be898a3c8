//! Shared fixtures: a real data directory, SQLite store and ledger in a temp dir, and a fully
//! compliant registry that each test breaks in exactly one way.

#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use custos_core::Time90k;
use custos_core::access::{Classification, Principal, Role, Scope};
use custos_core::compliance::lifecycle::legal_date;
use custos_journal::Journal;
use custos_ledger::Entry;
use custos_store::Store;
use custos_store::registry::{
    DeviceRow, PlaceRow, ResidenceRow, StaffRow, SystemRow, TrainingRow, UnitRow,
};

pub struct Env {
    pub dir: tempfile::TempDir,
    /// The data directory (its root).
    pub data: std::path::PathBuf,
    pub store: Store,
    pub journal: Journal,
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).unwrap()
}

pub fn days_ago(n: i64) -> String {
    (legal_date(now()) - Duration::days(n)).to_string()
}

pub async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = Store::open_sqlite(&data.join("custos.db")).await.unwrap();
    let (journal, _) = Journal::open(&data).unwrap();
    Env {
        dir,
        data,
        store,
        journal,
    }
}

impl Env {
    pub fn entries(&self) -> Vec<Entry> {
        let l = self.journal.ledger();
        l.entries(0..l.len()).unwrap()
    }
}

/// 20-digit code: division 32010200, industry 00, type, network 1, serial.
pub fn code(type_code: u16, serial: u32) -> String {
    format!("3201020000{type_code:03}1{serial:06}")
}

pub fn good_system(id: &str) -> SystemRow {
    SystemRow {
        id: id.into(),
        name: format!("system {id}"),
        building_unit: Some("u1".into()),
        using_unit: Some("u1".into()),
        maintenance_unit: Some("u1".into()),
        responsible_unit: Some("u1".into()),
        responsibility_basis: "owner".into(),
        funding: "private".into(),
        division: "320102".into(),
        profile: "strictest".into(),
        state: "operating".into(),
        in_use: true,
        accepted_on: Some(days_ago(200)),
        put_into_use_on: Some(days_ago(200)),
        filed_on: Some(days_ago(190)),
        must_connect: true,
        public_name: Some("Xinjiekou market cameras".into()),
        has_duty_roster: true,
        has_operating_procedures: true,
        has_emergency_plan: true,
        ..Default::default()
    }
}

/// A camera that satisfies every rule: at a mandatory place, online, signed, 30-day retention,
/// field of view away from residences.
pub fn good_camera(serial: u32, system: &str, place: &str) -> DeviceRow {
    let lon = 118.78 + serial as f64 * 0.0005;
    DeviceRow {
        code: code(132, serial),
        system_id: system.into(),
        kind: "camera".into(),
        name: format!("cam {serial}"),
        vendor: "V".into(),
        model: "M-1".into(),
        certification: "CCC".into(),
        lon: Some(lon),
        lat: Some(32.04),
        height_m: Some(5.0),
        bearing_deg: Some(90.0),
        fov: Some(format!(
            "[[{lon},32.04],[{},32.0402],[{},32.0398]]",
            lon + 0.0003,
            lon + 0.0003
        )),
        place_id: Some(place.into()),
        public_area: true,
        signage: true,
        activated: true,
        retention: "30d".into(),
        online: true,
        completeness: Some(1.0),
        health_at: Some(Time90k::from_datetime(now())),
        ..Default::default()
    }
}

/// A fully compliant registry: system `s1` with one camera at mandatory place `p-market`, one
/// residence far away, one trained staff member and a fresh duty-log entry.
pub async fn compliant(e: &Env) {
    let s = &e.store;
    let t = Time90k::from_datetime(now());
    s.upsert_unit(&UnitRow {
        id: "u1".into(),
        name: "Market Co.".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    s.upsert_system(&good_system("s1"), t).await.unwrap();
    s.upsert_place(&PlaceRow {
        id: "p-market".into(),
        name: "market".into(),
        category: "mandatory:commercial_exhibition".into(),
        anti_terror_key_target: false,
        polygon: Some("[[118.779,32.039],[118.79,32.039],[118.79,32.041],[118.779,32.041]]".into()),
    })
    .await
    .unwrap();
    s.upsert_residence(&ResidenceRow {
        id: "r1".into(),
        name: "flats".into(),
        polygon: "[[118.70,32.10],[118.701,32.10],[118.701,32.101],[118.70,32.101]]".into(),
    })
    .await
    .unwrap();
    s.upsert_devices(&[good_camera(1, "s1", "p-market")])
        .await
        .unwrap();
    s.upsert_staff(&StaffRow {
        id: "w1".into(),
        system_id: "s1".into(),
        name: "Li".into(),
        role: "watch".into(),
        id_number: None,
    })
    .await
    .unwrap();
    for topic in ["legal", "secrecy", "skills", "safety"] {
        s.add_training(&TrainingRow {
            staff_id: "w1".into(),
            topic: topic.into(),
            on_date: days_ago(30),
            provider: "police academy".into(),
        })
        .await
        .unwrap();
    }
    s.add_duty_log(
        "s1",
        "w1",
        Time90k::from_datetime(now() - Duration::hours(2)),
        "shift",
    )
    .await
    .unwrap();
}

/// A place of a prohibited category (B2): `p-wc`, a toilet.
pub async fn prohibited_place(e: &Env) {
    e.store
        .upsert_place(&custos_store::registry::PlaceRow {
            id: "p-wc".into(),
            name: "toilet".into(),
            category: "prohibited:toilet".into(),
            anti_terror_key_target: false,
            polygon: None,
        })
        .await
        .unwrap();
}

pub fn inspector(id: &str) -> Principal {
    Principal::new(id)
        .with_grant(Role::Inspector, Scope::organisation("320102"))
        .with_clearance(Classification::Confidential)
}

pub fn watch_operator(id: &str) -> Principal {
    Principal::new(id)
        .with_grant(Role::WatchOperator, Scope::organisation("320102"))
        .with_clearance(Classification::Internal)
}
