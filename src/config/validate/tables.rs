//! The document cut into its tables, each deserialized on its own so that
//! one typo does not hide the next. `deny_unknown_fields` on the `Raw*`
//! structs makes a misspelt key a problem here, located by the TOML parser.

use crate::config::checks::Ctx;
use crate::config::raw::{
    RawClustering, RawFeed, RawPoll, RawSections, RawServer, RawSource, RawStorage, RawWorker,
};
use crate::config::spans::Keys;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// One table as written: its keys' positions and its deserialized value.
pub(super) struct Table<T> {
    pub(super) keys: Keys,
    pub(super) raw: T,
}

impl<T: Default> Table<T> {
    /// A table left out of the file: all defaults.
    fn absent(name: &str) -> Table<T> {
        Table {
            keys: Keys::absent(name),
            raw: T::default(),
        }
    }
}

/// Every table of the file. A table that fails to deserialize is left at
/// its defaults (its problem is recorded), so the others are still checked.
pub(super) struct Tables {
    pub(super) storage: Table<RawStorage>,
    pub(super) server: Table<RawServer>,
    pub(super) poll: Table<RawPoll>,
    pub(super) sections: Table<RawSections>,
    pub(super) worker: Table<RawWorker>,
    pub(super) clustering: Table<RawClustering>,
    /// Entries that deserialized; their names keep the entry's index in the
    /// file, so a broken entry does not shift the names of the ones after it.
    pub(super) sources: Vec<Table<RawSource>>,
    pub(super) feeds: Vec<Table<RawFeed>>,
}

impl Tables {
    /// Deserializes each top-level table and each array entry on its own.
    pub(super) fn split(cx: &mut Ctx<'_>, doc: DeTable<'_>) -> Tables {
        let mut tables = Tables {
            storage: Table::absent("storage"),
            server: Table::absent("server"),
            poll: Table::absent("poll"),
            sections: Table::absent("sections"),
            worker: Table::absent("worker"),
            clustering: Table::absent("clustering"),
            sources: Vec::new(),
            feeds: Vec::new(),
        };
        for (key, value) in doc {
            match key.get_ref().as_ref() {
                "storage" => tables.storage = single(cx, "storage", value),
                "server" => tables.server = single(cx, "server", value),
                "poll" => tables.poll = single(cx, "poll", value),
                "sections" => tables.sections = single(cx, "sections", value),
                "worker" => tables.worker = single(cx, "worker", value),
                "clustering" => tables.clustering = single(cx, "clustering", value),
                "source" => tables.sources = array(cx, "source", value),
                "feed" => tables.feeds = array(cx, "feed", value),
                _ => unknown(cx, &key),
            }
        }
        tables
    }
}

/// `[name]`: its keys, and its value or (after a problem) the defaults.
fn single<T>(cx: &mut Ctx<'_>, name: &str, value: Spanned<DeValue<'_>>) -> Table<T>
where
    T: Default + for<'de> Deserialize<'de>,
{
    Table {
        keys: Keys::of(name, &value),
        raw: cx.de(name, value).unwrap_or_default(),
    }
}

/// `[[name]]`: the entries that deserialize, each named `name[i]`.
fn array<T>(cx: &mut Ctx<'_>, name: &str, value: Spanned<DeValue<'_>>) -> Vec<Table<T>>
where
    T: for<'de> Deserialize<'de>,
{
    let start = value.span().start;
    let DeValue::Array(entries) = value.into_inner() else {
        cx.problem(
            name,
            Some(start),
            format!("must be an array of tables: [[{name}]]"),
        );
        return Vec::new();
    };
    let mut tables = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let keys = Keys::of(&format!("{name}[{i}]"), &entry);
        if let Some(raw) = cx.de(keys.name(), entry) {
            tables.push(Table { keys, raw });
        }
    }
    tables
}

fn unknown(cx: &mut Ctx<'_>, key: &Spanned<DeString<'_>>) {
    cx.problem(
        key.get_ref().to_string(),
        Some(key.span().start),
        "unknown key; expected one of storage, server, poll, sections, worker, clustering, source, feed",
    );
}
