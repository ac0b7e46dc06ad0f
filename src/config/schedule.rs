//! When a source is polled: a fixed interval or a cron expression, parsed
//! once at config load. Everything that needs a schedule's period or its
//! next run asks here, so no other module parses cron.

use chrono::{DateTime, Utc};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The period given to a cron that has no two runs left (e.g. `0 0 0 31 2 *`
/// or a past year): such a source still gets its first poll, and backoff and
/// cache lifetimes need some base. The default poll interval is the least
/// surprising one.
const PERIOD_WITHOUT_RUNS: Duration = super::validate::DEFAULT_INTERVAL;

/// When a source is polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every fixed interval.
    Every(Duration),
    /// A 6-field cron expression (with seconds), UTC.
    Cron(Cron),
}

impl Schedule {
    /// The normal gap between polls: the interval, or the gap between the
    /// next two cron runs after `now` (cron schedules are mostly regular; the
    /// next gap is a fair guess).
    pub fn period(&self, now: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(cron) => cron
                .next_after(now)
                .and_then(|a| Some((a, cron.next_after(a)?)))
                .and_then(|(a, b)| (b - a).to_std().ok())
                .unwrap_or(PERIOD_WITHOUT_RUNS),
        }
    }

    /// The next cron run strictly after `now`; `None` for an interval, whose
    /// runs are not tied to the clock, and for a cron with no run left.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(_) => None,
            Schedule::Cron(cron) => cron.next_after(now),
        }
    }
}

/// A parsed cron expression with seconds, kept with the text it was written
/// as (croner normalises its own copy, e.g. `Mon-Fri` to `1-5`).
#[derive(Clone)]
pub struct Cron {
    /// Boxed: croner's pattern is some 300 bytes, and a `Schedule` that is
    /// mostly an interval should not carry that inline.
    parsed: Box<croner::Cron>,
    text: String,
}

impl Cron {
    /// The expression as written in the config, for display and for
    /// tokio-cron-scheduler, which takes jobs as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The next run strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.parsed.find_next_occurrence(&t, false).ok()
    }
}

impl FromStr for Cron {
    type Err = InvalidCron;

    /// Accepts 6 fields (7 with a year), seconds first, day-of-month and
    /// day-of-week both required to match: the reading tokio-cron-scheduler
    /// gives the same text, so ticks and computed runs agree.
    fn from_str(text: &str) -> Result<Cron, InvalidCron> {
        // tokio-cron-scheduler silently misreads five-field cron (it runs
        // once), so it is refused here with a hint instead.
        let fields = text.split_whitespace().count();
        if !(6..=7).contains(&fields) {
            return Err(InvalidCron(text.to_string()));
        }
        let parsed = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(text)
            .map_err(|_| InvalidCron(text.to_string()))?;
        Ok(Cron {
            parsed: Box::new(parsed),
            text: text.to_string(),
        })
    }
}

impl PartialEq for Cron {
    /// Same text, same schedule: the parse is a function of the text.
    fn eq(&self, other: &Cron) -> bool {
        self.text == other.text
    }
}

impl Eq for Cron {}

impl fmt::Debug for Cron {
    /// The text alone: croner's parsed fields are a screenful each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cron").field(&self.text).finish()
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A cron expression that is not 6-field cron with seconds; its message is
/// the one `feedmerge check` prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a 6-field cron with seconds, like \"0 */15 * * * *\"")]
pub struct InvalidCron(String);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cron(text: &str) -> Schedule {
        Schedule::Cron(text.parse().unwrap())
    }

    #[test]
    fn the_period_of_an_interval_is_the_interval() {
        let s = Schedule::Every(Duration::from_secs(600));
        assert_eq!(s.period(Utc::now()), Duration::from_secs(600));
        assert_eq!(s.next_after(Utc::now()), None);
    }

    #[test]
    fn the_period_of_a_cron_is_the_gap_between_its_next_two_runs() {
        let now = Utc.with_ymd_and_hms(2025, 3, 4, 10, 7, 30).unwrap();
        assert_eq!(cron("0 */15 * * * *").period(now), Duration::from_secs(900));
        assert_eq!(cron("* * * * * *").period(now), Duration::from_secs(1));
        // Irregular: the gap that comes next, not an average.
        let twice_a_day = cron("0 0 9,17 * * *");
        assert_eq!(twice_a_day.period(now), Duration::from_secs(16 * 3600));
        let evening = Utc.with_ymd_and_hms(2025, 3, 4, 18, 0, 0).unwrap();
        assert_eq!(twice_a_day.period(evening), Duration::from_secs(8 * 3600));
    }

    #[test]
    fn the_next_run_is_strictly_after_the_time_given() {
        let s = cron("0 */15 * * * *");
        let at = Utc.with_ymd_and_hms(2025, 3, 4, 10, 15, 0).unwrap();
        let next = Utc.with_ymd_and_hms(2025, 3, 4, 10, 30, 0).unwrap();
        assert_eq!(s.next_after(at), Some(next));
    }

    #[test]
    fn a_cron_without_runs_left_falls_back_to_the_default_period() {
        let s = cron("0 0 0 1 1 * 2020");
        assert_eq!(s.next_after(Utc::now()), None);
        assert_eq!(s.period(Utc::now()), PERIOD_WITHOUT_RUNS);
    }

    #[test]
    fn five_fields_and_nonsense_are_refused_with_the_check_message() {
        for text in ["*/15 * * * *", "0 */15 * * * * * *", "a b c d e f"] {
            let err = text.parse::<Cron>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("`{text}` is not a 6-field cron with seconds, like \"0 */15 * * * *\"")
            );
        }
    }

    #[test]
    fn the_text_is_kept_as_written() {
        let c: Cron = "0 0 9 * * Mon-Fri".parse().unwrap();
        assert_eq!(c.as_str(), "0 0 9 * * Mon-Fri");
        assert_eq!(c.to_string(), "0 0 9 * * Mon-Fri");
    }
}
