//! What a story's own page added to it: the article's text, a better
//! headline, its date and section label. Scrape fills it once per link;
//! store keeps it (so the page is never fetched again after a success) and
//! every later poll lays it over the listing's or feed's entry again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Facts read from one article page, raw (normalize cleans them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArticleExtract {
    /// Headline from `[source.article] title`, overriding the listing's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The article's main text as HTML (unsanitized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The base URL of the page (`<base href>` resolved, else the page's
    /// URL): where the content's relative URLs point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Publication date from meta, JSON-LD or the date selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// Section labels and other categories found on the page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

/// What storage remembers about one article link of a source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticlePage {
    /// Failed fetches so far (a link is given up after five).
    pub attempts: u32,
    /// What the page gave, once it was read successfully.
    pub extract: Option<ArticleExtract>,
}

/// Fetches of one article page before it is given up on.
pub const MAX_ARTICLE_ATTEMPTS: u32 = 5;
