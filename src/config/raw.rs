//! The TOML file as written, before validation. Every table denies unknown
//! keys so a typo is an error, not a silently ignored setting.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `[storage]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStorage {
    pub path: Option<String>,
    pub keep: Option<String>,
    pub url: Option<String>,
    pub pool_size: Option<u64>,
}

/// `[worker]`: this process's part among several sharing one database.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorker {
    pub id: Option<String>,
    pub lease: Option<String>,
    pub poll: Option<bool>,
    pub serve: Option<bool>,
}

/// `[server]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub listen: Option<String>,
    pub base_url: Option<String>,
    pub websub_hub: Option<String>,
    pub metrics_source_labels: Option<u64>,
    /// `"64MiB"`, `"512KiB"` or plain bytes.
    pub cache_bytes: Option<RawSize>,
    pub max_connections: Option<u64>,
    pub header_read_timeout: Option<String>,
    pub max_renders: Option<u64>,
}

/// A size written as a number of bytes or as text with a unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawSize {
    /// Plain bytes.
    Bytes(u64),
    /// `"64MiB"` and the like.
    Text(String),
}

/// `[poll]`: defaults for every source.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPoll {
    pub interval: Option<String>,
    pub cron: Option<String>,
    pub timeout: Option<String>,
    pub max_body: Option<u64>,
    pub concurrency: Option<u64>,
    pub user_agent: Option<String>,
    pub respect_cache_hints: Option<bool>,
    pub max_backoff: Option<String>,
    pub per_host: Option<u64>,
    pub stale_after: Option<String>,
}

/// `auth = { username = "…", password_env = "VAR" }`: basic auth whose
/// password never sits in the TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuth {
    pub username: String,
    pub password_env: String,
}

/// `[sections]`: canonical name = aliases.
pub(crate) type RawSections = BTreeMap<String, Vec<String>>;

/// One `[[source]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub name: String,
    pub url: String,
    pub title: Option<String>,
    pub interval: Option<String>,
    pub cron: Option<String>,
    pub timeout: Option<String>,
    pub timezone: Option<String>,
    pub section: Option<String>,
    pub respect_cache_hints: Option<bool>,
    pub per_host: Option<u64>,
    pub user_agent: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub proxy: Option<String>,
    pub auth: Option<RawAuth>,
    pub encoding: Option<String>,
    /// `"feed"` (the default) or `"html"`.
    pub kind: Option<String>,
    /// `[source.html]`: listing-page rules of an HTML source.
    pub html: Option<RawHtml>,
    /// `[source.article]`: read each new story's own page once.
    pub article: Option<RawArticle>,
}

/// `[source.html]`: how to find stories on a listing page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHtml {
    pub item: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub link_pattern: Option<String>,
    pub summary: Option<String>,
    pub date: Option<String>,
    pub date_format: Option<String>,
    pub category: Option<String>,
    pub exclude: Option<String>,
    pub max_items: Option<u64>,
}

/// `[source.article]`: how to read a story's own page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArticle {
    pub content: Option<String>,
    pub title: Option<String>,
    pub date: Option<String>,
    pub date_format: Option<String>,
    pub category: Option<String>,
    pub exclude: Option<String>,
    pub max_per_poll: Option<u64>,
}

/// `[clustering]`: near-duplicate reports shown once.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClustering {
    pub enabled: Option<bool>,
    pub window: Option<String>,
    pub bump_updated: Option<bool>,
}

/// One `[[feed]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFeed {
    pub name: String,
    pub title: Option<String>,
    pub sections: Vec<String>,
    pub limit: Option<u64>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
}
