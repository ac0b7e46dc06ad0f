//! The systemd watchdog is fed only while the daemon works: the scheduler
//! ticks and the writer answers. A wedged writer or a stopped scheduler
//! stops the keep-alives, so systemd restarts the daemon.

use feedmerge::config::Config;
use feedmerge::daemon::watchdog::{self, Unhealthy};
use feedmerge::pipeline::Pipeline;
use feedmerge::scheduler::{Heartbeat, InFlight, Scheduler};
use feedmerge::store::Store;
use feedmerge::store::sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;

/// Polls `cond` until it holds, or panics after `deadline`.
async fn eventually<F, Fut>(what: &str, deadline: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !cond().await {
        assert!(start.elapsed() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_writer_or_a_stopped_scheduler_stops_the_keep_alives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feedmerge.toml");
    let config = Config::parse(
        &format!(
            "[storage]\npath = \"{}\"\n",
            dir.path().join("f.db").display()
        ),
        &path,
    )
    .unwrap();
    let config = Arc::new(config);
    let sqlite = Arc::new(SqliteStore::open(&config.storage_path).unwrap());
    let store: Arc<dyn Store> = sqlite.clone();
    let pipeline = Pipeline::new(Arc::clone(&config), Arc::clone(&store)).unwrap();
    let heartbeat = Heartbeat::default();
    let scheduler = Scheduler::start(
        pipeline,
        tokio_util::task::TaskTracker::new(),
        tokio_util::sync::CancellationToken::new(),
        &InFlight::default(),
        &heartbeat,
    )
    .await
    .unwrap();
    // Generous budgets where health is expected: a loaded machine may run
    // a tick late, which must not read as a hang.
    let healthy = Duration::from_secs(20);
    eventually("a working daemon passes", healthy, || async {
        watchdog::check(store.as_ref(), &heartbeat, healthy)
            .await
            .is_ok()
    })
    .await;

    let hold = sqlite.hold_writer().await;
    assert_eq!(
        watchdog::check(store.as_ref(), &heartbeat, Duration::from_millis(500)).await,
        Err(Unhealthy::WriterStalled),
        "a writer that does not answer is a hang"
    );
    drop(hold);
    eventually("the released writer answers again", healthy, || async {
        watchdog::check(store.as_ref(), &heartbeat, healthy)
            .await
            .is_ok()
    })
    .await;

    scheduler.stop().await;
    eventually(
        "a scheduler that stopped ticking shows",
        Duration::from_secs(30),
        || async {
            matches!(
                watchdog::check(store.as_ref(), &heartbeat, Duration::from_secs(2)).await,
                Err(Unhealthy::SchedulerStalled(_))
            )
        },
    )
    .await;
}

/// Through the real protocol: `feedmerge run` under a fake systemd (a
/// datagram socket as `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` set) says READY=1
/// and then keeps sending WATCHDOG=1.
#[test]
fn the_daemon_feeds_systemd_s_watchdog_while_it_works() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let config = dir.path().join("feedmerge.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\npath = \"{}\"\n[server]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().join("f.db").display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "1000000")
        .env_remove("WATCHDOG_PID")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while seen
        .iter()
        .filter(|m: &&String| m.contains("WATCHDOG=1"))
        .count()
        < 3
    {
        match socket.recv(&mut buf) {
            Ok(n) => seen.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(e) => {
                let _ = child.kill();
                panic!("no notification within 30 s ({e}); got {seen:?}");
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen[0].contains("READY=1"), "ready first: {seen:?}");
}
