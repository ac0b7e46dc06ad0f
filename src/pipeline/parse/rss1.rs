//! RSS 1.0 items without a `link`: feed-rs drops them, so each gets a
//! placeholder link before feed-rs reads the document, removed again when
//! its output is converted.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// The href of the placeholder link [`placeholder_links`] adds; removed
/// again right after feed-rs has read the document.
pub const NO_LINK: &str = "urn:x-feedmerge:no-link";

/// Gives every RSS 1.0 `item` without a `link` a placeholder one: feed-rs
/// drops such items, which would lose them and misalign every per-entry
/// side pass. `None` when the document is not RSS 1.0 or needs none.
pub(super) fn placeholder_links(text: &str) -> Option<String> {
    if !super::contains(text, "http://purl.org/rss/1.0/") {
        return None;
    }
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    // The open item: its depth, qualified-name prefix, and whether it has a link.
    let mut item: Option<(usize, String, bool)> = None;
    let mut inserts: Vec<(usize, String)> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qname = e.name().as_ref().to_string();
                let (prefix, local) = match qname.rsplit_once(':') {
                    Some((p, l)) => (format!("{p}:"), l.to_string()),
                    None => (String::new(), qname.clone()),
                };
                if item.is_none() && local == "item" {
                    item = Some((stack.len(), prefix, false));
                } else if let Some((d, p, has)) = item.as_mut()
                    && stack.len() == *d + 1
                    && local == "link"
                    && prefix == *p
                {
                    *has = true;
                }
                stack.push(local);
            }
            Ok(Event::End(_)) => {
                stack.pop();
                if let Some((d, p, has)) = &item
                    && stack.len() == *d
                {
                    if !has {
                        inserts.push((before, format!("<{p}link>{NO_LINK}</{p}link>")));
                    }
                    item = None;
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if inserts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + inserts.len() * 48);
    let mut at = 0;
    for (pos, s) in inserts {
        out.push_str(&text[at..pos]);
        out.push_str(&s);
        at = pos;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_without_link_get_a_placeholder() {
        let x = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item rdf:about="a"><title>t</title></item><item><link>http://e/</link></item></rdf:RDF>"#;
        let out = placeholder_links(x).expect("one added");
        assert!(
            out.contains(&format!("<title>t</title><link>{NO_LINK}</link></item>")),
            "{out}"
        );
        assert_eq!(out.matches("<link>").count(), 2);
    }
}
