//! The one reconnect supervisor of custos, for every frame source (RTSP sessions here,
//! GB/T 28181 media sessions in the node): run a session, and on any failure report an
//! interruption (health, a [`StreamEvent::Interrupted`] that the recorder turns into a gap
//! with its reason) and start again after an exponential backoff with jitter, until shut
//! down. Protocol-neutral: a source only says how to run one session.

use std::future::Future;
use std::time::{Duration, Instant};

use custos_core::frame::StreamEvent;
use custos_core::{Error, ErrorKind, Result};
use tokio::sync::{mpsc, watch};

use crate::health::{Health, StreamState};

/// Backoff between sessions: `start`, doubling up to `max`, with ±10 % jitter; back to
/// `start` after a session that lasted more than 30 s.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub start: Duration,
    pub max: Duration,
}

/// One kind of frame source, as the supervisor runs it.
pub trait Session: Send {
    /// Runs one session: forwards frames to `tx` and keeps `health` up to date. `Ok(())`
    /// means stop for good (shut down, or the receiver is gone); `Err` is an interruption:
    /// reported with [`gap_reason`] and retried.
    fn run(
        &mut self,
        tx: &mpsc::Sender<StreamEvent>,
        health: &Health,
        shutdown: &mut watch::Receiver<bool>,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Runs `session` again and again until `shutdown` turns true (or a session says stop). Never
/// returns early on source errors: they are reported through `health` and as
/// [`StreamEvent::Interrupted`]. `label` names the stream in logs.
pub async fn supervise<S: Session>(
    label: &str,
    mut session: S,
    tx: mpsc::Sender<StreamEvent>,
    health: Health,
    mut shutdown: watch::Receiver<bool>,
    policy: Backoff,
) {
    let mut backoff = policy.start;
    loop {
        if *shutdown.borrow() {
            break;
        }
        health.set_state(StreamState::Connecting);
        let started = Instant::now();
        match session.run(&tx, &health, &mut shutdown).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(stream = %label, error = %e, "stream interrupted");
                health.failed(e.to_string());
                if tx
                    .send(StreamEvent::Interrupted {
                        reason: gap_reason(&e),
                    })
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            backoff = policy.start;
        }
        let jitter = 0.9 + 0.2 * (started.elapsed().subsec_nanos() % 1000) as f64 / 1000.0;
        let wait = backoff.mul_f64(jitter);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
        backoff = (backoff * 2).min(policy.max);
        if *shutdown.borrow() {
            break;
        }
        health.reconnecting();
    }
    health.set_state(StreamState::Stopped);
}

/// A session failure as the reason of the gap it causes: what kind of failure, then the
/// message (which says what to do).
pub fn gap_reason(e: &Error) -> String {
    let what = match e.kind() {
        ErrorKind::Unavailable => "camera unreachable",
        ErrorKind::Unauthenticated => "camera refused the credentials",
        ErrorKind::NotFound => "camera does not serve the stream",
        // A rule stops recording (e.g. a GB/T 28181 device no longer accepted, A2).
        ErrorKind::FailedPrecondition | ErrorKind::PermissionDenied => "not recorded",
        _ => "protocol error",
    };
    format!("{what}: {e}")
}
