//! Feed-level schedule hints: RSS `<ttl>` (minutes) and the syndication
//! module's `sy:updatePeriod` / `sy:updateFrequency`.

use std::time::Duration;

/// The interval a feed document asks for, if any: the longer of `<ttl>` and
/// `sy:updatePeriod / sy:updateFrequency`.
pub fn feed_interval(ttl_minutes: Option<u32>, body: &str) -> Option<Duration> {
    let ttl = ttl_minutes
        .filter(|m| *m > 0)
        .map(|m| Duration::from_secs(u64::from(m) * 60));
    let sy = syndication_interval(body);
    match (ttl, sy) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// `sy:updatePeriod` (hourly, daily, weekly, monthly, yearly) divided by
/// `sy:updateFrequency` (default 1). feed-rs ignores the module, and the two
/// tags are plain ASCII, so a substring scan is enough.
fn syndication_interval(body: &str) -> Option<Duration> {
    let period = element_text(body, "updatePeriod")?;
    let secs: u64 = match period.to_ascii_lowercase().as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    let freq = element_text(body, "updateFrequency")
        .and_then(|f| f.parse::<u64>().ok())
        .filter(|f| *f > 0)
        .unwrap_or(1);
    Some(Duration::from_secs(secs / freq))
}

fn element_text<'a>(body: &'a str, local: &str) -> Option<&'a str> {
    // Only the channel head matters; never scan a 10 MiB body for it.
    let head = &body[..floor_char_boundary(body, 8 * 1024)];
    let open = format!(":{local}>");
    let start = memchr::memmem::find(head.as_bytes(), open.as_bytes())? + open.len();
    let end = head[start..].find('<')? + start;
    Some(head[start..end].trim())
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_and_sy_hints_are_read() {
        assert_eq!(feed_interval(Some(30), ""), Some(Duration::from_secs(1800)));
        let sy = "<channel><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>";
        assert_eq!(feed_interval(None, sy), Some(Duration::from_secs(1800)));
        assert_eq!(
            feed_interval(Some(60), sy),
            Some(Duration::from_secs(3600)),
            "the longer wins"
        );
        assert_eq!(
            feed_interval(None, "<sy:updatePeriod>daily</sy:updatePeriod>"),
            Some(Duration::from_secs(86400))
        );
        assert_eq!(
            feed_interval(None, "<sy:updatePeriod>sometimes</sy:updatePeriod>"),
            None
        );
        assert_eq!(feed_interval(Some(0), "<rss>"), None);
    }
}
