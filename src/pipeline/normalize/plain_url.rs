//! URLs whose parsed form is known without parsing them.
//!
//! Sanitizing links parses every `href` and `src` with the `url` crate to
//! make it absolute and normalized: ~0.2 µs each, and a news item carries
//! ten or more. Most are already in their final form: an absolute
//! `http(s)://host/path`, or a path from the root (`/news/1`) of an http(s)
//! page. For those, [`resolve`] builds the result directly; for
//! anything else (a port, a dot segment, a character the parser would
//! escape, an IDN or numeric host…) it answers `None` and the caller parses
//! as before. It only accepts cases whose output is the same as the `url`
//! crate's, which the test below checks on generated inputs.

use url::{Position, Url};

/// `value` resolved against `base` as `Url::parse(value)` or
/// `base.join(value)` would serialize it, when that is certain without
/// parsing; `None` when unsure.
pub fn resolve(value: &str, base: Option<&Url>) -> Option<String> {
    if let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    {
        let slash = rest.find('/')?;
        let (host, path) = rest.split_at(slash);
        return (plain_host(host) && plain_path(path)).then(|| value.to_string());
    }
    if value.starts_with('/') && !value.starts_with("//") && plain_path(value) {
        // The base is parsed already, so its scheme and authority are in
        // their final form; a path from the root replaces all the rest.
        let base = base.filter(|b| matches!(b.scheme(), "http" | "https"))?;
        return Some(format!("{}{value}", &base[..Position::BeforePath]));
    }
    None
}

/// Lowercase ASCII labels of letters, digits and inner hyphens, the last
/// one not starting with a digit (which the parser would try as IPv4), no
/// punycode (which it would validate).
fn plain_host(host: &str) -> bool {
    let mut labels = host.split('.');
    let last = host.rsplit('.').next().unwrap_or("");
    !host.is_empty()
        && !host.contains("xn--")
        && !last.starts_with(|c: char| c.is_ascii_digit())
        && labels.all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// A path (with query and fragment) the parser keeps byte for byte: only
/// characters no component escapes, no dot segments, no encoded dots.
fn plain_path(path: &str) -> bool {
    let path_part = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    path.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'%'
                    | b'?'
                    | b'#'
            )
    }) && !path_part.contains("/.")
        && !path_part.contains("%2e")
        && !path_part.contains("%2E")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_parser(value: &str, base: &Url) -> Option<String> {
        match Url::parse(value) {
            Ok(u) => Some(u.to_string()),
            Err(url::ParseError::RelativeUrlWithoutBase) => base.join(value).ok().map(String::from),
            Err(_) => None,
        }
    }

    /// Every input the fast path accepts comes out exactly as the `url`
    /// crate serializes it, over combinations of awkward pieces.
    #[test]
    fn agrees_with_the_url_crate_wherever_it_answers() {
        let bases = [
            "https://news.example.az/ru/rss",
            "http://127.0.0.4:44335/feed/3",
            "http://a-b.example/x?y#z",
            "https://EXAMPLE.org/",
            "https://xn--80ak6aa92e.com/rss",
            "https://user@host.example/rss",
        ];
        let heads = [
            "https://",
            "http://",
            "HTTP://",
            "https:",
            "//",
            "/",
            "",
            "ftp://",
            "https:///",
        ];
        let hosts = [
            "news.example.az",
            "Example.com",
            "a..b",
            "-a.com",
            "a-.com",
            "127.0.0.1",
            "1.2.3.com",
            "a.123",
            "xn--80ak6aa92e.com",
            "host.",
            ".host",
            "h_st.com",
            "host:80",
            "host:8080",
            "user@host",
            "хост.рф",
            "",
            "a.b-c.d",
        ];
        let paths = [
            "",
            "/",
            "/a/b",
            "/a/./b",
            "/a/../b",
            "/.",
            "/..",
            "/a/%2e/b",
            "/a%2Fb",
            "/a b",
            "/a'b",
            "/a\"b",
            "/a?b=c",
            "/a?b='c'",
            "/a#f",
            "/a#f#g",
            "/a?x#y?z",
            "/%zz",
            "/a\\b",
            "/ü",
            "/a;b=c,d",
            "/~user/(x)*+!$",
            "/a:b@c",
            "/?",
            "/#",
            "/a|b",
            "/a^b",
            "/a[b]",
            "/a{b}",
            "/a`b",
            "/a<b>",
        ];
        let mut accepted = 0;
        for base in bases.iter().map(|b| Url::parse(b).unwrap()) {
            for head in heads {
                for host in hosts {
                    for path in paths {
                        let value = format!("{head}{host}{path}");
                        if let Some(fast) = resolve(&value, Some(&base)) {
                            accepted += 1;
                            assert_eq!(Some(fast), by_parser(&value, &base), "{value} on {base}");
                        }
                    }
                }
            }
        }
        // The common shapes do take the fast path.
        assert!(accepted > 500, "only {accepted} accepted");
        let base = Url::parse("https://news.example.az/ru/rss").unwrap();
        assert_eq!(
            resolve("/news/1", Some(&base)).as_deref(),
            Some("https://news.example.az/news/1")
        );
        assert_eq!(
            resolve("https://news3.example/tag/5", None).as_deref(),
            Some("https://news3.example/tag/5")
        );
        assert_eq!(
            resolve("https://news3.example", None),
            None,
            "the parser adds a /"
        );
        assert_eq!(
            resolve("a.png", Some(&base)),
            None,
            "relative to the page: parsed"
        );
    }
}
