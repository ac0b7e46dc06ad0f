//! Change notices: after a poll's write adds, merges or edits stories, the
//! pipeline says which sections it touched. Rendered-feed caches and the
//! WebSub publisher subscribe, so neither polls the store to find out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;

/// Notices kept for a slow subscriber before it is told it lagged (and
/// must then assume everything changed).
const BACKLOG: usize = 256;

/// One poll's effect on the stored stories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Increases by one per notice, starting at 1.
    pub generation: u64,
    /// Canonical names of the sections whose feeds changed, or `None` when
    /// any feed may have changed (an edited story can sit in sections that
    /// other sources gave it).
    pub sections: Option<Vec<String>>,
}

/// The sending side, cheap to clone; every clone publishes to the same
/// subscribers.
#[derive(Debug, Clone)]
pub struct Changes {
    tx: broadcast::Sender<Arc<Change>>,
    generation: Arc<AtomicU64>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes::new()
    }
}

impl Changes {
    /// A notifier with no subscribers yet.
    pub fn new() -> Changes {
        let (tx, _) = broadcast::channel(BACKLOG);
        Changes {
            tx,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Receives every notice published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Announces a change; returns its generation. Never blocks: with no
    /// subscriber the notice is simply dropped.
    pub fn publish(&self, sections: Option<Vec<String>>) -> u64 {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.tx.send(Arc::new(Change {
            generation,
            sections,
        }));
        generation
    }

    /// The generation of the latest notice (0 before any).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_every_notice_in_order() {
        let changes = Changes::new();
        assert_eq!(changes.publish(None), 1, "nobody listening is fine");
        let mut rx = changes.subscribe();
        changes.clone().publish(Some(vec!["Политика".into()]));
        changes.publish(None);
        let a = rx.recv().await.expect("first");
        let b = rx.recv().await.expect("second");
        assert_eq!((a.generation, b.generation), (2, 3));
        assert_eq!(a.sections.as_deref(), Some(&["Политика".to_string()][..]));
        assert_eq!(changes.generation(), 3);
    }
}
