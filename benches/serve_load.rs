//! Serving under real readers (issue #14), measured from other processes.
//!
//! Builds a store of `BENCH_SOURCES` × `BENCH_ITEMS` stories (default
//! 1,000 × 1,000 = 1,000,000) through the real ingest path: the daemon
//! (`feedmerge run`, its own process) polls a stub site this bench serves.
//! Then drives it with wrk (its own process) and serves the same bytes from
//! nginx (`gzip_static on`) as the reference, in the same run:
//!
//! - the cached «Политика» feed with `Accept-Encoding: gzip, deflate, br`,
//!   beside nginx, and without `Accept-Encoding`;
//! - random filtered queries (`q`, `source`, `lang`, `since`, paging);
//! - the first render after a poll changed the section;
//! - 16 clients flooding random uncached `q=` while cached answers and
//!   `/healthz` are measured;
//! - 2,000 half-open connections and 500 slowloris clients (a child
//!   process) while the same are measured, and whether the server closed
//!   them;
//! - RSS after ingest, after a flood of distinct URIs, and idle after a
//!   restart.
//!
//! `cargo bench --bench serve_load` (needs wrk and nginx: `apt-get install
//! wrk nginx`). Env: BENCH_SOURCES, BENCH_ITEMS, BENCH_SECS (10 per run),
//! BENCH_URI_SECS (30). Figures only; nothing is asserted.

#[path = "serve_load/clients.rs"]
mod clients;
#[path = "serve_load/site.rs"]
mod site;
#[path = "serve_load/wrk.rs"]
mod wrk;

use site::Site;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// «Политика», percent-encoded.
const SECTION: &str = "/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom";
const READER_AE: &str = "Accept-Encoding: gzip, deflate, br";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--clients") {
        return clients::run(&args[2..]);
    }
    for tool in ["wrk", "nginx"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            eprintln!(
                "serve_load: {tool} is not installed (apt-get install -y wrk nginx); skipped"
            );
            return;
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench());
}

/// The daemon as a child process; killed when dropped.
struct Daemon {
    child: Child,
    base: String,
}

impl Daemon {
    fn start(config: &Path, port: u16, log: &Path) -> Daemon {
        let log = std::fs::File::create(log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_feedmerge"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start feedmerge");
        Daemon {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    }

    fn stop(mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn config(dir: &Path, site: std::net::SocketAddr, port: u16, sources: usize) -> PathBuf {
    let mut toml = format!(
        "[storage]\npath = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n\n\
         [poll]\ninterval = \"6h\"\ntimeout = \"60s\"\n\n[sections]\n\"Политика\" = [\"Politics\"]\n\n",
        dir.join("store.db").display()
    );
    for n in 0..sources {
        toml.push_str(&format!(
            "[[source]]\nname = \"f{n}\"\nurl = \"http://{site}/f/{n}.rss\"\nsection = \"{}\"\n\n",
            site::section_of(n)
        ));
    }
    toml.push_str(&format!(
        "[[source]]\nname = \"hot\"\nurl = \"http://{site}/f/hot.rss\"\nsection = \"Политика\"\ncron = \"* * * * * *\"\n"
    ));
    let path = dir.join("feedmerge.toml");
    std::fs::write(&path, toml).expect("write config");
    path
}

async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    match client.get(url).send().await {
        Ok(r) => serde_json::from_slice(&r.bytes().await.unwrap_or_default()).unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    }
}

/// Sources with stories, stories stored, and the hot source's items.
async fn progress(client: &reqwest::Client, base: &str) -> (usize, u64, Option<u64>) {
    let v = get_json(client, &format!("{base}/status")).await;
    let sources = v["sources"].as_array().cloned().unwrap_or_default();
    let done = sources
        .iter()
        .filter(|s| s["items"].as_u64() > Some(0))
        .count();
    let items = sources.iter().filter_map(|s| s["items"].as_u64()).sum();
    let hot = sources
        .iter()
        .find(|s| s["name"] == "hot")
        .and_then(|s| s["items"].as_u64());
    (done, items, hot)
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the daemon did not answer /healthz within 60 s");
}

fn line(what: &str, r: &wrk::Run) {
    println!(
        "  {what:<58} {:>10.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms{}",
        r.rps,
        r.p50,
        r.p99,
        if r.non_2xx > 0 {
            format!("  ({} non-2xx of {})", r.non_2xx, r.requests)
        } else {
            String::new()
        }
    );
}

async fn bench() {
    clients::raise_nofile();
    let (sources, items) = (env("BENCH_SOURCES", 1000), env("BENCH_ITEMS", 1000));
    let secs = env("BENCH_SECS", 10) as u64;
    let dir = tempfile::tempdir().expect("tempdir");
    let site = Arc::new(Site {
        items,
        hot_version: Default::default(),
    });
    let site_addr = site::serve(Arc::clone(&site)).await;
    let port = free_port();
    let cfg = config(dir.path(), site_addr, port, sources);
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");

    println!(
        "serve_load: {sources} sources × {items} items, wrk and nginx in their own processes, {secs} s per run"
    );
    let started = Instant::now();
    let daemon = Daemon::start(&cfg, port, &dir.path().join("daemon.log"));
    let base = daemon.base.clone();
    wait_healthy(&client, &base).await;
    let mut stored = 0;
    loop {
        let (done, n, _) = progress(&client, &base).await;
        stored = stored.max(n);
        if done >= sources {
            break;
        }
        if started.elapsed() > Duration::from_secs(3600) {
            println!("  ingest did not finish within an hour ({done} of {sources} sources)");
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let ingest = started.elapsed();
    println!(
        "  ingest through `feedmerge run`: {stored} items from {sources} sources in {:.1} s ({:.0} items/s); daemon RSS {:.1} MiB",
        ingest.as_secs_f64(),
        stored as f64 / ingest.as_secs_f64(),
        daemon.rss_mib()
    );

    // The same bytes for nginx.
    let section = format!("{base}{SECTION}");
    let gz = client
        .get(&section)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("section")
        .bytes()
        .await
        .expect("body");
    let plain = client
        .get(&section)
        .send()
        .await
        .expect("section")
        .bytes()
        .await
        .expect("body");
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).expect("www");
    std::fs::write(www.join("section.atom"), &plain).expect("write");
    std::fs::write(www.join("section.atom.gz"), &gz).expect("write");
    let nginx_port = free_port();
    let nginx = wrk::Nginx::start(dir.path(), nginx_port);
    println!(
        "  section feed: {} bytes identity, {} gzip",
        plain.len(),
        gz.len()
    );

    println!("\ncached «Политика» Atom, 64 connections:");
    let ours = wrk::wrk(&section, 64, secs, &[READER_AE], None);
    line("feedmerge, Accept-Encoding: gzip, deflate, br", &ours);
    if nginx.is_some() {
        let theirs = wrk::wrk(
            &format!("http://127.0.0.1:{nginx_port}/section.atom"),
            64,
            secs,
            &[READER_AE],
            None,
        );
        line("nginx gzip_static, same bytes", &theirs);
        println!(
            "  ratio feedmerge / nginx: {:.2} (goal ≥ 0.5, and ≥ 20,000 req/s, p99 ≤ 5 ms)",
            ours.rps / theirs.rps
        );
    }
    line(
        "feedmerge, no Accept-Encoding",
        &wrk::wrk(&section, 64, secs, &[], None),
    );

    let filtered = filtered_script(dir.path(), sources);
    println!("\nrandom filtered queries (q, source, lang, since, limit, paging), 16 connections:");
    line(
        "feedmerge, mostly uncached",
        &wrk::wrk(&base, 16, secs, &[READER_AE], Some(&filtered)),
    );

    first_render(&client, &base, &site, &section).await;

    println!("\n16 clients flooding random uncached q= for the runs below:");
    let flood = wrk::wrk_background(&base, 16, secs * 2 + 4, &filtered);
    tokio::time::sleep(Duration::from_secs(1)).await;
    line(
        "cached section during the flood (16 conns)",
        &wrk::wrk(&section, 16, secs, &[READER_AE], None),
    );
    line(
        "/healthz during the flood (16 conns)",
        &wrk::wrk(&format!("{base}/healthz"), 16, secs, &[], None),
    );
    let _ = wait_child(flood);

    hostile_clients(&base, port, secs, &section).await;

    let rss_before = daemon.rss_mib();
    let unique = wrk::unique_paths_script(dir.path(), &format!("{SECTION}?limit=20&q=w"));
    let uri_secs = env("BENCH_URI_SECS", 30) as u64;
    let run = wrk::wrk(&base, 16, uri_secs, &[READER_AE], Some(&unique));
    println!(
        "\ndistinct URIs: {} in {uri_secs} s; daemon RSS {:.1} MiB before, {:.1} MiB after (goal: under the cache budget + 50 MiB)",
        run.requests,
        rss_before,
        daemon.rss_mib()
    );
    println!(
        "  daemon RSS with {stored} stories: {:.1} MiB (goal ≤ 100 MiB)",
        daemon.rss_mib()
    );

    daemon.stop();
    let daemon = Daemon::start(&cfg, port, &dir.path().join("daemon2.log"));
    wait_healthy(&client, &daemon.base).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    println!(
        "  idle RSS after a restart, {sources} sources, empty cache: {:.1} MiB (goal ≤ 30 MiB)",
        daemon.rss_mib()
    );
    daemon.stop();
    drop(nginx);
}

/// wrk requests built in Lua: a random filter of the section, its page
/// size and, for a third, a cursor (`before`) into the two years of
/// stories; a sixth of the others add a `since` to their filter.
fn filtered_script(dir: &Path, sources: usize) -> PathBuf {
    let words: Vec<String> = site::WORDS.iter().map(|w| urlencode(w)).collect();
    let lua = format!(
        "local words = {{ {words} }}\nlocal langs = {{ \"ru\", \"az\", \"en\" }}\n\
         wrk.headers[\"Accept-Encoding\"] = \"gzip, deflate, br\"\n\
         math.randomseed(os.time() + math.floor(os.clock() * 1000000))\n\
         request = function()\n\
           local k = math.random(4)\n\
           local p = \"{SECTION}?limit=\" .. math.random(10, 100)\n\
           if k == 1 then p = p .. \"&q=\" .. words[math.random(#words)]\n\
           elseif k == 2 then p = p .. \"&source=f\" .. math.random(0, {last})\n\
           elseif k == 3 then p = p .. \"&lang=\" .. langs[math.random(3)]\n\
           else p = p .. string.format(\"&since=20%02d-%02d-%02dT00:00:00Z\", math.random(23, 24), math.random(1, 12), math.random(1, 28)) end\n\
           if math.random(3) == 1 then p = p .. \"&before=\" .. (1733000000 - math.random(0, 700) * 86400) .. \".9223372036854775807\"\n\
           elseif k ~= 4 and math.random(2) == 1 then p = p .. string.format(\"&since=2024-%02d-%02dT00:00:00Z\", math.random(1, 12), math.random(1, 28)) end\n\
           return wrk.format(nil, p)\n\
         end\n",
        words = words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(", "),
        last = sources.saturating_sub(1),
    );
    let path = dir.join("filtered.lua");
    std::fs::write(&path, lua).expect("write lua");
    path
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Twenty times: the hot source's next poll adds a story to «Политика»,
/// then the first request for the section is timed (a render).
async fn first_render(client: &reqwest::Client, base: &str, site: &Site, section: &str) {
    let mut times = Vec::new();
    for _ in 0..20 {
        let (_, _, before) = progress(client, base).await;
        site.hot_version.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, _, now) = progress(client, base).await;
            if now != before || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The new story is stored (the hot source's count moved) and the
        // section's cached answers dropped: the next request renders.
        let t = Instant::now();
        if let Ok(r) = client
            .get(section)
            .header("Accept-Encoding", "gzip, deflate, br")
            .send()
            .await
        {
            let _ = r.bytes().await;
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "\nfirst render after a poll changed the section (20 samples): p50 {:.2} ms, p99 {:.2} ms (goal ≤ 50 ms)",
        pick(0.5),
        pick(0.99)
    );
}

/// The half-open and slowloris clients (a child process) while cached
/// answers and `/healthz` are measured.
async fn hostile_clients(base: &str, port: u16, secs: u64, section: &str) {
    let hold = secs * 2 + 40;
    let child = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--clients",
            &format!("127.0.0.1:{port}"),
            "2000",
            "500",
            &hold.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start clients");
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("\n2,000 half-open connections + 500 slowloris clients (own process):");
    line(
        "cached section (16 conns)",
        &wrk::wrk(section, 16, secs, &[READER_AE], None),
    );
    line(
        "/healthz (16 conns)",
        &wrk::wrk(&format!("{base}/healthz"), 16, secs, &[], None),
    );
    let out = wait_child(child);
    println!("  {}", out.trim());
}

fn wait_child(child: Child) -> String {
    child
        .wait_with_output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
