//! SQLite behind [`Store`]: WAL, one writer thread that owns the only write
//! connection (so writes never contend for the lock), and a small pool of
//! read connections used from blocking tasks. Commands that only read open
//! it with [`SqliteStore::open_read_only`]: read connections alone.
//!
//! Everything SQLite-specific lives here and nowhere else: SQL, pragmas,
//! migrations (by `PRAGMA user_version`, never edited once shipped).

mod checkpointer;
mod purge;
mod read;
mod schema;
mod write;
mod writer;

use super::{
    Cursor, FeedStats, PollRecord, PollState, PurgeBatch, Reclaimed, SourceSpec, SourceStatus,
    Store, StoreError, StoreStats, StoryQuery, WriteSummary,
};
use crate::model::Story;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use writer::Writer;

/// Read connections, at most: each holds its own page cache, so a burst of
/// reads waits for a connection instead of opening hundreds.
const READ_POOL: usize = 8;

/// The SQLite store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    path: PathBuf,
    /// `None` when opened read-only: writes fail with [`StoreError::ReadOnly`].
    writer: Option<Writer>,
    checkpointer: Mutex<Option<checkpointer::Checkpointer>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    read_slots: Arc<Semaphore>,
    /// Read-only: the configured sources, registered on each read
    /// connection into its own temporary copy of `sources` (see
    /// [`register_in_memory`]).
    sources: Option<Arc<[SourceSpec]>>,
}

impl SqliteStore {
    /// Opens (creating the file and missing parent folders) and migrates.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_err(e.to_string()))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        // 8 KiB pages for a new file (an existing one keeps its size): a
        // story row is 2.5-3 KB, one per 4 KiB page with a third of it
        // unused, three per 8 KiB page. Fewer pages, fewer WAL frames to
        // write and checksum (ingest benchmark: writer CPU -8%).
        conn.pragma_update(None, "page_size", 8192)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode loses at most the last commits on power loss,
        // never consistency; FULL would fsync every source's transaction.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A 4 MiB page cache (the default is 2): a poll burst rewrites the
        // same index pages many times. 8 MiB measured no faster on the
        // ingest benchmark and cost 4 MiB of peak memory. No automatic
        // checkpoints on the writer: the checkpointer thread does them
        // alongside (see `checkpointer`), and the WAL file is cut back to
        // 64 MiB whenever it restarts.
        conn.pragma_update(None, "cache_size", -4096)?;
        // Statement journals (a statement that fails half-way is undone on
        // its own) stay in memory rather than in temp files.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn)?;

        let writer = Writer::start(conn).map_err(|e| open_err(e.to_string()))?;
        let checkpointer = checkpointer::Checkpointer::start(path)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Some(writer),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_slots: Arc::new(Semaphore::new(READ_POOL)),
            sources: None,
        })
    }

    /// Opens an existing database for reading only: nothing is created,
    /// migrated or written, and every connection is opened with
    /// `SQLITE_OPEN_READ_ONLY`, so SQLite itself refuses writes. `sources`
    /// (the configured ones) are registered on each connection in memory
    /// only, so reads see them exactly as after [`Store::register_sources`].
    /// `Ok(None)`: there is no database at `path` yet (no file, or an empty
    /// one). A schema older than this binary's is an error: upgrading it
    /// would be a write.
    ///
    /// SQLite may create the WAL's `-wal` and `-shm` side files if they are
    /// missing (a reader of a WAL database needs them); the `-wal` stays
    /// empty and the database file is never written.
    pub fn open_read_only(
        path: &Path,
        sources: &[SourceSpec],
    ) -> Result<Option<SqliteStore>, StoreError> {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Open {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
            Ok(_) => {}
        }
        let conn = open_reader(path)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = schema::latest();
        if found == 0 {
            return Ok(None);
        }
        if found > supported {
            return Err(StoreError::TooNew { found, supported });
        }
        if found < supported {
            return Err(StoreError::TooOld { found, supported });
        }
        let sources: Arc<[SourceSpec]> = sources.into();
        register_in_memory(&conn, &sources)?;
        Ok(Some(SqliteStore {
            path: path.to_path_buf(),
            writer: None,
            checkpointer: Mutex::new(None),
            readers: Arc::new(Mutex::new(vec![conn])),
            read_slots: Arc::new(Semaphore::new(READ_POOL)),
            sources: Some(sources),
        }))
    }

    /// Stops accepting writes, lets queued ones finish, and waits for the
    /// writer thread. Later writes fail with [`StoreError::WriterGone`].
    pub fn close(&self) {
        // Readers and the checkpointer go first, so the writer's connection
        // is the last one and SQLite folds the WAL back and removes it.
        if let Some(c) = self
            .checkpointer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            c.stop();
        }
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        if let Some(w) = &self.writer {
            w.close();
        }
    }

    /// Runs `f` on the writer thread inside a transaction (maybe twice: see
    /// `writer`) and waits until its writes committed.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnMut(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        match &self.writer {
            Some(w) => w.run(f).await,
            None => Err(StoreError::ReadOnly),
        }
    }

    /// Runs `f` on a pooled read connection in a blocking task.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let pool = Arc::clone(&self.readers);
        let path = self.path.clone();
        let sources = self.sources.clone();
        // The semaphore is never closed.
        let slot = Arc::clone(&self.read_slots)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::WriterGone)?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let pooled = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let conn = open_reader(&path)?;
                    if let Some(sources) = &sources {
                        register_in_memory(&conn, sources)?;
                    }
                    conn
                }
            };
            let result = f(&conn);
            let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
            pool.push(conn);
            result
        })
        .await
        .map_err(|_| StoreError::WriterGone)?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Registers `sources` on a read-only connection without writing the file:
/// a `TEMP` copy of `sources` (same definition, same rows, in memory)
/// shadows the table for every unqualified query on this connection, and
/// the same upsert as [`Store::register_sources`] runs on the copy.
fn register_in_memory(conn: &Connection, sources: &[SourceSpec]) -> Result<(), StoreError> {
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let ddl: String = conn.query_row(
        "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = 'sources'",
        [],
        |r| r.get(0),
    )?;
    let Some(columns) = ddl.strip_prefix("CREATE TABLE sources") else {
        return Err(StoreError::Open {
            path: conn.path().unwrap_or_default().to_string(),
            reason: format!("unexpected definition of table sources: {ddl}"),
        });
    };
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE sources{columns};
         INSERT INTO temp.sources SELECT * FROM main.sources;"
    ))?;
    write::register_sources(conn, sources)
}

#[async_trait]
impl Store for SqliteStore {
    async fn register_sources(&self, sources: &[SourceSpec]) -> Result<(), StoreError> {
        let sources = sources.to_vec();
        self.write(move |conn| write::register_sources(conn, &sources))
            .await
    }

    async fn poll_state(&self, source: &str) -> Result<PollState, StoreError> {
        let source = source.to_string();
        self.read(move |conn| read::poll_state(conn, &source)).await
    }

    async fn record_poll(
        &self,
        source: &str,
        record: PollRecord,
    ) -> Result<WriteSummary, StoreError> {
        let source = source.to_string();
        let rows = write::prepare(&record);
        self.write(move |conn| write::record_poll(conn, &source, &record, &rows))
            .await
    }

    async fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, StoreError> {
        let query = query.clone();
        self.read(move |conn| read::stories(conn, &query)).await
    }

    async fn story_page(&self, query: &StoryQuery) -> Result<Vec<(Cursor, Story)>, StoreError> {
        let query = query.clone();
        self.read(move |conn| read::story_page(conn, &query)).await
    }

    async fn stored_sections(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.read(read::stored_sections).await
    }

    async fn feed_stats(&self, section_keys: &[String]) -> Result<FeedStats, StoreError> {
        let keys = section_keys.to_vec();
        self.read(move |conn| read::feed_stats(conn, &keys)).await
    }

    async fn stored_section(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.read(move |conn| read::stored_section(conn, &key))
            .await
    }

    async fn source_status(&self) -> Result<Vec<SourceStatus>, StoreError> {
        self.read(read::source_status).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn store_stats(&self) -> Result<StoreStats, StoreError> {
        let path = self.path.clone();
        self.read(move |conn| purge::store_stats(conn, &path)).await
    }

    async fn purge_stories(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<PurgeBatch, StoreError> {
        let (before, now) = (before.timestamp(), now.timestamp());
        self.write(move |conn| purge::purge_stories(conn, before, now, limit))
            .await
    }

    async fn expire_tombstones(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let before = before.timestamp();
        self.write(move |conn| purge::expire_tombstones(conn, before, limit))
            .await
    }

    async fn reclaim_space(&self, pages: u32, keep_free: f64) -> Result<Reclaimed, StoreError> {
        self.write(move |conn| purge::reclaim_space(conn, pages, keep_free))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, url: &str) -> SourceSpec {
        SourceSpec {
            name: name.into(),
            url: url.into(),
            title: None,
        }
    }

    /// The proof that read-only means read-only even for root, whom file
    /// modes do not stop: SQLite refuses the writes itself.
    #[tokio::test]
    async fn a_read_only_store_registers_in_memory_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.db");
        assert!(
            SqliteStore::open_read_only(&path, &[]).unwrap().is_none(),
            "no database yet"
        );
        assert!(!path.exists(), "and none is created");
        {
            let store = SqliteStore::open(&path).unwrap();
            store
                .register_sources(&[spec("old", "https://e.org/old")])
                .await
                .unwrap();
            store.close();
        }

        let configured = [
            spec("old", "https://e.org/moved"),
            spec("new", "https://e.org/new"),
        ];
        let store = SqliteStore::open_read_only(&path, &configured)
            .unwrap()
            .expect("database exists");
        let listed = store.source_status().await.unwrap();
        let seen: Vec<(&str, &str)> = listed
            .iter()
            .map(|s| (s.name.as_str(), s.url.as_str()))
            .collect();
        assert_eq!(
            seen,
            [("new", "https://e.org/new"), ("old", "https://e.org/moved")],
            "reads see the configured sources as registered"
        );
        assert!(matches!(
            store.register_sources(&configured).await,
            Err(StoreError::ReadOnly)
        ));
        // Every connection it reads with refuses writes.
        let err = store
            .read(|conn| Ok(conn.execute("UPDATE main.sources SET url = 'x'", [])?))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Sqlite(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly)),
            "{err}"
        );
        drop(store);

        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT name, url FROM sources")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [("old".to_string(), "https://e.org/old".to_string())],
            "the file is as the writer left it"
        );
    }

    #[test]
    fn an_old_schema_is_not_upgraded_by_a_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (a); PRAGMA user_version = 1;")
            .unwrap();
        drop(conn);
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(
            SqliteStore::open_read_only(&path, &[]),
            Err(StoreError::TooOld {
                found: 1,
                supported
            }) if supported == schema::latest()
        ));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
