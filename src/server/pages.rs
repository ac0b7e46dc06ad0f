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

/// The parsed request a feed URL asks for: which feed, in which format,
/// with which filters.
struct Asked {
    name: String,
    format: Option<Format>,
    req: FeedRequest,
}

impl Asked {
    /// Parses the file part of the path and the query; `Err` is the
    /// reason for a 400.
    fn parse(file: String, uri: &Uri) -> Result<Asked, String> {
        // A known extension asks for a feed; anything else is the HTML page
        // of a name that may itself contain dots.
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
        let req = FeedRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        Ok(Asked { name, format, req })
    }

    /// The cache key: built from the parsed request, never the raw URI, so
    /// spellings of one request (parameter order, percent-encoding, a
    /// section's case or alias) share one entry and nothing a client adds
    /// grows the key space.
    fn key(&self, config: &Config, kind: &str) -> String {
        let name = match kind {
            "sections" => {
                let canonical = config.sections.canonical(&self.name);
                crate::model::sections::fold(canonical.as_deref().unwrap_or(&self.name))
            }
            _ => self.name.clone(),
        };
        let ext = self.format.map_or("html", Format::extension);
        format!("/{kind}/{name}.{ext}?{}", self.req.to_query())
    }
}

async fn serve_target(
    st: AppState,
    file: String,
    uri: Uri,
    headers: HeaderMap,
    target: fn(String) -> Target,
) -> Response {
    let asked = match Asked::parse(file, &uri) {
        Ok(a) => a,
        Err(reason) => return (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response(),
    };
    let config = st.config.get();
    let kind = match target(String::new()) {
        Target::Section(_) => "sections",
        Target::Named(_) => "feeds",
    };
    let key = asked.key(&config, kind);
    if let Some(hit) = st.cache.get(&key) {
        return respond(&headers, &hit);
    }
    let _rendering = st.cache.render_guard(&key).await;
    // Someone else may have rendered it while we waited.
    if let Some(hit) = st.cache.get(&key) {
        return respond(&headers, &hit);
    }
    let Some(_slot) = st.renders.acquire().await else {
        return super::limits::busy();
    };
    let generation = st.cache.generation();
    let Asked { name, format, req } = asked;
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
    let section_keys = sel.section_keys.clone();
    let rendered = st
        .render_pool
        .run(move || {
            let (body, content_type) = match format {
                Some(f) => (export::render(&sel.to_doc(&config, f), f), f.content_type()),
                None => (html::feed_page(&config, &sel), HTML),
            };
            Rendered::new(body, content_type, modified, max_age(&config, &sel))
        })
        .await;
    let rendered = Arc::new(st.cache.settle(&key, rendered));
    st.cache
        .insert(key, generation, Arc::clone(&rendered), section_keys);
    respond(&headers, &rendered)
}

/// `GET /`: every section and named feed with counts and subscribe links.
/// Takes no parameters (refused before this, see `limits`): one entry.
pub(super) async fn index(State(st): State<AppState>, headers: HeaderMap) -> Response {
    const KEY: &str = "/";
    if let Some(hit) = st.cache.get(KEY) {
        return respond(&headers, &hit);
    }
    let _rendering = st.cache.render_guard(KEY).await;
    if let Some(hit) = st.cache.get(KEY) {
        return respond(&headers, &hit);
    }
    let Some(_slot) = st.renders.acquire().await else {
        return super::limits::busy();
    };
    let generation = st.cache.generation();
    let config = st.config.get();
    match html::index::collect(&config, st.store.as_ref()).await {
        Ok(listing) => {
            let modified = listing.updated().unwrap_or(DateTime::UNIX_EPOCH);
            let rendered = st
                .render_pool
                .run(move || {
                    let body = html::index::render(&config, &listing);
                    Rendered::new(body, HTML, modified, shortest_interval(&config, |_| true))
                })
                .await;
            let rendered = Arc::new(st.cache.settle(KEY, rendered));
            // Keyed on no section: any change may move a count.
            st.cache.insert(
                KEY.to_string(),
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
