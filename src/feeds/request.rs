//! What a subscriber may ask for in a feed URL: `limit`, `since`, `q`,
//! `source` (repeatable), `lang` and the paging cursor `before`.
//!
//! Parsed strictly, so a typo answers 400 with a reason instead of a feed
//! that silently ignores it, and written back in one canonical order, so
//! self and next links (and cache keys) are the same for the same request.

use crate::store::Cursor;
use chrono::{DateTime, Utc};

/// Filters and the page position of one feed request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedRequest {
    /// Entries on the page (1–500); `None` uses the feed's default.
    pub limit: Option<usize>,
    /// Only stories older than this position (RFC 5005 paging).
    pub before: Option<Cursor>,
    /// Only stories published at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// A keyword that must occur in the title or summary (case-folded).
    pub q: Option<String>,
    /// Only stories from these sources.
    pub sources: Vec<String>,
    /// Only stories in this language (`en` matches `en-GB`).
    pub lang: Option<String>,
}

/// The longest keyword accepted; longer ones are not searches.
const MAX_Q: usize = 200;

/// `source` given at most this many times: more is no reader's feed, and
/// every distinct list is a distinct cache entry.
pub const MAX_SOURCES: usize = 32;

impl FeedRequest {
    /// Parses URL query pairs. The error is a short reason for a 400.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<FeedRequest, String> {
        let mut req = FeedRequest::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut source_count = 0usize;
        for (key, value) in pairs {
            // One value each, except `source`: a second `limit` would make
            // two spellings of one request (and two cache entries).
            if key != "source" {
                if seen.contains(&key) {
                    return Err(format!("{key} given more than once"));
                }
                seen.push(key);
            }
            match key {
                "limit" => {
                    req.limit = Some(
                        value
                            .parse::<usize>()
                            .ok()
                            .filter(|n| (1..=super::MAX_LIMIT).contains(n))
                            .ok_or("limit must be a number from 1 to 500")?,
                    )
                }
                "since" => {
                    let at = DateTime::parse_from_rfc3339(value)
                        .map_err(|_| "since must be an RFC 3339 time like 2025-03-14T09:30:00Z")?;
                    req.since = Some(at.with_timezone(&Utc));
                }
                "q" => {
                    let q = value.trim();
                    if q.is_empty() || q.chars().count() > MAX_Q {
                        return Err("q must be a keyword of 1 to 200 characters".into());
                    }
                    req.q = Some(q.to_string());
                }
                "source" => {
                    if value.is_empty() {
                        return Err("source must name a source".into());
                    }
                    source_count += 1;
                    if source_count > MAX_SOURCES {
                        return Err(format!("source given more than {MAX_SOURCES} times"));
                    }
                    if !req.sources.iter().any(|s| s == value) {
                        req.sources.push(value.to_string());
                    }
                }
                "lang" => {
                    req.lang = Some(
                        crate::model::text::language_tag(value)
                            .ok_or("lang must be a language tag like en or ru-RU")?,
                    )
                }
                "before" => {
                    req.before =
                        Some(parse_cursor(value).ok_or("before is not a cursor from a next link")?)
                }
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}; expected limit, since, q, source, lang or before"
                    ));
                }
            }
        }
        req.sources.sort();
        Ok(req)
    }

    /// The request as a query string (without `?`), canonical order,
    /// percent-encoded; empty when nothing was asked.
    pub fn to_query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(n) = self.limit {
            q.append_pair("limit", &n.to_string());
        }
        if let Some(s) = self.since {
            q.append_pair(
                "since",
                &s.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            );
        }
        if let Some(k) = &self.q {
            q.append_pair("q", k);
        }
        for s in &self.sources {
            q.append_pair("source", s);
        }
        if let Some(l) = &self.lang {
            q.append_pair("lang", l);
        }
        if let Some(c) = self.before {
            q.append_pair("before", &cursor_text(c));
        }
        q.finish()
    }

    /// The same filters, starting at another position.
    pub fn at(&self, before: Option<Cursor>) -> FeedRequest {
        FeedRequest {
            before,
            ..self.clone()
        }
    }

    /// Whether anything but the page position narrows the feed.
    pub fn is_filtered(&self) -> bool {
        self.since.is_some() || self.q.is_some() || !self.sources.is_empty() || self.lang.is_some()
    }
}

/// `{published}.{seq}`: opaque to readers, readable in logs.
pub fn cursor_text(c: Cursor) -> String {
    format!("{}.{}", c.published, c.seq)
}

fn parse_cursor(s: &str) -> Option<Cursor> {
    let (p, q) = s.split_once('.')?;
    Some(Cursor {
        published: p.parse().ok()?,
        seq: q.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<FeedRequest, String> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        FeedRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    #[test]
    fn round_trips_in_canonical_order() {
        let r = parse("source=b&q=%D0%91%D1%8E%D0%B4%D0%B6%D0%B5%D1%82&source=a&limit=5&before=1700000000.42&lang=ru_RU&since=2025-03-14T12:30:00%2B03:00").unwrap();
        assert_eq!(r.limit, Some(5));
        assert_eq!(r.sources, ["a", "b"]);
        assert_eq!(r.q.as_deref(), Some("Бюджет"));
        assert_eq!(r.lang.as_deref(), Some("ru-RU"));
        assert_eq!(
            r.before,
            Some(Cursor {
                published: 1_700_000_000,
                seq: 42
            })
        );
        assert_eq!(
            r.since.map(|d| d.to_rfc3339()).as_deref(),
            Some("2025-03-14T09:30:00+00:00")
        );
        let text = r.to_query();
        assert_eq!(parse(&text).unwrap(), r);
        assert!(
            text.starts_with("limit=5&since=2025-03-14T09%3A30%3A00Z&q="),
            "{text}"
        );
    }

    #[test]
    fn bad_values_have_reasons() {
        for (q, reason) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("limit=x", "limit"),
            ("since=yesterday", "since"),
            ("q=", "q"),
            ("lang=%22%3E", "lang"),
            ("before=abc", "before"),
            ("page=2", "unknown parameter"),
            ("limit=5&limit=6", "more than once"),
            ("q=a&q=b", "more than once"),
        ] {
            let err = parse(q).unwrap_err();
            assert!(err.contains(reason), "{q}: {err}");
        }
        assert_eq!(parse("").unwrap(), FeedRequest::default());
        let many: Vec<String> = (0..=MAX_SOURCES).map(|i| format!("source=s{i}")).collect();
        assert!(parse(&many.join("&")).unwrap_err().contains("more than 32"));
        assert_eq!(
            parse(&many[1..].join("&")).unwrap().sources.len(),
            MAX_SOURCES
        );
    }
}
