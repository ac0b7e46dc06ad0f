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
    text.contains(RSS090_NS)
        .then(|| text.replace(RSS090_NS, "http://purl.org/rss/1.0/"))
}

/// Lower-cases the `X` of hexadecimal character references (`&#X41;`),
/// which HTML allows and quick-xml rejects.
pub fn lowercase_hex_refs(text: &str) -> Option<String> {
    text.contains("&#X").then(|| text.replace("&#X", "&#x"))
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
    if !text.contains(ATOM03_NS) {
        return None;
    }
    let mut out = text.replace(ATOM03_NS, "http://www.w3.org/2005/Atom");
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
