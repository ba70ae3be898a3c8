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

/// Half of `WATCHDOG_USEC` when systemd's watchdog is on (how often [`watchdog`] must be
/// called from the main loop); `None` otherwise.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(100)))
}

/// Tells systemd the main loop is alive.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}
