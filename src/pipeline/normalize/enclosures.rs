//! Enclosures: the media a story carries (podcast audio, images), as the
//! parsed entry lists them (Atom `link rel="enclosure"`, RSS `<enclosure>`,
//! Media RSS `media:content`), made absolute and trimmed to a few.

use crate::model::Enclosure;
use crate::model::parsed::ParsedEntry;
use url::Url;

/// More than this is a gallery, not an attachment; readers show a few.
const MAX_ENCLOSURES: usize = 16;

/// The entry's enclosures, absolute http(s) URLs only, first occurrence of
/// each URL kept.
pub(super) fn of_entry(entry: &ParsedEntry, base: Option<&Url>) -> Vec<Enclosure> {
    let mut out: Vec<Enclosure> = Vec::new();
    for given in &entry.enclosures {
        let Some(url) = absolute(&given.url, base) else {
            continue;
        };
        if out.len() < MAX_ENCLOSURES && !out.iter().any(|e| e.url == url) {
            out.push(Enclosure {
                url,
                mime_type: given.media_type.clone().filter(|t| t.contains('/')),
                length: given.length.filter(|&n| n > 0),
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
    use crate::model::parsed::{Enclosure as Given, ParsedEntry};

    fn entry(enclosures: &[(&str, Option<&str>, Option<u64>)]) -> ParsedEntry {
        ParsedEntry {
            enclosures: enclosures
                .iter()
                .map(|&(url, t, length)| Given {
                    url: url.into(),
                    media_type: t.map(str::to_string),
                    length,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn enclosures_resolve_and_keep_their_type_and_size() {
        let e = of_entry(
            &entry(&[("https://x.org/ep1.mp3", Some("audio/mpeg"), Some(12345))]),
            None,
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].url, "https://x.org/ep1.mp3");
        assert_eq!(e[0].mime_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(e[0].length, Some(12345));

        let base = url::Url::parse("https://y.org/feed").ok();
        let e = of_entry(
            &entry(&[
                ("/img.jpg", Some("image/jpeg"), Some(99)),
                ("/img.jpg", None, None),
                ("ftp://y.org/x", None, None),
                ("/b.png", Some("png"), Some(0)),
            ]),
            base.as_ref(),
        );
        assert_eq!(e[0].url, "https://y.org/img.jpg");
        assert_eq!(e[0].length, Some(99));
        assert_eq!(e.len(), 2, "a repeated URL and a non-http one are left out");
        assert_eq!((e[1].mime_type.as_deref(), e[1].length), (None, None));
    }
}
