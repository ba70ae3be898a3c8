//! The steps of the procedure on a data directory. Each step checks the rules
//! ([`crate::rules`]) and the access policy (`custos_core::access`), writes its ledger entry,
//! and only then changes the row (fail closed: if the ledger cannot record the step, the step
//! does not happen).

use std::path::{Path, PathBuf};

use custos_core::access::{self, Action, Classification, Decision, Principal, Resource};
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_footage::{DataDir, Journal};
use custos_ledger::NewEntry;
use custos_store::{RequestDocumentRow, Store};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::model::*;
use crate::rules::{self, Needed};

/// The row's state while a release is under way (bundles being written): the record itself
/// stays `approved` until the release is in the ledger, but no other step and no second
/// release can take the row meanwhile.
const RELEASING: &str = "releasing";

/// The approver's statement (H2): who they are and which agency they head.
#[derive(Clone, Debug)]
pub struct Approver {
    pub principal: Principal,
    pub work_id: String,
    pub unit: String,
    pub unit_type: OrganType,
    pub note: Option<String>,
}

/// The unit operator's release.
#[derive(Clone, Debug)]
pub struct ReleaseOrder {
    pub principal: Principal,
    /// The grant ends then.
    pub until: Time90k,
    /// For copy/retrieve: the directory that receives one evidence bundle per camera range
    /// (it must not exist).
    pub bundle_dir: Option<PathBuf>,
}

/// Footage requests of one data directory.
#[derive(Clone)]
pub struct Requests {
    store: Store,
    journal: Journal,
    data: DataDir,
}

/// The ledger action of a step, e.g. `RequestApproved`.
pub fn ledger_action(name: &str) -> custos_ledger::Action {
    custos_ledger::Action::Other(format!("Request{name}"))
}

fn internal(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Internal, msg)
}

fn now_dt(now: Time90k) -> chrono::DateTime<chrono::Utc> {
    now.to_datetime()
}

impl Requests {
    pub fn new(store: Store, journal: Journal, data: DataDir) -> Self {
        Requests {
            store,
            journal,
            data,
        }
    }

    async fn log(&self, e: NewEntry) -> Result<u64> {
        let j = self.journal.clone();
        tokio::task::spawn_blocking(move || j.record(e))
            .await
            .map_err(|e| internal(format!("ledger: {e}")))?
            .map_err(|e| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!("the step was not taken: the ledger cannot record it ({e})"),
                )
            })
    }

    fn decode(row: custos_store::RequestRow) -> Result<Request> {
        let mut r: Request = serde_json::from_str(&row.body)
            .map_err(|e| internal(format!("request {}: unreadable record ({e})", row.id)))?;
        r.id = row.id;
        Ok(r)
    }

    fn encode(r: &Request) -> Result<String> {
        serde_json::to_string(r).map_err(|e| internal(format!("encoding a request: {e}")))
    }

    pub async fn get(&self, id: i64) -> Result<Request> {
        Self::decode(self.store.request(id).await?)
    }

    /// All requests, newest first; with `state`, only those in it.
    pub async fn list(&self, state: Option<State>) -> Result<Vec<Request>> {
        self.store
            .requests(state.map(|s| s.as_str()))
            .await?
            .into_iter()
            .map(Self::decode)
            .collect()
    }

    pub async fn documents(&self, id: i64) -> Result<Vec<Document>> {
        self.store
            .request_documents(id)
            .await?
            .into_iter()
            .map(|d| {
                Ok(Document {
                    id: d.id,
                    kind: d.kind.parse()?,
                    title: d.title,
                    sha256: d.sha256,
                    bytes: d.bytes,
                    added_by: d.added_by,
                    added_at: d.added_at,
                })
            })
            .collect()
    }

    /// The stored file of document `doc` of request `id`, checked against its SHA-256.
    pub async fn document_file(&self, id: i64, doc: i64) -> Result<(Document, Vec<u8>)> {
        let row = self
            .store
            .request_documents(id)
            .await?
            .into_iter()
            .find(|d| d.id == doc)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("request {id} has no document {doc}"),
                )
            })?;
        let bytes = std::fs::read(self.data.root().join(&row.path))
            .map_err(|e| Error::io(format!("reading document {doc}"), e))?;
        if hex::encode(Sha256::digest(&bytes)) != row.sha256 {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!(
                    "document {doc} of request {id} no longer matches its SHA-256; it was altered in the archive"
                ),
            ));
        }
        let d = Document {
            id: row.id,
            kind: row.kind.parse()?,
            title: row.title,
            sha256: row.sha256,
            bytes: row.bytes,
            added_by: row.added_by,
            added_at: row.added_at,
        };
        Ok((d, bytes))
    }

    async fn resources(&self, r: &Request) -> Result<Vec<(String, Resource)>> {
        let areas = self.store.camera_areas().await?;
        r.fields
            .scope
            .iter()
            .map(|c| {
                let (o, s, a) = areas.get(&c.camera).ok_or_else(|| {
                    Error::new(
                        ErrorKind::FailedPrecondition,
                        format!(
                            "camera {} has no area, so nobody may act on its footage; an administrator must place it first",
                            c.camera
                        ),
                    )
                })?;
                let p = access::Placement::new(o, s, a, c.camera.as_str());
                Ok((c.camera.clone(), Resource::camera(&p, Classification::Public)))
            })
            .collect()
    }

    /// H1: a police account drafts a request for the cameras × ranges it names. The account
    /// must hold the right it asks for (e.g. `export` for copies) over every camera — before
    /// approval (`needs_approval` is what this procedure provides).
    pub async fn create(&self, who: &Principal, new: NewRequest, now: Time90k) -> Result<Request> {
        rules::check_new(&new)?;
        let action = match new.kind {
            Kind::View => Action::Playback,
            Kind::Copy | Kind::Retrieve => Action::Export,
            Kind::Live => Action::ViewLive,
        };
        let mut r = Request {
            id: 0,
            state: State::Drafted,
            fields: new,
            created_by: who.id.clone(),
            created_at: now,
            submitted_at: None,
            approval: None,
            refusal: None,
            release: None,
            closed_at: None,
            closed_by: None,
            ledger: vec![],
        };
        for (cam, res) in self.resources(&r).await? {
            match access::required_approval(who, action, &res, now_dt(now)) {
                Ok(Some(access::Approval::AgencyHead)) => {}
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::PermissionDenied,
                        format!(
                            "H1: {} obtains footage of {cam} without a request; requests are drafted by police accounts",
                            who.id
                        ),
                    ));
                }
                Err(reason) => {
                    return Err(Error::new(
                        ErrorKind::PermissionDenied,
                        format!("{} may not request {action} of {cam}: {reason}", who.id),
                    ));
                }
            }
        }
        let id = self
            .store
            .insert_request("pending", &Self::encode(&r)?, now)
            .await?;
        r.id = id;
        let seq = match self
            .log(
                NewEntry::new(&who.id, ledger_action("Created"), format!("request/{id}"))
                    .purpose(&r.fields.purpose)
                    .details(json!({ "request": &r })),
            )
            .await
        {
            Ok(s) => s,
            Err(e) => {
                let _ = self
                    .store
                    .update_request(id, "pending", "void", &Self::encode(&r)?, now)
                    .await;
                return Err(e);
            }
        };
        r.ledger.push(seq);
        self.store
            .update_request(
                id,
                "pending",
                State::Drafted.as_str(),
                &Self::encode(&r)?,
                now,
            )
            .await?;
        Ok(r)
    }

    async fn step(
        &self,
        r: Request,
        by: &str,
        step: Step,
        details: serde_json::Value,
        now: Time90k,
        change: impl FnOnce(&mut Request),
    ) -> Result<Request> {
        let stored = r.state.as_str();
        self.step_from(stored, r, by, step, details, now, change)
            .await
    }

    /// [`Self::step`] from the stored state `stored` (the row's state column, which differs
    /// from the record's while a release holds its claim).
    #[allow(clippy::too_many_arguments)]
    async fn step_from(
        &self,
        stored: &str,
        mut r: Request,
        by: &str,
        step: Step,
        details: serde_json::Value,
        now: Time90k,
        change: impl FnOnce(&mut Request),
    ) -> Result<Request> {
        let from = r.state;
        let to = rules::next(from, step)?;
        let name = match step {
            Step::Submit => "Submitted",
            Step::Approve => "Approved",
            Step::Reject => "Rejected",
            Step::Release => "Released",
            Step::Close => "Closed",
        };
        let seq = self
            .log(
                NewEntry::new(by, ledger_action(name), format!("request/{}", r.id)).details(
                    json!({
                        "from": from.as_str(), "to": to.as_str(), "step": details,
                    }),
                ),
            )
            .await?;
        change(&mut r);
        r.state = to;
        r.ledger.push(seq);
        self.store
            .update_request(r.id, stored, to.as_str(), &Self::encode(&r)?, now)
            .await?;
        Ok(r)
    }

    /// H3: files a document (unit letter, legal document, officer's ID scan) in
    /// `DATA/archive/requests/<sha256>`; only while drafted, by the drafting account.
    pub async fn attach(
        &self,
        id: i64,
        by: &str,
        kind: DocumentKind,
        title: &str,
        bytes: &[u8],
        now: Time90k,
    ) -> Result<Document> {
        let r = self.get(id).await?;
        if r.state != State::Drafted {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "request {id} is {}; documents are attached while it is drafted",
                    r.state
                ),
            ));
        }
        if r.created_by != by {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "request {id} belongs to {}; only that account attaches documents",
                    r.created_by
                ),
            ));
        }
        if bytes.is_empty() || title.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a document needs a title and a non-empty file",
            ));
        }
        let sha = hex::encode(Sha256::digest(bytes));
        let rel = format!("archive/requests/{sha}");
        let abs = self.data.root().join(&rel);
        if !abs.exists() {
            let dir = abs.parent().expect("has parent");
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating the archive", e))?;
            let tmp = abs.with_extension("tmp");
            std::fs::write(&tmp, bytes).map_err(|e| Error::io("writing the archive copy", e))?;
            std::fs::rename(&tmp, &abs).map_err(|e| Error::io("writing the archive copy", e))?;
        }
        let seq = self
            .log(
                NewEntry::new(by, ledger_action("Document"), format!("request/{id}")).details(
                    json!({ "kind": kind.as_str(), "title": title, "sha256": sha, "bytes": bytes.len() }),
                ),
            )
            .await?;
        let row = RequestDocumentRow {
            id: 0,
            request_id: id,
            kind: kind.as_str().into(),
            title: title.into(),
            sha256: sha.clone(),
            path: rel,
            bytes: bytes.len() as i64,
            added_by: by.into(),
            added_at: now,
            ledger_seq: seq as i64,
        };
        let doc_id = self.store.add_request_document(&row).await?;
        Ok(Document {
            id: doc_id,
            kind,
            title: title.into(),
            sha256: sha,
            bytes: bytes.len() as i64,
            added_by: by.into(),
            added_at: now,
        })
    }

    pub async fn submit(&self, id: i64, by: &str, now: Time90k) -> Result<Request> {
        let r = self.get(id).await?;
        if r.created_by != by {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "request {id} belongs to {}; only that account submits it",
                    r.created_by
                ),
            ));
        }
        rules::check_submit(&r, &self.documents(id).await?, now)?;
        self.step(r, by, Step::Submit, json!({}), now, |r| {
            r.submitted_at = Some(now)
        })
        .await
    }

    /// H2: the principal head approves; must hold `approve_police_request` over every camera
    /// and be a second person (`access::approve`).
    pub async fn approve(&self, id: i64, a: &Approver, now: Time90k) -> Result<Request> {
        let r = self.get(id).await?;
        let approval = Approval {
            by: a.principal.id.clone(),
            work_id: a.work_id.trim().into(),
            unit: a.unit.trim().into(),
            unit_type: a.unit_type,
            at: now,
            note: a.note.clone(),
        };
        rules::check_approval(&r, &approval)?;
        for (cam, res) in self.resources(&r).await? {
            if let Decision::Deny(reason) = access::approve(
                &r.created_by,
                &a.principal,
                Action::ApprovePoliceRequest,
                &res,
                now_dt(now),
            ) {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "{} may not approve request {id} for {cam}: {reason}",
                        a.principal.id
                    ),
                ));
            }
        }
        let details = json!({ "approval": &approval });
        self.step(r, &a.principal.id, Step::Approve, details, now, |r| {
            r.approval = Some(approval)
        })
        .await
    }

    /// The approver (before approval) or the unit's operator (after it) refuses, with a reason.
    pub async fn reject(
        &self,
        id: i64,
        who: &Principal,
        reason: &str,
        now: Time90k,
    ) -> Result<Request> {
        let r = self.get(id).await?;
        rules::next(r.state, Step::Reject)?;
        if reason.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a refusal states its reason (H3), e.g. 未出示法律文书",
            ));
        }
        if who.id == r.created_by {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "the requesting account closes its own request; refusing is for the approver or the unit",
            ));
        }
        let action = if r.state == State::Submitted {
            Action::ApprovePoliceRequest
        } else {
            Action::Playback
        };
        for (cam, res) in self.resources(&r).await? {
            if let Decision::Deny(why) = access::decide(who, action, &res, now_dt(now)) {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!("{} may not refuse request {id} for {cam}: {why}", who.id),
                ));
            }
        }
        let refusal = Refusal {
            by: who.id.clone(),
            reason: reason.trim().into(),
            at: now,
        };
        let details = json!({ "refusal": &refusal });
        self.step(r, &who.id, Step::Reject, details, now, |r| {
            r.refusal = Some(refusal)
        })
        .await
    }

    /// H3, H5: the unit's operator (a watch operator of the cameras, who sees both officers and
    /// the documents) releases the request: a view grant until `until`, and for copy/retrieve
    /// one evidence bundle per camera range, built by the evidence export. A `request_released`
    /// event is stored for the police side.
    pub async fn release(&self, id: i64, o: &ReleaseOrder, now: Time90k) -> Result<Request> {
        let r = self.get(id).await?;
        let by = o.principal.id.clone();
        rules::check_release(&r, &by, &self.documents(id).await?, now, o.until)?;
        for (cam, res) in self.resources(&r).await? {
            if !rules::may_release(&o.principal, &res, now) {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "H3: {by} may not release footage of {cam}: the unit's watch operator for that camera releases"
                    ),
                ));
            }
        }
        if r.fields.kind.is_copy() && o.bundle_dir.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a copy/retrieve request is released as evidence bundles: give the output directory (--bundle DIR)",
            ));
        }
        // Claim the request before anything is written: of two releases at once, only one gets
        // past this guarded update; the other writes no bundle and no ledger entry.
        let body = Self::encode(&r)?;
        self.store
            .update_request(id, State::Approved.as_str(), RELEASING, &body, now)
            .await?;
        match self.release_claimed(r, &by, o, now).await {
            Ok(r) => Ok(r),
            Err(e) => {
                if let Err(e2) = self
                    .store
                    .update_request(id, RELEASING, State::Approved.as_str(), &body, now)
                    .await
                {
                    tracing::error!(request = id, error = %e2, "a failed release left the request claimed");
                }
                Err(e)
            }
        }
    }

    /// The rest of [`Self::release`], once the row is claimed (state `releasing`).
    async fn release_claimed(
        &self,
        r: Request,
        by: &str,
        o: &ReleaseOrder,
        now: Time90k,
    ) -> Result<Request> {
        let id = r.id;
        let mut bundles = Vec::new();
        if let (true, Some(dir)) = (r.fields.kind.is_copy(), &o.bundle_dir) {
            if dir.exists() {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("{} exists; choose a new bundle directory", dir.display()),
                ));
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            for (i, c) in r.fields.scope.iter().enumerate() {
                bundles.push(
                    self.bundle(&r, by, c, &dir.join(format!("{}-{}", i + 1, c.camera)))
                        .await?,
                );
            }
        }
        let release = Release {
            by: by.to_owned(),
            at: now,
            until: o.until,
            bundles,
        };
        let details = json!({ "release": &release, "recipient": r.fields.organ,
            "officers": r.fields.officers, "approver": r.approval.as_ref().map(|a| &a.by) });
        let r = self
            .step_from(RELEASING, r, by, Step::Release, details, now, |r| {
                r.release = Some(release)
            })
            .await?;
        let body = json!({
            "request": r.id, "organ": r.fields.organ, "kind": r.fields.kind.as_str(),
            "for": r.created_by, "until": o.until.to_rfc3339(),
            "cameras": r.fields.scope.iter().map(|c| &c.camera).collect::<Vec<_>>(),
        });
        let camera = r.fields.scope.first().map(|c| c.camera.as_str());
        if let Err(e) = self
            .store
            .add_event("request_released", camera, now, &body.to_string(), now)
            .await
        {
            // The release stands (it is in the ledger and the row); the notice is best effort.
            tracing::warn!(request = id, error = %e, "the release event was not stored");
        }
        Ok(r)
    }

    async fn bundle(&self, r: &Request, by: &str, c: &CameraRange, out: &Path) -> Result<Bundle> {
        let cam = self.store.camera_by_name(&c.camera).await?;
        let stream = self
            .store
            .stream_of(&cam, custos_core::camera::StreamKind::Main)
            .await?;
        let req = custos_evidence::Request {
            camera: c.camera.clone(),
            from: c.from,
            to: c.to,
            recipient: format!("{} ({})", r.fields.organ, r.fields.organ_type.zh()),
            legal_basis: format!("{} — footage request {}", r.fields.legal_basis, r.id),
            case: r.fields.case.clone(),
            operator: by.into(),
            out: out.to_path_buf(),
        };
        let s = custos_evidence::export_bundle(&self.store, &self.data, &stream, &req).await?;
        let manifest = std::fs::read(out.join("manifest.json"))
            .map_err(|e| Error::io("reading the bundle manifest", e))?;
        Ok(Bundle {
            camera: c.camera.clone(),
            path: out.display().to_string(),
            key_fingerprint: s.manifest.key.fingerprint.clone(),
            manifest_sha256: hex::encode(Sha256::digest(&manifest)),
        })
    }

    /// Closes a request (the requesting account, or anyone who took a step on it).
    pub async fn close(&self, id: i64, by: &str, now: Time90k) -> Result<Request> {
        let r = self.get(id).await?;
        let involved = r.created_by == by
            || r.approval.as_ref().is_some_and(|a| a.by == by)
            || r.release.as_ref().is_some_and(|a| a.by == by);
        if !involved {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{by} took no part in request {id}; its author, approver or releaser closes it"
                ),
            ));
        }
        self.step(r, by, Step::Close, json!({}), now, |r| {
            r.closed_at = Some(now);
            r.closed_by = Some(by.to_owned());
        })
        .await
    }

    /// The released request that lets `who` do `need` on `camera` over `[from, to)` at `now`;
    /// with no range, on some range of the camera (the caller limits the bytes).
    pub async fn cover(
        &self,
        who: &str,
        need: Needed,
        camera: &str,
        range: Option<(Time90k, Time90k)>,
        now: Time90k,
    ) -> Result<Option<Request>> {
        Ok(self
            .list(Some(State::Released))
            .await?
            .into_iter()
            .find(|r| match range {
                Some((from, to)) => rules::covers(r, who, need, camera, from, to, now),
                None => rules::grant_open(r, who, need, camera, now),
            }))
    }
}
