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
mod person;
mod plain_url;
mod simple_html;

use crate::model::parsed::{Link, ParsedFeed, Text, TextKind};
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
#[derive(Debug, Clone, Default)]
pub struct NormalizedFeed {
    /// Feed-level facts.
    pub meta: FeedMeta,
    /// Items in document order, one per identity (later duplicates dropped).
    pub items: Vec<Item>,
    /// Whether the document's ids could not be trusted as identities (see
    /// [`untrusted_guids`]): the items named by them are keyed by link.
    pub ids_untrusted: bool,
}

/// Share of a document's ids, in per mille, that may be broken (shared by
/// entries with different links) before its ids are no longer identities:
/// FreshRSS's 5%.
const UNTRUSTED_IDS_PERMILLE: usize = 50;

/// Normalizes a parsed document.
pub fn normalize(parsed: &ParsedFeed, cx: &NormalizeContext<'_>) -> NormalizedFeed {
    let base = cx.base_url.and_then(|b| Url::parse(b).ok());
    let meta = feed_meta(parsed, base.as_ref());
    let mut sanitizers = Sanitizers::new(base.as_ref());
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::with_capacity(parsed.entries.len());
    let untrusted = untrusted_guids(parsed, base.as_ref());
    let mut all: Vec<Item> = Vec::with_capacity(parsed.entries.len());
    for (i, e) in parsed.entries.iter().enumerate() {
        let sanitizer = sanitizers.at(e.content_base.as_deref());
        let trust_guid = untrusted.as_ref().is_none_or(|u| !u.contains(&i));
        all.push(entry::normalize_entry(
            e,
            &meta,
            base.as_ref(),
            sanitizer,
            cx,
            trust_guid,
        ));
    }
    key_shared_links_by_content(&mut all, cx.source);
    for item in all {
        // A feed that repeats an id keeps its first occurrence: the one a
        // reader would have shown.
        if seen.insert(item.key.clone()) {
            items.push(item);
        }
    }
    NormalizedFeed {
        meta,
        items,
        ids_untrusted: untrusted.is_some(),
    }
}

/// The entries whose ids are not identities, when the document's ids are
/// untrusted: an id shared by entries with different links names no one
/// story, and when more than [`UNTRUSTED_IDS_PERMILLE`] of the entries with
/// an id have such a broken one, those entries are keyed by their link (40
/// stories on one guid are 40 stories). Entries whose id is theirs alone
/// keep it as their key, so items already stored under it stay the same
/// items whatever the rest of the document does; an entry repeated whole
/// (same id, same link) is one item either way. `None`: ids trusted.
fn untrusted_guids(
    parsed: &ParsedFeed,
    base: Option<&Url>,
) -> Option<std::collections::HashSet<usize>> {
    use std::collections::{HashMap, HashSet};
    // id → its first entry, that entry's link once needed, and whether an
    // entry with another link shares the id. Links are worked out only
    // for ids that repeat (most documents have none).
    let mut by_id: HashMap<&str, (usize, Option<Option<String>>, bool)> = HashMap::new();
    let mut with_id = 0usize;
    for (i, e) in parsed.entries.iter().enumerate() {
        let Some(id) = id_of(e) else {
            continue;
        };
        with_id += 1;
        match by_id.get_mut(id) {
            Some((first, first_link, shared)) => {
                if !*shared {
                    let first_link = first_link
                        .get_or_insert_with(|| entry::link_of(&parsed.entries[*first], base));
                    *shared = *first_link != entry::link_of(e, base);
                }
            }
            None => {
                by_id.insert(id, (i, None, false));
            }
        }
    }
    if !by_id.values().any(|(_, _, shared)| *shared) {
        return None;
    }
    let broken: HashSet<usize> = parsed
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            id_of(e)
                .and_then(|id| by_id.get(id))
                .is_some_and(|(_, _, shared)| *shared)
        })
        .map(|(i, _)| i)
        .collect();
    (broken.len() * 1000 > with_id * UNTRUSTED_IDS_PERMILLE).then_some(broken)
}

/// Items keyed by their link (no id, or an untrusted one) whose link is
/// shared by an item with another title are told apart by title and
/// content instead, and belong to no cross-source story by that link: a
/// CMS that links every item to its home page, or a daily page whose
/// entries differ only by the `#fragment` the canonical link drops, would
/// otherwise lose all of that link's stories but the first. Items alone on
/// their link keep the link as their key, and an item repeated whole (same
/// link and title) is still one item. Linear: one map from key to the
/// first title.
fn key_shared_links_by_content(items: &mut [Item], source: &str) {
    use std::collections::HashMap;
    let mut first_title: HashMap<&str, (&str, bool)> = HashMap::new();
    for it in items.iter().filter(|it| it.key.starts_with("link:")) {
        let (title, mixed) = first_title.entry(&it.key).or_insert((&it.title, false));
        *mixed |= *title != it.title;
    }
    let shared: std::collections::HashSet<String> = first_title
        .into_iter()
        .filter(|(_, (_, mixed))| *mixed)
        .map(|(key, _)| key.to_string())
        .collect();
    if shared.is_empty() {
        return;
    }
    for it in items.iter_mut().filter(|it| shared.contains(&it.key)) {
        let body = it.content.as_deref().or(it.summary.as_deref());
        it.key = identity::item_key(None, None, &it.title, body);
        it.story_key = identity::story_key(source, &it.key, it.guid.as_deref(), None);
    }
}

/// An entry's id, trimmed; `None` when blank.
fn id_of(e: &crate::model::parsed::ParsedEntry) -> Option<&str> {
    e.id.as_deref().map(str::trim).filter(|id| !id.is_empty())
}

/// The feed's own title (its first that reads as text), home page and
/// language.
fn feed_meta(feed: &ParsedFeed, base: Option<&Url>) -> FeedMeta {
    FeedMeta {
        title: feed
            .title
            .iter()
            .chain(&feed.alternate_title)
            .map(title_of)
            .find(|t| !t.is_empty()),
        site_url: story_link(&feed.links).and_then(|l| {
            link::canonical_link(&l.href, base).map(|c| link::with_written_host(&c, &l.href))
        }),
        language: feed.language.as_deref().and_then(language_tag),
    }
}

/// The link to the page itself: the first `rel="alternate"` (or no `rel`)
/// with an HTML type (`text/html`, `application/xhtml+xml`, or none), else
/// the first other alternate (a PDF, say), else none. Never `self`, `hub`,
/// `enclosure`, `replies`, `related`, `via` or any other relation: those
/// name other documents.
fn story_link(links: &[Link]) -> Option<&Link> {
    let alternates = || {
        links
            .iter()
            .filter(|l| {
                l.rel
                    .as_deref()
                    .is_none_or(|r| r.trim().eq_ignore_ascii_case("alternate"))
            })
            .filter(|l| !l.href.trim().is_empty())
    };
    alternates()
        .find(|l| is_html_type(l.media_type.as_deref()))
        .or_else(|| alternates().next())
}

/// Whether a link's media type names a web page (none given counts).
fn is_html_type(media_type: Option<&str>) -> bool {
    media_type.is_none_or(|t| {
        let essence = t.split(';').next().unwrap_or("").trim();
        essence.is_empty()
            || essence.eq_ignore_ascii_case("text/html")
            || essence.eq_ignore_ascii_case("application/xhtml+xml")
    })
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

/// A title as plain text: plain text as it is (Atom `type="text"`, JSON
/// Feed), HTML with its markup dropped and references decoded; whitespace
/// collapsed either way. What reads as text stays text: see
/// [`html::title_text`].
fn title_of(t: &Text) -> String {
    let fixed = mojibake::fix(&t.body);
    match t.kind {
        TextKind::Plain => fixed.split_whitespace().collect::<Vec<_>>().join(" "),
        TextKind::Html => html::title_text(&fixed),
    }
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
                content_language: None,
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
    fn items_sharing_a_link_under_other_titles_are_told_apart() {
        let xml = r#"<rss version="2.0"><channel><title>t</title><link>https://e.org/</link><description>d</description>
            <item><title>One</title><link>https://e.org/day#1</link></item>
            <item><title>Two</title><link>https://e.org/day#2</link></item>
            <item><title>Alone</title><link>https://e.org/a</link></item>
            <item><title>Alone</title><link>https://e.org/a</link></item>
            <item><title>Has id</title><guid>9</guid><link>https://e.org/day</link></item>
            </channel></rss>"#;
        let got = items(xml, Utc::now());
        let titles: Vec<&str> = got.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["One", "Two", "Alone", "Has id"]);
        assert!(got[0].key.starts_with("hash:") && got[1].key.starts_with("hash:"));
        assert_ne!(got[0].story_key, got[1].story_key);
        // Alone on its link (a repeat is the same item): keyed as before.
        assert_eq!(got[2].key, "link:https://e.org/a");
        assert_eq!(got[3].key, "guid:9");
    }

    #[test]
    fn links_show_the_host_as_written_and_keys_stay_lowercase() {
        let xml = r#"<rss version="2.0"><channel><title>t</title><link>https://News.E.org/</link><description>d</description>
            <item><title>A</title><link>http://item.TEST/a</link></item>
            <item><title>B</title><guid>b</guid><link>http://item.test/b</link></item>
            </channel></rss>"#;
        let got = items(xml, Utc::now());
        assert_eq!(got[0].link.as_deref(), Some("http://item.TEST/a"));
        assert_eq!(got[0].key, "link:http://item.test/a");
        assert_eq!(got[0].story_key, "link:http://item.test/a");
        // A link written lowercase is not respelled after its neighbour.
        assert_eq!(got[1].link.as_deref(), Some("http://item.test/b"));
        assert_eq!(got[1].story_key, "link:http://item.test/b");
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
