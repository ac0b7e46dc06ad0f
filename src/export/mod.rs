//! Export stage: renders a merged [`FeedDoc`] as Atom 1.0, RSS 2.0 or JSON Feed 1.1.
//!
//! Each format converts from `FeedDoc` exactly once, in its own file. The
//! helpers here exist because the XML writers (atom_syndication and rss, both
//! on quick-xml) escape markup but pass through characters XML 1.0 forbids,
//! and chrono panics or writes non-standard text for dates outside 0..=9999;
//! a story from a hostile feed must never make a whole merged feed unreadable.
//!
//! Owns the output bytes of every format, the HTML pages included
//! (`export/html`). Renders what `feeds` selected; never queries for
//! stories itself beyond the index page's counts, and never writes.

mod atom;
pub mod html;
mod json;
mod rss;
pub mod stream;

use chrono::{DateTime, NaiveDate, Utc};

pub use crate::model::format::Format;
use crate::model::text::language_tag;
use crate::model::{FeedDoc, SourceRef};

/// Renders a merged feed. Always well-formed output, whatever the stories contain.
pub fn render(doc: &FeedDoc, format: Format) -> String {
    match format {
        Format::Atom => atom::render(doc),
        Format::Rss => self::rss::render(doc),
        Format::Json => json::render(doc),
    }
}

/// Whether XML 1.0 allows `c` anywhere in a document (production `Char`).
/// Surrogates cannot occur in a Rust `char`, so only controls and the two
/// BMP non-characters remain to exclude.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `s` without the characters XML 1.0 forbids, ready for an XML writer.
///
/// Escaping cannot help here: `&#1;` is just as illegal as a raw U+0001, so
/// the only well-formed option is to drop them.
pub(crate) fn xml_text(s: &str) -> String {
    if s.chars().all(is_xml_char) {
        s.to_owned()
    } else {
        s.chars().filter(|&c| is_xml_char(c)).collect()
    }
}

/// `date` moved into years 1..=9999, the range RFC 3339 and RFC 822 can
/// express (chrono's `to_rfc2822` panics outside it, `to_rfc3339` writes
/// `+10000-…`, which no feed parser reads).
pub(crate) fn clamp_date(date: DateTime<Utc>) -> DateTime<Utc> {
    let min = NaiveDate::from_ymd_opt(1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let max = NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59));
    match (min, max) {
        (Some(min), _) if date.naive_utc() < min => min.and_utc(),
        (_, Some(max)) if date.naive_utc() > max => max.and_utc(),
        _ => date,
    }
}

/// The human name of a source: its feed's own title, else the configured
/// name, else (never expected, but readers need something) its URL.
pub(crate) fn source_label(source: &SourceRef) -> &str {
    let non_blank = |s: &&str| !s.trim().is_empty();
    source
        .title
        .as_deref()
        .filter(non_blank)
        .or(Some(source.name.as_str()).filter(non_blank))
        .unwrap_or(&source.feed_url)
}

/// Turns writer output into a `String`. Both XML writers only ever emit
/// UTF-8 built from `&str`, so the lossy path is a formality, not a fallback
/// that hides anything.
pub(crate) fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    //! Fixtures shared by the per-format tests, the XML well-formedness walk,
    //! and the tests that concern every format at once.

    use super::*;
    use crate::model::Story;
    use chrono::TimeZone;
    use quick_xml::events::Event;

    pub(crate) fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("fixture dates are valid")
    }

    pub(crate) fn source_a() -> SourceRef {
        SourceRef {
            name: "lenta-a".into(),
            title: Some("Новости А".into()),
            feed_url: "https://a.example.ru/rss.xml?x=1&y=2".into(),
            site_url: Some("https://a.example.ru/".into()),
        }
    }

    pub(crate) fn source_b() -> SourceRef {
        SourceRef {
            name: "wire-b".into(),
            title: None,
            feed_url: "https://b.example.com/atom".into(),
            site_url: None,
        }
    }

    /// Full story: every optional field set.
    pub(crate) fn story_full() -> Story {
        Story {
            id: "urn:uuid:0b5c3b1e-8a59-4a5e-9d4c-1a2b3c4d5e6f".into(),
            title: "Заседание Госдумы: «бюджет» — принят".into(),
            link: Some("https://a.example.ru/news/1?a=1&b=2".into()),
            summary: Some("<p>Депутаты <b>приняли</b> бюджет &amp; поправки.</p>".into()),
            content: Some("<p>Полный текст: «бюджет» принят. <a href=\"https://a.example.ru/x\">Ссылка</a></p>".into()),
            authors: vec!["Иван Петров".into(), "Anna Smith".into()],
            categories: vec!["Политика".into(), "Бюджет".into()],
            language: Some("ru".into()),
            enclosures: vec![crate::model::Enclosure {
                url: "https://a.example.ru/audio/1.mp3".into(),
                mime_type: Some("audio/mpeg".into()),
                length: Some(123_456),
            }],
            published: at(2025, 3, 14, 9, 30),
            updated: at(2025, 3, 14, 10, 5),
            source: source_a(),
            related: Vec::new(),
        }
    }

    /// Sparse story: no link, no authors, no summary, from another source.
    pub(crate) fn story_sparse() -> Story {
        Story {
            id: "urn:uuid:9f8e7d6c-5b4a-4392-8170-fedcba987654".into(),
            title: "Курс рубля: ЦБ сохранил ставку".into(),
            link: None,
            summary: None,
            content: Some("<p>Ставка сохранена на уровне 21%.</p>".into()),
            authors: vec![],
            categories: vec!["Экономика".into()],
            language: None,
            enclosures: vec![],
            published: at(2025, 3, 13, 18, 0),
            updated: at(2025, 3, 13, 18, 0),
            source: source_b(),
            related: Vec::new(),
        }
    }

    pub(crate) fn doc_with(stories: Vec<Story>) -> FeedDoc {
        FeedDoc {
            title: "Сводная лента: Политика".into(),
            id: "urn:uuid:11111111-2222-4333-8444-555555555555".into(),
            self_url: "https://feeds.example.org/politics.atom".into(),
            home_url: Some("https://feeds.example.org/".into()),
            updated: stories.iter().map(|s| s.updated).max().unwrap_or_default(),
            stories,
            next_url: None,
            hub_url: None,
        }
    }

    pub(crate) fn sample_doc() -> FeedDoc {
        doc_with(vec![story_full(), story_sparse()])
    }

    /// Reads `xml` to the end with quick-xml, failing on anything a strict
    /// XML 1.0 parser would reject that quick-xml itself lets through:
    /// forbidden characters, unknown entities, unbalanced or multiple roots.
    /// Every entry of a parsed-back feed matches its story: order, ids,
    /// titles, dates, categories, and the links `is_story_link` keeps.
    pub(crate) fn assert_entries_match(
        feed: &feed_rs::model::Feed,
        doc: &FeedDoc,
        is_story_link: impl Fn(&feed_rs::model::Link) -> bool,
    ) {
        assert_eq!(feed.entries.len(), doc.stories.len());
        for (entry, story) in feed.entries.iter().zip(&doc.stories) {
            assert_eq!(entry.id, story.id, "order and ids survive");
            assert_eq!(
                entry.title.as_ref().map(|t| t.content.as_str()),
                Some(story.title.as_str())
            );
            assert_eq!(entry.published, Some(story.published));
            assert_eq!(entry.updated, Some(story.updated));
            let terms: Vec<_> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, story.categories);
            let links: Vec<_> = entry
                .links
                .iter()
                .filter(|l| is_story_link(l))
                .map(|l| l.href.as_str())
                .collect();
            assert_eq!(links, story.link.as_slice());
        }
    }

    pub(crate) fn assert_well_formed(xml: &str) {
        if let Some(bad) = xml.chars().find(|&c| !is_xml_char(c)) {
            panic!("XML-illegal character U+{:04X} in output", bad as u32);
        }
        let mut reader = quick_xml::Reader::from_str(xml);
        let (mut depth, mut roots) = (0usize, 0usize);
        loop {
            let event = reader.read_event().expect("output is well-formed XML");
            let opens = matches!(event, Event::Start(_));
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    if depth == 0 {
                        roots += 1;
                    }
                    for attr in e.attributes() {
                        let attr = attr.expect("attribute is well-formed");
                        attr.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                            .expect("attribute value unescapes");
                    }
                    if opens {
                        depth += 1;
                    }
                }
                Event::End(_) => depth -= 1,
                Event::GeneralRef(r) => {
                    let name = r.xml10_content();
                    let known = quick_xml::escape::resolve_predefined_entity(&name).is_some()
                        || r.resolve_char_ref().expect("valid char ref").is_some();
                    assert!(known, "undefined entity &{name};");
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "unbalanced elements");
        assert_eq!(roots, 1, "exactly one root element");
    }

    #[test]
    fn formats_by_extension_and_name() {
        for f in [Format::Atom, Format::Rss, Format::Json] {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
            assert_eq!(Format::from_name(&f.extension().to_uppercase()), Some(f));
        }
        assert_eq!(Format::from_extension("ATOM"), None);
        assert_eq!(Format::from_extension("xml"), None);
        assert_eq!(Format::from_name(""), None);
        assert_eq!(
            Format::Atom.content_type(),
            "application/atom+xml; charset=utf-8"
        );
        assert_eq!(
            Format::Rss.content_type(),
            "application/rss+xml; charset=utf-8"
        );
        assert_eq!(
            Format::Json.content_type(),
            "application/feed+json; charset=utf-8"
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(
            xml_text("a\u{0}b\u{8}\u{B}\u{C}c\u{1F}\t\n\r\u{FFFE}\u{FFFF}d😀"),
            "abc\t\n\rd😀"
        );
        assert_eq!(language_tag(" en_US "), Some("en-US".into()));
        assert_eq!(language_tag("ru"), Some("ru".into()));
        for bad in ["", "1x", "en--US", "\"><x", "toolongsubtag-x"] {
            assert_eq!(language_tag(bad), None, "{bad:?}");
        }
        let far = NaiveDate::from_ymd_opt(20000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("chrono holds year 20000")
            .and_utc();
        assert_eq!(clamp_date(far).to_rfc3339(), "9999-12-31T23:59:59+00:00");
        let source = SourceRef {
            title: Some("  ".into()),
            ..source_b()
        };
        assert_eq!(source_label(&source), "wire-b");
    }

    /// Parses every format back; returns the three outputs for further checks.
    fn render_all_and_parse(doc: &FeedDoc) -> [String; 3] {
        let out = [Format::Atom, Format::Rss, Format::Json].map(|f| render(doc, f));
        assert_well_formed(&out[0]);
        assert_well_formed(&out[1]);
        serde_json::from_str::<serde_json::Value>(&out[2]).expect("JSON output parses");
        for text in &out {
            let feed = feed_rs::parser::parse(text.as_bytes()).expect("feed-rs parses output");
            assert_eq!(feed.entries.len(), doc.stories.len());
        }
        atom_syndication::Feed::read_from(out[0].as_bytes()).expect("atom_syndication reads Atom");
        ::rss::Channel::read_from(out[1].as_bytes()).expect("rss reads RSS");
        out
    }

    #[test]
    fn hostile_input_stays_well_formed() {
        let nasty = "A\u{0}\u{1}\u{8}\u{B}\u{C}\u{1F}\u{FFFE}\u{FFFF} ]]> </description> <![CDATA[ x ]]]]><![CDATA[> \
                     <script>alert('x')</script> <unclosed & &amp; &bogus; &#0; \"quotes\" 'apos' \
                     Привет עברית مرحبا \u{202E}rtl\u{202C} 👍🏽 \r\n";
        let body = format!("<p>{}</p>", nasty.repeat(1 + 200_000 / nasty.len()));
        assert!(body.len() > 200_000);
        let mut hostile = story_full();
        hostile.id = format!("urn:uuid:{nasty}");
        hostile.title = nasty.into();
        hostile.link = Some(format!("https://x.example/?q={nasty}"));
        hostile.summary = Some(nasty.into());
        hostile.content = Some(body);
        hostile.authors = vec![nasty.into(), String::new()];
        hostile.categories = vec![nasty.into(), "]]>".into(), "\u{0}".into()];
        hostile.language = Some(nasty.into());
        hostile.source = SourceRef {
            name: nasty.into(),
            title: Some(nasty.into()),
            feed_url: format!("https://x.example/feed?{nasty}"),
            site_url: Some(nasty.into()),
        };
        // Dates chrono can hold but RFC 822/3339 cannot write.
        hostile.published = DateTime::<Utc>::MIN_UTC;
        hostile.updated = DateTime::<Utc>::MAX_UTC;
        let mut sparse = story_sparse();
        sparse.title = "\u{0}".into();
        sparse.content = None;
        let mut doc = doc_with(vec![hostile, sparse]);
        doc.title = nasty.into();
        doc.self_url = format!("https://feeds.example.org/{nasty}");

        let [atom, rss, json] = render_all_and_parse(&doc);
        let clean_title = xml_text(nasty);
        let atom_feed = feed_rs::parser::parse(atom.as_bytes()).expect("parses");
        let rss_feed = feed_rs::parser::parse(rss.as_bytes()).expect("parses");
        for feed in [&atom_feed, &rss_feed] {
            let title = feed.entries[0].title.as_ref().map(|t| t.content.trim());
            assert_eq!(
                title,
                Some(clean_title.trim()),
                "only illegal characters are lost"
            );
        }
        let rss_channel = ::rss::Channel::read_from(rss.as_bytes()).expect("reads");
        let content = rss_channel.items[0].content.as_deref().unwrap_or_default();
        assert!(
            content.contains("]]>") && content.contains("<![CDATA["),
            "CDATA split intact"
        );
        assert!(json.contains(r"\u0000"), "JSON keeps the text, escaped");
    }

    #[test]
    fn paging_hub_language_and_enclosures_in_every_format() {
        let mut doc = sample_doc();
        doc.stories[1].language = Some("RU".into());
        doc.next_url = Some("https://feeds.example.org/politics.atom?before=1.2".into());
        doc.hub_url = Some("https://hub.example.org/".into());
        let [atom, rss, json] = render_all_and_parse(&doc);
        assert!(
            atom.contains(r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru""#),
            "{atom}"
        );
        assert!(atom.contains(
            r#"<link href="https://feeds.example.org/politics.atom?before=1.2" rel="next""#
        ));
        assert!(atom.contains(r#"<link href="https://hub.example.org/" rel="hub"/>"#));
        assert!(atom.contains(
            r#"<link href="https://a.example.ru/audio/1.mp3" rel="enclosure" type="audio/mpeg" length="123456"/>"#
        ));
        assert!(rss.contains("<language>ru</language>"));
        assert!(
            rss.contains(r#"rel="next""#)
                && rss.contains(r#"<atom:link href="https://hub.example.org/" rel="hub"/>"#)
        );
        assert!(rss.contains(r#"<enclosure url="https://a.example.ru/audio/1.mp3" length="123456" type="audio/mpeg"/>"#));
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(
            v["next_url"],
            "https://feeds.example.org/politics.atom?before=1.2"
        );
        assert_eq!(v["language"], "ru");
        assert_eq!(v["hubs"][0]["type"], "WebSub");
        assert_eq!(v["items"][0]["attachments"][0]["size_in_bytes"], 123456);

        // Mixed languages: none claimed for the whole feed.
        doc.stories[1].language = Some("en".into());
        let [atom, rss, json] = render_all_and_parse(&doc);
        assert!(!atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang"));
        assert!(!rss.contains("<language>"));
        assert!(!json.contains(r#""language":"ru","hubs""#));
    }

    #[test]
    fn empty_feed_renders_in_every_format() {
        let doc = doc_with(vec![]);
        let [atom, _, json] = render_all_and_parse(&doc);
        assert!(atom.contains("<updated>1970-01-01T00:00:00+00:00</updated>"));
        assert!(json.contains(r#""items":[]"#));
    }
}
