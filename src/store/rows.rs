//! The columns both backends derive from an item before writing it (JSON
//! lists, the story's uid, folded section keys): computed once, on the
//! caller's thread, before a transaction that may run more than once, so
//! the writer spends its time on SQL only and both stores write the same
//! text.

use super::{PollRecord, PollResult};
use crate::model::ids::story_uid;
use crate::model::sections;
use crate::model::text::index_text;

/// The derived columns of one item.
pub(crate) struct ItemRow {
    pub(crate) uid: String,
    pub(crate) authors: String,
    pub(crate) categories: String,
    pub(crate) enclosures: String,
    /// (folded key, name as configured) per section.
    pub(crate) sections: Vec<(String, String)>,
    /// What the keyword index holds of the story, its terms
    /// ([`crate::model::text::index_text`]).
    pub(crate) index_text: String,
}

/// One [`ItemRow`] per item of a fetched poll (none for other results).
pub(crate) fn prepare(record: &PollRecord) -> Vec<ItemRow> {
    let PollResult::Fetched { items, .. } = &record.result else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| ItemRow {
            uid: story_uid(&item.story_key),
            authors: json(&item.authors),
            categories: json(&item.categories),
            enclosures: json(&item.enclosures),
            sections: item
                .sections
                .iter()
                .map(|name| (sections::fold(name), name.clone()))
                .collect(),
            index_text: index_text(&item.title, item.summary.as_deref()),
        })
        .collect()
}

/// JSON text of a list column, `[]` should a value not serialize.
pub(crate) fn json<T: serde::Serialize>(list: &[T]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_string())
}
