//! Repairs for the malformations real feeds ship with. feed-rs is
//! all-or-nothing on malformed XML, so one bare `&` would otherwise cost the
//! whole feed; these run only after a first parse failed.

/// Escapes `&` that does not start a character or entity reference,
/// leaving CDATA sections untouched (an `&` there is literal text already).
pub fn escape_bare_ampersands(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    let mut rest = text;
    while let Some(pos) = rest.find(['&', '<']) {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if rest.starts_with("<![CDATA[") {
            let end = rest.find("]]>").map(|e| e + 3).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with('<') {
            out.push('<');
            rest = &rest[1..];
        } else {
            if is_reference(&rest[1..]) {
                out.push('&');
            } else {
                out.push_str("&amp;");
                changed = true;
            }
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Closes a document whose final end tag lacks its `>` (`</rss` at the very
/// end), which quick-xml rejects outright.
pub fn close_final_tag(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    let open = trimmed.rfind("</")?;
    let name = &trimmed[open + 2..];
    (!name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ':' | '-' | '_' | '.')))
    .then(|| format!("{trimmed}>"))
}

/// Whether `s` (the text after an `&`) starts with `name;`, `#123;` or `#x1F;`.
fn is_reference(s: &str) -> bool {
    let Some(end) = s.find(';').filter(|e| *e <= 32) else {
        return false;
    };
    let body = &s[..end];
    if let Some(num) = body.strip_prefix('#') {
        return match num.strip_prefix(['x', 'X']) {
            Some(hex) => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            None => !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()),
        };
    }
    let mut chars = body.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

/// The RSS 0.90 namespace, which feed-rs does not read; 0.90 and 1.0 share
/// their element names, so 0.90 reads as 1.0 once the namespace is swapped.
pub const RSS090_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";

/// Rewrites RSS 0.90 as RSS 1.0. `None` when the document is not 0.90.
pub fn upgrade_rss090(text: &str) -> Option<String> {
    super::contains(text, RSS090_NS).then(|| text.replace(RSS090_NS, "http://purl.org/rss/1.0/"))
}

/// Lower-cases the `X` of hexadecimal character references (`&#X41;`),
/// which HTML allows and quick-xml rejects.
pub fn lowercase_hex_refs(text: &str) -> Option<String> {
    super::contains(text, "&#X").then(|| text.replace("&#X", "&#x"))
}

/// Gives `<rss>` the version feed-rs insists on: it recognises only `2.0`,
/// `0.91`, `0.92` and an empty one, and calls anything else "no feed root".
pub fn fix_rss_version(text: &str) -> Option<String> {
    let start = text.find("<rss")?;
    let tag_end = start + text[start..].find('>')?;
    let tag = &text[start..tag_end];
    if !tag[4..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') && tag.len() > 4 {
        return None;
    }
    let fixed_tag = match tag.find("version") {
        Some(v) => {
            let after = &tag[v + "version".len()..];
            let eq = after.find('=')?;
            let val = after[eq + 1..].trim_start();
            let quote = val.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let close = val[1..].find(quote)?;
            let current = &val[1..1 + close];
            if matches!(current, "2.0" | "0.91" | "0.92" | "") {
                return None;
            }
            tag.replacen(&format!("{quote}{current}{quote}"), "\"2.0\"", 1)
        }
        None => format!("<rss version=\"2.0\"{}", &tag[4..]),
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..start]);
    out.push_str(&fixed_tag);
    out.push_str(&text[tag_end..]);
    Some(out)
}

/// The Atom 0.3 namespace, which feed-rs does not read (it finds the `feed`
/// root, then ignores every child).
pub const ATOM03_NS: &str = "http://purl.org/atom/ns#";

/// The default namespace of a root `<feed version="0.x">` that is neither
/// Atom 0.3's nor 1.0's: the pre-0.3 drafts (`necho`, `echo`, `pie`…) used
/// their own, with the same elements. The version attribute is what says
/// the document is one of them.
fn draft_atom_namespace(text: &str) -> Option<String> {
    let start = memchr::memmem::find(text.as_bytes(), b"<feed")?;
    let tag = &text[start..start + text[start..].find('>')?];
    if !tag[5..].starts_with(char::is_whitespace) {
        return None;
    }
    let attr = |name: &str| {
        let at = tag.find(&format!("{name}="))? + name.len() + 1;
        let val = &tag[at..];
        let q = val.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let close = val[1..].find(q)?;
        Some(val[1..1 + close].to_string())
    };
    let version = attr(" version")?;
    let ns = attr(" xmlns")?;
    (version.starts_with("0.")
        && ns != ATOM03_NS
        && ns != "http://www.w3.org/2005/Atom"
        && !ns.is_empty())
    .then_some(ns)
}

/// Atom 0.3 element names and their Atom 1.0 successors.
const ATOM03_RENAMES: &[(&str, &str)] = &[
    ("issued", "published"),
    ("modified", "updated"),
    ("tagline", "subtitle"),
    ("copyright", "rights"),
    ("url", "uri"),
    ("info", "feedmerge-atom03-info"),
];

/// Rewrites an Atom 0.3 document as Atom 1.0: the namespace, and the
/// elements that were renamed. `None` when the document is not Atom 0.3.
/// (`info` is renamed out of the way: in 0.3 it describes the feed format and
/// must not be read as anything.)
pub fn upgrade_atom03(text: &str) -> Option<String> {
    let draft = draft_atom_namespace(text);
    if !super::contains(text, ATOM03_NS) && draft.is_none() {
        return None;
    }
    let mut out = text.replace(ATOM03_NS, "http://www.w3.org/2005/Atom");
    if let Some(ns) = draft {
        out = out.replace(&ns, "http://www.w3.org/2005/Atom");
    }
    // 0.3 typed text constructs with MIME types; 1.0 (and feed-rs, which
    // rejects the whole feed otherwise) wants the three keywords.
    for (mime, keyword) in [
        ("application/xhtml+xml", "xhtml"),
        ("text/html", "html"),
        ("text/plain", "text"),
    ] {
        for q in ['"', '\''] {
            out = out.replace(
                &format!("type={q}{mime}{q}"),
                &format!("type=\"{keyword}\""),
            );
        }
    }
    for (old, new) in ATOM03_RENAMES {
        for prefix in ["", "atom:"] {
            for (open, close) in [("<", ">"), ("<", " "), ("</", ">"), ("<", "/")] {
                let from = format!("{open}{prefix}{old}{close}");
                if out.contains(&from) {
                    out = out.replace(&from, &format!("{open}{prefix}{new}{close}"));
                }
            }
        }
    }
    Some(out)
}

/// Internal entities a DOCTYPE may declare before they are ignored.
const MAX_DOCTYPE_ENTITIES: usize = 64;
/// Longest replacement text taken from one declaration.
const MAX_ENTITY_VALUE: usize = 4096;

/// Expands the general entities a document declares in its DOCTYPE's
/// internal subset (`<!DOCTYPE rss [<!ENTITY id "tag:example.com,">]>`),
/// which quick-xml leaves unexpanded. One pass, no recursion: a value that
/// mentions another entity keeps the reference as text, so a "billion
/// laughs" document grows by at most its own declarations. `None` when the
/// document declares none.
pub fn doctype_entities(text: &str) -> Option<String> {
    let head = &text[..floor_char_boundary(text, 8 * 1024)];
    let start = head.find("<!DOCTYPE")?;
    let open = start + head[start..].find(['[', '>'])?;
    if head.as_bytes()[open] != b'[' {
        return None;
    }
    let close = open + text[open..].find("]>")?;
    let subset = &text[open + 1..close];
    let entities = declared_entities(subset);
    if entities.is_empty() {
        return None;
    }
    let body = &text[close + 2..];
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..close + 2]);
    let mut rest = body;
    while let Some(at) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let hit = entities.iter().find(|(name, _)| {
            rest[1..].starts_with(name.as_str()) && rest[1 + name.len()..].starts_with(';')
        });
        match hit {
            Some((name, value)) => {
                out.push_str(value);
                rest = &rest[name.len() + 2..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// `<!ENTITY name "value">` declarations of an internal subset (parameter
/// and external entities skipped), at most [`MAX_DOCTYPE_ENTITIES`].
fn declared_entities(subset: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = subset;
    while let Some(at) = rest.find("<!ENTITY") {
        rest = rest[at + "<!ENTITY".len()..].trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
            .collect();
        if name.is_empty() {
            continue; // `%`: a parameter entity.
        }
        let after = rest[name.len()..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue; // SYSTEM or PUBLIC: external, never fetched.
        };
        let Some(end) = after[1..].find(quote) else {
            break;
        };
        let value = &after[1..1 + end];
        if value.len() <= MAX_ENTITY_VALUE {
            found.push((name, value.to_string()));
            if found.len() == MAX_DOCTYPE_ENTITIES {
                break;
            }
        }
        rest = &after[1 + end..];
    }
    found
}

/// The largest char boundary at or below `at`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Puts the items of an `<rss>` that has no `<channel>` (`<rss><item>…`)
/// into one, as feedparser reads them; feed-rs finds no feed without it.
pub fn wrap_in_channel(text: &str) -> Option<String> {
    if memchr::memmem::find(text.as_bytes(), b"<channel").is_some() {
        return None;
    }
    let start = text.find("<rss")?;
    let open_end = start + text[start..].find('>')? + 1;
    if text[..open_end].ends_with("/>") {
        return None;
    }
    let close = text.rfind("</rss").filter(|c| *c >= open_end)?;
    let mut out = String::with_capacity(text.len() + 24);
    out.push_str(&text[..open_end]);
    out.push_str("<channel>");
    out.push_str(&text[open_end..close]);
    out.push_str("</channel>");
    out.push_str(&text[close..]);
    Some(out)
}

/// Writes `&lang;`/`&rang;` as the characters HTML 4 (and XHTML 1, which
/// feeds are written to) gives them, U+2329/U+232A: HTML5 moved the names
/// to other code points, and every later HTML pass would read them so.
pub fn html4_angle_brackets(text: &str) -> Option<String> {
    let finder = memchr::memmem::Finder::new(b"ang;");
    finder.find(text.as_bytes())?;
    let fixed = text
        .replace("&lang;", "&#x2329;")
        .replace("&rang;", "&#x232A;");
    (fixed.len() != text.len()).then_some(fixed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn atom03_is_upgraded() {
        let x = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><tagline>t</tagline><entry><issued>2004-01-01T00:00:00Z</issued><author><url>http://e/</url></author></entry></feed>"#;
        let up = upgrade_atom03(x).expect("is 0.3");
        assert!(up.contains(r#"xmlns="http://www.w3.org/2005/Atom""#));
        assert!(up.contains("<subtitle>t</subtitle>"));
        assert!(up.contains("<published>2004-01-01T00:00:00Z</published>"));
        assert!(up.contains("<uri>http://e/</uri>"));
        assert_eq!(
            upgrade_atom03("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>"),
            None
        );
    }

    use super::*;

    #[test]
    fn doctype_entities_expand_once_never_recursively() {
        let laughs = r#"<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY ext SYSTEM "file:///etc/passwd">
]><rss><channel><title>&lol2;&ext;</title></channel></rss>"#;
        let out = doctype_entities(laughs).expect("declares entities");
        // One level: `lol2`'s text, whose references stay references.
        assert!(out.ends_with("<title>&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&ext;</title></channel></rss>"), "{out}");
        assert!(!out.contains("root:"), "external entities are never read");
        assert_eq!(doctype_entities("<rss><channel/></rss>"), None);
        assert_eq!(doctype_entities("<!DOCTYPE rss><rss/>"), None);
    }

    #[test]
    fn items_without_a_channel_are_put_in_one() {
        let got = wrap_in_channel("<rss><item><title>a</title></item></rss>");
        assert_eq!(
            got.as_deref(),
            Some("<rss><channel><item><title>a</title></item></channel></rss>")
        );
        assert_eq!(wrap_in_channel("<rss><channel></channel></rss>"), None);
        assert_eq!(wrap_in_channel("<rss/>"), None);
    }

    #[test]
    fn bare_ampersands_are_escaped() {
        assert_eq!(
            escape_bare_ampersands("<t>Tom & Jerry ?a=1&b=2</t>").as_deref(),
            Some("<t>Tom &amp; Jerry ?a=1&amp;b=2</t>")
        );
    }

    #[test]
    fn references_and_cdata_are_left_alone() {
        assert_eq!(
            escape_bare_ampersands("<t>&amp; &#169; &#xA9; &nbsp;</t>"),
            None
        );
        assert_eq!(escape_bare_ampersands("<t><![CDATA[a & b]]></t>"), None);
    }

    #[test]
    fn rss_version_is_added_or_normalised() {
        assert_eq!(
            fix_rss_version("<rss><channel/></rss>").as_deref(),
            Some("<rss version=\"2.0\"><channel/></rss>")
        );
        assert_eq!(
            fix_rss_version("<rss version=\"2.01\" xmlns:dc=\"x\">").as_deref(),
            Some("<rss version=\"2.0\" xmlns:dc=\"x\">")
        );
        assert_eq!(fix_rss_version("<rss version=\"2.0\">"), None);
        assert_eq!(fix_rss_version("<rssx>"), None);
    }
}

/// The XHTML namespace, for the wrapper given to Atom 0.3 inline markup.
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Atom text constructs (and `content`) that [`atom_text_constructs`] looks at.
const ATOM_CONSTRUCTS: &[&str] = &["title", "subtitle", "summary", "content", "rights"];

/// Rewrites Atom text constructs feed-rs cannot read into ones it can:
/// - base64 (Atom 0.3 `mode="base64"`, or an Atom 1.0 `type` that is a MIME
///   type neither textual nor XML) is decoded and given as escaped HTML;
/// - an empty `type` is dropped (plain text);
/// - an XML MIME type on a text construct is read as `xhtml`;
/// - Atom 0.3 inline markup (`mode="xml"`, the default, with child
///   elements) is kept whole: 0.3 has no `div` wrapper convention, so the
///   markup is wrapped in one that feed-rs then strips.
///
/// `atom03` says the document was Atom 0.3 (already upgraded). `None` when
/// nothing needed rewriting.
pub fn atom_text_constructs(text: &str, atom03: bool) -> Option<String> {
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;
    if !super::contains(text, "http://www.w3.org/2005/Atom") {
        return None;
    }
    let worth = atom03
        || [
            "base64",
            "type=\"\"",
            "type=''",
            "application/",
            "mode=",
            "</link>",
        ]
        .iter()
        .any(|n| super::contains(text, n));
    if !worth {
        return None;
    }
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    // (start, end, replacement) byte ranges, in document order.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qname = e.name().as_ref().to_string();
                let local = qname.rsplit(':').next().unwrap_or(&qname).to_string();
                let parent_ok = stack
                    .last()
                    .is_some_and(|p| matches!(p.as_str(), "feed" | "entry" | "source"));
                let prefix_ok = !qname.contains(':') || qname.starts_with("atom:");
                let is_link = local == "link";
                if !(parent_ok
                    && prefix_ok
                    && (is_link || ATOM_CONSTRUCTS.contains(&local.as_str())))
                {
                    stack.push(local);
                    continue;
                }
                let mut ty: Option<String> = None;
                let mut mode: Option<String> = None;
                let mut href = false;
                let mut others = String::new();
                for a in e.attributes().flatten() {
                    let key = a.key.as_ref().to_string();
                    let raw = a.value.to_string();
                    match key.as_str() {
                        "type" => ty = Some(raw.trim().to_ascii_lowercase()),
                        "mode" => mode = Some(raw.trim().to_ascii_lowercase()),
                        "href" => {
                            href = true;
                            others.push_str(&format!(" {key}=\"{}\"", raw.replace('"', "&quot;")));
                        }
                        _ => others.push_str(&format!(" {key}=\"{}\"", raw.replace('"', "&quot;"))),
                    }
                }
                let end_name = e.to_end().into_owned();
                let Ok(span) = reader.read_to_end(end_name.name()) else {
                    break;
                };
                let after = reader.buffer_position() as usize;
                let inner = &text[span.start as usize..span.end as usize];
                let is_xml_type =
                    |t: &str| t.ends_with("+xml") || t.ends_with("/xml") || t == "xhtml";
                let textual = |t: &str| {
                    matches!(t, "text" | "html" | "xhtml")
                        || t.starts_with("text/")
                        || is_xml_type(t)
                };
                let base64 = mode.as_deref() == Some("base64")
                    || ty.as_deref().is_some_and(|t| !t.is_empty() && !textual(t));
                let plain = |t: &Option<String>| {
                    matches!(t.as_deref(), None | Some("text" | "text/plain" | ""))
                };
                let replacement = if is_link {
                    // A link given as text (Atom 0.3 drafts did): its href.
                    let url = inner.trim();
                    (!href && !url.is_empty() && !url.contains('<')).then(|| {
                        let ty = ty
                            .as_deref()
                            .map(|t| format!(" type=\"{t}\""))
                            .unwrap_or_default();
                        format!(
                            "<{qname}{others}{ty} href=\"{}\"/>",
                            url.replace('"', "&quot;")
                        )
                    })
                } else if base64 {
                    decode_base64(inner)
                        .and_then(|b| String::from_utf8(b).ok())
                        .map(|s| {
                            let kind = match ty.as_deref() {
                                Some("text" | "text/plain") => "text",
                                _ => "html",
                            };
                            format!(
                                "<{qname}{others} type=\"{kind}\">{}</{qname}>",
                                escape_xml(&s)
                            )
                        })
                } else if atom03
                    && matches!(mode.as_deref(), None | Some("xml"))
                    && (ty.as_deref() == Some("xhtml") || plain(&ty))
                    && has_child_element(inner)
                {
                    Some(format!(
                        "<{qname}{others} type=\"xhtml\"><div xmlns=\"{XHTML_NS}\">{inner}</div></{qname}>"
                    ))
                } else if ty.as_deref() == Some("") {
                    Some(format!("<{qname}{others}>{inner}</{qname}>"))
                } else if local != "content"
                    && ty
                        .as_deref()
                        .is_some_and(|t| t != "xhtml" && is_xml_type(t))
                {
                    Some(format!("<{qname}{others} type=\"xhtml\">{inner}</{qname}>"))
                } else {
                    None
                };
                if let Some(r) = replacement {
                    edits.push((before, after, r));
                }
            }
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for (start, end, r) in edits {
        out.push_str(&text[at..start]);
        out.push_str(&r);
        at = end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Whether XML content has an element child (not just text, references or
/// CDATA).
pub(crate) fn has_child_element(inner: &str) -> bool {
    let mut rest = inner;
    while let Some(p) = rest.find('<') {
        let tail = &rest[p + 1..];
        if tail.starts_with("![CDATA[") {
            match tail.find("]]>") {
                Some(e) => rest = &tail[e..],
                None => return false,
            }
        } else if tail.starts_with(|c: char| c.is_alphabetic() || c == '_') {
            return true;
        } else {
            rest = tail;
        }
    }
    false
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Decodes base64 as feeds send it; `None` when it is not base64.
///
/// The `base64` crate does the decoding; the leniency around it is ours,
/// and is what the repair always accepted: whitespace anywhere (Atom 0.3
/// wraps long payloads), `-`/`_` for `+`/`/`, nothing after the first `=`,
/// non-zero trailing bits, and a lone final symbol (under a byte) dropped.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let mut symbols: Vec<u8> = s
        .bytes()
        .take_while(|&b| b != b'=')
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => b,
        })
        .collect();
    if symbols.len() % 4 == 1 {
        // Dropped only once known to be a symbol: junk still fails.
        let last = symbols.pop()?;
        if !(last.is_ascii_alphanumeric() || last == b'+' || last == b'/') {
            return None;
        }
    }
    LENIENT.decode(&symbols).ok()
}

#[cfg(test)]
mod atom_construct_tests {
    use super::*;

    #[test]
    fn base64_and_inline_markup_are_rewritten() {
        let x = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="application/octet-stream">
    RXhhbXBsZSA8Yj5BdG9tPC9iPg==
  </title><summary type="">s</summary></entry></feed>"#;
        let up = atom_text_constructs(x, false).expect("rewritten");
        assert!(
            up.contains(r#"<title type="html">Example &lt;b&gt;Atom&lt;/b&gt;</title>"#),
            "{up}"
        );
        assert!(up.contains("<summary>s</summary>"), "{up}");
        let x = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><summary xml:base="b/">Example <b>Atom</b></summary></entry></feed>"#;
        let up = atom_text_constructs(x, true).expect("rewritten");
        assert!(
            up.contains(r#"<summary xml:base="b/" type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Example <b>Atom</b></div></summary>"#),
            "{up}"
        );
        assert_eq!(decode_base64("aGk=").as_deref(), Some(&b"hi"[..]));
    }

    #[test]
    fn base64_is_read_leniently() {
        let d = |s: &str| decode_base64(s);
        assert_eq!(d("").as_deref(), Some(&b""[..]));
        assert_eq!(d("aGk").as_deref(), Some(&b"hi"[..]), "no padding");
        assert_eq!(d(" aG\n  k=\n").as_deref(), Some(&b"hi"[..]), "whitespace");
        assert_eq!(d("aGl=").as_deref(), Some(&b"hi"[..]), "trailing bits");
        assert_eq!(d("aGk=junk!").as_deref(), Some(&b"hi"[..]), "after `=`");
        assert_eq!(d("aGkx").as_deref(), Some(&b"hi1"[..]));
        assert_eq!(d("aGkxM").as_deref(), Some(&b"hi1"[..]), "a lone symbol");
        assert_eq!(d("-_-_").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
        assert_eq!(d("+/+/").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
        assert_eq!(d("aG!k"), None);
        assert_eq!(d("Пр"), None);
    }
}

#[cfg(test)]
mod close_tests {
    #[test]
    fn an_unclosed_final_tag_is_closed() {
        assert_eq!(
            super::close_final_tag("<rss><channel/></rss\n").as_deref(),
            Some("<rss><channel/></rss>")
        );
        assert_eq!(super::close_final_tag("<rss><channel/></rss>"), None);
    }
}
