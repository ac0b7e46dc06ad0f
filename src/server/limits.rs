//! What one request may cost: the URL's length, parameters on routes that
//! take none, and a place among the bounded number of uncached renders.
//! Header size, header read time and open connections are bounded where
//! connections are accepted (`listen`).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The longest request target accepted (path and query). Feed URLs are
/// short; a 64 KB one is an attack on the cache or the logs.
pub const MAX_URI: usize = 4096;

/// How long a request waits for a render slot before it is told to come
/// back: long enough to ride out a burst, short enough that a reader is
/// not left hanging while the pool is flooded.
pub const RENDER_WAIT: Duration = Duration::from_millis(250);

/// Refuses over-long URLs (414) and any query on routes that read none
/// (400), so no request shape escapes the parsed, normalized cache keys.
pub(super) async fn strict_request(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let len = uri.path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI {
        return (
            StatusCode::URI_TOO_LONG,
            format!("request target of {len} bytes; at most {MAX_URI}\n"),
        )
            .into_response();
    }
    let path = uri.path();
    let takes_query = path.starts_with("/sections/") || path.starts_with("/feeds/");
    if !takes_query && uri.query().is_some_and(|q| !q.is_empty()) {
        return (
            StatusCode::BAD_REQUEST,
            format!("{path} takes no query parameters\n"),
        )
            .into_response();
    }
    next.run(request).await
}

/// The bounded set of uncached renders running at once.
#[derive(Clone)]
pub struct RenderSlots {
    slots: Arc<Semaphore>,
}

impl RenderSlots {
    /// `n` renders at once (at least one).
    pub fn new(n: usize) -> RenderSlots {
        RenderSlots {
            slots: Arc::new(Semaphore::new(n.max(1))),
        }
    }

    /// A slot, waiting at most [`RENDER_WAIT`]; `None` when all stayed
    /// taken (answer [`busy`]).
    pub async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        match tokio::time::timeout(RENDER_WAIT, Arc::clone(&self.slots).acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            // Timed out (or closed, which never happens): too busy now.
            // `/metrics` counts these among the route's 503s.
            _ => None,
        }
    }
}

/// 503 with `Retry-After: 1`: every render slot is taken.
pub fn busy() -> Response {
    let mut res = (
        StatusCode::SERVICE_UNAVAILABLE,
        "busy rendering other answers; retry in a second\n",
    )
        .into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}
