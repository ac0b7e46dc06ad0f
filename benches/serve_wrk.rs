//! Serving under real readers, measured from outside: the real server
//! (`server::serve`, its accept loop and limits) over a store filled
//! through the real write path, driven by `wrk` in its own process, with
//! nginx serving the same feed bytes as a static file (`gzip_static on`)
//! as the reference, in the same run.
//!
//! Needs `wrk` and `nginx` on PATH (`apt-get install -y wrk nginx`).
//! `cargo bench --bench serve_wrk`; env: BENCH_STORIES (default 100000),
//! BENCH_SOURCES (100), BENCH_SECS (10 per scenario).

use chrono::{TimeZone, Utc};
use feedmerge::config::Config;
use feedmerge::model::{FeedMeta, Item, Validators};
use feedmerge::server::{self, AppState};
use feedmerge::store::sqlite::SqliteStore;
use feedmerge::store::{PollRecord, PollResult, SourceSpec, Store};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECTION: &str = "/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom";
const AE: &str = "gzip, deflate, br";
/// Words titles are made of; `q=` picks among them.
const WORDS: &[&str] = &[
    "бюджет",
    "выборы",
    "закон",
    "налог",
    "дума",
    "сенат",
    "министр",
    "реформа",
    "суд",
    "регион",
    "экспорт",
    "нефть",
    "газ",
    "рубль",
    "инфляция",
    "банк",
    "кредит",
    "школа",
    "больница",
    "дорога",
    "мост",
    "порт",
    "завод",
    "урожай",
    "погода",
    "спорт",
    "театр",
    "музей",
    "выставка",
    "фестиваль",
    "iqtisadiyyat",
    "siyasət",
    "bakı",
    "parlament",
];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn item(source: usize, i: usize) -> Item {
    let at = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("date")
        + chrono::Duration::seconds(i as i64 * 37);
    let link = format!("https://bench.example/{source}/{i}");
    let w = |k: usize| WORDS[(i * 7 + k * 13 + source) % WORDS.len()];
    let section = if i.is_multiple_of(2) {
        "Политика"
    } else {
        "Экономика"
    };
    Item {
        key: link.clone(),
        story_key: format!("link:{link}"),
        guid: None,
        link: Some(link),
        title: format!("{} и {}: новость {i}", w(0), w(1)),
        summary: Some(format!("<p>О {} и {}, подробности {i}.</p>", w(2), w(3))),
        content: None,
        authors: vec![],
        categories: vec![section.into()],
        sections: vec![section.into()],
        published: Some(at),
        updated: Some(at),
        language: Some(if i.is_multiple_of(3) { "az" } else { "ru" }.into()),
        enclosures: vec![],
        content_hash: format!("h{source}.{i}"),
    }
}

async fn fill(store: &SqliteStore, sources: usize, stories: usize) {
    let per = stories / sources;
    for s in 0..sources {
        for chunk in (0..per).collect::<Vec<_>>().chunks(5_000) {
            let record = PollRecord {
                at: Utc::now(),
                next_check: Utc::now() + chrono::Duration::hours(1),
                moved_to: None,
                result: PollResult::Fetched {
                    validators: Validators::default(),
                    status: 200,
                    meta: FeedMeta {
                        title: Some(format!("Source {s}")),
                        ..FeedMeta::default()
                    },
                    items: chunk.iter().map(|&i| item(s, s * per + i)).collect(),
                },
                articles: Vec::new(),
            };
            store
                .record_poll(&format!("f{s}"), record)
                .await
                .expect("write");
        }
    }
}

/// One wrk run's figures.
#[derive(Debug, Default, Clone, Copy)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    non2xx: u64,
}

fn parse_ms(s: &str) -> f64 {
    let s = s.trim();
    for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] {
        if let Some(n) = s.strip_suffix(unit) {
            return n.trim().parse::<f64>().unwrap_or(f64::NAN) * scale;
        }
    }
    f64::NAN
}

fn parse_wrk(out: &str) -> Run {
    let mut run = Run::default();
    for line in out.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            run.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = t.strip_prefix("50%") {
            run.p50_ms = parse_ms(v);
        } else if let Some(v) = t.strip_prefix("99%") {
            run.p99_ms = parse_ms(v);
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            run.non2xx = v.trim().parse().unwrap_or(0);
        }
    }
    run
}

/// Starts wrk: `conns` connections for `secs` on `url`, `script` (Lua) if
/// given, `Accept-Encoding` if `ae`.
fn wrk(url: &str, conns: u32, secs: u64, script: Option<&Path>, ae: bool) -> std::process::Child {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{conns}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    if ae {
        cmd.args(["-H", &format!("Accept-Encoding: {AE}")]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("wrk on PATH (apt-get install -y wrk)")
}

fn finish(child: std::process::Child) -> Run {
    let out = child.wait_with_output().expect("wrk");
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// A Lua script asking `path_prefix` + one of `values` (already encoded)
/// at random, each request different when `unique` (a random `limit`).
fn script(
    dir: &Path,
    name: &str,
    path_prefix: &str,
    values: &[String],
    unique: bool,
) -> std::path::PathBuf {
    let list: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    let limit = if unique {
        "..\"&limit=\"..math.random(1,500)"
    } else {
        ""
    };
    let lua = format!(
        "math.randomseed(os.time())\nlocal v = {{{}}}\nrequest = function()\n  return wrk.format(\"GET\", \"{path_prefix}\"..v[math.random(#v)]{limit}, {{[\"Accept-Encoding\"]=\"{AE}\"}})\nend\n",
        list.join(",")
    );
    let path = dir.join(name);
    std::fs::write(&path, lua).expect("lua");
    path
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// nginx serving `root` on `port` with gzip_static, in the foreground.
fn nginx(dir: &Path, root: &Path, port: u16) -> std::process::Child {
    let conf = format!(
        "user root; worker_processes auto; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{ access_log off; types {{ application/atom+xml atom; }} gzip_static on;\n\
           server {{ listen 127.0.0.1:{port}; root {r}; location / {{ }} }} }}\n",
        d = dir.display(),
        r = root.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("nginx.conf");
    Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .spawn()
        .expect("nginx on PATH (apt-get install -y nginx)")
}

fn row(name: &str, r: &Run, reference: Option<&Run>) {
    let vs = reference.map_or(String::new(), |n| format!("{:.2}x nginx", r.rps / n.rps));
    let errors = if r.non2xx > 0 {
        format!(" ({} non-2xx)", r.non2xx)
    } else {
        String::new()
    };
    println!(
        "{name:<58} {:>9.0} {:>8.2}ms {:>8.2}ms  {vs}{errors}",
        r.rps, r.p50_ms, r.p99_ms
    );
}

fn main() {
    // The bench holds thousands of sockets, and so does the server.
    raise_file_limit();
    let stories = env("BENCH_STORIES", 100_000) as usize;
    let sources = env("BENCH_SOURCES", 100) as usize;
    let secs = env("BENCH_SECS", 10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("bench.db");
        let mut toml = format!("[storage]\npath = \"{}\"\n[server]\nlisten = \"127.0.0.1:8080\"\nmax_connections = 8000\n", db.display());
        for s in 0..sources {
            toml.push_str(&format!("[[source]]\nname = \"f{s}\"\nurl = \"https://bench.example/{s}\"\ninterval = \"1h\"\n"));
        }
        let config_path = dir.path().join("feedmerge.toml");
        std::fs::write(&config_path, toml).expect("config");
        let config = Arc::new(Config::load(&config_path).expect("config"));
        let store = Arc::new(SqliteStore::open(&db).expect("store"));
        let specs: Vec<SourceSpec> = (0..sources)
            .map(|s| SourceSpec { name: format!("f{s}"), url: format!("https://bench.example/{s}"), title: None })
            .collect();
        store.register_sources(&specs).await.expect("register");
        let t = Instant::now();
        fill(&store, sources, stories).await;
        println!("stored {stories} stories from {sources} sources in {:.1}s through the write path", t.elapsed().as_secs_f64());
        let stats = store.store_stats().await.expect("stats");
        println!("database {:.1} MiB (keyword index included)", stats.bytes as f64 / 1048576.0);

        let dyn_store: Arc<dyn Store> = store.clone();
        let state = AppState::new(Arc::clone(&config), dyn_store);
        let cache = Arc::clone(&state.cache);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(server::serve(listener, state, std::future::pending()));
        let base = format!("http://{addr}");
        println!("idle RSS with {sources} sources, empty cache: {:.1} MiB", rss_mib());

        // The feed's bytes for nginx: identity and gzip, as served.
        let client = reqwest::Client::builder().no_gzip().no_brotli().no_deflate().build().expect("client");
        let plain = client.get(format!("{base}{SECTION}")).send().await.expect("get").bytes().await.expect("body");
        let gz = client.get(format!("{base}{SECTION}")).header("accept-encoding", "gzip").send().await.expect("get").bytes().await.expect("body");
        let br = client.get(format!("{base}{SECTION}")).header("accept-encoding", AE).send().await.expect("get").bytes().await.expect("body");
        let root = dir.path().join("www");
        std::fs::create_dir_all(&root).expect("www");
        std::fs::write(root.join("feed.atom"), &plain).expect("feed");
        std::fs::write(root.join("feed.atom.gz"), &gz).expect("feed.gz");
        println!("feed: {} bytes, gzip {} bytes, brotli {} bytes", plain.len(), gz.len(), br.len());
        let nginx_port = free_port();
        let mut nginx = nginx(dir.path(), &root, nginx_port);
        tokio::time::sleep(Duration::from_millis(500)).await;

        let run = |url: String, conns: u32, script: Option<std::path::PathBuf>, ae: bool| {
            tokio::task::spawn_blocking(move || finish(wrk(&url, conns, secs, script.as_deref(), ae)))
        };
        println!("\nwrk -t2, {secs}s per scenario, on this machine beside the server\n");
        println!("{:<58} {:>9} {:>10} {:>10}", "scenario", "req/s", "p50", "p99");
        let ng = run(format!("http://127.0.0.1:{nginx_port}/feed.atom"), 64, None, true).await.expect("wrk");
        row("nginx gzip_static, same feed, 64 conns", &ng, None);
        let cached = run(format!("{base}{SECTION}"), 64, None, true).await.expect("wrk");
        row("feedmerge cached section, Accept-Encoding, 64 conns", &cached, Some(&ng));
        let plain_run = run(format!("{base}{SECTION}"), 64, None, false).await.expect("wrk");
        row("feedmerge cached section, no Accept-Encoding", &plain_run, None);

        let sources_list: Vec<String> = (0..sources).map(|s| format!("f{s}")).collect();
        let words: Vec<String> = WORDS.iter().map(|w| url::form_urlencoded::byte_serialize(w.as_bytes()).collect()).collect();
        let since: Vec<String> = (0..60).map(|d| format!("2024-{:02}-{:02}T00:00:00Z", 1 + d % 12, 1 + d % 28)).collect();
        for (name, param, values) in [
            ("source", "source=", &sources_list),
            ("q", "q=", &words),
            ("since", "since=", &since),
        ] {
            cache.clear();
            let s = script(dir.path(), &format!("{name}.lua"), &format!("{SECTION}?{param}"), values, true);
            let r = run(base.clone(), 16, Some(s), true).await.expect("wrk");
            row(&format!("random uncached ?{name}= (+limit), 16 conns"), &r, None);
        }

        // A flood of uncached q= beside healthz and cached answers.
        let flood_script = script(dir.path(), "flood.lua", &format!("{SECTION}?q="), &words, true);
        let flood = run(base.clone(), 16, Some(flood_script), true);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let health = run(format!("{base}/healthz"), 4, None, false);
        let cached_beside = run(format!("{base}{SECTION}"), 4, None, true);
        let (flood, health, cached_beside) = (flood.await.expect("wrk"), health.await.expect("wrk"), cached_beside.await.expect("wrk"));
        row("flood: 16 conns of random uncached q=", &flood, None);
        row("  /healthz beside it, 4 conns", &health, None);
        row("  cached section beside it, 4 conns", &cached_beside, None);

        // 2,000 idle connections and 500 slowloris clients, held open.
        let mut held = Vec::new();
        for i in 0..2_500 {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(mut c) => {
                    if i >= 2_000 {
                        use tokio::io::AsyncWriteExt;
                        let _ = c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
                    }
                    held.push(c);
                }
                Err(e) => {
                    println!("connect {i} failed: {e}");
                    break;
                }
            }
        }
        let opened = Instant::now();
        let health = run(format!("{base}/healthz"), 4, None, false);
        let cached_beside = run(format!("{base}{SECTION}"), 4, None, true);
        let (health, cached_beside) = (health.await.expect("wrk"), cached_beside.await.expect("wrk"));
        row(&format!("  /healthz with {} idle/slowloris conns held", held.len()), &health, None);
        row("  cached section beside them", &cached_beside, None);
        let mut closed_by = Duration::ZERO;
        for c in &mut held {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 1024];
            loop {
                match tokio::time::timeout(Duration::from_secs(60), c.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(_)) => continue,
                    Err(_) => {
                        println!("a held connection was still open after 60 s");
                        break;
                    }
                }
            }
            closed_by = closed_by.max(opened.elapsed());
        }
        println!("every held connection closed by the server within {:.1}s of opening (header_read_timeout 10s)", closed_by.as_secs_f64());
        println!("RSS after all scenarios: {:.1} MiB; cache {} entries, {:.1} MiB (budget 64 MiB)", rss_mib(), cache.len(), cache.bytes() as f64 / 1048576.0);
        let _ = nginx.kill();
        let _ = nginx.wait();
    });
}

/// The soft open-file limit raised to the hard one.
fn raise_file_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
