//! Errors of the config boundary.

use std::fmt;
use std::path::PathBuf;

/// One problem found in the config file, located as precisely as the TOML
/// parser allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key in dotted form, e.g. `source[2].interval` or `server.listen`.
    pub key: String,
    /// 1-based line in the config file, when known.
    pub line: Option<usize>,
    /// What is wrong, in words an operator can act on.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, permissions, not UTF-8).
    #[error("cannot read config {path}: {reason}")]
    Read {
        /// The path we tried.
        path: PathBuf,
        /// The OS or decoding error.
        reason: String,
    },
    /// The file was read but has one or more problems; all are listed.
    #[error("config {path} has {n} problem(s):\n{list}", n = problems.len(), list = list(problems))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<ConfigProblem>,
    },
}

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}
