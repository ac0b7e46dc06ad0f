//! Schema migrations, indexed by `PRAGMA user_version`. A shipped migration
//! is never edited: changes are new entries appended to [`MIGRATIONS`].

use super::super::StoreError;
use rusqlite::Connection;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: sources, stories, per-source items, story sections.
    "
    CREATE TABLE sources (
        id                   INTEGER PRIMARY KEY,
        name                 TEXT NOT NULL UNIQUE,
        url                  TEXT NOT NULL,
        config_title         TEXT,
        title                TEXT,
        site_url             TEXT,
        etag                 TEXT,
        last_modified        TEXT,
        last_attempt         INTEGER,
        last_success         INTEGER,
        last_status          INTEGER,
        last_error           TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_check_at        INTEGER
    );
    CREATE TABLE stories (
        id          INTEGER PRIMARY KEY,
        story_key   TEXT NOT NULL UNIQUE,
        uid         TEXT NOT NULL,
        source_id   INTEGER NOT NULL REFERENCES sources(id),
        title       TEXT NOT NULL,
        link        TEXT,
        summary     TEXT,
        content     TEXT,
        authors     TEXT NOT NULL DEFAULT '[]',
        categories  TEXT NOT NULL DEFAULT '[]',
        language    TEXT,
        published   INTEGER NOT NULL,
        updated     INTEGER NOT NULL,
        first_seen  INTEGER NOT NULL
    );
    CREATE INDEX stories_by_published ON stories(published DESC, id DESC);
    -- One row per (source, item identity): maps re-sent items to their story
    -- and remembers what they looked like, so unchanged items cost no write.
    CREATE TABLE items (
        source_id    INTEGER NOT NULL REFERENCES sources(id),
        item_key     TEXT NOT NULL,
        story_id     INTEGER NOT NULL REFERENCES stories(id),
        content_hash TEXT NOT NULL,
        guid         TEXT,
        first_seen   INTEGER NOT NULL,
        PRIMARY KEY (source_id, item_key)
    ) WITHOUT ROWID;
    -- Keyed for the hot query: one section, newest first. `published` is a
    -- story's fixed sort date, copied here so the scan needs no join to order.
    CREATE TABLE story_sections (
        section_key TEXT NOT NULL,
        published   INTEGER NOT NULL,
        story_id    INTEGER NOT NULL REFERENCES stories(id),
        name        TEXT NOT NULL,
        PRIMARY KEY (section_key, published, story_id)
    ) WITHOUT ROWID;
    ",
    // 2: source health: when the failure streak began, and where permanent
    // redirects lead.
    "
    ALTER TABLE sources ADD COLUMN failing_since INTEGER;
    ALTER TABLE sources ADD COLUMN moved_to TEXT;
    ",
    // 3: enclosures (JSON list of {url, mime_type, length}): podcasts, images.
    "ALTER TABLE stories ADD COLUMN enclosures TEXT NOT NULL DEFAULT '[]';",
    // 4: article pages read per source (`[source.article]`): each link is
    // fetched at most once after a success (its facts kept as JSON, laid
    // over the entry on every later poll), and at most five times in all.
    "
    CREATE TABLE article_pages (
        source_id  INTEGER NOT NULL REFERENCES sources(id),
        link       TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        extract    TEXT,
        last_error TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (source_id, link)
    ) WITHOUT ROWID;
    ",
];

/// The newest schema version this binary knows.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to [`latest`], each step in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest() {
        return Err(StoreError::TooNew {
            found: current,
            supported: latest(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
