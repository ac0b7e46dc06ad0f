//! Retention benchmark: a year of ingest with `[storage] keep = "90d"`.
//!
//! 365 daily rounds; in each, every source delivers 30 new items (~2.5 KB
//! each, built as `normalize` leaves them, in the style of the ingest
//! benchmark's corpus: a Cyrillic title, 1–2 sections, ~2 KB of Cyrillic
//! HTML), written through the real store (`Store::record_poll`, all
//! sources at once as the daemon's scheduler does, so the writer groups
//! their commits) with the time injected (`PollRecord::at` on day d); then
//! the real purge (`store::retention::purge`) runs with `now` at the end of
//! that day, batches of 500 through the one writer.
//!
//! Printed: every 30 days the database size (file and WAL, after a
//! passive checkpoint such as the store's checkpointer makes every 2 s),
//! stories, tombstones and free space; the size after 90 days, when no purge has
//! had anything to delete yet (the size with no retention), beside the
//! final size (the bound should be about the 90-day size); and the purge's
//! time per day as a share of the round's write time. Figures, not
//! asserts: the bound is reported PASS/MISS.
//!
//! The database lives in the system temp dir (or `FEEDMERGE_BENCH_DIR`);
//! at 1,000 sources a 90-day store is ~8 GB and a year of writes ~11
//! million items, too much disk and time for this 2-core machine's
//! 10-minute budget, so the default is 100 sources (3,000 items a day,
//! 1.1 million in the year). `FEEDMERGE_BENCH_SOURCES=N` changes it,
//! `FEEDMERGE_BENCH_DAYS=N` the length.
//!
//! `FEEDMERGE_BENCH_KEEP_FREE=0` hands every free page back after each
//! purge instead of keeping `retention::KEEP_FREE` of the file free for
//! the next day's stories, to compare the two.
//!
//! Run: `cargo bench --bench retention`.

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::store::retention;
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{PollRecord, PollResult, SourceSpec, Store, StoreStats};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const DEFAULT_SOURCES: usize = 100;
const DEFAULT_DAYS: usize = 365;
const ITEMS_PER_DAY: usize = 30;
const KEEP_DAYS: i64 = 90;
/// Polls handed to the writer at once (the daemon's write slots).
const IN_FLIGHT: usize = 32;
const BODIES: usize = 256;
const SITES: usize = 50;

const WORDS: &str = "правительство министерство заявление решение бюджет экономика рынок \
     инфляция выборы депутаты законопроект регион город жители школа \
     больница строительство дорога транспорт компания производство экспорт \
     урожай погода температура исследование учёные университет театр \
     выставка фестиваль спортсмены чемпионат сборная победа встреча \
     переговоры соглашение проект программа развитие поддержка граждан \
     сегодня вчера по данным агентства сообщил отметил в на и что после \
     года месяца новый важный крупный";
const SECTIONS: [&str; 6] = [
    "Политика",
    "Экономика",
    "Общество",
    "Наука",
    "Спорт",
    "Культура",
];
const SLUGS: [&str; 6] = [
    "politika",
    "ekonomika",
    "obshchestvo",
    "nauka",
    "sport",
    "kultura",
];

/// Deterministic generator (Knuth's MMIX constants), as in `ingest`.
struct Lcg(u64);

impl Lcg {
    fn new(a: usize, b: usize, stream: u64) -> Lcg {
        let seed = ((a as u64) << 32 | b as u64) ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut lcg = Lcg(seed.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ 0x2545_F491_4F6C_DD1D);
        lcg.next();
        lcg
    }
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// ~2 KB of sanitized Cyrillic HTML: what normalize stores.
fn body(n: usize, words: &[&str]) -> String {
    let mut r = Lcg::new(n, 0, 7);
    let mut html = String::with_capacity(2400);
    while html.len() < 1750 {
        html.push_str("<p>");
        for w in 0..25 + r.below(20) {
            if w > 0 {
                html.push(' ');
            }
            let word = words[r.below(words.len())];
            let _ = match r.below(30) {
                0 => write!(html, "<b>{word}</b>"),
                1 => write!(
                    html,
                    "<a href=\"https://news{}.example/tag/{}\" rel=\"noopener noreferrer\">{word}</a>",
                    r.below(SITES),
                    r.below(1000)
                ),
                _ => write!(html, "{word}"),
            };
        }
        html.push_str(".</p>\n");
    }
    html
}

struct Corpus {
    words: Vec<&'static str>,
    bodies: Vec<Arc<str>>,
}

impl Corpus {
    fn new() -> Corpus {
        let words: Vec<&str> = WORDS.split_whitespace().collect();
        let bodies = (0..BODIES).map(|n| Arc::from(body(n, &words))).collect();
        Corpus { words, bodies }
    }

    /// Item `i` of source `s` on day `d`, published during that day.
    fn item(&self, s: usize, d: usize, i: usize, day_start: DateTime<Utc>) -> Item {
        let mut r = Lcg::new(s, d * ITEMS_PER_DAY + i, 2);
        let mut title = String::new();
        for w in 0..6 + r.below(5) {
            if w > 0 {
                title.push(' ');
            }
            title.push_str(self.words[r.below(self.words.len())]);
        }
        let first = r.below(SECTIONS.len());
        let mut sections = vec![SECTIONS[first].to_string()];
        if r.below(2) == 0 {
            sections
                .push(SECTIONS[(first + 1 + r.below(SECTIONS.len() - 1)) % SECTIONS.len()].into());
        }
        let link = format!(
            "https://news{}.example/{}/{s}/{d}/{i}",
            s % SITES,
            SLUGS[first]
        );
        let published = day_start + Span::seconds(((i * 86_400) / ITEMS_PER_DAY) as i64 + s as i64);
        let mut summary = String::new();
        for w in 0..20 + r.below(10) {
            if w > 0 {
                summary.push(' ');
            }
            summary.push_str(self.words[r.below(self.words.len())]);
        }
        let body = &self.bodies[r.below(BODIES)];
        Item {
            key: format!("feed{s}-day{d}-item{i}"),
            story_key: format!("link:{link}"),
            guid: Some(format!("feed{s}-day{d}-item{i}")),
            link: Some(link),
            title,
            summary: Some(format!("<p>{summary}.</p>")),
            content: Some(body.to_string()),
            authors: vec![format!("Редакция {s}")],
            categories: sections.clone(),
            sections,
            published: Some(published),
            updated: None,
            language: Some("ru".into()),
            enclosures: Vec::new(),
            content_hash: format!("{:016x}", r.next() << 31 ^ r.next()),
        }
    }
}

/// 1-minute load average and core count: figures taken while other
/// processes compete for the cores are inflated.
fn load_avg() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{} (1-min average) on {cores} cores",
        load.split_whitespace().next().unwrap_or("?")
    )
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn on_disk(s: &StoreStats) -> u64 {
    s.bytes + s.wal_bytes
}

/// What the store's checkpointer thread does every 2 s.
fn checkpoint(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).expect("checkpoint connection");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        .expect("checkpoint");
}

/// One day's round: every source's poll, `IN_FLIGHT` at a time.
async fn round(
    store: &Arc<SqliteStore>,
    corpus: &Arc<Corpus>,
    sources: usize,
    d: usize,
    day_start: DateTime<Utc>,
) {
    let mut tasks = JoinSet::new();
    for s in 0..sources {
        if tasks.len() >= IN_FLIGHT {
            tasks.join_next().await.expect("a task").expect("no panic");
        }
        let (store, corpus) = (Arc::clone(store), Arc::clone(corpus));
        tasks.spawn(async move {
            let items = (0..ITEMS_PER_DAY)
                .map(|i| corpus.item(s, d, i, day_start))
                .collect();
            let at = day_start + Span::hours(23) + Span::seconds(s as i64);
            let summary = store
                .record_poll(
                    &format!("feed{s}"),
                    PollRecord {
                        at,
                        next_check: at + Span::hours(24),
                        moved_to: None,
                        articles: Vec::new(),
                        result: PollResult::Fetched {
                            validators: Validators::default(),
                            status: 200,
                            meta: FeedMeta::default(),
                            items,
                        },
                    },
                )
                .await
                .expect("write");
            assert_eq!(summary.new_stories, ITEMS_PER_DAY, "every item is new");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("no panic");
    }
}

async fn run() {
    let sources = env_usize("FEEDMERGE_BENCH_SOURCES", DEFAULT_SOURCES);
    let days = env_usize("FEEDMERGE_BENCH_DAYS", DEFAULT_DAYS);
    let dir = match std::env::var_os("FEEDMERGE_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("tempdir");
    let path = dir.path().join("retention.db");
    let store = Arc::new(SqliteStore::open(&path).expect("store"));
    let specs: Vec<SourceSpec> = (0..sources)
        .map(|s| SourceSpec {
            name: format!("feed{s}"),
            url: format!("https://news{}.example/feed/{s}", s % SITES),
            title: None,
        })
        .collect();
    store.register_sources(&specs).await.expect("register");
    let corpus = Arc::new(Corpus::new());
    let keep = Duration::from_secs(KEEP_DAYS as u64 * 86_400);
    let keep_free = std::env::var("FEEDMERGE_BENCH_KEEP_FREE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(retention::KEEP_FREE);
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    println!("machine load at start: {}", load_avg());
    println!(
        "retention: {days} daily rounds of {sources} sources × {ITEMS_PER_DAY} new items \
         ({} a day, {} in all), keep = \"{KEEP_DAYS}d\", purge after each round",
        sources * ITEMS_PER_DAY,
        sources * ITEMS_PER_DAY * days
    );
    println!(
        "free space kept after a purge: {:.1}% of the file{}",
        keep_free * 100.0,
        if keep_free == 0.0 {
            " (every free page handed back)"
        } else {
            ""
        }
    );
    if sources != 1000 {
        println!(
            "note: scaled from the issue's 1,000 sources to {sources} (disk and the 10-minute budget); \
             sizes and times scale about linearly with sources"
        );
    }
    println!(
        "{:>5} {:>10} {:>10} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8}",
        "day",
        "stories",
        "tombstones",
        "file MiB",
        "WAL MiB",
        "free MiB",
        "write s",
        "purge s",
        "purge %"
    );

    let (mut write_total, mut purge_total) = (Duration::ZERO, Duration::ZERO);
    let mut reclaim_total = Duration::ZERO;
    let (mut write_window, mut purge_window) = (Duration::ZERO, Duration::ZERO);
    let mut purge_max = Duration::ZERO;
    let mut batch_max_avg = Duration::ZERO;
    let mut purged_days = 0usize;
    let mut share_sum = 0.0;
    let mut size_90 = None;
    let mut peak = 0u64;
    let bench_start = Instant::now();
    for d in 0..days {
        let day_start = start + Span::days(d as i64);
        if d == KEEP_DAYS as usize {
            checkpoint(&path);
            // Days 0..89 written, and no purge has had anything to delete:
            // the size a store without retention has after 90 days.
            size_90 = Some(store.store_stats().await.expect("stats"));
        }
        let t = Instant::now();
        round(&store, &corpus, sources, d, day_start).await;
        let write = t.elapsed();
        let now = day_start + Span::days(1);
        let report = retention::purge_keeping(store.as_ref(), keep, now, keep_free)
            .await
            .expect("purge");
        let purge = report.elapsed;
        write_total += write;
        purge_total += purge;
        reclaim_total += report.reclaim_elapsed;
        write_window += write;
        purge_window += purge;
        if report.stories > 0 {
            purged_days += 1;
            share_sum += purge.as_secs_f64() / write.as_secs_f64();
            purge_max = purge_max.max(purge);
            batch_max_avg = batch_max_avg.max(purge / report.batches.max(1) as u32);
        }
        // A simulated day passes in well under a second, where the daemon's
        // checkpointer (every 2 s) would copy the log back thousands of
        // times a day: one passive checkpoint stands for them.
        checkpoint(&path);
        let stats = store.store_stats().await.expect("stats");
        peak = peak.max(on_disk(&stats));
        if (d + 1) % 30 == 0 || d + 1 == days {
            println!(
                "{:>5} {:>10} {:>10} {:>9.1} {:>9.1} {:>9.1} {:>10.2} {:>10.2} {:>7.1}%",
                d + 1,
                stats.stories,
                stats.tombstones,
                mib(stats.bytes),
                mib(stats.wal_bytes),
                mib(stats.free_bytes),
                write_window.as_secs_f64(),
                purge_window.as_secs_f64(),
                100.0 * purge_window.as_secs_f64() / write_window.as_secs_f64()
            );
            write_window = Duration::ZERO;
            purge_window = Duration::ZERO;
        }
    }
    let last = store.store_stats().await.expect("stats");
    println!();
    println!(
        "write: {:.1} s for {} items ({:.0} items/s); purge: {:.1} s ({:.1}% of write time), \
         of which handing pages back {:.1} s",
        write_total.as_secs_f64(),
        sources * ITEMS_PER_DAY * days,
        (sources * ITEMS_PER_DAY * days) as f64 / write_total.as_secs_f64(),
        purge_total.as_secs_f64(),
        100.0 * purge_total.as_secs_f64() / write_total.as_secs_f64(),
        reclaim_total.as_secs_f64()
    );
    if purged_days > 0 {
        println!(
            "purge per day (on the {purged_days} days it deleted): mean {:.1}% of that day's round write time; \
             longest run {:.0} ms; longest mean batch ({} stories, one transaction) {:.1} ms",
            100.0 * share_sum / purged_days as f64,
            purge_max.as_secs_f64() * 1e3,
            retention::BATCH,
            batch_max_avg.as_secs_f64() * 1e3
        );
    }
    match size_90 {
        Some(at_90) => {
            let ratio = on_disk(&last) as f64 / on_disk(&at_90) as f64;
            println!(
                "size with no retention after {KEEP_DAYS} days: {:.1} MiB ({} stories); \
                 with keep = {KEEP_DAYS}d after {days} days: {:.1} MiB ({} stories, {} tombstones), \
                 {ratio:.2}× the {KEEP_DAYS}-day size; peak {:.1} MiB",
                mib(on_disk(&at_90)),
                at_90.stories,
                mib(on_disk(&last)),
                last.stories,
                last.tombstones,
                mib(peak)
            );
            println!(
                "  bound (final ≤ 1.25 × the {KEEP_DAYS}-day size): {}",
                if ratio <= 1.25 { "PASS" } else { "MISS" }
            );
            println!(
                "  without retention the store would hold {} stories after {days} days (~{:.0} MiB at the same bytes per story)",
                sources * ITEMS_PER_DAY * days,
                mib(on_disk(&at_90)) * days as f64 / KEEP_DAYS as f64
            );
        }
        None => println!("(fewer than {KEEP_DAYS} days: no comparison)"),
    }
    println!("machine load at end: {}", load_avg());
    println!(
        "bench wall time {:.0} s",
        bench_start.elapsed().as_secs_f64()
    );
    let closing = Arc::clone(&store);
    drop(store);
    let _ = tokio::task::spawn_blocking(move || closing.close()).await;
}

fn main() {
    feedmerge::alloc::limit_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
