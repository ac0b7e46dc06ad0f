//! Normalize: turns a parsed document (`model::parsed`) into our `Item`s —
//! identity within the source, identity across sources, canonical link,
//! sections, plain-text titles and sanitized HTML. It never sees which
//! library read the document, only what the document said.

mod enclosures;
mod entry;
pub mod html;
pub mod identity;
pub mod lazy;
pub mod link;
pub mod mojibake;
mod plain_url;
mod simple_html;

use crate::model::parsed::{Link, ParsedFeed, Text};
use crate::model::sections::SectionMap;
use crate::model::{FeedMeta, Item};
use chrono::{DateTime, Utc};
use url::Url;

/// Per-poll inputs of normalize.
pub struct NormalizeContext<'a> {
    /// Source name, part of the fallback story key.
    pub source: &'a str,
    /// The source's configured `section`, if any.
    pub source_section: Option<&'a str>,
    /// Section aliases.
    pub sections: &'a SectionMap,
    /// URL the document came from (after redirects).
    pub base_url: Option<&'a str>,
    /// The poll's clock, for clamping future dates.
    pub now: DateTime<Utc>,
}

/// A normalized document.
#[derive(Debug, Clone)]
pub struct NormalizedFeed {
    /// Feed-level facts.
    pub meta: FeedMeta,
    /// Items in document order, one per identity (later duplicates dropped).
    pub items: Vec<Item>,
}

/// Normalizes a parsed document.
pub fn normalize(parsed: &ParsedFeed, cx: &NormalizeContext<'_>) -> NormalizedFeed {
    let base = cx.base_url.and_then(|b| Url::parse(b).ok());
    let meta = feed_meta(parsed, base.as_ref());
    let mut sanitizers = Sanitizers::new(base.as_ref());
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::with_capacity(parsed.entries.len());
    for e in &parsed.entries {
        let sanitizer = sanitizers.at(e.content_base.as_deref());
        let item = entry::normalize_entry(e, &meta, base.as_ref(), sanitizer, cx);
        // A feed that repeats an id keeps its first occurrence: the one a
        // reader would have shown.
        if seen.insert(item.key.clone()) {
            items.push(item);
        }
    }
    NormalizedFeed { meta, items }
}

/// The feed's own title (its first that reads as text), home page and
/// language.
fn feed_meta(feed: &ParsedFeed, base: Option<&Url>) -> FeedMeta {
    FeedMeta {
        title: feed
            .title
            .iter()
            .chain(&feed.alternate_title)
            .map(text_of)
            .find(|t| !t.is_empty()),
        site_url: alternate_link(&feed.links).and_then(|l| link::canonical_link(&l.href, base)),
        language: feed.language.as_deref().and_then(language_tag),
    }
}

/// The first link that is the page itself (`rel` absent or `alternate`).
fn alternate_link(links: &[Link]) -> Option<&Link> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
}

/// Sanitizers by the base their URLs resolve against: the document's, and
/// one per other `xml:base` an entry's content sits under (usually none,
/// rarely more than one or two per document).
struct Sanitizers {
    base: Option<Url>,
    document: html::Sanitizer,
    rebased: Vec<(String, html::Sanitizer)>,
}

impl Sanitizers {
    fn new(base: Option<&Url>) -> Sanitizers {
        Sanitizers {
            base: base.cloned(),
            document: html::Sanitizer::new(base),
            rebased: Vec::new(),
        }
    }

    /// The sanitizer for content under `content_base` (`None`: the
    /// document's base).
    fn at(&mut self, content_base: Option<&str>) -> &html::Sanitizer {
        let Some(b) = content_base.filter(|b| Some(*b) != self.base.as_ref().map(Url::as_str))
        else {
            return &self.document;
        };
        let at = match self.rebased.iter().position(|(k, _)| k == b) {
            Some(at) => at,
            None => {
                let url = Url::parse(b).ok();
                self.rebased
                    .push((b.to_string(), html::Sanitizer::new(url.as_ref())));
                self.rebased.len() - 1
            }
        };
        &self.rebased[at].1
    }
}

/// A text value as plain text (markup dropped, entities decoded).
fn text_of(t: &Text) -> String {
    html::to_text(&mojibake::fix(&t.body))
}

/// A language tag in BCP 47 spelling (`en_US` → `en-US`); `None` when blank.
fn language_tag(raw: &str) -> Option<String> {
    let tag = raw.trim();
    (!tag.is_empty()).then(|| tag.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse::{ParseOptions, parse};
    use chrono::TimeZone;

    fn items(xml: &str, now: DateTime<Utc>) -> Vec<Item> {
        let parsed = parse(
            xml.as_bytes(),
            ParseOptions {
                content_type: None,
                base_url: Some("https://e.org/feed"),
                timezone: chrono_tz::Tz::Europe__Moscow,
                encoding: None,
            },
        )
        .expect("parses");
        let sections = SectionMap::default();
        let cx = NormalizeContext {
            source: "t",
            source_section: None,
            sections: &sections,
            base_url: Some("https://e.org/feed"),
            now,
        };
        normalize(&parsed, &cx).items
    }

    #[test]
    fn dates_more_than_a_day_ahead_fall_back_to_first_seen() {
        let now = Utc.with_ymd_and_hms(2024, 8, 9, 12, 0, 0).unwrap();
        let xml = r#"<rss version="2.0"><channel><title>t</title>
            <item><guid>far</guid><title>a</title><pubDate>Mon, 12 Aug 2024 12:00:00 +0000</pubDate></item>
            <item><guid>near</guid><title>b</title><pubDate>Sat, 10 Aug 2024 06:00:00 +0000</pubDate></item>
            <item><guid>ru</guid><title>c</title><pubDate>Пт, 09 авг 2024 14:24:00 MSK</pubDate></item>
        </channel></rss>"#;
        let got = items(xml, now);
        // None: the store then records the first-seen time (the poll's clock).
        assert_eq!(got[0].published, None, "three days ahead is distrusted");
        assert_eq!(got[0].updated, None);
        assert_eq!(
            got[1].published,
            Utc.with_ymd_and_hms(2024, 8, 10, 6, 0, 0).single()
        );
        assert_eq!(
            got[2].published,
            Utc.with_ymd_and_hms(2024, 8, 9, 11, 24, 0).single()
        );
    }

    #[test]
    fn content_urls_resolve_against_xml_base() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://any.test/"><title>t</title>
            <entry><id>1</id><title>x</title><content type="html">&lt;a href="p/1"&gt;one&lt;/a&gt;</content></entry>
            <entry xml:base="/other/"><id>2</id><title>y</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><img src="i.png"/><script>x()</script></div></content></entry>
        </feed>"#;
        let got = items(xml, Utc::now());
        let c0 = got[0].content.as_deref().unwrap_or_default();
        assert!(c0.contains(r#"href="http://any.test/p/1""#), "{c0}");
        let c1 = got[1].content.as_deref().unwrap_or_default();
        assert!(c1.contains(r#"src="http://any.test/other/i.png""#), "{c1}");
        assert!(
            !c1.contains("script"),
            "xhtml content is sanitized too: {c1}"
        );
    }
}
