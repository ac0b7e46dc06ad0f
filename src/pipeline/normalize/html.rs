//! HTML we republish: sanitized with ammonia against an explicit allowlist,
//! relative URLs made absolute, and plain-text fields freed of markup and
//! entities. Whatever a source sends lands in our subscribers' readers, so
//! nothing executable may pass.

pub use crate::model::text::decode_entities;
use ammonia::{Builder, UrlRelative};
use std::borrow::Cow;
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

/// URL schemes allowed in `href`/`src`; `javascript:` and `vbscript:` are
/// absent on purpose. `data:` passes ammonia's check only so that
/// [`filter_attribute`] can keep it where it is safe (`img src` with a raster
/// image type) and drop it everywhere else.
const SCHEMES: &[&str] = &[
    "http", "https", "mailto", "tel", "ftp", "magnet", "xmpp", "data",
];

/// Image types a `data:` URL in `img src` may carry. SVG is left out: it can
/// hold script, and some readers render it inline.
const DATA_IMAGE_TYPES: &[&str] = &[
    "image/png",
    "image/gif",
    "image/jpeg",
    "image/jpg",
    "image/webp",
    "image/avif",
    "image/bmp",
];

/// Presentational attributes kept on any allowed element: they cannot run
/// script, load anything or carry CSS, and old feeds lay out tables and
/// images with them. (`style`, `class`, `id` and URL-valued attributes such
/// as `cite`/`longdesc` stay out.)
#[rustfmt::skip]
const GENERIC_ATTRIBUTES: &[&str] = &[
    "abbr", "align", "alt", "axis", "bgcolor", "border", "cellpadding", "cellspacing", "char",
    "charoff", "clear", "color", "colspan", "compact", "datetime", "dir", "face", "headers",
    "height", "hreflang", "hspace", "label", "lang", "noshade", "nowrap", "reversed", "rowspan",
    "scope", "size", "span", "start", "summary", "title", "valign", "value", "vspace", "width",
];

/// A sanitizer bound to one document's base URL (reuse it for all items of
/// one poll: building ammonia's builder costs more than cleaning a short
/// summary, so it is built only when the fast path first declines).
pub struct Sanitizer {
    builder: std::cell::OnceCell<Builder<'static>>,
    base: Option<Url>,
    /// Whether [`super::simple_html`] may answer first.
    fast_path: bool,
}

impl Sanitizer {
    /// A sanitizer resolving relative URLs against `base`.
    pub fn new(base: Option<&Url>) -> Sanitizer {
        Sanitizer {
            builder: std::cell::OnceCell::new(),
            base: base.cloned(),
            fast_path: true,
        }
    }

    /// ammonia's builder with our allowlist and this document's base.
    fn ammonia(&self) -> &Builder<'static> {
        self.builder
            .get_or_init(|| ammonia_builder(self.base.as_ref()))
    }

    /// A sanitizer that always runs ammonia (to test the fast path against).
    pub fn slow_only(base: Option<&Url>) -> Sanitizer {
        Sanitizer {
            fast_path: false,
            ..Sanitizer::new(base)
        }
    }

    /// Sanitized HTML; `None` when nothing visible is left. Lazy images get
    /// their real URL first.
    pub fn clean(&self, html: &str) -> Option<String> {
        if nests_deeper_than(html, MAX_NESTING) {
            // html5ever's tree building costs more than linear time on
            // such nesting; no real story nests this deep. Its text stays.
            let text = to_text_linear(html);
            return (!text.is_empty()).then(|| {
                text.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            });
        }
        let html = super::lazy::promote(html);
        let html = stray_declarations_as_text(&html);
        let cleaned = match self
            .fast_path
            .then(|| super::simple_html::clean(&html, self.base.as_ref()))
            .flatten()
        {
            Some(simple) => simple,
            None => self.ammonia().clean(&html).to_string(),
        };
        let trimmed = cleaned.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }
}

/// ammonia with our allowlist, resolving relative URLs against `base`.
fn ammonia_builder(base: Option<&Url>) -> Builder<'static> {
    let mut builder = Builder::default();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(
            ["script", "style", "noscript", "template"]
                .into_iter()
                .collect(),
        )
        .url_schemes(SCHEMES.iter().copied().collect::<HashSet<_>>())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
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
        Some(b) => {
            let b = b.clone();
            // Spelled through a function so the closure is typed for every
            // lifetime of its argument, as ammonia's trait wants.
            fn resolver<F: Fn(&str) -> Option<Cow<'_, str>>>(f: F) -> F {
                f
            }
            UrlRelative::Custom(Box::new(resolver(move |href| {
                resolve_keeping_characters(&b, href).map(Cow::Owned)
            })))
        }
        None => UrlRelative::PassThrough,
    });
    let filter_base = base.cloned();
    builder.attribute_filter(move |element, attribute, value| {
        filter_attribute(element, attribute, value, filter_base.as_ref())
    });
    builder
}

/// `href` resolved against `base`, with the non-ASCII characters the feed
/// wrote kept as characters (an IRI, as feedparser and browsers show it:
/// `http://any.test/À`) instead of the URL parser's percent-encoding. Only
/// escapes of bytes >= 0x80 that form whole UTF-8 characters other than
/// whitespace and controls are decoded, so no ASCII (`"`, `<`, `%`) ever
/// comes back from an escape; an ASCII `href` resolves exactly as before.
pub(crate) fn resolve_keeping_characters(base: &Url, href: &str) -> Option<String> {
    let joined = base.join(href).ok()?;
    if href.is_ascii() {
        return Some(joined.into());
    }
    let url = joined.as_str();
    let b = url.as_bytes();
    let high_escape = |i: usize| -> Option<u8> {
        let hex = |c: &u8| (*c as char).to_digit(16);
        if b.get(i) != Some(&b'%') {
            return None;
        }
        let v = hex(b.get(i + 1)?)? * 16 + hex(b.get(i + 2)?)?;
        (v >= 0x80).then_some(v as u8)
    };
    let mut out = String::with_capacity(url.len());
    let (mut last, mut i) = (0, 0);
    while let Some(p) = memchr::memchr(b'%', &b[i..]) {
        let start = i + p;
        let mut end = start;
        let mut run = Vec::new();
        while let Some(v) = high_escape(end) {
            run.push(v);
            end += 3;
        }
        i = if end == start { start + 1 } else { end };
        // The run's whole characters, each decoded or left as written.
        let valid = match std::str::from_utf8(&run) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&run[..e.valid_up_to()]).unwrap_or_default(),
        };
        out.push_str(&url[last..start]);
        let mut at = start;
        for c in valid.chars() {
            let escaped = &url[at..at + 3 * c.len_utf8()];
            if c.is_whitespace() || c.is_control() {
                out.push_str(escaped);
            } else {
                out.push(c);
            }
            at += escaped.len();
        }
        last = at;
    }
    out.push_str(&url[last..]);
    Some(out)
}

/// `html` with each `<!` that opens no complete markup declaration (`<!' <a
/// href="x">`, a lone `<!DOCTYPE`) written as text: html5ever reads it as a
/// bogus comment running to the next `>` anywhere, which swallowed the
/// markup after it (feedparser keeps it as text). `<!--` comments and
/// declarations closed before the next `<` stay as they are. Linear: each
/// check stops at the next `<` or `>`.
fn stray_declarations_as_text(html: &str) -> Cow<'_, str> {
    if !html.contains("<!") {
        return Cow::Borrowed(html);
    }
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 8);
    let mut last = 0;
    for at in memchr::memmem::find_iter(b, b"<!") {
        let rest = &b[at + 2..];
        if rest.starts_with(b"--") {
            continue;
        }
        let closed = memchr::memchr2(b'<', b'>', rest).is_some_and(|i| rest[i] == b'>');
        if !closed {
            out.push_str(&html[last..at]);
            out.push_str("&lt;");
            last = at + 1;
        }
    }
    out.push_str(&html[last..]);
    Cow::Owned(out)
}

/// The last word on an attribute ammonia already allowed: `data:` URLs only
/// as raster images in `img src`, and `srcset` candidates resolved against
/// the base with anything but http(s) dropped (ammonia treats `srcset` as
/// plain text, so without this `javascript:` would pass inside it).
fn filter_attribute<'u>(
    element: &str,
    attribute: &str,
    value: &'u str,
    base: Option<&Url>,
) -> Option<Cow<'u, str>> {
    let trimmed = value.trim_start();
    // `get` rather than slicing: the value may start with any character.
    if let Some(rest) = trimmed
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("data:"))
        .and_then(|_| trimmed.get(5..))
    {
        let media = rest.split([';', ',']).next().unwrap_or("");
        let ok = element == "img"
            && attribute == "src"
            && DATA_IMAGE_TYPES
                .iter()
                .any(|t| media.eq_ignore_ascii_case(t));
        return ok.then_some(Cow::Borrowed(value));
    }
    if attribute != "srcset" {
        return Some(Cow::Borrowed(value));
    }
    let kept: Vec<String> = value
        .split(',')
        .filter_map(|candidate| {
            let mut parts = candidate.split_whitespace();
            let url = parts.next()?;
            let descriptor: Vec<&str> = parts.collect();
            let absolute = match Url::parse(url) {
                Ok(u) => u,
                Err(url::ParseError::RelativeUrlWithoutBase) => match base {
                    Some(b) => b.join(url).ok()?,
                    None => return Some(candidate.trim().to_string()),
                },
                Err(_) => return None,
            };
            matches!(absolute.scheme(), "http" | "https").then(|| {
                std::iter::once(absolute.as_str())
                    .chain(descriptor.iter().copied())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        })
        .collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join(", ")))
}

/// Plain text of a field that may hold markup or entities (titles, author
/// names): tags dropped, entities decoded, whitespace collapsed.
pub fn to_text(raw: &str) -> String {
    let text = if raw.contains(['<', '&']) {
        let mut b = Builder::empty();
        b.clean_content_tags(["script", "style"].into_iter().collect());
        // What is left is text as html5ever's serializer escapes it (`&amp;`,
        // `&lt;`, `&gt;`, `&nbsp;`), which the one decoder undoes.
        decode_entities(&b.clean(raw).to_string()).into_owned()
    } else {
        raw.to_string()
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Open elements deeper than this make HTML be read as text, tags dropped
/// by a linear scan instead of the HTML parser (which slows down more
/// than linearly on 200,000 nested `<div>`s). Real content nests a few
/// dozen deep.
pub const MAX_NESTING: usize = 512;

/// Whether start tags ever stand more than `max` deeper than end tags, by
/// a linear count that ignores void elements and self-closing tags.
fn nests_deeper_than(html: &str, max: usize) -> bool {
    let b = html.as_bytes();
    let mut depth = 0usize;
    for at in memchr::memchr_iter(b'<', b) {
        match b.get(at + 1) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name = tag_name(&html[at + 1..]).to_ascii_lowercase();
                if !self_closing(b, at) && !VOID.contains(&name.as_str()) {
                    depth += 1;
                    if depth > max {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether the tag starting at `at` ends in `/>`, looking at most 1 KiB
/// ahead (so a document of unclosed `<` costs linear time).
fn self_closing(b: &[u8], at: usize) -> bool {
    let window = &b[at..b.len().min(at + 1024)];
    memchr::memchr(b'>', window).is_some_and(|end| end > 0 && window[end - 1] == b'/')
}

/// Text of HTML by one linear scan: tags dropped, references decoded,
/// whitespace collapsed.
fn to_text_linear(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => in_tag = true,
            (true, '>') => {
                in_tag = false;
                out.push(' ');
            }
            (false, c) => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Elements that have no end tag: markup wherever they appear.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Plain text of an HTML title. Titles are text that may carry markup, and
/// a tag is markup only when it is one: an element that is closed later in
/// the title (`A <b>bold</b> move` → `A bold move`), a void element or a
/// self-closing tag. An unclosed start tag is text that names a tag (`Why
/// <script> tags are dangerous` stays that, where an HTML parser would read
/// everything after `<script>` as the script). Then as [`to_text`].
pub fn title_text(raw: &str) -> String {
    if !raw.contains('<') {
        return to_text(raw);
    }
    let lower = raw.to_ascii_lowercase();
    // Names of the end tags present, once (linear in the title).
    let mut closed: HashSet<&str> = HashSet::new();
    let mut at = 0;
    while let Some(p) = lower[at..].find("</") {
        let name = tag_name(&lower[at + p + 2..]);
        if !name.is_empty() {
            closed.insert(name);
        }
        at += p + 2;
    }
    let mut out = String::with_capacity(raw.len() + 8);
    let mut last = 0;
    for (p, _) in raw.match_indices('<') {
        let name = tag_name(&lower[p + 1..]);
        if name.is_empty() || VOID.contains(&name) || closed.contains(name) {
            continue;
        }
        if !self_closing(lower.as_bytes(), p) {
            out.push_str(&raw[last..p]);
            out.push_str("&lt;");
            last = p + 1;
        }
    }
    out.push_str(&raw[last..]);
    to_text(&out)
}

/// The tag name at the start of `s` (just after `<` or `</`), as given.
fn tag_name(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':'))
        .unwrap_or(s.len());
    let name = &s[..end];
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_keeps_tags_it_only_names() {
        assert_eq!(
            title_text("Why <script> tags are dangerous"),
            "Why <script> tags are dangerous"
        );
        assert_eq!(title_text("A <b>bold</b> move"), "A bold move");
        assert_eq!(title_text("x <script>alert(1)</script>y"), "x y");
        assert_eq!(title_text("One<br>two <img src=x/>"), "Onetwo");
        assert_eq!(title_text("Use <div> & <span/>"), "Use <div> &");
        assert_eq!(title_text("1 < 2 and 3 <4"), "1 < 2 and 3 <4");
    }

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
    fn relative_urls_keep_the_characters_the_feed_wrote() {
        let out = clean(r#"<a href="/новости/1">x</a><a href="%D0%B0?q=%22">y</a>"#);
        assert!(
            out.contains(r#"href="https://news.example.az/новости/1""#),
            "{out}"
        );
        // What the feed escaped stays escaped; ASCII never comes back.
        assert!(out.contains(r#"href="https://news.example.az/ru/%D0%B0?q=%22""#));
        let base = Url::parse("http://any.test/").unwrap();
        let r = |h: &str| resolve_keeping_characters(&base, h).unwrap();
        assert_eq!(r("À"), "http://any.test/À");
        assert_eq!(r("À\u{a0}%FF"), "http://any.test/À%C2%A0%FF");
        assert_eq!(r("é%22"), "http://any.test/é%22");
    }

    #[test]
    fn a_stray_markup_declaration_is_text() {
        assert_eq!(
            clean(r#"<!' <a href="foo">x</a>"#),
            r#"&lt;!' <a href="https://news.example.az/ru/foo" rel="noopener noreferrer">x</a>"#
        );
        assert_eq!(clean(" <!DOCTYPE "), "&lt;!DOCTYPE");
        assert_eq!(clean("<!DOCTYPE html><p>a</p><!-- c -->"), "<p>a</p>");
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
    fn data_urls_survive_only_as_raster_images_in_img_src() {
        let out = clean(
            r#"<img src="data:image/png;base64,iVBORw0KGgo="><img src="data:image/svg+xml,<svg/>"><a href="data:text/html,x">a</a><img src="x.png" srcset="data:image/png;base64,AA 2x">"#,
        );
        assert!(
            out.contains(r#"<img src="data:image/png;base64,iVBORw0KGgo=">"#),
            "{out}"
        );
        assert!(!out.contains("svg"), "{out}");
        assert!(!out.contains("data:text"), "{out}");
        assert!(!out.contains("srcset"), "{out}");
    }

    #[test]
    fn srcset_candidates_are_resolved_and_scripts_dropped() {
        let out =
            clean(r#"<img src="a.png" srcset="a.png 1x, javascript:alert(1) 2x, /b.png 3x">"#);
        assert!(
            out.contains(
                r#"srcset="https://news.example.az/ru/a.png 1x, https://news.example.az/b.png 3x""#
            ),
            "{out}"
        );
    }

    #[test]
    fn lazy_images_get_their_real_source() {
        let out = clean(r#"<img src="/img/placeholder.gif" data-src="/photos/1.jpg" alt="A">"#);
        assert_eq!(
            out,
            r#"<img src="https://news.example.az/photos/1.jpg" alt="A">"#
        );
    }

    #[test]
    fn style_is_removed_with_its_css() {
        let out = clean(r#"<p style="background:url(javascript:x)">a</p><style>p{}</style>"#);
        assert_eq!(out, "<p>a</p>");
    }

    #[test]
    fn non_ascii_attribute_values_are_fine() {
        let out = clean(r#"<img src="a.png" alt="Нажмите для просмотра">"#);
        assert!(out.contains("Нажмите"), "{out}");
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
        // Decoded once, as a browser shows them: escaped references stay.
        assert_eq!(to_text("&amp;lt;b&amp;gt;"), "&lt;b&gt;");
        assert_eq!(to_text("&amp;laquo;"), "&laquo;");
    }

    #[test]
    fn entities_decode_as_html5_reads_them() {
        for (html, text) in [
            ("&laquo;Мы готовы&raquo; &mdash;", "«Мы готовы» —"),
            (
                "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;",
                "a & b <c> \"d\" 'e'",
            ),
            ("&nbsp;", "\u{a0}"),
            ("&NotNestedGreaterGreater;", "\u{2aa2}\u{338}"),
            ("&copy 2025 &copy2025", "© 2025 ©2025"),
            ("&notit; &notin;", "¬it; ∉"),
            (
                "AT&T &bogus; & &; &#; &#x; tail &",
                "AT&T &bogus; & &; &#; &#x; tail &",
            ),
            ("&#169;&#xA9;&#XA9;&#0169", "©©©©"),
            ("&#150; &#x92; &#x81;", "\u{2013} \u{2019} \u{81}"),
            (
                "&#0; &#xD800; &#x110000; &#99999999999999;",
                "\u{fffd} \u{fffd} \u{fffd} \u{fffd}",
            ),
            ("&#x1F600;", "😀"),
        ] {
            assert_eq!(decode_entities(html), text, "{html}");
        }
        assert!(matches!(decode_entities("no references"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_decoder_agrees_with_html5ever() {
        // ammonia (html5ever) parses the references, and its serializer
        // escapes only `&`, `<`, `>` and U+00A0: decoding the raw text must
        // give what decoding its output gives.
        let mut b = Builder::empty();
        b.clean_content_tags(HashSet::new());
        for html in [
            "&laquo;x&raquo; &mdash; &hellip; &euro; &trade; &shy; &zwj;",
            "&notit; &copy2025 &ampx &lt3 &gtx; &AMP &Aacute &aacutex",
            "&#150;&#x80;&#x9F;&#x8D;&#0;&#65;&#x41&#1114111;&#1114112;&#xDFFF;",
            "&#xFFFE; &#x1FFFF; &#12;&#13;&#127; &# &#x &#xg &#a",
            "&bogus; & ; &&amp; &;&amp",
            "&CounterClockwiseContourIntegral; &CounterClockwiseContourIntegra;",
            "&acE; &nvlt; &bne; &fjlig;",
        ] {
            let ours = decode_entities(html);
            let theirs = b.clean(html).to_string();
            assert_eq!(ours, decode_entities(&theirs), "{html}");
        }
    }
}
