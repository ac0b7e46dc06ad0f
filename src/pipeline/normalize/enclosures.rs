//! Enclosures: the media a story carries (podcast audio, images), from
//! Atom `link rel="enclosure"` and from what feed-rs gathers as media
//! objects (RSS `<enclosure>`, Media RSS `media:content`).

use crate::model::Enclosure;
use feed_rs::model::Entry;
use url::Url;

/// More than this is a gallery, not an attachment; readers show a few.
const MAX_ENCLOSURES: usize = 16;

/// The entry's enclosures, absolute http(s) URLs only, first occurrence of
/// each URL kept.
pub(super) fn of_entry(entry: &Entry, base: Option<&Url>) -> Vec<Enclosure> {
    let from_links = entry
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
        .map(|l| (l.href.as_str(), l.media_type.clone(), l.length));
    let from_media = entry.media.iter().flat_map(|m| &m.content).filter_map(|c| {
        let url = c.url.as_ref()?;
        Some((
            url.as_str(),
            c.content_type.as_ref().map(|t| t.to_string()),
            c.size,
        ))
    });
    let mut out: Vec<Enclosure> = Vec::new();
    for (href, mime_type, length) in from_links.chain(from_media) {
        let Some(url) = absolute(href, base) else {
            continue;
        };
        if out.len() < MAX_ENCLOSURES && !out.iter().any(|e| e.url == url) {
            out.push(Enclosure {
                url,
                mime_type: mime_type.filter(|t| t.contains('/')),
                length: length.filter(|&n| n > 0),
            });
        }
    }
    out
}

fn absolute(href: &str, base: Option<&Url>) -> Option<String> {
    let url = match Url::parse(href.trim()) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href.trim()).ok()?,
        Err(_) => return None,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.into())
}

#[cfg(test)]
mod tests {
    use super::of_entry;

    #[test]
    fn rss_enclosure_and_atom_enclosure_link() {
        let rss = br#"<rss version="2.0"><channel><title>t</title><link>https://x.org/</link><description>d</description>
            <item><title>ep</title><link>https://x.org/1</link>
            <enclosure url="https://x.org/ep1.mp3" length="12345" type="audio/mpeg"/></item></channel></rss>"#;
        let feed = feed_rs::parser::parse(&rss[..]).expect("parses");
        let e = of_entry(&feed.entries[0], None);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].url, "https://x.org/ep1.mp3");
        assert_eq!(e[0].mime_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(e[0].length, Some(12345));

        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>
            <entry><title>e</title><id>urn:e</id><updated>2024-01-01T00:00:00Z</updated>
            <link rel="enclosure" href="/img.jpg" type="image/jpeg" length="99"/></entry></feed>"#;
        let feed = feed_rs::parser::parse(&atom[..]).expect("parses");
        let base = url::Url::parse("https://y.org/feed").ok();
        let e = of_entry(&feed.entries[0], base.as_ref());
        assert_eq!(e[0].url, "https://y.org/img.jpg");
        assert_eq!(e[0].length, Some(99));
    }
}
