//! SQLite behind [`Store`]: WAL, one writer thread that owns the only write
//! connection (so writes never contend for the lock), and a small pool of
//! read connections used from blocking tasks. Commands that only read open
//! it with [`SqliteStore::open_read_only`]: read connections alone.
//!
//! Everything SQLite-specific lives here and nowhere else: SQL, pragmas,
//! migrations (by `PRAGMA user_version`, never edited once shipped).
//!
//! Faults of the file itself are named by cause and path (see `health`):
//! a damaged file is refused at open (`PRAGMA quick_check`), one that
//! cannot be written is refused with the reason, a full disk fails the
//! write that hit it and nothing else, a file deleted or replaced under
//! the store is written no more. A daemon claims its database for its life
//! (see `lock`); `feedmerge backup` copies a live one (see `backup`).

mod backup;
mod checkpointer;
mod cluster;
mod connection;
mod copy;
mod health;
mod lock;
mod purge;
mod read;
mod schema;
mod search;
mod write;
mod writer;

pub use backup::{BackupReport, backup};

use super::{
    Cursor, FeedStats, Lease, PollRecord, PollState, PurgeBatch, Reclaimed, SourceSpec,
    SourceStatus, Store, StoreError, StoreStats, StoryQuery, WriteSummary,
};
use crate::model::Story;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connection::{create_parent, open_fault, open_reader, prepare_with_retry, register_in_memory};
use health::{Health, name_fault, name_read_fault};
use rusqlite::Connection;
use std::collections::HashMap;
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
    /// Read connections opened so far (pooled or in use).
    readers_opened: Arc<std::sync::atomic::AtomicUsize>,
    read_slots: Arc<Semaphore>,
    /// Read-only: the configured sources, registered on each read
    /// connection into its own temporary copy of `sources` (see
    /// [`register_in_memory`]).
    sources: Option<Arc<[SourceSpec]>>,
    /// Writes queued or running, for `/metrics`.
    queued: Arc<std::sync::atomic::AtomicUsize>,
    /// `PRAGMA data_version` of the writer connection when last asked
    /// (`i64::MIN` before): it moves only when another connection, so
    /// another process, commits.
    data_version: Arc<std::sync::atomic::AtomicI64>,
    /// `None` when opened read-only.
    health: Option<Arc<Health>>,
    /// Polls whose record could not be written (storage failed), by
    /// source: shown by [`Store::source_status`] until a record is written.
    unrecorded: Mutex<HashMap<String, Unrecorded>>,
    /// The daemon's claim (see [`SqliteStore::open_exclusive`]).
    claim: Mutex<Option<lock::DaemonLock>>,
}

/// What `/status` would show of a source, had storage taken the record.
#[derive(Debug, Clone)]
struct Unrecorded {
    /// Polls lost in a row.
    count: u32,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    next_check: DateTime<Utc>,
    error: String,
}

/// While alive, the writer thread is parked on a job that does not end,
/// as a wedged writer would be ([`SqliteStore::hold_writer`]).
#[doc(hidden)]
pub struct WriterHold {
    _release: std::sync::mpsc::Sender<()>,
}

impl SqliteStore {
    /// Test hook: parks the writer thread until the returned guard is
    /// dropped, so tests can see what a wedged writer does to the daemon.
    /// Returns once the writer is parked.
    #[doc(hidden)]
    pub async fn hold_writer(self: &Arc<Self>) -> WriterHold {
        let (release, parked) = std::sync::mpsc::channel::<()>();
        let parked = Arc::new(Mutex::new(parked));
        let (is_parked, on_parked) = tokio::sync::oneshot::channel::<()>();
        let is_parked = Arc::new(Mutex::new(Some(is_parked)));
        let store = Arc::clone(self);
        tokio::spawn(async move {
            let _ = store
                .write(move |_tx| {
                    if let Some(tell) = is_parked.lock().unwrap_or_else(|e| e.into_inner()).take() {
                        let _ = tell.send(());
                    }
                    // Returns when the guard's sender is dropped.
                    let _ = parked.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    Ok(())
                })
                .await;
        });
        let _ = on_parked.await;
        WriterHold { _release: release }
    }

    /// Opens (creating the file and missing parent folders), checks and
    /// migrates. A file that is damaged, not a database or not writable is
    /// refused with an error naming it.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_claimed(path, None)
    }

    /// [`SqliteStore::open`] for a daemon: first claims the database for
    /// as long as the store is open, and refuses with
    /// [`StoreError::Locked`] when another daemon holds it.
    pub fn open_exclusive(path: &Path) -> Result<SqliteStore, StoreError> {
        create_parent(path)?;
        let claim = lock::acquire(path)?;
        SqliteStore::open_claimed(path, Some(claim))
    }

    /// Fails with [`StoreError::Locked`] when a daemon holds `path`, so a
    /// second daemon can say so before it binds its port.
    pub fn check_unclaimed(path: &Path) -> Result<(), StoreError> {
        create_parent(path)?;
        lock::acquire(path).map(drop)
    }

    fn open_claimed(
        path: &Path,
        claim: Option<lock::DaemonLock>,
    ) -> Result<SqliteStore, StoreError> {
        create_parent(path)?;
        let fault = |e: rusqlite::Error| open_fault(path, e);
        let mut conn = Connection::open(path).map_err(fault)?;
        // Before anything that locks: two first starts on a new file wait
        // for each other instead of failing busy. 30 s: the daemon is the
        // only writer, but a hand-run `poll` or `backup` beside it (or
        // several at once on a loaded machine) may hold the write lock for
        // seconds, and a write that gives up loses the poll's result.
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(fault)?;
        // SQLite opens a file it may not write read-only, without a word;
        // every write would then fail "attempt to write a readonly database".
        if conn.is_readonly("main").map_err(fault)? {
            return Err(StoreError::NotWritable {
                path: path.display().to_string(),
                reason: health::why_not_writable(path)
                    .unwrap_or_else(|| "SQLite opened it read-only".into()),
            });
        }
        prepare_with_retry(&mut conn, path)?;

        let health = Arc::new(Health::new(path));
        let open_err = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        let writer =
            Writer::start(conn, Arc::clone(&health)).map_err(|e| open_err(e.to_string()))?;
        let checkpointer = checkpointer::Checkpointer::start(path, Arc::clone(&health))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Some(writer),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            readers_opened: Arc::default(),
            read_slots: Arc::new(Semaphore::new(READ_POOL)),
            sources: None,
            queued: Arc::default(),
            data_version: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
            health: Some(health),
            unrecorded: Mutex::default(),
            claim: Mutex::new(claim),
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
        let conn = open_reader(path).map_err(|e| name_fault(path, e))?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| name_fault(path, e.into()))?;
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
            readers_opened: Arc::new(std::sync::atomic::AtomicUsize::new(1)),
            read_slots: Arc::new(Semaphore::new(READ_POOL)),
            sources: Some(sources),
            queued: Arc::default(),
            data_version: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
            health: None,
            unrecorded: Mutex::default(),
            claim: Mutex::new(None),
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
        // The next daemon may start once the writer is done.
        self.claim.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Runs `f` on the writer thread inside a transaction (maybe twice: see
    /// `writer`) and waits until its writes committed.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnMut(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        use std::sync::atomic::Ordering;
        let Some(w) = &self.writer else {
            return Err(StoreError::ReadOnly);
        };
        self.queued.fetch_add(1, Ordering::Relaxed);
        let result = w.run(f).await;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Runs `f` on a pooled read connection in a blocking task.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let pool = Arc::clone(&self.readers);
        let opened = Arc::clone(&self.readers_opened);
        let path = self.path.clone();
        let sources = self.sources.clone();
        let health = self.health.clone();
        // The semaphore is never closed.
        let slot = Arc::clone(&self.read_slots)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::WriterGone)?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let mut pooled = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
            if pooled.is_none() && health.as_ref().is_some_and(|h| h.replaced().is_some()) {
                // Connections already open go on reading the file the store
                // opened; rather than fail a read because they are all busy
                // now, wait for one to come back.
                pooled = wait_for_pooled(&pool, &opened);
            }
            let conn = match pooled {
                Some(c) => c,
                None => {
                    // A new connection would open whatever the path names
                    // now.
                    if let Some(fault) = health.as_ref().and_then(|h| h.replaced()) {
                        return Err(fault.error(&path));
                    }
                    let conn = open_reader(&path).map_err(|e| name_fault(&path, e))?;
                    opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if let Some(sources) = &sources {
                        register_in_memory(&conn, sources)?;
                    }
                    conn
                }
            };
            let result = f(&conn).map_err(|e| name_read_fault(&path, e));
            let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
            pool.push(conn);
            result
        })
        .await
        .map_err(|_| StoreError::WriterGone)?
    }
}

impl SqliteStore {
    /// Remembers a poll whose record storage refused, so `/status` shows
    /// the failure though the database cannot hold it; a written record
    /// replaces it.
    fn note_unrecorded(
        &self,
        source: &str,
        at: DateTime<Utc>,
        next_check: DateTime<Utc>,
        written: &Result<WriteSummary, StoreError>,
    ) {
        let mut unrecorded = self.unrecorded.lock().unwrap_or_else(|e| e.into_inner());
        match written {
            Ok(_) => {
                unrecorded.remove(source);
            }
            // Not a storage failure: the source is not in the database.
            Err(StoreError::UnknownSource(_)) => {}
            Err(e) => {
                let error = format!("storage: {e}");
                unrecorded
                    .entry(source.to_string())
                    .and_modify(|u| {
                        u.count = u.count.saturating_add(1);
                        u.last = at;
                        u.next_check = next_check;
                        u.error.clone_from(&error);
                    })
                    .or_insert(Unrecorded {
                        count: 1,
                        first: at,
                        last: at,
                        next_check,
                        error,
                    });
            }
        }
    }

    /// Shows the polls storage could not record on top of what it holds.
    fn overlay_unrecorded(&self, list: &mut [SourceStatus]) {
        let unrecorded = self.unrecorded.lock().unwrap_or_else(|e| e.into_inner());
        for s in list.iter_mut() {
            if let Some(u) = unrecorded.get(&s.name) {
                s.last_attempt = Some(u.last);
                s.last_error = Some(u.error.clone());
                s.consecutive_failures = s.consecutive_failures.saturating_add(u.count);
                s.failing_since = s.failing_since.or(Some(u.first));
                s.next_check = Some(u.next_check);
            }
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// A pooled read connection once one is returned, when any was ever
/// opened; gives up after a few seconds (then the read fails naming the
/// replaced file).
fn wait_for_pooled(
    pool: &Mutex<Vec<Connection>>,
    opened: &std::sync::atomic::AtomicUsize,
) -> Option<Connection> {
    if opened.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        return None;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if let Some(c) = pool.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Some(c);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    None
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
        let (at, next_check) = (record.at, record.next_check);
        let name = source.to_string();
        let rows = write::prepare(&record);
        let written = self
            .write(move |conn| write::record_poll(conn, &name, &record, &rows))
            .await;
        self.note_unrecorded(source, at, next_check, &written);
        written
    }

    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: usize,
        per_host: usize,
    ) -> Result<Vec<Lease>, StoreError> {
        let worker = worker.to_string();
        let until = now.timestamp() + i64::try_from(lease.as_secs()).unwrap_or(i64::MAX / 2);
        let now = now.timestamp();
        self.write(move |conn| write::claim_due(conn, &worker, now, until, limit, per_host))
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
        let mut list = self.read(read::source_status).await?;
        self.overlay_unrecorded(&mut list);
        Ok(list)
    }

    async fn cluster_window(
        &self,
        since: DateTime<Utc>,
        unclustered_after: Option<i64>,
    ) -> Result<Vec<crate::store::cluster::WindowStory>, StoreError> {
        let since = since.timestamp();
        self.read(move |conn| cluster::window(conn, since, unclustered_after))
            .await
    }

    async fn cluster_views(
        &self,
        ids: &[i64],
        section_keys: &[String],
        sources: &[String],
    ) -> Result<std::collections::HashMap<i64, crate::store::cluster::ClusterView>, StoreError>
    {
        let ids = ids.to_vec();
        let keys = section_keys.to_vec();
        let sources = sources.to_vec();
        self.read(move |conn| cluster::views(conn, &ids, &keys, &sources))
            .await
    }

    async fn cluster_of(
        &self,
        key: &str,
    ) -> Result<
        Option<(
            crate::store::cluster::WindowStory,
            Vec<crate::store::cluster::WindowStory>,
        )>,
        StoreError,
    > {
        let key = key.to_string();
        self.read(move |conn| cluster::cluster_of(conn, &key)).await
    }

    async fn record_cluster_members(
        &self,
        members: &[crate::store::cluster::ClusterMember],
    ) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let members = members.to_vec();
        self.write(move |conn| cluster::record(conn, &members))
            .await
    }

    async fn daily_stories(
        &self,
        now: DateTime<Utc>,
        days: u32,
    ) -> Result<std::collections::HashMap<String, Vec<u32>>, StoreError> {
        self.read(move |conn| read::daily_stories(conn, now, days))
            .await
    }

    async fn article_pages(
        &self,
        source: &str,
        links: &[String],
    ) -> Result<std::collections::HashMap<String, crate::model::article::ArticlePage>, StoreError>
    {
        let source = source.to_string();
        let links = links.to_vec();
        self.read(move |conn| read::article_pages(conn, &source, &links))
            .await
    }

    /// Fails while writes or checkpoints fail or the file is gone, even
    /// though reads (and so serving) still work.
    async fn ping(&self) -> Result<(), StoreError> {
        if let Some(h) = &self.health
            && let Some(fault) = h.fault()
        {
            return Err(fault.error(&self.path));
        }
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    fn write_queue_depth(&self) -> usize {
        self.queued.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn read_concurrency(&self) -> usize {
        READ_POOL
    }

    async fn changed_elsewhere(&self) -> Result<bool, StoreError> {
        use std::sync::atomic::Ordering;
        let seen = Arc::clone(&self.data_version);
        // On the writer's connection: our own commits never move its
        // data_version, so any move is someone else's write.
        self.write(move |conn| {
            let now: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
            let before = seen.swap(now, Ordering::SeqCst);
            Ok(before != i64::MIN && before != now)
        })
        .await
    }

    fn file_sizes(&self) -> (u64, u64) {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        (size(&self.path), size(Path::new(&wal)))
    }

    async fn ping_writer(&self) -> Result<(), StoreError> {
        // An empty transaction takes no lock and writes nothing: it only
        // proves the writer thread reaches its queue.
        self.write(|_tx| Ok(())).await
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

    /// Many first opens of one new file at once all succeed with the
    /// schema current: SQLite's immediate "database is locked" on a lock
    /// upgrade (switching to WAL, the migrations) is waited out.
    #[test]
    fn simultaneous_first_opens_of_a_new_file_all_succeed() {
        for round in 0..50 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("fresh.db");
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let opens: Vec<_> = (0..8)
                .map(|_| {
                    let (path, barrier) = (path.clone(), Arc::clone(&barrier));
                    std::thread::spawn(move || {
                        barrier.wait();
                        SqliteStore::open(&path).map(|store| store.close())
                    })
                })
                .collect();
            for open in opens {
                if let Err(e) = open.join().unwrap() {
                    panic!("round {round}: {e}");
                }
            }
            let conn = Connection::open(&path).unwrap();
            let version: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(version, schema::latest(), "round {round}");
        }
    }

    #[tokio::test]
    async fn only_another_connections_commits_count_as_changes_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let ours = SqliteStore::open(&path).unwrap();
        assert!(!ours.changed_elsewhere().await.unwrap(), "first call notes");
        ours.register_sources(&[spec("a", "https://a.example/feed")])
            .await
            .unwrap();
        assert!(!ours.changed_elsewhere().await.unwrap(), "our own write");
        let theirs = SqliteStore::open(&path).unwrap();
        theirs
            .register_sources(&[spec("b", "https://b.example/feed")])
            .await
            .unwrap();
        theirs.close();
        assert!(ours.changed_elsewhere().await.unwrap(), "their write");
        assert!(!ours.changed_elsewhere().await.unwrap(), "seen once");
        ours.close();
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

        let conn =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
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
