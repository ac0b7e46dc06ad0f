//! A side pass for categories feed-rs ignores: `dc:subject` (common in RDF
//! and Russian feeds) and `media:category`. Entries are matched to feed-rs's
//! by document order.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Extra category terms per entry, in document order. Empty when the
/// document has none, which is checked before any XML is read.
pub fn extra_categories(text: &str) -> Vec<Vec<String>> {
    if !(text.contains("subject") || text.contains("media:category")) {
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
