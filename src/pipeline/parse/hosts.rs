//! Link hosts as the feed spelled them. feed-rs parses every link into a
//! `Url`, which lowercases the host, so `http://item.TEST/` would reach
//! normalize as `http://item.test/`. This reader, fed from the side pass's
//! one read of the document (see `side`), collects the hosts written with
//! capitals in each entry's (and the channel's) `link` elements, `href`s
//! and `guid`s, and gives feed-rs's links that spelling back. Normalize
//! still lowercases for the identity; only the link a story shows keeps it.

use super::side::Collector;
use crate::model::parsed::{Link, MAX_LINKS};
use quick_xml::events::{BytesStart, Event};
use url::{Position, Url};

/// A host is at most this long (RFC 1035: 253 characters).
const MAX_HOST: usize = 255;

/// Whether any absolute URL in the document has a capital in its host:
/// one scan for `://`, a bounded look after each.
pub(super) fn may_have_cased_hosts(text: &str) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), b"://")
        .any(|at| cased_host(&text.as_bytes()[at + 3..]))
}

/// Whether the host at the start of `rest` (after `scheme://`) has an ASCII
/// capital, looking at most [`MAX_HOST`] bytes.
fn cased_host(rest: &[u8]) -> bool {
    rest.iter()
        .take(MAX_HOST)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'))
        .any(u8::is_ascii_uppercase)
}

/// The host of an absolute URL as written (see
/// `normalize::link::with_written_host`, which reads it the same way), when
/// it has a capital.
fn written_cased_host(raw: &str) -> Option<&str> {
    let (_, rest) = raw.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    (host.len() <= MAX_HOST && host.is_ascii() && host.bytes().any(|b| b.is_ascii_uppercase()))
        .then_some(host)
}

/// Collects the capitalized hosts per entry, and the channel's.
#[derive(Default)]
pub(super) struct HostReader {
    channel: Vec<String>,
    entries: Vec<Vec<String>>,
    in_entry: bool,
    /// Whether the open element's text is a URL (`link`, `guid`).
    capture: bool,
    current: String,
}

impl HostReader {
    /// The channel's hosts and each entry's, in document order.
    pub(super) fn finish(self) -> (Vec<String>, Vec<Vec<String>>) {
        (self.channel, self.entries)
    }

    fn keep(&mut self, raw: &str) {
        let Some(host) = written_cased_host(raw) else {
            return;
        };
        let list = match self.entries.last_mut() {
            Some(last) if self.in_entry => last,
            _ => &mut self.channel,
        };
        if list.len() < MAX_LINKS && !list.iter().any(|h| h == host) {
            list.push(host.to_string());
        }
    }

    fn href_of(&mut self, e: &BytesStart<'_>) {
        if e.name().local_name().as_ref() != "link" {
            return;
        }
        if let Some(href) = e
            .attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == "href")
            .and_then(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned())
            })
        {
            self.keep(&href);
        }
    }
}

impl Collector for HostReader {
    fn event(&mut self, event: &Event<'_>, _before: usize, _after: usize) {
        match event {
            Event::Start(e) => {
                match e.name().local_name().as_ref() {
                    "item" | "entry" => {
                        self.in_entry = true;
                        self.entries.push(Vec::new());
                    }
                    "link" | "guid" => self.capture = true,
                    _ => {}
                }
                self.href_of(e);
                self.current.clear();
            }
            Event::Empty(e) => self.href_of(e),
            Event::Text(t) if self.capture => self.current.push_str(t.as_ref()),
            Event::CData(t) if self.capture => self.current.push_str(t.as_ref()),
            Event::End(e) => {
                if matches!(e.name().local_name().as_ref(), "item" | "entry") {
                    self.in_entry = false;
                }
                if std::mem::take(&mut self.capture) {
                    let current = std::mem::take(&mut self.current);
                    self.keep(&current);
                }
            }
            _ => {}
        }
    }
}

/// Gives each link whose host is one of `hosts` but for letter case that
/// spelling back.
pub(super) fn respell(links: &mut [Link], hosts: &[String]) {
    if hosts.is_empty() {
        return;
    }
    for link in links {
        let Ok(url) = Url::parse(&link.href) else {
            continue;
        };
        let Some(host) = url.host_str() else {
            continue;
        };
        if let Some(written) = hosts
            .iter()
            .find(|h| h.as_str() != host && h.eq_ignore_ascii_case(host))
        {
            link.href = format!(
                "{}{written}{}",
                &url[..Position::BeforeHost],
                &url[Position::AfterHost..]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse::side::read;

    #[test]
    fn capitalized_hosts_are_collected_per_entry() {
        let xml = r#"<rss><channel><link>http://Site.TEST/</link>
            <item><link>http://item.TEST/</link><image><link>http://img.Test/x</link></image></item>
            <item><link>http://lower.test/</link><guid>https://G.test/1</guid></item>
            <entry><link rel="alternate" href="https://user@Atom.Example:8080/a"/></entry>
        </channel></rss>"#;
        assert!(may_have_cased_hosts(xml));
        assert!(!may_have_cased_hosts(
            "<rss><link>http://a.test/Path/UPPER</link></rss>"
        ));
        let mut reader = HostReader::default();
        read(xml, &mut [&mut reader]);
        let (channel, entries) = reader.finish();
        assert_eq!(channel, ["Site.TEST"]);
        assert_eq!(
            entries,
            vec![
                vec!["item.TEST".to_string(), "img.Test".to_string()],
                vec!["G.test".to_string()],
                vec!["Atom.Example".to_string()],
            ]
        );
    }

    #[test]
    fn links_get_the_written_spelling_back() {
        let mut links = vec![
            Link {
                href: "http://item.test/a?b#c".into(),
                ..Default::default()
            },
            Link {
                href: "http://other.test/".into(),
                ..Default::default()
            },
        ];
        respell(&mut links, &["item.TEST".to_string()]);
        assert_eq!(links[0].href, "http://item.TEST/a?b#c");
        assert_eq!(links[1].href, "http://other.test/");
    }
}
