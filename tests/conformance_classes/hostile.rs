//! Hostile documents too big to commit, built at run time: each is written
//! to a temporary file and read by the binary like any fixture. How long
//! each took is printed, never asserted (a shared CI core makes any limit
//! flaky); issue #12 asks for under a second each, release build, one core.

use serde_json::{Value, json};
use std::fmt::Write as _;

/// 10 MiB: the daemon's body cap, so the largest document a poll can read.
const TEN_MIB: usize = 10 * 1024 * 1024;

/// One generated document.
pub struct Generated {
    /// File name (the extension tells JSON from XML).
    pub name: &'static str,
    /// The document.
    pub body: Vec<u8>,
    /// What inspect must print for it.
    pub expect: Value,
}

fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Hostile</title><link>https://hostile.example.org/</link>\
         <description>generated</description>{items}</channel></rss>"
    )
}

/// All generated documents, smallest first.
pub fn all() -> Vec<Generated> {
    vec![
        shared_guid(),
        categories(),
        nested_html(),
        many_items(),
        one_huge_description(),
        entity_soup(),
        atom_many_links(),
        json_many_items(),
    ]
}

/// 1,000 items with one `<guid>` and their own links and titles: ids that
/// are mostly duplicates are not identities, so 1,000 stories.
fn shared_guid() -> Generated {
    let mut items = String::new();
    for i in 0..1000 {
        let _ = write!(
            items,
            "<item><guid isPermaLink=\"false\">same-guid</guid><title>Story {i}</title>\
             <link>https://hostile.example.org/s/{i}</link></item>"
        );
    }
    Generated {
        name: "shared-guid-1000.xml",
        body: rss(&items).into_bytes(),
        expect: json!({
            "item_count": 1000,
            "items": [
                {"title": "Story 0", "link": "https://hostile.example.org/s/0"},
                {"title": "Story 1", "link": "https://hostile.example.org/s/1"}
            ]
        }),
    }
}

/// One item with 20,000 distinct `<category>`: every one kept once, in
/// linear time (a pairwise duplicate check is 2·10⁸ comparisons).
fn categories() -> Generated {
    let mut cats = String::new();
    for i in 0..20_000 {
        let _ = write!(cats, "<category>Категория {i:05}</category>");
    }
    let items = format!(
        "<item><title>Many categories</title><link>https://hostile.example.org/c</link>{cats}</item>"
    );
    Generated {
        name: "categories-20000.xml",
        body: rss(&items).into_bytes(),
        expect: json!({
            "item_count": 1,
            "items": [{
                "title": "Many categories",
                "categories": {"includes": ["Категория 00000", "Категория 00001"]}
            }]
        }),
    }
}

/// A description of 200,000 nested `<div>`s (escaped HTML, ~5 MiB): the
/// sanitizer must neither recurse per level nor rescan the open elements.
fn nested_html() -> Generated {
    let depth = 200_000;
    let mut html = String::with_capacity(depth * 24);
    for _ in 0..depth {
        html.push_str("&lt;div&gt;");
    }
    html.push_str("deep");
    for _ in 0..depth {
        html.push_str("&lt;/div&gt;");
    }
    let items = format!(
        "<item><title>Nested</title><link>https://hostile.example.org/n</link>\
         <description>{html}</description></item>"
    );
    Generated {
        name: "nested-html-200000.xml",
        body: rss(&items).into_bytes(),
        expect: json!({"item_count": 1, "items": [{"title": "Nested"}]}),
    }
}

/// An ordinary feed grown to 10 MiB: as many items as fit.
fn many_items() -> Generated {
    let mut items = String::new();
    let mut i = 0;
    while items.len() < TEN_MIB - 200 {
        let _ = write!(
            items,
            "<item><guid isPermaLink=\"false\">id-{i}</guid><title>Новость номер {i}</title>\
             <link>https://hostile.example.org/news/{i}</link>\
             <description>&lt;p&gt;Текст новости номер {i}, достаточно длинный, чтобы \
             лента весила десять мегабайт.&lt;/p&gt;</description>\
             <pubDate>Fri, 09 Aug 2024 12:00:00 GMT</pubDate></item>"
        );
        i += 1;
    }
    Generated {
        name: "items-10mib.xml",
        body: rss(&items).into_bytes(),
        expect: json!({
            "item_count": i,
            "items": [{"title": "Новость номер 0", "link": "https://hostile.example.org/news/0"}]
        }),
    }
}

/// One item whose description is 10 MiB of small paragraphs.
fn one_huge_description() -> Generated {
    let para = "&lt;p&gt;Lorem &lt;b&gt;ipsum&lt;/b&gt; dolor &lt;a href=\"https://hostile.example.org/x\"&gt;sit&lt;/a&gt; amet.&lt;/p&gt;\n";
    let body = para.repeat(TEN_MIB / para.len());
    let items = format!(
        "<item><title>Huge description</title><link>https://hostile.example.org/h</link>\
         <description>{body}</description></item>"
    );
    Generated {
        name: "description-10mib.xml",
        body: rss(&items).into_bytes(),
        expect: json!({"item_count": 1, "items": [{"title": "Huge description", "summary": {"contains": "<b>ipsum</b>"}}]}),
    }
}

/// 10 MiB of character references in a title and a description.
fn entity_soup() -> Generated {
    let refs = "&amp;amp;&#x41;&#1046;&lt;&gt;&quot;".repeat(TEN_MIB / 2 / 36);
    let items = format!(
        "<item><title>Entities {refs}</title><link>https://hostile.example.org/e</link>\
         <description>{refs}</description></item>"
    );
    Generated {
        name: "entities-10mib.xml",
        body: rss(&items).into_bytes(),
        expect: json!({"item_count": 1, "items": [{"link": "https://hostile.example.org/e"}]}),
    }
}

/// An Atom entry with 100,000 `<link>`s, the alternate last.
fn atom_many_links() -> Generated {
    let mut links = String::new();
    for i in 0..100_000 {
        let _ = write!(
            links,
            "<link rel=\"related\" href=\"https://hostile.example.org/r/{i}\"/>"
        );
    }
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>Links</title><id>urn:hostile:links</id><updated>2024-08-09T12:00:00Z</updated>\
         <entry><title>Linked</title><id>urn:hostile:links:1</id><updated>2024-08-09T12:00:00Z</updated>\
         {links}<link rel=\"alternate\" type=\"text/html\" href=\"https://hostile.example.org/a\"/></entry></feed>"
    );
    Generated {
        name: "atom-links-100000.xml",
        body: doc.into_bytes(),
        expect: json!({"item_count": 1, "items": [{"link": "https://hostile.example.org/a"}]}),
    }
}

/// A JSON Feed grown to 10 MiB.
fn json_many_items() -> Generated {
    let mut items = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < TEN_MIB - 200 {
        let item = json!({
            "id": format!("j-{i}"),
            "url": format!("https://hostile.example.org/j/{i}"),
            "title": format!("Запись {i}"),
            "content_html": "<p>Текст записи, чтобы лента весила десять мегабайт.</p>",
            "date_published": "2024-08-09T12:00:00Z"
        });
        size += item.to_string().len() + 1;
        items.push(item);
        i += 1;
    }
    let doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Hostile JSON",
        "items": items
    });
    Generated {
        name: "json-10mib.json",
        body: doc.to_string().into_bytes(),
        expect: json!({"item_count": i, "items": [{"id": "j-0", "title": "Запись 0"}]}),
    }
}
