//! Errors of the fetch boundary, each naming its cause in words an operator
//! can act on.

use std::error::Error as _;
use std::time::Duration;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The HTTP client could not be built (TLS backend failure).
    #[error("cannot build HTTP client: {0}")]
    Client(String),
    /// The whole exchange took longer than the source's timeout.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The host name did not resolve.
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    /// The server refused or dropped the connection.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The TLS handshake or certificate check failed.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// More redirects than we follow, or a loop.
    #[error("too many redirects or a redirect loop: {0}")]
    Redirect(String),
    /// The server answered with a non-success status.
    #[error("HTTP {status} {reason}{}", retry_after.map(|d| format!(" (retry after {})", humantime::format_duration(d))).unwrap_or_default())]
    Status {
        /// Status code.
        status: u16,
        /// Its canonical reason phrase.
        reason: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The site answered with a bot-challenge or access-denied page
    /// instead of the document: backed off hard, never published.
    #[error(
        "blocked: HTTP {status}: the site answered with a bot-challenge or access-denied page (\"{title}\"); backing off"
    )]
    Blocked {
        /// Status code of the answer (200 when the challenge came as one).
        status: u16,
        /// The page's title.
        title: String,
    },
    /// The environment variable holding a source's password is not set.
    #[error("environment variable `{0}` (basic auth password) is not set")]
    MissingSecret(String),
    /// The body (after decompression) exceeded the configured cap.
    #[error("body larger than the {limit}-byte cap (max_body)")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The connection broke while reading the body, or the body was corrupt.
    #[error("reading the body failed: {0}")]
    Body(String),
}

impl FetchError {
    /// Classifies a reqwest error by walking its cause chain, since reqwest
    /// folds DNS, refusal and TLS into one "connect" kind.
    pub(crate) fn from_reqwest(e: reqwest::Error) -> FetchError {
        let chain = chain(&e);
        let lower = chain.to_lowercase();
        let https = e.url().is_some_and(|u| u.scheme() == "https");
        if e.is_redirect() {
            FetchError::Redirect(chain)
        } else if e.is_timeout() {
            // The whole-exchange timeout is ours (`Fetcher::fetch`); what
            // reqwest times out on its own is the connect phase.
            FetchError::Connect(format!("timed out connecting: {chain}"))
        } else if e.is_connect() || e.is_request() {
            if lower.contains("dns")
                || lower.contains("resolve")
                || lower.contains("name or service")
            {
                FetchError::Dns(chain)
            } else if ["certificate", "tls", "handshake", "corrupt message", "alert"]
                .iter()
                .any(|w| lower.contains(w))
                // Past DNS, a failed https connect that was not refused or
                // reset died in the handshake.
                || (https && !lower.contains("refused") && !lower.contains("reset"))
            {
                FetchError::Tls(chain)
            } else {
                FetchError::Connect(chain)
            }
        } else {
            FetchError::Body(chain)
        }
    }

    /// The server's `Retry-After`, when it sent one with the failure.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the site answered with a bot challenge.
    pub fn is_blocked(&self) -> bool {
        matches!(self, FetchError::Blocked { .. })
    }

    /// The HTTP status, when the failure was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } | FetchError::Blocked { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The error and its causes on one line, without reqwest's URL noise repeated.
fn chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
