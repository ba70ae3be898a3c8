//! What the upper platform is offered in a cascade: our cameras under 20-digit channel ids,
//! only those that are placed and pass the C1 lifecycle gate ([`may_serve_camera`]), live
//! from their live hubs or recorded through the footage read API; every access registered in
//! the ledger first (E2).

use std::sync::Mutex;

use custos_core::camera::StreamKind;
use custos_gb28181::manscdp::CatalogItem;
use custos_gb28181::{FrameSource, MediaProvider};
use custos_ingest::LiveHub;
use custos_store::Store;
use tokio::sync::mpsc;

/// Our cameras as the upper platform sees them.
pub(super) struct Offered {
    /// (20-digit channel id, display name, live frames)
    pub(super) channels: Mutex<Vec<(String, String, LiveHub)>>,
    pub(super) domain: String,
    /// The upper platform, as the actor of its views in the ledger.
    pub(super) upper: String,
    pub(super) journal: custos_footage::Journal,
    pub(super) store: Store,
    pub(super) data: custos_footage::DataDir,
}

impl Offered {
    /// The camera offered as `channel`, if any.
    fn camera_of(&self, channel: &str) -> Option<String> {
        self.channels
            .lock()
            .unwrap()
            .iter()
            .find(|(id, _, _)| id == channel)
            .map(|(_, name, _)| name.clone())
    }
}

impl MediaProvider for Offered {
    fn catalog(&self) -> Vec<CatalogItem> {
        self.channels
            .lock()
            .unwrap()
            .iter()
            .map(|(id, name, _)| CatalogItem {
                device_id: id.clone(),
                name: name.clone(),
                manufacturer: "custos".into(),
                model: "recorded camera".into(),
                civil_code: self.domain[..6].to_owned(),
                address: String::new(),
                parent_id: String::new(),
                status: "ON".into(),
                longitude: None,
                latitude: None,
            })
            .collect()
    }

    fn recorded(&self, channel: &str, start: u64, end: u64) -> Option<FrameSource> {
        let name = self.camera_of(channel)?;
        let (from, to) = (
            custos_core::Time90k(start as i64 * 90_000),
            custos_core::Time90k(end as i64 * 90_000),
        );
        // Playback by the upper platform is a registered access (E2), like any other.
        let reg = self.journal.register_access(
            &format!("gb28181 upper platform {}", self.upper),
            custos_ledger::Action::Playback,
            &format!("camera/{name}"),
            Some("GB/T 28181 cascade playback"),
            serde_json::json!({"channel": channel, "from": from.to_string(), "to": to.to_string()}),
        );
        let access = match reg {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, %channel, "upper platform playback refused");
                return None;
            }
        };
        let (tx, rx) = mpsc::channel(64);
        let (store, data) = (self.store.clone(), self.data.clone());
        tokio::spawn(async move {
            // Through the footage read API, with the registration as its proof (E2).
            let r = async {
                let cam = store.camera_by_name(&name).await?;
                let stream = store.stream_of(&cam, StreamKind::Main).await?;
                custos_footage::frames::send_frames(&access, &store, &data, &stream, from, to, tx)
                    .await
            }
            .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, camera = %name, "cascade playback stopped");
            }
        });
        Some(FrameSource::Recorded(rx))
    }

    fn may_serve<'a>(
        &'a self,
        channel: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let Some(name) = self.camera_of(channel) else {
                return Err(format!("channel {channel} is not offered"));
            };
            may_serve_camera(&self.store, &name)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn live(&self, channel: &str) -> Option<FrameSource> {
        let (name, hub) = self
            .channels
            .lock()
            .unwrap()
            .iter()
            .find(|(id, _, _)| id == channel)
            .map(|(_, name, hub)| (name.clone(), hub.clone()))?;
        // A live view by the upper platform is an access like any other (E2): registered in
        // the ledger before the first frame leaves, refused if it cannot be registered.
        match self.journal.register_access(
            &format!("gb28181 upper platform {}", self.upper),
            custos_ledger::Action::View,
            &format!("camera/{name}"),
            Some("GB/T 28181 cascade live view"),
            serde_json::json!({"channel": channel}),
        ) {
            Ok(_) => Some(FrameSource::Live(hub.subscribe())),
            Err(e) => {
                tracing::error!(error = %e, %channel, "upper platform view refused");
                None
            }
        }
    }
}

/// Whether `camera` may be offered to and served to the upper platform: it is placed (has
/// an area in the database: an unplaced camera is visible to nobody, the upper platform
/// included), and C1: every system it belongs to is accepted. Fails closed when either cannot
/// be read.
pub async fn may_serve_camera(store: &Store, camera: &str) -> custos_core::Result<()> {
    if !store.camera_areas().await?.contains_key(camera) {
        custos_core::bail!(
            PermissionDenied,
            "camera {camera} is not placed in an area; place it before sharing it upward"
        );
    }
    // C1: footage of a system in use but not accepted goes to nobody, the upper platform
    // included.
    custos_registry::lifecycle::gate_camera_live(store, camera).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E1 (fail closed placement), I1: the upper platform is offered and served only placed
    /// cameras: the real gate refuses an unplaced one naming what to do, and admits it once
    /// it has an area. (C1 through the same gate: `custos/tests/attacks_gb.rs`.)
    #[tokio::test]
    async fn e1_unplaced_camera_is_not_served_upward() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        let e = may_serve_camera(&store, "34020000001320000001")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), custos_core::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("not placed"), "{e}");
        store
            .set_camera_area(
                "34020000001320000001",
                ("local", "main", "gate"),
                custos_core::Time90k(90_000),
                "test",
            )
            .await
            .unwrap();
        may_serve_camera(&store, "34020000001320000001")
            .await
            .unwrap();
    }
}
