//! WebSub publishing: after a poll changes stories, tells the configured
//! hub (`[server] websub_hub`) which feed URLs changed, so subscribers get
//! pushes instead of polling. Feeds advertise the hub with `rel="hub"`.

use crate::config::Config;
use crate::feeds::url_for;
use crate::model::format::Format;
use crate::model::sections::fold;
use crate::store::Store;
use crate::store::changes::{Change, Changes};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A hub that does not answer in this time is skipped until the next change.
const HUB_TIMEOUT: Duration = Duration::from_secs(10);

/// The topic URLs (every format of every feed) that `change` affects.
pub async fn topics(config: &Config, store: &dyn Store, change: &Change) -> Vec<String> {
    let base = config.public_base();
    let mut sections: Vec<String> = match &change.sections {
        Some(names) => names.clone(),
        None => {
            let mut all: Vec<String> = config.sections.names().to_vec();
            if let Ok(stored) = store.stored_sections().await {
                all.extend(stored.into_iter().map(|(_, name)| name));
            }
            all
        }
    };
    sections.sort();
    sections.dedup_by(|a, b| fold(a) == fold(b));
    let keys: Vec<String> = sections.iter().map(|s| fold(s)).collect();
    let mut out = Vec::new();
    let formats = [Format::Atom, Format::Rss, Format::Json];
    for name in &sections {
        for f in formats {
            out.push(url_for(&base, "sections", name, Some(f.extension())));
        }
    }
    for feed in &config.feeds {
        if feed.sections.iter().any(|s| keys.contains(&fold(s))) {
            for f in formats {
                out.push(url_for(&base, "feeds", &feed.name, Some(f.extension())));
            }
        }
    }
    out
}

/// Pings `hub` about every change until the notifier closes. Returns
/// `None` when no hub is configured.
pub fn follow(
    config: Arc<Config>,
    store: Arc<dyn Store>,
    changes: &Changes,
) -> Option<tokio::task::JoinHandle<()>> {
    let hub = config.websub_hub.clone()?;
    let client = match reqwest::Client::builder()
        .timeout(HUB_TIMEOUT)
        .user_agent(config.fetch.user_agent.clone())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the WebSub client; hub pings are off");
            return None;
        }
    };
    let mut rx = changes.subscribe();
    Some(tokio::spawn(async move {
        loop {
            let change = match rx.recv().await {
                Ok(c) => c,
                Err(RecvError::Lagged(_)) => Arc::new(Change {
                    generation: 0,
                    sections: None,
                }),
                Err(RecvError::Closed) => break,
            };
            for topic in topics(&config, store.as_ref(), &change).await {
                publish(&client, &hub, &topic).await;
            }
        }
    }))
}

/// One `hub.mode=publish` POST; failures are logged, never retried (the
/// next change pings again, and subscribers also poll).
async fn publish(client: &reqwest::Client, hub: &str, topic: &str) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "publish")
        .append_pair("hub.url", topic)
        .finish();
    let sent = client
        .post(hub)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => tracing::debug!(%topic, "hub notified"),
        Ok(r) => {
            tracing::warn!(%hub, %topic, status = r.status().as_u16(), "hub refused the publish ping")
        }
        Err(e) => tracing::warn!(%hub, %topic, error = %e, "hub unreachable"),
    }
}
