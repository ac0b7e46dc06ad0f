//! The side pass: one more read of an XML document, for what feed-rs does
//! not give (see `fallbacks`, `extras` and `hosts`), merged into the parsed
//! model where feed-rs left a field empty (or, for `hosts`, spelled a link
//! differently). Entries are matched to feed-rs's by document order.
//!
//! Most feeds need none of it, so each reader runs only when the document
//! holds something it could use, and the pass runs at all only when one
//! does. The rules for what counts as empty live here once: [`Gaps`] both
//! decides whether the fallback reader runs and is what [`fill`] fills.

use super::extras::{self, BaseReader, CategoryReader};
use super::fallbacks::{self, EntryFallbacks, FallbackReader, FeedFallbacks};
use super::hosts::{self, HostReader};
use crate::model::parsed::{
    Category, Link, MAX_CATEGORIES, ParsedEntry, ParsedFeed, Person, SourceFormat, Text,
    is_url_shaped,
};
use chrono_tz::Tz;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// One reader of the side pass, fed every event of the document.
pub(super) trait Collector {
    /// Takes one event; `before` and `after` are the document positions
    /// right before and right after it.
    fn event(&mut self, event: &Event<'_>, before: usize, after: usize);
}

/// Reads `text` once, handing every event to each collector, until the end
/// or the first XML error (what was collected up to it stands).
pub(super) fn read(text: &str, collectors: &mut [&mut dyn Collector]) {
    let mut reader = Reader::from_str(text);
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        let after = reader.buffer_position() as usize;
        for c in collectors.iter_mut() {
            c.event(&event, before, after);
        }
    }
}

/// Completes `feed` (feed-rs's reading of `text`) from the side pass.
/// `base_url` is the document's base, for `xml:base` values; `zone` dates
/// without an offset.
pub(super) fn complete(feed: &mut ParsedFeed, text: &str, base_url: Option<&str>, zone: Tz) {
    // JSON has no elements feed-rs skips.
    if feed.format == SourceFormat::Json {
        return;
    }
    let mut categories = extras::may_have_categories(text).then(CategoryReader::default);
    let mut bases = extras::may_have_bases(text).then(|| BaseReader::new(base_url));
    let mut fallbacks = (Gaps::of(feed).fillable_from(text) && fallbacks::worth_reading(text))
        .then(|| FallbackReader::new(text, zone));
    let mut hosts = hosts::may_have_cased_hosts(text).then(HostReader::default);
    let mut collectors: Vec<&mut dyn Collector> = Vec::new();
    collectors.extend(categories.as_mut().map(|c| c as &mut dyn Collector));
    collectors.extend(bases.as_mut().map(|c| c as &mut dyn Collector));
    collectors.extend(hosts.as_mut().map(|c| c as &mut dyn Collector));
    collectors.extend(fallbacks.as_mut().map(|c| c as &mut dyn Collector));
    if collectors.is_empty() {
        return;
    }
    read(text, &mut collectors);
    if let Some(c) = categories {
        add_categories(&mut feed.entries, c.finish());
    }
    if let Some(b) = bases {
        for (entry, base) in feed.entries.iter_mut().zip(b.finish()) {
            entry.content_base = base;
        }
    }
    // Before the fallbacks add links of their own, which are as written.
    if let Some(h) = hosts {
        let (channel, entries) = h.finish();
        hosts::respell(&mut feed.links, &channel);
        for (entry, hosts) in feed.entries.iter_mut().zip(entries) {
            hosts::respell(&mut entry.links, &hosts);
        }
    }
    if let Some(f) = fallbacks {
        let (channel, entries) = f.finish();
        fill_feed(feed, channel);
        let rss = feed.format == SourceFormat::Rss;
        for (entry, fb) in feed.entries.iter_mut().zip(entries) {
            fill(entry, fb, rss);
        }
    }
}

/// Merges the extra terms with the categories feed-rs read, in document
/// order (each term after as many of the entry's own categories as came
/// before it in the document), in one pass.
fn add_categories(entries: &mut [ParsedEntry], extra: Vec<extras::PlacedTerms>) {
    for (entry, terms) in entries.iter_mut().zip(extra) {
        if terms.is_empty() {
            continue;
        }
        let own = std::mem::take(&mut entry.categories);
        let mut own = own.into_iter().enumerate().peekable();
        let mut merged = Vec::with_capacity(own.len() + terms.len());
        for (before, term) in terms {
            while let Some((_, c)) = own.next_if(|(i, _)| *i < before) {
                merged.push(c);
            }
            merged.push(Category {
                term,
                ..Default::default()
            });
        }
        merged.extend(own.map(|(_, c)| c));
        entry.categories = merged;
    }
}

fn lacks_id(e: &ParsedEntry) -> bool {
    e.id.as_deref().is_none_or(|id| id.trim().is_empty())
}

/// Whether a text is missing or blank (an empty `<description>`).
fn lacks_text(t: &Option<Text>) -> bool {
    t.as_ref().is_none_or(|t| t.body.trim().is_empty())
}

/// Whether the links hold one to a page: a non-blank alternate (or no
/// `rel`), what normalize would take as the story's or the site's link.
fn has_page_link(links: &[Link]) -> bool {
    links.iter().any(|l| {
        !l.href.trim().is_empty()
            && l.rel
                .as_deref()
                .is_none_or(|r| r.trim().eq_ignore_ascii_case("alternate"))
    })
}

fn lacks_title(e: &ParsedEntry) -> bool {
    e.title.as_ref().is_none_or(|t| t.body.trim().is_empty())
}

/// What feed-rs left empty over a whole document: the fields a fallback
/// could fill.
#[derive(Debug, Default)]
struct Gaps {
    feed_title: bool,
    feed_language: bool,
    id: bool,
    title: bool,
    author: bool,
    summary: bool,
    /// An RSS item without content, which a `summary` element can give.
    rss_summary: bool,
    content: bool,
    published: bool,
    updated: bool,
    language: bool,
    /// An RSS item without a link, which a permalink `guid` or an
    /// `atom:link` can give.
    rss_link: bool,
    /// An RSS channel without a home page, which an `atom:link` can give.
    rss_feed_link: bool,
    /// An RSS document, whose items may have keywords to add.
    rss: bool,
}

impl Gaps {
    fn of(feed: &ParsedFeed) -> Gaps {
        let rss = feed.format == SourceFormat::Rss;
        let mut gaps = Gaps {
            feed_title: feed.title.is_none(),
            feed_language: feed.language.is_none(),
            rss_feed_link: rss && !has_page_link(&feed.links),
            rss,
            ..Gaps::default()
        };
        for e in &feed.entries {
            gaps.id |= lacks_id(e);
            gaps.title |= lacks_title(e);
            gaps.author |= e.authors.is_empty();
            gaps.summary |= lacks_text(&e.summary);
            gaps.rss_summary |= rss && e.content.is_none();
            gaps.content |= lacks_text(&e.content);
            gaps.published |= e.published.is_none();
            gaps.updated |= e.updated.is_none();
            gaps.language |= e.language.is_none();
            gaps.rss_link |= rss && !has_page_link(&e.links);
        }
        gaps
    }

    /// Whether `text` holds an element that could fill one of the gaps:
    /// each needle is searched for at most once, and only for a gap.
    fn fillable_from(&self, text: &str) -> bool {
        let has = |needle: &str| super::contains(text, needle);
        ((self.feed_title || self.title) && has("dc:title"))
            || ((self.feed_language || self.language) && has("dc:language"))
            || (self.id && has("rdf:about"))
            || (self.author
                && (has("dc:creator")
                    || has("dc:author")
                    || has("atom:author")
                    || has("itunes:author")))
            || (self.summary
                && (has("dc:description")
                    || has("<description")
                    || has("atom:summary")
                    || has("itunes:summary")
                    || has("itunes:subtitle")
                    || has("media:description")))
            || (self.rss_summary && has("<summary"))
            || (self.content
                && (has("body")
                    || has("<fullitem")
                    || has("content:encoded")
                    || has("atom:content")))
            || (self.published && (has("dcterms:") || has("atom:published") || has("dc:date")))
            || (self.updated && (has("dcterms:modified") || has("atom:updated")))
            || (self.rss_link && (has("<guid") || has("atom:link")))
            || (self.rss_feed_link && has("atom:link"))
            || (self.rss
                && (has("media:keywords") || has("itunes:keywords") || has("itunes:category")))
    }
}

/// The channel's fallbacks: `dc:title` stands in for a missing title (or
/// one that reads as empty, which normalize judges), `dc:language` for a
/// missing language.
fn fill_feed(feed: &mut ParsedFeed, fb: FeedFallbacks) {
    if feed.format == SourceFormat::Rss && !has_page_link(&feed.links) {
        feed.links.extend(fb.atom_links);
    }
    if let Some(title) = fb.title.map(Text::html) {
        if feed.title.is_none() {
            feed.title = Some(title);
        } else {
            feed.alternate_title = Some(title);
        }
    }
    if feed.language.is_none() {
        feed.language = fb.language;
    }
}

/// Fills what feed-rs left empty in one entry from its fallbacks, in an
/// order that matters: the RSS `summary` rule sees a description filled
/// just before it, and the content rule a content it just set.
fn fill(e: &mut ParsedEntry, fb: EntryFallbacks, rss: bool) {
    if lacks_id(e)
        && let Some(about) = fb.about
    {
        e.id = Some(about);
    }
    if lacks_title(e)
        && let Some(t) = fb.title
    {
        e.title = Some(Text::html(t));
    }
    if e.authors.is_empty() {
        fill_authors(e, fb.creators, fb.atom_author, fb.itunes_author);
    }
    if lacks_text(&e.summary) {
        let summary = fb.description.map(Text::html).or_else(|| {
            fb.summaries
                .into_iter()
                .flatten()
                .find(|t| !t.body.trim().is_empty())
        });
        if summary.is_some() {
            e.summary = summary;
        }
    }
    if lacks_text(&e.content)
        && let Some(c) = fb.encoded.map(Text::html).or(fb.atom_content)
    {
        e.content = Some(c);
    }
    if rss
        && let Some((summary, first)) = fb.rss_summary
        && e.content.is_none()
    {
        fill_from_rss_summary(e, summary, first);
    }
    if e.content.is_none() {
        e.content = fb.content.map(Text::html);
    }
    if e.published.is_none() {
        e.published = fb.published.into_iter().flatten().next();
    }
    if e.updated.is_none() {
        e.updated = fb.updated.into_iter().flatten().next();
    }
    if rss {
        let room = MAX_CATEGORIES.saturating_sub(e.categories.len());
        e.categories
            .extend(fb.keywords.into_iter().take(room).map(|term| Category {
                term,
                ..Default::default()
            }));
    }
    if rss && !has_page_link(&e.links) {
        e.links.extend(fb.atom_links);
    }
    if e.language.is_none() {
        e.language = fb.language;
    }
    if rss
        && !has_page_link(&e.links)
        && let Some(guid) = fb.permalink.filter(|g| is_url_shaped(g))
    {
        e.links.push(Link {
            href: guid,
            ..Default::default()
        });
    }
}

/// An RSS item's authors from other vocabularies: every `dc:creator`, else
/// its `atom:author`, else `itunes:author`.
fn fill_authors(
    e: &mut ParsedEntry,
    creators: Vec<String>,
    atom: Option<(Option<String>, Option<String>)>,
    itunes: Option<String>,
) {
    let name = |name: String| Person {
        name: Some(name),
        ..Default::default()
    };
    if !creators.is_empty() {
        e.authors.extend(creators.into_iter().map(name));
    } else if let Some((n, email)) = atom {
        e.authors.push(Person {
            name: n,
            email,
            uri: None,
        });
    } else if let Some(n) = itunes {
        e.authors.push(name(n));
    }
}

/// An RSS item with both `summary` and `description` (and no other
/// content): whichever comes first is the summary, the other the full
/// content. With only `summary`, it is the summary.
fn fill_from_rss_summary(e: &mut ParsedEntry, summary: String, first: bool) {
    let (summary, content) = match e.summary.take() {
        Some(d) if first => (Text::html(summary), Some(d.body)),
        Some(d) => (d, Some(summary)),
        None => (Text::html(summary), None),
    };
    e.summary = Some(summary);
    e.content = content.map(Text::html);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rss_entry() -> ParsedEntry {
        ParsedEntry {
            id: Some("1".into()),
            title: Some(Text::html("t".into())),
            ..Default::default()
        }
    }

    #[test]
    fn an_rss_summary_before_the_description_is_the_summary() {
        let mut e = ParsedEntry {
            summary: Some(Text::html("long".into())),
            ..rss_entry()
        };
        let fb = EntryFallbacks {
            rss_summary: Some(("short".into(), true)),
            ..Default::default()
        };
        fill(&mut e, fb, true);
        assert_eq!(e.summary.map(|t| t.body).as_deref(), Some("short"));
        assert_eq!(e.content.map(|t| t.body).as_deref(), Some("long"));
    }

    #[test]
    fn a_permalink_guid_is_the_link_only_when_it_is_a_url() {
        let mut gaps = Gaps::default();
        let fb = |g: &str| EntryFallbacks {
            permalink: Some(g.into()),
            ..Default::default()
        };
        let mut e = rss_entry();
        fill(&mut e, fb("42"), true);
        assert!(e.links.is_empty());
        fill(&mut e, fb("https://e.org/1"), true);
        assert_eq!(e.links[0].href, "https://e.org/1");
        // A gap only counts with a needle that could fill it.
        gaps.rss_link = true;
        assert!(!gaps.fillable_from("<rss><item/></rss>"));
        assert!(gaps.fillable_from("<rss><item><guid>x</guid></item></rss>"));
    }
}
