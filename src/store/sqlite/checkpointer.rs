//! WAL checkpoints off the writer's path. A checkpoint copies committed
//! pages from the WAL back into the database file; done by the writer (as
//! SQLite's automatic checkpoint does) it stalls every poll queued behind
//! it. Here a thread with its own connection checkpoints passively every
//! couple of seconds: SQLite lets that run alongside the writer and the
//! readers, copying only what no reader still needs.
//!
//! On the same tick it checks that the database's path still names the
//! file the store opened, so a database deleted or replaced under a
//! running daemon is reported (and written no more) within seconds even
//! when no poll is due.

use super::super::StoreError;
use super::health::{Health, classify};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// How often the WAL is copied back.
const EVERY: Duration = Duration::from_secs(2);

/// Handle to the checkpoint thread; dropping it stops the thread.
pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`, reporting to `health`.
    pub(super) fn start(path: &Path, health: Arc<Health>) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("feedmerge-sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    if health.check_file().is_some() {
                        continue;
                    }
                    // (busy, frames in the WAL, frames copied): a busy or
                    // partial pass is simply retried on the next tick.
                    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        Ok(()) => health.checkpoint_ok(),
                        Err(e) => match classify(health.path(), &e) {
                            Some(fault) => health.checkpoint_failed(&fault),
                            None => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
                        },
                    }
                }
            })
            .map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub(super) fn stop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
