//! Stream health for people (D1): state, fps, bitrate, last frame, reconnects, gaps and
//! recording completeness over the last 24 hours, from the status rows the recorder writes.

use custos_core::{Duration90k, Result, Time90k};
use custos_store::Store;

/// Status rows older than this mean no recorder is running.
pub const STALE: Duration90k = Duration90k::from_secs(10);
/// The window of gaps and completeness.
pub const WINDOW: Duration90k = Duration90k::from_secs(86_400);

#[derive(Clone, Debug, serde::Serialize)]
pub struct StreamHealth {
    pub camera: String,
    pub stream: String,
    pub state: String,
    pub fps: f64,
    pub bitrate_bps: f64,
    pub last_frame: Option<String>,
    pub reconnects: i64,
    pub gaps_24h: usize,
    pub gap_seconds_24h: f64,
    pub completeness_pct: Option<f64>,
    /// The reason of the gap going on now, if footage is not being recorded.
    pub ongoing_gap: Option<String>,
    pub segments: usize,
    pub last_error: Option<String>,
    pub codec: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// Health of every stream of every camera at `now`.
pub async fn stream_health(store: &Store, now: Time90k) -> Result<Vec<StreamHealth>> {
    let from = now - WINDOW;
    let mut rows = Vec::new();
    for cam in store.cameras().await? {
        for st in store.streams(cam.id).await? {
            let status = store.status(st.id).await?;
            let live = status.as_ref().is_some_and(|s| now - s.updated <= STALE);
            let segs = store.sealed_segments(st.id, from, Time90k::MAX).await?;
            let gaps = store.gaps(st.id, from, Time90k::MAX).await?;
            // An open gap lasts until now while its recorder runs; otherwise it ended where it
            // was last seen (the next run records the rest as "recorder not running").
            let gap_end = |g: &custos_store::Gap| if g.open && live { now } else { g.end };
            let gap_secs: f64 = gaps
                .iter()
                .map(|g| {
                    (gap_end(g).min(now) - g.start.max(from))
                        .as_secs_f64()
                        .max(0.0)
                })
                .sum();
            // Completeness: recorded time / time since the stream's record began (its first
            // segment or gap, within the window) — a stream that never recorded is at 0%.
            let first_seg = store.stream_segments(st.id).await?.first().map(|s| s.start);
            let first_gap = store
                .gaps(st.id, Time90k::MIN, Time90k::MAX)
                .await?
                .first()
                .map(|g| g.start);
            let first = match (first_seg, first_gap) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let completeness = first.map(|f| {
                let start = f.max(from);
                let span = (now - start).as_secs_f64();
                let rec: f64 = segs
                    .iter()
                    .map(|s| {
                        (s.end.unwrap_or(s.start).min(now) - s.start.max(start))
                            .as_secs_f64()
                            .max(0.0)
                    })
                    .sum();
                if span > 0.0 {
                    (rec / span * 100.0).min(100.0)
                } else {
                    100.0
                }
            });
            let ongoing = gaps.iter().rev().find(|g| g.open && live);
            let (state, fps, br, last, rec, err) = match status {
                Some(s) if now - s.updated <= STALE => (
                    s.state,
                    s.fps,
                    s.bitrate_bps,
                    s.last_frame,
                    s.reconnects,
                    s.last_error,
                ),
                Some(s) => (
                    "not recording".to_owned(),
                    0.0,
                    0.0,
                    s.last_frame,
                    s.reconnects,
                    s.last_error,
                ),
                None => ("never recorded".to_owned(), 0.0, 0.0, None, 0, None),
            };
            let last_seg = segs.last();
            rows.push(StreamHealth {
                camera: cam.name.to_string(),
                stream: st.kind.to_string(),
                state,
                fps,
                bitrate_bps: br,
                last_frame: last.map(|t| t.to_rfc3339()),
                reconnects: rec,
                gaps_24h: gaps.len(),
                gap_seconds_24h: gap_secs,
                completeness_pct: completeness,
                ongoing_gap: ongoing.map(|g| g.reason.clone()),
                segments: segs.len(),
                last_error: err,
                codec: last_seg.map(|s| s.codec.clone()),
                width: last_seg.map(|s| s.width),
                height: last_seg.map(|s| s.height),
            });
        }
    }
    Ok(rows)
}
