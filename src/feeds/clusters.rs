//! A cluster's first report as feeds show it: its own content followed by
//! a list of the other outlets' reports, which the feed leaves out.

use crate::model::{Related, Story};

/// Gives `story` its other reports: `related` (Atom and JSON Feed carry
/// them as links) and, after its content, «Также сообщают:» with a link per
/// report. `updated` moves to the latest report's date only with `bump`.
pub(super) fn show(story: &mut Story, related: Vec<Related>, bump: bool) {
    if bump && let Some(latest) = related.iter().map(|r| r.published).max() {
        story.updated = story.updated.max(latest);
    }
    story.related = related;
    let block = related_block(story);
    let body = story.content.take().or_else(|| story.summary.clone());
    story.content = Some(match body {
        Some(body) => format!("{body}{block}"),
        None => block,
    });
}

/// «Также сообщают:» (or «Also reported by:») with a link per other
/// report of `story.related`; empty when it has none. The HTML pages, which
/// show a story's summary rather than its content, add it themselves.
pub fn related_block(story: &Story) -> String {
    if story.related.is_empty() {
        return String::new();
    }
    let russian = is_russian(story);
    let mut block = String::from(if russian {
        "<p>Также сообщают:</p><ul>"
    } else {
        "<p>Also reported by:</p><ul>"
    });
    for r in &story.related {
        let label = format!("{}: {}", r.source, r.title);
        block.push_str("<li>");
        match &r.link {
            Some(link) => {
                block.push_str("<a href=\"");
                block.push_str(&escape(link));
                block.push_str("\">");
                block.push_str(&escape(&label));
                block.push_str("</a>");
            }
            None => block.push_str(&escape(&label)),
        }
        block.push_str("</li>");
    }
    block.push_str("</ul>");
    block
}

/// Whether the list's heading is written in Russian: the story's language
/// tag when it has one (`ru`, `ru-RU`), else a Cyrillic headline. The
/// entry's own language decides, since a merged feed has none of its own.
fn is_russian(story: &Story) -> bool {
    match story.language.as_deref() {
        Some(tag) => tag
            .split(['-', '_'])
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case("ru")),
        None => story
            .title
            .chars()
            .any(|c| matches!(c, '\u{0400}'..='\u{04FF}')),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn story(lang: Option<&str>, title: &str) -> Story {
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        Story {
            id: "urn:x".into(),
            title: title.into(),
            link: Some("https://a.example/1".into()),
            summary: Some("<p>Лид</p>".into()),
            content: None,
            authors: vec![],
            categories: vec![],
            language: lang.map(Into::into),
            enclosures: vec![],
            published: at,
            updated: at,
            source: crate::model::SourceRef {
                name: "a".into(),
                title: None,
                feed_url: "https://a.example/feed".into(),
                site_url: None,
            },
            related: vec![],
        }
    }

    fn other() -> Related {
        Related {
            link: Some("https://b.example/2?x=1&y=2".into()),
            title: "Алиев <принял> министра".into(),
            source: "Trend".into(),
            published: DateTime::from_timestamp(1_790_003_600, 0).unwrap(),
            summary: None,
        }
    }

    #[test]
    fn the_list_follows_the_content_in_the_story_language() {
        let mut s = story(None, "Президент принял министра");
        show(&mut s, vec![other()], false);
        let c = s.content.as_deref().unwrap();
        assert!(c.starts_with("<p>Лид</p><p>Также сообщают:</p><ul><li><a href=\"https://b.example/2?x=1&amp;y=2\">Trend: Алиев &lt;принял&gt; министра</a></li></ul>"), "{c}");
        assert_eq!(s.updated, s.published);
        assert_eq!(s.related.len(), 1);
        let mut e = story(Some("az"), "Prezident nazir qəbul edib");
        show(&mut e, vec![other()], true);
        assert!(e.content.unwrap().contains("<p>Also reported by:</p>"));
        assert!(e.updated > e.published);
    }
}
