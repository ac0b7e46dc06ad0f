//! OPML 2.0: `GET /sources.opml` lists the configured sources, and
//! `feedmerge import-opml FILE` turns a reader's export into `[[source]]`
//! TOML to append to the config.

use crate::config::Config;
use crate::export::html::escape;
use crate::store::SourceStatus;
use quick_xml::events::Event;
use std::collections::HashSet;
use std::fmt::Write;

/// The sources as OPML: title, `xmlUrl`, `htmlUrl` (when the feed gave a
/// site), and the configured section as `category`.
pub fn render(config: &Config, status: &[SourceStatus]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head><title>feedmerge sources</title></head>\n<body>\n",
    );
    for source in &config.sources {
        let seen = status.iter().find(|s| s.name == source.name);
        let title = source
            .title
            .clone()
            .or_else(|| seen.and_then(|s| s.title.clone()))
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| source.name.clone());
        let _ = write!(
            out,
            r#"<outline type="rss" text="{t}" title="{t}" xmlUrl="{x}""#,
            t = escape(&crate::export::xml_text(&title)),
            x = escape(&source.url)
        );
        if let Some(site) = seen.and_then(|s| s.site_url.as_deref()) {
            let _ = write!(out, r#" htmlUrl="{}""#, escape(site));
        }
        if let Some(section) = &source.section {
            let _ = write!(
                out,
                r#" category="/{}""#,
                escape(&crate::export::xml_text(section))
            );
        }
        out.push_str("/>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out
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
pub fn import(opml: &[u8], config: Option<&Config>) -> Result<Import, String> {
    let mut result = Import::default();
    let mut outlines = Vec::new();
    let mut reader = quick_xml::Reader::from_reader(opml);
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not well-formed OPML: {e}"))?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "outline" => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Explicit1_0).ok())
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                };
                let title = attr("title").or_else(|| attr("text"));
                let folder = folders.iter().rev().flatten().next().cloned();
                match attr("xmlUrl") {
                    Some(url) => {
                        let category = attr("category").and_then(|c| {
                            c.split([',', '/'])
                                .map(str::trim)
                                .find(|s| !s.is_empty())
                                .map(str::to_string)
                        });
                        outlines.push(Outline {
                            title: title.clone().unwrap_or_default(),
                            url,
                            section: folder.or(category),
                        });
                    }
                    None if opens => {}
                    None => result.skipped.push(format!(
                        "outline {:?}: no xmlUrl (not a feed)",
                        title.clone().unwrap_or_default()
                    )),
                }
                if opens {
                    // Only an outline without a feed URL is a folder.
                    let is_folder = attr("xmlUrl").is_none();
                    folders.push(if is_folder { title } else { None });
                }
            }
            Event::End(e) if e.local_name().as_ref() == "outline" => {
                folders.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }

    let mut names: HashSet<String> = config
        .map(|c| c.sources.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let mut urls: HashSet<String> = config
        .map(|c| c.sources.iter().map(|s| s.url.clone()).collect())
        .unwrap_or_default();
    for o in outlines {
        let label = if o.title.is_empty() {
            o.url.clone()
        } else {
            o.title.clone()
        };
        let parsed = url::Url::parse(&o.url);
        if !matches!(parsed.as_ref().map(|u| u.scheme()), Ok("http" | "https")) {
            result.skipped.push(format!(
                "outline {label:?}: xmlUrl {:?} is not an http(s) URL",
                o.url
            ));
            continue;
        }
        if !urls.insert(o.url.clone()) {
            result
                .skipped
                .push(format!("outline {label:?}: {} is already a source", o.url));
            continue;
        }
        let stem = slug(&o.title)
            .or_else(|| parsed.ok().and_then(|u| u.host_str().and_then(slug)))
            .unwrap_or_else(|| "source".into());
        let mut name = stem.clone();
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{stem}-{n}");
            n += 1;
        }
        let _ = writeln!(
            result.toml,
            "[[source]]\nname = {}\nurl = {}",
            quote(&name),
            quote(&o.url)
        );
        if !o.title.is_empty() {
            let _ = writeln!(result.toml, "title = {}", quote(&o.title));
        }
        if let Some(section) = &o.section {
            let _ = writeln!(result.toml, "section = {}", quote(section));
        }
        result.toml.push('\n');
        result.imported += 1;
    }
    Ok(result)
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
