//! Bulk import of device lists (A2, I4) from CSV or XLSX with a row-level error report, and
//! export to CSV or XLSX.
//!
//! The first row is a header naming columns from [`COLUMNS`] (any order; unknown columns are
//! refused, `code` is required). Each data row is validated on its own: a bad row is reported
//! (row number, column, value, what is wrong) and skipped; every good row is imported. A device
//! at a place whose category is prohibited in its system's jurisdiction is refused with the
//! article (B2). The import as a whole is one ledger entry (who, file hash, counts).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

use custos_core::compliance::DeviceCode;
use custos_core::compliance::places::check_placement;
use custos_core::retention::RetentionClass;
use custos_core::{Error, ErrorKind, Result};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::DeviceRow;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::convert::{check_lon_lat, jurisdiction, parse_category, parse_polygon, polygon_json};

/// The columns of a device list, in export order.
pub const COLUMNS: &[&str] = &[
    "code",
    "system_id",
    "kind",
    "name",
    "vendor",
    "model",
    "certification",
    "lon",
    "lat",
    "height_m",
    "bearing_deg",
    "fov",
    "place_id",
    "public_area",
    "signage",
    "fixed_range",
    "activated",
    "privacy_mask",
    "stream_main",
    "stream_sub",
    "retention",
    "camera_name",
];

/// One refused row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Data row number, 1-based (the header is row 0; in a spreadsheet it is line `row + 1`).
    pub row: usize,
    pub column: String,
    pub value: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    pub errors: Vec<RowError>,
    pub sha256: String,
    pub ledger_seq: u64,
}

/// Reads a CSV or XLSX file (by extension) into rows of strings, header first.
pub fn read_table(path: &Path) -> Result<Vec<Vec<String>>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" => {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(path)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
            let mut out = Vec::new();
            for (i, rec) in r.records().enumerate() {
                let rec = rec.map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("{}: line {}: {e}", path.display(), i + 1),
                    )
                })?;
                out.push(rec.iter().map(|s| s.trim().to_owned()).collect());
            }
            Ok(out)
        }
        "xlsx" | "xlsm" | "xls" | "ods" => {
            use calamine::{Data, Reader, open_workbook_auto};
            let mut wb = open_workbook_auto(path).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("cannot open workbook {}: {e}", path.display()),
                )
            })?;
            let range = wb
                .worksheet_range_at(0)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("{} has no worksheet", path.display()),
                    )
                })?
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("cannot read the first sheet of {}: {e}", path.display()),
                    )
                })?;
            Ok(range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            Data::String(s) => s.trim().to_owned(),
                            Data::Int(i) => i.to_string(),
                            // Integral floats print without ".0"; a 20-digit code stored as a
                            // number has lost digits and will fail validation, as it should.
                            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                                format!("{}", *f as i64)
                            }
                            Data::Float(f) => f.to_string(),
                            Data::Bool(b) => b.to_string(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect())
        }
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{}: unknown file type; use a .csv or .xlsx file",
                path.display()
            ),
        )),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "是" => Some(true),
        "0" | "false" | "no" | "n" | "否" => Some(false),
        _ => None,
    }
}

/// The device kind implied by a GB/T 28181 type code.
pub fn kind_of(code: &DeviceCode) -> &'static str {
    match code.type_code() {
        131 | 132 => "camera",
        117 | 134 | 135 => "alarm",
        _ => "other",
    }
}

/// What the validator needs to know about the registry.
pub struct Context {
    /// system id → jurisdiction profile.
    pub systems: HashMap<String, String>,
    /// place id → category.
    pub places: HashMap<String, String>,
}

impl Context {
    pub async fn load(store: &Store) -> Result<Context> {
        Ok(Context {
            systems: store
                .systems()
                .await?
                .into_iter()
                .map(|s| (s.id, s.profile))
                .collect(),
            places: store
                .places()
                .await?
                .into_iter()
                .map(|p| (p.id, p.category))
                .collect(),
        })
    }
}

/// Validates one data row (`row` is 1-based) into a device; errors name the column.
pub fn parse_row(
    header: &[usize],
    cells: &[String],
    row: usize,
    default_system: Option<&str>,
    ctx: &Context,
) -> std::result::Result<DeviceRow, RowError> {
    let get = |col: &str| -> &str {
        let i = COLUMNS
            .iter()
            .position(|c| *c == col)
            .expect("known column");
        header
            .iter()
            .position(|h| *h == i)
            .and_then(|pos| cells.get(pos))
            .map(|s| s.as_str())
            .unwrap_or("")
    };
    let err = |column: &str, message: String| RowError {
        row,
        column: column.to_owned(),
        value: get(column).to_owned(),
        message,
    };
    let code = DeviceCode::parse(get("code")).map_err(|e| err("code", e.to_string()))?;
    let system_id = match (get("system_id"), default_system) {
        ("", Some(s)) => s.to_owned(),
        ("", None) => {
            return Err(err(
                "system_id",
                "no system: fill the column or pass --system".to_owned(),
            ));
        }
        (s, _) => s.to_owned(),
    };
    let Some(profile) = ctx.systems.get(&system_id) else {
        return Err(RowError {
            row,
            column: "system_id".to_owned(),
            value: system_id.clone(),
            message: "no such system; register the system first".to_owned(),
        });
    };
    let j = jurisdiction(profile).map_err(|e| err("system_id", e.to_string()))?;
    let kind = match get("kind") {
        "" => kind_of(&code).to_owned(),
        k @ ("camera" | "alarm" | "access_control" | "other") => k.to_owned(),
        k => {
            return Err(err(
                "kind",
                format!("unknown kind {k:?}; use camera, alarm, access_control or other"),
            ));
        }
    };
    if kind == "camera" && !code.is_camera() {
        return Err(err(
            "kind",
            format!(
                "code {code} has type {} which is not a camera (131 or 132)",
                code.type_code()
            ),
        ));
    }
    let num = |col: &str| -> std::result::Result<Option<f64>, RowError> {
        match get(col) {
            "" => Ok(None),
            s => f64::from_str(s)
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| err(col, "not a number".to_owned())),
        }
    };
    let (lon, lat) = (num("lon")?, num("lat")?);
    match (lon, lat) {
        (Some(a), Some(b)) => check_lon_lat(a, b).map_err(|e| err("lon", e.to_string()))?,
        (None, None) => {}
        _ => {
            return Err(err("lat", "give both lon and lat, or neither".to_owned()));
        }
    }
    let height_m = num("height_m")?;
    if height_m.is_some_and(|h| !(0.0..=500.0).contains(&h)) {
        return Err(err("height_m", "height must be 0–500 m".to_owned()));
    }
    let bearing_deg = num("bearing_deg")?;
    if bearing_deg.is_some_and(|b| !(0.0..360.0).contains(&b)) {
        return Err(err(
            "bearing_deg",
            "bearing must be 0–359.9 degrees".to_owned(),
        ));
    }
    let fov = match get("fov") {
        "" => None,
        s => Some(polygon_json(
            &parse_polygon(s).map_err(|e| err("fov", e.to_string()))?,
        )),
    };
    let place_id = match get("place_id") {
        "" => None,
        p => {
            let Some(cat) = ctx.places.get(p) else {
                return Err(err(
                    "place_id",
                    "no such place; register it first".to_owned(),
                ));
            };
            let cat = parse_category(cat).map_err(|e| err("place_id", e.to_string()))?;
            // B2: refuse registration at a prohibited place, naming the article.
            check_placement(cat, &j).map_err(|e| err("place_id", e.to_string()))?;
            Some(p.to_owned())
        }
    };
    let flag = |col: &str, default: bool| -> std::result::Result<bool, RowError> {
        match get(col) {
            "" => Ok(default),
            s => parse_bool(s).ok_or_else(|| err(col, "use 1/0, true/false, yes/no".to_owned())),
        }
    };
    let url = |col: &str| -> std::result::Result<Option<String>, RowError> {
        match get(col) {
            "" => Ok(None),
            s if !(s.starts_with("rtsp://")
                || s.starts_with("rtsps://")
                || s.starts_with("http")) =>
            {
                Err(err(
                    col,
                    "stream URL must be rtsp://, rtsps:// or http(s)://".to_owned(),
                ))
            }
            s if s.split("://").nth(1).is_some_and(|rest| {
                rest.split('/')
                    .next()
                    .is_some_and(|auth| auth.contains('@'))
            }) =>
            {
                Err(err(
                    col,
                    "stream URL must not carry credentials; configure them in the recorder"
                        .to_owned(),
                ))
            }
            s => Ok(Some(s.to_owned())),
        }
    };
    let retention = match get("retention") {
        "" => RetentionClass::default(),
        s => RetentionClass::from_str(s).map_err(|e| err("retention", e.to_string()))?,
    };
    Ok(DeviceRow {
        code: code.to_string(),
        system_id,
        kind,
        name: get("name").to_owned(),
        vendor: get("vendor").to_owned(),
        model: get("model").to_owned(),
        certification: get("certification").to_owned(),
        lon,
        lat,
        height_m,
        bearing_deg,
        fov,
        place_id,
        public_area: flag("public_area", true)?,
        signage: flag("signage", false)?,
        fixed_range: flag("fixed_range", false)?,
        activated: flag("activated", true)?,
        privacy_mask: flag("privacy_mask", false)?,
        stream_main: url("stream_main")?,
        stream_sub: url("stream_sub")?,
        retention: retention.to_string(),
        camera_name: match get("camera_name") {
            "" => None,
            s => Some(s.to_owned()),
        },
        ..Default::default()
    })
}

/// Imports a device list. Good rows are saved (in batches), bad rows reported; duplicate codes
/// in the file are refused after the first. `progress(done, total)` is called per batch.
pub async fn import_file(
    store: &Store,
    journal: &Journal,
    path: &Path,
    default_system: Option<&str>,
    by: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let table = read_table(path)?;
    let Some((head, rows)) = table.split_first() else {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} is empty; the first row must name the columns",
                path.display()
            ),
        ));
    };
    let mut header = Vec::with_capacity(head.len());
    for h in head {
        let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == h) {
            Some(i) => header.push(i),
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "unknown column {h:?} in {}; columns are {}",
                        path.display(),
                        COLUMNS.join(", ")
                    ),
                ));
            }
        }
    }
    if !header.contains(&0) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{} has no \"code\" column", path.display()),
        ));
    }
    let ctx = Context::load(store).await?;
    let mut report = ImportReport {
        rows: rows.len(),
        sha256,
        ..Default::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut good: Vec<DeviceRow> = Vec::new();
    for (i, cells) in rows.iter().enumerate() {
        if cells.iter().all(|c| c.is_empty()) {
            report.rows -= 1;
            continue;
        }
        match parse_row(&header, cells, i + 1, default_system, &ctx) {
            Ok(d) if !seen.insert(d.code.clone()) => report.errors.push(RowError {
                row: i + 1,
                column: "code".to_owned(),
                value: d.code,
                message: "duplicate code: an earlier row of this file has it".to_owned(),
            }),
            Ok(d) => good.push(d),
            Err(e) => report.errors.push(e),
        }
    }
    // The ledger entry comes first: an import that cannot be recorded does not happen.
    let seq = journal.record(
        NewEntry::new(by, Action::ConfigChange, "registry/devices").details(serde_json::json!({
            "operation": "import",
            "file": path.file_name().map(|f| f.to_string_lossy().into_owned()),
            "sha256": report.sha256,
            "rows": report.rows,
            "accepted": good.len(),
            "refused_rows": report.errors.iter().map(|e| e.row).collect::<Vec<_>>(),
        })),
    )?;
    report.ledger_seq = seq;
    let total = good.len();
    let mut done = 0;
    for chunk in good.chunks(500) {
        store.upsert_devices(chunk).await?;
        done += chunk.len();
        progress(done, total);
    }
    report.imported = done;
    Ok(report)
}

/// Output format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown format {s:?}; use csv or xlsx"),
            )),
        }
    }
}

/// The cells of a device in [`COLUMNS`] order.
pub fn device_cells(d: &DeviceRow) -> Vec<String> {
    let o = |v: &Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let b = |v: bool| if v { "1" } else { "0" }.to_owned();
    vec![
        d.code.clone(),
        d.system_id.clone(),
        d.kind.clone(),
        d.name.clone(),
        d.vendor.clone(),
        d.model.clone(),
        d.certification.clone(),
        o(&d.lon),
        o(&d.lat),
        o(&d.height_m),
        o(&d.bearing_deg),
        d.fov.clone().unwrap_or_default(),
        d.place_id.clone().unwrap_or_default(),
        b(d.public_area),
        b(d.signage),
        b(d.fixed_range),
        b(d.activated),
        b(d.privacy_mask),
        d.stream_main.clone().unwrap_or_default(),
        d.stream_sub.clone().unwrap_or_default(),
        d.retention.clone(),
        d.camera_name.clone().unwrap_or_default(),
    ]
}

/// Writes devices (already masked or read under [`crate::access`]) to `path`.
pub fn write_devices(devices: &[DeviceRow], path: &Path, format: Format) -> Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_path(path).map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("creating {}: {e}", path.display()),
                )
            })?;
            let werr = |e: csv::Error| {
                Error::new(
                    ErrorKind::Internal,
                    format!("writing {}: {e}", path.display()),
                )
            };
            w.write_record(COLUMNS).map_err(werr)?;
            for d in devices {
                w.write_record(device_cells(d)).map_err(werr)?;
            }
            w.flush()
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        }
        Format::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            let xerr = |e: rust_xlsxwriter::XlsxError| {
                Error::new(
                    ErrorKind::Internal,
                    format!("writing {}: {e}", path.display()),
                )
            };
            ws.set_name("devices").map_err(xerr)?;
            for (c, h) in COLUMNS.iter().enumerate() {
                ws.write_string(0, c as u16, *h).map_err(xerr)?;
            }
            for (r, d) in devices.iter().enumerate() {
                for (c, v) in device_cells(d).iter().enumerate() {
                    // Everything as text: a 20-digit code must never become a float.
                    ws.write_string(r as u32 + 1, c as u16, v).map_err(xerr)?;
                }
            }
            wb.save(path).map_err(xerr)?;
        }
    }
    Ok(())
}
