//! `cluster_members` on SQLite: the clustering window read on a pooled
//! reader, memberships written on the writer.

use super::super::StoreError;
use super::super::cluster::{ClusterMember, ClusterView, WindowStory};
use crate::model::Related;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// Stories published at or after `since`, oldest first, with membership.
pub(super) fn window(
    conn: &Connection,
    since: i64,
    unclustered_only: bool,
) -> Result<Vec<WindowStory>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, src.name, s.title, COALESCE(s.summary, s.content, ''), s.published,
                s.language, m.cluster_id, m.rule, m.score
         FROM stories s
         JOIN sources src ON src.id = s.source_id
         LEFT JOIN cluster_members m ON m.story_id = s.id
         WHERE s.published >= ?1 AND (?2 = 0 OR m.story_id IS NULL)
         ORDER BY s.published, s.id",
    )?;
    let rows = stmt.query_map(params![since, unclustered_only as i64], window_story)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The columns `SELECT`ed by [`window`] and [`cluster_of`], in that order.
const WINDOW_COLUMNS: &str = "s.id, src.name, s.title, COALESCE(s.summary, s.content, ''),
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
/// (the `SELECT` finds no story, so nothing is inserted).
pub(super) fn record(conn: &Connection, members: &[ClusterMember]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO cluster_members (story_id, cluster_id, rule, score)
         SELECT id, ?2, ?3, ?4 FROM stories WHERE id = ?1",
    )?;
    for m in members {
        stmt.execute(params![m.story_id, m.cluster_id, m.rule, m.score])?;
    }
    Ok(())
}

/// The views of `ids` for feeds drawing from `keys` (see
/// `Store::cluster_views`). A member is hidden only when its first report
/// still exists and is in one of the feed's sections, so clustering never
/// takes an event out of a feed that does not show its first report.
pub(super) fn views(
    conn: &Connection,
    ids: &[i64],
    keys: &[String],
) -> Result<HashMap<i64, ClusterView>, StoreError> {
    let mut membership = conn.prepare_cached(
        "SELECT m.cluster_id FROM cluster_members m
         JOIN stories f ON f.id = m.cluster_id WHERE m.story_id = ?1",
    )?;
    let mut in_sections = conn
        .prepare_cached("SELECT 1 FROM story_sections WHERE story_id = ?1 AND section_key = ?2")?;
    let mut others = conn.prepare_cached(
        "SELECT s.link, s.title, COALESCE(src.config_title, src.title, src.name), s.published
         FROM cluster_members m
         JOIN stories s ON s.id = m.story_id
         JOIN sources src ON src.id = s.source_id
         WHERE m.cluster_id = ?1 AND m.story_id != ?1
         ORDER BY s.published, s.id",
    )?;
    let mut out = HashMap::new();
    for &id in ids {
        let Some(cluster) = membership
            .query_row([id], |r| r.get::<_, i64>(0))
            .optional()?
        else {
            continue;
        };
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
                })
            })?
            .collect::<Result<_, _>>()?;
        if !related.is_empty() {
            out.insert(id, ClusterView::First(related));
        }
    }
    Ok(out)
}
