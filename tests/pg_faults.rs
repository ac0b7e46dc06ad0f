//! PostgreSQL unreachable while the daemon runs: a TCP proxy between the
//! daemon and the test database is cut (every connection dropped, new ones
//! refused) and restored. Meanwhile the daemon keeps serving the feeds it
//! has cached and `/healthz` says storage is degraded; afterwards it
//! reconnects by itself and polling resumes. Needs `FEEDMERGE_TEST_PG_URL`.

#[path = "store_contract/backends.rs"]
mod backends;
mod common;

use common::*;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A loopback proxy to `target` that can be cut and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (up2, conns2) = (Arc::clone(&up), Arc::clone(&conns));
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection closed
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns2.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy { port, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn rss(stories: usize) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>F</title>\
         <link>https://f.example/</link><description>d</description>",
    );
    for n in 0..stories {
        out.push_str(&format!(
            "<item><guid>f-{n}</guid><title>Story {n}</title><link>https://f.example/{n}</link>\
             <category>World</category></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_its_cache_while_postgres_is_away_and_resumes() {
    let Some(base) = backends::pg_url("faults") else {
        return;
    };
    let (store, base, schema) = backends::pg_store(&base, "faults").await;
    drop(store);
    let mut direct = url::Url::parse(&backends::url_in_schema(&base, &schema)).unwrap();
    let target = format!(
        "{}:{}",
        direct.host_str().unwrap_or("127.0.0.1"),
        direct.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(target).await;
    direct.set_host(Some("127.0.0.1")).unwrap();
    direct.set_port(Some(proxy.port)).unwrap();
    let url = direct.to_string();

    let feeds = FeedServer::start().await;
    feeds.set("f.rss", Doc::feed("application/rss+xml", rss(1)));
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), |listen| {
        format!(
            "[storage]\nurl = \"{url}\"\npool_size = 2\n\n[server]\nlisten = \"{listen}\"\n\n\
             [poll]\ninterval = \"10s\"\ntimeout = \"5s\"\n\n[worker]\nid = \"w\"\nlease = \"20s\"\n\n\
             [sections]\n\"World\" = []\n\n[[source]]\nname = \"f\"\nurl = \"{}\"\n",
            feeds.url("f.rss")
        )
    })
    .await;
    let feed = daemon.url("/sections/world.atom");
    wait_for(
        "the first poll is served",
        Duration::from_secs(30),
        || async { get(&feed).await.2.contains("Story 0") },
    )
    .await;
    let (_, _, cached) = get(&feed).await;

    proxy.cut();
    feeds.set("f.rss", Doc::feed("application/rss+xml", rss(2)));
    wait_for(
        "/healthz says storage is degraded",
        Duration::from_secs(15),
        || async { get(&daemon.url("/healthz")).await.0 == 503 },
    )
    .await;
    let (code, _, during) = get(&feed).await;
    assert_eq!((code, during), (200, cached), "the cached answer is served");

    proxy.restore();
    wait_for(
        "polling resumed and the new story is served",
        Duration::from_secs(60),
        || async { get(&feed).await.2.contains("Story 1") },
    )
    .await;
    assert_eq!(get(&daemon.url("/healthz")).await.0, 200);
    daemon.stop().await;
    backends::drop_schema(&base, &schema).await;
}
