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
