//! Several `feedmerge run` processes (the built binary) on one PostgreSQL
//! schema and one loopback feed server: a worker killed with `kill -9`
//! loses its sources to another within its lease plus a claim interval,
//! and a worker paused past its lease (SIGSTOP, then SIGCONT) writes
//! nothing stale. Needs `FEEDMERGE_TEST_PG_URL` (else says it skipped).

#[path = "store_contract/backends.rs"]
mod backends;
mod common;

use common::*;
use feedmerge::store::Store;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SOURCES: usize = 8;
/// Longer than a fetch may take (15 s timeout), as config requires.
const LEASE: Duration = Duration::from_secs(20);

fn rss(n: usize) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>P{n}</title>\
         <link>https://p{n}.example/</link><description>d</description>\
         <item><guid>p{n}-1</guid><title>Story {n}</title><link>https://p{n}.example/1</link>\
         <pubDate>Sun, 01 Mar 2026 12:00:00 GMT</pubDate></item></channel></rss>"
    )
    .into_bytes()
}

/// One worker process, its stderr collected line by line.
struct Worker {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Worker {
    fn start(feeds: &FeedServer, url: &str, id: &str, concurrency: usize) -> Worker {
        let dir = tempfile::tempdir().unwrap();
        let mut toml = format!(
            "[storage]\nurl = \"{url}\"\npool_size = 4\n\n[poll]\ninterval = \"1h\"\n\
             timeout = \"15s\"\nconcurrency = {concurrency}\nper_host = 8\n\n\
             [worker]\nid = \"{id}\"\nlease = \"{}s\"\nserve = false\n",
            LEASE.as_secs()
        );
        for n in 0..SOURCES {
            toml.push_str(&format!(
                "\n[[source]]\nname = \"p{n}\"\nurl = \"{}\"\n",
                feeds.url(&format!("p{n}.rss"))
            ));
        }
        let config = dir.path().join("feedmerge.toml");
        std::fs::write(&config, toml).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_feedmerge"))
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                lines.lock().unwrap().push(line);
            }
        });
        Worker {
            child,
            log,
            _dir: dir,
        }
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid, with a valid signal.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }

    fn logged(&self, words: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(words))
            .count()
    }

    fn stop(mut self) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

/// (lease holder, last poller) of every source, by name order.
async fn holders(store: &dyn Store) -> Vec<(Option<String>, Option<String>)> {
    store
        .source_status()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.lease_holder, s.polled_by))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_its_sources_and_a_paused_one_writes_nothing_stale() {
    let Some(base) = backends::pg_url("processes") else {
        return;
    };
    let (store, base, schema) = backends::pg_store(&base, "processes").await;
    let url = backends::url_in_schema(&base, &schema);
    let feeds = FeedServer::start().await;
    let gate = Gate::closed();
    for n in 0..SOURCES {
        feeds.set(
            &format!("p{n}.rss"),
            Doc::feed("application/rss+xml", rss(n)).gated(&gate),
        );
    }
    // Each of A and C has room for half the sources at once, so each
    // claims half and holds them at the gate.
    let a = Worker::start(&feeds, &url, "A", SOURCES / 2);
    wait_for(
        "A holds half the sources",
        Duration::from_secs(30),
        || async { gate.held() == SOURCES / 2 },
    )
    .await;
    let c = Worker::start(&feeds, &url, "C", SOURCES / 2);
    wait_for(
        "C holds the other half",
        Duration::from_secs(30),
        || async { gate.held() == SOURCES },
    )
    .await;
    let held = holders(&*store).await;
    let count = |w: &str| held.iter().filter(|h| h.0.as_deref() == Some(w)).count();
    assert_eq!(
        (count("A"), count("C")),
        (SOURCES / 2, SOURCES / 2),
        "{held:?}"
    );

    a.signal(libc::SIGKILL);
    c.signal(libc::SIGSTOP);
    let stopped = Instant::now();
    gate.open();
    let b = Worker::start(&feeds, &url, "B", 16);
    wait_for("B polled every source", LEASE * 3, || async {
        holders(&*store)
            .await
            .iter()
            .all(|h| h.1.as_deref() == Some("B"))
    })
    .await;
    let takeover = stopped.elapsed();
    eprintln!(
        "takeover {:.1}s after kill -9 (lease {}s)",
        takeover.as_secs_f64(),
        LEASE.as_secs()
    );
    assert!(
        takeover < LEASE + Duration::from_secs(15),
        "within the lease plus a claim interval (and slack for a loaded machine)"
    );
    let after_b = store.source_status().await.unwrap();

    c.signal(libc::SIGCONT);
    wait_for(
        "C found its leases lost",
        Duration::from_secs(30),
        || async { c.logged("lease lost") == SOURCES / 2 },
    )
    .await;
    let now = store.source_status().await.unwrap();
    assert_eq!(now, after_b, "C's late results changed nothing");
    let stories = store
        .stories(&feedmerge::store::StoryQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stories.len(), SOURCES, "one story per source, none twice");
    assert_eq!(b.logged("lease lost"), 0);
    for w in [b, c] {
        w.stop();
    }
    let mut a = a;
    let _ = a.child.wait();
    drop(store);
    backends::drop_schema(&base, &schema).await;
}
