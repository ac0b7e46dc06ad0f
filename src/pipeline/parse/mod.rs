//! Parse: decode the body to UTF-8, hand it to feed-rs with our own id
//! generator and timestamp parser, repair and retry once when the XML is
//! malformed, convert feed-rs's model to ours (`model::parsed`), and
//! complete it from a side pass over what feed-rs does not read.

mod convert;
pub mod dates;
pub mod decode;
mod error;
mod extras;
mod fallbacks;
mod hosts;
pub mod json_feed;
pub mod repair;
mod rss1;
mod side;

pub use error::ParseError;

use crate::model::parsed::ParsedFeed;
use chrono_tz::Tz;
use feed_rs::model::Feed;
use std::borrow::Cow;

/// Marker id our generator gives entries that have no id of their own, so
/// conversion can tell "the feed gave none" apart from a real guid. It
/// starts with a control character, which no XML or JSON id can contain
/// after decode.
const NO_ID: &str = "\u{1}feedmerge:no-id";

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
    /// `Content-Language` of the response: the feed's language when the
    /// document names none (as feedparser reads it).
    pub content_language: Option<&'a str>,
}

/// Whether `needle` occurs in `text`. The repair and fallback passes ask
/// this of whole documents a dozen times per poll; memchr's SIMD search is
/// several times faster than `str::contains` on long text.
pub(crate) fn contains(text: &str, needle: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// Parses one feed document.
pub fn parse(body: &[u8], opts: ParseOptions<'_>) -> Result<ParsedFeed, ParseError> {
    let mut parsed = parse_document(body, opts)?;
    if parsed.language.is_none() {
        parsed.language = opts.content_language.and_then(first_language);
    }
    Ok(parsed)
}

/// The first language of a `Content-Language` value (`en, ru` → `en`).
fn first_language(header: &str) -> Option<String> {
    let first = header.split(',').next()?.trim();
    (!first.is_empty() && first != "*").then(|| first.to_string())
}

fn parse_document(body: &[u8], opts: ParseOptions<'_>) -> Result<ParsedFeed, ParseError> {
    let charset = opts
        .content_type
        .and_then(crate::model::charset::charset_of);
    let decoded = decode::decode(body, charset.as_deref(), opts.encoding);
    let text = decoded.text.trim_start();
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    if json_feed::looks_like_json(text) {
        let mut parsed = json_feed::parse(text, opts.timezone)?;
        parsed.encoding = decoded.encoding;
        return Ok(parsed);
    }
    if let Some(what) = error::not_a_feed(text, opts.content_type) {
        return Err(what);
    }
    let (text, placeholders) = prepare(text);
    let (feed, repaired) = read_repairing(&text, &opts)?;
    // feed-rs reads any `<rdf:RDF>` as RSS 1.0: one with neither a channel
    // nor items (FOAF, a SKOS vocabulary…) is some other RDF document.
    if convert::format_of(&feed) == crate::model::parsed::SourceFormat::Rss
        && feed.entries.is_empty()
        && feed.title.is_none()
        && !contains(&text, "channel")
    {
        return Err(error::not_a_feed_root(&text));
    }
    let mut parsed = convert::feed(feed, placeholders);
    parsed.encoding = decoded.encoding;
    parsed.repaired = repaired;
    side::complete(&mut parsed, &text, opts.base_url, opts.timezone);
    Ok(parsed)
}

/// The text feed-rs is given: old formats it does not read upgraded, Atom
/// text constructs made readable, and RSS 1.0 items without a link given a
/// placeholder one (the `bool`: whether any was).
fn prepare(text: &str) -> (Cow<'_, str>, bool) {
    let atom03 = repair::upgrade_atom03(text);
    let is_atom03 = atom03.is_some();
    let mut text = match atom03.or_else(|| repair::upgrade_rss090(text)) {
        Some(upgraded) => Cow::Owned(upgraded),
        None => Cow::Borrowed(text),
    };
    if let Some(html4) = repair::html4_angle_brackets(&text) {
        text = Cow::Owned(html4);
    }
    // Bytes, not a str slice: 4 KiB may end inside a character.
    if memchr::memmem::find(&text.as_bytes()[..text.len().min(4096)], b"<!ENTITY").is_some()
        && let Some(expanded) = repair::doctype_entities(&text)
    {
        text = Cow::Owned(expanded);
    }
    if let Some(fixed) = repair::atom_text_constructs(&text, is_atom03) {
        text = Cow::Owned(fixed);
    }
    match rss1::placeholder_links(&text) {
        Some(with_links) => (Cow::Owned(with_links), true),
        None => (text, false),
    }
}

/// feed-rs's reading of `text`, and whether it took a repair: a malformed
/// XML document is repaired and read once more. The error is the first
/// attempt's, which names what is wrong with the document as served.
fn read_repairing(text: &str, opts: &ParseOptions<'_>) -> Result<(Feed, bool), ParseError> {
    let first = match feed_rs_parse(text, opts) {
        Ok(feed) => return Ok((feed, false)),
        Err(e) => e,
    };
    let retried = text
        .starts_with('<')
        .then(|| repairs(text))
        .flatten()
        .and_then(|fixed| feed_rs_parse(&fixed, opts).ok());
    match retried {
        Some(feed) => Ok((feed, true)),
        None => Err(ParseError::from_feed_rs(first, text)),
    }
}

/// Every repair that applies to `text`, one after the other; `None` when
/// none does.
fn repairs(text: &str) -> Option<String> {
    let retry = repair::close_final_tag(text);
    let current = retry.as_deref().unwrap_or(text);
    let retry = repair::fix_rss_version(current).or(retry);
    let current = retry.as_deref().unwrap_or(text);
    let retry = repair::lowercase_hex_refs(current).or(retry);
    let current = retry.as_deref().unwrap_or(text);
    let retry = repair::wrap_in_channel(current).or(retry);
    let current = retry.as_deref().unwrap_or(text);
    repair::escape_bare_ampersands(current).or(retry)
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
