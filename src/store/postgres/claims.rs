//! Claiming due sources among several workers: one statement that picks
//! the due rows with `FOR UPDATE SKIP LOCKED` (two workers never wait for
//! or take the same row) and writes the lease into `next_check_at` (so a
//! claimed row leaves the due range at once, and returns to it when the
//! lease ends if its worker died). Each claim bumps `lease_epoch`, the
//! fencing token a poll's write checks (see `write::record_poll`).
//!
//! The per-host cap needs a window function, which PostgreSQL does not
//! allow beside `FOR UPDATE` in one query level: the ranks are computed
//! over the due candidates in a subquery, the lock taken on the outer one,
//! which re-checks due-ness on the row's latest version (a row another
//! worker claimed a moment ago is no longer due and is passed over).

use super::super::{Lease, StoreError};
use super::pg_error;
use chrono::{DateTime, Utc};
use deadpool_postgres::Client;

const CLAIM: &str = "
    WITH ranked AS (
        SELECT id, row_number() OVER (PARTITION BY host ORDER BY next_check_at NULLS FIRST, id) AS rank
        FROM (SELECT id, host, next_check_at FROM sources
              WHERE next_check_at IS NULL OR next_check_at <= $1
              ORDER BY next_check_at NULLS FIRST, id LIMIT $5) candidates
    ), due AS (
        SELECT f.id, f.next_check_at FROM sources f JOIN ranked r ON r.id = f.id
        WHERE r.rank <= $4 AND (f.next_check_at IS NULL OR f.next_check_at <= $1)
        ORDER BY f.next_check_at NULLS FIRST, f.id
        LIMIT $3
        FOR UPDATE OF f SKIP LOCKED
    )
    UPDATE sources s SET next_check_at = $1 + $2, lease_owner = $6,
                         lease_epoch = s.lease_epoch + 1
    FROM due WHERE s.id = due.id
    RETURNING s.name, s.lease_epoch, due.next_check_at";

/// Candidates ranked per claim, per source asked for: enough that a batch
/// fills past hosts at their cap, few enough that the ranking stays cheap
/// on a table of 100,000 sources.
const CANDIDATES_PER_CLAIM: i64 = 8;

pub(super) async fn claim_due(
    client: &Client,
    worker: &str,
    now: DateTime<Utc>,
    lease: std::time::Duration,
    limit: usize,
    per_host: usize,
) -> Result<Vec<Lease>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let lease_secs = i64::try_from(lease.as_secs()).unwrap_or(i64::MAX).max(1);
    let per_host = i64::try_from(per_host.max(1)).unwrap_or(i64::MAX);
    let candidates = limit.saturating_mul(CANDIDATES_PER_CLAIM).max(100);
    let stmt = client.prepare_cached(CLAIM).await.map_err(pg_error)?;
    let rows = client
        .query(
            &stmt,
            &[
                &now.timestamp(),
                &lease_secs,
                &limit,
                &per_host,
                &candidates,
                &worker,
            ],
        )
        .await
        .map_err(pg_error)?;
    let mut leases: Vec<Lease> = rows
        .iter()
        .map(|r| Lease {
            source: r.get(0),
            worker: worker.to_string(),
            epoch: r.get(1),
            due: r
                .get::<_, Option<i64>>(2)
                .and_then(|s| DateTime::from_timestamp(s, 0)),
        })
        .collect();
    leases.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.source.cmp(&b.source)));
    Ok(leases)
}
