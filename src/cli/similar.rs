//! `feedmerge similar --pairs FILE`: the daemon's near-duplicate decision
//! over labelled pairs, one JSON line in, one JSON line out, in order.
//! This is how the decision is measured against a gold set.

use crate::cluster::{self, Decision, Report};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::io::{BufRead, Write};
use std::time::Duration;

/// One input line. Other keys (`label`, `kind`) are ignored.
#[derive(Debug, Deserialize)]
struct Pair {
    id: serde_json::Value,
    a: Side,
    b: Side,
}

/// One report of a pair.
#[derive(Debug, Deserialize)]
struct Side {
    /// Missing: an unknown outlet, never taken for the other's.
    #[serde(default)]
    source: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    lead: String,
    /// RFC 3339 (RFC 2822 and ISO without an offset, as UTC, accepted
    /// too); missing or null: no window check.
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// What went wrong with one input line.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The line is not a JSON object of the pair format.
    #[error("line {line}: not a pair {{\"id\", \"a\", \"b\"}}: {source}")]
    Shape {
        /// 1-based line number.
        line: usize,
        /// serde_json's reason.
        source: serde_json::Error,
    },
    /// A `published` value is not an RFC 3339 time (nor RFC 2822, nor ISO
    /// without an offset).
    #[error("line {line}: {side}.published {value:?} is not an RFC 3339 time")]
    Published {
        /// 1-based line number.
        line: usize,
        /// `a` or `b`.
        side: &'static str,
        /// The value given.
        value: String,
    },
}

/// One output line.
#[derive(Debug, serde::Serialize)]
struct Answer<'a> {
    id: &'a serde_json::Value,
    same: bool,
    rule: &'static str,
    score: f64,
}

/// Decides every pair of `input`, writing one answer line per good line to
/// `out`; bad lines are returned (and skipped) so the caller names them
/// all. An I/O error stops the run.
pub fn run(
    input: impl BufRead,
    mut out: impl Write,
    window: Duration,
) -> std::io::Result<Vec<LineError>> {
    let mut errors = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match parse(&line, n + 1) {
            Ok((id, a, b)) => {
                let d: Decision = cluster::decide(&a, &b, window);
                let answer = Answer {
                    id: &id,
                    same: d.same,
                    rule: d.rule.as_str(),
                    score: d.score,
                };
                serde_json::to_writer(&mut out, &answer)?;
                out.write_all(b"\n")?;
            }
            Err(e) => errors.push(e),
        }
    }
    out.flush()?;
    Ok(errors)
}

fn parse(line: &str, n: usize) -> Result<(serde_json::Value, Report, Report), LineError> {
    let pair: Pair =
        serde_json::from_str(line).map_err(|source| LineError::Shape { line: n, source })?;
    let a = report(pair.a, n, "a")?;
    let b = report(pair.b, n, "b")?;
    Ok((pair.id, a, b))
}

fn report(side: Side, line: usize, name: &'static str) -> Result<Report, LineError> {
    let published = match side.published {
        None => None,
        Some(p) => Some(parse_time(&p).ok_or(LineError::Published {
            line,
            side: name,
            value: p,
        })?),
    };
    Ok(Report {
        source: side.source,
        title: side.title,
        lead: side.lead,
        published,
        lang: side.lang,
    })
}

/// RFC 3339; also, leniently, RFC 2822 and an ISO time without an
/// offset (read as UTC), since gold sets are written by hand.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) =
        DateTime::parse_from_rfc3339(text).or_else(|_| DateTime::parse_from_rfc2822(text))
    {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
    .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named_and_the_rest_answered_in_order() {
        let input = concat!(
            r#"{"id":1,"a":{"source":"x","title":"Курс маната на 22 ноября"},"b":{"source":"y","title":"Курс маната на 23 ноября"},"label":"different"}"#,
            "\n\nnot json\n",
            r#"{"id":"p3","a":{"source":"x","title":"t","published":"yesterday"},"b":{"source":"y","title":"t"}}"#,
            "\n",
            r#"{"id":"p4","a":{"source":"x","title":"t","published":"2026-11-22T10:00:00+04:00"},"b":{"source":"x","title":"t","published":"2026-11-22 08:00"}}"#,
            "\n"
        );
        let mut out = Vec::new();
        let errors = run(input.as_bytes(), &mut out, cluster::DEFAULT_WINDOW).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with(r#"{"id":1,"same":false,"rule":"date-conflict""#),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with(r#"{"id":"p4","same":false,"rule":"same-source""#),
            "{}",
            lines[1]
        );
        let named: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(named[0].starts_with("line 3: "), "{named:?}");
        assert!(
            named[1].starts_with("line 4: a.published \"yesterday\""),
            "{named:?}"
        );
    }
}
