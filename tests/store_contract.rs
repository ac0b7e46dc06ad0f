//! One contract for the `Store` seam, run against every backend: SQLite
//! always, PostgreSQL when `FEEDMERGE_TEST_PG_URL` is set (a test without
//! it says PostgreSQL was skipped and why). Each test body records what it
//! observed; besides its own assertions, the backends must observe the
//! same, so PostgreSQL answers exactly as SQLite does (ids, order, counts).

#[path = "store_contract/backends.rs"]
mod backends;

use backends::{Backend, backends};
use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use feedmerge::model::article::ArticleExtract;
use feedmerge::model::ids::story_uid;
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::{
    ArticleOutcome, Cursor, PollRecord, PollResult, SourceSpec, Store, StoreError, StoryQuery,
    WriteSummary,
};
use std::sync::Arc;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn spec(name: &str) -> SourceSpec {
    SourceSpec {
        name: name.into(),
        url: format!("https://{name}.example/feed"),
        title: None,
    }
}

/// Story `n` as source `source` lists it, in `sections`.
fn item(source: &str, n: u32, sections: &[&str]) -> Item {
    Item {
        key: format!("{source}-{n}"),
        story_key: format!("link:https://news.example/{n}"),
        guid: Some(format!("{source}-{n}")),
        link: Some(format!("https://news.example/{n}")),
        title: format!("Story {n}"),
        summary: Some(format!("<p>Summary {n}</p>")),
        content: None,
        authors: vec!["Ann".into()],
        categories: sections.iter().map(|s| s.to_string()).collect(),
        sections: sections.iter().map(|s| s.to_string()).collect(),
        // Every third pair shares a date, so ties are broken by sequence.
        published: Some(t0() - Span::hours(i64::from(n / 3 * 3))),
        updated: None,
        language: Some("en".into()),
        enclosures: vec![],
        content_hash: format!("hash-{n}"),
    }
}

fn fetched(at: DateTime<Utc>, items: Vec<Item>) -> PollRecord {
    PollRecord {
        at,
        next_check: at + Span::minutes(15),
        moved_to: None,
        articles: Vec::new(),
        result: PollResult::Fetched {
            validators: Validators {
                etag: Some("\"v1\"".into()),
                last_modified: Some("Sun, 01 Mar 2026 12:00:00 GMT".into()),
            },
            status: 200,
            meta: FeedMeta::default(),
            items,
        },
    }
}

async fn poll(
    store: &dyn Store,
    source: &str,
    at: DateTime<Utc>,
    items: Vec<Item>,
) -> WriteSummary {
    store.record_poll(source, fetched(at, items)).await.unwrap()
}

fn query(keys: &[&str], limit: usize) -> StoryQuery {
    StoryQuery {
        section_keys: keys.iter().map(|k| k.to_string()).collect(),
        limit,
        ..StoryQuery::default()
    }
}

/// Runs `body` on every backend and checks they all observed the same.
async fn contract<F, Fut>(test: &str, body: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let mut seen: Vec<(&'static str, Vec<String>)> = Vec::new();
    for backend in backends(test).await {
        let Backend { name, .. } = backend;
        let observed = body(Arc::clone(&backend.store)).await;
        seen.push((name, observed));
        backend.finish().await;
    }
    let (first, reference) = &seen[0];
    for (name, observed) in &seen[1..] {
        assert_eq!(observed, reference, "{name} differs from {first}");
    }
}

#[tokio::test]
async fn sources_are_registered_and_remember_their_validators() {
    contract("register", |store| async move {
        let mut log = Vec::new();
        store.register_sources(&[spec("a")]).await.unwrap();
        let fresh = store.poll_state("a").await.unwrap();
        assert_eq!(fresh.validators, Validators::default());
        poll(&*store, "a", t0(), vec![item("a", 1, &["World"])]).await;
        let state = store.poll_state("a").await.unwrap();
        assert_eq!(state.validators.etag.as_deref(), Some("\"v1\""));
        log.push(format!("{:?}", state));
        // The same URL keeps them; a new URL is another feed.
        store.register_sources(&[spec("a")]).await.unwrap();
        assert_eq!(store.poll_state("a").await.unwrap(), state);
        let mut moved = spec("a");
        moved.url = "https://a.example/other".into();
        store.register_sources(&[moved]).await.unwrap();
        assert_eq!(
            store.poll_state("a").await.unwrap().validators,
            Validators::default()
        );
        let err = store
            .record_poll("nope", fetched(t0(), vec![]))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::UnknownSource(ref n) if n == "nope"),
            "{err}"
        );
        log.push(err.to_string());
        log
    })
    .await;
}

#[tokio::test]
async fn pages_follow_one_order_without_gaps_or_repeats() {
    contract("paging", |store| async move {
        let mut log = Vec::new();
        store.register_sources(&[spec("a")]).await.unwrap();
        let items = (0..30)
            .map(|n| item("a", n, if n % 2 == 0 { &["World"] } else { &["Sport"] }))
            .collect();
        let s = poll(&*store, "a", t0(), items).await;
        assert_eq!(s.new_stories, 30);
        for keys in [&[][..], &["world"][..], &["world", "sport"][..]] {
            let mut q = query(keys, 7);
            let mut all: Vec<(Cursor, String)> = Vec::new();
            loop {
                let page = store.story_page(&q).await.unwrap();
                let Some((last, _)) = page.last() else { break };
                q.before = Some(*last);
                all.extend(page.iter().map(|(c, s)| (*c, s.id.clone())));
            }
            let expected = if keys.len() == 1 { 15 } else { 30 };
            assert_eq!(all.len(), expected, "{keys:?}");
            assert!(
                all.windows(2).all(|w| w[0].0 > w[1].0),
                "strictly newest first"
            );
            log.push(format!(
                "{keys:?}: {:?}",
                all.iter().map(|a| &a.1).collect::<Vec<_>>()
            ));
        }
        let page = store.stories(&query(&["world"], 1)).await.unwrap();
        // 0 and 2 share the newest date: the later-stored one comes first.
        assert_eq!(page[0].id, story_uid("link:https://news.example/2"));
        assert_eq!(page[0].source.name, "a");
        assert_eq!(page[0].authors, ["Ann"]);
        let since = StoryQuery {
            since: Some(t0() - Span::hours(3)),
            ..query(&[], 100)
        };
        log.push(format!(
            "since: {}",
            store.stories(&since).await.unwrap().len()
        ));
        let by_source = StoryQuery {
            sources: vec!["b".into()],
            ..query(&[], 100)
        };
        assert!(store.stories(&by_source).await.unwrap().is_empty());
        log
    })
    .await;
}

/// `q` and `lang` narrow the scan in the store, so a page of a rare
/// keyword is filled from the stories that hold it (a store that left the
/// keyword to its caller would hand back the newest stories, none of them
/// matching), with the keyword's words matched as word prefixes after
/// Unicode folding (Cyrillic case, Azerbaijani `İ`), in title or summary.
#[tokio::test]
async fn keyword_and_language_filters_narrow_the_scan_in_the_store() {
    contract("keyword", |store| async move {
        let mut log = Vec::new();
        store.register_sources(&[spec("a")]).await.unwrap();
        let mut items: Vec<Item> = (0..40).map(|n| item("a", n, &["World"])).collect();
        // The oldest stories carry the rare words.
        items[39].title = "Парламент принял БЮДЖЕТ на 2027 год".into();
        items[38].summary = Some("<p>В İstanbul обсудили <b>бюджетный</b> процесс</p>".into());
        items[37].language = Some("az_AZ".into());
        items[36].language = Some("AZ".into());
        let s = poll(&*store, "a", t0(), items).await;
        assert_eq!(s.new_stories, 40);
        let titles = |page: Vec<feedmerge::model::Story>| -> Vec<String> {
            page.into_iter().map(|s| s.title).collect()
        };
        for keyword in [
            "бюджет",
            "Бюдж",
            "istanbul",
            "İSTANBUL",
            "бюджет 2027",
            "нет такого",
        ] {
            let q = StoryQuery {
                q: Some(keyword.into()),
                ..query(&["world"], 2)
            };
            let found = titles(store.stories(&q).await.unwrap());
            log.push(format!("q={keyword}: {found:?}"));
        }
        assert_eq!(
            log[0],
            "q=бюджет: [\"Story 38\", \"Парламент принял БЮДЖЕТ на 2027 год\"]"
        );
        assert_eq!(log[2], "q=istanbul: [\"Story 38\"]");
        assert_eq!(log[5], "q=нет такого: []");
        let in_az = StoryQuery {
            lang: Some("az".into()),
            ..query(&[], 5)
        };
        let found = titles(store.stories(&in_az).await.unwrap());
        assert_eq!(
            found,
            ["Story 37", "Story 36"],
            "az and AZ, az_AZ; a tie goes to the later stored"
        );
        log.push(format!("lang=az: {found:?}"));
        log
    })
    .await;
}

#[tokio::test]
async fn one_story_from_two_sources_is_one_story_in_both_sections() {
    contract("merge", |store| async move {
        let mut log = Vec::new();
        store
            .register_sources(&[spec("a"), spec("b")])
            .await
            .unwrap();
        let first = poll(&*store, "a", t0(), vec![item("a", 1, &["World"])]).await;
        let second = poll(&*store, "b", t0(), vec![item("b", 1, &["Politics"])]).await;
        assert_eq!((first.new_stories, second.merged), (1, 1));
        for key in ["world", "politics"] {
            let got = store.stories(&query(&[key], 10)).await.unwrap();
            assert_eq!(got.len(), 1, "{key}");
            assert_eq!(got[0].source.name, "a", "the first source delivered it");
        }
        let stats = store
            .feed_stats(&["world".into(), "politics".into()])
            .await
            .unwrap();
        assert_eq!(stats.stories, 1);
        log.push(format!("{stats:?}"));
        log.push(format!("{:?}", store.stored_sections().await.unwrap()));
        assert_eq!(
            store.stored_section("politics").await.unwrap().as_deref(),
            Some("Politics")
        );
        assert_eq!(store.stored_section("none").await.unwrap(), None);
        // Re-sent unchanged, then edited.
        let again = poll(&*store, "a", t0(), vec![item("a", 1, &["World"])]).await;
        assert_eq!(again.unchanged, 1);
        let mut edited = item("a", 1, &["World", "Europe"]);
        edited.title = "Story 1, corrected".into();
        edited.content_hash = "hash-1b".into();
        let edit = poll(&*store, "a", t0() + Span::hours(1), vec![edited]).await;
        assert_eq!(edit.updated, 1);
        let got = store.stories(&query(&["europe"], 10)).await.unwrap();
        assert_eq!(got[0].title, "Story 1, corrected");
        log.push(format!("{:?}", got[0]));
        log
    })
    .await;
}

#[tokio::test]
async fn two_sources_writing_the_same_stories_at_once_merge_them() {
    contract("race", |store| async move {
        store
            .register_sources(&[spec("a"), spec("b")])
            .await
            .unwrap();
        let items = |src: &str, section: &'static str| -> Vec<Item> {
            (0..60).map(|n| item(src, n, &[section])).collect()
        };
        let (a, b) = tokio::join!(
            store.record_poll("a", fetched(t0(), items("a", "World"))),
            store.record_poll("b", fetched(t0(), items("b", "Politics")))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.new_stories + b.new_stories, 60, "{a:?} {b:?}");
        assert_eq!(a.merged + b.merged, 60, "{a:?} {b:?}");
        let world = store.stories(&query(&["world"], 100)).await.unwrap();
        let politics = store.stories(&query(&["politics"], 100)).await.unwrap();
        let all = store.stories(&query(&[], 100)).await.unwrap();
        assert_eq!((world.len(), politics.len(), all.len()), (60, 60, 60));
        let mut ids: Vec<String> = all.into_iter().map(|s| s.id).collect();
        ids.sort();
        ids
    })
    .await;
}

#[tokio::test]
async fn failures_count_until_a_success_and_status_shows_them() {
    contract("status", |store| async move {
        store
            .register_sources(&[spec("a"), spec("b")])
            .await
            .unwrap();
        let failed = |at| PollRecord {
            at,
            next_check: at + Span::minutes(30),
            moved_to: Some("https://a.example/moved".into()),
            articles: Vec::new(),
            result: PollResult::Failed {
                status: Some(503),
                error: "HTTP 503".into(),
            },
        };
        store.record_poll("a", failed(t0())).await.unwrap();
        let s = store
            .record_poll("a", failed(t0() + Span::hours(1)))
            .await
            .unwrap();
        assert_eq!(s.consecutive_failures, 2);
        assert_eq!(s.failing_since, Some(t0()));
        assert_eq!(store.poll_state("a").await.unwrap().consecutive_failures, 2);
        let status = store.source_status().await.unwrap();
        let a = &status[0];
        assert_eq!(
            (a.name.as_str(), a.last_status, a.consecutive_failures),
            ("a", Some(503), 2)
        );
        assert_eq!(a.last_error.as_deref(), Some("HTTP 503"));
        assert_eq!(a.moved_to.as_deref(), Some("https://a.example/moved"));
        let mut log = vec![format!("{status:?}")];
        let ok = PollRecord {
            result: PollResult::NotModified,
            moved_to: None,
            ..failed(t0() + Span::hours(2))
        };
        store.record_poll("a", ok).await.unwrap();
        let a = store.source_status().await.unwrap().remove(0);
        assert_eq!(
            (
                a.consecutive_failures,
                a.last_status,
                a.last_error.as_deref()
            ),
            (0, Some(304), None)
        );
        assert_eq!(
            a.next_check,
            Some(t0() + Span::hours(2) + Span::minutes(30))
        );
        log.push(format!("{a:?}"));
        log
    })
    .await;
}

#[tokio::test]
async fn purged_stories_leave_tombstones_that_keep_them_out_then_expire() {
    contract("retention", |store| async move {
        let mut log = Vec::new();
        store
            .register_sources(&[spec("a"), spec("b")])
            .await
            .unwrap();
        poll(
            &*store,
            "a",
            t0(),
            (0..12).map(|n| item("a", n, &["World"])).collect(),
        )
        .await;
        let before = t0() - Span::hours(5);
        let batch = store.purge_stories(before, t0(), 4).await.unwrap();
        assert_eq!(batch.stories, 4);
        assert_eq!(batch.sections, ["World"]);
        let rest = store.purge_stories(before, t0(), 100).await.unwrap();
        assert_eq!(rest.stories, 2, "stories 6 to 11 are 6 hours old or more");
        let stats = store.store_stats().await.unwrap();
        assert_eq!((stats.stories, stats.tombstones), (6, 6));
        // A feed that still lists them (this source or another) is not
        // stored again.
        let s = poll(
            &*store,
            "a",
            t0(),
            (0..12).map(|n| item("a", n, &["World"])).collect(),
        )
        .await;
        assert_eq!((s.unchanged, s.tombstoned), (6, 6));
        let s = poll(&*store, "b", t0(), vec![item("b", 11, &["World"])]).await;
        assert_eq!(s.tombstoned, 1);
        log.push(format!(
            "{:?}",
            store.stories(&query(&["world"], 100)).await.unwrap().len()
        ));
        let expired = store
            .expire_tombstones(t0() + Span::days(2), 4)
            .await
            .unwrap();
        assert_eq!(expired, 4);
        let expired = store
            .expire_tombstones(t0() + Span::days(2), 100)
            .await
            .unwrap();
        assert_eq!(expired, 2);
        assert_eq!(store.store_stats().await.unwrap().tombstones, 0);
        let reclaimed = store.reclaim_space(16, 0.0).await.unwrap();
        log.push(format!("reclaim asked: {}", reclaimed.pages <= 16));
        log
    })
    .await;
}

#[tokio::test]
async fn article_pages_remember_successes_and_count_failures() {
    contract("articles", |store| async move {
        store.register_sources(&[spec("a")]).await.unwrap();
        let extract = ArticleExtract {
            title: Some("Full title".into()),
            content: Some("<p>Body</p>".into()),
            ..ArticleExtract::default()
        };
        for round in 0..2 {
            let mut record = fetched(t0() + Span::hours(round), vec![]);
            record.articles = vec![
                ArticleOutcome {
                    link: "https://news.example/ok".into(),
                    result: if round == 0 {
                        Ok(extract.clone())
                    } else {
                        Err("HTTP 500".into())
                    },
                },
                ArticleOutcome {
                    link: "https://news.example/bad".into(),
                    result: Err("timed out".into()),
                },
            ];
            store.record_poll("a", record).await.unwrap();
        }
        let links: Vec<String> = ["ok", "bad", "never"]
            .iter()
            .map(|l| format!("https://news.example/{l}"))
            .collect();
        let pages = store.article_pages("a", &links).await.unwrap();
        assert_eq!(pages.len(), 2, "a link never tried is absent");
        let ok = &pages["https://news.example/ok"];
        assert_eq!(ok.extract.as_ref(), Some(&extract), "a success is kept");
        assert_eq!(ok.attempts, 1);
        assert_eq!(pages["https://news.example/bad"].attempts, 2);
        assert!(pages["https://news.example/bad"].extract.is_none());
        let mut seen: Vec<String> = pages.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
        seen.sort();
        seen
    })
    .await;
}

fn on_host(name: &str, host: &str) -> SourceSpec {
    SourceSpec {
        name: name.into(),
        url: format!("https://{host}/{name}.xml"),
        title: None,
    }
}

#[tokio::test]
async fn claims_take_each_due_source_once_per_lease_and_cap_each_host() {
    contract("claims", |store| async move {
        let mut log = Vec::new();
        let specs: Vec<SourceSpec> = (0..4)
            .map(|i| on_host(&format!("x{i}"), "x.example"))
            .chain((0..2).map(|i| on_host(&format!("y{i}"), "y.example")))
            .collect();
        store.register_sources(&specs).await.unwrap();
        let lease = std::time::Duration::from_secs(90);
        let names = |l: &[feedmerge::store::Lease]| {
            let mut n: Vec<String> = l.iter().map(|l| l.source.clone()).collect();
            n.sort();
            n
        };
        let first = store.claim_due("w1", t0(), lease, 10, 2).await.unwrap();
        assert_eq!(names(&first), ["x0", "x1", "y0", "y1"], "two per host");
        let second = store.claim_due("w2", t0(), lease, 10, 2).await.unwrap();
        assert_eq!(
            names(&second),
            ["x2", "x3"],
            "the rest, never a claimed one"
        );
        assert!(
            store
                .claim_due("w3", t0(), lease, 10, 2)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(second.iter().all(|l| l.worker == "w2" && l.due.is_none()));
        // A poll moves the source's due time on; the others' leases end.
        let mut record = fetched(t0(), vec![]);
        record.next_check = t0() + Span::hours(1);
        store.record_claimed_poll(&first[0], record).await.unwrap();
        let later = t0() + Span::seconds(91);
        let again = store.claim_due("w2", later, lease, 10, 10).await.unwrap();
        assert_eq!(
            again.len(),
            5,
            "every lease but the polled source's ran out"
        );
        assert!(!names(&again).contains(&first[0].source));
        let retried = again.iter().find(|l| l.source == "x2").unwrap();
        assert_eq!(
            retried.due,
            Some(t0() + Span::seconds(90)),
            "due when the lease ended"
        );
        log.push(format!(
            "{:?} {:?} {:?}",
            names(&first),
            names(&second),
            names(&again)
        ));
        log
    })
    .await;
}

/// PostgreSQL only: SQLite has one poller, so no lease is ever lost there.
#[tokio::test]
async fn a_worker_that_lost_its_lease_writes_nothing() {
    let Some(url) = backends::pg_url("fencing") else {
        return;
    };
    let (store, url, schema) = backends::pg_store(&url, "fencing").await;
    store.register_sources(&[spec("a")]).await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    let stale = store
        .claim_due("paused", t0(), lease, 1, 1)
        .await
        .unwrap()
        .remove(0);
    // The paused worker's lease ends; another worker claims and polls.
    let later = t0() + Span::seconds(61);
    let fresh = store
        .claim_due("live", later, lease, 1, 1)
        .await
        .unwrap()
        .remove(0);
    assert!(fresh.epoch > stale.epoch);
    let status = store.source_status().await.unwrap().remove(0);
    assert_eq!(
        status.lease_holder.as_deref(),
        None,
        "t0 is in the past: no live lease"
    );
    store
        .record_claimed_poll(&fresh, fetched(later, vec![item("a", 1, &["World"])]))
        .await
        .unwrap();
    // The paused worker wakes up and tries to write its old result.
    let err = store
        .record_claimed_poll(&stale, fetched(t0(), vec![item("a", 2, &["World"])]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::LeaseLost { ref name } if name == "a"),
        "{err}"
    );
    let stories = store.stories(&query(&[], 10)).await.unwrap();
    assert_eq!(stories.len(), 1, "only the live worker's story");
    assert_eq!(stories[0].title, "Story 1");
    let status = store.source_status().await.unwrap().remove(0);
    assert_eq!(status.polled_by.as_deref(), Some("live"));
    assert_eq!(
        status.last_attempt,
        Some(later),
        "the stale write left no trace"
    );
    drop(store);
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[tokio::test]
async fn cluster_membership_is_recorded_shown_and_explained() {
    use feedmerge::store::cluster::{ClusterMember, ClusterView};
    contract("clusters", |store| async move {
        let mut log = Vec::new();
        store
            .register_sources(&[spec("a"), spec("b")])
            .await
            .unwrap();
        poll(&*store, "a", t0(), vec![item("a", 1, &["World"])]).await;
        poll(&*store, "b", t0(), vec![item("b", 2, &["World"])]).await;
        let since = t0() - Span::days(2);
        let window = store.cluster_window(since, None).await.unwrap();
        assert_eq!(window.len(), 2);
        assert!(window.iter().all(|s| s.member.is_none()));
        assert_eq!(window[1].source, "b");
        let (first, other) = (window[0].id, window[1].id);
        // Unplaced stories above an id: what a run after a poll reads.
        let above = store.cluster_window(since, Some(first)).await.unwrap();
        assert_eq!(above.iter().map(|s| s.id).collect::<Vec<_>>(), [other]);
        let member = |story_id, rule: &str| ClusterMember {
            story_id,
            cluster_id: first,
            rule: rule.into(),
            score: 0.875,
        };
        store
            .record_cluster_members(&[member(first, "first"), member(other, "reprint")])
            .await
            .unwrap();
        assert!(
            store
                .cluster_window(since, Some(0))
                .await
                .unwrap()
                .is_empty()
        );
        let views = store
            .cluster_views(&[first, other], &["world".into()], &[])
            .await
            .unwrap();
        assert_eq!(views.get(&other), Some(&ClusterView::Hidden));
        let Some(ClusterView::First(related)) = views.get(&first) else {
            panic!("{views:?}")
        };
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].link.as_deref(), Some("https://news.example/2"));
        assert_eq!(related[0].summary.as_deref(), Some("<p>Summary 2</p>"));
        log.push(format!("{related:?}"));
        // A feed of b alone does not show the first report (a's), so it
        // shows b's; one of a keeps it hidden.
        let of = |sources: &[&str]| {
            let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
            let store = &store;
            async move {
                store
                    .cluster_views(&[other], &["world".into()], &sources)
                    .await
                    .unwrap()
            }
        };
        assert!(of(&["b"]).await.is_empty());
        assert_eq!(
            of(&["a", "b"]).await.get(&other),
            Some(&ClusterView::Hidden)
        );
        let (story, members) = store
            .cluster_of("https://news.example/2")
            .await
            .unwrap()
            .expect("found by link");
        assert_eq!(story.id, other);
        assert_eq!(members.len(), 2);
        let m = story.member.expect("member");
        assert_eq!(
            (m.cluster_id, m.rule.as_str(), m.score),
            (first, "reprint", 0.875)
        );
        log.push(format!("{members:?}"));
        assert!(
            store
                .cluster_of("https://nowhere.example/")
                .await
                .unwrap()
                .is_none()
        );
        log
    })
    .await;
}

#[tokio::test]
async fn a_purged_first_report_frees_its_members() {
    use feedmerge::store::cluster::ClusterMember;
    contract("cluster_purge", |store| async move {
        store
            .register_sources(&[spec("a"), spec("b"), spec("c")])
            .await
            .unwrap();
        // Story 3 is dated 3 h before 1 and 2; it is the first report.
        poll(&*store, "c", t0(), vec![item("c", 3, &["World"])]).await;
        poll(&*store, "a", t0(), vec![item("a", 1, &["World"])]).await;
        poll(&*store, "b", t0(), vec![item("b", 2, &["World"])]).await;
        let since = t0() - Span::days(2);
        let ids: Vec<i64> = store
            .cluster_window(since, None)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        let (first, a, b) = (ids[0], ids[1], ids[2]);
        let member = |story_id, rule: &str| ClusterMember {
            story_id,
            cluster_id: first,
            rule: rule.into(),
            score: 0.9,
        };
        store
            .record_cluster_members(&[member(first, "first"), member(a, "reprint")])
            .await
            .unwrap();
        let batch = store
            .purge_stories(t0() - Span::hours(1), t0(), 100)
            .await
            .unwrap();
        assert_eq!(batch.stories, 1);
        // a is free again, to be placed anew; b, placed into the purged
        // cluster afterwards, is recorded as a first report of its own.
        store
            .record_cluster_members(&[member(b, "reprint")])
            .await
            .unwrap();
        let window = store.cluster_window(since, None).await.unwrap();
        let rows: Vec<String> = window
            .iter()
            .map(|s| match &s.member {
                Some(m) => format!(
                    "{} in {} as {} ({})",
                    s.id - a,
                    m.cluster_id - a,
                    m.rule,
                    m.score
                ),
                None => format!("{} free", s.id - a),
            })
            .collect();
        assert_eq!(rows, ["0 free", "1 in 1 as first (1)"]);
        assert!(
            store
                .cluster_views(&[a, b], &[], &[])
                .await
                .unwrap()
                .is_empty()
        );
        rows
    })
    .await;
}

/// A PostgreSQL store from before the keyword column (schema version 2)
/// gets its stories' words at the next start, so `q` finds what it held.
#[tokio::test]
async fn an_older_postgres_store_gets_its_stories_words_at_start() {
    let Some(url) = backends::pg_url("words_migration") else {
        return;
    };
    let (store, base, schema) = backends::pg_store(&url, "words_migration").await;
    store.register_sources(&[spec("a")]).await.unwrap();
    let mut items: Vec<Item> = (0..10).map(|n| item("a", n, &["World"])).collect();
    items[9].title = "Парламент принял бюджет".into();
    poll(&*store, "a", t0(), items).await;
    drop(store);
    let scoped = backends::url_in_schema(&base, &schema);
    let client = backends::connect(&scoped).await.unwrap();
    client
        .batch_execute(
            "ALTER TABLE stories DROP COLUMN words; UPDATE schema_version SET version = 2;",
        )
        .await
        .unwrap();
    let store = feedmerge::store::postgres::PgStore::connect(&scoped, 2)
        .await
        .unwrap();
    let q = StoryQuery {
        q: Some("Бюджет".into()),
        ..query(&["world"], 2)
    };
    let found: Vec<String> = store
        .stories(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.title)
        .collect();
    assert_eq!(found, ["Парламент принял бюджет"]);
    let unfilled: i64 = client
        .query_one("SELECT COUNT(*) FROM stories WHERE words IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(unfilled, 0);
    drop(store);
    backends::drop_schema(&base, &schema).await;
}
