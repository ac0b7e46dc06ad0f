//! `cluster_members` on SQLite: the clustering window read on a pooled
//! reader, memberships written on the writer.

use super::super::StoreError;
use super::super::cluster::{ClusterMember, WindowStory};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

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
    let rows = stmt.query_map(params![since, unclustered_only as i64], |r| {
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
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
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
