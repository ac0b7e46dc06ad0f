//! `cluster_members` on SQLite: the clustering window read on a pooled
//! reader, memberships written on the writer.

use super::super::StoreError;
use super::super::cluster::{ClusterMember, ClusterView, FIRST, WindowStory};
use crate::model::Related;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// Stories published at or after `since`, oldest first, with membership;
/// with `unclustered_after`, only unplaced ones above that id.
pub(super) fn window(
    conn: &Connection,
    since: i64,
    unclustered_after: Option<i64>,
) -> Result<Vec<WindowStory>, StoreError> {
    let Some(after) = unclustered_after else {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {WINDOW_COLUMNS} {WINDOW_FROM}
             WHERE s.published >= ?1
             ORDER BY s.published, s.id"
        ))?;
        let rows = stmt.query_map(params![since], window_story)?;
        return Ok(rows.collect::<Result<_, _>>()?);
    };
    // By id range over the table itself (the newest ids are the stories
    // just stored), then by date. `NOT INDEXED`: left to itself the
    // planner walks the date index over the whole window to save the
    // sort, which made every poll's run read every story of the window.
    // A sweep (after 0) reads the window by date as the full read does:
    // the table may hold far more than the window.
    let from = if after > 0 {
        WINDOW_FROM_BY_ID
    } else {
        WINDOW_FROM
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WINDOW_COLUMNS} {from}
         WHERE s.id > ?2 AND s.published >= ?1 AND m.story_id IS NULL
         ORDER BY s.published, s.id"
    ))?;
    let rows = stmt.query_map(params![since, after], window_story)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The tables [`window`] reads.
const WINDOW_FROM: &str = "FROM stories s
     JOIN sources src ON src.id = s.source_id
     LEFT JOIN cluster_members m ON m.story_id = s.id";

/// [`WINDOW_FROM`] read by row id.
const WINDOW_FROM_BY_ID: &str = "FROM stories s NOT INDEXED
     JOIN sources src ON src.id = s.source_id
     LEFT JOIN cluster_members m ON m.story_id = s.id";

/// The columns `SELECT`ed by [`window`] and [`cluster_of`], in that order.
const WINDOW_COLUMNS: &str =
    "s.id, src.name, s.title, substr(COALESCE(s.summary, s.content, ''), 1, 6000),
     s.published, s.language, m.cluster_id, m.rule, m.score";

fn window_story(r: &rusqlite::Row<'_>) -> rusqlite::Result<WindowStory> {
    let id: i64 = r.get(0)?;
    let cluster_id: Option<i64> = r.get(6)?;
    Ok(WindowStory {
        id,
        source: r.get(1)?,
        title: r.get(2)?,
        lead: r.get(3)?,
        published: DateTime::<Utc>::from_timestamp(r.get(4)?, 0).unwrap_or_default(),
        lang: r.get(5)?,
        member: match cluster_id {
            Some(cluster_id) => Some(ClusterMember {
                story_id: id,
                cluster_id,
                rule: r.get(7)?,
                score: r.get(8)?,
            }),
            None => None,
        },
    })
}

/// The story with entry id or link `key`, and its cluster's members.
pub(super) fn cluster_of(
    conn: &Connection,
    key: &str,
) -> Result<Option<(WindowStory, Vec<WindowStory>)>, StoreError> {
    let from = "FROM stories s JOIN sources src ON src.id = s.source_id
                LEFT JOIN cluster_members m ON m.story_id = s.id";
    let story = conn
        .prepare_cached(&format!(
            "SELECT {WINDOW_COLUMNS} {from} WHERE s.uid = ?1 OR s.link = ?1
             ORDER BY s.published, s.id LIMIT 1"
        ))?
        .query_row([key], window_story)
        .optional()?;
    let Some(story) = story else {
        return Ok(None);
    };
    let Some(cluster) = story.member.as_ref().map(|m| m.cluster_id) else {
        return Ok(Some((story.clone(), vec![story])));
    };
    let members = conn
        .prepare_cached(&format!(
            "SELECT {WINDOW_COLUMNS} {from} WHERE m.cluster_id = ?1 ORDER BY s.published, s.id"
        ))?
        .query_map([cluster], window_story)?
        .collect::<Result<_, _>>()?;
    Ok(Some((story, members)))
}

/// Replaces the rows of `members`; a story purged meanwhile is skipped
/// (the `SELECT` finds no story, so nothing is inserted). A story placed in
/// a cluster whose first report was purged meanwhile (a `keep` shorter
/// than the window) is recorded as a first report of its own instead: a
/// row never names a story that is gone.
pub(super) fn record(conn: &Connection, members: &[ClusterMember]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO cluster_members (story_id, cluster_id, rule, score)
         SELECT s.id,
                CASE WHEN f.id IS NULL THEN s.id ELSE ?2 END,
                CASE WHEN f.id IS NULL THEN ?5 ELSE ?3 END,
                CASE WHEN f.id IS NULL THEN 1.0 ELSE ?4 END
         FROM stories s LEFT JOIN stories f ON f.id = ?2 WHERE s.id = ?1",
    )?;
    for m in members {
        stmt.execute(params![m.story_id, m.cluster_id, m.rule, m.score, FIRST])?;
    }
    Ok(())
}

/// The views of `ids` for feeds drawing from `keys` and, when `sources`
/// is not empty, from those sources only (see `Store::cluster_views`). A
/// member is hidden only when its first report still exists and is one the
/// feed draws from (in one of its sections, from a source it selects), so
/// clustering never takes an event out of a feed that does not show its
/// first report.
pub(super) fn views(
    conn: &Connection,
    ids: &[i64],
    keys: &[String],
    sources: &[String],
) -> Result<HashMap<i64, ClusterView>, StoreError> {
    let mut membership = conn.prepare_cached(
        "SELECT m.cluster_id, src.name FROM cluster_members m
         JOIN stories f ON f.id = m.cluster_id
         JOIN sources src ON src.id = f.source_id
         WHERE m.story_id = ?1",
    )?;
    let mut in_sections = conn
        .prepare_cached("SELECT 1 FROM story_sections WHERE story_id = ?1 AND section_key = ?2")?;
    let mut others = conn.prepare_cached(
        "SELECT s.link, s.title, COALESCE(src.config_title, src.title, src.name), s.published,
                s.summary
         FROM cluster_members m
         JOIN stories s ON s.id = m.story_id
         JOIN sources src ON src.id = s.source_id
         WHERE m.cluster_id = ?1 AND m.story_id != ?1
         ORDER BY s.published, s.id",
    )?;
    let mut out = HashMap::new();
    for &id in ids {
        let Some((cluster, first_source)) = membership
            .query_row([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .optional()?
        else {
            continue;
        };
        if cluster != id && !sources.is_empty() && !sources.contains(&first_source) {
            continue;
        }
        if cluster != id {
            let shown = keys.is_empty()
                || keys.iter().try_fold(false, |found, k| {
                    if found {
                        return Ok::<_, rusqlite::Error>(true);
                    }
                    in_sections.exists(params![cluster, k])
                })?;
            if shown {
                out.insert(id, ClusterView::Hidden);
            }
            continue;
        }
        let related: Vec<Related> = others
            .query_map([id], |r| {
                Ok(Related {
                    link: r.get(0)?,
                    title: r.get(1)?,
                    source: r.get(2)?,
                    published: DateTime::<Utc>::from_timestamp(r.get(3)?, 0).unwrap_or_default(),
                    summary: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        if !related.is_empty() {
            out.insert(id, ClusterView::First(related));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        super::super::schema::migrate(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO sources (id, name, url, title) VALUES (1, 'apa', 'https://apa.example/feed', 'APA'),
                                                     (2, 'trend', 'https://trend.example/feed', NULL);
             INSERT INTO stories (id, story_key, uid, source_id, title, link, published, updated, first_seen)
             VALUES (10, 'k10', 'urn:10', 1, 'A', 'https://apa.example/1', 100, 100, 100),
                    (11, 'k11', 'urn:11', 2, 'B', 'https://trend.example/2', 200, 200, 200);
             INSERT INTO story_sections VALUES ('политика', 100, 10, 'Политика'), ('политика', 200, 11, 'Политика');",
        )
        .unwrap();
        let m = |story_id, rule: &str| ClusterMember {
            story_id,
            cluster_id: 10,
            rule: rule.into(),
            score: 0.9,
        };
        // 12 is no story: skipped, not an error.
        record(&conn, &[m(10, "first"), m(11, "reprint"), m(12, "reprint")]).unwrap();
        conn
    }

    #[test]
    fn a_member_is_hidden_where_its_first_report_shows_and_the_first_lists_it() {
        let conn = db();
        let v = views(&conn, &[10, 11], &["политика".into()], &[]).unwrap();
        assert_eq!(v.get(&11), Some(&ClusterView::Hidden));
        let Some(ClusterView::First(related)) = v.get(&10) else {
            panic!("{v:?}")
        };
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].source, "trend");
        assert_eq!(related[0].link.as_deref(), Some("https://trend.example/2"));
        // A feed of another section does not show the first report: the
        // member stays.
        let v = views(&conn, &[11], &["экономика".into()], &[]).unwrap();
        assert!(v.is_empty(), "{v:?}");
        let (story, members) = cluster_of(&conn, "https://trend.example/2")
            .unwrap()
            .unwrap();
        assert_eq!(story.id, 11);
        assert_eq!(members.iter().map(|m| m.id).collect::<Vec<_>>(), [10, 11]);
    }

    #[test]
    fn purging_a_first_report_frees_its_members() {
        let conn = db();
        conn.execute_batch(
            "PRAGMA defer_foreign_keys = ON; BEGIN;
             DELETE FROM story_sections WHERE story_id = 10; DELETE FROM stories WHERE id = 10;
             COMMIT;",
        )
        .unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM cluster_members", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the purged story's row went with it");
        // Its member shows again as an entry of its own.
        assert!(views(&conn, &[11], &[], &[]).unwrap().is_empty());
    }
}
