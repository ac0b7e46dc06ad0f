//! The purge task: runs `store::retention::purge` once at start and then
//! every [`EVERY`], with the `[storage] keep` of the config in force (read
//! from `Live` each time, so a reload that changes `keep` is in force
//! within [`CHECK`]). Purged stories leave their sections' feeds, so a run
//! that deleted any sends a change notice naming them.

use crate::config::Live;
use crate::store::changes::Changes;
use crate::store::{Store, retention};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often stories past `keep` are purged.
pub(super) const EVERY: Duration = Duration::from_secs(3600);
/// How often the config in force is looked at for a changed `keep`.
pub(super) const CHECK: Duration = Duration::from_secs(5);

/// Runs until aborted (at shutdown).
pub(super) async fn run(live: Live, store: Arc<dyn Store>, changes: Changes) {
    run_every(live, store, changes, EVERY, CHECK).await
}

/// [`run`] with its intervals given (tests shorten them).
pub(super) async fn run_every(
    live: Live,
    store: Arc<dyn Store>,
    changes: Changes,
    every: Duration,
    check: Duration,
) {
    // The `keep` of the last run and when it ran.
    let mut last: Option<(Option<Duration>, Instant)> = None;
    let mut told_no_shrink = false;
    loop {
        let keep = live.get().storage_keep;
        let due = match last {
            None => true,
            Some((kept, at)) => kept != keep || at.elapsed() >= every,
        };
        if due {
            last = Some((keep, Instant::now()));
            if let Some(keep) = keep {
                if !told_no_shrink {
                    told_no_shrink = true;
                    warn_if_no_shrink(store.as_ref()).await;
                }
                let _ = purge_once(store.as_ref(), &changes, keep).await;
            }
        }
        tokio::time::sleep(check).await;
    }
}

/// One purge with `keep` at the wall clock's now, logged as the task logs
/// it, with a change notice when stories left their sections. Also what
/// `feedmerge poll` runs after its poll; returns whether the purge ran to
/// the end (a failure is logged at WARN: what was purged stays purged).
pub async fn purge_once(store: &dyn Store, changes: &Changes, keep: Duration) -> bool {
    match retention::purge(store, keep, chrono::Utc::now()).await {
        Ok(report) => {
            if report.stories > 0 {
                changes.publish(Some(report.sections.clone()));
            }
            if report.stories > 0 || report.tombstones_expired > 0 {
                tracing::info!(
                    stories = report.stories,
                    batches = report.batches,
                    tombstones_expired = report.tombstones_expired,
                    pages_reclaimed = report.pages_reclaimed,
                    elapsed_ms = report.elapsed.as_millis() as u64,
                    keep = %humantime::format_duration(keep),
                    "purged stories older than keep"
                );
            }
            true
        }
        // The next run tries again; what was purged so far stays purged.
        Err(e) => {
            tracing::warn!(error = %e, "purge failed; retrying at the next run");
            false
        }
    }
}

/// Once per start with `keep` set: a database created before incremental
/// vacuum (and too large to convert on open) reuses the space purges free
/// but never shrinks.
pub async fn warn_if_no_shrink(store: &dyn Store) {
    if let Ok(stats) = store.store_stats().await
        && !stats.shrinks
    {
        tracing::warn!(
            bytes = stats.bytes,
            "the database predates incremental vacuum: space purged by [storage] keep is reused \
             but the file does not shrink; to convert it once, stop feedmerge and run \
             sqlite3 DB 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM;' (it needs free disk space \
             the size of the file)"
        );
    }
}
