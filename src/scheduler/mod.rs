//! Scheduler: tokio-cron-scheduler ticks one job per source; each tick runs
//! the pipeline for that source if it is due (its persisted `next_check_at`,
//! set by the interval, server hints and backoff) and its previous poll is
//! not still running. A restart therefore polls only sources that are due.
//! Every poll runs in its own task, so a slow source never delays another.
//!
//! Owns when a poll starts, never what it does: it holds no policy of its
//! own about intervals or backoff (storage's `next_check_at` decides what is
//! due) and never touches HTTP, feeds or SQL directly.

pub mod claims;

use crate::config::{Schedule, SourceConfig};
use crate::pipeline::Pipeline;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Polls one source when no poll of it is running. Clones are cheap.
#[derive(Clone)]
struct SourcePoller {
    pipeline: Pipeline,
    source: Arc<SourceConfig>,
    /// Set while a poll of this source is in flight: tokio-cron-scheduler
    /// happily starts a job again while its last run is still going.
    running: Arc<AtomicBool>,
    /// When the source is next due, as last persisted: ticks before it are
    /// skipped, so storage — not the tick — decides when a source is polled.
    due: Arc<Mutex<Option<DateTime<Utc>>>>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl SourcePoller {
    /// Starts a poll in a tracked task, unless one is running or we are
    /// shutting down.
    fn trigger(&self) {
        if self.cancel.is_cancelled() {
            return;
        }
        let due = *self.due.lock().unwrap_or_else(|e| e.into_inner());
        // A tick may fire a hair before the instant it was scheduled for.
        if due.is_some_and(|d| Utc::now() + chrono::Duration::milliseconds(250) < d) {
            return;
        }
        if self.running.swap(true, Ordering::AcqRel) {
            tracing::debug!(source = %self.source.name, "previous poll still running; tick skipped");
            return;
        }
        let this = self.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                // Cancelling drops an unfinished fetch; a write already
                // queued still completes on the writer thread.
                _ = this.cancel.cancelled() => {}
                report = this.pipeline.poll(&this.source) => {
                    *this.due.lock().unwrap_or_else(|e| e.into_inner()) = Some(report.next_check);
                }
            }
            this.running.store(false, Ordering::Release);
        });
    }
}

/// How often an interval source's job ticks: a tenth of the interval,
/// between 1 s and 30 s.
fn tick_period(every: Duration) -> Duration {
    (every / 10).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

/// When a source is first due after a start: as persisted, but a healthy
/// source whose schedule was shortened in the config is due within its new
/// period (a failing one keeps its backoff).
fn initial_due(
    source: &SourceConfig,
    persisted: Option<(Option<DateTime<Utc>>, u32)>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (next, failures) = persisted?;
    let next = next?;
    if failures > 0 {
        return Some(next);
    }
    let period =
        chrono::Duration::from_std(crate::pipeline::politeness::base_period(source, now)).ok()?;
    Some(next.min(now + period))
}

/// Which sources have a poll in flight, by name. Shared by every schedule
/// the daemon starts, so a reload never starts a second poll of a source the
/// previous schedule is still polling.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>);

impl InFlight {
    /// The flag of one source, made on first use.
    fn flag(&self, source: &str) -> Arc<AtomicBool> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(map.entry(source.to_string()).or_default())
    }

    /// How many polls are running now.
    pub fn count(&self) -> usize {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.values().filter(|f| f.load(Ordering::Acquire)).count()
    }
}

/// When the scheduler last ticked, for the watchdog: a job of its own
/// beats every [`HEARTBEAT_EVERY`], so a scheduler that stopped ticking
/// shows as a heartbeat growing old. Shared across reloads.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    base: std::time::Instant,
    /// Milliseconds after `base` of the last beat.
    last: Arc<std::sync::atomic::AtomicU64>,
}

/// How often the scheduler's heartbeat job runs.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

impl Default for Heartbeat {
    fn default() -> Heartbeat {
        Heartbeat {
            base: std::time::Instant::now(),
            last: Arc::default(),
        }
    }
}

impl Heartbeat {
    /// Records a tick now.
    pub fn beat(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Release);
    }

    /// How long ago the last tick was.
    pub fn age(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Acquire));
        self.base.elapsed().saturating_sub(last)
    }
}

/// The running schedule.
pub struct Scheduler {
    inner: JobScheduler,
}

impl Scheduler {
    /// Polls every source that is due now, then each on its schedule.
    /// Polls run in `tracker`, end early when `cancel` fires, and mark
    /// themselves in `in_flight`.
    pub async fn start(
        pipeline: Pipeline,
        tracker: TaskTracker,
        cancel: CancellationToken,
        in_flight: &InFlight,
        heartbeat: &Heartbeat,
    ) -> Result<Scheduler, JobSchedulerError> {
        let inner = JobScheduler::new().await?;
        heartbeat.beat();
        let beating = heartbeat.clone();
        inner
            .add(Job::new_repeated_async(
                HEARTBEAT_EVERY,
                move |_id, _lock| {
                    beating.beat();
                    Box::pin(async {})
                },
            )?)
            .await?;
        let persisted: std::collections::HashMap<String, (Option<DateTime<Utc>>, u32)> =
            match pipeline.store.source_status().await {
                Ok(list) => list
                    .into_iter()
                    .map(|s| (s.name, (s.next_check, s.consecutive_failures)))
                    .collect(),
                Err(e) => {
                    tracing::error!(error = %e, "cannot read when sources are due; polling all now");
                    Default::default()
                }
            };
        let now = Utc::now();
        for source in &pipeline.config.sources {
            let poller = SourcePoller {
                pipeline: pipeline.clone(),
                source: Arc::new(source.clone()),
                running: in_flight.flag(&source.name),
                due: Arc::new(Mutex::new(initial_due(
                    source,
                    persisted.get(&source.name).copied(),
                    now,
                ))),
                tracker: tracker.clone(),
                cancel: cancel.clone(),
            };
            let tick = {
                let poller = poller.clone();
                move |_id, _lock| {
                    poller.trigger();
                    Box::pin(async {})
                        as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
                }
            };
            let job = match &source.schedule {
                // Ticks come more often than the interval so that a due time
                // set by backoff or hints is honoured within a tenth of it.
                Schedule::Every(every) => Job::new_repeated_async(tick_period(*every), tick)?,
                // The text is the one config parsed; tokio-cron-scheduler
                // reads it with the same croner settings.
                Schedule::Cron(cron) => Job::new_async(cron.as_str(), tick)?,
            };
            inner.add(job).await?;
            poller.trigger();
        }
        inner.start().await?;
        Ok(Scheduler { inner })
    }

    /// Stops ticking. Polls already running are the caller's to await.
    pub async fn stop(mut self) {
        if let Err(e) = self.inner.shutdown().await {
            tracing::warn!(error = %e, "scheduler did not shut down cleanly");
        }
    }
}
