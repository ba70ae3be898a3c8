//! The synthetic registry of `custos bench compliance`: `n` devices (with health) over n/1000
//! systems, n/200 places of every category and a few hundred residences, with staff and
//! training. Devices are generated inside SQLite (`Store::generate_synthetic_devices`); the
//! rest through the ordinary store API. Deterministic: the same `n` gives the same registry.

use chrono::{DateTime, Duration, Utc};
use custos_core::compliance::lifecycle::legal_date;
use custos_core::compliance::{MandatoryCategory, PlaceCategory, ProhibitedCategory};
use custos_core::{Result, Time90k};
use custos_store::Store;
use custos_store::registry::{PlaceRow, ResidenceRow, StaffRow, SystemRow, TrainingRow};

use crate::convert::category_str;

/// Counts of what was generated.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    pub devices: u64,
    pub systems: u64,
    pub places: u64,
    pub residences: u64,
    pub staff: u64,
}

pub async fn generate(store: &Store, n: u64, now: DateTime<Utc>) -> Result<Generated> {
    let g = Generated {
        devices: n,
        systems: (n / 1000).max(1),
        places: (n / 200).max(1),
        residences: (n / 2000).clamp(1, 500),
        staff: 0,
    };
    let now90 = Time90k::from_datetime(now);
    let today = legal_date(now);
    let date = |days_ago: i64| (today - Duration::days(days_ago)).to_string();
    let systems: Vec<SystemRow> = (0..g.systems)
        .map(|i| {
            let (state, in_use, filed) = match i % 50 {
                7 => ("under_construction", true, false),
                13 => ("accepted", true, false),
                _ => ("operating", true, true),
            };
            SystemRow {
                id: format!("sys{i:05}"),
                name: format!("system {i}"),
                responsibility_basis: "owner".into(),
                funding: if i % 3 == 0 { "government" } else { "private" }.into(),
                division: "320102".into(),
                profile: "strictest".into(),
                state: state.into(),
                in_use,
                accepted_on: (state != "under_construction").then(|| date(400)),
                filed_on: filed.then(|| date(380)),
                must_connect: i % 4 == 0,
                public_name: Some(format!("public system {i}")),
                has_duty_roster: true,
                has_operating_procedures: true,
                has_emergency_plan: i % 20 != 5,
                ..Default::default()
            }
        })
        .collect();
    store.upsert_systems(&systems, now90).await?;
    let places: Vec<PlaceRow> = (0..g.places)
        .map(|i| {
            let cat = match i % 100 {
                0 => PlaceCategory::Prohibited(
                    ProhibitedCategory::ALL[(i / 100) as usize % ProhibitedCategory::ALL.len()],
                ),
                1..=40 => PlaceCategory::General,
                _ => PlaceCategory::Mandatory(
                    MandatoryCategory::ALL[i as usize % MandatoryCategory::ALL.len()],
                ),
            };
            PlaceRow {
                id: format!("place{i:06}"),
                name: format!("place {i}"),
                category: category_str(cat),
                anti_terror_key_target: i % 97 == 5,
                polygon: None,
            }
        })
        .collect();
    store.upsert_places(&places).await?;
    // One place in 100 per generated device set gets no device: places beyond the device count.
    for i in 0..g.residences {
        let (lon, lat) = (
            118.70 + (i % 25) as f64 * 0.016,
            31.90 + (i / 25) as f64 * 0.016,
        );
        store
            .upsert_residence(&ResidenceRow {
                id: format!("res{i:04}"),
                name: format!("residence {i}"),
                polygon: format!(
                    "[[{lon},{lat}],[{},{lat}],[{},{}],[{lon},{}]]",
                    lon + 0.0008,
                    lon + 0.0008,
                    lat + 0.0008,
                    lat + 0.0008
                ),
            })
            .await?;
    }
    let mut staff = 0;
    for s in systems.iter().take(200) {
        for k in 0..2 {
            let id = format!("{}-staff{k}", s.id);
            store
                .upsert_staff(&StaffRow {
                    id: id.clone(),
                    system_id: s.id.clone(),
                    name: format!("watch {k}"),
                    role: "watch".into(),
                    id_number: None,
                })
                .await?;
            staff += 1;
            for topic in ["legal", "secrecy", "skills", "safety"] {
                if k == 1 && topic == "secrecy" {
                    continue;
                }
                store
                    .add_training(&TrainingRow {
                        staff_id: id.clone(),
                        topic: topic.into(),
                        on_date: date(100),
                        provider: "bench".into(),
                    })
                    .await?;
            }
        }
        store
            .add_duty_log(
                &s.id,
                &format!("{}-staff0", s.id),
                now90,
                "shift handed over",
            )
            .await?;
    }
    // In slices of 10,000 so no statement runs long.
    let mut first = 0;
    while first < n {
        let k = (n - first).min(10_000);
        store
            .generate_synthetic_devices(first, k, g.systems, g.places, now90)
            .await?;
        first += k;
    }
    Ok(Generated { staff, ..g })
}
