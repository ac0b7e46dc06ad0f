//! Filters applied to stories in Rust rather than in the store: the
//! keyword (`q`, Unicode case folding, which SQLite's `LIKE` lacks), the
//! language, and a `[[feed]]`'s include/exclude regexes.

use super::FeedRequest;
use crate::config::FeedConfig;
use crate::model::text::search_fold;
use crate::model::{Related, Story};

/// The Rust-side filters of one request.
pub(super) struct StoryFilter<'a> {
    q: Option<String>,
    lang: Option<String>,
    include: &'a [regex::Regex],
    exclude: &'a [regex::Regex],
}

impl<'a> StoryFilter<'a> {
    pub(super) fn new(req: &FeedRequest, feed: Option<&'a FeedConfig>) -> StoryFilter<'a> {
        StoryFilter {
            q: req.q.as_deref().map(search_fold),
            lang: req.lang.as_deref().map(str::to_ascii_lowercase),
            include: feed.map_or(&[], |f| f.include.as_slice()),
            exclude: feed.map_or(&[], |f| f.exclude.as_slice()),
        }
    }

    /// True when every story passes, so the store's page is the answer.
    pub(super) fn is_empty(&self) -> bool {
        self.q.is_none()
            && self.lang.is_none()
            && self.include.is_empty()
            && self.exclude.is_empty()
    }

    /// Whether the feed's `exclude` hides another outlet's report of a
    /// cluster, read as a story is (its title and summary). Only `exclude`:
    /// the cluster's entry already passed the keyword, language and
    /// `include`, and a rewrite need not repeat the words they ask for.
    pub(super) fn excludes_related(&self, related: &Related) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let text = searchable(&related.title, related.summary.as_deref());
        self.exclude.iter().any(|r| r.is_match(&text))
    }

    pub(super) fn matches(&self, story: &Story) -> bool {
        if let Some(want) = &self.lang {
            let have = story.language.as_deref().unwrap_or("").replace('_', "-");
            let have = have.to_ascii_lowercase();
            if !(have == *want || have.starts_with(&format!("{want}-"))) {
                return false;
            }
        }
        if self.q.is_none() && self.include.is_empty() && self.exclude.is_empty() {
            return true;
        }
        let text = searchable(&story.title, story.summary.as_deref());
        if let Some(q) = &self.q
            && !search_fold(&text).contains(q.as_str())
        {
            return false;
        }
        if !self.include.is_empty() && !self.include.iter().any(|r| r.is_match(&text)) {
            return false;
        }
        !self.exclude.iter().any(|r| r.is_match(&text))
    }
}

/// The text the filters read: the title, then the summary as plain text.
fn searchable(title: &str, summary: Option<&str>) -> String {
    let summary = summary
        .map(crate::model::text::html_to_text)
        .unwrap_or_default();
    format!("{title}\n{summary}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::{story_full, story_sparse};

    #[test]
    fn keyword_folds_unicode_case_in_title_and_summary() {
        let req = |q: &str| FeedRequest {
            q: Some(q.into()),
            ..FeedRequest::default()
        };
        let full = story_full();
        for q in ["ГОСДУМЫ", "госдумы", "ПРИНЯЛИ бюджет", "поправки"]
        {
            assert!(StoryFilter::new(&req(q), None).matches(&full), "{q}");
        }
        // Markup is not text: a tag name never matches.
        assert!(!StoryFilter::new(&req("<b>"), None).matches(&full));
        assert!(!StoryFilter::new(&req("рубля"), None).matches(&full));
        assert!(StoryFilter::new(&req("РУБЛЯ"), None).matches(&story_sparse()));
    }

    #[test]
    fn references_in_the_summary_are_text_to_q_and_include() {
        // The fast sanitizer path stores `&laquo;` as written; the filters
        // must see `«` all the same.
        let mut s = story_full();
        s.summary = Some("<p>&laquo;Мы готовы&raquo; &mdash; заявил</p>".into());
        let req = |q: &str| FeedRequest {
            q: Some(q.into()),
            ..FeedRequest::default()
        };
        for q in ["«Мы", "«мы готовы»", "готовы» —"] {
            assert!(StoryFilter::new(&req(q), None).matches(&s), "{q}");
        }
        assert!(!StoryFilter::new(&req("laquo"), None).matches(&s));
        let feed = FeedConfig {
            name: "f".into(),
            title: "F".into(),
            sections: Vec::new(),
            limit: 10,
            include: vec![regex::Regex::new("«[^»]+»").expect("valid")],
            exclude: Vec::new(),
            sources: Vec::new(),
        };
        let all = FeedRequest::default();
        assert!(StoryFilter::new(&all, Some(&feed)).matches(&s));
        let excluding = FeedConfig {
            include: Vec::new(),
            exclude: vec![regex::Regex::new("—").expect("valid")],
            ..feed
        };
        assert!(!StoryFilter::new(&all, Some(&excluding)).matches(&s));
    }

    #[test]
    fn language_matches_primary_subtag() {
        let req = |l: &str| FeedRequest {
            lang: Some(l.into()),
            ..FeedRequest::default()
        };
        let mut s = story_full();
        s.language = Some("ru_RU".into());
        assert!(StoryFilter::new(&req("ru"), None).matches(&s));
        assert!(StoryFilter::new(&req("RU-ru"), None).matches(&s));
        assert!(!StoryFilter::new(&req("r"), None).matches(&s));
        assert!(!StoryFilter::new(&req("en"), None).matches(&story_sparse()));
    }
}
