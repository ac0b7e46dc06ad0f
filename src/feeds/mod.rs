//! Which stories make a merged feed: resolves a section name (any spelling
//! or alias) or a configured `[[feed]]` to a format-independent `FeedDoc`.
//! Shared by the HTTP server and `feedmerge export`.
//!
//! Owns selection: which stored stories, in which order, with which paging
//! cursor and filters. Reads through `Store` only; never renders a format
//! and never writes.

mod clusters;
mod filter;

pub use clusters::related_block;
mod request;

pub use request::{FeedRequest, cursor_text};

use crate::config::{Config, FeedConfig};
use crate::model::format::Format;
use crate::model::ids::story_uid;
use crate::model::sections;
use crate::model::{FeedDoc, Story};
use crate::store::cluster::ClusterView;
use crate::store::{Cursor, Store, StoreError, StoryQuery};
use chrono::DateTime;

/// Entries in a section feed when nothing else says.
pub const DEFAULT_LIMIT: usize = 50;
/// The most entries one document may carry.
pub const MAX_LIMIT: usize = 500;

/// What a subscriber asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/sections/{name}`: any spelling of a section or alias.
    Section(String),
    /// `/feeds/{name}`: a configured `[[feed]]`.
    Named(String),
}

/// Why a feed could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Neither configured nor on any stored story.
    #[error("no such {kind}: {name}")]
    NotFound {
        /// "section" or "feed".
        kind: &'static str,
        /// The name as requested.
        name: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stories of one page of a feed, format-independent: what the feed
/// documents and the HTML pages are both made from.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Title shown to readers.
    pub title: String,
    /// `"sections"` or `"feeds"`: the URL path segment.
    pub kind: &'static str,
    /// The name used in URLs (canonical section name or feed name).
    pub path_name: String,
    /// Folded section keys the feed draws from.
    pub section_keys: Vec<String>,
    /// Names of the sources configured to feed it (for cache lifetimes).
    pub configured_sources: Vec<String>,
    /// The request this page answers.
    pub request: FeedRequest,
    /// The page, newest first.
    pub stories: Vec<Story>,
    /// Position of the next (older) page, when there is one.
    pub next: Option<Cursor>,
    /// A stable id for the feed (the same for every page of it).
    pub id: String,
}

/// Stories scanned at most for one page when filters that the store cannot
/// apply (keyword, language, include/exclude) are in play. A page that
/// runs out of budget ends early with a next link from where it stopped, so
/// paging still has no gaps; the cost of one request stays bounded.
const SCAN_BUDGET: usize = 5_000;

/// Chooses the stories of one page of `target` for `req`.
pub async fn select(
    config: &Config,
    store: &dyn Store,
    target: &Target,
    req: &FeedRequest,
) -> Result<Selection, FeedError> {
    let feed = resolve(config, store, target).await?;
    let limit = req.limit.unwrap_or(feed.default_limit).clamp(1, MAX_LIMIT);
    let sources = sources_asked(req, feed.config);
    let filter = filter::StoryFilter::new(req, feed.config);
    let (stories, next) = page(
        store,
        &feed.keys,
        req,
        sources,
        &filter,
        limit,
        &config.clustering,
    )
    .await?;
    Ok(Selection {
        configured_sources: configured_sources(config, &feed.keys),
        id: feed_id(feed.kind, &feed.keys, req),
        title: feed.title,
        kind: feed.kind,
        path_name: feed.path_name,
        section_keys: feed.keys,
        request: req.clone(),
        stories,
        next,
    })
}

/// A target made concrete: what the feed is called and which sections it
/// draws from.
struct Resolved<'c> {
    title: String,
    keys: Vec<String>,
    path_name: String,
    kind: &'static str,
    default_limit: usize,
    /// The `[[feed]]` table, for a named feed.
    config: Option<&'c FeedConfig>,
}

/// Finds the section (by any spelling or alias, configured or only on
/// stored stories) or the named feed a target means.
async fn resolve<'c>(
    config: &'c Config,
    store: &dyn Store,
    target: &Target,
) -> Result<Resolved<'c>, FeedError> {
    match target {
        Target::Section(requested) => {
            let not_found = || FeedError::NotFound {
                kind: "section",
                name: requested.clone(),
            };
            let canonical = config.sections.canonical(requested).ok_or_else(not_found)?;
            let key = sections::fold(&canonical);
            let title = if is_configured_section(config, &key, requested) {
                canonical
            } else {
                store.stored_section(&key).await?.ok_or_else(not_found)?
            };
            Ok(Resolved {
                path_name: title.clone(),
                title,
                keys: vec![key],
                kind: "sections",
                default_limit: DEFAULT_LIMIT,
                config: None,
            })
        }
        Target::Named(name) => {
            let feed = config.feed(name).ok_or_else(|| FeedError::NotFound {
                kind: "feed",
                name: name.clone(),
            })?;
            Ok(Resolved {
                title: feed.title.clone(),
                keys: feed.sections.iter().map(|s| sections::fold(s)).collect(),
                path_name: feed.name.clone(),
                kind: "feeds",
                default_limit: feed.limit,
                config: Some(feed),
            })
        }
    }
}

/// The sources a page may draw from: those the request names, narrowed to
/// a named feed's `sources` when it has any.
fn sources_asked(req: &FeedRequest, feed: Option<&FeedConfig>) -> Vec<String> {
    let mut sources = req.sources.clone();
    if let Some(f) = feed.filter(|f| !f.sources.is_empty()) {
        if sources.is_empty() {
            sources = f.sources.clone();
        } else {
            sources.retain(|s| f.sources.contains(s));
            if sources.is_empty() {
                // Asked only for sources this feed excludes: nothing matches.
                sources.push(String::new());
            }
        }
    }
    sources
}

/// Reads stored stories newest first from `req.before` on, keeping those
/// the filter admits, until `limit` are found, the store runs out or the
/// scan budget is spent. Returns the page and the cursor of the next one.
async fn page(
    store: &dyn Store,
    keys: &[String],
    req: &FeedRequest,
    sources: Vec<String>,
    filter: &filter::StoryFilter<'_>,
    limit: usize,
    clustering: &crate::config::ClusteringSettings,
) -> Result<(Vec<Story>, Option<Cursor>), FeedError> {
    // Unfiltered pages need one row beyond the page to know a next exists;
    // filtered ones read wider batches, most rows being dropped.
    let batch = if filter.is_empty() {
        limit + 1
    } else {
        (limit * 2).clamp(100, 1000)
    };
    let mut found: Vec<(Cursor, Story)> = Vec::new();
    let mut position = req.before;
    let mut scanned = 0;
    let next = loop {
        let rows = store
            .story_page(&StoryQuery {
                section_keys: keys.to_vec(),
                limit: batch,
                before: position,
                since: req.since,
                sources: sources.clone(),
                q: req.q.clone(),
                lang: req.lang.clone(),
            })
            .await?;
        let exhausted = rows.len() < batch;
        let mut views = if clustering.enabled {
            let ids: Vec<i64> = rows.iter().map(|(c, _)| c.seq).collect();
            store.cluster_views(&ids, keys, &sources).await?
        } else {
            Default::default()
        };
        for (cursor, mut story) in rows {
            scanned += 1;
            position = Some(cursor);
            match views.remove(&cursor.seq) {
                Some(ClusterView::Hidden) => continue,
                Some(ClusterView::First(mut related)) => {
                    // The block lists no report the feed's `exclude` would
                    // hide; the first report itself is filtered below.
                    related.retain(|r| !filter.excludes_related(r));
                    if !related.is_empty() {
                        clusters::show(&mut story, related, clustering.bump_updated)
                    }
                }
                None => {}
            }
            if filter.matches(&story) {
                found.push((cursor, story));
                if found.len() > limit {
                    break;
                }
            }
        }
        if found.len() > limit {
            found.truncate(limit);
            break found.last().map(|(c, _)| *c);
        }
        if exhausted {
            break None;
        }
        if scanned >= SCAN_BUDGET {
            break position;
        }
    };
    Ok((found.into_iter().map(|(_, s)| readable(s)).collect(), next))
}

/// A story as every format shows it: its source's URL without secrets
/// (`model::redact`), and character references in its HTML
/// written as characters (Russian CMSs write «» as `&laquo;&raquo;`, which
/// the sanitizer's fast path stores as written). Done here, once per page,
/// rather than in the store, so stored HTML and its content hash stay as
/// they were and no story reads as edited.
fn readable(mut story: Story) -> Story {
    use crate::model::text::references_as_characters as chars;
    if let Some(std::borrow::Cow::Owned(s)) = story.summary.as_deref().map(chars) {
        story.summary = Some(s);
    }
    if let Some(std::borrow::Cow::Owned(c)) = story.content.as_deref().map(chars) {
        story.content = Some(c);
    }
    if let std::borrow::Cow::Owned(url) = crate::model::redact::redact(&story.source.feed_url) {
        story.source.feed_url = url;
    }
    story
}

/// Names of the sources whose configured `section` feeds one of `keys`.
fn configured_sources(config: &Config, keys: &[String]) -> Vec<String> {
    config
        .sources
        .iter()
        .filter(|s| {
            s.section
                .as_deref()
                .is_some_and(|n| keys.contains(&sections::fold(n)))
        })
        .map(|s| s.name.clone())
        .collect()
}

/// The feed's own id: the same for every page, different per filter set.
fn feed_id(kind: &str, keys: &[String], req: &FeedRequest) -> String {
    let mut id_basis = format!("feed:{kind}:{}", keys.join(","));
    let filters = req.at(None);
    if filters.is_filtered() {
        id_basis.push('?');
        id_basis.push_str(&filters.to_query());
    }
    story_uid(&id_basis)
}

fn is_configured_section(config: &Config, key: &str, requested: &str) -> bool {
    config.sections.is_configured(requested)
        || config.sources.iter().any(|s| {
            s.section
                .as_deref()
                .is_some_and(|n| sections::fold(n) == key)
        })
        || config
            .feeds
            .iter()
            .any(|f| f.sections.iter().any(|n| sections::fold(n) == key))
}

impl Selection {
    /// This page's URL: `/{kind}/{name}[.ext]?{request}`.
    pub fn page_url(&self, base: &str, ext: Option<&str>, req: &FeedRequest) -> String {
        with_query(
            url_for(base, self.kind, &self.path_name, ext),
            &req.to_query(),
        )
    }

    /// The format-independent document for `format`.
    pub fn to_doc(&self, config: &Config, format: Format) -> FeedDoc {
        let base = config.public_base();
        let ext = Some(format.extension());
        let updated = self
            .stories
            .iter()
            .map(|s| s.updated)
            .max()
            .unwrap_or(DateTime::UNIX_EPOCH);
        FeedDoc {
            title: self.title.clone(),
            id: self.id.clone(),
            self_url: self.page_url(&base, ext, &self.request),
            home_url: Some(url_for(&base, self.kind, &self.path_name, None)),
            updated,
            stories: self.stories.clone(),
            next_url: self
                .next
                .map(|c| self.page_url(&base, ext, &self.request.at(Some(c)))),
            hub_url: config.websub_hub.clone(),
        }
    }
}

/// Builds the document for `target` in `format`: [`select`] then
/// [`Selection::to_doc`].
pub async fn build(
    config: &Config,
    store: &dyn Store,
    target: &Target,
    format: Format,
    req: &FeedRequest,
) -> Result<FeedDoc, FeedError> {
    Ok(select(config, store, target, req)
        .await?
        .to_doc(config, format))
}

fn with_query(mut url: String, query: &str) -> String {
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// `{base}/{kind}/{name}.{ext}` with the name percent-encoded as one segment.
pub fn url_for(base: &str, kind: &str, name: &str, ext: Option<&str>) -> String {
    let segment = match ext {
        Some(ext) => format!("{name}.{ext}"),
        None => name.to_string(),
    };
    match url::Url::parse(base) {
        Ok(mut url) => {
            if let Ok(mut path) = url.path_segments_mut() {
                path.pop_if_empty().push(kind).push(&segment);
            }
            url.into()
        }
        Err(_) => format!("{base}/{kind}/{segment}"),
    }
}

#[cfg(test)]
mod tests {
    use super::url_for;

    #[test]
    fn self_links_are_percent_encoded() {
        assert_eq!(
            url_for(
                "http://127.0.0.1:8080",
                "sections",
                "Политика",
                Some("atom")
            ),
            "http://127.0.0.1:8080/sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0.atom"
        );
        assert_eq!(
            url_for("https://x.org/news/", "feeds", "a b", Some("rss")),
            "https://x.org/news/feeds/a%20b.rss"
        );
    }
}
