//! systemd's notify protocol (`Type=notify`, `WatchdogSec=`), through the
//! sd-notify crate. Without `$NOTIFY_SOCKET` every call is a no-op, so the
//! daemon runs the same outside systemd.

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "could not notify systemd");
    }
}

/// The database is open and the port bound: dependent units may start.
pub fn ready() {
    send(&[NotifyState::Ready]);
}

/// A reload started. systemd 253 and later match `RELOADING=1` to the
/// reload they asked for by the monotonic clock sent beside it.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// Shutdown started.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// The daemon works: the watchdog's keep-alive.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// The watchdog timeout systemd set (`WatchdogSec=`), if it is on for us.
pub fn watchdog_timeout() -> Option<std::time::Duration> {
    sd_notify::watchdog_enabled()
}
