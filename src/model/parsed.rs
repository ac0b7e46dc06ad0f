//! A source document as parse hands it to normalize: what the feed *said*,
//! format-neutral and not yet cleaned.
//!
//! Parse fills these from RSS, Atom and JSON Feed (feed-rs's reading plus
//! the elements it does not read); normalize turns them into [`Item`]s
//! without knowing which format they came from. Every field is a plain
//! `String`/`Option`/`Vec` with a `Default`, so a source that is not a feed
//! (an HTML page, say) can fill the same types by hand.
//!
//! Values are raw: markup and entities left in titles, HTML unsanitized,
//! links unresolved, categories untrimmed. Cleaning them is normalize's job.
//!
//! [`Item`]: crate::model::Item

use chrono::{DateTime, Utc};

/// Categories kept per entry, in document order; the rest are dropped. Real
/// feeds give a handful (the W3C and feed-rs corpora: at most 40); a hostile
/// item gives 20,000. Parse stops collecting at this many and normalize
/// keeps at most this many distinct ones.
pub const MAX_CATEGORIES: usize = 256;

/// Authors kept per entry, in document order; the rest are dropped (real
/// feeds credit a few people; a conference proceedings feed a few dozen).
pub const MAX_AUTHORS: usize = 64;

/// Enclosures (media files) kept per entry, in document order; the rest are
/// dropped (a podcast episode has one; a photo gallery item a few dozen).
pub const MAX_ENCLOSURES: usize = 64;

/// Links read per entry, in document order; the rest are dropped, so a
/// hostile entry with 100,000 links costs no more than one with a few.
pub const MAX_LINKS: usize = 64;

/// The kind of document a source served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// RSS 0.9x, 1.0 (RDF) or 2.0.
    Rss,
    /// Atom 1.0 (or 0.3).
    Atom,
    /// JSON Feed 1.0/1.1.
    Json,
    /// An HTML page, scraped by CSS selectors.
    Html,
}

impl SourceFormat {
    /// Lowercase name, as `inspect` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Rss => "rss",
            SourceFormat::Atom => "atom",
            SourceFormat::Json => "json",
            SourceFormat::Html => "html",
        }
    }
}

/// Whether a text value is plain text or HTML.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TextKind {
    /// Plain text: a `<` in it is a character, not markup.
    Plain,
    /// HTML (or XHTML), to be sanitized. RSS text is HTML unless the feed
    /// says otherwise, so this is the default.
    #[default]
    Html,
}

/// A piece of text and how to read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    /// The text as the document gave it (XML references resolved).
    pub body: String,
    /// Plain text or HTML.
    pub kind: TextKind,
}

impl Text {
    /// HTML text.
    pub fn html(body: String) -> Text {
        Text {
            body,
            kind: TextKind::Html,
        }
    }
}

/// A link of a feed or an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// The URL, as given (may be relative).
    pub href: String,
    /// `rel` (`alternate`, `enclosure`, `self`…); `None` means alternate.
    pub rel: Option<String>,
    /// The media type the link names, if given.
    pub media_type: Option<String>,
}

/// A person credited with an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// Display name; `None` when only an address was given.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Home page.
    pub uri: Option<String>,
}

/// A category (tag) of an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Category {
    /// The term as given.
    pub term: String,
    /// A human-readable label, when the format has one (Atom `label`).
    pub label: Option<String>,
    /// The scheme or domain the term belongs to.
    pub scheme: Option<String>,
}

/// A media file attached to an entry, as given (not yet resolved or
/// checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enclosure {
    /// The URL, as given (may be relative).
    pub url: String,
    /// MIME type, when given.
    pub media_type: Option<String>,
    /// Size in bytes, when given.
    pub length: Option<u64>,
}

/// One entry (item) of a parsed document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedEntry {
    /// The entry's own id (guid, Atom id, RSS 1.0 `rdf:about`); `None` when
    /// it gave none.
    pub id: Option<String>,
    /// Title (markup and entities possibly left in).
    pub title: Option<Text>,
    /// Links in document order.
    pub links: Vec<Link>,
    /// Summary or description.
    pub summary: Option<Text>,
    /// Full content.
    pub content: Option<Text>,
    /// The base URL for relative URLs inside `summary` and `content`, when
    /// an `xml:base` sets one that may differ from the document's.
    pub content_base: Option<String>,
    /// Authors in document order.
    pub authors: Vec<Person>,
    /// Categories in document order.
    pub categories: Vec<Category>,
    /// Publication date.
    pub published: Option<DateTime<Utc>>,
    /// Last-modified date.
    pub updated: Option<DateTime<Utc>>,
    /// Language (`xml:lang`, `dc:language`), as given.
    pub language: Option<String>,
    /// Attached media in document order.
    pub enclosures: Vec<Enclosure>,
}

/// A parsed document: the feed's own facts and its entries.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    /// Which format the document was in.
    pub format: SourceFormat,
    /// The feed's title.
    pub title: Option<Text>,
    /// A second title (`dc:title`, or an HTML page's `og:title`), used when
    /// `title` is missing or reads as empty text.
    pub alternate_title: Option<Text>,
    /// Feed-level links (the site's home page among them).
    pub links: Vec<Link>,
    /// Feed language, as given.
    pub language: Option<String>,
    /// RSS `<ttl>`, in minutes: how long the feed asks to be cached.
    pub ttl: Option<u32>,
    /// Entries in document order.
    pub entries: Vec<ParsedEntry>,
    /// The character encoding the body was read as (`"UTF-8"`…).
    pub encoding: &'static str,
    /// Whether the document needed a repair (bare `&`, a wrong RSS version
    /// …) before it could be read.
    pub repaired: bool,
    /// What a lenient reader accepted that the format's spec does not (a
    /// JSON Feed `version` of "1.0", no `title`…), one short note each.
    pub lenient: Vec<String>,
}

impl ParsedFeed {
    /// An empty document of `format`, read as UTF-8; fill in the rest.
    pub fn new(format: SourceFormat) -> ParsedFeed {
        ParsedFeed {
            format,
            title: None,
            alternate_title: None,
            links: Vec::new(),
            language: None,
            ttl: None,
            entries: Vec::new(),
            encoding: "UTF-8",
            repaired: false,
            lenient: Vec::new(),
        }
    }
}

/// Whether an id is an http(s) URL, and so names the same story as that
/// link: parse takes such a permalink `guid` as the link of an item that
/// has none, and normalize keys stories by it.
pub fn is_url_shaped(id: &str) -> bool {
    let g = id.trim_start();
    // `get`, not slicing: the 7th/8th byte may sit inside a character.
    let starts = |p: &str| g.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    g.len() > 8 && (starts("https://") || starts("http://"))
}
