//! Source health and the store's size as JSON (`/status`) and as a table
//! with a summary line (`feedmerge status`).

use crate::model::redact::redact;
use crate::store::{SourceStatus, StoreStats};
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
        // More than 5% of the feed's ids are shared by entries with
        // different links: its entries are told apart by link.
        "ids_untrusted": crate::pipeline::ingest::ids_untrusted(&s.name),
        "polled_by": s.polled_by,
        "lease_holder": s.lease_holder,
    })
}

/// The store as `/status` shows it (`"store"`): counts and sizes in bytes.
pub fn store_json(s: &StoreStats) -> Value {
    json!({
        "stories": s.stories,
        "tombstones": s.tombstones,
        "bytes": s.bytes,
        "wal_bytes": s.wal_bytes,
        "free_bytes": s.free_bytes,
    })
}

/// The line under the table: `store: 1234 stories, 9.5 MiB (WAL 1.0 MiB,
/// free 0 B), 12 tombstones`.
pub fn summary(s: &StoreStats) -> String {
    format!(
        "store: {} stories, {} (WAL {}, free {}), {} tombstones\n",
        s.stories,
        size(s.bytes),
        size(s.wal_bytes),
        size(s.free_bytes),
        s.tombstones
    )
}

/// Bytes in binary units, one decimal from KiB on.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
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
            polled_by: None,
            lease_holder: None,
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

    #[test]
    fn the_summary_line_gives_counts_and_sizes() {
        let stats = StoreStats {
            stories: 1234,
            tombstones: 12,
            bytes: 9_961_472,
            wal_bytes: 1024,
            free_bytes: 0,
            shrinks: true,
        };
        assert_eq!(
            summary(&stats),
            "store: 1234 stories, 9.5 MiB (WAL 1.0 KiB, free 0 B), 12 tombstones\n"
        );
        assert_eq!(size(3 * 1024 * 1024 * 1024), "3.0 GiB");
        let json = store_json(&stats);
        assert_eq!(
            (json["stories"].as_u64(), json["bytes"].as_u64()),
            (Some(1234), Some(9_961_472))
        );
    }
}
