//! The stores a contract test runs against: SQLite in a temp dir, always,
//! and PostgreSQL when `FEEDMERGE_TEST_PG_URL` names a database, each test
//! in a schema of its own (`search_path` set on every pooled connection)
//! so tests run in parallel and leave nothing behind.
#![allow(dead_code)]

use feedmerge::store::Store;
use feedmerge::store::postgres::PgStore;
use feedmerge::store::sqlite::SqliteStore;
use std::sync::Arc;

/// The variable naming the test database.
pub const PG_URL: &str = "FEEDMERGE_TEST_PG_URL";

/// One store under test, with what it needs kept alive.
pub struct Backend {
    /// "sqlite" or "postgres".
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    /// The SQLite file's folder.
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL schema to drop afterwards.
    schema: Option<(String, String)>,
}

impl Backend {
    /// Drops the PostgreSQL schema (SQLite's folder goes with the value).
    pub async fn finish(self) {
        let Some((url, schema)) = self.schema else {
            return;
        };
        drop(self.store);
        drop_schema(&url, &schema).await;
    }
}

pub async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// Drops a schema [`pg_store`] made.
pub async fn drop_schema(url: &str, schema: &str) {
    if let Ok(client) = connect(url).await {
        let _ = client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await;
    }
}

/// The test database's URL, or why PostgreSQL is skipped (printed once per
/// test, so a run without it says so instead of passing silently).
pub fn pg_url(test: &str) -> Option<String> {
    match std::env::var(PG_URL) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "{test}: PostgreSQL skipped: {PG_URL} is not set (.ci/run sets it; e.g. \
                 postgres://feedmerge:feedmerge@127.0.0.1/feedmerge_test)"
            );
            None
        }
    }
}

/// `url` with every connection's `search_path` set to `schema`.
pub fn url_in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// A fresh, empty schema in the test database and a store in it.
pub async fn pg_store(url: &str, test: &str) -> (Arc<PgStore>, String, String) {
    let schema = format!(
        "t_{}_{}_{:x}",
        test.chars().take(20).collect::<String>(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
    .to_lowercase();
    let client = connect(url)
        .await
        .unwrap_or_else(|e| panic!("{PG_URL}={url}: cannot connect: {e}"));
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let scoped = url_in_schema(url, &schema);
    let store = PgStore::connect(&scoped, 4).await.unwrap();
    (Arc::new(store), url.to_string(), schema)
}

/// SQLite, then PostgreSQL when configured.
pub async fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("contract.db")).unwrap();
    let mut list = vec![Backend {
        name: "sqlite",
        store: Arc::new(sqlite),
        _dir: Some(dir),
        schema: None,
    }];
    if let Some(url) = pg_url(test) {
        let (store, url, schema) = pg_store(&url, test).await;
        list.push(Backend {
            name: "postgres",
            store,
            _dir: None,
            schema: Some((url, schema)),
        });
    }
    list
}
