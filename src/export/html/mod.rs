//! HTML for people: the index and one page per section or named feed.
//! Server-rendered with `format!` and careful escaping: no JavaScript, no
//! external assets (inline CSS, no web fonts, summaries stripped of images
//! and embeds), readable from a 390 px phone to a desktop.
//!
//! Renders a `feeds::Selection` and the index listing; no scripts, ever.

pub mod index;

use crate::config::Config;
use crate::feeds::{Selection, url_for};
use crate::model::Story;
use crate::model::format::Format;
use std::fmt::Write;
use std::sync::LazyLock;

/// The stylesheet, inlined in every page.
const STYLE: &str = include_str!("style.css");

/// `s` escaped for HTML text and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Summaries were sanitized on the way in; this second, stricter pass keeps
/// only text markup, so a page loads nothing from other sites.
static SUMMARY: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.add_tags([
        "a",
        "p",
        "br",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "s",
        "ul",
        "ol",
        "li",
        "blockquote",
        "code",
        "pre",
    ])
    .add_tag_attributes("a", ["href"])
    .url_schemes(["http", "https", "mailto"].into_iter().collect())
    .link_rel(Some("noopener noreferrer nofollow"))
    .clean_content_tags(["script", "style"].into_iter().collect());
    b
});

/// Root-relative path of an absolute URL on our site, so pages work behind
/// any host name the server is reached by.
pub(crate) fn site_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// The page skeleton around `body`. `alternates` are (format, absolute feed
/// URL) pairs announced for feed autodiscovery.
pub(crate) fn layout(title: &str, alternates: &[(Format, String, String)], body: &str) -> String {
    let mut head = String::new();
    for (format, href, label) in alternates {
        let mime = match format {
            Format::Atom => "application/atom+xml",
            Format::Rss => "application/rss+xml",
            Format::Json => "application/feed+json",
        };
        let _ = writeln!(
            head,
            r#"<link rel="alternate" type="{mime}" title="{}" href="{}">"#,
            escape(label),
            escape(href)
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
{head}<style>{STYLE}</style>
</head>
<body>
{body}
<footer>feedmerge {version}</footer>
</body>
</html>
"#,
        title = escape(title),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// Atom, RSS and JSON Feed URLs of one feed: (format, absolute URL, label).
pub(crate) fn feed_links(
    base: &str,
    kind: &str,
    name: &str,
    title: &str,
) -> Vec<(Format, String, String)> {
    [
        (Format::Atom, "Atom"),
        (Format::Rss, "RSS"),
        (Format::Json, "JSON Feed"),
    ]
    .into_iter()
    .map(|(f, label)| {
        (
            f,
            url_for(base, kind, name, Some(f.extension())),
            format!("{title} ({label})"),
        )
    })
    .collect()
}

fn subscribe(links: &[(Format, String, String)]) -> String {
    let mut out = String::from(r#"<p class="subscribe">"#);
    for (format, href, _) in links {
        let label = match format {
            Format::Atom => "Atom",
            Format::Rss => "RSS",
            Format::Json => "JSON Feed",
        };
        let _ = write!(out, r#"<a href="{}">{label}</a>"#, escape(href));
    }
    out.push_str("</p>");
    out
}

/// `2025-03-14 09:30 UTC` in a machine-readable `<time>`.
pub(crate) fn time(d: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        r#"<time datetime="{}">{}</time>"#,
        d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        d.format("%Y-%m-%d %H:%M UTC")
    )
}

fn article(story: &Story) -> String {
    let title = if story.title.trim().is_empty() {
        "(untitled)"
    } else {
        story.title.as_str()
    };
    let headline = match &story.link {
        Some(href) => format!(r#"<a href="{}">{}</a>"#, escape(href), escape(title)),
        None => escape(title),
    };
    let lang = story
        .language
        .as_deref()
        .and_then(crate::model::text::language_tag)
        .map(|l| format!(r#" lang="{}""#, escape(&l)))
        .unwrap_or_default();
    let summary = story
        .summary
        .as_deref()
        .or(story.content.as_deref())
        .map(|html| SUMMARY.clean(html).to_string())
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!(r#"<div class="summary">{s}</div>"#))
        .unwrap_or_default();
    // A cluster's other reports (`[clustering]`): already in the content
    // when the content stood in for a missing summary.
    let related = if story.summary.is_some() && !story.related.is_empty() {
        format!(
            r#"<div class="related">{}</div>"#,
            crate::feeds::related_block(story)
        )
    } else {
        String::new()
    };
    format!(
        r#"<article{lang}><h2>{headline}</h2><p class="meta">{source} · {time}</p>{summary}{related}</article>
"#,
        source = escape(crate::export::source_label(&story.source)),
        time = time(story.published),
    )
}

/// The HTML page of one section or named feed: headlines linked to the
/// originals, source, time, summary, and a link to older stories.
pub fn feed_page(config: &Config, sel: &Selection) -> String {
    let base = config.public_base();
    let links = feed_links(&base, sel.kind, &sel.path_name, &sel.title);
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<header><p class="crumbs"><a href="{home}">All feeds</a></p><h1>{title}</h1>{subscribe}</header>
<main>
"#,
        home = escape(&site_path(&format!("{base}/"))),
        title = escape(&sel.title),
        subscribe = subscribe(&links),
    );
    if sel.stories.is_empty() {
        body.push_str("<p>No stories here yet.</p>\n");
    }
    for story in &sel.stories {
        body.push_str(&article(story));
    }
    let first = sel
        .request
        .before
        .is_some()
        .then(|| sel.page_url(&base, None, &sel.request.at(None)));
    let next = sel
        .next
        .map(|c| sel.page_url(&base, None, &sel.request.at(Some(c))));
    if first.is_some() || next.is_some() {
        body.push_str(r#"<nav class="pager">"#);
        match first {
            Some(url) => {
                let _ = write!(
                    body,
                    r#"<a href="{}">← Newest</a>"#,
                    escape(&site_path(&url))
                );
            }
            None => body.push_str("<span></span>"),
        }
        if let Some(url) = next {
            let _ = write!(
                body,
                r#"<a rel="next" href="{}">Older stories →</a>"#,
                escape(&site_path(&url))
            );
        }
        body.push_str("</nav>\n");
    }
    body.push_str("</main>");
    layout(&sel.title, &links, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_strips_external_assets() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let cleaned = SUMMARY
            .clean(r#"<p>Текст <img src="https://x.org/t.gif"><iframe src="https://x.org"></iframe><a href="javascript:alert(1)">x</a><a href="https://y.org/">y</a></p>"#)
            .to_string();
        assert!(
            !cleaned.contains("img")
                && !cleaned.contains("iframe")
                && !cleaned.contains("javascript"),
            "{cleaned}"
        );
        assert!(
            cleaned.contains(r#"href="https://y.org/""#) && cleaned.contains("Текст"),
            "{cleaned}"
        );
        assert_eq!(
            site_path("http://h:1/sections/a%20b?x=1"),
            "/sections/a%20b?x=1"
        );
    }
}
