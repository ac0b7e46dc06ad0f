//! A listing page to entries: one per element `item` matches, every other
//! selector scoped to that item. Only a missing title or link drops an
//! item; a missing date, summary or category leaves the field empty.

use super::page::{absolute, base_of, cut, date_of, escape, js_hint, sel, text};
use super::{MIN_FILL, ScrapeError};
use crate::config::HtmlRules;
use crate::model::parsed::{Category, Link, ParsedEntry, ParsedFeed, SourceFormat, Text};
use chrono_tz::Tz;
use scraper::{ElementRef, Html};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the rules found on a page, for `inspect` and the error states.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListingReport {
    /// Elements each selector matched: `item` in the page, the others
    /// inside items (summed over items).
    pub matched: BTreeMap<&'static str, usize>,
    /// Items with both a title and a link.
    pub complete: usize,
    /// Items the link pattern skipped.
    pub skipped_by_pattern: usize,
    /// Items kept as entries.
    pub kept: usize,
    /// Why the page may look empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ListingReport {
    /// The page's state: fine, `scrape_empty` or `scrape_degraded`.
    pub fn verdict(&self, rules: &HtmlRules) -> Result<(), ScrapeError> {
        let items = self.matched.get("item").copied().unwrap_or(0);
        let matched = items.saturating_sub(self.skipped_by_pattern);
        if items == 0 || (matched == 0 && self.kept == 0) {
            return Err(ScrapeError::Empty {
                item: rules.item.clone(),
                hint: self.hint.clone(),
            });
        }
        if (self.complete as f64) < MIN_FILL * matched as f64 {
            return Err(ScrapeError::Degraded {
                complete: self.complete,
                matched,
            });
        }
        Ok(())
    }
}

/// A scraped listing page.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Its items as entries.
    pub feed: ParsedFeed,
    /// What each selector matched.
    pub report: ListingReport,
}

/// Scrapes a listing page (already decoded) fetched from `page_url`.
pub fn scrape_listing(text_html: &str, page_url: &str, rules: &HtmlRules, zone: Tz) -> Listing {
    let mut doc = Html::parse_document(text_html);
    let base = base_of(&doc, page_url);
    let mut feed = ParsedFeed::new(SourceFormat::Html);
    feed.title = sel("title")
        .and_then(|s| doc.select(&s).next())
        .map(|t| Text::html(escape(&text(t))));
    feed.alternate_title = sel("meta[property='og:title']")
        .and_then(|s| doc.select(&s).next())
        .and_then(|m| m.value().attr("content"))
        .map(|c| Text::html(escape(c)));
    feed.language = sel("html[lang]")
        .and_then(|s| doc.select(&s).next())
        .and_then(|h| h.value().attr("lang"))
        .map(str::to_string);
    feed.links.push(Link {
        href: page_url.to_string(),
        ..Link::default()
    });
    cut(&mut doc, rules.exclude.as_deref());
    let mut report = ListingReport::default();
    let Some(item_sel) = sel(&rules.item) else {
        return Listing { feed, report };
    };
    let compiled = Compiled::new(rules);
    let items: Vec<ElementRef<'_>> = doc.select(&item_sel).collect();
    report.matched.insert("item", items.len());
    for key in compiled.keys() {
        report.matched.insert(key, 0);
    }
    let content_base = base.as_ref().map(|b| b.to_string());
    for item in items {
        let got = compiled.read(item, base.as_ref(), rules, zone, &mut report);
        let Some((title, link)) = got.title.clone().zip(got.link.clone()) else {
            continue;
        };
        if let Some(p) = &rules.link_pattern
            && !p.is_match(&link)
        {
            report.skipped_by_pattern += 1;
            continue;
        }
        report.complete += 1;
        if feed.entries.len() >= rules.max_items {
            continue;
        }
        feed.entries.push(ParsedEntry {
            title: Some(Text::html(escape(&title))),
            links: vec![Link {
                href: link,
                ..Link::default()
            }],
            summary: got.summary.map(Text::html),
            content_base: content_base.clone(),
            categories: got
                .category
                .into_iter()
                .map(|term| Category {
                    term,
                    ..Category::default()
                })
                .collect(),
            published: got.published,
            language: feed.language.clone(),
            ..ParsedEntry::default()
        });
    }
    report.kept = feed.entries.len();
    if report.kept == 0 {
        report.hint = js_hint(text_html);
    }
    Listing { feed, report }
}

/// What one item gave.
struct Got {
    title: Option<String>,
    link: Option<String>,
    summary: Option<String>,
    published: Option<chrono::DateTime<chrono::Utc>>,
    category: Option<String>,
}

/// The item-scoped selectors, compiled once per page.
struct Compiled {
    title: Option<scraper::Selector>,
    link: Option<scraper::Selector>,
    summary: Option<scraper::Selector>,
    date: Option<scraper::Selector>,
    category: Option<scraper::Selector>,
    any_link: Option<scraper::Selector>,
}

impl Compiled {
    fn new(rules: &HtmlRules) -> Compiled {
        Compiled {
            title: sel(&rules.title),
            link: rules.link.as_deref().and_then(sel),
            summary: rules.summary.as_deref().and_then(sel),
            date: rules.date.as_deref().and_then(sel),
            category: rules.category.as_deref().and_then(sel),
            any_link: sel("a[href]"),
        }
    }

    /// The selector keys in the report.
    fn keys(&self) -> Vec<&'static str> {
        let mut keys = vec!["title"];
        for (k, s) in [
            ("link", &self.link),
            ("summary", &self.summary),
            ("date", &self.date),
            ("category", &self.category),
        ] {
            if s.is_some() {
                keys.push(k);
            }
        }
        keys
    }

    fn read(
        &self,
        item: ElementRef<'_>,
        base: Option<&url::Url>,
        rules: &HtmlRules,
        zone: Tz,
        report: &mut ListingReport,
    ) -> Got {
        let mut first = |key: &'static str, s: &Option<scraper::Selector>| {
            let el = s.as_ref().and_then(|s| item.select(s).next());
            if el.is_some() {
                *report.matched.entry(key).or_default() += 1;
            }
            el
        };
        let title_el = first("title", &self.title);
        let link_el = first("link", &self.link);
        let summary_el = first("summary", &self.summary);
        let date_el = first("date", &self.date);
        let category_el = first("category", &self.category);
        let title = title_el.map(text).filter(|t| !t.is_empty());
        let href = match (&self.link, link_el) {
            (Some(_), Some(el)) => href_of(el, self),
            (Some(_), None) => None,
            (None, _) => title_el
                .and_then(|t| href_of(t, self))
                .or_else(|| first_link(item, self)),
        };
        Got {
            title,
            link: href.and_then(|h| absolute(&h, base)),
            summary: summary_el
                .map(|s| s.inner_html())
                .filter(|s| !s.trim().is_empty()),
            published: date_el.and_then(|d| date_of(d, rules.date_format.as_deref(), zone)),
            category: category_el.map(text).filter(|c| !c.is_empty()),
        }
    }
}

/// An element's `href`: its own, else its first link's, else the link
/// around it.
fn href_of(el: ElementRef<'_>, c: &Compiled) -> Option<String> {
    if let Some(h) = el.value().attr("href") {
        return Some(h.to_string());
    }
    if let Some(h) = first_link(el, c) {
        return Some(h);
    }
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| a.value().name() == "a")
        .and_then(|a| a.value().attr("href"))
        .map(str::to_string)
}

fn first_link(el: ElementRef<'_>, c: &Compiled) -> Option<String> {
    c.any_link
        .as_ref()
        .and_then(|s| el.select(s).next())
        .and_then(|a| a.value().attr("href"))
        .map(str::to_string)
}
