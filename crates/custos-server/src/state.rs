//! What every request handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use custos_core::access::{self, Action, Classification, Decision, Placement, Resource};
use custos_core::camera::StreamKind;
use custos_core::{Error, ErrorKind, Result};
use custos_footage::{DataDir, Journal, Registered};
use custos_ingest::{Health, LiveHub};
use custos_store::Store;

use crate::auth::Caller;
use crate::error::ApiError;

/// A stream this process records: its live frames and its health.
#[derive(Clone)]
pub struct LiveStream {
    pub hub: LiveHub,
    pub health: Health,
}

/// Where each camera sits in the organisation (E1 scopes). Cameras without an entry are at
/// `DEFAULT_AREA`.
#[derive(Clone, Default)]
pub struct Placements(pub HashMap<String, Placement>);

/// Organisation / system / area of cameras that were not placed in the configuration.
pub const DEFAULT_AREA: (&str, &str, &str) = ("local", "main", "default");

impl Placements {
    pub fn of(&self, camera: &str) -> Placement {
        self.0.get(camera).cloned().unwrap_or_else(|| {
            Placement::new(DEFAULT_AREA.0, DEFAULT_AREA.1, DEFAULT_AREA.2, camera)
        })
    }
}

pub struct Inner {
    pub data: DataDir,
    pub store: Store,
    pub journal: Journal,
    pub accounts: custos_auth::Accounts,
    /// Streams recorded by this process (grows when GB/T 28181 channels attach).
    pub live: std::sync::RwLock<HashMap<(String, StreamKind), LiveStream>>,
    pub placements: Placements,
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
        let placement = self.placements.of(camera);
        let r = Resource::camera(&placement, Classification::Public);
        self.authorize(caller, action, &r, &format!("camera/{camera}"))
            .await
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
