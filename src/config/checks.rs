//! The validation context (problems collected with their lines) and the
//! checks shared by several keys: names, URLs, ranges, durations, schedules,
//! regexes. A check that finds a problem records it and returns `None` (or
//! leaves the value out), so validation goes on to the next key.

use super::spans::Keys;
use super::{ConfigProblem, Schedule};
use serde::Deserialize;
use serde::de::IntoDeserializer;
use std::collections::HashSet;
use std::ops::RangeInclusive;
use std::time::Duration;
use toml::Spanned;
use toml::de::DeValue;

/// Polling faster than this is abusive to publishers and never needed for news.
pub(super) const MIN_INTERVAL: Duration = Duration::from_secs(10);

/// Validation state: the config text (to turn spans into lines) and every
/// problem found so far.
pub(super) struct Ctx<'t> {
    pub(super) text: &'t str,
    pub(super) problems: Vec<ConfigProblem>,
}

impl Ctx<'_> {
    pub(super) fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub(super) fn problem(
        &mut self,
        key: impl Into<String>,
        offset: Option<usize>,
        message: impl Into<String>,
    ) {
        let line = offset.map(|o| self.line_at(o));
        self.problems.push(ConfigProblem {
            key: key.into(),
            line,
            message: message.into(),
        });
    }

    /// A problem with `field` of the table `keys`, on the line of its key.
    pub(super) fn bad(&mut self, keys: &Keys, field: &str, message: impl Into<String>) {
        self.problem(keys.path(field), Some(keys.at(field)), message);
    }

    pub(super) fn de<T: for<'de> Deserialize<'de>>(
        &mut self,
        key: &str,
        value: Spanned<DeValue<'_>>,
    ) -> Option<T> {
        let table_start = value.span().start;
        match T::deserialize(value.into_deserializer()) {
            Ok(v) => Some(v),
            Err(e) => {
                let at = e.span().map(|s| s.start).unwrap_or(table_start);
                self.problem(key, Some(at), e.message().trim().to_string());
                None
            }
        }
    }
}

/// Compiles `[[feed]] include`/`exclude`; a bad pattern is a problem with
/// the regex crate's own explanation. Case-insensitive (Unicode), since
/// headlines capitalise words at random.
pub(super) fn regexes(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    field: &str,
    patterns: &[String],
) -> Vec<regex::Regex> {
    let mut out = Vec::new();
    for p in patterns {
        match regex::RegexBuilder::new(p)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
        {
            Ok(r) => out.push(r),
            Err(e) => {
                let reason = e.to_string();
                let reason = reason.lines().last().unwrap_or("invalid").trim();
                cx.bad(keys, field, format!("`{p}` is not a valid regex: {reason}"));
            }
        }
    }
    out
}

/// A `[[source]]` or `[[feed]]` name: URL- and file-safe, and unique among
/// its kind (`seen`).
pub(super) fn check_name(cx: &mut Ctx<'_>, keys: &Keys, name: &str, seen: &mut HashSet<String>) {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        cx.bad(
            keys,
            "name",
            format!("`{name}` must be letters, digits, - and _ only"),
        );
    } else if !seen.insert(name.to_string()) {
        cx.bad(keys, "name", format!("`{name}` is used twice"));
    }
}

/// An absolute http(s) URL; a problem with `field` if not.
pub(super) fn http_url(cx: &mut Ctx<'_>, keys: &Keys, field: &str, url: &str) {
    let scheme = url::Url::parse(url).map(|u| u.scheme().to_string());
    if !matches!(scheme.as_deref(), Ok("http" | "https")) {
        cx.bad(keys, field, format!("`{url}` is not an http(s) URL"));
    }
}

/// `value` within `range`; a problem with `field` if not.
pub(super) fn in_range(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    field: &str,
    value: u64,
    range: RangeInclusive<u64>,
) {
    if !range.contains(&value) {
        let (low, high) = range.into_inner();
        cx.bad(keys, field, format!("must be between {low} and {high}"));
    }
}

/// A duration like `90s` or `15m`, longer than zero; `None` when unset or
/// invalid.
pub(super) fn duration(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    field: &str,
    raw: Option<&str>,
) -> Option<Duration> {
    let raw = raw?;
    match humantime::parse_duration(raw) {
        Ok(d) if !d.is_zero() => Some(d),
        Ok(_) => {
            cx.bad(keys, field, "must be longer than zero");
            None
        }
        Err(e) => {
            cx.bad(
                keys,
                field,
                format!("`{raw}` is not a duration like 90s, 15m or 2h ({e})"),
            );
            None
        }
    }
}

/// `interval` or `cron`, at most one of them; `None` when neither is set or
/// the one set is invalid.
pub(super) fn schedule(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    interval: Option<&str>,
    cron: Option<&str>,
) -> Option<Schedule> {
    match (interval, cron) {
        (Some(_), Some(_)) => {
            cx.bad(keys, "cron", "set exactly one of interval / cron, not both");
            None
        }
        (Some(i), None) => {
            let d = duration(cx, keys, "interval", Some(i))?;
            if d < MIN_INTERVAL {
                cx.bad(keys, "interval", "must be at least 10s");
                return None;
            }
            Some(Schedule::Every(d))
        }
        (None, Some(c)) => match c.parse() {
            Ok(cron) => Some(Schedule::Cron(cron)),
            Err(e) => {
                cx.bad(keys, "cron", e.to_string());
                None
            }
        },
        (None, None) => None,
    }
}
