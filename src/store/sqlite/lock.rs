//! The daemon's claim on a database: an exclusive `flock(2)` on
//! `<database>.lock`, held for the daemon's life, so a second `feedmerge
//! run` on the same file refuses to start instead of polling beside the
//! first. Only `run` takes it: `feedmerge poll` beside a daemon is how an
//! operator forces a poll, and SQLite's own locking keeps the two writers
//! apart (each write waits its turn).
//!
//! `flock` rather than `fcntl`: its locks belong to the open file, not to
//! the process, so two daemons in one process (tests) exclude each other
//! too, and closing some other descriptor of the file never drops it. The
//! lock file is never deleted: removing it could let two daemons each lock
//! a different file of the same name. The holder writes its pid into it,
//! for the message the next one shows.

use super::super::StoreError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Held while alive; dropping it releases the lock.
#[derive(Debug)]
pub(super) struct DaemonLock {
    _file: File,
}

/// The lock file of the database at `db`.
pub(super) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// Claims `db` for this process, or says who holds it.
#[cfg(unix)]
pub(super) fn acquire(db: &Path) -> Result<DaemonLock, StoreError> {
    use std::io::{Read, Seek, Write};
    use std::os::unix::io::AsRawFd;

    let lock = lock_path(db);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EROFS | libc::EACCES | libc::EPERM) => StoreError::NotWritable {
                path: db.display().to_string(),
                reason: format!("cannot create its lock file {}: {e}", lock.display()),
            },
            _ => StoreError::Open {
                path: db.display().to_string(),
                reason: format!("cannot open its lock file {}: {e}", lock.display()),
            },
        })?;
    // SAFETY: a plain syscall on a descriptor `file` owns.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match text.trim().parse::<u32>() {
                Ok(pid) => format!(" (pid {pid})"),
                Err(_) => String::new(),
            };
            return Err(StoreError::Locked {
                path: db.display().to_string(),
                lock: lock.display().to_string(),
                holder,
            });
        }
        return Err(StoreError::Open {
            path: db.display().to_string(),
            reason: format!("cannot lock {}: {e}", lock.display()),
        });
    }
    // Best effort: the pid only makes the next refusal clearer.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(DaemonLock { _file: file })
}

/// Without `flock`, nothing is claimed.
#[cfg(not(unix))]
pub(super) fn acquire(db: &Path) -> Result<DaemonLock, StoreError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_path(db))
        .map_err(|e| StoreError::Open {
            path: db.display().to_string(),
            reason: e.to_string(),
        })?;
    Ok(DaemonLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_named_by_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("f.db");
        let first = acquire(&db).unwrap();
        let err = acquire(&db).unwrap_err().to_string();
        assert!(
            err.contains(&format!("(pid {})", std::process::id()))
                && err.contains("f.db.lock")
                && err.contains("in use by another feedmerge daemon"),
            "{err}"
        );
        drop(first);
        let _again = acquire(&db).unwrap();
    }
}
