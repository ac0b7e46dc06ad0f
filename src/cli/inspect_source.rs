//! `feedmerge inspect --source NAME [FILE|URL] [--article]`: one configured
//! source's page or feed read with that source's own settings and rules
//! (zone, charset, section, `[source.html]`, `[source.article]`), printed
//! as JSON and never stored. The tool for finding selectors: it says how
//! many elements each selector matched, which items a poll would store,
//! the state a poll would record (`scrape_empty:`, `blocked:`, …), and
//! whether the page looks built by scripts.

use super::inspect::{InspectError, Loaded, Report, ReportItem, load, report_of};
use crate::config::{ArticleRules, Config, FetchSettings, SourceConfig, SourceKind};
use crate::model::parsed::{Link, ParsedEntry, ParsedFeed, SourceFormat, Text};
use crate::pipeline::fetch::{FetchError, Fetcher, challenge};
use crate::pipeline::ingest::{self, IngestOptions};
use crate::pipeline::parse::ParseOptions;
use crate::pipeline::scrape::{self, ListingReport};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What `inspect --source` prints.
#[derive(Debug, Serialize)]
pub struct SourceReport {
    /// The source's name.
    pub source: String,
    /// `feed` or `html`.
    pub kind: &'static str,
    /// The file or URL read.
    pub document: String,
    /// `ok`, or the `last_error` a poll of this document would record.
    pub state: String,
    /// For an HTML listing: elements each selector matched, items
    /// complete, skipped by `link_pattern` and kept, and a hint when the
    /// page looks built by scripts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selectors: Option<ListingReport>,
    /// What the document gave, as a poll would store it (before any
    /// article page is laid over it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed: Option<Report>,
    /// With `--article`: the article page read with `[source.article]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<ArticleReport>,
}

/// One article page read with the source's article rules.
#[derive(Debug, Serialize)]
pub struct ArticleReport {
    /// The file or URL read.
    pub document: String,
    /// Elements each `[source.article]` selector matched.
    pub selectors: BTreeMap<&'static str, usize>,
    /// `ok`, or why the page gave no text.
    pub state: String,
    /// The story with the page laid over it, as a poll would store it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<ReportItem>,
}

impl SourceReport {
    /// Whether everything read gave what a poll needs.
    pub fn is_ok(&self) -> bool {
        self.state == OK && self.article.as_ref().is_none_or(|a| a.state == OK)
    }
}

const OK: &str = "ok";

/// Runs `name`'s rules over `target` (default: the source's URL). With
/// `article`, also reads an article page: `target` itself when given, else
/// the first story's link.
pub async fn inspect_source(
    config: &Config,
    name: &str,
    target: Option<&str>,
    article: bool,
) -> Result<SourceReport, InspectError> {
    let source = config
        .sources
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| InspectError::UnknownSource {
            name: name.to_string(),
            known: config.sources.iter().map(|s| s.name.clone()).collect(),
        })?;
    let fetcher = fetcher(config, source, target.unwrap_or(&source.url))?;
    let now = Utc::now();
    let kind = match source.kind {
        SourceKind::Html => "html",
        SourceKind::Feed => "feed",
    };
    if let (true, Some(page)) = (article, target) {
        // The target is an article page: the listing is not read.
        let read = read_article(config, source, &fetcher, page, None, now).await?;
        return Ok(SourceReport {
            source: source.name.clone(),
            kind,
            document: page.to_string(),
            state: OK.to_string(),
            selectors: None,
            feed: None,
            article: Some(read),
        });
    }
    let document = target.unwrap_or(&source.url);
    let loaded = load(document, &fetcher, Some(source)).await?;
    let base = loaded.base.clone().unwrap_or_else(|| source.url.clone());
    let opts = options(config, source, &loaded, &base, now);
    let (parsed, selectors, state) = read_document(source, &loaded.body, &opts);
    let first = parsed.as_ref().and_then(|p| p.entries.first().cloned());
    let feed = parsed.map(|p| report_of(ingest::finish(&p, &loaded.body, &opts), Some(&base)));
    let article = match (article, first) {
        (false, _) => None,
        (true, None) => Some(ArticleReport {
            document: String::new(),
            selectors: BTreeMap::new(),
            state: "no story to read an article page of".to_string(),
            item: None,
        }),
        (true, Some(entry)) => {
            let link = entry.links.first().map(|l| l.href.clone());
            match link {
                Some(link) => {
                    Some(read_article(config, source, &fetcher, &link, Some(entry), now).await?)
                }
                None => Some(ArticleReport {
                    document: String::new(),
                    selectors: BTreeMap::new(),
                    state: "the first story has no link".to_string(),
                    item: None,
                }),
            }
        }
    };
    Ok(SourceReport {
        source: source.name.clone(),
        kind,
        document: document.to_string(),
        state,
        selectors,
        feed,
        article,
    })
}

/// The daemon's fetcher, with the source's proxy.
fn fetcher(config: &Config, source: &SourceConfig, url: &str) -> Result<Fetcher, InspectError> {
    let settings = FetchSettings {
        concurrency: 1,
        ..config.fetch.clone()
    };
    Fetcher::new(&settings, [source]).map_err(|e| InspectError::Fetch {
        url: url.to_string(),
        source: e,
    })
}

fn options<'a>(
    config: &'a Config,
    source: &'a SourceConfig,
    loaded: &'a Loaded,
    base: &'a str,
    now: DateTime<Utc>,
) -> IngestOptions<'a> {
    IngestOptions {
        parse: ParseOptions {
            content_type: loaded.content_type.as_deref(),
            base_url: Some(base),
            timezone: source.timezone,
            encoding: source.encoding,
            content_language: loaded.content_language.as_deref(),
        },
        source: &source.name,
        source_section: source.section.as_deref(),
        sections: &config.sections,
        now,
    }
}

/// The document parsed (a feed) or scraped (a listing), with what the
/// selectors matched and the state a poll would record.
fn read_document(
    source: &SourceConfig,
    body: &[u8],
    opts: &IngestOptions<'_>,
) -> (Option<ParsedFeed>, Option<ListingReport>, String) {
    if let Some(blocked) = blocked(body) {
        return (None, None, blocked);
    }
    match (&source.kind, &source.html) {
        (SourceKind::Html, Some(rules)) => {
            let (feed, report, verdict) = ingest::read_listing(body, opts, rules);
            let state = verdict
                .err()
                .map_or_else(|| OK.to_string(), |e| e.to_string());
            (Some(feed), Some(report), state)
        }
        _ => match crate::pipeline::parse::parse(body, opts.parse) {
            Ok(feed) => (Some(feed), None, OK.to_string()),
            Err(e) => (None, None, e.to_string()),
        },
    }
}

/// The `blocked:` state, when `body` is a bot-challenge page.
fn blocked(body: &[u8]) -> Option<String> {
    challenge::challenge(body).map(|title| FetchError::Blocked { status: 200, title }.to_string())
}

/// Reads one article page with the source's `[source.article]` rules (an
/// empty table's automatic extraction when it has none) and lays it over
/// `entry` (a story of its own when none).
async fn read_article(
    config: &Config,
    source: &SourceConfig,
    fetcher: &Fetcher,
    page: &str,
    entry: Option<ParsedEntry>,
    now: DateTime<Utc>,
) -> Result<ArticleReport, InspectError> {
    let rules = source.article.clone().unwrap_or_else(automatic);
    let loaded = load(page, fetcher, Some(source)).await?;
    let base = loaded
        .base
        .clone()
        .unwrap_or_else(|| page_url(page, source));
    let opts = options(config, source, &loaded, &base, now);
    let mut report = ArticleReport {
        document: page.to_string(),
        selectors: BTreeMap::new(),
        state: OK.to_string(),
        item: None,
    };
    if let Some(blocked) = blocked(&loaded.body) {
        report.state = blocked;
        return Ok(report);
    }
    let text = String::from_utf8_lossy(&loaded.body);
    report.selectors = scrape::article_matches(&text, &rules);
    let extract = match ingest::read_article(&loaded.body, &opts, &rules) {
        Ok(x) => x,
        Err(e) => {
            report.state = e.to_string();
            return Ok(report);
        }
    };
    let mut entry = entry.unwrap_or_else(|| ParsedEntry {
        links: vec![Link {
            href: base.clone(),
            ..Link::default()
        }],
        title: Some(Text::html(String::new())),
        ..ParsedEntry::default()
    });
    scrape::apply_article(&mut entry, &extract);
    let mut feed = ParsedFeed::new(SourceFormat::Html);
    feed.entries.push(entry);
    report.item = ingest::finish(&feed, &loaded.body, &opts)
        .feed
        .items
        .into_iter()
        .next()
        .map(ReportItem::from);
    Ok(report)
}

/// An article page given as a file stands for a page of the source's site.
fn page_url(page: &str, source: &SourceConfig) -> String {
    if super::inspect::is_url(page) {
        page.to_string()
    } else {
        source.url.clone()
    }
}

/// What an empty `[source.article]` table means: automatic extraction.
fn automatic() -> ArticleRules {
    ArticleRules {
        content: None,
        title: None,
        date: None,
        date_format: None,
        category: None,
        exclude: None,
        max_per_poll: 1,
    }
}
