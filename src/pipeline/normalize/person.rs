//! How one person (an entry's author) is shown: feedparser's `author`
//! string, which readers and the issue's suites compare against. A name
//! with an address is `Name (address)`, a name alone is the name, an
//! address alone is the address. A single string that holds both (RSS
//! `<author>me@example.com (Name)</author>`, `Name <me@example.com>`,
//! `dc:creator`) is split first, as feedparser's `_sync_author_detail`
//! does, so every form of the same person reads the same.

use super::{html, mojibake};
use crate::model::parsed::Person;
use regex::Regex;
use std::sync::OnceLock;

/// An e-mail address inside free text, with an optional `mailto:` before
/// it and a `?subject=` query after it (both dropped from the address).
/// Unlike feedparser's pattern the last label may be of any length, so
/// `x@example.community` is not cut to `x@example.comm`.
fn address_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(
            r"(?:mailto:)?([A-Za-z0-9_.+\-]+@(?:\[[0-9.]+\]|[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+))(?:\?subject=[^\s>)]*)?",
        )
        .expect("the address pattern is valid")
    })
}

/// The text shown for `p`, or `None` when it has neither a name nor an
/// address.
pub(super) fn shown(p: &Person) -> Option<String> {
    let email = p
        .email
        .as_deref()
        .map(|e| {
            let e = e.trim();
            html::to_text(e.strip_prefix("mailto:").unwrap_or(e).trim())
        })
        .filter(|e| !e.is_empty());
    // Split before the name is read as text: `Name <me@example.com>` would
    // otherwise lose the address as if it were a tag.
    let (name, found) = match p.name.as_deref() {
        Some(n) => split(&mojibake::fix(n)),
        None => (None, None),
    };
    let name = name
        .map(|n| html::to_text(&n).trim().to_string())
        .filter(|n| !n.is_empty());
    match (name, email.or(found)) {
        (Some(n), Some(e)) => Some(format!("{n} ({e})")),
        (Some(n), None) => Some(n),
        (None, Some(e)) => Some(e),
        (None, None) => None,
    }
}

/// Splits a name that may carry an address: the name left once the address
/// and the brackets around it are removed (feedparser's steps: drop the
/// address, then `()`, `<>` and `&lt;&gt;`, trim, then one `(` in front and one `)`
/// behind), and the address. feed-rs already took the address out of
/// `me@example.com (Name)` and left `(Name)`, which the same steps undo.
fn split(raw: &str) -> (Option<String>, Option<String>) {
    let (rest, address) = match address_pattern().captures(raw) {
        Some(c) => {
            let whole = c.get(0).map_or(0..0, |m| m.range());
            let rest = format!("{}{}", &raw[..whole.start], &raw[whole.end..]);
            (rest, c.get(1).map(|m| m.as_str().to_string()))
        }
        None => (raw.to_string(), None),
    };
    let rest = rest
        .replace("()", "")
        .replace("<>", "")
        .replace("&lt;&gt;", "");
    let mut name = rest.trim();
    if address.is_some() || is_wrapped(name) {
        name = name.strip_prefix('(').unwrap_or(name);
        name = name.strip_suffix(')').unwrap_or(name).trim();
    }
    let name = (!name.is_empty()).then(|| name.to_string());
    (name, address)
}

/// `(Name)` with no other parentheses: feed-rs's leftover of
/// `me@example.com (Name)`; a name such as `(A) and (B)` is kept whole.
fn is_wrapped(n: &str) -> bool {
    n.strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .is_some_and(|inner| !inner.contains(['(', ')']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: Option<&str>, email: Option<&str>) -> Person {
        Person {
            name: name.map(str::to_string),
            email: email.map(str::to_string),
            uri: None,
        }
    }

    fn show(name: Option<&str>, email: Option<&str>) -> Option<String> {
        shown(&person(name, email))
    }

    #[test]
    fn name_and_address_are_joined_as_feedparser_does() {
        let want = Some("Example author (me@example.com)".to_string());
        // Atom <name> and <email>.
        assert_eq!(show(Some("Example author"), Some("me@example.com")), want);
        // RSS strings, split by feed-rs or whole (dc:creator in the side pass).
        assert_eq!(show(Some("(Example author)"), Some("me@example.com")), want);
        for raw in [
            "Example author (me@example.com)",
            "me@example.com (Example author)",
            "Example author <me@example.com>",
            "Example author (mailto:me@example.com)",
            "Example author <me@example.com?subject=Hi>",
        ] {
            assert_eq!(show(Some(raw), None), want, "{raw}");
        }
    }

    #[test]
    fn one_part_alone_is_shown_alone() {
        assert_eq!(show(Some("Редакция"), None).as_deref(), Some("Редакция"));
        assert_eq!(
            show(None, Some("joe@example.org")).as_deref(),
            Some("joe@example.org")
        );
        assert_eq!(
            show(Some(""), Some("mailto:a@b.org")).as_deref(),
            Some("a@b.org")
        );
        for raw in [
            "joe@example.org",
            "mailto:joe@example.org",
            "<joe@example.org>",
            "(joe@example.org)",
        ] {
            assert_eq!(
                show(Some(raw), None).as_deref(),
                Some("joe@example.org"),
                "{raw}"
            );
        }
        assert_eq!(show(Some("  "), None), None);
        assert_eq!(show(None, None), None);
    }

    #[test]
    fn names_with_parentheses_or_at_signs_stay_whole() {
        assert_eq!(
            show(Some("(A) and (B)"), None).as_deref(),
            Some("(A) and (B)")
        );
        assert_eq!(show(Some("(Staff)"), None).as_deref(), Some("Staff"));
        assert_eq!(show(Some("@handle"), None).as_deref(), Some("@handle"));
        assert_eq!(
            show(Some("x@example.community"), None).as_deref(),
            Some("x@example.community")
        );
    }
}
