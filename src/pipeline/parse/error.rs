//! Errors of the parse boundary.

/// Why a body is not a usable feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The body was empty or only whitespace.
    #[error("empty body, not a feed")]
    Empty,
    /// The body is a web page or another kind of document.
    #[error("got {what}, not a feed")]
    NotAFeed {
        /// What arrived, e.g. "text/html" or "an HTML page".
        what: String,
    },
    /// The document looks like a feed but is malformed beyond our repairs.
    #[error("malformed feed: {0}")]
    Malformed(String),
}

impl ParseError {
    pub(crate) fn from_feed_rs(e: feed_rs::parser::ParseFeedError, text: &str) -> ParseError {
        use feed_rs::parser::{ParseErrorKind, ParseFeedError};
        match e {
            ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => ParseError::NotAFeed {
                what: match root_name(text) {
                    Some(root) => format!("an XML document with root <{root}>"),
                    None => "a document with no XML or JSON root".to_string(),
                },
            },
            other => ParseError::Malformed(other.to_string()),
        }
    }
}

/// Recognises bodies that are plainly not feeds before feed-rs sees them.
pub(crate) fn not_a_feed(text: &str, content_type: Option<&str>) -> Option<ParseError> {
    let head: String = text
        .chars()
        .take(256)
        .collect::<String>()
        .to_ascii_lowercase();
    let html = head.starts_with("<!doctype html") || head.starts_with("<html");
    if html {
        let ct = content_type
            .and_then(|c| c.split(';').next())
            .map(str::trim)
            .unwrap_or("text/html");
        return Some(ParseError::NotAFeed {
            what: format!("{ct} (an HTML page)"),
        });
    }
    if !text.starts_with('<') && !text.starts_with('{') {
        let ct = content_type
            .and_then(|c| c.split(';').next())
            .map(str::trim)
            .unwrap_or("unknown content");
        return Some(ParseError::NotAFeed {
            what: format!("{ct} that is neither XML nor JSON"),
        });
    }
    None
}

/// A well-formed XML document that holds no feed: named by its root.
pub(crate) fn not_a_feed_root(text: &str) -> ParseError {
    ParseError::NotAFeed {
        what: match root_name(text) {
            Some(root) => format!("an XML document with root <{root}> and no channel or items"),
            None => "an XML document with no channel or items".to_string(),
        },
    }
}

/// Name of the first element, skipping the prolog, comments and doctype.
fn root_name(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        let at = rest.find('<')?;
        rest = &rest[at + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return (!name.is_empty()).then_some(name);
    }
}
