//! `GET /metrics` (Prometheus text format) and the middleware that counts
//! every answer by route class and status. Route classes, not paths: a
//! path holds section names and a client could mint endless ones.

use super::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The route class of a request path, for the `route` label.
fn route_class(path: &str) -> &'static str {
    match path {
        "/" => "index",
        "/healthz" => "healthz",
        "/status" | "/status.html" => "status",
        "/metrics" => "metrics",
        "/sources.opml" => "opml",
        p if p.starts_with("/sections/") => "section",
        p if p.starts_with("/feeds/") => "feed",
        _ => "other",
    }
}

/// Counts the answer to every request.
pub(super) async fn count(request: Request, next: Next) -> Response {
    let route = route_class(request.uri().path());
    let response = next.run(request).await;
    crate::telemetry::metrics().http(route, response.status().as_u16());
    response
}

/// The scrape: state figures read now, then every metric.
pub(super) async fn metrics(State(st): State<AppState>) -> Response {
    let m = crate::telemetry::metrics();
    let g = &m.gauges;
    if let Ok(list) = st.store.source_status().await {
        g.sources.set(list.len() as i64);
        let failing = list.iter().filter(|s| s.consecutive_failures > 0);
        g.sources_failing.set(failing.clone().count() as i64);
        g.sources_blocked.set(
            failing
                .filter(|s| {
                    s.last_error
                        .as_deref()
                        .is_some_and(|e| e.starts_with("blocked:"))
                })
                .count() as i64,
        );
        g.items_stored
            .set(list.iter().map(|s| s.items as i64).sum());
    }
    g.write_queue.set(st.store.write_queue_depth() as i64);
    let (db, wal) = st.store.file_sizes();
    g.database_bytes.set(db as i64);
    g.wal_bytes.set(wal as i64);
    g.cache_entries.set(st.cache.len() as i64);
    g.cache_bytes.set(st.cache.bytes() as i64);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}
