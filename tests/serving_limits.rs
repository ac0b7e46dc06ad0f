//! What a request may cost, through the real daemon: the cache's byte
//! budget, keys from the parsed request, refused shapes, slow and idle
//! connections, the connection cap and the bound on uncached renders.

mod common;

use common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The value of metric `name` with `labels`, summed over the series.
async fn metric(daemon: &Daemon, name: &str, labels: &[(&str, &str)]) -> f64 {
    let (code, _, body) = get(&daemon.url("/metrics")).await;
    assert_eq!(code, 200);
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("{e}: {body}"));
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// The standard scenario with `server` lines added to `[server]`.
async fn daemon_with(server: &str) -> Standard {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let db = dir.path().join("feedmerge.db");
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, "").replacen(
            "[server]\n",
            &format!("[server]\n{server}\n"),
            1,
        )
    })
    .await;
    wait_polled(&daemon, 4).await;
    Standard {
        dir,
        feeds,
        db,
        daemon,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_stays_within_its_byte_budget() {
    const BUDGET: f64 = 48.0 * 1024.0;
    let s = daemon_with("cache_bytes = \"48KiB\"").await;
    let client = reqwest::Client::new();
    let mut largest = 0.0f64;
    // Distinct cacheable requests in every format and coding, far more
    // than the budget holds.
    for limit in 1..=40 {
        for ext in ["atom", "rss", "json", "html"] {
            let path = if ext == "html" {
                format!("/sections/Политика?limit={limit}")
            } else {
                format!("/sections/Политика.{ext}?limit={limit}")
            };
            let r = client
                .get(s.daemon.url(&path))
                .header("accept-encoding", "gzip, br")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
        }
        if limit % 10 == 0 {
            let held = metric(&s.daemon, "feedmerge_cache_bytes", &[]).await;
            assert!(held <= BUDGET, "{held} bytes held, budget {BUDGET}");
            largest = largest.max(held);
        }
    }
    assert!(largest > BUDGET / 2.0, "the cache was used: {largest}");
    let entries = metric(&s.daemon, "feedmerge_cache_entries", &[]).await;
    assert!(
        entries > 1.0 && entries < 160.0,
        "some evicted, some kept: {entries}"
    );
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_keys_come_from_the_parsed_request_and_odd_shapes_are_refused() {
    let s = standard_daemon("feedmerge.db").await;
    let d = &s.daemon;
    for path in ["/?x=1", "/healthz?x", "/status?a=b", "/sources.opml?y"] {
        let (code, _, body) = get(&d.url(path)).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains("takes no query parameters"), "{body}");
    }
    let (code, _, _) = get(&d.url("/")).await;
    assert_eq!(code, 200);
    let (code, _, body) = get(&d.url("/sections/Политика.atom?limit=3&limit=4")).await;
    assert_eq!(code, 400);
    assert!(body.contains("more than once"), "{body}");

    let before = metric(d, "feedmerge_cache_entries", &[]).await;
    // One request, many spellings: parameter order, encoding, the
    // section's case and alias.
    for path in [
        "/sections/Политика.atom?limit=3&lang=ru",
        "/sections/Политика.atom?lang=ru&limit=3",
        "/sections/%D0%BF%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom?lang=ru&limit=3",
        "/sections/Politics.atom?lang=%72%75&limit=3",
    ] {
        let (code, _, body) = get(&d.url(path)).await;
        assert_eq!(code, 200, "{path}: {body}");
    }
    let after = metric(d, "feedmerge_cache_entries", &[]).await;
    assert_eq!(after - before, 1.0, "four spellings, one entry");

    // Over-long targets and heads.
    let long = format!("/sections/Политика.atom?q={}", "a".repeat(5000));
    let (code, _, _) = get(&d.url(&long)).await;
    assert_eq!(code, 414);
    let r = reqwest::Client::new()
        .get(d.url("/healthz"))
        .header("x-padding", "p".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    s.daemon.stop().await;
}

/// Reads until the server closes the connection; what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_within_the_header_timeout() {
    let s = daemon_with("header_read_timeout = \"1s\"").await;
    let addr = s.daemon.addr;
    // Far past the 1 s timeout, far short of forever: a bound on a hung
    // test, not a measure of the timeout.
    let deadline = Duration::from_secs(20);

    // Half a request, then nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Nothing at all.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // A whole request, then idle on a kept-alive connection.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    let (slow_got, silent_got, idle_got) = tokio::time::timeout(deadline, async {
        tokio::join!(
            read_until_closed(&mut slow),
            read_until_closed(&mut silent),
            read_until_closed(&mut idle)
        )
    })
    .await
    .expect("the server closed slow, silent and idle connections");
    assert!(!String::from_utf8_lossy(&slow_got).contains("200 OK"));
    assert!(silent_got.is_empty() || String::from_utf8_lossy(&silent_got).contains("408"));
    let idle_text = String::from_utf8_lossy(&idle_got);
    assert!(idle_text.starts_with("HTTP/1.1 200"), "{idle_text}");
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused_and_healthz_answers_once_others_close() {
    let s = daemon_with("max_connections = 4\nheader_read_timeout = \"2s\"").await;
    let addr = s.daemon.addr;
    let refused = || {
        metric(
            &s.daemon,
            "feedmerge_http_requests_total",
            &[("route", "refused")],
        )
    };
    let before = refused().await;
    // Far more half-open connections than the cap.
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        let _ = c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
        held.push(c);
    }
    // Once the slow ones time out, a fresh client gets its answer.
    wait_for("healthz answers", Duration::from_secs(30), || async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        match client.get(s.daemon.url("/healthz")).send().await {
            Ok(r) => r.status() == 200,
            Err(_) => false,
        }
    })
    .await;
    let after = refused().await;
    assert!(
        after - before >= 16.0,
        "at most 4 of 20 were let in: {} refused",
        after - before
    );
    // Every held connection was closed by the server, refused or timed out.
    tokio::time::timeout(Duration::from_secs(20), async {
        for c in &mut held {
            read_until_closed(c).await;
        }
    })
    .await
    .expect("every connection closed");
    s.daemon.stop().await;
}

/// The real store, with every page read taking `delay`: renders that
/// outlast the wait for a render slot, without a clock race.
struct SlowStore {
    inner: std::sync::Arc<feedmerge::store::sqlite::SqliteStore>,
    delay: Duration,
}

mod slow_store {
    use super::SlowStore;
    use feedmerge::model::Story;
    use feedmerge::store::*;
    use std::collections::HashMap;

    #[async_trait::async_trait]
    impl Store for SlowStore {
        async fn register_sources(&self, s: &[SourceSpec]) -> Result<(), StoreError> {
            self.inner.register_sources(s).await
        }
        async fn poll_state(&self, s: &str) -> Result<PollState, StoreError> {
            self.inner.poll_state(s).await
        }
        async fn record_poll(&self, s: &str, r: PollRecord) -> Result<WriteSummary, StoreError> {
            self.inner.record_poll(s, r).await
        }
        async fn cluster_window(
            &self,
            since: chrono::DateTime<chrono::Utc>,
            unclustered_after: Option<i64>,
        ) -> Result<Vec<cluster::WindowStory>, StoreError> {
            self.inner.cluster_window(since, unclustered_after).await
        }
        async fn record_cluster_members(
            &self,
            m: &[cluster::ClusterMember],
        ) -> Result<(), StoreError> {
            self.inner.record_cluster_members(m).await
        }
        async fn cluster_views(
            &self,
            ids: &[i64],
            keys: &[String],
            sources: &[String],
        ) -> Result<HashMap<i64, cluster::ClusterView>, StoreError> {
            self.inner.cluster_views(ids, keys, sources).await
        }
        async fn cluster_of(
            &self,
            key: &str,
        ) -> Result<Option<(cluster::WindowStory, Vec<cluster::WindowStory>)>, StoreError> {
            self.inner.cluster_of(key).await
        }
        async fn stories(&self, q: &StoryQuery) -> Result<Vec<Story>, StoreError> {
            tokio::time::sleep(self.delay).await;
            self.inner.stories(q).await
        }
        async fn story_page(&self, q: &StoryQuery) -> Result<Vec<(Cursor, Story)>, StoreError> {
            tokio::time::sleep(self.delay).await;
            self.inner.story_page(q).await
        }
        async fn stored_sections(&self) -> Result<Vec<(String, String)>, StoreError> {
            self.inner.stored_sections().await
        }
        async fn feed_stats(&self, k: &[String]) -> Result<FeedStats, StoreError> {
            self.inner.feed_stats(k).await
        }
        async fn stored_section(&self, k: &str) -> Result<Option<String>, StoreError> {
            self.inner.stored_section(k).await
        }
        async fn source_status(&self) -> Result<Vec<SourceStatus>, StoreError> {
            self.inner.source_status().await
        }
        async fn article_pages(
            &self,
            s: &str,
            l: &[String],
        ) -> Result<HashMap<String, feedmerge::model::article::ArticlePage>, StoreError> {
            self.inner.article_pages(s, l).await
        }
        async fn ping(&self) -> Result<(), StoreError> {
            self.inner.ping().await
        }
        fn read_concurrency(&self) -> usize {
            self.inner.read_concurrency()
        }
        async fn store_stats(&self) -> Result<StoreStats, StoreError> {
            self.inner.store_stats().await
        }
        async fn purge_stories(
            &self,
            b: chrono::DateTime<chrono::Utc>,
            n: chrono::DateTime<chrono::Utc>,
            l: usize,
        ) -> Result<PurgeBatch, StoreError> {
            self.inner.purge_stories(b, n, l).await
        }
        async fn expire_tombstones(
            &self,
            b: chrono::DateTime<chrono::Utc>,
            l: usize,
        ) -> Result<usize, StoreError> {
            self.inner.expire_tombstones(b, l).await
        }
        async fn reclaim_space(&self, p: u32, k: f64) -> Result<Reclaimed, StoreError> {
            self.inner.reclaim_space(p, k).await
        }
        async fn daily_stories(
            &self,
            n: chrono::DateTime<chrono::Utc>,
            d: u32,
        ) -> Result<HashMap<String, Vec<u32>>, StoreError> {
            self.inner.daily_stories(n, d).await
        }
        async fn claim_due(
            &self,
            w: &str,
            n: chrono::DateTime<chrono::Utc>,
            l: std::time::Duration,
            limit: usize,
            per_host: usize,
        ) -> Result<Vec<Lease>, StoreError> {
            self.inner.claim_due(w, n, l, limit, per_host).await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncached_renders_are_bounded_and_healthz_never_waits_for_them() {
    // A store the daemon polled, then served by a server whose page reads
    // each take a second, with one render at a time.
    let s = standard_daemon("feedmerge.db").await;
    let config_path = s.dir.path().join("feedmerge.toml");
    s.daemon.stop().await;
    let text = std::fs::read_to_string(&config_path).unwrap().replacen(
        "[server]\n",
        "[server]\nmax_renders = 1\n",
        1,
    );
    let config = feedmerge::config::Config::parse(&text, &config_path).unwrap();
    let inner = std::sync::Arc::new(feedmerge::store::sqlite::SqliteStore::open(&s.db).unwrap());
    let store = std::sync::Arc::new(SlowStore {
        inner,
        delay: Duration::from_secs(1),
    });
    let state = feedmerge::server::AppState::new(std::sync::Arc::new(config), store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(feedmerge::server::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    // A flood of distinct uncached searches, and healthz beside it.
    let client = reqwest::Client::new();
    let flood: Vec<_> = (0..8)
        .map(|i| {
            let (client, url) = (
                client.clone(),
                format!("{base}/sections/Политика.atom?q=w{i}"),
            );
            tokio::spawn(async move { client.get(url).send().await.unwrap() })
        })
        .collect();
    for _ in 0..5 {
        let r = client.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let mut ok = 0;
    let mut busy = 0;
    for task in flood {
        let r = task.await.unwrap();
        match r.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(r.headers()["retry-after"], "1");
                busy += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    // One slot and a second per render: the first runs, the rest cannot
    // get a slot within the wait.
    assert!(ok >= 1, "{ok} rendered");
    assert!(busy >= 1, "{busy} told to retry");
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_by_another_process_drops_the_daemons_cached_answers() {
    let s = standard_daemon("feedmerge.db").await;
    let url = s.daemon.url("/sections/Политика.atom");
    const NEW: &str = "Сенат принял новый закон о бюджете";
    let (code, _, body) = get(&url).await;
    assert_eq!(code, 200);
    assert!(!body.contains(NEW));
    // The source gains a story; the daemon (hourly) will not poll it soon.
    let fixture = String::from_utf8(fixture("feeds/ru-politics.rss")).unwrap();
    let changed = fixture.replacen(
        "<item>",
        &format!(
            "<item><title>{NEW}</title><link>https://news.example.ru/politics/new</link>\
             <guid isPermaLink=\"false\">pol-99</guid><pubDate>Sat, 10 Aug 2024 10:00:00 +0300</pubDate></item>\n<item>"
        ),
        1,
    );
    s.feeds.set(
        "ru/politics.rss",
        Doc::feed("application/rss+xml; charset=utf-8", changed.into_bytes()),
    );
    // A hand-run poll: another process, its own connection to the file.
    let config = s.dir.path().join("feedmerge.toml");
    let (ok, out, err) = tokio::task::spawn_blocking(move || run_cli(&config, &["poll"]))
        .await
        .unwrap();
    assert!(ok, "{out}\n{err}");
    wait_for(
        "the daemon serves what the other process stored",
        Duration::from_secs(15),
        || async { get(&url).await.2.contains(NEW) },
    )
    .await;
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_search_folds_case_through_the_index() {
    let s = standard_daemon("feedmerge.db").await;
    for q in ["БЮДЖЕТ", "бюджет", "Бюджет на 2025"] {
        let url = s.daemon.url(&format!("/sections/Политика.atom?q={q}"));
        let (code, _, body) = get(&url).await;
        assert_eq!(code, 200, "{q}");
        let feed = parse_feed(&body);
        assert_eq!(titles(&feed), ["Госдума приняла бюджет на 2025 год"], "{q}");
    }
    let (_, _, body) = get(&s.daemon.url("/sections/Политика.atom?q=нетсловатакого")).await;
    assert!(titles(&parse_feed(&body)).is_empty());
    s.daemon.stop().await;
}
