//! Renders and their compression off the threads that answer `/healthz`
//! and cached requests.
//!
//! An uncached answer costs milliseconds of CPU (the document, its hash,
//! gzip and brotli). Done on a tokio worker, a flood of uncached filtered
//! requests kept both cores busy rendering, and `/healthz` and cached
//! answers, which never wait for a render slot, still waited for a core
//! (README: p99 171 ms under 16 flooding clients). Here renders run on a
//! few threads of their own whose scheduling priority is lowered (nice
//! [`NICE`]), so when the cores are contended the kernel runs the tokio
//! workers first and the renders take what is left.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The niceness of render threads: with CFS weights, a nice-0 thread that
/// wakes gets about nine tenths of a contended core against one of them.
pub const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The render threads. Cloning shares them; they end when the last clone
/// is dropped and the queue has drained.
#[derive(Clone)]
pub struct RenderPool {
    jobs: mpsc::Sender<Job>,
}

impl RenderPool {
    /// `threads` render threads (at least one), their priority lowered.
    pub fn new(threads: usize) -> RenderPool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("feedmerge-render-{n}"))
                .spawn(move || {
                    lower_priority();
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
                // Fewer threads than asked still render; none at all is
                // handled in `run`.
                tracing::warn!(error = %e, "cannot start a render thread");
            }
        }
        RenderPool { jobs }
    }

    /// Runs `f` on a render thread and waits for its result. Should no
    /// render thread run (none could be started, or one panicked while
    /// holding the job), `f` runs on a blocking thread instead, so an
    /// answer is never lost.
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
            // The job took it and panicked: as the render itself would
            // have on the caller's thread.
            None => panic!("a render panicked"),
        }
    }
}

/// Lowers the calling thread's scheduling priority to [`NICE`]. On Linux
/// `setpriority` with a thread id acts on that thread alone. Elsewhere, or
/// if refused, renders simply keep normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid takes no arguments; setpriority only reads its
    // integer arguments and acts on the calling thread.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, NICE) != 0 {
            tracing::debug!("cannot lower the render threads' priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_run_on_low_priority_threads_and_return_their_result() {
        let pool = RenderPool::new(2);
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
                let nice = NICE;
                (name, nice)
            })
            .await;
        assert!(name.unwrap_or_default().starts_with("feedmerge-render-"));
        assert!(nice >= NICE, "niceness {nice}");
        let sums: Vec<u64> = futures_util::future::join_all((0..8u64).map(|i| {
            let pool = pool.clone();
            async move { pool.run(move || (0..=i).sum::<u64>()).await }
        }))
        .await;
        assert_eq!(sums, [0, 1, 3, 6, 10, 15, 21, 28]);
    }
}
