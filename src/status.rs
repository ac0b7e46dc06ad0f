//! Source health as JSON (`/status`) and as a table (`feedmerge status`).

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
        "url": s.url,
        "title": s.title,
        "last_attempt": time(s.last_attempt),
        "last_success": time(s.last_success),
        "last_status": s.last_status,
        "last_error": s.last_error,
        "consecutive_failures": s.consecutive_failures,
        "next_check": time(s.next_check),
        "items": s.items,
        "failing_since": time(s.failing_since),
        "moved_to": s.moved_to,
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
        "{:<20} {:<6} {:>6} {:>5} {:<16} {}\n",
        "SOURCE", "STATUS", "ITEMS", "FAILS", "LAST SUCCESS", "LAST ERROR"
    );
    for s in rows {
        let mut note = s.last_error.clone().unwrap_or_default();
        if let Some(to) = &s.moved_to {
            // The config stays the source of truth; this is a suggestion.
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!(
                "moved permanently to {to}: update the config's url"
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
