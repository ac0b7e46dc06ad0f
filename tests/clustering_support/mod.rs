//! What the clustering tests share: one agency report as a feed, the
//! report and its formulaic look-alike, and the daemon with a reload
//! channel (what SIGHUP feeds in production).
#![allow(dead_code)]

use crate::common::{Doc, get};
use chrono::{DateTime, Utc};

/// A report's headline, reprinted word for word by several outlets.
pub const T: &str = "Президент Азербайджана принял министра иностранных дел Венгрии";
/// Its lead.
pub const L: &str =
    "Президент Ильхам Алиев принял министра иностранных дел Венгрии Петера Сийярто.";

/// A one-item Russian RSS feed.
pub fn rss(link: &str, title: &str, lead: &str, at: DateTime<Utc>) -> Doc {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>\
         <link>https://x.example/</link><description>d</description><language>ru</language>\
         <item><title>{title}</title><link>{link}</link><guid>{link}</guid>\
         <pubDate>{}</pubDate><description>{lead}</description></item></channel></rss>",
        at.to_rfc2822()
    );
    Doc::feed("application/rss+xml", body.into_bytes())
}

/// The items of a JSON Feed at `url`.
pub async fn json_items(url: &str) -> Vec<serde_json::Value> {
    let (_, _, body) = get(url).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["items"].as_array().cloned().unwrap_or_default()
}

/// The entry of `items` whose link is `url`.
pub fn entry<'a>(items: &'a [serde_json::Value], url: &str) -> Option<&'a serde_json::Value> {
    items.iter().find(|i| i["url"] == url)
}

/// The links of an entry's other reports (`_feedmerge.related`).
pub fn related(entry: Option<&serde_json::Value>) -> Vec<String> {
    entry
        .and_then(|e| e["_feedmerge"]["related"].as_array())
        .map(|r| {
            r.iter()
                .filter_map(|x| x["url"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The daemon in-process with a reload channel.
pub struct Reloadable {
    pub addr: std::net::SocketAddr,
    pub config_path: std::path::PathBuf,
    reload: tokio::sync::mpsc::Sender<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), feedmerge::daemon::DaemonError>>,
}

impl Reloadable {
    /// Starts the real daemon with `make_config(listen_addr)`.
    pub async fn start(
        dir: &std::path::Path,
        make_config: impl FnOnce(std::net::SocketAddr) -> String,
    ) -> Reloadable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config_path = dir.join("feedmerge.toml");
        std::fs::write(&config_path, make_config(addr)).unwrap();
        let config =
            feedmerge::config::Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
        let (reload, reloads) = tokio::sync::mpsc::channel(1);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(feedmerge::daemon::run_with_reloads(
            config,
            listener,
            async move {
                let _ = stopped.await;
            },
            reloads,
        ));
        Reloadable {
            addr,
            config_path,
            reload,
            stop,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Replaces the config file as editors do (a new file renamed over
    /// the old) and asks for a reload.
    pub async fn reload_with(&self, config: &str) {
        let tmp = self.config_path.with_extension("toml.new");
        std::fs::write(&tmp, config).unwrap();
        std::fs::rename(&tmp, &self.config_path).unwrap();
        self.reload
            .send(())
            .await
            .expect("daemon listens for reloads");
    }

    /// Signals shutdown and waits (bounded) for a clean exit.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let ended = tokio::time::timeout(std::time::Duration::from_secs(30), self.task)
            .await
            .expect("daemon stops within 30 s");
        ended.expect("no panic").expect("clean exit");
    }
}

/// `feedmerge explain ARGS` with the config at `config`, as JSON.
pub fn explain(config: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .arg("--config")
        .arg(config)
        .arg("explain")
        .args(args)
        .output()
        .expect("run feedmerge explain");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("explain prints JSON")
}
