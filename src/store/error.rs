//! Errors of the storage boundary.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file or its folder could not be created or opened.
    #[error("cannot open database {path}: {reason}")]
    Open {
        /// The path.
        path: String,
        /// The cause.
        reason: String,
    },
    /// The database is newer than this binary understands.
    #[error(
        "database schema version {found} is newer than this feedmerge ({supported}); upgrade feedmerge"
    )]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest version we know.
        supported: i64,
    },
    /// The database predates this binary's schema and is opened read-only,
    /// so it cannot be upgraded here.
    #[error(
        "database schema version {found} is older than this feedmerge ({supported}); the next `feedmerge run` or `feedmerge poll` upgrades it"
    )]
    TooOld {
        /// Version in the file.
        found: i64,
        /// Newest version we know.
        supported: i64,
    },
    /// A write to a store opened read-only.
    #[error("database is open read-only")]
    ReadOnly,
    /// The filesystem holding the database is full. The write that hit it
    /// was undone whole; what was stored before stands and is still served.
    #[error(
        "disk full: cannot write database {path}; free space on its filesystem (nothing stored is lost, and writing resumes by itself)"
    )]
    DiskFull {
        /// The database file.
        path: String,
    },
    /// The database file, its folder or its filesystem refuses writes.
    #[error(
        "database {path} is not writable: {reason}; feedmerge needs to write the file and create files beside it"
    )]
    NotWritable {
        /// The database file.
        path: String,
        /// What refuses (the operating system's words).
        reason: String,
    },
    /// Reading or writing the file failed below SQLite (a failing disk, a
    /// vanished network share).
    #[error("I/O error on database {path}: {reason}")]
    Io {
        /// The database file.
        path: String,
        /// SQLite's and the system's words.
        reason: String,
    },
    /// The file is damaged, or not an SQLite database at all.
    #[error(
        "database {path} is damaged ({detail}); restore it from a backup (`feedmerge backup` makes one) or move it aside to start a new one"
    )]
    Corrupt {
        /// The database file.
        path: String,
        /// What SQLite found.
        detail: String,
    },
    /// The file at the database's path is no longer the one open: deleted,
    /// or another file moved over it. Nothing more is written to it.
    #[error(
        "database file {path} was {what} while feedmerge had it open; nothing more is written until feedmerge is restarted (restore the file from a backup first if it was lost)"
    )]
    Replaced {
        /// The database file.
        path: String,
        /// "deleted" or "replaced by another file".
        what: String,
    },
    /// Another `feedmerge run` holds the database.
    #[error(
        "database {path} is in use by another feedmerge daemon{holder} holding {lock}; stop it first (`feedmerge poll` may run beside it)"
    )]
    Locked {
        /// The database file.
        path: String,
        /// The lock file.
        lock: String,
        /// " (pid N)" when the holder wrote its pid, else empty.
        holder: String,
    },
    /// `feedmerge backup` could not write its copy.
    #[error("backup to {path}: {reason}")]
    Backup {
        /// Where the copy was to go.
        path: String,
        /// Why it was not written.
        reason: String,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The transaction holding these writes failed to commit (disk full, I/O
    /// error); nothing of it was stored.
    #[error("database commit failed: {0}")]
    Commit(String),
    /// The writer thread is gone (shutdown or a crash).
    #[error("database writer has stopped")]
    WriterGone,
    /// A source name that was never registered.
    #[error("unknown source `{0}`")]
    UnknownSource(String),
    /// PostgreSQL cannot be reached (down, restarting, network): nothing
    /// of the operation was written; the next one tries again on a fresh
    /// connection.
    #[error("PostgreSQL is unreachable: {0}")]
    Unreachable(String),
    /// A PostgreSQL statement failed (the server's words).
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// This worker's lease on the source ended (it was paused or slow, and
    /// another worker claimed the source): the poll's result is dropped
    /// whole, since the other worker's is the one that counts.
    #[error(
        "lease on source `{name}` was lost to another worker; this poll's result was not written"
    )]
    LeaseLost {
        /// The source.
        name: String,
    },
}
