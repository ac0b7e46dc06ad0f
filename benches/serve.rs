//! Serving benchmark: a 50-entry section feed over 100,000 stored stories,
//! 64 keep-alive connections on loopback, the load generator in this
//! process (so it shares the machine's cores with the server, as asked).
//!
//! Scenarios: a static route (baseline), 304s (`If-None-Match`), cached
//! 200s, and the first render after a poll changed the feed. Prints req/s
//! and median/p99 latency, and each as a ratio of the baseline.
//!
//! `cargo bench --bench serve` (env: BENCH_SECS, default 5 per scenario).

use chrono::{TimeZone, Utc};
use feedmerge::config::Config;
use feedmerge::model::FeedMeta;
use feedmerge::model::Item;
use feedmerge::model::Validators;
use feedmerge::server::{self, AppState};
use feedmerge::store::changes::Change;
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{PollRecord, PollResult, SourceSpec, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STORIES: usize = 100_000;
const CONNECTIONS: usize = 64;
const SECTION_PATH: &str = "/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom";

fn item(i: usize) -> Item {
    let at = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("date")
        + chrono::Duration::seconds(i as i64 * 60);
    let link = format!("https://bench.example/story/{i}");
    Item {
        key: link.clone(),
        story_key: format!("link:{link}"),
        guid: None,
        link: Some(link),
        title: format!("Новость номер {i}: заседание завершилось"),
        summary: Some(format!(
            "<p>Краткое содержание новости {i}, с <b>разметкой</b>.</p>"
        )),
        content: Some(format!(
            "<p>Полный текст новости {i}. {}</p>",
            "Текст абзаца. ".repeat(20)
        )),
        authors: vec!["Редакция".into()],
        categories: vec!["Политика".into()],
        sections: vec!["Политика".into()],
        published: Some(at),
        updated: Some(at),
        language: Some("ru".into()),
        enclosures: vec![],
        content_hash: format!("h{i}"),
    }
}

async fn fill(store: &SqliteStore, from: usize, to: usize) {
    let mut at = from;
    while at < to {
        let end = (at + 5_000).min(to);
        let record = PollRecord {
            at: Utc::now(),
            next_check: Utc::now() + chrono::Duration::hours(1),
            moved_to: None,
            result: PollResult::Fetched {
                validators: Validators::default(),
                status: 200,
                meta: FeedMeta {
                    title: Some("Bench".into()),
                    site_url: Some("https://bench.example/".into()),
                    ..FeedMeta::default()
                },
                items: (at..end).map(item).collect(),
            },
            articles: Vec::new(),
        };
        store.record_poll("bench", record).await.expect("write");
        at = end;
    }
}

/// Minimal HTTP/1.1 keep-alive client: one request at a time per
/// connection; returns the status code.
async fn request(conn: &mut TcpStream, req: &[u8], buf: &mut Vec<u8>) -> u16 {
    conn.write_all(req).await.expect("write");
    buf.clear();
    let mut chunk = [0u8; 64 * 1024];
    let header_end = loop {
        let n = conn.read(&mut chunk).await.expect("read");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = conn.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "short body");
        buf.extend_from_slice(&chunk[..n]);
    }
    status
}

struct Figures {
    rps: f64,
    median_us: u64,
    p99_us: u64,
}

fn figures(mut lat: Vec<u64>, wall: Duration) -> Figures {
    lat.sort_unstable();
    let pick = |q: f64| {
        lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Figures {
        rps: lat.len() as f64 / wall.as_secs_f64(),
        median_us: pick(0.5),
        p99_us: pick(0.99),
    }
}

/// 64 connections hammering `req` for `secs`; every answer must be `want`.
async fn load(addr: SocketAddr, req: Vec<u8>, want: u16, secs: Duration) -> Figures {
    let req = Arc::new(req);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let req = Arc::clone(&req);
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(addr).await.expect("connect");
            conn.set_nodelay(true).expect("nodelay");
            let mut buf = Vec::new();
            let mut lat = Vec::new();
            while started.elapsed() < secs {
                let t = Instant::now();
                let status = request(&mut conn, &req, &mut buf).await;
                assert_eq!(status, want);
                lat.push(t.elapsed().as_micros() as u64);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    figures(all, started.elapsed())
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{extra}\r\n").into_bytes()
}

fn main() {
    let secs = Duration::from_secs(
        std::env::var("BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("bench.db");
        let config_path = dir.path().join("feedmerge.toml");
        let toml = format!(
            "[storage]\npath = \"{}\"\n[server]\nlisten = \"127.0.0.1:8080\"\n[[source]]\nname = \"bench\"\nurl = \"https://bench.example/rss\"\ninterval = \"5m\"\nsection = \"Политика\"\n",
            db.display()
        );
        std::fs::write(&config_path, toml).expect("config");
        let config = Arc::new(Config::load(&config_path).expect("config"));
        let store = Arc::new(SqliteStore::open(&db).expect("store"));
        store
            .register_sources(&[SourceSpec { name: "bench".into(), url: "https://bench.example/rss".into(), title: None }])
            .await
            .expect("register");
        let t = Instant::now();
        fill(&store, 0, STORIES).await;
        println!("stored {STORIES} stories in {:.1}s", t.elapsed().as_secs_f64());

        let dyn_store: Arc<dyn Store> = store.clone();
        let state = AppState::new(Arc::clone(&config), dyn_store);
        let cache = Arc::clone(&state.cache);
        let app = server::router(state).route("/static", axum::routing::get(|| async { "ok\n" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });

        // Warm up and learn the ETag.
        let mut conn = TcpStream::connect(addr).await.expect("connect");
        let mut buf = Vec::new();
        assert_eq!(request(&mut conn, &get(SECTION_PATH, ""), &mut buf).await, 200);
        let head = String::from_utf8_lossy(&buf).into_owned();
        let etag = head.lines().find_map(|l| l.strip_prefix("etag: ")).expect("etag").trim().to_string();
        let body_len = buf.len() - head.find("\r\n\r\n").map_or(0, |p| p + 4);
        println!("feed: {SECTION_PATH}, 50 entries, {body_len} bytes; {CONNECTIONS} connections, {}s per scenario\n", secs.as_secs());

        let base = load(addr, get("/static", ""), 200, secs).await;
        let not_modified = load(addr, get(SECTION_PATH, &format!("If-None-Match: {etag}\r\n")), 304, secs).await;
        let cached = load(addr, get(SECTION_PATH, ""), 200, secs).await;

        // First render after a poll: write one new story, invalidate as the
        // pipeline's notice does, then all connections ask at once.
        let mut conns = Vec::new();
        for _ in 0..CONNECTIONS {
            let c = TcpStream::connect(addr).await.expect("connect");
            c.set_nodelay(true).expect("nodelay");
            conns.push(c);
        }
        let mut first_lat = Vec::new();
        let mut all_lat = Vec::new();
        let rounds = 30;
        let started = Instant::now();
        let mut write_time = Duration::ZERO;
        for round in 0..rounds {
            let w = Instant::now();
            fill(&store, STORIES + round, STORIES + round + 1).await;
            write_time += w.elapsed();
            cache.invalidate(&Change { generation: 0, sections: Some(vec!["Политика".into()]) });
            let req = Arc::new(get(SECTION_PATH, ""));
            let t0 = Instant::now();
            let mut tasks = Vec::new();
            for mut c in conns.drain(..) {
                let req = Arc::clone(&req);
                tasks.push(tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let status = request(&mut c, &req, &mut buf).await;
                    assert_eq!(status, 200);
                    (c, t0.elapsed().as_micros() as u64)
                }));
            }
            let mut lats = Vec::new();
            for t in tasks {
                let (c, us) = t.await.expect("task");
                conns.push(c);
                lats.push(us);
            }
            first_lat.push(lats.iter().copied().min().unwrap_or(0));
            all_lat.extend(lats);
        }
        let render_wall = started.elapsed() - write_time;
        let after_change = figures(all_lat, render_wall);
        let first = figures(first_lat, render_wall);

        println!("{:<44} {:>10} {:>10} {:>10} {:>12}", "scenario", "req/s", "median", "p99", "vs baseline");
        let row = |name: &str, f: &Figures| {
            println!(
                "{name:<44} {:>10.0} {:>8}µs {:>8}µs {:>11.2}x",
                f.rps,
                f.median_us,
                f.p99_us,
                f.rps / base.rps
            );
        };
        row("baseline: static route", &base);
        row("304 Not Modified (If-None-Match)", &not_modified);
        row("cached 200 (full body)", &cached);
        row("after a change: 64 requests at once", &after_change);
        println!(
            "{:<44} {:>10} {:>8}µs {:>8}µs   ({rounds} rounds)",
            "after a change: first answer (the render)", "-", first.median_us, first.p99_us
        );
        let ok = not_modified.rps >= 20_000.0 && cached.rps >= 8_000.0 && not_modified.p99_us < 10_000 && cached.p99_us < 10_000;
        println!("\ntargets (304 >= 20000 req/s, cached 200 >= 8000 req/s, p99 < 10 ms): {}", if ok { "met" } else { "NOT met" });
    });
}
