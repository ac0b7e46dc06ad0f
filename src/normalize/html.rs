//! HTML we republish: sanitized with ammonia against an explicit allowlist,
//! relative URLs made absolute, and plain-text fields freed of markup and
//! entities. Whatever a source sends lands in our subscribers' readers, so
//! nothing executable may pass.

use ammonia::{Builder, UrlRelative};
use std::collections::HashSet;
use url::Url;

/// Elements kept in summaries and content. Everything else is unwrapped
/// (its text kept), and `script`/`style` lose their text too.
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "footer",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "picture",
    "pre",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "section",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
    "audio",
    "video",
];

/// URL schemes allowed in `href`/`src`; `javascript:`, `vbscript:` and
/// `data:` are absent on purpose.
const SCHEMES: &[&str] = &["http", "https", "mailto", "tel", "ftp", "magnet", "xmpp"];

/// A sanitizer bound to one document's base URL (reuse it for all items of
/// one poll: building one costs more than cleaning a short summary).
pub struct Sanitizer {
    builder: Builder<'static>,
}

impl Sanitizer {
    /// A sanitizer resolving relative URLs against `base`.
    pub fn new(base: Option<&Url>) -> Sanitizer {
        let mut builder = Builder::default();
        builder
            .tags(TAGS.iter().copied().collect())
            .clean_content_tags(
                ["script", "style", "noscript", "template"]
                    .into_iter()
                    .collect(),
            )
            .url_schemes(SCHEMES.iter().copied().collect::<HashSet<_>>())
            .add_tag_attributes(
                "img",
                [
                    "src", "srcset", "alt", "title", "width", "height", "loading",
                ],
            )
            .add_tag_attributes("source", ["src", "srcset", "type", "media", "sizes"])
            .add_tag_attributes("audio", ["src", "controls"])
            .add_tag_attributes("video", ["src", "controls", "poster", "width", "height"])
            .add_tag_attributes("time", ["datetime"])
            .add_tag_attributes("td", ["colspan", "rowspan"])
            .add_tag_attributes("th", ["colspan", "rowspan", "scope"])
            .link_rel(Some("noopener noreferrer"))
            .strip_comments(true);
        builder.url_relative(match base {
            Some(b) => UrlRelative::RewriteWithBase(b.clone()),
            None => UrlRelative::PassThrough,
        });
        Sanitizer { builder }
    }

    /// Sanitized HTML; `None` when nothing visible is left.
    pub fn clean(&self, html: &str) -> Option<String> {
        let cleaned = self.builder.clean(html).to_string();
        let trimmed = cleaned.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }
}

/// Plain text of a field that may hold markup or entities (titles, author
/// names): tags dropped, entities decoded, whitespace collapsed.
pub fn to_text(raw: &str) -> String {
    let text = if raw.contains(['<', '&']) {
        let mut b = Builder::empty();
        b.clean_content_tags(["script", "style"].into_iter().collect());
        unescape_basic(&b.clean(raw).to_string())
    } else {
        raw.to_string()
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Undoes the escaping html5ever's serializer applies to text, which is all
/// that remains once every tag is gone.
fn unescape_basic(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        let base = Url::parse("https://news.example.az/ru/rss").ok();
        Sanitizer::new(base.as_ref())
            .clean(html)
            .unwrap_or_default()
    }

    #[test]
    fn scripts_handlers_and_js_urls_are_removed() {
        let out = clean(
            r#"<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(1)">a</a><iframe src="https://e"></iframe><img src="data:text/html,x"></p>"#,
        );
        for bad in ["script", "onclick", "javascript", "iframe", "data:"] {
            assert!(!out.contains(bad), "{bad} survived: {out}");
        }
        assert!(out.contains("Hi"));
    }

    #[test]
    fn relative_urls_become_absolute() {
        let out = clean(r#"<a href="/news/1">x</a><img src="img/a.png">"#);
        assert!(
            out.contains(r#"href="https://news.example.az/news/1""#),
            "{out}"
        );
        assert!(
            out.contains(r#"src="https://news.example.az/ru/img/a.png""#),
            "{out}"
        );
    }

    #[test]
    fn empty_markup_is_none() {
        assert_eq!(Sanitizer::new(None).clean("<script>x</script>  "), None);
    }

    #[test]
    fn titles_become_plain_text() {
        assert_eq!(to_text("Tom &amp; Jerry"), "Tom & Jerry");
        assert_eq!(
            to_text("<b>Заседание</b> &mdash; «бюджет»"),
            "Заседание — «бюджет»"
        );
        assert_eq!(to_text("A&nbsp;B"), "A B");
        assert_eq!(to_text("  a \n b "), "a b");
        assert_eq!(to_text("x <script>alert(1)</script>y"), "x y");
        assert_eq!(to_text("1 < 2"), "1 < 2");
    }
}
