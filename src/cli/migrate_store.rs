//! `feedmerge migrate-store --from PATH_OR_URL --to PATH_OR_URL`: a whole
//! store copied between SQLite and PostgreSQL (see `store::copy`). Needs no
//! config: both ends are on the command line. Stop the daemons using the
//! source first, so nothing is written to it during the copy.

use crate::store::StoreError;
use crate::store::copy::{self, Endpoint};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Connections the copy uses on a PostgreSQL end.
const POOL: usize = 2;

fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

fn shown(s: &str) -> String {
    crate::model::redact::redact(s).into_owned()
}

/// The source, opened read-only.
async fn open_from(from: &str) -> Result<Endpoint, String> {
    if is_url(from) {
        let pg = PgStore::connect_read_only(from, POOL)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(Endpoint::Postgres(Arc::new(pg)));
    }
    let path = Path::new(from).to_path_buf();
    let opened = tokio::task::spawn_blocking(move || SqliteStore::open_read_only(&path, &[]))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    match opened {
        Some(s) => Ok(Endpoint::Sqlite(Arc::new(s))),
        None => Err(format!("no database at {from}")),
    }
}

/// The target, created and migrated if new.
async fn open_to(to: &str) -> Result<Endpoint, StoreError> {
    if is_url(to) {
        return Ok(Endpoint::Postgres(Arc::new(
            PgStore::connect(to, POOL).await?,
        )));
    }
    let path = Path::new(to).to_path_buf();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
        .await
        .map_err(|e| StoreError::Open {
            path: to.to_string(),
            reason: e.to_string(),
        })??;
    Ok(Endpoint::Sqlite(Arc::new(store)))
}

fn close(e: Endpoint) {
    if let Endpoint::Sqlite(s) = e {
        s.close();
    }
}

/// Runs the command; prints one line per table copied.
pub async fn migrate_store(from: &str, to: &str) -> ExitCode {
    if from == to {
        eprintln!("feedmerge: migrate-store: --from and --to name the same store");
        return ExitCode::from(2);
    }
    let source = match open_from(from).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("feedmerge: migrate-store: cannot read {}: {e}", shown(from));
            return ExitCode::FAILURE;
        }
    };
    let target = match open_to(to).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("feedmerge: migrate-store: cannot open {}: {e}", shown(to));
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    let copied = copy::copy(&source, &target, |_, _| {}).await;
    let code = match copied {
        Ok(report) => {
            for (table, rows) in &report {
                println!("{table}: {rows} rows");
            }
            println!(
                "{} copied to {} in {:.1}s",
                shown(from),
                shown(to),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("feedmerge: migrate-store to {}: {e}", shown(to));
            ExitCode::FAILURE
        }
    };
    let _ = tokio::task::spawn_blocking(move || {
        close(source);
        close(target);
    })
    .await;
    code
}
