//! `feedmerge backup`: a consistent copy of a live database with SQLite's
//! online backup API. The copy is read in one pass inside one read
//! transaction, so it is the database as of one commit while the daemon
//! goes on writing (WAL: the writer never waits for a reader). It is
//! written beside its destination under a temporary name, checked, made a
//! single self-contained file (rollback journal, no `-wal` to carry
//! along), flushed to disk and only then renamed into place: the
//! destination is never a half-written copy.

use super::super::StoreError;
use super::health::name_fault;
use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Stories in the copy.
    pub stories: u64,
    /// Size of the copy in bytes.
    pub bytes: u64,
}

/// How long a backup waits for a lock another connection holds (a
/// checkpoint restarting the WAL, a migration) before giving up.
const BUSY_FOR: Duration = Duration::from_secs(30);

/// Copies the database at `db` to `dest`. An existing `dest` is refused
/// unless `replace` (then it is replaced atomically).
pub fn backup(db: &Path, dest: &Path, replace: bool) -> Result<BackupReport, StoreError> {
    let failed = |reason: String| StoreError::Backup {
        path: dest.display().to_string(),
        reason,
    };
    if !db.is_file() {
        return Err(failed(format!("there is no database at {}", db.display())));
    }
    if same_file(db, dest) {
        return Err(failed("that is the database itself".into()));
    }
    if dest.exists() && !replace {
        return Err(failed(
            "the file exists; pass --force to replace it, or choose another name".into(),
        ));
    }
    let partial = partial_path(dest);
    let result = copy(db, &partial).and_then(|stories| {
        let bytes = std::fs::metadata(&partial)
            .map_err(|e| failed(e.to_string()))?
            .len();
        std::fs::rename(&partial, dest).map_err(|e| failed(e.to_string()))?;
        sync_folder(dest);
        Ok(BackupReport { stories, bytes })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(journal_of(&partial));
    }
    result.map_err(|e| match e {
        e @ StoreError::Backup { .. } => e,
        other => failed(other.to_string()),
    })
}

/// Backs `db` up into a new file at `to`; returns its story count.
fn copy(db: &Path, to: &Path) -> Result<u64, StoreError> {
    let named = |e: rusqlite::Error| name_fault(db, e.into());
    let source = super::open_reader(db).map_err(|e| name_fault(db, e))?;
    let _ = std::fs::remove_file(to);
    let mut copy = Connection::open(to).map_err(|e| name_fault(to, e.into()))?;
    {
        let backup = Backup::new(&source, &mut copy).map_err(named)?;
        let started = Instant::now();
        // All pages in one step: one read transaction, one snapshot.
        loop {
            match backup.step(-1).map_err(named)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_FOR => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(StoreError::Backup {
                        path: to.display().to_string(),
                        reason: format!("{} stayed locked for {BUSY_FOR:?}", db.display()),
                    });
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    let fault = |e: rusqlite::Error| name_fault(to, e.into());
    copy.pragma_update(None, "journal_mode", "DELETE")
        .map_err(fault)?;
    let check: String = copy
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(fault)?;
    if check != "ok" {
        return Err(StoreError::Backup {
            path: to.display().to_string(),
            reason: format!("the copy fails its check: {check}"),
        });
    }
    let stories: i64 = copy
        .query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0))
        .map_err(fault)?;
    copy.close().map_err(|(_, e)| fault(e))?;
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::Backup {
            path: to.display().to_string(),
            reason: e.to_string(),
        })?;
    Ok(stories.try_into().unwrap_or(0))
}

/// `.NAME.partial-PID` beside `dest`.
fn partial_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    dest.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

fn journal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push("-journal");
    PathBuf::from(name)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Makes the rename durable (best effort: not every system can open a
/// folder).
fn sync_folder(file: &Path) {
    if let Some(dir) = file.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}
