//! One poll of one source through the whole pipeline:
//! fetch → ingest (decode → parse → normalize) → store.
//!
//! Shared by the daemon's scheduler and `feedmerge poll`, so both behave the
//! same. A poll never panics and never loses stored data: a failure is
//! recorded on the source and the previous stories stand.

pub mod clustering;
pub mod fetch;
pub mod ingest;
pub mod normalize;
pub mod parse;
mod parse_pool;
pub mod politeness;
pub mod scrape;

pub use parse_pool::PoolError;

use crate::config::{Config, SourceConfig, SourceKind};
use crate::model::redact::redact;
use crate::store::{
    ArticleOutcome, Lease, PollRecord, PollResult, Store, StoreError, WriteSummary,
};
use chrono::{DateTime, Utc};
use fetch::{FetchError, FetchOutcome, FetchResponse, Fetched, Fetcher, RequestOptions};
use ingest::{IngestError, IngestOptions, Ingested};
use normalize::NormalizedFeed;
use parse::ParseOptions;
use politeness::PollVerdict;
use politeness::hosts::HostLimiter;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What a poll did, for logs and `feedmerge poll`.
#[derive(Debug)]
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
#[derive(Debug)]
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
    /// Fetch, ingest or storage failed (recorded on the source, as the
    /// error's text).
    Failed(PollError),
}

/// Why a poll failed. The text is what `feedmerge poll` prints and what the
/// source's `last_error` keeps.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The fetch failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The body is not a usable feed.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The body is a web page, and it names its feed.
    #[error("{source}; the page links to a feed at {feed}")]
    FeedElsewhere {
        /// Why the page itself is no feed.
        #[source]
        source: IngestError,
        /// The feed the page advertises.
        feed: String,
    },
    /// The parse threads did not run the work.
    #[error(transparent)]
    Parser(#[from] PoolError),
    /// Storage failed: not the source's fault, and it needs an operator.
    #[error("storage: {0}")]
    Storage(#[source] StoreError),
}

impl PollError {
    /// An ingest error, naming the feed a web page links to when it does.
    fn of_ingest(error: IngestError, body: &[u8], base_url: &str) -> PollError {
        if !error.is_not_a_feed() {
            return PollError::Ingest(error);
        }
        if let Some(title) = fetch::challenge::challenge(body) {
            return FetchError::Blocked { status: 200, title }.into();
        }
        match fetch::discover::alternate_feed(body, base_url) {
            Some(feed) => PollError::FeedElsewhere {
                source: error,
                feed,
            },
            None => PollError::Ingest(error),
        }
    }

    /// Whether the site answered with a bot challenge.
    fn is_blocked(&self) -> bool {
        matches!(self, PollError::Fetch(e) if e.is_blocked())
    }

    /// The HTTP status, when the failure was one.
    fn status(&self) -> Option<u16> {
        match self {
            PollError::Fetch(e) => e.status(),
            _ => None,
        }
    }

    /// How long the server asked us to wait before the next attempt.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            PollError::Fetch(e) => e.retry_after(),
            _ => None,
        }
    }
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
    /// Near-duplicate clusters of new stories (`[clustering]`).
    clusterer: Arc<clustering::Clusterer>,
}

/// Tells subscribers (caches, WebSub) about a write that changed stories.
fn publish_changes(
    changes: &crate::store::changes::Changes,
    summary: &WriteSummary,
    touched: Vec<String>,
) {
    if summary.new_stories + summary.merged + summary.updated == 0 {
        return;
    }
    // An edit can change a story in sections other sources gave it.
    let sections = (summary.updated == 0).then_some(touched);
    changes.publish(sections);
}

/// Parses that run at once: one per core. More only time-slice the same
/// cores, each with its document and allocator cache in memory (measured
/// on the ingest benchmark, 2 cores: 16 parses at once peaked 6 MiB higher
/// for no gain in speed).
/// Counts one poll in `/metrics`: its outcome and the stories it wrote.
fn record_metrics(report: &PollReport) {
    let metrics = crate::telemetry::metrics();
    let outcome = match &report.outcome {
        PollOutcome::Stored { summary, .. } => {
            metrics.stories(
                summary.new_stories as u64,
                summary.merged as u64,
                summary.updated as u64,
            );
            "stored"
        }
        PollOutcome::NotModified => "not_modified",
        PollOutcome::Failed(e) if e.to_string().starts_with("blocked:") => "blocked",
        PollOutcome::Failed(_) => "failed",
    };
    metrics.poll(&report.source, outcome);
}

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
        let clusterer = Arc::new(clustering::Clusterer::new(
            config.clustering.clone(),
            config.storage_keep,
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
            clusterer,
        })
    }

    /// Takes over `previous`'s clusterer with this pipeline's
    /// `[clustering]` (see [`clustering::Clusterer::reconfigure`]), as a
    /// reload does: one clusterer across reloads, so the clusters formed
    /// stay in memory and the old schedule's last polls and the new
    /// schedule's first never cluster side by side.
    pub async fn keep_clusterer(&mut self, previous: &Pipeline) {
        self.clusterer = Arc::clone(&previous.clusterer);
        self.reconfigure_clusterer().await;
    }

    /// Puts this pipeline's `[clustering]` and `[storage] keep` in force
    /// in its clusterer (again, after a reload that failed to start).
    pub async fn reconfigure_clusterer(&self) {
        self.clusterer
            .reconfigure(self.config.clustering.clone(), self.config.storage_keep)
            .await;
    }

    /// Polls one source and stores what it found.
    pub async fn poll(&self, source: &SourceConfig) -> PollReport {
        self.poll_leased(source, None).await
    }

    /// [`Pipeline::poll`] of a source this worker claimed: the result is
    /// written only while `lease` is still the source's (see
    /// [`Store::record_claimed_poll`]).
    pub async fn poll_claimed(&self, source: &SourceConfig, lease: &Lease) -> PollReport {
        self.poll_leased(source, Some(lease)).await
    }

    async fn poll_leased(&self, source: &SourceConfig, lease: Option<&Lease>) -> PollReport {
        let started = Instant::now();
        let (outcome, next_check) = self.poll_inner(source, lease).await;
        let report = PollReport {
            source: source.name.clone(),
            outcome,
            next_check,
            elapsed: started.elapsed(),
        };
        record_metrics(&report);
        match &report.outcome {
            PollOutcome::Failed(e) => {
                tracing::warn!(source = %source.name, url = %redact(&source.url), error = %redact(&e.to_string()), next_check = %next_check, "poll failed")
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

    async fn poll_inner(
        &self,
        source: &SourceConfig,
        lease: Option<&Lease>,
    ) -> (PollOutcome, DateTime<Utc>) {
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
            Err(e) => return self.state_unreadable(source, e),
        };
        let fetch_started = Instant::now();
        let fetched = self
            .fetcher
            .fetch(&RequestOptions::for_source(source, &state.validators))
            .await;
        crate::telemetry::metrics().fetched(fetch_started.elapsed());
        drop(site);
        let now = Utc::now();
        let (found, moved_to) = match fetched {
            Ok(response) => self.ingest_response(source, response, now).await,
            Err(e) => (Found::failed(e.into()), None),
        };
        let verdict = found.verdict(state.consecutive_failures);
        let next_check =
            politeness::next_check(source, verdict, self.config.fetch.max_backoff, now);
        if let Some(to) = &moved_to {
            tracing::warn!(source = %source.name, from = %redact(&source.url), to = %redact(to), "feed moved permanently; consider updating the config");
        }
        let touched = found.sections();
        let mut found = found;
        let articles = found.take_articles();
        let (result, shown) = found.into_record();
        let record = PollRecord {
            at: now,
            next_check,
            moved_to,
            result,
            articles,
        };
        // Hand the global slot on to the next fetch while this poll waits
        // for the writer, but only once a write slot is held: every parsed
        // feed in memory holds one of the two, so memory stays bounded
        // while the writer gets whole batches to commit together.
        let write = self.write_slots.acquire().await;
        drop(global);
        let written = match lease {
            Some(lease) => self.store.record_claimed_poll(lease, record).await,
            None => self.store.record_poll(&source.name, record).await,
        };
        // Written: the slot goes to the next parsed feed before this poll
        // waits for clustering, or every slot would sit idle behind one
        // clustering run while the writer starves.
        drop(write);
        if let Ok(summary) = &written {
            if summary.new_stories > 0 && self.config.clustering.enabled {
                self.cluster_new(&source.name, summary, touched);
            } else {
                publish_changes(&self.changes, summary, touched);
            }
        }
        (self.outcome(source, written, shown, now), next_check)
    }

    /// A poll that could not even read the source's state: the storage's
    /// failure, and a retry as after a first failure.
    fn state_unreadable(
        &self,
        source: &SourceConfig,
        e: StoreError,
    ) -> (PollOutcome, DateTime<Utc>) {
        let next = politeness::next_check(
            source,
            PollVerdict::Failure {
                consecutive: 1,
                retry_after: None,
            },
            self.config.fetch.max_backoff,
            Utc::now(),
        );
        (self.store_failed(source, e), next)
    }

    /// What a successful exchange found: nothing new (304), or the body
    /// ingested; and where permanent redirects led.
    async fn ingest_response(
        &self,
        source: &SourceConfig,
        response: FetchResponse,
        now: DateTime<Utc>,
    ) -> (Found, Option<String>) {
        let FetchResponse {
            outcome,
            final_url,
            moved_permanently,
            freshness,
        } = response;
        let fetched = match outcome {
            FetchOutcome::NotModified => {
                return (Found::NotModified { freshness }, moved_permanently);
            }
            FetchOutcome::Fetched(fetched) => fetched,
        };
        let Fetched {
            status,
            validators,
            content_type,
            content_location,
            content_language,
            body,
        } = fetched;
        let headers = DocHeaders {
            content_type,
            content_language,
        };
        // Relative links resolve against where the document says it lives,
        // else where it was fetched from.
        let base_url = parse::base_url(&final_url, content_location.as_deref());
        let found = match self.ingest(source, body, headers, base_url, now).await {
            Ok((ingested, articles, pending)) => Found::Feed {
                status,
                // Pages left to read: the next poll must not get a 304.
                validators: if pending {
                    crate::model::Validators::default()
                } else {
                    validators
                },
                hint: longer(freshness, ingested.schedule_hint),
                feed: ingested.feed,
                articles,
            },
            Err(error) => Found::Failed {
                status: Some(status),
                error,
            },
        };
        (found, moved_permanently)
    }

    /// Ingests a body on the parse threads (it is CPU-bound: the async
    /// workers keep serving other polls meanwhile): parsed as a feed or
    /// scraped as a listing page, each new story's own page read when the
    /// source has `[source.article]`, then normalized.
    async fn ingest(
        &self,
        source: &SourceConfig,
        body: Vec<u8>,
        headers: DocHeaders,
        base_url: String,
        now: DateTime<Utc>,
    ) -> Result<(Ingested, Vec<ArticleOutcome>, bool), PollError> {
        let plain_feed = source.kind == SourceKind::Feed && source.article.is_none();
        let owned = Arc::new(source.clone());
        let config = Arc::clone(&self.config);
        let (cfg, src, base) = (Arc::clone(&config), Arc::clone(&owned), base_url.clone());
        let ct = headers.clone();
        if plain_feed {
            let ingested = self
                .parsers
                .run(move || {
                    let opts = ingest_options(&src, &cfg, &ct, &base, now);
                    ingest::ingest(&body, &opts).map_err(|e| PollError::of_ingest(e, &body, &base))
                })
                .await??;
            return Ok((ingested, Vec::new(), false));
        }
        let (mut parsed, body) = self
            .parsers
            .run(move || {
                let opts = ingest_options(&src, &cfg, &ct, &base, now);
                let started = Instant::now();
                let read = read_document(&src, body, &opts);
                crate::telemetry::metrics().parsed(started.elapsed());
                read
            })
            .await??;
        let (articles, pending) = match &source.article {
            Some(rules) => {
                self.read_articles(source, rules, &mut parsed, &base_url, now)
                    .await
            }
            None => (Vec::new(), false),
        };
        let ingested = self
            .parsers
            .run(move || {
                let opts = ingest_options(&owned, &config, &headers, &base_url, now);
                ingest::finish(&parsed, &body, &opts)
            })
            .await?;
        Ok((ingested, articles, pending))
    }

    /// Reads the own pages of the stories in `parsed` that have none yet
    /// (at most `max_per_poll`, each at most five times until one read
    /// succeeds), with the same fetcher, timeouts, body cap and per-site
    /// limits as the source; lays what every page read so far gave (now
    /// or on an earlier poll) over its entry. Returns what was tried, for
    /// the store to remember, and whether pages are left to read (then the
    /// next poll reads the listing even if unchanged, to get to them).
    async fn read_articles(
        &self,
        source: &SourceConfig,
        rules: &crate::config::ArticleRules,
        parsed: &mut crate::model::parsed::ParsedFeed,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> (Vec<ArticleOutcome>, bool) {
        let base = url::Url::parse(base_url).ok();
        let links: Vec<Option<String>> = parsed
            .entries
            .iter()
            .map(|e| {
                let l = e
                    .links
                    .iter()
                    .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                    .or_else(|| e.links.first())?;
                normalize::link::canonical_link(&l.href, base.as_ref())
            })
            .collect();
        let mut unique: Vec<String> = Vec::new();
        for l in links.iter().flatten() {
            if !unique.contains(l) {
                unique.push(l.clone());
            }
        }
        let mut known = match self.store.article_pages(&source.name, &unique).await {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(source = %source.name, error = %e, "article pages unreadable; none fetched this poll");
                return (Vec::new(), true);
            }
        };
        let open: Vec<&String> = unique
            .iter()
            .filter(|l| {
                known.get(*l).is_none_or(|p| {
                    p.extract.is_none() && p.attempts < crate::model::article::MAX_ARTICLE_ATTEMPTS
                })
            })
            .collect();
        let mut pending = open.len() > rules.max_per_poll;
        let todo: Vec<String> = open.into_iter().take(rules.max_per_poll).cloned().collect();
        let mut tasks = tokio::task::JoinSet::new();
        for link in todo {
            let fetcher = self.fetcher.clone();
            let hosts = Arc::clone(&self.hosts);
            let parsers = Arc::clone(&self.parsers);
            let source = Arc::new(source.clone());
            let config = Arc::clone(&self.config);
            let rules = rules.clone();
            tasks.spawn(async move {
                let result = read_article(
                    &fetcher, &hosts, &parsers, &source, &config, &rules, &link, now,
                )
                .await;
                ArticleOutcome { link, result }
            });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Ok(outcome) = done {
                if let Err(e) = &outcome.result {
                    let tried = known.get(&outcome.link).map_or(0, |p| p.attempts) + 1;
                    pending |= tried < crate::model::article::MAX_ARTICLE_ATTEMPTS;
                    tracing::debug!(source = %source.name, link = %outcome.link, error = %e, "article page not read");
                }
                if let Ok(x) = &outcome.result {
                    known.insert(
                        outcome.link.clone(),
                        crate::model::article::ArticlePage {
                            attempts: 0,
                            extract: Some(x.clone()),
                        },
                    );
                }
                outcomes.push(outcome);
            }
        }
        for (entry, link) in parsed.entries.iter_mut().zip(&links) {
            if let Some(x) = link
                .as_ref()
                .and_then(|l| known.get(l))
                .and_then(|p| p.extract.as_ref())
            {
                scrape::apply_article(entry, x);
            }
        }
        (outcomes, pending)
    }

    /// Clusters the stories this write added, in the background, then
    /// tells subscribers about the write. A failure costs only the
    /// clustering (the stories are stored; the next run retries them).
    fn cluster_new(&self, source: &str, summary: &WriteSummary, touched: Vec<String>) {
        let (changes, summary, source) = (self.changes.clone(), *summary, source.to_string());
        self.clusterer
            .place_in_background(Arc::clone(&self.store), move |placed| {
                if let Err(e) = placed {
                    tracing::warn!(source, error = %e, "stories stored but not clustered; retried after the next poll");
                }
                publish_changes(&changes, &summary, touched);
            });
    }

    /// Waits until the stories of every poll so far are placed in their
    /// clusters (a no-op unless `[clustering] enabled`): what a one-off
    /// `feedmerge poll` does before it exits.
    pub async fn clusters_settled(&self) {
        self.clusterer.settled().await;
    }

    /// How the poll ended, once written; reports a source stale for long,
    /// and forgets that report after a success.
    fn outcome(
        &self,
        source: &SourceConfig,
        written: Result<WriteSummary, StoreError>,
        shown: Shown,
        now: DateTime<Utc>,
    ) -> PollOutcome {
        let outcome = match (written, shown) {
            (Err(e), _) => self.store_failed(source, e),
            (Ok(summary), Shown::Stored { status, items }) => PollOutcome::Stored {
                status,
                items,
                summary,
            },
            (Ok(_), Shown::NotModified) => PollOutcome::NotModified,
            (Ok(summary), Shown::Failed(error)) => {
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
        outcome
    }

    /// A source failing for longer than `stale_after` needs an operator:
    /// ERROR once, then once a day while it stays failing.
    fn report_if_stale(
        &self,
        source: &SourceConfig,
        summary: &WriteSummary,
        error: &PollError,
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
        // As a string field, the way this line has always been logged.
        let error = redact(&error.to_string()).into_owned();
        tracing::error!(
            source = %source.name,
            url = %redact(&source.url),
            failing_since = %since,
            failures = summary.consecutive_failures,
            error = error.as_str(),
            "source has been failing for longer than stale_after; it is still retried"
        );
    }

    fn store_failed(&self, source: &SourceConfig, e: StoreError) -> PollOutcome {
        // Storage failing is not the source's fault and needs an operator;
        // a lost lease is neither (another worker's result counts).
        if matches!(e, StoreError::LeaseLost { .. }) {
            tracing::warn!(source = %source.name, error = %e, "lease lost during poll");
        } else {
            tracing::error!(source = %source.name, error = %e, "storage failed during poll");
        }
        PollOutcome::Failed(PollError::Storage(e))
    }
}

/// The response headers a document is read by.
#[derive(Debug, Clone, Default)]
struct DocHeaders {
    /// `Content-Type`: the charset, and whether the body is a web page.
    content_type: Option<String>,
    /// `Content-Language`: the feed's language when it names none.
    content_language: Option<String>,
}

/// The inputs of an ingest of `source`'s document from `base_url`.
fn ingest_options<'a>(
    source: &'a SourceConfig,
    config: &'a Config,
    headers: &'a DocHeaders,
    base_url: &'a str,
    now: DateTime<Utc>,
) -> IngestOptions<'a> {
    IngestOptions {
        parse: ParseOptions {
            content_type: headers.content_type.as_deref(),
            base_url: Some(base_url),
            timezone: source.timezone,
            encoding: source.encoding,
            content_language: headers.content_language.as_deref(),
        },
        source: &source.name,
        source_section: source.section.as_deref(),
        sections: &config.sections,
        now,
    }
}

/// A document read but not yet normalized: a feed parsed, or a listing
/// page scraped; a challenge page is `blocked`. Hands the body back (its
/// head carries the feed's schedule).
fn read_document(
    source: &SourceConfig,
    body: Vec<u8>,
    opts: &IngestOptions<'_>,
) -> Result<(crate::model::parsed::ParsedFeed, Vec<u8>), PollError> {
    let base = opts.parse.base_url.unwrap_or("");
    match (&source.kind, &source.html) {
        (SourceKind::Html, Some(rules)) => {
            if let Some(title) = fetch::challenge::challenge(&body) {
                return Err(FetchError::Blocked { status: 200, title }.into());
            }
            let (feed, _, verdict) = ingest::read_listing(&body, opts, rules);
            verdict?;
            Ok((feed, body))
        }
        _ => match parse::parse(&body, opts.parse) {
            Ok(feed) => Ok((feed, body)),
            Err(e) => Err(PollError::of_ingest(e.into(), &body, base)),
        },
    }
}

/// Fetches and reads one article page (on the parse threads).
#[allow(clippy::too_many_arguments)]
async fn read_article(
    fetcher: &Fetcher,
    hosts: &HostLimiter,
    parsers: &parse_pool::ParsePool,
    source: &Arc<SourceConfig>,
    config: &Arc<Config>,
    rules: &crate::config::ArticleRules,
    link: &str,
    now: DateTime<Utc>,
) -> Result<crate::model::article::ArticleExtract, String> {
    let none = crate::model::Validators::default();
    let mut request = RequestOptions::for_source(source, &none);
    request.url = link;
    let site = hosts.acquire(link, source.per_host).await;
    let response = fetcher.fetch(&request).await.map_err(|e| e.to_string())?;
    drop(site);
    let FetchOutcome::Fetched(f) = response.outcome else {
        return Err("HTTP 304 to an unconditional request".to_string());
    };
    if let Some(title) = fetch::challenge::challenge(&f.body) {
        return Err(FetchError::Blocked {
            status: f.status,
            title,
        }
        .to_string());
    }
    let base = parse::base_url(&response.final_url, f.content_location.as_deref());
    let (source, config, rules) = (Arc::clone(source), Arc::clone(config), rules.clone());
    parsers
        .run(move || {
            let headers = DocHeaders {
                content_type: f.content_type.clone(),
                content_language: f.content_language.clone(),
            };
            let opts = ingest_options(&source, &config, &headers, &base, now);
            ingest::read_article(&f.body, &opts, &rules).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
}

/// What one poll found, before it is stored.
enum Found {
    /// A feed, ingested.
    Feed {
        /// HTTP status.
        status: u16,
        /// Validators to send next time.
        validators: crate::model::Validators,
        /// The longer of the server's freshness and the feed's own schedule.
        hint: Option<Duration>,
        /// Its items.
        feed: NormalizedFeed,
        /// Article pages tried.
        articles: Vec<ArticleOutcome>,
    },
    /// 304, with the server's freshness.
    NotModified {
        /// How long the server says the response stays fresh.
        freshness: Option<Duration>,
    },
    /// The fetch or the ingest failed.
    Failed {
        /// The HTTP status: of the failed request, or of the body that
        /// could not be ingested.
        status: Option<u16>,
        /// Why.
        error: PollError,
    },
}

/// What the outcome will say once the record is written.
enum Shown {
    Stored { status: u16, items: usize },
    NotModified,
    Failed(PollError),
}

impl Found {
    /// A failure before any body arrived.
    fn failed(error: PollError) -> Found {
        Found::Failed {
            status: error.status(),
            error,
        }
    }

    /// What it means for the schedule, after `failures` failures in a row.
    fn verdict(&self, failures: u32) -> PollVerdict {
        match self {
            Found::Feed { hint, .. } => PollVerdict::Success { hint: *hint },
            Found::NotModified { freshness } => PollVerdict::Success { hint: *freshness },
            Found::Failed { error, .. } if error.is_blocked() => PollVerdict::Blocked {
                consecutive: failures + 1,
            },
            Found::Failed { error, .. } => PollVerdict::Failure {
                consecutive: failures + 1,
                retry_after: error.retry_after(),
            },
        }
    }

    /// The canonical sections the found items are in, sorted, each once.
    fn sections(&self) -> Vec<String> {
        let Found::Feed { feed, .. } = self else {
            return Vec::new();
        };
        let mut names: Vec<String> = feed.items.iter().flat_map(|i| i.sections.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// The article pages tried, taken out for the record.
    fn take_articles(&mut self) -> Vec<ArticleOutcome> {
        match self {
            Found::Feed { articles, .. } => std::mem::take(articles),
            _ => Vec::new(),
        }
    }

    /// What the store records (errors as their text) and what the outcome
    /// will say (errors as they are).
    fn into_record(self) -> (PollResult, Shown) {
        match self {
            Found::Feed {
                status,
                validators,
                feed,
                ..
            } => {
                let shown = Shown::Stored {
                    status,
                    items: feed.items.len(),
                };
                let result = PollResult::Fetched {
                    validators,
                    status,
                    meta: feed.meta,
                    items: feed.items,
                };
                (result, shown)
            }
            Found::NotModified { .. } => (PollResult::NotModified, Shown::NotModified),
            Found::Failed { status, error } => {
                let result = PollResult::Failed {
                    status,
                    error: error.to_string(),
                };
                (result, Shown::Failed(error))
            }
        }
    }
}

/// The longer of two optional intervals.
fn longer(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
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
