//! Writes by another process: a `feedmerge poll` run by hand beside the
//! daemon, a restored backup, later a second worker. They bypass this
//! daemon's change notices, so without this its cached answers would stay
//! stale until its own next poll touched the same sections.

use crate::store::Store;
use crate::store::changes::Changes;
use std::sync::Arc;
use std::time::Duration;

/// How often the store is asked; a change is seen within this long (plus
/// the writer's queue).
pub const EVERY: Duration = Duration::from_millis(500);

/// Asks `store` every [`EVERY`] whether someone else committed, and then
/// announces that anything may have changed. Runs until aborted.
pub(super) async fn watch(store: Arc<dyn Store>, changes: Changes) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.changed_elsewhere().await {
            Ok(true) => {
                tracing::info!("database changed by another process; cached answers dropped");
                changes.publish(None);
            }
            Ok(false) => {}
            // The writer's own faults are reported where they happen.
            Err(e) => tracing::debug!(error = %e, "could not ask for outside changes"),
        }
    }
}
