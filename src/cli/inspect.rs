//! `feedmerge inspect`: one document through the daemon's own decode →
//! parse → normalize path, printed as JSON and never stored. The tool a user
//! reaches for when a source looks wrong.

use crate::config::FetchSettings;
use crate::model::Validators;
use crate::model::sections::SectionMap;
use crate::pipeline::fetch::{FetchError, FetchOutcome, Fetcher};
use crate::pipeline::ingest::{self, IngestError, IngestOptions};
use crate::pipeline::parse::{ParseError, ParseOptions};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::time::Duration;

/// Body cap and timeout for `inspect <URL>`: the daemon's defaults.
const MAX_BODY: u64 = 10 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a document could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The URL could not be fetched.
    #[error("cannot fetch {url}: {source}")]
    Fetch {
        /// The URL given.
        url: String,
        /// The fetch error.
        source: FetchError,
    },
    /// `--source` names no `[[source]]` of the config.
    #[error("no source named {name:?} in the config (sources: {})", known.join(", "))]
    UnknownSource {
        /// The name given.
        name: String,
        /// The configured names.
        known: Vec<String>,
    },
    /// `--timezone` is not an IANA zone name.
    #[error("unknown time zone {0:?} (use an IANA name such as Europe/Moscow)")]
    Timezone(String),
    /// The document is not a usable feed.
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

/// What `inspect` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `rss`, `atom` or `json`.
    pub format: &'static str,
    /// The feed's title as we read it.
    pub title: Option<String>,
    /// The site's home page, canonical.
    pub link: Option<String>,
    /// The feed's language.
    pub language: Option<String>,
    /// What was off in the document but read anyway (a JSON Feed
    /// `version` of "1.0", no `title`…); absent when nothing was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lenient: Vec<String>,
    /// Items in document order.
    pub items: Vec<ReportItem>,
}

/// One item as we would store it.
#[derive(Debug, Serialize)]
pub struct ReportItem {
    /// The guid/id as the feed gave it; null when absent.
    pub id: Option<String>,
    /// Plain-text title.
    pub title: String,
    /// The link as the story publishes it: canonical, with the host
    /// spelled as the feed wrote it.
    pub link: Option<String>,
    /// RFC 3339, UTC.
    pub published: Option<String>,
    /// RFC 3339, UTC.
    pub updated: Option<String>,
    /// Authors, each `Name (address)`, the name or the address.
    pub authors: Vec<String>,
    /// Categories as the feed spelled them.
    pub categories: Vec<String>,
    /// Sanitized HTML we would republish.
    pub summary: Option<String>,
    /// Sanitized HTML we would republish.
    pub content: Option<String>,
}

/// Inputs besides the bytes.
#[derive(Debug, Clone, Copy)]
pub struct InspectOptions<'a> {
    /// `Content-Type` the body came with.
    pub content_type: Option<&'a str>,
    /// Base for relative links (the final URL, or `--base`).
    pub base_url: Option<&'a str>,
    /// Zone for dates without an offset.
    pub timezone: Tz,
    /// `Content-Language` the body came with.
    pub content_language: Option<&'a str>,
    /// The clock future dates are judged by.
    pub now: DateTime<Utc>,
}

/// Ingests one document exactly as a poll would.
pub fn inspect_bytes(body: &[u8], opts: InspectOptions<'_>) -> Result<Report, IngestError> {
    let sections = SectionMap::default();
    let ingested = ingest::ingest(
        body,
        &IngestOptions {
            parse: ParseOptions {
                content_type: opts.content_type,
                base_url: opts.base_url,
                timezone: opts.timezone,
                encoding: None,
                content_language: opts.content_language,
            },
            source: "inspect",
            source_section: None,
            sections: &sections,
            now: opts.now,
        },
    )?;
    Ok(report_of(ingested, opts.base_url))
}

/// The report of an ingested document read from `base`.
pub fn report_of(ingested: ingest::Ingested, base: Option<&str>) -> Report {
    let norm = ingested.feed;
    let base = base.and_then(|b| url::Url::parse(b).ok());
    Report {
        format: ingested.format.as_str(),
        lenient: ingested.lenient,
        title: norm.meta.title,
        link: norm.meta.site_url,
        language: norm.meta.language,
        items: norm
            .items
            .into_iter()
            .map(ReportItem::from)
            .map(|mut it| {
                it.id = it.id.map(|id| resolved_id(id, base.as_ref()));
                it
            })
            .collect(),
    }
}

/// An id that is a relative reference (`/2024/08/post`), resolved against
/// the document's base as feedparser shows it; any other id as given. Only
/// the report shows it so: a story's identity is the id as the feed wrote
/// it, so stored stories keep theirs.
pub fn resolved_id(id: String, base: Option<&url::Url>) -> String {
    let relative =
        id.starts_with('/') && !id.starts_with("//") && !id.contains(char::is_whitespace);
    match base {
        Some(base) if relative => base.join(&id).map(String::from).unwrap_or(id),
        _ => id,
    }
}

impl From<crate::model::Item> for ReportItem {
    fn from(it: crate::model::Item) -> ReportItem {
        let rfc3339 =
            |d: Option<DateTime<Utc>>| d.map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true));
        ReportItem {
            id: it.guid,
            title: it.title,
            link: it.link,
            published: rfc3339(it.published),
            updated: rfc3339(it.updated),
            authors: it.authors,
            categories: it.categories,
            summary: it.summary,
            content: it.content,
        }
    }
}

/// Reads a file or fetches a URL (with the daemon's fetcher and default
/// settings), then inspects it. `base` overrides the base URL.
pub async fn inspect_target(
    target: &str,
    base: Option<&str>,
    timezone: Option<&str>,
) -> Result<Report, InspectError> {
    let timezone = match timezone {
        Some(z) => z
            .parse::<Tz>()
            .map_err(|_| InspectError::Timezone(z.to_string()))?,
        None => Tz::UTC,
    };
    let settings = FetchSettings {
        max_body: MAX_BODY,
        concurrency: 1,
        ..FetchSettings::default()
    };
    let fetcher = Fetcher::new(&settings, []).map_err(|source| InspectError::Fetch {
        url: target.to_string(),
        source,
    })?;
    let Loaded {
        body,
        content_type,
        content_language,
        base: final_url,
    } = load(target, &fetcher, None).await?;
    let base = base.map(str::to_string).or(final_url);
    let opts = InspectOptions {
        content_type: content_type.as_deref(),
        base_url: base.as_deref(),
        timezone,
        content_language: content_language.as_deref(),
        now: Utc::now(),
    };
    // Parsing is CPU-bound but this is a one-shot command: no other tasks wait.
    Ok(inspect_bytes(&body, opts)?)
}

/// A document read for inspection.
pub struct Loaded {
    /// Its bytes.
    pub body: Vec<u8>,
    /// The `Content-Type` it came with (none for a file).
    pub content_type: Option<String>,
    /// The `Content-Language` it came with (none for a file).
    pub content_language: Option<String>,
    /// Where its relative URLs point: the final URL (or
    /// `Content-Location`); none for a file.
    pub base: Option<String>,
}

/// Whether `target` names a URL rather than a file.
pub fn is_url(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://")
}

/// Reads a file, or fetches a URL with `fetcher` (as `source` would be
/// fetched, when given: its user agent, headers, proxy and auth).
pub async fn load(
    target: &str,
    fetcher: &Fetcher,
    source: Option<&crate::config::SourceConfig>,
) -> Result<Loaded, InspectError> {
    if !is_url(target) {
        let body = tokio::fs::read(target)
            .await
            .map_err(|source| InspectError::Read {
                path: target.to_string(),
                source,
            })?;
        return Ok(Loaded {
            body,
            content_type: None,
            content_language: None,
            base: None,
        });
    }
    let validators = Validators::default();
    let request = match source {
        Some(s) => crate::pipeline::fetch::RequestOptions {
            url: target,
            ..crate::pipeline::fetch::RequestOptions::for_source(s, &validators)
        },
        None => crate::pipeline::fetch::RequestOptions::plain(target, &validators, TIMEOUT),
    };
    let response = fetcher
        .fetch(&request)
        .await
        .map_err(|source| InspectError::Fetch {
            url: target.to_string(),
            source,
        })?;
    match response.outcome {
        FetchOutcome::Fetched(f) => Ok(Loaded {
            base: Some(crate::pipeline::parse::base_url(
                &response.final_url,
                f.content_location.as_deref(),
            )),
            body: f.body,
            content_type: f.content_type,
            content_language: f.content_language,
        }),
        // Unconditional requests never get a 304; a server that sends one
        // anyway gave us no document.
        FetchOutcome::NotModified => Err(IngestError::from(ParseError::Empty).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rss_document_is_reported_with_plain_titles_and_absolute_links() {
        let xml = br#"<rss version="2.0"><channel><title>News &amp; more</title><link>/</link>
            <item><guid isPermaLink="false">42</guid><title>A &lt;b&gt;bold&lt;/b&gt; move</title>
            <link>/a?utm_source=x</link><pubDate>Fri, 09 Aug 2024 16:24:00 +0300</pubDate>
            <description>&lt;p onclick="x()"&gt;Hi &lt;img src="i.png"&gt;&lt;/p&gt;</description></item>
        </channel></rss>"#;
        let r = inspect_bytes(
            xml,
            InspectOptions {
                content_type: None,
                base_url: Some("https://e.org/feed"),
                timezone: Tz::UTC,
                content_language: None,
                now: Utc::now(),
            },
        )
        .expect("parses");
        assert_eq!(r.format, "rss");
        assert_eq!(r.title.as_deref(), Some("News & more"));
        let it = &r.items[0];
        assert_eq!(it.id.as_deref(), Some("42"));
        assert_eq!(it.title, "A bold move");
        assert_eq!(it.link.as_deref(), Some("https://e.org/a"));
        assert_eq!(it.published.as_deref(), Some("2024-08-09T13:24:00Z"));
        assert_eq!(
            it.summary.as_deref(),
            Some(r#"<p>Hi <img src="https://e.org/i.png"></p>"#)
        );
    }

    #[test]
    fn a_web_page_is_refused_with_a_reason() {
        let err = inspect_bytes(
            b"<!DOCTYPE html><html><body>hi</body></html>",
            InspectOptions {
                content_type: Some("text/html"),
                base_url: None,
                timezone: Tz::UTC,
                content_language: None,
                now: Utc::now(),
            },
        )
        .expect_err("not a feed");
        assert!(err.to_string().contains("HTML page"), "{err}");
    }
}
