//! Metrics for Prometheus (`GET /metrics`, text format), through the
//! prometheus-client crate. Stages record into one process-wide registry
//! as they work; figures that are states rather than events (sources
//! failing, database size, cache bytes) are read when a scrape asks.
//!
//! Owns counters and their names; never decides anything. Sits just above
//! `config`, so every stage may record and none depends on another for it.
//!
//! Label cardinality is bounded: the `source` label carries a source's name
//! only while the config has at most `[server] metrics_source_labels`
//! sources, else every source counts under `source="*"`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type Labels = Vec<(String, String)>;

/// Every metric the daemon exports.
pub struct Metrics {
    registry: Registry,
    polls: Family<Labels, Counter>,
    fetch_seconds: Histogram,
    parse_seconds: Histogram,
    stories: Family<Labels, Counter>,
    http_requests: Family<Labels, Counter>,
    cache_lookups: Family<Labels, Counter>,
    /// Set at scrape time from the store and the cache.
    pub(crate) gauges: Gauges,
    source_labels: AtomicBool,
}

/// State figures, set just before each scrape is encoded.
pub(crate) struct Gauges {
    pub(crate) sources: Gauge,
    pub(crate) sources_failing: Gauge,
    pub(crate) sources_blocked: Gauge,
    pub(crate) write_queue: Gauge,
    pub(crate) cache_entries: Gauge,
    pub(crate) cache_bytes: Gauge,
    pub(crate) database_bytes: Gauge,
    pub(crate) wal_bytes: Gauge,
    pub(crate) items_stored: Gauge,
}

fn seconds_buckets() -> Histogram {
    // 5 ms to ~40 s: a parse is milliseconds, a slow site tens of seconds.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.005, 2.0, 14,
    ))
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("feedmerge");
        let polls = Family::<Labels, Counter>::default();
        registry.register("polls", "Polls by source and outcome", polls.clone());
        let fetch_seconds = seconds_buckets();
        registry.register(
            "fetch_seconds",
            "Time from request to the whole body (or 304)",
            fetch_seconds.clone(),
        );
        let parse_seconds = seconds_buckets();
        registry.register(
            "parse_seconds",
            "Decode, parse and normalize time of one document",
            parse_seconds.clone(),
        );
        let stories = Family::<Labels, Counter>::default();
        registry.register(
            "stories",
            "Stories written, by kind: new, merged (same story from another source), updated (an edit)",
            stories.clone(),
        );
        let http_requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route class and status",
            http_requests.clone(),
        );
        let cache_lookups = Family::<Labels, Counter>::default();
        registry.register(
            "cache_lookups",
            "Rendered-answer cache lookups by result (hit, miss)",
            cache_lookups.clone(),
        );
        let gauges = Gauges {
            sources: Gauge::default(),
            sources_failing: Gauge::default(),
            sources_blocked: Gauge::default(),
            write_queue: Gauge::default(),
            cache_entries: Gauge::default(),
            cache_bytes: Gauge::default(),
            database_bytes: Gauge::default(),
            wal_bytes: Gauge::default(),
            items_stored: Gauge::default(),
        };
        let g = &gauges;
        registry.register("sources", "Sources known to the store", g.sources.clone());
        registry.register(
            "sources_failing",
            "Sources whose last poll failed",
            g.sources_failing.clone(),
        );
        registry.register(
            "sources_blocked",
            "Sources whose last poll met a bot wall (last_error starts with blocked:)",
            g.sources_blocked.clone(),
        );
        registry.register(
            "write_queue_depth",
            "Writes queued for or running on the one writer thread",
            g.write_queue.clone(),
        );
        registry.register(
            "cache_entries",
            "Rendered answers held in memory",
            g.cache_entries.clone(),
        );
        registry.register(
            "cache_bytes",
            "Bytes of rendered answers held in memory",
            g.cache_bytes.clone(),
        );
        registry.register(
            "database_bytes",
            "Size of the SQLite database file",
            g.database_bytes.clone(),
        );
        registry.register(
            "wal_bytes",
            "Size of the SQLite write-ahead log",
            g.wal_bytes.clone(),
        );
        registry.register(
            "stored_items",
            "Items in the store (one per source and story)",
            g.items_stored.clone(),
        );
        Metrics {
            registry,
            polls,
            fetch_seconds,
            parse_seconds,
            stories,
            http_requests,
            cache_lookups,
            gauges,
            source_labels: AtomicBool::new(true),
        }
    }

    /// Whether `source` labels name sources: true while the config has at
    /// most `limit` of them (set at start and on every reload).
    pub fn label_sources(&self, count: usize, limit: usize) {
        self.source_labels.store(count <= limit, Ordering::Relaxed);
    }

    fn source<'a>(&self, name: &'a str) -> &'a str {
        if self.source_labels.load(Ordering::Relaxed) {
            name
        } else {
            "*"
        }
    }

    /// One poll ended with `outcome` (`stored`, `not_modified`, `failed`,
    /// `blocked`…).
    pub fn poll(&self, source: &str, outcome: &str) {
        self.polls
            .get_or_create(&vec![
                ("source".into(), self.source(source).into()),
                ("outcome".into(), outcome.into()),
            ])
            .inc();
    }

    /// A fetch took `took`.
    pub fn fetched(&self, took: Duration) {
        self.fetch_seconds.observe(took.as_secs_f64());
    }

    /// A document's decode, parse and normalize took `took`.
    pub fn parsed(&self, took: Duration) {
        self.parse_seconds.observe(took.as_secs_f64());
    }

    /// Stories written by one poll.
    pub fn stories(&self, new: u64, merged: u64, updated: u64) {
        for (kind, n) in [("new", new), ("merged", merged), ("updated", updated)] {
            if n > 0 {
                self.stories
                    .get_or_create(&vec![("kind".into(), kind.into())])
                    .inc_by(n);
            }
        }
    }

    /// One HTTP answer.
    pub fn http(&self, route: &'static str, status: u16) {
        self.http_requests
            .get_or_create(&vec![
                ("route".into(), route.into()),
                ("status".into(), status.to_string()),
            ])
            .inc();
    }

    /// One rendered-answer cache lookup.
    pub fn cache_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache_lookups
            .get_or_create(&vec![("result".into(), result.into())])
            .inc();
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}
