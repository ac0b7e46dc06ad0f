//! `feedmerge inspect` as a user runs it: a file, a URL on a real local
//! server, and a page that is not a feed.

mod common;

use common::*;
use std::process::Command;

fn inspect(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .arg("inspect")
        .args(args)
        .env("RUST_LOG", "warn")
        // inspect needs no config: point at one that does not exist.
        .env("FEEDMERGE_CONFIG", "/nonexistent/feedmerge.toml")
        .output()
        .expect("run feedmerge");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn a_windows_1251_file_is_decoded_dated_and_sanitized() {
    let path = format!(
        "{}/tests/fixtures/feeds/ru-all-cp1251.rss",
        env!("CARGO_MANIFEST_DIR")
    );
    let (ok, out, err) = inspect(&[&path, "--timezone", "Europe/Moscow"]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["format"], "rss");
    assert_eq!(v["title"], "Новости дня — все новости");
    assert_eq!(v["language"], "ru");
    let first = &v["items"][0];
    assert_eq!(first["id"], "ru-1001");
    assert_eq!(first["title"], "Госдума приняла бюджет на 2025 год");
    // "9 августа 2024, 16:24" in Moscow.
    assert_eq!(first["published"], "2024-08-09T13:24:00Z");
    assert_eq!(first["categories"][0], "Политика");
    let summary = first["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("<b>приняли</b>"), "{summary}");
    assert!(!summary.contains("script"), "{summary}");
    // dc:subject counts as a category; tracking parameters leave the link.
    let third = &v["items"][2];
    assert_eq!(third["categories"][0], "ПОЛИТИКА");
    assert_eq!(third["link"], "https://news.example.ru/politics/elections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_is_fetched_and_relative_links_resolve_against_it() {
    let server = FeedServer::start().await;
    let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Local</title><id>urn:x</id>
<link href="/"/><updated>2024-08-09T12:00:00Z</updated>
<entry><id>tag:x,2024:1</id><title type="html">&lt;i&gt;Hello&lt;/i&gt; &amp;mdash; world</title>
<link href="posts/1"/><updated>2024-08-09T12:00:00Z</updated>
<content type="html">&lt;img data-src="img/1.jpg" src="data:image/gif;base64,R0lGOD"&gt;&lt;a href="javascript:x()"&gt;x&lt;/a&gt;</content>
</entry></feed>"#;
    server.set(
        "blog/feed.atom",
        Doc::feed("application/atom+xml", atom.as_bytes().to_vec()),
    );
    let url = server.url("blog/feed.atom");
    let (ok, out, err) = tokio::task::spawn_blocking(move || inspect(&[&url]))
        .await
        .expect("join");
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["format"], "atom");
    let base = server.url("");
    assert_eq!(v["link"], base);
    let item = &v["items"][0];
    assert_eq!(item["title"], "Hello — world");
    assert_eq!(item["link"], format!("{base}blog/posts/1"));
    let content = item["content"].as_str().unwrap_or_default();
    assert!(
        content.contains(&format!(r#"<img src="{base}blog/img/1.jpg">"#)),
        "{content}"
    );
    assert!(!content.contains("javascript"), "{content}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_exits_non_zero_with_one_line() {
    let server = FeedServer::start().await;
    server.set(
        "index.html",
        Doc::feed(
            "text/html; charset=utf-8",
            b"<!DOCTYPE html><html><body>Hi</body></html>".to_vec(),
        ),
    );
    let url = server.url("index.html");
    let (ok, out, err) = tokio::task::spawn_blocking(move || inspect(&[&url]))
        .await
        .expect("join");
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not a feed"), "{err}");
}

// ---- `inspect --source NAME`: a configured source's own rules ----

const LISTING: &str = "ru/politics";
const SEED: &str = "ru/politics/aliev-prizval-strany-centralnoi-azii-2116790";

fn html_fixture(rel: &str) -> Doc {
    Doc::feed("text/html; charset=utf-8", fixture(&format!("html/{rel}")))
}

/// A config with the seed-shaped site's listing as an HTML source, and
/// the site's RSS feed as a feed source with an empty `[source.article]`.
fn html_config(dir: &std::path::Path, server: &FeedServer) -> std::path::PathBuf {
    let toml = format!(
        r#"
[storage]
path = "{db}"

[[source]]
name = "agency-politics"
kind = "html"
url = "{listing}"
timezone = "Asia/Baku"

[source.html]
item = ".news-list .item"
title = "a.title"
link_pattern = '-\d+$'
summary = "p.lead"
date = ".date"
date_format = "%d %B %Y %H:%M"
category = ".rubric"
exclude = ".related, aside, nav"

[source.article]
content = ".article-body"
title = "h1"
category = ".section-label"
exclude = ".related, .share"

[[source]]
name = "agency-rss"
url = "{rss}"
[source.article]
"#,
        db = dir.join("store.db").display(),
        listing = server.url(LISTING),
        rss = server.url("ru/rss"),
    );
    let path = dir.join("feedmerge.toml");
    std::fs::write(&path, toml).expect("write config");
    path
}

fn serve_site(server: &FeedServer) {
    server.set(LISTING, html_fixture("listing.html"));
    server.set(SEED, html_fixture("article-seed.html"));
    let rss = String::from_utf8(fixture("html/agency-politics.rss"))
        .expect("utf-8")
        .replace("{BASE}", server.url("").trim_end_matches('/'));
    server.set("ru/rss", Doc::feed("application/rss+xml", rss.into_bytes()));
}

/// Runs `feedmerge --config CONFIG inspect ARGS` off the runtime.
async fn inspect_with(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["--config".to_string(), config.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        inspect(&args)
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_source_reports_selector_matches_and_the_items_a_poll_would_store() {
    let server = FeedServer::start().await;
    serve_site(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = html_config(dir.path(), &server);
    let (ok, out, err) = inspect_with(&config, &["--source", "agency-politics"]).await;
    assert!(ok, "{err}\n{out}");
    let v = json(&out);
    assert_eq!(v["kind"], "html");
    assert_eq!(v["state"], "ok");
    assert_eq!(v["document"], server.url(LISTING));
    // The listing has three stories and an ad item; the ad's link fails
    // the pattern.
    let sel = &v["selectors"];
    assert!(sel["matched"]["item"].as_u64().unwrap_or(0) >= 4, "{sel}");
    assert!(sel["matched"]["title"].as_u64().unwrap_or(0) >= 4, "{sel}");
    assert!(sel["matched"]["date"].as_u64().unwrap_or(0) >= 3, "{sel}");
    assert!(
        sel["skipped_by_pattern"].as_u64().unwrap_or(0) >= 1,
        "{sel}"
    );
    let items = v["feed"]["items"].as_array().expect("items");
    assert_eq!(items.len(), sel["kept"].as_u64().unwrap_or(0) as usize);
    let seed = items
        .iter()
        .find(|i| i["link"] == server.url(SEED))
        .unwrap_or_else(|| panic!("seed story missing: {out}"));
    assert!(
        seed["title"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Алиев призвал"),
        "{seed}"
    );
    // «9 август 2024 16:24» in Baku.
    assert_eq!(seed["published"], "2024-08-09T12:24:00Z");
    assert!(v.get("article").is_none(), "no --article: {out}");
    // Nothing was stored.
    assert!(!dir.path().join("store.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_source_with_article_reads_the_first_storys_page() {
    let server = FeedServer::start().await;
    serve_site(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = html_config(dir.path(), &server);
    let (ok, out, err) = inspect_with(&config, &["--source", "agency-politics", "--article"]).await;
    assert!(ok, "{err}\n{out}");
    let v = json(&out);
    let article = &v["article"];
    assert_eq!(article["state"], "ok", "{out}");
    assert_eq!(article["document"], server.url(SEED));
    assert_eq!(article["selectors"]["content"], 1, "{article}");
    assert_eq!(article["selectors"]["title"], 1, "{article}");
    let item = &article["item"];
    let content = item["content"].as_str().unwrap_or_default();
    assert!(content.contains("историко-культурным"), "{content}");
    // The related block and the share links are not the story.
    assert!(!content.contains("related-0"), "{content}");
    assert!(!content.contains("Поделиться"), "{content}");
    let categories = item["categories"].as_array().expect("categories");
    assert!(categories.iter().any(|c| c == "Политика"), "{categories:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_article_reads_a_saved_page_with_automatic_extraction_for_a_feed() {
    let server = FeedServer::start().await;
    serve_site(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = html_config(dir.path(), &server);
    let page = format!(
        "{}/tests/fixtures/html/article-seed.html",
        env!("CARGO_MANIFEST_DIR")
    );
    let (ok, out, err) =
        inspect_with(&config, &["--source", "agency-rss", "--article", &page]).await;
    assert!(ok, "{err}\n{out}");
    let v = json(&out);
    assert_eq!(v["kind"], "feed");
    assert!(v.get("feed").is_none(), "the feed is not read: {out}");
    let content = v["article"]["item"]["content"].as_str().unwrap_or_default();
    assert!(content.contains("историко-культурным"), "{out}");
    assert!(!content.contains("related-1"), "{content}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_source_names_the_state_of_a_redesigned_a_scripted_and_a_challenge_page() {
    let server = FeedServer::start().await;
    serve_site(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = html_config(dir.path(), &server);
    let file = |name: &str| format!("{}/tests/fixtures/html/{name}", env!("CARGO_MANIFEST_DIR"));

    let (ok, out, _) = inspect_with(
        &config,
        &["--source", "agency-politics", &file("redesigned.html")],
    )
    .await;
    assert!(!ok, "scrape_empty exits non-zero");
    let v = json(&out);
    assert!(
        v["state"]
            .as_str()
            .unwrap_or_default()
            .starts_with("scrape_empty:"),
        "{out}"
    );
    assert_eq!(v["selectors"]["matched"]["item"], 0);

    // A page built by scripts: the item selector matches nothing and the
    // body is mostly scripts.
    let script = "<script>".to_string() + &"var a=1;".repeat(4000) + "</script>";
    let spa = format!(
        "<!DOCTYPE html><html><head><title>Агентство</title></head><body><div id=\"app\"></div>{script}{script}</body></html>"
    );
    let spa_path = dir.path().join("spa.html");
    std::fs::write(&spa_path, spa).expect("write");
    let spa_path = spa_path.display().to_string();
    let (ok, out, _) = inspect_with(&config, &["--source", "agency-politics", &spa_path]).await;
    assert!(!ok);
    let v = json(&out);
    let hint = v["selectors"]["hint"].as_str().unwrap_or_default();
    assert!(hint.to_lowercase().contains("script"), "{out}");

    let (ok, out, _) = inspect_with(
        &config,
        &["--source", "agency-politics", &file("challenge.html")],
    )
    .await;
    assert!(!ok);
    let v = json(&out);
    assert!(
        v["state"]
            .as_str()
            .unwrap_or_default()
            .starts_with("blocked:"),
        "{out}"
    );
    assert!(
        v.get("feed").is_none(),
        "a challenge gives no stories: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_source_with_an_unknown_name_lists_the_sources() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = html_config(dir.path(), &server);
    let (ok, out, err) = inspect_with(&config, &["--source", "nope"]).await;
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no source named \"nope\""), "{err}");
    assert!(err.contains("agency-politics, agency-rss"), "{err}");
}

#[test]
fn check_names_the_key_and_line_of_a_bad_selector_and_a_bad_regex() {
    for (file, want) in [
        (
            "bad-selector.toml",
            "line 8: source[0].html.title: `a.title[` is not a valid CSS selector",
        ),
        (
            "bad-link-pattern.toml",
            "line 9: source[0].html.link_pattern: `-\\d+($` is not a valid regex",
        ),
    ] {
        let path = format!(
            "{}/tests/fixtures/config/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let out = Command::new(env!("CARGO_BIN_EXE_feedmerge"))
            .args(["--config", &path, "check"])
            .output()
            .expect("run feedmerge");
        assert!(!out.status.success(), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{file}: {err}");
    }
}

#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    // `feedmerge inspect FILE | head -1`: the reader is gone before the
    // JSON is written.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let path = format!(
        "{}/tests/fixtures/feeds/ru-all-cp1251.rss",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .args(["inspect", &path])
        .env("FEEDMERGE_CONFIG", "/nonexistent/feedmerge.toml")
        .stdout(writer)
        .output()
        .expect("run feedmerge");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_content_language_header_is_the_language_of_a_feed_that_names_none() {
    let server = FeedServer::start().await;
    let rss = r#"<rss version="2.0"><channel><title>Лента</title><link>/</link>
<item><title>Новость</title><link>/1</link></item></channel></rss>"#;
    server.set(
        "ru.rss",
        Doc::feed("application/rss+xml", rss.as_bytes().to_vec())
            .header("Content-Language", "ru, en"),
    );
    let with_own = r#"<rss version="2.0"><channel><title>Own</title><language>az</language>
<item><title>X</title><link>/1</link></item></channel></rss>"#;
    server.set(
        "az.rss",
        Doc::feed("application/rss+xml", with_own.as_bytes().to_vec())
            .header("Content-Language", "ru"),
    );
    let (ru, az) = (server.url("ru.rss"), server.url("az.rss"));
    let (ok, out, err) = tokio::task::spawn_blocking(move || inspect(&[&ru]))
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert_eq!(json(&out)["language"], "ru", "{out}");
    // The document's own language wins over the header.
    let (ok, out, err) = tokio::task::spawn_blocking(move || inspect(&[&az]))
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert_eq!(json(&out)["language"], "az", "{out}");
}

#[test]
fn a_json_feed_read_leniently_says_what_was_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("feed.json");
    std::fs::write(
        &path,
        r#"{"version": "1.0", "items": [{"url": "https://jf.example/1", "content_text": "Текст"}]}"#,
    )
    .expect("write");
    let (ok, out, err) = inspect(&[&path.display().to_string()]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["format"], "json");
    let notes: Vec<String> = v["lenient"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert!(notes.iter().any(|n| n.contains("version")), "{out}");
    assert!(notes.iter().any(|n| n == "no title"), "{out}");
    assert_eq!(v["items"][0]["link"], "https://jf.example/1");
    // A document with nothing off carries no `lenient` key.
    let strict = format!(
        "{}/tests/fixtures/feeds/ru-all-cp1251.rss",
        env!("CARGO_MANIFEST_DIR")
    );
    let (_, out, _) = inspect(&[&strict]);
    assert!(json(&out).get("lenient").is_none(), "{out}");
}

#[test]
fn links_keep_the_host_as_written_and_authors_read_as_name_and_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("feed.rss");
    std::fs::write(
        &path,
        r#"<rss version="2.0"><channel><title>t</title><link>http://Site.TEST/</link><description>d</description>
        <item><title>a</title><guid isPermaLink="false">1</guid><link>http://Item.TEST/a#top</link>
          <author>me@example.com (Example author)</author></item>
        <item><title>b</title><guid isPermaLink="false">2</guid><link>http://item.test/b</link>
          <author>Example author &lt;me@example.com&gt;</author></item>
        </channel></rss>"#,
    )
    .expect("write");
    let (ok, out, err) = inspect(&[path.to_str().unwrap_or_default()]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["link"], "http://Site.TEST/");
    // The host as written; the fragment goes as it always did.
    assert_eq!(v["items"][0]["link"], "http://Item.TEST/a");
    assert_eq!(v["items"][1]["link"], "http://item.test/b");
    for item in [&v["items"][0], &v["items"][1]] {
        assert_eq!(item["authors"][0], "Example author (me@example.com)");
    }
}
