//! Writes, all on the writer thread, each inside a transaction the writer
//! opened (see `writer`): either everything a poll found is stored, or
//! nothing is and the previous state stands. A write may run twice, so it
//! borrows what it stores.

use super::super::{PollRecord, PollResult, SourceSpec, StoreError, WriteSummary};
use crate::model::Item;
use crate::store::rows::ItemRow;
pub(super) use crate::store::rows::prepare;
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn register_sources(
    conn: &Connection,
    sources: &[SourceSpec],
) -> Result<(), StoreError> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO sources (name, url, config_title) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET
                 -- A changed URL is a different feed: its validators are void.
                 etag = CASE WHEN url = excluded.url THEN etag END,
                 last_modified = CASE WHEN url = excluded.url THEN last_modified END,
                 url = excluded.url,
                 config_title = excluded.config_title",
    )?;
    for s in sources {
        upsert.execute(params![s.name, s.url, s.title])?;
    }
    Ok(())
}

pub(super) fn record_poll(
    tx: &Connection,
    source: &str,
    record: &PollRecord,
    rows: &[ItemRow],
) -> Result<WriteSummary, StoreError> {
    let now = record.at.timestamp();
    let next = record.next_check.timestamp();
    let source_id: i64 = tx
        .prepare_cached("SELECT id FROM sources WHERE name = ?1")?
        .query_row([source], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::UnknownSource(source.to_string()))?;
    let mut summary = WriteSummary::default();
    match &record.result {
        PollResult::Fetched {
            validators,
            status,
            meta,
            items,
        } => {
            tx.prepare_cached(
                "UPDATE sources SET etag = ?2, last_modified = ?3, title = ?4, site_url = ?5,
                     last_attempt = ?6, last_success = ?6, last_status = ?7, last_error = NULL,
                     consecutive_failures = 0, failing_since = NULL, next_check_at = ?8, moved_to = ?9
                 WHERE id = ?1",
            )?
            .execute(params![
                source_id,
                validators.etag,
                validators.last_modified,
                meta.title,
                meta.site_url,
                now,
                status,
                next,
                record.moved_to
            ])?;
            for (item, row) in items.iter().zip(rows) {
                store_item(tx, source_id, now, item, row, &mut summary)?;
            }
        }
        PollResult::NotModified => {
            tx.prepare_cached(
                "UPDATE sources SET last_attempt = ?2, last_success = ?2, last_status = 304,
                     last_error = NULL, consecutive_failures = 0, failing_since = NULL,
                     next_check_at = ?3, moved_to = ?4
                 WHERE id = ?1",
            )?
            .execute(params![source_id, now, next, record.moved_to])?;
        }
        PollResult::Failed { status, error } => {
            let (failures, since): (i64, i64) = tx
                .prepare_cached(
                    "UPDATE sources SET last_attempt = ?2, last_status = ?3, last_error = ?4,
                         consecutive_failures = consecutive_failures + 1,
                         failing_since = COALESCE(failing_since, ?2), next_check_at = ?5,
                         moved_to = COALESCE(?6, moved_to)
                     WHERE id = ?1
                     RETURNING consecutive_failures, failing_since",
                )?
                .query_row(
                    params![source_id, now, status, error, next, record.moved_to],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
            summary.consecutive_failures = failures.try_into().unwrap_or(u32::MAX);
            summary.failing_since = chrono::DateTime::from_timestamp(since, 0);
        }
    }
    record_articles(tx, source_id, now, &record.articles)?;
    Ok(summary)
}

/// Remembers each article page tried: a success keeps its facts (and is
/// never fetched again), a failure counts one more attempt.
fn record_articles(
    tx: &Connection,
    source_id: i64,
    now: i64,
    articles: &[super::super::ArticleOutcome],
) -> Result<(), StoreError> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO article_pages (source_id, link, attempts, extract, last_error, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(source_id, link) DO UPDATE SET
             attempts = attempts + excluded.attempts,
             extract = COALESCE(excluded.extract, extract),
             last_error = excluded.last_error,
             updated_at = excluded.updated_at",
    )?;
    for a in articles {
        let (attempts, extract, error) = match &a.result {
            Ok(x) => (0, serde_json::to_string(x).ok(), None),
            Err(e) => (1, None, Some(e.as_str())),
        };
        upsert.execute(params![source_id, a.link, attempts, extract, error, now])?;
    }
    Ok(())
}

/// Stores one item of a fetched poll: unchanged (same hash), an edit of
/// the story it already belongs to, an item of a purged story (its
/// tombstone is only marked as listed), or a new item, which is a new story
/// or joins the story another source (or identity) already brought.
fn store_item(
    tx: &Connection,
    source_id: i64,
    now: i64,
    item: &Item,
    row: &ItemRow,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let known: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT story_id, content_hash FROM items WHERE source_id = ?1 AND item_key = ?2",
        )?
        .query_row(params![source_id, item.key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match known {
        Some((_, hash)) if hash == item.content_hash => summary.unchanged += 1,
        Some((story_id, _)) => {
            update_story(tx, source_id, story_id, now, item, row)?;
            summary.updated += 1;
        }
        None if super::purge::tombstoned(tx, source_id, now, item)? => summary.tombstoned += 1,
        None => {
            if insert_item(tx, source_id, now, item, row)? {
                summary.new_stories += 1;
            } else {
                summary.merged += 1;
            }
        }
    }
    Ok(())
}

/// An edit: the story changes in place and keeps its id and its sort date,
/// so readers see an update, not a new entry.
fn update_story(
    tx: &Connection,
    source_id: i64,
    story_id: i64,
    now: i64,
    item: &Item,
    row: &ItemRow,
) -> Result<(), StoreError> {
    // RSS carries no modification date (feed-rs copies pubDate), so a
    // date that does not move forward means "edited now".
    let claimed = item.updated.map(|d| d.timestamp()).unwrap_or(0);
    tx.prepare_cached(
        "UPDATE stories SET title = ?2, link = COALESCE(?3, link), summary = ?4, content = ?5,
             authors = ?6, categories = ?7, language = COALESCE(?8, language),
             updated = CASE WHEN ?9 > updated THEN ?9 ELSE MAX(updated, ?10) END,
             enclosures = ?11
         WHERE id = ?1",
    )?
    .execute(params![
        story_id,
        item.title,
        item.link,
        item.summary,
        item.content,
        row.authors,
        row.categories,
        item.language,
        claimed,
        now,
        row.enclosures
    ])?;
    let published: i64 = tx
        .prepare_cached("SELECT published FROM stories WHERE id = ?1")?
        .query_row([story_id], |r| r.get(0))?;
    index_text(tx, story_id, published, row)?;
    tx.prepare_cached("UPDATE items SET content_hash = ?3 WHERE source_id = ?1 AND item_key = ?2")?
        .execute(params![source_id, item.key, item.content_hash])?;
    if !item.sections.is_empty() {
        add_sections(tx, story_id, published, &row.sections)?;
    }
    Ok(())
}

/// A new item of this source, stored with its story: a new story, or (when
/// its story key is taken) a merge into the existing one, which then only
/// gains the item's sections. Returns whether the story is new.
fn insert_item(
    tx: &Connection,
    source_id: i64,
    now: i64,
    item: &Item,
    row: &ItemRow,
) -> Result<bool, StoreError> {
    let published = item.published.map(|d| d.timestamp()).unwrap_or(now);
    let updated = item
        .updated
        .map(|d| d.timestamp())
        .unwrap_or(published)
        .max(published);
    // Insert first and look up only on conflict: new stories (the
    // common case on a busy first poll) cost one statement, not two.
    // No RETURNING: SQLite runs it as a trigger, which makes the
    // insert a multi-row write that, with foreign keys on, opens a
    // statement journal copying every page it touches (a sixth of
    // the writer's time); the rowid and the count tell the same.
    let changed = tx
        .prepare_cached(
            "INSERT INTO stories (story_key, uid, source_id, title, link, summary, content,
                 authors, categories, language, published, updated, first_seen, enclosures)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT(story_key) DO NOTHING",
        )?
        .execute(params![
            item.story_key,
            row.uid,
            source_id,
            item.title,
            item.link,
            item.summary,
            item.content,
            row.authors,
            row.categories,
            item.language,
            published,
            updated,
            now,
            row.enclosures
        ])?;
    let is_new = changed == 1;
    let (story_id, published): (i64, i64) = if is_new {
        let id = tx.last_insert_rowid();
        super::search::index_new(tx, id, published, &row.index_text)?;
        (id, published)
    } else {
        // The same story from another source (or another identity in
        // this one): it adds its sections, and its full text when the
        // story has none yet (an article page read for an HTML source or
        // a feed with `[source.article]`).
        let found: (i64, i64) = tx
            .prepare_cached("SELECT id, published FROM stories WHERE story_key = ?1")?
            .query_row([&item.story_key], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if item.content.is_some() {
            tx.prepare_cached(
                "UPDATE stories SET content = ?2, updated = MAX(updated, ?3)
                 WHERE id = ?1 AND content IS NULL",
            )?
            .execute(params![found.0, item.content, now])?;
        }
        found
    };
    tx.prepare_cached(
        "INSERT INTO items (source_id, item_key, story_id, content_hash, guid, first_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        source_id,
        item.key,
        story_id,
        item.content_hash,
        item.guid,
        now
    ])?;
    add_sections(tx, story_id, published, &row.sections)?;
    Ok(is_new)
}

/// Adds sections to a story; the story's fixed `published` is copied so the
/// section index alone orders a section feed.
fn add_sections(
    tx: &Connection,
    story_id: i64,
    published: i64,
    names: &[(String, String)],
) -> Result<(), StoreError> {
    if names.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO story_sections (section_key, published, story_id, name)
         VALUES (?2, ?4, ?1, ?3)",
    )?;
    for (key, name) in names {
        insert.execute(params![story_id, key, name, published])?;
    }
    Ok(())
}

/// Claims due sources for the one process that polls an SQLite store (its
/// lock file refuses a second daemon): their due time moves to the lease's
/// end, as on PostgreSQL, so a crash mid-poll retries them when it ends.
/// Epochs are always 0; nobody else could take a lease.
pub(super) fn claim_due(
    tx: &Connection,
    worker: &str,
    now: i64,
    until: i64,
    limit: usize,
    per_host: usize,
) -> Result<Vec<super::super::Lease>, StoreError> {
    let mut due = tx.prepare_cached(
        "SELECT id, name, url, next_check_at FROM sources
         WHERE next_check_at IS NULL OR next_check_at <= ?1
         ORDER BY next_check_at NULLS FIRST, id",
    )?;
    let rows = due.query_map([now], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<i64>>(3)?,
        ))
    })?;
    let mut per_site: std::collections::HashMap<String, usize> = Default::default();
    let mut claimed = Vec::new();
    for row in rows {
        let (id, name, url, next) = row?;
        if claimed.len() >= limit {
            break;
        }
        let host = url::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let taken = per_site.entry(host).or_default();
        if *taken >= per_host.max(1) {
            continue;
        }
        *taken += 1;
        claimed.push((id, name, next));
    }
    let mut lease = tx.prepare_cached("UPDATE sources SET next_check_at = ?2 WHERE id = ?1")?;
    let mut out = Vec::with_capacity(claimed.len());
    for (id, name, next) in claimed {
        lease.execute(params![id, until])?;
        out.push(super::super::Lease {
            source: name,
            worker: worker.to_string(),
            epoch: 0,
            due: next.and_then(|s| chrono::DateTime::from_timestamp(s, 0)),
        });
    }
    Ok(out)
}

/// Keeps the story's row in the keyword index (`story_text`) in step with
/// its title and summary.
fn index_text(
    tx: &Connection,
    story_id: i64,
    published: i64,
    row: &ItemRow,
) -> Result<(), StoreError> {
    super::search::index(tx, story_id, published, &row.index_text)
}
