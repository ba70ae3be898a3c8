//! Retention (F1/F2): the legal minimum is a floor, never a quota.
//!
//! The only way to delete a segment is [`delete_expired`], which takes an [`ExpiredSegment`];
//! that type can be made only by [`ExpiredSegment::check`], which proves the segment is sealed,
//! past its camera's minimum retention and not under any active legal hold. Footage is kept as
//! long as space allows: the sweeper deletes expired segments (oldest first) only while free
//! space is below the target. With the disk nearly full and nothing expired, it raises an alarm
//! and deletes nothing — recording of new footage then fails and is recorded as gaps.

use std::collections::HashMap;
use std::path::Path;

use custos_core::retention::RetentionClass;
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_store::{Camera, Hold, Segment, SegmentState, Store, StreamId};

use crate::journal::Journal;
use crate::layout::DataDir;
use crate::protect;

/// Space on the filesystem that holds the footage.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Space {
    pub total_bytes: u64,
    pub free_bytes: u64,
}

impl Space {
    pub fn free_fraction(&self) -> f64 {
        if self.total_bytes == 0 {
            0.0
        } else {
            self.free_bytes as f64 / self.total_bytes as f64
        }
    }
}

/// Where free-space figures come from; injectable so tests can simulate a full disk.
pub trait DiskSpace: Send + Sync {
    fn space(&self, dir: &Path) -> Result<Space>;
}

/// The real filesystem, via statvfs(3).
pub struct Statvfs;

impl DiskSpace for Statvfs {
    fn space(&self, dir: &Path) -> Result<Space> {
        let s = nix::sys::statvfs::statvfs(dir).map_err(|e| {
            Error::io(
                format!("reading free space of {}", dir.display()),
                std::io::Error::from(e),
            )
        })?;
        let frag = s.fragment_size() as u64;
        Ok(Space {
            total_bytes: s.blocks() as u64 * frag,
            free_bytes: s.blocks_available() as u64 * frag,
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub struct SweepPolicy {
    /// Delete expired footage while free space is below this fraction.
    pub free_target: f64,
    /// Raise the "disk nearly full" alarm below this fraction if nothing can be deleted.
    pub alarm_below: f64,
}

impl Default for SweepPolicy {
    fn default() -> Self {
        SweepPolicy {
            free_target: 0.10,
            alarm_below: 0.05,
        }
    }
}

/// Proof that a segment may be deleted: sealed, past its minimum, not held.
#[derive(Debug)]
pub struct ExpiredSegment {
    segment: Segment,
    deletable_after: Time90k,
}

/// Why a segment may not be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    NotSealed,
    InsideMinimum { until: Time90k },
    OnHold { case_number: String },
}

impl ExpiredSegment {
    /// The single gate of deletion.
    pub fn check(
        segment: Segment,
        retention: RetentionClass,
        holds: &[Hold],
        now: Time90k,
    ) -> Result<ExpiredSegment, Keep> {
        if segment.state != SegmentState::Sealed {
            return Err(Keep::NotSealed);
        }
        let Some(end) = segment.end else {
            return Err(Keep::NotSealed);
        };
        let after = retention.deletable_after(end);
        if now < after {
            return Err(Keep::InsideMinimum { until: after });
        }
        if let Some(h) = holds
            .iter()
            .find(|h| h.released_at.is_none() && h.start < end && h.end > segment.start)
        {
            return Err(Keep::OnHold {
                case_number: h.case_number.clone(),
            });
        }
        Ok(ExpiredSegment {
            segment,
            deletable_after: after,
        })
    }

    pub fn segment(&self) -> &Segment {
        &self.segment
    }
}

/// Deletes an expired segment's file and marks its row deleted. Returns bytes freed. The
/// deletion is recorded in the ledger first; if that fails, nothing is deleted.
///
/// Sealed segments are immutable where the filesystem allows ([`crate::protect`]); this is
/// the one place that clears the flag, holding the proof that the segment expired. The flag is
/// cleared before the ledger entry (if it cannot be, nothing is recorded or deleted) and set
/// again if the ledger entry then fails.
pub async fn delete_expired(
    store: &Store,
    data: &DataDir,
    journal: &Journal,
    e: ExpiredSegment,
    now: Time90k,
) -> Result<u64> {
    let reason = format!(
        "retention: past minimum (deletable after {})",
        e.deletable_after
    );
    let path = data.abs(&e.segment.path);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let was_immutable = protect::is_immutable(&path);
    if was_immutable {
        let p = protect::clear_immutable_of_expired(&path);
        if !p.applied() {
            return Err(Error::new(
                ErrorKind::Internal,
                format!(
                    "segment {} kept: clearing the immutable flag of {}: {p}",
                    e.segment.id,
                    path.display()
                ),
            ));
        }
    }
    let seq = match journal.segment_deleted(e.segment.id, e.segment.sha256.as_deref(), &reason) {
        Ok(seq) => seq,
        Err(err) => {
            if was_immutable {
                protect::make_immutable(&path);
            }
            return Err(err.context(format!("segment {} kept", e.segment.id)));
        }
    };
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(Error::io(format!("deleting {}", path.display()), err)),
    }
    store
        .mark_segment_deleted(e.segment.id, now, &reason, Some(seq as i64))
        .await?;
    tracing::info!(segment = e.segment.id, path = %e.segment.path, bytes, "expired segment deleted");
    Ok(bytes)
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SweepReport {
    pub deleted: Vec<i64>,
    pub bytes_freed: u64,
    pub kept_inside_minimum: u64,
    pub kept_on_hold: u64,
    pub free_fraction_before: f64,
    pub free_fraction_after: f64,
    /// Set when the disk is nearly full and nothing may be deleted.
    pub alarm: Option<String>,
}

pub const DISK_ALARM: &str = "disk_nearly_full";

/// One pass of the retention sweeper.
pub async fn sweep(
    store: &Store,
    data: &DataDir,
    journal: &Journal,
    disk: &dyn DiskSpace,
    policy: SweepPolicy,
    now: Time90k,
) -> Result<SweepReport> {
    let mut rep = SweepReport::default();
    let dir = data.footage_dir();
    let mut space = disk.space(&dir)?;
    rep.free_fraction_before = space.free_fraction();
    let cameras: HashMap<i64, Camera> = store
        .cameras()
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let streams: HashMap<StreamId, i64> = store
        .all_streams()
        .await?
        .into_iter()
        .map(|s| (s.id, s.camera_id))
        .collect();
    // The oldest candidates first; anything that ended less than the legal floor ago cannot
    // be expired whatever its class.
    let floor = RetentionClass::Standard30d.minimum();
    let mut seen = std::collections::HashSet::new();
    'outer: while space.free_fraction() < policy.free_target {
        let batch = store.sealed_segments_ended_before(now - floor, 500).await?;
        if batch.is_empty() {
            break;
        }
        let mut progressed = false;
        for seg in batch {
            if !seen.insert(seg.id) {
                continue;
            }
            if space.free_fraction() >= policy.free_target {
                break 'outer;
            }
            let Some(cam) = streams.get(&seg.stream_id).and_then(|c| cameras.get(c)) else {
                return Err(Error::new(
                    ErrorKind::DataLoss,
                    format!("segment {} belongs to no known camera", seg.id),
                ));
            };
            let holds = store
                .active_holds(cam.id, seg.start, seg.end.unwrap_or(seg.start))
                .await?;
            match ExpiredSegment::check(seg, cam.retention, &holds, now) {
                Ok(exp) => {
                    let id = exp.segment.id;
                    let freed = delete_expired(store, data, journal, exp, now).await?;
                    rep.deleted.push(id);
                    rep.bytes_freed += freed;
                    progressed = true;
                    space = disk.space(&dir)?;
                }
                Err(Keep::OnHold { .. }) => rep.kept_on_hold += 1,
                Err(_) => rep.kept_inside_minimum += 1,
            }
        }
        if !progressed {
            break;
        }
    }
    rep.free_fraction_after = space.free_fraction();
    if space.free_fraction() < policy.alarm_below {
        let msg = format!(
            "disk holding {} is nearly full ({:.1}% free) and no footage is past its legal minimum; \
             nothing was deleted — add storage or lower the number of cameras, or new footage will be lost",
            dir.display(),
            space.free_fraction() * 100.0
        );
        if store.raise_alarm(DISK_ALARM, None, &msg, now).await? {
            tracing::error!("{msg}");
        }
        rep.alarm = Some(msg);
    } else {
        store.clear_alarm(DISK_ALARM, None, now).await?;
    }
    Ok(rep)
}
