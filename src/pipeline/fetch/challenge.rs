//! Bot challenges and access-denied pages: an HTML answer that stands in
//! for the document (Cloudflare's "Just a moment...", "Attention
//! Required!", "Access denied", "Please Wait"). Such a page is a state of
//! the source (`blocked`), never a document to read stories from.

/// Titles (lowercased, as a prefix) of challenge and denial pages.
const TITLES: &[&str] = &[
    "just a moment",
    "attention required",
    "access denied",
    "please wait",
    "ddos-guard",
    "checking your browser",
    "one more step",
];

/// Markers in a challenge page's body.
const MARKERS: &[&str] = &[
    "cf-browser-verification",
    "challenge-platform",
    "cf_chl_opt",
    "_cf_chl",
    "g-recaptcha",
    "hcaptcha",
];

/// How much of a body is looked at: a challenge says what it is early.
const HEAD: usize = 64 * 1024;

/// The page's title when `body` is a bot-challenge or access-denied page.
pub fn challenge(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(HEAD)];
    let text = String::from_utf8_lossy(head);
    let lower = text.to_lowercase();
    let title = title_of(&text, &lower);
    if let Some(t) = &title {
        let folded = t.to_lowercase();
        if TITLES.iter().any(|p| folded.starts_with(p)) {
            return title;
        }
    }
    // A page that is mostly a challenge script, whatever its title.
    let small = body.len() < 32 * 1024;
    (small && MARKERS.iter().any(|m| lower.contains(m)))
        .then(|| title.unwrap_or_else(|| "bot challenge".to_string()))
}

/// The text of the first `<title>`, whitespace collapsed.
fn title_of(text: &str, lower: &str) -> Option<String> {
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let raw = text.get(start..end)?;
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_titles_are_recognised_and_news_pages_are_not() {
        let cf = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>";
        assert_eq!(challenge(cf).as_deref(), Some("Just a moment..."));
        let denied = b"<html><head><TITLE>Access Denied</TITLE></head></html>";
        assert_eq!(challenge(denied).as_deref(), Some("Access Denied"));
        let news = "<html><head><title>Политика — новости</title></head><body><p>Please wait for the results</p></body></html>";
        assert_eq!(challenge(news.as_bytes()), None);
    }
}
