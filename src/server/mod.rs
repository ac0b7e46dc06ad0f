//! HTTP: the merged feeds and their HTML pages, the index, `/sources.opml`,
//! `/healthz` and `/status`, served by axum.
//! `serve(listener, …, shutdown)` lets tests run and stop a real server.
//!
//! Owns the HTTP front door: routes, conditional answers, the rendered-answer
//! cache and the status JSON. Chooses stories through `feeds` and bytes
//! through `export`; never polls and never writes to the store.

pub mod cache;
mod conditional;
mod pages;
pub mod status;

use crate::config::{Config, Live};
use crate::server::cache::FeedCache;
use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
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
}

impl AppState {
    /// State with an empty cache. Without a change feed attached (see
    /// [`FeedCache::follow`]) the cache would serve stale feeds, so callers
    /// that poll must attach one.
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>) -> AppState {
        AppState::live(Live::new(config), store)
    }

    /// State whose config follows `config` as the daemon reloads it.
    pub fn live(config: Live, store: Arc<dyn Store>) -> AppState {
        AppState {
            config,
            store,
            cache: Arc::new(FeedCache::new()),
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
        .layer(CompressionLayer::new().gzip(true).br(true))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
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
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response(),
    }
}

async fn status(State(st): State<AppState>) -> Response {
    let (list, stats) = tokio::join!(st.store.source_status(), st.store.store_stats());
    match list.and_then(|list| Ok((list, stats?))) {
        Ok((list, stats)) => {
            let sources: Vec<_> = list.iter().map(crate::server::status::to_json).collect();
            let store = crate::server::status::store_json(&stats);
            axum::Json(serde_json::json!({ "sources": sources, "store": store })).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response(),
    }
}
