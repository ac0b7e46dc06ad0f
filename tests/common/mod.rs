//! Test harness: a real HTTP server on 127.0.0.1:0 serving fixture feeds
//! (changeable while a test runs, with ETag/304 and request counting), and
//! the real daemon run in-process with its own shutdown signal.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response, StatusCode, header};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

mod reloadable;
#[allow(unused_imports)]
pub use reloadable::Reloadable;

/// Reads a fixture file from `tests/fixtures/`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// How a body is sent.
#[derive(Clone, Debug, PartialEq)]
pub enum BodyKind {
    /// All at once.
    Whole,
    /// One byte of `body` per `every`, cycling, for `total` bytes.
    Trickle { every: Duration, total: usize },
    /// `body` repeated forever, as fast as the client reads.
    Endless,
}

/// One served document.
#[derive(Clone, Debug)]
pub struct Doc {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Sent as-is; a 304 answers a matching `If-None-Match`.
    pub etag: Option<String>,
    pub delay: Duration,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
    pub kind: BodyKind,
    /// Held here (after `delay`) until the gate opens.
    pub gate: Option<Gate>,
}

impl Doc {
    /// A 200 with an ETag derived from the body.
    pub fn feed(content_type: &str, body: Vec<u8>) -> Doc {
        let etag = format!("\"{:x}-{}\"", fnv(&body), body.len());
        Doc {
            content_type: content_type.to_string(),
            body,
            etag: Some(etag),
            ..Doc::empty()
        }
    }

    pub fn status(status: u16, content_type: &str, body: &str) -> Doc {
        Doc {
            status,
            content_type: content_type.into(),
            body: body.as_bytes().to_vec(),
            ..Doc::empty()
        }
    }

    fn empty() -> Doc {
        Doc {
            status: 200,
            content_type: String::new(),
            body: Vec::new(),
            etag: None,
            delay: Duration::ZERO,
            headers: Vec::new(),
            kind: BodyKind::Whole,
            gate: None,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Doc {
        Doc::status(status, "text/plain", "moved").header("Location", location)
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Doc {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Holds every response until `gate` opens.
    pub fn gated(mut self, gate: &Gate) -> Doc {
        self.gate = Some(gate.clone());
        self
    }
}

/// Holds responses until opened, and counts the requests held: lets a test
/// wait for "n requests in flight at once" as a condition instead of hoping
/// a delay makes them overlap. A request whose client goes away stops
/// counting as held.
#[derive(Clone, Debug)]
pub struct Gate {
    open: Arc<tokio::sync::watch::Sender<bool>>,
    held: Arc<AtomicUsize>,
}

impl Gate {
    pub fn closed() -> Gate {
        Gate {
            open: Arc::new(tokio::sync::watch::channel(false).0),
            held: Arc::default(),
        }
    }

    /// Lets every held and later request through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Requests waiting at the gate now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    async fn pass(&self) {
        struct Held<'a>(&'a AtomicUsize);
        impl Drop for Held<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        let _held = Held(&self.held);
        let mut rx = self.open.subscribe();
        let _ = rx.wait_for(|open| *open).await;
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

#[derive(Default)]
struct Counters {
    hits: AtomicUsize,
    not_modified: AtomicUsize,
    conditional: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    times: Mutex<Vec<std::time::Instant>>,
    last_headers: Mutex<HeaderMap>,
}

/// Makes the document for each request as it arrives.
type DocFn = Arc<dyn Fn() -> Doc + Send + Sync>;

#[derive(Default)]
struct Inner {
    docs: Mutex<HashMap<String, Doc>>,
    /// Documents made per request (see [`FeedServer::set_with`]).
    made: Mutex<HashMap<String, DocFn>>,
    counters: Mutex<HashMap<String, Arc<Counters>>>,
    /// Per first path segment ("section" for "section/1.atom").
    groups: Mutex<HashMap<String, Arc<Counters>>>,
    total: Arc<Counters>,
}

/// A fixture feed server on 127.0.0.1:0.
#[derive(Clone)]
pub struct FeedServer {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/{*path}", axum::routing::get(serve))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fixture server");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FeedServer { addr, inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    pub fn set(&self, path: &str, doc: Doc) {
        self.inner
            .docs
            .lock()
            .unwrap()
            .insert(path.trim_start_matches('/').to_string(), doc);
    }

    /// Serves `path` with a document made afresh for each request, e.g. a
    /// `Retry-After` date relative to when the request arrived.
    pub fn set_with(&self, path: &str, make: impl Fn() -> Doc + Send + Sync + 'static) {
        self.inner
            .made
            .lock()
            .unwrap()
            .insert(path.trim_start_matches('/').to_string(), Arc::new(make));
    }

    fn counters(&self, path: &str) -> Arc<Counters> {
        Arc::clone(
            self.inner
                .counters
                .lock()
                .unwrap()
                .entry(path.trim_start_matches('/').to_string())
                .or_default(),
        )
    }

    /// Requests received for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.counters(path).hits.load(Ordering::SeqCst)
    }

    /// Requests answered 304.
    pub fn not_modified(&self, path: &str) -> usize {
        self.counters(path).not_modified.load(Ordering::SeqCst)
    }

    /// Requests that carried `If-None-Match` or `If-Modified-Since`.
    pub fn conditional(&self, path: &str) -> usize {
        self.counters(path).conditional.load(Ordering::SeqCst)
    }

    /// When each request for `path` arrived.
    pub fn hit_times(&self, path: &str) -> Vec<std::time::Instant> {
        self.counters(path).times.lock().unwrap().clone()
    }

    /// Gaps between consecutive requests for `path`, in seconds.
    pub fn gaps(&self, path: &str) -> Vec<f64> {
        self.hit_times(path)
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect()
    }

    /// Headers of the last request for `path`.
    pub fn last_headers(&self, path: &str) -> HeaderMap {
        self.counters(path).last_headers.lock().unwrap().clone()
    }

    /// Most requests under `/{segment}/…` ever in flight at once.
    pub fn max_in_flight_group(&self, segment: &str) -> usize {
        let groups = self.inner.groups.lock().unwrap();
        groups
            .get(segment)
            .map(|c| c.max_in_flight.load(Ordering::SeqCst))
            .unwrap_or(0)
    }

    /// Most requests for any path ever in flight at once.
    pub fn max_in_flight_total(&self) -> usize {
        self.inner.total.max_in_flight.load(Ordering::SeqCst)
    }

    /// Most requests for `path` ever in flight at once.
    pub fn max_in_flight(&self, path: &str) -> usize {
        self.counters(path).max_in_flight.load(Ordering::SeqCst)
    }
}

async fn serve(
    State(inner): State<Arc<Inner>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    let counters = Arc::clone(
        inner
            .counters
            .lock()
            .unwrap()
            .entry(path.clone())
            .or_default(),
    );
    // Everything known on arrival is counted before `hits`, so a test that
    // sees `hits(path) >= n` also sees the other counts of those n requests.
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if inm.is_some() || headers.contains_key(header::IF_MODIFIED_SINCE) {
        counters.conditional.fetch_add(1, Ordering::SeqCst);
    }
    counters
        .times
        .lock()
        .unwrap()
        .push(std::time::Instant::now());
    *counters.last_headers.lock().unwrap() = headers.clone();
    let group_name = path.split('/').next().unwrap_or("").to_string();
    let group = Arc::clone(inner.groups.lock().unwrap().entry(group_name).or_default());
    let _in_flight = InFlight::enter(vec![Arc::clone(&counters), group, Arc::clone(&inner.total)]);
    counters.hits.fetch_add(1, Ordering::SeqCst);
    let doc = inner.docs.lock().unwrap().get(&path).cloned();
    let doc = doc.or_else(|| inner.made.lock().unwrap().get(&path).map(|make| make()));
    match doc {
        None => Response::builder()
            .status(404)
            .body(Body::from("no such fixture"))
            .unwrap(),
        Some(doc) => {
            if !doc.delay.is_zero() {
                tokio::time::sleep(doc.delay).await;
            }
            if let Some(gate) = &doc.gate {
                gate.pass().await;
            }
            if doc.status == 200 && inm.is_some() && inm == doc.etag {
                counters.not_modified.fetch_add(1, Ordering::SeqCst);
                Response::builder()
                    .status(StatusCode::NOT_MODIFIED)
                    .body(Body::empty())
                    .unwrap()
            } else {
                let mut b = Response::builder()
                    .status(doc.status)
                    .header(header::CONTENT_TYPE, doc.content_type);
                if let Some(etag) = &doc.etag {
                    b = b.header(header::ETAG, etag);
                }
                for (k, v) in &doc.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.body(body_of(doc.body, doc.kind)).unwrap()
            }
        }
    }
}

/// A request in flight, counted for as long as its handler lives: also when
/// the client goes away and the server drops the handler mid-response.
struct InFlight(Vec<Arc<Counters>>);

impl InFlight {
    fn enter(counters: Vec<Arc<Counters>>) -> InFlight {
        for c in &counters {
            let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            c.max_in_flight.fetch_max(now, Ordering::SeqCst);
        }
        InFlight(counters)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        for c in &self.0 {
            c.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn body_of(body: Vec<u8>, kind: BodyKind) -> Body {
    use futures_util::stream;
    match kind {
        BodyKind::Whole => Body::from(body),
        BodyKind::Trickle { every, total } => Body::from_stream(stream::unfold(0usize, move |i| {
            let byte = body.get(i % body.len().max(1)).copied().unwrap_or(b' ');
            async move {
                if i >= total {
                    return None;
                }
                tokio::time::sleep(every).await;
                Some((Ok::<_, std::io::Error>(vec![byte]), i + 1))
            }
        })),
        BodyKind::Endless => {
            let chunk = bytes_of(body);
            Body::from_stream(stream::repeat_with(move || {
                Ok::<_, std::io::Error>(chunk.clone())
            }))
        }
    }
}

fn bytes_of(body: Vec<u8>) -> axum::body::Bytes {
    axum::body::Bytes::from(body)
}

/// The four fixture sources of the v1 scenario, served on `server`.
pub fn serve_standard_fixtures(server: &FeedServer) {
    server.set(
        "ru/all.rss",
        Doc::feed("application/rss+xml", fixture("feeds/ru-all-cp1251.rss")),
    );
    server.set(
        "ru/politics.rss",
        Doc::feed(
            "application/rss+xml; charset=utf-8",
            fixture("feeds/ru-politics.rss"),
        ),
    );
    server.set(
        "az/news.atom",
        Doc::feed("application/atom+xml", fixture("feeds/az.atom")),
    );
    server.set(
        "wire/feed.json",
        Doc::feed("application/feed+json", fixture("feeds/world.json")),
    );
}

/// Config for the v1 scenario; `extra` is appended (more sources, etc.).
pub fn standard_config(
    server: &FeedServer,
    listen: SocketAddr,
    db: &std::path::Path,
    extra: &str,
) -> String {
    standard_config_with(server, listen, db, "interval = \"1h\"", extra)
}

/// Like [`standard_config`] with the schedule lines of `[poll]` given,
/// e.g. `cron = "* * * * * *"` to re-poll every second.
pub fn standard_config_with(
    server: &FeedServer,
    listen: SocketAddr,
    db: &std::path::Path,
    schedule: &str,
    extra: &str,
) -> String {
    format!(
        r#"
[storage]
path = "{db}"

[server]
listen = "{listen}"

[poll]
{schedule}
timeout = "5s"

[sections]
"Политика" = ["Politics", "Siyasət"]

[[source]]
name = "ru-all"
url = "{ru_all}"
timezone = "Europe/Moscow"

[[source]]
name = "ru-politics"
url = "{ru_pol}"
timezone = "Europe/Moscow"
section = "Политика"

[[source]]
name = "az-news"
url = "{az}"
timezone = "Asia/Baku"

[[source]]
name = "wire"
url = "{wire}"

[[feed]]
name = "politika"
title = "Политика"
sections = ["Политика"]
limit = 50
{extra}
"#,
        db = db.display(),
        ru_all = server.url("ru/all.rss"),
        ru_pol = server.url("ru/politics.rss"),
        az = server.url("az/news.atom"),
        wire = server.url("wire/feed.json"),
    )
}

/// The daemon running in-process.
pub struct Daemon {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), feedmerge::daemon::DaemonError>>,
}

impl Daemon {
    /// Starts the real daemon with `make_config(listen_addr)`.
    pub async fn start(
        dir: &std::path::Path,
        make_config: impl FnOnce(SocketAddr) -> String,
    ) -> Daemon {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind daemon");
        let addr = listener.local_addr().expect("addr");
        let path = dir.join("feedmerge.toml");
        std::fs::write(&path, make_config(addr)).expect("write config");
        let config = feedmerge::config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(feedmerge::daemon::run(config, listener, async move {
            let _ = rx.await;
        }));
        Daemon {
            addr,
            stop: Some(tx),
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Signals shutdown and waits (bounded) for a clean exit.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // Well past the daemon's own 10 s drain timeout: a bound for a hung
        // stop, not a measure of a quick one.
        let result = tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("daemon did not stop within 30 s");
        result
            .expect("daemon task panicked")
            .expect("daemon returned an error");
    }
}

/// Polls `cond` until it holds or `deadline` passes (then panics with `what`).
pub async fn wait_for<F, Fut>(what: &str, deadline: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if cond().await {
            return;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `/status` as JSON.
pub async fn status(daemon: &Daemon) -> serde_json::Value {
    let body = reqwest::get(daemon.url("/status"))
        .await
        .expect("GET /status")
        .text()
        .await
        .expect("body");
    serde_json::from_str(&body).expect("status json")
}

/// Waits until every source has at least `n` attempts recorded... approximated
/// by `last_attempt` being set on all of them and `items` matching a predicate.
pub async fn wait_polled(daemon: &Daemon, sources: usize) {
    wait_for("all sources polled", Duration::from_secs(60), || async {
        let s = status(daemon).await;
        let list = s["sources"].as_array().cloned().unwrap_or_default();
        list.len() == sources && list.iter().all(|src| !src["last_attempt"].is_null())
    })
    .await;
}

/// GET returning (status, content-type, body).
pub async fn get(url: &str) -> (u16, String, String) {
    let r = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, r.text().await.unwrap_or_default())
}

/// Parses any feed document the daemon serves.
pub fn parse_feed(body: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(body.as_bytes())
        .unwrap_or_else(|e| panic!("served feed does not parse: {e}\n{body}"))
}

/// Titles of a parsed feed's entries, in order.
pub fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| {
            e.title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// The v1 scenario, running: a temp dir, the fixture server with the four
/// standard feeds, and the daemon on them with every source polled once.
pub struct Standard {
    pub dir: tempfile::TempDir,
    pub feeds: FeedServer,
    /// The SQLite file (`db_name` inside `dir`).
    pub db: PathBuf,
    pub daemon: Daemon,
}

/// Starts [`Standard`] with the database at `db_name` inside the temp dir.
pub async fn standard_daemon(db_name: &str) -> Standard {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    let db = dir.path().join(db_name);
    let daemon = Daemon::start(dir.path(), |listen| {
        standard_config(&feeds, listen, &db, "")
    })
    .await;
    wait_polled(&daemon, 4).await;
    Standard {
        dir,
        feeds,
        db,
        daemon,
    }
}

/// Runs the `feedmerge` binary with `--config config` and `args`; returns
/// (success, stdout, stderr).
pub fn run_cli(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run feedmerge");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
