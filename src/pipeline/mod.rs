//! One poll of one source through the whole pipeline:
//! fetch → parse (decode + feed-rs) → normalize → store.
//!
//! Shared by the daemon's scheduler and `feedmerge poll`, so both behave the
//! same. A poll never panics and never loses stored data: a failure is
//! recorded on the source and the previous stories stand.

pub mod fetch;
pub mod normalize;
pub mod parse;
mod parse_pool;
pub mod politeness;

use crate::config::{Config, SourceConfig};
use crate::store::{PollRecord, PollResult, Store, WriteSummary};
use chrono::{DateTime, Utc};
use fetch::{FetchOutcome, FetchResponse, Fetcher, RequestOptions};
use normalize::{NormalizeContext, NormalizedFeed};
use parse::{ParseError, ParseOptions};
use politeness::hosts::HostLimiter;
use politeness::{PollVerdict, hints};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What a poll did, for logs and `feedmerge poll`.
#[derive(Debug, Clone)]
pub struct PollReport {
    /// Source name.
    pub source: String,
    /// Outcome.
    pub outcome: PollOutcome,
    /// When the source is due next.
    pub next_check: DateTime<Utc>,
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
            } => {
                write!(
                    f,
                    "{}: ok {status}, {items} items: {} new, {} merged, {} updated, {} unchanged",
                    self.source,
                    summary.new_stories,
                    summary.merged,
                    summary.updated,
                    summary.unchanged
                )?;
                if summary.tombstoned > 0 {
                    write!(f, ", {} purged earlier", summary.tombstoned)?;
                }
                write!(f, " ({secs:.2}s)")
            }
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
    /// Global cap on fetches (each with its parse) in flight.
    permits: Arc<Semaphore>,
    /// The threads that parse, one per core (see [`parse_threads`]).
    parsers: Arc<parse_pool::ParsePool>,
    /// Parsed polls waiting for (or in) the writer, at most.
    write_slots: Arc<Semaphore>,
    /// Per-site cap on fetches in flight.
    hosts: Arc<HostLimiter>,
    /// When each stale source was last reported at ERROR.
    stale_reported: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
    /// Told after every write that changed stories (caches, WebSub).
    pub changes: crate::store::changes::Changes,
}

/// Parses that run at once: one per core. More only time-slice the same
/// cores, each with its document and allocator cache in memory (measured
/// on the ingest benchmark, 2 cores: 16 parses at once peaked 6 MiB higher
/// for no gain in speed).
fn parse_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Parsed polls that may wait for the writer at once: about one group
/// commit's worth (see `store::sqlite`), so the writer always has a full
/// batch ready while memory stays bounded (~70 KB per parsed feed).
const WRITE_SLOTS: usize = 32;

/// How often a source that stays stale is reported again.
const STALE_REPEAT: chrono::Duration = chrono::Duration::days(1);

/// Whether a stale source is reported now, given when it last was.
fn stale_report_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| now - last >= STALE_REPEAT)
}

impl Pipeline {
    /// Builds the shared parts.
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
    ) -> Result<Pipeline, crate::pipeline::fetch::FetchError> {
        let fetcher = Fetcher::new(&config.fetch, &config.sources)?;
        let permits = Arc::new(Semaphore::new(config.fetch.concurrency));
        let hosts = Arc::new(HostLimiter::with_limits(
            config.sources.iter().map(|s| (s.url.as_str(), s.per_host)),
        ));
        Ok(Pipeline {
            config,
            store,
            fetcher,
            permits,
            write_slots: Arc::new(Semaphore::new(WRITE_SLOTS)),
            parsers: Arc::new(parse_pool::ParsePool::new(parse_threads())),
            hosts,
            stale_reported: Arc::default(),
            changes: crate::store::changes::Changes::new(),
        })
    }

    /// Polls one source and stores what it found.
    pub async fn poll(&self, source: &SourceConfig) -> PollReport {
        let started = Instant::now();
        let (outcome, next_check) = self.poll_inner(source).await;
        let report = PollReport {
            source: source.name.clone(),
            outcome,
            next_check,
            elapsed: started.elapsed(),
        };
        match &report.outcome {
            PollOutcome::Failed(e) => {
                tracing::warn!(source = %source.name, url = %source.url, error = %e, next_check = %next_check, "poll failed")
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

    async fn poll_inner(&self, source: &SourceConfig) -> (PollOutcome, DateTime<Utc>) {
        let max_backoff = self.config.fetch.max_backoff;
        // Site slot first, then a global one: waiting for a busy site must
        // not hold a global slot other sites could use. The site slot covers
        // the request; the global one the fetch and the parse, then passes
        // to a write slot. So at most `concurrency` bodies are in memory
        // being parsed and `WRITE_SLOTS` parsed feeds wait for the writer —
        // a thousand sources due at once queue here instead of all holding
        // their documents (bounded memory, and no thread pile-up on 2 cores).
        let site = self.hosts.acquire(&source.url, source.per_host).await;
        let global = self.permits.acquire().await;
        let state = match self.store.poll_state(&source.name).await {
            Ok(v) => v,
            Err(e) => {
                let next = politeness::next_check(
                    source,
                    PollVerdict::Failure {
                        consecutive: 1,
                        retry_after: None,
                    },
                    max_backoff,
                    Utc::now(),
                );
                return (self.store_failed(source, e), next);
            }
        };
        let fetched = self
            .fetcher
            .fetch(&RequestOptions::for_source(source, &state.validators))
            .await;
        drop(site);
        let now = Utc::now();
        let failure = |retry_after| PollVerdict::Failure {
            consecutive: state.consecutive_failures + 1,
            retry_after,
        };
        let (result, verdict, moved_to) = match fetched {
            Ok(FetchResponse {
                outcome: FetchOutcome::NotModified,
                freshness,
                moved_permanently,
                ..
            }) => (
                PollResult::NotModified,
                PollVerdict::Success { hint: freshness },
                moved_permanently,
            ),
            Ok(FetchResponse {
                outcome: FetchOutcome::Fetched(body),
                final_url,
                moved_permanently,
                freshness,
            }) => {
                match self
                    .parse_and_normalize(
                        source,
                        body.body,
                        body.content_type,
                        // Relative links resolve against where the document
                        // says it lives, else where it was fetched from.
                        parse::base_url(&final_url, body.content_location.as_deref()),
                        now,
                    )
                    .await
                {
                    Ok((feed, feed_hint)) => {
                        let hint = match (freshness, feed_hint) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, b) => a.or(b),
                        };
                        let result = PollResult::Fetched {
                            validators: body.validators,
                            status: body.status,
                            meta: feed.meta,
                            items: feed.items,
                        };
                        (result, PollVerdict::Success { hint }, moved_permanently)
                    }
                    Err(error) => (
                        PollResult::Failed {
                            status: Some(body.status),
                            error,
                        },
                        failure(None),
                        moved_permanently,
                    ),
                }
            }
            Err(e) => (
                PollResult::Failed {
                    status: e.status(),
                    error: e.to_string(),
                },
                failure(e.retry_after()),
                None,
            ),
        };
        let next_check = politeness::next_check(source, verdict, max_backoff, now);
        if let Some(to) = &moved_to {
            tracing::warn!(source = %source.name, from = %source.url, to = %to, "feed moved permanently; consider updating the config");
        }
        let shown = match &result {
            PollResult::Fetched { status, items, .. } => Ok(Some((*status, items.len()))),
            PollResult::NotModified => Ok(None),
            PollResult::Failed { error, .. } => Err(error.clone()),
        };
        let touched = match &result {
            PollResult::Fetched { items, .. } => {
                let mut names: Vec<String> =
                    items.iter().flat_map(|i| i.sections.clone()).collect();
                names.sort();
                names.dedup();
                names
            }
            _ => Vec::new(),
        };
        let record = PollRecord {
            at: now,
            next_check,
            moved_to,
            result,
        };
        // Hand the global slot on to the next fetch while this poll waits
        // for the writer, but only once a write slot is held: every parsed
        // feed in memory holds one of the two, so memory stays bounded
        // while the writer gets whole batches to commit together.
        let _write = self.write_slots.acquire().await;
        drop(global);
        let written = self.store.record_poll(&source.name, record).await;
        if let Ok(summary) = &written
            && summary.new_stories + summary.merged + summary.updated > 0
        {
            // An edit can change a story in sections other sources gave it.
            let sections = (summary.updated == 0).then_some(touched);
            self.changes.publish(sections);
        }
        let outcome = match (written, shown) {
            (Err(e), _) => self.store_failed(source, e),
            (Ok(summary), Ok(Some((status, items)))) => PollOutcome::Stored {
                status,
                items,
                summary,
            },
            (Ok(_), Ok(None)) => PollOutcome::NotModified,
            (Ok(summary), Err(error)) => {
                self.report_if_stale(source, &summary, &error, now);
                PollOutcome::Failed(error)
            }
        };
        // A success ends the streak: a later failure is reported afresh.
        if matches!(
            outcome,
            PollOutcome::Stored { .. } | PollOutcome::NotModified
        ) {
            self.stale_reported
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&source.name);
        }
        (outcome, next_check)
    }

    /// Decode, parse and normalize off the async workers (CPU-bound), and
    /// read the feed's own schedule hints.
    async fn parse_and_normalize(
        &self,
        source: &SourceConfig,
        body: Vec<u8>,
        content_type: Option<String>,
        final_url: String,
        now: DateTime<Utc>,
    ) -> Result<(NormalizedFeed, Option<Duration>), String> {
        let source_cfg = source.clone();
        let config = Arc::clone(&self.config);
        self.parsers
            .run(move || {
                let opts = ParseOptions {
                    content_type: content_type.as_deref(),
                    base_url: Some(&final_url),
                    timezone: source_cfg.timezone,
                    encoding: source_cfg.encoding,
                };
                let parsed = match parse::parse(&body, opts) {
                    Ok(p) => p,
                    Err(e @ ParseError::NotAFeed { .. }) => {
                        // A web page often names its feed: say where it is.
                        return Err(
                            match crate::pipeline::fetch::discover::alternate_feed(
                                &body, &final_url,
                            ) {
                                Some(feed) => format!("{e}; the page links to a feed at {feed}"),
                                None => e.to_string(),
                            },
                        );
                    }
                    Err(e) => return Err(e.to_string()),
                };
                // The channel head, as far as it is valid UTF-8 (sy: tags are ASCII).
                let head = &body[..body.len().min(8 * 1024)];
                let head = match std::str::from_utf8(head) {
                    Ok(h) => h,
                    Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
                };
                let hint = hints::feed_interval(parsed.feed.ttl, head);
                let cx = NormalizeContext {
                    source: &source_cfg.name,
                    source_section: source_cfg.section.as_deref(),
                    sections: &config.sections,
                    base_url: Some(&final_url),
                    now,
                };
                Ok((normalize::normalize(&parsed, &cx), hint))
            })
            .await
            .and_then(|parsed| parsed)
    }

    /// A source failing for longer than `stale_after` needs an operator:
    /// ERROR once, then once a day while it stays failing.
    fn report_if_stale(
        &self,
        source: &SourceConfig,
        summary: &WriteSummary,
        error: &str,
        now: DateTime<Utc>,
    ) {
        let Some(since) = summary.failing_since else {
            return;
        };
        let stale_after = chrono::Duration::from_std(self.config.fetch.stale_after)
            .unwrap_or(chrono::Duration::days(1));
        if now - since < stale_after {
            return;
        }
        let mut reported = self
            .stale_reported
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !stale_report_due(reported.get(&source.name).copied(), now) {
            return;
        }
        reported.insert(source.name.clone(), now);
        tracing::error!(
            source = %source.name,
            url = %source.url,
            failing_since = %since,
            failures = summary.consecutive_failures,
            error,
            "source has been failing for longer than stale_after; it is still retried"
        );
    }

    fn store_failed(&self, source: &SourceConfig, e: crate::store::StoreError) -> PollOutcome {
        // Storage failing is not the source's fault and needs an operator.
        tracing::error!(source = %source.name, error = %e, "storage failed during poll");
        PollOutcome::Failed(format!("storage: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_source_is_reported_once_a_day() {
        let now = Utc::now();
        assert!(stale_report_due(None, now));
        assert!(!stale_report_due(
            Some(now - chrono::Duration::hours(23)),
            now
        ));
        assert!(stale_report_due(
            Some(now - chrono::Duration::hours(24)),
            now
        ));
    }
}
