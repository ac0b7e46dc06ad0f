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
}
