//! The one writer: a thread that owns the only write connection and runs
//! jobs in order. Jobs that queue up while a commit is in progress are run
//! together under one `BEGIN … COMMIT` (group commit), each inside its own
//! savepoint, so every job stays atomic on its own while a burst of polls
//! costs one commit instead of one per source. A job's caller hears back
//! only after the commit that made its writes durable.

use super::super::StoreError;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

/// Told whether the transaction holding a job's writes committed.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// Runs on the writer thread; returns how to report its result.
type Job = Box<dyn FnOnce(&mut Connection) -> Reply + Send>;

/// Jobs queued before callers wait: backpressure instead of unbounded memory.
const QUEUE: usize = 64;
/// Most jobs sharing one commit, so one transaction never grows unbounded.
const GROUP: usize = 32;

/// Handle to the writer thread.
pub(super) struct Writer {
    sender: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Writer {
    /// Starts the thread, which owns `conn` until every handle is gone.
    pub(super) fn start(mut conn: Connection) -> std::io::Result<Writer> {
        let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("feedmerge-sqlite-writer".into())
            .spawn(move || {
                // Runs until every sender is dropped, so queued writes finish.
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    while batch.len() < GROUP {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_group(&mut conn, batch);
                }
                let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
            })?;
        Ok(Writer {
            sender: std::sync::Mutex::new(Some(tx)),
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Runs `f` on the writer thread and waits until its writes committed.
    /// `f` must keep its writes inside one savepoint (`conn.savepoint()`).
    pub(super) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(StoreError::WriterGone)?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            Box::new(move |commit: Result<(), String>| {
                let _ = tx.send(match (result, commit) {
                    (Err(e), _) => Err(e),
                    (Ok(r), Ok(())) => Ok(r),
                    (Ok(_), Err(reason)) => Err(StoreError::Commit(reason)),
                });
            })
        });
        sender.send(job).await.map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Stops accepting jobs, lets queued ones finish, waits for the thread.
    pub(super) fn close(&self) {
        self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn run_group(conn: &mut Connection, batch: Vec<Job>) {
    // Without an outer transaction each job's savepoint commits on its own,
    // which is still correct, only slower.
    let grouped = batch.len() > 1 && conn.execute_batch("BEGIN IMMEDIATE").is_ok();
    let replies: Vec<Reply> = batch.into_iter().map(|job| job(conn)).collect();
    let committed = if grouped {
        conn.execute_batch("COMMIT").map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        })
    } else {
        Ok(())
    };
    for reply in replies {
        reply(committed.clone());
    }
}
