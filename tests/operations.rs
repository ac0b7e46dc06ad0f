//! Running unattended: what an operator sees of secrets, reloads and
//! faults, through the real daemon on a local feed server.

mod common;

use common::*;

/// A source whose URL carries a password and an API key: the feed is
/// fetched with them, and neither appears in `/status`, `/sources.opml`,
/// the merged feeds, `feedmerge status`, or anything `check` prints but its
/// warning, which points to `auth` and `headers`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_a_source_url_are_used_but_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    feeds.set(
        "private/politics.rss",
        Doc::feed(
            "application/rss+xml; charset=utf-8",
            fixture("feeds/ru-politics.rss"),
        ),
    );
    let secret_url = feeds
        .url("private/politics.rss?api_key=K3yValue&lang=ru")
        .replace("http://", "http://reader:S3cretPass@");
    let db = dir.path().join("feedmerge.db");
    let extra = format!(
        "\n[[source]]\nname = \"private\"\nurl = \"{secret_url}\"\nsection = \"Политика\"\n"
    );
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, &extra)
    })
    .await;
    wait_polled(&daemon, 5).await;
    assert_eq!(feeds.hits("private/politics.rss"), 1, "fetched with them");
    let auth = feeds.last_headers("private/politics.rss");
    assert!(
        auth.get("authorization").is_some(),
        "user info became basic auth"
    );

    let leaks = |what: &str, body: &str| {
        assert!(!body.contains("S3cretPass"), "password in {what}: {body}");
        assert!(!body.contains("K3yValue"), "api key in {what}: {body}");
    };
    let (code, _, status) = get(&daemon.url("/status")).await;
    assert_eq!(code, 200);
    leaks("/status", &status);
    assert!(status.contains("api_key=***"), "{status}");
    let (_, _, opml) = get(&daemon.url("/sources.opml")).await;
    leaks("/sources.opml", &opml);
    assert!(opml.contains("private/politics.rss"), "{opml}");
    for ext in ["atom", "rss", "json"] {
        let (code, _, body) = get(&daemon.url(&format!("/sections/Политика.{ext}"))).await;
        assert_eq!(code, 200, "{ext}");
        leaks(ext, &body);
    }
    let (_, _, page) = get(&daemon.url("/sections/Политика")).await;
    leaks("the HTML page", &page);
    daemon.stop().await;

    let config = dir.path().join("feedmerge.toml");
    let (ok, out, err) = run_cli(&config, &["check"]);
    assert!(ok, "credentials are a warning, not an error: {err}");
    leaks("check", &format!("{out}{err}"));
    assert!(
        err.contains("warning: source[4].url") && err.contains("`auth`"),
        "{err}"
    );
    let (ok, out, err) = run_cli(&config, &["status"]);
    assert!(ok, "{err}");
    leaks("feedmerge status", &format!("{out}{err}"));
}

/// A reload while a slow source's poll is in flight: a source added is
/// polled, one removed is polled no more but its stories stay, the slow
/// poll finishes and is not started twice, and every request in between is
/// answered. A broken config on the next reload changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_adds_and_removes_sources_without_dropping_a_poll_or_a_request() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let mut slow = Doc::feed("application/rss+xml", fixture("feeds/ru-politics.rss"));
    slow.delay = Duration::from_secs(2);
    feeds.set("slow/feed.rss", slow);
    feeds.set(
        "added/feed.json",
        Doc::feed("application/feed+json", fixture("feeds/world.json")),
    );
    let db = dir.path().join("feedmerge.db");
    let slow_source = format!(
        "\n[[source]]\nname = \"slow\"\nurl = \"{}\"\n",
        feeds.url("slow/feed.rss")
    );
    let daemon = Reloadable::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, &slow_source)
    })
    .await;
    wait_for(
        "the slow poll is in flight",
        Duration::from_secs(20),
        || async { feeds.hits("slow/feed.rss") == 1 },
    )
    .await;
    wait_for("az-news stored", Duration::from_secs(20), || async {
        daemon
            .source("az-news")
            .await
            .is_some_and(|s| s["items"].as_u64() > Some(0))
    })
    .await;
    let (_, _, before) = get(&daemon.url("/sections/Политика.atom")).await;
    let az_titles: Vec<String> = titles(&parse_feed(&before))
        .into_iter()
        .filter(|t| t.contains("Азербайджан") || t.contains("Баку"))
        .collect();

    // az-news removed, "added" added; the slow poll is still running.
    let listen = daemon.addr;
    let next = standard_config(&feeds, listen, &db, &slow_source).replace(
        &format!(
            "[[source]]\nname = \"az-news\"\nurl = \"{}\"\ntimezone = \"Asia/Baku\"\n",
            feeds.url("az/news.atom")
        ),
        &format!(
            "[[source]]\nname = \"added\"\nurl = \"{}\"\n",
            feeds.url("added/feed.json")
        ),
    );
    assert!(
        next.contains("name = \"added\""),
        "the edit applied: {next}"
    );
    daemon.reload_with(&next).await;
    // Requests keep being answered while the reload happens.
    let (code, _, _) = get(&daemon.url("/healthz")).await;
    assert_eq!(code, 200);
    wait_for(
        "the added source polled",
        Duration::from_secs(20),
        || async {
            daemon
                .source("added")
                .await
                .is_some_and(|s| !s["last_success"].is_null())
        },
    )
    .await;
    wait_for(
        "the slow poll finished",
        Duration::from_secs(20),
        || async {
            daemon
                .source("slow")
                .await
                .is_some_and(|s| !s["last_success"].is_null())
        },
    )
    .await;
    assert_eq!(
        feeds.hits("slow/feed.rss"),
        1,
        "the in-flight poll was neither dropped nor repeated"
    );
    assert_eq!(feeds.hits("az/news.atom"), 1);
    let (_, _, after) = get(&daemon.url("/sections/Политика.atom")).await;
    let after_titles = titles(&parse_feed(&after));
    for t in &az_titles {
        assert!(
            after_titles.contains(t),
            "a removed source's story stays: {t}"
        );
    }

    let (code, _, body) = get(&daemon.url("/feeds/politika.atom")).await;
    assert_eq!(code, 200, "the named feed after the reload: {body}");

    // A typo: refused whole, the running config stays and serving goes on.
    daemon
        .reload_with(&next.replace("[[feed]]", "[[feed]]\nbogus_key = 1"))
        .await;
    let (code, _, body) = get(&daemon.url("/feeds/politika.atom")).await;
    assert_eq!(code, 200, "the named feed of the running config: {body}");
    // Reloads are handled in order: once a later good one is in force, the
    // broken one has been refused without changing anything.
    let third = format!(
        "{next}\n[[source]]\nname = \"third\"\nurl = \"{}\"\n",
        feeds.url("wire/feed.json")
    );
    daemon.reload_with(&third).await;
    wait_for(
        "the source of the next good reload",
        Duration::from_secs(20),
        || async { daemon.source("third").await.is_some() },
    )
    .await;
    let (code, _, body) = get(&daemon.url("/feeds/politika.atom")).await;
    assert_eq!(code, 200, "{body}");
    assert!(daemon.source("added").await.is_some());
    daemon.stop().await;
}

/// `feedmerge run` as systemd runs it, with its log on a pipe.
struct Process {
    child: std::process::Child,
    addr: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl Process {
    fn start(config: &std::path::Path) -> Process {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start feedmerge run");
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut p = Process {
            child,
            addr: String::new(),
            log,
        };
        let line = p.wait_log("feedmerge running");
        p.addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .expect("the running line names the address")
            .to_string();
        p
    }

    /// The next log line containing `what` (30 s at most).
    fn wait_log(&mut self, what: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(what) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no log line with {what:?} within 30 s");
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid, which has not been reaped.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill({sig})");
    }

    /// Waits for the exit (bounded), returning its status and how long it took.
    fn wait_exit(
        &mut self,
        limit: std::time::Duration,
    ) -> (std::process::ExitStatus, std::time::Duration) {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (status, start.elapsed());
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("still running {limit:?} after the signal");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn small_config(dir: &std::path::Path, feeds: &FeedServer) -> std::path::PathBuf {
    let path = dir.join("feedmerge.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\npath = \"{}\"\n[server]\nlisten = \"127.0.0.1:0\"\n\
             [[source]]\nname = \"ru-politics\"\nurl = \"{}\"\nsection = \"Политика\"\n",
            dir.join("feedmerge.db").display(),
            feeds.url("ru/politics.rss")
        ),
    )
    .unwrap();
    path
}

/// SIGHUP (what `systemctl reload` and logrotate send) re-reads the
/// config instead of killing the process; SIGTERM then ends it, exit 0,
/// within 10 s although a client holds a half-sent request open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_sigterm_stops_within_ten_seconds_despite_a_stalled_client() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let config = small_config(dir.path(), &feeds);
    let mut daemon = tokio::task::spawn_blocking(move || Process::start(&config))
        .await
        .unwrap();
    let addr = daemon.addr.clone();
    let mut daemon = tokio::task::spawn_blocking(move || {
        daemon.signal(libc::SIGHUP);
        daemon.wait_log("config reloaded");
        daemon
    })
    .await
    .unwrap();
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "SIGHUP did not end it"
    );
    let (code, _, _) = get(&format!("http://{addr}/healthz")).await;
    assert_eq!(code, 200, "still serving after the reload");

    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (status, took) = tokio::task::spawn_blocking(move || {
        daemon.signal(libc::SIGTERM);
        daemon.wait_exit(std::time::Duration::from_secs(20))
    })
    .await
    .unwrap();
    drop(stalled);
    assert!(status.success(), "exit 0 on SIGTERM: {status:?}");
    assert!(
        took < std::time::Duration::from_secs(10),
        "SIGTERM took {took:?} with a stalled client"
    );
}

/// `/metrics` is Prometheus text a real parser reads, and its counters
/// move with polls, answers and cache hits; state gauges show the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_their_counters_move() {
    let Standard {
        dir: _dir,
        feeds: _feeds,
        db: _db,
        daemon,
    } = standard_daemon("feedmerge.db").await;
    let scrape = || async {
        let (code, ct, body) = get(&daemon.url("/metrics")).await;
        assert_eq!(code, 200);
        assert!(
            ct.contains("openmetrics") || ct.starts_with("text/plain"),
            "{ct}"
        );
        let lines = body.lines().map(|l| Ok(l.to_string()));
        prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {body}"))
    };
    let value = |scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]| -> f64 {
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
    };
    let before = scrape().await;
    assert!(
        value(
            &before,
            "feedmerge_polls_total",
            &[("source", "ru-politics"), ("outcome", "stored")]
        ) >= 1.0,
        "{:?}",
        before.samples.iter().map(|s| &s.metric).collect::<Vec<_>>()
    );
    assert!(value(&before, "feedmerge_stories_total", &[("kind", "new")]) >= 1.0);
    assert!(value(&before, "feedmerge_database_bytes", &[]) > 0.0);
    assert_eq!(value(&before, "feedmerge_sources", &[]), 4.0);
    assert!(
        before
            .samples
            .iter()
            .any(|s| s.metric.starts_with("feedmerge_fetch_seconds")),
        "a fetch latency histogram"
    );

    // Two requests for one feed: a miss then a hit, both counted as answers.
    for _ in 0..2 {
        let (code, _, _) = get(&daemon.url("/sections/Политика.atom")).await;
        assert_eq!(code, 200);
    }
    let after = scrape().await;
    let counted = |s: &prometheus_parse::Scrape| {
        value(
            s,
            "feedmerge_http_requests_total",
            &[("route", "section"), ("status", "200")],
        )
    };
    assert!(counted(&after) >= counted(&before) + 2.0);
    let hits = |s: &prometheus_parse::Scrape| {
        value(s, "feedmerge_cache_lookups_total", &[("result", "hit")])
    };
    assert!(hits(&after) >= hits(&before) + 1.0);
    assert!(value(&after, "feedmerge_cache_bytes", &[]) > 0.0);
    daemon.stop().await;
}
