//! Politeness: when to ask a source again, and how many requests a site gets
//! at once. Server hints lengthen the interval but never shorten it below
//! the configured one; failures back off exponentially with jitter up to
//! `max_backoff`, and a source is never given up on.
//!
//! Owns the timing policy of one source and the per-site limits. Pure
//! computation plus a semaphore per host: no HTTP, no SQL.

pub mod hints;
pub mod hosts;

use crate::config::SourceConfig;
use chrono::{DateTime, Utc};
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// What the last poll said about the source's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollVerdict {
    /// 200 or 304; `hint` is the longest interval the server or feed asked for.
    Success {
        /// From `Cache-Control`, `Expires`, `<ttl>`, `sy:update*`.
        hint: Option<Duration>,
    },
    /// Any failure; `consecutive` counts this one.
    Failure {
        /// Failures in a row, this one included (≥ 1).
        consecutive: u32,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// A bot challenge or access-denied page: backed off ×4 per failure
    /// in a row (up to `max_backoff`), since retrying soon only looks more
    /// like a bot.
    Blocked {
        /// Failures in a row, this one included (≥ 1).
        consecutive: u32,
    },
}

/// The source's normal period: its interval, or the gap between the next two
/// cron runs (see [`crate::config::Schedule::period`]).
pub fn base_period(source: &SourceConfig, now: DateTime<Utc>) -> Duration {
    source.schedule.period(now)
}

/// When the source is next due.
pub fn next_check(
    source: &SourceConfig,
    verdict: PollVerdict,
    max_backoff: Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let base = base_period(source, now);
    // Hints and Retry-After are trusted up to the backoff cap (and never
    // below the configured period): a site saying "come back in a year"
    // must not silence it for a year.
    let cap = max_backoff.max(base);
    let delay = match verdict {
        PollVerdict::Success { hint } => {
            let hinted = hint
                .filter(|_| source.respect_cache_hints)
                .map(|h| h.min(cap));
            // A cron source's next regular check is its next occurrence,
            // not "now + period": polls take time and must not drift past it.
            if let Some(next) = source.schedule.next_after(now)
                && hinted
                    .is_none_or(|h| now + chrono::Duration::from_std(h).unwrap_or_default() <= next)
            {
                return next;
            }
            match hinted {
                Some(h) => base.max(h),
                None => base,
            }
        }
        PollVerdict::Failure {
            consecutive,
            retry_after,
        } => {
            let exp = consecutive.saturating_sub(1).min(20);
            let backoff = base.saturating_mul(1u32 << exp).min(cap);
            let jittered = jitter(backoff).min(cap);
            match retry_after {
                Some(r) => jittered.max(r.min(cap)),
                None => jittered,
            }
        }
        PollVerdict::Blocked { consecutive } => {
            let exp = consecutive.clamp(1, 10);
            let backoff = base.saturating_mul(4u32.saturating_pow(exp)).min(cap);
            jitter(backoff).min(cap)
        }
    };
    now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(6))
}

/// ±10 % random jitter, so sources that failed together do not retry in lockstep.
fn jitter(d: Duration) -> Duration {
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let factor = 0.9 + (r % 2001) as f64 / 10_000.0;
    d.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Schedule;

    fn source(schedule: Schedule) -> SourceConfig {
        let text = "[[source]]\nname = \"s\"\nurl = \"https://e.org/rss\"\n";
        let mut cfg = crate::config::Config::parse(text, std::path::Path::new("t.toml")).unwrap();
        let mut s = cfg.sources.remove(0);
        s.schedule = schedule;
        s
    }

    fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        (b - a).num_seconds()
    }

    const H6: Duration = Duration::from_secs(6 * 3600);

    #[test]
    fn success_waits_the_interval_and_hints_only_lengthen_it() {
        let s = source(Schedule::Every(Duration::from_secs(600)));
        let now = Utc::now();
        assert_eq!(
            secs(
                now,
                next_check(&s, PollVerdict::Success { hint: None }, H6, now)
            ),
            600
        );
        let short = PollVerdict::Success {
            hint: Some(Duration::from_secs(60)),
        };
        assert_eq!(
            secs(now, next_check(&s, short, H6, now)),
            600,
            "a short hint never shortens"
        );
        let long = PollVerdict::Success {
            hint: Some(Duration::from_secs(3600)),
        };
        assert_eq!(secs(now, next_check(&s, long, H6, now)), 3600);
        let huge = PollVerdict::Success {
            hint: Some(Duration::from_secs(86400 * 365)),
        };
        assert_eq!(
            secs(now, next_check(&s, huge, H6, now)),
            6 * 3600,
            "capped at max_backoff"
        );
        let mut ignoring = s.clone();
        ignoring.respect_cache_hints = false;
        assert_eq!(secs(now, next_check(&ignoring, long, H6, now)), 600);
    }

    #[test]
    fn failures_back_off_exponentially_with_jitter_up_to_the_cap() {
        let s = source(Schedule::Every(Duration::from_secs(600)));
        let now = Utc::now();
        let after = |n| {
            secs(
                now,
                next_check(
                    &s,
                    PollVerdict::Failure {
                        consecutive: n,
                        retry_after: None,
                    },
                    H6,
                    now,
                ),
            )
        };
        let within =
            |v: i64, centre: i64| (centre * 9 / 10 - 1..=centre * 11 / 10 + 1).contains(&v);
        assert!(within(after(1), 600), "{}", after(1));
        assert!(within(after(2), 1200), "{}", after(2));
        assert!(within(after(4), 4800), "{}", after(4));
        for n in [7, 20, 1000] {
            assert!(
                after(n) <= 6 * 3600 && after(n) >= 6 * 3600 * 9 / 10,
                "retried at the cap forever: {}",
                after(n)
            );
        }
    }

    #[test]
    fn a_blocked_source_backs_off_four_times_per_failure() {
        let s = source(Schedule::Every(Duration::from_secs(60)));
        let now = Utc::now();
        let after = |n| {
            secs(
                now,
                next_check(&s, PollVerdict::Blocked { consecutive: n }, H6, now),
            )
        };
        assert!((216..=264).contains(&after(1)), "{}", after(1));
        assert!((864..=1056).contains(&after(2)), "{}", after(2));
        assert!(after(9) <= 6 * 3600 && after(9) >= 6 * 3600 * 9 / 10);
    }

    #[test]
    fn retry_after_is_honoured() {
        let s = source(Schedule::Every(Duration::from_secs(60)));
        let now = Utc::now();
        let v = PollVerdict::Failure {
            consecutive: 1,
            retry_after: Some(Duration::from_secs(1800)),
        };
        assert_eq!(secs(now, next_check(&s, v, H6, now)), 1800);
    }

    #[test]
    fn cron_sources_use_the_gap_between_occurrences() {
        let s = source(Schedule::Cron("0 */15 * * * *".parse().unwrap()));
        assert_eq!(base_period(&s, Utc::now()), Duration::from_secs(900));
        let s = source(Schedule::Cron("* * * * * *".parse().unwrap()));
        assert_eq!(base_period(&s, Utc::now()), Duration::from_secs(1));
    }
}
