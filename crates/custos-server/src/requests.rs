//! Footage requests over HTTP (H1–H5): police draft and submit, the agency head approves or
//! rejects, the unit's operator sees both officers and the documents and releases (a
//! time-limited view grant, or evidence bundles for copies) or refuses; the registration form
//! prints as PDF. The rules are `custos-requests`'; this module maps HTTP onto them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use custos_core::access::Action;
use custos_core::{Error, ErrorKind, Time90k};
use custos_requests::{
    Approver, CameraRange, DocumentKind, Kind, NewRequest, Officer, OrganType, ReleaseOrder,
    Request, State as RState,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::TimeRange;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, bad_request};
use crate::state::AppState;

#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct CameraRangeBody {
    pub camera: String,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339 (exclusive).
    pub to: String,
}

#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct OfficerBody {
    pub name: String,
    /// Work-ID number (警号).
    pub work_id: String,
}

/// A new footage request (H1, H3).
#[derive(Deserialize, ToSchema)]
pub struct NewRequestBody {
    /// The requesting organ, e.g. 某市公安局某分局.
    pub organ: String,
    /// police, state_security, investigative, procuratorial, judicial, county_government.
    pub organ_type: String,
    pub purpose: String,
    pub legal_basis: String,
    pub case: Option<String>,
    /// view, copy, retrieve or live.
    pub kind: String,
    pub cameras: Vec<CameraRangeBody>,
    /// At least two distinct officers (H3).
    pub officers: Vec<OfficerBody>,
}

#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub sha256: String,
    pub bytes: i64,
    pub added_by: String,
    pub added_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct BundleView {
    pub camera: String,
    pub path: String,
    pub key_fingerprint: String,
    pub manifest_sha256: String,
}

/// A request as the console shows it.
#[derive(Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    /// drafted, submitted, approved, rejected, released, closed.
    pub state: String,
    pub organ: String,
    pub organ_type: String,
    pub purpose: String,
    pub legal_basis: String,
    pub case: Option<String>,
    pub kind: String,
    pub cameras: Vec<CameraRangeBody>,
    pub officers: Vec<OfficerBody>,
    pub created_by: String,
    pub created_at: String,
    pub approved_by: Option<String>,
    pub approver_work_id: Option<String>,
    pub approver_unit: Option<String>,
    pub refused_by: Option<String>,
    pub refusal_reason: Option<String>,
    pub released_by: Option<String>,
    pub valid_until: Option<String>,
    pub bundles: Vec<BundleView>,
    pub documents: Vec<DocumentView>,
    /// Ledger entries of its steps.
    pub ledger: Vec<u64>,
}

fn view(r: &Request, docs: Vec<custos_requests::Document>) -> RequestView {
    let f = &r.fields;
    RequestView {
        id: r.id,
        state: r.state.as_str().into(),
        organ: f.organ.clone(),
        organ_type: f.organ_type.as_str().into(),
        purpose: f.purpose.clone(),
        legal_basis: f.legal_basis.clone(),
        case: f.case.clone(),
        kind: f.kind.as_str().into(),
        cameras: f
            .scope
            .iter()
            .map(|c| CameraRangeBody {
                camera: c.camera.clone(),
                from: c.from.to_rfc3339(),
                to: c.to.to_rfc3339(),
            })
            .collect(),
        officers: f
            .officers
            .iter()
            .map(|o| OfficerBody {
                name: o.name.clone(),
                work_id: o.work_id.clone(),
            })
            .collect(),
        created_by: r.created_by.clone(),
        created_at: r.created_at.to_rfc3339(),
        approved_by: r.approval.as_ref().map(|a| a.by.clone()),
        approver_work_id: r.approval.as_ref().map(|a| a.work_id.clone()),
        approver_unit: r.approval.as_ref().map(|a| a.unit.clone()),
        refused_by: r.refusal.as_ref().map(|x| x.by.clone()),
        refusal_reason: r.refusal.as_ref().map(|x| x.reason.clone()),
        released_by: r.release.as_ref().map(|x| x.by.clone()),
        valid_until: r.release.as_ref().map(|x| x.until.to_rfc3339()),
        bundles: r
            .release
            .iter()
            .flat_map(|x| &x.bundles)
            .map(|b| BundleView {
                camera: b.camera.clone(),
                path: b.path.clone(),
                key_fingerprint: b.key_fingerprint.clone(),
                manifest_sha256: b.manifest_sha256.clone(),
            })
            .collect(),
        documents: docs
            .into_iter()
            .map(|d| DocumentView {
                id: d.id,
                kind: d.kind.as_str().into(),
                title: d.title,
                sha256: d.sha256,
                bytes: d.bytes,
                added_by: d.added_by,
                added_at: d.added_at.to_rfc3339(),
            })
            .collect(),
        ledger: r.ledger.clone(),
    }
}

/// Who may see a request: its author, and those who may approve it or release footage of
/// one of its cameras (approvers, the unit's operators).
fn may_see(st: &AppState, caller: &Caller, r: &Request) -> bool {
    r.created_by == caller.name
        || r.fields.scope.iter().any(|c| {
            st.may_camera(caller, Action::ApprovePoliceRequest, &c.camera)
                || (caller
                    .principal
                    .grants
                    .iter()
                    .any(|g| g.role == custos_core::access::Role::WatchOperator)
                    && st.may_camera(caller, Action::Playback, &c.camera))
        })
}

async fn visible(st: &AppState, caller: &Caller, id: i64) -> ApiResult<Request> {
    let r = st.requests.get(id).await?;
    if !may_see(st, caller, &r) {
        // Not listed to this caller: the same answer as for a request that does not exist.
        return Err(ApiError(Error::new(
            ErrorKind::NotFound,
            format!("no footage request {id} for {}", caller.name),
        )));
    }
    Ok(r)
}

async fn respond(st: &AppState, r: Request) -> ApiResult<Json<RequestView>> {
    let docs = st.requests.documents(r.id).await?;
    Ok(Json(view(&r, docs)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only requests in this state (e.g. `submitted` for the approval inbox).
    pub state: Option<String>,
}

/// Footage requests the caller may see, newest first.
#[utoipa::path(get, path = "/api/requests", tag = "requests", params(ListQuery),
    responses((status = 200, body = Vec<RequestView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<RequestView>>> {
    let state: Option<RState> = q.state.as_deref().map(str::parse).transpose()?;
    let mut out = Vec::new();
    for r in st.requests.list(state).await? {
        if may_see(&st, &caller, &r) {
            let docs = st.requests.documents(r.id).await?;
            out.push(view(&r, docs));
        }
    }
    Ok(Json(out))
}

/// Draft a footage request (police, H1). Recorded in the ledger.
#[utoipa::path(post, path = "/api/requests", tag = "requests", request_body = NewRequestBody,
    responses((status = 201, body = RequestView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(b): Json<NewRequestBody>,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    let mut scope = Vec::new();
    for c in &b.cameras {
        let (from, to) = TimeRange::parse(&c.from, &c.to)?;
        scope.push(CameraRange {
            camera: c.camera.clone(),
            from,
            to,
        });
    }
    let new = NewRequest {
        organ: b.organ.trim().into(),
        organ_type: b.organ_type.parse::<OrganType>()?,
        purpose: b.purpose,
        legal_basis: b.legal_basis,
        case: b.case.filter(|c| !c.trim().is_empty()),
        kind: b.kind.parse::<Kind>()?,
        scope,
        officers: b
            .officers
            .into_iter()
            .map(|o| Officer {
                name: o.name.trim().into(),
                work_id: o.work_id.trim().into(),
            })
            .collect(),
    };
    let r = st
        .requests
        .create(&caller.principal, new, st.clock.now_90k())
        .await?;
    Ok((StatusCode::CREATED, respond(&st, r).await?))
}

/// One request with its documents.
#[utoipa::path(get, path = "/api/requests/{id}", tag = "requests", params(("id" = i64, Path)),
    responses((status = 200, body = RequestView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<RequestView>> {
    let r = visible(&st, &caller, id).await?;
    respond(&st, r).await
}

/// A document to attach (H3): unit letter, legal document or an officer's ID scan.
#[derive(Deserialize, ToSchema)]
pub struct DocumentBody {
    /// unit_letter, legal_document, officer_id or other.
    pub kind: String,
    pub title: String,
    /// The file, base64.
    pub content_base64: String,
}

/// Attach a document to a drafted request (filed with its SHA-256; ledger entry).
#[utoipa::path(post, path = "/api/requests/{id}/documents", tag = "requests", params(("id" = i64, Path)), request_body = DocumentBody,
    responses((status = 201, body = DocumentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn attach(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<DocumentBody>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    visible(&st, &caller, id).await?;
    let kind: DocumentKind = b.kind.parse()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b.content_base64.trim())
        .map_err(|e| bad_request(format!("`content_base64` is not base64 ({e})")))?;
    let d = st
        .requests
        .attach(id, &caller.name, kind, &b.title, &bytes, st.clock.now_90k())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DocumentView {
            id: d.id,
            kind: d.kind.as_str().into(),
            title: d.title,
            sha256: d.sha256,
            bytes: d.bytes,
            added_by: d.added_by,
            added_at: d.added_at.to_rfc3339(),
        }),
    ))
}

/// A document's file (checked against its SHA-256), for the approver and the unit's operator.
#[utoipa::path(get, path = "/api/requests/{id}/documents/{doc}", tag = "requests", params(("id" = i64, Path), ("doc" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn document(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, doc)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    visible(&st, &caller, id).await?;
    let (d, bytes) = st.requests.document_file(id, doc).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"document-{}\"", d.id),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Submit a drafted request (needs a unit letter or legal document, H3).
#[utoipa::path(post, path = "/api/requests/{id}/submit", tag = "requests", params(("id" = i64, Path)),
    responses((status = 200, body = RequestView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn submit(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<RequestView>> {
    visible(&st, &caller, id).await?;
    let r = st
        .requests
        .submit(id, &caller.name, st.clock.now_90k())
        .await?;
    respond(&st, r).await
}

/// The approver's statement (H2).
#[derive(Deserialize, ToSchema)]
pub struct ApproveBody {
    /// The approver's work-ID number.
    pub work_id: String,
    /// The agency the approver heads (for police and state security: the requesting agency).
    pub unit: String,
    /// police or state_security.
    pub unit_type: String,
    pub note: Option<String>,
}

/// Approve a submitted request: the principal head with jurisdiction, neither its author nor
/// one of its officers (H2).
#[utoipa::path(post, path = "/api/requests/{id}/approve", tag = "requests", params(("id" = i64, Path)), request_body = ApproveBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<ApproveBody>,
) -> ApiResult<Json<RequestView>> {
    visible(&st, &caller, id).await?;
    let a = Approver {
        principal: caller.principal.clone(),
        work_id: b.work_id,
        unit: b.unit,
        unit_type: b.unit_type.parse()?,
        note: b.note,
    };
    let r = st.requests.approve(id, &a, st.clock.now_90k()).await?;
    respond(&st, r).await
}

#[derive(Deserialize, ToSchema)]
pub struct RejectBody {
    /// Why (e.g. 未出示法律文书).
    pub reason: String,
}

/// Refuse a request, with the reason: the approver before approval, the unit after it (H3).
#[utoipa::path(post, path = "/api/requests/{id}/reject", tag = "requests", params(("id" = i64, Path)), request_body = RejectBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<RejectBody>,
) -> ApiResult<Json<RequestView>> {
    visible(&st, &caller, id).await?;
    let r = st
        .requests
        .reject(id, &caller.principal, &b.reason, st.clock.now_90k())
        .await?;
    respond(&st, r).await
}

#[derive(Deserialize, ToSchema)]
pub struct ReleaseBody {
    /// How long the grant lasts, in hours (1–720).
    pub valid_hours: u32,
}

/// Release an approved request (the unit's watch operator, H3, H5): a view grant for its
/// cameras × ranges until `valid_hours` from now, and for copies one evidence bundle per
/// camera range in `DATA/bundles/request-ID/`. A `request_released` event follows.
#[utoipa::path(post, path = "/api/requests/{id}/release", tag = "requests", params(("id" = i64, Path)), request_body = ReleaseBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn release(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<ReleaseBody>,
) -> ApiResult<Json<RequestView>> {
    let r = visible(&st, &caller, id).await?;
    if !(1..=720).contains(&b.valid_hours) {
        return Err(bad_request("`valid_hours` is 1 to 720"));
    }
    let now = st.clock.now_90k();
    let until = Time90k(now.0 + i64::from(b.valid_hours) * 3600 * 90_000);
    let bundle_dir = r
        .fields
        .kind
        .is_copy()
        .then(|| st.data.root().join("bundles").join(format!("request-{id}")));
    let o = ReleaseOrder {
        principal: caller.principal.clone(),
        until,
        bundle_dir,
    };
    let r = st.requests.release(id, &o, now).await?;
    respond(&st, r).await
}

/// Close a request (its author, approver or releaser). A released grant ends with it.
#[utoipa::path(post, path = "/api/requests/{id}/close", tag = "requests", params(("id" = i64, Path)),
    responses((status = 200, body = RequestView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<RequestView>> {
    visible(&st, &caller, id).await?;
    let r = st
        .requests
        .close(id, &caller.name, st.clock.now_90k())
        .await?;
    st.access_changed();
    respond(&st, r).await
}

/// The registration form (登记表) of a request as PDF (printed by Chromium) or HTML:
/// `form.pdf` or `form.html`.
#[utoipa::path(get, path = "/api/requests/{id}/{file}", tag = "requests", params(("id" = i64, Path), ("file" = String, Path, description = "`form.pdf` or `form.html`")),
    responses((status = 200, content_type = "application/pdf"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn form(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, file)): Path<(i64, String)>,
) -> ApiResult<Response> {
    let r = visible(&st, &caller, id).await?;
    let docs = st.requests.documents(id).await?;
    match file.as_str() {
        "form.html" => Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            custos_requests::form::html(&r, &docs),
        )
            .into_response()),
        "form.pdf" => {
            let mut rnd = [0u8; 8];
            crate::playback::getrandom(&mut rnd);
            let dir = std::env::temp_dir().join(format!("custos-form-{}", hex::encode(rnd)));
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("temporary directory", e))?;
            let pdf = dir.join(format!("request-{id}.pdf"));
            let p2 = pdf.clone();
            let res =
                tokio::task::spawn_blocking(move || custos_requests::form::pdf(&r, &docs, &p2))
                    .await
                    .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
            let bytes = res.and_then(|()| {
                std::fs::read(&pdf).map_err(|e| Error::io("reading the printed form", e))
            });
            let _ = std::fs::remove_dir_all(&dir);
            Ok((
                [
                    (header::CONTENT_TYPE, "application/pdf".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("inline; filename=\"request-{id}.pdf\""),
                    ),
                ],
                bytes?,
            )
                .into_response())
        }
        _ => Err(crate::api::not_found(format!(
            "{file:?}: ask for form.pdf or form.html"
        ))),
    }
}
