//! Store rows ⇄ the pure compliance records: place categories (`mandatory:<cat>`,
//! `prohibited:<cat>`, `general`), dates (`YYYY-MM-DD`), polygons (JSON `[[lon, lat], …]`),
//! jurisdiction profiles and lifecycle states.

use std::str::FromStr;

use chrono::NaiveDate;
use custos_core::compliance::geo::LonLat;
use custos_core::compliance::jurisdiction::{Jurisdiction, Profile};
use custos_core::compliance::rules::{
    ChangeKind, ChangeRecord, DeviceHealth, DeviceRecord, DutyRecord, PlaceRecord, SystemRecord,
};
use custos_core::compliance::{
    DeviceCode, LifecycleState, MandatoryCategory, PlaceCategory, ProhibitedCategory,
};
use custos_core::retention::RetentionClass;
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_store::registry::{ChangeRow, DeviceRuleRow, PlaceRow, SystemRow};

fn bad(msg: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

/// Parses a place category: `general`, `mandatory:<name>` or `prohibited:<name>` with the
/// snake_case names of `custos_core::compliance::places`.
pub fn parse_category(s: &str) -> Result<PlaceCategory> {
    let s = s.trim();
    if s == "general" || s.is_empty() {
        return Ok(PlaceCategory::General);
    }
    let (kind, name) = s.split_once(':').ok_or_else(|| {
        bad(format!(
            "bad place category {s:?}: write general, mandatory:<category> or prohibited:<category>"
        ))
    })?;
    let v = serde_json::Value::String(name.to_owned());
    match kind {
        "mandatory" => serde_json::from_value::<MandatoryCategory>(v)
            .map(PlaceCategory::Mandatory)
            .map_err(|_| {
                bad(format!(
                    "unknown mandatory category {name:?}; one of {}",
                    category_names(true).join(", ")
                ))
            }),
        "prohibited" => serde_json::from_value::<ProhibitedCategory>(v)
            .map(PlaceCategory::Prohibited)
            .map_err(|_| {
                bad(format!(
                    "unknown prohibited category {name:?}; one of {}",
                    category_names(false).join(", ")
                ))
            }),
        _ => Err(bad(format!(
            "bad place category {s:?}: write general, mandatory:<category> or prohibited:<category>"
        ))),
    }
}

fn enum_name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The stored form of a category.
pub fn category_str(c: PlaceCategory) -> String {
    match c {
        PlaceCategory::General => "general".to_owned(),
        PlaceCategory::Mandatory(m) => format!("mandatory:{}", enum_name(m)),
        PlaceCategory::Prohibited(p) => format!("prohibited:{}", enum_name(p)),
    }
}

/// The category names of the taxonomy (mandatory or prohibited), as written in files.
pub fn category_names(mandatory: bool) -> Vec<String> {
    if mandatory {
        MandatoryCategory::ALL
            .iter()
            .map(|c| enum_name(*c))
            .collect()
    } else {
        ProhibitedCategory::ALL
            .iter()
            .map(|c| enum_name(*c))
            .collect()
    }
}

/// Parses a legal date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| bad(format!("bad date {s:?}: write YYYY-MM-DD")))
}

fn opt_date(s: &Option<String>) -> Result<Option<NaiveDate>> {
    s.as_deref().map(parse_date).transpose()
}

/// Parses a polygon: JSON `[[lon, lat], …]` or `lon lat; lon lat; …`. At least 3 points, each
/// within WGS-84 ranges.
pub fn parse_polygon(s: &str) -> Result<Vec<LonLat>> {
    let s = s.trim();
    let pts: Vec<(f64, f64)> = if s.starts_with('[') {
        serde_json::from_str::<Vec<(f64, f64)>>(s).map_err(|e| {
            bad(format!(
                "bad polygon JSON {s:?}: {e}; write [[lon, lat], ...]"
            ))
        })?
    } else {
        s.split(';')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let mut it = p.split_whitespace().map(f64::from_str);
                match (it.next(), it.next(), it.next()) {
                    (Some(Ok(a)), Some(Ok(b)), None) => Ok((a, b)),
                    _ => Err(bad(format!(
                        "bad polygon point {p:?}: write \"lon lat; lon lat; lon lat\""
                    ))),
                }
            })
            .collect::<Result<_>>()?
    };
    if pts.len() < 3 {
        return Err(bad(format!(
            "polygon {s:?} has {} point(s); a field of view needs at least 3",
            pts.len()
        )));
    }
    for &(lon, lat) in &pts {
        check_lon_lat(lon, lat)?;
    }
    Ok(pts.into_iter().map(|(a, b)| LonLat::new(a, b)).collect())
}

/// The stored JSON of a polygon.
pub fn polygon_json(p: &[LonLat]) -> String {
    let v: Vec<(f64, f64)> = p.iter().map(|q| (q.lon, q.lat)).collect();
    serde_json::to_string(&v).expect("numbers serialise")
}

pub fn check_lon_lat(lon: f64, lat: f64) -> Result<()> {
    if !(lon.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lon)
        && (-90.0..=90.0).contains(&lat))
    {
        return Err(bad(format!(
            "position ({lon}, {lat}) is not a WGS-84 longitude/latitude"
        )));
    }
    Ok(())
}

/// The jurisdiction of a system's stored profile name (`strictest` by default).
pub fn jurisdiction(profile: &str) -> Result<Jurisdiction> {
    let p: Profile = serde_json::from_value(serde_json::Value::String(profile.to_owned()))
        .map_err(|_| {
            bad(format!(
                "unknown jurisdiction profile {profile:?}; use strictest, national_draft, anhui, \
                 yangzhou, chongqing or shenzhen"
            ))
        })?;
    Ok(Jurisdiction::profile(p))
}

pub fn system_record(
    s: &SystemRow,
    changes: &[ChangeRow],
    last_duty_log: Option<Time90k>,
) -> Result<SystemRecord> {
    let changes = changes
        .iter()
        .filter(|c| c.system_id == s.id)
        .map(|c| {
            Ok(ChangeRecord {
                id: c.id.clone(),
                kind: if c.kind == "removal" {
                    ChangeKind::Removal
                } else {
                    ChangeKind::Adjustment
                },
                on: parse_date(&c.on_date)?,
                done: c.done,
                police_notified_on: opt_date(&c.police_notified_on)?,
                filed_on: opt_date(&c.filed_on)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(SystemRecord {
        id: s.id.clone(),
        state: LifecycleState::from_str(&s.state)?,
        in_use: s.in_use,
        accepted_on: opt_date(&s.accepted_on)?,
        put_into_use_on: opt_date(&s.put_into_use_on)?,
        filed_on: opt_date(&s.filed_on)?,
        completed_before_rules: s.completed_before_rules,
        stores_police_important_info: s.stores_police_important_info,
        duty: DutyRecord {
            has_duty_roster: s.has_duty_roster,
            has_operating_procedures: s.has_operating_procedures,
            has_emergency_plan: s.has_emergency_plan,
            last_duty_log_at: last_duty_log.map(|t| t.to_datetime()),
        },
        changes,
    })
}

pub fn place_record(p: &PlaceRow) -> Result<PlaceRecord> {
    Ok(PlaceRecord {
        id: p.id.clone(),
        category: parse_category(&p.category)?,
        anti_terror_key_target: p.anti_terror_key_target,
    })
}

/// A stored device as the rules see it (taking the row: its strings move, nothing is copied).
/// The code is validated again (rows written by other tools must not slip through); errors
/// name the device.
pub fn device_record(d: DeviceRuleRow) -> Result<DeviceRecord> {
    let what = |e: Error| e.context(format!("device {}", d.code));
    let code = DeviceCode::parse(&d.code)
        .map_err(|e| Error::new(ErrorKind::DataLoss, format!("stored device code: {e}")))?;
    let field_of_view = match &d.fov {
        Some(f) if !f.trim().is_empty() => parse_polygon(f).map_err(what)?,
        _ => Vec::new(),
    };
    let retention = RetentionClass::from_str(&d.retention).map_err(what)?;
    Ok(DeviceRecord {
        code,
        system_id: d.system_id,
        place_id: d.place_id,
        public_area: d.public_area,
        activated: d.activated,
        signage_present: d.signage,
        field_of_view,
        has_static_privacy_mask: d.privacy_mask,
        retention,
        health: DeviceHealth {
            online: d.online,
            offline_since: d.offline_since.map(|t| t.to_datetime()),
            recording_completeness: d.completeness,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// B1/B2: every taxonomy category round-trips through its stored form.
    #[test]
    fn b1_b2_category_round_trip() {
        for m in MandatoryCategory::ALL {
            let c = PlaceCategory::Mandatory(m);
            assert_eq!(parse_category(&category_str(c)).unwrap(), c);
        }
        for p in ProhibitedCategory::ALL {
            let c = PlaceCategory::Prohibited(p);
            assert_eq!(parse_category(&category_str(c)).unwrap(), c);
        }
        assert_eq!(parse_category("general").unwrap(), PlaceCategory::General);
        assert!(parse_category("prohibited:kitchen").is_err());
        assert!(parse_category("toilet").is_err());
    }

    /// A2/B3: polygons in both notations; fewer than 3 points or out-of-range refused.
    #[test]
    fn a2_b3_polygon_parsing() {
        let a = parse_polygon("118.1 32.1; 118.2 32.1; 118.2 32.2").unwrap();
        let b = parse_polygon(&polygon_json(&a)).unwrap();
        assert_eq!(a, b);
        assert!(parse_polygon("118.1 32.1; 118.2 32.1").is_err());
        assert!(parse_polygon("218.1 32.1; 118.2 32.1; 118.2 32.2").is_err());
        assert!(parse_polygon("x y; 1 2; 3 4").is_err());
    }
}
