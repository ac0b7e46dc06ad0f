//! The stub news site the daemon polls: `SOURCES` RSS feeds of `ITEMS`
//! items each, generated on request from the source number (so nothing is
//! held in memory), with an ETag per feed version so a re-poll is a 304.
//! One feed (`hot`) can be given a new item to make the daemon's next poll
//! change a section.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sections the sources are spread over (a quarter each).
pub const SECTIONS: [&str; 4] = ["Политика", "Экономика", "Спорт", "Культура"];
/// Languages of the sources, by source number.
pub const LANGS: [&str; 3] = ["ru", "az", "en"];
/// Words titles are made of; `q=` picks among them.
pub const WORDS: [&str; 24] = [
    "бюджет",
    "парламент",
    "министр",
    "выборы",
    "нефть",
    "газ",
    "курс",
    "манат",
    "рубль",
    "саммит",
    "визит",
    "переговоры",
    "соглашение",
    "инвестиции",
    "экспорт",
    "банк",
    "суд",
    "реформа",
    "транспорт",
    "энергетика",
    "туризм",
    "урожай",
    "футбол",
    "театр",
];

/// What the site serves.
pub struct Site {
    /// Items per feed.
    pub items: usize,
    /// Versions of the hot feed: each adds one item at its top.
    pub hot_version: AtomicU64,
}

impl Site {
    /// The feed of source `n` (items newest first).
    pub fn feed(&self, n: usize, extra: u64) -> String {
        let lang = LANGS[n % LANGS.len()];
        let mut out = String::with_capacity(self.items * 420);
        let _ = write!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
             <title>Агентство {n}</title><link>https://agency{n}.example/</link>\
             <language>{lang}</language>"
        );
        // Two years of stories, spread evenly, newest first.
        let span = 2 * 365 * 24 * 3600 / self.items.max(1) as i64;
        let newest = 1_733_000_000_i64;
        for k in 0..extra {
            item(
                &mut out,
                n,
                1_000_000 + k as usize,
                newest + 60 * (k as i64 + 1),
            );
        }
        for i in 0..self.items {
            // Sources differ in phase, so stories interleave across feeds.
            let at = newest - i as i64 * span - (n as i64 * 37) % span.max(1);
            item(&mut out, n, i, at);
        }
        out.push_str("</channel></rss>\n");
        out
    }
}

fn item(out: &mut String, n: usize, i: usize, at: i64) {
    let w = |k: usize| WORDS[(n * 7 + i * 13 + k * 5) % WORDS.len()];
    let date = chrono::DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .to_rfc2822();
    let _ = write!(
        out,
        "<item><title>{} и {}: {} {i} агентства {n}</title>\
         <link>https://agency{n}.example/news/{i}</link>\
         <guid>https://agency{n}.example/news/{i}</guid><pubDate>{date}</pubDate>\
         <description>&lt;p&gt;Сообщение о том, что {} и {} обсуждались, \
         &lt;b&gt;подробности&lt;/b&gt; в материале.&lt;/p&gt;</description></item>",
        w(0),
        w(1),
        w(2),
        w(3),
        w(4),
    );
}

/// The section a source's config gives it.
pub fn section_of(n: usize) -> &'static str {
    SECTIONS[n % SECTIONS.len()]
}

/// Serves the site on 127.0.0.1; returns its address.
pub async fn serve(site: Arc<Site>) -> SocketAddr {
    let app = Router::new().route("/f/{file}", get(feed)).with_state(site);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind site");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

async fn feed(State(site): State<Arc<Site>>, Path(file): Path<String>, h: HeaderMap) -> Response {
    let name = file.trim_end_matches(".rss");
    let (n, extra) = match name {
        "hot" => (0, site.hot_version.load(Ordering::SeqCst)),
        other => match other.parse::<usize>() {
            Ok(n) => (n, 0),
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let etag = format!("\"{name}-{extra}\"");
    if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let site = Arc::clone(&site);
    let body = tokio::task::spawn_blocking(move || site.feed(n, extra))
        .await
        .unwrap_or_default();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/rss+xml; charset=utf-8".to_string(),
            ),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}
