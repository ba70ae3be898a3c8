//! What every request handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use custos_core::Time90k;
use custos_core::access::{
    self, Action, Classification, Decision, Permit, PermitAction, Placement, Resource,
};
use custos_core::camera::StreamKind;
use custos_core::{Error, ErrorKind, Result};
use custos_footage::{DataDir, Journal, Registered};
use custos_live::{Health, LiveHub};
use custos_requests::Needed;
use custos_store::Store;

use crate::auth::Caller;
use crate::error::ApiError;

/// A stream this process records: its live frames and its health.
#[derive(Clone)]
pub struct LiveStream {
    pub hub: LiveHub,
    pub health: Health,
}

/// Where each camera sits in the organisation (E1 scopes), as the database keeps it (the
/// `camera_area` table). A camera without an entry is visible to nobody: an administrator must
/// place it first (GB channels, cameras that no configuration placed).
#[derive(Clone, Default)]
pub struct Placements(pub HashMap<String, Placement>);

/// Organisation / system / area the configuration file gives a camera it does not place.
pub const DEFAULT_AREA: (&str, &str, &str) = ("local", "main", "default");

impl Placements {
    pub fn of(&self, camera: &str) -> Option<Placement> {
        self.0.get(camera).cloned()
    }
}

/// Writes the areas the configuration gives its cameras into the database (a ledger entry
/// first for each change: fail closed) and returns every camera's area from the database.
/// A camera the configuration does not list keeps the area it was last given.
pub async fn load_placements(
    store: &Store,
    journal: &Journal,
    configured: &Placements,
) -> Result<Placements> {
    let stored = store.camera_areas().await?;
    for (camera, p) in &configured.0 {
        let want = (p.org.clone(), p.system.clone(), p.area.clone());
        if stored.get(camera) == Some(&want) {
            continue;
        }
        record_placement(journal, "config", camera, stored.get(camera), &want).await?;
        store
            .set_camera_area(
                camera,
                (&want.0, &want.1, &want.2),
                custos_core::Time90k::from_system_time(std::time::SystemTime::now()),
                "config",
            )
            .await?;
    }
    Ok(Placements(
        store
            .camera_areas()
            .await?
            .into_iter()
            .map(|(c, (o, s, a))| {
                let p = Placement::new(o, s, a, c.as_str());
                (c, p)
            })
            .collect(),
    ))
}

/// The ledger entry of a placement (E4: configuration changes are recorded before they
/// happen).
pub async fn record_placement(
    journal: &Journal,
    by: &str,
    camera: &str,
    from: Option<&(String, String, String)>,
    to: &(String, String, String),
) -> Result<()> {
    let area = |t: &(String, String, String)| format!("{}/{}/{}", t.0, t.1, t.2);
    let e = custos_ledger::NewEntry::new(
        by,
        custos_ledger::Action::ConfigChange,
        format!("camera/{camera}/area"),
    )
    .details(serde_json::json!({
        "change": "camera_area",
        "camera": camera,
        "from": from.map(area),
        "to": area(to),
    }));
    let j = journal.clone();
    tokio::task::spawn_blocking(move || j.record(e))
        .await
        .map_err(|e| Error::new(ErrorKind::Unavailable, format!("ledger: {e}")))?
        .map(|_| ())
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("camera {camera} not placed: the ledger cannot record it ({e})"),
            )
        })
}

pub struct Inner {
    pub data: DataDir,
    pub store: Store,
    pub journal: Journal,
    pub accounts: custos_auth::Accounts,
    /// Streams recorded by this process (grows when GB/T 28181 channels attach).
    pub live: std::sync::RwLock<HashMap<(String, StreamKind), LiveStream>>,
    pub placements: std::sync::RwLock<Placements>,
    /// The web console, if this server serves one.
    pub web: Option<crate::Console>,
    pub started: Instant,
    pub metrics: crate::metrics::HttpMetrics,
    pub views: crate::playback::ViewCache,
    pub thumbs: crate::playback::ThumbCache,
    pub hls: crate::playback::HlsGrants,
    pub exports: Mutex<HashMap<String, crate::playback::ExportJob>>,
    /// Public complaint submissions per address (J3 rate limit).
    pub complaints: crate::registry::ComplaintLimiter,
    /// The running GB/T 28181 platform, once the binary has started it.
    pub gb: std::sync::OnceLock<Arc<dyn crate::gb::GbControl>>,
    /// Bumped when a right may have ended (logout, revocation, disable, end of shift,
    /// password change): open live views re-check theirs at once.
    pub access_changed: tokio::sync::watch::Sender<u64>,
    /// "Now" for every handler (a test moves a [`crate::clock::ManualClock`]).
    pub clock: Arc<dyn crate::clock::Clock>,
    /// Footage requests (H1–H5): the released ones open footage to outside roles.
    pub requests: custos_requests::Requests,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Replaces the clock; only before the state is shared (at construction).
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> Self {
        Arc::get_mut(&mut self.0)
            .expect("with_clock is called before the state is shared")
            .clock = clock;
        self
    }

    /// Tells open live views to re-check their right now.
    pub fn access_changed(&self) {
        self.access_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The live stream of `camera`/`kind`, if this process records it.
    pub fn live_stream(&self, camera: &str, kind: StreamKind) -> Option<LiveStream> {
        self.live
            .read()
            .expect("live map")
            .get(&(camera.to_owned(), kind))
            .cloned()
    }

    /// Makes a newly recorded stream available for live view.
    pub fn add_live(&self, camera: &str, kind: StreamKind, s: LiveStream) {
        self.live
            .write()
            .expect("live map")
            .entry((camera.to_owned(), kind))
            .or_insert(s);
    }

    /// Decides `action` on `camera` for `caller` with the one policy function (E1, D5, E10).
    /// A denial is written to the ledger (best effort: the request is refused either way).
    pub async fn authorize_camera(
        &self,
        caller: &Caller,
        action: Action,
        camera: &str,
    ) -> std::result::Result<(), ApiError> {
        let Some(placement) = self.placement_of(camera) else {
            return self.deny_unplaced(caller, action, camera).await;
        };
        let r = Resource::camera(&placement, Classification::Public);
        self.authorize(caller, action, &r, &format!("camera/{camera}"))
            .await
    }

    /// The area of `camera`, if it has been placed.
    pub fn placement_of(&self, camera: &str) -> Option<Placement> {
        self.placements.read().expect("placements").of(camera)
    }

    /// Whether `caller` may do `action` on `camera` (no ledger entry; for lists). An unplaced
    /// camera: nobody.
    /// Only administrators of the organisation (`manage_config`), who place it, may see an
    /// unplaced one.
    pub fn may_camera(&self, caller: &Caller, action: Action, camera: &str) -> bool {
        let now = self.clock.now();
        match self.placement_of(camera) {
            Some(p) => access::decide(
                &caller.principal,
                action,
                &Resource::camera(&p, Classification::Public),
                now,
            )
            .is_allowed(),
            None => {
                action == Action::ManageConfig
                    && access::decide(
                        &caller.principal,
                        Action::ManageConfig,
                        &Resource::at(
                            access::Scope::organisation(DEFAULT_AREA.0),
                            Classification::Public,
                        ),
                        now,
                    )
                    .is_allowed()
            }
        }
    }

    /// C1: the camera's systems are accepted (or it is in none), else FailedPrecondition
    /// naming the article. Live view, playback and export ask this before serving.
    pub async fn gate_camera_live(&self, camera: &str) -> std::result::Result<(), ApiError> {
        custos_registry::lifecycle::gate_camera_live(&self.store, camera)
            .await
            .map_err(ApiError)
    }

    /// A camera without an area: refused to everyone (recorded as a denial).
    async fn deny_unplaced(
        &self,
        caller: &Caller,
        action: Action,
        camera: &str,
    ) -> std::result::Result<(), ApiError> {
        let msg = format!(
            "camera {camera} has no area yet, so nobody may {} on it; an administrator must place it first (PUT /api/cameras/{camera}/area)",
            action.as_str()
        );
        let entry = custos_ledger::NewEntry::new(
            &caller.name,
            custos_ledger::Action::AccessDenied,
            format!("camera/{camera}"),
        )
        .details(serde_json::json!({
            "action": action.as_str(),
            "rule": "unplaced",
            "reason": msg,
        }));
        let j = self.journal.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || j.record(entry)).await {
            tracing::error!(error = %e, "could not record a denial");
        }
        Err(ApiError(Error::new(ErrorKind::PermissionDenied, msg)))
    }

    /// Decides `action` on the organisation-wide resource (accounts, audit log).
    pub async fn authorize_org(
        &self,
        caller: &Caller,
        action: Action,
    ) -> std::result::Result<(), ApiError> {
        let r = Resource::at(
            access::Scope::organisation(DEFAULT_AREA.0),
            Classification::Public,
        );
        self.authorize(caller, action, &r, "organisation").await
    }

    pub async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        r: &Resource,
        object: &str,
    ) -> std::result::Result<(), ApiError> {
        match access::decide(&caller.principal, action, r, self.clock.now()) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(self.deny(caller, action, object, &reason).await),
        }
    }

    /// Records a denial in the ledger (best effort: the request is refused either way) and
    /// returns the 403.
    async fn deny(
        &self,
        caller: &Caller,
        action: Action,
        object: &str,
        reason: &access::Reason,
    ) -> ApiError {
        self.deny_rule(caller, action, object, reason.rule(), &reason.to_string())
            .await
    }

    async fn deny_rule(
        &self,
        caller: &Caller,
        action: Action,
        object: &str,
        rule: &str,
        reason: &str,
    ) -> ApiError {
        let msg = format!(
            "{} may not {} on {object}: {reason}",
            caller.name,
            action.as_str()
        );
        let entry =
            custos_ledger::NewEntry::new(&caller.name, custos_ledger::Action::AccessDenied, object)
                .details(serde_json::json!({
                    "action": action.as_str(),
                    "rule": rule,
                    "reason": reason,
                }));
        let j = self.journal.clone();
        match tokio::task::spawn_blocking(move || j.record(entry)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "could not record a denial"),
            Err(e) => tracing::error!(error = %e, "could not record a denial"),
        }
        ApiError(Error::new(ErrorKind::PermissionDenied, msg))
    }

    /// Footage reads (E1, H1–H5): the policy's [`Permit`] for `A` on `camera`, and — when the
    /// granting role needs the agency head's approval (police and other outside roles, H2) —
    /// a released footage request of this account that covers the camera, `[from, to)` and
    /// the kind of read, still within its time. Anything else is a 403 and an `AccessDenied`
    /// ledger entry. Returns the permit and the covering request's id, if one was needed.
    pub async fn authorize_footage<A: PermitAction>(
        &self,
        caller: &Caller,
        camera: &str,
        from: Time90k,
        to: Time90k,
    ) -> std::result::Result<(Permit<A>, Option<i64>), ApiError> {
        self.authorize_footage_in::<A>(caller, camera, Some((from, to)))
            .await
    }

    /// [`Self::authorize_footage`]; `range: None` asks for some range of the camera (for reads
    /// whose bytes a registered playlist already limits).
    pub async fn authorize_footage_in<A: PermitAction>(
        &self,
        caller: &Caller,
        camera: &str,
        range: Option<(Time90k, Time90k)>,
    ) -> std::result::Result<(Permit<A>, Option<i64>), ApiError> {
        let action = A::ACTION;
        let object = format!("camera/{camera}");
        let Some(placement) = self.placement_of(camera) else {
            return Err(self
                .deny_unplaced(caller, action, camera)
                .await
                .unwrap_err());
        };
        let r = Resource::camera(&placement, Classification::Public);
        let now = self.clock.now();
        let permit = match access::permit::<A>(&caller.principal, &r, now) {
            Ok(p) => p,
            Err(reason) => return Err(self.deny(caller, action, &object, &reason).await),
        };
        let Some(approval) = permit.needs_approval() else {
            return Ok((permit, None));
        };
        // C1 before H2: footage of a system not accepted is served to nobody, whatever the
        // request says.
        self.gate_camera_live(camera).await?;
        let need = match action {
            Action::ViewLive => Needed::Live,
            Action::Export | Action::CopyTransmit => Needed::Copy,
            _ => Needed::View,
        };
        let covering = self
            .requests
            .cover(
                &caller.name,
                need,
                camera,
                range,
                Time90k::from_datetime(now),
            )
            .await?;
        match (approval, covering) {
            (access::Approval::AgencyHead, Some(req)) => Ok((permit, Some(req.id))),
            _ => {
                let span = range
                    .map(|(f, t)| format!(" {} .. {}", f.to_rfc3339(), t.to_rfc3339()))
                    .unwrap_or_default();
                let what = match need {
                    Needed::Live => "a live connection".to_owned(),
                    Needed::Copy => format!("a copy of{span}"),
                    Needed::View => format!("viewing{span}"),
                };
                let reason = format!(
                    "H2: no released footage request of {} covers {what} of camera {camera} now; draft one (POST /api/requests or `custos request create`), have it approved by the agency head and released by the unit",
                    caller.name
                );
                Err(self.deny_rule(caller, action, &object, "H2", &reason).await)
            }
        }
    }

    /// Registers a footage read before it happens (E2, fail closed).
    pub async fn register(
        &self,
        caller: &Caller,
        action: custos_ledger::Action,
        object: String,
        purpose: Option<String>,
        details: serde_json::Value,
    ) -> Result<Registered> {
        let j = self.journal.clone();
        let who = caller.name.clone();
        tokio::task::spawn_blocking(move || {
            j.register_access(&who, action, &object, purpose.as_deref(), details)
        })
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("access refused: registering it failed ({e})"),
            )
        })?
        .map_err(|e| Error::new(ErrorKind::Unavailable, e.to_string()))
    }
}
