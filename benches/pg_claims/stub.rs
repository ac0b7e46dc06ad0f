//! The loopback stub feed server of the claims bench, in a process of its
//! own (this binary run again with [`SERVE_VAR`] set), so its CPU is not
//! the workers' and it sees fetches the way a remote site would.
//!
//! Source `n` lives at `/f/{n}` on site `n % SITES` (its own loopback
//! address, 127.0.2.k, so per-site limits see `SITES` sites, not one).
//! Sources with `n % 10 < 3` answer 200 with a small feed of new items on
//! every fetch; the others answer 304 to `If-None-Match: "v1"` (the bench
//! seeds that validator, as a steady state's earlier polls would have).
//! Every fetch is recorded by source with its time, for `/stats`.

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Set in the server process's environment.
pub const SERVE_VAR: &str = "FEEDMERGE_BENCH_SERVE";

/// Sites (loopback addresses) the sources are spread over.
pub const SITES: usize = 100;

/// New items in each 200 answer.
pub const NEW_ITEMS: usize = 5;

/// Whether source `n` answers 200 (30 %) rather than 304 (70 %).
pub fn changes(n: usize) -> bool {
    n % 10 < 3
}

/// Fetch times (ms since the epoch) and 200 answers, by source.
#[derive(Default)]
struct Log {
    fetches: HashMap<usize, Vec<i64>>,
    ok: usize,
    not_modified: usize,
}

type Shared = Arc<Mutex<Log>>;

fn rss(n: usize, fetch: usize) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Source {n}</title>\
         <link>https://s{n}.example/</link><description>bench</description>"
    );
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    for i in 0..NEW_ITEMS {
        out.push_str(&format!(
            "<item><guid>s{n}-{fetch}-{i}</guid><title>Story {i} of fetch {fetch} of source {n}</title>\
             <link>https://s{n}.example/{fetch}/{i}</link><category>World</category>\
             <description>A short summary of story {i}.</description>\
             <pubDate>{date}</pubDate></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

async fn serve_feed(
    State(log): State<Shared>,
    UrlPath(n): UrlPath<usize>,
    headers: HeaderMap,
) -> Response {
    let now = chrono::Utc::now().timestamp_millis();
    let fetch = {
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        let times = log.fetches.entry(n).or_default();
        times.push(now);
        let fetch = times.len();
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == "\"v1\""));
        if fresh && !changes(n) {
            log.not_modified += 1;
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"v1\"")]).into_response();
        }
        log.ok += 1;
        fetch
    };
    (
        StatusCode::OK,
        [
            (header::ETAG, "\"v1\""),
            (header::CONTENT_TYPE, "application/rss+xml; charset=utf-8"),
        ],
        rss(n, fetch),
    )
        .into_response()
}

/// `200s 304s` on the first line, then `n t1 t2 …` per fetched source.
async fn serve_stats(State(log): State<Shared>) -> String {
    let log = log.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = format!("{} {}\n", log.ok, log.not_modified);
    for (n, times) in &log.fetches {
        out.push_str(&n.to_string());
        for t in times {
            out.push(' ');
            out.push_str(&t.to_string());
        }
        out.push('\n');
    }
    out
}

/// Entry point of the server process: listens on one address per site,
/// prints them on one line, and serves until its stdin closes (the bench
/// exited or died).
pub fn serve_main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    runtime.block_on(async {
        let app = axum::Router::new()
            .route("/f/{n}", axum::routing::get(serve_feed))
            .route("/stats", axum::routing::get(serve_stats))
            .with_state(Shared::default());
        let mut sites = Vec::new();
        for k in 1..=SITES {
            let listener = tokio::net::TcpListener::bind(format!("127.0.2.{k}:0"))
                .await
                .expect("listen on loopback");
            sites.push(format!("http://{}", listener.local_addr().expect("addr")));
            let app = app.clone();
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        println!("{}", sites.join(" "));
        std::future::pending::<()>().await;
    });
}

/// What the server saw.
pub struct Stats {
    /// 200 answers.
    pub ok: usize,
    /// 304 answers.
    pub not_modified: usize,
    /// Fetch times (ms since the epoch) by source.
    pub fetches: HashMap<usize, Vec<i64>>,
}

/// The bench's handle on its server process.
pub struct Stub {
    child: std::process::Child,
    /// `http://127.0.2.k:port` of each site.
    pub sites: Vec<String>,
}

impl Stub {
    /// Starts this binary again as the server and waits for its addresses.
    pub fn start() -> Stub {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
            .env(SERVE_VAR, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the stub server process");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("stub server addresses");
        let sites: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        assert_eq!(sites.len(), SITES, "stub server could not listen");
        Stub { child, sites }
    }

    /// Source `n`'s feed URL.
    pub fn url(&self, n: usize) -> String {
        format!("{}/f/{n}", self.sites[n % SITES])
    }

    /// Everything the server recorded so far.
    pub async fn stats(&self) -> Stats {
        let text = reqwest::get(format!("{}/stats", self.sites[0]))
            .await
            .expect("stub stats")
            .text()
            .await
            .expect("stub stats body");
        let mut lines = text.lines();
        let mut head = lines
            .next()
            .unwrap_or_default()
            .split(' ')
            .map(|v| v.parse().unwrap_or(0));
        let (ok, not_modified) = (head.next().unwrap_or(0), head.next().unwrap_or(0));
        let fetches = lines
            .filter_map(|l| {
                let mut parts = l.split(' ');
                let n = parts.next()?.parse().ok()?;
                Some((n, parts.filter_map(|t| t.parse().ok()).collect()))
            })
            .collect();
        Stats {
            ok,
            not_modified,
            fetches,
        }
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
