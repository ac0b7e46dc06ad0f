//! What every scraped page needs: its base URL, excluded subtrees cut
//! away, selectors compiled, text collapsed.

use scraper::{ElementRef, Html, Selector};
use url::Url;

/// The base for the page's relative URLs: `<base href>` resolved against
/// the page's URL, else the page's URL.
pub(super) fn base_of(doc: &Html, page_url: &str) -> Option<Url> {
    let page = Url::parse(page_url).ok()?;
    let base = sel("base[href]")
        .and_then(|s| doc.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page.join(href.trim()).ok());
    Some(base.unwrap_or(page))
}

/// A compiled selector (validated by `config`; `None` only if not).
pub(super) fn sel(s: &str) -> Option<Selector> {
    Selector::parse(s).ok()
}

/// Removes every subtree `exclude` matches (and scripts, which never hold
/// stories).
pub(super) fn cut(doc: &mut Html, exclude: Option<&str>) {
    let mut ids = Vec::new();
    for s in exclude.into_iter().chain(["script, noscript, template"]) {
        if let Some(s) = sel(s) {
            ids.extend(doc.select(&s).map(|e| e.id()));
        }
    }
    for id in ids {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
}

/// An element's text, whitespace collapsed.
pub(super) fn text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    for piece in el.text() {
        for word in piece.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// Text made safe to hand on as HTML (the parser decoded its entities).
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An `href` made absolute; `None` for fragments, scripts and mail.
pub(super) fn absolute(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// The date of an element: `<time datetime>` (itself or inside), else its
/// text read by `format` in `zone`.
pub(super) fn date_of(
    el: ElementRef<'_>,
    format: Option<&str>,
    zone: chrono_tz::Tz,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let time = if el.value().name() == "time" {
        Some(el)
    } else {
        sel("time[datetime]").and_then(|s| el.select(&s).next())
    };
    if let Some(dt) = time.and_then(|t| t.value().attr("datetime"))
        && let Some(d) = super::dates::parse_stamp(dt, None, zone)
    {
        return Some(d);
    }
    super::dates::parse_stamp(&text(el), format, zone)
}

/// A hint when the raw page looks built by scripts: little text, many
/// scripts or an empty app root.
pub(super) fn js_hint(raw: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    let scripts = lower.matches("<script").count();
    let app_root = [
        "id=\"root\"></div>",
        "id=\"app\"></div>",
        "id=\"__next\"",
        "__next_data__",
        "ng-app",
        "data-reactroot",
    ]
    .iter()
    .any(|m| lower.contains(m));
    let doc = Html::parse_document(raw);
    let body_text: usize = sel("body")
        .and_then(|s| doc.select(&s).next())
        .map(|b| text(b).chars().count())
        .unwrap_or(0);
    (app_root || (scripts >= 3 && body_text < 500)).then(|| {
        format!(
            "the page looks rendered by JavaScript: {scripts} scripts, {body_text} characters of text in the served HTML; \
             selectors see only the served HTML, not what a browser shows"
        )
    })
}
