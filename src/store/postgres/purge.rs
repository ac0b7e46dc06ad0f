//! Retention's SQL on PostgreSQL (see `store::retention` and
//! `sqlite::purge`): old stories deleted a batch per transaction, each
//! leaving a tombstone the write path checks; old tombstones forgotten.
//! Set at a time, over the batch's ids passed as one array.

use super::super::{PurgeBatch, StoreError, StoreStats};
use super::known::Known;
use super::pg_error;
use super::write::Failure;
use crate::model::Item;
use deadpool_postgres::{Client, Transaction};

/// A tombstone's `last_listed` moves at most this often (as on SQLite).
const LISTED_RESOLUTION: i64 = 86_400;

/// Whether `item`, which this source has no stored item for, belongs to a
/// purged story (by this source's item key, else by its story key, which
/// then adds this source's key to the tombstone); marks it listed at `now`.
/// The tombstones were read for the whole poll (`known`).
pub(super) async fn tombstoned(
    tx: &Transaction<'_>,
    source_id: i64,
    now: i64,
    item: &Item,
    known: &mut Known,
) -> Result<bool, Failure> {
    let Some((id, by_story)) = known.tombstone(item) else {
        return Ok(false);
    };
    if by_story {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO item_tombstones (source_id, item_key, tombstone_id)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .await?;
        tx.execute(&stmt, &[&source_id, &item.key, &id]).await?;
        known.tombstoned(&item.key, id);
    }
    let stmt = tx
        .prepare_cached(
            "UPDATE tombstones SET last_listed = $2 WHERE id = $1 AND last_listed < $2::bigint - $3::bigint",
        )
        .await?;
    tx.execute(&stmt, &[&id, &now, &LISTED_RESOLUTION]).await?;
    Ok(true)
}

/// Deletes up to `limit` of the oldest stories published before `before`
/// with their items and sections, each leaving a tombstone listed at `now`.
/// `SKIP LOCKED`: two workers purging at once take different stories.
pub(super) async fn purge_stories(
    client: &mut Client,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<PurgeBatch, StoreError> {
    let tx = client.transaction().await.map_err(pg_error)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let doomed: Vec<(i64, String)> = tx
        .query(
            "SELECT id, story_key FROM stories WHERE published < $1
             ORDER BY published, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&before, &limit],
        )
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    if doomed.is_empty() {
        return Ok(PurgeBatch::default());
    }
    let ids: Vec<i64> = doomed.iter().map(|d| d.0).collect();
    let keys: Vec<&str> = doomed.iter().map(|d| d.1.as_str()).collect();
    let sections: Vec<String> = tx
        .query(
            "SELECT DISTINCT name FROM story_sections WHERE story_id = ANY($1) ORDER BY name",
            &[&ids],
        )
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let steps: [(&str, &[&(dyn tokio_postgres::types::ToSql + Sync)]); 6] = [
        (
            "INSERT INTO tombstones (story_key, last_listed)
             SELECT k, $2 FROM unnest($1::text[]) AS k ORDER BY k
             ON CONFLICT (story_key) DO UPDATE
                 SET last_listed = GREATEST(tombstones.last_listed, excluded.last_listed)",
            &[&keys, &now],
        ),
        (
            "INSERT INTO item_tombstones (source_id, item_key, tombstone_id)
             SELECT i.source_id, i.item_key, t.id
             FROM items i JOIN stories s ON s.id = i.story_id
                  JOIN tombstones t ON t.story_key = s.story_key
             WHERE i.story_id = ANY($1) ORDER BY i.source_id, i.item_key
             ON CONFLICT (source_id, item_key) DO UPDATE SET tombstone_id = excluded.tombstone_id",
            &[&ids],
        ),
        (
            "DELETE FROM story_sections WHERE story_id = ANY($1)",
            &[&ids],
        ),
        ("DELETE FROM items WHERE story_id = ANY($1)", &[&ids]),
        // Members of a cluster whose first report goes are freed, to be
        // placed again (as SQLite's purge does).
        (
            "DELETE FROM cluster_members WHERE cluster_id = ANY($1)",
            &[&ids],
        ),
        ("DELETE FROM stories WHERE id = ANY($1)", &[&ids]),
    ];
    for (sql, params) in steps {
        tx.execute(sql, params).await.map_err(pg_error)?;
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(PurgeBatch {
        stories: doomed.len(),
        sections,
    })
}

/// Forgets up to `limit` tombstones last listed before `before`.
pub(super) async fn expire_tombstones(
    client: &mut Client,
    before: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    let tx = client.transaction().await.map_err(pg_error)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ids: Vec<i64> = tx
        .query(
            "SELECT id FROM tombstones WHERE last_listed < $1
             ORDER BY last_listed, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&before, &limit],
        )
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    tx.execute(
        "DELETE FROM item_tombstones WHERE tombstone_id = ANY($1)",
        &[&ids],
    )
    .await
    .map_err(pg_error)?;
    tx.execute("DELETE FROM tombstones WHERE id = ANY($1)", &[&ids])
        .await
        .map_err(pg_error)?;
    tx.commit().await.map_err(pg_error)?;
    Ok(ids.len())
}

/// Story and tombstone counts, and the size of the store's tables (with
/// their indexes and TOAST) in the schema it uses.
pub(super) async fn store_stats(client: &Client) -> Result<StoreStats, StoreError> {
    let row = client
        .query_one(
            "SELECT (SELECT COUNT(*) FROM stories), (SELECT COUNT(*) FROM tombstones),
                    (SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relkind = 'r')",
            &[],
        )
        .await
        .map_err(pg_error)?;
    let n = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    Ok(StoreStats {
        stories: n(0),
        tombstones: n(1),
        bytes: n(2),
        ..StoreStats::default()
    })
}
