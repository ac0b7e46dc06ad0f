//! Which stories make a merged feed: resolves a section name (any spelling
//! or alias) or a configured `[[feed]]` to a format-independent `FeedDoc`.
//! Shared by the HTTP server and `feedmerge export`.

use crate::config::Config;
use crate::export::Format;
use crate::model::FeedDoc;
use crate::normalize::{identity, sections};
use crate::store::{Store, StoreError, StoryQuery};
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

/// Builds the document for `target`, newest first, at most `limit` entries
/// (default: the feed's configured limit, else [`DEFAULT_LIMIT`]).
pub async fn build(
    config: &Config,
    store: &dyn Store,
    target: &Target,
    format: Format,
    limit: Option<usize>,
) -> Result<FeedDoc, FeedError> {
    let (title, keys, path_name, kind, default_limit) = match target {
        Target::Section(requested) => {
            let not_found = || FeedError::NotFound {
                kind: "section",
                name: requested.clone(),
            };
            let canonical = config.sections.canonical(requested).ok_or_else(not_found)?;
            let key = sections::fold(&canonical);
            let known = config.sections.is_configured(requested)
                || config.sources.iter().any(|s| {
                    s.section
                        .as_deref()
                        .is_some_and(|n| sections::fold(n) == key)
                })
                || config
                    .feeds
                    .iter()
                    .any(|f| f.sections.iter().any(|n| sections::fold(n) == key));
            let title = if known {
                canonical
            } else {
                store.stored_section(&key).await?.ok_or_else(not_found)?
            };
            (title.clone(), vec![key], title, "sections", DEFAULT_LIMIT)
        }
        Target::Named(name) => {
            let feed = config.feed(name).ok_or_else(|| FeedError::NotFound {
                kind: "feed",
                name: name.clone(),
            })?;
            let keys = feed.sections.iter().map(|s| sections::fold(s)).collect();
            (
                feed.title.clone(),
                keys,
                feed.name.clone(),
                "feeds",
                feed.limit,
            )
        }
    };
    let limit = limit.unwrap_or(default_limit).clamp(1, MAX_LIMIT);
    let stories = store
        .stories(&StoryQuery {
            section_keys: keys.clone(),
            limit,
        })
        .await?;
    let base = config.public_base();
    let updated = stories
        .iter()
        .map(|s| s.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    Ok(FeedDoc {
        title,
        id: identity::story_uid(&format!("feed:{kind}:{}", keys.join(","))),
        self_url: url_for(&base, kind, &path_name, Some(format.extension())),
        home_url: Some(format!("{base}/")),
        updated,
        stories,
    })
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
