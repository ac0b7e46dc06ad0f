//! `feedmerge explain STORY [OTHER]`: a story's cluster as JSON, each
//! member with the rule that admitted it and its score; with two stories,
//! the decision for the pair, by the same function the daemon and
//! `similar` use.

use crate::cluster;
use crate::store::cluster::WindowStory;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::time::Duration;

/// What `explain` prints.
#[derive(Debug, Serialize)]
pub struct Explained {
    /// The story asked about.
    pub story: Member,
    /// Its cluster's first report (row id), when it is in a cluster.
    pub cluster: Option<i64>,
    /// The cluster's members, oldest first (the story alone when it is in
    /// no cluster).
    pub members: Vec<Member>,
    /// With a second story: whether the two were merged and the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<Pair>,
}

/// One report.
#[derive(Debug, Serialize)]
pub struct Member {
    /// Row id (a cluster is named by its first report's).
    pub id: i64,
    /// Source name.
    pub source: String,
    /// Headline.
    pub title: String,
    /// Sort date, RFC 3339.
    pub published: String,
    /// How it joined (`first` for the cluster's first report), or `null`
    /// when it is in no cluster (clustering off, or not yet placed).
    pub rule: Option<String>,
    /// The decision's score when it joined.
    pub score: Option<f64>,
}

/// The decision for two stories.
#[derive(Debug, Serialize)]
pub struct Pair {
    /// The other story.
    pub other: Member,
    /// Whether the store holds them in one cluster.
    pub same_cluster: bool,
    /// What the decision says of them now.
    pub decision: cluster::Decision,
}

/// Why `explain` could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// No story has that entry id or link.
    #[error("no stored story has the entry id or link {0}")]
    NotFound(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn member(s: &WindowStory) -> Member {
    Member {
        id: s.id,
        source: s.source.clone(),
        title: s.title.clone(),
        published: s.published.to_rfc3339(),
        rule: s.member.as_ref().map(|m| m.rule.clone()),
        score: s.member.as_ref().map(|m| m.score),
    }
}

/// Explains `key` (and the pair with `other`, when given).
pub async fn explain(
    store: &dyn Store,
    key: &str,
    other: Option<&str>,
    window: Duration,
) -> Result<Explained, ExplainError> {
    let (story, members) = store
        .cluster_of(key)
        .await?
        .ok_or_else(|| ExplainError::NotFound(key.to_string()))?;
    let pair = match other {
        None => None,
        Some(other) => {
            let (b, _) = store
                .cluster_of(other)
                .await?
                .ok_or_else(|| ExplainError::NotFound(other.to_string()))?;
            let cluster_of = |s: &WindowStory| s.member.as_ref().map(|m| m.cluster_id);
            Some(Pair {
                other: member(&b),
                same_cluster: cluster_of(&story).is_some() && cluster_of(&story) == cluster_of(&b),
                decision: cluster::decide(&story.report(), &b.report(), window),
            })
        }
    };
    let cluster = story.member.as_ref().map(|m| m.cluster_id);
    Ok(Explained {
        story: member(&story),
        cluster,
        members: members.iter().map(member).collect(),
        pair,
    })
}
