//! `[server]`: where the HTTP server listens and the URLs it advertises.

use super::tables::Table;
use crate::config::ServingLimits;
use crate::config::checks::{Ctx, duration, http_url, in_range};
use crate::config::raw::{RawServer, RawSize};
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
    pub(super) serving: ServingLimits,
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
    let serving = limits(cx, table);
    ServerSettings {
        serving,
        listen,
        base_url,
        websub_hub: raw.websub_hub.clone(),
        metrics_source_labels: usize::try_from(labels).unwrap_or(usize::MAX),
    }
}

/// The serving limits: cache budget, connection cap, header timeout,
/// concurrent renders.
fn limits(cx: &mut Ctx<'_>, table: &Table<RawServer>) -> ServingLimits {
    let Table { keys, raw } = table;
    let mut limits = ServingLimits::default();
    if let Some(size) = &raw.cache_bytes {
        match parse_size(size) {
            Some(n) => limits.cache_bytes = usize::try_from(n).unwrap_or(usize::MAX),
            None => cx.bad(
                keys,
                "cache_bytes",
                "must be a size like \"64MiB\", \"512KiB\" or a number of bytes",
            ),
        }
    }
    if let Some(n) = raw.max_connections {
        in_range(cx, keys, "max_connections", n, 2..=1_000_000);
        limits.max_connections = Some(usize::try_from(n).unwrap_or(usize::MAX));
    }
    if let Some(n) = raw.max_renders {
        in_range(cx, keys, "max_renders", n, 1..=1024);
        limits.max_renders = Some(usize::try_from(n).unwrap_or(usize::MAX));
    }
    if let Some(d) = duration(
        cx,
        keys,
        "header_read_timeout",
        raw.header_read_timeout.as_deref(),
    ) {
        limits.header_read_timeout = d;
    }
    limits
}

/// Bytes from a number or `"<number><unit>"` with B, KiB, MiB, GiB (or the
/// decimal KB, MB, GB). A dozen lines: not worth a crate.
fn parse_size(raw: &RawSize) -> Option<u64> {
    let text = match raw {
        RawSize::Bytes(n) => return Some(*n),
        RawSize::Text(t) => t.trim(),
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return None,
    };
    number.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_their_units() {
        let t = |s: &str| parse_size(&RawSize::Text(s.into()));
        assert_eq!(t("64MiB"), Some(64 << 20));
        assert_eq!(t("512 KiB"), Some(512 << 10));
        assert_eq!(t("2GB"), Some(2_000_000_000));
        assert_eq!(t("100"), Some(100));
        assert_eq!(parse_size(&RawSize::Bytes(7)), Some(7));
        assert_eq!(t("lots"), None);
        assert_eq!(t("5 furlongs"), None);
        assert_eq!(t("99999999999999999999GiB"), None);
    }
}
