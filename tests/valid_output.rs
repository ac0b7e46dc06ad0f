//! Every served format checked against the W3C Feed Validation Service's
//! rules that can be checked offline (well-formedness, required elements,
//! date formats, URI ids, self/next/hub links, authors, guids, enclosures,
//! languages) and the JSON Feed 1.1 spec, on what the real daemon serves.

mod common;

use chrono::DateTime;
use common::*;
use quick_xml::events::Event;
use std::time::Duration;

/// A minimal element tree, enough to check structure.
#[derive(Debug, Default, Clone)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn one(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Parses strictly: any quick-xml error, stray end tag or second root fails.
fn tree(xml: &str) -> El {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![El::default()];
    loop {
        let ev = reader.read_event().expect("well-formed XML");
        let open = matches!(ev, Event::Start(_));
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let el = El {
                    name: e.name().as_ref().to_string(),
                    attrs: e
                        .attributes()
                        .map(|a| {
                            let a = a.expect("attribute");
                            (
                                a.key.as_ref().to_string(),
                                a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                    .expect("attribute value")
                                    .into_owned(),
                            )
                        })
                        .collect(),
                    ..El::default()
                };
                if open {
                    stack.push(el);
                } else {
                    stack.last_mut().unwrap().children.push(el);
                }
            }
            Event::End(_) => {
                let done = stack.pop().expect("balanced");
                stack.last_mut().expect("balanced").children.push(done);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::CData(t) => stack.last_mut().unwrap().text.push_str(&t.into_inner()),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let c = quick_xml::escape::resolve_predefined_entity(&name)
                    .map(str::to_string)
                    .or_else(|| r.resolve_char_ref().expect("char ref").map(String::from))
                    .unwrap_or_else(|| panic!("undefined entity &{name};"));
                stack.last_mut().unwrap().text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "exactly one root element");
    root.children.pop().unwrap()
}

fn is_uri(s: &str) -> bool {
    url::Url::parse(s).is_ok()
}

fn rfc3339(s: &str, what: &str) {
    DateTime::parse_from_rfc3339(s.trim())
        .unwrap_or_else(|e| panic!("{what}: {s:?} is not RFC 3339: {e}"));
}

fn rfc822(s: &str, what: &str) {
    DateTime::parse_from_rfc2822(s.trim())
        .unwrap_or_else(|e| panic!("{what}: {s:?} is not RFC 822: {e}"));
}

/// Atom 1.0 (RFC 4287) as the feedvalidator checks it.
fn check_atom(xml: &str, self_url: &str, hub: &str) {
    let feed = tree(xml);
    assert_eq!(feed.name, "feed");
    assert_eq!(feed.attr("xmlns"), Some("http://www.w3.org/2005/Atom"));
    let id = &feed.one("id").expect("feed id").text;
    assert!(is_uri(id), "feed id {id:?} is a URI");
    assert!(
        !feed
            .one("title")
            .expect("feed title")
            .text
            .trim()
            .is_empty()
    );
    rfc3339(
        &feed.one("updated").expect("feed updated").text,
        "feed updated",
    );
    let links = feed.all("link");
    let rel = |rel: &str| {
        links
            .iter()
            .find(|l| l.attr("rel") == Some(rel))
            .and_then(|l| l.attr("href"))
    };
    assert_eq!(
        rel("self"),
        Some(self_url),
        "atom:link rel=self is the document's URL"
    );
    assert_eq!(rel("hub"), Some(hub));
    let feed_author = !feed.all("author").is_empty();
    let entries = feed.all("entry");
    assert!(!entries.is_empty());
    for e in entries {
        let id = &e.one("id").expect("entry id").text;
        assert!(is_uri(id) && id.starts_with("urn:uuid:"), "entry id {id:?}");
        assert!(e.one("title").is_some(), "entry title");
        rfc3339(
            &e.one("updated").expect("entry updated").text,
            "entry updated",
        );
        if let Some(p) = e.one("published") {
            rfc3339(&p.text, "entry published");
        }
        assert!(
            feed_author
                || e.all("author")
                    .iter()
                    .any(|a| a.one("name").is_some_and(|n| !n.text.trim().is_empty())),
            "entry {id} has an author"
        );
        let alternate = e
            .all("link")
            .iter()
            .any(|l| l.attr("rel").unwrap_or("alternate") == "alternate");
        assert!(
            alternate || e.one("content").is_some(),
            "entry {id}: alternate link or content"
        );
        for l in e.all("link") {
            assert!(l.attr("href").is_some_and(is_uri), "link href is a URI");
            if l.attr("rel") == Some("enclosure") {
                assert!(
                    l.attr("type").is_some_and(|t| t.contains('/')),
                    "enclosure type"
                );
                assert!(
                    l.attr("length").is_some_and(|n| n.parse::<u64>().is_ok()),
                    "enclosure length"
                );
            }
        }
        if let Some(src) = e.one("source") {
            assert!(
                src.one("id").is_some_and(|i| is_uri(&i.text)),
                "atom:source id"
            );
        }
    }
}

/// RSS 2.0 as the feedvalidator checks it.
fn check_rss(xml: &str, self_url: &str, hub: &str) {
    let rss = tree(xml);
    assert_eq!(
        (rss.name.as_str(), rss.attr("version")),
        ("rss", Some("2.0"))
    );
    let ch = rss.one("channel").expect("channel");
    for required in ["title", "link", "description"] {
        assert!(
            ch.one(required).is_some_and(|e| !e.text.trim().is_empty()),
            "channel {required}"
        );
    }
    assert!(is_uri(&ch.one("link").unwrap().text));
    for date in ["pubDate", "lastBuildDate"] {
        if let Some(d) = ch.one(date) {
            rfc822(&d.text, date);
        }
    }
    let atom_links = ch.all("atom:link");
    let rel = |rel: &str| {
        atom_links
            .iter()
            .find(|l| l.attr("rel") == Some(rel))
            .and_then(|l| l.attr("href"))
    };
    assert_eq!(rel("self"), Some(self_url), "atom:link rel=self");
    assert_eq!(rel("hub"), Some(hub));
    let items = ch.all("item");
    assert!(!items.is_empty());
    for item in items {
        assert!(
            item.one("title").is_some() || item.one("description").is_some(),
            "item title or description"
        );
        rfc822(
            &item.one("pubDate").expect("item pubDate").text,
            "item pubDate",
        );
        let guid = item.one("guid").expect("guid");
        if guid.attr("isPermaLink") != Some("false") {
            assert!(
                guid.text.starts_with("http"),
                "a permalink guid must be a URL: {}",
                guid.text
            );
        }
        assert!(
            item.one("author").is_none(),
            "RSS author must be an e-mail; names go in dc:creator"
        );
        assert!(item.all("enclosure").len() <= 1, "one enclosure per item");
        if let Some(enc) = item.one("enclosure") {
            assert!(enc.attr("url").is_some_and(is_uri));
            assert!(enc.attr("length").is_some_and(|n| n.parse::<u64>().is_ok()));
            assert!(enc.attr("type").is_some_and(|t| t.contains('/')));
        }
        if let Some(link) = item.one("link") {
            assert!(is_uri(&link.text));
        }
    }
}

/// JSON Feed 1.1 (https://jsonfeed.org/version/1.1).
fn check_json(text: &str, self_url: &str, hub: &str) {
    let v: serde_json::Value = serde_json::from_str(text).expect("JSON");
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert!(
        v["title"].as_str().is_some_and(|t| !t.is_empty()),
        "title required"
    );
    assert_eq!(v["feed_url"], self_url);
    for url_field in ["home_page_url", "next_url", "icon", "favicon"] {
        if let Some(u) = v.get(url_field) {
            assert!(u.as_str().is_some_and(is_uri), "{url_field} is a URL");
        }
    }
    assert_eq!(v["hubs"][0]["type"], "WebSub");
    assert_eq!(v["hubs"][0]["url"], hub);
    let items = v["items"].as_array().expect("items required");
    assert!(!items.is_empty());
    for item in items {
        assert!(
            item["id"].as_str().is_some_and(|s| !s.is_empty()),
            "id is a non-empty string"
        );
        assert!(
            item["content_html"].is_string() || item["content_text"].is_string(),
            "content_html or content_text"
        );
        for date in ["date_published", "date_modified"] {
            if let Some(d) = item.get(date) {
                rfc3339(d.as_str().expect("date string"), date);
            }
        }
        if let Some(u) = item.get("url") {
            assert!(u.as_str().is_some_and(is_uri));
        }
        for a in item
            .get("authors")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            assert!(
                a.is_object() && (a.get("name").is_some() || a.get("url").is_some()),
                "author object"
            );
        }
        for t in item
            .get("tags")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            assert!(t.is_string());
        }
        for a in item
            .get("attachments")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            assert!(
                a["url"].as_str().is_some_and(is_uri) && a["mime_type"].is_string(),
                "attachment"
            );
            if let Some(n) = a.get("size_in_bytes") {
                assert!(n.is_u64());
            }
        }
        assert!(item.get("author").is_none(), "1.1 uses authors, not author");
        for k in item.as_object().unwrap().keys() {
            let known = [
                "id",
                "url",
                "external_url",
                "title",
                "content_html",
                "content_text",
                "summary",
                "image",
                "banner_image",
                "date_published",
                "date_modified",
                "authors",
                "tags",
                "language",
                "attachments",
            ];
            assert!(
                known.contains(&k.as_str()) || k.starts_with('_'),
                "unknown item key {k}"
            );
        }
    }
}

fn updated_of(atom: &str) -> String {
    tree(atom).one("updated").unwrap().text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_passes_the_offline_validator_rules() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start().await;
    serve_standard_fixtures(&feeds);
    feeds.set(
        "podcast.rss",
        Doc::feed(
            "application/rss+xml",
            br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Podcast</title><link>https://pod.example/</link>
            <description>Audio</description><language>en</language>
            <item><title>Episode 1</title><link>https://pod.example/1</link><guid>ep-1</guid>
            <pubDate>Fri, 09 Aug 2024 10:00:00 GMT</pubDate><category>Politics</category>
            <enclosure url="https://pod.example/1.mp3" length="3456789" type="audio/mpeg"/></item>
            </channel></rss>"#
                .to_vec(),
        ),
    );
    let db = dir.path().join("feedmerge.db");
    let extra = format!(
        "\n[[source]]\nname = \"podcast\"\nurl = \"{}\"\ncron = \"* * * * * *\"\n",
        feeds.url("podcast.rss")
    );
    let daemon = Daemon::start(dir.path(), |listen| {
        let config = standard_config(&feeds, listen, &db, &extra);
        config.replacen(
            "[server]\n",
            "[server]\nwebsub_hub = \"https://hub.example.org/\"\n",
            1,
        )
    })
    .await;
    wait_polled(&daemon, 5).await;
    let hub = "https://hub.example.org/";

    for name in [
        "sections/%D0%9F%D0%BE%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0",
        "feeds/politika",
    ] {
        for query in ["", "?limit=2"] {
            let url = |ext: &str| daemon.url(&format!("/{name}.{ext}{query}"));
            let (code, _, atom) = get(&url("atom")).await;
            assert_eq!(code, 200);
            check_atom(&atom, &url("atom"), hub);
            let (_, _, rss) = get(&url("rss")).await;
            check_rss(&rss, &url("rss"), hub);
            let (_, _, json) = get(&url("json")).await;
            check_json(&json, &url("json"), hub);
        }
    }

    // The podcast episode's enclosure reaches all three formats.
    let (_, _, atom) = get(&daemon.url("/sections/politics.atom")).await;
    assert!(
        atom.contains(
            r#"href="https://pod.example/1.mp3" rel="enclosure" type="audio/mpeg" length="3456789""#
        ),
        "{atom}"
    );
    let (_, _, rss) = get(&daemon.url("/sections/politics.rss")).await;
    assert!(rss.contains(
        r#"<enclosure url="https://pod.example/1.mp3" length="3456789" type="audio/mpeg"/>"#
    ));
    let (_, _, json) = get(&daemon.url("/sections/politics.json")).await;
    assert!(json.contains(r#""attachments":[{"url":"https://pod.example/1.mp3","mime_type":"audio/mpeg","size_in_bytes":3456789}]"#));

    // One language everywhere: declared on the whole feed.
    let (_, _, az_atom) = get(&daemon.url("/sections/politics.atom?lang=az")).await;
    assert_eq!(tree(&az_atom).attr("xml:lang"), Some("az"));
    let (_, _, az_rss) = get(&daemon.url("/sections/politics.rss?lang=az")).await;
    assert_eq!(
        tree(&az_rss)
            .one("channel")
            .unwrap()
            .one("language")
            .map(|l| l.text.as_str()),
        Some("az")
    );
    assert_eq!(
        tree(&atom).attr("xml:lang"),
        None,
        "mixed languages: none claimed"
    );

    // atom:updated moves only when content does: unchanged polls keep it.
    let attempts = |s: serde_json::Value| {
        s["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "podcast")
            .unwrap()["last_attempt"]
            .clone()
    };
    let before = attempts(status(&daemon).await);
    wait_for(
        "another unchanged poll of the podcast",
        Duration::from_secs(60),
        || async { attempts(status(&daemon).await) != before },
    )
    .await;
    let (_, _, again) = get(&daemon.url("/sections/politics.atom")).await;
    assert_eq!(updated_of(&again), updated_of(&atom));
    assert_eq!(again, atom, "byte-identical, so the ETag holds too");
    daemon.stop().await;
}
