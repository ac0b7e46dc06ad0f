//! Opening the store's connections: the writer's settings, the integrity
//! check and the migrations under the write lock (with retries while
//! another process's first start holds it), the readers' settings, and a
//! read-only store's in-memory source list.

use super::super::{SourceSpec, StoreError};
use super::health::{self, name_fault};
use super::{purge, schema, write};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Creates the database's folder if missing.
pub(super) fn create_parent(path: &Path) -> Result<(), StoreError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::create_dir_all(parent).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(libc::EROFS | libc::EACCES | libc::EPERM) => StoreError::NotWritable {
            path: path.display().to_string(),
            reason: format!("cannot create its folder {}: {e}", parent.display()),
        },
        _ => StoreError::Open {
            path: path.display().to_string(),
            reason: e.to_string(),
        },
    })
}

/// How long a first start keeps retrying setup that another process's
/// first start made busy.
const SETUP_BUSY_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// [`prepare`], retried while another process sets up the same file. Some
/// of its steps read and then write (switching a new file to WAL, the
/// schema version), and SQLite answers such an upgrade "database is
/// locked" at once instead of waiting out the busy timeout when another
/// connection holds the lock it needs (waiting could deadlock). Every step
/// is idempotent, so the whole setup simply runs again.
pub(super) fn prepare_with_retry(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match prepare(conn, path) {
            Err(StoreError::Sqlite(e)) if is_busy(&e) && started.elapsed() < SETUP_BUSY_FOR => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            Err(StoreError::Sqlite(e)) => return Err(open_fault(path, e)),
            Err(e) => return Err(name_fault(path, e)),
            Ok(()) => return Ok(()),
        }
    }
}

/// SQLite's "database is locked" (another connection holds the lock).
fn is_busy(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
}

/// The writer connection's settings, the integrity check and the
/// migrations.
fn prepare(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
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
    conn.pragma_update(None, "cache_size", -i64::from(purge::WRITER_CACHE_KIB))?;
    // Statement journals (a statement that fails half-way is undone on
    // its own) stay in memory rather than in temp files.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    check_intact(conn, path)?;
    migrate(conn)?;
    // The check read every page through the writer's cache: hand those
    // pages back rather than keep megabytes of them resident until the
    // first poll (idle memory, issue #14).
    conn.execute_batch("PRAGMA shrink_memory")?;
    // SQLite allocates through glibc malloc, which keeps freed memory
    // unless asked to return it.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
    Ok(())
}

/// An error while opening, by cause and path.
pub(super) fn open_fault(path: &Path, e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen)
        && let Some(reason) = health::why_not_writable(path)
    {
        return StoreError::NotWritable {
            path: path.display().to_string(),
            reason,
        };
    }
    match name_fault(path, StoreError::Sqlite(e)) {
        StoreError::Sqlite(e) => StoreError::Open {
            path: path.display().to_string(),
            reason: e.to_string(),
        },
        named => named,
    }
}

/// Refuses a damaged file before anything is written into it. `PRAGMA
/// quick_check` reads every page once (measured on a 280 MB file: 0.2 s
/// from the page cache, 3.3 s from a cold disk): it finds damaged pages
/// and records, though not every index inconsistency `integrity_check`
/// would.
pub(super) fn check_intact(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let problems: Vec<String> = conn
        .prepare("PRAGMA quick_check(5)")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(StoreError::Sqlite)?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(StoreError::Corrupt {
        path: path.display().to_string(),
        detail: format!("quick_check: {}", problems.join("; ")),
    })
}

/// Runs the migrations holding the write lock from the first read of the
/// schema version to the commit, so two first starts on a new file never
/// both create its tables.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current == schema::latest() {
        return Ok(());
    }
    schema::prepare_new(conn)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    schema::migrate(&tx)?;
    tx.commit()?;
    schema::convert_auto_vacuum(conn);
    Ok(())
}

pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // A 1 MiB page cache per reader (SQLite's default is 2 MiB): readers
    // are a pool of eight, and every page they keep counts in the
    // daemon's resident memory, while a miss is a read from the OS's own
    // page cache (microseconds). Pages a page read touches (the top of an
    // index, the keyword index's segments in use) fit well within it.
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    Ok(conn)
}

/// Page cache of each read connection, KiB.
const READER_CACHE_KIB: i64 = 1024;

/// Registers `sources` on a read-only connection without writing the file:
/// a `TEMP` copy of `sources` (same definition, same rows, in memory)
/// shadows the table for every unqualified query on this connection, and
/// the same upsert as [`Store::register_sources`] runs on the copy.
pub(super) fn register_in_memory(
    conn: &Connection,
    sources: &[SourceSpec],
) -> Result<(), StoreError> {
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
