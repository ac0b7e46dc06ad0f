//! The steady-state part: 4 real worker daemons (`daemon::run_worker`,
//! the path `feedmerge run` takes with `[storage] url`), each on a tokio
//! runtime of its own with its own connection pool, claim and poll the
//! sources from the stub server while their due times arrive at a rate
//! the workers can keep up with. See the bench's doc comment for the setup.

use super::stub::{self, Stub};
use super::watch::{self, Claim, Ear};
use chrono::Utc;
use feedmerge::config::Config;
use feedmerge::store::postgres::PgStore;
use feedmerge::store::{SourceSpec, Store};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub const WORKERS: usize = 4;
/// Due sources offered per second, all workers together.
const OFFERED_PER_SEC: usize = 260;
/// The longest measured run (warm-up included), seconds.
const MAX_RUN_SECS: u64 = 300;
/// Goals of the issue.
const GOAL_PER_WORKER: f64 = 50.0;
const GOAL_P99_SECS: f64 = 60.0;

/// The timing of one run, from the number of sources.
struct Plan {
    sources: usize,
    /// `[poll] interval` and the span the first due times are spread over.
    interval: u64,
    warmup: u64,
    /// Warm-up plus the measured window.
    run: u64,
}

impl Plan {
    fn new(sources: usize) -> Plan {
        let interval = (sources / OFFERED_PER_SEC).max(10) as u64;
        // Under an interval, so no source is due twice in the run and any
        // second fetch of one is a double fetch.
        let run = (interval * 3 / 4).min(MAX_RUN_SECS);
        Plan {
            sources,
            interval,
            warmup: run / 5,
            run,
        }
    }
}

fn config_text(stub: &Stub, url: &str, plan: &Plan) -> String {
    let mut toml = format!(
        "[storage]\nurl = \"{url}\"\npool_size = 4\n\n\
         [poll]\ninterval = \"{}s\"\ntimeout = \"15s\"\nconcurrency = 50\nper_host = 4\n\n\
         [worker]\nid = \"w0\"\nlease = \"90s\"\nserve = false\n\n[sections]\n\"World\" = []\n",
        plan.interval
    );
    for n in 0..plan.sources {
        toml.push_str(&format!(
            "\n[[source]]\nname = \"s{n}\"\nurl = \"{}\"\n",
            stub.url(n)
        ));
    }
    toml
}

/// One worker daemon on a runtime (and thread names) of its own.
fn start_worker(
    w: usize,
    config: Config,
    stop: CancellationToken,
) -> std::thread::JoinHandle<Result<(), String>> {
    // The daemon's own future runs on this thread (block_on), its tasks on
    // the runtime's: all named, so the logs say which worker spoke.
    let name = format!("{}{w}", watch::THREAD_PREFIX);
    let thread = std::thread::Builder::new().name(name.clone());
    let spawned = thread.spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime
            .block_on(feedmerge::daemon::run_worker(
                config,
                None,
                stop.cancelled_owned(),
            ))
            .map_err(|e| e.to_string())
    });
    spawned.expect("start a worker thread")
}

async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

fn pct(sorted: &[f64], p: usize) -> f64 {
    sorted.get(sorted.len() * p / 100).copied().unwrap_or(0.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// Registers the sources, starts the workers, offers due sources for
/// `plan.run` seconds, and prints the figures.
pub async fn run(url: &str, sources: usize, ear: &Ear) {
    let plan = Plan::new(sources);
    let stub = Stub::start();
    let started = Instant::now();
    let setup = PgStore::connect(url, 2).await.expect("connect");
    let specs: Vec<SourceSpec> = (0..sources)
        .map(|n| SourceSpec {
            name: format!("s{n}"),
            url: stub.url(n),
            title: None,
        })
        .collect();
    for chunk in specs.chunks(5_000) {
        setup.register_sources(chunk).await.expect("register");
    }
    // Nothing due until the workers are up; validators as earlier polls
    // would have left them.
    let client = sql(url).await;
    client
        .execute(
            "UPDATE sources SET next_check_at = 4102444800, etag = '\"v1\"'",
            &[],
        )
        .await
        .expect("park sources");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::parse(
        &config_text(&stub, url, &plan),
        &dir.path().join("feedmerge.toml"),
    )
    .expect("bench config");
    println!(
        "steady state: {sources} sources on {} sites, interval {}s ({:.0} due/s offered), \
         {WORKERS} workers; setup {:.1}s",
        stub::SITES,
        plan.interval,
        sources as f64 / plan.interval as f64,
        started.elapsed().as_secs_f64()
    );
    let stop = CancellationToken::new();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut config = config.clone();
            config.worker.id = format!("w{w}");
            start_worker(w, config, stop.clone())
        })
        .collect();
    drop(config);
    let up = Instant::now();
    while ear.lock().unwrap().running.len() < WORKERS {
        assert!(
            up.elapsed() < Duration::from_secs(600),
            "workers did not start"
        );
        assert!(
            workers.iter().all(|w| !w.is_finished()),
            "a worker ended at start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("workers up in {:.1}s", up.elapsed().as_secs_f64());

    // Due times spread evenly over one interval from t0, in source order
    // (so consecutive due sources are on different sites).
    let t0 = Utc::now().timestamp() + 3;
    client
        .execute(
            "UPDATE sources s SET next_check_at = $1 + (r.k * $2) / $3
             FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM sources) r
             WHERE s.id = r.id",
            &[&t0, &(plan.interval as i64), &(sources as i64)],
        )
        .await
        .expect("spread due times");
    let due: HashMap<usize, i64> = client
        .query("SELECT name, next_check_at FROM sources", &[])
        .await
        .expect("due times")
        .iter()
        .filter_map(|r| {
            let name: String = r.get(0);
            Some((name[1..].parse().ok()?, r.get::<_, i64>(1)))
        })
        .collect();
    let load_before = loadavg();
    let end = t0 + plan.run as i64;
    while Utc::now().timestamp() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Drain: every source due before the end claimed (or 120 s passed).
    let drain = Instant::now();
    loop {
        let left: i64 = client
            .query_one(
                "SELECT count(*) FROM sources WHERE next_check_at <= $1",
                &[&end],
            )
            .await
            .expect("count due")
            .get(0);
        if left == 0 || drain.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let the last polls finish before the workers stop.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let load_after = loadavg();
    stop.cancel();
    for w in workers {
        match w.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => println!("a worker failed: {e}"),
            Err(_) => println!("a worker panicked"),
        }
    }
    let stats = stub.stats().await;
    let claims = ear.lock().unwrap().claims.clone();
    report(&plan, t0, &due, &stats, &claims);
    println!("load average before/after the run: {load_before} / {load_after}");
}

fn report(plan: &Plan, t0: i64, due: &HashMap<usize, i64>, stats: &stub::Stats, claims: &[Claim]) {
    let end = t0 + plan.run as i64;
    let (from_ms, to_ms) = ((t0 + plan.warmup as i64) * 1000, end * 1000);
    let window = (plan.run - plan.warmup) as f64;
    // A source is due once per interval: two fetches closer than half of
    // it are two fetches for one due time.
    let half = plan.interval as i64 * 500;
    let doubles = stats
        .fetches
        .values()
        .filter(|t| t.windows(2).any(|p| p[1] - p[0] < half))
        .count();
    let mut by_source: HashMap<usize, Vec<i64>> = HashMap::new();
    for c in claims {
        by_source.entry(c.source).or_default().push(c.at_ms);
    }
    by_source.values_mut().for_each(|t| t.sort_unstable());
    let claimed_twice = by_source
        .values()
        .filter(|t| t.windows(2).any(|p| p[1] - p[0] < half))
        .count();
    let lost = due
        .iter()
        .filter(|(n, d)| **d <= end && !stats.fetches.contains_key(n))
        .count();
    let due_in_run = due.values().filter(|d| **d <= end).count();
    let measured: Vec<&Claim> = claims
        .iter()
        .filter(|c| c.at_ms >= from_ms && c.at_ms < to_ms)
        .collect();
    let mut late: Vec<f64> = measured.iter().map(|c| c.late).collect();
    late.sort_by(f64::total_cmp);
    let mut fetch_late: Vec<f64> = stats
        .fetches
        .iter()
        .filter_map(|(n, t)| Some((*t.first()?, *due.get(n)?)))
        .filter(|(t, _)| *t >= from_ms && *t < to_ms)
        .map(|(t, d)| (t - d * 1000) as f64 / 1000.0)
        .collect();
    fetch_late.sort_by(f64::total_cmp);
    let fetched: usize = stats.fetches.values().map(Vec::len).sum();
    println!(
        "run: {}s from the first due time, the last {:.0}s measured after a {}s warm-up",
        plan.run, window, plan.warmup
    );
    println!(
        "stub server: {fetched} fetches ({} x 200, {} x 304) of {} sources due in the run",
        stats.ok, stats.not_modified, due_in_run
    );
    println!(
        "double fetches: {doubles} (goal 0) {} (claimed twice, by the workers' logs: \
         {claimed_twice}); lost: {lost} (goal 0) {}",
        verdict(doubles == 0),
        verdict(lost == 0)
    );
    let mut slowest = f64::MAX;
    for w in 0..WORKERS {
        let n = measured.iter().filter(|c| c.worker == w).count();
        let rate = n as f64 / window;
        slowest = slowest.min(rate);
        println!("w{w}: {n} fetches in the window, {rate:.1} fetches/s");
    }
    println!(
        "fetches/s per worker: slowest {slowest:.1} (goal >= {GOAL_PER_WORKER}) {}",
        verdict(slowest >= GOAL_PER_WORKER)
    );
    let p99 = pct(&late, 99);
    println!(
        "lateness (claim - due) over {} claims: p50 {:.1}s, p99 {p99:.1}s, max {:.1}s \
         (goal p99 < {GOAL_P99_SECS}s) {}",
        late.len(),
        pct(&late, 50),
        late.last().copied().unwrap_or(0.0),
        verdict(p99 < GOAL_P99_SECS && !late.is_empty())
    );
    println!(
        "lateness at the server (fetch - due): p50 {:.1}s, p99 {:.1}s",
        pct(&fetch_late, 50),
        pct(&fetch_late, 99)
    );
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
