//! Claims benchmark (PostgreSQL): 4 workers, each with its own connection
//! pool, claim due sources through the real store (`Store::claim_due`, 50
//! a claim, 2 per host) and complete each as a poll would
//! (`Store::record_claimed_poll`: 70% 304, 30% 200 with 5 new items), until
//! nothing is due. No HTTP: this measures the store's side of polling.
//!
//! Printed: sources claimed more than once (must be 0) and never (must be
//! 0), claims/s and completed polls/s per worker (goal ≥ 50), p99 lateness
//! (claim time − due time; due times spread over the minute before the
//! start; goal < 60 s); then ingest items/s on PostgreSQL beside SQLite in
//! the same run (the baseline): 240 polls of 50 new stories each, 8 at once.
//!
//! Needs `FEEDMERGE_TEST_PG_URL` (a schema of its own is created and
//! dropped). `FEEDMERGE_BENCH_SOURCES=N` (default 20,000; the issue's
//! figure is 100,000).
//!
//! Run: `cargo bench --bench pg_claims`.

use chrono::{Duration as Span, Utc};
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::postgres::PgStore;
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{PollRecord, PollResult, SourceSpec, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WORKERS: usize = 4;
const BATCH: usize = 50;
const PER_HOST: usize = 2;
const HOSTS: usize = 500;

fn item(source: usize, n: usize) -> Item {
    Item {
        key: format!("{source}-{n}"),
        story_key: format!("link:https://h{}.example/{source}/{n}", source % HOSTS),
        guid: Some(format!("{source}-{n}")),
        link: Some(format!("https://h{}.example/{source}/{n}", source % HOSTS)),
        title: format!("Новость {n} источника {source}"),
        summary: Some("<p>Краткое содержание новости.</p>".repeat(4)),
        content: Some("<p>Текст новости, абзац за абзацем.</p>".repeat(40)),
        authors: vec!["Редакция".into()],
        categories: vec!["Политика".into()],
        sections: vec!["Политика".into()],
        published: Some(Utc::now() - Span::minutes(n as i64)),
        updated: None,
        language: Some("ru".into()),
        enclosures: vec![],
        content_hash: format!("h{source}-{n}"),
    }
}

fn record(items: Option<Vec<Item>>) -> PollRecord {
    let now = Utc::now();
    PollRecord {
        at: now,
        next_check: now + Span::hours(1),
        moved_to: None,
        articles: vec![],
        result: match items {
            None => PollResult::NotModified,
            Some(items) => PollResult::Fetched {
                validators: Validators::default(),
                status: 200,
                meta: FeedMeta::default(),
                items,
            },
        },
    }
}

fn specs(n: usize) -> Vec<SourceSpec> {
    (0..n)
        .map(|i| SourceSpec {
            name: format!("s{i}"),
            url: format!("https://h{}.example/feed/{i}", i % HOSTS),
            title: None,
        })
        .collect()
}

async fn claims(base: &str, url: &str, sources: usize) {
    let setup = PgStore::connect(url, 2).await.expect("connect");
    let started = Instant::now();
    for chunk in specs(sources).chunks(5_000) {
        setup.register_sources(chunk).await.expect("register");
    }
    println!(
        "registered {sources} sources on {HOSTS} hosts in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    // Due over the last minute, oldest first.
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let now = Utc::now().timestamp();
    client
        .execute("UPDATE sources SET next_check_at = $1 - (id % 60)", &[&now])
        .await
        .unwrap();
    let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let lateness: Arc<Mutex<Vec<f64>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let store = PgStore::connect(url, 2).await.expect("connect");
        let (counts, lateness) = (Arc::clone(&counts), Arc::clone(&lateness));
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let (mut claimed, mut polls) = (0usize, 0usize);
            loop {
                let at = Utc::now();
                let leases = store
                    .claim_due(&worker, at, Duration::from_secs(90), BATCH, PER_HOST)
                    .await
                    .expect("claim");
                if leases.is_empty() {
                    break;
                }
                claimed += 1;
                for lease in leases {
                    if let Some(due) = lease.due {
                        let late = (at - due).num_milliseconds() as f64 / 1000.0;
                        lateness.lock().unwrap().push(late);
                    }
                    *counts
                        .lock()
                        .unwrap()
                        .entry(lease.source.clone())
                        .or_default() += 1;
                    let n: usize = lease.source[1..].parse().unwrap_or(0);
                    let items = (n % 10 < 3).then(|| (0..5).map(|i| item(n, i)).collect());
                    store
                        .record_claimed_poll(&lease, record(items))
                        .await
                        .expect("record");
                    polls += 1;
                }
            }
            (worker, claimed, polls)
        }));
    }
    let mut per_worker = Vec::new();
    for t in tasks {
        per_worker.push(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counts = counts.lock().unwrap();
    let twice = counts.values().filter(|&&c| c > 1).count();
    let never = sources - counts.len();
    let mut late = lateness.lock().unwrap().clone();
    late.sort_by(|a, b| a.total_cmp(b));
    let p99 = late.get(late.len() * 99 / 100).copied().unwrap_or(0.0);
    println!("claimed twice: {twice} (goal 0), never: {never} (goal 0)");
    for (w, claims, polls) in &per_worker {
        println!(
            "{w}: {claims} claims, {polls} polls, {:.0} polls/s (goal >= 50)",
            *polls as f64 / elapsed
        );
    }
    println!(
        "all: {sources} polls in {elapsed:.1}s, {:.0} polls/s; p99 lateness {p99:.1}s (goal < 60s)",
        sources as f64 / elapsed
    );
    let _ = base;
}

/// 240 polls of 50 new stories, 8 at a time; items/s.
async fn ingest(store: Arc<dyn Store>) -> f64 {
    let sources = 240;
    store.register_sources(&specs(sources)).await.unwrap();
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    for s in 0..sources {
        let (store, gate) = (Arc::clone(&store), Arc::clone(&gate));
        tasks.push(tokio::spawn(async move {
            let _slot = gate.acquire().await.unwrap();
            let items = (0..50).map(|i| item(100_000 + s, i)).collect();
            store
                .record_poll(&format!("s{s}"), record(Some(items)))
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (sources * 50) as f64 / started.elapsed().as_secs_f64()
}

async fn run() {
    let Ok(base) = std::env::var("FEEDMERGE_TEST_PG_URL") else {
        println!("pg_claims: skipped: FEEDMERGE_TEST_PG_URL is not set");
        return;
    };
    let sources: usize = std::env::var("FEEDMERGE_BENCH_SOURCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect to FEEDMERGE_TEST_PG_URL");
    tokio::spawn(conn);
    let schema = format!("bench_{}", std::process::id());
    let in_schema = |s: &str| {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-csearch_path%3D{s}")
    };
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    claims(&base, &in_schema(&schema), sources).await;

    let ingest_schema = format!("{schema}_ingest");
    client
        .batch_execute(&format!("CREATE SCHEMA {ingest_schema}"))
        .await
        .unwrap();
    let pg: Arc<dyn Store> = Arc::new(
        PgStore::connect(&in_schema(&ingest_schema), 8)
            .await
            .unwrap(),
    );
    let pg_rate = ingest(pg).await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).unwrap());
    let sqlite_rate = ingest(sqlite.clone()).await;
    sqlite.close();
    println!(
        "ingest: PostgreSQL {pg_rate:.0} items/s, SQLite {sqlite_rate:.0} items/s (baseline, same run): {:.2}x",
        pg_rate / sqlite_rate
    );
    client
        .batch_execute(&format!(
            "DROP SCHEMA {schema} CASCADE; DROP SCHEMA {ingest_schema} CASCADE"
        ))
        .await
        .unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
