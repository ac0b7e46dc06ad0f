//! A fast path for HTML that is already inside our allowlist.
//!
//! Most news summaries are a few `<p>`, `<a href>`, `<b>` and `<img src>`
//! with nothing to remove. Parsing them into a DOM and serializing them
//! again (ammonia/html5ever) is the most expensive step of ingesting an
//! item, so a strict, linear check runs first: if every tag, attribute,
//! entity and URL is in a small safe subset and the elements nest properly,
//! the input is republished as written, with relative URLs made absolute
//! and `rel="noopener noreferrer"` on links — what ammonia would produce.
//! Anything else (comments, unknown or unbalanced tags, `style`, `srcset`,
//! `data-*`, entities in URLs, unquoted attributes, uppercase names…) makes
//! [`clean`] return `None`, and the caller falls back to ammonia. The check
//! only ever accepts; it never repairs, so it cannot let through what
//! ammonia would have removed.

use url::Url;

/// Elements accepted, with the attributes each may carry.
const ELEMENTS: &[(&str, &[&str])] = &[
    ("a", &["href", "title", "hreflang", "lang", "dir"]),
    ("abbr", &["title"]),
    ("b", &[]),
    ("blockquote", &["lang", "dir"]),
    ("br", &[]),
    ("cite", &[]),
    ("code", &[]),
    ("del", &[]),
    ("em", &[]),
    ("figcaption", &[]),
    ("figure", &[]),
    ("h2", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("hr", &[]),
    ("i", &[]),
    ("img", &["src", "alt", "title", "width", "height"]),
    ("ins", &[]),
    ("li", &[]),
    ("mark", &[]),
    ("ol", &[]),
    ("p", &["lang", "dir", "align"]),
    ("pre", &[]),
    ("q", &[]),
    ("s", &[]),
    ("small", &[]),
    ("span", &["lang", "dir", "title"]),
    ("strong", &[]),
    ("sub", &[]),
    ("sup", &[]),
    ("u", &[]),
    ("ul", &[]),
];

/// Elements with no end tag.
const VOID: &[&str] = &["br", "hr", "img"];
/// Elements a `<p>` may not contain: the parser would close the paragraph,
/// and the structure would differ from what we checked.
const BLOCK: &[&str] = &[
    "blockquote",
    "figure",
    "h2",
    "h3",
    "h4",
    "hr",
    "ol",
    "p",
    "pre",
    "ul",
];

/// `html` republished as is (URLs absolute, links `rel`-marked) when it is
/// inside the safe subset; `None` when ammonia must decide.
pub fn clean(html: &str, base: Option<&Url>) -> Option<String> {
    let mut out = String::with_capacity(html.len() + 64);
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = html;
    // memchr's SIMD search: most of a summary is text between tags.
    while let Some(at) = memchr::memchr2(b'<', b'&', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('&') {
            let len = entity_len(rest)?;
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let end = memchr::memchr(b'>', rest.as_bytes())?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim_end_matches([' ', '\t', '\n']);
            if stack.pop()? != name {
                return None;
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
            continue;
        }
        let (tag, self_closing) = match tag.strip_suffix('/') {
            Some(t) => (t.trim_end(), true),
            None => (tag, false),
        };
        let name_len = tag.find([' ', '\t', '\n']).unwrap_or(tag.len());
        let name = &tag[..name_len];
        let (_, allowed) = ELEMENTS.iter().find(|(n, _)| *n == name)?;
        let void = VOID.contains(&name);
        if self_closing && !void {
            return None;
        }
        if (stack.contains(&"p") && BLOCK.contains(&name)) || (name == "a" && stack.contains(&"a"))
        {
            return None;
        }
        out.push('<');
        out.push_str(name);
        attributes(&tag[name_len..], name, allowed, base, &mut out)?;
        if name == "a" {
            out.push_str(" rel=\"noopener noreferrer\"");
        }
        out.push('>');
        if !void {
            stack.push(name);
        }
    }
    out.push_str(rest);
    stack.is_empty().then_some(out)
}

/// Copies the attributes of one start tag, checking each.
fn attributes(
    mut s: &str,
    element: &str,
    allowed: &[&str],
    base: Option<&Url>,
    out: &mut String,
) -> Option<()> {
    loop {
        let trimmed = s.trim_start_matches([' ', '\t', '\n']);
        if trimmed.is_empty() {
            return Some(());
        }
        // Attributes must be separated from the name and from each other.
        if trimmed.len() == s.len() {
            return None;
        }
        let eq = trimmed.find('=')?;
        let name = &trimmed[..eq];
        if !allowed.contains(&name) {
            return None;
        }
        let after = &trimmed[eq + 1..];
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let close = after[1..].find(quote)? + 1;
        let value = &after[1..close];
        s = &after[close + 1..];
        if value.contains(['<', '"', '\'']) {
            return None;
        }
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        if name == "href" || name == "src" {
            out.push_str(&safe_url(value, element, base)?);
        } else {
            // Entities in plain attribute values are fine if well formed.
            let mut v = value;
            while let Some(at) = v.find('&') {
                out.push_str(&v[..at]);
                let len = entity_len(&v[at..])?;
                out.push_str(&v[at..at + len]);
                v = &v[at + len..];
            }
            out.push_str(v);
        }
        out.push('"');
    }
}

/// An absolute http(s) (or, for links, mailto) URL, escaped for an
/// attribute; `None` for anything else.
fn safe_url(value: &str, element: &str, base: Option<&Url>) -> Option<String> {
    // Entities inside URLs would need decoding first; leave them to ammonia.
    // Non-ASCII too: ammonia's resolver keeps those characters as written
    // (see `html::resolve_keeping_characters`), this one would escape them.
    if !value.is_ascii()
        || value.contains(['&', '\\'])
        || value.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    if let Some(url) = super::plain_url::resolve(value, base) {
        // Plain URLs hold no `&` or `"` to escape.
        return Some(url);
    }
    let url = match Url::parse(value) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(value).ok()?,
        Err(_) => return None,
    };
    let ok = match url.scheme() {
        "http" | "https" => true,
        "mailto" => element == "a",
        _ => false,
    };
    ok.then(|| url.as_str().replace('&', "&amp;").replace('"', "%22"))
}

/// Length of a well-formed character reference at the start of `s`
/// (`&name;`, `&#123;`, `&#x1F;`), or `None`.
fn entity_len(s: &str) -> Option<usize> {
    let body = &s[1..];
    let end = body.find(';').filter(|e| *e > 0 && *e <= 32)?;
    let name = &body[..end];
    let ok = match name.strip_prefix('#') {
        Some(num) => match num.strip_prefix(['x', 'X']) {
            Some(hex) => {
                !hex.is_empty() && hex.len() <= 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())
            }
            None => !num.is_empty() && num.len() <= 7 && num.bytes().all(|b| b.is_ascii_digit()),
        },
        None => {
            name.as_bytes()[0].is_ascii_alphabetic()
                && name.bytes().all(|b| b.is_ascii_alphanumeric())
        }
    };
    ok.then_some(end + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Option<Url> {
        Url::parse("https://news.example.az/ru/rss").ok()
    }

    fn fast(html: &str) -> Option<String> {
        clean(html, base().as_ref())
    }

    #[test]
    fn simple_markup_passes_with_urls_absolute_and_links_marked() {
        assert_eq!(
            fast(
                r#"<p>Депутаты <b>приняли</b> <a href="/news/1?a=1&amp;b=2">бюджет</a>&nbsp;&#8212;</p>"#
            ),
            None,
            "an entity inside a URL goes to ammonia"
        );
        assert_eq!(
            fast(r#"<p>Депутаты <b>приняли</b> <a href="/news/1">бюджет</a>&nbsp;&#8212;<br/><img src="a.png" alt="x"></p>"#)
                .as_deref(),
            Some(
                r#"<p>Депутаты <b>приняли</b> <a href="https://news.example.az/news/1" rel="noopener noreferrer">бюджет</a>&nbsp;&#8212;<br><img src="https://news.example.az/ru/a.png" alt="x"></p>"#
            )
        );
        assert_eq!(fast("plain text").as_deref(), Some("plain text"));
    }

    #[test]
    fn anything_outside_the_subset_goes_to_ammonia() {
        for html in [
            "<script>alert(1)</script>",
            "<p onclick=\"x()\">a</p>",
            "<p style=\"color:red\">a</p>",
            "<a href=\"javascript:alert(1)\">a</a>",
            "<a href=\"data:text/html,x\">a</a>",
            "<img src=\"data:image/png;base64,AA\">",
            "<img src=\"a.png\" srcset=\"b.png 2x\">",
            "<img data-src=\"a.png\">",
            "<a href=\"/x\" rel=\"nofollow\">a</a>",
            "<!-- c --><p>a</p>",
            "<P>a</P>",
            "<p>a",
            "<b><i>a</b></i>",
            "<p><ul><li>a</li></ul></p>",
            "<a href=\"/a\"><a href=\"/b\">x</a></a>",
            "<p class=x>a</p>",
            "<p title=\"a\"title=\"b\">x</p>",
            "a & b",
            "a &am b",
            "<iframe src=\"https://e\"></iframe>",
            "<img src=\"https://e/a.png\" onerror=\"x()\">",
            "<a href=\" https://e/\">a</a>",
            "<a href=\"http://e/a\\b\">a</a>",
            "<div>a</div>",
        ] {
            assert_eq!(fast(html), None, "{html}");
        }
    }

    #[test]
    fn accepted_output_is_what_ammonia_would_keep() {
        // Cleaning the fast output with ammonia changes nothing ammonia would
        // not also change in the input: the two paths agree.
        let sanitizer = super::super::html::Sanitizer::slow_only(base().as_ref());
        for html in [
            r#"<p>Депутаты <b>приняли</b> <a href="/news/1">бюджет</a> в <em>третьем</em> чтении.</p>"#,
            r#"<ul><li>one</li><li><a href="https://e.org/x?y=1">two</a></li></ul><hr/>"#,
            r#"<figure><img src="//cdn.e.org/p.jpg" alt="Фото" width="600"><figcaption>Подпись &laquo;x&raquo;</figcaption></figure>"#,
            "<blockquote lang=\"az\">Sitat</blockquote><p>Mətn &amp; daha</p>",
        ] {
            let quick = fast(html).unwrap_or_else(|| panic!("fast path should accept {html}"));
            assert_eq!(sanitizer.clean(&quick), sanitizer.clean(html), "{html}");
        }
    }

    #[test]
    fn random_markup_never_disagrees_with_ammonia() {
        use crate::model::text::html_to_text;
        // Differential check over generated markup: whenever the fast path
        // accepts, ammonia applied to its output equals ammonia applied to
        // the input, so republishing the fast output is as safe.
        const PIECES: &[&str] = &[
            "<p>",
            "</p>",
            "<b>",
            "</b>",
            "<i>",
            "</i>",
            "<a href=\"/x?a=1\">",
            "<a href=\"https://e.org/\">",
            "<a href='mailto:a@b.c'>",
            "</a>",
            "<br>",
            "<br/>",
            "<img src=\"i.png\" alt=\"Фото\">",
            "<ul>",
            "</ul>",
            "<li>",
            "</li>",
            "<blockquote>",
            "</blockquote>",
            "<span title=\"t &amp; u\">",
            "</span>",
            "текст ",
            "text",
            " & ",
            "&amp;",
            "&nbsp;",
            "&#169;",
            "&#x1F600;",
            "&bogus;",
            "&laquo;",
            "&mdash;",
            "&#150;",
            "&notit;",
            "<",
            ">",
            "\"",
            "'",
            "<script>",
            "</script>",
            "<p onclick=\"x\">",
            "<a href=\"javascript:x\">",
            "<!-- -->",
            "<hr/>",
            "<code>",
            "</code>",
            "<img src=\"javascript:x\">",
            "<a href=\"//cdn.e.org/p\">",
            "<h2>",
            "</h2>",
            "<em>",
            "</em>",
            "\n",
            // Balanced fragments, so that many inputs are inside the subset.
            "<b>жирный</b>",
            "<p>абзац <a href=\"../a b\">x</a></p>",
            "<p>para <a href=\"rel/x\">y</a> z</p>",
            "<ul><li>1</li><li><em>2</em></li></ul>",
            "<a href=\"/x\">x &lt; y</a>",
            "<p title=\"&quot;q&quot;\">q</p>",
            "<p>1 &gt; 0</p>",
            "<span>x</span>",
            "<br>",
            "плоский текст",
            "<pre>  code  </pre>",
            "<q>цитата</q>",
        ];
        let sanitizer = super::super::html::Sanitizer::slow_only(base().as_ref());
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        let mut accepted = 0;
        for _ in 0..30_000 {
            let mut html = String::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 61) as usize + 1;
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                html.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
            }
            if let Some(quick) = fast(&html) {
                accepted += 1;
                let slow = sanitizer.clean(&html);
                assert_eq!(sanitizer.clean(&quick), slow, "{html}");
                // The fast path keeps references as written (`&laquo;`),
                // ammonia writes characters (`«`): the plain text read from
                // either is the same.
                assert_eq!(
                    html_to_text(&quick),
                    html_to_text(slow.as_deref().unwrap_or_default()),
                    "{html}"
                );
            }
        }
        assert!(
            accepted > 1_000,
            "the generator exercises the fast path: {accepted}"
        );
    }
}
