//! A side pass for categories feed-rs ignores: `dc:subject` (common in RDF
//! and Russian feeds) and `media:category`. Entries are matched to feed-rs's
//! by document order.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Extra category terms per entry, in document order. Empty when the
/// document has none, which is checked before any XML is read.
pub fn extra_categories(text: &str) -> Vec<Vec<String>> {
    if !(super::contains(text, "subject") || super::contains(text, "media:category")) {
        return Vec::new();
    }
    let mut reader = Reader::from_str(text);
    let mut entries: Vec<Vec<String>> = Vec::new();
    let mut in_entry = false;
    let mut capture = false;
    let mut current = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.name();
                let local = name.local_name();
                match local.as_ref() {
                    "item" | "entry" => {
                        in_entry = true;
                        entries.push(Vec::new());
                    }
                    "subject" if in_entry && name.prefix().is_some() => capture = true,
                    "category"
                        if in_entry && name.prefix().is_some_and(|p| p.as_ref() == "media") =>
                    {
                        capture = true
                    }
                    _ => {}
                }
                current.clear();
            }
            Ok(Event::Text(t)) if capture => {
                current.push_str(t.as_ref());
            }
            Ok(Event::GeneralRef(r)) if capture => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    current.push(c);
                } else {
                    current.push_str(match r.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Ok(Event::CData(t)) if capture => current.push_str(t.as_ref()),
            Ok(Event::End(e)) => {
                let name = e.name();
                match name.local_name().as_ref() {
                    "item" | "entry" => in_entry = false,
                    _ if capture => {
                        capture = false;
                        let term = current.trim();
                        if let Some(last) = entries.last_mut()
                            && !term.is_empty()
                        {
                            last.push(term.to_string());
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::extra_categories;

    #[test]
    fn dc_subject_and_media_category_are_collected_per_item() {
        let xml = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"><channel>
            <item><title>a</title><dc:subject>Политика</dc:subject><media:category>World &amp; Co</media:category></item>
            <item><title>b</title></item>
            <item><dc:subject><![CDATA[Экономика]]></dc:subject></item>
        </channel></rss>"#;
        let cats = extra_categories(xml);
        assert_eq!(
            cats,
            vec![
                vec!["Политика".to_string(), "World & Co".to_string()],
                vec![],
                vec!["Экономика".to_string()]
            ]
        );
    }
}

/// The `xml:base` in effect at each entry's content (else summary), resolved
/// against `doc_base`, in document order; `None` where no `xml:base` applies.
/// Empty when the document uses none, which is checked before reading XML.
/// feed-rs resolves links against `xml:base` but not URLs inside content.
pub fn content_bases(text: &str, doc_base: Option<&str>) -> Vec<Option<String>> {
    if !super::contains(text, "xml:base") {
        return Vec::new();
    }
    let doc_base = doc_base.and_then(|b| url::Url::parse(b).ok());
    let mut reader = Reader::from_str(text);
    // Effective base per open element; `None` = no xml:base seen yet.
    let mut stack: Vec<Option<url::Url>> = Vec::new();
    let mut entries: Vec<(Option<String>, bool)> = Vec::new(); // (base, from content)
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let parent = stack.last().cloned().flatten();
                let own = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == "xml:base")
                    .and_then(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(|v| v.into_owned())
                    });
                let here = match own {
                    Some(raw) => match parent.as_ref().or(doc_base.as_ref()) {
                        Some(b) => b.join(raw.trim()).ok(),
                        None => url::Url::parse(raw.trim()).ok(),
                    },
                    None => parent,
                };
                let name = e.name();
                match name.local_name().as_ref() {
                    "item" | "entry" => entries.push((None, false)),
                    local @ ("content" | "encoded" | "summary" | "description" | "body") => {
                        let is_content = local != "summary" && local != "description";
                        if let Some(last) = entries.last_mut()
                            && (is_content || !last.1)
                            && here.is_some()
                        {
                            *last = (here.as_ref().map(|u| u.to_string()), is_content);
                        }
                    }
                    _ => {}
                }
                stack.push(here);
            }
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    entries.into_iter().map(|(b, _)| b).collect()
}

#[cfg(test)]
mod base_tests {
    use super::content_bases;

    #[test]
    fn content_base_follows_nested_xml_base() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://e.org/blog/">
            <entry xml:base="2024/"><content type="html" xml:base="posts/">x</content></entry>
            <entry><summary>y</summary></entry></feed>"#;
        assert_eq!(
            content_bases(xml, Some("http://other.org/feed")),
            vec![
                Some("http://e.org/blog/2024/posts/".to_string()),
                Some("http://e.org/blog/".to_string())
            ]
        );
        assert!(content_bases("<rss/>", None).is_empty());
    }
}
