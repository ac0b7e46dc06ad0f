//! The daemon: storage, the schedule and the HTTP server, stopped together by
//! one shutdown future (a signal in production, anything in tests).

use crate::config::Config;
use crate::pipeline::Pipeline;
use crate::scheduler::Scheduler;
use crate::server::{self, AppState};
use crate::store::sqlite::SqliteStore;
use crate::store::{SourceSpec, Store};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long shutdown waits for polls in flight before giving up on them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Storage could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    /// The scheduler failed to start.
    #[error("scheduler: {0}")]
    Scheduler(#[from] tokio_cron_scheduler::JobSchedulerError),
    /// The HTTP server failed.
    #[error("HTTP server: {0}")]
    Server(#[from] std::io::Error),
}

/// Opens storage and registers the configured sources.
pub async fn open_store(config: &Config) -> Result<Arc<SqliteStore>, DaemonError> {
    let path = config.storage_path.clone();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
        .await
        .map_err(|e| crate::store::StoreError::Open {
            path: config.storage_path.display().to_string(),
            reason: e.to_string(),
        })??;
    store.register_sources(&source_specs(config)).await?;
    Ok(Arc::new(store))
}

/// Opens storage for a command that only reads (`status`, `export`): no
/// file, folder, migration or registration is written; the configured
/// sources are registered in memory only. `None`: no database yet.
pub async fn open_store_read_only(
    config: &Config,
) -> Result<Option<Arc<SqliteStore>>, DaemonError> {
    let path = config.storage_path.clone();
    let specs = source_specs(config);
    let store = tokio::task::spawn_blocking(move || SqliteStore::open_read_only(&path, &specs))
        .await
        .map_err(|e| crate::store::StoreError::Open {
            path: config.storage_path.display().to_string(),
            reason: e.to_string(),
        })??;
    Ok(store.map(Arc::new))
}

/// The configured sources as storage registers them.
fn source_specs(config: &Config) -> Vec<SourceSpec> {
    config
        .sources
        .iter()
        .map(|s| SourceSpec {
            name: s.name.clone(),
            url: s.url.clone(),
            title: s.title.clone(),
        })
        .collect()
}

/// Runs until `shutdown` completes: polls every source now and then on
/// schedule, serves HTTP on `listener`. On shutdown, stops ticking, cancels
/// fetches, lets queued writes finish and returns.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let config = Arc::new(config);
    let sqlite = open_store(&config).await?;
    let store: Arc<dyn Store> = sqlite.clone();
    let pipeline = Pipeline::new(Arc::clone(&config), Arc::clone(&store))?;
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();

    let addr = listener.local_addr()?;
    let state = AppState::new(Arc::clone(&config), Arc::clone(&store));
    // Cached renders are dropped as polls change stories; the hub is told.
    let followers = [
        Some(state.cache.follow(&pipeline.changes)),
        crate::websub::follow(Arc::clone(&config), Arc::clone(&store), &pipeline.changes),
    ];
    let server_cancel = cancel.clone();
    let server = tokio::spawn(server::serve(listener, state, async move {
        server_cancel.cancelled().await
    }));
    let scheduler = Scheduler::start(pipeline, tracker.clone(), cancel.clone()).await?;
    tracing::info!(%addr, sources = config.sources.len(), db = %config.storage_path.display(), "feedmerge running");
    crate::notify::notify("READY=1");

    shutdown.await;
    tracing::info!("shutting down");
    crate::notify::notify("STOPPING=1");
    cancel.cancel();
    scheduler.stop().await;
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("polls still running after the drain timeout; abandoning them");
    }
    let served = server.await;
    for task in followers.into_iter().flatten() {
        task.abort();
    }
    drop(store);
    // Queued writes finish before the writer thread exits.
    let closing = Arc::clone(&sqlite);
    let _ = tokio::task::spawn_blocking(move || closing.close()).await;
    match served {
        Ok(result) => result.map_err(DaemonError::Server),
        Err(join) => Err(DaemonError::Server(std::io::Error::other(join.to_string()))),
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
