//! Readers for two things feed-rs leaves out, fed from the side pass's one
//! read of the document (see `side`): categories it ignores (`dc:subject`,
//! common in RDF and Russian feeds, and `media:category`), and the
//! `xml:base` in effect at each entry's content, which feed-rs applies to
//! links but not to URLs inside content. Entries are matched to feed-rs's
//! by document order.

use super::side::Collector;
use crate::model::parsed::MAX_CATEGORIES;
use quick_xml::events::Event;

/// Whether the document may hold extra categories; checked before any XML
/// is read.
pub(super) fn may_have_categories(text: &str) -> bool {
    super::contains(text, "subject")
        || super::contains(text, "media:category")
        || super::contains(text, "<tags")
}

/// Whether the document uses `xml:base` at all.
pub(super) fn may_have_bases(text: &str) -> bool {
    super::contains(text, "xml:base")
}

/// Extra terms of one entry, each with the number of the entry's own
/// `<category>` elements (the ones feed-rs reads) before it, so the two
/// lists can be merged in document order.
pub(super) type PlacedTerms = Vec<(usize, String)>;

/// Collects extra category terms per entry, in document order: `dc:subject`
/// (any prefix), `media:category`, and a `<tags>` element's comma-separated
/// terms (a made-up element some CMSs write, which feedparser reads).
#[derive(Default)]
pub(super) struct CategoryReader {
    entries: Vec<PlacedTerms>,
    in_entry: bool,
    /// The entry's `<category>` elements so far.
    own: usize,
    /// Whether the open element's text is a term, and whether it is a list.
    capture: Option<bool>,
    /// The term read so far.
    current: String,
}

impl CategoryReader {
    /// Terms per entry.
    pub(super) fn finish(self) -> Vec<PlacedTerms> {
        self.entries
    }

    fn push(&mut self, term: &str) {
        let own = self.own;
        if let Some(last) = self.entries.last_mut()
            && !term.is_empty()
            && last.len() < MAX_CATEGORIES
        {
            last.push((own, term.to_string()));
        }
    }
}

impl Collector for CategoryReader {
    fn event(&mut self, event: &Event<'_>, _before: usize, _after: usize) {
        match event {
            Event::Start(e) => {
                let name = e.name();
                let local = name.local_name();
                match local.as_ref() {
                    "item" | "entry" => {
                        self.in_entry = true;
                        self.own = 0;
                        self.entries.push(Vec::new());
                    }
                    "subject" if self.in_entry && name.prefix().is_some() => {
                        self.capture = Some(false)
                    }
                    "tags" if self.in_entry && name.prefix().is_none() => self.capture = Some(true),
                    "category" if self.in_entry => match name.prefix() {
                        Some(p) if p.as_ref() == "media" => self.capture = Some(false),
                        None => self.own += 1,
                        Some(_) => {}
                    },
                    _ => {}
                }
                self.current.clear();
            }
            Event::Empty(e) if self.in_entry => {
                let name = e.name();
                if name.local_name().as_ref() == "category" && name.prefix().is_none() {
                    self.own += 1;
                }
            }
            Event::Text(t) if self.capture.is_some() => self.current.push_str(t.as_ref()),
            Event::GeneralRef(r) if self.capture.is_some() => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    self.current.push(c);
                } else {
                    self.current.push_str(match r.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::CData(t) if self.capture.is_some() => self.current.push_str(t.as_ref()),
            Event::End(e) => match e.name().local_name().as_ref() {
                "item" | "entry" => self.in_entry = false,
                _ if self.capture.is_some() => {
                    let list = self.capture.take() == Some(true);
                    let current = std::mem::take(&mut self.current);
                    if list {
                        current.split(',').for_each(|t| self.push(t.trim()));
                    } else {
                        self.push(current.trim());
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// Collects the `xml:base` in effect at each entry's content (else its
/// summary), resolved against the document's base; `None` where no
/// `xml:base` applies.
pub(super) struct BaseReader {
    doc_base: Option<url::Url>,
    /// Effective base per open element; `None` = no xml:base seen yet.
    stack: Vec<Option<url::Url>>,
    /// Per entry: the base, and whether it is its content's.
    entries: Vec<(Option<String>, bool)>,
}

impl BaseReader {
    /// A reader resolving against `doc_base`.
    pub(super) fn new(doc_base: Option<&str>) -> Self {
        BaseReader {
            doc_base: doc_base.and_then(|b| url::Url::parse(b).ok()),
            stack: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// The base per entry.
    pub(super) fn finish(self) -> Vec<Option<String>> {
        self.entries.into_iter().map(|(b, _)| b).collect()
    }

    /// The base in effect inside an element: its own `xml:base` resolved
    /// against its parent's, else its parent's.
    fn base_of(&self, e: &quick_xml::events::BytesStart<'_>) -> Option<url::Url> {
        let parent = self.stack.last().cloned().flatten();
        let own = e
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref() == "xml:base")
            .and_then(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned())
            });
        match own {
            Some(raw) => match parent.as_ref().or(self.doc_base.as_ref()) {
                Some(b) => b.join(raw.trim()).ok(),
                None => url::Url::parse(raw.trim()).ok(),
            },
            None => parent,
        }
    }
}

impl Collector for BaseReader {
    fn event(&mut self, event: &Event<'_>, _before: usize, _after: usize) {
        match event {
            Event::Start(e) => {
                let here = self.base_of(e);
                let name = e.name();
                match name.local_name().as_ref() {
                    "item" | "entry" => self.entries.push((None, false)),
                    local @ ("content" | "encoded" | "summary" | "description" | "body") => {
                        let is_content = local != "summary" && local != "description";
                        if let Some(last) = self.entries.last_mut()
                            && (is_content || !last.1)
                            && here.is_some()
                        {
                            *last = (here.as_ref().map(|u| u.to_string()), is_content);
                        }
                    }
                    _ => {}
                }
                self.stack.push(here);
            }
            Event::End(_) => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse::side::read;

    #[test]
    fn dc_subject_and_media_category_are_collected_per_item() {
        let xml = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"><channel>
            <item><title>a</title><dc:subject>Политика</dc:subject><media:category>World &amp; Co</media:category></item>
            <item><title>b</title></item>
            <item><dc:subject><![CDATA[Экономика]]></dc:subject></item>
        </channel></rss>"#;
        assert!(may_have_categories(xml));
        let mut reader = CategoryReader::default();
        read(xml, &mut [&mut reader]);
        assert_eq!(
            reader.finish(),
            vec![
                vec![(0, "Политика".to_string()), (0, "World & Co".to_string())],
                vec![],
                vec![(0, "Экономика".to_string())]
            ]
        );
    }

    #[test]
    fn tags_are_split_and_placed_among_the_own_categories() {
        let xml = r#"<rss><channel><item><category>a</category><tags>tag one, tag two,</tags>
            <category>b</category><dc:subject>s</dc:subject><x:tags>no</x:tags></item></channel></rss>"#;
        assert!(may_have_categories(xml));
        let mut reader = CategoryReader::default();
        read(xml, &mut [&mut reader]);
        let placed = |v: &[(usize, &str)]| {
            v.iter()
                .map(|(n, t)| (*n, t.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            reader.finish(),
            vec![placed(&[(1, "tag one"), (1, "tag two"), (2, "s")])]
        );
    }

    #[test]
    fn content_base_follows_nested_xml_base() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://e.org/blog/">
            <entry xml:base="2024/"><content type="html" xml:base="posts/">x</content></entry>
            <entry><summary>y</summary></entry></feed>"#;
        let mut reader = BaseReader::new(Some("http://other.org/feed"));
        read(xml, &mut [&mut reader]);
        assert_eq!(
            reader.finish(),
            vec![
                Some("http://e.org/blog/2024/posts/".to_string()),
                Some("http://e.org/blog/".to_string())
            ]
        );
        assert!(!may_have_bases("<rss/>"));
    }
}
