//! TEMPORARY stub; replaced by the real parser.
use chrono::{DateTime, Utc};
/// Parses a feed date.
pub fn parse_date(raw: &str, _zone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .or_else(|_| DateTime::parse_from_rfc2822(raw.trim()))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
