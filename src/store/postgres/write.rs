//! Writes, each poll in one transaction: either everything a poll found is
//! stored, or nothing is and the previous state stands. The steps follow
//! SQLite's (`sqlite::write`) statement for statement, so both backends
//! count new, merged, updated and unchanged items alike.

use super::super::{ArticleOutcome, PollRecord, PollResult, SourceSpec, StoreError, WriteSummary};
use super::known::Known;
use super::{pg_error, retryable, words};
use crate::model::Item;
use crate::store::rows::ItemRow;
pub(super) use crate::store::rows::prepare;
use deadpool_postgres::{Client, Transaction};
use std::sync::LazyLock;

/// Why a write did not commit: a transaction PostgreSQL aborted that may
/// succeed from the start, or a failure to report.
pub(super) enum Failure {
    /// A deadlock or serialization failure: run the whole write again.
    Retry(tokio_postgres::Error),
    /// Anything else.
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Failure {
        if retryable(&e) {
            Failure::Retry(e)
        } else {
            Failure::Store(pg_error(e))
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

/// The host of a source's URL, for the per-host cap of a claim.
fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

pub(super) async fn register_sources(
    client: &mut Client,
    sources: &[SourceSpec],
) -> Result<(), StoreError> {
    // One statement per chunk of rows (arrays unnested), not a round trip
    // per source: 100,000 sources took four workers starting together 48 s.
    // Rows in name order, the same in every worker, so two registering at
    // once wait for each other's row locks and never deadlock; one row per
    // name, since an upsert may not touch a row twice in one statement.
    let mut by_name: std::collections::BTreeMap<&str, &SourceSpec> = Default::default();
    for s in sources {
        by_name.insert(&s.name, s);
    }
    let rows: Vec<&SourceSpec> = by_name.into_values().collect();
    let tx = client.transaction().await.map_err(pg_error)?;
    let upsert = tx
        .prepare_cached(
            "INSERT INTO sources (name, url, config_title, host)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
             ON CONFLICT (name) DO UPDATE SET
                 -- A changed URL is a different feed: its validators are void.
                 etag = CASE WHEN sources.url = excluded.url THEN sources.etag END,
                 last_modified = CASE WHEN sources.url = excluded.url THEN sources.last_modified END,
                 url = excluded.url,
                 host = excluded.host,
                 config_title = excluded.config_title",
        )
        .await
        .map_err(pg_error)?;
    for chunk in rows.chunks(REGISTER_CHUNK) {
        let names: Vec<&str> = chunk.iter().map(|s| s.name.as_str()).collect();
        let urls: Vec<&str> = chunk.iter().map(|s| s.url.as_str()).collect();
        let titles: Vec<Option<&str>> = chunk.iter().map(|s| s.title.as_deref()).collect();
        let hosts: Vec<String> = chunk.iter().map(|s| host(&s.url)).collect();
        tx.execute(&upsert, &[&names, &urls, &titles, &hosts])
            .await
            .map_err(pg_error)?;
    }
    tx.commit().await.map_err(pg_error)
}

/// Sources registered per statement.
const REGISTER_CHUNK: usize = 5_000;

/// One poll's result, in one transaction. With a lease (worker, epoch),
/// the source row is locked first and the write goes ahead only while the
/// lease epoch is still the one claimed: a worker that lost its lease
/// writes nothing.
pub(super) async fn record_poll(
    client: &mut Client,
    source: &str,
    lease: Option<(&str, i64)>,
    record: &PollRecord,
    rows: &[ItemRow],
) -> Result<WriteSummary, Failure> {
    let tx = client.transaction().await?;
    let now = record.at.timestamp();
    let next = record.next_check.timestamp();
    let found = tx
        .query_opt(
            &tx.prepare_cached("SELECT id, lease_epoch FROM sources WHERE name = $1 FOR UPDATE")
                .await?,
            &[&source],
        )
        .await?;
    let Some(found) = found else {
        return Err(StoreError::UnknownSource(source.to_string()).into());
    };
    let (source_id, epoch): (i64, i64) = (found.get(0), found.get(1));
    if let Some((_, claimed)) = lease
        && claimed != epoch
    {
        return Err(StoreError::LeaseLost {
            name: source.to_string(),
        }
        .into());
    }
    let worker = lease.map(|(w, _)| w);
    let mut summary = WriteSummary::default();
    match &record.result {
        PollResult::Fetched {
            validators,
            status,
            meta,
            items,
        } => {
            let stmt = tx
                .prepare_cached(
                    "UPDATE sources SET etag = $2, last_modified = $3, title = $4, site_url = $5,
                         last_attempt = $6, last_success = $6, last_status = $7, last_error = NULL,
                         consecutive_failures = 0, failing_since = NULL, next_check_at = $8,
                         moved_to = $9, lease_owner = NULL, last_polled_by = COALESCE($10, last_polled_by)
                     WHERE id = $1",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &source_id,
                    &validators.etag,
                    &validators.last_modified,
                    &meta.title,
                    &meta.site_url,
                    &now,
                    &i64::from(*status),
                    &next,
                    &record.moved_to,
                    &worker,
                ],
            )
            .await?;
            let mut known = Known::read(&tx, source_id, items).await?;
            for (item, row) in items.iter().zip(rows) {
                store_item(&tx, source_id, now, item, row, &mut known, &mut summary).await?;
            }
        }
        PollResult::NotModified => {
            let stmt = tx
                .prepare_cached(
                    "UPDATE sources SET last_attempt = $2, last_success = $2, last_status = 304,
                         last_error = NULL, consecutive_failures = 0, failing_since = NULL,
                         next_check_at = $3, moved_to = $4, lease_owner = NULL,
                         last_polled_by = COALESCE($5, last_polled_by)
                     WHERE id = $1",
                )
                .await?;
            tx.execute(&stmt, &[&source_id, &now, &next, &record.moved_to, &worker])
                .await?;
        }
        PollResult::Failed { status, error } => {
            let stmt = tx
                .prepare_cached(
                    "UPDATE sources SET last_attempt = $2, last_status = $3, last_error = $4,
                         consecutive_failures = consecutive_failures + 1,
                         failing_since = COALESCE(failing_since, $2), next_check_at = $5,
                         moved_to = COALESCE($6, moved_to), lease_owner = NULL,
                         last_polled_by = COALESCE($7, last_polled_by)
                     WHERE id = $1
                     RETURNING consecutive_failures, failing_since",
                )
                .await?;
            let status = status.map(i64::from);
            let row = tx
                .query_one(
                    &stmt,
                    &[
                        &source_id,
                        &now,
                        &status,
                        error,
                        &next,
                        &record.moved_to,
                        &worker,
                    ],
                )
                .await?;
            summary.consecutive_failures = row.get::<_, i64>(0).try_into().unwrap_or(u32::MAX);
            summary.failing_since = row
                .get::<_, Option<i64>>(1)
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        }
    }
    record_articles(&tx, source_id, now, &record.articles).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Remembers each article page tried (see `sqlite::write`).
async fn record_articles(
    tx: &Transaction<'_>,
    source_id: i64,
    now: i64,
    articles: &[ArticleOutcome],
) -> Result<(), Failure> {
    if articles.is_empty() {
        return Ok(());
    }
    let upsert = tx
        .prepare_cached(
            "INSERT INTO article_pages (source_id, link, attempts, extract, last_error, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (source_id, link) DO UPDATE SET
                 attempts = article_pages.attempts + excluded.attempts,
                 extract = COALESCE(excluded.extract, article_pages.extract),
                 last_error = excluded.last_error,
                 updated_at = excluded.updated_at",
        )
        .await?;
    for a in articles {
        let (attempts, extract, error): (i64, Option<String>, Option<&str>) = match &a.result {
            Ok(x) => (0, serde_json::to_string(x).ok(), None),
            Err(e) => (1, None, Some(e.as_str())),
        };
        tx.execute(
            &upsert,
            &[&source_id, &a.link, &attempts, &extract, &error, &now],
        )
        .await?;
    }
    Ok(())
}

/// One item of a fetched poll: unchanged, an edit, a tombstoned item, or
/// new (a new story or a merge), as in `sqlite::write::store_item`.
async fn store_item(
    tx: &Transaction<'_>,
    source_id: i64,
    now: i64,
    item: &Item,
    row: &ItemRow,
    known: &mut Known,
    summary: &mut WriteSummary,
) -> Result<(), Failure> {
    match known.item(&item.key) {
        Some((_, hash)) if hash == item.content_hash => summary.unchanged += 1,
        Some((story_id, _)) => {
            update_story(tx, source_id, story_id, now, item, row).await?;
            known.stored(&item.key, story_id, &item.content_hash);
            summary.updated += 1;
        }
        None if super::purge::tombstoned(tx, source_id, now, item, known).await? => {
            summary.tombstoned += 1
        }
        None => {
            let (is_new, story_id) = insert_item(tx, source_id, now, item, row).await?;
            known.stored(&item.key, story_id, &item.content_hash);
            if is_new {
                summary.new_stories += 1;
            } else {
                summary.merged += 1;
            }
        }
    }
    Ok(())
}

/// An edit: the story changes in place, keeping its id and sort date.
async fn update_story(
    tx: &Transaction<'_>,
    source_id: i64,
    story_id: i64,
    now: i64,
    item: &Item,
    row: &ItemRow,
) -> Result<(), Failure> {
    // RSS carries no modification date: a date that does not move forward
    // means "edited now" (as on SQLite).
    let claimed = item.updated.map(|d| d.timestamp()).unwrap_or(0);
    static UPDATE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE stories SET title = $2, link = COALESCE($3, link), summary = $4, content = $5,
                 authors = $6, categories = $7, language = COALESCE($8, language),
                 updated = CASE WHEN $9 > updated THEN $9 ELSE GREATEST(updated, $10) END,
                 enclosures = $11, words = {}
             WHERE id = $1
             RETURNING published",
            words::vector_sql("$12")
        )
    });
    let stmt = tx.prepare_cached(&UPDATE).await?;
    let vector = words::vector_text(&row.index_text);
    let published: i64 = tx
        .query_one(
            &stmt,
            &[
                &story_id,
                &item.title,
                &item.link,
                &item.summary,
                &item.content,
                &row.authors,
                &row.categories,
                &item.language,
                &claimed,
                &now,
                &row.enclosures,
                &vector.as_ref(),
            ],
        )
        .await?
        .get(0);
    let stmt = tx
        .prepare_cached("UPDATE items SET content_hash = $3 WHERE source_id = $1 AND item_key = $2")
        .await?;
    tx.execute(&stmt, &[&source_id, &item.key, &item.content_hash])
        .await?;
    add_sections(tx, story_id, published, &row.sections).await
}

/// A new item of this source with its story: a new story, or (its story
/// key taken, perhaps by another worker a moment ago) a merge into the
/// existing one. `ON CONFLICT DO NOTHING` waits for a concurrent insert of
/// the same key to commit, so the lookup after it always finds the row.
async fn insert_item(
    tx: &Transaction<'_>,
    source_id: i64,
    now: i64,
    item: &Item,
    row: &ItemRow,
) -> Result<(bool, i64), Failure> {
    let published = item.published.map(|d| d.timestamp()).unwrap_or(now);
    let updated = item
        .updated
        .map(|d| d.timestamp())
        .unwrap_or(published)
        .max(published);
    static INSERT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO stories (story_key, uid, source_id, title, link, summary, content,
                 authors, categories, language, published, updated, first_seen, enclosures, words)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, {})
             ON CONFLICT (story_key) DO NOTHING
             RETURNING id",
            words::vector_sql("$15")
        )
    });
    let stmt = tx.prepare_cached(&INSERT).await?;
    let vector = words::vector_text(&row.index_text);
    let inserted = tx
        .query_opt(
            &stmt,
            &[
                &item.story_key,
                &row.uid,
                &source_id,
                &item.title,
                &item.link,
                &item.summary,
                &item.content,
                &row.authors,
                &row.categories,
                &item.language,
                &published,
                &updated,
                &now,
                &row.enclosures,
                &vector.as_ref(),
            ],
        )
        .await?;
    let is_new = inserted.is_some();
    let (story_id, published) = match inserted {
        Some(r) => (r.get::<_, i64>(0), published),
        None => {
            let stmt = tx
                .prepare_cached("SELECT id, published FROM stories WHERE story_key = $1")
                .await?;
            let r = tx.query_one(&stmt, &[&item.story_key]).await?;
            let found: (i64, i64) = (r.get(0), r.get(1));
            if item.content.is_some() {
                let stmt = tx
                    .prepare_cached(
                        "UPDATE stories SET content = $2, updated = GREATEST(updated, $3)
                         WHERE id = $1 AND content IS NULL",
                    )
                    .await?;
                tx.execute(&stmt, &[&found.0, &item.content, &now]).await?;
            }
            found
        }
    };
    let stmt = tx
        .prepare_cached(
            "INSERT INTO items (source_id, item_key, story_id, content_hash, guid, first_seen)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    // The item row and the sections need only the story id: sent together
    // (tokio-postgres pipelines them), one round trip instead of two.
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
        &source_id,
        &item.key,
        &story_id,
        &item.content_hash,
        &item.guid,
        &now,
    ];
    let (inserted, sections) = tokio::join!(
        tx.execute(&stmt, &params),
        add_sections(tx, story_id, published, &row.sections),
    );
    inserted?;
    sections?;
    Ok((is_new, story_id))
}

/// Adds sections to a story, its fixed `published` copied beside them.
async fn add_sections(
    tx: &Transaction<'_>,
    story_id: i64,
    published: i64,
    names: &[(String, String)],
) -> Result<(), Failure> {
    if names.is_empty() {
        return Ok(());
    }
    let insert = tx
        .prepare_cached(
            "INSERT INTO story_sections (section_key, published, story_id, name)
             VALUES ($2, $4, $1, $3) ON CONFLICT DO NOTHING",
        )
        .await?;
    for (key, name) in names {
        tx.execute(&insert, &[&story_id, key, name, &published])
            .await?;
    }
    Ok(())
}
