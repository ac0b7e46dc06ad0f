//! HTTP: the merged feeds and their HTML pages, the index, `/sources.opml`,
//! `/healthz` and `/status`, served by axum.
//! `serve(listener, …, shutdown)` lets tests run and stop a real server.
//!
//! Owns the HTTP front door: routes, conditional answers, the rendered-answer
//! cache and the status JSON. Chooses stories through `feeds` and bytes
//! through `export`; never polls and never writes to the store.

pub mod cache;
mod conditional;
pub mod encoding;
pub mod limits;
mod listen;
mod metrics;
mod pages;
pub mod status;
pub mod status_page;

use crate::config::{Config, Live};
use crate::server::cache::FeedCache;
use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The config in force (replaced by a reload).
    pub config: Live,
    /// Storage (read side).
    pub store: Arc<dyn Store>,
    /// Rendered feeds and pages; the daemon keeps it in step with polls.
    pub cache: Arc<FeedCache>,
    /// Uncached renders at once, fewer than the store's readers so
    /// `/healthz` always finds one.
    pub renders: limits::RenderSlots,
    /// The low-priority threads renders and compression run on.
    pub render_pool: crate::background::Pool,
    /// The status page's per-day counts, shared by its views.
    pub charts: Arc<status_page::Charts>,
}

impl AppState {
    /// State with an empty cache. Without a change feed attached (see
    /// [`FeedCache::follow`]) the cache would serve stale feeds, so callers
    /// that poll must attach one.
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>) -> AppState {
        AppState::live(Live::new(config), store)
    }

    /// State whose config follows `config` as the daemon reloads it.
    /// The cache budget and the render bound are read now, once.
    pub fn live(config: Live, store: Arc<dyn Store>) -> AppState {
        let limits = config.get().serving.clone();
        let renders = limits
            .max_renders
            .unwrap_or_else(|| store.read_concurrency().saturating_sub(1));
        AppState {
            config,
            store,
            cache: Arc::new(FeedCache::with_budget(limits.cache_bytes)),
            renders: limits::RenderSlots::new(renders),
            render_pool: crate::background::Pool::new(
                "feedmerge-render",
                renders,
                crate::background::RENDER_NICE,
            ),
            charts: Arc::default(),
        }
    }
}

/// The routes. Responses are gzip- or brotli-compressed by `Accept-Encoding`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/sections/{file}", get(pages::section))
        .route("/feeds/{file}", get(pages::named_feed))
        .route("/sources.opml", get(sources_opml))
        .route("/healthz", get(healthz))
        .route("/status", get(status))
        .route("/status.html", get(status_html))
        .route("/metrics", get(metrics::metrics))
        .layer(axum::middleware::from_fn(limits::strict_request))
        .layer(axum::middleware::from_fn(metrics::count))
        .layer(axum::middleware::from_fn(hygiene))
        .layer(CompressionLayer::new().gzip(true).br(true))
        .with_state(state)
}

/// Headers every answer carries: no MIME sniffing anywhere, and for the
/// HTML pages (which use no scripts) a strict content policy and no
/// referrer leaking a reader's subscriptions to the sites linked.
async fn hygiene(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        );
        h.insert(
            header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

/// Serves until `shutdown` completes, then finishes requests in flight.
/// Connections are bounded in number and in how long their headers may
/// take (see `listen`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = listen::ConnLimits::from_config(&state.config.get().serving);
    listen::serve(listener, router(state), limits, shutdown).await
}

async fn sources_opml(State(st): State<AppState>) -> Response {
    match st.store.source_status().await {
        Ok(list) => (
            [(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")],
            crate::publish::opml::render(&st.config.get(), &list),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response(),
    }
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        // Serving goes on from what is stored; this tells the monitor.
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage degraded: {e}\n"),
        )
            .into_response(),
    }
}

/// `/status`: JSON, or the page when the `Accept` header prefers HTML.
/// Either way the answer varies by `Accept`, which caches must know.
async fn status(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = if status_page::wants_html(&headers) {
        status_page_response(st).await
    } else {
        status_json(st).await
    };
    response
        .headers_mut()
        .append(header::VARY, axum::http::HeaderValue::from_static("accept"));
    response
}

async fn status_html(State(st): State<AppState>) -> Response {
    status_page_response(st).await
}

async fn status_json(st: AppState) -> Response {
    let (list, stats) = tokio::join!(st.store.source_status(), st.store.store_stats());
    match list {
        Ok(list) => {
            let sources: Vec<_> = list.iter().map(crate::server::status::to_json).collect();
            // The sources' health is what an operator needs most; a store
            // whose size cannot be read (its file deleted, say) says why.
            let store = match stats {
                Ok(stats) => crate::server::status::store_json(&stats),
                Err(e) => serde_json::json!({ "error": e.to_string() }),
            };
            axum::Json(serde_json::json!({ "sources": sources, "store": store })).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response(),
    }
}

/// The status page, rendered per view from the sources' health (one read)
/// and the shared chart counts.
async fn status_page_response(st: AppState) -> Response {
    let now = chrono::Utc::now();
    let (list, stats, counts) = tokio::join!(
        st.store.source_status(),
        st.store.store_stats(),
        st.charts
            .counts(st.store.as_ref(), st.cache.generation(), now)
    );
    let list = match list {
        Ok(list) => list,
        Err(e) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response();
        }
    };
    let page = status_page::Page {
        base: st.config.get().public_base(),
        sources: &list,
        counts: counts.as_deref().map_err(|e| e.to_string()),
        store: stats.as_ref().map_err(|e| e.to_string()),
        now,
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        status_page::render(&page),
    )
        .into_response()
}
