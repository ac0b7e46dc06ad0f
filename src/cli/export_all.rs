//! `feedmerge export … --limit all` and `--before CURSOR`: every story of a
//! section or named feed in one document, read page by page through
//! `feeds::select` and written page by page (`export::stream`), so memory
//! holds one page (500 stories) at a time however long the feed is.
//!
//! A head states facts about all of its stories (newest date, latest
//! update, shared language), so the pages are read twice: once for those
//! facts, once to write. A story that arrives between the two passes with
//! a newer date than the first pass saw is left out (the next export has
//! it), so the head stays true of its entries.

use crate::config::Config;
use crate::export::stream::{Streamed, Summary};
use crate::feeds::{self, FeedError, FeedRequest, MAX_LIMIT, Target};
use crate::model::format::Format;
use crate::store::{Cursor, Store};
use std::io::Write;

/// `--limit`: a number of entries, or every story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Every story, in one document.
    All,
    /// At most this many (1–500).
    Entries(usize),
}

/// Parses `--limit`: `all` or 1–500.
pub fn parse_limit(s: &str) -> Result<Limit, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(Limit::All);
    }
    s.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .map(Limit::Entries)
        .ok_or_else(|| format!("`{s}` is neither `all` nor a number from 1 to {MAX_LIMIT}"))
}

/// Parses `--before`: the cursor a `next` link carries (`before=…`), or
/// the whole link.
pub fn parse_before(s: &str) -> Result<Cursor, String> {
    let value = match url::Url::parse(s) {
        Ok(url) => url
            .query_pairs()
            .find(|(k, _)| k == "before")
            .map(|(_, v)| v.into_owned())
            .ok_or("the link has no before= parameter")?,
        Err(_) => s.to_string(),
    };
    FeedRequest::from_pairs([("before", value.as_str())])?
        .before
        .ok_or_else(|| "before is not a cursor from a next link".to_string())
}

/// Why `--limit all` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Selecting a page failed.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// Writing failed (a closed pipe, a full disk).
    #[error("cannot write the feed: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes every story of `target` older than `req.before` (all, without
/// it) to `out` as one `format` document; returns how many.
pub async fn export_all(
    config: &Config,
    store: &dyn Store,
    target: &Target,
    format: Format,
    req: &FeedRequest,
    out: &mut impl Write,
) -> Result<usize, ExportError> {
    let page_req = |before: Option<Cursor>| FeedRequest {
        limit: Some(MAX_LIMIT),
        ..req.at(before)
    };
    // Pass 1: what the head says about all the stories.
    let mut summary = Summary::default();
    let mut first = None;
    let mut position = req.before;
    loop {
        let page = feeds::select(config, store, target, &page_req(position)).await?;
        summary.add(&page.stories);
        position = page.next;
        let done = position.is_none();
        if first.is_none() {
            first = Some(page);
        }
        if done {
            break;
        }
    }
    let Some(mut head) = first else {
        return Ok(0);
    };
    // The document answers the request as asked: no page size, no next;
    // its stories come in pass 2.
    head.request = req.clone();
    head.next = None;
    head.stories.clear();
    let doc = head.to_doc(config, format);
    let (mut writer, text) = Streamed::begin(&doc, &summary, format);
    out.write_all(text.as_bytes())?;

    // Pass 2: the entries, page by page.
    let newest = summary.newest();
    let mut written = 0;
    let mut position = req.before;
    loop {
        let mut page = feeds::select(config, store, target, &page_req(position)).await?;
        page.stories.retain(|s| Some(s.published) <= newest);
        written += page.stories.len();
        out.write_all(writer.entries(&page.stories).as_bytes())?;
        position = page.next;
        if position.is_none() {
            break;
        }
    }
    out.write_all(writer.finish().as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors_parse_with_reasons() {
        assert_eq!(parse_limit("all"), Ok(Limit::All));
        assert_eq!(parse_limit("ALL"), Ok(Limit::All));
        assert_eq!(parse_limit("500"), Ok(Limit::Entries(500)));
        for bad in ["0", "501", "many", ""] {
            assert!(parse_limit(bad).unwrap_err().contains("1 to 500"), "{bad}");
        }
        let cursor = Cursor {
            published: 1_748_779_200,
            seq: 42,
        };
        assert_eq!(parse_before("1748779200.42"), Ok(cursor));
        assert_eq!(
            parse_before(
                "http://127.0.0.1:8080/sections/Politics.atom?limit=5&before=1748779200.42"
            ),
            Ok(cursor)
        );
        assert!(parse_before("yesterday").is_err());
        assert!(parse_before("http://x.org/sections/a.atom").is_err());
    }
}
