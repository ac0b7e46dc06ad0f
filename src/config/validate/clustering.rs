//! `[clustering]`: whether near-duplicate reports of one event are shown
//! once, and how far apart in time they may be.

use super::tables::Table;
use crate::config::ClusteringSettings;
use crate::config::checks::{Ctx, duration};
use crate::config::raw::RawClustering;
use std::time::Duration;

/// The longest window accepted: past a week, "one event" has become a theme
/// and the in-memory window grows without bound on a busy install.
const MAX_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// `[clustering]` with its defaults: off, 48 h, `updated` left alone.
pub(super) fn clustering(cx: &mut Ctx<'_>, table: &Table<RawClustering>) -> ClusteringSettings {
    let Table { keys, raw } = table;
    let defaults = ClusteringSettings::default();
    let window = duration(cx, keys, "window", raw.window.as_deref()).unwrap_or(defaults.window);
    if window > MAX_WINDOW {
        cx.bad(keys, "window", "must be at most 7 days");
    }
    ClusteringSettings {
        enabled: raw.enabled.unwrap_or(defaults.enabled),
        window: window.min(MAX_WINDOW),
        bump_updated: raw.bump_updated.unwrap_or(defaults.bump_updated),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;
    use std::time::Duration;

    #[test]
    fn clustering_is_off_by_default_and_read_when_set() {
        let c = Config::parse("", Path::new("t.toml")).unwrap();
        assert!(!c.clustering.enabled && !c.clustering.bump_updated);
        assert_eq!(c.clustering.window, Duration::from_secs(48 * 3600));
        let text = "[clustering]\nenabled = true\nwindow = \"12h\"\nbump_updated = true\n";
        let c = Config::parse(text, Path::new("t.toml")).unwrap();
        assert!(c.clustering.enabled && c.clustering.bump_updated);
        assert_eq!(c.clustering.window, Duration::from_secs(12 * 3600));
    }

    #[test]
    fn a_window_past_a_week_is_a_problem_on_its_line() {
        let text = "[clustering]\nenabled = true\nwindow = \"30d\"\n";
        let e = Config::parse(text, Path::new("t.toml")).unwrap_err();
        assert!(e.to_string().contains("window"), "{e}");
    }
}
