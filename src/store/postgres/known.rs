//! What the store already holds for one poll's items, read in three
//! statements for the whole poll (each key list passed as one array)
//! instead of up to three round trips per item: the stored item by its
//! key, and a tombstone by item key or by story key. The source's row is
//! locked for the poll, so no other writer changes its items meanwhile;
//! what this poll writes is added as it goes (see [`Known::stored`]), so
//! an item key listed twice in one feed is seen as it is on SQLite.

use super::write::Failure;
use crate::model::Item;
use deadpool_postgres::Transaction;
use std::collections::HashMap;
use tokio_postgres::types::ToSql;

/// Lookups of one poll's items.
#[derive(Debug, Default)]
pub(super) struct Known {
    /// Item key → (story id, content hash) of this source's stored items.
    items: HashMap<String, (i64, String)>,
    /// Item key → tombstone id, this source's keys of purged stories.
    item_tombstones: HashMap<String, i64>,
    /// Story key → tombstone id.
    story_tombstones: HashMap<String, i64>,
}

impl Known {
    /// Reads what the store has for `items` of source `source_id`.
    pub(super) async fn read(
        tx: &Transaction<'_>,
        source_id: i64,
        items: &[Item],
    ) -> Result<Known, Failure> {
        if items.is_empty() {
            return Ok(Known::default());
        }
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        let story_keys: Vec<&str> = items.iter().map(|i| i.story_key.as_str()).collect();
        let by_item = tx
            .prepare_cached(
                "SELECT item_key, story_id, content_hash FROM items
                 WHERE source_id = $1 AND item_key = ANY($2)",
            )
            .await?;
        let by_item_tomb = tx
            .prepare_cached(
                "SELECT item_key, tombstone_id FROM item_tombstones
                 WHERE source_id = $1 AND item_key = ANY($2)",
            )
            .await?;
        let by_story_tomb = tx
            .prepare_cached("SELECT story_key, id FROM tombstones WHERE story_key = ANY($1)")
            .await?;
        let by_source: [&(dyn ToSql + Sync); 2] = [&source_id, &keys];
        let by_story: [&(dyn ToSql + Sync); 1] = [&story_keys];
        // Sent together: tokio-postgres pipelines queries on one connection.
        let (stored, item_tombs, story_tombs) = tokio::join!(
            tx.query(&by_item, &by_source),
            tx.query(&by_item_tomb, &by_source),
            tx.query(&by_story_tomb, &by_story),
        );
        Ok(Known {
            items: stored?
                .iter()
                .map(|r| (r.get(0), (r.get(1), r.get(2))))
                .collect(),
            item_tombstones: item_tombs?.iter().map(|r| (r.get(0), r.get(1))).collect(),
            story_tombstones: story_tombs?.iter().map(|r| (r.get(0), r.get(1))).collect(),
        })
    }

    /// The stored item of `key`: (story id, content hash).
    pub(super) fn item(&self, key: &str) -> Option<(i64, String)> {
        self.items.get(key).cloned()
    }

    /// The tombstone `item` falls under: by its item key, else by its
    /// story key; `true` in the second case (the item key is then added
    /// to the tombstone).
    pub(super) fn tombstone(&self, item: &Item) -> Option<(i64, bool)> {
        if let Some(id) = self.item_tombstones.get(&item.key) {
            return Some((*id, false));
        }
        self.story_tombstones
            .get(&item.story_key)
            .map(|id| (*id, true))
    }

    /// Records what this poll just wrote for `key`.
    pub(super) fn stored(&mut self, key: &str, story_id: i64, hash: &str) {
        self.items
            .insert(key.to_string(), (story_id, hash.to_string()));
    }

    /// Records that this poll added `key` to tombstone `id`.
    pub(super) fn tombstoned(&mut self, key: &str, id: i64) {
        self.item_tombstones.insert(key.to_string(), id);
    }
}
