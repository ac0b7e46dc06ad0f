//! Scheduler: tokio-cron-scheduler ticks one job per source; each tick runs
//! the pipeline for that source unless its previous poll is still running.
//! Every poll runs in its own task, so a slow source never delays another.

use crate::config::{Schedule, SourceConfig};
use crate::pipeline::Pipeline;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
                _ = this.pipeline.poll(&this.source) => {}
            }
            this.running.store(false, Ordering::Release);
        });
    }
}

/// The running schedule.
pub struct Scheduler {
    inner: JobScheduler,
}

impl Scheduler {
    /// Polls every source now, then on its schedule.
    pub async fn start(
        pipeline: Pipeline,
        tracker: TaskTracker,
        cancel: CancellationToken,
    ) -> Result<Scheduler, JobSchedulerError> {
        let inner = JobScheduler::new().await?;
        for source in &pipeline.config.sources {
            let poller = SourcePoller {
                pipeline: pipeline.clone(),
                source: Arc::new(source.clone()),
                running: Arc::new(AtomicBool::new(false)),
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
                Schedule::Every(every) => Job::new_repeated_async(*every, tick)?,
                Schedule::Cron(expr) => Job::new_async(expr.as_str(), tick)?,
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
