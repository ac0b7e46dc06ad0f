//! Lazy-loaded images: sites ship `<img src="placeholder.gif"
//! data-src="real.jpg">` and a script that swaps them. Readers run no
//! scripts, so the real URL is promoted to `src` (and `data-srcset` to
//! `srcset`) before sanitizing, when `src` is missing or a placeholder.

use std::borrow::Cow;

/// Attributes that carry the real image, in order of preference.
const LAZY_SRC: &[&str] = &["data-src", "data-lazy-src", "data-original"];
const LAZY_SRCSET: &[&str] = &["data-srcset", "data-lazy-srcset"];

/// `html` with lazy images' real URLs promoted; borrowed when there are none.
pub fn promote(html: &str) -> Cow<'_, str> {
    if !html.contains("data-") {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len() + 32);
    let mut rest = html;
    let mut changed = false;
    while let Some(at) = find_img(rest) {
        out.push_str(&rest[..at]);
        let tag_len = tag_end(&rest[at..]);
        let tag = &rest[at..at + tag_len];
        match rewrite(tag) {
            Some(new) => {
                out.push_str(&new);
                changed = true;
            }
            None => out.push_str(tag),
        }
        rest = &rest[at + tag_len..];
    }
    if !changed {
        return Cow::Borrowed(html);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Byte offset of the next `<img` start tag (ASCII case-insensitive).
fn find_img(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| {
        b[i] == b'<'
            && b.get(i + 1..i + 4)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"img"))
            && b.get(i + 4)
                .is_none_or(|c| c.is_ascii_whitespace() || *c == b'/' || *c == b'>')
    })
}

/// Length of the tag at the start of `s`, up to and including `>` outside
/// quotes (the whole rest when unterminated).
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// One attribute: name (lower-cased), raw value text (with its quotes), span.
struct Attr {
    name: String,
    raw_value: Option<String>,
    start: usize,
    end: usize,
}

fn attrs(tag: &str) -> Vec<Attr> {
    let b = tag.as_bytes();
    let mut out = Vec::new();
    let mut i = 4; // after "<img"
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        if i == start {
            break;
        }
        let name = tag[start..i].to_ascii_lowercase();
        let mut raw_value = None;
        if b.get(i) == Some(&b'=') {
            let vstart = i + 1;
            let mut j = vstart;
            if let Some(&q @ (b'"' | b'\'')) = b.get(j) {
                j += 1;
                while j < b.len() && b[j] != q {
                    j += 1;
                }
                j = (j + 1).min(b.len());
            } else {
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
            }
            raw_value = tag.get(vstart..j).map(str::to_string);
            i = j;
        }
        out.push(Attr {
            name,
            raw_value,
            start,
            end: i,
        });
    }
    out
}

fn unquoted(raw: &str) -> &str {
    raw.trim_matches(|c| c == '"' || c == '\'').trim()
}

/// Whether a `src` value is a stand-in for the real image.
fn is_placeholder(src: &str) -> bool {
    let s = src.to_ascii_lowercase();
    s.is_empty()
        || s.starts_with("data:")
        || [
            "placeholder",
            "blank.",
            "spacer",
            "pixel.",
            "lazy",
            "loading.",
            "1x1",
        ]
        .iter()
        .any(|p| s.contains(p))
}

/// The tag with lazy attributes promoted, or `None` when nothing changes.
fn rewrite(tag: &str) -> Option<String> {
    let list = attrs(tag);
    let get = |names: &[&str]| {
        names.iter().find_map(|n| {
            list.iter()
                .find(|a| a.name == *n)
                .and_then(|a| a.raw_value.clone())
                .filter(|v| !unquoted(v).is_empty())
        })
    };
    let src = list.iter().find(|a| a.name == "src");
    let srcset = list.iter().find(|a| a.name == "srcset");
    let mut demote = Vec::new(); // attributes to rename out of the way
    let mut add = String::new();
    if let Some(real) = get(LAZY_SRC) {
        let placeholder = src.is_none_or(|a| {
            a.raw_value
                .as_deref()
                .is_none_or(|v| is_placeholder(unquoted(v)))
        });
        if placeholder {
            demote.extend(src.map(|a| (a.start, a.end)));
            add.push_str(&format!(" src={real}"));
        }
    }
    if let Some(real) = get(LAZY_SRCSET)
        && (srcset.is_none() || !add.is_empty())
    {
        demote.extend(srcset.map(|a| (a.start, a.end)));
        add.push_str(&format!(" srcset={real}"));
    }
    if add.is_empty() {
        return None;
    }
    // Removing the old attributes (back to front keeps offsets valid).
    let mut body = tag.to_string();
    demote.sort_unstable();
    for (start, end) in demote.into_iter().rev() {
        body.replace_range(start..end, "");
    }
    body.insert_str(4, &add);
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::promote;

    #[test]
    fn data_src_replaces_a_missing_or_placeholder_src() {
        assert_eq!(
            promote(r#"<p><img data-src="/a.jpg" alt="x"></p>"#),
            r#"<p><img src="/a.jpg" data-src="/a.jpg" alt="x"></p>"#
        );
        assert_eq!(
            promote(
                r#"<IMG src="data:image/gif;base64,R0lGOD" data-src='/a.jpg' data-srcset="/a.jpg 1x, /b.jpg 2x">"#
            ),
            r#"<IMG src='/a.jpg' srcset="/a.jpg 1x, /b.jpg 2x"  data-src='/a.jpg' data-srcset="/a.jpg 1x, /b.jpg 2x">"#
        );
    }

    #[test]
    fn a_real_src_is_kept_and_other_markup_untouched() {
        let html = r#"<img src="/real.jpg" data-src="/other.jpg"><div data-x="1">t</div>"#;
        assert_eq!(promote(html), html);
        assert_eq!(promote("<p>no images</p>"), "<p>no images</p>");
        assert_eq!(promote("<img data-src="), "<img data-src=");
    }
}
