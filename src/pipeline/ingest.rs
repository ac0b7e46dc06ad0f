//! Ingest: one fetched body to normalized items — decode → parse →
//! normalize, plus the schedule the document asks for. The one path a
//! document takes into feedmerge: polls (on the parse threads) and
//! `feedmerge inspect` both call [`ingest`], so what inspect shows is what
//! a poll would store.

use super::normalize::{self, NormalizeContext, NormalizedFeed};
use super::parse::{self, ParseError, ParseOptions};
use super::politeness::hints;
use super::scrape::{self, ListingReport, ScrapeError};
use crate::config::HtmlRules;
use crate::model::article::ArticleExtract;
use crate::model::parsed::{ParsedFeed, SourceFormat};
use crate::model::sections::SectionMap;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Inputs to one ingest besides the bytes.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions<'a> {
    /// How to read the bytes (content type, base URL, zone, charset).
    pub parse: ParseOptions<'a>,
    /// Source name, part of the fallback story key.
    pub source: &'a str,
    /// The source's configured `section`, if any.
    pub source_section: Option<&'a str>,
    /// Section aliases.
    pub sections: &'a SectionMap,
    /// The poll's clock, for clamping future dates.
    pub now: DateTime<Utc>,
}

/// One document, ingested.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// Its items and feed-level facts, ready to store.
    pub feed: NormalizedFeed,
    /// Which format it was in.
    pub format: SourceFormat,
    /// The encoding it was read as.
    pub encoding: &'static str,
    /// Whether it needed a repair to be read.
    pub repaired: bool,
    /// The polling interval it asks for (`<ttl>`, `sy:updatePeriod`).
    pub schedule_hint: Option<Duration>,
    /// What a lenient reader accepted that the format's spec does not
    /// (a JSON Feed `version` of "1.0", no `title`…).
    pub lenient: Vec<String>,
}

/// Why a body could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// It is not a usable feed (empty, a web page, malformed beyond repair).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// An HTML page gave no stories (`scrape_empty`, `scrape_degraded`).
    #[error(transparent)]
    Scrape(#[from] ScrapeError),
}

impl IngestError {
    /// Whether the body is some other kind of document (a web page, say),
    /// rather than a broken feed.
    pub fn is_not_a_feed(&self) -> bool {
        matches!(self, IngestError::Parse(ParseError::NotAFeed { .. }))
    }
}

/// Decodes, parses and normalizes one document. CPU-bound: callers on an
/// async runtime run it on the parse threads.
pub fn ingest(body: &[u8], opts: &IngestOptions<'_>) -> Result<Ingested, IngestError> {
    let parsed = parse::parse(body, opts.parse)?;
    Ok(finish(&parsed, body, opts))
}

/// A listing page scraped by `rules`, with what each selector matched;
/// an error when it gives no stories (`scrape_empty`, `scrape_degraded`).
pub fn read_listing(
    body: &[u8],
    opts: &IngestOptions<'_>,
    rules: &HtmlRules,
) -> (ParsedFeed, ListingReport, Result<(), IngestError>) {
    let text = decode_page(body, opts);
    let base = opts.parse.base_url.unwrap_or("");
    let listing = scrape::scrape_listing(&text.0, base, rules, opts.parse.timezone);
    let mut feed = listing.feed;
    feed.encoding = text.1;
    let verdict = listing.report.verdict(rules).map_err(IngestError::from);
    (feed, listing.report, verdict)
}

/// An article page read by `rules`.
pub fn read_article(
    body: &[u8],
    opts: &IngestOptions<'_>,
    rules: &crate::config::ArticleRules,
) -> Result<ArticleExtract, IngestError> {
    let text = decode_page(body, opts);
    let url = opts.parse.base_url.unwrap_or("");
    Ok(scrape::extract_article(
        &text.0,
        url,
        rules,
        opts.parse.timezone,
    )?)
}

/// An HTML page as text: the HTTP charset, else `<meta charset>`, else
/// what decode guesses.
fn decode_page(body: &[u8], opts: &IngestOptions<'_>) -> (String, &'static str) {
    let http = opts
        .parse
        .content_type
        .and_then(crate::model::charset::charset_of)
        .or_else(|| scrape::meta_charset(body));
    let d = parse::decode::decode(body, http.as_deref(), opts.parse.encoding);
    (d.text, d.encoding)
}

/// Normalizes a parsed (or scraped) document; `body` is read for the
/// schedule it asks for.
pub fn finish(parsed: &ParsedFeed, body: &[u8], opts: &IngestOptions<'_>) -> Ingested {
    let cx = NormalizeContext {
        source: opts.source,
        source_section: opts.source_section,
        sections: opts.sections,
        base_url: opts.parse.base_url,
        now: opts.now,
    };
    let feed = normalize::normalize(parsed, &cx);
    if mark_untrusted(opts.source, feed.ids_untrusted) {
        tracing::warn!(
            source = opts.source,
            "more than 5% of the feed's ids are shared by entries with different links; \
             those entries are told apart by link"
        );
    }
    if !parsed.lenient.is_empty() {
        tracing::debug!(source = opts.source, lenient = ?parsed.lenient, "read leniently");
    }
    let schedule_hint = match parsed.format {
        SourceFormat::Html => None,
        _ => hints::feed_interval(parsed.ttl, head(body)),
    };
    Ingested {
        feed,
        format: parsed.format,
        encoding: parsed.encoding,
        repaired: parsed.repaired,
        schedule_hint,
        lenient: parsed.lenient.clone(),
    }
}

/// Sources whose last document had untrusted ids (more than 5% shared by
/// entries with different links), for `/status`. Process-wide: it is what
/// this process saw on each source's last ingest, rebuilt by the first
/// poll after a start.
fn untrusted() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static UNTRUSTED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    UNTRUSTED.get_or_init(Default::default)
}

/// Records whether `source`'s latest document had untrusted ids; `true`
/// when they just became untrusted, so the WARN is said once per change,
/// not once per poll.
fn mark_untrusted(source: &str, untrusted_now: bool) -> bool {
    let mut set = untrusted().lock().unwrap_or_else(|p| p.into_inner());
    if untrusted_now {
        set.insert(source.to_string())
    } else {
        set.remove(source);
        false
    }
}

/// Whether `source`'s latest document had untrusted ids (its entries are
/// told apart by link): shown in `/status` as `ids_untrusted`.
pub fn ids_untrusted(source: &str) -> bool {
    untrusted()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(source)
}

/// The channel head, as far as it is valid UTF-8: where the `sy:` tags sit
/// (they are ASCII, so a document in another charset still shows them).
fn head(body: &[u8]) -> &str {
    let head = &body[..body.len().min(8 * 1024)];
    match std::str::from_utf8(head) {
        Ok(h) => h,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(sections: &SectionMap) -> IngestOptions<'_> {
        IngestOptions {
            parse: ParseOptions {
                content_type: None,
                base_url: Some("https://e.org/feed"),
                timezone: chrono_tz::Tz::UTC,
                encoding: None,
                content_language: None,
            },
            source: "t",
            source_section: None,
            sections,
            now: Utc::now(),
        }
    }

    #[test]
    fn a_feed_comes_out_normalized_with_its_schedule() {
        let xml = br#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>
            <ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>
            <item><guid>1</guid><title>a &amp; b</title><link>/1</link></item></channel></rss>"#;
        let sections = SectionMap::default();
        let got = ingest(xml, &options(&sections)).expect("ingests");
        assert_eq!(got.format, SourceFormat::Rss);
        assert_eq!(got.encoding, "UTF-8");
        assert!(!got.repaired);
        assert_eq!(got.schedule_hint, Some(Duration::from_secs(3600)));
        assert_eq!(got.feed.items[0].title, "a & b");
        assert_eq!(got.feed.items[0].link.as_deref(), Some("https://e.org/1"));
    }

    #[test]
    fn a_web_page_is_not_a_feed() {
        let sections = SectionMap::default();
        let err =
            ingest(b"<!DOCTYPE html><html></html>", &options(&sections)).expect_err("not a feed");
        assert!(err.is_not_a_feed());
        assert_eq!(err.to_string(), "got text/html (an HTML page), not a feed");
    }
}
