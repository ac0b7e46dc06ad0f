//! What a feed reader polling the daemon sees: validators and 304s, HEAD,
//! compression, cache lifetimes, cached renders that follow polls, URL
//! filters with 400s for bad values, RFC 5005 paging, and character
//! references read as the characters they are in every format.

mod common;

use common::*;
use std::time::Duration;

const POLITICS_ORDER: [&str; 5] = [
    "Госдума приняла бюджет на 2025 год",
    "Leaders meet for regional summit",
    "Совет Федерации одобрил закон о выборах",
    "Milli Məclis yeni qanun qəbul etdi",
    "Выборы губернатора назначены на сентябрь",
];

/// A client that shows the wire as a reader's HTTP library would get it:
/// no automatic decompression, headers set by the test.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .expect("client")
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Follows `next` links (Atom) from `url`, returning every title in order.
async fn walk_atom(url: &str) -> (Vec<String>, usize) {
    let mut titles_seen = Vec::new();
    let mut next = Some(url.to_string());
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        assert!(pages < 20, "paging does not end");
        let (code, _, body) = get(&url).await;
        assert_eq!(code, 200, "{url}: {body}");
        let feed = parse_feed(&body);
        titles_seen.extend(titles(&feed));
        next = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("next"))
            .map(|l| l.href.clone());
    }
    (titles_seen, pages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_answer_conditional_requests_head_and_compression() {
    let Standard {
        dir: _dir,
        feeds: _feeds,
        db: _db,
        daemon,
    } = standard_daemon("feedmerge.db").await;
    let client = raw_client();
    let url = daemon.url("/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom");

    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag");
    let last_modified = header(&first, "last-modified");
    assert!(etag.starts_with("W/\"") && etag.len() > 10, "{etag}");
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    assert_eq!(
        header(&first, "cache-control"),
        "public, max-age=3600",
        "every source feeding it polls hourly"
    );
    let body = first.text().await.unwrap();
    assert_eq!(titles(&parse_feed(&body)), POLITICS_ORDER);

    let again = client.get(&url).send().await.unwrap();
    assert_eq!(header(&again, "etag"), etag, "same content, same tag");

    let not_modified = client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(header(&not_modified, "etag"), etag);
    assert!(
        not_modified.bytes().await.unwrap().is_empty(),
        "304 has no body"
    );

    let since = client
        .get(&url)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), 304);
    let stale_tag = client
        .get(&url)
        .header("If-None-Match", "W/\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale_tag.status(), 200);

    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "etag"), etag);
    assert!(head.bytes().await.unwrap().is_empty());

    for (accept, encoding) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("br;q=1.0, gzip;q=0.5", "br"),
    ] {
        let r = client
            .get(&url)
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "content-encoding"), encoding, "{accept}");
        // One validator per representation: the body's tag with the coding.
        let suffix = if encoding == "br" { "-br\"" } else { "-gz\"" };
        assert_eq!(
            header(&r, "etag"),
            format!("{}{suffix}", etag.trim_end_matches('"')),
            "{accept}"
        );
        let compressed = r.bytes().await.unwrap();
        assert!(
            compressed.len() < body.len() / 2,
            "{accept}: {} bytes",
            compressed.len()
        );
    }

    // Every feed format, the pages and the index carry validators too.
    for path in [
        "/sections/politics.rss",
        "/sections/politics.json",
        "/sections/politics",
        "/feeds/politika.atom",
        "/feeds/politika",
        "/",
    ] {
        let r = client.get(daemon.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let tag = header(&r, "etag");
        assert!(
            !tag.is_empty() && !header(&r, "last-modified").is_empty(),
            "{path}"
        );
        let r = client
            .get(daemon.url(path))
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path}");
    }
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_that_changes_a_section_replaces_its_cached_feed_and_pages_stay_stable() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let fast = |items: &str| {
        Doc::feed(
            "application/rss+xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Срочно</title>
                <link>https://fast.example.ru/</link><description>d</description>{items}</channel></rss>"#
            )
            .into_bytes(),
        )
    };
    feeds.set("fast.rss", fast(""));
    let db = dir.path().join("feedmerge.db");
    let extra = format!(
        "\n[[source]]\nname = \"fast\"\nurl = \"{}\"\ncron = \"* * * * * *\"\nsection = \"Политика\"\n",
        feeds.url("fast.rss")
    );
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, &extra)
    })
    .await;
    wait_polled(&daemon, 5).await;
    let client = raw_client();
    let url = daemon.url("/sections/Политика.atom");
    let first = client.get(&url).send().await.unwrap();
    assert_eq!(
        header(&first, "cache-control"),
        "public, max-age=60",
        "a source polled every second feeds it; a minute is the floor"
    );
    let etag = header(&first, "etag");
    let (page1, _) = {
        let (_, _, body) = get(&format!("{url}?limit=2")).await;
        let feed = parse_feed(&body);
        let next = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("next"))
            .map(|l| l.href.clone())
            .expect("next link");
        (titles(&feed), next)
    };
    assert_eq!(page1, POLITICS_ORDER[..2]);
    let (_, _, body) = get(&format!("{url}?limit=2")).await;
    let next = parse_feed(&body)
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("next"))
        .map(|l| l.href.clone())
        .unwrap();

    // Breaking news arrives on top of the section.
    feeds.set(
        "fast.rss",
        fast(
            r#"<item><title>Срочная новость</title><link>https://fast.example.ru/1</link>
            <pubDate>Sat, 10 Aug 2024 09:00:00 +0300</pubDate></item>"#,
        ),
    );
    wait_for(
        "the cached feed shows the new story",
        Duration::from_secs(60),
        || async {
            let (_, _, body) = get(&url).await;
            body.contains("Срочная новость")
        },
    )
    .await;
    let after = client.get(&url).send().await.unwrap();
    assert_ne!(header(&after, "etag"), etag, "new content, new tag");
    let not_modified = client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 200, "the old tag no longer matches");
    assert_eq!(
        titles(&parse_feed(&after.text().await.unwrap()))[0],
        "Срочная новость"
    );

    // The next link taken before the news still continues where page 1 ended.
    let (rest, _) = walk_atom(&next).await;
    assert_eq!(rest, POLITICS_ORDER[2..], "no gap, no repeat");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_filters_feed_filters_paging_and_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let db = dir.path().join("feedmerge.db");
    let extra = r#"
[[feed]]
name = "budget"
title = "Бюджет"
sections = ["Политика"]
include = ["БЮДЖЕТ", "summit"]

[[feed]]
name = "no-budget"
sections = ["Политика"]
exclude = ["бюджет"]
sources = ["az-news", "wire"]
"#;
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, extra)
    })
    .await;
    wait_polled(&daemon, 4).await;
    let section = |q: &str| daemon.url(&format!("/sections/politics.atom?{q}"));
    let titles_at = |url: String| async move {
        let (code, _, body) = get(&url).await;
        assert_eq!(code, 200, "{url}: {body}");
        titles(&parse_feed(&body))
    };

    assert_eq!(
        titles_at(section("q=%D0%91%D0%AE%D0%94%D0%96%D0%95%D0%A2")).await,
        [POLITICS_ORDER[0]],
        "q=БЮДЖЕТ folds case"
    );
    assert_eq!(titles_at(section("q=summit")).await, [POLITICS_ORDER[1]]);
    assert_eq!(
        titles_at(section("source=az-news")).await,
        [POLITICS_ORDER[3]]
    );
    assert_eq!(
        titles_at(section("source=az-news&source=wire")).await,
        [POLITICS_ORDER[1], POLITICS_ORDER[3]]
    );
    assert_eq!(titles_at(section("lang=az")).await, [POLITICS_ORDER[3]]);
    assert_eq!(titles_at(section("limit=3")).await, POLITICS_ORDER[..3]);
    let all = titles_at(section("since=2000-01-01T00:00:00Z")).await;
    assert_eq!(all, POLITICS_ORDER);
    assert!(
        titles_at(section("since=2100-01-01T00:00:00%2B03:00"))
            .await
            .is_empty()
    );

    // [[feed]] include / exclude / sources.
    assert_eq!(
        titles_at(daemon.url("/feeds/budget.atom")).await,
        POLITICS_ORDER[..2]
    );
    assert_eq!(
        titles_at(daemon.url("/feeds/no-budget.atom")).await,
        [POLITICS_ORDER[1], POLITICS_ORDER[3]]
    );
    assert_eq!(
        titles_at(daemon.url("/feeds/no-budget.atom?source=wire")).await,
        [POLITICS_ORDER[1]]
    );

    // Paging in every format: all stories, in order, once.
    let (walked, pages) = walk_atom(&section("limit=2")).await;
    assert_eq!(walked, POLITICS_ORDER);
    assert_eq!(pages, 3);
    let (walked, _) = walk_atom(&section("limit=1&q=%D0%B2%D1%8B%D0%B1%D0%BE%D1%80")).await;
    assert_eq!(
        walked,
        [POLITICS_ORDER[2], POLITICS_ORDER[4]],
        "filters carry over to next pages"
    );
    let (_, _, json) = get(&daemon.url("/sections/politics.json?limit=2")).await;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let next = json["next_url"].as_str().expect("next_url");
    assert!(next.contains("limit=2&before="), "{next}");
    let (_, _, page2) = get(next).await;
    let page2: serde_json::Value = serde_json::from_str(&page2).unwrap();
    assert_eq!(page2["items"][0]["title"], POLITICS_ORDER[2]);
    let (_, _, rss) = get(&daemon.url("/sections/politics.rss?limit=4")).await;
    let channel = rss::Channel::read_from(rss.as_bytes()).unwrap();
    let links = &channel.atom_ext.as_ref().unwrap().links;
    let rss_next = links
        .iter()
        .find(|l| l.rel == "next")
        .expect("atom:link rel=next in RSS");
    let (_, _, last) = get(&rss_next.href).await;
    assert_eq!(titles(&parse_feed(&last)), [POLITICS_ORDER[4]]);
    let last = rss::Channel::read_from(last.as_bytes()).unwrap();
    assert!(
        !last.atom_ext.unwrap().links.iter().any(|l| l.rel == "next"),
        "the last page has no next"
    );

    for (query, reason) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("since=yesterday", "since"),
        ("lang=%3Cx%3E", "lang"),
        ("q=", "q"),
        ("before=xyz", "before"),
        ("sort=asc", "unknown parameter"),
    ] {
        let (code, _, body) = get(&section(query)).await;
        assert_eq!(code, 400, "{query}");
        assert!(body.contains(reason) && body.len() < 200, "{query}: {body}");
    }
    daemon.stop().await;
}

/// An RSS description is HTML escaped into XML, so `&amp;laquo;` in the
/// document is `&laquo;` in the HTML and `«` in the text. The fast
/// sanitizer keeps the reference as written; every plain-text view
/// (JSON Feed `summary`, `q`, include/exclude) must still read `«`, and no
/// format may escape it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_escaped_references_reach_every_format_as_characters() {
    const QUOTE_TITLE: &str = "«Мы готовы» — министр";
    const QUOTE_TEXT: &str = "«Мы готовы» — заявил министр в пятницу.";
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    feeds.set(
        "kultura.rss",
        Doc::feed(
            "application/rss+xml; charset=utf-8",
            r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Культура</title><link>https://kultura.example/</link><description>Новости</description>
<item><title>&amp;laquo;Мы готовы&amp;raquo; &amp;mdash; министр</title>
<link>https://kultura.example/1</link><guid>k-1</guid><pubDate>Fri, 09 Aug 2024 12:00:00 GMT</pubDate>
<description>&lt;p&gt;&amp;laquo;Мы готовы&amp;raquo; &amp;mdash; заявил &lt;b&gt;министр&lt;/b&gt; в пятницу.&lt;/p&gt;</description></item>
<item><title>Погода на выходные</title>
<link>https://kultura.example/2</link><guid>k-2</guid><pubDate>Fri, 09 Aug 2024 11:00:00 GMT</pubDate>
<description>Солнечно.</description></item>
</channel></rss>"#
                .as_bytes()
                .to_vec(),
        ),
    );
    let db = dir.path().join("feedmerge.db");
    let url = feeds.url("kultura.rss");
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
name = "kultura"
url = "{url}"
section = "Культура"

[[feed]]
name = "quotes"
sections = ["Культура"]
include = ["«[^»]+»"]

[[feed]]
name = "no-dashes"
sections = ["Культура"]
exclude = ["—"]
"#,
            db = db.display()
        )
    })
    .await;
    wait_polled(&daemon, 1).await;
    // reqwest percent-encodes the Cyrillic path and the `«` in queries.
    let section = |rest: &str| daemon.url(&format!("/sections/Культура{rest}"));
    let json_of = |url: String| async move {
        let (code, _, body) = get(&url).await;
        assert_eq!(code, 200, "{url}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON Feed")
    };
    let plain = feedmerge::pipeline::normalize::html::to_text;

    let json = json_of(section(".json")).await;
    let item = &json["items"][0];
    assert_eq!(item["title"], QUOTE_TITLE);
    assert_eq!(item["summary"], QUOTE_TEXT, "plain text, not `&laquo;`");
    let content_html = item["content_html"].as_str().expect("content_html");
    assert_eq!(plain(content_html), QUOTE_TEXT, "{content_html}");
    assert!(content_html.contains("«Мы готовы» —"), "{content_html}");

    // Atom and RSS carry the summary as HTML: one level of escaping, so a
    // reader shows «…», never a literal `&laquo;`.
    for ext in [".atom", ".rss"] {
        let (code, _, body) = get(&section(ext)).await;
        assert_eq!(code, 200, "{ext}: {body}");
        assert!(
            !body.contains("&amp;amp;"),
            "escaped twice in {ext}: {body}"
        );
        let feed = parse_feed(&body);
        assert_eq!(titles(&feed)[0], QUOTE_TITLE, "{ext}");
        let entry = &feed.entries[0];
        let html = entry
            .summary
            .as_ref()
            .map(|s| s.content.clone())
            .expect("summary/description");
        assert_eq!(plain(&html), QUOTE_TEXT, "{ext}: {html}");
        // The characters themselves, not references to them, in the HTML.
        assert!(html.contains("«Мы готовы» —"), "{ext}: {html}");
        assert!(!body.contains("laquo"), "{ext}: {body}");
    }

    // The HTML page writes the characters themselves.
    let (code, _, page) = get(&section("")).await;
    assert_eq!(code, 200);
    assert!(page.contains(QUOTE_TITLE), "{page}");
    assert!(page.contains("«Мы готовы» — заявил"), "{page}");
    assert!(!page.contains("laquo"), "{page}");

    // q= searches the text: «, » and — are in it, the entity names are not.
    let titles_of = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    for q in ["«Мы", "готовы»", "»%20—%20заявил"] {
        assert_eq!(
            titles_of(json_of(section(&format!(".json?q={q}"))).await),
            [QUOTE_TITLE],
            "q={q}"
        );
    }
    assert!(
        titles_of(json_of(section(".json?q=laquo")).await).is_empty(),
        "q=laquo"
    );
    let (_, _, atom) = get(&section(".atom?q=«мы")).await;
    assert_eq!(titles(&parse_feed(&atom)), [QUOTE_TITLE], "q= folds case");

    // [[feed]] include / exclude see the same text.
    assert_eq!(
        titles_of(json_of(daemon.url("/feeds/quotes.json")).await),
        [QUOTE_TITLE]
    );
    assert_eq!(
        titles_of(json_of(daemon.url("/feeds/no-dashes.json")).await),
        ["Погода на выходные"]
    );
    daemon.stop().await;
}
