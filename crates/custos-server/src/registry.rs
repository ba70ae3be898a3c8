//! The registry and compliance engine over HTTP: systems and devices (A3: masked for callers
//! without `read_basic_info`, full and audited for the others), findings (J1/J2), inspections
//! and rectification orders (J1), printable reports, lifecycle transitions (C1–C4), D6 reports
//! of suspicious information, and the two public routes that need no account: the catalogue
//! of systems that must connect (I1) and complaint submission (J3).
//!
//! Every decision is `custos_core::access::decide`, asked here or inside `custos_registry`; this
//! module only turns requests into those calls.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use custos_core::access::{Action, Classification, Resource, Scope, decide};
use custos_core::compliance::LifecycleState;
use custos_core::{Duration90k, Error, ErrorKind, Time90k};
use custos_registry::{
    access, complaint, convert, findings, inspection, lifecycle, report, scan, suspicious,
};
use custos_store::registry::{FindingRow, SystemRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::parse_time;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, bad_request};
use crate::state::AppState;

/// Actions that give a caller a reason to see a system in the registry at all (those without
/// `read_basic_info` see masked device rows).
const REGISTRY_ACTIONS: [Action; 6] = [
    Action::ReadBasicInfo,
    Action::Inspect,
    Action::CreateFinding,
    Action::ManageConfig,
    Action::Playback,
    Action::PlaceHold,
];

/// Actions that let a caller see findings (they name device codes, so not for those who only
/// watch or play back footage).
const FINDING_ACTIONS: [Action; 4] = [
    Action::ReadBasicInfo,
    Action::Inspect,
    Action::CreateFinding,
    Action::ManageConfig,
];

fn allowed(caller: &Caller, action: Action, scope: Scope) -> bool {
    decide(
        &caller.principal,
        action,
        &Resource::at(scope, action.floor()),
        Utc::now(),
    )
    .is_allowed()
}

fn may_see_system(caller: &Caller, s: &SystemRow) -> bool {
    REGISTRY_ACTIONS
        .iter()
        .any(|a| allowed(caller, *a, access::system_scope(s)))
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn rfc(t: Time90k) -> String {
    t.to_rfc3339()
}

// ---- systems and devices (A1–A3) ----

#[derive(Serialize, ToSchema)]
pub struct SystemSummary {
    pub id: String,
    pub name: String,
    pub division: String,
    /// Lifecycle state (C1–C4).
    pub state: String,
    pub profile: String,
    pub in_use: bool,
    pub must_connect: bool,
    pub devices: usize,
    /// The caller may read positions, codes and models here (A3).
    pub full: bool,
    /// The caller may inspect this system (J1).
    pub may_inspect: bool,
}

/// Systems of the registry the caller has a registry right in (read basic information,
/// inspect, manage configuration).
#[utoipa::path(get, path = "/api/systems", tag = "registry",
    responses((status = 200, body = Vec<SystemSummary>), (status = 401, body = ErrorBody)))]
pub async fn systems(
    State(st): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SystemSummary>>> {
    let mut out = Vec::new();
    for s in st.store.systems().await? {
        if !may_see_system(&caller, &s) {
            continue;
        }
        let devices = st.store.devices(Some(&s.id)).await?.len();
        let scope = access::system_scope(&s);
        out.push(SystemSummary {
            full: allowed(&caller, Action::ReadBasicInfo, scope.clone()),
            may_inspect: allowed(&caller, Action::Inspect, scope),
            id: s.id,
            name: s.name,
            division: s.division,
            state: s.state,
            profile: s.profile,
            in_use: s.in_use,
            must_connect: s.must_connect,
            devices,
        });
    }
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
pub struct SystemDetail {
    /// The system record (units, responsibility, lifecycle dates; A1).
    #[schema(value_type = Object)]
    pub system: serde_json::Value,
    /// Full rows if `full`, else masked rows (A3: no position, model, URL; code masked).
    #[schema(value_type = Vec<Object>)]
    pub devices: Vec<serde_json::Value>,
    pub full: bool,
    /// Lifecycle deadlines (C2 filing and others).
    #[schema(value_type = Vec<Object>)]
    pub deadlines: Vec<serde_json::Value>,
    /// Archived documents: kind, title, date (contents through the document route).
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub inspections: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub orders: Vec<serde_json::Value>,
}

/// One system: its record, its devices (masked unless the caller may read basic information;
/// a full list is an audited confidential read), deadlines, documents, inspections, orders.
#[utoipa::path(get, path = "/api/systems/{id}", tag = "registry", params(("id" = String, Path)),
    responses((status = 200, body = SystemDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn system(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SystemDetail>> {
    let s = st.store.system(&id).await?;
    if !may_see_system(&caller, &s) {
        let r = Resource::at(access::system_scope(&s), Classification::Confidential);
        st.authorize(&caller, Action::ReadBasicInfo, &r, &format!("system/{id}"))
            .await?;
    }
    let (devices, full) =
        access::list_devices(&st.store, &st.journal, &caller.principal, &id, Utc::now()).await?;
    let deadlines = lifecycle::deadlines(&st.store, &id).await?;
    let documents = st
        .store
        .documents(&id)
        .await?
        .into_iter()
        .map(|d| {
            serde_json::json!({
                "id": d.id, "kind": d.kind, "title": d.title, "dated": d.dated,
                "author_unit": d.author_unit, "superseded_by": d.superseded_by,
            })
        })
        .collect();
    let inspections = st
        .store
        .inspections(&id)
        .await?
        .into_iter()
        .map(|i| {
            serde_json::json!({
                "id": i.id, "kind": i.kind, "inspector": i.inspector,
                "started_at": rfc(i.started_at), "finished_at": i.finished_at.map(rfc),
            })
        })
        .collect();
    let orders = st
        .store
        .rectification_orders(&id)
        .await?
        .iter()
        .map(order_json)
        .collect();
    Ok(Json(SystemDetail {
        system: json(&s),
        devices: devices.iter().map(json).collect(),
        full,
        deadlines: deadlines.iter().map(json).collect(),
        documents,
        inspections,
        orders,
    }))
}

fn order_json(o: &custos_store::registry::OrderRow) -> serde_json::Value {
    serde_json::json!({
        "id": o.id, "inspection_id": o.inspection_id, "system_id": o.system_id,
        "issued_by": o.issued_by, "issued_at": rfc(o.issued_at), "deadline": o.deadline,
        "items": serde_json::from_str::<serde_json::Value>(&o.items).unwrap_or_default(),
        "ledger_seq": o.ledger_seq,
    })
}

#[derive(Deserialize, IntoParams)]
pub struct PurposeQuery {
    /// Why the confidential fields are read (recorded in the ledger).
    pub purpose: Option<String>,
}

/// One device with its confidential fields (position, field of view, model, stream URLs; A3).
/// Needs `read_basic_info` at the device; the read is recorded before it is served, a refusal
/// is recorded and answered 403.
#[utoipa::path(get, path = "/api/devices/{code}", tag = "registry", params(("code" = String, Path), PurposeQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn device(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<PurposeQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let d = access::read_device(
        &st.store,
        &st.journal,
        &caller.principal,
        &code,
        q.purpose.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(Json(json(&d)))
}

#[derive(Deserialize, ToSchema)]
pub struct TransitionRequest {
    /// The new lifecycle state, e.g. `accepted`, `filed`, `in_use`.
    pub to: String,
    /// The legal date of the transition (YYYY-MM-DD); default today.
    pub on: Option<String>,
    /// Archived documents offered as evidence (ids).
    #[serde(default)]
    pub evidence: Vec<i64>,
}

/// A lifecycle transition with its evidence (C1–C4); needs `manage_config` of the system.
/// Refused with 409 and the missing documents' articles when evidence is missing.
#[utoipa::path(post, path = "/api/systems/{id}/lifecycle", tag = "registry", params(("id" = String, Path)), request_body = TransitionRequest,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn transition(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<TransitionRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let now = Utc::now();
    let s = st.store.system(&id).await?;
    access::require(
        &st.journal,
        &caller.principal,
        Action::ManageConfig,
        access::system_scope(&s),
        &format!("system/{id}"),
        now,
    )?;
    let to = LifecycleState::from_str(&req.to)?;
    let on = match &req.on {
        Some(d) => convert::parse_date(d)?,
        None => custos_core::compliance::lifecycle::legal_date(now),
    };
    let row = lifecycle::transition(
        &st.store,
        &st.journal,
        &lifecycle::Request {
            system_id: &id,
            to,
            on,
            evidence: &req.evidence,
            by: &caller.name,
        },
        now,
    )
    .await?;
    Ok(Json(json(&row)))
}

// ---- findings (J1, J2) ----

#[derive(Serialize, ToSchema)]
pub struct FindingView {
    pub id: String,
    /// Rule id, e.g. `B4.signage`.
    pub rule: String,
    pub subject: String,
    pub system_id: Option<String>,
    /// Articles cited.
    pub articles: String,
    pub severity: String,
    pub status: String,
    pub message: String,
    pub detected_at: String,
    pub deadline: String,
    pub order_id: Option<i64>,
    /// What the unit faces if it is not rectified.
    #[schema(value_type = Object)]
    pub consequence: serde_json::Value,
}

fn finding_view(f: FindingRow) -> FindingView {
    FindingView {
        consequence: serde_json::from_str(&f.consequence).unwrap_or_default(),
        detected_at: rfc(f.detected_at),
        deadline: rfc(f.deadline),
        id: f.id,
        rule: f.rule,
        subject: f.subject,
        system_id: f.system_id,
        articles: f.articles,
        severity: f.severity,
        status: f.status,
        message: f.message,
        order_id: f.order_id,
    }
}

#[derive(Deserialize, IntoParams)]
pub struct FindingsQuery {
    /// Only this system's findings.
    pub system: Option<String>,
    /// Only this status (open, rectification_ordered, rectified, verified).
    pub status: Option<String>,
    /// Only findings citing this text, e.g. `001 art. 11`.
    pub article: Option<String>,
    /// Also findings no longer seen by the last scan.
    pub include_resolved: Option<bool>,
}

/// Systems (ids) the caller may see, and whether any division at all.
async fn visible_systems(st: &AppState, caller: &Caller) -> ApiResult<(Vec<String>, bool)> {
    let mut ids = Vec::new();
    let mut divisions = false;
    for s in st.store.systems().await? {
        let scope = access::system_scope(&s);
        if FINDING_ACTIONS
            .iter()
            .any(|a| allowed(caller, *a, scope.clone()))
        {
            ids.push(s.id.clone());
        }
        if FINDING_ACTIONS
            .iter()
            .any(|a| allowed(caller, *a, Scope::organisation(s.division.clone())))
        {
            divisions = true;
        }
    }
    Ok((ids, divisions))
}

/// Findings of the last scan for the systems the caller has a registry right in (findings about
/// places no system covers: for those with a right over a whole division).
#[utoipa::path(get, path = "/api/findings", tag = "registry", params(FindingsQuery),
    responses((status = 200, body = Vec<FindingView>), (status = 401, body = ErrorBody)))]
pub async fn list_findings(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<FindingsQuery>,
) -> ApiResult<Json<Vec<FindingView>>> {
    if let Some(s) = &q.status {
        findings::parse_status(s)?;
    }
    let (visible, divisions) = visible_systems(&st, &caller).await?;
    let rows = st
        .store
        .findings(q.system.as_deref(), q.include_resolved.unwrap_or(false))
        .await?;
    Ok(Json(
        rows.into_iter()
            .filter(|f| match &f.system_id {
                Some(s) => visible.contains(s),
                None => divisions,
            })
            .filter(|f| q.status.as_ref().is_none_or(|s| &f.status == s))
            .filter(|f| q.article.as_ref().is_none_or(|a| f.articles.contains(a)))
            .map(finding_view)
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ScanSummary {
    pub devices: u64,
    pub findings: usize,
    /// What could not be checked, and why.
    pub unreadable: Vec<String>,
}

/// Runs the rule scan now and saves the findings (needs `inspect` in some registered division;
/// one ledger entry).
#[utoipa::path(post, path = "/api/findings/scan", tag = "registry",
    responses((status = 200, body = ScanSummary), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn run_scan(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<ScanSummary>> {
    let now = Utc::now();
    let mut divisions: Vec<String> = st
        .store
        .systems()
        .await?
        .into_iter()
        .map(|s| s.division)
        .collect();
    divisions.sort();
    divisions.dedup();
    access::require_any(
        &st.journal,
        &caller.principal,
        Action::Inspect,
        divisions.into_iter().map(Scope::organisation).collect(),
        "registry/findings",
        now,
    )?;
    let j = custos_core::compliance::Jurisdiction::default();
    let s = scan::scan_and_save(&st.store, &st.journal, &caller.name, now, &j).await?;
    Ok(Json(ScanSummary {
        devices: s.devices as u64,
        findings: s.findings.len(),
        unreadable: s
            .unreadable
            .iter()
            .map(|(a, b)| format!("{a}: {b}"))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AdvanceRequest {
    /// rectification_ordered, rectified, verified (or back to rectification_ordered).
    pub to: String,
    #[serde(default)]
    pub note: String,
    /// Deadline of an order (RFC 3339); default the jurisdiction's period.
    pub deadline: Option<String>,
}

/// Moves a finding along its workflow (ordering and verifying: `create_finding`; marking
/// rectified: `manage_config`). 409 if the move is not allowed from its status.
#[utoipa::path(post, path = "/api/findings/{id}/advance", tag = "registry", params(("id" = String, Path)), request_body = AdvanceRequest,
    responses((status = 200, body = FindingView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn advance(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<AdvanceRequest>,
) -> ApiResult<Json<FindingView>> {
    let to = findings::parse_status(&req.to)?;
    let deadline = match &req.deadline {
        Some(d) => Some(parse_time("deadline", d)?.to_datetime()),
        None => None,
    };
    let f = findings::advance(
        &st.store,
        &st.journal,
        &caller.principal,
        &id,
        to,
        &req.note,
        deadline,
        None,
        Utc::now(),
    )
    .await?;
    Ok(Json(finding_view(f)))
}

// ---- inspections (J1) ----

#[derive(Serialize, ToSchema)]
pub struct ChecklistItem {
    pub key: String,
    pub question: String,
    pub article: String,
}

#[derive(Serialize, ToSchema)]
pub struct Checklist {
    /// Inspection type, e.g. `filing`.
    pub kind: String,
    pub items: Vec<ChecklistItem>,
}

fn checklist_of(kind: &str) -> ApiResult<Checklist> {
    Ok(Checklist {
        kind: kind.to_owned(),
        items: inspection::checklist(kind)?
            .iter()
            .map(|i| ChecklistItem {
                key: i.key.to_owned(),
                question: i.question.to_owned(),
                article: i.article.to_owned(),
            })
            .collect(),
    })
}

/// The inspection types and their checklists.
#[utoipa::path(get, path = "/api/inspections/checklists", tag = "registry",
    responses((status = 200, body = Vec<Checklist>), (status = 401, body = ErrorBody)))]
pub async fn checklists(_caller: Caller) -> ApiResult<Json<Vec<Checklist>>> {
    Ok(Json(
        inspection::KINDS
            .iter()
            .map(|k| checklist_of(k))
            .collect::<ApiResult<_>>()?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct StartInspection {
    pub system: String,
    /// Inspection type (see /api/inspections/checklists).
    pub kind: String,
}

#[derive(Serialize, ToSchema)]
pub struct InspectionStarted {
    pub id: i64,
    pub checklist: Checklist,
}

/// Starts an inspection of a system (needs `inspect`; a ledger entry).
#[utoipa::path(post, path = "/api/inspections", tag = "registry", request_body = StartInspection,
    responses((status = 201, body = InspectionStarted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn start_inspection(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<StartInspection>,
) -> ApiResult<(StatusCode, Json<InspectionStarted>)> {
    let id = inspection::start(
        &st.store,
        &st.journal,
        &caller.principal,
        &req.system,
        &req.kind,
        Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(InspectionStarted {
            id,
            checklist: checklist_of(&req.kind)?,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct Answer {
    /// Checklist item key.
    pub item: String,
    /// pass, fail or not_applicable.
    pub answer: String,
    #[serde(default)]
    pub note: String,
}

/// Answers one checklist item (only the inspector who started it).
#[utoipa::path(post, path = "/api/inspections/{id}/answers", tag = "registry", params(("id" = i64, Path)), request_body = Answer,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn answer(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<Answer>,
) -> ApiResult<StatusCode> {
    let id = inspection_id(&id)?;
    inspection::answer(
        &st.store,
        &caller.principal,
        id,
        &req.item,
        &req.answer,
        &req.note,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn inspection_id(s: &str) -> ApiResult<i64> {
    s.parse()
        .map_err(|_| bad_request(format!("inspection id {s:?} is not a number")))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct FinishRequest {
    /// Days the unit has to rectify; default the jurisdiction's period.
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Finished {
    /// The rectification order issued (failed items and open findings), if any.
    #[schema(value_type = Option<Object>)]
    pub order: Option<serde_json::Value>,
}

/// Finishes an inspection: failed items and the system's open findings become a rectification
/// order with a deadline (needs `create_finding`). 409 while items are unanswered.
#[utoipa::path(post, path = "/api/inspections/{id}/finish", tag = "registry", params(("id" = i64, Path)), request_body = FinishRequest,
    responses((status = 200, body = Finished), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn finish(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<FinishRequest>,
) -> ApiResult<Json<Finished>> {
    let id = inspection_id(&id)?;
    if req.days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(bad_request("`days` is between 1 and 3650"));
    }
    let (ins, _) = st.store.inspection(id).await?;
    if ins.inspector != caller.name {
        return Err(ApiError(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "inspection {id} is {}'s; only the inspector finishes it",
                ins.inspector
            ),
        )));
    }
    let order = inspection::finish(
        &st.store,
        &st.journal,
        &caller.principal,
        id,
        req.days,
        Utc::now(),
    )
    .await?;
    Ok(Json(Finished {
        order: order.as_ref().map(order_json),
    }))
}

// ---- reports ----

/// `?lang=` of a report: `zh` (default) or `en`.
#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// Language of the report: `zh` (Chinese, the default) or `en` (English).
    pub lang: Option<String>,
}

/// The compliance report of a system (`ID.pdf` printed by Chromium, or `ID.html`), in Chinese
/// or English (`?lang=`); needs the rights the report asks for (inspectors, administrators);
/// the download is a ledger entry.
#[utoipa::path(get, path = "/api/reports/system/{file}", tag = "registry", params(("file" = String, Path, description = "`SYSTEM.pdf` or `SYSTEM.html`"), ReportQuery),
    responses((status = 200, content_type = "application/pdf"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn system_report(
    State(st): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let lang: report::Lang = q.lang.as_deref().unwrap_or("zh").parse()?;
    let (id, ext) = file
        .rsplit_once('.')
        .filter(|(_, e)| matches!(*e, "pdf" | "html"))
        .ok_or_else(|| bad_request(format!("{file:?}: ask for SYSTEM.pdf or SYSTEM.html")))?;
    let (id, ext) = (id.to_owned(), ext.to_owned());
    st.store.system(&id).await?;
    let dir = st.data.root().join("tmp").join(format!(
        "report-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let out = dir.join(format!("report.{ext}"));
    let (store, journal, p, o) = (
        st.store.clone(),
        st.journal.clone(),
        caller.principal.clone(),
        out.clone(),
    );
    let handle = tokio::runtime::Handle::current();
    // Chromium prints synchronously: off the request thread.
    let res = tokio::task::spawn_blocking(move || {
        handle.block_on(report::write_report(
            &store,
            &journal,
            &p,
            &report::Scope::System(id),
            None,
            &o,
            Utc::now(),
            lang,
        ))
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Internal, format!("report task: {e}")))?;
    let body = res.and_then(|()| {
        std::fs::read(&out).map_err(|e| Error::io(format!("reading {}", out.display()), e))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let body = body?;
    let ctype = if ext == "pdf" {
        "application/pdf"
    } else {
        "text/html; charset=utf-8"
    };
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

// ---- D6: report suspicious information ----

#[derive(Deserialize, ToSchema)]
pub struct SuspiciousRequest {
    /// The moment on the timeline (RFC 3339).
    pub at: String,
    /// What was seen (goes to the police side).
    pub note: String,
    /// Seconds held before `at` (default 300).
    pub before_s: Option<u32>,
    /// Seconds held after `at` (default 600).
    pub after_s: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SuspiciousReport {
    pub bookmark_id: i64,
    pub hold_id: i64,
    pub event_id: i64,
    pub ledger_seq: u64,
    pub hold_from: String,
    pub hold_to: String,
}

/// D6: a watch operator reports suspicious information seen on a camera: the moment is
/// bookmarked, the footage around it held, the police side notified (needs `place_hold`).
#[utoipa::path(post, path = "/api/cameras/{name}/reports", tag = "cameras", params(("name" = String, Path)), request_body = SuspiciousRequest,
    responses((status = 201, body = SuspiciousReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn report_suspicious(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(req): Json<SuspiciousRequest>,
) -> ApiResult<(StatusCode, Json<SuspiciousReport>)> {
    let at = parse_time("at", &req.at)?;
    let Some(placement) = st.placement_of(&name) else {
        st.authorize_camera(&caller, custos_core::access::Action::PlaceHold, &name)
            .await?;
        return Err(ApiError(custos_core::Error::new(
            custos_core::ErrorKind::PermissionDenied,
            format!("camera {name} has no area yet"),
        )));
    };
    let s = |v: Option<u32>, d: u32| Duration90k::from_secs(i64::from(v.unwrap_or(d).min(86_400)));
    let r = suspicious::report(
        &st.store,
        &st.journal,
        &caller.principal,
        &suspicious::Suspicious {
            camera: &name,
            location: placement.scope(),
            at,
            note: &req.note,
            before: s(req.before_s, 300),
            after: s(req.after_s, 600),
        },
        Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SuspiciousReport {
            bookmark_id: r.bookmark_id,
            hold_id: r.hold_id,
            event_id: r.event_id,
            ledger_seq: r.ledger_seq,
            hold_from: rfc(r.hold_from),
            hold_to: rfc(r.hold_to),
        }),
    ))
}

// ---- public: catalogue (I1) and complaints (J3) ----

#[derive(Serialize, ToSchema)]
pub struct CatalogueEntryView {
    pub name: String,
    /// County-level division code.
    pub division: String,
    pub using_unit: String,
    pub state: String,
    pub cameras: usize,
}

/// I1: the public catalogue of systems that must connect to the sharing platform. No login;
/// no confidential field (no position, address code, device type or plan).
#[utoipa::path(get, path = "/api/public/catalogue", tag = "public",
    responses((status = 200, body = Vec<CatalogueEntryView>)))]
pub async fn catalogue(State(st): State<AppState>) -> ApiResult<Json<Vec<CatalogueEntryView>>> {
    Ok(Json(
        report::catalogue(&st.store)
            .await?
            .into_iter()
            .map(|e| CatalogueEntryView {
                name: e.name,
                division: e.division,
                using_unit: e.using_unit,
                state: e.state,
                cameras: e.cameras,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ComplaintRequest {
    /// The agency or person the complaint is about.
    pub against: String,
    /// What happened.
    pub body: String,
    /// How to reach the complainant (optional: anonymous complaints are accepted).
    pub contact: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintReceipt {
    pub id: i64,
    /// SHA-256 of the complaint as recorded; keep it to check later that it was not altered.
    pub sha256: String,
    pub ledger_seq: i64,
    pub submitted_at: String,
}

/// Per-address limit of public complaints: at most `PER_ADDR` in `WINDOW`, and at most
/// `GLOBAL` from everyone in the window (a flood from many addresses cannot fill the disk).
#[derive(Default)]
pub struct ComplaintLimiter(Mutex<HashMap<IpAddr, VecDeque<Instant>>>);

const WINDOW: Duration = Duration::from_secs(600);
const PER_ADDR: usize = 5;
const GLOBAL: usize = 500;

/// The unit a complaint rate limit applies to: an IPv4 address, or an IPv6 /64 (one
/// subscriber's network: a host can use any of its 2^64 addresses).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut o = v6.octets();
                o[8..].fill(0);
                IpAddr::V6(std::net::Ipv6Addr::from(o))
            }
        },
    }
}

impl ComplaintLimiter {
    /// Counts a complaint from `ip` (by [`limit_key`]), or refuses it (ResourceExhausted).
    pub fn admit(&self, ip: IpAddr) -> ApiResult<()> {
        let ip = limit_key(ip);
        let now = Instant::now();
        let mut m = self.0.lock().expect("limiter");
        m.retain(|_, q| {
            while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                q.pop_front();
            }
            !q.is_empty()
        });
        let total: usize = m.values().map(VecDeque::len).sum();
        let q = m.entry(ip).or_default();
        if q.len() >= PER_ADDR || total >= GLOBAL {
            return Err(ApiError(Error::new(
                ErrorKind::ResourceExhausted,
                format!(
                    "too many complaints from this address (at most {PER_ADDR} in {} minutes); \
                     try again later or write to the agency's supervisor",
                    WINDOW.as_secs() / 60
                ),
            )));
        }
        q.push_back(now);
        Ok(())
    }
}

/// J3: anyone may complain about the supervising agencies, without an account. The complaint is
/// recorded in the ledger (its SHA-256) and stored append-only. Rate-limited per address (429).
#[utoipa::path(post, path = "/api/public/complaints", tag = "public", request_body = ComplaintRequest,
    responses((status = 201, body = ComplaintReceipt), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn submit_complaint(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req): Json<ComplaintRequest>,
) -> ApiResult<(StatusCode, Json<ComplaintReceipt>)> {
    st.complaints.admit(peer.ip())?;
    let contact = req.contact.as_deref().filter(|c| !c.trim().is_empty());
    let row = complaint::submit(
        &st.store,
        &st.journal,
        req.against.trim(),
        req.body.trim(),
        contact,
        Time90k::from_datetime(Utc::now()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ComplaintReceipt {
            id: row.id,
            sha256: row.sha256,
            ledger_seq: row.ledger_seq,
            submitted_at: rfc(row.submitted_at),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// J3 (attack): a host rotating through the addresses of its IPv6 /64 is one complainant
    /// for the rate limit; another /64 (or an IPv4-mapped address) is counted on its own.
    #[test]
    fn j3_complaint_limit_is_per_ipv6_slash_64() {
        let l = ComplaintLimiter::default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for i in 1..=PER_ADDR {
            l.admit(ip(&format!("2001:db8:1:2::{i:x}"))).unwrap();
        }
        let e = l.admit(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")).unwrap_err();
        assert_eq!(e.0.kind(), ErrorKind::ResourceExhausted);
        l.admit(ip("2001:db8:1:3::1")).unwrap();
        assert_eq!(
            limit_key(ip("::ffff:192.0.2.7")),
            ip("192.0.2.7"),
            "IPv4-mapped addresses count as IPv4"
        );
    }
}
