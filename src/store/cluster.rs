//! What the store keeps of near-duplicate clusters (`cluster_members`):
//! which cluster each story is in and how it joined. The decision itself
//! lives in `crate::cluster`; the pipeline forms clusters after a poll's
//! write committed and records them here.

use chrono::{DateTime, Utc};

/// The `rule` recorded for a cluster's first report.
pub const FIRST: &str = "first";

/// One story's row in `cluster_members`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMember {
    /// The story (its integer row id).
    pub story_id: i64,
    /// The cluster: the row id of its first report (the story's own id when
    /// it is the first).
    pub cluster_id: i64,
    /// How it joined (`crate::cluster::Rule::as_str`), or [`FIRST`].
    pub rule: String,
    /// The decision's score (1 for a first report).
    pub score: f64,
}

/// A story of the clustering window, as the decision reads it, with its
/// membership when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStory {
    /// Row id.
    pub id: i64,
    /// Name of the source that first delivered it.
    pub source: String,
    /// Headline.
    pub title: String,
    /// Summary, else content (may be HTML; the signature reads its words).
    pub lead: String,
    /// Sort date.
    pub published: DateTime<Utc>,
    /// Language tag, when known.
    pub lang: Option<String>,
    /// Its row in `cluster_members`, if clustered already.
    pub member: Option<ClusterMember>,
}

/// How a feed shows a story that clustering touched.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterView {
    /// Another report is the cluster's first and is in the same sections:
    /// the feed shows that one instead.
    Hidden,
    /// The story is the first report of a cluster with these other reports,
    /// oldest first.
    First(Vec<crate::model::Related>),
}

impl WindowStory {
    /// The story as the decision reads it: its lead as plain text. The
    /// stores read the first 6,000 characters of the summary (or
    /// content), markup included: far more than the lead the decision
    /// keeps ([`crate::cluster::LEAD_CHARS`]), and a bound on what a
    /// full-text feed costs to read back.
    pub fn report(&self) -> crate::cluster::Report {
        crate::cluster::Report {
            source: self.source.clone(),
            title: self.title.clone(),
            // One character past the lead tells the lead's cut that more
            // follows: the same lead as from the whole text.
            lead: crate::model::text::html_to_text_prefix(
                &self.lead,
                crate::cluster::LEAD_CHARS + 1,
            ),
            published: Some(self.published),
            lang: self.lang.clone(),
        }
    }
}
