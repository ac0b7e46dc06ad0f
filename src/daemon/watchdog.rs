//! The systemd watchdog: `WATCHDOG=1` is sent only while the daemon works,
//! so systemd restarts one that hangs. Working means both that the
//! scheduler ticks (its heartbeat is fresh) and that the one writer thread
//! answers (a no-op job through its queue completes in time). A process
//! that is alive but wedged stops feeding the watchdog.

use crate::scheduler::Heartbeat;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Why the watchdog was not fed this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unhealthy {
    /// The scheduler has not ticked for this long.
    SchedulerStalled(Duration),
    /// The writer did not answer within the check's deadline.
    WriterStalled,
    /// The writer answered with an error.
    WriterFailed(String),
}

/// One check: `Ok` when both the scheduler and the writer are alive.
/// `budget` bounds the whole check (a stale heartbeat is one older than it).
pub async fn check(
    store: &dyn Store,
    heartbeat: &Heartbeat,
    budget: Duration,
) -> Result<(), Unhealthy> {
    let age = heartbeat.age();
    if age > budget {
        return Err(Unhealthy::SchedulerStalled(age));
    }
    match tokio::time::timeout(budget, store.ping_writer()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Unhealthy::WriterFailed(e.to_string())),
        Err(_) => Err(Unhealthy::WriterStalled),
    }
}

/// Feeds the watchdog every `timeout / 2` while [`check`] passes, calling
/// `feed` for each keep-alive; logs each failed check at ERROR (systemd
/// will restart the daemon once `timeout` passes without one).
pub async fn run(
    store: Arc<dyn Store>,
    heartbeat: Heartbeat,
    timeout: Duration,
    feed: impl Fn() + Send + 'static,
) {
    let every = timeout / 2;
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match check(store.as_ref(), &heartbeat, every).await {
            Ok(()) => feed(),
            Err(why) => tracing::error!(
                ?why,
                "the daemon is not working; the systemd watchdog is not fed"
            ),
        }
    }
}
