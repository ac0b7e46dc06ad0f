//! Scrape: HTML pages to the same `model::parsed` types a feed parse
//! produces. A listing page's items (CSS selectors scoped to each item,
//! per `[source.html]`) become entries; a story's own page (per
//! `[source.article]`) becomes an `ArticleExtract` laid over its entry.
//!
//! Between parse and normalize: it uses parse's decoding and date rules,
//! and hands normalize raw values (links absolute, HTML unsanitized, with
//! the page's base for the relative URLs inside it). Selector problems are
//! caught by `config`; a page that matches nothing is a state of the source
//! (`scrape_empty`), not an empty feed.

pub mod article;
pub mod dates;
pub mod listing;
mod page;

pub use article::{article_matches, extract_article};
pub use listing::{Listing, ListingReport, scrape_listing};

/// The `<meta charset>` (or `http-equiv` content type) of an HTML page.
pub fn meta_charset(body: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let rest = head[at..].trim_start_matches(['"', '\'', ' ']);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

/// Lays what a story's own page gave over its entry: the page's text is
/// the content (a feed's summary stays the summary), its headline and
/// date win, its section labels are added.
pub fn apply_article(
    entry: &mut crate::model::parsed::ParsedEntry,
    a: &crate::model::article::ArticleExtract,
) {
    use crate::model::parsed::{Category, Text};
    if let Some(c) = &a.content {
        entry.content = Some(Text::html(c.clone()));
        entry.content_base = a.base.clone().or(entry.content_base.take());
    }
    if let Some(t) = &a.title {
        entry.title = Some(Text::html(page::escape(t)));
    }
    if entry.published.is_none() {
        entry.published = a.published;
    }
    for c in &a.categories {
        if !entry.categories.iter().any(|k| &k.term == c) {
            entry.categories.push(Category {
                term: c.clone(),
                ..Category::default()
            });
        }
    }
}

/// Share of matched items that must have both a title and a link.
pub const MIN_FILL: f64 = 0.8;

/// Why a page gave no stories. The text starts with the state's name,
/// which is what `last_error` and `/status` show.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScrapeError {
    /// The listing matched no items: a redesign, or a page built by
    /// scripts. Stored stories stay published.
    #[error("scrape_empty: the listing matched no items with `{item}`{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Empty {
        /// The `item` selector.
        item: String,
        /// Why the page may look empty (built by scripts).
        hint: Option<String>,
    },
    /// Items matched, but too few had both a title and a link.
    #[error(
        "scrape_degraded: only {complete} of {matched} items had both a title and a link (under 80%); check the title and link selectors"
    )]
    Degraded {
        /// Items with a title and a link.
        complete: usize,
        /// Items matched (those the link pattern skipped not counted).
        matched: usize,
    },
    /// The article page gave no text to republish.
    #[error("the article page has no main text")]
    NoContent,
}
