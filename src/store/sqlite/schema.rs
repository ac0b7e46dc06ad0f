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
    // 4: retention. A purged story leaves a tombstone: its story key, and
    // the (source, item key) pairs that brought it, so a feed that still
    // lists it does not store it again as new. `last_listed` (UTC seconds)
    // moves when a feed lists it again; tombstones expire from it. The two
    // indexes on `story_id` let a purge find a story's rows, and SQLite
    // check the foreign keys of a deleted story, without a table scan.
    "
    CREATE INDEX items_by_story ON items(story_id);
    CREATE INDEX story_sections_by_story ON story_sections(story_id);
    CREATE TABLE tombstones (
        id          INTEGER PRIMARY KEY,
        story_key   TEXT NOT NULL UNIQUE,
        last_listed INTEGER NOT NULL
    );
    CREATE INDEX tombstones_by_last_listed ON tombstones(last_listed);
    CREATE TABLE item_tombstones (
        source_id    INTEGER NOT NULL REFERENCES sources(id),
        item_key     TEXT NOT NULL,
        tombstone_id INTEGER NOT NULL REFERENCES tombstones(id),
        PRIMARY KEY (source_id, item_key)
    ) WITHOUT ROWID;
    CREATE INDEX item_tombstones_by_tombstone ON item_tombstones(tombstone_id);
    ",
    // 5: article pages read per source (`[source.article]`): each link is
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
    // 6: keyword search and the source filter through indexes. `story_text`
    // holds each story's title and summary as `search_fold` folds them
    // (Rust: SQLite's own folding knows no Azerbaijani i), as words
    // (`unicode61`, diacritics kept: ə, ş, ğ are letters of their own).
    // `detail = 'none'` keeps only which stories hold a word, not where (a
    // fraction of the size): a match is a story holding a word that starts
    // with each of the keyword's words, which the caller's own check then
    // narrows to the keyword. Words, not trigrams: a trigram index cost
    // the writer about 44 µs per story (a word index a fraction of that).
    // The write path keeps it in step and a trigger drops a purged story's
    // row. Filled for existing stories right after this step
    // (`backfill_search`). `stories_by_source` serves `source=` in feed
    // order.
    "
    CREATE VIRTUAL TABLE story_text USING fts5(
        text, content = '', contentless_delete = 1, detail = 'none',
        tokenize = 'unicode61 remove_diacritics 0'
    );
    CREATE TRIGGER story_text_on_delete AFTER DELETE ON stories BEGIN
        DELETE FROM story_text WHERE rowid = old.id;
    END;
    CREATE INDEX stories_by_source ON stories(source_id, published DESC, id DESC);
    ",
    // 7: near-duplicate clusters. A story's row says which cluster it is in
    // (`cluster_id`: the story id of the cluster's first report; a first
    // report has its own id) and how it joined. The cascade drops a purged
    // story's row; the purge itself deletes the rows of members whose
    // first report it purges (`purge::FREE_MEMBERS_OF_DOOMED`), so they
    // are placed again.
    "
    CREATE TABLE cluster_members (
        story_id   INTEGER PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE,
        cluster_id INTEGER NOT NULL,
        rule       TEXT NOT NULL,
        score      REAL NOT NULL
    );
    CREATE INDEX cluster_members_by_cluster ON cluster_members(cluster_id);
    ",
    // 8: the keyword index keyed in feed order, so `q=` walks it newest
    // first and stops at the page (see `search`): a row's rowid is the
    // story's feed key (`published` and id packed; the trigger computes
    // the same as `search::key`), its text the story's words under the
    // `ascii` tokenizer, and `story_words` every word indexed, to expand a
    // keyword's prefix into words FTS5 reads lazily. Refilled right after
    // this step (`backfill_search`).
    "
    DROP TRIGGER story_text_on_delete;
    DROP TABLE story_text;
    CREATE VIRTUAL TABLE story_text USING fts5(
        text, content = '', contentless_delete = 1, detail = 'none', tokenize = 'ascii'
    );
    CREATE TABLE story_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TRIGGER story_text_on_delete AFTER DELETE ON stories BEGIN
        DELETE FROM story_text WHERE rowid = @KEY_OF_OLD@;
    END;
    ",
    // 9: the purge drops a batch's keyword rows itself, in one statement
    // after its stories (`purge::DELETE_DOOMED_TEXT`), instead of a
    // trigger per deleted story. Each story's delete (its cluster row
    // cascades) runs with a statement journal, and FTS5 writes out what it
    // holds in memory at every statement savepoint once it is part of the
    // transaction, merging segments as it goes: with the trigger, half of
    // a purge's time (retention benchmark profile), and more the larger
    // the index.
    "DROP TRIGGER story_text_on_delete;",
];

/// Migration `i`'s statements, with the feed key of a deleted story
/// spelled out where step 8 names it (one definition, in `search`).
fn step(i: usize) -> String {
    let sql = MIGRATIONS[i];
    if sql.contains("@KEY_OF_OLD@") {
        sql.replace(
            "@KEY_OF_OLD@",
            &super::search::key_sql("old.published", "old.id"),
        )
    } else {
        sql.to_string()
    }
}

/// The versions whose steps create `story_text`, which Rust then fills.
const SEARCH_VERSIONS: [usize; 2] = [6, 8];

/// Stories indexed per statement batch while backfilling.
const BACKFILL_BATCH: i64 = 2_000;

/// Fills `story_text` for stories stored before it existed (or before it
/// was keyed in feed order), as it is at `version`, saying how far it got
/// every second when that takes longer than one.
fn backfill_search(conn: &Connection, version: usize) -> Result<(), StoreError> {
    let total: i64 = conn.query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0))?;
    let started = std::time::Instant::now();
    let mut last_report = started;
    let mut done = 0i64;
    let mut after = i64::MIN;
    let mut read = conn.prepare_cached(
        "SELECT id, published, title, summary FROM stories WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    loop {
        let rows: Vec<(i64, i64, String, Option<String>)> = read
            .query_map(rusqlite::params![after, BACKFILL_BATCH], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (id, published, title, summary) in &rows {
            if version == 6 {
                // As version 6 laid the index out: story ids, unsplit text.
                let text = crate::model::text::search_text(title, summary.as_deref());
                conn.prepare_cached("INSERT INTO story_text (rowid, text) VALUES (?1, ?2)")?
                    .execute(rusqlite::params![id, text])?;
            } else {
                let terms = crate::model::text::index_text(title, summary.as_deref());
                super::search::index(conn, *id, *published, &terms)?;
            }
        }
        done += rows.len() as i64;
        if last_report.elapsed() >= std::time::Duration::from_secs(1) {
            last_report = std::time::Instant::now();
            tracing::info!(done, total, "indexing stories for keyword search");
        }
    }
    if started.elapsed() >= std::time::Duration::from_secs(1) {
        tracing::info!(
            stories = done,
            seconds = started.elapsed().as_secs(),
            "stories indexed for keyword search"
        );
    }
    Ok(())
}

/// Databases up to this size that were created without incremental vacuum
/// are converted on open (one `VACUUM`: well under a second or two);
/// larger ones are left for the operator, since `VACUUM` rewrites the whole
/// file, needs as much free disk again and holds the database meanwhile.
const CONVERT_UP_TO: i64 = 64 * 1024 * 1024;

/// The newest schema version this binary knows.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to [`latest`] inside the caller's transaction,
/// which must hold the write lock from its start (`BEGIN EXCLUSIVE`), so
/// the version read here is the one the steps build on: a second process
/// opening the same fresh file waits, then finds the schema current.
/// [`prepare_new`] runs before it, [`convert_auto_vacuum`] after the commit.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest() {
        return Err(StoreError::TooNew {
            found: current,
            supported: latest(),
        });
    }
    for i in current as usize..MIGRATIONS.len() {
        conn.execute_batch(&step(i))?;
        if SEARCH_VERSIONS.contains(&(i + 1)) {
            backfill_search(conn, i + 1)?;
        }
        conn.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    Ok(())
}

/// A database with no schema yet is set to `auto_vacuum = INCREMENTAL`,
/// so space a purge frees can be returned to the file system. The pragma
/// takes effect only before the first table exists, and outside a
/// transaction: so before [`migrate`]'s. Two first starts may both set it;
/// it is the same value.
pub fn prepare_new(conn: &Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current == 0 {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    }
    Ok(())
}

/// After the migrations committed: a small older database made able to
/// shrink (see [`auto_vacuum`]). `VACUUM` cannot run inside a transaction.
pub fn convert_auto_vacuum(conn: &Connection) {
    auto_vacuum(conn);
}

/// `PRAGMA auto_vacuum` mode 2: freed pages can be handed back with
/// `PRAGMA incremental_vacuum`.
pub(super) const INCREMENTAL: i64 = 2;

/// Makes a small older database (created before incremental vacuum was
/// set) able to shrink, with one `VACUUM`. A large one is left as it is
/// (the purge task says how to convert it when `[storage] keep` is set):
/// unconverted, pages a purge frees are reused for new stories, so the file
/// stops growing, but it does not shrink. Never fails the open.
fn auto_vacuum(conn: &Connection) {
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    let (Ok(mode), Ok(pages), Ok(page_size)) = (
        pragma("auto_vacuum"),
        pragma("page_count"),
        pragma("page_size"),
    ) else {
        return;
    };
    let bytes = pages.saturating_mul(page_size);
    if mode == INCREMENTAL || bytes > CONVERT_UP_TO {
        return;
    }
    let path = conn.path().unwrap_or_default().to_string();
    match conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;") {
        Ok(()) => tracing::info!(db = %path, bytes, "database converted to incremental vacuum"),
        Err(e) => {
            tracing::warn!(db = %path, error = %e, "cannot convert the database to incremental vacuum; purged space is reused but the file does not shrink")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pragma(conn: &Connection, name: &str) -> i64 {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    }

    /// As `SqliteStore::open` prepares a connection before migrating.
    fn open(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "page_size", 8192).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn
    }

    #[test]
    fn a_new_database_is_created_able_to_shrink() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("new.db"));
        {
            prepare_new(&conn).unwrap();
            let tx = conn.transaction().unwrap();
            migrate(&tx).unwrap();
            tx.commit().unwrap();
            convert_auto_vacuum(&conn);
        }
        assert_eq!(pragma(&conn, "user_version"), latest());
        assert_eq!(pragma(&conn, "auto_vacuum"), INCREMENTAL);
        assert_eq!(pragma(&conn, "page_size"), 8192);
    }

    #[test]
    fn a_small_older_database_is_migrated_and_converted_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        let mut conn = open(&path);
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 3;
             INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://e.org/a');
             INSERT INTO stories (id, story_key, uid, source_id, title, published, updated, first_seen)
                 VALUES (7, 'link:https://e.org/1', 'u', 1, 'One', 1, 1, 1);
             INSERT INTO items (source_id, item_key, story_id, content_hash, first_seen)
                 VALUES (1, 'g1', 7, 'h', 1);",
        )
        .unwrap();
        assert_eq!(pragma(&conn, "auto_vacuum"), 0, "created before retention");
        {
            prepare_new(&conn).unwrap();
            let tx = conn.transaction().unwrap();
            migrate(&tx).unwrap();
            tx.commit().unwrap();
            convert_auto_vacuum(&conn);
        }
        assert_eq!(pragma(&conn, "user_version"), latest());
        assert_eq!(pragma(&conn, "auto_vacuum"), INCREMENTAL, "converted");
        let title: String = conn
            .query_row("SELECT title FROM stories WHERE id = 7", [], |r| r.get(0))
            .unwrap();
        assert_eq!(title, "One");
        let by_story: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM items INDEXED BY items_by_story WHERE story_id = 7",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(by_story, 1);
    }

    #[test]
    fn a_version_5_database_gets_its_stories_indexed_for_search() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("v5.db"));
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 5;
             INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://e.org/a');
             INSERT INTO stories (id, story_key, uid, source_id, title, summary, published, updated, first_seen)
                 VALUES (7, 'k7', 'u', 1, 'Бюджет принят', '<p>В третьем чтении</p>', 1, 1, 1),
                        (8, 'k8', 'v', 1, 'Спорт', NULL, 1, 1, 1);",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        migrate(&tx).unwrap();
        tx.commit().unwrap();
        let found = |phrase: &str| -> Vec<i64> {
            conn.prepare(&format!(
                "SELECT {} FROM story_text WHERE story_text MATCH ?1",
                super::super::search::story_of_key_sql("rowid")
            ))
            .unwrap()
            .query_map([phrase], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };
        assert_eq!(found("\"бюд\"* AND \"приня\"*"), [7]);
        assert_eq!(found("\"третьем\"*"), [7]);
        assert_eq!(found("\"спо\"*"), [8]);
        let words: i64 = conn
            .query_row("SELECT COUNT(*) FROM story_words", [], |r| r.get(0))
            .unwrap();
        assert_eq!(words, 6, "every word indexed is listed");
        let triggers: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(triggers, 0, "the purge drops keyword rows itself");
    }
}
