//! A side pass for RSS elements feed-rs does not read, kept as fallbacks
//! that normalize applies where feed-rs left a field empty: Dublin Core
//! (`dc:title`, `dc:creator`/`dc:author`, `dc:description`, `dc:language`)
//! and DCMI terms dates (`dcterms:issued`/`created`/`modified`), full
//! content given as `body`/`xhtml:body` or `fullitem`, an RSS `summary`
//! element, a permalink `guid` and RSS 1.0's `rdf:about`. Entries are matched
//! to feed-rs's by document order.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Channel-level fallbacks.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FeedFallbacks {
    /// `dc:title`.
    pub title: Option<String>,
    /// `dc:language`.
    pub language: Option<String>,
}

/// Per-entry fallbacks.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EntryFallbacks {
    /// `dc:title`.
    pub title: Option<String>,
    /// `dc:creator` or `dc:author`.
    pub author: Option<String>,
    /// `dc:description` (plain text or HTML, as RSS descriptions are), or
    /// a `description` given as unescaped markup.
    pub description: Option<String>,
    /// `dc:language`.
    pub language: Option<String>,
    /// `dcterms:issued` or `dcterms:created`.
    pub published: Option<DateTime<Utc>>,
    /// `dcterms:modified`.
    pub updated: Option<DateTime<Utc>>,
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

/// Whether the document may hold anything this pass collects; checked
/// before any XML is read.
fn worth_reading(text: &str) -> bool {
    [
        "dc:",
        "dcterms:",
        "body",
        "<fullitem",
        "<summary",
        "<guid",
        "rdf:about",
    ]
    .iter()
    .any(|n| super::contains(text, n))
}

/// Collects the fallbacks of the channel and of each entry, in document
/// order. Entries are empty vectors when the document has nothing to offer.
pub fn collect(text: &str, zone: Tz) -> (FeedFallbacks, Vec<EntryFallbacks>) {
    let mut feed = FeedFallbacks::default();
    let mut entries: Vec<EntryFallbacks> = Vec::new();
    if !worth_reading(text) {
        return (feed, entries);
    }
    let mut reader = Reader::from_str(text);
    // Local names of the open elements, and the depth of the open entry.
    let mut stack: Vec<String> = Vec::new();
    let mut entry_depth: Option<usize> = None;
    let mut seen_description = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qname = e.name().as_ref().to_string();
                let local = qname.rsplit(':').next().unwrap_or(&qname).to_string();
                let depth = stack.len();
                if entry_depth.is_none() && matches!(local.as_str(), "item" | "entry") {
                    let about = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == "rdf:about")
                        .map(|a| unescape(&a.value).trim().to_string())
                        .filter(|s| !s.is_empty());
                    let fb = EntryFallbacks {
                        about,
                        ..Default::default()
                    };
                    entries.push(fb);
                    entry_depth = Some(depth);
                    seen_description = false;
                    stack.push(local);
                    continue;
                }
                let in_entry_child = entry_depth.is_some_and(|d| depth == d + 1);
                let in_channel =
                    entry_depth.is_none() && stack.last().is_some_and(|p| p == "channel");
                if !(in_entry_child || in_channel) {
                    stack.push(local);
                    continue;
                }
                let permalink = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref().eq_ignore_ascii_case("isPermaLink"))
                    .is_none_or(|a| !a.value.trim().eq_ignore_ascii_case("false"));
                let end = e.to_end().into_owned();
                let Ok(span) = reader.read_to_end(end.name()) else {
                    break;
                };
                let inner = &text[span.start as usize..span.end as usize];
                let value = || Some(text_of(inner)).filter(|s| !s.is_empty());
                if in_channel {
                    match qname.as_str() {
                        "dc:title" => feed.title = feed.title.take().or_else(value),
                        "dc:language" => feed.language = feed.language.take().or_else(value),
                        _ => {}
                    }
                    continue;
                }
                let Some(fb) = entries.last_mut() else {
                    continue;
                };
                let date = || value().and_then(|v| super::dates::parse_date(&v, zone));
                match qname.as_str() {
                    "dc:title" => fb.title = fb.title.take().or_else(value),
                    "dc:creator" | "dc:author" => fb.author = fb.author.take().or_else(value),
                    "dc:description" => fb.description = fb.description.take().or_else(value),
                    "dc:language" => fb.language = fb.language.take().or_else(value),
                    "dcterms:issued" | "dcterms:created" => {
                        fb.published = fb.published.or_else(date)
                    }
                    "dcterms:modified" => fb.updated = fb.updated.or_else(date),
                    "fullitem" => fb.content = fb.content.take().or_else(value),
                    "description" => {
                        seen_description = true;
                        // Markup left unescaped, which feed-rs reads as no
                        // description at all.
                        if fb.description.is_none() && super::repair::has_child_element(inner) {
                            fb.description = Some(inner.trim().to_string());
                        }
                    }
                    "summary" if fb.rss_summary.is_none() => {
                        fb.rss_summary = value().map(|v| (v, !seen_description));
                    }
                    "guid" if permalink => fb.permalink = fb.permalink.take().or_else(value),
                    _ if local == "body" => {
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
            Ok(Event::End(_)) => {
                stack.pop();
                if entry_depth == Some(stack.len()) {
                    entry_depth = None;
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    (feed, entries)
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
        let (feed, entries) = collect(xml, Tz::UTC);
        assert_eq!(feed.title.as_deref(), Some("Feed"));
        assert_eq!(feed.language.as_deref(), Some("en"));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].title.as_deref(), Some("A & B"));
        assert_eq!(entries[0].author.as_deref(), Some("Ann"));
        assert!(entries[0].published.is_some());
        assert_eq!(entries[0].content.as_deref(), Some("<p>Hi</p>"));
        assert_eq!(entries[0].permalink, None);
        assert_eq!(entries[1].content.as_deref(), Some("<p>Full</p>"));
        assert_eq!(entries[1].permalink.as_deref(), Some("http://e.org/2"));
    }
}

/// The href of the placeholder link [`rss1_placeholder_links`] adds; removed
/// again right after feed-rs has read the document.
pub const NO_LINK: &str = "urn:x-feedmerge:no-link";

/// Gives every RSS 1.0 `item` without a `link` a placeholder one: feed-rs
/// drops such items, which would lose them and misalign every per-entry
/// side pass. `None` when the document is not RSS 1.0 or needs none.
pub fn rss1_placeholder_links(text: &str) -> Option<String> {
    if !super::contains(text, "http://purl.org/rss/1.0/") {
        return None;
    }
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    // The open item: its depth, qualified-name prefix, and whether it has a link.
    let mut item: Option<(usize, String, bool)> = None;
    let mut inserts: Vec<(usize, String)> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qname = e.name().as_ref().to_string();
                let (prefix, local) = match qname.rsplit_once(':') {
                    Some((p, l)) => (format!("{p}:"), l.to_string()),
                    None => (String::new(), qname.clone()),
                };
                if item.is_none() && local == "item" {
                    item = Some((stack.len(), prefix, false));
                } else if let Some((d, p, has)) = item.as_mut()
                    && stack.len() == *d + 1
                    && local == "link"
                    && prefix == *p
                {
                    *has = true;
                }
                stack.push(local);
            }
            Ok(Event::End(_)) => {
                stack.pop();
                if let Some((d, p, has)) = &item
                    && stack.len() == *d
                {
                    if !has {
                        inserts.push((before, format!("<{p}link>{NO_LINK}</{p}link>")));
                    }
                    item = None;
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if inserts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + inserts.len() * 48);
    let mut at = 0;
    for (pos, s) in inserts {
        out.push_str(&text[at..pos]);
        out.push_str(&s);
        at = pos;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod rss1_tests {
    use super::*;

    #[test]
    fn rss1_items_without_link_get_a_placeholder() {
        let x = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item rdf:about="a"><title>t</title></item><item><link>http://e/</link></item></rdf:RDF>"#;
        let out = rss1_placeholder_links(x).expect("one added");
        assert!(
            out.contains(&format!("<title>t</title><link>{NO_LINK}</link></item>")),
            "{out}"
        );
        assert_eq!(out.matches("<link>").count(), 2);
    }
}
