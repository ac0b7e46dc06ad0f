//! `feedmerge migrate-store`: copies a whole store between backends
//! (SQLite to PostgreSQL or back), table by table in primary-key order, a
//! page at a time, keeping every id: sources with their schedule and
//! validators, stories, items, sections, tombstones and article pages. Entry
//! ids and paging positions are therefore unchanged, and a reader sees the
//! same feeds after the move. A target that holds anything is refused.
//!
//! The copied columns are the ones both schemas share; PostgreSQL's own
//! (a source's host and lease) are filled in by its defaults and its next
//! `register_sources`.

use super::StoreError;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use std::sync::Arc;

/// One column value, as both backends store them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer (ids, times in UTC seconds, counts).
    Int(i64),
    /// Text (names, URLs, JSON lists, HTML).
    Text(String),
    /// A real number (a cluster member's score).
    Real(f64),
}

/// A table as copied: its name, the columns both backends have, and how
/// many leading columns make its primary key (the copy's order and cursor).
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    /// Table name.
    pub name: &'static str,
    /// Columns copied, primary key first.
    pub columns: &'static [&'static str],
    /// Leading columns that are the primary key.
    pub key: usize,
}

/// Every table, parents before children (foreign keys hold at each step).
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "sources",
        columns: &[
            "id",
            "name",
            "url",
            "config_title",
            "title",
            "site_url",
            "etag",
            "last_modified",
            "last_attempt",
            "last_success",
            "last_status",
            "last_error",
            "consecutive_failures",
            "next_check_at",
            "failing_since",
            "moved_to",
        ],
        key: 1,
    },
    TableSpec {
        name: "stories",
        columns: &[
            "id",
            "story_key",
            "uid",
            "source_id",
            "title",
            "link",
            "summary",
            "content",
            "authors",
            "categories",
            "language",
            "published",
            "updated",
            "first_seen",
            "enclosures",
        ],
        key: 1,
    },
    TableSpec {
        name: "items",
        columns: &[
            "source_id",
            "item_key",
            "story_id",
            "content_hash",
            "guid",
            "first_seen",
        ],
        key: 2,
    },
    TableSpec {
        name: "story_sections",
        columns: &["section_key", "published", "story_id", "name"],
        key: 3,
    },
    TableSpec {
        name: "tombstones",
        columns: &["id", "story_key", "last_listed"],
        key: 1,
    },
    TableSpec {
        name: "item_tombstones",
        columns: &["source_id", "item_key", "tombstone_id"],
        key: 2,
    },
    TableSpec {
        name: "article_pages",
        columns: &[
            "source_id",
            "link",
            "attempts",
            "extract",
            "last_error",
            "updated_at",
        ],
        key: 2,
    },
    TableSpec {
        name: "cluster_members",
        columns: &["story_id", "cluster_id", "rule", "score"],
        key: 1,
    },
];

/// Rows copied per page (one transaction on the target each).
const PAGE: usize = 2_000;

/// `SELECT` of one page of `t` after the key `after` (placeholders `?N`
/// or `$N`, by `dollar`).
pub(crate) fn page_sql(t: &TableSpec, after: bool, dollar: bool) -> String {
    let cols = t.columns.join(", ");
    let key = t.columns[..t.key].join(", ");
    let mark = |i: usize| {
        if dollar {
            format!("${i}")
        } else {
            format!("?{i}")
        }
    };
    let filter = if after {
        let marks: Vec<String> = (1..=t.key).map(mark).collect();
        format!("WHERE ({key}) > ({})", marks.join(", "))
    } else {
        String::new()
    };
    format!(
        "SELECT {cols} FROM {} {filter} ORDER BY {key} LIMIT {}",
        t.name,
        mark(if after { t.key + 1 } else { 1 })
    )
}

/// `INSERT` of one row of `t`.
pub(crate) fn insert_sql(t: &TableSpec, dollar: bool) -> String {
    let marks: Vec<String> = (1..=t.columns.len())
        .map(|i| {
            if dollar {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        t.name,
        t.columns.join(", "),
        marks.join(", ")
    )
}

/// One end of a copy.
#[derive(Clone)]
pub enum Endpoint {
    /// An SQLite file.
    Sqlite(Arc<SqliteStore>),
    /// A PostgreSQL database.
    Postgres(Arc<PgStore>),
}

impl Endpoint {
    async fn page(
        &self,
        t: &'static TableSpec,
        after: Option<Vec<Cell>>,
        limit: usize,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        match self {
            Endpoint::Sqlite(s) => s.export_page(t, after, limit).await,
            Endpoint::Postgres(p) => p.export_page(t, after, limit).await,
        }
    }

    async fn insert(&self, t: &'static TableSpec, rows: Vec<Vec<Cell>>) -> Result<(), StoreError> {
        match self {
            Endpoint::Sqlite(s) => s.import_page(t, rows).await,
            Endpoint::Postgres(p) => p.import_page(t, rows).await,
        }
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        for t in TABLES {
            if !self.page(t, None, 1).await?.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn finish(&self) -> Result<(), StoreError> {
        match self {
            Endpoint::Sqlite(_) => Ok(()),
            Endpoint::Postgres(p) => p.after_import().await,
        }
    }
}

/// Rows copied per table, in [`TABLES`] order.
pub type CopyReport = Vec<(&'static str, u64)>;

/// Why a copy did not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The target already holds a store.
    #[error(
        "the target is not empty ({0} has rows); migrate-store copies into a new, empty store only"
    )]
    NotEmpty(&'static str),
    /// Reading the source or writing the target failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Copies every table of `from` into `to`, which must be empty; calls
/// `progress` after each page with the table and rows so far.
pub async fn copy(
    from: &Endpoint,
    to: &Endpoint,
    mut progress: impl FnMut(&str, u64),
) -> Result<CopyReport, CopyError> {
    for t in TABLES {
        if !to.page(t, None, 1).await?.is_empty() {
            return Err(CopyError::NotEmpty(t.name));
        }
    }
    debug_assert!(to.is_empty().await.unwrap_or(true));
    let mut report = Vec::new();
    for t in TABLES {
        let mut after = None;
        let mut copied = 0u64;
        loop {
            let rows = from.page(t, after.take(), PAGE).await?;
            let n = rows.len();
            if n == 0 {
                break;
            }
            after = rows.last().map(|r| r[..t.key].to_vec());
            to.insert(t, rows).await?;
            copied += n as u64;
            progress(t.name, copied);
            if n < PAGE {
                break;
            }
        }
        report.push((t.name, copied));
    }
    to.finish().await?;
    Ok(report)
}
