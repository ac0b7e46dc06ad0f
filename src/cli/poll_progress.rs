//! What `feedmerge poll` shows while it works. On a terminal: a progress
//! bar (sources done of all, items read, failures), then only the failed
//! sources' lines and a summary. To a pipe or a file: one line per source
//! in config order, as scripts have always read it.

use crate::pipeline::{PollOutcome, PollReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The bar on a terminal, or nothing.
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    items: AtomicUsize,
    failures: AtomicUsize,
}

impl Progress {
    /// A bar over `total` sources when stdout is a terminal.
    pub(super) fn for_stdout(total: usize) -> Progress {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} sources  {msg}  {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            items: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
        }
    }

    /// One source finished.
    pub(super) fn done(&self, report: &PollReport) {
        match &report.outcome {
            PollOutcome::Stored { items, .. } => {
                self.items.fetch_add(*items, Ordering::Relaxed);
            }
            PollOutcome::Failed(_) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
            PollOutcome::NotModified => {}
        }
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{} items, {} failed",
                self.items.load(Ordering::Relaxed),
                self.failures.load(Ordering::Relaxed)
            ));
            bar.inc(1);
        }
    }

    /// Prints the outcome: on a terminal the failures and a summary, else
    /// every source's line in `reports`' order.
    pub(super) fn finish<'a>(&self, reports: impl Iterator<Item = &'a PollReport>) {
        let Some(bar) = &self.bar else {
            for r in reports {
                say!("{r}");
            }
            return;
        };
        bar.finish_and_clear();
        let (mut total, mut not_modified) = (0, 0);
        for r in reports {
            total += 1;
            match r.outcome {
                PollOutcome::Failed(_) => say!("{r}"),
                PollOutcome::NotModified => not_modified += 1,
                PollOutcome::Stored { .. } => {}
            }
        }
        say!(
            "{total} sources: {} items read, {not_modified} not modified, {} failed",
            self.items.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed)
        );
    }
}
