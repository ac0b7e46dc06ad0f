//! Charset labels, read one way everywhere: config validates a source's
//! `encoding`, fetch and parse read the `charset` of a `Content-Type` and an
//! XML declaration's `encoding` with the same functions.

use encoding_rs::Encoding;

/// Resolves a charset label, including the misspellings seen in Russian
/// feeds (`cp-1251`, `win-1251`, `windows1251`) that WHATWG labels lack.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'');
    if let Some(e) = Encoding::for_label(label.as_bytes()) {
        return Some(e);
    }
    let lower = label.to_ascii_lowercase();
    let digits = ["windows", "win", "cp"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .map(|rest| rest.trim_start_matches(['-', '_', ' ']))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?;
    Encoding::for_label(format!("windows-{digits}").as_bytes())
}

/// The `charset` parameter of a `Content-Type` value, unquoted.
pub fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| {
                v.trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .trim()
                    .to_string()
            })
            .filter(|v| !v.is_empty())
    })
}
