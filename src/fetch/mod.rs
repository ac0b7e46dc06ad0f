//! Fetch: one conditional GET per poll, with a timeout, a body cap enforced
//! while streaming (on the decompressed bytes, so a gzip bomb costs at most
//! the cap), and the raw bytes handed on untouched — decoding text here would
//! garble windows-1251 feeds.

mod error;

pub use error::FetchError;

use crate::config::FetchSettings;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use std::time::Duration;

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// The default `User-Agent`: names us and our version, so publishers can
/// tell who polls them.
pub fn default_user_agent() -> String {
    format!(
        "feedmerge/{} (+https://github.com/feedmerge/feedmerge; feed aggregator)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Validators from the last 200, sent back so an unchanged feed costs a 304.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag` as received.
    pub etag: Option<String>,
    /// `Last-Modified` as received (never invented).
    pub last_modified: Option<String>,
}

/// A body that arrived with 200.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// HTTP status (2xx).
    pub status: u16,
    /// The URL after redirects: the base for relative links.
    pub final_url: String,
    /// Validators to store for the next poll.
    pub validators: Validators,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Raw body bytes, decompressed but not decoded.
    pub body: Vec<u8>,
}

/// What a poll's request produced.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// 304: nothing changed since the validators we sent.
    NotModified,
    /// A new body.
    Fetched(Fetched),
}

/// A shared HTTP client with our policies baked in.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
}

impl Fetcher {
    /// Builds the client. Fails only if the TLS backend cannot initialise.
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            max_body: settings.max_body,
        })
    }

    /// GETs `url`, conditionally when validators are given, within `timeout`
    /// for the whole exchange including the body.
    pub async fn fetch(
        &self,
        url: &str,
        validators: &Validators,
        timeout: Duration,
    ) -> Result<FetchOutcome, FetchError> {
        match tokio::time::timeout(timeout, self.fetch_inner(url, validators)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(timeout)),
        }
    }

    async fn fetch_inner(
        &self,
        url: &str,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let mut request = self.client.get(url).header(
            header::ACCEPT,
            "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
        );
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        let mut response = request.send().await.map_err(FetchError::from_reqwest)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(FetchOutcome::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
            });
        }
        let headers = response.headers().clone();
        let final_url = response.url().to_string();
        if let Some(len) = response.content_length()
            && len > self.max_body
        {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
            // Checked per chunk on decompressed bytes: memory never exceeds
            // the cap plus one chunk, whatever the server claims.
            if body.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(FetchError::TooLarge {
                    limit: self.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchOutcome::Fetched(Fetched {
            status: status.as_u16(),
            final_url,
            validators: validators_of(&headers),
            content_type: header_str(&headers, header::CONTENT_TYPE),
            body,
        }))
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|v| !v.is_empty())
}

fn validators_of(headers: &HeaderMap) -> Validators {
    Validators {
        etag: header_str(headers, header::ETAG),
        last_modified: header_str(headers, header::LAST_MODIFIED),
    }
}

/// The `charset` parameter of a `Content-Type` value, unquoted.
pub fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| {
                v.trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .trim()
                    .to_string()
            })
            .filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::charset_of;

    #[test]
    fn charset_is_read_from_content_type() {
        assert_eq!(
            charset_of("text/xml; charset=windows-1251").as_deref(),
            Some("windows-1251")
        );
        assert_eq!(
            charset_of("text/xml;charset=\"KOI8-R\"").as_deref(),
            Some("KOI8-R")
        );
        assert_eq!(charset_of("application/rss+xml"), None);
        assert_eq!(charset_of("text/xml; charset="), None);
    }
}
