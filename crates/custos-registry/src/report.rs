//! Printable reports (J1/J2) per system or per jurisdiction: compliance summary, findings by
//! article with their consequences, filing status, health and completeness chart, and a
//! coverage plan — devices, fields of view, places and residences drawn as SVG on a plain
//! vector base (no map tiles). HTML is built here; PDF is printed by headless Chromium.
//!
//! The plan shows positions, which are confidential (A3): building a report is a
//! `ReadBasicInfo` decision and an audited read, like any other. The public catalogue of
//! systems that must connect (I1) carries no confidential field and needs no permission.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use custos_core::access::{Action as AccessAction, Principal};
use custos_core::compliance::findings::{Consequence, FineCondition, Liable, Measure};
use custos_core::{Error, ErrorKind, Result};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::{DeviceRow, FindingRow, PlaceRow, ResidenceRow, SystemRow};

use crate::access::{require, system_scope};
use crate::convert;

/// What a report covers.
#[derive(Clone, Debug)]
pub enum Scope {
    System(String),
    /// An administrative division code or prefix (e.g. `3201` for all of Nanjing).
    Jurisdiction(String),
}

/// The language a report is written in: Chinese (the default: reports go to Chinese
/// authorities and units) or English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl std::str::FromStr for Lang {
    type Err = Error;
    fn from_str(s: &str) -> Result<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" => Ok(Lang::Zh),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("report language {s:?}: use zh (Chinese, the default) or en (English)"),
            )),
        }
    }
}

impl Lang {
    fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The fixed text of a report in this language.
    fn words(self) -> &'static Words {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

/// Every fixed string of a report, per language (data — names, messages, article codes —
/// is printed as registered).
struct Words {
    report: &'static str,
    system: &'static str,
    jurisdiction: &'static str,
    generated: &'static str,
    generated_for: &'static str,
    confidential: &'static str,
    summary: &'static str,
    systems: &'static str,
    devices: &'static str,
    online: &'static str,
    findings: &'static str,
    by_severity: &'static str,
    by_status: &'static str,
    by_article: &'static str,
    no_findings: &'static str,
    finding_cols: [&'static str; 6],
    lifecycle: &'static str,
    lifecycle_cols: [&'static str; 6],
    not_filed: &'static str,
    due_by: &'static str,
    records: &'static str,
    records_cols: [&'static str; 6],
    health: &'static str,
    recorded: &'static str,
    plan: &'static str,
    no_position: &'static str,
    legend: [&'static str; 6],
    residence: &'static str,
    device_list: &'static str,
    device_cols: [&'static str; 7],
    yes: &'static str,
    no: &'static str,
    separator: &'static str,
}

const EN: Words = Words {
    report: "Compliance report",
    system: "System",
    jurisdiction: "Jurisdiction",
    generated: "Generated",
    generated_for: "for",
    confidential: "Confidential: contains positions and address codes (001 art. 6).",
    summary: "Compliance summary",
    systems: "Systems",
    devices: "Devices",
    online: "Online",
    findings: "Findings",
    by_severity: "By severity",
    by_status: "By status",
    by_article: "Findings by article",
    no_findings: "No open findings.",
    finding_cols: [
        "Finding",
        "Severity",
        "Status",
        "Deadline",
        "What is wrong",
        "Consequence",
    ],
    lifecycle: "Lifecycle and filing status",
    lifecycle_cols: [
        "System",
        "Name",
        "State",
        "Accepted",
        "Filed",
        "Open deadlines",
    ],
    not_filed: "not filed",
    due_by: "by",
    records: "Inspection, maintenance and assessment records",
    records_cols: ["System", "Date", "Kind", "By", "Device", "Result"],
    health: "Health and recording completeness",
    recorded: "recorded",
    plan: "Coverage plan",
    no_position: "No device has a registered position.",
    legend: [
        "grid 0.001° ≈ 100 m",
        "online",
        "offline",
        "yellow: field of view",
        "brown: residence",
        "dashed: place",
    ],
    residence: "residence",
    device_list: "Devices",
    device_cols: [
        "Code",
        "Name",
        "Kind",
        "Place",
        "Signage",
        "Online",
        "Retention",
    ],
    yes: "yes",
    no: "no",
    separator: "; ",
};

const ZH: Words = Words {
    report: "合规报告",
    system: "系统",
    jurisdiction: "辖区",
    generated: "生成时间",
    generated_for: "生成人",
    confidential: "涉密：含点位位置和地址编码（001 第6条）。",
    summary: "合规概况",
    systems: "系统数",
    devices: "设备数",
    online: "在线",
    findings: "问题数",
    by_severity: "按严重程度",
    by_status: "按状态",
    by_article: "按条款列出的问题",
    no_findings: "无未整改问题。",
    finding_cols: [
        "问题编号",
        "严重程度",
        "状态",
        "整改期限",
        "问题描述",
        "法律后果",
    ],
    lifecycle: "生命周期与备案状态",
    lifecycle_cols: ["系统", "名称", "状态", "验收日期", "备案日期", "未到期限"],
    not_filed: "未备案",
    due_by: "截止",
    records: "检查、维护保养与评估记录",
    records_cols: ["系统", "日期", "类型", "执行单位", "设备", "结果"],
    health: "运行状况与录像完整率",
    recorded: "录像",
    plan: "覆盖平面图",
    no_position: "没有已登记位置的设备。",
    legend: [
        "网格 0.001° ≈ 100 米",
        "在线",
        "离线",
        "黄色：视场",
        "棕色：住宅",
        "虚线：场所",
    ],
    residence: "住宅",
    device_list: "设备清单",
    device_cols: ["编码", "名称", "类型", "场所", "标识牌", "在线", "保存期限"],
    yes: "是",
    no: "否",
    separator: "；",
};

/// Escapes text for HTML (the project's one markup escape).
pub use custos_core::text::escape_markup as esc;

fn measure(m: &Measure, lang: Lang) -> &'static str {
    match (m, lang) {
        (Measure::Warning, Lang::En) => "warning",
        (Measure::RectifyWithinLimit, Lang::En) => "order to rectify within a time limit",
        (Measure::RemoveImmediately, Lang::En) => "remove immediately",
        (Measure::StopUse, Lang::En) => "stop use",
        (Measure::RepairImmediately, Lang::En) => "repair immediately",
        (Measure::Warning, Lang::Zh) => "警告",
        (Measure::RectifyWithinLimit, Lang::Zh) => "责令限期改正",
        (Measure::RemoveImmediately, Lang::Zh) => "立即拆除",
        (Measure::StopUse, Lang::Zh) => "停止使用",
        (Measure::RepairImmediately, Lang::Zh) => "立即修复",
    }
}

/// One line per measure and fine, e.g. "unit ¥10,000–30,000 if not rectified in time (001 art. 29)".
pub fn consequence_text(c: &Consequence) -> String {
    consequence_text_in(c, Lang::En)
}

/// [`consequence_text`] in `lang`, e.g. "逾期不改正的，对单位处 ¥10,000–30,000 罚款（001 art. 29）".
pub fn consequence_text_in(c: &Consequence, lang: Lang) -> String {
    let yuan = |n: u32| {
        let s = n.to_string();
        let mut o = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                o.push(',');
            }
            o.push(ch);
        }
        format!("¥{o}")
    };
    let mut parts: Vec<String> = c
        .measures
        .iter()
        .map(|m| measure(m, lang).to_owned())
        .collect();
    for f in &c.fines {
        let (min, max) = (yuan(f.min_yuan), yuan(f.max_yuan));
        parts.push(match lang {
            Lang::En => {
                let who = match f.liable {
                    Liable::Unit => "unit",
                    Liable::ResponsiblePerson => "responsible person",
                    Liable::Individual => "individual",
                };
                let when = match f.condition {
                    FineCondition::Always => "",
                    FineCondition::IfNotRectifiedInTime => " if not rectified in time",
                    FineCondition::IfSerious => " if serious",
                    FineCondition::IfUnauthorisedRemoval => " for unauthorised removal",
                };
                format!(
                    "fine {who} {min}–{max}{when}{} ({})",
                    if f.or_warning { " or warning" } else { "" },
                    f.article
                )
            }
            Lang::Zh => {
                let who = match f.liable {
                    Liable::Unit => "单位",
                    Liable::ResponsiblePerson => "直接负责的主管人员",
                    Liable::Individual => "个人",
                };
                let when = match f.condition {
                    FineCondition::Always => "",
                    FineCondition::IfNotRectifiedInTime => "逾期不改正的，",
                    FineCondition::IfSerious => "情节严重的，",
                    FineCondition::IfUnauthorisedRemoval => "擅自拆除的，",
                };
                format!(
                    "{when}对{who}处 {min}–{max} 罚款{}（{}）",
                    if f.or_warning { "或警告" } else { "" },
                    f.article
                )
            }
        });
    }
    parts.join(lang.words().separator)
}

struct Data {
    systems: Vec<SystemRow>,
    devices: Vec<DeviceRow>,
    findings: Vec<FindingRow>,
    places: Vec<PlaceRow>,
    residences: Vec<ResidenceRow>,
}

async fn gather(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Data> {
    let all = store.systems().await?;
    let (title, systems): (String, Vec<SystemRow>) = match scope {
        Scope::System(id) => (
            format!("System {id}"),
            all.into_iter().filter(|s| &s.id == id).collect(),
        ),
        Scope::Jurisdiction(code) => (
            format!("Jurisdiction {code}"),
            all.into_iter()
                .filter(|s| s.division.starts_with(code.as_str()))
                .collect(),
        ),
    };
    if systems.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("no system in {title}; check the id or division code"),
        ));
    }
    for s in &systems {
        require(
            journal,
            p,
            AccessAction::ReadBasicInfo,
            system_scope(s),
            &format!("system/{}/report", s.id),
            now,
        )?;
    }
    journal.register_access(
        &p.id,
        Action::ConfidentialRead,
        &format!("report/{title}"),
        Some("compliance report"),
        serde_json::json!({ "systems": systems.iter().map(|s| &s.id).collect::<Vec<_>>(), "fields": ["positions", "fov", "codes"] }),
    )?;
    let mut devices = Vec::new();
    let mut findings = Vec::new();
    for s in &systems {
        devices.extend(store.devices(Some(&s.id)).await?);
        findings.extend(store.findings(Some(&s.id), false).await?);
    }
    if matches!(scope, Scope::Jurisdiction(_)) {
        // Places with no device belong to no system (B1 coverage gaps).
        findings.extend(
            store
                .findings(None, false)
                .await?
                .into_iter()
                .filter(|f| f.system_id.is_none()),
        );
    }
    let used: std::collections::HashSet<&str> = devices
        .iter()
        .filter_map(|d| d.place_id.as_deref())
        .collect();
    let place_findings: std::collections::HashSet<String> = findings
        .iter()
        .filter_map(|f| f.subject.strip_prefix("place:").map(str::to_owned))
        .collect();
    let places = store
        .places()
        .await?
        .into_iter()
        .filter(|p| used.contains(p.id.as_str()) || place_findings.contains(&p.id))
        .collect();
    let residences = store.residences().await?;
    Ok(Data {
        systems,
        devices,
        findings,
        places,
        residences,
    })
}

/// An uploaded site plan (PNG, JPEG or SVG) and the WGS-84 bounds it covers: the coverage plan
/// is drawn over it instead of the plain grid.
#[derive(Clone, Debug)]
pub struct PlanImage {
    pub mime: String,
    pub bytes: Vec<u8>,
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl PlanImage {
    /// Reads an image file; `bounds` is `west,south,east,north` in degrees.
    pub fn load(path: &Path, bounds: &str) -> Result<PlanImage> {
        let mime = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("png") => "image/png",
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("svg") => "image/svg+xml",
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{}: a plan is a .png, .jpg or .svg file", path.display()),
                ));
            }
        };
        let b: Vec<f64> = bounds
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("plan bounds {bounds:?}: write west,south,east,north in degrees"),
                )
            })?;
        if b.len() != 4 || b[0] >= b[2] || b[1] >= b[3] {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "plan bounds {bounds:?}: write west,south,east,north with west < east, south < north"
                ),
            ));
        }
        convert::check_lon_lat(b[0], b[1])?;
        convert::check_lon_lat(b[2], b[3])?;
        let bytes =
            std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Ok(PlanImage {
            mime: mime.to_owned(),
            bytes,
            west: b[0],
            south: b[1],
            east: b[2],
            north: b[3],
        })
    }
}

/// The coverage plan: an SVG of devices (dots: green online, red offline), fields of view,
/// places with an outline, and residences, fitted to the devices' extent (and the uploaded
/// plan's, if any, drawn underneath; otherwise a plain 0.001° grid).
pub fn plan_svg(
    devices: &[DeviceRow],
    places: &[PlaceRow],
    residences: &[ResidenceRow],
    plan: Option<&PlanImage>,
    lang: Lang,
) -> String {
    let w = lang.words();
    const W: f64 = 760.0;
    const H: f64 = 520.0;
    let mut pts: Vec<(f64, f64)> = devices
        .iter()
        .filter_map(|d| Some((d.lon?, d.lat?)))
        .collect();
    if let Some(p) = plan {
        pts.push((p.west, p.south));
        pts.push((p.east, p.north));
    }
    for d in devices {
        if let Some(Ok(p)) = d.fov.as_deref().map(convert::parse_polygon) {
            pts.extend(p.iter().map(|q| (q.lon, q.lat)));
        }
    }
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="plan" width="{W}" height="{H}" viewBox="0 0 {W} {H}"><rect width="{W}" height="{H}" fill="#f8f8f4" stroke="#999"/>"##
    );
    if pts.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="20" y="40" fill="#555">{}</text></svg>"##,
            w.no_position
        );
        return svg;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in &pts {
        x0 = x0.min(*x);
        y0 = y0.min(*y);
        x1 = x1.max(*x);
        y1 = y1.max(*y);
    }
    let pad = ((x1 - x0).max(y1 - y0) * 0.08).max(0.0005);
    let (x0, y0, x1, y1) = (x0 - pad, y0 - pad, x1 + pad, y1 + pad);
    // Equirectangular with the latitude's cosine, scaled to fit.
    let k = (y0.to_radians() + y1.to_radians()).mul_add(0.5, 0.0).cos();
    let s = (W / ((x1 - x0) * k)).min(H / (y1 - y0));
    let px = |lon: f64, lat: f64| ((lon - x0) * k * s, H - (lat - y0) * s);
    let poly = |p: &[custos_core::compliance::geo::LonLat]| {
        p.iter()
            .map(|q| {
                let (x, y) = px(q.lon, q.lat);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(p) = plan {
        use base64::Engine as _;
        let (ix, iy) = px(p.west, p.north);
        let (jx, jy) = px(p.east, p.south);
        let _ = write!(
            svg,
            r##"<image class="site-plan" x="{ix:.1}" y="{iy:.1}" width="{:.1}" height="{:.1}" preserveAspectRatio="none" href="data:{};base64,{}"/>"##,
            jx - ix,
            jy - iy,
            p.mime,
            base64::engine::general_purpose::STANDARD.encode(&p.bytes)
        );
    }
    // Grid every ~100 m as the vector base.
    let step = 0.001;
    let mut g = (x0 / step).ceil() * step;
    while g < x1 {
        let (x, _) = px(g, y0);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="0" x2="{x:.1}" y2="{H}" stroke="#e4e4dc"/>"##
        );
        g += step;
    }
    let mut g = (y0 / step).ceil() * step;
    while g < y1 {
        let (_, y) = px(x0, g);
        let _ = write!(
            svg,
            r##"<line x1="0" y1="{y:.1}" x2="{W}" y2="{y:.1}" stroke="#e4e4dc"/>"##
        );
        g += step;
    }
    for r in residences {
        if let Ok(p) = convert::parse_polygon(&r.polygon) {
            if p.iter()
                .all(|q| q.lon < x0 || q.lon > x1 || q.lat < y0 || q.lat > y1)
            {
                continue;
            }
            let _ = write!(
                svg,
                r##"<polygon class="residence" points="{}" fill="#d9c7a3" fill-opacity="0.6" stroke="#8a6d3b"><title>{} {}</title></polygon>"##,
                poly(&p),
                w.residence,
                esc(&r.id)
            );
        }
    }
    for pl in places {
        if let Some(Ok(p)) = pl.polygon.as_deref().map(convert::parse_polygon) {
            let color = if pl.category.starts_with("prohibited") {
                "#c0392b"
            } else {
                "#2c6fbb"
            };
            let _ = write!(
                svg,
                r##"<polygon class="place" points="{}" fill="none" stroke="{color}" stroke-dasharray="4 3"><title>{} ({})</title></polygon>"##,
                poly(&p),
                esc(&pl.name),
                esc(&pl.category)
            );
        }
    }
    for d in devices {
        if let Some(Ok(p)) = d.fov.as_deref().map(convert::parse_polygon) {
            let _ = write!(
                svg,
                r##"<polygon class="fov" points="{}" fill="#f1c40f" fill-opacity="0.25" stroke="#b7950b" stroke-width="0.5"/>"##,
                poly(&p)
            );
        }
    }
    for d in devices {
        if let (Some(lon), Some(lat)) = (d.lon, d.lat) {
            let (x, y) = px(lon, lat);
            let c = if d.online { "#1e8449" } else { "#c0392b" };
            let _ = write!(
                svg,
                r##"<circle class="device" cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{c}"><title>{} {}</title></circle>"##,
                esc(&d.code),
                esc(&d.name)
            );
        }
    }
    let _ = write!(
        svg,
        r##"<text x="10" y="{}" font-size="11" fill="#333">{} · <tspan fill="#1e8449">● {}</tspan> <tspan fill="#c0392b">● {}</tspan> · {} · {} · {}</text></svg>"##,
        H - 8.0,
        w.legend[0],
        w.legend[1],
        w.legend[2],
        w.legend[3],
        w.legend[4],
        w.legend[5]
    );
    svg
}

fn bar_chart(rows: &[(String, f64, f64)], lang: Lang) -> String {
    let w = lang.words();
    // (label, online fraction, mean completeness)
    let h = 24.0 * rows.len() as f64 + 30.0;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="760" height="{h}" viewBox="0 0 760 {h}">"##
    );
    for (i, (label, on, comp)) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * 24.0;
        let _ = write!(
            s,
            r##"<text x="0" y="{:.0}" font-size="11">{}</text><rect x="160" y="{y:.0}" width="{:.1}" height="9" fill="#1e8449"/><rect x="160" y="{:.0}" width="{:.1}" height="9" fill="#2c6fbb"/><text x="575" y="{:.0}" font-size="10">{} {:.1}% · {} {:.1}%</text>"##,
            y + 12.0,
            esc(label),
            on * 400.0,
            y + 10.0,
            comp * 400.0,
            y + 12.0,
            w.online,
            on * 100.0,
            w.recorded,
            comp * 100.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Fonts of the printed report: a CJK font first so that Chinese names print in any language
/// (the package depends on fonts-noto-cjk), then whatever the machine has.
const FONTS: &str =
    "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','WenQuanYi Micro Hei',sans-serif";

/// Renders the report as a self-contained HTML page in `lang`.
pub async fn render_html(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    scope: &Scope,
    plan: Option<&PlanImage>,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<String> {
    let d = gather(store, journal, p, scope, now).await?;
    let w = lang.words();
    let title = match scope {
        Scope::System(id) => format!("{} {id}", w.system),
        Scope::Jurisdiction(code) => format!("{} {code}", w.jurisdiction),
    };
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{report} — {t}</title>
<style>body{{font-family:{FONTS};font-size:12px;margin:24px;color:#222}}h1{{font-size:20px}}h2{{font-size:15px;border-bottom:1px solid #999;margin-top:24px}}
table{{border-collapse:collapse;width:100%;margin:6px 0}}td,th{{border:1px solid #bbb;padding:3px 5px;text-align:left;vertical-align:top}}th{{background:#eee}}
.critical{{color:#a00;font-weight:bold}}.high{{color:#c0392b}}.medium{{color:#b9770e}}.low{{color:#555}}@media print{{h2{{page-break-after:avoid}}}}</style></head><body>
<h1>{report} — {t}</h1><p>{generated} {now} · {generated_for} {who}. {confidential}</p>"#,
        lang = lang.html(),
        report = w.report,
        t = esc(&title),
        generated = w.generated,
        generated_for = w.generated_for,
        confidential = w.confidential,
        now = now.to_rfc3339(),
        who = esc(&p.id)
    );
    // Summary.
    let mut by_sev: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &d.findings {
        *by_sev.entry(f.severity.as_str()).or_default() += 1;
        *by_status.entry(f.status.as_str()).or_default() += 1;
    }
    let online = d.devices.iter().filter(|x| x.online).count();
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><td>{}</td><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{}</td><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr></table>",
        w.summary,
        w.systems,
        d.systems.len(),
        w.devices,
        d.devices.len(),
        w.online,
        online,
        w.findings,
        d.findings.len(),
        w.by_severity,
        esc(&by_sev
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
        w.by_status,
        esc(&by_status
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
    );
    // Findings by article.
    let mut by_art: BTreeMap<String, Vec<&FindingRow>> = BTreeMap::new();
    for f in &d.findings {
        for a in f.articles.split("; ") {
            by_art.entry(a.to_owned()).or_default().push(f);
        }
    }
    let _ = write!(h, "<h2>{}</h2>", w.by_article);
    if by_art.is_empty() {
        let _ = write!(h, "<p>{}</p>", w.no_findings);
    }
    for (art, fs) in &by_art {
        let _ = write!(
            h,
            "<h3>{}</h3><table>{}",
            esc(art),
            header_row(&w.finding_cols)
        );
        for f in fs {
            let c: Consequence = serde_json::from_str(&f.consequence).unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"{sev}\">{sev}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&f.id),
                esc(&f.status),
                f.deadline.to_rfc3339().get(..10).unwrap_or(""),
                esc(&f.message),
                esc(&consequence_text_in(&c, lang)),
                sev = esc(&f.severity),
            );
        }
        h.push_str("</table>");
    }
    // Filing status.
    let _ = write!(
        h,
        "<h2>{}</h2><table>{}",
        w.lifecycle,
        header_row(&w.lifecycle_cols)
    );
    for s in &d.systems {
        let dl = crate::lifecycle::deadlines(store, &s.id)
            .await
            .map(|v| {
                v.iter()
                    .map(|x| format!("{:?} {} {}", x.kind, w.due_by, x.due))
                    .collect::<Vec<_>>()
                    .join(w.separator)
            })
            .unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.id),
            esc(&s.name),
            esc(&s.state),
            esc(s.accepted_on.as_deref().unwrap_or("—")),
            esc(s.filed_on.as_deref().unwrap_or(w.not_filed)),
            esc(&dl)
        );
    }
    h.push_str("</table>");
    // D4: checks, maintenance and assessments.
    let _ = write!(
        h,
        "<h2>{}</h2><table>{}",
        w.records,
        header_row(&w.records_cols)
    );
    for s in &d.systems {
        for m in store.maintenance(&s.id).await? {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.id),
                esc(&m.on_date),
                esc(&m.kind),
                esc(&m.by_unit),
                esc(m.device_code.as_deref().unwrap_or("")),
                esc(&m.result)
            );
        }
    }
    h.push_str("</table>");
    // Health chart.
    let rows: Vec<(String, f64, f64)> = d
        .systems
        .iter()
        .take(60)
        .map(|s| {
            let ds: Vec<&DeviceRow> = d.devices.iter().filter(|x| x.system_id == s.id).collect();
            let n = ds.len().max(1) as f64;
            let on = ds.iter().filter(|x| x.online).count() as f64 / n;
            let comp = ds
                .iter()
                .map(|x| x.completeness.unwrap_or(0.0))
                .sum::<f64>()
                / n;
            (s.id.clone(), on, comp)
        })
        .collect();
    let _ = write!(h, "<h2>{}</h2>", w.health);
    h.push_str(&bar_chart(&rows, lang));
    // Plan.
    let _ = write!(h, "<h2>{}</h2>", w.plan);
    let drawn: Vec<DeviceRow> = d.devices.iter().take(5000).cloned().collect();
    h.push_str(&plan_svg(&drawn, &d.places, &d.residences, plan, lang));
    // Devices.
    let _ = write!(
        h,
        "<h2>{}</h2><table>{}",
        w.device_list,
        header_row(&w.device_cols)
    );
    for x in d.devices.iter().take(2000) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&x.code),
            esc(&x.name),
            esc(&x.kind),
            esc(x.place_id.as_deref().unwrap_or("")),
            if x.signage { w.yes } else { w.no },
            if x.online { w.yes } else { w.no },
            esc(&x.retention)
        );
    }
    h.push_str("</table></body></html>\n");
    Ok(h)
}

fn header_row(cols: &[&str]) -> String {
    let mut r = String::from("<tr>");
    for c in cols {
        let _ = write!(r, "<th>{c}</th>");
    }
    r.push_str("</tr>");
    r
}

/// Prints an HTML file to PDF with headless Chromium (`CUSTOS_CHROMIUM` overrides the binary).
pub fn html_to_pdf(html: &Path, pdf: &Path) -> Result<()> {
    let chromium = std::env::var("CUSTOS_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let profile = tempfile_dir()?;
    let abs = std::fs::canonicalize(html)
        .map_err(|e| Error::io(format!("resolving {}", html.display()), e))?;
    let out = Command::new("timeout")
        .arg("60")
        .arg(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", abs.display()))
        .output();
    let _ = std::fs::remove_dir_all(&profile);
    let out = out.map_err(|e| {
        Error::new(
            ErrorKind::Unavailable,
            format!(
                "cannot run {chromium} to print the PDF: {e}; install chromium (apt-get install chromium; scripts/setup does it)"
            ),
        )
    })?;
    if !out.status.success() || !pdf.exists() {
        return Err(Error::new(
            ErrorKind::Internal,
            format!(
                "{chromium} failed to print {} ({}): {}",
                html.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
        ));
    }
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!(
        "custos-chromium-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&d).map_err(|e| Error::io("creating a Chromium profile dir", e))?;
    Ok(d)
}

/// Writes the report in `lang` to `out`: `.html` as is, `.pdf` through Chromium (the HTML
/// beside it).
#[allow(clippy::too_many_arguments)]
pub async fn write_report(
    store: &Store,
    journal: &Journal,
    p: &Principal,
    scope: &Scope,
    plan: Option<&PlanImage>,
    out: &Path,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<()> {
    let html = render_html(store, journal, p, scope, plan, now, lang).await?;
    let is_pdf = out.extension().and_then(|e| e.to_str()) == Some("pdf");
    let html_path = if is_pdf {
        out.with_extension("html")
    } else {
        out.to_path_buf()
    };
    std::fs::write(&html_path, html)
        .map_err(|e| Error::io(format!("writing {}", html_path.display()), e))?;
    if is_pdf {
        html_to_pdf(&html_path, out)?;
    }
    journal.record(
        NewEntry::new(&p.id, Action::Export, format!("report/{}", out.display()))
            .details(serde_json::json!({ "scope": format!("{scope:?}"), "lang": lang.html() })),
    )?;
    Ok(())
}

/// One entry of the public catalogue (I1): no position, code, device type or plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CatalogueEntry {
    pub name: String,
    pub division: String,
    pub using_unit: String,
    pub state: String,
    pub cameras: usize,
}

/// I1: the public catalogue of systems that must connect to the sharing platform.
pub async fn catalogue(store: &Store) -> Result<Vec<CatalogueEntry>> {
    let units: BTreeMap<String, String> = store
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut out = Vec::new();
    for s in store
        .systems()
        .await?
        .into_iter()
        .filter(|s| s.must_connect)
    {
        let cameras = store
            .devices(Some(&s.id))
            .await?
            .iter()
            .filter(|d| d.kind == "camera")
            .count();
        out.push(CatalogueEntry {
            name: s.public_name.clone().unwrap_or_else(|| s.name.clone()),
            division: s.division.chars().take(6).collect(),
            using_unit: s
                .using_unit
                .as_ref()
                .and_then(|u| units.get(u).cloned())
                .unwrap_or_default(),
            state: s.state.clone(),
            cameras,
        });
    }
    Ok(out)
}

/// The catalogue as HTML (`.html`), JSON (`.json`) or CSV (anything else).
pub fn catalogue_file(entries: &[CatalogueEntry], out: &Path) -> Result<()> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let body = match ext {
        "json" => serde_json::to_string_pretty(entries).expect("serialisable"),
        "html" => {
            let mut h = String::from(
                "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>Systems that must connect</title></head><body><h1>Public video systems that must connect to the sharing platform</h1><table border=\"1\"><tr><th>System</th><th>Division</th><th>Using unit</th><th>State</th><th>Cameras</th></tr>",
            );
            for e in entries {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&e.name),
                    esc(&e.division),
                    esc(&e.using_unit),
                    esc(&e.state),
                    e.cameras
                );
            }
            h.push_str("</table></body></html>\n");
            h
        }
        _ => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(["name", "division", "using_unit", "state", "cameras"]);
            for e in entries {
                let _ = w.write_record([
                    e.name.as_str(),
                    &e.division,
                    &e.using_unit,
                    &e.state,
                    &e.cameras.to_string(),
                ]);
            }
            String::from_utf8(w.into_inner().map_err(|e| {
                Error::new(ErrorKind::Internal, format!("writing the catalogue: {e}"))
            })?)
            .expect("utf-8")
        }
    };
    std::fs::write(out, body).map_err(|e| Error::io(format!("writing {}", out.display()), e))
}
