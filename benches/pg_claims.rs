//! PostgreSQL benchmark of issue #15: 4 workers, 100,000 sources on a
//! loopback stub server (70% 304 / 30% 200), then ingest items/s on
//! PostgreSQL beside SQLite in the same run.
//!
//! The workers are the real polling path: `daemon::run_worker` (what
//! `feedmerge run` starts with `[storage] url` and `[worker]`), four of
//! them in this process, each on a tokio runtime of its own with its own
//! connection pool; each claims due sources (`Store::claim_due`, its claim
//! loop) and polls them through the pipeline over HTTP. The stub server is
//! this binary run again in a process of its own (`stub.rs`), on 100
//! loopback addresses (sites), counting every fetch by source.
//!
//! Steady state, not a drained backlog: the sources are registered parked
//! (due in 2100) with the validator the stub answers 304 to, as earlier
//! polls would have left them; once all 4 workers run, their due times
//! are spread evenly over one `[poll] interval` chosen so that 260 sources
//! fall due per second (interval = sources / 260: 384 s for 100,000; 65
//! per worker, above the goal of 50 so an uneven share still meets it),
//! which 4 workers can keep up with. The run lasts ¾ of an interval (at
//! most 300 s), so no source is due twice in it; the first fifth is
//! warm-up, the rest the measured window. After it the workers drain what
//! fell due in the run (≤ 120 s) and stop.
//!
//! Printed, with PASS/MISS: double fetches (two fetches of one source for
//! one due time, counted at the server; goal 0), lost (due in the run and
//! never fetched; goal 0), fetches/s of each worker in the window (goal
//! ≥ 50), p99 lateness (claim time − due time, from the claim loop's own
//! `claimed` trace events; goal < 60 s) and the server's view of it
//! (first fetch − due time); then ingest items/s on PostgreSQL beside
//! SQLite (the baseline, same run): 240 polls of 50 new stories, 8 at once.
//!
//! Needs `FEEDMERGE_TEST_PG_URL` (schemas of its own are created and
//! dropped). `FEEDMERGE_BENCH_SOURCES=N` scales it down (default 100,000,
//! about 8 minutes; 10,000 takes about a minute).
//!
//! Run: `cargo bench --bench pg_claims`.

#[path = "pg_claims/steady.rs"]
mod steady;
#[path = "pg_claims/stub.rs"]
mod stub;
#[path = "pg_claims/watch.rs"]
mod watch;

use chrono::{Duration as Span, Utc};
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::postgres::PgStore;
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{PollRecord, PollResult, SourceSpec, Store};
use std::sync::Arc;
use std::time::Instant;

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

async fn run(ear: watch::Ear) {
    let Ok(base) = std::env::var("FEEDMERGE_TEST_PG_URL") else {
        println!("pg_claims: skipped: FEEDMERGE_TEST_PG_URL is not set");
        return;
    };
    let sources: usize = std::env::var("FEEDMERGE_BENCH_SOURCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
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
    steady::run(&in_schema(&schema), sources, &ear).await;

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
    if std::env::var_os(stub::SERVE_VAR).is_some() {
        return stub::serve_main();
    }
    let ear = watch::install();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(ear));
}
