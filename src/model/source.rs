//! What the store keeps about a source between polls, besides its stories:
//! the HTTP validators of its last 200 and the feed-level facts of its
//! last document. Fetch and normalize produce them; store keeps them.

/// Validators from the last 200, sent back so an unchanged feed costs a 304.
/// Stored opaquely, exactly as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag` as received.
    pub etag: Option<String>,
    /// `Last-Modified` as received (never invented).
    pub last_modified: Option<String>,
}

/// Feed-level facts worth keeping about a source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedMeta {
    /// The feed's own title.
    pub title: Option<String>,
    /// The site's home page.
    pub site_url: Option<String>,
    /// Feed language.
    pub language: Option<String>,
}
