//! SQLite behind [`Store`]: WAL, one writer thread that owns the only write
//! connection (so writes never contend for the lock), and a small pool of
//! read connections used from blocking tasks.
//!
//! Everything SQLite-specific lives here and nowhere else: SQL, pragmas,
//! migrations (by `PRAGMA user_version`, never edited once shipped).

mod checkpointer;
mod read;
mod schema;
mod write;
mod writer;

use super::{
    Cursor, FeedStats, PollRecord, PollState, SourceSpec, SourceStatus, Store, StoreError,
    StoryQuery, WriteSummary,
};
use crate::model::Story;
use async_trait::async_trait;
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
    writer: Writer,
    checkpointer: Mutex<checkpointer::Checkpointer>,
    readers: Arc<Mutex<Vec<Connection>>>,
    read_slots: Arc<Semaphore>,
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
            writer,
            checkpointer: Mutex::new(checkpointer),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_slots: Arc::new(Semaphore::new(READ_POOL)),
        })
    }

    /// Stops accepting writes, lets queued ones finish, and waits for the
    /// writer thread. Later writes fail with [`StoreError::WriterGone`].
    pub fn close(&self) {
        // Readers and the checkpointer go first, so the writer's connection
        // is the last one and SQLite folds the WAL back and removes it.
        self.checkpointer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stop();
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.writer.close();
    }

    /// Runs `f` on the writer thread inside a transaction (maybe twice: see
    /// `writer`) and waits until its writes committed.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnMut(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.writer.run(f).await
    }

    /// Runs `f` on a pooled read connection in a blocking task.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let pool = Arc::clone(&self.readers);
        let path = self.path.clone();
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
                None => open_reader(&path)?,
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
}
