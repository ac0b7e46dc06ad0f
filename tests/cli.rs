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
    assert_eq!(rows.len(), 6, "{out}");

    let cfg = config.clone();
    let (ok, _, err) =
        tokio::task::spawn_blocking(move || run_cli(&cfg, &["export", "--feed", "nope"]))
            .await
            .unwrap();
    assert!(!ok);
    assert!(err.contains("no such feed: nope"), "{err}");
}
