//! Atom 1.0 (RFC 4287) via atom_syndication.
//!
//! atom_syndication escapes text and attribute values itself; what it does
//! not do is drop XML-illegal characters or keep dates in range, so every
//! string goes through `xml_text` and every date through `clamp_date`.

use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Source, Text,
};
use chrono::{DateTime, Utc};

use super::{clamp_date, language_tag, source_label, utf8, xml_text};
use crate::model::{FeedDoc, SourceRef, Story};

/// Renders `doc` as an Atom 1.0 document.
pub(crate) fn render(doc: &FeedDoc) -> String {
    let mut links = vec![link("self", &doc.self_url, Some("application/atom+xml"))];
    if let Some(home) = &doc.home_url {
        links.push(link("alternate", home, Some("text/html")));
    }
    if let Some(next) = &doc.next_url {
        links.push(link("next", next, Some("application/atom+xml")));
    }
    if let Some(hub) = &doc.hub_url {
        links.push(link("hub", hub, None));
    }
    let feed = Feed {
        lang: doc.shared_language().and_then(language_tag),
        title: Text::plain(xml_text(&doc.title)),
        id: xml_text(&doc.id),
        // Set explicitly: the crate's default is the epoch.
        updated: date(doc.updated),
        links,
        generator: Some(Generator {
            value: "feedmerge".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        entries: doc.stories.iter().map(entry).collect(),
        ..Feed::default()
    };
    let out = feed
        .write_to(Vec::new())
        .expect("writing Atom into a Vec<u8> cannot fail: no I/O, all text is &str");
    utf8(out)
}

fn entry(story: &Story) -> Entry {
    let lang = story.language.as_deref().and_then(language_tag);
    // atom:entry has no xml:lang field in atom_syndication, so the language
    // goes on the text constructs that carry words.
    let text = |value: &str, html: bool| Text {
        lang: lang.clone(),
        ..if html {
            Text::html(xml_text(value))
        } else {
            Text::plain(xml_text(value))
        }
    };
    let html_content = |value: &str| Content {
        lang: lang.clone(),
        value: Some(xml_text(value)),
        content_type: Some("html".into()),
        ..Content::default()
    };

    let mut links = Vec::new();
    if let Some(href) = &story.link {
        links.push(link("alternate", href, None));
    }
    for e in &story.enclosures {
        links.push(Link {
            length: e.length.map(|n| n.to_string()),
            ..link("enclosure", &e.url, e.mime_type.as_deref())
        });
    }
    // Other outlets' reports of the same event (`[clustering]`).
    for href in story.related.iter().filter_map(|r| r.link.as_deref()) {
        links.push(link("related", href, None));
    }

    // RFC 4287 §4.1.1: an entry without an alternate link MUST have content.
    // Fall back to the summary, else an empty html body.
    let content = match (&story.content, &story.link) {
        (Some(body), _) => Some(html_content(body)),
        (None, Some(_)) => None,
        (None, None) => Some(html_content(story.summary.as_deref().unwrap_or(""))),
    };

    let mut authors: Vec<Person> = story
        .authors
        .iter()
        .filter(|name| !name.trim().is_empty())
        .map(|name| person(name))
        .collect();
    if authors.is_empty() {
        // Every entry needs an author (the feed has none of its own to
        // inherit); the source is the most honest stand-in.
        authors.push(person(source_label(&story.source)));
    }

    Entry {
        title: text(&story.title, false),
        id: xml_text(&story.id),
        updated: date(story.updated),
        published: Some(date(story.published)),
        authors,
        categories: story
            .categories
            .iter()
            .filter(|term| !term.trim().is_empty())
            .map(|term| Category {
                term: xml_text(term),
                ..Category::default()
            })
            .collect(),
        links,
        source: Some(source(&story.source, story.updated)),
        summary: story.summary.as_deref().map(|s| text(s, true)),
        content,
        ..Entry::default()
    }
}

/// atom:source for the feed the story came from.
fn source(src: &SourceRef, story_updated: DateTime<Utc>) -> Source {
    let mut links = vec![link("self", &src.feed_url, None)];
    if let Some(site) = &src.site_url {
        links.push(link("alternate", site, None));
    }
    Source {
        title: Text::plain(xml_text(source_label(src))),
        id: xml_text(&src.feed_url),
        // The writer always emits atom:source/updated and the model does not
        // keep the source feed's own date; the story's last change is the
        // latest moment we know that feed to have been current.
        updated: date(story_updated),
        links,
        ..Source::default()
    }
}

fn link(rel: &str, href: &str, mime_type: Option<&str>) -> Link {
    Link {
        href: xml_text(href),
        rel: rel.into(),
        mime_type: mime_type.map(Into::into),
        ..Link::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: xml_text(name),
        ..Person::default()
    }
}

fn date(d: DateTime<Utc>) -> FixedDateTime {
    clamp_date(d).fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::export::tests::{assert_entries_match, assert_well_formed, sample_doc, story_full};

    fn parsed(xml: &str) -> feed_rs::model::Feed {
        feed_rs::parser::parse(xml.as_bytes()).expect("feed-rs parses our Atom")
    }

    #[test]
    fn round_trips_through_feed_rs() {
        let doc = sample_doc();
        let xml = render(&doc);
        assert_well_formed(&xml);
        let feed = parsed(&xml);

        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(feed.id, doc.id);
        assert_eq!(
            feed.title.as_ref().map(|t| t.content.as_str()),
            Some(doc.title.as_str())
        );
        assert_eq!(feed.updated, Some(doc.updated));
        assert_eq!(feed.entries.len(), 2);
        assert_entries_match(&feed, &doc, |l| l.rel.as_deref() != Some("enclosure"));
        let full = &feed.entries[0];
        assert_eq!(
            full.summary.as_ref().map(|s| s.content.as_str()),
            story_full().summary.as_deref()
        );
        assert_eq!(
            full.content.as_ref().and_then(|c| c.body.as_deref()),
            story_full().content.as_deref()
        );
        let names: Vec<_> = full
            .authors
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect();
        assert_eq!(names, ["Иван Петров", "Anna Smith"]);
    }

    #[test]
    fn feed_links_generator_and_sources() {
        let doc = sample_doc();
        let xml = render(&doc);
        let feed = atom_syndication::Feed::read_from(xml.as_bytes()).expect("atom reads back");

        let self_link = feed
            .links
            .iter()
            .find(|l| l.rel == "self")
            .expect("self link");
        assert_eq!(self_link.href, doc.self_url);
        assert_eq!(self_link.mime_type.as_deref(), Some("application/atom+xml"));
        assert!(
            feed.links
                .iter()
                .any(|l| l.rel == "alternate" && l.href == "https://feeds.example.org/")
        );
        let generator = feed.generator.expect("generator");
        assert_eq!(generator.value, "feedmerge");
        assert_eq!(
            generator.version.as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );

        let a = feed.entries[0]
            .source
            .as_ref()
            .expect("atom:source on entry 1");
        assert_eq!(a.id, "https://a.example.ru/rss.xml?x=1&y=2");
        assert_eq!(a.title.value, "Новости А");
        let rels: Vec<_> = a
            .links
            .iter()
            .map(|l| (l.rel.as_str(), l.href.as_str()))
            .collect();
        assert_eq!(
            rels,
            [
                ("self", "https://a.example.ru/rss.xml?x=1&y=2"),
                ("alternate", "https://a.example.ru/")
            ]
        );
        let b = feed.entries[1]
            .source
            .as_ref()
            .expect("atom:source on entry 2");
        assert_eq!(b.title.value, "wire-b", "falls back to the source name");
        assert_eq!(b.links.len(), 1, "no alternate link without a site_url");
        let full = &feed.entries[0];
        let summary_type = full.summary.as_ref().map(|s| s.r#type);
        assert_eq!(summary_type, Some(atom_syndication::TextType::Html));
        let content_type = full
            .content
            .as_ref()
            .and_then(|c| c.content_type.as_deref());
        assert_eq!(content_type, Some("html"));
        assert!(
            xml.contains(r#"<title xml:lang="ru">"#),
            "story language reaches xml:lang"
        );
    }

    #[test]
    fn every_entry_has_an_author() {
        let feed = atom_syndication::Feed::read_from(render(&sample_doc()).as_bytes())
            .expect("atom reads back");
        assert!(feed.entries.iter().all(|e| !e.authors.is_empty()));
        assert_eq!(feed.entries[1].authors[0].name, "wire-b");

        let mut doc = sample_doc();
        doc.stories[1].source.title = Some("Лента Б".into());
        let feed = atom_syndication::Feed::read_from(render(&doc).as_bytes()).expect("reads");
        assert_eq!(
            feed.entries[1].authors[0].name, "Лента Б",
            "source title preferred"
        );
    }

    #[test]
    fn entry_without_link_or_content_still_has_content() {
        let mut doc = sample_doc();
        doc.stories[1].content = None;
        let feed = atom_syndication::Feed::read_from(render(&doc).as_bytes()).expect("reads");
        let content = feed.entries[1]
            .content
            .as_ref()
            .expect("content for RFC 4287 §4.1.1");
        assert_eq!(content.content_type.as_deref(), Some("html"));
        // With a link, no empty content is invented.
        doc.stories[0].content = None;
        let feed = atom_syndication::Feed::read_from(render(&doc).as_bytes()).expect("reads");
        assert!(feed.entries[0].content.is_none());
    }
}
