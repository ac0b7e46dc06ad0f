//! Undoes the two encoding accidents feeds ship most often, field by field
//! (after XML entities are resolved, which is where the second one appears):
//! - C1 control characters (U+0080–U+009F) that are really windows-1252
//!   punctuation (a `’` written as byte 0x92 and read as Latin-1);
//! - UTF-8 read as Latin-1 and encoded again (`â€¦` or `&#226;&#128;&#166;`
//!   for `…`): a run of U+0080–U+00FF characters whose Latin-1 bytes form
//!   valid multi-byte UTF-8 is decoded as such.
//!
//! Text without characters in U+0080–U+00FF (all ASCII, all Cyrillic) is
//! returned untouched after one scan.

use std::borrow::Cow;

/// `s` with C1 controls mapped to windows-1252 and double-encoded UTF-8 fixed.
pub fn fix(s: &str) -> Cow<'_, str> {
    // U+0080–U+00FF are exactly the characters whose UTF-8 starts with
    // 0xC2 or 0xC3: a SIMD byte scan rules most text out.
    if memchr::memchr2(0xC2, 0xC3, s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut run: Vec<u8> = Vec::new();
    for c in s.chars() {
        if ('\u{80}'..='\u{ff}').contains(&c) {
            run.push(c as u8);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    Cow::Owned(out)
}

/// Appends a run of Latin-1-range characters (as bytes), decoded as UTF-8
/// when the whole run is valid UTF-8, else with C1 controls mapped.
fn flush(run: &mut Vec<u8>, out: &mut String) {
    if run.is_empty() {
        return;
    }
    match std::str::from_utf8(run) {
        Ok(utf8) => out.push_str(utf8),
        Err(_) => {
            for &b in run.iter() {
                out.push(c1_to_cp1252(b));
            }
        }
    }
    run.clear();
}

/// Latin-1 byte `b` as a char, with 0x80–0x9F read as windows-1252.
fn c1_to_cp1252(b: u8) -> char {
    if (0x80..=0x9f).contains(&b) {
        let byte = [b];
        let (text, _, had_errors) = encoding_rs::WINDOWS_1252.decode(&byte);
        if !had_errors && let Some(c) = text.chars().next() {
            return c;
        }
    }
    char::from(b)
}

#[cfg(test)]
mod tests {
    use super::fix;

    #[test]
    fn c1_controls_become_windows_1252_punctuation() {
        assert_eq!(fix("don\u{92}t"), "don\u{2019}t");
        assert_eq!(fix("\u{93}quoted\u{94}"), "\u{201c}quoted\u{201d}");
    }

    #[test]
    fn double_encoded_utf8_is_decoded() {
        assert_eq!(fix("wait\u{e2}\u{80}\u{a6}"), "wait\u{2026}");
        assert_eq!(fix("caf\u{c3}\u{a9}"), "café");
    }

    #[test]
    fn genuine_latin1_and_other_scripts_are_left_alone() {
        assert_eq!(fix("café crème"), "café crème");
        assert_eq!(fix("Политика"), "Политика");
        assert_eq!(fix("naïve £5 ©"), "naïve £5 ©");
    }
}
