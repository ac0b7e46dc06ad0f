//! Change notices across processes: after a poll that changed stories, the
//! worker that polled sends `NOTIFY` on the store's channel (one per
//! schema), and every other process sharing the database hears it on a
//! connection of its own that `LISTEN`s, so rendered-feed caches of every
//! front end drop what the poll made stale, well within a second.
//!
//! Remote notices are handed to a callback rather than published into the
//! local [`Changes`]: those are relayed out, and a relayed remote notice
//! would echo between processes forever. WebSub pings therefore go out
//! once, from the worker that polled.

use super::super::changes::Changes;
use super::PgStore;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, NoTls};

/// NOTIFY payloads must stay under 8000 bytes; a longer section list is
/// sent as "anything may have changed".
const MAX_PAYLOAD: usize = 7_000;

/// Longest wait between attempts to listen again after the connection
/// dropped.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// One notice on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The worker that polled (its own notices are ignored).
    by: String,
    /// Canonical section names, or `None`: any feed may have changed.
    sections: Option<Vec<String>>,
}

impl PgStore {
    /// Sends local change notices to every other process: one `NOTIFY` per
    /// notice of `changes`, as `worker`. Runs until `changes` closes.
    pub fn relay_changes(
        self: &std::sync::Arc<Self>,
        worker: String,
        changes: &Changes,
    ) -> tokio::task::JoinHandle<()> {
        let mut rx = changes.subscribe();
        let store = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let sections = match rx.recv().await {
                    Ok(change) => change.sections.clone(),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                if let Err(e) = store.notify(&worker, sections).await {
                    // The pollers' own errors say the store is down; this
                    // one only costs other front ends a cache refresh.
                    tracing::warn!(error = %e, "cannot tell other processes about a change");
                }
            }
        })
    }

    /// One `NOTIFY` of a change by `worker`.
    pub async fn notify(
        &self,
        worker: &str,
        sections: Option<Vec<String>>,
    ) -> Result<(), super::StoreError> {
        let mut notice = Notice {
            by: worker.to_string(),
            sections,
        };
        let mut payload = serde_json::to_string(&notice).unwrap_or_default();
        if payload.len() > MAX_PAYLOAD {
            notice.sections = None;
            payload = serde_json::to_string(&notice).unwrap_or_default();
        }
        let client = self.client().await?;
        client
            .execute("SELECT pg_notify($1, $2)", &[&self.channel, &payload])
            .await
            .map_err(super::pg_error)?;
        Ok(())
    }

    /// Listens for other processes' notices and calls `on_change` with each
    /// one's sections (`None`: anything may have changed, also said after
    /// the listening connection was lost and regained). Notices of `worker`
    /// itself are skipped. Runs until the task is aborted.
    pub fn listen_changes(
        &self,
        worker: String,
        on_change: impl Fn(Option<Vec<String>>) + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let config = self.config.clone();
        let channel = self.channel.clone();
        tokio::spawn(async move {
            let mut retry = Duration::from_secs(1);
            let mut first = true;
            loop {
                match listen_once(&config, &channel, &worker, &on_change, first).await {
                    Ok(()) => retry = Duration::from_secs(1),
                    Err(e) => {
                        tracing::warn!(error = %e, retry_s = retry.as_secs(), "not hearing other processes' changes; cached feeds may lag until listening again");
                    }
                }
                first = false;
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
            }
        })
    }
}

/// One listening connection, until it drops. After the first, notices may
/// have been missed while it was down: everything is stale.
async fn listen_once(
    config: &tokio_postgres::Config,
    channel: &str,
    worker: &str,
    on_change: &(impl Fn(Option<Vec<String>>) + Send + Sync),
    first: bool,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut conn) = config.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    let _ = tx.send(Ok(n.payload().to_string()));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let _ = tx.send(Err(e));
                    return;
                }
                None => return,
            }
        }
    });
    let quoted = channel.replace('"', "\"\"");
    let listening = client.batch_execute(&format!("LISTEN \"{quoted}\"")).await;
    if let Err(e) = listening {
        driver.abort();
        return Err(e);
    }
    if !first {
        on_change(None);
    }
    while let Some(message) = rx.recv().await {
        let payload = match message {
            Ok(p) => p,
            Err(e) => return Err(e),
        };
        match serde_json::from_str::<Notice>(&payload) {
            Ok(n) if n.by == worker => {}
            Ok(n) => on_change(n.sections),
            Err(_) => on_change(None),
        }
    }
    drop(client);
    Ok(())
}
