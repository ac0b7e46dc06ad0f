//! `migrate-store`: a generated store of 10,000 stories copied from SQLite
//! to PostgreSQL and back (to another SQLite file when no PostgreSQL is
//! configured) keeps every count, every entry id in its order, its
//! tombstones, article pages and source state, and renders the same Atom
//! bytes; a non-empty target is refused.

#[path = "store_contract/backends.rs"]
mod backends;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use feedmerge::config::Config;
use feedmerge::feeds::{self, FeedRequest, Target};
use feedmerge::model::article::ArticleExtract;
use feedmerge::model::format::Format;
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::copy::{self, CopyError, Endpoint};
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{ArticleOutcome, PollRecord, PollResult, SourceSpec, Store, StoryQuery};
use std::sync::Arc;

/// Generated; 299 are purged, leaving 10,001.
const STORIES: u32 = 10_300;
const SOURCES: u32 = 20;
const SECTIONS: [&str; 4] = ["World", "Sport", "Политика", "Tech"];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn item(source: u32, n: u32) -> Item {
    let section = SECTIONS[(n % 4) as usize];
    Item {
        key: format!("s{source}-{n}"),
        story_key: format!("link:https://news.example/{n}"),
        guid: Some(format!("s{source}-{n}")),
        link: Some(format!("https://news.example/{n}")),
        title: format!("Story {n} <b>&amp;</b>"),
        summary: Some(format!("<p>Summary {n}</p>")),
        content: n.is_multiple_of(3).then(|| format!("<p>Body of {n}</p>")),
        authors: vec![format!("Author {}", n % 7)],
        categories: vec![section.to_string()],
        sections: vec![section.to_string()],
        published: Some(t0() - Span::minutes(i64::from(n))),
        updated: None,
        language: Some("en".into()),
        enclosures: vec![],
        content_hash: format!("h{n}"),
    }
}

/// 10,000 stories from 20 sources, a tenth of them also brought by the
/// next source (merges), the oldest 300 purged (tombstones), a few
/// article pages and failures.
async fn generate(store: &SqliteStore) {
    let specs: Vec<SourceSpec> = (0..SOURCES)
        .map(|s| SourceSpec {
            name: format!("s{s}"),
            url: format!("https://s{s}.example/feed"),
            title: (s == 0).then(|| "Configured title".into()),
        })
        .collect();
    store.register_sources(&specs).await.unwrap();
    let per = STORIES / SOURCES;
    for s in 0..SOURCES {
        let mut items: Vec<Item> = (s * per..(s + 1) * per).map(|n| item(s, n)).collect();
        let next = (s + 1) % SOURCES;
        items.extend((next * per..next * per + per / 10).map(|n| item(s, n)));
        let record = PollRecord {
            at: t0() + Span::seconds(i64::from(s)),
            next_check: t0() + Span::minutes(15 + i64::from(s)),
            moved_to: None,
            articles: vec![ArticleOutcome {
                link: format!("https://news.example/{}", s * per),
                result: if s.is_multiple_of(2) {
                    Ok(ArticleExtract {
                        content: Some("<p>Full text</p>".into()),
                        ..ArticleExtract::default()
                    })
                } else {
                    Err("HTTP 404".into())
                },
            }],
            result: PollResult::Fetched {
                validators: Validators {
                    etag: Some(format!("\"e{s}\"")),
                    last_modified: None,
                },
                status: 200,
                meta: FeedMeta::default(),
                items,
            },
        };
        store.record_poll(&format!("s{s}"), record).await.unwrap();
    }
    let failed = PollRecord {
        at: t0() + Span::hours(1),
        next_check: t0() + Span::hours(2),
        moved_to: None,
        articles: vec![],
        result: PollResult::Failed {
            status: Some(500),
            error: "HTTP 500".into(),
        },
    };
    store.record_poll("s3", failed).await.unwrap();
    let purged = store
        .purge_stories(t0() - Span::minutes(i64::from(STORIES - 300)), t0(), 1_000)
        .await
        .unwrap();
    assert_eq!(purged.stories, 299);
}

fn config(dir: &std::path::Path) -> Config {
    Config::parse(
        "[sections]\n\"World\" = []\n\"Sport\" = []\n\"Политика\" = []\n\"Tech\" = []\n",
        &dir.join("feedmerge.toml"),
    )
    .unwrap()
}

/// What a reader and an operator can see of a store.
async fn observe(store: &dyn Store, config: &Config) -> Vec<String> {
    let mut seen = Vec::new();
    let stats = store.store_stats().await.unwrap();
    seen.push(format!(
        "stories {} tombstones {}",
        stats.stories, stats.tombstones
    ));
    let mut q = StoryQuery {
        limit: 500,
        ..StoryQuery::default()
    };
    let mut ids = Vec::new();
    loop {
        let page = store.story_page(&q).await.unwrap();
        let Some((last, _)) = page.last() else { break };
        q.before = Some(*last);
        ids.extend(
            page.into_iter()
                .map(|(c, s)| format!("{}:{}:{}", c.published, c.seq, s.id)),
        );
    }
    assert_eq!(ids.len() as u64, stats.stories);
    seen.extend(ids);
    for section in SECTIONS {
        let req = FeedRequest {
            limit: Some(100),
            ..FeedRequest::default()
        };
        let doc = feeds::build(
            config,
            store,
            &Target::Section(section.into()),
            Format::Atom,
            &req,
        )
        .await
        .unwrap();
        seen.push(feedmerge::export::render(&doc, Format::Atom));
    }
    for s in store.source_status().await.unwrap() {
        let state = store.poll_state(&s.name).await.unwrap();
        seen.push(format!("{s:?} {state:?}"));
        let links: Vec<String> = (0..STORIES / 100)
            .map(|n| format!("https://news.example/{}", n * 100))
            .collect();
        let mut pages: Vec<String> = store
            .article_pages(&s.name, &links)
            .await
            .unwrap()
            .into_iter()
            .map(|(k, v)| format!("{k} {v:?}"))
            .collect();
        pages.sort();
        seen.extend(pages);
    }
    seen.push(format!("{:?}", store.stored_sections().await.unwrap()));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_ten_thousand_stories_round_trips_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let original = Arc::new(SqliteStore::open(&dir.path().join("a.db")).unwrap());
    generate(&original).await;
    let before = observe(&*original, &config).await;
    assert_eq!(before[0], "stories 10001 tombstones 299");

    let back = Arc::new(SqliteStore::open(&dir.path().join("b.db")).unwrap());
    let from = Endpoint::Sqlite(Arc::clone(&original));
    let to_sqlite = Endpoint::Sqlite(Arc::clone(&back));
    let mut pg_schema = None;
    if let Some(url) = backends::pg_url("migrate") {
        let (pg, base, schema) = backends::pg_store(&url, "migrate").await;
        let started = std::time::Instant::now();
        let report = copy::copy(&from, &Endpoint::Postgres(Arc::clone(&pg)), |_, _| {})
            .await
            .unwrap();
        eprintln!(
            "SQLite -> PostgreSQL: {report:?} in {:?}",
            started.elapsed()
        );
        assert_eq!(
            observe(&*pg, &config).await,
            before,
            "PostgreSQL serves the same"
        );
        let started = std::time::Instant::now();
        copy::copy(&Endpoint::Postgres(Arc::clone(&pg)), &to_sqlite, |_, _| {})
            .await
            .unwrap();
        eprintln!("PostgreSQL -> SQLite in {:?}", started.elapsed());
        // New rows after the copy get fresh ids (the sequences moved on).
        let mut fresh = item(0, STORIES + 1);
        fresh.key = "new".into();
        let summary = pg
            .record_poll(
                "s0",
                PollRecord {
                    at: t0(),
                    next_check: t0(),
                    moved_to: None,
                    articles: vec![],
                    result: PollResult::Fetched {
                        validators: Validators::default(),
                        status: 200,
                        meta: FeedMeta::default(),
                        items: vec![fresh],
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!(summary.new_stories, 1);
        let err = copy::copy(&from, &Endpoint::Postgres(Arc::clone(&pg)), |_, _| {})
            .await
            .unwrap_err();
        assert!(matches!(err, CopyError::NotEmpty("sources")), "{err}");
        pg_schema = Some((base, schema));
    } else {
        copy::copy(&from, &to_sqlite, |_, _| {}).await.unwrap();
    }
    assert_eq!(
        observe(&*back, &config).await,
        before,
        "and back: the same bytes"
    );
    // Keyword search works on the copy: its search index is rebuilt.
    let found = back
        .stories(&StoryQuery {
            q: Some("summary 4321".into()),
            limit: 10,
            ..StoryQuery::default()
        })
        .await
        .unwrap();
    assert!(
        found.iter().any(|s| s.title.starts_with("Story 4321 ")),
        "q= finds a copied story: {:?}",
        found.iter().map(|s| &s.title).collect::<Vec<_>>()
    );
    let err = copy::copy(&from, &to_sqlite, |_, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    if let Some((base, schema)) = pg_schema {
        backends::drop_schema(&base, &schema).await;
    }
}

#[test]
fn the_command_copies_a_file_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&a).unwrap();
        store
            .register_sources(&[SourceSpec {
                name: "s0".into(),
                url: "https://s0.example/feed".into(),
                title: None,
            }])
            .await
            .unwrap();
        store.close();
    });
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
            .args(["migrate-store", "--from"])
            .arg(&a)
            .arg("--to")
            .arg(&b)
            .output()
            .unwrap()
    };
    let first = run();
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.contains("sources: 1 rows"), "{out}");
    let second = run();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("not empty"), "{err}");
}
