//! Retention's SQL (see `store::retention`): deleting old stories while
//! leaving tombstones, recognising a tombstoned item when a feed lists it
//! again, forgetting old tombstones and handing free pages back. Writes run
//! on the writer thread inside its transaction, like `write`; a write may
//! run twice, so each is idempotent.

use super::super::{PurgeBatch, Reclaimed, StoreError, StoreStats};
use crate::model::Item;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeSet;
use std::path::Path;

/// A tombstone's `last_listed` moves at most this often, so a feed that
/// keeps listing purged items costs a write a day, not one per poll.
const LISTED_RESOLUTION: i64 = 86_400;

/// Whether `item`, which this source has no stored item for, belongs to a
/// purged story: by this source's item key, else by its story key (another
/// source's copy, or a new source), in which case this source's key joins
/// the tombstone. Either way the tombstone is marked as listed at `now`.
pub(super) fn tombstoned(
    tx: &Connection,
    source_id: i64,
    now: i64,
    item: &Item,
) -> Result<bool, StoreError> {
    let by_item: Option<i64> = tx
        .prepare_cached(
            "SELECT tombstone_id FROM item_tombstones WHERE source_id = ?1 AND item_key = ?2",
        )?
        .query_row(params![source_id, item.key], |r| r.get(0))
        .optional()?;
    let id = match by_item {
        Some(id) => id,
        None => {
            let by_story: Option<i64> = tx
                .prepare_cached("SELECT id FROM tombstones WHERE story_key = ?1")?
                .query_row([&item.story_key], |r| r.get(0))
                .optional()?;
            let Some(id) = by_story else {
                return Ok(false);
            };
            tx.prepare_cached(
                "INSERT OR IGNORE INTO item_tombstones (source_id, item_key, tombstone_id)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![source_id, item.key, id])?;
            id
        }
    };
    tx.prepare_cached(
        "UPDATE tombstones SET last_listed = ?2 WHERE id = ?1 AND last_listed < ?2 - ?3",
    )?
    .execute(params![id, now, LISTED_RESOLUTION])?;
    Ok(true)
}

/// Deletes up to `limit` of the oldest stories published before `before`
/// (seconds), with their items and section rows, each leaving a tombstone
/// listed at `now`.
pub(super) fn purge_stories(
    tx: &Connection,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<PurgeBatch, StoreError> {
    let doomed: Vec<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, story_key FROM stories WHERE published < ?1
             ORDER BY published, id LIMIT ?2",
        )?
        .query_map(
            params![before, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut sections = BTreeSet::new();
    let mut tombstone = tx.prepare_cached(
        "INSERT INTO tombstones (story_key, last_listed) VALUES (?1, ?2)
         ON CONFLICT(story_key) DO UPDATE SET last_listed = MAX(last_listed, excluded.last_listed)",
    )?;
    let mut tombstone_id = tx.prepare_cached("SELECT id FROM tombstones WHERE story_key = ?1")?;
    // An item key reused for a later story points at the newer tombstone.
    let mut item_tombstones = tx.prepare_cached(
        "INSERT INTO item_tombstones (source_id, item_key, tombstone_id)
         SELECT source_id, item_key, ?2 FROM items WHERE story_id = ?1
         ON CONFLICT(source_id, item_key) DO UPDATE SET tombstone_id = excluded.tombstone_id",
    )?;
    let mut section_names =
        tx.prepare_cached("SELECT DISTINCT name FROM story_sections WHERE story_id = ?1")?;
    let mut delete_sections =
        tx.prepare_cached("DELETE FROM story_sections WHERE story_id = ?1")?;
    let mut delete_items = tx.prepare_cached("DELETE FROM items WHERE story_id = ?1")?;
    let mut delete_story = tx.prepare_cached("DELETE FROM stories WHERE id = ?1")?;
    for (story_id, story_key) in &doomed {
        tombstone.execute(params![story_key, now])?;
        let id: i64 = tombstone_id.query_row([story_key], |r| r.get(0))?;
        item_tombstones.execute(params![story_id, id])?;
        for name in section_names.query_map([story_id], |r| r.get::<_, String>(0))? {
            sections.insert(name?);
        }
        delete_sections.execute([story_id])?;
        delete_items.execute([story_id])?;
        delete_story.execute([story_id])?;
    }
    Ok(PurgeBatch {
        stories: doomed.len(),
        sections: sections.into_iter().collect(),
    })
}

/// Forgets up to `limit` tombstones last listed before `before` (seconds),
/// oldest first; returns how many.
pub(super) fn expire_tombstones(
    tx: &Connection,
    before: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    let ids: Vec<i64> = tx
        .prepare_cached(
            "SELECT id FROM tombstones WHERE last_listed < ?1 ORDER BY last_listed, id LIMIT ?2",
        )?
        .query_map(
            params![before, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| r.get(0),
        )?
        .collect::<Result<_, _>>()?;
    let mut items = tx.prepare_cached("DELETE FROM item_tombstones WHERE tombstone_id = ?1")?;
    let mut tombstone = tx.prepare_cached("DELETE FROM tombstones WHERE id = ?1")?;
    for id in &ids {
        items.execute([id])?;
        tombstone.execute([id])?;
    }
    Ok(ids.len())
}

/// Hands up to `pages` free pages back to the file system (a no-op unless
/// the database has `auto_vacuum = INCREMENTAL`).
pub(super) fn reclaim_space(tx: &Connection, pages: u32) -> Result<Reclaimed, StoreError> {
    let free = |tx: &Connection| -> Result<u64, StoreError> {
        let n: i64 = tx.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        Ok(n.try_into().unwrap_or(0))
    };
    let before = free(tx)?;
    if before == 0 {
        return Ok(Reclaimed::default());
    }
    // Runs to completion inside the writer's transaction: the pages move
    // and the file shrinks (at the next checkpoint) or neither happens.
    tx.execute_batch(&format!("PRAGMA incremental_vacuum({pages})"))?;
    let left = free(tx)?;
    Ok(Reclaimed {
        pages: before.saturating_sub(left),
        left,
    })
}

/// Story and tombstone counts from the database, sizes from the files.
pub(super) fn store_stats(conn: &Connection, path: &Path) -> Result<StoreStats, StoreError> {
    let count = |sql: &str| -> Result<u64, StoreError> {
        let n: i64 = conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
        Ok(n.try_into().unwrap_or(0))
    };
    let stories = count("SELECT COUNT(*) FROM stories")?;
    let tombstones = count("SELECT COUNT(*) FROM tombstones")?;
    let free_pages = count("PRAGMA freelist_count")?;
    let page_size = count("PRAGMA page_size")?;
    let mode = count("PRAGMA auto_vacuum")?;
    let size = |suffix: &str| {
        std::fs::metadata(format!("{}{suffix}", path.display()))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    Ok(StoreStats {
        stories,
        tombstones,
        bytes: size(""),
        wal_bytes: size("-wal"),
        free_bytes: free_pages.saturating_mul(page_size),
        shrinks: mode == super::schema::INCREMENTAL as u64,
    })
}
