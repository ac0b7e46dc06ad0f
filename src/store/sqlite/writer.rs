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
//!
//! A storage fault (a full disk, a file that refuses writes, an I/O error)
//! is nobody's job's fault: the group is rolled back once, if SQLite has
//! not already done so, every job of it hears the fault by cause and path,
//! and the store's health says so until a write commits again.

use super::super::StoreError;
use super::health::{Fault, Health, classify};
use super::search::Transactions;
use rusqlite::Connection;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A queued write: runs (maybe twice) on the writer thread, then hears
/// whether the transaction holding its last run committed.
trait Job: Send {
    /// Applies the job's writes inside the caller's transaction. `Err`
    /// when it failed (the caller then rolls back), with the storage fault
    /// when that was the cause rather than the job.
    fn apply(&mut self, conn: &Connection, health: &Health) -> Result<(), Option<Fault>>;
    /// Reports the last run's result, given how its transaction ended.
    fn finish(self: Box<Self>, commit: Result<(), &Fault>, health: &Health);
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
    fn apply(&mut self, conn: &Connection, health: &Health) -> Result<(), Option<Fault>> {
        let result = (self.work)(conn);
        let fault = match &result {
            Ok(_) => None,
            Err(StoreError::Sqlite(e)) => classify(health.path(), e),
            Err(_) => None,
        };
        let outcome = match (&result, &fault) {
            (Ok(_), _) => Ok(()),
            (Err(_), f) => Err(f.clone()),
        };
        // The caller hears the cause and the path, not SQLite's code.
        self.result = Some(match fault {
            Some(f) => Err(f.error(health.path())),
            None => result,
        });
        outcome
    }

    fn finish(self: Box<Self>, commit: Result<(), &Fault>, health: &Health) {
        let result = match (self.result, commit) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(r)), Ok(())) => Ok(r),
            (_, Err(fault)) => Err(fault.error(health.path())),
            (None, Ok(())) => Err(StoreError::WriterGone),
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
    health: Arc<Health>,
}

impl Writer {
    /// Starts the thread, which owns `conn` until every handle is gone.
    /// Every outcome is reported to `health`.
    pub(super) fn start(conn: Connection, health: Arc<Health>) -> std::io::Result<Writer> {
        let (tx, mut rx) = mpsc::channel::<Box<dyn Job>>(QUEUE);
        let thread_health = Arc::clone(&health);
        let thread = std::thread::Builder::new()
            .name("feedmerge-sqlite-writer".into())
            .spawn(move || {
                let health = thread_health;
                // Runs until every sender is dropped, so queued writes finish.
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    while batch.len() < GROUP {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_group(&conn, &health, batch);
                }
                // Not into a file that is no longer the database.
                if health.replaced().is_none() {
                    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
                }
            })?;
        Ok(Writer {
            sender: std::sync::Mutex::new(Some(tx)),
            thread: std::sync::Mutex::new(Some(thread)),
            health,
        })
    }

    /// Runs `work` on the writer thread inside a transaction and waits until
    /// its writes committed. `work` may run twice (see the module docs); the
    /// result of its last run is returned.
    pub(super) async fn run<R: Send + 'static>(
        &self,
        work: impl FnMut(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        if let Some(fault) = self.health.replaced() {
            return Err(fault.error(self.health.path()));
        }
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

/// How a transaction ended.
enum Ended {
    /// Every job succeeded and the commit held.
    Committed,
    /// A job failed on its own account; everything was rolled back.
    RolledBack,
    /// Storage failed (the transaction could not begin or commit, a job
    /// hit a storage fault, or SQLite ended the transaction itself);
    /// nothing of it is stored.
    Fault(Fault),
}

/// Runs `batch` in one transaction; if a job fails, rolls all of it back
/// and runs each job in a transaction of its own, so one bad job never
/// costs the others their writes. A storage fault is no job's fault:
/// running the jobs again alone would fail the same way, so every job of
/// the group hears it. Before anything, the path must still name the
/// file the writer has open: nothing is written into a deleted or
/// replaced database.
fn run_group(conn: &Connection, health: &Health, mut batch: Vec<Box<dyn Job>>) {
    if let Some(fault) = health.check_file() {
        return finish(batch, Err(&fault), health);
    }
    if batch.len() > 1 {
        match in_transaction(conn, health, &mut batch) {
            Ended::Committed => {
                health.write_ok();
                return finish(batch, Ok(()), health);
            }
            Ended::Fault(fault) => {
                health.write_failed(&fault);
                return finish(batch, Err(&fault), health);
            }
            Ended::RolledBack => {}
        }
    }
    for mut job in batch {
        match in_transaction(conn, health, std::slice::from_mut(&mut job)) {
            Ended::Committed => {
                health.write_ok();
                job.finish(Ok(()), health);
            }
            // The job's own error is its result.
            Ended::RolledBack => job.finish(Ok(()), health),
            Ended::Fault(fault) => {
                health.write_failed(&fault);
                job.finish(Err(&fault), health);
            }
        }
    }
}

/// Applies `jobs` in one transaction, committed when every job succeeded
/// and rolled back otherwise.
fn in_transaction(conn: &Connection, health: &Health, jobs: &mut [Box<dyn Job>]) -> Ended {
    let fault_of = |e: &rusqlite::Error| {
        classify(health.path(), e).unwrap_or_else(|| Fault::Commit(e.to_string()))
    };
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        rollback(conn);
        return Ended::Fault(fault_of(&e));
    }
    Transactions::begin();
    let ended = apply_and_commit(conn, jobs, fault_of, health);
    Transactions::ended(matches!(ended, Ended::Committed));
    ended
}

/// The jobs of the transaction `in_transaction` began, then its end.
fn apply_and_commit(
    conn: &Connection,
    jobs: &mut [Box<dyn Job>],
    fault_of: impl Fn(&rusqlite::Error) -> Fault,
    health: &Health,
) -> Ended {
    // Every job runs, even after a failure, so each has a result to report
    // if this was its own transaction; but not after a storage fault, and
    // not once SQLite has ended the transaction by itself (it does on a
    // full disk or an I/O error): later jobs would run outside any
    // transaction, each statement committing on its own.
    let mut all_ok = true;
    for job in jobs.iter_mut() {
        match job.apply(conn, health) {
            Ok(()) => {}
            Err(Some(fault)) => {
                rollback(conn);
                return Ended::Fault(fault);
            }
            Err(None) => all_ok = false,
        }
        if conn.is_autocommit() {
            return Ended::Fault(Fault::Commit(
                "SQLite rolled the transaction back on its own".into(),
            ));
        }
    }
    if !all_ok {
        rollback(conn);
        return Ended::RolledBack;
    }
    // The keyword index's rows of this transaction, in key order (see
    // `search::Transactions`); failing, they take the transaction down.
    if let Err(e) = Transactions::flush(conn) {
        rollback(conn);
        return Ended::Fault(fault_of(&e));
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => Ended::Committed,
        Err(e) => {
            // A failed COMMIT may leave the transaction open (busy) or may
            // have ended it already (full disk): roll back only the former.
            rollback(conn);
            Ended::Fault(fault_of(&e))
        }
    }
}

/// Ends the open transaction, if one is still open.
fn rollback(conn: &Connection) {
    if conn.is_autocommit() {
        return;
    }
    if let Err(e) = conn.execute_batch("ROLLBACK") {
        tracing::warn!(error = %e, "rollback failed");
    }
}

fn finish(batch: Vec<Box<dyn Job>>, commit: Result<(), &Fault>, health: &Health) {
    for job in batch {
        job.finish(commit, health);
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
        let health = Arc::new(Health::new(&path));
        let writer = std::sync::Arc::new(Writer::start(conn, health).unwrap());
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

    /// A full disk (here SQLite's page limit, which fails the same way)
    /// fails the whole group once, each job hearing "disk full" and the
    /// path, with no rollback of a transaction SQLite already ended; the
    /// store reports the fault until a write commits again.
    #[tokio::test]
    async fn a_full_disk_fails_the_group_by_name_and_writing_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("full.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v BLOB NOT NULL)")
            .unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages + 1)
            .unwrap();
        let health = Arc::new(Health::new(&path));
        let writer = Arc::new(Writer::start(conn, Arc::clone(&health)).unwrap());
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let mut hold = Some(hold);
        let first = tokio::spawn({
            let writer = Arc::clone(&writer);
            async move {
                writer
                    .run(move |_| {
                        if let Some(hold) = hold.take() {
                            let _ = hold.recv();
                        }
                        Ok(())
                    })
                    .await
            }
        });
        let mut jobs = Vec::new();
        for _ in 0..3 {
            let writer = Arc::clone(&writer);
            jobs.push(tokio::spawn(async move {
                writer
                    .run(|conn| {
                        conn.execute("INSERT INTO t (v) VALUES (zeroblob(200000))", [])?;
                        Ok(())
                    })
                    .await
            }));
        }
        tokio::task::yield_now().await;
        release.send(()).unwrap();
        let _ = first.await.unwrap();
        for job in jobs {
            let err = job.await.unwrap().unwrap_err();
            assert!(
                matches!(&err, StoreError::DiskFull { path: p } if p.ends_with("full.db")),
                "{err}"
            );
        }
        assert_eq!(health.fault(), Some(Fault::DiskFull));

        writer
            .run(|conn| {
                conn.pragma_update(None, "max_page_count", 1_000_000)?;
                conn.execute("INSERT INTO t (v) VALUES (zeroblob(200000))", [])?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(health.fault(), None, "a commit clears it");
        writer.close();
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "only the write that committed");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}
