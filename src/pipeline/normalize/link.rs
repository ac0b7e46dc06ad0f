//! Canonical links: the cross-source identity of a story, so the same URL
//! must come out the same however a feed decorated it.

use url::{Position, Url};

/// Query parameters that only track the click, never select content.
fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_")
        || matches!(lower.as_str(), "fbclid" | "gclid" | "yclid" | "_openstat")
}

/// Canonical form of an absolute http(s) link: lowercase scheme and host
/// (the `url` crate does both), no fragment, no default port, no tracking
/// parameters. Relative links are resolved against `base` first. Returns
/// `None` for anything that is not http(s).
pub fn canonical_link(raw: &str, base: Option<&Url>) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let mut url = match Url::parse(raw) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(raw).ok()?,
        Err(_) => return None,
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    // Tracking parameters are dropped as raw `&`-separated segments; the
    // rest of the query stays exactly as the feed spelled it (re-encoding
    // it would turn `c` into `c=` and `url=http://…` into `url=http%3A…`).
    if let Some(query) = url.query() {
        let segments: Vec<&str> = query.split('&').collect();
        let kept: Vec<&str> = segments
            .iter()
            .copied()
            .filter(|seg| {
                url::form_urlencoded::parse(seg.as_bytes())
                    .next()
                    .is_none_or(|(key, _)| !is_tracking_param(&key))
            })
            .collect();
        if kept.len() != segments.len() {
            let kept = kept.join("&");
            url.set_query((!kept.is_empty()).then_some(kept.as_str()));
        }
    }
    Some(url.into())
}

/// The link a story publishes: its `canonical` form (see
/// [`canonical_link`]) with the host spelled as the feed wrote it in `raw`
/// (`http://item.TEST/`, as feedparser and a browser's address bar show
/// it). Only the letter case of an ASCII host is given back; anything else
/// (an IDN, a relative link resolved against the base) stays canonical. The
/// canonical form stays the identity: story ids never see this spelling.
pub fn with_written_host(canonical: &str, raw: &str) -> String {
    let Some(written) = written_host(raw) else {
        return canonical.to_string();
    };
    match Url::parse(canonical) {
        Ok(url)
            if url
                .host_str()
                .is_some_and(|h| h != written && h.eq_ignore_ascii_case(written)) =>
        {
            format!(
                "{}{written}{}",
                &url[..Position::BeforeHost],
                &url[Position::AfterHost..]
            )
        }
        _ => canonical.to_string(),
    }
}

/// The host of an absolute URL as written: between `scheme://` (and any
/// `user@`) and the port, path, query or fragment. `None` for a relative
/// link or a bracketed IPv6 host.
fn written_host(raw: &str) -> Option<&str> {
    let (_, rest) = raw.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    (!host.is_empty() && host.is_ascii() && !host.starts_with('[')).then_some(host)
}

/// Whether a guid is a URL (and so names the same story as that link).
/// The rule lives in the model: parse applies it to permalink guids too.
pub use crate::model::parsed::is_url_shaped;

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<String> {
        canonical_link(s, None)
    }

    #[test]
    fn scheme_and_host_are_lowercased_and_fragment_dropped() {
        assert_eq!(
            c("HTTPS://News.Example.AZ/Path/A?x=1#top").as_deref(),
            Some("https://news.example.az/Path/A?x=1")
        );
    }

    #[test]
    fn default_ports_are_dropped() {
        assert_eq!(
            c("http://example.org:80/a").as_deref(),
            Some("http://example.org/a")
        );
        assert_eq!(
            c("https://example.org:443/a").as_deref(),
            Some("https://example.org/a")
        );
        assert_eq!(
            c("https://example.org:8443/a").as_deref(),
            Some("https://example.org:8443/a")
        );
    }

    #[test]
    fn tracking_parameters_are_removed_others_kept_in_order() {
        assert_eq!(
            c("https://e.org/n?id=7&utm_source=tg&UTM_Medium=x&fbclid=1&gclid=2&yclid=3&_openstat=4&page=2").as_deref(),
            Some("https://e.org/n?id=7&page=2")
        );
        assert_eq!(
            c("https://e.org/n?utm_campaign=a").as_deref(),
            Some("https://e.org/n")
        );
    }

    #[test]
    fn the_query_is_kept_as_spelled() {
        assert_eq!(
            c("http://example/?a=1&b=2&c").as_deref(),
            Some("http://example/?a=1&b=2&c")
        );
        assert_eq!(
            c("https://e.org/r?url=http://x.org/y&utm_source=z").as_deref(),
            Some("https://e.org/r?url=http://x.org/y")
        );
    }

    #[test]
    fn relative_links_resolve_against_the_base() {
        let base = Url::parse("https://e.org/ru/rss").ok();
        assert_eq!(
            canonical_link("/news/1", base.as_ref()).as_deref(),
            Some("https://e.org/news/1")
        );
        assert_eq!(canonical_link("/news/1", None), None);
    }

    #[test]
    fn non_http_links_have_no_canonical_form() {
        assert_eq!(c("mailto:a@b.c"), None);
        assert_eq!(c("javascript:alert(1)"), None);
        assert_eq!(c("urn:uuid:1234"), None);
        assert_eq!(c(""), None);
    }

    #[test]
    fn cyrillic_hosts_and_paths_are_stable() {
        let a = c("https://Президент.РФ/новости?utm_source=x");
        let b = c("https://президент.рф/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8");
        assert_eq!(a, b);
    }

    #[test]
    fn the_published_link_keeps_the_host_as_written() {
        let shown = |raw: &str| with_written_host(&c(raw).unwrap_or_default(), raw);
        assert_eq!(shown("http://item.TEST/"), "http://item.TEST/");
        assert_eq!(
            shown("HTTPS://user@News.Example.AZ:8443/Path?utm_source=x#top"),
            "https://user@News.Example.AZ:8443/Path"
        );
        // The identity is unchanged.
        assert_eq!(c("http://item.TEST/").as_deref(), Some("http://item.test/"));
        // IDNs, relative links and IPv6 hosts stay canonical.
        assert_eq!(
            shown("https://Президент.РФ/"),
            c("https://Президент.РФ/").unwrap_or_default()
        );
        let base = Url::parse("https://E.org/rss").ok();
        let rel = canonical_link("/a", base.as_ref()).unwrap_or_default();
        assert_eq!(with_written_host(&rel, "/a"), "https://e.org/a");
        assert_eq!(shown("http://[::1]:8080/x"), "http://[::1]:8080/x");
    }

    #[test]
    fn url_shaped_guids_are_recognised() {
        assert!(is_url_shaped("https://e.org/a"));
        assert!(is_url_shaped("HTTP://e.org/a"));
        assert!(!is_url_shaped("12345"));
        assert!(!is_url_shaped("tag:e.org,2024:1"));
        // Found by fuzzing: a multi-byte character across byte 7 or 8.
        assert!(!is_url_shaped("http:’/example.com/"));
        assert!(!is_url_shaped("http:/ő/guid.example.com/"));
    }
}
