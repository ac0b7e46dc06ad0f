//! The one writer: a thread that owns the only write connection and runs
//! jobs in order. Jobs that queue up while a commit is in progress run
//! together under one `BEGIN … COMMIT` (group commit), so a burst of polls
//! costs one commit instead of one per source. A job's caller hears back
//! only after the commit that made its writes durable.
//!
//! Every job stays atomic on its own without a savepoint each (those copy
//! every page a job touches into a sub-journal, a fifth of the writer's
//! time on a busy poll): if any job in a group fails, the whole group rolls
//! back and each job runs again in a transaction of its own. That is why a
//! job may run twice, and why it borrows its inputs rather than taking them.

use super::super::StoreError;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

/// A queued write: runs (maybe twice) on the writer thread, then hears
/// whether the transaction holding its last run committed.
trait Job: Send {
    /// Applies the job's writes inside the caller's transaction; false when
    /// it failed (the caller then rolls back).
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Reports the last run's result, given how its transaction ended.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

/// A job built from a closure and the channel its caller waits on.
struct Pending<F, R> {
    work: F,
    result: Option<Result<R, StoreError>>,
    reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<F, R> Job for Pending<F, R>
where
    F: FnMut(&Connection) -> Result<R, StoreError> + Send,
    R: Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        let result = (self.work)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let result = match (self.result, commit) {
            (None, _) => Err(StoreError::WriterGone),
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(r)), Ok(())) => Ok(r),
            (Some(Ok(_)), Err(reason)) => Err(StoreError::Commit(reason)),
        };
        let _ = self.reply.send(result);
    }
}

/// Jobs queued before callers wait: backpressure instead of unbounded memory.
const QUEUE: usize = 64;
/// Most jobs sharing one commit, so one transaction never grows unbounded.
const GROUP: usize = 32;

/// Handle to the writer thread.
pub(super) struct Writer {
    sender: std::sync::Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Writer {
    /// Starts the thread, which owns `conn` until every handle is gone.
    pub(super) fn start(conn: Connection) -> std::io::Result<Writer> {
        let (tx, mut rx) = mpsc::channel::<Box<dyn Job>>(QUEUE);
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
                    run_group(&conn, batch);
                }
                let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
            })?;
        Ok(Writer {
            sender: std::sync::Mutex::new(Some(tx)),
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` on the writer thread inside a transaction and waits until
    /// its writes committed. `work` may run twice (see the module docs); the
    /// result of its last run is returned.
    pub(super) async fn run<R: Send + 'static>(
        &self,
        work: impl FnMut(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(StoreError::WriterGone)?;
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work,
            result: None,
            reply,
        });
        sender.send(job).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Stops accepting jobs, lets queued ones finish, waits for the thread.
    pub(super) fn close(&self) {
        self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// Runs `batch` in one transaction; if any job fails, rolls all of it back
/// and runs each job in a transaction of its own, so one bad job never
/// costs the others their writes.
fn run_group(conn: &Connection, mut batch: Vec<Box<dyn Job>>) {
    if batch.len() > 1 {
        match in_transaction(conn, &mut batch) {
            Ok(true) => return finish(batch, Ok(())),
            // A failed COMMIT is the disk's or the database's fault, not a
            // job's: running them again alone would fail the same way.
            Err(reason) => return finish(batch, Err(reason)),
            Ok(false) => {}
        }
    }
    for mut job in batch {
        let commit = in_transaction(conn, std::slice::from_mut(&mut job)).map(|_| ());
        job.finish(commit);
    }
}

/// Applies `jobs` in one transaction: committed and `Ok(true)` when every
/// job succeeded, rolled back and `Ok(false)` when one failed, `Err` when
/// the transaction itself could not begin or commit.
fn in_transaction(conn: &Connection, jobs: &mut [Box<dyn Job>]) -> Result<bool, String> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string())?;
    // Every job runs, even after a failure, so each has a result to report
    // if this was its own transaction.
    let all_ok = jobs.iter_mut().fold(true, |ok, job| job.apply(conn) & ok);
    let end = if all_ok { "COMMIT" } else { "ROLLBACK" };
    conn.execute_batch(end).map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        e.to_string()
    })?;
    Ok(all_ok)
}

fn finish(batch: Vec<Box<dyn Job>>, commit: Result<(), String>) {
    for job in batch {
        job.finish(commit.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(path: &std::path::Path) -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// One failing job in a group rolls back its own writes only: the
    /// others, retried alone, are stored and told so.
    #[tokio::test]
    async fn a_failing_job_costs_only_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT NOT NULL)")
            .unwrap();
        let writer = std::sync::Arc::new(Writer::start(conn).unwrap());
        // Hold the writer on a first job so the next three queue up and run
        // as one group.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let mut hold = Some(hold);
        let first = tokio::spawn({
            let writer = std::sync::Arc::clone(&writer);
            async move {
                writer
                    .run(move |_| {
                        // Waits on its first run only: it may run again.
                        if let Some(hold) = hold.take() {
                            let _ = hold.recv();
                        }
                        Ok(())
                    })
                    .await
            }
        });
        let mut jobs = Vec::new();
        for name in ["a", "bad", "c"] {
            let writer = std::sync::Arc::clone(&writer);
            jobs.push(tokio::spawn(async move {
                writer
                    .run(move |conn| {
                        conn.execute("INSERT INTO t (v) VALUES (?1)", [name])?;
                        if name == "bad" {
                            // Half-done: its row above must not survive.
                            conn.execute("INSERT INTO missing (v) VALUES (1)", [])?;
                        }
                        Ok(name)
                    })
                    .await
            }));
        }
        tokio::task::yield_now().await;
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        let mut results = Vec::new();
        for job in jobs {
            results.push(job.await.unwrap().map_err(|e| e.to_string()));
        }
        assert_eq!(results[0], Ok("a"));
        assert!(results[1].as_ref().is_err_and(|e| e.contains("missing")));
        assert_eq!(results[2], Ok("c"));
        writer.close();
        assert_eq!(rows(&path), ["a", "c"]);
    }
}
