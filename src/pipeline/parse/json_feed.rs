//! JSON Feed 1.0 and 1.1, read leniently from `serde_json::Value` straight
//! into our model: feeds as they are published, not only as the spec
//! writes them. feed-rs refuses `version` "1.0" or an `http:` URL, a
//! missing `title` and numeric ids; we read them and note what was off in
//! [`ParsedFeed::lenient`].
//!
//! The mapping follows feed-rs's (which read every JSON Feed before this
//! reader), so items of ordinary feeds keep their identities and content
//! hashes: `title` and `summary` plain text, `content_html` the content
//! else `content_text` (plain), `content_text` as the summary when both
//! bodies and no `summary` are given, `url` the link (`external_url` only
//! when there is no `url`, as feed-rs had it), tags as categories, the
//! feed's authors inherited by items with none. Attachments are not
//! enclosures (feed-rs never made them so, and an enclosure counts in the
//! content hash).
//!
//! Where this reader differs from feed-rs: `authors` (1.1) replaces
//! `author` (1.0) instead of adding to it, as the 1.1 spec says; an author
//! with only a `mailto:` URL is kept by its address.

use super::ParseError;
use super::dates;
use crate::model::parsed::{
    Category, Link, ParsedEntry, ParsedFeed, Person, SourceFormat, Text, TextKind,
};
use crate::model::text::decode_entities;
use chrono_tz::Tz;
use serde_json::{Map, Value};

/// Whether `text` (decoded, trimmed at the start) is JSON rather than XML.
pub(super) fn looks_like_json(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b'{' | b'[') => true,
        // A scalar (`null`, `42`, `"x"`) is JSON only when it all parses:
        // plain text that starts with a digit is not.
        Some(b) if b.is_ascii_digit() || matches!(b, b'"' | b'-' | b'n' | b't' | b'f') => {
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
        }
        _ => false,
    }
}

/// Reads a JSON document as a JSON Feed.
pub(super) fn parse(text: &str, zone: Tz) -> Result<ParsedFeed, ParseError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ParseError::Malformed(format!("invalid JSON: {e}")))?;
    let Value::Object(root) = value else {
        return Err(ParseError::NotAFeed {
            what: format!("JSON {} (not a JSON Feed object)", kind_of(&value)),
        });
    };
    let mut feed = ParsedFeed::new(SourceFormat::Json);
    let version = root.get("version").and_then(Value::as_str).map(str::trim);
    let items = root.get("items").and_then(Value::as_array);
    match version {
        Some(v) if is_strict_version(v) => {}
        Some(v) if is_known_version(v) => feed.lenient.push(format!("version {v:?}")),
        _ if items.is_none() => {
            return Err(ParseError::NotAFeed {
                what: "a JSON object without a JSON Feed version or items".to_string(),
            });
        }
        Some(v) => feed.lenient.push(format!("unknown version {v:?}")),
        None => feed.lenient.push("no version".to_string()),
    }
    feed.title = string(&root, "title").map(plain);
    if feed.title.is_none() {
        feed.lenient.push("no title".to_string());
    }
    for key in ["home_page_url", "feed_url"] {
        if let Some(href) = string(&root, key) {
            feed.links.push(Link {
                href,
                ..Default::default()
            });
        }
    }
    feed.language = string(&root, "language");
    let feed_authors = authors(&root);
    let items = items.map(Vec::as_slice).unwrap_or_default();
    for item in items {
        let Value::Object(item) = item else {
            feed.lenient
                .push("an item that is not an object".to_string());
            continue;
        };
        let mut entry = entry(item, zone);
        if entry.authors.is_empty() {
            entry.authors.clone_from(&feed_authors);
        }
        feed.entries.push(entry);
    }
    Ok(feed)
}

/// The spec's own spelling of the two versions.
fn is_strict_version(v: &str) -> bool {
    matches!(
        v,
        "https://jsonfeed.org/version/1" | "https://jsonfeed.org/version/1.1"
    )
}

/// A version as publishers write it: the URL with `http:` or a trailing
/// slash, or the bare number.
fn is_known_version(v: &str) -> bool {
    let v = v.trim_end_matches('/');
    let number = v
        .strip_prefix("https://jsonfeed.org/version/")
        .or_else(|| v.strip_prefix("http://jsonfeed.org/version/"))
        .unwrap_or(v);
    matches!(number, "1" | "1.0" | "1.1")
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A string member; numbers as their decimal spelling (ids); `None` when
/// absent, null or another type.
fn string(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Plain text as JSON Feed gives it. Publishers (WordPress among them)
/// write character references in titles; they are read here, `<` stays a
/// character.
fn plain(s: String) -> Text {
    Text {
        body: decode_entities(&s).into_owned(),
        kind: TextKind::Plain,
    }
}

fn entry(item: &Map<String, Value>, zone: Tz) -> ParsedEntry {
    let mut e = ParsedEntry {
        id: string(item, "id"),
        title: string(item, "title").map(plain),
        ..Default::default()
    };
    // `url` is the item's page. `external_url` names another page it is
    // about; feed-rs made it the link of an item without `url`, and it stays
    // so: such items keep their keys.
    if let Some(href) = string(item, "url").or_else(|| string(item, "external_url")) {
        e.links.push(Link {
            href,
            ..Default::default()
        });
    }
    let html = string(item, "content_html").map(|b| b.trim().to_string());
    let text = string(item, "content_text").map(|b| b.trim().to_string());
    e.summary = string(item, "summary").map(|s| Text {
        body: s,
        kind: TextKind::Plain,
    });
    match (html, text) {
        (Some(h), text) => {
            e.content = Some(Text::html(h));
            if e.summary.is_none() {
                e.summary = text.map(|t| Text {
                    body: t,
                    kind: TextKind::Plain,
                });
            }
        }
        (None, Some(t)) => {
            e.content = Some(Text {
                body: t,
                kind: TextKind::Plain,
            })
        }
        (None, None) => {}
    }
    e.published = string(item, "date_published").and_then(|d| dates::parse_date(&d, zone));
    e.updated = string(item, "date_modified").and_then(|d| dates::parse_date(&d, zone));
    e.authors = authors(item);
    if let Some(Value::Array(tags)) = item.get("tags") {
        e.categories = tags
            .iter()
            .filter_map(Value::as_str)
            .take(crate::model::parsed::MAX_CATEGORIES)
            .map(|t| Category {
                term: t.to_string(),
                ..Default::default()
            })
            .collect();
    }
    e.language = string(item, "language");
    e
}

/// `authors` (1.1) when given, else `author` (1.0): each with a name, or
/// only a `mailto:` URL (kept by its address). Each name once.
fn authors(obj: &Map<String, Value>) -> Vec<Person> {
    let list: Vec<&Map<String, Value>> = match (obj.get("authors"), obj.get("author")) {
        (Some(Value::Array(a)), _) if !a.is_empty() => {
            a.iter().filter_map(Value::as_object).collect()
        }
        (_, Some(Value::Object(a))) => vec![a],
        _ => Vec::new(),
    };
    let mut out: Vec<Person> = Vec::new();
    for a in list.into_iter().take(crate::model::parsed::MAX_AUTHORS) {
        let url = string(a, "url");
        let name = string(a, "name").filter(|n| !n.trim().is_empty());
        let email = url
            .as_deref()
            .and_then(|u| u.strip_prefix("mailto:"))
            .map(|m| m.split('?').next().unwrap_or(m).trim().to_string())
            .filter(|m| !m.is_empty());
        if name.is_none() && email.is_none() {
            continue;
        }
        if name.is_some() && out.iter().any(|p| p.name == name) {
            continue;
        }
        // A JSON author's `url` is a link, not an address: with a name it
        // is not shown (as feedparser's JSON reader shows the name alone);
        // without one a `mailto:` URL is the only way to name the author.
        out.push(Person {
            email: email.filter(|_| name.is_none()),
            name: name.map(|n| n.trim().to_string()),
            uri: url,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<ParsedFeed, ParseError> {
        parse(s, Tz::UTC)
    }

    #[test]
    fn versions_as_published_are_read_and_noted() {
        for v in [
            "1",
            "1.0",
            "1.1",
            "http://jsonfeed.org/version/1",
            "https://jsonfeed.org/version/1.1/",
        ] {
            let f = read(&format!(
                r#"{{"version":"{v}","items":[{{"id":1,"url":"https://e.org/1"}}]}}"#
            ))
            .expect(v);
            assert_eq!(f.entries[0].id.as_deref(), Some("1"));
            assert!(f.lenient.iter().any(|n| n.contains("version")), "{v}");
            assert!(f.lenient.iter().any(|n| n == "no title"));
        }
        let strict = read(r#"{"version":"https://jsonfeed.org/version/1","title":"t","items":[]}"#)
            .expect("strict");
        assert!(strict.lenient.is_empty());
    }

    #[test]
    fn not_feeds_are_named() {
        for (doc, what) in [
            ("null", "null"),
            ("[1,2]", "array"),
            (r#"{"error":{"code":429}}"#, "JSON"),
            (r#"{"items":[1,}"#, "JSON"),
        ] {
            let e = read(doc).expect_err(doc).to_string();
            assert!(e.contains(what), "{doc}: {e}");
        }
    }

    #[test]
    fn authors_replace_author_and_are_inherited() {
        let f = read(
            r#"{"version":"https://jsonfeed.org/version/1.1","authors":[{"name":"Feed"}],
            "items":[{"id":"a","author":{"name":"Old"},"authors":[{"name":"New"},{"url":"mailto:x@e.org"}]},{"id":"b"}]}"#,
        )
        .expect("reads");
        let names: Vec<_> = f.entries[0]
            .authors
            .iter()
            .map(|p| (p.name.clone(), p.email.clone()))
            .collect();
        assert_eq!(
            names,
            vec![(Some("New".into()), None), (None, Some("x@e.org".into()))]
        );
        assert_eq!(f.entries[1].authors[0].name.as_deref(), Some("Feed"));
    }
}
