//! Rendered feeds and pages kept in memory, keyed by the normalized request
//! (see `pages`), and dropped when a poll changes the sections they draw
//! from.
//!
//! Each entry carries everything a conditional or repeated request needs
//! (body, ETag, Last-Modified, Cache-Control), so a hit touches neither the
//! store nor a renderer. Memory is bounded by a byte budget over every
//! representation held; when it is passed, the least recently used answers
//! go first.

use crate::model::http_date::http_date;
use crate::model::sections::fold;
use crate::store::changes::{Change, Changes};
use axum::http::HeaderValue;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Keys remembered by [`FeedCache::settle`] and render locks kept before
/// the maps are swept. Keys are normalized requests of bounded length, so
/// this bounds their memory too.
const CAPACITY: usize = 4096;

/// The budget when none is configured: with it, a million stories and a
/// full cache stay under the 100 MiB the daemon is allowed (issue #14).
pub const DEFAULT_BUDGET: usize = 32 * 1024 * 1024;

/// Eviction frees down to this share of the budget, so a full cache evicts
/// once per several inserts rather than on every one.
const EVICT_TO: f64 = 0.875;

/// One rendered response body with its validators.
#[derive(Debug)]
pub struct Rendered {
    /// The body, shared by every hit.
    pub body: Bytes,
    /// `Content-Type`.
    pub content_type: HeaderValue,
    /// Weak ETag over the body: equal bodies, equal tags, whatever the
    /// render time (no rendered field depends on the clock).
    pub etag: HeaderValue,
    /// The newest story change in the body, whole seconds.
    pub modified: DateTime<Utc>,
    /// `Last-Modified` (`modified` as an HTTP date).
    pub last_modified: HeaderValue,
    /// `Cache-Control`.
    pub cache_control: HeaderValue,
    /// The body compressed, made once here rather than per request.
    pub compressed: crate::server::encoding::Compressed,
}

impl Rendered {
    /// Wraps a freshly rendered body.
    pub fn new(
        body: impl Into<Bytes>,
        content_type: &'static str,
        modified: DateTime<Utc>,
        max_age: Duration,
    ) -> Rendered {
        let body = body.into();
        let hash = Sha256::digest(&body);
        let hex: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        let modified = DateTime::from_timestamp(modified.timestamp().max(0), 0).unwrap_or_default();
        Rendered {
            etag: header(format!("W/\"{hex}\"")),
            last_modified: header(http_date(modified)),
            modified,
            cache_control: header(format!("public, max-age={}", max_age.as_secs())),
            content_type: HeaderValue::from_static(content_type),
            compressed: crate::server::encoding::Compressed::of(&body),
            body,
        }
    }
}

impl Rendered {
    /// The same response with `Last-Modified` set to `modified`.
    fn restamped(mut self, modified: DateTime<Utc>) -> Rendered {
        self.modified = modified;
        self.last_modified = header(http_date(modified));
        self
    }
}

fn header(s: String) -> HeaderValue {
    // Only ASCII we formatted ourselves reaches here.
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

impl Rendered {
    /// Bytes of every representation held.
    pub fn size(&self) -> usize {
        self.body.len() + self.compressed.len()
    }
}

struct Entry {
    rendered: Arc<Rendered>,
    /// Folded section keys; empty means "any change drops it".
    keys: Vec<String>,
    /// The cache's clock at the last hit: an atomic, so a hit needs only
    /// the read lock.
    used: AtomicU64,
    /// What this entry counts against the budget (key included).
    size: usize,
}

/// The cache. Share it behind an `Arc`.
pub struct FeedCache {
    entries: RwLock<HashMap<String, Entry>>,
    /// The byte budget.
    budget: usize,
    /// Sum of the entries' sizes.
    held: AtomicUsize,
    /// Ticks once per hit or insert: recency order.
    clock: AtomicU64,
    /// Per key, the last body's ETag and when that body first appeared.
    /// Outlives invalidation: `Last-Modified` must move whenever the body
    /// does (a newly found story with an old date changes the body but not
    /// the newest story date), and stay put when a re-render is identical.
    seen: RwLock<HashMap<String, (HeaderValue, DateTime<Utc>)>>,
    /// One render per key at a time: after a poll invalidates a popular
    /// feed, the concurrent misses wait for a single render instead of
    /// each running their own.
    rendering: std::sync::Mutex<HashMap<String, std::sync::Weak<tokio::sync::Mutex<()>>>>,
    /// Bumped by every invalidation, so a render that read the store before
    /// a change cannot be stored after it.
    generation: AtomicU64,
}

impl Default for FeedCache {
    fn default() -> FeedCache {
        FeedCache::with_budget(DEFAULT_BUDGET)
    }
}

impl FeedCache {
    /// An empty cache with the default budget.
    pub fn new() -> FeedCache {
        FeedCache::default()
    }

    /// An empty cache holding at most `budget` bytes of answers.
    pub fn with_budget(budget: usize) -> FeedCache {
        FeedCache {
            entries: RwLock::default(),
            budget,
            held: AtomicUsize::new(0),
            clock: AtomicU64::new(0),
            seen: RwLock::default(),
            rendering: std::sync::Mutex::default(),
            generation: AtomicU64::new(0),
        }
    }

    /// The byte budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The entry for `key`, if cached.
    pub fn get(&self, key: &str) -> Option<Arc<Rendered>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let hit = entries.get(key).map(|e| {
            e.used.store(
                self.clock.fetch_add(1, Ordering::Relaxed),
                Ordering::Relaxed,
            );
            Arc::clone(&e.rendered)
        });
        crate::telemetry::metrics().cache_lookup(hit.is_some());
        hit
    }

    /// Sets `Last-Modified` of a fresh render of `key`: unchanged since the
    /// last identical body, else now (or the newest story date, if later),
    /// so `If-Modified-Since` never answers 304 for a changed body.
    pub fn settle(&self, key: &str, rendered: Rendered) -> Rendered {
        let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
        if let Some((etag, since)) = seen.get(key)
            && *etag == rendered.etag
        {
            let since = *since;
            return rendered.restamped(since);
        }
        let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_default();
        let modified = rendered.modified.max(now);
        if seen.len() >= CAPACITY {
            seen.clear();
        }
        seen.insert(key.to_string(), (rendered.etag.clone(), modified));
        rendered.restamped(modified)
    }

    /// Waits until no other request is rendering `key`, and holds that right
    /// until the guard drops. Check [`FeedCache::get`] again after it.
    pub async fn render_guard(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() > CAPACITY {
                map.retain(|_, w| w.strong_count() > 0);
            }
            match map.get(key).and_then(std::sync::Weak::upgrade) {
                Some(l) => l,
                None => {
                    let l = Arc::new(tokio::sync::Mutex::new(()));
                    map.insert(key.to_string(), Arc::downgrade(&l));
                    l
                }
            }
        };
        lock.lock_owned().await
    }

    /// Read before rendering; pass to [`FeedCache::insert`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Stores a render unless a change arrived since `generation` was read
    /// (or it alone is larger than the budget). `section_keys` empty:
    /// dropped by any change. Evicts the least recently used answers when
    /// the budget is passed.
    pub fn insert(
        &self,
        key: String,
        generation: u64,
        rendered: Arc<Rendered>,
        section_keys: Vec<String>,
    ) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock invalidation also takes: no interleaving
        // can leave a stale entry behind.
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        let size = key.len() + rendered.size();
        if size > self.budget {
            return;
        }
        let entry = Entry {
            rendered,
            keys: section_keys,
            used: AtomicU64::new(self.clock.fetch_add(1, Ordering::Relaxed)),
            size,
        };
        if let Some(old) = entries.insert(key, entry) {
            self.held.fetch_sub(old.size, Ordering::Relaxed);
        }
        let held = self.held.fetch_add(size, Ordering::Relaxed) + size;
        if held > self.budget {
            self.evict(&mut entries);
        }
    }

    /// Drops the least recently used entries until what is held fits
    /// [`EVICT_TO`] of the budget.
    fn evict(&self, entries: &mut HashMap<String, Entry>) {
        let mut order: Vec<(u64, &String, usize)> = entries
            .iter()
            .map(|(k, e)| (e.used.load(Ordering::Relaxed), k, e.size))
            .collect();
        order.sort_unstable_by_key(|(used, _, _)| *used);
        let target = (self.budget as f64 * EVICT_TO) as usize;
        let mut held = self.held.load(Ordering::Relaxed);
        let mut victims = Vec::new();
        for (_, key, size) in order {
            if held <= target {
                break;
            }
            held -= size;
            victims.push(key.clone());
        }
        for key in victims {
            entries.remove(&key);
        }
        self.held.store(held, Ordering::Relaxed);
    }

    /// Drops what `change` makes stale.
    pub fn invalidate(&self, change: &Change) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        match &change.sections {
            None => entries.clear(),
            Some(names) => {
                let changed: Vec<String> = names.iter().map(|n| fold(n)).collect();
                entries.retain(|_, e| {
                    !e.keys.is_empty() && !e.keys.iter().any(|k| changed.contains(k))
                });
            }
        }
        self.held
            .store(entries.values().map(|e| e.size).sum(), Ordering::Relaxed);
    }

    /// Drops everything (used when notices were missed).
    pub fn clear(&self) {
        self.invalidate(&Change {
            generation: 0,
            sections: None,
        });
    }

    /// Bytes held against the budget: every representation and its key.
    pub fn bytes(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribes to `changes` and invalidates until the notifier is gone.
    pub fn follow(self: &Arc<Self>, changes: &Changes) -> tokio::task::JoinHandle<()> {
        let mut rx = changes.subscribe();
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(change) => cache.invalidate(&change),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => cache.clear(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(body: &str) -> Arc<Rendered> {
        Arc::new(Rendered::new(
            body.to_string(),
            "text/plain",
            DateTime::UNIX_EPOCH,
            Duration::from_secs(60),
        ))
    }

    #[test]
    fn etag_follows_the_body_only() {
        assert_eq!(rendered("a").etag, rendered("a").etag);
        assert_ne!(rendered("a").etag, rendered("b").etag);
        assert_eq!(rendered("a").last_modified, "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(rendered("a").cache_control, "public, max-age=60");
    }

    #[test]
    fn last_modified_moves_with_the_body_and_only_with_it() {
        let cache = FeedCache::new();
        let first = cache.settle(
            "k",
            Rendered::new(
                "a",
                "text/plain",
                DateTime::UNIX_EPOCH,
                Duration::from_secs(60),
            ),
        );
        assert!(
            first.modified > DateTime::UNIX_EPOCH,
            "a body never seen is new now"
        );
        let again = cache.settle(
            "k",
            Rendered::new(
                "a",
                "text/plain",
                DateTime::UNIX_EPOCH,
                Duration::from_secs(60),
            ),
        );
        assert_eq!(
            again.modified, first.modified,
            "an identical re-render keeps its date"
        );
        let other = cache.settle(
            "k",
            Rendered::new(
                "b",
                "text/plain",
                DateTime::UNIX_EPOCH,
                Duration::from_secs(60),
            ),
        );
        assert!(other.modified >= first.modified);
        assert_ne!(other.etag, first.etag);
    }

    #[test]
    fn changes_drop_only_the_sections_they_touch() {
        let cache = FeedCache::new();
        let g = cache.generation();
        cache.insert(
            "/sections/a.atom".into(),
            g,
            rendered("a"),
            vec!["политика".into()],
        );
        cache.insert(
            "/sections/b.atom".into(),
            g,
            rendered("b"),
            vec!["sport".into()],
        );
        cache.insert("/".into(), g, rendered("index"), vec![]);
        cache.invalidate(&Change {
            generation: 1,
            sections: Some(vec!["ПОЛИТИКА".into()]),
        });
        assert!(cache.get("/sections/a.atom").is_none());
        assert!(cache.get("/sections/b.atom").is_some());
        assert!(
            cache.get("/").is_none(),
            "pages over every section always go"
        );
        // A render that started before the change is not stored.
        cache.insert(
            "/sections/a.atom".into(),
            g,
            rendered("stale"),
            vec!["политика".into()],
        );
        assert!(cache.get("/sections/a.atom").is_none());
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn the_budget_holds_and_the_least_recently_used_go_first() {
        let body = "x".repeat(2000);
        let one = rendered(&body).size() + "/k00".len();
        let cache = FeedCache::with_budget(one * 10);
        let g = cache.generation();
        for i in 0..10 {
            cache.insert(format!("/k{i:02}"), g, rendered(&body), vec![]);
        }
        assert_eq!(cache.len(), 10);
        assert_eq!(cache.bytes(), one * 10);
        // Touch the oldest: it is now the most recent.
        assert!(cache.get("/k00").is_some());
        cache.insert("/k10".into(), g, rendered(&body), vec![]);
        assert!(cache.bytes() <= cache.budget());
        assert!(cache.get("/k00").is_some(), "recently used stays");
        assert!(cache.get("/k01").is_none(), "least recently used goes");
        assert!(cache.get("/k10").is_some());
        // Something larger than the whole budget is never held.
        cache.insert("/big".into(), g, rendered(&"y".repeat(one * 11)), vec![]);
        assert!(cache.get("/big").is_none());
        assert!(cache.bytes() <= cache.budget());
    }
}
