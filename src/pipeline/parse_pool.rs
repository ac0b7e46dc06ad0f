//! The threads that parse: one per core, each taking the next queued
//! document as soon as it finishes one.
//!
//! A parse is a burst of pure CPU (~0.7 ms for a 25-item feed). Run as a
//! blocking task behind a semaphore, every parse ended with two wake-ups
//! before the core had work again (the semaphore wakes the next poll's task,
//! which then wakes a blocking thread); on 2 cores those gaps left about a
//! tenth of the machine idle during a busy poll round. Here a thread that
//! finishes a parse finds the next document already queued and goes on.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

type Task = Box<dyn FnOnce() + Send>;

/// Why work given to the parse threads did not finish.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The threads could not be started.
    #[error("cannot start a parse thread: {0}")]
    Start(#[source] Arc<std::io::Error>),
    /// The threads are gone (the pool is shutting down).
    #[error("the parse threads have stopped")]
    Stopped,
    /// The thread running the work stopped before it answered.
    #[error("a parse thread stopped mid-task")]
    Lost,
    /// The work panicked; the panic's message.
    #[error("parser crashed: {0}")]
    Crashed(String),
}

/// A fixed set of parse threads fed from one queue. Threads start on first
/// use and stop once the pool is dropped and the queue is empty.
pub(super) struct ParsePool {
    threads: usize,
    /// The queue's sending end, or why the threads could not start (shared:
    /// every later call reports the same failure).
    queue: OnceLock<Result<mpsc::Sender<Task>, Arc<std::io::Error>>>,
}

impl ParsePool {
    /// A pool of `threads` threads (at least one).
    pub(super) fn new(threads: usize) -> ParsePool {
        ParsePool {
            threads: threads.max(1),
            queue: OnceLock::new(),
        }
    }

    /// Runs `work` on a pool thread and waits for its result. The queue is
    /// unbounded: its length is bounded by the polls holding a fetch slot,
    /// which is where their documents already sit. Errors say why the work
    /// did not finish (a panic in it, or no thread to run it).
    pub(super) async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, PoolError> {
        let queue = self
            .queue
            .get_or_init(|| self.start())
            .as_ref()
            .map_err(|e| PoolError::Start(Arc::clone(e)))?;
        let (reply, answer) = oneshot::channel();
        let task: Task = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = reply.send(result.map_err(|panic| panic_message(&*panic)));
        });
        queue.send(task).map_err(|_| PoolError::Stopped)?;
        answer
            .await
            .map_err(|_| PoolError::Lost)?
            .map_err(PoolError::Crashed)
    }

    fn start(&self) -> Result<mpsc::Sender<Task>, Arc<std::io::Error>> {
        let (sender, receiver) = mpsc::channel::<Task>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..self.threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("feedmerge-parse-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for a task,
                        // never while running one.
                        let next = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match next {
                            Ok(task) => task(),
                            Err(_) => break,
                        }
                    }
                })
                .map_err(Arc::new)?;
        }
        Ok(sender)
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_and_survives_a_panic_in_it() {
        let pool = ParsePool::new(2);
        assert_eq!(pool.run(|| 6 * 7).await.ok(), Some(42));
        let crashed = pool.run(|| -> u32 { panic!("bad feed") }).await;
        assert_eq!(
            crashed.map_err(|e| e.to_string()),
            Err("parser crashed: bad feed".to_string())
        );
        // The thread that caught the panic still takes work.
        let results = futures_util::future::join_all((0..8).map(|n| pool.run(move || n))).await;
        let results: Vec<_> = results.into_iter().map(Result::ok).collect();
        assert_eq!(results, (0..8).map(Some).collect::<Vec<_>>());
    }
}
