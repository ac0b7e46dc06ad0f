//! The reader of RSS elements feed-rs does not read, kept as fallbacks that
//! the side pass applies where feed-rs left a field empty: Dublin Core
//! (`dc:title`, `dc:creator`/`dc:author`, `dc:description`, `dc:language`)
//! and DCMI terms dates (`dcterms:issued`/`created`/`modified`), full
//! content given as `body`/`xhtml:body` or `fullitem`, an RSS `summary`
//! element, a permalink `guid` and RSS 1.0's `rdf:about`. Entries are matched
//! to feed-rs's by document order.

use super::side::Collector;
use crate::model::parsed::{Link, MAX_CATEGORIES, Text, TextKind};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quick_xml::events::{BytesStart, Event};

/// Channel-level fallbacks.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct FeedFallbacks {
    /// `dc:title`.
    pub title: Option<String>,
    /// `dc:language`.
    pub language: Option<String>,
    /// `atom:link`s of an RSS channel, in document order.
    pub atom_links: Vec<Link>,
}

/// Per-entry fallbacks.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct EntryFallbacks {
    /// `dc:title`.
    pub title: Option<String>,
    /// Every `dc:creator` (or `dc:author`), in document order.
    pub creators: Vec<String>,
    /// `atom:author` (name, email) in an RSS item.
    pub atom_author: Option<(Option<String>, Option<String>)>,
    /// `itunes:author`.
    pub itunes_author: Option<String>,
    /// `dc:description` (plain text or HTML, as RSS descriptions are), or
    /// a `description` given as unescaped markup.
    pub description: Option<String>,
    /// `dc:language`.
    pub language: Option<String>,
    /// Publication dates in precedence order: `atom:published`,
    /// `dcterms:issued`, `dcterms:created`, `dc:date`, `dcterms:date`.
    pub published: [Option<DateTime<Utc>>; 5],
    /// `atom:updated`, then `dcterms:modified`.
    pub updated: [Option<DateTime<Utc>>; 2],
    /// `atom:link`s of an RSS item, in document order.
    pub atom_links: Vec<Link>,
    /// `content:encoded` (HTML).
    pub encoded: Option<String>,
    /// `atom:content` in an RSS item.
    pub atom_content: Option<Text>,
    /// Summaries in precedence order: `atom:summary`, `itunes:summary`,
    /// `media:description` (in the item, a `media:group` or a
    /// `media:content`), `itunes:subtitle`.
    pub summaries: [Option<Text>; 4],
    /// `media:keywords`, `itunes:keywords` (split at commas) and item
    /// `itunes:category text` (nested ones too), in document order.
    pub keywords: Vec<String>,
    /// Full content as HTML: `body`/`xhtml:body` markup or `fullitem` text.
    pub content: Option<String>,
    /// An RSS `summary` element, and whether it came before `description`.
    pub rss_summary: Option<(String, bool)>,
    /// The `guid`, unless `isPermaLink="false"`: the link of an item that
    /// has no `link`.
    pub permalink: Option<String>,
    /// RSS 1.0 `rdf:about`: the id of an item that has no other.
    pub about: Option<String>,
}

/// Whether the document may hold anything this reader collects; checked
/// before any XML is read.
pub(super) fn worth_reading(text: &str) -> bool {
    [
        "dc:",
        "dcterms:",
        "body",
        "<fullitem",
        "<summary",
        "<guid",
        "rdf:about",
        "atom:",
        "itunes:",
        "media:",
        "content:encoded",
        // Naked markup in a description (read only when feed-rs left a
        // summary empty: `Gaps` decides that first).
        "<description",
    ]
    .iter()
    .any(|n| super::contains(text, n))
}

/// Collects the fallbacks of the channel and of each entry, in document
/// order, from the events of one read of the document (see `side`).
///
/// Only direct children of the channel and of an entry are read, each as a
/// whole: what they contain is their value, not more elements to match.
pub(super) struct FallbackReader<'a> {
    /// The document, for the raw content of a child.
    text: &'a str,
    /// Zone for dates without an offset.
    zone: Tz,
    feed: FeedFallbacks,
    entries: Vec<EntryFallbacks>,
    /// Local names of the open elements outside the child being read.
    stack: Vec<String>,
    /// Depth of the open entry, if one is open.
    entry_depth: Option<usize>,
    /// Whether the open entry has had a `description` yet.
    seen_description: bool,
    /// The child being read whole, if any.
    child: Option<Child>,
}

/// A direct child of the channel or of an entry, read as a whole.
struct Child {
    /// Qualified name, to find the matching end tag.
    qname: String,
    /// Local name.
    local: String,
    /// Open elements of the same name inside it.
    nested: usize,
    /// Where its content starts in the document.
    start: usize,
    /// Whether it is the channel's (else the open entry's).
    in_channel: bool,
    /// For a `guid`: unless `isPermaLink="false"`.
    permalink: bool,
    /// For an `atom:content`/`atom:summary`: its `type`.
    text_type: Option<String>,
}

impl<'a> FallbackReader<'a> {
    /// A reader of `text`, dating in `zone`.
    pub(super) fn new(text: &'a str, zone: Tz) -> Self {
        FallbackReader {
            text,
            zone,
            feed: FeedFallbacks::default(),
            entries: Vec::new(),
            stack: Vec::new(),
            entry_depth: None,
            seen_description: false,
            child: None,
        }
    }

    /// Whether `event` closes the child being read (counting same-name
    /// elements inside it).
    fn closes_child(child: &mut Child, event: &Event<'_>) -> bool {
        match event {
            Event::Start(e) if e.name().as_ref() == child.qname => child.nested += 1,
            Event::End(e) if e.name().as_ref() == child.qname => match child.nested {
                0 => return true,
                _ => child.nested -= 1,
            },
            _ => {}
        }
        false
    }

    /// The open element ends (outside a child being read).
    fn end(&mut self) {
        self.stack.pop();
        if self.entry_depth == Some(self.stack.len()) {
            self.entry_depth = None;
        }
    }

    /// What was collected: the channel's, and each entry's in order.
    pub(super) fn finish(self) -> (FeedFallbacks, Vec<EntryFallbacks>) {
        (self.feed, self.entries)
    }

    fn start(&mut self, e: &BytesStart<'_>, after: usize) {
        let qname = e.name().as_ref().to_string();
        let local = qname.rsplit(':').next().unwrap_or(&qname).to_string();
        let depth = self.stack.len();
        if self.entry_depth.is_none() && matches!(local.as_str(), "item" | "entry") {
            self.entries.push(EntryFallbacks {
                about: rdf_about(e),
                ..Default::default()
            });
            self.entry_depth = Some(depth);
            self.seen_description = false;
            self.stack.push(local);
            return;
        }
        let in_entry_child = self.entry_depth.is_some_and(|d| depth == d + 1);
        let in_channel =
            self.entry_depth.is_none() && self.stack.last().is_some_and(|p| p == "channel");
        if !(in_entry_child || in_channel) {
            self.stack.push(local);
            return;
        }
        if in_entry_child && qname == "itunes:category" {
            self.itunes_category(e);
        }
        self.child = Some(Child {
            permalink: is_permalink(e),
            text_type: attr(e, "type"),
            qname,
            local,
            nested: 0,
            start: after,
            in_channel,
        });
    }

    /// An empty element (`<atom:link …/>`, `<itunes:category …/>`) that is
    /// a direct child of the channel or of an entry.
    fn empty(&mut self, e: &BytesStart<'_>) {
        let depth = self.stack.len();
        let in_entry_child = self.entry_depth.is_some_and(|d| depth == d + 1);
        let in_channel =
            self.entry_depth.is_none() && self.stack.last().is_some_and(|p| p == "channel");
        match e.name().as_ref() {
            "atom:link" if in_entry_child || in_channel => {
                let Some(href) = attr(e, "href").filter(|h| !h.trim().is_empty()) else {
                    return;
                };
                let link = Link {
                    href,
                    rel: attr(e, "rel"),
                    media_type: attr(e, "type"),
                };
                let links = match self.entries.last_mut() {
                    Some(fb) if in_entry_child => &mut fb.atom_links,
                    _ => &mut self.feed.atom_links,
                };
                if links.len() < crate::model::parsed::MAX_LINKS {
                    links.push(link);
                }
            }
            "itunes:category" if in_entry_child => self.itunes_category(e),
            _ => {}
        }
    }

    /// An item's `itunes:category text="…"`, nested ones too.
    fn itunes_category(&mut self, e: &BytesStart<'_>) {
        if let (Some(fb), Some(text)) = (self.entries.last_mut(), attr(e, "text"))
            && fb.keywords.len() < MAX_CATEGORIES
        {
            fb.keywords.push(text);
        }
    }

    /// A whole child read: `inner` is its raw content.
    fn child_read(&mut self, child: &Child, inner: &str) {
        if child.in_channel {
            self.channel_child(&child.qname, inner);
        } else {
            self.entry_child(child, inner);
        }
    }

    fn channel_child(&mut self, qname: &str, inner: &str) {
        let value = || Some(text_of(inner)).filter(|s| !s.is_empty());
        let feed = &mut self.feed;
        match qname {
            "dc:title" => feed.title = feed.title.take().or_else(value),
            "dc:language" => feed.language = feed.language.take().or_else(value),
            _ => {}
        }
        // `<atom:link …></atom:link>` written with an end tag is rare and
        // has no attributes left to read here; `empty` takes the usual form.
    }

    fn entry_child(&mut self, child: &Child, inner: &str) {
        let Some(fb) = self.entries.last_mut() else {
            return;
        };
        let value = || Some(text_of(inner)).filter(|s| !s.is_empty());
        let date = || value().and_then(|v| super::dates::parse_date(&v, self.zone));
        let first = |slot: &mut Option<DateTime<Utc>>| {
            if slot.is_none() {
                *slot = date();
            }
        };
        let summary = |slot: &mut Option<Text>| {
            if slot.is_none() {
                *slot = value().map(Text::html);
            }
        };
        match child.qname.as_str() {
            "dc:title" => fb.title = fb.title.take().or_else(value),
            "dc:creator" | "dc:author" if fb.creators.len() < crate::model::parsed::MAX_AUTHORS => {
                fb.creators.extend(value());
            }
            "dc:description" => fb.description = fb.description.take().or_else(value),
            "dc:language" => fb.language = fb.language.take().or_else(value),
            "atom:published" => first(&mut fb.published[0]),
            "dcterms:issued" => first(&mut fb.published[1]),
            "dcterms:created" => first(&mut fb.published[2]),
            "dc:date" => first(&mut fb.published[3]),
            "dcterms:date" => first(&mut fb.published[4]),
            "atom:updated" => first(&mut fb.updated[0]),
            "dcterms:modified" => first(&mut fb.updated[1]),
            "content:encoded" => fb.encoded = fb.encoded.take().or_else(value),
            "atom:content" if fb.atom_content.is_none() => {
                fb.atom_content = atom_text(inner, child.text_type.as_deref());
            }
            "atom:summary" if fb.summaries[0].is_none() => {
                fb.summaries[0] = atom_text(inner, child.text_type.as_deref());
            }
            "itunes:summary" => summary(&mut fb.summaries[1]),
            "media:description" => summary(&mut fb.summaries[2]),
            "media:group" | "media:content" if fb.summaries[2].is_none() => {
                fb.summaries[2] = nested(inner, "media:description")
                    .map(text_of)
                    .filter(|s| !s.is_empty())
                    .map(Text::html);
            }
            "itunes:subtitle" => summary(&mut fb.summaries[3]),
            "atom:author" if fb.atom_author.is_none() => {
                let name = nested(inner, "atom:name")
                    .map(text_of)
                    .filter(|s| !s.is_empty());
                let email = nested(inner, "atom:email")
                    .map(text_of)
                    .filter(|s| !s.is_empty());
                if name.is_some() || email.is_some() {
                    fb.atom_author = Some((name, email));
                }
            }
            "itunes:author" => fb.itunes_author = fb.itunes_author.take().or_else(value),
            "media:keywords" | "itunes:keywords" => {
                if let Some(v) = value() {
                    let room = MAX_CATEGORIES.saturating_sub(fb.keywords.len());
                    fb.keywords.extend(
                        v.split(',')
                            .map(str::trim)
                            .filter(|k| !k.is_empty())
                            .take(room)
                            .map(str::to_string),
                    );
                }
            }
            "fullitem" => fb.content = fb.content.take().or_else(value),
            "description" => {
                self.seen_description = true;
                // Markup left unescaped, which feed-rs reads as no
                // description at all.
                if fb.description.is_none() && super::repair::has_child_element(inner) {
                    fb.description = Some(inner.trim().to_string());
                }
            }
            "summary" if fb.rss_summary.is_none() => {
                fb.rss_summary = value().map(|v| (v, !self.seen_description));
            }
            "guid" if child.permalink => fb.permalink = fb.permalink.take().or_else(value),
            _ if child.local == "body" => {
                let markup = if inner.contains("<![CDATA[") {
                    text_of(inner)
                } else {
                    inner.trim().to_string()
                };
                if fb.content.is_none() && !markup.is_empty() {
                    fb.content = Some(markup);
                }
            }
            _ => {}
        }
    }
}

impl Collector for FallbackReader<'_> {
    fn event(&mut self, event: &Event<'_>, before: usize, after: usize) {
        if let Some(child) = &mut self.child {
            if child.qname == "itunes:category"
                && let Event::Start(e) | Event::Empty(e) = event
                && e.name().as_ref() == "itunes:category"
            {
                self.itunes_category(e);
                if matches!(event, Event::Start(_))
                    && let Some(child) = &mut self.child
                {
                    child.nested += 1;
                }
                return;
            }
            let Some(child) = &mut self.child else {
                return;
            };
            if Self::closes_child(child, event) {
                let child = self.child.take().expect("a child is open");
                let text = self.text;
                self.child_read(&child, &text[child.start..before]);
            }
            return;
        }
        match event {
            Event::Start(e) => self.start(e, after),
            Event::Empty(e) => self.empty(e),
            Event::End(_) => self.end(),
            _ => {}
        }
    }
}

/// An entry's RSS 1.0 `rdf:about`, when it has a non-blank one.
fn rdf_about(e: &BytesStart<'_>) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == "rdf:about")
        .map(|a| unescape(&a.value).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// An attribute's value, references resolved; `None` when absent.
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| unescape(&a.value).trim().to_string())
}

/// The raw content of the first `<name …>…</name>` inside `inner`.
fn nested<'t>(inner: &'t str, name: &str) -> Option<&'t str> {
    let open = format!("<{name}");
    let at = inner.find(&open)?;
    let rest = &inner[at + open.len()..];
    // `<atom:name>` but not `<atom:namespace>`.
    if !rest.starts_with(['>', ' ', '\t', '\n', '\r']) {
        return None;
    }
    let start = rest.find('>')? + 1;
    if rest[..start].ends_with("/>") {
        return None;
    }
    let end = rest[start..].find(&format!("</{name}>"))?;
    Some(&rest[start..start + end])
}

/// An Atom text construct in an RSS item by its `type`: `text` plain,
/// `html` escaped HTML, `xhtml` the markup inside its `div`.
fn atom_text(inner: &str, kind: Option<&str>) -> Option<Text> {
    let text = match kind.map(str::trim) {
        Some("xhtml") => {
            let markup = inner.trim();
            let body = match (markup.find('>'), markup.rfind("</")) {
                (Some(open), Some(close)) if markup.starts_with("<div") && close > open => {
                    &markup[open + 1..close]
                }
                _ => markup,
            };
            Text::html(body.trim().to_string())
        }
        Some("html") | Some("text/html") => Text::html(text_of(inner)),
        _ => Text {
            body: text_of(inner),
            kind: TextKind::Plain,
        },
    };
    (!text.body.trim().is_empty()).then_some(text)
}

/// Whether a `guid` is a permalink: unless `isPermaLink="false"`.
fn is_permalink(e: &BytesStart<'_>) -> bool {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref().eq_ignore_ascii_case("isPermaLink"))
        .is_none_or(|a| !a.value.trim().eq_ignore_ascii_case("false"))
}

/// The text of an element's raw content: CDATA sections as they are,
/// references resolved, trimmed.
fn text_of(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(p) = rest.find("<![CDATA[") {
        out.push_str(&unescape(&rest[..p]));
        let tail = &rest[p + 9..];
        let end = tail.find("]]>").unwrap_or(tail.len());
        out.push_str(&tail[..end]);
        rest = tail.get(end + 3..).unwrap_or("");
    }
    out.push_str(&unescape(rest));
    out.trim().to_string()
}

/// Resolves XML references; text with others (HTML entities) is left as
/// it is for the HTML layer to read.
fn unescape(s: &str) -> String {
    quick_xml::escape::unescape(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dublin_core_and_body_fallbacks_are_collected_per_item() {
        let xml = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><channel>
            <dc:title>Feed</dc:title><dc:language>en</dc:language>
            <item><dc:title>A &amp; B</dc:title><dc:creator>Ann</dc:creator><dcterms:issued>2003-12-31T10:14:55Z</dcterms:issued>
              <body xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p></body><guid isPermaLink="false">x</guid></item>
            <item><fullitem>&lt;p&gt;Full&lt;/p&gt;</fullitem><guid>http://e.org/2</guid></item>
        </channel></rss>"#;
        let mut reader = FallbackReader::new(xml, Tz::UTC);
        super::super::side::read(xml, &mut [&mut reader]);
        let (feed, entries) = reader.finish();
        assert_eq!(feed.title.as_deref(), Some("Feed"));
        assert_eq!(feed.language.as_deref(), Some("en"));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].title.as_deref(), Some("A & B"));
        assert_eq!(entries[0].creators, vec!["Ann".to_string()]);
        assert!(entries[0].published[1].is_some());
        assert_eq!(entries[0].content.as_deref(), Some("<p>Hi</p>"));
        assert_eq!(entries[0].permalink, None);
        assert_eq!(entries[1].content.as_deref(), Some("<p>Full</p>"));
        assert_eq!(entries[1].permalink.as_deref(), Some("http://e.org/2"));
    }
}
