//! End to end: fixture feeds on a real HTTP server, the real daemon, a real
//! SQLite file; assertions on what a subscriber receives.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn politics_section_merges_all_sources_once_newest_first() {
    let Standard {
        dir: _dir,
        feeds: _feeds,
        db,
        daemon,
    } = standard_daemon("state/feedmerge.db").await;
    assert!(
        db.exists(),
        "database file and its missing parent folder are created"
    );

    let (code, ct, body) =
        get(&daemon.url("/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom")).await;
    assert_eq!(code, 200, "{body}");
    assert!(ct.starts_with("application/atom+xml"), "{ct}");
    let feed = parse_feed(&body);
    assert_eq!(
        titles(&feed),
        POLITICS_ORDER,
        "every politics story once, newest first"
    );

    // The budget story came from two sources; it is one entry with one id.
    let ids: std::collections::HashSet<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), 5);
    assert!(feed.entries.iter().all(|e| e.id.starts_with("urn:uuid:")));
    let budget = &feed.entries[0];
    assert_eq!(
        budget.links[0].href, "https://news.example.ru/politics/budget-2025",
        "canonical link"
    );
    // windows-1251 decoded, Russian date read in Europe/Moscow.
    assert_eq!(
        budget.published.unwrap().to_rfc3339(),
        "2024-08-09T13:24:00+00:00"
    );
    let summary = budget
        .summary
        .as_ref()
        .map(|s| s.content.clone())
        .unwrap_or_default();
    assert!(summary.contains("приняли"), "{summary}");
    assert!(!body.contains("alert("), "scripts never reach subscribers");
    assert!(
        !body.contains("onclick"),
        "event handlers never reach subscribers"
    );

    // Case folding, aliases, other formats.
    let (code, ct, rss) = get(&daemon.url("/sections/политика.rss")).await;
    assert_eq!(code, 200);
    assert!(ct.starts_with("application/rss+xml"), "{ct}");
    assert_eq!(titles(&parse_feed(&rss)), POLITICS_ORDER);
    let (code, ct, json) = get(&daemon.url("/sections/POLITICS.json")).await;
    assert_eq!(code, 200);
    assert!(ct.starts_with("application/feed+json"), "{ct}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    let json_ids: Vec<_> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    let atom_ids: Vec<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(json_ids, atom_ids, "one id per story in every format");
    let (code, _, siyaset) = get(&daemon.url("/sections/siyas%C9%99t.atom")).await;
    assert_eq!(code, 200);
    assert_eq!(titles(&parse_feed(&siyaset)).len(), 5);

    // A named feed.
    let (code, _, named) = get(&daemon.url("/feeds/politika.atom")).await;
    assert_eq!(code, 200);
    let named = parse_feed(&named);
    assert_eq!(titles(&named), POLITICS_ORDER);
    assert_eq!(named.title.unwrap().content, "Политика");

    // Sections that exist only as stored categories, and ones that don't.
    let (code, _, econ) = get(&daemon.url("/sections/экономика.atom")).await;
    assert_eq!(code, 200);
    assert_eq!(titles(&parse_feed(&econ)), ["Курс рубля укрепился"]);
    assert_eq!(get(&daemon.url("/sections/Спорт-нет.atom")).await.0, 404);
    assert_eq!(get(&daemon.url("/feeds/nope.atom")).await.0, 404);
    assert_eq!(get(&daemon.url("/sections/Политика.xml")).await.0, 404);
    assert_eq!(get(&daemon.url("/healthz")).await.0, 200);

    daemon.stop().await;
}

const EVERY_SECOND: &str = "cron = \"* * * * * *\"";

/// The politics feed after the site edits a headline, adds a story and
/// reorders its items.
fn edited_politics_feed() -> Vec<u8> {
    let text = String::from_utf8(fixture("feeds/ru-politics.rss")).unwrap();
    let (head, rest) = text.split_once("<item>").unwrap();
    let (first, second) = rest.split_once("<item>").unwrap();
    let new_item = r#"<item>
  <title>Парламент обсудит новые поправки</title>
  <link>https://news.example.ru/politics/amendments</link>
  <guid isPermaLink="false">pol-79</guid>
  <pubDate>Fri, 09 Aug 2024 18:00:00 +0300</pubDate>
  <description>Обсуждение назначено на осень.</description>
</item>
"#;
    let second = second.replace(
        "Совет Федерации одобрил закон о выборах",
        "Совет Федерации одобрил закон о выборах (обновлено)",
    );
    let items_end = second.find("</channel>").unwrap();
    format!(
        "{head}{new_item}<item>{}<item>{}{}",
        &second[..items_end],
        first,
        &second[items_end..]
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_new_items_and_reorders_keep_ids_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let db = dir.path().join("feedmerge.db");
    let config = |listen| standard_config_with(&feeds, listen, &db, EVERY_SECOND, "");

    let daemon = Daemon::start(dir.path(), config).await;
    wait_polled(&daemon, 4).await;
    let (_, _, before) = get(&daemon.url("/sections/Политика.atom")).await;
    let before = parse_feed(&before);
    // Re-polls every second are conditional and cost a 304.
    wait_for(
        "a re-poll answered 304",
        Duration::from_secs(60),
        || async { feeds.not_modified("az/news.atom") >= 1 },
    )
    .await;

    // The site edits a headline, adds a story and reorders its feed.
    feeds.set(
        "ru/politics.rss",
        Doc::feed("application/rss+xml; charset=utf-8", edited_politics_feed()),
    );
    wait_for("edited feed polled", Duration::from_secs(60), || async {
        let (_, _, body) = get(&daemon.url("/sections/Политика.atom")).await;
        body.contains("Парламент обсудит") && body.contains("обновлено")
    })
    .await;
    let (_, _, after) = get(&daemon.url("/sections/Политика.atom")).await;
    let after = parse_feed(&after);
    daemon.stop().await;

    let titles_after = titles(&after);
    assert_eq!(titles_after.len(), 6, "{titles_after:?}");
    assert_eq!(
        titles_after[0], "Парламент обсудит новые поправки",
        "new story on top"
    );
    assert!(
        titles_after.contains(&"Совет Федерации одобрил закон о выборах (обновлено)".to_string())
    );
    assert!(
        !titles_after.contains(&"Совет Федерации одобрил закон о выборах".to_string()),
        "edited in place"
    );

    // Every story that existed keeps its id; the edited one too.
    let id_of = |feed: &feed_rs::model::Feed, prefix: &str| {
        feed.entries
            .iter()
            .find(|e| e.title.as_ref().unwrap().content.starts_with(prefix))
            .map(|e| e.id.clone())
            .unwrap()
    };
    for t in POLITICS_ORDER {
        let prefix: String = t.chars().take(20).collect();
        assert_eq!(id_of(&before, &prefix), id_of(&after, &prefix), "id of {t}");
    }
    let edited_entry = after
        .entries
        .iter()
        .find(|e| e.title.as_ref().unwrap().content.contains("обновлено"))
        .unwrap();
    let original = before
        .entries
        .iter()
        .find(|e| e.title.as_ref().unwrap().content.starts_with("Совет"))
        .unwrap();
    assert!(
        edited_entry.updated > original.updated,
        "an edit moves `updated`"
    );
    assert_eq!(
        edited_entry.published, original.published,
        "an edit keeps the sort date"
    );

    // After a restart the same ids are served, and the first polls are
    // conditional: validators survived in SQLite.
    let not_modified_before = feeds.not_modified("wire/feed.json");
    let daemon = Daemon::start(dir.path(), config).await;
    let (_, _, restarted) = get(&daemon.url("/sections/Политика.atom")).await;
    let restarted = parse_feed(&restarted);
    assert_eq!(
        restarted
            .entries
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>(),
        after
            .entries
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    );
    wait_for(
        "post-restart poll answered 304",
        Duration::from_secs(60),
        || async { feeds.not_modified("wire/feed.json") > not_modified_before },
    )
    .await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_sources_are_recorded_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    feeds.set("broken/500", Doc::status(500, "text/plain", "oops"));
    feeds.set(
        "broken/html",
        Doc::status(
            200,
            "text/html",
            "<!DOCTYPE html><html><body>Not a feed</body></html>",
        ),
    );
    feeds.set(
        "broken/garbage",
        Doc::status(
            200,
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><item><title>cut",
        ),
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let extra = format!(
        r#"
[[source]]
name = "http-500"
url = "{}"

[[source]]
name = "html-page"
url = "{}"

[[source]]
name = "truncated"
url = "{}"

[[source]]
name = "refused"
url = "http://{closed}/feed"
"#,
        feeds.url("broken/500"),
        feeds.url("broken/html"),
        feeds.url("broken/garbage")
    );
    let db = dir.path().join("feedmerge.db");
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, &extra)
    })
    .await;
    wait_polled(&daemon, 8).await;
    let report = status(&daemon).await;
    let by_name = |n: &str| {
        report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .cloned()
            .unwrap()
    };
    let err = |n: &str| by_name(n)["last_error"].as_str().unwrap_or("").to_string();
    assert!(err("http-500").contains("HTTP 500"), "{}", err("http-500"));
    assert_eq!(by_name("http-500")["last_status"], 500);
    assert!(
        err("html-page").contains("text/html"),
        "{}",
        err("html-page")
    );
    assert!(
        err("truncated").contains("malformed"),
        "{}",
        err("truncated")
    );
    assert!(err("refused").contains("connection"), "{}", err("refused"));
    assert_eq!(by_name("refused")["consecutive_failures"], 1);
    assert!(by_name("ru-all")["last_error"].is_null());
    assert_eq!(by_name("ru-all")["items"], 3);

    // The good sources are served regardless.
    let (_, _, body) = get(&daemon.url("/feeds/politika.atom")).await;
    assert_eq!(titles(&parse_feed(&body)), POLITICS_ORDER);
    daemon.stop().await;

    // A source that used to work starts failing: what it gave is kept.
    feeds.set("ru/politics.rss", Doc::status(503, "text/plain", "down"));
    feeds.set(
        "ru/all.rss",
        Doc::status(200, "text/html", "<html>maintenance</html>"),
    );
    // A schedule shortened in the config makes the healthy sources due at
    // once; the failing ones keep their (hour-long) backoff.
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config_with(&feeds, listen, &db, EVERY_SECOND, &extra)
    })
    .await;
    wait_for("failures recorded", Duration::from_secs(60), || async {
        let s = status(&daemon).await;
        s["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["consecutive_failures"].as_u64() > Some(0))
            .count()
            == 6
    })
    .await;
    let (_, _, body) = get(&daemon.url("/feeds/politika.atom")).await;
    assert_eq!(
        titles(&parse_feed(&body)),
        POLITICS_ORDER,
        "nothing stored is lost"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_ticks_and_a_slow_source_never_overlaps_itself_or_delays_others() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let slow_doc = || {
        let mut slow = Doc::feed("application/atom+xml", fixture("feeds/az.atom"));
        slow.delay = Duration::from_millis(2500);
        slow.etag = None;
        slow
    };
    feeds.set("slow.atom", slow_doc());
    // The slow source's own timeout is an hour, so that at shutdown its
    // fetch is cut by the shutdown and not by the timeout.
    let extra = format!(
        r#"
[[source]]
name = "every-second"
url = "{}"
cron = "* * * * * *"

[[source]]
name = "slow"
url = "{}"
cron = "* * * * * *"
timeout = "1h"
"#,
        feeds.url("wire/feed.json"),
        feeds.url("slow.atom")
    );
    let db = dir.path().join("feedmerge.db");
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, &extra)
    })
    .await;
    // The fast source keeps ticking once a second while the slow one hangs.
    wait_for(
        "fast source polled repeatedly",
        Duration::from_secs(60),
        || async { feeds.hits("wire/feed.json") >= 5 },
    )
    .await;
    // Two of those five are first polls (source "wire" and "every-second"
    // share the URL); the fixture server counts a request as conditional
    // before it counts it as a hit, so all five are in this count.
    assert!(
        feeds.conditional("wire/feed.json") >= 3,
        "re-polls are conditional"
    );
    wait_for(
        "slow source polled twice",
        Duration::from_secs(60),
        || async { feeds.hits("slow.atom") >= 2 },
    )
    .await;
    assert_eq!(
        feeds.max_in_flight("slow.atom"),
        1,
        "a source never overlaps itself"
    );

    // Now the slow source never answers: shutdown must cut its fetch. A
    // daemon that waited for polls instead would sit out its 10 s drain
    // timeout and leave the request hanging.
    let hang = Gate::closed();
    feeds.set("slow.atom", slow_doc().gated(&hang));
    wait_for(
        "a fetch of the slow source hangs",
        Duration::from_secs(60),
        || async { hang.held() == 1 },
    )
    .await;
    let started = std::time::Instant::now();
    daemon.stop().await;
    let took = started.elapsed();
    wait_for(
        "the hanging fetch is dropped by the shutdown",
        Duration::from_secs(60),
        || async { hang.held() == 0 },
    )
    .await;
    assert!(
        took < Duration::from_secs(10),
        "shutdown within seconds even mid-fetch, not after the drain timeout: {took:?}"
    );
}

/// Issue #12: a feed whose items all carry one guid (one agency we follow
/// does this) gives one story per link, and `/status` says its ids are not
/// trusted; a feed with proper guids does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_whose_items_share_one_guid_is_told_apart_by_link_and_status_says_so() {
    let server = FeedServer::start().await;
    serve_standard_fixtures(&server);
    let mut items = String::new();
    for i in 0..40 {
        items.push_str(&format!(
            "<item><guid isPermaLink=\"false\">same-guid</guid><title>Сообщение {i}</title>\
             <link>https://oneguid.example/news/{i}</link>\
             <pubDate>Fri, 09 Aug 2024 12:{i:02}:00 +0000</pubDate></item>"
        ));
    }
    let rss = format!(
        "<rss version=\"2.0\"><channel><title>One guid</title><link>https://oneguid.example/</link>{items}</channel></rss>"
    );
    server.set(
        "oneguid.rss",
        Doc::feed("application/rss+xml", rss.into_bytes()),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let extra = format!(
        "[[source]]\nname = \"oneguid\"\nurl = \"{}\"\n",
        server.url("oneguid.rss")
    );
    let db = dir.path().join("store.db");
    let daemon = Daemon::start(dir.path(), |addr| {
        standard_config(&server, addr, &db, &extra)
    })
    .await;
    let status = || async {
        let (_, _, body) = get(&daemon.url("/status")).await;
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default()
    };
    let source = |v: &serde_json::Value, name: &str| {
        v["sources"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name).cloned())
            .unwrap_or_default()
    };
    wait_for("oneguid polled", Duration::from_secs(20), || async {
        source(&status().await, "oneguid")["items"].as_u64() == Some(40)
    })
    .await;
    let v = status().await;
    assert_eq!(source(&v, "oneguid")["ids_untrusted"], true, "{v}");
    assert_eq!(source(&v, "ru-all")["ids_untrusted"], false, "{v}");
    daemon.stop().await;
}
