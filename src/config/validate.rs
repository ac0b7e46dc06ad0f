//! Turns config text into a `Config`, collecting every problem on the way.
//!
//! The document is cut into its tables ([`tables`]), then each table is
//! checked by its own function: [`storage`], [`server::server`],
//! [`poll::poll`], [`sections`], [`source::source`] for each `[[source]]`
//! and [`feed::feed`] for each `[[feed]]`. Problems point at the line of the
//! key they are about, from the TOML parser's spans.

mod feed;
mod poll;
mod server;
mod source;
mod tables;

use super::checks::Ctx;
use super::raw::{RawSections, RawStorage};
use super::{Config, ConfigProblem};
use crate::normalize::sections::SectionMap;
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
    let server = server::server(&mut cx, &tables.server);
    let poll = poll::poll(&mut cx, &tables.poll);
    let sections = sections(&mut cx, &tables.sections);
    let mut source_names = HashSet::new();
    let sources: Vec<_> = tables
        .sources
        .into_iter()
        .map(|t| source::source(&mut cx, t, &poll.defaults, &sections, &mut source_names))
        .collect();
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
        listen: server.listen,
        base_url: server.base_url,
        websub_hub: server.websub_hub,
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
