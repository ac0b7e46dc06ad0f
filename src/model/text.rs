//! Plain text read out of stored HTML, the same way wherever it is read:
//! character references decoded by one decoder, tags dropped, whitespace
//! collapsed; and language tags in one spelling. Normalize, selection
//! filters and every export format share these, so «» means «» everywhere.

use std::borrow::Cow;

/// Decodes the character references in HTML text, as a browser (and
/// html5ever, when ammonia parses) reads them in element content: every
/// HTML5 named reference, from the table html5ever itself uses, including
/// the legacy ones that need no `;` (`&copy`); numeric references, with
/// 0x80–0x9F read as windows-1252 and impossible code points as U+FFFD.
/// Anything else (`AT&T`, `&bogus;`) is left as written.
///
/// The one decoder behind every plain-text view of HTML ([`to_text`],
/// JSON Feed `summary`, the `q` and include/exclude filters), so that a
/// reference means the same character wherever it is read, whichever
/// sanitizer path the HTML took (the fast path keeps `&laquo;`, ammonia
/// writes `«`).
pub fn decode_entities(html: &str) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'&', html.as_bytes()) else {
        return Cow::Borrowed(html);
    };
    let mut out = String::with_capacity(html.len());
    out.push_str(&html[..first]);
    let mut rest = &html[first..];
    while let Some(at) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let used = if rest.starts_with('#') {
            numeric_reference(rest, &mut out)
        } else {
            named_reference(rest, &mut out)
        };
        match used {
            Some(len) => rest = &rest[len..],
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// HTML with its character references written as the characters they
/// stand for (`&laquo;Мы&raquo;` → `«Мы»`), except those that spell markup
/// (`&lt;`, `&gt;`, `&amp;`, `&quot;`, `&#39;` and their numeric forms),
/// which must stay references for the HTML to mean the same. Readers then
/// see «» in every format's bytes, whichever sanitizer path stored them.
pub fn references_as_characters(html: &str) -> Cow<'_, str> {
    if memchr::memchr(b'&', html.as_bytes()).is_none() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut decoded = String::new();
    while let Some(at) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        decoded.clear();
        let used = if rest.starts_with('#') {
            numeric_reference(rest, &mut decoded)
        } else {
            named_reference(rest, &mut decoded)
        };
        match used {
            // U+FFFD marks an impossible reference: keep what was written.
            Some(len) if !decoded.contains(['<', '>', '&', '"', '\'', '\u{fffd}']) => {
                out.push_str(&decoded);
                rest = &rest[len..];
            }
            _ => out.push('&'),
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes the longest named reference at the start of `s` (the text after
/// `&`) into `out`; the bytes used, or `None` when no name matches.
fn named_reference(s: &str, out: &mut String) -> Option<usize> {
    use markup5ever::data::NAMED_ENTITIES;
    // The table holds every prefix of every name (as (0, 0)), so the match
    // grows one byte at a time and stops where no name continues; names
    // are ASCII, the longest 32 bytes and a `;`.
    let mut best = None;
    for len in 1..=s.len().min(33) {
        let Some(&(c1, c2)) = s.get(..len).and_then(|k| NAMED_ENTITIES.get(k)) else {
            break;
        };
        if c1 != 0 {
            best = Some((len, c1, c2));
        }
    }
    let (len, mut c1, c2) = best?;
    // HTML5 moved `&lang;`/`&rang;` to the mathematical angle brackets;
    // feeds are written to HTML 4 (and XHTML 1's entity sets), where they
    // are U+2329/U+232A, and feedparser reads them so.
    match &s[..len] {
        "lang;" => c1 = 0x2329,
        "rang;" => c1 = 0x232A,
        _ => {}
    }
    out.extend(
        [c1, c2]
            .into_iter()
            .filter(|&c| c != 0)
            .filter_map(char::from_u32),
    );
    Some(len)
}

/// Decodes `#123;` or `#x1F;` at the start of `s` (the text after `&`) into
/// `out`, as HTML5 does; the bytes used, or `None` without digits.
fn numeric_reference(s: &str, out: &mut String) -> Option<usize> {
    let (radix, digits_at) = match s.as_bytes().get(1) {
        Some(b'x' | b'X') => (16, 2),
        _ => (10, 1),
    };
    let digits = s[digits_at..]
        .bytes()
        .take_while(|b| char::from(*b).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    // Saturates instead of overflowing: anything past U+10FFFF is U+FFFD.
    let code = s[digits_at..digits_at + digits]
        .chars()
        .filter_map(|c| c.to_digit(radix))
        .fold(0u32, |n, d| n.saturating_mul(radix).saturating_add(d));
    // html5ever's rules: NUL, surrogates and values past U+10FFFF become
    // U+FFFD; C1 controls are read as the windows-1252 byte they were
    // meant to be (`&#150;` is `–`), except where it has none.
    let c = match code {
        0 => '\u{fffd}',
        0x80..=0x9F => markup5ever::data::C1_REPLACEMENTS[(code - 0x80) as usize]
            .unwrap_or_else(|| char::from_u32(code).unwrap_or('\u{fffd}')),
        _ => char::from_u32(code).unwrap_or('\u{fffd}'),
    };
    out.push(c);
    let end = digits_at + digits;
    // The `;` may be missing (a parse error that still decodes).
    Some(if s[end..].starts_with(';') {
        end + 1
    } else {
        end
    })
}

/// Cheap HTML-to-text for already-sanitized HTML: drops tags, decodes
/// references with the one decoder ([`decode_entities`], all of HTML5's),
/// collapses whitespace. Not a general HTML parser, and needs not be:
/// upstream sanitizing left only plain markup. Serves JSON Feed `summary`
/// and the `q` and include/exclude filters, which must see `«` whether the
/// stored HTML spells it `«` (ammonia's output) or `&laquo;` (the fast
/// path's, which republishes references as written).
pub fn html_to_text(html: &str) -> String {
    html_to_text_prefix(html, usize::MAX)
}

/// The first words of [`html_to_text`]`(html)`: at least `min_chars`
/// characters of them when it has that many, else all of it. Stops
/// reading `html` there, so a reader of the opening (the clustering
/// lead) pays for the opening of a long article only.
pub fn html_to_text_prefix(html: &str, min_chars: usize) -> String {
    let mut out = String::with_capacity(html.len().min(min_chars.saturating_mul(4)));
    let mut chars = 0usize;
    // Words never span a tag (a tag separates words: `<p>a</p><p>b</p>`),
    // so each run of text between tags is collapsed on its own.
    let mut push_words = |out: &mut String, text: &str| {
        for word in decode_entities(text).split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
                chars += 1;
            }
            out.push_str(word);
            chars += word.chars().count();
        }
        chars >= min_chars
    };
    let mut rest = html;
    while let Some(i) = memchr::memchr(b'<', rest.as_bytes()) {
        if push_words(&mut out, &rest[..i]) {
            return out;
        }
        rest = rest[i..].find('>').map_or("", |end| &rest[i + end + 1..]);
    }
    push_words(&mut out, rest);
    out
}

/// A BCP 47-shaped language tag from whatever a source declared (`en_US`
/// becomes `en-US`), or `None` when it cannot be one: `xml:lang` and JSON
/// Feed `language` with garbage in them fail validation, no tag does not.
pub fn language_tag(raw: &str) -> Option<String> {
    let tag = raw.trim().replace('_', "-");
    let shaped = (1..=35).contains(&tag.len())
        && tag.starts_with(|c: char| c.is_ascii_alphabetic())
        && tag.split('-').all(|sub| {
            !sub.is_empty() && sub.len() <= 8 && sub.chars().all(|c| c.is_ascii_alphanumeric())
        });
    shaped.then_some(tag)
}

#[cfg(test)]
mod tests {
    use super::references_as_characters as chars;

    #[test]
    fn references_become_characters_but_markup_stays_escaped() {
        assert_eq!(
            chars("<p>&laquo;Мы готовы&raquo; &mdash; &#171;да&#xBB;</p>"),
            "<p>«Мы готовы» — «да»</p>"
        );
        assert_eq!(
            chars("a &lt;b&gt; &amp;amp; &quot;q&quot; &#60; &#x26; &#39;"),
            "a &lt;b&gt; &amp;amp; &quot;q&quot; &#60; &#x26; &#39;"
        );
        assert_eq!(
            chars("AT&T &bogus; &#xFFFFFFFF; tail &"),
            "AT&T &bogus; &#xFFFFFFFF; tail &"
        );
        assert!(matches!(chars("plain «»"), std::borrow::Cow::Borrowed(_)));
    }
}

/// Text as keyword search compares it: case folded and whitespace
/// collapsed (as section names are), with the dotted and dotless i of
/// Azerbaijani and Turkish read as plain `i`: `İ` lowercases to `i` plus a
/// combining dot, which a reader typing `i` never types, and `ı` is often
/// typed as `i` on keyboards without it. Used on both sides, the stored
/// text and the query, so they always agree.
pub fn search_fold(text: &str) -> String {
    // `sections::fold`, then the two i's, in one pass.
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            match c {
                'ı' => out.push('i'),
                _ if c.is_ascii() || ('\u{0410}'..='\u{044F}').contains(&c) || c == 'ё' => {
                    crate::model::sections::push_lowercase(&mut out, c)
                }
                _ => out.extend(c.to_lowercase().filter(|&l| l != '\u{307}')),
            }
        }
    }
    out
}

/// What the keyword index holds of a story: the words of its title and
/// summary as text, folded, each once. The index records only which
/// stories hold a word (not where or how often), and the stories it finds
/// are then checked against their own text, so a repeated word is only
/// work for the tokenizer: in agency copy about half the words of a lead
/// repeat. Words are the whitespace-separated pieces, kept whole, so the
/// index's tokenizer splits each exactly as it would in the full text.
pub fn search_text(title: &str, summary: Option<&str>) -> String {
    let summary = summary.map(html_to_text).unwrap_or_default();
    let folded = search_fold(&format!("{title}\n{summary}"));
    let mut seen = std::collections::HashSet::new();
    let mut out = String::with_capacity(folded.len());
    for word in folded.split_whitespace() {
        if seen.insert(word) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// What the keyword index holds of a story, as its terms: the words of
/// [`search_text`] split into runs of letters and digits ([`keyword_words`]),
/// each once, separated by single spaces. Built with the other derived
/// columns on the poll's side, so the writer thread only stores it.
pub fn index_text(title: &str, summary: Option<&str>) -> String {
    // `keyword_words(&search_text(..))` without search_text's own pass
    // over repeated words: the result is the same.
    let summary = summary.map(html_to_text).unwrap_or_default();
    keyword_words(&search_fold(&format!("{title}\n{summary}"))).join(" ")
}

/// The words of a folded text, each once, in order: runs of letters and
/// digits ([`is_word_char`]), as the keyword index's tokenizer and the
/// keyword filter both see them.
pub fn keyword_words(text: &str) -> Vec<&str> {
    // A set, not a scan of the output: a 2 KB summary holds a few hundred
    // words.
    let mut seen = std::collections::HashSet::new();
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty() && seen.insert(*w))
        .collect()
}

/// `char::is_alphanumeric`, answering ASCII and the Russian alphabet
/// before Unicode's tables (a binary search per letter, which was a sixth
/// of the writer's time on Russian text when the writer split words).
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        matches!(c, '\u{0410}'..='\u{044F}' | 'ё' | 'Ё') || c.is_alphanumeric()
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::*;

    /// The prefix is the whole text's opening, cut only between words,
    /// and long enough, for markup of every shape around the cut.
    #[test]
    fn a_prefix_is_the_opening_of_the_whole_text() {
        let html = "<p>Баку, 22 ноября &laquo;Trend&raquo;.</p><p>Президент <b>принял</b> \
                    министра&nbsp;иностранных дел.</p>  <br/>Далее&amp;ещё <a href=\"x\">текст</a> конец"
            .repeat(5);
        let whole = html_to_text(&html);
        for n in 0..whole.chars().count() + 3 {
            let p = html_to_text_prefix(&html, n);
            assert!(whole.starts_with(&p), "{n}: {p}");
            assert!(
                p.chars().count() >= n.min(whole.chars().count()),
                "{n}: {p}"
            );
            let at_a_word =
                p.is_empty() || p.len() == whole.len() || whole[p.len()..].starts_with(' ');
            assert!(at_a_word, "{n}: cut inside a word");
        }
        assert_eq!(html_to_text_prefix(&html, usize::MAX), whole);
    }
}

#[cfg(test)]
mod search_tests {
    use super::*;

    #[test]
    fn search_folds_cyrillic_case_and_azerbaijani_i() {
        assert_eq!(search_fold("Бюджет"), search_fold("бюджет"));
        assert_eq!(search_fold("İqtisadiyyat"), "iqtisadiyyat");
        assert_eq!(search_fold("Bakı"), "baki");
        assert_eq!(search_fold("IRAN"), "iran");
        assert!(
            search_text("Госдума", Some("<p>приняла &laquo;бюджет&raquo;</p>"))
                .contains("«бюджет»")
        );
    }

    /// The one-pass fold is the section fold followed by the two i's, for
    /// every character and for mixed text.
    #[test]
    fn search_fold_is_the_section_fold_then_the_two_is() {
        let reference = |t: &str| -> String {
            crate::model::sections::fold(t)
                .chars()
                .filter(|&c| c != '\u{307}')
                .map(|c| if c == 'ı' { 'i' } else { c })
                .collect()
        };
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let t = format!("a{c}Б");
            assert_eq!(search_fold(&t), reference(&t), "U+{:04X}", c as u32);
        }
        let mixed = "  ÜBER Bakı\u{307}  İDMAN\tЁлка ΣΑΣ ǅ ﬀ ";
        assert_eq!(search_fold(mixed), reference(mixed));
    }

    #[test]
    fn search_text_holds_each_word_once() {
        assert_eq!(
            search_text(
                "Бюджет и бюджет",
                Some("<p>Бюджет, бюджет <b>и</b> налоги</p>")
            ),
            "бюджет и бюджет, налоги"
        );
    }

    /// The index's terms: runs of letters and digits, each once, in the
    /// order they first occur, punctuation gone (what the `ascii`
    /// tokenizer then splits back exactly).
    #[test]
    fn index_text_is_the_words_each_once() {
        assert_eq!(
            index_text(
                "«Бюджет-2027» и бюджет",
                Some("<p>Бюджет, бюджет <b>и</b> налоги İdman: 5%</p>")
            ),
            "бюджет 2027 и налоги idman 5"
        );
        assert_eq!(index_text("", Some("<p>…</p>")), "");
    }
}
