//! Capacity prediction (F2): from each stream's measured bitrate, how many days the footage
//! disk can hold at the current rate, against each camera's legal minimum; warn early.

use std::collections::HashMap;

use custos_core::{Duration90k, Result, Time90k};
use custos_store::Store;

use crate::layout::DataDir;
use crate::retention::DiskSpace;

/// Warn when the disk holds less than this multiple of a camera's minimum.
pub const WARN_MARGIN: f64 = 1.25;

#[derive(Debug, Clone, serde::Serialize)]
pub struct CameraCapacity {
    pub camera: String,
    pub retention_days: u32,
    /// Recent bitrate of all its streams together, bits/s.
    pub bitrate_bps: f64,
    pub stored_bytes: i64,
    /// Bytes its minimum needs at the current bitrate.
    pub needed_bytes: f64,
    /// Days the disk holds at the current total rate (shared disk: same for all cameras).
    pub days_possible: f64,
    /// ok | warning | insufficient
    pub status: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CapacityReport {
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub footage_bytes: i64,
    pub bytes_per_day: f64,
    pub days_possible: f64,
    pub needed_bytes: f64,
    pub cameras: Vec<CameraCapacity>,
    pub warnings: Vec<String>,
}

pub async fn predict(
    store: &Store,
    data: &DataDir,
    disk: &dyn DiskSpace,
    now: Time90k,
) -> Result<CapacityReport> {
    let space = disk.space(&data.footage_dir())?;
    let usage = store.usage(Duration90k::from_secs(3600), now).await?;
    let streams = store.all_streams().await?;
    let stream_cam: HashMap<i64, i64> = streams.iter().map(|s| (s.id, s.camera_id)).collect();
    let mut per_cam: HashMap<i64, (f64, i64)> = HashMap::new();
    for u in &usage {
        let Some(cam) = stream_cam.get(&u.stream_id) else {
            continue;
        };
        let rate = if u.recent_seconds > 0.0 {
            u.recent_bytes as f64 * 8.0 / u.recent_seconds
        } else if u.seconds > 0.0 {
            u.bytes as f64 * 8.0 / u.seconds
        } else {
            0.0
        };
        let e = per_cam.entry(*cam).or_default();
        e.0 += rate;
        e.1 += u.bytes;
    }
    let footage_bytes: i64 = per_cam.values().map(|v| v.1).sum();
    let bytes_per_day: f64 = per_cam.values().map(|v| v.0 / 8.0 * 86_400.0).sum();
    // Usable = what footage already uses (it will be recycled once expired) + free, less 5 %
    // headroom the sweeper keeps.
    let usable =
        (footage_bytes as f64 + space.free_bytes as f64 - 0.05 * space.total_bytes as f64).max(0.0);
    let days_possible = if bytes_per_day > 0.0 {
        usable / bytes_per_day
    } else {
        f64::INFINITY
    };
    let mut cams = Vec::new();
    let mut warnings = Vec::new();
    let mut needed_total = 0.0;
    for c in store.cameras().await? {
        let (rate, stored) = per_cam.get(&c.id).copied().unwrap_or((0.0, 0));
        let days = c.retention.days();
        let needed = rate / 8.0 * 86_400.0 * days as f64;
        needed_total += needed;
        let status = if days_possible < days as f64 {
            warnings.push(format!(
                "camera {}: the disk holds only {:.1} days at the current rate, below its legal minimum of {days} days; add storage",
                c.name, days_possible
            ));
            "insufficient"
        } else if days_possible < days as f64 * WARN_MARGIN {
            warnings.push(format!(
                "camera {}: the disk holds {:.1} days, close to its minimum of {days} days",
                c.name, days_possible
            ));
            "warning"
        } else {
            "ok"
        };
        cams.push(CameraCapacity {
            camera: c.name.to_string(),
            retention_days: days,
            bitrate_bps: rate,
            stored_bytes: stored,
            needed_bytes: needed,
            days_possible,
            status: status.to_owned(),
        });
    }
    Ok(CapacityReport {
        total_bytes: space.total_bytes,
        free_bytes: space.free_bytes,
        footage_bytes,
        bytes_per_day,
        days_possible,
        needed_bytes: needed_total,
        cameras: cams,
        warnings,
    })
}
