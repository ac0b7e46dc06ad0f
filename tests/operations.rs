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
