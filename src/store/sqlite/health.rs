//! What is wrong with the database file, if anything: SQLite's error codes
//! turned into errors that name the cause and the path ([`Fault`]), and the
//! store's [`Health`], which the writer, the checkpointer and `ping` share.
//!
//! A write fault (disk full, not writable, I/O error) lasts until the next
//! write commits; a checkpoint fault until the next checkpoint succeeds. A
//! file deleted or replaced under the store lasts until a restart: the
//! writer then refuses every job, so nothing is written into a file that
//! is no longer the database.

use super::super::StoreError;
use rusqlite::ErrorCode;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A storage fault: a cause outside the job that hit it, so retrying the
/// job alone would fail the same way. Cheap to clone, so one fault can be
/// told to every job of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fault {
    /// `SQLITE_FULL`: no space left on the database's filesystem.
    DiskFull,
    /// The file, its folder or its filesystem refuses writes.
    NotWritable(String),
    /// An I/O error below SQLite.
    Io(String),
    /// The file is damaged or not a database.
    Corrupt(String),
    /// The path no longer names the open file.
    Replaced(&'static str),
    /// The transaction could not begin or commit for another reason.
    Commit(String),
}

impl Fault {
    /// The error a caller sees.
    pub(super) fn error(&self, path: &Path) -> StoreError {
        let path = path.display().to_string();
        match self {
            Fault::DiskFull => StoreError::DiskFull { path },
            Fault::NotWritable(reason) => StoreError::NotWritable {
                path,
                reason: reason.clone(),
            },
            Fault::Io(reason) => StoreError::Io {
                path,
                reason: reason.clone(),
            },
            Fault::Corrupt(detail) => StoreError::Corrupt {
                path,
                detail: detail.clone(),
            },
            Fault::Replaced(what) => StoreError::Replaced {
                path,
                what: (*what).to_string(),
            },
            Fault::Commit(reason) => StoreError::Commit(reason.clone()),
        }
    }
}

/// The fault behind an SQLite error, if it is one (`None`: the statement's
/// own fault, such as a constraint).
pub(super) fn classify(path: &Path, e: &rusqlite::Error) -> Option<Fault> {
    match e.sqlite_error_code()? {
        ErrorCode::DiskFull => Some(Fault::DiskFull),
        ErrorCode::ReadOnly => Some(Fault::NotWritable(
            why_not_writable(path).unwrap_or_else(|| e.to_string()),
        )),
        // A write through a file that became read-only (an immutable flag,
        // a remount) comes back as an I/O error: say what it really is.
        ErrorCode::SystemIoFailure => Some(match why_not_writable(path) {
            Some(reason) => Fault::NotWritable(reason),
            None => Fault::Io(e.to_string()),
        }),
        ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => Some(Fault::Corrupt(e.to_string())),
        _ => None,
    }
}

/// `e` with a storage fault named by cause and path; other errors as they
/// are.
pub(super) fn name_fault(path: &Path, e: StoreError) -> StoreError {
    match &e {
        StoreError::Sqlite(inner) => match classify(path, inner) {
            Some(fault) => fault.error(path),
            None => e,
        },
        _ => e,
    }
}

/// [`name_fault`] for errors on a read connection, which is read-only by
/// design: a refused write there is not the file's fault.
pub(super) fn name_read_fault(path: &Path, e: StoreError) -> StoreError {
    match &e {
        StoreError::Sqlite(inner) if inner.sqlite_error_code() == Some(ErrorCode::ReadOnly) => e,
        _ => name_fault(path, e),
    }
}

/// Why the database file or its folder cannot be written, in the system's
/// words, or `None` when both can. Asks the kernel with `access(2)`, which
/// opens nothing (closing a descriptor of the database file would drop
/// SQLite's locks on it) and which reports a read-only filesystem or an
/// immutable file even to root.
pub(super) fn why_not_writable(path: &Path) -> Option<String> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if path.exists()
        && let Err(e) = writable(path)
    {
        return Some(e.to_string());
    }
    writable(folder)
        .err()
        .map(|e| format!("its folder {}: {e}", folder.display()))
}

#[cfg(unix)]
fn writable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn writable(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path)?.permissions().readonly() {
        true => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "read-only",
        )),
        false => Ok(()),
    }
}

/// Which file a path names: (device, inode) on Unix.
#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    std::fs::metadata(path).map(|_| (0, 0))
}

/// The store's health, shared by the writer, the checkpointer and readers.
/// Room the filesystem must have again before a full disk counts as over.
const MIN_FREE_AFTER_FULL: u64 = 1024 * 1024;

/// Bytes free to unprivileged writers on the filesystem holding `path`;
/// `None` when it cannot be told (then a committed write is taken at its word).
#[cfg(unix)]
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the struct we own from a NUL-terminated path.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

#[cfg(not(unix))]
fn free_bytes(_path: &Path) -> Option<u64> {
    None
}

pub(super) struct Health {
    path: PathBuf,
    /// The file the store opened, `None` when it could not be told.
    opened: Option<(u64, u64)>,
    write: Mutex<Option<Fault>>,
    checkpoint: Mutex<Option<Fault>>,
    /// Set once, never cleared: a restart opens the file the path names.
    replaced: Mutex<Option<Fault>>,
}

impl Health {
    /// Health of the file at `path`, which the store has just opened.
    pub(super) fn new(path: &Path) -> Health {
        Health {
            path: path.to_path_buf(),
            opened: identity(path).ok(),
            write: Mutex::new(None),
            checkpoint: Mutex::new(None),
            replaced: Mutex::new(None),
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The fault that makes storage unhealthy now, worst first.
    pub(super) fn fault(&self) -> Option<Fault> {
        [&self.replaced, &self.write, &self.checkpoint]
            .into_iter()
            .find_map(|f| f.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Whether the path still names the file the store opened; when not
    /// (first noticed here), says so at ERROR and returns the fault from
    /// now on.
    pub(super) fn check_file(&self) -> Option<Fault> {
        let mut replaced = self.replaced.lock().unwrap_or_else(|e| e.into_inner());
        if replaced.is_some() {
            return replaced.clone();
        }
        let opened = self.opened?;
        let what = match identity(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "deleted",
            // Unreadable for a moment (a permission change): not a verdict.
            Err(_) => return None,
            Ok(now) if now != opened => "replaced by another file",
            Ok(_) => return None,
        };
        let fault = Fault::Replaced(what);
        tracing::error!(
            path = %self.path.display(),
            error = %fault.error(&self.path),
            "database file {what}; writes stop, stored stories are served until a restart"
        );
        *replaced = Some(fault.clone());
        replaced.clone()
    }

    /// The file is gone or replaced (as last checked).
    pub(super) fn replaced(&self) -> Option<Fault> {
        self.replaced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A write failed for `fault`; said at ERROR when writes were fine.
    pub(super) fn write_failed(&self, fault: &Fault) {
        self.set(&self.write, Some(fault), "database writes are failing; polls fail and are retried on schedule, stored stories are still served");
    }

    /// A write committed; said at INFO when writes were failing. A full
    /// disk is not over while the filesystem still has no room: small
    /// writes (a source's next check time) go on succeeding into WAL pages
    /// the file already has, but the next poll's stories would fail again.
    pub(super) fn write_ok(&self) {
        let disk_full = matches!(
            *self.write.lock().unwrap_or_else(|e| e.into_inner()),
            Some(Fault::DiskFull)
        );
        if disk_full && free_bytes(&self.path).is_some_and(|free| free < MIN_FREE_AFTER_FULL) {
            return;
        }
        self.set(&self.write, None, "database writes succeed again");
    }

    /// A checkpoint failed for `fault`.
    pub(super) fn checkpoint_failed(&self, fault: &Fault) {
        self.set(
            &self.checkpoint,
            Some(fault),
            "WAL checkpoints are failing; the WAL file grows until they succeed",
        );
    }

    /// A checkpoint succeeded.
    pub(super) fn checkpoint_ok(&self) {
        self.set(&self.checkpoint, None, "WAL checkpoints succeed again");
    }

    fn set(&self, slot: &Mutex<Option<Fault>>, to: Option<&Fault>, message: &str) {
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        match (slot.as_ref(), to) {
            (None, Some(f)) => {
                tracing::error!(path = %self.path.display(), error = %f.error(&self.path), "{message}")
            }
            (Some(_), None) => tracing::info!(path = %self.path.display(), "{message}"),
            _ => {}
        }
        *slot = to.cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_noticed_and_stays_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        std::fs::write(&path, b"one").unwrap();
        let health = Health::new(&path);
        assert_eq!(health.check_file(), None);
        let other = dir.path().join("y.db");
        std::fs::write(&other, b"two").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(
            health.check_file(),
            Some(Fault::Replaced("replaced by another file"))
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            health.check_file(),
            Some(Fault::Replaced("replaced by another file")),
            "the first verdict stands"
        );
        let gone = dir.path().join("gone.db");
        std::fs::write(&gone, b"three").unwrap();
        let health = Health::new(&gone);
        std::fs::remove_file(&gone).unwrap();
        assert_eq!(health.check_file(), Some(Fault::Replaced("deleted")));
        let err = health.fault().unwrap().error(&gone).to_string();
        assert!(err.contains("gone.db was deleted"), "{err}");
    }

    #[test]
    fn a_write_fault_lasts_until_a_write_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        std::fs::write(&path, b"").unwrap();
        let health = Health::new(&path);
        health.write_failed(&Fault::DiskFull);
        let err = health.fault().unwrap().error(&path).to_string();
        assert!(
            err.starts_with("disk full: cannot write database") && err.contains("x.db"),
            "{err}"
        );
        health.write_ok();
        assert_eq!(health.fault(), None);
    }
}
