//! The feed and page handlers: `/sections/{name}[.ext]`, `/feeds/{name}[.ext]`
//! and `/`. Every answer is rendered once, cached until a poll changes it,
//! and served with validators.

use super::AppState;
use super::conditional::respond;
use crate::config::Config;
use crate::export;
use crate::export::html;
use crate::feeds::{self, FeedError, FeedRequest, Selection, Target};
use crate::model::format::Format;
use crate::server::cache::Rendered;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// Cache lifetimes are the shortest poll interval feeding a feed, within
/// these bounds: below a minute readers hammer us for nothing, above a day
/// a missed invalidation would be felt.
const MIN_MAX_AGE: Duration = Duration::from_secs(60);
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

const HTML: &str = "text/html; charset=utf-8";

pub(super) async fn section(
    State(st): State<AppState>,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    serve_target(st, file, uri, headers, Target::Section).await
}

pub(super) async fn named_feed(
    State(st): State<AppState>,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    serve_target(st, file, uri, headers, Target::Named).await
}

fn cache_key(uri: &Uri) -> &str {
    uri.path_and_query().map_or("/", |p| p.as_str())
}

async fn serve_target(
    st: AppState,
    file: String,
    uri: Uri,
    headers: HeaderMap,
    target: fn(String) -> Target,
) -> Response {
    let key = cache_key(&uri);
    if let Some(hit) = st.cache.get(key) {
        return respond(&headers, &hit);
    }
    let _rendering = st.cache.render_guard(key).await;
    // Someone else may have rendered it while we waited.
    if let Some(hit) = st.cache.get(key) {
        return respond(&headers, &hit);
    }
    let generation = st.cache.generation();
    // A known extension asks for a feed; anything else is the HTML page of
    // a name that may itself contain dots.
    let (name, format) = match file.rsplit_once('.') {
        Some((n, e)) => match Format::from_extension(e) {
            Some(f) => (n.to_string(), Some(f)),
            None => (file.clone(), None),
        },
        None => (file.clone(), None),
    };
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let req = match FeedRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(r) => r,
        Err(reason) => return (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response(),
    };
    let config = st.config.get();
    let sel = match feeds::select(&config, st.store.as_ref(), &target(name), &req).await {
        Ok(s) => s,
        Err(e @ FeedError::NotFound { .. }) => {
            return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response();
        }
        Err(FeedError::Store(e)) => {
            tracing::error!(error = %e, "storage failed while rendering a feed");
            return (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response();
        }
    };
    let modified = sel
        .stories
        .iter()
        .map(|s| s.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let (body, content_type) = match format {
        Some(f) => (export::render(&sel.to_doc(&config, f), f), f.content_type()),
        None => (html::feed_page(&config, &sel), HTML),
    };
    let rendered = Arc::new(st.cache.settle(
        key,
        Rendered::new(body, content_type, modified, max_age(&config, &sel)),
    ));
    st.cache.insert(
        key.to_string(),
        generation,
        Arc::clone(&rendered),
        sel.section_keys.clone(),
    );
    respond(&headers, &rendered)
}

/// `GET /`: every section and named feed with counts and subscribe links.
pub(super) async fn index(State(st): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let key = cache_key(&uri);
    if let Some(hit) = st.cache.get(key) {
        return respond(&headers, &hit);
    }
    let generation = st.cache.generation();
    let config = st.config.get();
    match html::index::collect(&config, st.store.as_ref()).await {
        Ok(listing) => {
            let modified = listing.updated().unwrap_or(DateTime::UNIX_EPOCH);
            let body = html::index::render(&config, &listing);
            let rendered = Arc::new(st.cache.settle(
                key,
                Rendered::new(body, HTML, modified, shortest_interval(&config, |_| true)),
            ));
            // Keyed on no section: any change may move a count.
            st.cache.insert(
                key.to_string(),
                generation,
                Arc::clone(&rendered),
                Vec::new(),
            );
            respond(&headers, &rendered)
        }
        Err(e) => {
            tracing::error!(error = %e, "storage failed while rendering the index");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response()
        }
    }
}

/// The shortest poll interval of the sources feeding `sel` (configured for
/// its sections, or present on the page), else of all sources.
pub(crate) fn max_age(config: &Config, sel: &Selection) -> Duration {
    let feeding = |name: &str| {
        sel.configured_sources.iter().any(|s| s == name)
            || sel.stories.iter().any(|s| s.source.name == name)
    };
    let some_feed = config.sources.iter().any(|s| feeding(&s.name));
    if some_feed {
        shortest_interval(config, |name| feeding(name))
    } else {
        shortest_interval(config, |_| true)
    }
}

fn shortest_interval(config: &Config, include: impl Fn(&str) -> bool) -> Duration {
    let now = Utc::now();
    config
        .sources
        .iter()
        .filter(|s| include(&s.name))
        .map(|s| s.schedule.period(now))
        .min()
        .unwrap_or(MAX_MAX_AGE)
        .clamp(MIN_MAX_AGE, MAX_MAX_AGE)
}
