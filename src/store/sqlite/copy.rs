//! The SQLite end of `migrate-store` (see `store::copy`): pages of a table
//! read in key order, and pages written on the writer in one transaction.

use super::super::StoreError;
use super::super::copy::{Cell, TableSpec, insert_sql, page_sql};
use super::SqliteStore;
use rusqlite::types::Value;

fn to_value(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Int(i) => Value::Integer(*i),
        Cell::Text(t) => Value::Text(t.clone()),
        Cell::Real(f) => Value::Real(*f),
    }
}

fn to_cell(v: Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Integer(i) => Cell::Int(i),
        Value::Real(f) => Cell::Real(f),
        // Never stored; kept readable rather than refused.
        Value::Text(t) => Cell::Text(t),
        Value::Blob(b) => Cell::Text(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// Gives copied stories their keyword-index rows (`story_text`, which is
/// derived, so not copied): without them `q=` would miss every story that
/// came over.
fn index_copied_stories(
    conn: &rusqlite::Connection,
    t: &TableSpec,
    rows: &[Vec<Cell>],
) -> Result<(), StoreError> {
    let at = |name: &str| t.columns.iter().position(|c| *c == name);
    let (Some(id), Some(title), Some(published)) = (at("id"), at("title"), at("published")) else {
        return Ok(());
    };
    let summary = at("summary");
    let text_of = |c: Option<&Cell>| match c {
        Some(Cell::Text(s)) => Some(s.clone()),
        _ => None,
    };
    for row in rows {
        let (Some(Cell::Int(story)), Some(Cell::Int(at))) = (row.get(id), row.get(published))
        else {
            continue;
        };
        let title = text_of(row.get(title)).unwrap_or_default();
        let summary = summary.and_then(|i| text_of(row.get(i)));
        let text = crate::model::text::index_text(&title, summary.as_deref());
        super::search::index(conn, *story, *at, &text)?;
    }
    Ok(())
}

impl SqliteStore {
    /// Up to `limit` rows of `t` after the key `after`, in key order.
    pub async fn export_page(
        &self,
        t: &'static TableSpec,
        after: Option<Vec<Cell>>,
        limit: usize,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        self.read(move |conn| {
            let sql = page_sql(t, after.is_some(), false);
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut params: Vec<Value> = after.iter().flatten().map(to_value).collect();
            params.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
            let width = t.columns.len();
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                (0..width)
                    .map(|i| r.get::<_, Value>(i).map(to_cell))
                    .collect::<rusqlite::Result<Vec<Cell>>>()
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Writes `rows` of `t` as they are (ids included), in one transaction.
    pub async fn import_page(
        &self,
        t: &'static TableSpec,
        rows: Vec<Vec<Cell>>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let mut insert = conn.prepare_cached(&insert_sql(t, false))?;
            for row in &rows {
                insert.execute(rusqlite::params_from_iter(row.iter().map(to_value)))?;
            }
            if t.name == "stories" {
                index_copied_stories(conn, t, &rows)?;
            }
            Ok(())
        })
        .await
    }
}
