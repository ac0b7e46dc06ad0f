//! Retention (`[storage] keep`): stories older than `keep` by their sort
//! date (`published`) are deleted in small batches, each its own short
//! transaction on the one writer, so polls queued meanwhile commit between
//! two batches and readers (WAL) never wait. A purged story leaves a
//! tombstone (its story key and the (source, item key) pairs that brought
//! it), so a feed that still lists it does not store it again as new; a
//! listing moves the tombstone's `last_listed`, and a tombstone not listed
//! for `keep` + [`TOMBSTONE_MARGIN`] is forgotten. Free pages beyond
//! [`KEEP_FREE`] of the file are then handed back to the file system, a few
//! megabytes per transaction.
//!
//! Time comes from the caller (`now`), so tests and benchmarks inject it.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

/// Stories deleted per transaction. A purge's cost is mostly index pages
/// of scattered keys (story keys, tombstone keys) dirtied and written to
/// the log at each commit; a batch touches most leaves of those indexes,
/// so fewer, larger batches write each leaf fewer times (retention
/// benchmark: 2,000 instead of 500 with the purge's larger page cache,
/// purge time -45%), while one batch still holds the writer for a few
/// hundred milliseconds at most on a loaded 2-core machine.
pub const BATCH: usize = 2_000;

/// Tombstones forgotten per transaction (each a couple of small rows).
pub const TOMBSTONE_BATCH: usize = 2_000;

/// Pages handed back per transaction (8 MiB at 8 KiB pages).
pub const RECLAIM_PAGES: u32 = 1_024;

/// Share of the file's pages left free after a purge, for the stories
/// that come next. In steady state a purge frees about what the polls
/// until the next one fill (an hour's worth: a tiny share), and SQLite
/// reuses free pages before it grows the file; moving pages out only to
/// grow the file back would cost as much writing as the purge itself. So
/// only space well beyond that (after `keep` was shortened, sources were
/// removed, or tombstones expired in bulk) is handed back.
pub const KEEP_FREE: f64 = 0.125;

/// How long after `keep` a tombstone outlives the last feed that listed
/// it. A feed may keep listing a story for a while after it scrolled out of
/// the store; once no feed has listed it for `keep` + this margin, a feed
/// that lists it again is a different matter (an archive, a re-post) and
/// the story is stored again (and purged again if it is still old).
pub const TOMBSTONE_MARGIN: Duration = Duration::from_secs(30 * 86_400);

/// What one [`purge`] run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Stories deleted (each leaving a tombstone).
    pub stories: usize,
    /// Transactions the stories took.
    pub batches: usize,
    /// Tombstones forgotten.
    pub tombstones_expired: usize,
    /// Pages handed back to the file system.
    pub pages_reclaimed: u64,
    /// Canonical names of the sections purged stories were in, sorted.
    pub sections: Vec<String>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Of which handing pages back.
    pub reclaim_elapsed: Duration,
}

/// The sort date before which stories are purged at `now`.
pub fn cutoff(keep: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX)
}

/// Purges every story published before `now - keep`, batch by batch,
/// forgets tombstones not listed since `now - keep - TOMBSTONE_MARGIN`,
/// then hands the freed space back. Yields between transactions, so other
/// tasks on this runtime run and polls queued for the writer go first.
pub async fn purge(
    store: &dyn Store,
    keep: Duration,
    now: DateTime<Utc>,
) -> Result<PurgeReport, StoreError> {
    purge_keeping(store, keep, now, KEEP_FREE).await
}

/// [`purge`], keeping `keep_free` of the file free instead of
/// [`KEEP_FREE`] (0: hand back every free page; the benchmark compares).
pub async fn purge_keeping(
    store: &dyn Store,
    keep: Duration,
    now: DateTime<Utc>,
    keep_free: f64,
) -> Result<PurgeReport, StoreError> {
    let started = Instant::now();
    let mut report = PurgeReport::default();
    let before = cutoff(keep, now);
    loop {
        let batch = store.purge_stories(before, now, BATCH).await?;
        if batch.stories > 0 {
            report.batches += 1;
        }
        report.stories += batch.stories;
        report.sections.extend(batch.sections);
        if batch.stories < BATCH {
            break;
        }
        tokio::task::yield_now().await;
    }
    report.sections.sort();
    report.sections.dedup();
    let forget_before = cutoff(keep.saturating_add(TOMBSTONE_MARGIN), now);
    loop {
        let expired = store
            .expire_tombstones(forget_before, TOMBSTONE_BATCH)
            .await?;
        report.tombstones_expired += expired;
        if expired < TOMBSTONE_BATCH {
            break;
        }
        tokio::task::yield_now().await;
    }
    if report.stories > 0 || report.tombstones_expired > 0 {
        let reclaiming = Instant::now();
        report.pages_reclaimed = reclaim_keeping(store, keep_free).await?;
        report.reclaim_elapsed = reclaiming.elapsed();
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Hands free pages back beyond [`KEEP_FREE`] of the file,
/// [`RECLAIM_PAGES`] per transaction; returns how many. Stops at once when
/// the store cannot shrink.
pub async fn reclaim(store: &dyn Store) -> Result<u64, StoreError> {
    reclaim_keeping(store, KEEP_FREE).await
}

/// [`reclaim`], keeping `keep_free` of the file's pages free (0: hand back
/// every free page).
pub async fn reclaim_keeping(store: &dyn Store, keep_free: f64) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let step = store.reclaim_space(RECLAIM_PAGES, keep_free).await?;
        total += step.pages;
        if step.pages == 0 || step.left == 0 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
