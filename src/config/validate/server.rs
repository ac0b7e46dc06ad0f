//! `[server]`: where the HTTP server listens and the URLs it advertises.

use super::tables::Table;
use crate::config::checks::{Ctx, http_url};
use crate::config::raw::RawServer;
use std::net::SocketAddr;

/// Listened on when `[server] listen` is unset (or invalid: the problem is
/// reported, the value only keeps validation going).
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The validated `[server]` keys.
pub(super) struct ServerSettings {
    pub(super) listen: SocketAddr,
    /// Without its trailing slash: self links append paths to it.
    pub(super) base_url: Option<String>,
    pub(super) websub_hub: Option<String>,
    pub(super) metrics_source_labels: usize,
}

/// `/metrics` labels series by source name only up to this many sources;
/// beyond, per-source series would make every scrape huge.
const DEFAULT_METRICS_SOURCE_LABELS: u64 = 200;

/// Checks `[server]`: an address to listen on, http(s) URLs.
pub(super) fn server(cx: &mut Ctx<'_>, table: &Table<RawServer>) -> ServerSettings {
    let Table { keys, raw } = table;
    let listen = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen = listen.parse().unwrap_or_else(|_| {
        cx.bad(
            keys,
            "listen",
            format!("`{listen}` is not an address like 127.0.0.1:8080"),
        );
        ([127, 0, 0, 1], 8080).into()
    });
    let base_url = raw
        .base_url
        .as_deref()
        .map(|b| b.trim_end_matches('/').to_string());
    if let Some(b) = &base_url {
        http_url(cx, keys, "base_url", b);
    }
    if let Some(h) = &raw.websub_hub {
        http_url(cx, keys, "websub_hub", h);
    }
    let labels = raw
        .metrics_source_labels
        .unwrap_or(DEFAULT_METRICS_SOURCE_LABELS);
    if labels > 100_000 {
        cx.bad(
            keys,
            "metrics_source_labels",
            format!(
                "{labels} is more series than a Prometheus scrape should carry (at most 100000)"
            ),
        );
    }
    ServerSettings {
        listen,
        base_url,
        websub_hub: raw.websub_hub.clone(),
        metrics_source_labels: usize::try_from(labels).unwrap_or(usize::MAX),
    }
}
