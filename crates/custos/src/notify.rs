//! systemd service notifications (`Type=notify`, `WatchdogSec=`): READY=1 once `serve`
//! listens, WATCHDOG=1 at half the watchdog interval from the main loop, STOPPING=1 when it
//! begins to stop. Without `NOTIFY_SOCKET` (not started by systemd) every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}

/// The service is up; `status` shows in `systemctl status`.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// The service begins to stop.
pub fn stopping(status: &str) {
    send(&[NotifyState::Stopping, NotifyState::Status(status)]);
}

/// Ticks at half of `WATCHDOG_USEC` when systemd's watchdog is on; never otherwise.
pub struct Watchdog(Option<tokio::time::Interval>);

impl Watchdog {
    pub fn from_env() -> Watchdog {
        Watchdog(sd_notify::watchdog_enabled().map(|d| {
            let mut i = tokio::time::interval((d / 2).max(Duration::from_millis(100)));
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        }))
    }

    /// Waits for the next tick, then tells systemd this loop is alive.
    pub async fn tick(&mut self) {
        match &mut self.0 {
            Some(i) => {
                i.tick().await;
                send(&[NotifyState::Watchdog]);
            }
            None => std::future::pending().await,
        }
    }
}
