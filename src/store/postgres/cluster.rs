//! `cluster_members` on PostgreSQL, as `sqlite::cluster` does it.

use super::super::StoreError;
use super::super::cluster::{ClusterMember, ClusterView, FIRST, WindowStory};
use super::{PgStore, pg_error};
use crate::model::Related;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

fn window_story(r: &tokio_postgres::Row) -> WindowStory {
    let id: i64 = r.get(0);
    let cluster_id: Option<i64> = r.get(6);
    WindowStory {
        id,
        source: r.get(1),
        title: r.get(2),
        lead: r.get(3),
        published: DateTime::<Utc>::from_timestamp(r.get(4), 0).unwrap_or_default(),
        lang: r.get(5),
        member: cluster_id.map(|cluster_id| ClusterMember {
            story_id: id,
            cluster_id,
            rule: r.get(7),
            score: r.get(8),
        }),
    }
}

impl PgStore {
    /// Stories published at or after `since`, oldest first, with
    /// membership; with `unclustered_after`, only unplaced ones above that
    /// id (`-1` below reads as "every id": a sequence never gives 0 or less).
    pub(super) async fn window(
        &self,
        since: DateTime<Utc>,
        unclustered_after: Option<i64>,
    ) -> Result<Vec<WindowStory>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT s.id, src.name, s.title, substr(COALESCE(s.summary, s.content, ''), 1, 6000), s.published,
                        s.language, m.cluster_id, m.rule, m.score
                 FROM stories s
                 JOIN sources src ON src.id = s.source_id
                 LEFT JOIN cluster_members m ON m.story_id = s.id
                 WHERE s.published >= $1
                   AND ($2::bigint < 0 OR (s.id > $2::bigint AND m.story_id IS NULL))
                 ORDER BY s.published, s.id",
            )
            .await
            .map_err(pg_error)?;
        let rows = client
            .query(
                &stmt,
                &[&since.timestamp(), &unclustered_after.unwrap_or(-1)],
            )
            .await
            .map_err(pg_error)?;
        Ok(rows.iter().map(window_story).collect())
    }

    /// The story with entry id or link `key`, and its cluster's members.
    pub(super) async fn cluster_of_key(
        &self,
        key: &str,
    ) -> Result<Option<(WindowStory, Vec<WindowStory>)>, StoreError> {
        let client = self.client().await?;
        let from = "FROM stories s JOIN sources src ON src.id = s.source_id
                    LEFT JOIN cluster_members m ON m.story_id = s.id";
        let cols = "s.id, src.name, s.title, substr(COALESCE(s.summary, s.content, ''), 1, 6000), s.published,
                    s.language, m.cluster_id, m.rule, m.score";
        let row = client
            .query_opt(
                &format!(
                    "SELECT {cols} {from} WHERE s.uid = $1 OR s.link = $1
                     ORDER BY s.published, s.id LIMIT 1"
                ),
                &[&key],
            )
            .await
            .map_err(pg_error)?;
        let Some(story) = row.as_ref().map(window_story) else {
            return Ok(None);
        };
        let Some(cluster) = story.member.as_ref().map(|m| m.cluster_id) else {
            return Ok(Some((story.clone(), vec![story])));
        };
        let rows = client
            .query(
                &format!("SELECT {cols} {from} WHERE m.cluster_id = $1 ORDER BY s.published, s.id"),
                &[&cluster],
            )
            .await
            .map_err(pg_error)?;
        Ok(Some((story, rows.iter().map(window_story).collect())))
    }

    /// Replaces the rows of `members` in one transaction; a story purged
    /// meanwhile is skipped, and one placed in a cluster whose first report
    /// was purged meanwhile is recorded as a first report (as SQLite's).
    pub(super) async fn record_members(&self, members: &[ClusterMember]) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO cluster_members (story_id, cluster_id, rule, score)
                 SELECT s.id,
                        CASE WHEN f.id IS NULL THEN s.id ELSE $2::bigint END,
                        CASE WHEN f.id IS NULL THEN $5::text ELSE $3::text END,
                        CASE WHEN f.id IS NULL THEN 1.0::float8 ELSE $4::float8 END
                 FROM stories s LEFT JOIN stories f ON f.id = $2::bigint WHERE s.id = $1
                 ON CONFLICT (story_id) DO UPDATE
                 SET cluster_id = EXCLUDED.cluster_id, rule = EXCLUDED.rule, score = EXCLUDED.score",
            )
            .await
            .map_err(pg_error)?;
        for m in members {
            tx.execute(
                &stmt,
                &[&m.story_id, &m.cluster_id, &m.rule, &m.score, &FIRST],
            )
            .await
            .map_err(pg_error)?;
        }
        tx.commit().await.map_err(pg_error)
    }
}

impl PgStore {
    /// The views of `ids` for feeds drawing from `keys`, as SQLite's.
    pub(super) async fn views(
        &self,
        ids: &[i64],
        keys: &[String],
        sources: &[String],
    ) -> Result<HashMap<i64, ClusterView>, StoreError> {
        let client = self.client().await?;
        let membership = client
            .prepare_cached(
                "SELECT m.story_id, m.cluster_id,
                        (cardinality($2::text[]) = 0 OR EXISTS (
                            SELECT 1 FROM story_sections x
                            WHERE x.story_id = m.cluster_id AND x.section_key = ANY($2)))
                        AND (cardinality($3::text[]) = 0 OR src.name = ANY($3))
                 FROM cluster_members m JOIN stories f ON f.id = m.cluster_id
                 JOIN sources src ON src.id = f.source_id
                 WHERE m.story_id = ANY($1)",
            )
            .await
            .map_err(pg_error)?;
        let others = client
            .prepare_cached(
                "SELECT m.cluster_id, s.link, s.title, COALESCE(src.config_title, src.title, src.name), s.published,
                        s.summary
                 FROM cluster_members m
                 JOIN stories s ON s.id = m.story_id
                 JOIN sources src ON src.id = s.source_id
                 WHERE m.cluster_id = ANY($1) AND m.story_id != m.cluster_id
                 ORDER BY s.published, s.id",
            )
            .await
            .map_err(pg_error)?;
        let ids = ids.to_vec();
        let keys = keys.to_vec();
        let sources = sources.to_vec();
        let rows = client
            .query(&membership, &[&ids, &keys, &sources])
            .await
            .map_err(pg_error)?;
        let mut out = HashMap::new();
        let mut firsts = Vec::new();
        for r in rows {
            let (id, cluster, shown): (i64, i64, bool) = (r.get(0), r.get(1), r.get(2));
            if id == cluster {
                firsts.push(id);
            } else if shown {
                out.insert(id, ClusterView::Hidden);
            }
        }
        if firsts.is_empty() {
            return Ok(out);
        }
        let rows = client.query(&others, &[&firsts]).await.map_err(pg_error)?;
        for r in rows {
            let related = Related {
                link: r.get(1),
                title: r.get(2),
                source: r.get(3),
                published: DateTime::<Utc>::from_timestamp(r.get(4), 0).unwrap_or_default(),
                summary: r.get(5),
            };
            if let ClusterView::First(list) = out
                .entry(r.get::<_, i64>(0))
                .or_insert_with(|| ClusterView::First(Vec::new()))
            {
                list.push(related);
            }
        }
        Ok(out)
    }
}
