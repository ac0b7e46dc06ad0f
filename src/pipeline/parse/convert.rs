//! feed-rs's model to ours, once per document. feed-rs's values are moved,
//! not copied: titles and content are the bulk of a document's memory.

use super::NO_ID;
use super::rss1::NO_LINK;
use crate::model::parsed::{
    Category, Enclosure, Link, MAX_AUTHORS, MAX_CATEGORIES, MAX_ENCLOSURES, MAX_LINKS, ParsedEntry,
    ParsedFeed, Person, SourceFormat, Text, TextKind,
};
use feed_rs::model as fr;

/// The document's format by feed-rs's reading.
pub(super) fn format_of(feed: &fr::Feed) -> SourceFormat {
    match feed.feed_type {
        fr::FeedType::Atom => SourceFormat::Atom,
        fr::FeedType::JSON => SourceFormat::Json,
        fr::FeedType::RSS0 | fr::FeedType::RSS1 | fr::FeedType::RSS2 => SourceFormat::Rss,
    }
}

/// Converts a whole document. `placeholders` says whether RSS 1.0 items
/// were given [`NO_LINK`] links, which are dropped again here.
pub(super) fn feed(feed: fr::Feed, placeholders: bool) -> ParsedFeed {
    let format = format_of(&feed);
    // RFC 4287 §4.2.1: an Atom entry without an author has its feed's.
    // (RSS's channel people, `managingEditor`, are not the items' authors.)
    let inherited: Vec<Person> = match format {
        SourceFormat::Atom => feed
            .authors
            .into_iter()
            .take(MAX_AUTHORS)
            .map(person)
            .collect(),
        _ => Vec::new(),
    };
    let mut parsed = ParsedFeed {
        format,
        title: feed.title.map(text),
        links: feed.links.into_iter().map(link).collect(),
        language: feed.language,
        ttl: feed.ttl,
        entries: feed
            .entries
            .into_iter()
            .map(|e| entry(e, placeholders))
            .collect(),
        ..ParsedFeed::new(SourceFormat::Rss)
    };
    if !inherited.is_empty() {
        for e in parsed.entries.iter_mut().filter(|e| e.authors.is_empty()) {
            e.authors.clone_from(&inherited);
        }
    }
    // feed-rs marks RSS titles plain text; RSS has no text type, and its
    // titles carry HTML (`A &lt;b&gt;bold&lt;/b&gt; move`) as often as not.
    if format == SourceFormat::Rss {
        let titles = parsed
            .title
            .iter_mut()
            .chain(parsed.entries.iter_mut().filter_map(|e| e.title.as_mut()));
        for t in titles {
            t.kind = TextKind::Html;
        }
    }
    parsed
}

fn entry(e: fr::Entry, placeholders: bool) -> ParsedEntry {
    let mut links = e.links;
    if placeholders {
        links.retain(|l| l.href != NO_LINK);
    }
    // Alternates and other links are capped apart, so 100,000 `enclosure`
    // links before it cannot push the page's own link out.
    let (mut alternates, mut others) = (0usize, 0usize);
    links.retain(|l| {
        let n = match l.rel.as_deref() {
            None | Some("alternate") => &mut alternates,
            _ => &mut others,
        };
        *n += 1;
        *n <= MAX_LINKS
    });
    // Before the links are converted: only these carry a length.
    let enclosures = enclosures(&links, &e.media);
    ParsedEntry {
        // Our id generator's marker: the entry had no id of its own.
        id: Some(e.id).filter(|id| id != NO_ID),
        title: e.title.map(text),
        links: links.into_iter().map(link).collect(),
        summary: e.summary.map(text),
        // Content given only by reference (Atom `src`) has no body to show.
        content: e.content.and_then(content),
        content_base: None,
        authors: e
            .authors
            .into_iter()
            .take(MAX_AUTHORS)
            .map(person)
            .collect(),
        categories: e
            .categories
            .into_iter()
            .take(MAX_CATEGORIES)
            .map(category)
            .collect(),
        published: e.published,
        updated: e.updated,
        language: e.language,
        enclosures,
    }
}

/// Atom `type="text"` is plain text; everything else (HTML, XHTML, and the
/// types other formats never set) is read as HTML.
fn kind_of(essence: String) -> TextKind {
    if essence == "text/plain" {
        TextKind::Plain
    } else {
        TextKind::Html
    }
}

fn text(t: fr::Text) -> Text {
    let essence = t.content_type.essence().to_string();
    Text {
        body: unwrap_escaped_div(&essence, t.content),
        kind: kind_of(essence),
    }
}

fn content(c: fr::Content) -> Option<Text> {
    let essence = c.content_type.essence().to_string();
    Some(Text {
        body: unwrap_escaped_div(&essence, c.body?),
        kind: kind_of(essence),
    })
}

/// The escaped HTML inside an XHTML `<div>` that an element declared as
/// HTML holds (TypePad wrote `<content type="html"><div
/// xmlns="http://www.w3.org/1999/xhtml">Example &lt;b&gt;…</div>`): the
/// div is the wrapper an `xhtml` construct would have, and its text is the
/// HTML, which feedparser reads too. Anything else (markup inside the div,
/// another element, `type="xhtml"`) is left as it is.
fn unwrap_escaped_div(essence: &str, body: String) -> String {
    const XHTML: &str = "http://www.w3.org/1999/xhtml";
    if essence != "text/html" || !body.trim_start().starts_with("<div") {
        return body;
    }
    let trimmed = body.trim();
    let inner = trimmed
        .find('>')
        .filter(|&open| trimmed[..open].contains(XHTML))
        .and_then(|open| trimmed[open + 1..].strip_suffix("</div>"))
        .filter(|inner| !inner.contains('<'));
    match inner {
        Some(inner) => crate::model::text::decode_entities(inner).into_owned(),
        None => body,
    }
}

fn link(l: fr::Link) -> Link {
    Link {
        href: l.href,
        rel: l.rel,
        media_type: l.media_type,
    }
}

fn person(p: fr::Person) -> Person {
    Person {
        name: p.name,
        email: p.email,
        uri: p.uri,
    }
}

fn category(c: fr::Category) -> Category {
    Category {
        term: c.term,
        label: c.label,
        scheme: c.scheme,
    }
}

/// Atom `link rel="enclosure"`, then the media feed-rs gathers (RSS
/// `<enclosure>`, Media RSS `media:content`), in that order.
fn enclosures(links: &[fr::Link], media: &[fr::MediaObject]) -> Vec<Enclosure> {
    let from_links = links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
        .map(|l| Enclosure {
            url: l.href.clone(),
            media_type: l.media_type.clone(),
            length: l.length,
        });
    let from_media = media.iter().flat_map(|m| &m.content).filter_map(|c| {
        Some(Enclosure {
            url: c.url.as_ref()?.as_str().to_string(),
            media_type: c.content_type.as_ref().map(|t| t.to_string()),
            length: c.size,
        })
    });
    from_links.chain(from_media).take(MAX_ENCLOSURES).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(xml: &[u8]) -> ParsedFeed {
        feed(feed_rs::parser::parse(xml).expect("parses"), false)
    }

    #[test]
    fn rss_enclosure_and_atom_enclosure_link_become_enclosures() {
        let rss = br#"<rss version="2.0"><channel><title>t</title><link>https://x.org/</link><description>d</description>
            <item><title>ep</title><link>https://x.org/1</link>
            <enclosure url="https://x.org/ep1.mp3" length="12345" type="audio/mpeg"/></item></channel></rss>"#;
        let e = &parsed(rss).entries[0].enclosures;
        assert_eq!(
            e,
            &[Enclosure {
                url: "https://x.org/ep1.mp3".into(),
                media_type: Some("audio/mpeg".into()),
                length: Some(12345)
            }]
        );

        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>
            <entry><title>e</title><id>urn:e</id><updated>2024-01-01T00:00:00Z</updated>
            <link rel="enclosure" href="/img.jpg" type="image/jpeg" length="99"/></entry></feed>"#;
        let entry = &parsed(atom).entries[0];
        assert_eq!(entry.enclosures[0].url, "/img.jpg");
        assert_eq!(entry.enclosures[0].length, Some(99));
        // The link stays a link too: it is the entry's only one.
        assert_eq!(entry.links[0].rel.as_deref(), Some("enclosure"));
    }

    #[test]
    fn escaped_html_in_an_xhtml_div_of_html_content_is_the_html() {
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
            <entry><id>urn:e</id><content type="html"><div xmlns="http://www.w3.org/1999/xhtml">Example &lt;b&gt;Atom&lt;/b&gt;</div></content>
            <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">a &lt;b&gt; c</div></summary></entry></feed>"#;
        let entry = &parsed(atom).entries[0];
        let body = |t: &Option<Text>| t.as_ref().map(|t| t.body.clone()).unwrap_or_default();
        assert_eq!(body(&entry.content), "Example <b>Atom</b>");
        // An xhtml construct's text is text: its escapes stay escapes.
        assert!(
            body(&entry.summary).contains("&lt;b"),
            "{:?}",
            entry.summary
        );
    }

    #[test]
    fn text_kinds_follow_the_atom_type() {
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">a &lt; b</title><id>urn:x</id>
            <entry><id>urn:e</id><title type="html">&lt;b&gt;x&lt;/b&gt;</title><content src="https://e.org/x"/></entry></feed>"#;
        let feed = parsed(atom);
        assert_eq!(
            feed.title,
            Some(Text {
                body: "a < b".into(),
                kind: TextKind::Plain
            })
        );
        let entry = &feed.entries[0];
        assert_eq!(entry.title.as_ref().map(|t| t.kind), Some(TextKind::Html));
        assert_eq!(entry.content, None, "content by reference has no body");
        assert_eq!(entry.id.as_deref(), Some("urn:e"));
    }
}
