//! A source failing longer than `stale_after` is reported at ERROR once (not
//! on every retry). Its own test binary: it installs a global log capture.

mod common;

use common::*;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_source_is_reported_at_error_once() {
    let logs = Capture::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter("feedmerge=warn")
        .init();

    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    feeds.set("down", Doc::status(500, "text/plain", "oops"));
    let db = dir.path().join("s.db");
    let daemon = Daemon::start(dir.path(), |listen| {
        format!(
            "[storage]\npath = \"{}\"\n[server]\nlisten = \"{listen}\"\n[poll]\ncron = \"* * * * * *\"\nmax_backoff = \"1s\"\nstale_after = \"2s\"\n[[source]]\nname = \"down\"\nurl = \"{}\"\n",
            db.display(),
            feeds.url("down")
        )
    })
    .await;
    let warns = |text: &str| {
        text.lines()
            .filter(|l| l.contains(" WARN ") && l.contains("poll failed"))
            .count()
    };
    // Failing for 2 s takes ~3 attempts; keep failing well past that. Wait
    // for the sixth failure to be logged, not for its request to arrive: a
    // stop right after the request cancels that poll before it logs.
    wait_for(
        "attempts past stale_after",
        Duration::from_secs(60),
        || async { warns(&String::from_utf8_lossy(&logs.0.lock().unwrap())) >= 6 },
    )
    .await;
    daemon.stop().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let warns = warns(&text);
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("stale_after"))
        .collect();
    // Polls never overlap, so only the one cut by the stop may miss its WARN.
    let attempts = feeds.hits("down");
    assert!(
        warns >= 6 && (attempts - 1..=attempts).contains(&warns),
        "each failure is a WARN: {warns} for {attempts} attempts\n{text}"
    );
    assert_eq!(
        errors.len(),
        1,
        "one ERROR for a stale source, not one per retry:\n{text}"
    );
    assert!(
        errors[0].contains("source=down") && errors[0].contains("HTTP 500"),
        "{}",
        errors[0]
    );
}
