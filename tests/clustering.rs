//! `[clustering]` through the real daemon: several outlets' reports of one
//! event become one entry in every merged feed, formulaic look-alikes stay
//! apart, and a restart keeps the clusters (a report arriving after it
//! joins the cluster formed before it).

mod clustering_support;
mod common;

use chrono::{Duration as Span, Utc};
use clustering_support::{L, T, rss};
use common::{Daemon, FeedServer, get, wait_for};
use std::time::Duration;

fn config(
    server: &FeedServer,
    listen: std::net::SocketAddr,
    db: &std::path::Path,
    sources: &[&str],
) -> String {
    let mut text = format!(
        "[storage]\npath = \"{}\"\n\n[server]\nlisten = \"{listen}\"\n\n[poll]\ninterval = \"1h\"\ntimeout = \"5s\"\n\n\
         [clustering]\nenabled = true\nwindow = \"48h\"\n\n\
         [[feed]]\nname = \"politika\"\ntitle = \"Политика\"\nsections = [\"Политика\"]\n",
        db.display()
    );
    for name in sources {
        text.push_str(&format!(
            "\n[[source]]\nname = \"{name}\"\nurl = \"{}\"\nsection = \"Политика\"\n",
            server.url(&format!("{name}.rss"))
        ));
    }
    text
}

async fn entries(daemon: &Daemon) -> Vec<serde_json::Value> {
    let (_, _, body) = get(&daemon.url("/feeds/politika.json")).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_event_from_several_outlets_is_one_entry_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("feedmerge.db");
    let server = FeedServer::start().await;
    let now = Utc::now();
    server.set(
        "apa.rss",
        rss("https://apa.example/1", T, L, now - Span::hours(3)),
    );
    server.set(
        "trend.rss",
        rss("https://trend.example/news/77", T, L, now - Span::hours(2)),
    );
    // The formulaic trap: another minister, another country.
    let trap_title = T.replace("Венгрии", "Словакии");
    let trap_lead = L.replace("Венгрии Петера Сийярто", "Словакии Юрая Бланара");
    server.set(
        "report.rss",
        rss(
            "https://report.example/s",
            &trap_title,
            &trap_lead,
            now - Span::hours(1),
        ),
    );
    let first_three = ["apa", "trend", "report"];
    let daemon = Daemon::start(dir.path(), |listen| {
        config(&server, listen, &db, &first_three)
    })
    .await;
    wait_for(
        "the reprint folded into its first report",
        Duration::from_secs(60),
        || async {
            let items = entries(&daemon).await;
            items.len() == 2
                && items.iter().any(|i| {
                    i["content_html"]
                        .as_str()
                        .is_some_and(|c| c.contains("Также сообщают:"))
                })
        },
    )
    .await;
    let items = entries(&daemon).await;
    // The cluster's first report is the one stored first (both outlets are
    // polled at once); the other is its related report, left out.
    let apa = "https://apa.example/1";
    let trend = "https://trend.example/news/77";
    let first = items
        .iter()
        .find(|i| i["url"] == apa || i["url"] == trend)
        .expect("one of the reports is the entry");
    let other = if first["url"] == apa { trend } else { apa };
    let content = first["content_html"].as_str().unwrap();
    assert!(
        content.contains(&format!(
            "<p>Также сообщают:</p><ul><li><a href=\"{other}\">"
        )),
        "{content}"
    );
    assert_eq!(first["_feedmerge"]["related"][0]["url"], other);
    assert!(
        items.iter().any(|i| i["url"] == "https://report.example/s"),
        "the trap stays its own entry: {items:?}"
    );
    assert!(!items.iter().any(|i| i["url"] == other));
    // Atom carries the other report as a related link.
    let (_, _, atom) = get(&daemon.url("/feeds/politika.atom")).await;
    assert!(
        atom.contains(&format!("<link href=\"{other}\" rel=\"related\"/>")),
        "{atom}"
    );
    // So does the HTML page, under the first report's summary.
    let (_, _, page) = get(&daemon.url("/feeds/politika")).await;
    assert!(
        page.contains(&format!(
            "<div class=\"related\"><p>Также сообщают:</p><ul><li><a href=\"{other}\">"
        )),
        "{page}"
    );
    assert!(
        !page.contains(&format!("<h2><a href=\"{other}\">")),
        "{page}"
    );
    daemon.stop().await;

    // After the restart a third outlet's reprint joins the same cluster (a
    // source new to the config is due at once; the others wait an hour).
    server.set(
        "azertac.rss",
        rss("https://azertac.example/9", T, L, now - Span::minutes(30)),
    );
    let all = ["apa", "trend", "report", "azertac"];
    let daemon = Daemon::start(dir.path(), |listen| config(&server, listen, &db, &all)).await;
    wait_for(
        "the late reprint joined the restored cluster",
        Duration::from_secs(60),
        || async {
            let items = entries(&daemon).await;
            items.len() == 2
                && items.iter().any(|i| {
                    i["_feedmerge"]["related"]
                        .as_array()
                        .is_some_and(|r| r.len() == 2)
                })
        },
    )
    .await;
    let items = entries(&daemon).await;
    let first = items
        .iter()
        .find(|i| i["url"] == first["url"])
        .expect("the first report is still the entry");
    assert_eq!(
        first["_feedmerge"]["related"][1]["url"],
        "https://azertac.example/9"
    );
    daemon.stop().await;

    // `explain` by link: the cluster's three members with their rules, and
    // for the trap pair the decision that kept it apart.
    let config = dir.path().join("feedmerge.toml");
    let explain = |args: &[&str]| clustering_support::explain(&config, args);
    let v = explain(&["https://azertac.example/9"]);
    let members = v["members"].as_array().expect("members");
    assert_eq!(members.len(), 3, "{v}");
    assert_eq!(members[2]["source"], "azertac");
    assert!(
        ["reprint", "rewrite"].contains(&members[2]["rule"].as_str().unwrap()),
        "{v}"
    );
    assert!(members[2]["score"].as_f64().unwrap() > 0.0);
    let v = explain(&[apa, "https://report.example/s"]);
    assert_eq!(v["pair"]["same_cluster"], false, "{v}");
    assert_eq!(v["pair"]["decision"]["same"], false, "{v}");
    assert_eq!(v["pair"]["decision"]["rule"], "entity-conflict", "{v}");
}
