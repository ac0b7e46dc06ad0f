//! The one internal item model every stage shares.
//!
//! `parsed::ParsedFeed` is what parse hands to normalize (a document as it
//! was, format-neutral). `Item` is what normalize hands to store (one entry of one source, after
//! identity, canonical link, sections and sanitizing). `Story` is what store
//! hands to export (one deduplicated story, possibly seen in several sources).
//! Each output format converts from `FeedDoc` exactly once, in `export/`.
//!
//! Owns the value types that cross stage boundaries (items, stories, feed
//! documents, a source's validators and feed facts, section names and their
//! folding, charset labels, output formats) and nothing else. Imports no
//! other module of the crate: every stage may depend on it, it on none.

pub mod article;
pub mod charset;
pub mod format;
pub mod http_date;
pub mod ids;
pub mod parsed;
pub mod redact;
pub mod sections;
pub mod source;
pub mod text;

pub use source::{FeedMeta, Validators};

use chrono::{DateTime, Utc};

/// One entry of one source, normalized and ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Identity within its source: the feed's guid/id, else the canonical
    /// link, else a hash of title and content. Never feed-rs's generated id.
    pub key: String,
    /// Identity across sources: `link:<canonical link>` when the item has a
    /// link (or a URL-shaped guid), else `item:<source>:<key>`.
    pub story_key: String,
    /// The guid/id exactly as the feed gave it, if it gave one.
    pub guid: Option<String>,
    /// Canonical link (tracking parameters, fragment and default port
    /// removed), its host spelled as the feed wrote it; `key` and
    /// `story_key` use the lowercase form.
    pub link: Option<String>,
    /// Plain-text title.
    pub title: String,
    /// Sanitized HTML summary.
    pub summary: Option<String>,
    /// Sanitized HTML content.
    pub content: Option<String>,
    /// Authors, each `Name (address)`, the name or the address.
    pub authors: Vec<String>,
    /// Categories as the feed spelled them (deduplicated, trimmed).
    pub categories: Vec<String>,
    /// Canonical section names this item belongs to (categories mapped
    /// through `[sections]` aliases, plus the source's configured section).
    pub sections: Vec<String>,
    /// Publication date, if the feed gave a readable one (already clamped:
    /// dates more than a day in the future are dropped).
    pub published: Option<DateTime<Utc>>,
    /// Last-modified date the feed gave, if any.
    pub updated: Option<DateTime<Utc>>,
    /// Language of the item or its feed (`xml:lang`, `<language>`).
    pub language: Option<String>,
    /// Attached media (podcast audio, images), in document order.
    pub enclosures: Vec<Enclosure>,
    /// Hash over every field above that a subscriber sees; an unchanged hash
    /// means a re-sent item costs no write.
    pub content_hash: String,
}

/// A media file attached to an item (RSS `<enclosure>`, Atom
/// `link rel="enclosure"`, Media RSS `media:content`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Enclosure {
    /// Absolute URL of the file.
    pub url: String,
    /// MIME type, when the feed gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size in bytes, when the feed gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
}

/// Where a story came from, for Atom `source` / RSS `source`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRef {
    /// Configured source name.
    pub name: String,
    /// The source feed's own title, when known.
    pub title: Option<String>,
    /// The URL polled.
    pub feed_url: String,
    /// The site's home page (feed-level link), when known.
    pub site_url: Option<String>,
}

/// One deduplicated story as stored, ready to export.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    /// Stable entry id, a URI (`urn:uuid:…`); assigned once, never changes.
    pub id: String,
    pub title: String,
    pub link: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub language: Option<String>,
    /// Attached media, carried to Atom `link rel="enclosure"`, RSS
    /// `<enclosure>` and JSON Feed `attachments`.
    pub enclosures: Vec<Enclosure>,
    /// The feed's date, or the first-seen time when it had none.
    pub published: DateTime<Utc>,
    /// When the story last changed (an edit), else `published`.
    pub updated: DateTime<Utc>,
    /// The source that first delivered the story.
    pub source: SourceRef,
    /// Other outlets' reports of the same event (`[clustering]`), when this
    /// story is the first report of a cluster; oldest first.
    pub related: Vec<Related>,
}

/// Another outlet's report of a story's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Its link, if it has one.
    pub link: Option<String>,
    /// Its headline.
    pub title: String,
    /// Its outlet's title (the configured one, else the feed's, else the
    /// source name).
    pub source: String,
    /// When it was published (its sort date).
    pub published: DateTime<Utc>,
    /// Its summary (HTML), which feeds do not show but a feed's `exclude`
    /// reads, as it reads a story's.
    pub summary: Option<String>,
}

/// A merged feed, format-independent: what every exporter renders.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedDoc {
    /// Feed title shown in readers.
    pub title: String,
    /// A stable id for the feed itself (a URI).
    pub id: String,
    /// Absolute URL of this document (the `self` link).
    pub self_url: String,
    /// Absolute URL of the HTML home page, if any.
    pub home_url: Option<String>,
    /// Latest `updated` over the stories (or the epoch when empty).
    pub updated: DateTime<Utc>,
    /// Newest first.
    pub stories: Vec<Story>,
    /// RFC 5005 §3: the next (older) page, when there is one.
    pub next_url: Option<String>,
    /// WebSub hub to advertise with `rel="hub"`, when configured.
    pub hub_url: Option<String>,
}

impl FeedDoc {
    /// The language every story shares, for `xml:lang`/`<language>`; `None`
    /// when stories differ, any lacks one, or there are none.
    pub fn shared_language(&self) -> Option<&str> {
        let first = self.stories.first()?.language.as_deref()?;
        self.stories
            .iter()
            .all(|s| {
                s.language
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(first))
            })
            .then_some(first)
    }
}
