//! HTTP: the merged feeds, `/healthz` and `/status`, served by axum.
//! `serve(listener, …, shutdown)` lets tests run and stop a real server.

use crate::config::Config;
use crate::export::{self, Format};
use crate::feeds::{self, FeedError, Target};
use crate::store::Store;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The validated config.
    pub config: Arc<Config>,
    /// Storage (read side).
    pub store: Arc<dyn Store>,
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/sections/{file}", get(section))
        .route("/feeds/{file}", get(named_feed))
        .route("/healthz", get(healthz))
        .route("/status", get(status))
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

#[derive(Debug, Deserialize)]
struct FeedParams {
    limit: Option<String>,
}

async fn section(
    State(st): State<AppState>,
    Path(file): Path<String>,
    Query(p): Query<FeedParams>,
) -> Response {
    render(st, file, p, Target::Section).await
}

async fn named_feed(
    State(st): State<AppState>,
    Path(file): Path<String>,
    Query(p): Query<FeedParams>,
) -> Response {
    render(st, file, p, Target::Named).await
}

async fn render(
    st: AppState,
    file: String,
    p: FeedParams,
    target: fn(String) -> Target,
) -> Response {
    let Some((name, format)) = file
        .rsplit_once('.')
        .and_then(|(n, e)| Some((n, Format::from_extension(e)?)))
    else {
        return (
            StatusCode::NOT_FOUND,
            "not found: use {name}.atom, {name}.rss or {name}.json\n",
        )
            .into_response();
    };
    let limit = match p.limit.as_deref().map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) if (1..=feeds::MAX_LIMIT).contains(&n) => Some(n),
        Some(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "limit must be a number from 1 to 500\n",
            )
                .into_response();
        }
    };
    match feeds::build(
        &st.config,
        st.store.as_ref(),
        &target(name.to_string()),
        format,
        limit,
    )
    .await
    {
        Ok(doc) => (
            [(header::CONTENT_TYPE, format.content_type())],
            export::render(&doc, format),
        )
            .into_response(),
        Err(e @ FeedError::NotFound { .. }) => {
            (StatusCode::NOT_FOUND, format!("{e}\n")).into_response()
        }
        Err(FeedError::Store(e)) => {
            tracing::error!(error = %e, "storage failed while rendering a feed");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response()
        }
    }
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response(),
    }
}

async fn status(State(st): State<AppState>) -> Response {
    match st.store.source_status().await {
        Ok(list) => {
            let sources: Vec<_> = list.iter().map(crate::status::to_json).collect();
            axum::Json(serde_json::json!({ "sources": sources })).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response(),
    }
}
