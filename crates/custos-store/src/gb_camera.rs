//! The camera row of a GB/T 28181 channel (camera name = channel id, main stream
//! `gb28181://CHANNEL`). A channel never takes over a camera that is not its own: an existing
//! camera of the same name whose main stream is something else (an RTSP camera, say) is
//! refused, and an existing camera's retention class is never changed (E3, F1).

use custos_core::camera::{CameraName, StreamKind};
use custos_core::retention::RetentionClass;
use custos_core::{Error, ErrorKind, Result, Time90k};
use sqlx::Row;

use crate::{CameraId, Store, StreamId, db_err};

/// The main-stream URL of a GB/T 28181 channel's camera.
pub fn gb_stream_url(channel: &str) -> String {
    format!("gb28181://{channel}")
}

impl Store {
    /// The camera and main stream recording GB channel `name`: created with `retention` if
    /// no camera has that name; reused as is (retention untouched) if it is already this
    /// channel's camera; refused (`PermissionDenied`) if a camera of that name records
    /// anything else.
    pub async fn gb_channel_camera(
        &self,
        name: &CameraName,
        retention: RetentionClass,
        now: Time90k,
    ) -> Result<(CameraId, StreamId)> {
        let url = gb_stream_url(name.as_str());
        let created = sqlx::query(
            "INSERT INTO camera (name, retention_days, created_90k) VALUES (?, ?, ?)
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name.as_str())
        .bind(retention.days() as i64)
        .bind(now.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("saving a GB channel's camera", e))?;
        if let Some(r) = created {
            let cam: CameraId = r.get(0);
            let stream = self.upsert_stream(cam, StreamKind::Main, &url).await?;
            return Ok((cam, stream));
        }
        let row = sqlx::query(
            "SELECT c.id, s.id, s.url FROM camera c
             LEFT JOIN stream s ON s.camera_id = c.id AND s.kind = ?
             WHERE c.name = ?",
        )
        .bind(StreamKind::Main.as_str())
        .bind(name.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("reading a GB channel's camera", e))?;
        let (cam, stream, existing): (CameraId, Option<StreamId>, Option<String>) =
            (row.get(0), row.get(1), row.get(2));
        match (stream, existing) {
            (Some(s), Some(u)) if u == url => Ok((cam, s)),
            (_, u) => Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "GB/T 28181 channel {name} refused: camera {name} already exists and records {} \
                     — a GB channel never takes over another camera; rename that camera or give \
                     the device's channel another id",
                    u.as_deref().unwrap_or("no main stream")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E3/F1: a GB channel named like an existing RTSP camera (90-day class) is refused and
    /// leaves that camera's retention and main stream as they were; the channel's own camera
    /// is reused without its retention being reset.
    #[tokio::test]
    async fn e3_f1_gb_channel_cannot_take_over_camera_or_change_retention() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_sqlite(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        let victim = CameraName::new("34020000001310000001".to_owned()).unwrap();
        let cam = s
            .upsert_camera(&victim, RetentionClass::KeyTarget90d, Time90k(1))
            .await
            .unwrap();
        s.upsert_stream(cam, StreamKind::Main, "rtsp://10.0.0.5/main")
            .await
            .unwrap();
        let err = s
            .gb_channel_camera(&victim, RetentionClass::Standard30d, Time90k(2))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        assert!(err.to_string().contains("already exists"), "{err}");
        let c = s.camera_by_name(victim.as_str()).await.unwrap();
        assert_eq!(c.retention.days(), 90);
        let url: String = sqlx::query_scalar("SELECT url FROM stream WHERE camera_id = ?")
            .bind(cam)
            .fetch_one(&s.pool)
            .await
            .unwrap();
        assert_eq!(url, "rtsp://10.0.0.5/main");

        // The channel's own camera: created once, then reused; retention never reset.
        let own = CameraName::new("34020000001310000002".to_owned()).unwrap();
        let (id1, st1) = s
            .gb_channel_camera(&own, RetentionClass::Standard30d, Time90k(3))
            .await
            .unwrap();
        sqlx::query("UPDATE camera SET retention_days = 90 WHERE id = ?")
            .bind(id1)
            .execute(&s.pool)
            .await
            .unwrap();
        let (id2, st2) = s
            .gb_channel_camera(&own, RetentionClass::Standard30d, Time90k(4))
            .await
            .unwrap();
        assert_eq!((id1, st1), (id2, st2));
        assert_eq!(
            s.camera_by_name(own.as_str())
                .await
                .unwrap()
                .retention
                .days(),
            90
        );
    }
}
