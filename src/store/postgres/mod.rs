//! PostgreSQL behind [`Store`]: one database shared by several `feedmerge
//! run` processes (pollers and front ends). A pool of connections
//! (deadpool: a connection found broken is replaced, so the store resumes
//! by itself after the database restarts); each poll's result is written in
//! one transaction, retried whole when PostgreSQL aborts it to break a
//! deadlock between two workers storing the same stories.
//!
//! Dedupe across workers rests on unique keys: `INSERT … ON CONFLICT`
//! waits for a concurrent insert of the same story key and then merges
//! into it, so two workers storing one story give one story with both
//! sources' sections. Entry ids are derived from the story key
//! (`model::ids`), as on SQLite.
//!
//! Everything PostgreSQL-specific lives here: SQL, migrations (`schema`).

mod claims;
mod cluster;
mod copy;
mod known;
mod notify;
mod purge;
mod read;
pub mod schema;
mod words;
mod write;

use super::{
    Cursor, FeedStats, Lease, PollRecord, PollState, PurgeBatch, Reclaimed, SourceSpec,
    SourceStatus, Store, StoreError, StoreStats, StoryQuery, WriteSummary,
};
use crate::model::Story;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, RecyclingMethod};
use std::collections::HashMap;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

/// Times a write is tried when PostgreSQL aborts it for a deadlock or a
/// serialization failure (two workers merging into the same stories).
const WRITE_ATTEMPTS: usize = 4;

/// The PostgreSQL store. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: Pool,
    /// The URL with its password hidden, for errors and logs.
    shown: String,
    /// How to connect, for the connection that listens for notices.
    config: tokio_postgres::Config,
    /// The `NOTIFY` channel of this store's schema (set at connect).
    channel: String,
}

impl PgStore {
    /// Connects (`pool_size` connections at most), checks the database
    /// answers and brings its schema up to date. An unreachable server or a
    /// refused login is an error naming the URL (password hidden).
    pub async fn connect(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let mut store = PgStore::pool(url, pool_size)?;
        let mut client = store.client().await.map_err(|e| store.open_err(e))?;
        schema::migrate(&mut client).await?;
        store.channel = channel(&client).await?;
        drop(client);
        Ok(store)
    }

    /// Connects without migrating, for commands that only read: a schema
    /// other than this binary's is refused (`TooOld` / `TooNew`).
    pub async fn connect_read_only(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let mut store = PgStore::pool(url, pool_size)?;
        let client = store.client().await.map_err(|e| store.open_err(e))?;
        schema::check_current(&client).await?;
        store.channel = channel(&client).await?;
        drop(client);
        Ok(store)
    }

    fn open_err(&self, e: StoreError) -> StoreError {
        StoreError::Open {
            path: self.shown.clone(),
            reason: e.to_string(),
        }
    }

    /// The pool, not yet connected.
    fn pool(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let shown = crate::model::redact::redact(url).into_owned();
        let open_err = |reason: String| StoreError::Open {
            path: shown.clone(),
            reason,
        };
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| open_err(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            // Without one, a firewalled host holds every caller for minutes.
            config.connect_timeout(std::time::Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("feedmerge");
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        Ok(PgStore {
            pool,
            shown,
            config,
            channel: String::new(),
        })
    }

    /// The URL as shown in logs (password hidden).
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    /// A pooled connection; a pool that cannot make one says why.
    async fn client(&self) -> Result<Client, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => pg_error(e),
            other => StoreError::Unreachable(other.to_string()),
        })
    }
}

/// The change channel of the schema the store lives in: processes on
/// other schemas of the same database (tests) never hear each other.
async fn channel(client: &Client) -> Result<String, StoreError> {
    let schema: Option<String> = client
        .query_one("SELECT current_schema()", &[])
        .await
        .map_err(pg_error)?
        .get(0);
    Ok(format!("feedmerge_changes.{}", schema.unwrap_or_default()))
}

/// A driver error as a store error: lost connections and refused logins
/// are [`StoreError::Unreachable`], the rest the server's own words.
pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        return StoreError::Postgres(format!("{} ({})", db.message(), db.code().code()));
    }
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    StoreError::Unreachable(reason)
}

/// Whether PostgreSQL aborted a transaction that may succeed when run again.
fn retryable(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

#[async_trait]
impl Store for PgStore {
    async fn register_sources(&self, sources: &[SourceSpec]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        write::register_sources(&mut client, sources).await
    }

    async fn poll_state(&self, source: &str) -> Result<PollState, StoreError> {
        read::poll_state(&self.client().await?, source).await
    }

    async fn record_poll(
        &self,
        source: &str,
        record: PollRecord,
    ) -> Result<WriteSummary, StoreError> {
        self.record(source, None, &record).await
    }

    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: usize,
        per_host: usize,
    ) -> Result<Vec<Lease>, StoreError> {
        claims::claim_due(&self.client().await?, worker, now, lease, limit, per_host).await
    }

    async fn record_claimed_poll(
        &self,
        lease: &Lease,
        record: PollRecord,
    ) -> Result<WriteSummary, StoreError> {
        self.record(&lease.source, Some((&lease.worker, lease.epoch)), &record)
            .await
    }

    async fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, StoreError> {
        Ok(self
            .story_page(query)
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    async fn story_page(&self, query: &StoryQuery) -> Result<Vec<(Cursor, Story)>, StoreError> {
        read::story_page(&self.client().await?, query).await
    }

    async fn stored_sections(&self) -> Result<Vec<(String, String)>, StoreError> {
        read::stored_sections(&self.client().await?).await
    }

    async fn feed_stats(&self, section_keys: &[String]) -> Result<FeedStats, StoreError> {
        read::feed_stats(&self.client().await?, section_keys).await
    }

    async fn stored_section(&self, key: &str) -> Result<Option<String>, StoreError> {
        read::stored_section(&self.client().await?, key).await
    }

    async fn source_status(&self) -> Result<Vec<SourceStatus>, StoreError> {
        read::source_status(&self.client().await?).await
    }

    async fn article_pages(
        &self,
        source: &str,
        links: &[String],
    ) -> Result<HashMap<String, crate::model::article::ArticlePage>, StoreError> {
        read::article_pages(&self.client().await?, source, links).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .simple_query("SELECT 1")
            .await
            .map_err(pg_error)
            .map(drop)
    }

    async fn cluster_window(
        &self,
        since: DateTime<Utc>,
        unclustered_after: Option<i64>,
    ) -> Result<Vec<crate::store::cluster::WindowStory>, StoreError> {
        self.window(since, unclustered_after).await
    }

    async fn cluster_views(
        &self,
        ids: &[i64],
        section_keys: &[String],
        sources: &[String],
    ) -> Result<std::collections::HashMap<i64, crate::store::cluster::ClusterView>, StoreError>
    {
        self.views(ids, section_keys, sources).await
    }

    async fn cluster_of(
        &self,
        key: &str,
    ) -> Result<
        Option<(
            crate::store::cluster::WindowStory,
            Vec<crate::store::cluster::WindowStory>,
        )>,
        StoreError,
    > {
        self.cluster_of_key(key).await
    }

    async fn record_cluster_members(
        &self,
        members: &[crate::store::cluster::ClusterMember],
    ) -> Result<(), StoreError> {
        self.record_members(members).await
    }

    async fn daily_stories(
        &self,
        now: DateTime<Utc>,
        days: u32,
    ) -> Result<std::collections::HashMap<String, Vec<u32>>, StoreError> {
        let mut out = std::collections::HashMap::new();
        if days == 0 {
            return Ok(out);
        }
        // The same buckets as SQLite's: UTC days ending with today's.
        let end = (now.timestamp().div_euclid(86_400) + 1).saturating_mul(86_400);
        let start = end.saturating_sub(i64::from(days) * 86_400);
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT src.name, g.day, g.n FROM
                    (SELECT i.source_id AS source_id, (s.published - $1) / 86400 AS day,
                            COUNT(*) AS n
                     FROM stories s JOIN items i ON i.story_id = s.id
                     WHERE s.published >= $1 AND s.published < $2
                     GROUP BY i.source_id, day) g
                 JOIN sources src ON src.id = g.source_id",
                &[&start, &end],
            )
            .await
            .map_err(pg_error)?;
        for row in rows {
            let (name, day, n): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
            let counts = out.entry(name).or_insert_with(|| vec![0u32; days as usize]);
            if let Some(slot) = usize::try_from(day).ok().and_then(|d| counts.get_mut(d)) {
                *slot = u32::try_from(n).unwrap_or(u32::MAX);
            }
        }
        Ok(out)
    }

    async fn store_stats(&self) -> Result<StoreStats, StoreError> {
        purge::store_stats(&self.client().await?).await
    }

    async fn purge_stories(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<PurgeBatch, StoreError> {
        let mut client = self.client().await?;
        purge::purge_stories(&mut client, before.timestamp(), now.timestamp(), limit).await
    }

    async fn expire_tombstones(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        purge::expire_tombstones(&mut client, before.timestamp(), limit).await
    }

    /// PostgreSQL's autovacuum reuses the space of purged rows; there is no
    /// file to shrink from here.
    async fn reclaim_space(&self, _pages: u32, _keep_free: f64) -> Result<Reclaimed, StoreError> {
        Ok(Reclaimed::default())
    }
}

impl PgStore {
    /// Writes one poll in one transaction, again from the start when
    /// PostgreSQL aborted it to break a deadlock. With a lease, the write
    /// happens only while the lease is still this worker's.
    async fn record(
        &self,
        source: &str,
        lease: Option<(&str, i64)>,
        record: &PollRecord,
    ) -> Result<WriteSummary, StoreError> {
        let rows = write::prepare(record);
        let mut client = self.client().await?;
        let mut attempt = 1;
        loop {
            match write::record_poll(&mut client, source, lease, record, &rows).await {
                Err(write::Failure::Retry(e)) if attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(source, attempt, error = %e, "poll write aborted by PostgreSQL; trying again");
                    attempt += 1;
                }
                Err(write::Failure::Retry(e)) => return Err(pg_error(e)),
                Err(write::Failure::Store(e)) => return Err(e),
                Ok(summary) => return Ok(summary),
            }
        }
    }
}
