//! `feedmerge import-opml FILE`: turns a reader's OPML export into
//! `[[source]]` TOML to append to the config. Reads a file, writes text;
//! never touches the store.

use crate::config::Config;
use quick_xml::events::{BytesStart, Event};
use std::collections::HashSet;
use std::fmt::Write;

/// Why an OPML file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The XML is broken; nothing was imported.
    #[error("not well-formed OPML: {0}")]
    NotWellFormed(#[source] quick_xml::Error),
}

/// The outcome of reading an OPML file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Import {
    /// `[[source]]` tables, ready to append to a config.
    pub toml: String,
    /// Sources written.
    pub imported: usize,
    /// Outlines left out, each with its reason.
    pub skipped: Vec<String>,
}

/// An outline with a feed URL, with the folder it sits in.
struct Outline {
    title: String,
    url: String,
    section: Option<String>,
}

/// Reads OPML and writes a `[[source]]` per feed outline: name from the
/// title, the enclosing folder (else the `category`) as `section`.
/// URLs and names in `config` are not repeated.
pub fn import(opml: &[u8], config: Option<&Config>) -> Result<Import, ImportError> {
    let mut result = Import::default();
    let outlines = read_outlines(opml, &mut result.skipped)?;
    let mut names: HashSet<String> = config
        .map(|c| c.sources.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let mut urls: HashSet<String> = config
        .map(|c| c.sources.iter().map(|s| s.url.clone()).collect())
        .unwrap_or_default();
    for o in outlines {
        match admit(&o, &mut urls) {
            Ok(host) => {
                let name = unique_name(&o.title, host.as_deref(), &mut names);
                write_source(&mut result.toml, &name, &o);
                result.imported += 1;
            }
            Err(reason) => result.skipped.push(reason),
        }
    }
    Ok(result)
}

/// Every outline with a feed URL, in document order, each with the
/// nearest enclosing folder; outlines that are neither feeds nor folders
/// are reported in `skipped`.
fn read_outlines(opml: &[u8], skipped: &mut Vec<String>) -> Result<Vec<Outline>, ImportError> {
    let mut outlines = Vec::new();
    let mut reader = quick_xml::Reader::from_reader(opml);
    // One entry per open <outline>: its title when it is a folder.
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(ImportError::NotWellFormed)?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "outline" => {
                let title = attr(&e, "title").or_else(|| attr(&e, "text"));
                let xml_url = attr(&e, "xmlUrl");
                match &xml_url {
                    Some(url) => outlines.push(Outline {
                        title: title.clone().unwrap_or_default(),
                        url: url.clone(),
                        section: folders
                            .iter()
                            .rev()
                            .flatten()
                            .next()
                            .cloned()
                            .or_else(|| first_category(&e)),
                    }),
                    None if opens => {}
                    None => skipped.push(format!(
                        "outline {:?}: no xmlUrl (not a feed)",
                        title.clone().unwrap_or_default()
                    )),
                }
                if opens {
                    // Only an outline without a feed URL is a folder.
                    folders.push(if xml_url.is_none() { title } else { None });
                }
            }
            Event::End(e) if e.local_name().as_ref() == "outline" => {
                folders.pop();
            }
            Event::Eof => return Ok(outlines),
            _ => {}
        }
        buf.clear();
    }
}

/// An attribute's value, trimmed; `None` when absent or blank. Names are
/// matched without regard to case (`xmlurl` is seen in the wild).
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Explicit1_0).ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The first part of a `category` attribute (`/Tech/Gadgets` → `Tech`).
fn first_category(e: &BytesStart<'_>) -> Option<String> {
    attr(e, "category").and_then(|c| {
        c.split([',', '/'])
            .map(str::trim)
            .find(|s| !s.is_empty())
            .map(str::to_string)
    })
}

/// Whether an outline becomes a source: an http(s) URL not already
/// configured (or imported). Ok carries the URL's host, a name of last
/// resort; Err the reason it is skipped.
fn admit(o: &Outline, urls: &mut HashSet<String>) -> Result<Option<String>, String> {
    let label = if o.title.is_empty() { &o.url } else { &o.title };
    let parsed = url::Url::parse(&o.url);
    if !matches!(parsed.as_ref().map(|u| u.scheme()), Ok("http" | "https")) {
        return Err(format!(
            "outline {label:?}: xmlUrl {:?} is not an http(s) URL",
            o.url
        ));
    }
    if !urls.insert(o.url.clone()) {
        return Err(format!("outline {label:?}: {} is already a source", o.url));
    }
    Ok(parsed.ok().and_then(|u| u.host_str().map(str::to_string)))
}

/// A source name from the title (else the host), made unique among `names`
/// with a `-2`, `-3`… suffix.
fn unique_name(title: &str, host: Option<&str>, names: &mut HashSet<String>) -> String {
    let stem = slug(title)
        .or_else(|| host.and_then(slug))
        .unwrap_or_else(|| "source".into());
    let mut name = stem.clone();
    let mut n = 2;
    while !names.insert(name.clone()) {
        name = format!("{stem}-{n}");
        n += 1;
    }
    name
}

/// Appends one `[[source]]` table.
fn write_source(toml: &mut String, name: &str, o: &Outline) {
    let _ = writeln!(
        toml,
        "[[source]]\nname = {}\nurl = {}",
        quote(name),
        quote(&o.url)
    );
    if !o.title.is_empty() {
        let _ = writeln!(toml, "title = {}", quote(&o.title));
    }
    if let Some(section) = &o.section {
        let _ = writeln!(toml, "section = {}", quote(section));
    }
    toml.push('\n');
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A source name from a title: lowercase ASCII letters and digits joined by
/// `-`, Cyrillic transliterated so Russian titles give readable names.
fn slug(title: &str) -> Option<String> {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let piece = match c {
            'a'..='z' | '0'..='9' => c.to_string(),
            _ => translit(c)
                .map(str::to_string)
                .unwrap_or_else(|| "-".into()),
        };
        out.push_str(&piece);
    }
    let parts: Vec<&str> = out.split('-').filter(|p| !p.is_empty()).collect();
    let joined = parts.join("-");
    let cut: String = joined.chars().take(40).collect();
    let cut = cut.trim_end_matches('-').to_string();
    (!cut.is_empty()).then_some(cut)
}

fn translit(c: char) -> Option<&'static str> {
    const TABLE: [(char, &str); 34] = [
        ('а', "a"),
        ('б', "b"),
        ('в', "v"),
        ('г', "g"),
        ('д', "d"),
        ('е', "e"),
        ('ё', "e"),
        ('ж', "zh"),
        ('з', "z"),
        ('и', "i"),
        ('й', "y"),
        ('к', "k"),
        ('л', "l"),
        ('м', "m"),
        ('н', "n"),
        ('о', "o"),
        ('п', "p"),
        ('р', "r"),
        ('с', "s"),
        ('т', "t"),
        ('у', "u"),
        ('ф', "f"),
        ('х', "kh"),
        ('ц', "ts"),
        ('ч', "ch"),
        ('ш', "sh"),
        ('щ', "shch"),
        ('ъ', ""),
        ('ы', "y"),
        ('ь', ""),
        ('э', "e"),
        ('ю', "yu"),
        ('я', "ya"),
        ('ə', "a"),
    ];
    TABLE.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_become_sections_and_bad_outlines_are_reported() {
        let opml = r#"<?xml version="1.0"?><opml version="2.0"><head/><body>
          <outline text="Политика">
            <outline type="rss" text="Лента.ру: Политика" xmlUrl="https://lenta.example/rss/politics"/>
            <outline type="rss" title="Same &amp; again" xmlUrl="https://lenta.example/rss/politics"/>
          </outline>
          <outline type="rss" text="Tech News" xmlUrl="https://tech.example/feed" category="/Tech/Gadgets"/>
          <outline type="rss" text="Tech News" xmlUrl="https://tech2.example/feed"/>
          <outline type="link" text="A bookmark" url="https://x.example/"/>
          <outline type="rss" text="Gopher" xmlUrl="gopher://old.example/"/>
        </body></opml>"#;
        let r = import(opml.as_bytes(), None).expect("parses");
        assert_eq!(r.imported, 3);
        let parsed: toml::Table = r.toml.parse().expect("valid TOML");
        let sources = parsed["source"].as_array().expect("array of tables");
        assert_eq!(sources[0]["name"].as_str(), Some("lenta-ru-politika"));
        assert_eq!(sources[0]["section"].as_str(), Some("Политика"));
        assert_eq!(sources[1]["name"].as_str(), Some("tech-news"));
        assert_eq!(sources[1]["section"].as_str(), Some("Tech"));
        assert_eq!(sources[2]["name"].as_str(), Some("tech-news-2"));
        assert_eq!(r.skipped.len(), 3, "{:?}", r.skipped);
        assert!(r.skipped[0].contains("no xmlUrl"), "{:?}", r.skipped);
        assert!(r.skipped.iter().any(|s| s.contains("already a source")));
        assert!(r.skipped.iter().any(|s| s.contains("not an http(s) URL")));
        assert!(import(b"<opml><body><outline", None).is_err());
    }
}
