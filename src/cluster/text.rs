//! Tokens of a report: words with their case and position, numbers with
//! their neighbours, dates. Hand-written rather than UAX #29 because the
//! decision needs what a word splitter throws away: «4,1» as one number,
//! «1 500» as one amount, «22 ноября» as a date, and whether a capital
//! letter starts a sentence or marks a name.

use super::lexicon;

/// One token, in text order.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A run of letters, lowercased with «ё» folded to «е».
    Word {
        /// The folded text.
        text: String,
        /// The first letter was a capital.
        capital: bool,
        /// Every letter was a capital and there were at least two.
        upper: bool,
        /// First word of the text or of a sentence.
        initial: bool,
    },
    /// A number, normalised: no thousands separators, «,» → «.», no
    /// trailing zeros after the point («1,7000» = «1.7»).
    Number(String),
    /// A clock time «10:35».
    Time(String),
    /// A day of a month, from «22 ноября» or «22.11».
    Date(u8, u8),
    /// The end of a sentence: the words on either side are not neighbours.
    Break,
    /// A comma or bracket: the end of a phrase, for number context.
    Comma,
}

/// `char::is_alphabetic` with the Russian alphabet answered first: the
/// general test looks non-ASCII letters up in Unicode's tables, which was
/// the largest single cost of clustering Cyrillic copy.
fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c, 'А'..='я' | 'Ё' | 'ё')
        || (!c.is_ascii() && c.is_alphabetic())
}

/// Characters of a report's text the decision reads: its lead, the
/// opening an agency writes the event into. Agencies that put the whole
/// article in their feed would otherwise be compared on every paragraph
/// (other events' background included), and a signature cost grew with
/// the article: a 2 KB summary made one about 44 µs.
pub const LEAD_CHARS: usize = 600;

/// The lead of `text`: its whole sentences while they fit in
/// [`LEAD_CHARS`] characters, or, when the first sentence alone is longer,
/// its words up to that bound. A text that fits is returned whole.
pub fn lead_of(text: &str) -> &str {
    let (mut sentence_end, mut word_end) = (None, None);
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n == LEAD_CHARS {
            let end = sentence_end.or(word_end).unwrap_or(i);
            return text[..end].trim_end();
        }
        if matches!(c, '.' | '!' | '?' | '…' | '\n') {
            sentence_end = Some(i + c.len_utf8());
        } else if c.is_whitespace() {
            word_end = Some(i);
        }
    }
    text
}

/// Splits `text` into tokens.
pub fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut initial = true;
    while i < chars.len() {
        let c = chars[i];
        if is_letter(c) {
            let start = i;
            while i < chars.len() && (is_letter(chars[i]) || is_joiner(&chars, i)) {
                i += 1;
            }
            push_word(&mut out, &chars[start..i], initial);
            initial = false;
        } else if c.is_ascii_digit() {
            let (token, next) = number(&chars, i);
            i = next;
            out.push(token);
            initial = false;
        } else {
            if matches!(c, '.' | '!' | '?' | '…' | '\n' | ':') {
                initial = true;
            }
            if matches!(c, '.' | '!' | '?' | '…' | '\n' | ';') && out.last() != Some(&Token::Break)
            {
                out.push(Token::Break);
            } else if matches!(c, ',' | '(' | ')') {
                out.push(Token::Comma);
            }
            i += 1;
        }
    }
    fold_dates(out)
}

/// An apostrophe between two letters keeps one word («Qarabağ'ın»); a
/// hyphen does not: «Бишкек-Ош» names two places.
fn is_joiner(chars: &[char], i: usize) -> bool {
    matches!(chars[i], '\'' | '’')
        && i > 0
        && is_letter(chars[i - 1])
        && chars.get(i + 1).is_some_and(|&c| is_letter(c))
}

fn push_word(out: &mut Vec<Token>, raw: &[char], initial: bool) {
    let capital = raw.first().is_some_and(|&c| is_upper(c));
    let letters = raw.iter().filter(|&&c| is_letter(c)).count();
    let upper = letters >= 2 && raw.iter().all(|&c| !is_lower(c));
    let mut text = String::with_capacity(raw.len() * 2);
    fold_into(&mut text, raw.iter().copied());
    out.push(Token::Word {
        text,
        capital,
        upper,
        initial,
    });
}

/// Appends `raw` to `out` lowercased, with «ё» → «е» and the apostrophe
/// dropped.
fn fold_into(out: &mut String, raw: impl Iterator<Item = char>) {
    for c in raw {
        match lower(c) {
            Some(l) => {
                if is_letter(l) {
                    out.push(if l == 'ё' { 'е' } else { l });
                }
            }
            None => out.extend(
                c.to_lowercase()
                    .filter(|&c| is_letter(c))
                    .map(|c| if c == 'ё' { 'е' } else { c }),
            ),
        }
    }
}

/// `char::to_lowercase` for ASCII and the Russian alphabet, where it is
/// one letter, without Unicode's tables (they were the largest single
/// cost of folding Cyrillic copy); `None` for any other character.
pub(super) fn lower(c: char) -> Option<char> {
    match c {
        'A'..='Z' | 'А'..='Я' => char::from_u32(c as u32 + 32),
        'Ё' => Some('ё'),
        'a'..='z' | 'а'..='я' | 'ё' => Some(c),
        c if c.is_ascii() => Some(c),
        _ => None,
    }
}

/// `char::is_uppercase`, ASCII and Russian answered first.
fn is_upper(c: char) -> bool {
    match c {
        'A'..='Z' | 'А'..='Я' | 'Ё' => true,
        'a'..='z' | 'а'..='я' | 'ё' => false,
        c if c.is_ascii() => false,
        c => c.is_uppercase(),
    }
}

/// `char::is_lowercase`, ASCII and Russian answered first.
fn is_lower(c: char) -> bool {
    match c {
        'a'..='z' | 'а'..='я' | 'ё' => true,
        'A'..='Z' | 'А'..='Я' | 'Ё' => false,
        c if c.is_ascii() => false,
        c => c.is_lowercase(),
    }
}

/// Reads a number starting at `i`: digits, a decimal part after «,» or
/// «.», groups of three after a space (thousands), «:» and two digits (a
/// clock time), or «dd.mm» (a date). Returns the token and where it ends.
fn number(chars: &[char], mut i: usize) -> (Token, usize) {
    let digits = |i: usize| {
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let start = i;
    i = digits(i);
    let mut int: String = chars[start..i].iter().collect();
    // «1 500 000»: groups of exactly three digits after a (no-break) space,
    // behind a first group of at most three.
    let grouped = int.len() <= 3;
    while grouped
        && matches!(chars.get(i), Some(' ' | '\u{a0}' | '\u{202f}'))
        && digits(i + 1) == i + 4
        && !chars.get(i + 4).is_some_and(|c| c.is_alphanumeric())
    {
        int.extend(&chars[i + 1..i + 4]);
        i += 4;
    }
    let mut frac = String::new();
    if let (Some(sep), Some(d)) = (chars.get(i), chars.get(i + 1))
        && d.is_ascii_digit()
    {
        match sep {
            ':' => {
                let end = digits(i + 1);
                let minutes: String = chars[i + 1..end].iter().collect();
                return (Token::Time(format!("{int}:{minutes}")), end);
            }
            ',' | '.' => {
                let end = digits(i + 1);
                frac = chars[i + 1..end].iter().collect();
                // «22.11» or «22.11.2026»: a date, when it reads as one.
                if *sep == '.' && frac.len() == 2 && int.len() <= 2 {
                    let (day, month) = (int.parse::<u8>().ok(), frac.parse::<u8>().ok());
                    if let (Some(d), Some(m)) = (day, month)
                        && (1..=31).contains(&d)
                        && (1..=12).contains(&m)
                        && chars.get(end) == Some(&'.')
                        && chars.get(end + 1).is_some_and(|c| c.is_ascii_digit())
                    {
                        let year_end = digits(end + 1);
                        return (Token::Date(d, m), year_end);
                    }
                }
                i = end;
            }
            _ => {}
        }
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    let value = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    (Token::Number(value), i)
}

/// «22 ноября» → one date token (the number and the month word merge).
fn fold_dates(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for token in tokens {
        // The number first: most words follow none, and month() reads a
        // list.
        if let Token::Word { text, .. } = &token
            && let Some(Token::Number(n)) = out.last()
            && let Some(month) = lexicon::month(text)
            && let Ok(day) = n.parse::<u8>()
            && (1..=31).contains(&day)
        {
            out.pop();
            out.push(Token::Date(day, month));
            continue;
        }
        out.push(token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<Token> {
        tokenize(text)
            .into_iter()
            .filter(|t| !matches!(t, Token::Word { .. } | Token::Break | Token::Comma))
            .collect()
    }

    #[test]
    fn numbers_dates_and_times_read_as_one_token() {
        assert_eq!(
            numbers("магнитудой 4,1 в 10:35, 22 ноября, 1 500 манатов, 1,7000"),
            vec![
                Token::Number("4.1".into()),
                Token::Time("10:35".into()),
                Token::Date(22, 11),
                Token::Number("1500".into()),
                Token::Number("1.7".into()),
            ]
        );
        assert_eq!(
            numbers("1 500 000 манатов"),
            vec![Token::Number("1500000".into())]
        );
        assert_eq!(
            numbers("в 2026 100 раз"),
            vec![Token::Number("2026".into()), Token::Number("100".into())]
        );
        assert_eq!(numbers("22.11.2026"), vec![Token::Date(22, 11)]);
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "",
            " ",
            "1",
            "1,",
            "1.",
            "1:",
            ",1",
            "99.99.9999",
            "31.12.",
            "1 00",
            "1 0000",
            "0,000",
            "00:00:00",
            "12.13.2026",
            "\u{0301}А",
            "ё",
            "ＡＢＣ １２３",
            "a'",
            "'a",
            "-",
            "А-",
            "-Б",
            "…",
            "\n\n",
            "9999999999999999999999999 999",
        ] {
            let _ = tokenize(text);
        }
        let long = "Курс 1,7 маната на 22 ноября. ".repeat(2_000);
        assert!(tokenize(&long).len() > 2_000);
    }

    #[test]
    fn fast_case_answers_as_unicode_does() {
        for c in (0..=0x2_FFFF).filter_map(char::from_u32) {
            assert_eq!(is_upper(c), c.is_uppercase(), "{c:?}");
            assert_eq!(is_lower(c), c.is_lowercase(), "{c:?}");
            if let Some(l) = lower(c) {
                assert_eq!(c.to_lowercase().collect::<Vec<_>>(), vec![l], "{c:?}");
            }
        }
        let mut folded = String::new();
        fold_into(&mut folded, "ЁЛКА Qarabağ'ın İstanbul ǅ".chars());
        let slow: String = "ЁЛКА Qarabağ'ın İstanbul ǅ"
            .chars()
            .flat_map(char::to_lowercase)
            .filter(|&c| is_letter(c))
            .map(|c| if c == 'ё' { 'е' } else { c })
            .collect();
        assert_eq!(folded, slow);
    }

    #[test]
    fn capitals_are_told_apart_from_sentence_starts() {
        let t = tokenize("Президент принял министра Венгрии. Встреча");
        let flags: Vec<(bool, bool)> = t
            .iter()
            .filter(|t| !matches!(t, Token::Break | Token::Comma))
            .map(|t| match t {
                Token::Word {
                    capital, initial, ..
                } => (*capital, *initial),
                _ => (false, false),
            })
            .collect();
        assert_eq!(
            flags,
            vec![
                (true, true),
                (false, false),
                (false, false),
                (true, false),
                (true, true)
            ]
        );
    }
}

#[cfg(test)]
mod lead_tests {
    use super::*;

    #[test]
    fn a_lead_that_fits_is_whole() {
        let t = "Баку, 22 ноября. Президент принял министра. ".repeat(10);
        assert!(t.chars().count() <= LEAD_CHARS);
        assert_eq!(lead_of(&t), t);
    }

    #[test]
    fn a_long_text_keeps_its_whole_sentences_up_to_the_bound() {
        let sentence = "Президент Азербайджана принял министра иностранных дел Венгрии. ";
        let t = sentence.repeat(40);
        let lead = lead_of(&t);
        assert!(lead.chars().count() <= LEAD_CHARS);
        assert!(lead.ends_with("Венгрии."), "{lead}");
        assert_eq!(
            lead.matches("Венгрии.").count(),
            LEAD_CHARS / sentence.chars().count()
        );
    }

    #[test]
    fn one_endless_sentence_is_cut_between_words() {
        let t = "слово ".repeat(500);
        let lead = lead_of(&t);
        assert!(lead.chars().count() <= LEAD_CHARS);
        assert!(lead.ends_with("слово"), "{lead}");
        let run = "ж".repeat(2 * LEAD_CHARS);
        assert_eq!(lead_of(&run).chars().count(), LEAD_CHARS);
    }
}
