//! Conditional GET (RFC 9110 §13): a cached render answers 304 when the
//! client's `If-None-Match` or `If-Modified-Since` shows it has it already.

use crate::model::http_date::parse_http_date;
use crate::server::cache::Rendered;
use crate::server::encoding::{Coding, negotiate};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};

/// The response for `r` given the request's headers: 304 with validators
/// and no body, or 200 with the body.
pub(super) fn respond(headers: &HeaderMap, r: &Rendered) -> Response<Body> {
    let coding = negotiate(
        headers.get(header::ACCEPT_ENCODING),
        r.compressed.gzip.is_some(),
        r.compressed.brotli.is_some(),
    );
    let etag = representation_etag(&r.etag, coding);
    let fresh = match headers.get(header::IF_NONE_MATCH) {
        // If-None-Match wins over If-Modified-Since when both are sent.
        Some(inm) => etag_matches(inm, &etag),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
            .is_some_and(|since| r.modified.timestamp() <= since.timestamp()),
    };
    let bytes = match coding {
        Coding::Gzip => r.compressed.gzip.clone(),
        Coding::Brotli => r.compressed.brotli.clone(),
        Coding::Identity => None,
    }
    .unwrap_or_else(|| r.body.clone());
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        (StatusCode::OK, Body::from(bytes))
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::ETAG, etag);
    // Caches keep one copy per coding.
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(ce) = coding.header() {
        h.insert(header::CONTENT_ENCODING, ce);
    }
    h.insert(header::LAST_MODIFIED, r.last_modified.clone());
    h.insert(header::CACHE_CONTROL, r.cache_control.clone());
    if !fresh {
        h.insert(header::CONTENT_TYPE, r.content_type.clone());
    }
    res
}

/// The ETag of one representation: the body's tag, with a suffix inside
/// the quotes for a compressed one (`W/"…-br"`), so each coding validates
/// on its own (RFC 9110 §8.8.3).
fn representation_etag(base: &HeaderValue, coding: Coding) -> HeaderValue {
    let suffix = coding.etag_suffix();
    if suffix.is_empty() {
        return base.clone();
    }
    let text = base.to_str().unwrap_or("W/\"\"");
    let tagged = match text.strip_suffix('"') {
        Some(open) => format!("{open}{suffix}\""),
        None => format!("{text}{suffix}"),
    };
    HeaderValue::from_str(&tagged).unwrap_or_else(|_| base.clone())
}

/// Weak comparison (§8.8.3.2) against a list of tags or `*`.
fn etag_matches(inm: &HeaderValue, ours: &HeaderValue) -> bool {
    let Ok(list) = inm.to_str() else {
        return false;
    };
    let Ok(ours) = ours.to_str() else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = opaque(ours);
    list.split(',')
        .any(|t| t.trim() == "*" || opaque(t) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::Duration;

    fn rendered() -> Rendered {
        let at = chrono::Utc
            .with_ymd_and_hms(2025, 3, 14, 9, 30, 0)
            .single()
            .expect("valid");
        Rendered::new("body", "text/plain", at, Duration::from_secs(60))
    }

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).expect("ascii"));
        h
    }

    #[test]
    fn validators_answer_304() {
        let r = rendered();
        let tag = r.etag.to_str().expect("ascii").to_string();
        let strong = tag.trim_start_matches("W/").to_string();
        for inm in [tag.as_str(), strong.as_str(), "*", &format!("\"x\", {tag}")] {
            let res = respond(&with(header::IF_NONE_MATCH, inm), &r);
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{inm}");
        }
        let res = respond(&with(header::IF_NONE_MATCH, "\"other\""), &r);
        assert_eq!(res.status(), StatusCode::OK);

        let same = with(header::IF_MODIFIED_SINCE, "Fri, 14 Mar 2025 09:30:00 GMT");
        assert_eq!(respond(&same, &r).status(), StatusCode::NOT_MODIFIED);
        let older = with(header::IF_MODIFIED_SINCE, "Fri, 14 Mar 2025 09:29:59 GMT");
        assert_eq!(respond(&older, &r).status(), StatusCode::OK);
        let rfc850 = with(header::IF_MODIFIED_SINCE, "Friday, 14-Mar-25 09:30:00 GMT");
        assert_eq!(respond(&rfc850, &r).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(
            respond(&with(header::IF_MODIFIED_SINCE, "garbage"), &r).status(),
            StatusCode::OK
        );
    }
}
