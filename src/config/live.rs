//! The config in force, replaceable while the daemon runs (`SIGHUP`,
//! `systemctl reload`). Readers take a snapshot (`get`) and use it for the
//! whole request or poll, so one answer never mixes two configs.

use super::Config;
use std::sync::{Arc, RwLock};

/// A shared handle on the current config; clones see the same one.
#[derive(Debug, Clone)]
pub struct Live(Arc<RwLock<Arc<Config>>>);

impl Live {
    /// A handle holding `config`.
    pub fn new(config: Arc<Config>) -> Live {
        Live(Arc::new(RwLock::new(config)))
    }

    /// The config in force now.
    pub fn get(&self) -> Arc<Config> {
        // A writer cannot panic while holding the lock (it only swaps an
        // Arc), but a poisoned lock still holds a whole config.
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts `config` in force for every later `get`.
    pub fn replace(&self, config: Arc<Config>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = config;
    }
}
