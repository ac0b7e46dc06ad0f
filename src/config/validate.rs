//! Turns config text into a `Config`, collecting every problem on the way.
//!
//! The document is cut into its tables ([`tables`]), then each table is
//! checked by its own function: [`storage`], [`server::server`],
//! [`poll::poll`], [`sections`], [`source::source`] for each `[[source]]`
//! and [`feed::feed`] for each `[[feed]]`. Problems point at the line of the
//! key they are about, from the TOML parser's spans.

mod clustering;
mod feed;
mod html;
mod poll;
mod server;
mod source;
mod tables;
mod worker;

use super::checks::{Ctx, duration};
use super::raw::{RawSections, RawStorage};
use super::{Config, ConfigProblem};
use crate::model::sections::SectionMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tables::{Table, Tables};
use toml::de::DeTable;

pub(super) const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub(super) const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;
pub(super) const DEFAULT_CONCURRENCY: u64 = 16;
const DEFAULT_FEED_LIMIT: u64 = 50;
pub(super) const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
pub(super) const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_PER_HOST: u64 = 2;
pub(super) const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;
pub(super) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The whole config, or every problem found in it, in file order.
pub(super) fn validate(text: &str, path: &Path) -> Result<Config, Vec<ConfigProblem>> {
    let mut cx = Ctx {
        text,
        problems: Vec::new(),
    };
    let Some(doc) = parse(&mut cx, text) else {
        return Err(cx.problems);
    };
    let tables = Tables::split(&mut cx, doc);
    let storage_path = storage(&tables.storage, path);
    let storage_keep = keep(&mut cx, &tables.storage);
    let (storage_url, pool_size) = worker::postgres(&mut cx, &tables.storage);
    let server = server::server(&mut cx, &tables.server);
    let poll = poll::poll(&mut cx, &tables.poll);
    let sections = sections(&mut cx, &tables.sections);
    let mut source_names = HashSet::new();
    let sources: Vec<_> = tables
        .sources
        .into_iter()
        .map(|t| source::source(&mut cx, t, &poll.defaults, &sections, &mut source_names))
        .collect();
    let worker = worker::worker(&mut cx, &tables.worker, &sources);
    let clustering = clustering::clustering(&mut cx, &tables.clustering);
    let mut feed_names = HashSet::new();
    let feeds: Vec<_> = tables
        .feeds
        .into_iter()
        .map(|t| feed::feed(&mut cx, t, &sections, &source_names, &mut feed_names))
        .collect();

    if !cx.problems.is_empty() {
        // Stable: problems on one line stay in the order they were checked.
        cx.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        return Err(cx.problems);
    }
    Ok(Config {
        path: path.to_path_buf(),
        storage_path,
        storage_keep,
        storage_url,
        pool_size,
        worker,
        clustering,
        listen: server.listen,
        base_url: server.base_url,
        websub_hub: server.websub_hub,
        metrics_source_labels: server.metrics_source_labels,
        serving: server.serving,
        fetch: poll.fetch,
        sections,
        sources,
        feeds,
    })
}

/// The document's tables, or `None` after recording the syntax error (the
/// parser stops at the first).
fn parse<'t>(cx: &mut Ctx<'_>, text: &'t str) -> Option<DeTable<'t>> {
    match DeTable::parse(text) {
        Ok(doc) => Some(doc.into_inner()),
        Err(e) => {
            let at = e.span().map(|s| s.start);
            cx.problem("(syntax)", at, e.message().trim().to_string());
            None
        }
    }
}

/// `[storage]`: the SQLite file, relative to the config's folder so the
/// daemon finds it whatever its working directory.
fn storage(table: &Table<RawStorage>, config_path: &Path) -> PathBuf {
    let p = Path::new(table.raw.path.as_deref().unwrap_or("feedmerge.db"));
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        let base_dir = config_path.parent().unwrap_or(Path::new(""));
        base_dir.join(p)
    }
}

/// Shorter retention than this is surely a slip (`10m` for ten months is
/// `10M`): it would purge what was polled minutes ago.
const MIN_KEEP: Duration = Duration::from_secs(24 * 3600);

/// `[storage] keep`: a humantime duration of at least a day; unset keeps
/// every story.
fn keep(cx: &mut Ctx<'_>, table: &Table<RawStorage>) -> Option<Duration> {
    let keep = duration(cx, &table.keys, "keep", table.raw.keep.as_deref())?;
    if keep < MIN_KEEP {
        cx.bad(&table.keys, "keep", "must be at least 1d");
        return None;
    }
    Some(keep)
}

/// `[sections]`: canonical names and their aliases; an alias claimed by two
/// sections is a problem (with no line: it is about two keys at once).
fn sections(cx: &mut Ctx<'_>, table: &Table<RawSections>) -> SectionMap {
    let entries: Vec<(&str, &[String])> = table
        .raw
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let (map, clashes) = SectionMap::new(entries);
    for alias in clashes {
        cx.problem(
            "sections",
            None,
            format!("alias `{alias}` belongs to two sections"),
        );
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, key) of each problem, in the order reported.
    fn problems(text: &str) -> Vec<(usize, String)> {
        let problems = validate(text, Path::new("t.toml")).unwrap_err();
        problems
            .into_iter()
            .map(|p| (p.line.unwrap_or(0), p.key))
            .collect()
    }

    fn at(list: &[(usize, &str)]) -> Vec<(usize, String)> {
        list.iter().map(|(l, k)| (*l, k.to_string())).collect()
    }

    #[test]
    fn each_key_problem_is_on_its_keys_line() {
        let text = r#"[server]
listen = "nope"
base_url = "ftp://x/"

[poll]
timeout = "0s"
max_body = 10
concurrency = 0

[[source]]
name = "bad name!"
url = "gopher://x"
interval = "5s"
timezone = "Nowhere/Land"
section = "   "
per_host = 0
headers = { "Bad Header" = "x" }
proxy = "::::"
encoding = "klingon"
"cron" = "0 * * * *"

[[feed]]
name = "f"
sections = [
  "",
]
limit = 0
include = ["("]
sources = ["nope"]
"#;
        assert_eq!(
            problems(text),
            at(&[
                (2, "server.listen"),
                (3, "server.base_url"),
                (6, "poll.timeout"),
                (7, "poll.max_body"),
                (8, "poll.concurrency"),
                (11, "source[0].name"),
                (12, "source[0].url"),
                (14, "source[0].timezone"),
                (15, "source[0].section"),
                (16, "source[0].per_host"),
                (17, "source[0].headers"),
                (18, "source[0].proxy"),
                (19, "source[0].encoding"),
                (20, "source[0].cron"),
                (24, "feed[0].sections"),
                (27, "feed[0].limit"),
                (28, "feed[0].include"),
                (29, "feed[0].sources"),
            ])
        );
    }

    #[test]
    fn dotted_keys_and_sub_tables_are_located_too() {
        let text = r#"[[source]]
name = "s"
url = "https://example.org/a"
auth.username = "u"
auth.password_env = "FEEDMERGE_TEST_SURELY_UNSET"

[source.headers]
"bad header" = "x"
"#;
        assert_eq!(
            problems(text),
            at(&[(5, "source[0].auth.password_env"), (7, "source[0].headers"),])
        );
    }

    #[test]
    fn storage_keep_is_a_duration_of_a_day_or_more() {
        let keep = |v: &str| {
            validate(&format!("[storage]\nkeep = \"{v}\"\n"), Path::new("t.toml"))
                .map(|c| c.storage_keep)
        };
        assert_eq!(
            keep("180d").unwrap(),
            Some(Duration::from_secs(180 * 86_400))
        );
        assert_eq!(
            validate("", Path::new("t.toml")).unwrap().storage_keep,
            None,
            "unset keeps everything"
        );
        for bad in ["12h", "0s", "half a year"] {
            let problems = keep(bad).unwrap_err();
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert_eq!(
                (problems[0].key.as_str(), problems[0].line),
                ("storage.keep", Some(2))
            );
        }
    }

    #[test]
    fn problems_on_one_line_keep_the_order_keys_are_checked_in() {
        let text = "poll = { per_host = 0, interval = \"1s\", timeout = \"0s\" }\n\
                    source = [ { name = \"a b\", url = \"x\" } ]\n";
        assert_eq!(
            problems(text),
            at(&[
                (1, "poll.interval"),
                (1, "poll.timeout"),
                (1, "poll.per_host"),
                (2, "source[0].name"),
                (2, "source[0].url"),
                (2, "source[0].per_host"),
            ])
        );
    }

    #[test]
    fn html_sources_have_their_selectors_and_patterns_checked() {
        let text = r#"[[source]]
name = "h"
kind = "html"
url = "https://agency.example/ru/politics"

[source.html]
item = ".news-list .item"
title = "a.title[["
link_pattern = '-\d+($'
date_format = "%d %Q"
max_items = 0

[source.article]
content = "div >> p"

[[source]]
name = "k"
kind = "webpage"
url = "https://e.org/"

[[source]]
name = "n"
kind = "html"
url = "https://e.org/"
"#;
        let problems = validate(text, Path::new("t.toml")).unwrap_err();
        let got: Vec<(usize, String)> = problems
            .iter()
            .map(|p| (p.line.unwrap_or(0), p.key.clone()))
            .collect();
        assert_eq!(
            got,
            at(&[
                (8, "source[0].html.title"),
                (9, "source[0].html.link_pattern"),
                (10, "source[0].html.date_format"),
                (11, "source[0].html.max_items"),
                (14, "source[0].article.content"),
                (18, "source[1].kind"),
                (23, "source[2].kind"),
            ])
        );
        assert!(
            problems[0].message.contains("not a valid CSS selector"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn an_html_source_and_an_empty_article_table_are_accepted() {
        let text = r#"[[source]]
name = "h"
kind = "html"
url = "https://agency.example/ru/politics"
timezone = "Asia/Baku"
[source.html]
item = ".item"
title = "a.title"
link_pattern = '-\d+$'

[[source]]
name = "f"
url = "https://agency.example/rss"
[source.article]
"#;
        let c = validate(text, Path::new("t.toml")).expect("valid");
        assert_eq!(c.sources[0].kind, super::super::SourceKind::Html);
        let html = c.sources[0].html.as_ref().expect("rules");
        assert_eq!(html.max_items, 50);
        assert!(
            html.link_pattern
                .as_ref()
                .unwrap()
                .is_match("https://a/x-12")
        );
        let article = c.sources[1].article.as_ref().expect("article");
        assert!(article.content.is_none());
        assert_eq!(article.max_per_poll, 10);
    }
}
