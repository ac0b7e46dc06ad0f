//! Fetch: one conditional GET per poll, with a timeout over the whole
//! exchange, a body cap enforced while streaming (on the decompressed bytes,
//! so a gzip bomb costs at most the cap), redirects followed by hand (so a
//! loop is named and a permanent move is noticed), and the raw bytes handed
//! on untouched — decoding text here would garble windows-1251 feeds.
//!
//! Owns HTTP for polling. Never decodes, parses or stores.

pub mod challenge;
pub mod discover;
mod error;
mod freshness;
mod request;

pub use error::FetchError;
pub use freshness::{freshness, retry_after};
pub use request::RequestOptions;

use crate::config::{FetchSettings, SourceConfig};
use crate::model::Validators;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use std::collections::HashMap;
use std::time::Duration;
use url::Url;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// A body that arrived with 200.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// HTTP status (2xx).
    pub status: u16,
    /// Validators to store for the next poll.
    pub validators: Validators,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// `Content-Location` header, if any: where the document says it lives
    /// (a base for its relative links).
    pub content_location: Option<String>,
    /// `Content-Language` header, if any: the feed's language when the
    /// document names none.
    pub content_language: Option<String>,
    /// Raw body bytes, decompressed but not decoded.
    pub body: Vec<u8>,
}

/// What the request produced.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// 304: nothing changed since the validators we sent.
    NotModified,
    /// A new body.
    Fetched(Fetched),
}

/// A successful exchange and what it says about the source.
#[derive(Debug, Clone)]
pub struct FetchResponse {
    /// 304 or a body.
    pub outcome: FetchOutcome,
    /// URL after redirects: the base for relative links.
    pub final_url: String,
    /// Where a chain of only permanent redirects (301/308) led, if anywhere:
    /// a suggestion to update the config, which stays the source of truth.
    pub moved_permanently: Option<String>,
    /// How long the server says the response stays fresh
    /// (`Cache-Control: max-age`, else `Expires`).
    pub freshness: Option<Duration>,
}

/// Shared HTTP clients with our policies baked in: one default, one per
/// configured proxy.
#[derive(Debug, Clone)]
pub struct Fetcher {
    default: reqwest::Client,
    proxied: HashMap<String, reqwest::Client>,
    max_body: u64,
    user_agent: String,
}

fn client(proxy: Option<&str>) -> Result<reqwest::Client, FetchError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        // Redirects are followed by hand in `fetch`.
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .brotli(true)
        .deflate(true);
    if let Some(p) = proxy {
        b = b.proxy(
            reqwest::Proxy::all(p).map_err(|e| FetchError::Client(format!("proxy {p}: {e}")))?,
        );
    }
    b.build().map_err(|e| FetchError::Client(e.to_string()))
}

impl Fetcher {
    /// Builds the clients for `sources`' proxies. Fails only if the TLS
    /// backend cannot initialise or a proxy URL is unusable.
    pub fn new<'a>(
        settings: &FetchSettings,
        sources: impl IntoIterator<Item = &'a SourceConfig>,
    ) -> Result<Fetcher, FetchError> {
        let mut proxied = HashMap::new();
        for s in sources {
            if let Some(p) = &s.proxy
                && !proxied.contains_key(p)
            {
                proxied.insert(p.clone(), client(Some(p))?);
            }
        }
        Ok(Fetcher {
            default: client(None)?,
            proxied,
            max_body: settings.max_body,
            user_agent: settings.user_agent.clone(),
        })
    }

    /// GETs `opts.url`, conditionally when validators are given, within
    /// `opts.timeout` for the whole exchange including redirects and body.
    pub async fn fetch(&self, opts: &RequestOptions<'_>) -> Result<FetchResponse, FetchError> {
        match tokio::time::timeout(opts.timeout, self.fetch_inner(opts)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(opts.timeout)),
        }
    }

    async fn fetch_inner(&self, opts: &RequestOptions<'_>) -> Result<FetchResponse, FetchError> {
        let client = match opts.proxy {
            Some(p) => self.proxied.get(p).unwrap_or(&self.default),
            None => &self.default,
        };
        let (mut response, redirects) = self.follow_redirects(client, opts).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let final_url = redirects.url.to_string();
        let moved_permanently = redirects.moved_permanently();
        let fresh = freshness(&headers);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(FetchResponse {
                outcome: FetchOutcome::NotModified,
                final_url,
                moved_permanently,
                freshness: fresh,
            });
        }
        if !status.is_success() {
            // A 403/429/503 may be a bot challenge: say so, since backing
            // off hard (not fixing a URL) is what it needs.
            if matches!(status.as_u16(), 403 | 429 | 503)
                && let Ok(head) = self.read_body(&mut response).await
                && let Some(title) = challenge::challenge(&head)
            {
                return Err(FetchError::Blocked {
                    status: status.as_u16(),
                    title,
                });
            }
            return Err(FetchError::Status {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
                retry_after: retry_after(&headers),
            });
        }
        let body = self.read_body(&mut response).await?;
        Ok(FetchResponse {
            outcome: FetchOutcome::Fetched(Fetched {
                status: status.as_u16(),
                validators: validators_of(&headers),
                content_type: header_str(&headers, header::CONTENT_TYPE),
                content_location: header_str(&headers, header::CONTENT_LOCATION),
                content_language: header_str(&headers, header::CONTENT_LANGUAGE),
                body,
            }),
            final_url,
            moved_permanently,
            freshness: fresh,
        })
    }

    /// Sends the request and follows redirects by hand (so loops, chains
    /// that are too long and permanent moves are ours to see), returning the
    /// first response that is not a redirect and the path taken to it.
    async fn follow_redirects(
        &self,
        client: &reqwest::Client,
        opts: &RequestOptions<'_>,
    ) -> Result<(reqwest::Response, Redirects), FetchError> {
        let url = Url::parse(opts.url)
            .map_err(|e| FetchError::Client(format!("bad URL {}: {e}", opts.url)))?;
        let mut path = Redirects {
            url,
            chain: Vec::new(),
            all_permanent: true,
        };
        loop {
            let request = opts.build(client.get(path.url.clone()), &self.user_agent)?;
            let response = request.send().await.map_err(FetchError::from_reqwest)?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok((response, path));
            }
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok());
            path.follow(status, location)?;
        }
    }

    /// Reads the body, never holding more than the cap plus one chunk
    /// whatever the server claims or sends.
    async fn read_body(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let too_large = || FetchError::TooLarge {
            limit: self.max_body,
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body)
        {
            return Err(too_large());
        }
        // Sized once from the declared length (never beyond 1 MiB, whatever
        // the server claims), instead of growing and copying as chunks come.
        let declared = response.content_length().unwrap_or(0).min(1 << 20);
        let mut body = Vec::with_capacity(declared as usize);
        while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
            // Checked per chunk on decompressed bytes: a gzip bomb stops at
            // the cap.
            if body.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The redirects one fetch has followed so far.
struct Redirects {
    /// Where the next request goes (at the end: the final URL).
    url: Url,
    /// Every URL left behind, in order.
    chain: Vec<Url>,
    /// Whether every hop so far was permanent (301/308).
    all_permanent: bool,
}

impl Redirects {
    /// Takes one hop to `location`, refusing a redirect without a usable
    /// `Location`, a loop, or more than [`MAX_REDIRECTS`] hops.
    fn follow(&mut self, status: StatusCode, location: Option<&str>) -> Result<(), FetchError> {
        let Some(next) = location.and_then(|l| self.url.join(l).ok()) else {
            return Err(FetchError::Redirect(format!(
                "HTTP {} from {} without a usable Location",
                status.as_u16(),
                self.url
            )));
        };
        self.all_permanent &= matches!(
            status,
            StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
        );
        self.chain.push(self.url.clone());
        if self.chain.contains(&next) {
            let path: Vec<String> = self
                .chain
                .iter()
                .chain(std::iter::once(&next))
                .map(Url::to_string)
                .collect();
            return Err(FetchError::Redirect(format!(
                "redirect loop: {}",
                path.join(" → ")
            )));
        }
        if self.chain.len() > MAX_REDIRECTS {
            return Err(FetchError::Redirect(format!(
                "more than {MAX_REDIRECTS} redirects, last to {next}"
            )));
        }
        self.url = next;
        Ok(())
    }

    /// The final URL, when every hop to it was permanent: a suggestion to
    /// update the config.
    fn moved_permanently(&self) -> Option<String> {
        (!self.chain.is_empty() && self.all_permanent).then(|| self.url.to_string())
    }
}

pub(crate) fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use crate::model::charset::charset_of;

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
