//! PostgreSQL schema, versioned in a `schema_version` table. A shipped
//! migration is never edited: changes are new entries appended to
//! [`MIGRATIONS`]. Migrations run under a transaction-scoped advisory lock,
//! so two processes starting at once on an empty database never both create
//! the tables: the second waits, then finds the schema current.
//!
//! The columns mirror SQLite's (times as UTC seconds in `bigint`, lists as
//! JSON text), so `migrate-store` copies rows unchanged and both backends
//! answer alike. Names and section keys sort by byte (`COLLATE "C"`), as
//! SQLite's default collation does.

use super::super::StoreError;
use super::pg_error;
use deadpool_postgres::Client;

/// Key of the advisory lock held while migrating (any constant; this one
/// is "feedmerge" in ASCII, truncated to fit).
const MIGRATION_LOCK: i64 = 0x6665_6564_6d65_7267;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: everything SQLite's migrations 1 to 5 hold, plus what several
    // workers need: a source's host (the per-host cap of a claim), its
    // lease (owner and epoch, the fencing token) and who polled it last.
    r#"
    CREATE TABLE sources (
        id                   bigserial PRIMARY KEY,
        name                 text COLLATE "C" NOT NULL UNIQUE,
        url                  text NOT NULL,
        host                 text NOT NULL DEFAULT '',
        config_title         text,
        title                text,
        site_url             text,
        etag                 text,
        last_modified        text,
        last_attempt         bigint,
        last_success         bigint,
        last_status          bigint,
        last_error           text,
        consecutive_failures bigint NOT NULL DEFAULT 0,
        next_check_at        bigint,
        failing_since        bigint,
        moved_to             text,
        lease_owner          text,
        lease_epoch          bigint NOT NULL DEFAULT 0,
        last_polled_by       text
    );
    CREATE INDEX sources_due ON sources (next_check_at);
    CREATE TABLE stories (
        id          bigserial PRIMARY KEY,
        story_key   text NOT NULL UNIQUE,
        uid         text NOT NULL,
        source_id   bigint NOT NULL REFERENCES sources(id),
        title       text NOT NULL,
        link        text,
        summary     text,
        content     text,
        authors     text NOT NULL DEFAULT '[]',
        categories  text NOT NULL DEFAULT '[]',
        language    text,
        published   bigint NOT NULL,
        updated     bigint NOT NULL,
        first_seen  bigint NOT NULL,
        enclosures  text NOT NULL DEFAULT '[]'
    );
    CREATE INDEX stories_by_published ON stories (published DESC, id DESC);
    CREATE TABLE items (
        source_id    bigint NOT NULL REFERENCES sources(id),
        item_key     text NOT NULL,
        story_id     bigint NOT NULL REFERENCES stories(id),
        content_hash text NOT NULL,
        guid         text,
        first_seen   bigint NOT NULL,
        PRIMARY KEY (source_id, item_key)
    );
    CREATE INDEX items_by_story ON items (story_id);
    CREATE TABLE story_sections (
        section_key text COLLATE "C" NOT NULL,
        published   bigint NOT NULL,
        story_id    bigint NOT NULL REFERENCES stories(id),
        name        text COLLATE "C" NOT NULL,
        PRIMARY KEY (section_key, published, story_id)
    );
    CREATE INDEX story_sections_by_story ON story_sections (story_id);
    CREATE TABLE tombstones (
        id          bigserial PRIMARY KEY,
        story_key   text NOT NULL UNIQUE,
        last_listed bigint NOT NULL
    );
    CREATE INDEX tombstones_by_last_listed ON tombstones (last_listed);
    CREATE TABLE item_tombstones (
        source_id    bigint NOT NULL REFERENCES sources(id),
        item_key     text NOT NULL,
        tombstone_id bigint NOT NULL REFERENCES tombstones(id),
        PRIMARY KEY (source_id, item_key)
    );
    CREATE INDEX item_tombstones_by_tombstone ON item_tombstones (tombstone_id);
    CREATE TABLE article_pages (
        source_id  bigint NOT NULL REFERENCES sources(id),
        link       text NOT NULL,
        attempts   bigint NOT NULL DEFAULT 0,
        extract    text,
        last_error text,
        updated_at bigint NOT NULL,
        PRIMARY KEY (source_id, link)
    );
    "#,
    // 2: near-duplicate clusters, as SQLite's migration 7.
    r#"
    CREATE TABLE cluster_members (
        story_id   bigint PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE,
        cluster_id bigint NOT NULL,
        rule       text NOT NULL,
        score      double precision NOT NULL
    );
    CREATE INDEX cluster_members_by_cluster ON cluster_members (cluster_id);
    "#,
    // 3: the keyword filter through an index, as SQLite's migrations 6 and
    // 8: each story's words as Rust splits and folds them (`words`, see
    // `postgres::words`), under GIN. Filled for existing stories right
    // after this step (`words::fill_missing`).
    r#"
    ALTER TABLE stories ADD COLUMN words tsvector;
    CREATE INDEX stories_by_word ON stories USING gin (words);
    "#,
];

/// The version whose step adds `stories.words`, which Rust then fills.
const WORDS_VERSION: usize = 3;

/// The newest schema version this binary knows.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Fails unless the schema is exactly [`latest`] (a reader cannot migrate).
pub(super) async fn check_current(client: &Client) -> Result<(), StoreError> {
    let found: i64 = client
        .query_opt("SELECT version FROM schema_version", &[])
        .await
        .ok()
        .flatten()
        .map(|r| r.get(0))
        .unwrap_or(0);
    let supported = latest();
    if found > supported {
        return Err(StoreError::TooNew { found, supported });
    }
    if found < supported {
        return Err(StoreError::TooOld { found, supported });
    }
    Ok(())
}

/// Brings the database (the connection's `search_path` schema) up to
/// [`latest`], in one transaction holding [`MIGRATION_LOCK`].
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
        .await
        .map_err(pg_error)?;
    let current: i64 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await
        .map_err(pg_error)?
        .map(|r| r.get(0))
        .unwrap_or(0);
    if current > latest() {
        return Err(StoreError::TooNew {
            found: current,
            supported: latest(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql).await.map_err(pg_error)?;
        if i + 1 == WORDS_VERSION {
            super::words::fill_missing(&tx).await?;
        }
    }
    if current < latest() {
        tx.execute("DELETE FROM schema_version", &[])
            .await
            .map_err(pg_error)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&latest()],
        )
        .await
        .map_err(pg_error)?;
    }
    tx.commit().await.map_err(pg_error)
}
