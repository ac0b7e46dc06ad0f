//! What response headers say about when to ask again.

use crate::model::http_date::parse_http_date as http_date;
use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};
use std::time::Duration;

/// Lifetime the server grants: `Cache-Control: max-age` (or `s-maxage`),
/// else `Expires` minus `Date` (or now). `no-cache`/`no-store` grant none.
pub fn freshness(headers: &HeaderMap) -> Option<Duration> {
    if let Some(cc) = super::header_str(headers, header::CACHE_CONTROL) {
        let mut max_age = None;
        for directive in cc.split(',') {
            let d = directive.trim().to_ascii_lowercase();
            if d == "no-cache" || d == "no-store" {
                return None;
            }
            if let Some(v) = d
                .strip_prefix("max-age=")
                .or_else(|| d.strip_prefix("s-maxage="))
            {
                max_age = v
                    .trim_matches('"')
                    .parse::<u64>()
                    .ok()
                    .map(Duration::from_secs)
                    .or(max_age);
            }
        }
        if max_age.is_some() {
            return max_age;
        }
    }
    let expires = http_date(&super::header_str(headers, header::EXPIRES)?)?;
    let now = super::header_str(headers, header::DATE)
        .and_then(|d| http_date(&d))
        .unwrap_or_else(Utc::now);
    (expires - now).to_std().ok()
}

/// `Retry-After` as a duration from now: delta-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, Utc::now())
}

/// [`retry_after`] as seen at `now`.
fn retry_after_at(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let v = super::header_str(headers, header::RETRY_AFTER)?;
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    (http_date(v)? - now).to_std().ok().or(Some(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn max_age_beats_expires() {
        let h = headers(&[
            (header::CACHE_CONTROL, "public, max-age=1800"),
            (header::EXPIRES, "Wed, 21 Oct 2015 07:28:00 GMT"),
        ]);
        assert_eq!(freshness(&h), Some(Duration::from_secs(1800)));
    }

    #[test]
    fn expires_is_relative_to_date() {
        let h = headers(&[
            (header::DATE, "Wed, 21 Oct 2015 07:00:00 GMT"),
            (header::EXPIRES, "Wed, 21 Oct 2015 08:00:00 GMT"),
        ]);
        assert_eq!(freshness(&h), Some(Duration::from_secs(3600)));
        // RFC 850 and asctime dates count too (RFC 9110 §5.6.7).
        let h = headers(&[
            (header::DATE, "Wednesday, 21-Oct-15 07:00:00 GMT"),
            (header::EXPIRES, "Wed Oct 21 07:30:00 2015"),
        ]);
        assert_eq!(freshness(&h), Some(Duration::from_secs(1800)));
    }

    #[test]
    fn no_cache_grants_nothing() {
        assert_eq!(
            freshness(&headers(&[(
                header::CACHE_CONTROL,
                "no-cache, max-age=600"
            )])),
            None
        );
        assert_eq!(freshness(&HeaderMap::new()), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(
            retry_after(&headers(&[(header::RETRY_AFTER, "120")])),
            Some(Duration::from_secs(120))
        );
        // A date is read against a fixed now, not the clock.
        let now = http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let at = |v: &str| retry_after_at(&headers(&[(header::RETRY_AFTER, v)]), now);
        assert_eq!(
            at("Wed, 21 Oct 2015 07:38:00 GMT"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            at("Wed, 21 Oct 2015 07:00:00 GMT"),
            Some(Duration::ZERO),
            "a date gone by means now"
        );
        let later = (Utc::now() + chrono::Duration::seconds(600)).to_rfc2822();
        let d = retry_after(&headers(&[(header::RETRY_AFTER, &later)])).unwrap();
        // Through the clock: whatever time passed, it is no more than 600 s.
        assert!(d > Duration::ZERO && d <= Duration::from_secs(600), "{d:?}");
        assert_eq!(
            retry_after(&headers(&[(header::RETRY_AFTER, "soon")])),
            None
        );
    }
}
