//! Incremental clustering: each new report is compared with the first
//! report of every cluster still in the window that shares enough rare
//! words with it, and joins the best one that [`decide_signatures`] calls
//! the same event, or opens a cluster of its own.
//!
//! Only a cluster's first report is compared (no chaining through a
//! middle member: A ≈ B and B ≈ C never puts C with A unless C ≈ A), and
//! a cluster never takes a second report of an outlet it already has.
//! The index holds each first report's keys in posting lists; a key
//! shared by more than [`COMMON_KEY`] of the first reports is a common
//! word and finds no candidates.

use super::{Decision, Key, Rule, Signature, decide_signatures};
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::time::Duration;

/// A key in more first reports than this is too common to find candidates.
const COMMON_KEY: usize = 400;
/// At most this many candidates (most shared keys first) are decided.
const CANDIDATES: usize = 64;
/// Keys a candidate must share with the new report before it is decided.
const MIN_SHARED: u32 = 2;
/// A cluster stops taking reports at this size: past it, an event has
/// become a theme.
pub const MAX_MEMBERS: usize = 20;

/// Where a new report went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The cluster: the id of its first report (the report's own id when
    /// it opened one).
    pub cluster: i64,
    /// How it joined, when it joined another report's cluster.
    pub joined: Option<Decision>,
}

/// One cluster in the window.
struct Cluster {
    seed: Signature,
    at: DateTime<Utc>,
    /// Outlets of every member, the first report's included.
    sources: Vec<String>,
}

/// The clusters of the last `window`, indexed by their first reports.
pub struct Window {
    window: Duration,
    /// How long a first report keeps its cluster open: the window, or
    /// less when retention purges stories sooner.
    reach: Duration,
    // Fx, not SipHash: ids and keys (already hashes) are not chosen by an
    // attacker who could aim at collisions, and SipHash was most of the
    // time spent placing a report.
    clusters: FxHashMap<i64, Cluster>,
    postings: FxHashMap<Key, Vec<i64>>,
    /// First reports by time, oldest first, for eviction.
    order: VecDeque<(DateTime<Utc>, i64)>,
}

impl Window {
    /// An empty window of this length.
    pub fn new(window: Duration) -> Window {
        Window {
            window,
            reach: window,
            clusters: FxHashMap::default(),
            postings: FxHashMap::default(),
            order: VecDeque::new(),
        }
    }

    /// The same window whose clusters close once their first report is
    /// `reach` old, when that is sooner than the window: a first report
    /// that retention purges (`[storage] keep` shorter than the window)
    /// takes no new members, which would name a story that is gone.
    pub fn closing_after(mut self, reach: Duration) -> Window {
        self.reach = reach.min(self.window);
        self
    }

    /// How many clusters are open.
    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    /// Whether no cluster is open.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// Places report `id` (published or first seen `at`): into the best
    /// cluster that agrees with it, else into a new one. Clusters older
    /// than the window before `at` are closed first.
    pub fn place(&mut self, id: i64, sig: Signature, at: DateTime<Utc>) -> Placement {
        self.evict(at);
        if let Some((cluster, decision)) = self.best(&sig) {
            if let Some(c) = self.clusters.get_mut(&cluster) {
                c.sources.push(sig.source);
            }
            return Placement {
                cluster,
                joined: Some(decision),
            };
        }
        self.open(id, sig, at);
        Placement {
            cluster: id,
            joined: None,
        }
    }

    /// Restores a cluster member on start-up (from the stored membership),
    /// without deciding anything: `cluster` is its first report's id.
    pub fn restore_member(&mut self, cluster: i64, source: &str) {
        if let Some(c) = self.clusters.get_mut(&cluster) {
            c.sources.push(super::fold_source(source));
        }
    }

    /// Restores a first report on start-up.
    pub fn restore_seed(&mut self, id: i64, sig: Signature, at: DateTime<Utc>) {
        self.open(id, sig, at);
    }

    /// The best agreeing cluster for `sig`, if any.
    fn best(&self, sig: &Signature) -> Option<(i64, Decision)> {
        let mut shared: FxHashMap<i64, u32> = FxHashMap::default();
        for key in &sig.keys {
            let Some(ids) = self.postings.get(key) else {
                continue;
            };
            if ids.len() > COMMON_KEY {
                continue;
            }
            for id in ids {
                *shared.entry(*id).or_default() += 1;
            }
        }
        let mut candidates: Vec<(i64, u32)> = shared
            .into_iter()
            .filter(|(_, n)| *n >= MIN_SHARED)
            .collect();
        // Most shared keys first; the older cluster first on a tie, so the
        // outcome does not depend on hash order.
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        candidates.truncate(CANDIDATES);
        let mut best: Option<(i64, Decision)> = None;
        for (id, _) in candidates {
            let Some(c) = self.clusters.get(&id) else {
                continue;
            };
            if c.sources.len() >= MAX_MEMBERS || c.sources.contains(&sig.source) {
                continue;
            }
            let d = decide_signatures(&c.seed, sig, self.window);
            if d.same && best.is_none_or(|(_, b)| d.score > b.score) {
                best = Some((id, d));
            }
        }
        best
    }

    fn open(&mut self, id: i64, sig: Signature, at: DateTime<Utc>) {
        for key in &sig.keys {
            self.postings.entry(*key).or_default().push(id);
        }
        let source = sig.source.clone();
        self.clusters.insert(
            id,
            Cluster {
                seed: sig,
                at,
                sources: vec![source],
            },
        );
        // Reports arrive roughly in time order; a late one goes in place.
        let pos = self.order.partition_point(|(t, _)| *t <= at);
        self.order.insert(pos, (at, id));
    }

    /// Closes clusters whose first report is older than the window (or
    /// the shorter reach) before `now`.
    pub fn evict(&mut self, now: DateTime<Utc>) {
        let Ok(span) = chrono::Duration::from_std(self.reach) else {
            return;
        };
        let horizon = now - span;
        while let Some((at, id)) = self.order.front().copied() {
            if at >= horizon {
                break;
            }
            self.order.pop_front();
            let Some(c) = self.clusters.remove(&id) else {
                continue;
            };
            debug_assert!(c.at == at);
            for key in &c.seed.keys {
                if let Some(ids) = self.postings.get_mut(key) {
                    ids.retain(|x| *x != id);
                    if ids.is_empty() {
                        self.postings.remove(key);
                    }
                }
            }
        }
    }
}

/// The rule a placement records: how it joined, or `None` for a first
/// report.
pub fn rule_of(p: &Placement) -> Option<Rule> {
    p.joined.map(|d| d.rule)
}

#[cfg(test)]
mod tests {
    use super::super::Report;
    use super::*;

    fn sig(source: &str, title: &str, lead: &str) -> Signature {
        Signature::new(&Report {
            source: source.into(),
            title: title.into(),
            lead: lead.into(),
            published: None,
            lang: None,
        })
    }

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + h * 3600, 0).unwrap()
    }

    const T: &str = "Президент Азербайджана принял министра иностранных дел Венгрии";
    const L: &str =
        "Президент Ильхам Алиев принял министра иностранных дел Венгрии Петера Сийярто.";

    #[test]
    fn reprints_join_the_first_report_and_traps_open_their_own() {
        let mut w = Window::new(super::super::DEFAULT_WINDOW);
        assert_eq!(w.place(1, sig("apa", T, L), at(0)).cluster, 1);
        let p = w.place(2, sig("trend", T, L), at(1));
        assert_eq!(p.cluster, 1);
        assert_eq!(rule_of(&p), Some(Rule::Reprint));
        let trap = sig(
            "report",
            &T.replace("Венгрии", "Словакии"),
            &L.replace("Венгрии Петера Сийярто", "Словакии Юрая Бланара"),
        );
        assert_eq!(w.place(3, trap, at(2)).cluster, 3);
        // One outlet twice: never in one cluster.
        assert_eq!(w.place(4, sig("trend", T, L), at(3)).cluster, 4);
    }

    #[test]
    fn clusters_close_when_their_first_report_leaves_the_window() {
        let mut w = Window::new(Duration::from_secs(48 * 3600));
        w.place(1, sig("apa", T, L), at(0));
        assert_eq!(w.place(2, sig("trend", T, L), at(49)).cluster, 2);
        assert_eq!(w.len(), 1);
        assert!(w.postings.values().all(|ids| !ids.contains(&1)));
    }

    #[test]
    fn a_shorter_reach_closes_clusters_sooner_but_decides_with_the_window() {
        let day = Duration::from_secs(24 * 3600);
        let mut w = Window::new(2 * day).closing_after(day);
        w.place(1, sig("apa", T, L), at(0));
        assert_eq!(w.place(2, sig("trend", T, L), at(23)).cluster, 1);
        // Past the reach: apa's cluster is closed, azertac opens its own.
        assert_eq!(w.place(3, sig("azertac", T, L), at(25)).cluster, 3);
        assert_eq!(w.len(), 1);
        // A reach longer than the window changes nothing.
        let w = Window::new(day).closing_after(2 * day);
        assert_eq!(w.reach, day);
    }
}
