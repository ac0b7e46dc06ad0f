//! Load from other processes: wrk (with a Lua script for random requests)
//! and nginx serving the same bytes as a static file, `gzip_static on`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What one wrk run measured.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50: f64,
    /// 99th percentile latency, ms.
    pub p99: f64,
    /// Requests answered with a status other than 2xx/3xx.
    pub non_2xx: u64,
    /// Requests done.
    pub requests: u64,
}

/// Runs wrk against `url` for `secs` with `conns` connections (2 threads),
/// the given headers, and an optional Lua script.
pub fn wrk(url: &str, conns: usize, secs: u64, headers: &[&str], script: Option<&Path>) -> Run {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t",
        "2",
        "-c",
        &conns.to_string(),
        "-d",
        &format!("{secs}s"),
    ])
    .args(["--latency", "--timeout", "10s"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(url);
    let out = cmd.output().expect("run wrk (apt-get install wrk)");
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Starts wrk in the background (for floods beside a measured run).
pub fn wrk_background(url: &str, conns: usize, secs: u64, script: &Path) -> Child {
    Command::new("wrk")
        .args([
            "-t",
            "1",
            "-c",
            &conns.to_string(),
            "-d",
            &format!("{secs}s"),
        ])
        .arg("-s")
        .arg(script)
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run wrk")
}

fn parse(out: &str) -> Run {
    let mut run = Run::default();
    let mut in_distribution = false;
    for line in out.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            run.rps = v.trim().parse().unwrap_or(0.0);
        } else if line.starts_with("Latency Distribution") {
            in_distribution = true;
        } else if in_distribution && line.starts_with("50%") {
            run.p50 = ms(line.split_whitespace().nth(1).unwrap_or("0"));
        } else if in_distribution && line.starts_with("99%") {
            run.p99 = ms(line.split_whitespace().nth(1).unwrap_or("0"));
            in_distribution = false;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            run.non_2xx = v.trim().parse().unwrap_or(0);
        } else if line.contains(" requests in ") {
            run.requests = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
    }
    run
}

/// wrk's latency ("812.00us", "3.21ms", "1.02s") in ms.
fn ms(v: &str) -> f64 {
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    if let Some(x) = v.strip_suffix("us") {
        num(x) / 1000.0
    } else if let Some(x) = v.strip_suffix("ms") {
        num(x)
    } else if let Some(x) = v.strip_suffix('m') {
        num(x) * 60_000.0
    } else if let Some(x) = v.strip_suffix('s') {
        num(x) * 1000.0
    } else {
        num(v)
    }
}

/// nginx serving `dir/www` on `port` with `gzip_static on`, 2 workers.
pub struct Nginx {
    child: Child,
}

impl Nginx {
    /// Starts it; `None` (with a message) when nginx is not installed.
    pub fn start(dir: &Path, port: u16) -> Option<Nginx> {
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "worker_processes 2;\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
                 events {{ worker_connections 8192; }}\n\
                 http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n\
                 types {{ application/atom+xml atom; }}\n\
                 gzip_static on;\n\
                 server {{ listen 127.0.0.1:{port}; root {dir}/www; }} }}\n",
                dir = dir.display()
            ),
        )
        .ok()?;
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| eprintln!("nginx not started ({e}): apt-get install nginx"))
            .ok()?;
        std::thread::sleep(Duration::from_millis(500));
        Some(Nginx { child })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Lua script whose every request is a URI never sent before
/// (`prefix` + a counter), for the cache-memory scenario.
pub fn unique_paths_script(dir: &Path, prefix: &str) -> std::path::PathBuf {
    let lua = format!(
        "local n = 0\nlocal id = 0\nsetup = function(t) id = id + 1; t:set('tid', id) end\n\
         init = function() n = tid * 100000000 end\n\
         request = function()\n  n = n + 1\n  return wrk.format(nil, {prefix:?} .. n)\nend\n"
    );
    let path = dir.join("unique.lua");
    std::fs::write(&path, lua).expect("write lua");
    path
}
