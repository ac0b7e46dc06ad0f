//! The CLI as a user runs it: `poll`, then `export`, against fixture feeds.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_prints_one_line_per_source_and_export_prints_the_merged_feed() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    feeds.set("broken", Doc::status(500, "text/plain", "oops"));
    let db = dir.path().join("cli.db");
    let extra = format!(
        "\n[[source]]\nname = \"broken\"\nurl = \"{}\"\n",
        feeds.url("broken")
    );
    let config = dir.path().join("feedmerge.toml");
    std::fs::write(
        &config,
        standard_config(&feeds, "127.0.0.1:0".parse().unwrap(), &db, &extra),
    )
    .unwrap();

    let cfg = config.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || run_cli(&cfg, &["poll"]))
        .await
        .unwrap();
    assert!(ok, "one failing source is not a failed run: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("ru-all: ok 200, 3 items:"), "{out}");
    assert!(
        lines[1].starts_with("ru-politics: ok 200, 2 items:"),
        "{out}"
    );
    // Sources poll concurrently, so either may meet the shared story first.
    assert_eq!(
        out.matches(" 1 merged").count(),
        1,
        "the shared story is merged once: {out}"
    );
    assert!(lines[4].starts_with("broken: FAILED: HTTP 500"), "{out}");

    // A second poll costs 304s.
    let cfg = config.clone();
    let (_, out, _) = tokio::task::spawn_blocking(move || run_cli(&cfg, &["poll"]))
        .await
        .unwrap();
    assert!(
        out.lines()
            .take(4)
            .all(|l| l.contains("not modified (304)")),
        "{out}"
    );

    let cfg = config.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        run_cli(
            &cfg,
            &[
                "export",
                "--section",
                "politics",
                "--format",
                "rss",
                "--limit",
                "2",
            ],
        )
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let feed = parse_feed(&out);
    assert_eq!(
        titles(&feed),
        [
            "Госдума приняла бюджет на 2025 год",
            "Leaders meet for regional summit"
        ]
    );

    let cfg = config.clone();
    let (ok, out, _) = tokio::task::spawn_blocking(move || {
        run_cli(&cfg, &["export", "--feed", "politika", "--format", "json"])
    })
    .await
    .unwrap();
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 5);

    // `status`: one line per source, failing ones first.
    let cfg = config.clone();
    let (ok, out, _) = tokio::task::spawn_blocking(move || run_cli(&cfg, &["status"]))
        .await
        .unwrap();
    assert!(ok);
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows[0].starts_with("SOURCE"), "{out}");
    assert!(
        rows[1].starts_with("broken") && rows[1].contains("HTTP 500"),
        "{out}"
    );
    assert_eq!(rows.len(), 7, "{out}");
    // Then the store: 9 items, the shared story counted once.
    assert!(
        rows[6].starts_with("store: 8 stories, ") && rows[6].ends_with(" 0 tombstones"),
        "{out}"
    );

    let cfg = config.clone();
    let (ok, _, err) =
        tokio::task::spawn_blocking(move || run_cli(&cfg, &["export", "--feed", "nope"]))
            .await
            .unwrap();
    assert!(!ok);
    assert!(err.contains("no such feed: nope"), "{err}");
}

/// Starts `feedmerge run` with `rust_log` (None: unset), returns its stderr
/// up to the "feedmerge running" line (logged once every job is added), and
/// kills it.
fn daemon_log_until_running(rust_log: Option<&str>, envs: &[(&str, &str)]) -> String {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feedmerge.toml");
    // Port 9 on loopback refuses: the source fails fast and nothing leaves
    // the machine.
    std::fs::write(
        &config,
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [[source]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/a.rss\"\n\
         [[source]]\nname = \"b\"\nurl = \"http://127.0.0.1:9/b.rss\"\ncron = \"0 0 * * * *\"\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"));
    cmd.arg("--config").arg(&config).arg("run");
    match rust_log {
        Some(filter) => cmd.env("RUST_LOG", filter),
        None => cmd.env_remove("RUST_LOG"),
    };
    cmd.env_remove("JOURNAL_STREAM").env_remove("NO_COLOR");
    cmd.envs(envs.iter().copied());
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start feedmerge run");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut log = String::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        log.push_str(&line);
        log.push('\n');
        if line.contains("feedmerge running") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        log.contains("feedmerge running"),
        "daemon did not start: {log}"
    );
    log
}

#[test]
fn the_daemon_logs_its_own_info_but_not_the_cron_schedulers_by_default() {
    let quiet = daemon_log_until_running(None, &[]);
    assert!(!quiet.contains("Job creator created"), "{quiet}");
    // RUST_LOG still decides when set: one job per source (two) and the
    // watchdog's heartbeat job.
    let chatty = daemon_log_until_running(Some("info"), &[]);
    assert_eq!(chatty.matches("Job creator created").count(), 3, "{chatty}");
}

#[test]
fn logs_to_a_pipe_carry_no_escape_codes_and_under_journald_no_timestamp() {
    let piped = daemon_log_until_running(None, &[]);
    assert!(!piped.contains('\u{1b}'), "ANSI codes in a pipe: {piped:?}");
    let first = piped.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("20"),
        "outside systemd a line starts with its time: {first}"
    );
    let journal = daemon_log_until_running(None, &[("JOURNAL_STREAM", "8:12345")]);
    assert!(!journal.contains('\u{1b}'), "{journal:?}");
    for line in journal.lines() {
        assert!(
            line.trim_start().starts_with("INFO") || line.trim_start().starts_with("WARN"),
            "under journald a line starts with its level, not a time: {line}"
        );
    }
}

/// What a read-only command must not change: the database file's bytes
/// and modification time, and its write-ahead log (absent after a clean
/// close; SQLite may create it, empty, for a reader).
fn snapshot(db: &std::path::Path) -> (Vec<u8>, std::time::SystemTime, u64) {
    let meta = std::fs::metadata(db).unwrap();
    let wal = std::fs::metadata(format!("{}-wal", db.display()))
        .map(|m| m.len())
        .unwrap_or(0);
    (std::fs::read(db).unwrap(), meta.modified().unwrap(), wal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_export_leave_the_database_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let db = dir.path().join("ro.db");
    let config = dir.path().join("feedmerge.toml");
    let listen = "127.0.0.1:0".parse().unwrap();
    std::fs::write(&config, standard_config(&feeds, listen, &db, "")).unwrap();
    let cfg = config.clone();
    let (ok, _, err) = tokio::task::spawn_blocking(move || run_cli(&cfg, &["poll"]))
        .await
        .unwrap();
    assert!(ok, "{err}");

    // A source added to the config since that poll: `status` shows it as
    // never polled, as it did when it registered sources first.
    let later = format!(
        "\n[[source]]\nname = \"added-later\"\nurl = \"{}\"\n",
        feeds.url("later.rss")
    );
    std::fs::write(&config, standard_config(&feeds, listen, &db, &later)).unwrap();
    // Read-only on disk as well. Tests run as root, whom the mode does not
    // stop, so the proof that nothing wrote is the snapshot below.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = snapshot(&db);
    assert_eq!(before.2, 0, "the poll closed the database cleanly");

    let run = |args: &'static [&'static str]| {
        let cfg = config.clone();
        tokio::task::spawn_blocking(move || run_cli(&cfg, args))
    };
    let (ok, out, err) = run(&["status"]).await.unwrap();
    assert!(ok, "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 7, "{out}");
    assert!(rows[6].starts_with("store: "), "{out}");
    let added = rows
        .iter()
        .find(|r| r.starts_with("added-later "))
        .unwrap_or_else(|| panic!("the new source is listed: {out}"));
    assert_eq!(
        added.split_whitespace().collect::<Vec<_>>(),
        ["added-later", "-", "0", "0", "-", "-"],
        "never polled: {out}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("ru-all ") && r.contains(" 200 ")),
        "{out}"
    );
    assert_eq!(snapshot(&db), before, "status wrote to the database");

    let (ok, out, err) = run(&["export", "--section", "politics", "--format", "rss"])
        .await
        .unwrap();
    assert!(ok, "{err}");
    assert_eq!(titles(&parse_feed(&out)).len(), 5, "{out}");
    let (ok, out, err) = run(&["export", "--feed", "politika", "--format", "json"])
        .await
        .unwrap();
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 5);
    assert_eq!(snapshot(&db), before, "export wrote to the database");

    let site = dir.path().join("site");
    let out_dir = site.to_str().unwrap().to_string();
    let cfg = config.clone();
    let (ok, _, err) =
        tokio::task::spawn_blocking(move || run_cli(&cfg, &["export", "--all", "--out", &out_dir]))
            .await
            .unwrap();
    assert!(ok, "{err}");
    assert!(site.join("feeds/politika.atom").is_file());
    assert_eq!(snapshot(&db), before, "export --all wrote to the database");

    // The added source is still unknown to the file itself.
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let known: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sources WHERE name = 'added-later'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(known, 0, "registered by a read-only command");
}

#[test]
fn status_and_export_do_not_create_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/feedmerge.db");
    let config = dir.path().join("feedmerge.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\npath = \"{}\"\n\n[[source]]\nname = \"one\"\nurl = \"http://127.0.0.1:9/one.rss\"\nsection = \"Politics\"\n\n[[source]]\nname = \"two\"\nurl = \"http://127.0.0.1:9/two.rss\"\n",
            db.display()
        ),
    )
    .unwrap();

    // `status` lists the configured sources, never polled, and says why.
    let (ok, out, err) = run_cli(&config, &["status"]);
    assert!(ok, "{err}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|r| r.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["one", "-", "0", "0", "-", "-"],
            ["two", "-", "0", "0", "-", "-"]
        ],
        "{out}"
    );
    assert!(err.contains("no database at"), "{err}");

    // `export` has nothing to export and says so, rather than printing an
    // empty feed (or replacing a static site with empty ones).
    let (ok, out, err) = run_cli(&config, &["export", "--section", "politics"]);
    assert!(!ok, "{out}");
    assert!(err.contains("no database at"), "{err}");
    let site = dir.path().join("site");
    let (ok, _, err) = run_cli(
        &config,
        &["export", "--all", "--out", site.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(err.contains("no database at"), "{err}");

    assert!(
        !db.exists() && !db.parent().unwrap().exists(),
        "read-only commands create nothing"
    );
}

/// On a terminal `poll` shows a progress bar, then only the failures and
/// a summary; the per-source lines are for pipes (checked above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_on_a_terminal_prints_failures_and_a_summary() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: util-linux `script` (a pseudo-terminal) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    feeds.set("broken", Doc::status(500, "text/plain", "oops"));
    let db = dir.path().join("cli.db");
    let extra = format!(
        "\n[[source]]\nname = \"broken\"\nurl = \"{}\"\n",
        feeds.url("broken")
    );
    let config = dir.path().join("feedmerge.toml");
    std::fs::write(
        &config,
        standard_config(&feeds, "127.0.0.1:0".parse().unwrap(), &db, &extra),
    )
    .unwrap();
    let command = format!(
        "{} --config {} poll",
        env!("CARGO_BIN_EXE_feedmerge"),
        config.display()
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("RUST_LOG", "error")
            .output()
            .expect("run script")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("broken: FAILED: HTTP 500"), "{text}");
    assert!(
        text.contains("5 sources: 9 items read, 0 not modified, 1 failed"),
        "{text}"
    );
    assert!(
        !text.contains("ru-all: ok 200"),
        "healthy sources are not listed one by one: {text}"
    );
}

/// An RSS feed of `count` items in section Politics, one a minute apart.
fn long_feed(source: &str, count: usize) -> Vec<u8> {
    let start = chrono::DateTime::parse_from_rfc3339("2025-05-01T12:00:00Z").unwrap();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Long</title><link>https://long.example/</link><description>d</description>\n",
    );
    for i in 0..count {
        // The sources interleave: odd minutes from one, even from the other.
        let date = start - chrono::Duration::minutes((2 * i + usize::from(source == "b")) as i64);
        out.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{source}-{i}</guid><title>{source} story {i}</title>\
             <link>https://long.example/{source}/{i}</link><category>Politics</category>\
             <pubDate>{}</pubDate><description>Story {i} of {source}.</description></item>\n",
            date.to_rfc2822()
        ));
    }
    out.push_str("</channel></rss>\n");
    out.into_bytes()
}

/// `next` link of a parsed feed.
fn next_link(feed: &feed_rs::model::Feed) -> Option<String> {
    feed.links
        .iter()
        .find(|l| l.rel.as_deref() == Some("next"))
        .map(|l| l.href.clone())
}

fn before_of(link: &str) -> String {
    url::Url::parse(link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "before")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no before in {link}"))
}

/// 700 stories, more than a document's 500: `--limit all` writes them all
/// in one valid document in every format, and `--before` pages through
/// them with the cursors of the `next` links, without gaps or repeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_pages_with_before_and_writes_every_story_with_limit_all() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    feeds.set(
        "a.rss",
        Doc::feed("application/rss+xml", long_feed("a", 350)),
    );
    feeds.set(
        "b.rss",
        Doc::feed("application/rss+xml", long_feed("b", 350)),
    );
    let db = dir.path().join("long.db");
    let config = dir.path().join("feedmerge.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\npath = \"{}\"\n[poll]\ntimeout = \"20s\"\n\
             [[source]]\nname = \"a\"\nurl = \"{}\"\n[[source]]\nname = \"b\"\nurl = \"{}\"\n",
            db.display(),
            feeds.url("a.rss"),
            feeds.url("b.rss")
        ),
    )
    .unwrap();
    let run = |args: Vec<String>| {
        let cfg = config.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&cfg, &args)
        })
    };
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (ok, out, err) = run(args(&["poll"])).await.unwrap();
    assert!(ok, "{out}{err}");

    // Newest first: b's story i is a minute older than a's.
    let expected: Vec<String> = (0..350)
        .flat_map(|i| [format!("a story {i}"), format!("b story {i}")])
        .collect();
    for format in ["atom", "rss", "json"] {
        let (ok, out, err) = run(args(&[
            "export",
            "--section",
            "politics",
            "--format",
            format,
            "--limit",
            "all",
        ]))
        .await
        .unwrap();
        assert!(ok, "{format}: {err}");
        let feed = parse_feed(&out);
        assert_eq!(titles(&feed), expected, "{format}: every story, in order");
        assert_eq!(next_link(&feed), None, "{format}: nothing after all");
        if format == "json" {
            let json: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(json["items"].as_array().unwrap().len(), 700);
        }
    }
    let (ok, out, _) = run(args(&[
        "export",
        "--section",
        "politics",
        "--format",
        "rss",
        "--limit",
        "all",
    ]))
    .await
    .unwrap();
    assert!(ok);
    rss::Channel::read_from(out.as_bytes()).expect("one valid RSS document");

    // Pages of 300 by the next links' cursors.
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut list = vec!["export", "--section", "politics", "--limit", "300"];
        let cursor;
        if let Some(b) = &before {
            cursor = b.clone();
            list.extend(["--before", &cursor]);
        }
        let (ok, out, err) = run(args(&list)).await.unwrap();
        assert!(ok, "{err}");
        let feed = parse_feed(&out);
        pages += 1;
        seen.extend(titles(&feed));
        match next_link(&feed) {
            Some(link) => before = Some(before_of(&link)),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "pages join without gaps or repeats");

    // `--limit all --before` is everything after the position; the whole
    // link is understood too.
    let (_, out, _) = run(args(&["export", "--section", "politics", "--limit", "300"]))
        .await
        .unwrap();
    let link = next_link(&parse_feed(&out)).unwrap();
    let (ok, out, err) = run(args(&[
        "export",
        "--section",
        "politics",
        "--limit",
        "all",
        "--before",
        &link,
    ]))
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert_eq!(titles(&parse_feed(&out)), expected[300..]);

    for (bad, words) in [
        (vec!["--limit", "501"], "1 to 500"),
        (vec!["--limit", "every"], "neither `all`"),
        (vec!["--before", "yesterday"], "not a cursor"),
    ] {
        let mut list = vec!["export", "--section", "politics"];
        list.extend(bad);
        let (ok, _, err) = run(args(&list)).await.unwrap();
        assert!(!ok && err.contains(words), "{err}");
    }
}
