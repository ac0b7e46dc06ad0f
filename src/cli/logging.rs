//! Log output as the place it goes to expects: colour only on a terminal
//! (and never with `NO_COLOR` set), no timestamp of our own under systemd,
//! whose journal stamps every line itself, and dependencies at WARN unless
//! `RUST_LOG` says otherwise.

use std::io::IsTerminal;

/// Logging when `RUST_LOG` is unset: feedmerge's own INFO lines, only
/// warnings from dependencies (tokio-cron-scheduler alone says "Job creator
/// created" at INFO once per source).
pub const DEFAULT_FILTER: &str = "warn,feedmerge=info";

/// How log lines are written, decided from the environment once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogStyle {
    /// ANSI colours and bold.
    pub ansi: bool,
    /// Our own timestamp at the start of each line.
    pub timestamps: bool,
}

impl LogStyle {
    /// The style for stderr in this process's environment.
    pub fn detect() -> LogStyle {
        LogStyle::from_env(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            std::env::var_os("JOURNAL_STREAM").is_some(),
        )
    }

    /// The style for a stderr that is (or is not) a terminal, with
    /// `NO_COLOR` and `JOURNAL_STREAM` set or not.
    pub fn from_env(terminal: bool, no_color: bool, journal: bool) -> LogStyle {
        LogStyle {
            // no-color.org: any non-empty NO_COLOR turns colour off.
            ansi: terminal && !no_color && !journal,
            // journald records when each line arrived; a second stamp in
            // the text only makes `journalctl` lines longer.
            timestamps: !journal,
        }
    }
}

/// Installs the global subscriber, writing to stderr.
pub fn init() {
    let style = LogStyle::detect();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(style.ansi)
        .with_writer(std::io::stderr);
    if style.timestamps {
        builder.init();
    } else {
        builder.without_time().init();
    }
}

#[cfg(test)]
mod tests {
    use super::LogStyle;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_and_no_stamp_under_journald() {
        let plain = LogStyle::from_env(false, false, false);
        assert!(!plain.ansi && plain.timestamps, "a pipe: no colour");
        assert!(LogStyle::from_env(true, false, false).ansi, "a terminal");
        assert!(!LogStyle::from_env(true, true, false).ansi, "NO_COLOR");
        let journal = LogStyle::from_env(true, false, true);
        assert!(
            !journal.ansi && !journal.timestamps,
            "journald: {journal:?}"
        );
    }
}
