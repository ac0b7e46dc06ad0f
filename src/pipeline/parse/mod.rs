//! Parse: decode the body to UTF-8, hand it to feed-rs with our own id
//! generator and timestamp parser, repair and retry once when the XML is
//! malformed, and collect the categories feed-rs ignores.

pub mod dates;
pub mod decode;
mod error;
mod extras;
mod fallbacks;
pub mod repair;

pub use error::ParseError;
pub use fallbacks::{EntryFallbacks, FeedFallbacks};

use chrono_tz::Tz;
use feed_rs::model::{Feed, FeedType};

/// Marker id our generator gives entries that have no id of their own, so
/// normalize can tell "the feed gave none" apart from a real guid. It starts
/// with a control character, which no XML or JSON id can contain after decode.
pub const NO_ID: &str = "\u{1}feedmerge:no-id";

/// The wire format a document was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RSS 0.9x, 1.0 (RDF) or 2.0.
    Rss,
    /// Atom 1.0 (or 0.3).
    Atom,
    /// JSON Feed 1.0/1.1.
    Json,
}

impl Format {
    /// Lowercase name, as `inspect` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }
}

/// A parsed document.
#[derive(Debug)]
pub struct ParsedFeed {
    /// feed-rs's model (ids of entries without one are [`NO_ID`]).
    pub feed: Feed,
    /// Which format it was.
    pub format: Format,
    /// `dc:subject`/`media:category` terms per entry, in entry order.
    pub extra_categories: Vec<Vec<String>>,
    /// Per entry, the `xml:base` in effect at its content (empty when the
    /// document uses none): the base for URLs inside that content.
    pub content_bases: Vec<Option<String>>,
    /// Channel-level values feed-rs does not read (`dc:title`…).
    pub feed_fallbacks: FeedFallbacks,
    /// Per entry, in entry order, values feed-rs does not read: normalize
    /// uses them where feed-rs left a field empty.
    pub fallbacks: Vec<EntryFallbacks>,
    /// Encoding the body was read as.
    pub encoding: &'static str,
    /// Whether a repair (bare `&`, rss version) was needed.
    pub repaired: bool,
}

/// Inputs to one parse besides the bytes.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    /// `Content-Type` of the response, if any.
    pub content_type: Option<&'a str>,
    /// URL the body came from after redirects: the base for relative links.
    pub base_url: Option<&'a str>,
    /// Zone for dates without an offset.
    pub timezone: Tz,
    /// A per-source charset that overrides the server and the document.
    pub encoding: Option<&'static encoding_rs::Encoding>,
}

/// Whether `needle` occurs in `text`. The repair and fallback passes ask
/// this of whole documents a dozen times per poll; memchr's SIMD search is
/// several times faster than `str::contains` on long text.
pub(crate) fn contains(text: &str, needle: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// Parses one feed document.
pub fn parse(body: &[u8], opts: ParseOptions<'_>) -> Result<ParsedFeed, ParseError> {
    let charset = opts
        .content_type
        .and_then(crate::model::charset::charset_of);
    let decoded = decode::decode(body, charset.as_deref(), opts.encoding);
    let text = decoded.text.trim_start();
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    if let Some(what) = error::not_a_feed(text, opts.content_type) {
        return Err(what);
    }
    // Old formats feed-rs does not read, upgraded before the first attempt.
    let atom03 = repair::upgrade_atom03(text);
    let is_atom03 = atom03.is_some();
    let upgraded = atom03.or_else(|| repair::upgrade_rss090(text));
    let text = upgraded.as_deref().unwrap_or(text);
    let constructs = repair::atom_text_constructs(text, is_atom03);
    let text = constructs.as_deref().unwrap_or(text);
    let placeholders = fallbacks::rss1_placeholder_links(text);
    let text = placeholders.as_deref().unwrap_or(text);
    let (feed, repaired) = match feed_rs_parse(text, &opts) {
        Ok(feed) => (feed, false),
        Err(first) if text.starts_with('<') => {
            let retry = repair::close_final_tag(text);
            let current = retry.as_deref().unwrap_or(text);
            let retry = repair::fix_rss_version(current).or(retry);
            let current = retry.as_deref().unwrap_or(text);
            let retry = repair::lowercase_hex_refs(current).or(retry);
            let current = retry.as_deref().unwrap_or(text);
            let retry = repair::escape_bare_ampersands(current).or(retry);
            match retry {
                Some(fixed) => match feed_rs_parse(&fixed, &opts) {
                    Ok(feed) => (feed, true),
                    Err(_) => return Err(ParseError::from_feed_rs(first, text)),
                },
                None => return Err(ParseError::from_feed_rs(first, text)),
            }
        }
        Err(e) => return Err(ParseError::from_feed_rs(e, text)),
    };
    let mut feed = feed;
    if placeholders.is_some() {
        for entry in &mut feed.entries {
            entry.links.retain(|l| l.href != fallbacks::NO_LINK);
        }
    }
    let format = match feed.feed_type {
        FeedType::Atom => Format::Atom,
        FeedType::JSON => Format::Json,
        FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2 => Format::Rss,
    };
    let extra_categories = if format == Format::Json {
        Vec::new()
    } else {
        extras::extra_categories(text)
    };
    let content_bases = if format == Format::Json {
        Vec::new()
    } else {
        extras::content_bases(text, opts.base_url)
    };
    let (feed_fallbacks, fallbacks) =
        if format != Format::Json && fallbacks_needed(&feed, format, text) {
            fallbacks::collect(text, opts.timezone)
        } else {
            Default::default()
        };
    Ok(ParsedFeed {
        feed_fallbacks,
        fallbacks,
        feed,
        format,
        extra_categories,
        content_bases,
        encoding: decoded.encoding,
        repaired,
    })
}

fn feed_rs_parse(
    text: &str,
    opts: &ParseOptions<'_>,
) -> Result<Feed, feed_rs::parser::ParseFeedError> {
    let tz = opts.timezone;
    let parse = || {
        feed_rs::parser::Builder::new()
            .base_uri(opts.base_url)
            .sanitize_content(false)
            // feed-rs's own ids hash the title (an edited headline would become
            // a new story) or are random UUIDs; identity is normalize's job.
            .id_generator(|_, _, _| NO_ID.to_string())
            .timestamp_parser(move |raw| dates::parse_date(raw, tz))
            .build()
            .parse(text.as_bytes())
    };
    // feed-rs and quick-xml are third-party code on hostile input: a panic
    // there (fuzzing found one, now avoided in decode) must cost one feed,
    // not the caller. The closure only reads `text`, so unwinding leaves
    // nothing half-changed.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).unwrap_or_else(|_| {
        Err(feed_rs::parser::ParseFeedError::IoError(
            std::io::Error::other("the XML parser crashed on this document"),
        ))
    })
}

/// The base URL of a response for relative links: its final URL after
/// redirects, or the `Content-Location` it names (resolved against that URL),
/// which servers use to say where the document really lives.
pub fn base_url(final_url: &str, content_location: Option<&str>) -> String {
    match (url::Url::parse(final_url), content_location) {
        (Ok(base), Some(loc)) => base
            .join(loc.trim())
            .map(String::from)
            .unwrap_or_else(|_| final_url.to_string()),
        _ => final_url.to_string(),
    }
}

/// Whether the fallback side pass could fill anything: some field feed-rs
/// left empty, in a document that holds an element that could fill it.
/// Most feeds need none, and skipping the pass saves a second XML read.
/// Mirrors the conditions `normalize::with_fallbacks` applies.
fn fallbacks_needed(feed: &Feed, format: Format, text: &str) -> bool {
    let has = |needle: &str| contains(text, needle);
    let rss = format == Format::Rss;
    // What is missing, over all entries first; each needle is then searched
    // for at most once per document.
    let (mut id, mut title, mut author, mut summary, mut rss_summary) =
        (false, false, false, false, false);
    let (mut content, mut dates, mut language, mut link) = (false, false, false, false);
    for e in &feed.entries {
        id |= e.id.trim().is_empty() || e.id == NO_ID;
        title |= e.title.as_ref().is_none_or(|t| t.content.trim().is_empty());
        author |= e.authors.is_empty();
        summary |= e.summary.is_none();
        rss_summary |= rss && e.content.is_none();
        content |= e.content.as_ref().is_none_or(|c| c.body.is_none());
        dates |= e.published.is_none() || e.updated.is_none();
        language |= e.language.is_none();
        link |= rss && e.links.is_empty();
    }
    ((feed.title.is_none() || title) && has("dc:title"))
        || ((feed.language.is_none() || language) && has("dc:language"))
        || (id && has("rdf:about"))
        || (author && (has("dc:creator") || has("dc:author")))
        || (summary && (has("dc:description") || has("<description")))
        || (rss_summary && has("<summary"))
        || (content && (has("body") || has("<fullitem")))
        || (dates && has("dcterms:"))
        || (link && has("<guid"))
}
