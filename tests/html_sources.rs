//! HTML sources (issue #11) through the real daemon on a local server:
//! listing pages scraped into sections, dates with month names, error
//! states, article pages read once, and one story per article across an
//! HTML source and the same site's RSS feed.

mod common;

use common::*;
use std::time::Duration;

const LISTING: &str = "ru/politics";
const SEED: &str = "ru/politics/aliev-prizval-strany-centralnoi-azii-2116790";
const BERBOK: &str =
    "ru/politics/berbok-vstretilas-s-predstaviteliami-grazhdanskogo-obshhestva-2116791";
const BAIRAMOV: &str = "ru/politics/bairamov-provel-vstrechu-s-berbok-2116792";

fn html(rel: &str) -> Doc {
    Doc::feed("text/html; charset=utf-8", fixture(&format!("html/{rel}")))
}

/// A config with one HTML source on `server`'s listing; `schedule` is
/// `[poll]`'s, `extra` goes after the source's table (more tables).
fn config(
    server: &FeedServer,
    listen: std::net::SocketAddr,
    db: &std::path::Path,
    schedule: &str,
    html_extra: &str,
    extra: &str,
) -> String {
    format!(
        r#"
[storage]
path = "{db}"

[server]
listen = "{listen}"

[poll]
{schedule}
timeout = "5s"

[sections]
"Политика" = ["Politics", "Siyasət"]

[[source]]
name = "agency-politics"
kind = "html"
url = "{url}"
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
{html_extra}
{extra}
"#,
        db = db.display(),
        url = server.url(LISTING),
    )
}

async fn section(daemon: &Daemon) -> serde_json::Value {
    let (code, _, body) = get(&daemon.url("/sections/политика.json")).await;
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).expect("json feed")
}

fn items(feed: &serde_json::Value) -> Vec<serde_json::Value> {
    feed["items"].as_array().cloned().unwrap_or_default()
}

async fn source_status(daemon: &Daemon, name: &str) -> serde_json::Value {
    let s = status(daemon).await;
    s["sources"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["name"] == name).cloned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_becomes_stories_in_its_section_with_dates_and_absolute_urls() {
    let dir = tempfile::tempdir().unwrap();
    let server = FeedServer::start().await;
    server.set(LISTING, html("listing.html"));
    let db = dir.path().join("h.db");
    let daemon = Daemon::start(dir.path(), |l| {
        config(&server, l, &db, "interval = \"1h\"", "", "")
    })
    .await;
    wait_polled(&daemon, 1).await;
    let feed = section(&daemon).await;
    let list = items(&feed);
    let titles: Vec<&str> = list.iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles.len(), 3, "no nav, ad or related item: {titles:?}");
    assert!(titles.contains(&"Алиев призвал страны Центральной Азии к активному сотрудничеству в сфере обороны и безопасности"));
    let seed = list
        .iter()
        .find(|i| i["url"].as_str().is_some_and(|u| u.ends_with("-2116790")))
        .expect("the seed story");
    // Resolved against <base href="/ru/">, not the page URL.
    assert_eq!(seed["url"], server.url(SEED));
    assert_eq!(seed["date_published"], "2024-08-09T12:24:00Z");
    let summary = seed["content_html"].as_str().unwrap_or_default();
    let img = server.url("media/2024/0.jpg");
    assert!(summary.contains(&format!("src=\"{img}\"")), "{summary}");
    assert!(
        summary.contains(&server.url("media/2024/0-2x.jpg")),
        "srcset too: {summary}"
    );
    let st = source_status(&daemon, "agency-politics").await;
    assert!(st["last_error"].is_null(), "{st}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redesigned_listing_is_scrape_empty_and_its_stories_stay() {
    let dir = tempfile::tempdir().unwrap();
    let server = FeedServer::start().await;
    server.set(LISTING, html("listing.html"));
    let db = dir.path().join("h.db");
    let daemon = Daemon::start(dir.path(), |l| {
        config(&server, l, &db, "cron = \"* * * * * *\"", "", "")
    })
    .await;
    wait_polled(&daemon, 1).await;
    assert_eq!(items(&section(&daemon).await).len(), 3);
    server.set(LISTING, html("redesigned.html"));
    wait_for("scrape_empty", Duration::from_secs(20), || async {
        let st = source_status(&daemon, "agency-politics").await;
        st["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("scrape_empty:"))
    })
    .await;
    assert_eq!(
        items(&section(&daemon).await).len(),
        3,
        "stored stories stay published"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_without_links_are_scrape_degraded() {
    let dir = tempfile::tempdir().unwrap();
    let server = FeedServer::start().await;
    server.set(LISTING, html("listing.html"));
    let db = dir.path().join("h.db");
    let daemon = Daemon::start(dir.path(), |l| {
        config(
            &server,
            l,
            &db,
            "interval = \"1h\"",
            "link = \".rubric\"",
            "",
        )
    })
    .await;
    wait_polled(&daemon, 1).await;
    let st = source_status(&daemon, "agency-politics").await;
    let e = st["last_error"].as_str().unwrap_or_default();
    assert!(e.starts_with("scrape_degraded:"), "{st}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_challenge_is_blocked_backs_off_and_is_never_published() {
    let dir = tempfile::tempdir().unwrap();
    let server = FeedServer::start().await;
    server.set(LISTING, html("challenge.html"));
    let challenge = String::from_utf8(fixture("html/challenge.html")).unwrap();
    server.set("ru/rss", Doc::status(403, "text/html", &challenge));
    let db = dir.path().join("h.db");
    let rss = format!(
        "[[source]]\nname = \"agency-rss\"\nurl = \"{}\"\nsection = \"Политика\"\n",
        server.url("ru/rss")
    );
    let daemon = Daemon::start(dir.path(), |l| {
        config(&server, l, &db, "interval = \"10m\"", "", &rss)
    })
    .await;
    wait_polled(&daemon, 2).await;
    for name in ["agency-politics", "agency-rss"] {
        let st = source_status(&daemon, name).await;
        let e = st["last_error"].as_str().unwrap_or_default();
        assert!(e.starts_with("blocked:"), "{name}: {st}");
        let next: chrono::DateTime<chrono::Utc> =
            st["next_check"].as_str().unwrap().parse().unwrap();
        let ahead = (next - chrono::Utc::now()).num_minutes();
        assert!(
            ahead >= 30,
            "×4 of 10 min (with jitter), got {ahead} min: {st}"
        );
    }
    let (code, _, body) = get(&daemon.url("/sections/политика.json")).await;
    assert!(code == 404 || !body.contains("Just a moment"), "{body}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_stamps_are_never_dates_and_first_seen_stays() {
    let dir = tempfile::tempdir().unwrap();
    let server = FeedServer::start().await;
    server.set(LISTING, html("listing-relative.html"));
    let db = dir.path().join("h.db");
    let before = chrono::Utc::now() - chrono::Duration::seconds(2);
    let daemon = Daemon::start(dir.path(), |l| {
        config(&server, l, &db, "cron = \"* * * * * *\"", "", "")
    })
    .await;
    wait_polled(&daemon, 1).await;
    let first: Vec<String> = items(&section(&daemon).await)
        .iter()
        .map(|i| i["date_published"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(first.len(), 3);
    for d in &first {
        let d: chrono::DateTime<chrono::Utc> = d.parse().unwrap();
        assert!(
            d >= before && d <= chrono::Utc::now(),
            "first seen, not «вчера»: {d}"
        );
    }
    wait_for("two more polls", Duration::from_secs(20), || async {
        server.hits(LISTING) >= 3
    })
    .await;
    let again: Vec<String> = items(&section(&daemon).await)
        .iter()
        .map(|i| i["date_published"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(first, again, "dates never move across re-polls");
    daemon.stop().await;
}

const ARTICLE_RULES: &str = r#"
[source.article]
content = ".article-body"
title = "h1"
date = ".date"
date_format = "%d %B %Y %H:%M"
category = ".section-label"
exclude = ".related, .share"
max_per_poll = 2
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn article_pages_are_read_once_each_at_most_max_per_poll_and_failures_retried() {
    let dir = tempfile::tempdir().unwrap();
    let server = FeedServer::start().await;
    server.set(LISTING, html("listing.html"));
    server.set(SEED, html("article-seed.html"));
    server.set(BERBOK, html("article-berbok.html"));
    server.set(BAIRAMOV, Doc::status(500, "text/plain", "down"));
    let db = dir.path().join("h.db");
    let daemon = Daemon::start(dir.path(), |l| {
        config(&server, l, &db, "cron = \"* * * * * *\"", "", ARTICLE_RULES)
    })
    .await;
    wait_polled(&daemon, 1).await;
    // max_per_poll = 2: the first poll reads two pages.
    assert_eq!(
        server.hits(SEED) + server.hits(BERBOK) + server.hits(BAIRAMOV),
        2
    );
    wait_for(
        "the failing page retried",
        Duration::from_secs(30),
        || async { server.hits(BAIRAMOV) >= 2 },
    )
    .await;
    server.set(BAIRAMOV, html("article-bairamov.html"));
    wait_for("the failing page read", Duration::from_secs(30), || async {
        items(&section(&daemon).await).iter().any(|i| {
            i["url"].as_str().is_some_and(|u| u.ends_with("-2116792"))
                && i["content_html"]
                    .as_str()
                    .is_some_and(|c| c.contains("двусторонние"))
        })
    })
    .await;
    let polls = server.hits(LISTING);
    wait_for("more polls", Duration::from_secs(20), || async {
        server.hits(LISTING) >= polls + 2
    })
    .await;
    assert_eq!(server.hits(SEED), 1, "read once after success");
    assert_eq!(server.hits(BERBOK), 1, "read once after success");
    let list = items(&section(&daemon).await);
    assert_eq!(list.len(), 3, "related headlines never become stories");
    let seed = list
        .iter()
        .find(|i| i["url"].as_str().is_some_and(|u| u.ends_with("-2116790")))
        .unwrap();
    let content = seed["content_html"].as_str().unwrap_or_default();
    assert!(content.contains("Срединного коридора"), "{content}");
    assert!(
        !content.contains("Бербок провела вечером"),
        "related block left out: {content}"
    );
    assert!(
        !content.contains("<h1"),
        "the headline is not repeated: {content}"
    );
    assert!(
        content.contains(&server.url("resized/750/500/resize/media/2021/main/071400035624.jpg")),
        "{content}"
    );
    assert_eq!(seed["date_published"], "2024-08-09T12:24:00Z");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_source_and_the_sites_rss_give_each_story_once_with_its_full_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = FeedServer::start().await;
    server.set(LISTING, html("listing.html"));
    server.set(SEED, html("article-seed.html"));
    server.set(BERBOK, html("article-berbok.html"));
    server.set(BAIRAMOV, html("article-bairamov.html"));
    let base = format!("http://{}", server.addr);
    let rss = String::from_utf8(fixture("html/agency-politics.rss"))
        .unwrap()
        .replace("{BASE}", &base);
    server.set(
        "ru/politics.rss",
        Doc::feed("application/rss+xml", rss.into_bytes()),
    );
    let db = dir.path().join("h.db");
    // Automatic main-text extraction on the HTML source; the RSS feed
    // reads the same pages with an empty [source.article].
    let extra = format!(
        "[source.article]\nexclude = \".related, .share\"\n\n[[source]]\nname = \"agency-rss\"\nurl = \"{}\"\nsection = \"Политика\"\n[source.article]\n",
        server.url("ru/politics.rss")
    );
    let daemon = Daemon::start(dir.path(), |l| {
        config(&server, l, &db, "interval = \"1h\"", "", &extra)
    })
    .await;
    wait_polled(&daemon, 2).await;
    let list = items(&section(&daemon).await);
    let urls: Vec<&str> = list.iter().filter_map(|i| i["url"].as_str()).collect();
    assert_eq!(urls.len(), 3, "one story per article: {urls:?}");
    let seed = list
        .iter()
        .find(|i| i["url"].as_str().is_some_and(|u| u.ends_with("-2116790")))
        .unwrap();
    let content = seed["content_html"].as_str().unwrap_or_default();
    assert!(content.contains("Срединного коридора"), "{content}");
    assert!(
        content.contains("приглашения") || content.contains("пригласительные"),
        "{content}"
    );
    assert!(
        !content.contains("Кюрдаханском"),
        "related block left out: {content}"
    );
    daemon.stop().await;
}
