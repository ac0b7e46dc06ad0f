//! Which store the config names, opened for the daemon or a command:
//! SQLite at `[storage] path` (the default), or PostgreSQL at
//! `[storage] url`, shared by several processes.

use super::{DaemonError, source_specs};
use crate::config::Config;
use crate::store::Store;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use std::sync::Arc;

/// An open store of either backend.
#[derive(Clone)]
pub struct Opened {
    /// The store behind the seam.
    pub store: Arc<dyn Store>,
    /// Set when it is SQLite, which is closed explicitly (its writer
    /// thread finishes queued writes).
    sqlite: Option<Arc<SqliteStore>>,
    /// Set when it is PostgreSQL (claims, change notices across processes).
    pub postgres: Option<Arc<PgStore>>,
}

impl Opened {
    fn sqlite(store: Arc<SqliteStore>) -> Opened {
        Opened {
            store: store.clone(),
            sqlite: Some(store),
            postgres: None,
        }
    }

    fn postgres(store: Arc<PgStore>) -> Opened {
        Opened {
            store: store.clone(),
            sqlite: None,
            postgres: Some(store),
        }
    }

    /// Lets queued writes finish and closes files (SQLite); blocking.
    pub fn close(&self) {
        if let Some(s) = &self.sqlite {
            s.close();
        }
    }
}

impl std::ops::Deref for Opened {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        self.store.as_ref()
    }
}

impl AsRef<dyn Store> for Opened {
    fn as_ref(&self) -> &(dyn Store + 'static) {
        self.store.as_ref()
    }
}

/// Connects to the configured PostgreSQL database (migrating it) and
/// registers the configured sources.
async fn open_postgres(config: &Config, url: &str) -> Result<Opened, DaemonError> {
    let store = PgStore::connect(url, config.pool_size).await?;
    store.register_sources(&source_specs(config)).await?;
    Ok(Opened::postgres(Arc::new(store)))
}

/// Opens the configured store for writing: a daemon claims an SQLite file
/// (`exclusive`); PostgreSQL is shared by design.
pub async fn open(config: &Config, exclusive: bool) -> Result<Opened, DaemonError> {
    if let Some(url) = &config.storage_url {
        return open_postgres(config, url).await;
    }
    let store = if exclusive {
        super::open_store_exclusive(config).await?
    } else {
        super::open_store(config).await?
    };
    Ok(Opened::sqlite(store))
}

/// Opens the configured store for a command that only reads. `None`: no
/// SQLite database yet. PostgreSQL is connected to without migrating; a
/// schema older than this binary's is refused, as for SQLite.
pub async fn open_read_only(config: &Config) -> Result<Option<Opened>, DaemonError> {
    if let Some(url) = &config.storage_url {
        let store = PgStore::connect_read_only(url, config.pool_size).await?;
        return Ok(Some(Opened::postgres(Arc::new(store))));
    }
    Ok(super::open_store_read_only(config)
        .await?
        .map(Opened::sqlite))
}

/// Fails when another daemon holds the configured SQLite database;
/// PostgreSQL is never held by one process.
pub fn check_unclaimed(config: &Config) -> Result<(), DaemonError> {
    if config.storage_url.is_some() {
        return Ok(());
    }
    Ok(SqliteStore::check_unclaimed(&config.storage_path)?)
}
