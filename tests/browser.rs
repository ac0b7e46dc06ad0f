//! The HTML pages in a real browser: headless Chromium (Debian's
//! `chromium`) loads the index, a section page and a named-feed page at a
//! phone width (390 px) and a desktop width (1280 px), with no console
//! errors; screenshots land in `target/tmp/screenshots/` for a person to
//! look at. Every link on the pages resolves.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const PAGES: [(&str, &str); 3] = [
    ("index", "/"),
    (
        "section",
        "/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0",
    ),
    ("feed-paged", "/feeds/politika?limit=2"),
];

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// One headless run: a screenshot of `url` at `width`; returns Chromium's
/// stderr, where console messages are logged.
async fn screenshot(chromium: &Path, url: &str, width: u32, out: &Path) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let run = tokio::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!(
            "--window-size={width},{}",
            if width < 500 { 844 } else { 900 }
        ))
        .arg(format!("--screenshot={}", out.display()))
        .arg(url)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("chromium finished within 90 s")
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "chromium failed on {url}: {stderr}"
    );
    stderr
}

/// `href="…"` values of a page (our own markup: always double-quoted).
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_in_chromium_at_phone_and_desktop_widths() {
    let Some(chromium) = find_chromium() else {
        let reason = "chromium is not installed (apt-get install chromium)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{reason}: CI must run the browser test");
        }
        eprintln!("SKIPPED pages_render_in_chromium_at_phone_and_desktop_widths: {reason}");
        return;
    };
    let Standard {
        dir: _dir,
        feeds: _feeds,
        db: _db,
        daemon,
    } = standard_daemon("feedmerge.db").await;

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (name, path) in PAGES {
        let url = daemon.url(path);
        let (code, ct, html) = get(&url).await;
        assert_eq!(code, 200, "{path}");
        assert!(ct.starts_with("text/html"), "{ct}");
        assert!(!html.contains("<script"), "no JavaScript");
        assert!(!html.contains("src=\"http"), "no external assets");
        for href in hrefs(&html) {
            if href.starts_with("data:") {
                continue;
            }
            if href.starts_with('/') || href.starts_with(&daemon.url("/")) {
                let target = if href.starts_with('/') {
                    daemon.url(&href)
                } else {
                    href.clone()
                };
                assert_eq!(get(&target).await.0, 200, "link {href} on {path}");
            } else {
                assert!(
                    url::Url::parse(&href).is_ok_and(|u| u.scheme().starts_with("http")),
                    "{href}"
                );
            }
        }
        for width in [390, 1280] {
            let out = shots.join(format!("{name}-{width}.png"));
            let _ = std::fs::remove_file(&out);
            let log = screenshot(&chromium, &url, width, &out).await;
            let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
            assert!(
                console.is_empty(),
                "console messages on {path} at {width}px: {console:#?}"
            );
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            assert!(
                size > 5_000,
                "{} is a real picture ({size} bytes)",
                out.display()
            );
            println!("screenshot: {}", out.display());
        }
    }
    let (_, _, section) = get(&daemon.url(PAGES[1].1)).await;
    for expected in [
        "Госдума приняла бюджет на 2025 год",
        "Milli Məclis yeni qanun qəbul etdi",
        "application/atom+xml",
    ] {
        assert!(section.contains(expected), "{expected}");
    }
    let (_, _, index) = get(&daemon.url("/")).await;
    assert!(
        index.contains(r#"<link rel="alternate" type="application/atom+xml""#),
        "autodiscovery"
    );
    assert!(index.contains(">Политика</a>") && index.contains("sources.opml"));
    let (_, _, page2) = get(&daemon.url(PAGES[2].1)).await;
    let older = hrefs(&page2)
        .into_iter()
        .find(|h| h.contains("before="))
        .expect("an Older stories link");
    let (_, _, later) = get(&daemon.url(&older)).await;
    assert!(
        later.contains("Newest"),
        "a later page links back to the newest"
    );
    assert!(
        later.contains("Совет Федерации одобрил закон о выборах"),
        "page 2 holds stories 3-4"
    );
    daemon.stop().await;
}
