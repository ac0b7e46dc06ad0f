//! Source health as JSON (`/status`) and as a table (`feedmerge status`).

use crate::model::redact::redact;
use crate::store::SourceStatus;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

/// One source as `/status` shows it; times are RFC 3339 or null.
pub fn to_json(s: &SourceStatus) -> Value {
    json!({
        "name": s.name,
        "url": redact(&s.url),
        "title": s.title,
        "last_attempt": time(s.last_attempt),
        "last_success": time(s.last_success),
        "last_status": s.last_status,
        "last_error": s.last_error.as_deref().map(redact),
        "consecutive_failures": s.consecutive_failures,
        "next_check": time(s.next_check),
        "items": s.items,
        "failing_since": time(s.failing_since),
        "moved_to": s.moved_to.as_deref().map(redact),
    })
}

/// A table, failing sources first.
pub fn table(list: &[SourceStatus]) -> String {
    let mut rows: Vec<&SourceStatus> = list.iter().collect();
    rows.sort_by_key(|s| (s.consecutive_failures == 0, s.name.clone()));
    let fmt_t = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or("-".into())
    };
    let mut out = format!(
        "{:<20} {:<6} {:>6} {:>5} {:<16} {:<16} {}\n",
        "SOURCE", "STATUS", "ITEMS", "FAILS", "LAST SUCCESS", "NEXT CHECK", "LAST ERROR / NOTE"
    );
    for s in rows {
        let mut note = s
            .last_error
            .as_deref()
            .map(redact)
            .unwrap_or_default()
            .into_owned();
        if let Some(to) = &s.moved_to {
            // The config stays the source of truth; this is a suggestion.
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!(
                "moved permanently to {}: update the config's url",
                redact(to)
            ));
        }
        out.push_str(&format!(
            "{:<20} {:<6} {:>6} {:>5} {:<16} {:<16} {}\n",
            s.name,
            s.last_status.map(|c| c.to_string()).unwrap_or("-".into()),
            s.items,
            s.consecutive_failures,
            fmt_t(s.last_success),
            fmt_t(s.next_check),
            note
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, failures: u32) -> SourceStatus {
        SourceStatus {
            name: name.into(),
            url: format!("https://e.org/{name}"),
            title: None,
            site_url: None,
            last_attempt: None,
            last_success: None,
            last_status: Some(if failures > 0 { 500 } else { 200 }),
            last_error: (failures > 0).then(|| "HTTP 500 Internal Server Error".into()),
            consecutive_failures: failures,
            failing_since: None,
            next_check: None,
            moved_to: (name == "moved").then(|| "https://e.org/new".into()),
            items: 3,
        }
    }

    #[test]
    fn the_table_lists_failing_sources_first_with_notes() {
        let t = table(&[source("a-ok", 0), source("moved", 0), source("z-down", 3)]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("SOURCE") && lines[0].contains("NEXT CHECK"),
            "{t}"
        );
        assert!(
            lines[1].starts_with("z-down") && lines[1].contains("HTTP 500"),
            "{t}"
        );
        assert!(
            lines[3].contains("moved permanently to https://e.org/new"),
            "{t}"
        );
        let json = to_json(&source("z-down", 3));
        assert_eq!(json["consecutive_failures"], 3);
        assert!(json["next_check"].is_null() && json["last_success"].is_null());
    }
}
