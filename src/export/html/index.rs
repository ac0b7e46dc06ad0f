//! `GET /`: every section and named feed, with story counts, last update,
//! subscribe links and `<link rel="alternate">` autodiscovery.

use super::{escape, feed_links, layout, site_path, time};
use crate::config::Config;
use crate::feeds::url_for;
use crate::model::sections::fold;
use crate::store::{FeedStats, Store, StoreError};
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// One row of the index.
#[derive(Debug, Clone)]
pub struct Row {
    /// `"sections"` or `"feeds"`.
    pub kind: &'static str,
    /// Name in URLs.
    pub name: String,
    /// Shown title.
    pub title: String,
    /// Count and freshness.
    pub stats: FeedStats,
}

/// What the index lists.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Named feeds, in config order.
    pub feeds: Vec<Row>,
    /// Sections: configured ones in config order, then those only seen on
    /// stories, by name.
    pub sections: Vec<Row>,
}

impl Listing {
    /// The latest story change anywhere on the index.
    pub fn updated(&self) -> Option<DateTime<Utc>> {
        self.feeds
            .iter()
            .chain(&self.sections)
            .filter_map(|r| r.stats.updated)
            .max()
    }
}

/// Every section and named feed with its stats.
pub async fn collect(config: &Config, store: &dyn Store) -> Result<Listing, StoreError> {
    let mut listing = Listing::default();
    for feed in &config.feeds {
        let keys: Vec<String> = feed.sections.iter().map(|s| fold(s)).collect();
        listing.feeds.push(Row {
            kind: "feeds",
            name: feed.name.clone(),
            title: feed.title.clone(),
            stats: store.feed_stats(&keys).await?,
        });
    }
    let mut names: Vec<(String, String)> = Vec::new();
    let configured = config
        .sections
        .names()
        .iter()
        .cloned()
        .chain(config.sources.iter().filter_map(|s| s.section.clone()))
        .chain(config.feeds.iter().flat_map(|f| f.sections.clone()));
    for name in configured {
        let key = fold(&name);
        if !names.iter().any(|(k, _)| *k == key) {
            names.push((key, name));
        }
    }
    let mut stored = store.stored_sections().await?;
    stored.retain(|(k, _)| !names.iter().any(|(n, _)| n == k));
    stored.sort_by(|a, b| a.1.cmp(&b.1));
    names.extend(stored);
    for (key, name) in names {
        listing.sections.push(Row {
            kind: "sections",
            title: name.clone(),
            name,
            stats: store.feed_stats(std::slice::from_ref(&key)).await?,
        });
    }
    Ok(listing)
}

fn table(config: &Config, caption: &str, rows: &[Row], out: &mut String) {
    if rows.is_empty() {
        return;
    }
    let base = config.public_base();
    let _ = write!(
        out,
        r#"<h2>{caption}</h2><table><thead><tr><th>Feed</th><th class="num">Stories</th><th class="hide-narrow">Last update</th><th>Subscribe</th></tr></thead><tbody>"#
    );
    for row in rows {
        let page = site_path(&url_for(&base, row.kind, &row.name, None));
        let subscribe: Vec<String> = feed_links(&base, row.kind, &row.name, &row.title)
            .into_iter()
            .map(|(f, href, _)| format!(r#"<a href="{}">{}</a>"#, escape(&href), f.extension()))
            .collect();
        let _ = write!(
            out,
            r#"<tr><td><a href="{page}">{title}</a></td><td class="num">{count}</td><td class="hide-narrow">{updated}</td><td>{subscribe}</td></tr>"#,
            page = escape(&page),
            title = escape(&row.title),
            count = row.stats.stories,
            updated = row.stats.updated.map(time).unwrap_or_else(|| "—".into()),
            subscribe = subscribe.join(" · "),
        );
    }
    out.push_str("</tbody></table>\n");
}

/// The index page.
pub fn render(config: &Config, listing: &Listing) -> String {
    let base = config.public_base();
    let mut body = String::from(
        "<header><h1>Merged feeds</h1><p class=\"subscribe\">Paste this page's address into a feed reader to find every feed below.</p></header>\n<main>\n",
    );
    table(config, "Feeds", &listing.feeds, &mut body);
    table(config, "Sections", &listing.sections, &mut body);
    if listing.feeds.is_empty() && listing.sections.is_empty() {
        body.push_str("<p>No feeds yet: add [[source]] entries to the config.</p>");
    }
    let _ = write!(
        body,
        r#"<p class="meta"><a href="{}">Sources (OPML)</a></p></main>"#,
        escape(&site_path(&format!("{base}/sources.opml")))
    );
    let alternates: Vec<_> = listing
        .feeds
        .iter()
        .chain(&listing.sections)
        .flat_map(|r| feed_links(&base, r.kind, &r.name, &r.title))
        .collect();
    layout("Merged feeds", &alternates, &body)
}
