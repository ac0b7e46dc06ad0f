//! Retention (`[storage] keep`): old stories are purged, leave tombstones
//! so feeds that still list them cannot bring them back, and the space goes
//! back to the file system. Store-level tests write through the real store
//! into a real SQLite file with `now` injected; the daemon test runs the
//! real daemon, whose purge task uses the wall clock on stories dated far
//! from it.

mod common;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use common::*;
use feedmerge::config::Config;
use feedmerge::feeds::{self, FeedRequest, Target};
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::retention::{self, TOMBSTONE_MARGIN};
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{PollRecord, PollResult, SourceSpec, Store, WriteSummary};
use std::time::Duration;

const KEEP: Duration = Duration::from_secs(180 * 86_400);

fn day0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn days(n: i64) -> Span {
    Span::days(n)
}

/// Story `n` of source `source`, in section Politics.
fn item(source: &str, n: u32, published: DateTime<Utc>) -> Item {
    Item {
        key: format!("{source}-guid-{n}"),
        story_key: format!("link:https://news.example/{n}"),
        guid: Some(format!("{source}-guid-{n}")),
        link: Some(format!("https://news.example/{n}")),
        title: format!("Story {n}"),
        summary: Some(format!("<p>Summary of story {n}.</p>")),
        content: Some(format!("<p>{}</p>", "Body text. ".repeat(200))),
        authors: vec![],
        categories: vec!["Politics".into()],
        sections: vec!["Politics".into()],
        published: Some(published),
        updated: None,
        language: Some("en".into()),
        enclosures: vec![],
        content_hash: format!("hash-{n}"),
    }
}

/// A store in `dir` with sources `a` and `b` registered.
async fn store(dir: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("r.db")).unwrap();
    let specs: Vec<SourceSpec> = ["a", "b"]
        .iter()
        .map(|n| SourceSpec {
            name: n.to_string(),
            url: format!("https://{n}.example/feed"),
            title: None,
        })
        .collect();
    store.register_sources(&specs).await.unwrap();
    store
}

async fn poll(
    store: &SqliteStore,
    source: &str,
    at: DateTime<Utc>,
    items: Vec<Item>,
) -> WriteSummary {
    store
        .record_poll(
            source,
            PollRecord {
                at,
                next_check: at + Span::minutes(15),
                moved_to: None,
                articles: Vec::new(),
                result: PollResult::Fetched {
                    validators: Validators::default(),
                    status: 200,
                    meta: FeedMeta::default(),
                    items,
                },
            },
        )
        .await
        .unwrap()
}

fn config(dir: &std::path::Path) -> Config {
    Config::parse(
        "[storage]\nkeep = \"180d\"\n[sections]\n\"Politics\" = []\n",
        &dir.join("feedmerge.toml"),
    )
    .unwrap()
}

/// Titles of the whole Politics section, newest first.
async fn section(store: &SqliteStore, dir: &std::path::Path) -> Vec<String> {
    let req = FeedRequest {
        limit: Some(500),
        ..FeedRequest::default()
    };
    let page = feeds::select(
        &config(dir),
        store,
        &Target::Section("politics".into()),
        &req,
    )
    .await
    .unwrap();
    page.stories.into_iter().map(|s| s.title).collect()
}

#[tokio::test]
async fn an_old_story_is_purged_and_a_feed_still_listing_it_does_not_bring_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let now = day0();
    let old = item("a", 1, now - days(200));
    let fresh = item("a", 2, now - days(10));
    let summary = poll(&store, "a", now - days(1), vec![old.clone(), fresh.clone()]).await;
    assert_eq!(summary.new_stories, 2);
    assert_eq!(section(&store, dir.path()).await, ["Story 2", "Story 1"]);

    let report = retention::purge(&store, KEEP, now).await.unwrap();
    assert_eq!((report.stories, report.batches), (1, 1));
    assert_eq!(report.sections, ["Politics"]);
    assert_eq!(
        section(&store, dir.path()).await,
        ["Story 2"],
        "older than keep: gone"
    );
    let stats = store.store_stats().await.unwrap();
    assert_eq!((stats.stories, stats.tombstones), (1, 1));

    // The feed still lists it, even edited: it stays out.
    let edited = Item {
        title: "Story 1, edited".into(),
        content_hash: "hash-1-edited".into(),
        ..old.clone()
    };
    let summary = poll(
        &store,
        "a",
        now + Span::hours(1),
        vec![edited, fresh.clone()],
    )
    .await;
    assert_eq!(
        (
            summary.new_stories,
            summary.merged,
            summary.updated,
            summary.unchanged,
            summary.tombstoned
        ),
        (0, 0, 0, 1, 1)
    );
    // Another source with the same story (same canonical link): out too.
    let copy = item("b", 1, now - days(200));
    let summary = poll(&store, "b", now + Span::hours(2), vec![copy]).await;
    assert_eq!(
        (summary.new_stories, summary.merged, summary.tombstoned),
        (0, 0, 1)
    );
    assert_eq!(section(&store, dir.path()).await, ["Story 2"]);

    // A second purge at the same time finds nothing more.
    let again = retention::purge(&store, KEEP, now + Span::hours(3))
        .await
        .unwrap();
    assert_eq!(
        (again.stories, again.batches, again.tombstones_expired),
        (0, 0, 0)
    );
    store.close();
}

#[tokio::test]
async fn a_story_newer_than_keep_stays_until_it_is_older() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let published = day0() - days(10);
    poll(&store, "a", day0(), vec![item("a", 1, published)]).await;
    // 179 days old: kept, however often the purge runs.
    for day in [0, 100, 169] {
        let report = retention::purge(&store, KEEP, day0() + days(day))
            .await
            .unwrap();
        assert_eq!(report.stories, 0, "day {day}");
    }
    assert_eq!(section(&store, dir.path()).await, ["Story 1"]);
    // Just past 180 days.
    let at = published + Span::days(180) + Span::seconds(1);
    assert_eq!(retention::purge(&store, KEEP, at).await.unwrap().stories, 1);
    assert!(section(&store, dir.path()).await.is_empty());
    store.close();
}

#[tokio::test]
async fn tombstones_expire_keep_plus_the_margin_after_a_feed_last_listed_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let now = day0();
    let old = item("a", 1, now - days(365));
    poll(&store, "a", now - days(1), vec![old.clone()]).await;
    assert_eq!(
        retention::purge(&store, KEEP, now).await.unwrap().stories,
        1
    );

    // Listed again 20 days later: the tombstone's clock restarts there.
    let listed = now + days(20);
    assert_eq!(
        poll(&store, "a", listed, vec![old.clone()])
            .await
            .tombstoned,
        1
    );
    let life = Span::from_std(KEEP + TOMBSTONE_MARGIN).unwrap();
    let report = retention::purge(&store, KEEP, listed + life - days(1))
        .await
        .unwrap();
    assert_eq!(
        report.tombstones_expired, 0,
        "listed 209 days ago: still remembered"
    );
    assert_eq!(store.store_stats().await.unwrap().tombstones, 1);
    let report = retention::purge(&store, KEEP, listed + life + days(1))
        .await
        .unwrap();
    assert_eq!(
        report.tombstones_expired, 1,
        "not listed for keep + 30 days: forgotten"
    );
    assert_eq!(store.store_stats().await.unwrap().tombstones, 0);

    // Forgotten, a listing is a new story again (and, still old, is purged
    // and tombstoned again by the next run).
    let later = listed + life + days(2);
    let summary = poll(&store, "a", later, vec![old]).await;
    assert_eq!((summary.new_stories, summary.tombstoned), (1, 0));
    let report = retention::purge(&store, KEEP, later).await.unwrap();
    assert_eq!(report.stories, 1);
    assert_eq!(store.store_stats().await.unwrap().tombstones, 1);
    store.close();
}

#[tokio::test]
async fn many_stories_go_in_batches_and_their_space_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let store = store(dir.path()).await;
    let now = day0();
    // Two and a half batches of old stories (three transactions) and 10
    // fresh ones, ~2.3 KB each.
    let old = (retention::BATCH * 5 / 2) as u32;
    for chunk in 0..old / 100 {
        let items = (0..100)
            .map(|i| {
                let n = chunk * 100 + i;
                item("a", n, now - days(400) + Span::minutes(n.into()))
            })
            .collect();
        poll(&store, "a", now - days(1), items).await;
    }
    let fresh = (old + 1000..old + 1010)
        .map(|n| item("a", n, now - days(1)))
        .collect();
    poll(&store, "a", now - days(1), fresh).await;
    let full = store.store_stats().await.unwrap();
    assert_eq!(full.stories, u64::from(old) + 10);
    assert!(full.shrinks, "a new database can shrink");

    let report = retention::purge(&store, KEEP, now).await.unwrap();
    assert_eq!((report.stories, report.batches), (old as usize, 3));
    assert!(report.pages_reclaimed > 100, "{report:?}");
    let stats = store.store_stats().await.unwrap();
    assert_eq!((stats.stories, stats.tombstones), (10, u64::from(old)));
    assert_eq!(section(&store, dir.path()).await.len(), 10);
    store.close();
    // Closed, the log is folded back: the file itself is smaller, with an
    // eighth of it kept free for the stories to come.
    let db_size = std::fs::metadata(&path).unwrap().len();
    assert!(
        db_size * 3 < full.bytes + full.wal_bytes,
        "{db_size} bytes after the purge, {} + {} before",
        full.bytes,
        full.wal_bytes
    );
    assert!(
        stats.free_bytes > 0 && stats.free_bytes <= db_size / 8 + 8192,
        "{} bytes free of {db_size}",
        stats.free_bytes
    );
}

/// An RSS document of `(guid, title, pubDate)` items in section Politics.
fn rss(items: &[(&str, &str, DateTime<Utc>)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Wire</title><link>https://wire.example/</link><description>d</description>\n",
    );
    for (guid, title, date) in items {
        out.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title>\
             <link>https://wire.example/{guid}</link><category>Politics</category>\
             <pubDate>{}</pubDate><description>About {title}.</description></item>\n",
            date.to_rfc2822()
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

fn daemon_config(
    feeds: &FeedServer,
    db: &std::path::Path,
    listen: std::net::SocketAddr,
    keep: &str,
) -> String {
    format!(
        "[storage]\npath = \"{}\"\n{keep}\n[server]\nlisten = \"{listen}\"\n\
         [poll]\ncron = \"* * * * * *\"\ntimeout = \"5s\"\n[sections]\n\"Politics\" = []\n\
         [[source]]\nname = \"wire\"\nurl = \"{}\"\n",
        db.display(),
        feeds.url("wire.rss")
    )
}

async fn section_titles(addr: std::net::SocketAddr) -> Vec<String> {
    let (status, _, body) = get(&format!("http://{addr}/sections/politics.atom?limit=500")).await;
    assert_eq!(status, 200, "{body}");
    titles(&parse_feed(&body))
}

/// The real daemon: a reload that sets `keep` purges within seconds, the
/// section feed (and its cache) loses the story, `/status` counts it as a
/// tombstone, and later polls of a feed that still lists it leave it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_purges_on_its_timer_with_the_keep_a_reload_put_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    let db = dir.path().join("daemon.db");
    // Dated far from the wall clock, so the purge's own `now` cannot race.
    let ancient = Utc.with_ymd_and_hms(2001, 9, 1, 8, 0, 0).unwrap();
    let recent = Utc::now() - Span::days(1);
    let first = [
        ("old", "Ancient story", ancient),
        ("new", "Recent story", recent),
    ];
    feeds.set(
        "wire.rss",
        Doc::feed("application/rss+xml", rss(&first).into_bytes()),
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let path = dir.path().join("feedmerge.toml");
    std::fs::write(&path, daemon_config(&feeds, &db, addr, "")).unwrap();
    let config = Config::load(&path).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (reload, reloads) = tokio::sync::mpsc::channel(1);
    let task = tokio::spawn(feedmerge::daemon::run_with_reloads(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        reloads,
    ));
    wait_for("both stories served", Duration::from_secs(30), || async {
        section_titles(addr).await.len() == 2
    })
    .await;
    // Cached now: the purge's change notice must drop it.
    assert_eq!(
        section_titles(addr).await,
        ["Recent story", "Ancient story"]
    );

    std::fs::write(&path, daemon_config(&feeds, &db, addr, "keep = \"180d\"")).unwrap();
    reload.send(()).await.unwrap();
    wait_for(
        "the ancient story purged",
        Duration::from_secs(30),
        || async { section_titles(addr).await == ["Recent story"] },
    )
    .await;
    let (_, _, body) = get(&format!("http://{addr}/status")).await;
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["store"]["stories"], 1, "{status}");
    assert_eq!(status["store"]["tombstones"], 1, "{status}");
    assert!(status["store"]["bytes"].as_u64().unwrap() > 0, "{status}");
    assert!(status["store"]["wal_bytes"].is_u64(), "{status}");
    assert_eq!(
        status["sources"][0]["name"], "wire",
        "sources unchanged: {status}"
    );

    // The feed changes (a new ETag, a new story) and still lists the old
    // one: the poll that brings the new story leaves the old one out.
    let second = [
        ("newer", "Newer story", Utc::now() - Span::hours(1)),
        ("new", "Recent story", recent),
        ("old", "Ancient story, edited", ancient),
    ];
    feeds.set(
        "wire.rss",
        Doc::feed("application/rss+xml", rss(&second).into_bytes()),
    );
    wait_for(
        "the newer story served",
        Duration::from_secs(30),
        || async {
            section_titles(addr)
                .await
                .contains(&"Newer story".to_string())
        },
    )
    .await;
    assert_eq!(section_titles(addr).await, ["Newer story", "Recent story"]);
    let (_, _, body) = get(&format!("http://{addr}/status")).await;
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["store"]["stories"], 2, "{status}");
    assert_eq!(status["store"]["tombstones"], 1, "{status}");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("daemon stops")
        .expect("no panic")
        .expect("no error");
}

/// `feedmerge poll` with `[storage] keep` purges after its poll, as the
/// daemon's task does: a story already past `keep` is stored, then purged
/// and tombstoned in the same run (and the log says so); one within `keep`
/// stays; a later poll of a feed that still lists the old story with a
/// new body leaves it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_poll_applies_keep_after_polling() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    let db = dir.path().join("poll.db");
    let ancient = Utc.with_ymd_and_hms(2001, 9, 1, 8, 0, 0).unwrap();
    let recent = Utc::now() - Span::days(1);
    feeds.set(
        "wire.rss",
        Doc::feed(
            "application/rss+xml",
            rss(&[
                ("old", "Ancient story", ancient),
                ("new", "Recent story", recent),
            ])
            .into_bytes(),
        ),
    );
    let unused: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
    let config = dir.path().join("feedmerge.toml");
    std::fs::write(
        &config,
        daemon_config(&feeds, &db, unused, "keep = \"180d\""),
    )
    .unwrap();
    let cli = |args: &'static [&'static str]| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            // INFO, to see the purge's line (run_cli keeps only warnings).
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
                .arg("--config")
                .arg(&config)
                .args(args)
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .output()
                .expect("run feedmerge");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
    };
    let (ok, out, err) = cli(&["poll"]).await.unwrap();
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("purged stories older than keep") && err.contains("stories=1"),
        "the purge is logged: {err}"
    );
    let (ok, out, err) = cli(&["status"]).await.unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains("store: 1 stories") && out.contains(", 1 tombstones"),
        "{out}"
    );

    // Listed again, edited (a new body, so a 200 and a new content hash).
    feeds.set(
        "wire.rss",
        Doc::feed(
            "application/rss+xml",
            rss(&[
                ("old", "Ancient story, edited", ancient),
                ("new", "Recent story", recent),
            ])
            .into_bytes(),
        ),
    );
    let (ok, out, err) = cli(&["poll"]).await.unwrap();
    assert!(ok, "{out}{err}");
    let (_, out, _) = cli(&["export", "--section", "Politics", "--format", "rss"])
        .await
        .unwrap();
    assert!(out.contains("Recent story"), "{out}");
    assert!(!out.contains("Ancient story"), "stays out: {out}");
}
