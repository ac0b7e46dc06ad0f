//! HTTP dates (RFC 9110 §5.6.7), written and read one way everywhere:
//! `Last-Modified` on our answers, `Expires`, `Retry-After` and
//! `If-Modified-Since` on what others send.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), written by the
/// httpdate crate (hyper's). It writes years 1970 to 9999 and panics
/// outside them, so dates are clamped into that range first.
pub fn http_date(d: DateTime<Utc>) -> String {
    /// 9999-12-31T23:59:59Z, the last second httpdate can write.
    const LAST: i64 = 253_402_300_799;
    let secs = d.timestamp().clamp(0, LAST).unsigned_abs();
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

/// An HTTP date read from a header (`Expires`, `Date`, `Retry-After`,
/// `If-Modified-Since`). httpdate reads the three forms RFC 9110 §5.6.7
/// requires (IMF-fixdate, RFC 850, asctime); chrono's RFC 2822 parser is
/// the fallback for the numeric zones (`+0000`) some servers send, which
/// were always accepted here.
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    match httpdate::parse_http_date(s) {
        Ok(t) => Some(DateTime::<Utc>::from(t)),
        Err(_) => DateTime::parse_from_rfc2822(s)
            .ok()
            .map(|d| d.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates_both_ways() {
        // Byte for byte what the chrono format string this replaced wrote.
        for secs in (0..253_402_300_799i64).step_by(86_399 * 367 + 3_607) {
            let d = DateTime::from_timestamp(secs, 0).expect("in range");
            let text = http_date(d);
            assert_eq!(text, d.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
            assert_eq!(parse_http_date(&text), Some(d), "{text}");
        }
        let d = |s: &str| DateTime::parse_from_rfc3339(s).expect("valid").to_utc();
        // Outside httpdate's years: clamped, never a panic.
        assert_eq!(
            http_date(d("1969-07-20T20:17:00Z")),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            http_date(DateTime::<Utc>::MAX_UTC),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        let at = d("1994-11-06T08:49:37Z");
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            " Sun, 06 Nov 1994 08:49:37 +0000 ",
            "Sun, 6 Nov 1994 11:49:37 +0300",
        ] {
            assert_eq!(parse_http_date(text), Some(at), "{text}");
        }
        assert_eq!(parse_http_date("garbage"), None);
        assert_eq!(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), None);
    }
}
