//! Store: the one narrow interface between the pipeline and persistence.
//!
//! Everything the daemon, the HTTP server and the CLI need from storage goes
//! through [`Store`], so a PostgreSQL backend (several pollers, one
//! database) can be added beside [`sqlite::SqliteStore`] without touching the
//! pipeline. Implementations own their concurrency: SQLite has one writer.
//!
//! Owns persistence and the change notices sent after a write. Depends on
//! `model` and `config` only: it never fetches, parses or renders, and it
//! never decides identity (normalize does; store keeps what it is given).

pub mod changes;
pub mod cluster;
pub mod copy;
mod error;
pub mod postgres;
pub mod retention;
mod rows;
pub mod sqlite;

pub use error::StoreError;

use crate::model::FeedMeta;
use crate::model::Validators;
use crate::model::{Item, Story};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A configured source as storage knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// Unique name.
    pub name: String,
    /// Feed URL.
    pub url: String,
    /// Configured title override.
    pub title: Option<String>,
}

/// What storage remembers between polls of a source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollState {
    /// Validators of the last 200.
    pub validators: Validators,
    /// Failures in a row so far.
    pub consecutive_failures: u32,
}

/// What one poll of one source produced, written in one transaction.
#[derive(Debug, Clone)]
pub struct PollRecord {
    /// When the poll ran.
    pub at: DateTime<Utc>,
    /// When the source is next due (persisted, so a restart polls only
    /// sources that are due).
    pub next_check: DateTime<Utc>,
    /// Where permanent redirects led, if they did (a config suggestion).
    pub moved_to: Option<String>,
    /// The outcome.
    pub result: PollResult,
    /// Article pages this poll tried to read (`[source.article]`).
    pub articles: Vec<ArticleOutcome>,
}

/// One article page fetch of a poll: what it gave, or why it failed.
#[derive(Debug, Clone)]
pub struct ArticleOutcome {
    /// The story's canonical link.
    pub link: String,
    /// The page's facts, or the failure's text.
    pub result: Result<crate::model::article::ArticleExtract, String>,
}

/// The outcome part of a [`PollRecord`].
#[derive(Debug, Clone)]
pub enum PollResult {
    /// A 200 with a feed.
    Fetched {
        /// Validators to send next time.
        validators: Validators,
        /// HTTP status.
        status: u16,
        /// Feed-level facts.
        meta: FeedMeta,
        /// Normalized items in document order.
        items: Vec<Item>,
    },
    /// A 304: nothing to write but the attempt.
    NotModified,
    /// The poll failed; the error is kept until the next success.
    Failed {
        /// HTTP status, when the failure was one.
        status: Option<u16>,
        /// The cause, as shown to operators.
        error: String,
    },
}

/// What a poll changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// New stories created.
    pub new_stories: usize,
    /// Items that joined a story another source already had.
    pub merged: usize,
    /// Stories edited in place.
    pub updated: usize,
    /// Items re-sent unchanged (no write).
    pub unchanged: usize,
    /// Items of stories purged by retention that the feed still lists: not
    /// stored again (their tombstone only notes that they were listed).
    pub tombstoned: usize,
    /// Failures in a row after this poll (0 after a success).
    pub consecutive_failures: u32,
    /// Start of the current failure streak, if failing.
    pub failing_since: Option<DateTime<Utc>>,
}

/// Which stories to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoryQuery {
    /// Folded section keys (see `normalize::sections::fold`); a story in any
    /// of them matches.
    pub section_keys: Vec<String>,
    /// At most this many, newest first.
    pub limit: usize,
    /// Only stories strictly older than this position (paging).
    pub before: Option<Cursor>,
    /// Only stories published at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only stories first delivered by one of these sources (empty: any).
    pub sources: Vec<String>,
    /// Only stories whose title or summary contains this keyword (compared
    /// as `model::text::search_fold` folds it). A store may use it to
    /// narrow its scan only: callers still check each story themselves.
    pub q: Option<String>,
    /// Only stories in this language tag or a subtag of it (`en` matches
    /// `en-GB`), compared without case; narrows the scan as `q` does.
    pub lang: Option<String>,
}

/// A story's position in every feed's order (newest first): its fixed sort
/// date, then a per-store sequence number that breaks ties. Stable for the
/// life of the story, so a page boundary never moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// `published`, in seconds since the epoch.
    pub published: i64,
    /// Store-assigned sequence, unique per story.
    pub seq: i64,
}

/// Story count and freshness of a set of sections, for the index page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedStats {
    /// Distinct stories in any of the sections.
    pub stories: u64,
    /// Latest `updated` among them.
    pub updated: Option<DateTime<Utc>>,
}

/// A source's health, for `/status` and logs.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    /// Name.
    pub name: String,
    /// Feed URL.
    pub url: String,
    /// Feed title as last seen.
    pub title: Option<String>,
    /// The site's home page, as the feed last gave it.
    pub site_url: Option<String>,
    /// Last poll attempt.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Last poll that got a 200 or 304.
    pub last_success: Option<DateTime<Utc>>,
    /// Last HTTP status seen.
    pub last_status: Option<u16>,
    /// Last error, cleared by a success.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Start of the current failure streak.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the source is next due.
    pub next_check: Option<DateTime<Utc>>,
    /// Where permanent redirects lead (update the config's URL).
    pub moved_to: Option<String>,
    /// Items stored from this source.
    pub items: u64,
    /// The worker that wrote its last poll (PostgreSQL; `None` on SQLite,
    /// where one process polls).
    pub polled_by: Option<String>,
    /// The worker holding its lease now (PostgreSQL), if any.
    pub lease_holder: Option<String>,
}

/// What one purge batch removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeBatch {
    /// Stories deleted, each leaving a tombstone.
    pub stories: usize,
    /// Canonical names of the sections they were in (for change notices).
    pub sections: Vec<String>,
}

/// What one step of returning free space did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reclaimed {
    /// Pages handed back to the file system.
    pub pages: u64,
    /// Free pages still inside the file beyond the share asked to be kept.
    pub left: u64,
}

/// Size and contents of the store, for `/status` and `feedmerge status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Stories stored.
    pub stories: u64,
    /// Purged stories remembered so feeds cannot bring them back.
    pub tombstones: u64,
    /// Size of the database file.
    pub bytes: u64,
    /// Size of its write-ahead log.
    pub wal_bytes: u64,
    /// Space inside the database file that holds nothing (reused by new
    /// stories; handed back after purges when `shrinks`).
    pub free_bytes: u64,
    /// Whether free space can be handed back to the file system
    /// (incremental vacuum); false for a database created without it.
    pub shrinks: bool,
}

/// A due source claimed by one worker: it is that worker's to poll until
/// its lease runs out (the store moved its due time to then, so no other
/// worker claims it meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The source.
    pub source: String,
    /// The worker holding it (`[worker] id`).
    pub worker: String,
    /// Fencing token: increases by one per claim of this source, so a
    /// write under an older lease is refused.
    pub epoch: i64,
    /// When the source was due (`None`: never polled), for lateness.
    pub due: Option<DateTime<Utc>>,
}

/// The storage interface.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Makes the configured sources known (new ones added, URLs updated).
    async fn register_sources(&self, sources: &[SourceSpec]) -> Result<(), StoreError>;
    /// What the next poll of `source` needs to know: validators of its last
    /// 200 and its current failure streak.
    async fn poll_state(&self, source: &str) -> Result<PollState, StoreError>;
    /// Writes one poll's result in one transaction.
    async fn record_poll(
        &self,
        source: &str,
        record: PollRecord,
    ) -> Result<WriteSummary, StoreError>;
    /// Claims up to `limit` sources due at `now` for `worker`, at most
    /// `per_host` of one host, each until `now + lease` (written as its due
    /// time, so a worker that dies loses its sources when the lease ends).
    /// Oldest due first.
    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: usize,
        per_host: usize,
    ) -> Result<Vec<Lease>, StoreError>;
    /// [`Store::record_poll`] under a lease: written only while `lease` is
    /// still the source's current one (else [`StoreError::LeaseLost`] and
    /// nothing is written), and the source shows `lease.worker` as its
    /// last poller.
    async fn record_claimed_poll(
        &self,
        lease: &Lease,
        record: PollRecord,
    ) -> Result<WriteSummary, StoreError> {
        self.record_poll(&lease.source, record).await
    }
    /// Stories published at or after `since`, oldest first (then by id),
    /// each with its cluster membership; with `unclustered_after: Some(id)`,
    /// only those not yet in a cluster whose id is above `id` (read by
    /// id range, so a run after a poll costs what the poll added).
    async fn cluster_window(
        &self,
        since: DateTime<Utc>,
        unclustered_after: Option<i64>,
    ) -> Result<Vec<cluster::WindowStory>, StoreError>;
    /// Records cluster memberships (a story's existing row is replaced).
    /// Rows of stories purged meanwhile are skipped.
    async fn record_cluster_members(
        &self,
        members: &[cluster::ClusterMember],
    ) -> Result<(), StoreError>;
    /// How feeds drawing from `section_keys` (empty: any) and `sources`
    /// (source names; empty: any) show the stories of row ids `ids`
    /// (`Cursor::seq`): stories in no cluster, or alone in theirs, are left
    /// out of the answer. A member is hidden only when its first report is
    /// one such a feed draws from.
    async fn cluster_views(
        &self,
        ids: &[i64],
        section_keys: &[String],
        sources: &[String],
    ) -> Result<std::collections::HashMap<i64, cluster::ClusterView>, StoreError>;
    /// The story whose entry id or link is `key` (the oldest, when several
    /// share a link) and the members of its cluster (itself included, oldest
    /// first); `None` when no story has that id or link.
    async fn cluster_of(
        &self,
        key: &str,
    ) -> Result<Option<(cluster::WindowStory, Vec<cluster::WindowStory>)>, StoreError>;
    /// Stories matching `query`, newest first.
    async fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, StoreError>;
    /// Like [`Store::stories`], each with its paging position.
    async fn story_page(&self, query: &StoryQuery) -> Result<Vec<(Cursor, Story)>, StoreError>;
    /// Every section some stored story carries: (folded key, display name).
    async fn stored_sections(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// Count and freshness of the stories in any of `section_keys`.
    async fn feed_stats(&self, section_keys: &[String]) -> Result<FeedStats, StoreError>;
    /// Display name of a section that some stored story carries, by folded key.
    async fn stored_section(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Health of every registered source.
    async fn source_status(&self) -> Result<Vec<SourceStatus>, StoreError>;
    /// Stories each source brought per UTC day over the `days` days that
    /// end with the day of `now`: by source name, oldest day first, `days`
    /// counts each (a story counts on the day of its sort date, once for
    /// every source that listed it). Sources with no story in the span are
    /// absent. One grouped read, for the charts of the status page.
    async fn daily_stories(
        &self,
        now: DateTime<Utc>,
        days: u32,
    ) -> Result<std::collections::HashMap<String, Vec<u32>>, StoreError>;
    /// What is remembered about these article links of `source`: failed
    /// attempts, and what a successful read gave. Links never tried are
    /// absent.
    async fn article_pages(
        &self,
        source: &str,
        links: &[String],
    ) -> Result<std::collections::HashMap<String, crate::model::article::ArticlePage>, StoreError>;
    /// Answers when storage is usable.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Whether the writer takes work: a no-op job through its queue. The
    /// systemd watchdog is fed only while this answers in time.
    async fn ping_writer(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Writes queued for or running on the writer, for `/metrics`.
    fn write_queue_depth(&self) -> usize {
        0
    }
    /// Whether another process (a hand-run `poll`, a restore) committed
    /// to the store since the last call; the first call only takes note.
    /// A daemon asks every half second and drops its cached answers.
    async fn changed_elsewhere(&self) -> Result<bool, StoreError> {
        Ok(false)
    }
    /// Reads that can run at once (the reader pool), so the server can
    /// bound its renders below it.
    fn read_concurrency(&self) -> usize {
        1
    }
    /// The store's files and their sizes in bytes (database, write-ahead
    /// log), for `/metrics`; empty where a backend has no files.
    fn file_sizes(&self) -> (u64, u64) {
        (0, 0)
    }
    /// Size and story count of the store.
    async fn store_stats(&self) -> Result<StoreStats, StoreError>;
    /// Deletes, in one transaction, up to `limit` of the oldest stories
    /// published before `before`, with their items and sections. Each
    /// leaves a tombstone listed at `now`. See [`retention::purge`], which
    /// calls it batch after batch.
    async fn purge_stories(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<PurgeBatch, StoreError>;
    /// Forgets up to `limit` tombstones last listed before `before`, in one
    /// transaction; returns how many.
    async fn expire_tombstones(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<usize, StoreError>;
    /// Hands up to `pages` free pages back to the file system, in one
    /// transaction, keeping `keep_free` (a share of the file's pages) free
    /// for stories to come; nothing when the store cannot shrink.
    async fn reclaim_space(&self, pages: u32, keep_free: f64) -> Result<Reclaimed, StoreError>;
}
