//! CPU work that must not take cores from the work that answers people:
//! threads of their own whose scheduling priority is lowered, so when the
//! cores are contended the kernel runs the tokio workers first and these
//! threads take what is left.
//!
//! Two pools use it:
//! - **renders** (`server`, nice [`RENDER_NICE`]). An uncached answer costs
//!   milliseconds of CPU (the document, its hash, gzip and brotli). Done on
//!   a tokio worker, a flood of uncached filtered requests kept both cores
//!   busy, and `/healthz` and cached answers, which never wait for a render
//!   slot, still waited for a core (README: p99 171 ms under 16 flooding
//!   clients).
//! - **clustering** (`pipeline`, nice [`CLUSTER_NICE`]). A signature per new
//!   story; in a first round of 1,000 sources it took a core from the
//!   polls (round 1 at 1.6× its wall time).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The niceness of render threads: with CFS weights, a nice-0 thread that
/// wakes gets about nine tenths of a contended core against one of them.
pub const RENDER_NICE: i32 = 10;

/// The niceness of the clustering thread: the lowest, since placing
/// stories can lag behind the polls without anyone waiting for it (a
/// nice-0 thread gets about 98 % of a contended core against it).
pub const CLUSTER_NICE: i32 = 19;

type Job = Box<dyn FnOnce() + Send>;

/// Threads of lowered priority. Cloning shares them; they end when the
/// last clone is dropped and the queue has drained.
#[derive(Clone)]
pub struct Pool {
    jobs: mpsc::Sender<Job>,
}

impl Pool {
    /// `threads` threads (at least one) named `{name}-{n}`, at niceness
    /// `nice`.
    pub fn new(name: &str, threads: usize, nice: i32) -> Pool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    lower_priority(nice);
                    loop {
                        // The lock is held only while taking a job.
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                // Fewer threads than asked still work; none at all is
                // handled in `run`.
                tracing::warn!(thread = %name, error = %e, "cannot start a background thread");
            }
        }
        Pool { jobs }
    }

    /// Runs `f` on a pool thread and waits for its result. Should no pool
    /// thread run (none could be started, or one panicked while holding
    /// the job), `f` runs on a blocking thread instead, so no work is
    /// lost.
    pub async fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let f = Arc::new(Mutex::new(Some(f)));
        let job_f = Arc::clone(&f);
        let job: Job = Box::new(move || {
            let f = job_f.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(f) = f {
                let _ = tx.send(f());
            }
        });
        if self.jobs.send(job).is_ok()
            && let Ok(r) = rx.await
        {
            return r;
        }
        let f = f.lock().unwrap_or_else(|e| e.into_inner()).take();
        match f {
            Some(f) => match tokio::task::spawn_blocking(f).await {
                Ok(r) => r,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            },
            // The job took it and panicked: as `f` itself would have on
            // the caller's thread.
            None => panic!("a background job panicked"),
        }
    }
}

/// Lowers the calling thread's scheduling priority to `nice`. On Linux
/// `setpriority` with a thread id acts on that thread alone. Elsewhere, or
/// if refused, the thread simply keeps normal priority.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid takes no arguments; setpriority only reads its
    // integer arguments and acts on the calling thread.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, nice) != 0 {
            tracing::debug!(nice, "cannot lower a background thread's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_low_priority_threads_and_return_their_result() {
        let pool = Pool::new("feedmerge-render", 2, RENDER_NICE);
        let (name, nice) = pool
            .run(|| {
                let name = std::thread::current().name().map(str::to_string);
                // SAFETY: getpriority reads the calling thread's priority.
                #[cfg(target_os = "linux")]
                let nice = unsafe {
                    libc::getpriority(
                        libc::PRIO_PROCESS,
                        libc::syscall(libc::SYS_gettid) as libc::id_t,
                    )
                };
                #[cfg(not(target_os = "linux"))]
                let nice = RENDER_NICE;
                (name, nice)
            })
            .await;
        assert!(name.unwrap_or_default().starts_with("feedmerge-render-"));
        assert!(nice >= RENDER_NICE, "niceness {nice}");
        let sums: Vec<u64> = futures_util::future::join_all((0..8u64).map(|i| {
            let pool = pool.clone();
            async move { pool.run(move || (0..=i).sum::<u64>()).await }
        }))
        .await;
        assert_eq!(sums, [0, 1, 3, 6, 10, 15, 21, 28]);
    }
}
