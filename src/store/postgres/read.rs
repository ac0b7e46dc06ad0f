//! Reads, on pooled connections; the same queries as `sqlite::read` in
//! PostgreSQL's dialect, so both backends page and order alike.

use super::super::{Cursor, FeedStats, PollState, SourceStatus, StoreError, StoryQuery};
use super::pg_error;
use crate::model::Validators;
use crate::model::{SourceRef, Story};
use chrono::{DateTime, Utc};
use deadpool_postgres::Client;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

const STORY_COLUMNS: &str = "s.uid, s.title, s.link, s.summary, s.content, s.authors, s.categories,
     s.language, s.published, s.updated, src.name, COALESCE(src.config_title, src.title), src.url, src.site_url,
     s.enclosures";

pub(super) async fn poll_state(client: &Client, source: &str) -> Result<PollState, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT etag, last_modified, consecutive_failures FROM sources WHERE name = $1",
        )
        .await
        .map_err(pg_error)?;
    let row = client
        .query_opt(&stmt, &[&source])
        .await
        .map_err(pg_error)?;
    Ok(row
        .map(|r| PollState {
            validators: Validators {
                etag: r.get(0),
                last_modified: r.get(1),
            },
            consecutive_failures: r.get::<_, i64>(2).try_into().unwrap_or(u32::MAX),
        })
        .unwrap_or_default())
}

/// Stories newest first with their positions; as on SQLite, one section
/// is read from the section index in feed order, so the scan stops after
/// `limit` rows.
pub(super) async fn story_page(
    client: &Client,
    q: &StoryQuery,
) -> Result<Vec<(Cursor, Story)>, StoreError> {
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let next = |params: &mut Vec<Box<dyn ToSql + Sync + Send>>, v: Box<dyn ToSql + Sync + Send>| {
        params.push(v);
        format!("${}", params.len())
    };
    let (from, pos, mut conds) = match q.section_keys.len() {
        0 => (
            "stories s JOIN sources src ON src.id = s.source_id",
            ("s.published", "s.id"),
            Vec::new(),
        ),
        1 => {
            let p = next(&mut params, Box::new(q.section_keys[0].clone()));
            (
                "story_sections ss JOIN stories s ON s.id = ss.story_id
                 JOIN sources src ON src.id = s.source_id",
                ("ss.published", "ss.story_id"),
                vec![format!("ss.section_key = {p}")],
            )
        }
        _ => {
            let p = next(&mut params, Box::new(q.section_keys.clone()));
            (
                "stories s JOIN sources src ON src.id = s.source_id",
                ("s.published", "s.id"),
                vec![format!(
                    "s.id IN (SELECT story_id FROM story_sections WHERE section_key = ANY({p}))"
                )],
            )
        }
    };
    if let Some(c) = q.before {
        let a = next(&mut params, Box::new(c.published));
        let b = next(&mut params, Box::new(c.seq));
        conds.push(format!("({}, {}) < ({a}, {b})", pos.0, pos.1));
    }
    if let Some(since) = q.since {
        let p = next(&mut params, Box::new(since.timestamp()));
        conds.push(format!("{} >= {p}", pos.0));
    }
    if !q.sources.is_empty() {
        let p = next(&mut params, Box::new(q.sources.clone()));
        conds.push(format!("src.name = ANY({p})"));
    }
    if let Some(keyword) = q.q.as_deref().and_then(super::words::keyword_query) {
        let p = next(&mut params, Box::new(keyword));
        conds.push(format!("s.words @@ {p}::text::tsquery"));
    }
    if let Some(lang) = &q.lang {
        // As SQLite's reader and `feeds::filter`: `_` read as `-`, ASCII
        // case ignored, the tag itself or one of its subtags.
        let want = lang.to_ascii_lowercase();
        let a = next(&mut params, Box::new(want.clone()));
        let b = next(&mut params, Box::new(format!("{want}-%")));
        conds.push(format!(
            "(lower(replace(s.language, '_', '-')) = {a} OR lower(replace(s.language, '_', '-')) LIKE {b})"
        ));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let limit = next(
        &mut params,
        Box::new(i64::try_from(q.limit).unwrap_or(i64::MAX)),
    );
    let sql = format!(
        "SELECT {STORY_COLUMNS}, {p}, {i} FROM {from} {filter}
         ORDER BY {p} DESC, {i} DESC LIMIT {limit}",
        p = pos.0,
        i = pos.1
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg_error)?;
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let rows = client.query(&stmt, &refs).await.map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| {
            let cursor = Cursor {
                published: r.get(15),
                seq: r.get(16),
            };
            (cursor, story_from_row(r))
        })
        .collect())
}

fn story_from_row(r: &Row) -> Story {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    Story {
        id: r.get(0),
        title: r.get(1),
        link: r.get(2),
        summary: r.get(3),
        content: r.get(4),
        authors: list(r.get(5)),
        categories: list(r.get(6)),
        language: r.get(7),
        enclosures: serde_json::from_str(r.get::<_, &str>(14)).unwrap_or_default(),
        published: time(r.get(8)),
        updated: time(r.get(9)),
        source: SourceRef {
            name: r.get(10),
            title: r.get(11),
            feed_url: r.get(12),
            site_url: r.get(13),
        },
        related: Vec::new(),
    }
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

pub(super) async fn stored_section(
    client: &Client,
    key: &str,
) -> Result<Option<String>, StoreError> {
    let stmt = client
        .prepare_cached("SELECT name FROM story_sections WHERE section_key = $1 LIMIT 1")
        .await
        .map_err(pg_error)?;
    let row = client.query_opt(&stmt, &[&key]).await.map_err(pg_error)?;
    Ok(row.map(|r| r.get(0)))
}

pub(super) async fn stored_sections(client: &Client) -> Result<Vec<(String, String)>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT section_key, MIN(name) FROM story_sections GROUP BY section_key ORDER BY section_key",
        )
        .await
        .map_err(pg_error)?;
    let rows = client.query(&stmt, &[]).await.map_err(pg_error)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(super) async fn feed_stats(client: &Client, keys: &[String]) -> Result<FeedStats, StoreError> {
    if keys.is_empty() {
        return Ok(FeedStats::default());
    }
    let stmt = client
        .prepare_cached(
            "SELECT COUNT(*), MAX(s.updated) FROM stories s WHERE s.id IN
               (SELECT story_id FROM story_sections WHERE section_key = ANY($1))",
        )
        .await
        .map_err(pg_error)?;
    let row = client.query_one(&stmt, &[&keys]).await.map_err(pg_error)?;
    Ok(FeedStats {
        stories: row.get::<_, i64>(0).try_into().unwrap_or(0),
        updated: row.get::<_, Option<i64>>(1).map(time),
    })
}

pub(super) async fn source_status(client: &Client) -> Result<Vec<SourceStatus>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT name, url, COALESCE(config_title, title), last_attempt, last_success, last_status,
                    last_error, consecutive_failures,
                    (SELECT COUNT(*) FROM items i WHERE i.source_id = sources.id),
                    failing_since, next_check_at, moved_to, site_url, last_polled_by,
                    CASE WHEN next_check_at > extract(epoch FROM now())::bigint THEN lease_owner END
             FROM sources ORDER BY name",
        )
        .await
        .map_err(pg_error)?;
    let rows = client.query(&stmt, &[]).await.map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| SourceStatus {
            name: r.get(0),
            url: r.get(1),
            title: r.get(2),
            last_attempt: r.get::<_, Option<i64>>(3).map(time),
            last_success: r.get::<_, Option<i64>>(4).map(time),
            last_status: r
                .get::<_, Option<i64>>(5)
                .and_then(|s| u16::try_from(s).ok()),
            last_error: r.get(6),
            consecutive_failures: r.get::<_, i64>(7).try_into().unwrap_or(u32::MAX),
            items: r.get::<_, i64>(8).try_into().unwrap_or(0),
            failing_since: r.get::<_, Option<i64>>(9).map(time),
            next_check: r.get::<_, Option<i64>>(10).map(time),
            moved_to: r.get(11),
            site_url: r.get(12),
            polled_by: r.get(13),
            lease_holder: r.get(14),
        })
        .collect())
}

pub(super) async fn article_pages(
    client: &Client,
    source: &str,
    links: &[String],
) -> Result<std::collections::HashMap<String, crate::model::article::ArticlePage>, StoreError> {
    let mut out = std::collections::HashMap::new();
    if links.is_empty() {
        return Ok(out);
    }
    let stmt = client
        .prepare_cached(
            "SELECT a.link, a.attempts, a.extract FROM article_pages a
             JOIN sources s ON s.id = a.source_id
             WHERE s.name = $1 AND a.link = ANY($2)",
        )
        .await
        .map_err(pg_error)?;
    let rows = client
        .query(&stmt, &[&source, &links])
        .await
        .map_err(pg_error)?;
    for r in rows {
        let extract: Option<String> = r.get(2);
        out.insert(
            r.get(0),
            crate::model::article::ArticlePage {
                attempts: r.get::<_, i64>(1).try_into().unwrap_or(u32::MAX),
                extract: extract.and_then(|e| serde_json::from_str(&e).ok()),
            },
        );
    }
    Ok(out)
}
