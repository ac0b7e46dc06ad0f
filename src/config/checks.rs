//! The validation context (problems collected with their lines) and the
//! checks shared by several keys: names, durations, schedules, regexes.

use super::{ConfigProblem, Schedule};
use serde::Deserialize;
use serde::de::IntoDeserializer;
use std::collections::HashSet;
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

    /// Line of `key = …` inside the table spanning `span`, for problems found
    /// after deserialization (which keeps no spans).
    pub(super) fn key_offset(&self, span: &std::ops::Range<usize>, key: &str) -> usize {
        // A table's span may cover only its header, so scan from its start
        // to the next header instead of trusting the span's end.
        let body = self.text.get(span.start..).unwrap_or("");
        let mut offset = span.start;
        for (i, line) in body.split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if i > 0 && trimmed.starts_with('[') {
                break;
            }
            if let Some(rest) = trimmed.strip_prefix(key)
                && rest.trim_start().starts_with('=')
            {
                return offset + (line.len() - trimmed.len());
            }
            offset += line.len();
        }
        span.start
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
    key: &str,
    span: &std::ops::Range<usize>,
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
                let at = cx.key_offset(span, field);
                let reason = e.to_string();
                let reason = reason.lines().last().unwrap_or("invalid").trim();
                cx.problem(
                    format!("{key}.{field}"),
                    Some(at),
                    format!("`{p}` is not a valid regex: {reason}"),
                );
            }
        }
    }
    out
}

pub(super) fn check_name(
    cx: &mut Ctx<'_>,
    key: &str,
    span: &std::ops::Range<usize>,
    name: &str,
    seen: &mut HashSet<String>,
) {
    let at = cx.key_offset(span, "name");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        cx.problem(
            format!("{key}.name"),
            Some(at),
            format!("`{name}` must be letters, digits, - and _ only"),
        );
    } else if !seen.insert(name.to_string()) {
        cx.problem(
            format!("{key}.name"),
            Some(at),
            format!("`{name}` is used twice"),
        );
    }
}

pub(super) fn duration(
    cx: &mut Ctx<'_>,
    key: &str,
    span: &std::ops::Range<usize>,
    field: &str,
    raw: Option<&str>,
) -> Option<Duration> {
    let raw = raw?;
    match humantime::parse_duration(raw) {
        Ok(d) if !d.is_zero() => Some(d),
        Ok(_) => {
            let at = cx.key_offset(span, field);
            cx.problem(key, Some(at), "must be longer than zero");
            None
        }
        Err(e) => {
            let at = cx.key_offset(span, field);
            cx.problem(
                key,
                Some(at),
                format!("`{raw}` is not a duration like 90s, 15m or 2h ({e})"),
            );
            None
        }
    }
}

pub(super) fn schedule(
    cx: &mut Ctx<'_>,
    table: &str,
    span: &std::ops::Range<usize>,
    interval: Option<&str>,
    cron: Option<&str>,
) -> Option<Schedule> {
    match (interval, cron) {
        (Some(_), Some(_)) => {
            let at = cx.key_offset(span, "cron");
            cx.problem(
                format!("{table}.cron"),
                Some(at),
                "set exactly one of interval / cron, not both",
            );
            None
        }
        (Some(i), None) => {
            let d = duration(cx, &format!("{table}.interval"), span, "interval", Some(i))?;
            if d < MIN_INTERVAL {
                let at = cx.key_offset(span, "interval");
                cx.problem(
                    format!("{table}.interval"),
                    Some(at),
                    "must be at least 10s",
                );
                return None;
            }
            Some(Schedule::Every(d))
        }
        (None, Some(c)) => match c.parse() {
            Ok(cron) => Some(Schedule::Cron(cron)),
            Err(e) => {
                let at = cx.key_offset(span, "cron");
                cx.problem(format!("{table}.cron"), Some(at), e.to_string());
                None
            }
        },
        (None, None) => None,
    }
}
