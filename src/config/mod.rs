//! The TOML config: loading, validation, and the typed result every other
//! stage reads. Validation collects *every* problem before refusing, so an
//! operator fixes a broken file in one pass.
//!
//! Owns the file's keys, their defaults and every check on them. Depends on
//! `model` only; it never opens the store, the network or a feed.

mod checks;
mod error;
mod live;
mod raw;
mod schedule;
mod spans;
mod validate;

pub use error::{ConfigError, ConfigProblem};
pub use live::Live;
pub use schedule::{Cron, InvalidCron, Schedule};

use crate::model::sections::SectionMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default config path when neither `--config` nor `$FEEDMERGE_CONFIG` is set.
pub const DEFAULT_PATH: &str = "config/feedmerge.toml";

/// A validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Where the SQLite file lives (resolved against the config's folder).
    pub storage_path: PathBuf,
    /// How long stories are kept, by their sort date (`published`); `None`
    /// keeps everything. Older ones are purged, leaving tombstones so feeds
    /// that still list them do not bring them back.
    pub storage_keep: Option<Duration>,
    /// `[storage] url`: the PostgreSQL database shared by several
    /// processes, instead of the SQLite file at `storage_path`.
    pub storage_url: Option<String>,
    /// `[storage] pool_size`: connections to PostgreSQL per process.
    pub pool_size: usize,
    /// `[worker]`: this process's part among those sharing the database.
    pub worker: WorkerSettings,
    /// `[clustering]`: near-duplicate reports of one event shown once.
    pub clustering: ClusteringSettings,
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// Public base URL for self links (no trailing slash), if configured.
    pub base_url: Option<String>,
    /// WebSub hub advertised in feeds and pinged after polls that change them.
    pub websub_hub: Option<String>,
    /// `/metrics` names sources in labels only while there are at most
    /// this many (`[server] metrics_source_labels`, default 200).
    pub metrics_source_labels: usize,
    /// What one reader (or a flood of them) may cost the server.
    pub serving: ServingLimits,
    /// Fetch settings shared by all sources.
    pub fetch: FetchSettings,
    /// Section aliases.
    pub sections: SectionMap,
    /// Sources in config order.
    pub sources: Vec<SourceConfig>,
    /// Named merged feeds in config order.
    pub feeds: Vec<FeedConfig>,
}

/// `[clustering]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusteringSettings {
    /// Whether new stories are clustered and feeds show a cluster once
    /// (`enabled`, default false).
    pub enabled: bool,
    /// How far apart two reports of one event can be (`window`, default 48 h).
    pub window: Duration,
    /// Whether a report joining a cluster moves the entry's `updated`
    /// (`bump_updated`, default false).
    pub bump_updated: bool,
}

impl Default for ClusteringSettings {
    fn default() -> Self {
        ClusteringSettings {
            enabled: false,
            window: crate::cluster::DEFAULT_WINDOW,
            bump_updated: false,
        }
    }
}

/// `[worker]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// Shown in `/status` as who polled a source and who holds its lease;
    /// `auto` is resolved to `host:pid:random` once per process.
    pub id: String,
    /// How long a claimed source stays this worker's.
    pub lease: Duration,
    /// Whether this process polls (false: a front end that only serves).
    pub poll: bool,
    /// Whether this process serves HTTP (false: a poller only).
    pub serve: bool,
}

impl Config {
    /// What the store is, for logs: the SQLite path, or the PostgreSQL URL
    /// with any password hidden.
    pub fn storage_display(&self) -> String {
        match &self.storage_url {
            Some(url) => crate::model::redact::redact(url).into_owned(),
            None => self.storage_path.display().to_string(),
        }
    }
}

/// `[server]` limits on what requests may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingLimits {
    /// Bytes of rendered answers kept, every representation counted
    /// (`cache_bytes`, default 32 MiB); least recently used go first.
    pub cache_bytes: usize,
    /// Connections open at once (`max_connections`); `None` derives it
    /// from the process's file limit when the server starts.
    pub max_connections: Option<usize>,
    /// A request's headers must arrive within this long of the connection
    /// opening or of the previous answer, which also closes idle
    /// keep-alive connections (`header_read_timeout`, default 10 s).
    pub header_read_timeout: Duration,
    /// Uncached renders at once (`max_renders`); `None` uses the store's
    /// reader pool size.
    pub max_renders: Option<usize>,
}

impl Default for ServingLimits {
    fn default() -> ServingLimits {
        ServingLimits {
            cache_bytes: validate::DEFAULT_CACHE_BYTES,
            max_connections: None,
            header_read_timeout: validate::DEFAULT_HEADER_READ_TIMEOUT,
            max_renders: None,
        }
    }
}

/// Settings of the fetch stage that are not per source.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Body cap in bytes, enforced while streaming and after decompression.
    pub max_body: u64,
    /// Global cap on fetches in flight.
    pub concurrency: usize,
    /// Default `User-Agent` header.
    pub user_agent: String,
    /// Longest wait between retries of a failing source.
    pub max_backoff: Duration,
    /// A source failing longer than this is logged at ERROR (once a day).
    pub stale_after: Duration,
}

impl Default for FetchSettings {
    /// The defaults a config without `[poll]` keys gets.
    fn default() -> FetchSettings {
        FetchSettings {
            max_body: validate::DEFAULT_MAX_BODY,
            concurrency: validate::DEFAULT_CONCURRENCY as usize,
            user_agent: default_user_agent(),
            max_backoff: validate::DEFAULT_MAX_BACKOFF,
            stale_after: validate::DEFAULT_STALE_AFTER,
        }
    }
}

/// Basic auth for a source; the password is read from the environment at
/// request time so it never sits in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Name of the environment variable holding the password.
    pub password_env: String,
}

/// One validated `[[source]]`.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Unique name: letters, digits, `-` and `_`.
    pub name: String,
    /// Feed URL (http or https).
    pub url: String,
    /// Display title override; else the feed's own title is used.
    pub title: Option<String>,
    /// When to poll.
    pub schedule: Schedule,
    /// Total request timeout.
    pub timeout: Duration,
    /// Zone for dates that carry no offset.
    pub timezone: chrono_tz::Tz,
    /// Canonical section every item of this source is also in.
    pub section: Option<String>,
    /// Whether `Cache-Control`, `Expires`, `<ttl>` and `sy:update*` may
    /// lengthen the interval.
    pub respect_cache_hints: bool,
    /// Requests in flight at once to this source's registrable domain.
    pub per_host: usize,
    /// `User-Agent` override.
    pub user_agent: Option<String>,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// HTTP(S) or SOCKS5 proxy URL.
    pub proxy: Option<String>,
    /// Basic auth.
    pub auth: Option<BasicAuth>,
    /// Charset that overrides what the server and document claim.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// What the URL serves: a feed, or an HTML listing page to scrape.
    pub kind: SourceKind,
    /// `[source.html]`: the listing rules (always set for `kind = "html"`).
    pub html: Option<HtmlRules>,
    /// `[source.article]`: read each new story's own page once.
    pub article: Option<ArticleRules>,
}

/// What a source's URL serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SourceKind {
    /// An RSS, Atom or JSON feed.
    #[default]
    Feed,
    /// An HTML listing page, scraped with `[source.html]`'s selectors.
    Html,
}

/// `[source.html]`, validated: CSS selectors (checked to parse) and the
/// link pattern (compiled).
#[derive(Debug, Clone)]
pub struct HtmlRules {
    /// One element per story.
    pub item: String,
    /// Inside the item: its text is the headline.
    pub title: String,
    /// Inside the item: its `href` is the link (default: the title
    /// element's `href`, else the item's first `a[href]`).
    pub link: Option<String>,
    /// Items whose absolute link does not match are skipped.
    pub link_pattern: Option<regex::Regex>,
    /// Inside the item: its inner HTML is the summary.
    pub summary: Option<String>,
    /// Inside the item: `<time datetime>`, else its text.
    pub date: Option<String>,
    /// strftime-like format of the date text (month names in several
    /// languages); without it the feed date rules apply.
    pub date_format: Option<String>,
    /// Inside the item: its text is a category.
    pub category: Option<String>,
    /// Subtrees removed from the page before matching.
    pub exclude: Option<String>,
    /// At most this many items per page.
    pub max_items: usize,
}

/// `[source.article]`, validated.
#[derive(Debug, Clone)]
pub struct ArticleRules {
    /// The story's text; `None`: automatic main-content extraction.
    pub content: Option<String>,
    /// Overrides the listing's (or feed's) headline.
    pub title: Option<String>,
    /// Date element, tried after `article:published_time` and JSON-LD.
    pub date: Option<String>,
    /// Format of the date element's text.
    pub date_format: Option<String>,
    /// Its text is added to the story's categories.
    pub category: Option<String>,
    /// Removed before the content is taken.
    pub exclude: Option<String>,
    /// Article pages fetched per poll at most.
    pub max_per_poll: usize,
}

/// One validated `[[feed]]`.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Unique name, used in `/feeds/{name}.atom`.
    pub name: String,
    /// Title shown in readers.
    pub title: String,
    /// Canonical sections whose stories it carries.
    pub sections: Vec<String>,
    /// Entries per document.
    pub limit: usize,
    /// A story is kept only if its title or summary matches one of these
    /// (none: every story).
    pub include: Vec<regex::Regex>,
    /// A story whose title or summary matches any of these is dropped.
    pub exclude: Vec<regex::Regex>,
    /// Only stories from these sources (none: any source).
    pub sources: Vec<String>,
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Config::parse(&text, path)
    }

    /// Validates config text; `path` locates relative storage paths and names
    /// the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        validate::validate(text, path).map_err(|problems| ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }

    /// Things that are allowed but unwise, for `check` to print and `run` to
    /// log at start: today, credentials written into a source's URL.
    pub fn warnings(&self) -> Vec<String> {
        self.sources
            .iter()
            .enumerate()
            .filter(|(_, s)| crate::model::redact::has_secret(&s.url))
            .map(|(i, s)| {
                format!(
                    "source[{i}].url ({}): the URL carries credentials ({}); they are hidden \
                     from /status, /sources.opml, logs and feeds, but belong in `auth` \
                     (password_env keeps the password out of the file) or `headers`",
                    s.name,
                    crate::model::redact::redact(&s.url)
                )
            })
            .collect()
    }

    /// Finds a source by name.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// Finds a named feed.
    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name == name)
    }

    /// The base for absolute self links: `base_url`, else `http://{listen}`.
    pub fn public_base(&self) -> String {
        match &self.base_url {
            Some(base) => base.clone(),
            None => format!("http://{}", self.listen),
        }
    }
}

/// Resolves the config path: the flag, else `$FEEDMERGE_CONFIG`, else the default.
pub fn resolve_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("FEEDMERGE_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
}

/// The default `User-Agent`: names us and our version, so publishers can
/// tell who polls them.
pub fn default_user_agent() -> String {
    format!(
        "feedmerge/{} (+https://github.com/feedmerge/feedmerge; feed aggregator)",
        env!("CARGO_PKG_VERSION")
    )
}
