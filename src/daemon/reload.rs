//! Reading a changed config for a running daemon: validated as `check`
//! does, refused whole when anything is wrong (the running config stays),
//! and what only a restart can change kept as it is, with a word in the log.

use crate::config::Config;

/// The config at `current`'s path, ready to put in force; `None` (after an
/// ERROR naming every problem) when it cannot be read or is invalid.
pub(super) fn read(current: &Config) -> Option<Config> {
    // An editor that truncates before writing can be caught between the
    // two; an empty file is a valid config with no sources, which would
    // silently stop every poll.
    if std::fs::metadata(&current.path).is_ok_and(|m| m.len() == 0) {
        tracing::error!(path = %current.path.display(), "config reload refused: the file is empty; the running config stays");
        return None;
    }
    let mut next = match Config::load(&current.path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(path = %current.path.display(), "config reload refused; the running config stays:\n{e}");
            return None;
        }
    };
    if next.listen != current.listen {
        tracing::warn!(running = %current.listen, configured = %next.listen, "the listen address changes only with a restart");
        next.listen = current.listen;
    }
    if next.storage_path != current.storage_path {
        tracing::warn!(running = %current.storage_path.display(), configured = %next.storage_path.display(), "the storage location changes only with a restart");
        next.storage_path = current.storage_path.clone();
    }
    if next.storage_url != current.storage_url || next.pool_size != current.pool_size {
        tracing::warn!("[storage] url and pool_size change only with a restart");
        next.storage_url.clone_from(&current.storage_url);
        next.pool_size = current.pool_size;
    }
    // The id stays (`auto` would make a new one); lease changes apply.
    let (poll, serve) = (next.worker.poll, next.worker.serve);
    if (poll, serve) != (current.worker.poll, current.worker.serve) {
        tracing::warn!("[worker] poll and serve change only with a restart");
    }
    next.worker = crate::config::WorkerSettings {
        lease: next.worker.lease,
        ..current.worker.clone()
    };
    Some(next)
}

/// One INFO line saying what a reload changed.
pub(super) fn log_changes(old: &Config, new: &Config) {
    let names = |c: &Config| -> Vec<String> { c.sources.iter().map(|s| s.name.clone()).collect() };
    let (old_names, new_names) = (names(old), names(new));
    let added: Vec<&String> = new_names
        .iter()
        .filter(|n| !old_names.contains(n))
        .collect();
    let removed: Vec<&String> = old_names
        .iter()
        .filter(|n| !new_names.contains(n))
        .collect();
    let changed = new
        .sources
        .iter()
        .filter(|s| {
            old.source(&s.name)
                .is_some_and(|o| format!("{o:?}") != format!("{s:?}"))
        })
        .count();
    tracing::info!(
        sources = new.sources.len(),
        added = ?added,
        removed = ?removed,
        changed,
        feeds = new.feeds.len(),
        "config reloaded"
    );
}
