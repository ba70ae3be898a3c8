//! One GB/T 28181 channel as a supervised frame source: the common reconnect supervisor
//! (`custos_ingest::supervise`) runs [`GbMedia`] sessions, as it runs RTSP ones. A session
//! waits until the channel may be recorded (A2: its device accepted in the registry, the
//! channel not rejected), INVITEs it live and forwards its frames until the media ends or the
//! channel stops being accepted.

use std::time::Duration;

use custos_core::frame::StreamEvent;
use custos_core::{Error, ErrorKind, Result};
use custos_gb28181::{MediaTransport, Mode, Platform};
use custos_ingest::supervise::{Backoff, Session};
use custos_ingest::{Health, StreamState};
use custos_store::Store;
use tokio::sync::{mpsc, watch};

/// GB/T 28181 devices are INVITEd again after 1 s, doubling to 30 s.
pub const GB_BACKOFF: Backoff = Backoff {
    start: Duration::from_secs(1),
    max: Duration::from_secs(30),
};

/// How often a channel's registry standing is read again (while waiting for acceptance, and
/// while recording, so that a rejection ends recording).
pub const ACCEPTANCE_EVERY: Duration = Duration::from_secs(2);

/// Why `channel` may not be recorded now (A2), or `None` if it may. Read from the database
/// each time, so that `custos gb accept` in another process takes effect without a restart.
/// `device` is the device that announced the channel (never another device that happens to
/// use the channel's id as its own, D1).
pub async fn not_accepted(store: &Store, device: &str, channel: &str) -> Option<String> {
    match store.gb_acceptance(device, channel).await {
        Ok(Some(a)) => a.refusal(device, channel),
        Ok(None) => Some(format!(
            "not accepted: GB/T 28181 device {device} is not in the device registry yet"
        )),
        // Fail closed: no recording of a device whose standing cannot be read.
        Err(e) => Some(format!("not accepted: registry status unreadable: {e}")),
    }
}

/// A GB/T 28181 channel's live media, one INVITE per session.
pub struct GbMedia {
    /// The device that announced the channel.
    pub device: String,
    pub platform: Platform,
    pub store: Store,
    pub channel: String,
    pub media: MediaTransport,
}

/// Ends the media session (BYE) however the session ends, dropped included.
struct Bye(Platform, String);

impl Drop for Bye {
    fn drop(&mut self) {
        let (p, c) = (self.0.clone(), self.1.clone());
        tokio::spawn(async move { p.bye(&c).await });
    }
}

impl Session for GbMedia {
    async fn run(
        &mut self,
        tx: &mpsc::Sender<StreamEvent>,
        health: &Health,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<()> {
        let (p, channel) = (&self.platform, self.channel.as_str());
        // A2: not INVITEd until accepted; the reason is the stream's health meanwhile.
        while let Some(why) = not_accepted(&self.store, &self.device, channel).await {
            health.failed(why);
            tokio::select! {
                _ = tokio::time::sleep(ACCEPTANCE_EVERY) => {}
                r = shutdown.changed() => if r.is_err() || *shutdown.borrow() {
                    return Ok(());
                },
            }
        }
        // D1: the INVITE goes to the device that owns the channel, which must be the one that
        // announced it (never a device that registered under the channel's id).
        if !p
            .owner_of(channel)
            .is_some_and(|d| d.online && d.id == self.device)
        {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "GB/T 28181 device offline",
            ));
        }
        health.set_state(StreamState::Connecting);
        let mut s = p
            .invite(channel, Mode::Live, self.media)
            .await
            .map_err(|e| {
                tracing::warn!(%channel, error = %e, "GB INVITE failed");
                Error::new(
                    ErrorKind::Unavailable,
                    format!("GB/T 28181 INVITE failed: {e}"),
                )
            })?;
        let _bye = Bye(p.clone(), s.call_id.clone());
        let mut first = true;
        let mut check = tokio::time::interval(ACCEPTANCE_EVERY);
        loop {
            let ev = tokio::select! {
                ev = s.frames.recv() => ev,
                _ = shutdown.changed() => return Ok(()),
                _ = check.tick() => match not_accepted(&self.store, &self.device, channel).await {
                    Some(why) => return Err(Error::new(ErrorKind::FailedPrecondition, why)),
                    None => continue,
                },
            };
            let Some(ev) = ev else {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    "GB/T 28181 media session ended",
                ));
            };
            if let StreamEvent::Frame(f) = &ev {
                if first {
                    health.params(f.params.codec.as_str(), f.params.width, f.params.height);
                    health.set_state(StreamState::Online);
                    first = false;
                }
                health.frame(f.wall, f.data.len());
            }
            if tx.send(ev).await.is_err() {
                return Ok(());
            }
        }
    }
}
