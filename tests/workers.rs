//! Several `feedmerge run` processes on one PostgreSQL database: workers
//! that claim due sources, and a front end that only serves. The real
//! daemon runs in-process against a real feed server on loopback and a
//! schema of its own in the test database (`FEEDMERGE_TEST_PG_URL`;
//! without it each test says PostgreSQL was skipped and passes).

#[path = "store_contract/backends.rs"]
mod backends;
mod common;

use chrono::Utc;
use common::*;
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::{PollRecord, PollResult, SourceSpec, Store};
use std::time::Duration;

const SOURCES: usize = 24;

fn rss(n: usize) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>S{n}</title>\
         <link>https://s{n}.example/</link><description>d</description>\
         <item><guid>s{n}-1</guid><title>Story of source {n}</title>\
         <link>https://s{n}.example/1</link><category>World</category>\
         <pubDate>Sun, 01 Mar 2026 12:00:00 GMT</pubDate></item></channel></rss>"
    )
}

/// A config on the PostgreSQL schema `url` names, as worker `id`.
fn config(feeds: &FeedServer, listen: std::net::SocketAddr, url: &str, worker: &str) -> String {
    let mut toml = format!(
        "[storage]\nurl = \"{url}\"\npool_size = 4\n\n[server]\nlisten = \"{listen}\"\n\n\
         [poll]\ninterval = \"1h\"\ntimeout = \"5s\"\nper_host = 8\n\n\
         [worker]\nid = \"{worker}\"\nlease = \"30s\"\n{}\n\n[sections]\n\"World\" = []\n",
        if worker == "front" {
            "poll = false"
        } else {
            ""
        }
    );
    for n in 0..SOURCES {
        toml.push_str(&format!(
            "\n[[source]]\nname = \"s{n}\"\nurl = \"{}\"\n",
            feeds.url(&format!("s{n}.rss"))
        ));
    }
    toml
}

async fn start(feeds: &FeedServer, url: &str, worker: &str) -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), |listen| config(feeds, listen, url, worker)).await;
    (dir, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_fetch_every_due_source_once_and_a_front_end_shows_who() {
    let Some(base) = backends::pg_url("workers") else {
        return;
    };
    let (store, base, schema) = backends::pg_store(&base, "workers").await;
    drop(store);
    let url = backends::url_in_schema(&base, &schema);
    let feeds = FeedServer::start().await;
    for n in 0..SOURCES {
        feeds.set(
            &format!("s{n}.rss"),
            Doc::feed("application/rss+xml", rss(n).into_bytes()),
        );
    }
    let mut daemons = Vec::new();
    for w in ["w1", "w2", "w3", "front"] {
        daemons.push(start(&feeds, &url, w).await);
    }
    let front = &daemons[3].1;
    wait_for(
        "every source polled once",
        Duration::from_secs(60),
        || async {
            let s = status(front).await;
            let list = s["sources"].as_array().cloned().unwrap_or_default();
            list.len() == SOURCES && list.iter().all(|src| !src["last_success"].is_null())
        },
    )
    .await;
    // Well past a claim interval: a second fetch would show by now.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    for n in 0..SOURCES {
        assert_eq!(
            feeds.hits(&format!("s{n}.rss")),
            1,
            "source s{n} fetched once"
        );
    }
    let s = status(front).await;
    let mut by: Vec<String> = s["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|src| src["polled_by"].as_str().unwrap_or("none").to_string())
        .collect();
    assert!(by.iter().all(|w| w.starts_with('w')), "{by:?}");
    by.sort();
    by.dedup();
    eprintln!("sources polled by {by:?}");
    let (code, _, body) = get(&front.url("/sections/world.atom")).await;
    assert_eq!(code, 200);
    assert_eq!(
        body.matches("<entry>").count(),
        SOURCES,
        "the front end serves every story"
    );
    for (_, d) in daemons {
        d.stop().await;
    }
    backends::drop_schema(&base, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_by_another_worker_refreshes_the_front_ends_cache_within_a_second() {
    let Some(base) = backends::pg_url("notify") else {
        return;
    };
    let (store, base, schema) = backends::pg_store(&base, "notify").await;
    let url = backends::url_in_schema(&base, &schema);
    let feeds = FeedServer::start().await;
    let (_dir, front) = start(&feeds, &url, "front").await;
    let item = |n: u32| Item {
        key: format!("g{n}"),
        story_key: format!("link:https://news.example/{n}"),
        guid: Some(format!("g{n}")),
        link: Some(format!("https://news.example/{n}")),
        title: format!("Story {n}"),
        summary: None,
        content: None,
        authors: vec![],
        categories: vec![],
        sections: vec!["World".into()],
        published: Some(Utc::now()),
        updated: None,
        language: None,
        enclosures: vec![],
        content_hash: format!("h{n}"),
    };
    let record = |items| PollRecord {
        at: Utc::now(),
        next_check: Utc::now() + chrono::Duration::hours(1),
        moved_to: None,
        articles: vec![],
        result: PollResult::Fetched {
            validators: Validators::default(),
            status: 200,
            meta: FeedMeta::default(),
            items,
        },
    };
    store
        .register_sources(&[SourceSpec {
            name: "s0".into(),
            url: feeds.url("s0.rss"),
            title: None,
        }])
        .await
        .unwrap();
    store
        .record_poll("s0", record(vec![item(1)]))
        .await
        .unwrap();
    let feed = front.url("/sections/world.atom");
    let (_, _, first) = get(&feed).await;
    assert!(first.contains("Story 1"), "{first}");
    // Another worker stores a story; until it says so, the cached answer
    // stands (so the notice, not a cache miss, is what refreshes it).
    store
        .record_poll("s0", record(vec![item(1), item(2)]))
        .await
        .unwrap();
    let (_, _, cached) = get(&feed).await;
    assert!(!cached.contains("Story 2"), "served from the cache");
    // The front end's listening connection is up (its LISTEN ran) before
    // the notice is sent: a notice sent before is heard by nobody.
    let (watch, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let listen = format!("LISTEN \"feedmerge_changes.{schema}\"");
    wait_for("the front end listens", Duration::from_secs(30), || async {
        let row = watch
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE query = $1",
                &[&listen],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0) > 0
    })
    .await;
    let told = std::time::Instant::now();
    store
        .notify("other-worker", Some(vec!["World".into()]))
        .await
        .unwrap();
    wait_for(
        "the front end serves the new story",
        Duration::from_secs(1),
        || async { get(&feed).await.2.contains("Story 2") },
    )
    .await;
    eprintln!(
        "front end refreshed {} ms after NOTIFY",
        told.elapsed().as_millis()
    );
    front.stop().await;
    drop(store);
    backends::drop_schema(&base, &schema).await;
}
