//! Places new stories in near-duplicate clusters after a poll's write
//! committed, and records where they went.
//!
//! Placing runs beside the polls, not in them: a poll hands its write to
//! [`Clusterer::place_in_background`] and goes on, runs coalesce over
//! every write committed meanwhile, and the signatures are computed on a
//! thread of the lowest priority ([`crate::background`]). So in a first
//! round of 1,000 sources the polls keep the cores and placing takes
//! what they leave; in steady state (a poll or two a second) it follows
//! each write within milliseconds. A poll's change is told to caches and
//! WebSub once its stories are placed, so a cached feed never shows a
//! report that is about to fold into its cluster.
//!
//! The clusters live in a [`Window`] in memory, built on first use from the
//! stories of the last `[clustering] window` and their stored membership,
//! so a restart keeps them. One clusterer lives across reloads
//! ([`Clusterer::reconfigure`]): a reload with the same `[clustering]`
//! keeps its window as it is, one that changes `enabled`, `window` or
//! `[storage] keep` has it rebuilt from the store under the new settings.
//! New stories are found in the store
//! (those in the window without a membership row), not handed over by the
//! write: the writer may run a write twice, and a story is only clustered
//! once it is committed. A failed membership write drops the in-memory
//! window, so the next run rebuilds it from what the store holds.

use crate::cluster::{Signature, Window};
use crate::config::ClusteringSettings;
use crate::store::cluster::{ClusterMember, FIRST, WindowStory};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

/// The clustering of one pipeline (and of the pipelines reloads put in
/// its place); one run at a time.
///
/// Runs coalesce: every call takes a ticket, and a call whose ticket a
/// run already covered returns at once. With many polls committing at
/// once (a first round, 1,000 sources due together) one run places the
/// stories of every poll that committed while the run before it was
/// busy, instead of each poll queueing for a run (a read and a write
/// transaction) of its own.
pub struct Clusterer {
    state: Mutex<State>,
    /// Tickets handed out: a caller takes one after its write committed.
    tickets: AtomicU64,
    /// Background placements not yet done ([`Clusterer::place_in_background`]).
    pending: AtomicUsize,
    /// Told when `pending` falls to zero.
    idle: Notify,
    /// Where signatures are computed (see [`crate::background`]).
    thread: std::sync::OnceLock<crate::background::Pool>,
}

/// One background placement, counted in `pending` until dropped: also
/// when its task ends early (a panic, the runtime shutting down), so
/// [`Clusterer::settled`] never waits for a placement that cannot end.
struct Pending(Arc<Clusterer>);

impl Drop for Pending {
    fn drop(&mut self) {
        if self.0.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The settings in force and the window built under them.
struct State {
    settings: ClusteringSettings,
    /// `[storage] keep`: a first report older than this is (about to be)
    /// purged, so its cluster takes no new members.
    keep: Option<Duration>,
    /// `None` until the first run, after a failed write, and after a
    /// reload changed the settings the window depends on.
    window: Option<Window>,
    /// The highest story id read so far: a run reads only stories above
    /// it, so its cost follows the stories a poll added, not the window's
    /// size (a scan of the whole window per poll made a first round of
    /// 1,000 polls 28 times slower).
    through: i64,
    /// The highest ticket whose stories a successful run has placed.
    covered: u64,
    /// When the whole window was last searched for stories without a
    /// cluster: ids are not always handed out in commit order (a
    /// PostgreSQL sequence across workers; SQLite reusing the id of a
    /// newest story purged), so a story can land below `through`. A sweep
    /// every [`SWEEP_EVERY`] places it.
    swept_at: Option<DateTime<Utc>>,
}

/// How often a run searches the whole window for unplaced stories.
const SWEEP_EVERY: chrono::Duration = chrono::Duration::seconds(60);

impl Clusterer {
    /// A clusterer that builds its window on first use.
    pub fn new(settings: ClusteringSettings, keep: Option<Duration>) -> Clusterer {
        Clusterer {
            state: Mutex::new(State {
                settings,
                keep,
                window: None,
                through: 0,
                covered: 0,
                swept_at: None,
            }),
            tickets: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            idle: Notify::new(),
            thread: std::sync::OnceLock::new(),
        }
    }

    /// Puts a reloaded `[clustering]` (and `[storage] keep`) in force from
    /// the next run on. A changed `window` or `keep` has the clusters
    /// rebuilt from the store (the window's length is part of every
    /// decision it made); turning clustering off drops them from memory
    /// (the stored membership stays, so turning it on again restores
    /// them).
    pub async fn reconfigure(&self, settings: ClusteringSettings, keep: Option<Duration>) {
        let mut state = self.state.lock().await;
        if state.settings.enabled != settings.enabled
            || state.settings.window != settings.window
            || state.keep != keep
        {
            state.window = None;
        }
        state.settings = settings;
        state.keep = keep;
    }

    /// Places the stories of a write that just committed in a task of its
    /// own, then calls `then` with the run's result; the poll goes on at
    /// once. Placing is CPU work (a signature per story) that a first round
    /// of 1,000 sources would otherwise queue every poll behind: done
    /// beside the polls, it runs where the cores are free, and its runs
    /// coalesce over all the polls that committed meanwhile. The caller
    /// publishes the poll's change in `then`, so cached answers keep
    /// showing the feeds as they were until the new stories are placed.
    pub fn place_in_background(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        then: impl FnOnce(Result<usize, StoreError>) + Send + 'static,
    ) {
        // Taken here, after the commit, not when the task starts.
        let ticket = self.ticket();
        self.pending.fetch_add(1, Ordering::SeqCst);
        let done = Pending(Arc::clone(self));
        tokio::spawn(async move {
            let result = done.0.run_for(ticket, store.as_ref(), Utc::now()).await;
            then(result);
            drop(done);
        });
    }

    /// Waits until every background placement started so far has ended
    /// (placed its stories, or failed and said so).
    pub async fn settled(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the count is read: a placement ending in
            // between still wakes this wait.
            idle.as_mut().enable();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// A ticket: taken after the caller's write committed, so any run that
    /// reads the ticket count at or past it reads the store after that
    /// commit.
    fn ticket(&self) -> u64 {
        self.tickets.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Clusters every committed story of the window not yet in a cluster,
    /// unless a run that started after `ticket` was taken already did.
    /// Returns how many joined another report's cluster. Does nothing
    /// unless `[clustering] enabled`.
    async fn run_for(
        &self,
        ticket: u64,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut state = self.state.lock().await;
        if !state.settings.enabled || state.covered >= ticket {
            return Ok(0);
        }
        yield_to_writes(store).await;
        // Read before the store is: every ticket up to here belongs to a
        // write this run's reads see.
        let covers = self.tickets.load(Ordering::SeqCst);
        let span = state.settings.window;
        let reach = state.keep.map_or(span, |keep| keep.min(span));
        let since = horizon(now, reach);
        let sweep = state.swept_at.is_none_or(|at| now - at >= SWEEP_EVERY);
        let (mut window, fresh) = match state.window.take() {
            Some(w) => {
                let after = if sweep { 0 } else { state.through };
                (w, store.cluster_window(since, Some(after)).await?)
            }
            None => {
                let (window, fresh, through) =
                    restore(self.thread(), store, since, span, reach).await?;
                state.through = state.through.max(through);
                (window, fresh)
            }
        };
        if sweep {
            state.swept_at = Some(now);
        }
        if let Some(newest) = fresh.iter().map(|s| s.id).max() {
            state.through = state.through.max(newest);
        }
        // Signatures and placing are the CPU work: on the clustering
        // thread, at the lowest priority, the window going there and back.
        let (mut window, members, joined) = self
            .thread()
            .run(move || {
                let (members, joined) = place_all(&mut window, &fresh);
                (window, members, joined)
            })
            .await;
        window.evict(now);
        // On failure the window is left out (`take` above), so the next
        // run rebuilds it from the store instead of trusting placements
        // that were never recorded.
        store.record_cluster_members(&members).await?;
        state.window = Some(window);
        state.covered = covers;
        if joined > 0 {
            tracing::debug!(stories = members.len(), joined, "clustered new stories");
        }
        Ok(joined)
    }

    /// The clustering thread, started on first use.
    fn thread(&self) -> &crate::background::Pool {
        self.thread.get_or_init(|| {
            crate::background::Pool::new("feedmerge-cluster", 1, crate::background::CLUSTER_NICE)
        })
    }
}

/// How long a run waits at most for the writer to be free of polls.
const YIELD_AT_MOST: Duration = Duration::from_secs(2);

/// Waits while polls' writes are queued for the writer, for at most
/// [`YIELD_AT_MOST`]. The writer is ingest's one serial stage, and a run
/// adds a read of its new stories and a membership row per story to it:
/// in a first round of 1,000 sources, placing beside the polls still took
/// 9–20 % off their pace. So in a flood of polls a run waits for a gap
/// (and then places everything that arrived meanwhile at once), and in
/// steady state, where the queue is empty by the time a poll's run
/// starts, it does not wait at all.
async fn yield_to_writes(store: &dyn Store) {
    let started = tokio::time::Instant::now();
    while store.write_queue_depth() > 0 && started.elapsed() < YIELD_AT_MOST {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Places `fresh` in `window`: each story's membership, and how many
/// joined another report's cluster.
fn place_all(window: &mut Window, fresh: &[WindowStory]) -> (Vec<ClusterMember>, usize) {
    let mut members = Vec::with_capacity(fresh.len());
    let mut joined = 0;
    for story in fresh {
        let p = window.place(story.id, signature(story), story.published);
        members.push(match p.joined {
            Some(d) => {
                joined += 1;
                ClusterMember {
                    story_id: story.id,
                    cluster_id: p.cluster,
                    rule: d.rule.as_str().to_string(),
                    score: d.score,
                }
            }
            None => ClusterMember {
                story_id: story.id,
                cluster_id: story.id,
                rule: FIRST.to_string(),
                score: 1.0,
            },
        });
    }
    (members, joined)
}

/// The window rebuilt from the store: first reports reopen their clusters,
/// members rejoin them, and stories without membership come back to be
/// placed. Also returns the highest story id read.
async fn restore(
    thread: &crate::background::Pool,
    store: &dyn Store,
    since: DateTime<Utc>,
    span: Duration,
    reach: Duration,
) -> Result<(Window, Vec<WindowStory>, i64), StoreError> {
    let stories = store.cluster_window(since, None).await?;
    let through = stories.iter().map(|s| s.id).max().unwrap_or(0);
    // A signature per first report of the window (20,000 stories: most of
    // a second of CPU) on the clustering thread, off the tokio workers.
    let (window, fresh) = thread
        .run(move || {
            let mut window = Window::new(span).closing_after(reach);
            let mut fresh = Vec::new();
            let mut joined = Vec::new();
            for story in stories {
                match &story.member {
                    Some(m) if m.cluster_id == story.id => {
                        window.restore_seed(story.id, signature(&story), story.published)
                    }
                    Some(m) => joined.push((m.cluster_id, story.source)),
                    None => fresh.push(story),
                }
            }
            // Members after all seeds: a member restored before its seed
            // would be lost. A member whose seed is gone (purged, or older
            // than the window) rejoins nothing; it stays as it was recorded.
            for (cluster, source) in joined {
                window.restore_member(cluster, &source);
            }
            (window, fresh)
        })
        .await;
    tracing::info!(clusters = window.len(), "clustering window restored");
    Ok((window, fresh, through))
}

fn signature(story: &WindowStory) -> Signature {
    Signature::new(&story.report())
}

fn horizon(now: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
