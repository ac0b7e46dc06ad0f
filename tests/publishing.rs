//! Beyond files and URLs: `/sources.opml`, `feedmerge import-opml`,
//! `feedmerge export --all --out DIR` for static hosting, and WebSub
//! publish pings to a local fake hub.

mod common;

use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opml_out_and_in() {
    let Standard {
        dir,
        feeds: _feeds,
        db: _db,
        daemon,
    } = standard_daemon("feedmerge.db").await;
    let (code, ct, opml) = get(&daemon.url("/sources.opml")).await;
    assert_eq!(code, 200);
    assert!(ct.starts_with("text/x-opml"), "{ct}");
    let pol = opml
        .lines()
        .find(|l| l.contains("ru/politics.rss"))
        .expect("ru-politics outline");
    assert!(pol.contains(r#"title="Новости дня — Политика""#), "{pol}");
    assert!(
        pol.contains(r#"htmlUrl="https://news.example.ru/politics/""#),
        "{pol}"
    );
    assert!(pol.contains(r#"category="/Политика""#), "{pol}");
    assert_eq!(opml.matches("<outline ").count(), 4);
    daemon.stop().await;

    // Our own OPML back in: every source is already configured.
    let opml_file = dir.path().join("ours.opml");
    std::fs::write(&opml_file, &opml).unwrap();
    let config = dir.path().join("feedmerge.toml");
    let (ok, out, err) = run_cli(&config, &["import-opml", opml_file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.starts_with("# 0 sources imported"), "{out}");
    assert_eq!(err.matches("already a source").count(), 4, "{err}");

    // A reader's export with folders, into a config that had none.
    let reader = r#"<?xml version="1.0"?><opml version="1.0"><body>
      <outline title="Технологии"><outline type="rss" text="Хабр" xmlUrl="https://habr.example/rss"/></outline>
      <outline type="rss" text="Hacker News" xmlUrl="https://hn.example/rss" htmlUrl="https://hn.example/"/>
      <outline text="no feed here"/></body></opml>"#;
    let reader_file = dir.path().join("reader.opml");
    std::fs::write(&reader_file, reader).unwrap();
    let missing = dir.path().join("nothing-here.toml");
    let (ok, out, err) = run_cli(&missing, &["import-opml", reader_file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("\"no feed here\": no xmlUrl"), "{err}");
    // The printed TOML is a valid config once storage is added.
    let appended = format!(
        "[storage]\npath = \"{}\"\n{out}",
        dir.path().join("x.db").display()
    );
    let parsed = feedmerge::config::Config::parse(&appended, &dir.path().join("new.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{out}"));
    let names: Vec<_> = parsed
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.section.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("khabr", Some("Технологии")), ("hacker-news", None)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_all_writes_a_static_site_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let db = dir.path().join("feedmerge.db");
    let config = dir.path().join("feedmerge.toml");
    std::fs::write(
        &config,
        standard_config(&feeds, "127.0.0.1:0".parse().unwrap(), &db, ""),
    )
    .unwrap();
    let (ok, _, err) = run_cli(&config, &["poll"]);
    assert!(ok, "{err}");
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("sections")).unwrap();
    std::fs::write(site.join("sections/Политика.atom"), "old").unwrap();

    let (ok, out, err) = run_cli(
        &config,
        &["export", "--all", "--out", site.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert!(out.contains("wrote"), "{out}");
    for file in [
        "index.html",
        "feeds/politika.atom",
        "feeds/politika.rss",
        "feeds/politika.json",
        "feeds/politika.html",
        "sections/Политика.atom",
        "sections/Политика.rss",
        "sections/Политика.json",
        "sections/Политика.html",
        "sections/Экономика.atom",
    ] {
        assert!(site.join(file).is_file(), "{file} written");
    }
    let atom = std::fs::read_to_string(site.join("sections/Политика.atom")).unwrap();
    assert_eq!(
        titles(&parse_feed(&atom)).len(),
        5,
        "replaced, not appended"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("feeds/politika.json")).unwrap())
            .unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 5);
    let page = std::fs::read_to_string(site.join("sections/Политика.html")).unwrap();
    assert!(page.contains("Госдума приняла бюджет на 2025 год"));
    let leftovers: Vec<_> = walk(&site)
        .into_iter()
        .filter(|p| p.contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
    assert!(
        !run_cli(&config, &["export", "--all"]).0,
        "--all needs --out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_all_bounds_long_names_and_swaps_the_site_whole() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    // A category of 300 Cyrillic characters (600 bytes): longer than any
    // file name may be.
    let long = "Длиннаякатегория".repeat(19)[..600].to_string();
    assert_eq!(long.chars().count(), 300);
    feeds.set(
        "long/feed.rss",
        Doc::feed(
            "application/rss+xml; charset=utf-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>L</title>\
                 <link>https://long.example/</link><item><title>Длинная история</title>\
                 <link>https://long.example/1</link><category>{long}</category>\
                 <pubDate>Fri, 09 Aug 2024 16:24:00 +0300</pubDate></item></channel></rss>"
            )
            .into_bytes(),
        ),
    );
    let db = dir.path().join("feedmerge.db");
    let config = dir.path().join("feedmerge.toml");
    let extra = format!(
        "\n[[source]]\nname = \"long\"\nurl = \"{}\"\n",
        feeds.url("long/feed.rss")
    );
    std::fs::write(
        &config,
        standard_config(&feeds, "127.0.0.1:0".parse().unwrap(), &db, &extra),
    )
    .unwrap();
    let (ok, _, err) = run_cli(&config, &["poll"]);
    assert!(ok, "{err}");
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("stale.txt"), "from the old site").unwrap();
    let (ok, out, err) = run_cli(
        &config,
        &["export", "--all", "--out", site.to_str().unwrap()],
    );
    assert!(ok, "{out}\n{err}");
    let files = walk(&site);
    for f in &files {
        let name = std::path::Path::new(f).file_name().unwrap();
        assert!(name.len() <= 80, "bounded: {f}");
    }
    let long_atom = files
        .iter()
        .find(|f| f.contains("Длиннаякатегория") && f.ends_with(".atom"))
        .unwrap_or_else(|| panic!("the long section exported: {files:?}"));
    let atom = std::fs::read_to_string(long_atom).unwrap();
    assert!(atom.contains("Длинная история"));
    // The index links to the file that exists.
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    let stem = std::path::Path::new(long_atom)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let encoded: String = url::form_urlencoded::byte_serialize(stem.as_bytes()).collect();
    assert!(
        index.contains(&stem) || index.contains(&encoded.replace('+', "%20")),
        "index links to {stem}"
    );
    assert!(
        !site.join("stale.txt").exists(),
        "the site was replaced whole"
    );
    assert!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().starts_with(".site")),
        "no staging folder left beside the site"
    );
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

/// A fake WebSub hub on 127.0.0.1:0 recording every publish body.
async fn fake_hub() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hub",
        axum::routing::post(move |body: String| {
            let store = Arc::clone(&store);
            async move {
                store.lock().unwrap().push(body);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hub"), seen)
}

fn topics(bodies: &[String]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(b.as_bytes())
                .into_owned()
                .collect();
            assert!(
                pairs.contains(&("hub.mode".into(), "publish".into())),
                "{b}"
            );
            pairs
                .into_iter()
                .find(|(k, _)| k == "hub.url")
                .map(|(_, v)| v)
                .expect("hub.url")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websub_hub_is_advertised_and_pinged_after_changes_only() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let fast = |items: &str| {
        Doc::feed(
            "application/rss+xml",
            format!(
                r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Sport</title><link>https://s.example/</link>
                <description>d</description>{items}</channel></rss>"#
            )
            .into_bytes(),
        )
    };
    feeds.set("sport.rss", fast(""));
    let (hub, seen) = fake_hub().await;
    let db = dir.path().join("feedmerge.db");
    let extra = format!(
        "\n[[source]]\nname = \"sport\"\nurl = \"{}\"\ncron = \"* * * * * *\"\nsection = \"Спорт\"\n",
        feeds.url("sport.rss")
    );
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, &extra).replacen(
            "[server]\n",
            &format!("[server]\nwebsub_hub = \"{hub}\"\n"),
            1,
        )
    })
    .await;
    wait_polled(&daemon, 5).await;
    let (_, _, atom) = get(&daemon.url("/sections/Спорт.atom")).await;
    assert!(
        atom.contains(&format!(r#"<link href="{hub}" rel="hub"/>"#)),
        "{atom}"
    );
    let politics_atom =
        daemon.url("/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom");
    wait_for(
        "the first poll's new stories reach the hub",
        Duration::from_secs(60),
        || async { topics(&seen.lock().unwrap()).contains(&politics_atom) },
    )
    .await;
    // A change's pings go out one after another, sections first: the named
    // feed's come after the section's, so wait for them too.
    let named = daemon.url("/feeds/politika.json");
    let pings_of = |topic: &str| {
        topics(&seen.lock().unwrap())
            .iter()
            .filter(|t| *t == topic)
            .count()
    };
    wait_for(
        "named feeds over the section too",
        Duration::from_secs(60),
        || async { pings_of(&named) >= 1 },
    )
    .await;
    // Each of the four standard sources' first polls is a change with
    // politics stories, and each change's pings end with the named feed's
    // JSON: once it has four, every first-poll ping is in, and any later
    // politics ping would be the sport change's doing.
    wait_for(
        "every first-poll change pinged",
        Duration::from_secs(60),
        || async { pings_of(&named) >= 4 },
    )
    .await;

    // Unchanged polls of the sport feed ping nobody...
    let attempts = |s: serde_json::Value| {
        s["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "sport")
            .unwrap()["last_attempt"]
            .clone()
    };
    let before = attempts(status(&daemon).await);
    wait_for("another sport poll", Duration::from_secs(60), || async {
        attempts(status(&daemon).await) != before
    })
    .await;
    let sport_atom = daemon.url("/sections/%D0%A1%D0%BF%D0%BE%D1%80%D1%82.atom");
    assert!(
        !topics(&seen.lock().unwrap()).contains(&sport_atom),
        "nothing new in sport yet"
    );

    // ...a new story pings that section's feeds, and not politics again.
    let pinged_before = seen.lock().unwrap().len();
    feeds.set(
        "sport.rss",
        fast("<item><title>Гол!</title><link>https://s.example/goal</link><pubDate>Sat, 10 Aug 2024 10:00:00 GMT</pubDate></item>"),
    );
    // Each format of the section is its own topic and its own ping, so
    // wait for both rather than check the second right after the first.
    let sport_rss = daemon.url("/sections/%D0%A1%D0%BF%D0%BE%D1%80%D1%82.rss");
    wait_for(
        "the sport change reaches the hub, as Atom and as RSS",
        Duration::from_secs(60),
        || async {
            let seen = topics(&seen.lock().unwrap()[pinged_before..]);
            seen.contains(&sport_atom) && seen.contains(&sport_rss)
        },
    )
    .await;
    let new_topics = topics(&seen.lock().unwrap()[pinged_before..]);
    assert!(!new_topics.contains(&politics_atom), "{new_topics:?}");
    daemon.stop().await;
}
