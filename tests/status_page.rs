//! `/status` for browsers, through the real daemon: the page a browser's
//! `Accept` header gets (and `/status.html`), failing and blocked sources
//! first, hostile error text escaped, a 30-day chart per source; JSON for
//! everyone else, unchanged, with `Vary: Accept`.

mod common;

use common::*;

/// An RSS feed whose three items were published on two UTC days inside
/// the chart's 30: two yesterday, one the day before. Counted from the
/// start of today, not from now, so the days are the same at any hour
/// (from now, an hour and two hours ago straddle midnight after 01:00).
fn fresh_feed() -> Vec<u8> {
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let items: String = [-23, -22, -47]
        .iter()
        .map(|h| {
            let at = today + chrono::Duration::hours(*h);
            format!(
                "<item><title>Story {h}</title><link>https://fresh.example/{h}</link>\
                 <guid>fresh-{h}</guid><pubDate>{}</pubDate></item>",
                at.to_rfc2822()
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Fresh</title><link>https://fresh.example/</link><description>d</description>{items}</channel></rss>"#
    )
    .into_bytes()
}

async fn get_with(url: &str, accept: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(a) = accept {
        request = request.header("accept", a);
    }
    let r = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.text().await.unwrap_or_default())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Vec<&'a str> {
    h.get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_a_page_of_failing_sources_first_with_charts() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    feeds.set("fresh.rss", Doc::feed("application/rss+xml", fresh_feed()));
    feeds.set("down.rss", Doc::status(500, "text/plain", "down"));
    feeds.set(
        "walled.rss",
        Doc::status(
            403,
            "text/html",
            r#"<html><head><title>Just a moment <script>alert("x")</script></title></head><body></body></html>"#,
        ),
    );
    let db = dir.path().join("feedmerge.db");
    let daemon = Daemon::start(dir.path(), |listen| {
        format!(
            r#"
[storage]
path = "{db}"

[server]
listen = "{listen}"

[poll]
interval = "1h"
timeout = "5s"

[[source]]
name = "aaa-fresh"
url = "{fresh}"

[[source]]
name = "mmm-down"
url = "{down}"

[[source]]
name = "zzz-walled"
url = "{walled}"
"#,
            db = db.display(),
            fresh = feeds.url("fresh.rss"),
            down = feeds.url("down.rss"),
            walled = feeds.url("walled.rss"),
        )
    })
    .await;
    wait_polled(&daemon, 3).await;

    // JSON, as before, for API clients, `*/*` and no Accept at all.
    let (code, headers, json) = get_with(&daemon.url("/status"), Some("application/json")).await;
    assert_eq!(code, 200);
    assert!(
        header(&headers, "content-type")[0].starts_with("application/json"),
        "{headers:?}"
    );
    assert!(
        header(&headers, "vary")
            .iter()
            .any(|v| v.to_ascii_lowercase().contains("accept")),
        "{headers:?}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("status json");
    let names: Vec<&str> = parsed["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["aaa-fresh", "mmm-down", "zzz-walled"]);
    assert_eq!(parsed["store"]["stories"], 3, "{json}");
    for accept in [None, Some("*/*")] {
        let (_, headers, body) = get_with(&daemon.url("/status"), accept).await;
        assert!(
            header(&headers, "content-type")[0].starts_with("application/json"),
            "{accept:?}"
        );
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
    }

    // A browser gets the page; `/status.html` is the same page.
    let (code, headers, page) = get_with(&daemon.url("/status"), Some(BROWSER)).await;
    assert_eq!(code, 200);
    assert!(header(&headers, "content-type")[0].starts_with("text/html"));
    assert!(
        header(&headers, "vary")
            .iter()
            .any(|v| v.to_ascii_lowercase().contains("accept")),
        "{headers:?}"
    );
    let csp = header(&headers, "content-security-policy").join(" ");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let (code, headers, html) = get_with(&daemon.url("/status.html"), None).await;
    assert_eq!(code, 200);
    assert!(header(&headers, "content-type")[0].starts_with("text/html"));
    for body in [&page, &html] {
        assert!(
            !body.contains("<script"),
            "no scripts, hostile text escaped"
        );
        assert!(
            body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
            "the error text, escaped:\n{body}"
        );
        let at = |name: &str| {
            body.find(&format!("<td>{name}"))
                .unwrap_or_else(|| panic!("{name} listed:\n{body}"))
        };
        assert!(at("mmm-down") < at("aaa-fresh"), "failing first:\n{body}");
        assert!(at("zzz-walled") < at("aaa-fresh"), "blocked first:\n{body}");
        assert!(body.contains(r#"<span class="state blocked">blocked</span>"#));
        assert!(body.contains(r#"<span class="state failing">failing</span>"#));
        assert!(body.contains("HTTP 500"), "{body}");

        let row = &body[at("aaa-fresh")..];
        let row = &row[..row.find("</tr>").unwrap()];
        let chart = &row[row.find("<svg").expect("a chart")..row.find("</svg>").unwrap()];
        assert_eq!(chart.matches("<rect").count(), 30, "a bar per day: {chart}");
        assert!(chart.contains("3 stories in 30 days"), "{chart}");
        assert!(
            chart.matches(r#"<rect class="z""#).count() >= 28,
            "days without stories are baselines: {chart}"
        );
    }
    daemon.stop().await;
}
