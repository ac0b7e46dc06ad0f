//! RSS 2.0 via the rss crate, with the content, Dublin Core and Atom
//! namespaces (the last needs the crate's `atom` feature).
//!
//! The crate escapes text and attributes and writes `description` and
//! `content:encoded` as CDATA, splitting any `]]>` across two sections; it
//! does not drop XML-illegal characters, so every string passes `xml_text`.
//! Namespaces are declared on `<rss>` automatically from the extensions used.

use ::rss::extension::atom::{AtomExtension, Link};
use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::{Category, Channel, Guid, Item, Source};
use chrono::{DateTime, Utc};

use super::{clamp_date, language_tag, source_label, utf8, xml_text};
use crate::model::{FeedDoc, Story};

/// Renders `doc` as an RSS 2.0 document.
pub(crate) fn render(doc: &FeedDoc) -> String {
    let channel = Channel {
        title: xml_text(&doc.title),
        link: xml_text(doc.home_url.as_deref().unwrap_or(&doc.self_url)),
        description: xml_text(&format!("Merged feed: {}", doc.title)),
        last_build_date: Some(rfc822(doc.updated)),
        // The channel's pubDate is its newest item's; absent when empty
        // rather than claiming the epoch.
        pub_date: doc.stories.iter().map(|s| s.published).max().map(rfc822),
        generator: Some(format!("feedmerge {}", env!("CARGO_PKG_VERSION"))),
        language: doc.shared_language().and_then(language_tag),
        atom_ext: Some(AtomExtension {
            links: [
                Some(("self", doc.self_url.as_str())),
                doc.next_url.as_deref().map(|u| ("next", u)),
                doc.hub_url.as_deref().map(|u| ("hub", u)),
            ]
            .into_iter()
            .flatten()
            .map(|(rel, href)| Link {
                href: xml_text(href),
                rel: rel.into(),
                mime_type: (rel != "hub").then(|| "application/rss+xml".into()),
                ..Link::default()
            })
            .collect(),
        }),
        items: doc.stories.iter().map(item).collect(),
        ..Channel::default()
    };
    let out = channel
        .write_to(Vec::new())
        .expect("writing RSS into a Vec<u8> cannot fail: no I/O, all text is &str");
    utf8(out)
}

fn item(story: &Story) -> Item {
    // description is what every reader shows: the summary when there is one,
    // else the full content; content:encoded only adds something when the
    // two differ.
    let (description, content) = match (&story.summary, &story.content) {
        (Some(summary), Some(content)) => (Some(summary), Some(content)),
        (Some(only), None) | (None, Some(only)) => (Some(only), None),
        (None, None) => (None, None),
    };
    let creators: Vec<String> = story
        .authors
        .iter()
        .filter(|name| !name.trim().is_empty())
        .map(|name| xml_text(name))
        .collect();

    Item {
        title: Some(xml_text(&story.title)),
        link: story.link.as_deref().map(xml_text),
        description: description.map(|d| xml_text(d)),
        content: content.map(|c| xml_text(c)),
        categories: story
            .categories
            .iter()
            .filter(|name| !name.trim().is_empty())
            .map(|name| Category::from(xml_text(name)))
            .collect(),
        // The id is a urn, not a URL a reader could open.
        guid: Some(Guid {
            value: xml_text(&story.id),
            permalink: false,
        }),
        pub_date: Some(rfc822(story.published)),
        // RSS allows one enclosure per item, with url, length and type all
        // required; 0 is the customary "length unknown".
        enclosure: story.enclosures.first().map(|e| ::rss::Enclosure {
            url: xml_text(&e.url),
            length: e.length.unwrap_or(0).to_string(),
            mime_type: xml_text(e.mime_type.as_deref().unwrap_or("application/octet-stream")),
        }),
        source: Some(Source {
            url: xml_text(&story.source.feed_url),
            title: Some(xml_text(source_label(&story.source))),
        }),
        // RSS <author> must be an e-mail address; names go in dc:creator.
        dublin_core_ext: (!creators.is_empty()).then(|| DublinCoreExtension {
            creators,
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    }
}

/// RFC 822 date as RSS 2.0 wants it (`Fri, 14 Mar 2025 09:30:00 +0000`).
fn rfc822(d: DateTime<Utc>) -> String {
    clamp_date(d).to_rfc2822()
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::export::tests::{assert_well_formed, doc_with, sample_doc, story_full};

    #[test]
    fn round_trips_through_feed_rs() {
        let doc = sample_doc();
        let xml = render(&doc);
        assert_well_formed(&xml);
        let feed = feed_rs::parser::parse(xml.as_bytes()).expect("feed-rs parses our RSS");

        assert_eq!(feed.feed_type, feed_rs::model::FeedType::RSS2);
        assert_eq!(
            feed.title.map(|t| t.content).as_deref(),
            Some(doc.title.as_str())
        );
        assert_eq!(feed.entries.len(), 2);
        for (entry, story) in feed.entries.iter().zip(&doc.stories) {
            assert_eq!(entry.id, story.id, "guid carries the id; order survives");
            assert_eq!(
                entry.title.as_ref().map(|t| t.content.as_str()),
                Some(story.title.as_str())
            );
            assert_eq!(entry.published, Some(story.published));
            let terms: Vec<_> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, story.categories);
            let links: Vec<_> = entry.links.iter().map(|l| l.href.as_str()).collect();
            assert_eq!(links, story.link.as_slice());
        }
        let full = &feed.entries[0];
        let names: Vec<_> = full
            .authors
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect();
        assert_eq!(names, ["Иван Петров", "Anna Smith"], "dc:creator");
        assert_eq!(
            full.summary.as_ref().map(|s| s.content.as_str()),
            story_full().summary.as_deref()
        );
        assert_eq!(
            full.content.as_ref().and_then(|c| c.body.as_deref()),
            story_full().content.as_deref()
        );
        // Without a summary, the content becomes the description.
        let sparse = &feed.entries[1];
        assert_eq!(
            sparse.summary.as_ref().map(|s| s.content.as_str()),
            doc.stories[1].content.as_deref()
        );
        assert!(sparse.content.is_none());
        assert!(sparse.authors.is_empty());
    }

    #[test]
    fn channel_self_link_sources_and_namespaces() {
        let doc = sample_doc();
        let xml = render(&doc);
        let channel = ::rss::Channel::read_from(xml.as_bytes()).expect("rss reads back");

        assert_eq!(channel.link, "https://feeds.example.org/");
        assert_eq!(channel.description, format!("Merged feed: {}", doc.title));
        assert_eq!(
            channel.last_build_date.as_deref(),
            Some("Fri, 14 Mar 2025 10:05:00 +0000")
        );
        assert_eq!(
            channel.pub_date.as_deref(),
            Some("Fri, 14 Mar 2025 09:30:00 +0000")
        );
        let atom = channel.atom_ext.as_ref().expect("atom:link");
        assert_eq!(atom.links[0].rel, "self");
        assert_eq!(atom.links[0].href, doc.self_url);
        assert_eq!(
            atom.links[0].mime_type.as_deref(),
            Some("application/rss+xml")
        );
        for ns in [
            r#"xmlns:atom="http://www.w3.org/2005/Atom""#,
            r#"xmlns:content="http://purl.org/rss/1.0/modules/content/""#,
            r#"xmlns:dc="http://purl.org/dc/elements/1.1/""#,
        ] {
            assert!(xml.contains(ns), "{ns} declared");
        }

        let sources: Vec<_> = channel
            .items
            .iter()
            .map(|i| {
                i.source
                    .as_ref()
                    .map(|s| (s.url.as_str(), s.title.as_deref()))
            })
            .collect();
        assert_eq!(
            sources,
            [
                Some(("https://a.example.ru/rss.xml?x=1&y=2", Some("Новости А"))),
                Some(("https://b.example.com/atom", Some("wire-b"))),
            ]
        );
    }

    #[test]
    fn guids_are_not_permalinks() {
        let xml = render(&sample_doc());
        let channel = ::rss::Channel::read_from(xml.as_bytes()).expect("rss reads back");
        assert!(
            channel
                .items
                .iter()
                .all(|i| i.guid.as_ref().is_some_and(|g| !g.permalink))
        );
        assert_eq!(xml.matches("<guid").count(), 2);
        assert_eq!(xml.matches(r#"<guid isPermaLink="false">"#).count(), 2);
    }

    #[test]
    fn empty_feed_falls_back_to_self_url_and_omits_pub_date() {
        let mut doc = doc_with(vec![]);
        doc.home_url = None;
        let xml = render(&doc);
        assert_well_formed(&xml);
        let channel = ::rss::Channel::read_from(xml.as_bytes()).expect("rss reads back");
        assert_eq!(channel.link, doc.self_url);
        assert!(channel.pub_date.is_none());
    }
}
