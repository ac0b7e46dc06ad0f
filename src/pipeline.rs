//! One poll of one source through the whole pipeline:
//! fetch → parse (decode + feed-rs) → normalize → store.
//!
//! Shared by the daemon's scheduler and `feedmerge poll`, so both behave the
//! same. A poll never panics and never loses stored data: a failure is
//! recorded on the source and the previous stories stand.

use crate::config::{Config, SourceConfig};
use crate::fetch::{FetchOutcome, Fetcher};
use crate::normalize::{self, NormalizeContext};
use crate::parse::{self, ParseOptions};
use crate::store::{PollRecord, Store, WriteSummary};
use chrono::Utc;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What a poll did, for logs and `feedmerge poll`.
#[derive(Debug, Clone)]
pub struct PollReport {
    /// Source name.
    pub source: String,
    /// Outcome.
    pub outcome: PollOutcome,
    /// Wall time of the poll.
    pub elapsed: Duration,
}

/// How a poll ended.
#[derive(Debug, Clone)]
pub enum PollOutcome {
    /// A feed was fetched and stored.
    Stored {
        /// HTTP status.
        status: u16,
        /// Items in the document.
        items: usize,
        /// What changed.
        summary: WriteSummary,
    },
    /// 304: unchanged since the last poll.
    NotModified,
    /// Fetch or parse failed (recorded on the source).
    Failed(String),
}

impl fmt::Display for PollReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        match &self.outcome {
            PollOutcome::Stored {
                status,
                items,
                summary,
            } => write!(
                f,
                "{}: ok {status}, {items} items: {} new, {} merged, {} updated, {} unchanged ({secs:.2}s)",
                self.source,
                summary.new_stories,
                summary.merged,
                summary.updated,
                summary.unchanged
            ),
            PollOutcome::NotModified => {
                write!(f, "{}: not modified (304) ({secs:.2}s)", self.source)
            }
            PollOutcome::Failed(e) => write!(f, "{}: FAILED: {e} ({secs:.2}s)", self.source),
        }
    }
}

/// Everything a poll needs, shared by all polls.
#[derive(Clone)]
pub struct Pipeline {
    /// The validated config.
    pub config: Arc<Config>,
    /// Storage.
    pub store: Arc<dyn Store>,
    fetcher: Fetcher,
    /// Global cap on fetches in flight.
    permits: Arc<Semaphore>,
    /// Told after every write that changed stories (caches, WebSub).
    pub changes: crate::changes::Changes,
}

impl Pipeline {
    /// Builds the shared parts.
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
    ) -> Result<Pipeline, crate::fetch::FetchError> {
        let fetcher = Fetcher::new(&config.fetch)?;
        let permits = Arc::new(Semaphore::new(config.fetch.concurrency));
        Ok(Pipeline {
            config,
            store,
            fetcher,
            permits,
            changes: crate::changes::Changes::new(),
        })
    }

    /// Polls one source and stores what it found.
    pub async fn poll(&self, source: &SourceConfig) -> PollReport {
        let started = Instant::now();
        let outcome = self.poll_inner(source).await;
        let report = PollReport {
            source: source.name.clone(),
            outcome,
            elapsed: started.elapsed(),
        };
        match &report.outcome {
            PollOutcome::Failed(e) => {
                tracing::warn!(source = %source.name, url = %source.url, error = %e, "poll failed")
            }
            PollOutcome::Stored { items, summary, .. } => tracing::info!(
                source = %source.name,
                items,
                new = summary.new_stories,
                merged = summary.merged,
                updated = summary.updated,
                elapsed_ms = report.elapsed.as_millis() as u64,
                "polled"
            ),
            PollOutcome::NotModified => tracing::debug!(source = %source.name, "not modified"),
        }
        report
    }

    async fn poll_inner(&self, source: &SourceConfig) -> PollOutcome {
        let validators = match self.store.validators(&source.name).await {
            Ok(v) => v,
            Err(e) => return self.store_failed(source, e),
        };
        let fetched = {
            // Held only while the request runs: parsing and writing don't
            // count against the fetch cap.
            let _permit = self.permits.acquire().await;
            self.fetcher
                .fetch(&source.url, &validators, source.timeout)
                .await
        };
        let now = Utc::now();
        let record = match fetched {
            Ok(FetchOutcome::NotModified) => PollRecord::NotModified,
            Ok(FetchOutcome::Fetched(body)) => {
                let source_cfg = source.clone();
                let config = Arc::clone(&self.config);
                // CPU-bound: keep it off the async workers so slow parses
                // never delay other sources' I/O.
                let parsed = tokio::task::spawn_blocking(move || {
                    let opts = ParseOptions {
                        content_type: body.content_type.as_deref(),
                        base_url: Some(&body.final_url),
                        timezone: source_cfg.timezone,
                    };
                    parse::parse(&body.body, opts).map(|parsed| {
                        let cx = NormalizeContext {
                            source: &source_cfg.name,
                            source_section: source_cfg.section.as_deref(),
                            sections: &config.sections,
                            base_url: Some(&body.final_url),
                            now,
                        };
                        (
                            normalize::normalize(&parsed, &cx),
                            body.validators,
                            body.status,
                        )
                    })
                })
                .await;
                match parsed {
                    Ok(Ok((feed, validators, status))) => PollRecord::Fetched {
                        validators,
                        status,
                        meta: feed.meta,
                        items: feed.items,
                    },
                    Ok(Err(e)) => PollRecord::Failed {
                        status: None,
                        error: e.to_string(),
                    },
                    Err(join) => PollRecord::Failed {
                        status: None,
                        error: format!("parser crashed: {join}"),
                    },
                }
            }
            Err(e) => PollRecord::Failed {
                status: e.status(),
                error: e.to_string(),
            },
        };
        let outcome_without_summary = match &record {
            PollRecord::Fetched { status, items, .. } => Some((*status, items.len())),
            PollRecord::NotModified => None,
            PollRecord::Failed { error, .. } => {
                let error = error.clone();
                return match self.store.record_poll(&source.name, now, record).await {
                    Ok(_) => PollOutcome::Failed(error),
                    Err(e) => self.store_failed(source, e),
                };
            }
        };
        let touched = match &record {
            PollRecord::Fetched { items, .. } => {
                let mut names: Vec<String> =
                    items.iter().flat_map(|i| i.sections.clone()).collect();
                names.sort();
                names.dedup();
                names
            }
            _ => Vec::new(),
        };
        let written = self.store.record_poll(&source.name, now, record).await;
        if let Ok(summary) = &written
            && summary.new_stories + summary.merged + summary.updated > 0
        {
            // An edit can change a story in sections other sources gave it.
            let sections = (summary.updated == 0).then_some(touched);
            self.changes.publish(sections);
        }
        match written {
            Ok(summary) => match outcome_without_summary {
                Some((status, items)) => PollOutcome::Stored {
                    status,
                    items,
                    summary,
                },
                None => PollOutcome::NotModified,
            },
            Err(e) => self.store_failed(source, e),
        }
    }

    fn store_failed(&self, source: &SourceConfig, e: crate::store::StoreError) -> PollOutcome {
        // Storage failing is not the source's fault and needs an operator.
        tracing::error!(source = %source.name, error = %e, "storage failed during poll");
        PollOutcome::Failed(format!("storage: {e}"))
    }
}
