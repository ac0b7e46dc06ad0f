//! Polling by claims, for a store shared by several workers (PostgreSQL):
//! instead of one timer per source, every worker asks the store for due
//! sources about once a second ([`Store::claim_due`]) and polls what it
//! was given, each poll in its own task. The store decides what is due and
//! who polls it, so every due source is fetched by one worker per due time
//! and a worker that dies loses its sources when their leases end.
//!
//! [`Store::claim_due`]: crate::store::Store::claim_due

use super::{Heartbeat, InFlight};
use crate::config::SourceConfig;
use crate::pipeline::Pipeline;
use crate::store::Lease;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Pause between claims when the last one left nothing more due.
pub const CLAIM_EVERY: Duration = Duration::from_secs(1);

/// Sources claimed at most per statement.
const MAX_BATCH: usize = 50;

/// The claim loop of one schedule (a reload starts a new one).
pub struct ClaimLoop {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// What the loop needs, cloned from the daemon's shared parts.
pub struct Claimer {
    /// The pipeline polls run through.
    pub pipeline: Pipeline,
    /// `[worker] id`.
    pub worker: String,
    /// `[worker] lease`.
    pub lease: Duration,
    /// Every poll runs in it.
    pub tracker: TaskTracker,
    /// Fired at shutdown.
    pub cancel: CancellationToken,
    /// Shared with other schedules, so a reload never polls a source twice.
    pub in_flight: InFlight,
    /// Beaten every round, for the watchdog.
    pub heartbeat: Heartbeat,
}

impl ClaimLoop {
    /// Starts claiming at once.
    pub fn start(claimer: Claimer) -> ClaimLoop {
        let stop = claimer.cancel.child_token();
        let task = tokio::spawn(run(claimer, stop.clone()));
        ClaimLoop { stop, task }
    }

    /// Stops claiming; polls already running finish in the tracker.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn run(c: Claimer, stop: CancellationToken) {
    let config = Arc::clone(&c.pipeline.config);
    let sources: HashMap<&str, Arc<SourceConfig>> = config
        .sources
        .iter()
        .map(|s| (s.name.as_str(), Arc::new(s.clone())))
        .collect();
    // The strictest site limit of the config caps every host in a batch;
    // the pipeline's per-site slots still apply to each poll.
    let per_host = config.sources.iter().map(|s| s.per_host).min().unwrap_or(2);
    let batch = config.fetch.concurrency.clamp(1, MAX_BATCH);
    let mut failing = false;
    loop {
        c.heartbeat.beat();
        let free = batch.saturating_sub(c.in_flight.count());
        let mut full = false;
        if free > 0 {
            match c
                .pipeline
                .store
                .claim_due(&c.worker, Utc::now(), c.lease, free, per_host)
                .await
            {
                Ok(leases) => {
                    if failing {
                        tracing::info!(worker = %c.worker, "claiming due sources again");
                        failing = false;
                    }
                    full = leases.len() == free;
                    for lease in leases {
                        start_poll(&c, &sources, lease);
                    }
                }
                Err(e) => {
                    // Once per outage: the loop retries every second.
                    if !failing {
                        tracing::error!(worker = %c.worker, error = %e, "cannot claim due sources; polling resumes when the store answers");
                        failing = true;
                    }
                }
            }
        }
        let pause = if full {
            Duration::from_millis(50)
        } else {
            CLAIM_EVERY
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// Polls one claimed source in its own task, unless this process is
/// already polling it or does not know it (another worker's config).
fn start_poll(c: &Claimer, sources: &HashMap<&str, Arc<SourceConfig>>, lease: Lease) {
    let Some(source) = sources.get(lease.source.as_str()).cloned() else {
        tracing::debug!(source = %lease.source, "claimed a source this config does not have; its lease runs out");
        return;
    };
    let running = c.in_flight.flag(&source.name);
    if running.swap(true, Ordering::AcqRel) {
        return;
    }
    if let Some(due) = lease.due {
        let late = (Utc::now() - due).num_milliseconds().max(0) as f64 / 1000.0;
        tracing::trace!(source = %source.name, late, "claimed");
    }
    let (pipeline, cancel) = (c.pipeline.clone(), c.cancel.clone());
    c.tracker.spawn(async move {
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = pipeline.poll_claimed(&source, &lease) => {}
        }
        running.store(false, Ordering::Release);
    });
}
