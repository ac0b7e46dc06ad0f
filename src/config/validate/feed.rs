//! One `[[feed]]`: a named merged feed over some sections.

use super::DEFAULT_FEED_LIMIT;
use super::tables::Table;
use crate::config::FeedConfig;
use crate::config::checks::{Ctx, check_name, in_range, regexes};
use crate::config::raw::RawFeed;
use crate::config::spans::Keys;
use crate::model::sections::SectionMap;
use std::collections::HashSet;

/// Checks one `[[feed]]` against the sections and the `sources` names;
/// `names` collects feed names to refuse duplicates. Keys are checked in a
/// fixed order, so problems that share a line are always listed alike.
pub(super) fn feed(
    cx: &mut Ctx<'_>,
    table: Table<RawFeed>,
    sections: &SectionMap,
    sources: &HashSet<String>,
    names: &mut HashSet<String>,
) -> FeedConfig {
    let Table { keys, raw } = table;
    let keys = &keys;
    check_name(cx, keys, &raw.name, names);
    let canonical = feed_sections(cx, keys, &raw.sections, sections);
    let limit = raw.limit.unwrap_or(DEFAULT_FEED_LIMIT);
    in_range(cx, keys, "limit", limit, 1..=500);
    let include = regexes(cx, keys, "include", &raw.include);
    let exclude = regexes(cx, keys, "exclude", &raw.exclude);
    for s in &raw.sources {
        if !sources.contains(s) {
            cx.bad(
                keys,
                "sources",
                format!("`{s}` is not the name of a [[source]]"),
            );
        }
    }
    FeedConfig {
        title: raw.title.unwrap_or_else(|| raw.name.clone()),
        name: raw.name,
        sections: canonical,
        limit: limit.clamp(1, 500) as usize,
        include,
        exclude,
        sources: raw.sources,
    }
}

/// The canonical sections, each once, in the order listed; at least one.
fn feed_sections(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    listed: &[String],
    sections: &SectionMap,
) -> Vec<String> {
    let mut canonical = Vec::new();
    for s in listed {
        match sections.canonical(s) {
            Some(c) if !canonical.contains(&c) => canonical.push(c),
            Some(_) => {}
            None => cx.bad(keys, "sections", "a section name is blank"),
        }
    }
    if listed.is_empty() {
        cx.bad(keys, "sections", "must list at least one section");
    }
    canonical
}
