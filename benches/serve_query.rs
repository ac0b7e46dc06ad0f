//! Filtered selections at the size (#14), without HTTP: the time
//! `feeds::select` takes for random `q`, `source`, `lang` and `since`
//! filters of «Политика», with and without a `before` cursor, over a store
//! of `BENCH_SOURCES` × `BENCH_ITEMS` stories (default 1,000 × 1,000)
//! written through the real write path (`Store::record_poll`) with the
//! shape of `serve_load`'s stub site. The baseline, measured in the same
//! run: the unfiltered section page.
//!
//! `cargo bench --bench serve_query`. Env: BENCH_SOURCES, BENCH_ITEMS,
//! BENCH_QUERIES (per kind, 300), BENCH_DB (a path: the store is kept there
//! and reused by the next run instead of being filled again).

#[allow(dead_code)]
#[path = "serve_load/site.rs"]
mod site;

use chrono::{DateTime, Utc};
use feedmerge::config::Config;
use feedmerge::feeds::{self, FeedRequest, Target};
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{Cursor, PollRecord, PollResult, SourceSpec, Store};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The same item `site::feed` writes for source `n`, item `i`.
fn item(n: usize, i: usize, items: usize) -> Item {
    let span = 2 * 365 * 24 * 3600 / items.max(1) as i64;
    let at = 1_733_000_000_i64 - i as i64 * span - (n as i64 * 37) % span.max(1);
    let at = DateTime::from_timestamp(at, 0).unwrap_or_default();
    let w = |k: usize| site::WORDS[(n * 7 + i * 13 + k * 5) % site::WORDS.len()];
    let link = format!("https://agency{n}.example/news/{i}");
    Item {
        key: link.clone(),
        story_key: format!("link:{link}"),
        guid: Some(link.clone()),
        link: Some(link),
        title: format!("{} и {}: {} {i} агентства {n}", w(0), w(1), w(2)),
        summary: Some(format!(
            "<p>Сообщение о том, что {} и {} обсуждались, <b>подробности</b> в материале.</p>",
            w(3),
            w(4)
        )),
        content: None,
        authors: vec![],
        categories: vec![],
        sections: vec![site::section_of(n).into()],
        published: Some(at),
        updated: Some(at),
        language: Some(site::LANGS[n % site::LANGS.len()].into()),
        enclosures: vec![],
        content_hash: format!("h{n}.{i}"),
    }
}

fn config_text(db: &Path, sources: usize) -> String {
    let mut toml = format!(
        "[storage]\npath = \"{}\"\n\n[sections]\n\"Политика\" = [\"Politics\"]\n\n",
        db.display()
    );
    for n in 0..sources {
        toml.push_str(&format!(
            "[[source]]\nname = \"f{n}\"\nurl = \"http://127.0.0.1:9/f/{n}.rss\"\nsection = \"{}\"\n\n",
            site::section_of(n)
        ));
    }
    toml
}

async fn fill(store: &SqliteStore, sources: usize, items: usize) {
    let started = Instant::now();
    for n in 0..sources {
        let record = PollRecord {
            at: Utc::now(),
            next_check: Utc::now() + chrono::Duration::hours(6),
            moved_to: None,
            result: PollResult::Fetched {
                validators: Validators::default(),
                status: 200,
                meta: FeedMeta {
                    title: Some(format!("Агентство {n}")),
                    ..FeedMeta::default()
                },
                items: (0..items).map(|i| item(n, i, items)).collect(),
            },
            articles: Vec::new(),
        };
        store
            .record_poll(&format!("f{n}"), record)
            .await
            .expect("write");
    }
    println!(
        "  filled {} stories in {:.1} s",
        sources * items,
        started.elapsed().as_secs_f64()
    );
}

/// A small deterministic generator (xorshift), so runs compare.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One random request of `kind` (0 q, 1 source, 2 lang, 3 since, 4 none),
/// a third of them paged from a random point of the two years.
fn request(kind: usize, rng: &mut Rng, sources: usize) -> FeedRequest {
    let mut req = FeedRequest {
        limit: Some(10 + rng.below(91)),
        ..FeedRequest::default()
    };
    match kind {
        0 => req.q = Some(site::WORDS[rng.below(site::WORDS.len())].into()),
        1 => req.sources = vec![format!("f{}", rng.below(sources))],
        2 => req.lang = Some(site::LANGS[rng.below(site::LANGS.len())].into()),
        3 => {
            let days = rng.below(700) as i64;
            req.since = DateTime::from_timestamp(1_733_000_000 - days * 86_400, 0);
        }
        _ => {}
    }
    if rng.below(3) == 0 {
        let back = rng.below(700) as i64 * 86_400;
        req.before = Some(Cursor {
            published: 1_733_000_000 - back,
            seq: i64::MAX,
        });
    }
    req
}

fn pick(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (sources, items) = (env("BENCH_SOURCES", 1000), env("BENCH_ITEMS", 1000));
    let per_kind = env("BENCH_QUERIES", 300);
    let tmp = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = std::env::var_os("BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("store.db"));
    let reuse = db.exists();
    let config =
        Config::parse(&config_text(&db, sources), Path::new("bench.toml")).expect("config");
    let store = SqliteStore::open(&db).expect("open store");
    let specs: Vec<SourceSpec> = config
        .sources
        .iter()
        .map(|s| SourceSpec {
            name: s.name.clone(),
            url: s.url.clone(),
            title: s.title.clone(),
        })
        .collect();
    store.register_sources(&specs).await.expect("register");
    println!("serve_query: {sources} sources × {items} items, {per_kind} random requests per kind");
    if reuse {
        println!("  reusing {}", db.display());
    } else {
        fill(&store, sources, items).await;
    }
    let target = Target::Section("Политика".into());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Warm the page cache the way a running daemon's would be.
    for kind in 0..5 {
        let _ = feeds::select(&config, &store, &target, &request(kind, &mut rng, sources)).await;
    }
    for (kind, name) in [
        (4, "baseline: unfiltered section page"),
        (0, "q= (random word)"),
        (1, "source= (random source)"),
        (2, "lang="),
        (3, "since="),
    ] {
        let mut times = Vec::with_capacity(per_kind);
        let mut entries = 0;
        for _ in 0..per_kind {
            let req = request(kind, &mut rng, sources);
            let t = Instant::now();
            let sel = feeds::select(&config, &store, &target, &req)
                .await
                .expect("select");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            entries += sel.stories.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {name:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({:.0} entries per page)",
            pick(&times, 0.5),
            pick(&times, 0.99),
            pick(&times, 1.0),
            entries as f64 / per_kind as f64
        );
    }
    store.close();
}
