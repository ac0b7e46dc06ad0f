//! `[poll]`: fetch settings shared by all sources, and the defaults each
//! `[[source]]` may override.

use super::tables::Table;
use super::{
    DEFAULT_CONCURRENCY, DEFAULT_INTERVAL, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_BODY, DEFAULT_PER_HOST,
    DEFAULT_STALE_AFTER, DEFAULT_TIMEOUT,
};
use crate::config::checks::{Ctx, duration, in_range, schedule};
use crate::config::raw::RawPoll;
use crate::config::spans::Keys;
use crate::config::{FetchSettings, Schedule};
use std::time::Duration;

/// Smaller bodies than this cannot hold a useful feed.
const MIN_MAX_BODY: u64 = 1024;

/// The validated `[poll]`. A key with a problem falls back to its default,
/// so sources are still checked against something sensible.
pub(super) struct Poll {
    /// Settings of the fetch stage as a whole.
    pub(super) fetch: FetchSettings,
    /// What a `[[source]]` gets for each key it leaves out.
    pub(super) defaults: SourceDefaults,
}

/// `[poll]` keys that are per-source defaults.
pub(super) struct SourceDefaults {
    pub(super) schedule: Schedule,
    pub(super) timeout: Duration,
    /// Kept when out of range (that is reported): a source inheriting it
    /// reports it too.
    pub(super) per_host: u64,
    pub(super) respect_cache_hints: bool,
}

/// Checks `[poll]`. Keys are checked in a fixed order, so problems that
/// share a line (an inline table) are always listed alike.
pub(super) fn poll(cx: &mut Ctx<'_>, table: &Table<RawPoll>) -> Poll {
    let Table { keys, raw } = table;
    let schedule = schedule(cx, keys, raw.interval.as_deref(), raw.cron.as_deref())
        .unwrap_or(Schedule::Every(DEFAULT_INTERVAL));
    let timeout = duration(cx, keys, "timeout", raw.timeout.as_deref()).unwrap_or(DEFAULT_TIMEOUT);
    let fetch = fetch_settings(cx, keys, raw);
    let per_host = raw.per_host.unwrap_or(DEFAULT_PER_HOST);
    in_range(cx, keys, "per_host", per_host, 1..=64);
    Poll {
        fetch,
        defaults: SourceDefaults {
            schedule,
            timeout,
            per_host,
            respect_cache_hints: raw.respect_cache_hints.unwrap_or(true),
        },
    }
}

fn fetch_settings(cx: &mut Ctx<'_>, keys: &Keys, raw: &RawPoll) -> FetchSettings {
    let max_body = raw.max_body.unwrap_or(DEFAULT_MAX_BODY);
    if max_body < MIN_MAX_BODY {
        cx.bad(keys, "max_body", "must be at least 1024 bytes");
    }
    let concurrency = raw.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    in_range(cx, keys, "concurrency", concurrency, 1..=1024);
    let max_backoff = duration(cx, keys, "max_backoff", raw.max_backoff.as_deref())
        .unwrap_or(DEFAULT_MAX_BACKOFF);
    let stale_after = duration(cx, keys, "stale_after", raw.stale_after.as_deref())
        .unwrap_or(DEFAULT_STALE_AFTER);
    FetchSettings {
        max_body,
        concurrency: concurrency as usize,
        user_agent: raw
            .user_agent
            .clone()
            .unwrap_or_else(crate::config::default_user_agent),
        max_backoff,
        stale_after,
    }
}
