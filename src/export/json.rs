//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>) via serde.
//!
//! JSON can carry any Rust string, so unlike the XML formats nothing is
//! stripped here: serde_json escapes control characters itself.

use serde::Serialize;

use super::{clamp_date, language_tag};
use crate::model::text::html_to_text;
use crate::model::{FeedDoc, SourceRef, Story};

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<&'a str>,
    feed_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub<'a>>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonHub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct JsonAttachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<JsonAttachment<'a>>,
    #[serde(rename = "_feedmerge")]
    feedmerge: Extension<'a>,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
}

/// The `_feedmerge` extension object (JSON Feed reserves `_`-prefixed keys
/// for publishers' own data).
#[derive(Serialize)]
struct Extension<'a> {
    source: JsonSource<'a>,
    /// Other outlets' reports of the same event (`[clustering]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    title: &'a str,
    source: &'a str,
    date_published: String,
}

#[derive(Serialize)]
struct JsonSource<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    feed_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_url: Option<&'a str>,
}

/// Renders `doc` as a JSON Feed 1.1 document.
pub(crate) fn render(doc: &FeedDoc) -> String {
    let feed = JsonFeed {
        version: VERSION,
        title: &doc.title,
        home_page_url: doc.home_url.as_deref(),
        feed_url: &doc.self_url,
        next_url: doc.next_url.as_deref(),
        language: doc.shared_language().and_then(language_tag),
        hubs: doc
            .hub_url
            .as_deref()
            .map(|url| JsonHub {
                kind: "WebSub",
                url,
            })
            .into_iter()
            .collect(),
        items: doc.stories.iter().map(item).collect(),
    };
    serde_json::to_string(&feed)
        .expect("structs of strings and string-keyed fields always serialize")
}

fn item(story: &Story) -> JsonItem<'_> {
    // JSON Feed requires content_html or content_text. With neither content
    // nor summary we send an empty content_text: repeating the title would
    // show it twice in readers, and Atom/RSS carry no body either.
    let content_html = story.content.as_deref().or(story.summary.as_deref());
    JsonItem {
        id: &story.id,
        url: story.link.as_deref(),
        title: &story.title,
        content_html,
        content_text: content_html.is_none().then_some(""),
        // JSON Feed's summary is plain text, shown in timelines; our summary
        // is sanitized HTML, so tags are dropped and entities decoded. Emitted
        // even when it also became content_html, since readers use it apart.
        summary: story.summary.as_deref().map(html_to_text),
        date_published: rfc3339(story.published),
        date_modified: rfc3339(story.updated),
        tags: non_blank(&story.categories),
        authors: non_blank(&story.authors)
            .into_iter()
            .map(|name| JsonAuthor { name })
            .collect(),
        language: story.language.as_deref().and_then(language_tag),
        // JSON Feed requires mime_type on attachments; an unknown type is
        // honestly "some bytes".
        attachments: story
            .enclosures
            .iter()
            .map(|e| JsonAttachment {
                url: &e.url,
                mime_type: e.mime_type.as_deref().unwrap_or("application/octet-stream"),
                size_in_bytes: e.length,
            })
            .collect(),
        feedmerge: Extension {
            source: source(&story.source),
            related: story
                .related
                .iter()
                .map(|r| JsonRelated {
                    url: r.link.as_deref(),
                    title: &r.title,
                    source: &r.source,
                    date_published: rfc3339(r.published),
                })
                .collect(),
        },
    }
}

fn source(src: &SourceRef) -> JsonSource<'_> {
    JsonSource {
        name: &src.name,
        title: src.title.as_deref(),
        feed_url: &src.feed_url,
        site_url: src.site_url.as_deref(),
    }
}

fn non_blank(values: &[String]) -> Vec<&str> {
    values
        .iter()
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .collect()
}

fn rfc3339(d: chrono::DateTime<chrono::Utc>) -> String {
    clamp_date(d).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::export::tests::{assert_entries_match, sample_doc, story_full};
    use crate::model::text::html_to_text;
    use serde_json::Value;

    fn value(json: &str) -> Value {
        serde_json::from_str(json).expect("output is JSON")
    }

    #[test]
    fn round_trips_through_feed_rs() {
        let doc = sample_doc();
        let json = render(&doc);
        let feed = feed_rs::parser::parse(json.as_bytes()).expect("feed-rs parses our JSON Feed");

        assert_eq!(feed.feed_type, feed_rs::model::FeedType::JSON);
        assert_eq!(
            feed.title.as_ref().map(|t| t.content.as_str()),
            Some(doc.title.as_str())
        );
        assert_eq!(feed.entries.len(), 2);
        assert_entries_match(&feed, &doc, |l| l.media_type.is_none());
        let names: Vec<_> = feed.entries[0]
            .authors
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect();
        assert_eq!(names, ["Иван Петров", "Anna Smith"]);
    }

    #[test]
    fn fields_and_extension() {
        let doc = sample_doc();
        let v = value(&render(&doc));
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(v["feed_url"], doc.self_url.as_str());
        assert_eq!(v["home_page_url"], "https://feeds.example.org/");

        let full = &v["items"][0];
        assert_eq!(
            full["content_html"],
            story_full().content.as_deref().unwrap_or_default()
        );
        assert_eq!(full["summary"], "Депутаты приняли бюджет & поправки.");
        assert_eq!(full["date_published"], "2025-03-14T09:30:00Z");
        assert_eq!(full["date_modified"], "2025-03-14T10:05:00Z");
        assert_eq!(full["language"], "ru");
        assert_eq!(full["tags"], serde_json::json!(["Политика", "Бюджет"]));
        assert_eq!(
            full["_feedmerge"]["source"],
            serde_json::json!({
                "name": "lenta-a",
                "title": "Новости А",
                "feed_url": "https://a.example.ru/rss.xml?x=1&y=2",
                "site_url": "https://a.example.ru/",
            })
        );

        // None fields are left out, never written as null.
        let sparse = v["items"][1].as_object().expect("item object");
        for absent in ["url", "summary", "authors", "language", "content_text"] {
            assert!(!sparse.contains_key(absent), "{absent} omitted");
        }
        assert_eq!(
            sparse["_feedmerge"]["source"],
            serde_json::json!({"name": "wire-b", "feed_url": "https://b.example.com/atom"})
        );
    }

    #[test]
    fn always_has_a_body() {
        let mut doc = sample_doc();
        doc.stories[0].content = None;
        doc.stories[1].content = None;
        let v = value(&render(&doc));
        // Summary stands in for missing content...
        assert_eq!(
            v["items"][0]["content_html"],
            story_full().summary.as_deref().unwrap_or_default()
        );
        // ...and with neither, an empty content_text keeps the item valid.
        assert_eq!(v["items"][1]["content_text"], "");
        assert!(v["items"][1].get("content_html").is_none());
    }

    #[test]
    fn html_to_text_is_forgiving() {
        assert_eq!(
            html_to_text("<p>a</p><p>b &amp; c&#x21;&#33;</p>"),
            "a b & c!!"
        );
        // An impossible code point reads as U+FFFD, as in a browser.
        assert_eq!(
            html_to_text("AT&T &bogus; &#xFFFFFFFF; 1 < 2"),
            "AT&T &bogus; \u{fffd} 1"
        );
        assert_eq!(html_to_text("tail &"), "tail &");
        assert_eq!(
            html_to_text("«Цитата»&nbsp;—&nbsp;<em>да</em>"),
            "«Цитата» — да"
        );
        // Every HTML5 reference, not five: the fast path keeps `&laquo;`.
        assert_eq!(
            html_to_text("<p>&laquo;Мы готовы&raquo; &mdash; <b>x</b>&#150;y&hellip;</p>"),
            "«Мы готовы» — x –y…"
        );
        // A decoded `<` is text, not the start of a tag.
        assert_eq!(html_to_text("a &lt;b&gt; c"), "a <b> c");
    }

    #[test]
    fn summary_is_plain_text_of_named_references() {
        let mut doc = sample_doc();
        doc.stories[0].summary = Some("<p>&laquo;Мы готовы&raquo; &mdash; да</p>".into());
        let v = value(&render(&doc));
        assert_eq!(v["items"][0]["summary"], "«Мы готовы» — да");
    }
}
