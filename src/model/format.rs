//! The output formats a merged feed is served in, and the file extensions,
//! command-line names and media types that name them.

/// Output formats; the HTTP paths use these extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// RSS 2.0 with the content, Dublin Core and Atom namespaces.
    Rss,
    /// JSON Feed 1.1.
    Json,
}

impl Format {
    /// The format served under a path ending in `.{ext}`: `atom`, `rss` or `json`.
    ///
    /// Exact match: URL paths are case-sensitive, and one spelling per
    /// resource keeps caches and subscribers from seeing duplicates.
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "atom" => Some(Format::Atom),
            "rss" => Some(Format::Rss),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The format named on the command line (`--format atom|rss|json`),
    /// ignoring ASCII case since people type it.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::from_extension(&name.to_ascii_lowercase())
    }

    /// File extension (without the dot) used in HTTP paths.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    /// `Content-Type` header value for a rendered document.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}
