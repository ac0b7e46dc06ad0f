//! The daemon: storage, the schedule and the HTTP server, stopped together by
//! one shutdown future (a signal in production, anything in tests).
//!
//! Owns the wiring and the lifecycle (start, readiness, shutdown); holds no
//! logic of the stages it starts.

mod elsewhere;
pub mod notify;
mod reload;
mod retention;
pub mod storage;
pub use retention::{purge_once, warn_if_no_shrink};
pub mod watchdog;

use crate::config::{Config, Live};
use crate::pipeline::Pipeline;
use crate::scheduler::{Heartbeat, InFlight, Scheduler};
use crate::server::{self, AppState};
use crate::store::sqlite::SqliteStore;
use crate::store::{SourceSpec, Store};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long shutdown waits for polls in flight before giving up on them.
/// Cancelled fetches end at once; this covers writes already queued.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(8);
/// How long answers in flight get once shutdown starts; connections still
/// open then (a client that sends half a request and waits) are dropped,
/// so SIGTERM ends the daemon well inside systemd's stop timeout.
const SERVER_DRAIN: Duration = Duration::from_secs(5);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Storage could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] crate::pipeline::fetch::FetchError),
    /// The scheduler failed to start.
    #[error("scheduler: {0}")]
    Scheduler(#[from] tokio_cron_scheduler::JobSchedulerError),
    /// The HTTP server failed.
    #[error("HTTP server: {0}")]
    Server(#[from] std::io::Error),
}

/// Opens storage and registers the configured sources (`feedmerge poll`:
/// beside a running daemon too, SQLite's locking keeping the writers
/// apart).
pub async fn open_store(config: &Config) -> Result<Arc<SqliteStore>, DaemonError> {
    open_store_with(config, SqliteStore::open).await
}

/// [`open_store`] for the daemon: the database is claimed for as long as
/// the store is open, and refused when another daemon holds it.
pub async fn open_store_exclusive(config: &Config) -> Result<Arc<SqliteStore>, DaemonError> {
    open_store_with(config, SqliteStore::open_exclusive).await
}

/// Fails when another daemon holds the configured database, so `run` can
/// say so before it binds the port (which the other daemon may hold too).
pub fn check_store_unclaimed(config: &Config) -> Result<(), DaemonError> {
    Ok(SqliteStore::check_unclaimed(&config.storage_path)?)
}

async fn open_store_with(
    config: &Config,
    open: fn(&std::path::Path) -> Result<SqliteStore, crate::store::StoreError>,
) -> Result<Arc<SqliteStore>, DaemonError> {
    let path = config.storage_path.clone();
    let store = tokio::task::spawn_blocking(move || open(&path))
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

/// What the store records of each configured source.
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
/// schedule, serves HTTP on `listener`, and re-reads the config on SIGHUP.
/// On shutdown, stops ticking, cancels fetches, lets queued writes finish
/// and returns.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    run_with_reloads(config, listener, shutdown, sighups()).await
}

/// [`run`], with a reload whenever `reloads` yields (tests send on it;
/// [`run`] feeds it from SIGHUP).
pub async fn run_with_reloads(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reloads: mpsc::Receiver<()>,
) -> Result<(), DaemonError> {
    run_daemon(config, Some(listener), shutdown, reloads).await
}

/// [`run`] for a process that may serve no HTTP (`[worker] serve = false`:
/// `listener` is `None`).
pub async fn run_worker(
    config: Config,
    listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    run_daemon(config, listener, shutdown, sighups()).await
}

async fn run_daemon(
    config: Config,
    listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut reloads: mpsc::Receiver<()>,
) -> Result<(), DaemonError> {
    let config = Arc::new(config);
    let opened = storage::open(&config, true).await?;
    let store: Arc<dyn Store> = Arc::clone(&opened.store);
    let pipeline = Pipeline::new(Arc::clone(&config), Arc::clone(&store))?;
    let addr = listener.as_ref().map(|l| l.local_addr()).transpose()?;
    let live = Live::new(Arc::clone(&config));
    let state = AppState::live(live.clone(), Arc::clone(&store));
    let shared = Shared {
        store,
        live,
        tracker: TaskTracker::new(),
        cancel: CancellationToken::new(),
        in_flight: InFlight::default(),
        heartbeat: Heartbeat::default(),
        cache: Arc::clone(&state.cache),
    };
    // Cached renders are dropped as polls change stories: this process's
    // polls, and (PostgreSQL) every other worker's, heard by NOTIFY.
    let cache_follower = state.cache.follow(&pipeline.changes);
    let across = opened
        .postgres
        .as_ref()
        .map(|pg| cross_process(pg, &config.worker.id, &pipeline.changes, &state.cache));
    let server_cancel = shared.cancel.clone();
    let server = match listener {
        Some(listener) => tokio::spawn(server::serve(listener, state, async move {
            server_cancel.cancelled().await
        })),
        None => tokio::spawn(async { Ok(()) }),
    };
    let mut running = Running::start(pipeline, &shared).await?;
    // `[storage] keep`: once now, then hourly, with the keep in force.
    // Another process's writes drop cached answers too.
    let outside = tokio::spawn(elsewhere::watch(
        Arc::clone(&shared.store),
        running.pipeline.changes.clone(),
    ));
    let purger = tokio::spawn(retention::run(
        shared.live.clone(),
        Arc::clone(&shared.store),
        running.pipeline.changes.clone(),
    ));
    let listen = addr.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
    tracing::info!(addr = %listen, sources = config.sources.len(), db = %config.storage_display(), worker = %config.worker.id, poll = config.worker.poll, "feedmerge running");
    crate::daemon::notify::ready();
    let watchdog = crate::daemon::notify::watchdog_timeout().map(|timeout| {
        tracing::info!(?timeout, "systemd watchdog on");
        tokio::spawn(watchdog::run(
            Arc::clone(&shared.store),
            shared.heartbeat.clone(),
            timeout,
            crate::daemon::notify::watchdog,
        ))
    });

    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(()) = reloads.recv() => running.reload(&shared).await,
        }
    }
    // A purge batch already with the writer still commits; no new one starts.
    purger.abort();
    outside.abort();
    let served = shut_down(running, &shared, server).await;
    cache_follower.abort();
    for task in across.into_iter().flatten() {
        task.abort();
    }
    if let Some(task) = watchdog {
        task.abort();
    }
    drop(shared);
    // Queued writes finish before the writer thread exits.
    let _ = tokio::task::spawn_blocking(move || opened.close()).await;
    served
}

/// PostgreSQL: this process's change notices sent to the others, and
/// theirs dropping what they made stale in this process's cache.
fn cross_process(
    pg: &Arc<crate::store::postgres::PgStore>,
    worker: &str,
    changes: &crate::store::changes::Changes,
    cache: &Arc<crate::server::cache::FeedCache>,
) -> [tokio::task::JoinHandle<()>; 2] {
    let cache = Arc::clone(cache);
    [
        pg.relay_changes(worker.to_string(), changes),
        pg.listen_changes(worker.to_string(), move |sections| {
            cache.invalidate(&crate::store::changes::Change {
                generation: 0,
                sections,
            })
        }),
    ]
}

/// What every schedule the daemon starts shares, across reloads.
struct Shared {
    store: Arc<dyn Store>,
    /// The config in force, which the server reads too.
    live: Live,
    /// Every poll of every schedule.
    tracker: TaskTracker,
    /// Fired once, at shutdown.
    cancel: CancellationToken,
    in_flight: InFlight,
    heartbeat: Heartbeat,
    cache: Arc<crate::server::cache::FeedCache>,
}

/// Stops ticking, cancels fetches, and lets polls and answers in flight
/// drain side by side, each within its deadline, so a stop ends within
/// systemd's TimeoutStopSec whatever clients do.
async fn shut_down(
    running: Running,
    shared: &Shared,
    mut server: tokio::task::JoinHandle<std::io::Result<()>>,
) -> Result<(), DaemonError> {
    tracing::info!("shutting down");
    crate::daemon::notify::stopping();
    shared.cancel.cancel();
    let pipeline = running.pipeline.clone();
    running.stop().await;
    shared.tracker.close();
    // Polls, then the clustering of what they stored (placed in the
    // background; what is left unplaced is placed at the next start).
    let polls_and_clusters = async {
        shared.tracker.wait().await;
        pipeline.clusters_settled().await;
    };
    let (drained, served) = tokio::join!(
        tokio::time::timeout(DRAIN_TIMEOUT, polls_and_clusters),
        tokio::time::timeout(SERVER_DRAIN, &mut server),
    );
    if drained.is_err() {
        tracing::warn!("polls still running after the drain timeout; abandoning them");
    }
    match served {
        Ok(Ok(result)) => result.map_err(DaemonError::Server),
        Ok(Err(join)) => Err(DaemonError::Server(std::io::Error::other(join.to_string()))),
        Err(_) => {
            tracing::warn!(
                seconds = SERVER_DRAIN.as_secs(),
                "connections still open after the drain deadline; closing them"
            );
            server.abort();
            Ok(())
        }
    }
}

/// The schedule in force, the pipeline it drives and the hub follower of
/// its config.
struct Running {
    scheduler: Polling,
    pipeline: Pipeline,
    websub: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Starts the schedule of `pipeline`'s config.
    async fn start(pipeline: Pipeline, shared: &Shared) -> Result<Running, DaemonError> {
        let config = Arc::clone(&pipeline.config);
        // The hub is told about changes to this config's feeds: subscribed
        // before the first poll can publish one.
        let websub = crate::publish::websub::follow(
            Arc::clone(&config),
            Arc::clone(&shared.store),
            &pipeline.changes,
        );
        let scheduler = match Polling::start(&pipeline, shared).await {
            Ok(s) => s,
            Err(e) => {
                if let Some(task) = websub {
                    task.abort();
                }
                return Err(e.into());
            }
        };
        crate::telemetry::metrics()
            .label_sources(config.sources.len(), config.metrics_source_labels);
        Ok(Running {
            scheduler,
            pipeline,
            websub,
        })
    }

    /// One reload: the config re-read and, when valid, put in force.
    async fn reload(&mut self, shared: &Shared) {
        crate::daemon::notify::reloading();
        if let Some(next) = reload::read(&shared.live.get()) {
            match self.replace(next, shared).await {
                Ok(config) => {
                    shared.live.replace(config);
                    // Sections, aliases and feeds may all have changed.
                    shared.cache.clear();
                }
                Err(e) => tracing::error!(error = %e, "reload failed; the running config stays"),
            }
        }
        crate::daemon::notify::ready();
    }

    /// Puts `next` in force: its sources registered, a new pipeline and
    /// schedule started, then the old schedule stopped. Polls the old one
    /// started finish on their own (the shared `in_flight` flags keep the
    /// new schedule from polling those sources again meanwhile).
    async fn replace(&mut self, next: Config, shared: &Shared) -> Result<Arc<Config>, DaemonError> {
        let old = Arc::clone(&self.pipeline.config);
        let next = Arc::new(next);
        shared.store.register_sources(&source_specs(&next)).await?;
        let mut pipeline = Pipeline::new(Arc::clone(&next), Arc::clone(&shared.store))?;
        // One change feed across reloads: the cache and the hub follow it.
        pipeline.changes = self.pipeline.changes.clone();
        // And one clusterer, which takes the new `[clustering]`.
        pipeline.keep_clusterer(&self.pipeline).await;
        let started = match Running::start(pipeline, shared).await {
            Ok(started) => started,
            Err(e) => {
                // The running config stays, and with it its `[clustering]`.
                self.pipeline.reconfigure_clusterer().await;
                return Err(e);
            }
        };
        let previous = std::mem::replace(self, started);
        previous.stop().await;
        reload::log_changes(&old, &next);
        Ok(next)
    }

    /// Stops ticking and following; polls already running finish.
    async fn stop(self) {
        if let Some(task) = self.websub {
            task.abort();
        }
        self.scheduler.stop().await;
    }
}

/// How this process starts polls: a timer per source (SQLite, one
/// process), claims from the shared store (PostgreSQL), or none
/// (`[worker] poll = false`).
enum Polling {
    Timers(Scheduler),
    Claims(crate::scheduler::claims::ClaimLoop),
    /// Beats the heartbeat only, so the watchdog still sees a live daemon.
    Off(tokio::task::JoinHandle<()>),
}

impl Polling {
    async fn start(
        pipeline: &Pipeline,
        shared: &Shared,
    ) -> Result<Polling, tokio_cron_scheduler::JobSchedulerError> {
        let config = &pipeline.config;
        if !config.worker.poll {
            let heartbeat = shared.heartbeat.clone();
            return Ok(Polling::Off(tokio::spawn(async move {
                loop {
                    heartbeat.beat();
                    tokio::time::sleep(crate::scheduler::HEARTBEAT_EVERY).await;
                }
            })));
        }
        if config.storage_url.is_some() {
            let claimer = crate::scheduler::claims::Claimer {
                pipeline: pipeline.clone(),
                worker: config.worker.id.clone(),
                lease: config.worker.lease,
                tracker: shared.tracker.clone(),
                cancel: shared.cancel.clone(),
                in_flight: shared.in_flight.clone(),
                heartbeat: shared.heartbeat.clone(),
            };
            return Ok(Polling::Claims(crate::scheduler::claims::ClaimLoop::start(
                claimer,
            )));
        }
        Ok(Polling::Timers(
            Scheduler::start(
                pipeline.clone(),
                shared.tracker.clone(),
                shared.cancel.clone(),
                &shared.in_flight,
                &shared.heartbeat,
            )
            .await?,
        ))
    }

    async fn stop(self) {
        match self {
            Polling::Timers(s) => s.stop().await,
            Polling::Claims(c) => c.stop().await,
            Polling::Off(task) => task.abort(),
        }
    }
}

/// A receiver that yields once per SIGHUP (never, off Unix). The stream
/// is installed before the daemon says it is ready, so a SIGHUP (what
/// `systemctl reload` and logrotate send) no longer ends the process.
fn sighups() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel(1);
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    // A reload already queued covers this one too.
                    let _ = tx.try_send(());
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP; reload needs a restart"),
    }
    #[cfg(not(unix))]
    drop(tx);
    rx
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
