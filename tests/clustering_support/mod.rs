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
