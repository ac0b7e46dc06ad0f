//! One document written in parts, for a feed too long to hold in memory
//! (`feedmerge export --limit all`): the head (everything before the first
//! entry), the entries page by page, then the tail. The bytes are those of
//! [`super::render`] for the same stories, cut apart, so every format stays
//! what its own renderer makes of it.
//!
//! A head says things about all of its stories (Atom `updated`, RSS
//! `pubDate`, the shared language, RSS's namespace declarations), so the
//! caller first reads every page into a [`Summary`], then writes. The head
//! is rendered around a stand-in entry carrying those facts, and the
//! stand-in cut out; each page is rendered as a document with a blank head
//! and its entries cut out. Nothing in a blank head holds text a story
//! wrote, so the first entry tag of such a document starts its entries; a
//! stand-in is found from the end, after the head's own texts.

use super::{Format, render};
use crate::model::{FeedDoc, SourceRef, Story};
use chrono::{DateTime, Utc};

/// What a document's head says about all of its stories, gathered page by
/// page before anything is written.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    stories: usize,
    updated: Option<DateTime<Utc>>,
    newest: Option<DateTime<Utc>>,
    /// `None` before the first story; then the language every story so
    /// far shares (compared as [`FeedDoc::shared_language`] does), or
    /// `Some(None)` when they do not share one.
    language: Option<Option<String>>,
}

impl Summary {
    /// Takes one page of the document's stories into account.
    pub fn add(&mut self, stories: &[Story]) {
        for s in stories {
            self.stories += 1;
            self.updated = self.updated.max(Some(s.updated));
            self.newest = self.newest.max(Some(s.published));
            self.language = match self.language.take() {
                None => Some(s.language.clone()),
                Some(Some(l))
                    if s.language
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(&l)) =>
                {
                    Some(Some(l))
                }
                Some(_) => Some(None),
            };
        }
    }

    /// Stories taken into account.
    pub fn stories(&self) -> usize {
        self.stories
    }

    /// The newest sort date among them.
    pub fn newest(&self) -> Option<DateTime<Utc>> {
        self.newest
    }
}

/// A document being written: what separates and ends its entries.
#[derive(Debug)]
pub struct Streamed {
    format: Format,
    tail: String,
    written: usize,
}

impl Streamed {
    /// Starts the document `doc` (its stories, next link and `updated` are
    /// ignored) for stories that `summary` describes; returns the writer
    /// and the head to write first.
    pub fn begin(doc: &FeedDoc, summary: &Summary, format: Format) -> (Streamed, String) {
        let mut head = FeedDoc {
            stories: Vec::new(),
            next_url: None,
            updated: summary.updated.unwrap_or(DateTime::UNIX_EPOCH),
            ..doc.clone()
        };
        let Some(newest) = summary.newest else {
            // No stories: the whole document is its head.
            let whole = render(&head, format);
            return (Streamed::new(format, String::new()), whole);
        };
        let stand_in = stand_in(newest, head.updated, summary.language.clone().flatten());
        let cut = entries(format, std::slice::from_ref(&stand_in));
        head.stories = vec![stand_in];
        let mut whole = render(&head, format);
        match whole.rfind(&cut) {
            Some(at) => {
                let tail = whole.split_off(at + cut.len());
                whole.truncate(at);
                (Streamed::new(format, tail), whole)
            }
            // Never expected (the tests cut every format): better a head
            // without the facts than a broken document.
            None => {
                head.stories.clear();
                let whole = render(&head, format);
                let at = whole.rfind(closing(format)).unwrap_or(whole.len());
                let (h, t) = whole.split_at(at);
                (Streamed::new(format, t.to_string()), h.to_string())
            }
        }
    }

    fn new(format: Format, tail: String) -> Streamed {
        Streamed {
            format,
            tail,
            written: 0,
        }
    }

    /// The entries of `stories`, to write after the head or the previous
    /// page.
    pub fn entries(&mut self, stories: &[Story]) -> String {
        if stories.is_empty() {
            return String::new();
        }
        let mut out = entries(self.format, stories);
        if self.format == Format::Json && self.written > 0 {
            out.insert(0, ',');
        }
        self.written += stories.len();
        out
    }

    /// The tail, to write last.
    pub fn finish(self) -> String {
        self.tail
    }
}

/// The end of an empty document's entries, for the fallback above.
fn closing(format: Format) -> &'static str {
    match format {
        Format::Atom => "</feed>",
        Format::Rss => "</channel>",
        Format::Json => "]}",
    }
}

/// The entries of `stories` as their format writes them, cut out of a
/// document with a blank head.
fn entries(format: Format, stories: &[Story]) -> String {
    let blank = FeedDoc {
        title: String::new(),
        id: String::new(),
        self_url: String::new(),
        home_url: None,
        updated: DateTime::UNIX_EPOCH,
        stories: stories.to_vec(),
        next_url: None,
        hub_url: None,
    };
    let whole = render(&blank, format);
    let (open, close) = match format {
        Format::Atom => ("<entry>", "</entry>"),
        Format::Rss => ("<item>", "</item>"),
        Format::Json => ("\"items\":[", "]}"),
    };
    let start = whole.find(open).map(|i| match format {
        Format::Json => i + open.len(),
        _ => i,
    });
    let end = whole.rfind(close).map(|i| match format {
        Format::Json => i,
        _ => i + close.len(),
    });
    match (start, end) {
        (Some(s), Some(e)) if s <= e => whole[s..e].to_string(),
        _ => String::new(),
    }
}

/// An entry standing for all of a document's stories in its head: the
/// newest sort date, the latest update, their shared language, and an
/// author and both HTML fields, so RSS declares the namespaces any story
/// may need.
fn stand_in(published: DateTime<Utc>, updated: DateTime<Utc>, language: Option<String>) -> Story {
    Story {
        id: "urn:feedmerge:stand-in".into(),
        title: "stand-in".into(),
        link: Some("https://stand-in.invalid/".into()),
        summary: Some("s".into()),
        content: Some("c".into()),
        authors: vec!["a".into()],
        categories: Vec::new(),
        language,
        enclosures: Vec::new(),
        published,
        updated,
        source: SourceRef {
            name: "stand-in".into(),
            title: None,
            feed_url: "https://stand-in.invalid/feed".into(),
            site_url: None,
        },
        related: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::{assert_well_formed, doc_with, story_full, story_sparse};

    /// Streams `doc`'s stories in pages of `page`, as the CLI does.
    fn streamed(doc: &FeedDoc, format: Format, page: usize) -> String {
        let mut summary = Summary::default();
        for chunk in doc.stories.chunks(page) {
            summary.add(chunk);
        }
        let (mut writer, mut out) = Streamed::begin(doc, &summary, format);
        for chunk in doc.stories.chunks(page) {
            out.push_str(&writer.entries(chunk));
        }
        out.push_str(&writer.finish());
        out
    }

    /// Stories that use every namespace, share a language, and carry
    /// markup that looks like the cut points.
    fn stories(n: usize) -> Vec<Story> {
        (0..n)
            .map(|i| {
                let mut s = if i % 2 == 0 {
                    story_full()
                } else {
                    story_sparse()
                };
                s.id = format!("urn:uuid:{i:08}");
                s.title = format!("<entry> </item> \"items\":[ ]}} {i}");
                s.content = Some(format!("<p>{i} </entry></feed></channel> ]]> </item></p>"));
                s.authors = vec!["Иван".into()];
                s.language = Some(if i == 3 { "RU".into() } else { "ru".into() });
                s.published -= chrono::Duration::minutes(i as i64);
                s
            })
            .collect()
    }

    #[test]
    fn a_streamed_document_is_the_rendered_one_in_every_format() {
        let mut doc = doc_with(stories(7));
        doc.title = "Title with <item> and </entry> in it".into();
        doc.hub_url = Some("https://hub.example.org/".into());
        for format in [Format::Atom, Format::Rss, Format::Json] {
            let whole = render(&doc, format);
            for page in [1, 3, 7, 10] {
                assert_eq!(
                    streamed(&doc, format, page),
                    whole,
                    "{format:?}, pages of {page}"
                );
            }
        }
    }

    #[test]
    fn mixed_languages_and_no_stories_stream_too() {
        let mut mixed = stories(4);
        mixed[2].language = None;
        let doc = doc_with(mixed);
        let empty = doc_with(Vec::new());
        for format in [Format::Atom, Format::Rss, Format::Json] {
            assert_eq!(
                streamed(&doc, format, 3),
                render(&doc, format),
                "{format:?}"
            );
            assert_eq!(
                streamed(&empty, format, 3),
                render(&empty, format),
                "{format:?}"
            );
        }
        assert_well_formed(&streamed(&doc, Format::Rss, 1));
    }
}
