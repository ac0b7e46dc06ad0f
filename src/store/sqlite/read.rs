//! Reads, on pooled read-only connections.

use super::super::{PollState, SourceStatus, StoreError, StoryQuery};
use crate::fetch::Validators;
use crate::model::{SourceRef, Story};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};

const STORY_COLUMNS: &str = "s.uid, s.title, s.link, s.summary, s.content, s.authors, s.categories,
     s.language, s.published, s.updated, src.name, COALESCE(src.config_title, src.title), src.url, src.site_url";

pub(super) fn poll_state(conn: &Connection, source: &str) -> Result<PollState, StoreError> {
    let v = conn
        .prepare_cached(
            "SELECT etag, last_modified, consecutive_failures FROM sources WHERE name = ?1",
        )?
        .query_row([source], |r| {
            Ok(PollState {
                validators: Validators {
                    etag: r.get(0)?,
                    last_modified: r.get(1)?,
                },
                consecutive_failures: r.get::<_, i64>(2)?.try_into().unwrap_or(u32::MAX),
            })
        })
        .optional()?;
    Ok(v.unwrap_or_default())
}

pub(super) fn stories(conn: &Connection, q: &StoryQuery) -> Result<Vec<Story>, StoreError> {
    let limit = q.limit as i64;
    let sql = match q.section_keys.len() {
        0 => format!(
            "SELECT {STORY_COLUMNS} FROM stories s JOIN sources src ON src.id = s.source_id
             ORDER BY s.published DESC, s.id DESC LIMIT ?1"
        ),
        // The hot path: the section index is already in feed order.
        1 => format!(
            "SELECT {STORY_COLUMNS} FROM story_sections ss
               JOIN stories s ON s.id = ss.story_id
               JOIN sources src ON src.id = s.source_id
             WHERE ss.section_key = ?2
             ORDER BY ss.published DESC, ss.story_id DESC LIMIT ?1"
        ),
        n => format!(
            "SELECT {STORY_COLUMNS} FROM stories s JOIN sources src ON src.id = s.source_id
             WHERE s.id IN (SELECT story_id FROM story_sections WHERE section_key IN ({}))
             ORDER BY s.published DESC, s.id DESC LIMIT ?1",
            (2..n + 2)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let params = std::iter::once(rusqlite::types::Value::Integer(limit)).chain(
        q.section_keys
            .iter()
            .map(|k| rusqlite::types::Value::Text(k.clone())),
    );
    let rows = stmt.query_map(params_from_iter(params), story_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn story_from_row(r: &Row<'_>) -> rusqlite::Result<Story> {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    Ok(Story {
        id: r.get(0)?,
        title: r.get(1)?,
        link: r.get(2)?,
        summary: r.get(3)?,
        content: r.get(4)?,
        authors: list(r.get(5)?),
        categories: list(r.get(6)?),
        language: r.get(7)?,
        published: time(r.get(8)?),
        updated: time(r.get(9)?),
        source: SourceRef {
            name: r.get(10)?,
            title: r.get(11)?,
            feed_url: r.get(12)?,
            site_url: r.get(13)?,
        },
    })
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

pub(super) fn stored_section(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name FROM story_sections WHERE section_key = ?1 LIMIT 1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(super) fn source_status(conn: &Connection) -> Result<Vec<SourceStatus>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, url, COALESCE(config_title, title), last_attempt, last_success, last_status, last_error,
                consecutive_failures, (SELECT COUNT(*) FROM items i WHERE i.source_id = sources.id),
                failing_since, next_check_at, moved_to
         FROM sources ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SourceStatus {
            name: r.get(0)?,
            url: r.get(1)?,
            title: r.get(2)?,
            last_attempt: r.get::<_, Option<i64>>(3)?.map(time),
            last_success: r.get::<_, Option<i64>>(4)?.map(time),
            last_status: r
                .get::<_, Option<i64>>(5)?
                .and_then(|s| u16::try_from(s).ok()),
            last_error: r.get(6)?,
            consecutive_failures: r.get::<_, i64>(7)?.try_into().unwrap_or(u32::MAX),
            items: r.get::<_, i64>(8)?.try_into().unwrap_or(0),
            failing_since: r.get::<_, Option<i64>>(9)?.map(time),
            next_check: r.get::<_, Option<i64>>(10)?.map(time),
            moved_to: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
