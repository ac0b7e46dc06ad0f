//! Normalize: turns feed-rs entries into our `Item`s — identity within the
//! source, identity across sources, canonical link, sections, plain-text
//! titles and sanitized HTML.

mod enclosures;
pub mod html;
pub mod identity;
pub mod lazy;
pub mod link;
pub mod mojibake;
mod plain_url;
mod simple_html;

use crate::model::sections::{self, SectionMap};
use crate::model::{FeedMeta, Item};
use crate::pipeline::parse::{EntryFallbacks, Format, NO_ID, ParsedFeed};
use chrono::{DateTime, Duration, Utc};
use feed_rs::model::{Entry, Text};
use url::Url;

/// How far in the future a date may lie before we distrust it: a story
/// dated next week would otherwise sit on top of every feed until then.
const FUTURE_TOLERANCE: Duration = Duration::days(1);

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
    let feed = &parsed.feed;
    let base = cx.base_url.and_then(|b| Url::parse(b).ok());
    let sanitizer = html::Sanitizer::new(base.as_ref());
    let meta = FeedMeta {
        title: feed
            .title
            .as_ref()
            .map(text_of)
            .filter(|t| !t.is_empty())
            .or_else(|| plain_of(parsed.feed_fallbacks.title.as_deref())),
        site_url: feed
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .and_then(|l| link::canonical_link(&l.href, base.as_ref())),
        language: feed
            .language
            .as_deref()
            .or(parsed.feed_fallbacks.language.as_deref())
            .and_then(language_tag),
    };
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::with_capacity(feed.entries.len());
    // Sanitizers for entries whose content sits under another xml:base;
    // usually none, rarely more than one or two per document.
    let mut rebased: Vec<(String, html::Sanitizer)> = Vec::new();
    for (i, entry) in feed.entries.iter().enumerate() {
        let extra = parsed
            .extra_categories
            .get(i)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let entry_base = parsed.content_bases.get(i).cloned().flatten();
        let sanitizer = match entry_base {
            Some(b) if Some(b.as_str()) != base.as_ref().map(Url::as_str) => {
                let at = match rebased.iter().position(|(k, _)| *k == b) {
                    Some(at) => at,
                    None => {
                        let url = Url::parse(&b).ok();
                        rebased.push((b, html::Sanitizer::new(url.as_ref())));
                        rebased.len() - 1
                    }
                };
                &rebased[at].1
            }
            _ => &sanitizer,
        };
        let fallbacks = parsed.fallbacks.get(i).cloned().unwrap_or_default();
        let entry = with_fallbacks(entry, fallbacks, parsed.format);
        let item = normalize_entry(&entry, extra, &meta, base.as_ref(), sanitizer, cx);
        // A feed that repeats an id keeps its first occurrence: the one a
        // reader would have shown.
        if seen.insert(item.key.clone()) {
            items.push(item);
        }
    }
    NormalizedFeed { meta, items }
}

fn normalize_entry(
    entry: &Entry,
    extra_categories: &[String],
    meta: &FeedMeta,
    base: Option<&Url>,
    sanitizer: &html::Sanitizer,
    cx: &NormalizeContext<'_>,
) -> Item {
    let guid = Some(entry.id.trim())
        .filter(|id| !id.is_empty() && *id != NO_ID)
        .map(str::to_string);
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| entry.links.first())
        .and_then(|l| link::canonical_link(&l.href, base));
    let title = entry.title.as_ref().map(text_of).unwrap_or_default();
    let summary = entry.summary.as_ref().and_then(|s| html_of(s, sanitizer));
    let content = entry.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?;
        if c.content_type.essence().to_string() == "text/plain" {
            // Plain text (Atom `type="text"`): its `<` are characters.
            let plain = escape_text(mojibake::fix(body).trim());
            (!plain.is_empty()).then_some(plain)
        } else {
            sanitizer.clean(&mojibake::fix(body))
        }
    });

    let mut categories: Vec<String> = Vec::new();
    let terms = entry
        .categories
        .iter()
        .flat_map(|c| std::iter::once(c.term.as_str()).chain(c.label.as_deref()))
        .chain(extra_categories.iter().map(String::as_str));
    for term in terms {
        let term = html::to_text(&mojibake::fix(term));
        if !term.is_empty()
            && !categories
                .iter()
                .any(|c| sections::fold(c) == sections::fold(&term))
        {
            categories.push(term);
        }
    }
    let mut item_sections: Vec<String> = Vec::new();
    for name in categories
        .iter()
        .map(String::as_str)
        .chain(cx.source_section)
    {
        if let Some(canonical) = cx.sections.canonical(name)
            && !item_sections.contains(&canonical)
        {
            item_sections.push(canonical);
        }
    }

    let not_future = |d: &DateTime<Utc>| *d <= cx.now + FUTURE_TOLERANCE;
    let published = entry.published.or(entry.updated).filter(not_future);
    let updated = entry.updated.filter(not_future);
    let authors: Vec<String> = entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref().map(|n| html::to_text(&mojibake::fix(n))))
        // `me@example.com (Name)`: feed-rs takes the address as the email
        // and leaves the parentheses around the name.
        .map(
            |n| match n.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
                Some(inner) if !inner.contains(['(', ')']) => inner.trim().to_string(),
                _ => n,
            },
        )
        .filter(|n| !n.is_empty())
        .collect();
    let language = entry
        .language
        .as_deref()
        .and_then(language_tag)
        .or_else(|| meta.language.clone());

    let key = identity::item_key(
        guid.as_deref(),
        link.as_deref(),
        &title,
        content.as_deref().or(summary.as_deref()),
    );
    let story_key = identity::story_key(cx.source, &key, guid.as_deref(), link.as_deref());
    let mut item = Item {
        key,
        story_key,
        guid,
        link,
        title,
        summary,
        content,
        authors,
        categories,
        sections: item_sections,
        published,
        updated,
        language,
        enclosures: enclosures::of_entry(entry, base),
        content_hash: String::new(),
    };
    item.content_hash = identity::content_hash(&item);
    item
}

/// feed-rs's entry with the fields it left empty filled from the side
/// pass (`dc:*`, `dcterms:*`, `body`/`fullitem`, a permalink guid, RSS 1.0
/// `rdf:about`, an RSS `summary` element).
fn with_fallbacks(
    entry: &Entry,
    fb: EntryFallbacks,
    format: Format,
) -> std::borrow::Cow<'_, Entry> {
    use feed_rs::model::{Content, Link, Person};
    let e = entry;
    let no_id = e.id.trim().is_empty() || e.id == NO_ID;
    let no_title = e.title.as_ref().is_none_or(|t| t.content.trim().is_empty());
    let no_content = e.content.as_ref().is_none_or(|c| c.body.is_none());
    let rss = format == Format::Rss;
    let applies = (no_id && fb.about.is_some())
        || (no_title && fb.title.is_some())
        || (e.authors.is_empty() && fb.author.is_some())
        || (e.summary.is_none() && fb.description.is_some())
        || (rss && e.content.is_none() && fb.rss_summary.is_some())
        || (no_content && fb.content.is_some())
        || (e.published.is_none() && fb.published.is_some())
        || (e.updated.is_none() && fb.updated.is_some())
        || (e.language.is_none() && fb.language.is_some())
        || (rss && e.links.is_empty() && fb.permalink.is_some());
    if !applies {
        return std::borrow::Cow::Borrowed(entry);
    }
    let mut e = entry.clone();
    let html_type = || "text/html".parse().expect("a valid media type");
    let html = |s: String| Text {
        content_type: html_type(),
        src: None,
        content: s,
    };
    if (e.id.trim().is_empty() || e.id == NO_ID)
        && let Some(about) = fb.about
    {
        e.id = about;
    }
    if e.title.as_ref().is_none_or(|t| t.content.trim().is_empty())
        && let Some(t) = fb.title
    {
        e.title = Some(html(t));
    }
    if e.authors.is_empty()
        && let Some(a) = fb.author
    {
        e.authors.push(Person {
            name: Some(a),
            uri: None,
            email: None,
            role: None,
        });
    }
    if e.summary.is_none()
        && let Some(d) = fb.description
    {
        e.summary = Some(html(d));
    }
    if format == Format::Rss
        && let Some((s, first)) = fb.rss_summary
        && e.content.is_none()
    {
        // Both `summary` and `description`: the first is the summary, the
        // other the full content.
        let (summary, content) = match e.summary.take() {
            Some(d) if first => (html(s), Some(d.content)),
            Some(d) => (d, Some(s)),
            None => (html(s), None),
        };
        e.summary = Some(summary);
        e.content = content.map(|body| Content {
            body: Some(body),
            content_type: html_type(),
            ..Default::default()
        });
    }
    if e.content.as_ref().is_none_or(|c| c.body.is_none())
        && let Some(c) = fb.content
    {
        e.content = Some(Content {
            body: Some(c),
            content_type: html_type(),
            ..Default::default()
        });
    }
    if e.published.is_none() {
        e.published = fb.published;
    }
    if e.updated.is_none() {
        e.updated = fb.updated;
    }
    if e.language.is_none() {
        e.language = fb.language;
    }
    if format == Format::Rss
        && e.links.is_empty()
        && let Some(guid) = fb.permalink.filter(|g| link::is_url_shaped(g))
    {
        e.links.push(Link {
            href: guid,
            target: None,
            rel: None,
            media_type: None,
            href_lang: None,
            title: None,
            length: None,
        });
    }
    std::borrow::Cow::Owned(e)
}

/// A plain-text fallback value, as text.
fn plain_of(raw: Option<&str>) -> Option<String> {
    raw.map(|r| html::to_text(&mojibake::fix(r)))
        .filter(|t| !t.is_empty())
}

fn text_of(t: &Text) -> String {
    html::to_text(&mojibake::fix(&t.content))
}

fn html_of(t: &Text, sanitizer: &html::Sanitizer) -> Option<String> {
    let raw = mojibake::fix(&t.content);
    if t.content_type.essence().to_string() == "text/plain" {
        let plain = escape_text(&html::to_text(&raw));
        (!plain.is_empty()).then_some(plain)
    } else {
        sanitizer.clean(&raw)
    }
}

/// A language tag in BCP 47 spelling (`en_US` → `en-US`); `None` when blank.
fn language_tag(raw: &str) -> Option<String> {
    let tag = raw.trim();
    (!tag.is_empty()).then(|| tag.replace('_', "-"))
}

/// Plain text made safe to embed as HTML.
fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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
