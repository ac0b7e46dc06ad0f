//! Secrets in source URLs stay secret: the user info of a URL
//! (`http://reader:S3cret@host/feed`) and the values of query parameters
//! whose names say they are credentials (`?api_key=…`, `token`, …) are
//! replaced by `***` wherever a URL, or text that may quote one (an error
//! message), leaves the daemon: `/status`, `feedmerge status`,
//! `/sources.opml`, logs and every published feed's source links.
//!
//! The stored URL is the one fetched with; only what is shown is redacted.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Query parameter names that carry credentials, compared without regard
/// to case, also as suffixes after `_` or `-` (`x-api-key`, `client_secret`).
const SECRET_PARAMS: &[&str] = &[
    "key",
    "apikey",
    "api_key",
    "token",
    "access_token",
    "auth",
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "sig",
    "signature",
    "session",
    "sid",
    "credentials",
];

/// `scheme://user:password@` (or only `user@`) at any place in a text.
static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]+@").expect("a valid pattern")
});

/// `?name=value` or `&name=value` in a text: the name is checked in code.
static PARAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([?&;])([A-Za-z0-9_.\-]+)=([^&#\s;)"'<>]*)"#).expect("a valid pattern")
});

/// Whether a query parameter's name says it is a credential.
pub fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| {
        lower == *s
            || lower
                .strip_suffix(s)
                .is_some_and(|head| head.ends_with(['_', '-']))
    })
}

/// Whether a URL carries a secret that [`redact`] would hide: user info or
/// a credential-named query parameter.
pub fn has_secret(url: &str) -> bool {
    matches!(redact(url), Cow::Owned(_))
}

/// `text` with every URL's user info and every credential-named query
/// parameter's value masked; borrowed when there was nothing to hide.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains('@') && !text.contains('=') {
        return Cow::Borrowed(text);
    }
    let step = USERINFO.replace_all(text, |c: &regex::Captures<'_>| format!("{}{MASK}@", &c[1]));
    let params = PARAM.replace_all(&step, |c: &regex::Captures<'_>| {
        if is_secret_param(&c[2]) && !c[3].is_empty() {
            format!("{}{}={MASK}", &c[1], &c[2])
        } else {
            c[0].to_string()
        }
    });
    // A closure replacement always allocates; compare to hand back the
    // original when nothing was secret.
    if params == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(params.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_and_secret_parameters_are_masked() {
        assert_eq!(
            redact("http://reader:S3cret@host.example/feed?x=1"),
            "http://***@host.example/feed?x=1"
        );
        assert_eq!(
            redact("https://api.example/rss?api_key=abc123&lang=ru&Token=t&x-api-key=k"),
            "https://api.example/rss?api_key=***&lang=ru&Token=***&x-api-key=***"
        );
        assert_eq!(
            redact("error sending request for url (http://u:p@h.example/a?password=pw)"),
            "error sending request for url (http://***@h.example/a?password=***)"
        );
        // Nothing secret: the same text, not a copy.
        for plain in [
            "https://e.org/feed?id=1&page=2",
            "mailto-like text a@b",
            "https://e.org/?monkey=1&keyboard=2",
        ] {
            assert!(matches!(redact(plain), Cow::Borrowed(_)), "{plain}");
            assert!(!has_secret(plain), "{plain}");
        }
        assert!(has_secret("https://u@e.org/"));
    }
}
