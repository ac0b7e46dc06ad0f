//! `[clustering]` as an operator lives with it, through the real daemon
//! and the real SQLite store: a reload keeps the clusters and puts a
//! changed `[clustering]` in force, retention takes members out of their
//! clusters cleanly, and a `[[feed]]`'s source selection and `exclude`
//! decide what it shows of a cluster.

mod clustering_support;
mod common;

use chrono::{DateTime, Duration as Span, Utc};
use clustering_support::{L, T, entry, explain, json_items, related, rss};
use common::{Daemon, FeedServer, Reloadable, wait_for};
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// A config whose sources all feed «Политика», with `clustering` as the
/// body of `[clustering]` and `feeds` after the `politika` feed.
fn config(
    server: &FeedServer,
    listen: std::net::SocketAddr,
    db: &Path,
    sources: &[&str],
    clustering: &str,
    feeds: &str,
) -> String {
    let mut text = format!(
        "[storage]\npath = \"{}\"\n\n[server]\nlisten = \"{listen}\"\n\n[poll]\ninterval = \"1h\"\ntimeout = \"5s\"\n\n\
         [clustering]\n{clustering}\n\n\
         [[feed]]\nname = \"politika\"\ntitle = \"Политика\"\nsections = [\"Политика\"]\n{feeds}",
        db.display()
    );
    for name in sources {
        text.push_str(&format!(
            "\n[[source]]\nname = \"{name}\"\nurl = \"{}\"\nsection = \"Политика\"\n",
            server.url(&format!("{name}.rss"))
        ));
    }
    text
}

const ON: &str = "enabled = true\nwindow = \"48h\"";

fn link(source: &str) -> String {
    format!("https://{source}.example/1")
}

/// Serves `source`'s reprint of the report, published `at`.
fn reprint(server: &FeedServer, source: &str, at: DateTime<Utc>) {
    server.set(&format!("{source}.rss"), rss(&link(source), T, L, at));
}

/// Waits until the `politika` entry of `first` lists exactly `others`.
async fn wait_related(url: &str, first: &str, others: &[String], what: &str) {
    wait_for(what, WAIT, || async {
        related(entry(&json_items(url).await, &link(first))) == others
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_clusters_and_puts_a_changed_clustering_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("feedmerge.db");
    let server = FeedServer::start().await;
    let now = Utc::now();
    reprint(&server, "apa", now - Span::hours(3));
    reprint(&server, "trend", now - Span::minutes(170));
    reprint(&server, "azertac", now - Span::minutes(160));
    reprint(&server, "sputnik", now - Span::minutes(80));
    reprint(&server, "tass", now - Span::minutes(20));
    let addr = std::cell::Cell::new(None);
    let make = |sources: &[&str], clustering: &str| {
        config(&server, addr.get().unwrap(), &db, sources, clustering, "")
    };
    let daemon = Reloadable::start(dir.path(), |listen| {
        addr.set(Some(listen));
        make(&["apa"], ON)
    })
    .await;
    let feed = daemon.url("/feeds/politika.json");
    wait_for("apa's report stored", WAIT, || async {
        entry(&json_items(&feed).await, &link("apa")).is_some()
    })
    .await;

    // Reloads with the same keys: the clusterer and its window carry over,
    // so each new outlet (due at once) joins the cluster of the first.
    daemon.reload_with(&make(&["apa", "trend"], ON)).await;
    wait_related(
        &feed,
        "apa",
        &[link("trend")],
        "trend joined after a reload",
    )
    .await;
    daemon
        .reload_with(&make(&["apa", "trend", "azertac"], ON))
        .await;
    wait_related(
        &feed,
        "apa",
        &[link("trend"), link("azertac")],
        "azertac joined after a second reload",
    )
    .await;
    assert_eq!(json_items(&feed).await.len(), 1, "one entry for the event");

    // Off: every story is an entry again, and a new one is not clustered.
    let off = "enabled = false\nwindow = \"48h\"";
    daemon
        .reload_with(&make(&["apa", "trend", "azertac", "sputnik"], off))
        .await;
    wait_for("every report an entry of its own", WAIT, || async {
        let items = json_items(&feed).await;
        items.len() == 4
            && items.iter().all(|i| {
                i["_feedmerge"]["related"].is_null()
                    && !i["content_html"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("Также сообщают:")
            })
    })
    .await;
    let v = explain(&daemon.config_path, &[&link("sputnik")]);
    assert!(v["cluster"].is_null(), "sputnik was placed while off: {v}");
    assert!(v["members"][0]["rule"].is_null(), "{v}");

    // On again with a 1 h window: the stored clusters show once more, and
    // the next story is judged by the new window (tass, 160 min after
    // apa, opens a cluster of its own; sputnik, older than the new
    // window, is left alone).
    let short = "enabled = true\nwindow = \"1h\"";
    daemon
        .reload_with(&make(
            &["apa", "trend", "azertac", "sputnik", "tass"],
            short,
        ))
        .await;
    wait_for(
        "tass stored and apa's cluster shown again",
        WAIT,
        || async {
            let items = json_items(&feed).await;
            entry(&items, &link("tass")).is_some()
                && related(entry(&items, &link("apa"))) == [link("trend"), link("azertac")]
        },
    )
    .await;
    let items = json_items(&feed).await;
    assert_eq!(items.len(), 3, "apa's cluster, sputnik, tass: {items:?}");
    assert!(related(entry(&items, &link("tass"))).is_empty());
    let v = explain(&daemon.config_path, &[&link("tass"), &link("apa")]);
    assert_eq!(v["members"][0]["rule"], "first", "{v}");
    assert_eq!(v["pair"]["same_cluster"], false, "{v}");
    assert_eq!(v["pair"]["decision"]["rule"], "outside-window", "{v}");
    let v = explain(&daemon.config_path, &[&link("sputnik")]);
    assert!(v["cluster"].is_null(), "{v}");
    daemon.stop().await;
}

/// The stories of the `politika` feed as the store gives them now.
async fn shown(dir: &Path) -> Vec<feedmerge::model::Story> {
    let config = feedmerge::config::Config::load(&dir.join("feedmerge.toml")).unwrap();
    let store = feedmerge::store::sqlite::SqliteStore::open(&config.storage_path).unwrap();
    let page = feedmerge::feeds::select(
        &config,
        &store,
        &feedmerge::feeds::Target::Named("politika".into()),
        &feedmerge::feeds::FeedRequest::default(),
    )
    .await
    .unwrap();
    page.stories
}

fn links(stories: &[feedmerge::model::Story]) -> Vec<(String, Vec<String>)> {
    stories
        .iter()
        .map(|s| {
            let others = s.related.iter().filter_map(|r| r.link.clone()).collect();
            (s.link.clone().unwrap_or_default(), others)
        })
        .collect()
}

async fn purge(dir: &Path, keep: Duration) -> usize {
    let config = feedmerge::config::Config::load(&dir.join("feedmerge.toml")).unwrap();
    let store = feedmerge::store::sqlite::SqliteStore::open(&config.storage_path).unwrap();
    let report = feedmerge::store::retention::purge(&store, keep, Utc::now())
        .await
        .unwrap();
    report.stories
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_takes_purged_reports_out_of_their_clusters_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("feedmerge.db");
    let server = FeedServer::start().await;
    let now = Utc::now();
    // apa is stored first, so it is the cluster's first report, though
    // trend's report is dated earlier (and is purged first).
    reprint(&server, "apa", now - Span::hours(2));
    reprint(&server, "trend", now - Span::hours(3));
    reprint(&server, "azertac", now - Span::hours(1));
    reprint(&server, "tass", now - Span::minutes(30));
    let addr = std::cell::Cell::new(None);
    let make = |sources: &[&str]| config(&server, addr.get().unwrap(), &db, sources, ON, "");
    let daemon = Reloadable::start(dir.path(), |listen| {
        addr.set(Some(listen));
        make(&["apa"])
    })
    .await;
    let feed = daemon.url("/feeds/politika.json");
    wait_for("apa's report stored", WAIT, || async {
        entry(&json_items(&feed).await, &link("apa")).is_some()
    })
    .await;
    daemon
        .reload_with(&make(&["apa", "trend", "azertac", "tass"]))
        .await;
    let all = [link("trend"), link("azertac"), link("tass")];
    wait_related(&feed, "apa", &all, "three outlets joined apa").await;
    daemon.stop().await;

    // A purged member leaves the «Также сообщают:» block and the links.
    assert_eq!(purge(dir.path(), Duration::from_secs(150 * 60)).await, 1);
    let stories = shown(dir.path()).await;
    assert_eq!(
        links(&stories),
        [(link("apa"), vec![link("azertac"), link("tass")])]
    );
    let content = stories[0].content.as_deref().unwrap();
    assert!(!content.contains(&link("trend")), "{content}");

    // A purged first report frees its members: each is an entry of its
    // own, with no block and no link to what is gone...
    assert_eq!(purge(dir.path(), Duration::from_secs(90 * 60)).await, 1);
    let stories = shown(dir.path()).await;
    assert_eq!(
        links(&stories),
        [(link("tass"), vec![]), (link("azertac"), vec![])]
    );
    assert!(stories.iter().all(|s| {
        !s.content
            .as_deref()
            .unwrap_or_default()
            .contains("Также сообщают:")
    }));
    // ...until the next clustering run places them again: azertac (the
    // older) opens a cluster and tass, agreeing with it, joins.
    server.set(
        "other.rss",
        rss(
            "https://other.example/1",
            "Курс маната на 22 ноября",
            "Центральный банк установил официальный курс маната.",
            now,
        ),
    );
    let sources = ["apa", "trend", "azertac", "tass", "other"];
    let daemon = Daemon::start(dir.path(), |listen| {
        config(&server, listen, &db, &sources, ON, "")
    })
    .await;
    let feed = daemon.url("/feeds/politika.json");
    wait_related(
        &feed,
        "azertac",
        &[link("tass")],
        "the freed members regrouped",
    )
    .await;
    let items = json_items(&feed).await;
    assert_eq!(items.len(), 2, "azertac's cluster and the other story");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feeds_sources_and_exclude_decide_what_it_shows_of_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("feedmerge.db");
    let server = FeedServer::start().await;
    let now = Utc::now();
    reprint(&server, "apa", now - Span::hours(3));
    reprint(&server, "trend", now - Span::hours(2));
    // A reprint that the no_ads feed's exclude matches (in its summary).
    let ad_lead = format!("{L} Реклама.");
    server.set(
        "azertac.rss",
        rss(&link("azertac"), T, &ad_lead, now - Span::hours(1)),
    );
    let feeds = "\n[[feed]]\nname = \"trend_only\"\ntitle = \"Trend\"\nsections = [\"Политика\"]\nsources = [\"trend\"]\n\
                 \n[[feed]]\nname = \"no_ads\"\ntitle = \"Без рекламы\"\nsections = [\"Политика\"]\nexclude = [\"(?i)реклама\"]\n";
    let addr = std::cell::Cell::new(None);
    let make = |sources: &[&str], feeds: &str| {
        config(&server, addr.get().unwrap(), &db, sources, ON, feeds)
    };
    // The feeds come with the sources they name.
    let daemon = Reloadable::start(dir.path(), |listen| {
        addr.set(Some(listen));
        make(&["apa"], "")
    })
    .await;
    let politika = daemon.url("/feeds/politika.json");
    wait_for("apa's report stored", WAIT, || async {
        entry(&json_items(&politika).await, &link("apa")).is_some()
    })
    .await;
    daemon
        .reload_with(&make(&["apa", "trend", "azertac"], feeds))
        .await;
    wait_related(
        &politika,
        "apa",
        &[link("trend"), link("azertac")],
        "both reprints joined apa",
    )
    .await;

    // A feed of trend alone never shows apa's report, so it shows trend's
    // own, alone; so does the merged feed asked for trend only.
    for url in [
        daemon.url("/feeds/trend_only.json"),
        daemon.url("/feeds/politika.json?source=trend"),
    ] {
        let items = json_items(&url).await;
        assert_eq!(items.len(), 1, "{url}: {items:?}");
        assert_eq!(items[0]["url"], link("trend"), "{url}");
        assert!(related(items.first()).is_empty(), "{url}");
    }
    // A feed whose exclude matches a member lists it nowhere, not even as
    // another outlet's report of an entry it shows.
    let items = json_items(&daemon.url("/feeds/no_ads.json")).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(related(items.first()), [link("trend")]);
    let content = items[0]["content_html"].as_str().unwrap();
    assert!(!content.contains(&link("azertac")), "{content}");
    let (_, _, atom) = common::get(&daemon.url("/feeds/no_ads.atom")).await;
    assert!(!atom.contains(&link("azertac")), "{atom}");
    // The merged feed without filters lists both.
    let items = json_items(&politika).await;
    assert_eq!(items.len(), 1);
    assert_eq!(related(items.first()), [link("trend"), link("azertac")]);
    daemon.stop().await;
}

/// Polls place their stories in the background, and a poll's change is
/// told (caches dropped) only once they are placed: a one-off poller that
/// waits for `clusters_settled` leaves one entry per event, and every
/// change it announced already shows the clusters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stories_placed_in_the_background_are_placed_before_their_change_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("feedmerge.db");
    let server = FeedServer::start().await;
    let now = Utc::now();
    let outlets = ["apa", "trend", "azertac", "tass"];
    for (i, name) in outlets.iter().enumerate() {
        reprint(&server, name, now - Span::hours(4 - i as i64));
    }
    let listen = "127.0.0.1:0".parse().unwrap();
    let text = config(&server, listen, &db, &outlets, ON, "");
    let path = dir.path().join("feedmerge.toml");
    std::fs::write(&path, &text).unwrap();
    let config = std::sync::Arc::new(feedmerge::config::Config::load(&path).unwrap());
    let store = feedmerge::daemon::open_store(&config).await.unwrap();
    let dyn_store: std::sync::Arc<dyn feedmerge::store::Store> = store.clone();
    let pipeline =
        feedmerge::pipeline::Pipeline::new(std::sync::Arc::clone(&config), dyn_store).unwrap();
    let mut told = pipeline.changes.subscribe();
    // The first outlet alone first, so it is the cluster's first report.
    let first = pipeline.poll(&config.sources[0]).await;
    let stored = matches!(
        first.outcome,
        feedmerge::pipeline::PollOutcome::Stored { .. }
    );
    assert!(stored, "{:?}", first.outcome);
    pipeline.clusters_settled().await;
    told.recv().await.unwrap();
    let rest = config.sources[1..].iter().map(|s| pipeline.poll(s));
    futures_util::future::join_all(rest).await;
    pipeline.clusters_settled().await;
    // Each of the three later polls told its change, after placing.
    for _ in 1..outlets.len() {
        told.try_recv()
            .expect("a change told for every poll once placed");
    }
    let others: Vec<String> = outlets[1..].iter().map(|s| link(s)).collect();
    let stories = shown(dir.path()).await;
    assert_eq!(links(&stories), [(link("apa"), others)]);
    drop(pipeline);
    let _ = tokio::task::spawn_blocking(move || store.close()).await;
}
