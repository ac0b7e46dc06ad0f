//! Serializes HTML the same way on both sides of a comparison, so feedparser's
//! `<br />`, attribute quoting and entity spelling do not count as
//! differences. The pass is permissive (every element and attribute kept), so
//! it normalizes spelling without applying anyone's sanitizing policy.

use std::collections::HashSet;
use std::sync::OnceLock;

#[rustfmt::skip]
const ALL_TAGS: &[&str] = &[
    "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "bdi", "bdo",
    "big", "blink", "blockquote", "body", "br", "button", "canvas", "caption", "center", "cite",
    "code", "col", "colgroup", "data", "datalist", "dd", "del", "details", "dfn", "dialog", "dir",
    "div", "dl", "dt", "em", "embed", "fieldset", "figcaption", "figure", "font", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "i", "iframe",
    "img", "input", "ins", "kbd", "label", "legend", "li", "link", "main", "map", "mark", "marquee",
    "menu", "meta", "meter", "nav", "noscript", "object", "ol", "optgroup", "option", "output", "p",
    "param", "picture", "pre", "progress", "q", "rp", "rt", "ruby", "s", "samp", "script",
    "section", "select", "small", "source", "span", "strike", "strong", "style", "sub", "summary",
    "sup", "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "time", "title",
    "tr", "track", "tt", "u", "ul", "var", "video", "wbr",
];

#[rustfmt::skip]
const ALL_SCHEMES: &[&str] = &[
    "http", "https", "ftp", "mailto", "tel", "data", "news", "nntp", "irc", "magnet", "urn",
    "tag", "feed", "file", "gopher", "javascript", "vbscript", "about", "xmpp", "aim",
];

fn canon(html: &str) -> String {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    let b = B.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.tags(ALL_TAGS.iter().copied().collect())
            .clean_content_tags(HashSet::new())
            .generic_attribute_prefixes([""].into_iter().collect())
            .url_schemes(ALL_SCHEMES.iter().copied().collect())
            .link_rel(None)
            .strip_comments(true);
        b
    });
    b.clean(html).to_string().trim().to_string()
}

/// Whether our sanitized `ours` and feedparser's `want` are the same HTML.
pub fn same_html(ours: &str, want: &str) -> bool {
    let ours = ours.replace(r#" rel="noopener noreferrer""#, "");
    ours == want || canon(&ours) == canon(want)
}
