//! Identity: which stored item an entry is (within its source), which story
//! it belongs to (across sources), and whether it changed.

use crate::model::Item;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Identity within a source: the feed's guid/id, else the canonical link,
/// else a hash of title and content. Never feed-rs's generated id, which
/// hashes the title (an edited headline would become a new item) or is random.
pub fn item_key(guid: Option<&str>, link: Option<&str>, title: &str, body: Option<&str>) -> String {
    if let Some(g) = guid {
        return format!("guid:{g}");
    }
    if let Some(l) = link {
        return format!("link:{l}");
    }
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0]);
    h.update(body.unwrap_or("").as_bytes());
    format!("hash:{}", hex128(&h.finalize()))
}

/// Identity across sources: the canonical link (or a URL-shaped guid made
/// canonical), so a story in a site's all-news feed and in its politics feed
/// is one story; else the item's own identity, scoped to its source.
pub fn story_key(source: &str, item_key: &str, guid: Option<&str>, link: Option<&str>) -> String {
    if let Some(l) = link {
        return format!("link:{l}");
    }
    if let Some(g) = guid.filter(|g| super::link::is_url_shaped(g))
        && let Some(c) = super::link::canonical_link(g, None)
    {
        return format!("link:{c}");
    }
    format!("item:{source}:{item_key}")
}

/// Hash of everything a subscriber sees of an item: equal hashes mean a
/// re-sent item changes nothing and costs no write.
pub fn content_hash(item: &Item) -> String {
    let mut h = Sha256::new();
    for part in [
        item.title.as_str(),
        item.link.as_deref().unwrap_or(""),
        item.summary.as_deref().unwrap_or(""),
        item.content.as_deref().unwrap_or(""),
        item.language.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for list in [&item.authors, &item.categories, &item.sections] {
        for s in list {
            h.update(s.as_bytes());
            h.update([1]);
        }
        h.update([0]);
    }
    // Hashed only when present, so items stored before enclosures were
    // kept keep their hash and are not rewritten as edits.
    for e in &item.enclosures {
        h.update(e.url.as_bytes());
        h.update([2]);
    }
    h.update(
        item.published
            .map(|d| d.timestamp())
            .unwrap_or(0)
            .to_le_bytes(),
    );
    hex128(&h.finalize())
}

/// The first 16 bytes of a SHA-256 digest as 32 lowercase hex digits.
/// uuid's `simple` form writes any 16 bytes exactly so and sets no bits
/// (these are not UUIDs), which spares a hex crate Cargo.lock lacks.
fn hex128(digest: &[u8]) -> String {
    Uuid::from_bytes(first16(digest)).simple().to_string()
}

fn first16(digest: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::story_uid;

    #[test]
    fn guid_beats_link_beats_hash() {
        assert_eq!(
            item_key(Some("123"), Some("https://e.org/a"), "t", None),
            "guid:123"
        );
        assert_eq!(
            item_key(None, Some("https://e.org/a"), "t", None),
            "link:https://e.org/a"
        );
        let h = item_key(None, None, "t", Some("body"));
        assert!(h.starts_with("hash:"));
        assert_eq!(
            h,
            item_key(None, None, "t", Some("body")),
            "hash is deterministic"
        );
        assert_ne!(h, item_key(None, None, "t2", Some("body")));
    }

    #[test]
    fn same_link_in_two_sources_is_one_story() {
        let a = story_key("all-news", "guid:1", Some("1"), Some("https://e.org/a"));
        let b = story_key("politics", "guid:77", Some("77"), Some("https://e.org/a"));
        assert_eq!(a, b);
    }

    #[test]
    fn url_shaped_guid_joins_stories_without_links() {
        let a = story_key("a", "guid:x", Some("https://E.org/a?utm_source=x"), None);
        let b = story_key("b", "link:https://e.org/a", None, Some("https://e.org/a"));
        assert_eq!(a, b);
    }

    #[test]
    fn opaque_ids_stay_within_their_source() {
        assert_ne!(
            story_key("a", "guid:1", Some("1"), None),
            story_key("b", "guid:1", Some("1"), None)
        );
    }

    #[test]
    fn story_uid_is_a_stable_uuid_urn() {
        let id = story_uid("link:https://e.org/a");
        assert_eq!(id, story_uid("link:https://e.org/a"));
        assert!(id.starts_with("urn:uuid:"));
        assert_eq!(id.len(), "urn:uuid:".len() + 36);
        assert_ne!(id, story_uid("link:https://e.org/b"));
    }

    /// Ids, item keys and content hashes are stored and published: these
    /// values were computed with the hand-written hex/UUID code that came
    /// before the `uuid` crate, and must never change.
    #[test]
    fn identities_are_pinned() {
        for (key, uid) in [
            (
                "link:https://e.org/a",
                "urn:uuid:22a76b4a-c131-8952-8495-e52c0f296c47",
            ),
            (
                "item:ru-all:guid:42",
                "urn:uuid:02a017f8-0401-8c35-a6d7-bdaa2b126a68",
            ),
            (
                "link:https://news.example.ru/politics/2025/03/14/budget?id=1&b=2",
                "urn:uuid:f9539fce-a746-80e6-b72d-6f5ffafcabd3",
            ),
            (
                "item:az-news:hash:0123",
                "urn:uuid:b7f25e0f-44a8-8423-8fb7-bff4e3fcd33b",
            ),
            ("", "urn:uuid:e3b0c442-98fc-8c14-9afb-f4c8996fb924"),
            (
                "link:https://пример.рф/новость",
                "urn:uuid:96875f8d-69f7-8275-b9c0-754c10a50931",
            ),
        ] {
            assert_eq!(story_uid(key), uid, "{key}");
        }
        assert_eq!(
            item_key(None, None, "t", Some("body")),
            "hash:6873a545fdc434c619f03f4f71e33710"
        );
        assert_eq!(
            item_key(None, None, "Заголовок", None),
            "hash:5651ae91447059f8529927f0c495225c"
        );
        let published = chrono::DateTime::from_timestamp(1_741_944_600, 0);
        let item = Item {
            key: "guid:1".into(),
            story_key: "link:https://e.org/a".into(),
            guid: Some("1".into()),
            link: Some("https://e.org/a".into()),
            title: "Бюджет".into(),
            summary: Some("<p>s</p>".into()),
            content: None,
            authors: vec!["A".into()],
            categories: vec!["Политика".into()],
            sections: vec!["Политика".into()],
            published,
            updated: None,
            language: Some("ru".into()),
            enclosures: Vec::new(),
            content_hash: String::new(),
        };
        assert_eq!(content_hash(&item), "3a6b884efd156a129c9c9c1bc2dca3ff");
    }
}
