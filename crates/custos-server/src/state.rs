//! What every request handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use custos_core::access::{self, Action, Classification, Decision, Placement, Resource};
use custos_core::camera::StreamKind;
use custos_core::{Error, ErrorKind, Result};
use custos_footage::{DataDir, Journal, Registered};
use custos_live::{Health, LiveHub};
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
        let now = chrono::Utc::now();
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
        match access::decide(&caller.principal, action, r, chrono::Utc::now()) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => {
                let msg = format!(
                    "{} may not {} on {object}: {reason}",
                    caller.name,
                    action.as_str()
                );
                let entry = custos_ledger::NewEntry::new(
                    &caller.name,
                    custos_ledger::Action::AccessDenied,
                    object,
                )
                .details(serde_json::json!({
                    "action": action.as_str(),
                    "rule": reason.rule(),
                    "reason": reason.to_string(),
                }));
                let j = self.journal.clone();
                match tokio::task::spawn_blocking(move || j.record(entry)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "could not record a denial"),
                    Err(e) => tracing::error!(error = %e, "could not record a denial"),
                }
                Err(ApiError(Error::new(ErrorKind::PermissionDenied, msg)))
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
