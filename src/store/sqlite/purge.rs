//! Retention's SQL (see `store::retention`): deleting old stories while
//! leaving tombstones, recognising a tombstoned item when a feed lists it
//! again, forgetting old tombstones and handing free pages back. Writes run
//! on the writer thread inside its transaction, like `write`; a write may
//! run twice, so each is idempotent.

use super::super::{PurgeBatch, Reclaimed, StoreError, StoreStats};
use crate::model::Item;
use rusqlite::{Connection, OptionalExtension, params};
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

// The set-at-a-time statements of a purge and an expiry, over the
// temporary lists `doomed` and `expired` (constants, so a test can check
// their query plans).

/// The oldest stories before ?1, ?2 at most.
const DOOMED: &str = "
    INSERT INTO temp.doomed (id, story_key, published)
    SELECT id, story_key, published FROM stories WHERE published < ?1
    ORDER BY published, id LIMIT ?2";
/// Their sections, for the change notice.
const SECTIONS_OF_DOOMED: &str = "
    SELECT DISTINCT name FROM story_sections
    WHERE story_id IN (SELECT id FROM temp.doomed) ORDER BY name";
// The tombstone writes are not upserts: a multi-row statement that may
// abort on a constraint runs with a statement journal, a copy of every
// page it touches (a fifth of the purge's time in a profile). A story key
// tombstoned before (stored again after its tombstone expired) is rare, so
// an UPDATE that finds nothing to change, then an INSERT OR IGNORE, do the
// upsert's work without it; OR REPLACE repoints a reused item key.
/// Doomed stories already tombstoned once: listed again at ?1.
const RELIST_TOMBSTONES_OF_DOOMED: &str = "
    UPDATE tombstones SET last_listed = MAX(last_listed, ?1)
    WHERE story_key IN (SELECT story_key FROM temp.doomed)";
/// A tombstone per doomed story, listed at ?1 (in key order).
const TOMBSTONES_OF_DOOMED: &str = "
    INSERT OR IGNORE INTO tombstones (story_key, last_listed)
    SELECT story_key, ?1 FROM temp.doomed ORDER BY story_key";
/// Their (source, item key) pairs; an item key reused for a later story
/// points at the newer tombstone. CROSS JOIN keeps the doomed list
/// outermost (without statistics the planner would rather scan `items`).
const ITEM_TOMBSTONES_OF_DOOMED: &str = "
    INSERT OR REPLACE INTO item_tombstones (source_id, item_key, tombstone_id)
    SELECT i.source_id, i.item_key, t.id
    FROM temp.doomed d CROSS JOIN items i ON i.story_id = d.id
         CROSS JOIN tombstones t ON t.story_key = d.story_key
    ORDER BY i.source_id, i.item_key";

/// The writer's page cache while a purge batch runs, in KiB (the writer
/// keeps 4 MiB otherwise): a batch touches thousands of scattered index
/// leaves, and with the usual cache SQLite spills dirty pages to the log
/// mid-transaction and reads them back (a third of the purge's time in a
/// profile). Only pages a batch touches are held, and only until it ends.
const PURGE_CACHE_KIB: u32 = 65_536;
/// What the writer's connection is opened with (`SqliteStore::open`).
pub(super) const WRITER_CACHE_KIB: u32 = 4_096;
const DELETE_DOOMED_SECTIONS: &str = "
    DELETE FROM story_sections WHERE (section_key, published, story_id) IN
        (SELECT section_key, published, story_id FROM story_sections
         WHERE story_id IN (SELECT id FROM temp.doomed))";
const DELETE_DOOMED_ITEMS: &str = "
    DELETE FROM items WHERE (source_id, item_key) IN
        (SELECT source_id, item_key FROM items WHERE story_id IN (SELECT id FROM temp.doomed))";
/// The tombstones last listed before ?1, oldest first, ?2 at most.
const EXPIRED: &str = "
    INSERT INTO temp.expired (id, story_key)
    SELECT id, story_key FROM tombstones WHERE last_listed < ?1
    ORDER BY last_listed, id LIMIT ?2";
/// Frees the members of clusters whose first report goes: their rows go
/// too, so the next clustering run places them again (with each other,
/// when the decision agrees and they are still in the window) and no row
/// keeps naming a story that is gone.
const FREE_MEMBERS_OF_DOOMED: &str =
    "DELETE FROM cluster_members WHERE cluster_id IN (SELECT id FROM temp.doomed)";
/// The stories themselves, in one statement (their own cluster rows
/// cascade): a statement per story would give each its own statement
/// journal, and FTS5 writes out its pending work at every one (see
/// migration 9).
const DELETE_DOOMED: &str = "DELETE FROM stories WHERE id IN (SELECT id FROM temp.doomed)";
/// Their keyword-index rows, by feed key (`search::key`).
fn delete_doomed_text() -> String {
    format!(
        "DELETE FROM story_text WHERE rowid IN (SELECT {} FROM temp.doomed)",
        super::search::key_sql("published", "id")
    )
}

const DELETE_EXPIRED_ITEM_TOMBSTONES: &str = "
    DELETE FROM item_tombstones WHERE (source_id, item_key) IN
        (SELECT source_id, item_key FROM item_tombstones
         WHERE tombstone_id IN (SELECT id FROM temp.expired))";

/// Deletes up to `limit` of the oldest stories published before `before`
/// (seconds), with their items and section rows, each leaving a tombstone
/// listed at `now`.
///
/// Set at a time, through a temporary list of the doomed stories: each
/// statement then visits the rows of one table or index in key order, so
/// a leaf page holding several of them is read and dirtied once, however
/// scattered their keys (links, guids) are. Story by story, in date order,
/// the same purge took about twice as long (retention benchmark).
pub(super) fn purge_stories(
    tx: &Connection,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<PurgeBatch, StoreError> {
    // Foreign keys checked at the commit rather than per statement: the
    // children go before their story, so nothing is ever violated, and
    // immediate checks would give every statement its own journal.
    // (Reset by SQLite when the transaction ends.)
    tx.execute_batch(&format!(
        "PRAGMA defer_foreign_keys = ON; PRAGMA cache_size = -{PURGE_CACHE_KIB};
         CREATE TEMP TABLE IF NOT EXISTS doomed (
             id INTEGER PRIMARY KEY, story_key TEXT NOT NULL, published INTEGER NOT NULL
         );
         DELETE FROM temp.doomed;"
    ))?;
    let result = purge_doomed(tx, before, now, limit);
    // The cache shrinks back as the commit writes the batch out.
    let reset = tx.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}"));
    let batch = result?;
    reset?;
    Ok(batch)
}

/// [`purge_stories`] once the batch's settings are made.
fn purge_doomed(
    tx: &Connection,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<PurgeBatch, StoreError> {
    let stories = tx
        .prepare_cached(DOOMED)?
        .execute(params![before, i64::try_from(limit).unwrap_or(i64::MAX)])?;
    if stories == 0 {
        return Ok(PurgeBatch::default());
    }
    let sections: Vec<String> = tx
        .prepare_cached(SECTIONS_OF_DOOMED)?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    tx.prepare_cached(RELIST_TOMBSTONES_OF_DOOMED)?
        .execute([now])?;
    tx.prepare_cached(TOMBSTONES_OF_DOOMED)?.execute([now])?;
    tx.prepare_cached(ITEM_TOMBSTONES_OF_DOOMED)?.execute([])?;
    tx.prepare_cached(DELETE_DOOMED_SECTIONS)?.execute([])?;
    tx.prepare_cached(DELETE_DOOMED_ITEMS)?.execute([])?;
    tx.prepare_cached(FREE_MEMBERS_OF_DOOMED)?.execute([])?;
    tx.prepare_cached(DELETE_DOOMED)?.execute([])?;
    // Last, so the keyword index joins the transaction (and is written
    // out at its statements' savepoints) only at its end.
    tx.prepare_cached(&delete_doomed_text())?.execute([])?;
    tx.execute_batch("DELETE FROM temp.doomed")?;
    Ok(PurgeBatch { stories, sections })
}

/// Forgets up to `limit` tombstones last listed before `before` (seconds),
/// oldest first; returns how many. Set at a time and in key order, as
/// [`purge_stories`] deletes.
pub(super) fn expire_tombstones(
    tx: &Connection,
    before: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS expired (id INTEGER PRIMARY KEY, story_key TEXT NOT NULL);
         DELETE FROM temp.expired;",
    )?;
    let expired = tx
        .prepare_cached(EXPIRED)?
        .execute(params![before, i64::try_from(limit).unwrap_or(i64::MAX)])?;
    if expired == 0 {
        return Ok(0);
    }
    tx.prepare_cached(DELETE_EXPIRED_ITEM_TOMBSTONES)?
        .execute([])?;
    let ids: Vec<i64> = tx
        .prepare_cached("SELECT id FROM temp.expired ORDER BY story_key")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut delete = tx.prepare_cached("DELETE FROM tombstones WHERE id = ?1")?;
    for id in ids {
        delete.execute([id])?;
    }
    tx.execute_batch("DELETE FROM temp.expired")?;
    Ok(expired)
}

/// Hands up to `pages` free pages back to the file system, keeping
/// `keep_free` of the file's pages free (a no-op unless the database has
/// `auto_vacuum = INCREMENTAL`).
pub(super) fn reclaim_space(
    tx: &Connection,
    pages: u32,
    keep_free: f64,
) -> Result<Reclaimed, StoreError> {
    let pragma = |name: &str| -> Result<u64, StoreError> {
        let n: i64 = tx.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
        Ok(n.try_into().unwrap_or(0))
    };
    if pragma("auto_vacuum")? != super::schema::INCREMENTAL as u64 {
        return Ok(Reclaimed::default());
    }
    // Free pages beyond the share to keep, and the free count itself.
    let excess = || -> Result<(u64, u64), StoreError> {
        let (free, total) = (pragma("freelist_count")?, pragma("page_count")?);
        let kept = (total as f64 * keep_free.clamp(0.0, 1.0)) as u64;
        Ok((free.saturating_sub(kept), free))
    };
    let (over, free_before) = excess()?;
    let n = over.min(pages.into());
    if n == 0 {
        return Ok(Reclaimed {
            pages: 0,
            left: over,
        });
    }
    // Runs to completion inside the writer's transaction: the pages move
    // and the file shrinks (at the next checkpoint), or neither happens.
    tx.execute_batch(&format!("PRAGMA incremental_vacuum({n})"))?;
    let (left, free_after) = excess()?;
    Ok(Reclaimed {
        pages: free_before.saturating_sub(free_after),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A purge drops the keyword-index rows of the stories it deletes (the
    /// trigger on `stories`), and only theirs.
    #[test]
    fn a_purge_drops_the_keyword_rows_of_its_stories_only() {
        let mut conn = super::super::search::test_store(&[(1, 10), (2, 20), (3, 30)]);
        for (id, published) in [(1, 10), (2, 20), (3, 30)] {
            super::super::search::index(&conn, id, published, "бюджет год").unwrap();
        }
        let hits = |conn: &Connection| -> Vec<i64> {
            let mut s = conn
                .prepare("SELECT rowid FROM story_text WHERE story_text MATCH '\"бюджет\"'")
                .unwrap();
            s.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(hits(&conn).len(), 3);
        let tx = conn.transaction().unwrap();
        let batch = purge_stories(&tx, 25, 100, 10).unwrap();
        tx.commit().unwrap();
        assert_eq!(batch.stories, 2);
        assert_eq!(hits(&conn), [super::super::search::key(30, 3)]);
    }

    /// A story whose key was tombstoned before gets no second tombstone;
    /// the old one is listed at the purge's time (the others are new).
    #[test]
    fn a_story_tombstoned_before_keeps_its_one_tombstone_relisted() {
        let mut conn = super::super::search::test_store(&[(1, 10), (2, 20)]);
        let key: String = conn
            .query_row("SELECT story_key FROM stories WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        conn.execute(
            "INSERT INTO tombstones (story_key, last_listed) VALUES (?1, 5)",
            [&key],
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        let batch = purge_stories(&tx, 25, 100, 10).unwrap();
        tx.commit().unwrap();
        assert_eq!(batch.stories, 2);
        let mut s = conn
            .prepare("SELECT story_key = ?1, last_listed FROM tombstones ORDER BY id")
            .unwrap();
        let rows: Vec<(bool, i64)> = s
            .query_map([&key], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows, [(true, 100), (false, 100)]);
    }

    /// Every statement of a purge reaches its rows through an index: a
    /// full scan of a table of millions of rows would hold the writer for
    /// seconds per batch.
    #[test]
    fn purge_statements_use_indexes() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        super::super::schema::migrate(&conn).unwrap();
        conn.execute_batch(
            "CREATE TEMP TABLE doomed (id INTEGER PRIMARY KEY, story_key TEXT NOT NULL, published INTEGER NOT NULL);
             CREATE TEMP TABLE expired (id INTEGER PRIMARY KEY, story_key TEXT NOT NULL);",
        )
        .unwrap();
        let delete_text = delete_doomed_text();
        for sql in [
            DOOMED,
            SECTIONS_OF_DOOMED,
            RELIST_TOMBSTONES_OF_DOOMED,
            TOMBSTONES_OF_DOOMED,
            ITEM_TOMBSTONES_OF_DOOMED,
            DELETE_DOOMED_SECTIONS,
            DELETE_DOOMED_ITEMS,
            FREE_MEMBERS_OF_DOOMED,
            DELETE_DOOMED,
            delete_text.as_str(),
            EXPIRED,
            DELETE_EXPIRED_ITEM_TOMBSTONES,
            "DELETE FROM tombstones WHERE id = ?1",
        ] {
            let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let steps: Vec<String> = plan
                .query_map(
                    rusqlite::params_from_iter(std::iter::repeat_n(1, plan.parameter_count())),
                    |r| r.get(3),
                )
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let scans: Vec<&String> = steps
                .iter()
                .filter(|s| {
                    s.starts_with("SCAN ")
                        && !s.contains("doomed")
                        && !s.contains("expired")
                        && *s != "SCAN d"
                        // FTS5's rowid lookup (its plan `=`), once per key.
                        && !s.ends_with("VIRTUAL TABLE INDEX 0:=")
                })
                .collect();
            assert!(scans.is_empty(), "{sql}\n{steps:#?}");
        }
    }
}
