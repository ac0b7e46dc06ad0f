//! When a source URL serves a web page instead of a feed, the page usually
//! names its feed in `<link rel="alternate" type="application/rss+xml">`;
//! finding it turns "not a feed" into an error the operator can act on.

use url::Url;

/// The first RSS/Atom/JSON feed a page advertises, as an absolute URL.
pub fn alternate_feed(html: &[u8], base: &str) -> Option<String> {
    // Feeds are announced in <head>; the first 256 KiB is plenty.
    let head = String::from_utf8_lossy(&html[..html.len().min(256 * 1024)]);
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<link") {
        let start = from + at;
        let end = lower[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(lower.len());
        let tag = &head[start..end];
        let tag_lower = &lower[start..end];
        from = end;
        let is_alternate = attr(tag, tag_lower, "rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|w| w.eq_ignore_ascii_case("alternate"))
        });
        let is_feed = attr(tag, tag_lower, "type").is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("rss+xml") || t.contains("atom+xml") || t.contains("feed+json")
        });
        if is_alternate
            && is_feed
            && let Some(href) = attr(tag, tag_lower, "href")
        {
            return Url::parse(base)
                .ok()?
                .join(href.trim())
                .ok()
                .map(String::from);
        }
    }
    None
}

/// Value of attribute `name` in a tag (quoted with " or ', or bare).
fn attr<'a>(tag: &'a str, tag_lower: &str, name: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(at) = tag_lower[from..].find(name) {
        let i = from + at;
        from = i + name.len();
        let before_ok = i > 0 && tag_lower.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = tag_lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let offset = tag.len() - value.len();
        return match value.chars().next()? {
            q @ ('"' | '\'') => {
                let close = value[1..].find(q)?;
                Some(&tag[offset + 1..offset + 1 + close])
            }
            _ => {
                let end = value
                    .find(|c: char| c.is_ascii_whitespace())
                    .unwrap_or(value.len());
                // `href=x/>` closes the tag; the slash is not the value's.
                Some(tag[offset..offset + end].trim_end_matches('/'))
            }
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::alternate_feed;

    #[test]
    fn finds_the_advertised_feed() {
        let page = br#"<!DOCTYPE html><html><head><link rel="stylesheet" href="/s.css">
            <LINK REL="alternate" TYPE="application/rss+xml" title="RSS" href="/rss/all.xml"></head></html>"#;
        assert_eq!(
            alternate_feed(page, "https://news.example.az/index.html").as_deref(),
            Some("https://news.example.az/rss/all.xml")
        );
    }

    #[test]
    fn ignores_pages_without_one() {
        let page = br#"<html><head><link rel="alternate" hreflang="ru" href="/ru/"></head></html>"#;
        assert_eq!(alternate_feed(page, "https://e.org/"), None);
        assert_eq!(alternate_feed(b"", "https://e.org/"), None);
    }

    #[test]
    fn bare_attribute_values_work() {
        let page = b"<link rel=alternate type=application/atom+xml href=https://e.org/feed.atom>";
        assert_eq!(
            alternate_feed(page, "https://e.org/").as_deref(),
            Some("https://e.org/feed.atom")
        );
    }
}
