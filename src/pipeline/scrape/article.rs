//! A story's own page to an [`ArticleExtract`]: the main text (by the
//! `content` selector, else dom_smoothie's Readability port), the headline,
//! the date (`article:published_time`, JSON-LD `datePublished`, then the
//! date selector) and the section label. A headline the page prints twice
//! (page title and heading) is one headline: a heading repeating it is
//! dropped from the text.

use super::ScrapeError;
use super::page::{base_of, cut, date_of, sel, text};
use crate::config::ArticleRules;
use crate::model::article::ArticleExtract;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::Html;

/// Elements a page may hold before automatic extraction refuses it.
const MAX_ELEMENTS: usize = 50_000;

/// Elements each of `rules`' selectors matches on an article page (for
/// `inspect --article`); `exclude` is counted before anything is cut.
pub fn article_matches(
    page: &str,
    rules: &ArticleRules,
) -> std::collections::BTreeMap<&'static str, usize> {
    let doc = Html::parse_document(page);
    [
        ("content", rules.content.as_deref()),
        ("title", rules.title.as_deref()),
        ("date", rules.date.as_deref()),
        ("category", rules.category.as_deref()),
        ("exclude", rules.exclude.as_deref()),
    ]
    .into_iter()
    .filter_map(|(key, s)| Some((key, doc.select(&sel(s?)?).count())))
    .collect()
}

/// Reads one article page (decoded) fetched from `page_url`.
pub fn extract_article(
    page: &str,
    page_url: &str,
    rules: &ArticleRules,
    zone: Tz,
) -> Result<ArticleExtract, ScrapeError> {
    let mut doc = Html::parse_document(page);
    let base = base_of(&doc, page_url);
    let published = meta_date(&doc, zone)
        .or_else(|| json_ld_date(&doc, zone))
        .or_else(|| {
            let s = sel(rules.date.as_deref()?)?;
            doc.select(&s)
                .find_map(|el| date_of(el, rules.date_format.as_deref(), zone))
        });
    let mut categories = Vec::new();
    if let Some(s) = rules.category.as_deref().and_then(sel) {
        for el in doc.select(&s) {
            let c = text(el);
            if !c.is_empty() && !categories.contains(&c) {
                categories.push(c);
            }
        }
    }
    let title = rules
        .title
        .as_deref()
        .and_then(sel)
        .and_then(|s| doc.select(&s).next())
        .map(text)
        .filter(|t| !t.is_empty());
    // The headline as the page prints it, to drop its repeat from the text.
    let headline = title.clone().or_else(|| {
        sel("h1")
            .and_then(|s| doc.select(&s).next())
            .map(text)
            .filter(|t| !t.is_empty())
    });
    let content = match rules.content.as_deref() {
        Some(selector) => {
            cut(&mut doc, rules.exclude.as_deref());
            let s = sel(selector).ok_or(ScrapeError::NoContent)?;
            let parts: Vec<String> = doc.select(&s).map(|el| el.inner_html()).collect();
            parts.join("\n")
        }
        None => readable(page, page_url, rules.exclude.as_deref())?,
    };
    let content = match &headline {
        Some(h) => drop_heading(&content, h),
        None => content,
    };
    if super::page::text(Html::parse_fragment(&content).root_element()).is_empty() {
        return Err(ScrapeError::NoContent);
    }
    Ok(ArticleExtract {
        title,
        content: Some(content),
        base: base.map(|b| b.to_string()),
        published,
        categories,
    })
}

/// The main text by dom_smoothie (a port of Mozilla's Readability), after
/// the excluded subtrees are removed.
fn readable(page: &str, page_url: &str, exclude: Option<&str>) -> Result<String, ScrapeError> {
    let doc = dom_query::Document::from(page);
    if let Some(ex) = exclude {
        doc.select(ex).remove();
    }
    let cfg = dom_smoothie::Config {
        max_elements_to_parse: MAX_ELEMENTS,
        ..dom_smoothie::Config::default()
    };
    let url = url::Url::parse(page_url).ok().map(|u| u.to_string());
    let run = || -> Option<String> {
        let mut r =
            dom_smoothie::Readability::with_document(doc, url.as_deref(), Some(cfg)).ok()?;
        r.parse().ok().map(|a| a.content.to_string())
    };
    // Third-party code on hostile input: a panic costs this page only.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .ok()
        .flatten()
        .filter(|c| !c.trim().is_empty())
        .ok_or(ScrapeError::NoContent)
}

/// `content` without headings (h1–h3) whose text is the headline.
fn drop_heading(content: &str, headline: &str) -> String {
    let mut frag = Html::parse_fragment(content);
    let Some(s) = sel("h1, h2, h3") else {
        return content.to_string();
    };
    let ids: Vec<_> = frag
        .select(&s)
        .filter(|h| text(*h) == headline)
        .map(|h| h.id())
        .collect();
    if ids.is_empty() {
        return content.to_string();
    }
    for id in ids {
        if let Some(mut n) = frag.tree.get_mut(id) {
            n.detach();
        }
    }
    frag.root_element().inner_html()
}

/// `<meta property="article:published_time">`.
fn meta_date(doc: &Html, zone: Tz) -> Option<DateTime<Utc>> {
    let s = sel("meta[property='article:published_time'], meta[name='article:published_time']")?;
    doc.select(&s)
        .filter_map(|m| m.value().attr("content"))
        .find_map(|c| super::dates::parse_stamp(c, None, zone))
}

/// JSON-LD `datePublished` of the page's article (also inside `@graph`
/// and arrays).
fn json_ld_date(doc: &Html, zone: Tz) -> Option<DateTime<Utc>> {
    let s = sel("script[type='application/ld+json']")?;
    doc.select(&s).find_map(|script| {
        let json: serde_json::Value =
            serde_json::from_str(&script.text().collect::<String>()).ok()?;
        find_published(&json, 0).and_then(|d| super::dates::parse_stamp(&d, None, zone))
    })
}

fn find_published(v: &serde_json::Value, depth: usize) -> Option<String> {
    if depth > 4 {
        return None;
    }
    match v {
        serde_json::Value::Object(m) => m
            .get("datePublished")
            .and_then(|d| d.as_str())
            .map(str::to_string)
            .or_else(|| m.get("@graph").and_then(|g| find_published(g, depth + 1))),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_published(x, depth + 1)),
        _ => None,
    }
}
