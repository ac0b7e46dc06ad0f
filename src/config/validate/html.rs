//! `kind`, `[source.html]` and `[source.article]`: CSS selectors are
//! parsed here (scraper's own parser, so what `check` accepts is what a
//! poll can run), the link pattern compiled, date formats read.

use crate::config::checks::{Ctx, in_range};
use crate::config::raw::{RawArticle, RawHtml};
use crate::config::spans::Keys;
use crate::config::{ArticleRules, HtmlRules, SourceKind};

/// Items per listing page when `max_items` is unset.
pub(crate) const DEFAULT_MAX_ITEMS: u64 = 50;
/// Article pages per poll when `max_per_poll` is unset.
pub(crate) const DEFAULT_MAX_PER_POLL: u64 = 10;

/// `kind`: `feed` (default) or `html`.
pub(super) fn kind(cx: &mut Ctx<'_>, keys: &Keys, kind: Option<&str>) -> SourceKind {
    match kind {
        None | Some("feed") => SourceKind::Feed,
        Some("html") => SourceKind::Html,
        Some(other) => {
            cx.bad(
                keys,
                "kind",
                format!("`{other}` is not a source kind; expected \"feed\" or \"html\""),
            );
            SourceKind::Feed
        }
    }
}

/// `[source.html]`: required for `kind = "html"`, refused on a feed.
pub(super) fn html_rules(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    kind: SourceKind,
    raw: Option<&RawHtml>,
) -> Option<HtmlRules> {
    match (kind, raw) {
        (SourceKind::Feed, Some(_)) => {
            cx.bad(
                keys,
                "html",
                "[source.html] is for kind = \"html\" sources; set kind = \"html\" or remove it",
            );
            None
        }
        (SourceKind::Feed, None) => None,
        (SourceKind::Html, None) => {
            cx.bad(
                keys,
                "kind",
                "kind = \"html\" needs a [source.html] table with at least `item` and `title`",
            );
            None
        }
        (SourceKind::Html, Some(raw)) => Some(html(cx, keys, raw)),
    }
}

fn html(cx: &mut Ctx<'_>, keys: &Keys, raw: &RawHtml) -> HtmlRules {
    let item = required(cx, keys, "html.item", raw.item.as_deref());
    let title = required(cx, keys, "html.title", raw.title.as_deref());
    selector(cx, keys, "html.link", raw.link.as_deref());
    let link_pattern = raw.link_pattern.as_deref().and_then(|p| {
        match regex::RegexBuilder::new(p).size_limit(1 << 20).build() {
            Ok(r) => Some(r),
            Err(e) => {
                let reason = e.to_string();
                let reason = reason
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                cx.bad(
                    keys,
                    "html.link_pattern",
                    format!("`{p}` is not a valid regex: {reason}"),
                );
                None
            }
        }
    });
    selector(cx, keys, "html.summary", raw.summary.as_deref());
    selector(cx, keys, "html.date", raw.date.as_deref());
    date_format(cx, keys, "html.date_format", raw.date_format.as_deref());
    selector(cx, keys, "html.category", raw.category.as_deref());
    selector(cx, keys, "html.exclude", raw.exclude.as_deref());
    let max_items = raw.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    in_range(cx, keys, "html.max_items", max_items, 1..=1000);
    HtmlRules {
        item,
        title,
        link: raw.link.clone(),
        link_pattern,
        summary: raw.summary.clone(),
        date: raw.date.clone(),
        date_format: raw.date_format.clone(),
        category: raw.category.clone(),
        exclude: raw.exclude.clone(),
        max_items: max_items.clamp(1, 1000) as usize,
    }
}

/// `[source.article]`: every key optional (an empty table means "fetch
/// the page and take its main text").
pub(super) fn article_rules(cx: &mut Ctx<'_>, keys: &Keys, raw: &RawArticle) -> ArticleRules {
    selector(cx, keys, "article.content", raw.content.as_deref());
    selector(cx, keys, "article.title", raw.title.as_deref());
    selector(cx, keys, "article.date", raw.date.as_deref());
    date_format(cx, keys, "article.date_format", raw.date_format.as_deref());
    selector(cx, keys, "article.category", raw.category.as_deref());
    selector(cx, keys, "article.exclude", raw.exclude.as_deref());
    let max = raw.max_per_poll.unwrap_or(DEFAULT_MAX_PER_POLL);
    in_range(cx, keys, "article.max_per_poll", max, 1..=100);
    ArticleRules {
        content: raw.content.clone(),
        title: raw.title.clone(),
        date: raw.date.clone(),
        date_format: raw.date_format.clone(),
        category: raw.category.clone(),
        exclude: raw.exclude.clone(),
        max_per_poll: max.clamp(1, 100) as usize,
    }
}

/// A selector that must be given.
fn required(cx: &mut Ctx<'_>, keys: &Keys, field: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => {
            selector(cx, keys, field, Some(v));
            v.to_string()
        }
        None => {
            cx.bad(keys, field, "is required: a CSS selector");
            String::new()
        }
    }
}

/// A CSS selector scraper can run; a problem naming the key if not.
fn selector(cx: &mut Ctx<'_>, keys: &Keys, field: &str, value: Option<&str>) {
    let Some(v) = value else { return };
    if v.trim().is_empty() {
        cx.bad(keys, field, "must not be blank");
        return;
    }
    if let Err(e) = scraper::Selector::parse(v) {
        cx.bad(
            keys,
            field,
            format!("`{v}` is not a valid CSS selector: {}", selector_error(&e)),
        );
    }
}

/// scraper's message for a selector error, on one line. For errors of the
/// selectors crate it prints "Unexpected error occurred. Please report
/// this to the developer" and the kind's name on a second line; the name
/// ("DanglingCombinator") is the useful part, so it is spelled out.
fn selector_error(e: &scraper::error::SelectorErrorKind) -> String {
    let text = e.to_string();
    if !text.contains("report this to the developer") {
        return text.replace('\n', " ");
    }
    let name = text.lines().last().unwrap_or_default();
    let mut words = String::new();
    for c in name.chars().take_while(|c| c.is_alphanumeric()) {
        if c.is_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    if words.is_empty() {
        "not a selector".to_string()
    } else {
        words
    }
}

/// A strftime-like date format (chrono's specifiers); a problem if chrono
/// cannot read it or it names no day.
fn date_format(cx: &mut Ctx<'_>, keys: &Keys, field: &str, value: Option<&str>) {
    use chrono::format::{Item, StrftimeItems};
    let Some(f) = value else { return };
    if StrftimeItems::new(f).any(|i| matches!(i, Item::Error)) {
        cx.bad(
            keys,
            field,
            format!("`{f}` is not a date format like \"%d %B %Y %H:%M\""),
        );
    } else if !f.contains("%d") && !f.contains("%e") && !f.contains("%F") && !f.contains("%j") {
        cx.bad(keys, field, format!("`{f}` names no day (%d or %e)"));
    }
}
