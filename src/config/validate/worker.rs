//! `[storage] url`/`pool_size` (PostgreSQL, shared by several processes)
//! and `[worker]` (this process's part among them).

use super::tables::Table;
use crate::config::checks::{Ctx, duration, in_range};
use crate::config::raw::{RawStorage, RawWorker};
use crate::config::{SourceConfig, WorkerSettings};
use std::time::Duration;

/// Connections per process when `pool_size` is unset: one per poll in
/// flight at the default `[poll] concurrency`, so a burst never queues for
/// a connection behind reads.
const DEFAULT_POOL_SIZE: u64 = 16;

/// A claimed source stays this worker's this long unless configured.
const DEFAULT_LEASE: Duration = Duration::from_secs(90);

/// `[storage] url` and `pool_size`: `None` for SQLite (`path`, the default).
/// `path` and `url` together are one problem, on the `url` line.
pub(super) fn postgres(cx: &mut Ctx<'_>, table: &Table<RawStorage>) -> (Option<String>, usize) {
    let Table { keys, raw } = table;
    let pool_size = raw.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
    if raw.pool_size.is_some() {
        in_range(cx, keys, "pool_size", pool_size, 1..=1000);
        if raw.url.is_none() {
            cx.bad(
                keys,
                "pool_size",
                "is meaningful only with `url` (PostgreSQL); SQLite has one writer",
            );
        }
    }
    let Some(url) = raw.url.as_deref() else {
        return (None, pool_size as usize);
    };
    if raw.path.is_some() {
        cx.bad(
            keys,
            "url",
            "set exactly one of `path` (SQLite) and `url` (PostgreSQL)",
        );
        return (None, pool_size as usize);
    }
    let shown = crate::model::redact::redact(url);
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        cx.bad(
            keys,
            "url",
            format!("`{shown}` is not a PostgreSQL URL (postgres://user@host/database)"),
        );
        return (None, pool_size as usize);
    }
    if let Err(e) = url.parse::<tokio_postgres::Config>() {
        cx.bad(
            keys,
            "url",
            format!("`{shown}` is not a valid PostgreSQL URL: {e}"),
        );
        return (None, pool_size as usize);
    }
    (Some(url.to_string()), pool_size.clamp(1, 1000) as usize)
}

/// `[worker]`: its id (`auto` resolved here, once per process), its lease
/// (longer than any source's timeout, so a lease never runs out under a
/// poll that is still allowed to run), and what it does.
pub(super) fn worker(
    cx: &mut Ctx<'_>,
    table: &Table<RawWorker>,
    sources: &[SourceConfig],
) -> WorkerSettings {
    let Table { keys, raw } = table;
    let id = match raw.id.as_deref() {
        None | Some("auto") => auto_id(),
        Some(id) => {
            let fits =
                !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_graphic());
            if !fits {
                cx.bad(
                    keys,
                    "id",
                    "must be \"auto\" or 1 to 100 visible ASCII characters without spaces",
                );
            }
            id.to_string()
        }
    };
    let lease = duration(cx, keys, "lease", raw.lease.as_deref()).unwrap_or(DEFAULT_LEASE);
    if let Some(longest) = sources.iter().map(|s| s.timeout).max()
        && raw.lease.is_some()
        && lease <= longest
    {
        cx.bad(
            keys,
            "lease",
            format!(
                "must be longer than the longest source timeout ({}), or another worker takes a source mid-poll",
                humantime::format_duration(longest)
            ),
        );
    }
    let poll = raw.poll.unwrap_or(true);
    let serve = raw.serve.unwrap_or(true);
    if !poll && !serve {
        let field = if raw.serve.is_some() { "serve" } else { "poll" };
        cx.bad(
            keys,
            field,
            "a worker with poll = false and serve = false does nothing",
        );
    }
    WorkerSettings {
        id,
        lease,
        poll,
        serve,
    }
}

/// `host:pid:random`: unique across restarts and hosts, readable in `/status`.
fn auto_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    // std's per-process random hash keys: no extra crate for 32 bits.
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u32;
    format!("{host}:{}:{random:08x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn a_postgres_store_and_a_worker_are_read_with_their_defaults() {
        let text = "[storage]\nurl = \"postgres://feedmerge:secret@db.internal/feedmerge\"\n\n[worker]\nid = \"poller-1\"\nserve = false\n";
        let c = Config::parse(text, Path::new("t.toml")).unwrap();
        assert_eq!(
            c.storage_url.as_deref(),
            Some("postgres://feedmerge:secret@db.internal/feedmerge")
        );
        assert_eq!(c.pool_size, 16);
        assert_eq!(c.worker.id, "poller-1");
        assert_eq!(c.worker.lease, std::time::Duration::from_secs(90));
        assert!(c.worker.poll && !c.worker.serve);
        assert!(
            !c.storage_display().contains("secret"),
            "{}",
            c.storage_display()
        );
    }

    #[test]
    fn an_auto_id_names_host_and_pid_and_differs_per_load() {
        let a = Config::parse("", Path::new("t.toml")).unwrap().worker.id;
        let b = Config::parse("[worker]\nid = \"auto\"\n", Path::new("t.toml"))
            .unwrap()
            .worker
            .id;
        assert!(a.contains(&format!(":{}:", std::process::id())), "{a}");
        assert_ne!(a, b);
    }
}
