//! One fixture per config failure mode: each is refused with the key and,
//! where the TOML parser knows it, the line.

use feedmerge::config::{Config, ConfigError};
use std::path::PathBuf;

fn load(name: &str) -> Result<Config, ConfigError> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name);
    Config::load(&path)
}

/// (fixture, key named in the problem, line, words in the message)
const CASES: &[(&str, &str, usize, &str)] = &[
    ("unknown-key.toml", "source[0]", 4, "intervall"),
    ("unknown-table.toml", "pol", 1, "unknown key"),
    ("bad-duration.toml", "poll.interval", 2, "15 minutez"),
    ("bad-keep.toml", "storage.keep", 2, "half a year"),
    (
        "interval-and-cron.toml",
        "source[0].cron",
        5,
        "exactly one of interval / cron",
    ),
    ("five-field-cron.toml", "poll.cron", 2, "6-field cron"),
    ("duplicate-source.toml", "source[1].name", 6, "used twice"),
    (
        "bad-source-name.toml",
        "source[0].name",
        2,
        "letters, digits",
    ),
    ("bad-url.toml", "source[0].url", 3, "not an http(s) URL"),
    ("bad-timezone.toml", "source[0].timezone", 4, "IANA zone"),
    ("bad-listen.toml", "server.listen", 2, "not an address"),
    ("syntax-error.toml", "(syntax)", 2, ""),
    (
        "feed-without-sections.toml",
        "feed[0].sections",
        4,
        "at least one section",
    ),
    ("wrong-type.toml", "feed[0]", 4, "fifty"),
    ("missing-url.toml", "source[0]", 1, "url"),
    (
        "storage-path-and-url.toml",
        "storage.url",
        3,
        "exactly one of `path` (SQLite) and `url`",
    ),
    (
        "storage-url-not-postgres.toml",
        "storage.url",
        2,
        "not a PostgreSQL URL",
    ),
    (
        "bad-pool-size.toml",
        "storage.pool_size",
        3,
        "between 1 and 1000",
    ),
    (
        "pool-size-without-url.toml",
        "storage.pool_size",
        3,
        "only with `url`",
    ),
    ("unknown-worker-key.toml", "worker", 3, "leese"),
    ("bad-lease.toml", "worker.lease", 2, "ninety"),
    (
        "bad-clustering-window.toml",
        "clustering.window",
        3,
        "two days",
    ),
    (
        "lease-shorter-than-timeout.toml",
        "worker.lease",
        2,
        "longer than the longest source timeout (30s)",
    ),
    (
        "worker-does-nothing.toml",
        "worker.serve",
        3,
        "does nothing",
    ),
    ("bad-worker-id.toml", "worker.id", 2, "without spaces"),
    (
        "too-short-interval.toml",
        "poll.interval",
        2,
        "at least 10s",
    ),
    (
        "bad-selector.toml",
        "source[0].html.title",
        8,
        "not a valid CSS selector",
    ),
    (
        "bad-link-pattern.toml",
        "source[0].html.link_pattern",
        9,
        "not a valid regex",
    ),
    (
        "bad-article-selector.toml",
        "source[0].article.content",
        6,
        "not a valid CSS selector: dangling combinator",
    ),
    (
        "html-without-rules.toml",
        "source[0].kind",
        3,
        "needs a [source.html] table",
    ),
    (
        "bad-date-format.toml",
        "source[0].html.date_format",
        10,
        "names no day",
    ),
];

#[test]
fn each_failure_mode_names_its_key_and_line() {
    for (file, key, line, words) in CASES {
        let err = load(file).expect_err(file);
        let ConfigError::Invalid { problems, .. } = &err else {
            panic!("{file}: {err}")
        };
        let p = problems
            .iter()
            .find(|p| p.key == *key)
            .unwrap_or_else(|| panic!("{file}: no problem for key {key}: {problems:?}"));
        assert_eq!(p.line, Some(*line), "{file}: {p}");
        assert!(p.message.contains(words), "{file}: {p}");
        assert!(
            err.to_string().contains(&format!("line {line}")),
            "{file}: {err}"
        );
    }
}

#[test]
fn an_alias_claimed_by_two_sections_is_refused() {
    let err = load("alias-clash.toml")
        .unwrap_err()
        .to_string()
        .to_lowercase();
    assert!(
        err.contains("alias `politics` belongs to two sections"),
        "{err}"
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let err = load("many-problems.toml").unwrap_err();
    let ConfigError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for key in [
        "poll.interval",
        "source[0]",
        "source[1].url",
        "source[1].timezone",
        "feed[0].limit",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    let lines: Vec<_> = problems.iter().map(|p| p.line.unwrap()).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "problems come in file order");
}

#[test]
fn a_missing_file_is_a_read_error_naming_the_path() {
    let err = load("no-such-file.toml").unwrap_err().to_string();
    assert!(err.contains("no-such-file.toml"), "{err}");
}

#[test]
fn the_shipped_config_is_valid() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/feedmerge.toml");
    let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.sources.len() >= 3);
    assert!(config.feed("politika").is_some());
    assert!(
        config.storage_path.ends_with("config/feedmerge.db"),
        "relative to the config's folder"
    );
}

#[test]
fn check_command_exits_nonzero_listing_every_problem() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .args([
            "--config",
            "tests/fixtures/config/many-problems.toml",
            "check",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: poll.interval"), "{err}");
    assert!(err.contains("Mars/Olympus"), "{err}");
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .arg("check")
        .env("FEEDMERGE_CONFIG", "config/feedmerge.toml")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
