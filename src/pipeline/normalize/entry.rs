//! One parsed entry to one `Item`: each field cleaned on its own, then the
//! identities and the content hash over the result.

use super::{NormalizeContext, html::Sanitizer};
use super::{
    enclosures, html, identity, language_tag, link, mojibake, person, story_link, title_of,
};
use crate::model::parsed::{MAX_AUTHORS, MAX_CATEGORIES, ParsedEntry, Text, TextKind};
use crate::model::sections;
use crate::model::{FeedMeta, Item};
use chrono::{DateTime, Duration, Utc};
use url::Url;

/// How far in the future a date may lie before we distrust it: a story
/// dated next week would otherwise sit on top of every feed until then.
const FUTURE_TOLERANCE: Duration = Duration::days(1);

/// Normalizes one entry; `meta` is its feed's (for the language), `base`
/// the document's base and `sanitizer` the one for its content's base.
pub(super) fn normalize_entry(
    entry: &ParsedEntry,
    meta: &FeedMeta,
    base: Option<&Url>,
    sanitizer: &Sanitizer,
    cx: &NormalizeContext<'_>,
    trust_guid: bool,
) -> Item {
    let guid = guid_of(entry);
    let chosen = story_link(&entry.links);
    // The canonical link is the identity; the story shows the host as
    // written.
    let link = chosen.and_then(|l| link::canonical_link(&l.href, base));
    let shown_link = link
        .as_deref()
        .zip(chosen)
        .map(|(canonical, l)| link::with_written_host(canonical, &l.href));
    let title = entry.title.as_ref().map(title_of).unwrap_or_default();
    let summary = entry
        .summary
        .as_ref()
        .and_then(|s| summary_of(s, sanitizer));
    let content = entry
        .content
        .as_ref()
        .and_then(|c| content_of(c, sanitizer));
    let categories = categories_of(entry);
    let (published, updated) = dates_of(entry, cx.now);
    let key = identity::item_key(
        guid.as_deref().filter(|_| trust_guid),
        link.as_deref(),
        &title,
        content.as_deref().or(summary.as_deref()),
    );
    let story_key = identity::story_key(cx.source, &key, guid.as_deref(), link.as_deref());
    let mut item = Item {
        key,
        story_key,
        guid,
        link: shown_link,
        title,
        summary,
        content,
        authors: authors_of(entry),
        sections: sections_of(&categories, cx),
        categories,
        published,
        updated,
        language: entry
            .language
            .as_deref()
            .and_then(language_tag)
            .or_else(|| meta.language.clone()),
        enclosures: enclosures::of_entry(entry, base),
        content_hash: String::new(),
    };
    item.content_hash = identity::content_hash(&item);
    item
}

/// The id exactly as the feed gave it, trimmed; `None` when blank.
pub(super) fn guid_of(entry: &ParsedEntry) -> Option<String> {
    entry
        .id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// The canonical link of the story's page (see [`story_link`]).
pub(super) fn link_of(entry: &ParsedEntry, base: Option<&Url>) -> Option<String> {
    story_link(&entry.links).and_then(|l| link::canonical_link(&l.href, base))
}

/// A summary as HTML: sanitized, or plain text escaped.
fn summary_of(t: &Text, sanitizer: &Sanitizer) -> Option<String> {
    let raw = mojibake::fix(&t.body);
    match t.kind {
        TextKind::Plain => {
            let plain = escape_text(&html::to_text(&raw));
            (!plain.is_empty()).then_some(plain)
        }
        TextKind::Html => sanitizer.clean(&raw),
    }
}

/// Content as HTML: sanitized, or plain text (Atom `type="text"`, whose `<`
/// are characters) escaped as it is.
fn content_of(t: &Text, sanitizer: &Sanitizer) -> Option<String> {
    match t.kind {
        TextKind::Plain => {
            let plain = escape_text(mojibake::fix(&t.body).trim());
            (!plain.is_empty()).then_some(plain)
        }
        TextKind::Html => sanitizer.clean(&mojibake::fix(&t.body)),
    }
}

/// Categories as plain text, each once (compared the way section names
/// are), at most [`MAX_CATEGORIES`]: an Atom `label` when not blank, else the
/// term; a term repeated under the same scheme is the same category. The
/// scheme itself is never shown. Linear: seen keys sit in hash sets.
fn categories_of(entry: &ParsedEntry) -> Vec<String> {
    use std::collections::HashSet;
    let mut categories: Vec<String> = Vec::new();
    let mut seen_text: HashSet<String> = HashSet::new();
    let mut seen_term: HashSet<(Option<&str>, String)> = HashSet::new();
    for c in &entry.categories {
        if categories.len() >= MAX_CATEGORIES {
            break;
        }
        let label = c.label.as_deref().filter(|l| !l.trim().is_empty());
        if label.is_some() || c.scheme.is_some() {
            let term_key = (c.scheme.as_deref(), sections::fold(&c.term));
            if !seen_term.insert(term_key) {
                continue;
            }
        }
        let term = html::to_text(&mojibake::fix(label.unwrap_or(&c.term)));
        if !term.is_empty() && seen_text.insert(sections::fold(&term)) {
            categories.push(term);
        }
    }
    categories
}

/// The configured sections the categories (and the source's own section)
/// map to, each once.
fn sections_of(categories: &[String], cx: &NormalizeContext<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in categories
        .iter()
        .map(String::as_str)
        .chain(cx.source_section)
    {
        if let Some(canonical) = cx.sections.canonical(name)
            && !out.contains(&canonical)
        {
            out.push(canonical);
        }
    }
    out
}

/// Published (else updated) and updated dates, each dropped when it lies
/// too far ahead of `now`.
fn dates_of(
    entry: &ParsedEntry,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let not_future = |d: &DateTime<Utc>| *d <= now + FUTURE_TOLERANCE;
    let published = entry.published.or(entry.updated).filter(not_future);
    (published, entry.updated.filter(not_future))
}

/// Authors as plain text, at most [`MAX_AUTHORS`], each as
/// [`person::shown`] gives it (`Name (address)`, the name, or the address).
fn authors_of(entry: &ParsedEntry) -> Vec<String> {
    entry
        .authors
        .iter()
        .take(MAX_AUTHORS)
        .filter_map(person::shown)
        .collect()
}

/// Plain text made safe to embed as HTML.
fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
