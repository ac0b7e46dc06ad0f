//! Dates printed on web pages: a `date_format` whose `%B`/`%b` match month
//! names in Russian (nominative and genitive), Ukrainian, Azerbaijani and
//! English, read in the source's zone; relative stamps («1 час назад»,
//! «вчера») are never a date.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Month names (folded, see [`fold`]) and their numbers. Abbreviations
/// are listed where sites print them.
const MONTHS: &[(&str, u32)] = &[
    // ru, nominative / genitive / abbreviated
    ("январь", 1),
    ("января", 1),
    ("янв", 1),
    ("февраль", 2),
    ("февраля", 2),
    ("фев", 2),
    ("февр", 2),
    ("март", 3),
    ("марта", 3),
    ("мар", 3),
    ("апрель", 4),
    ("апреля", 4),
    ("апр", 4),
    ("май", 5),
    ("мая", 5),
    ("июнь", 6),
    ("июня", 6),
    ("июн", 6),
    ("июль", 7),
    ("июля", 7),
    ("июл", 7),
    ("август", 8),
    ("августа", 8),
    ("авг", 8),
    ("сентябрь", 9),
    ("сентября", 9),
    ("сен", 9),
    ("сент", 9),
    ("октябрь", 10),
    ("октября", 10),
    ("окт", 10),
    ("ноябрь", 11),
    ("ноября", 11),
    ("ноя", 11),
    ("нояб", 11),
    ("декабрь", 12),
    ("декабря", 12),
    ("дек", 12),
    // uk, nominative / genitive / abbreviated
    ("січень", 1),
    ("січня", 1),
    ("січ", 1),
    ("лютий", 2),
    ("лютого", 2),
    ("лют", 2),
    ("березень", 3),
    ("березня", 3),
    ("бер", 3),
    ("квітень", 4),
    ("квітня", 4),
    ("квіт", 4),
    ("травень", 5),
    ("травня", 5),
    ("трав", 5),
    ("червень", 6),
    ("червня", 6),
    ("черв", 6),
    ("липень", 7),
    ("липня", 7),
    ("лип", 7),
    ("серпень", 8),
    ("серпня", 8),
    ("серп", 8),
    ("вересень", 9),
    ("вересня", 9),
    ("вер", 9),
    ("жовтень", 10),
    ("жовтня", 10),
    ("жовт", 10),
    ("листопад", 11),
    ("листопада", 11),
    ("лист", 11),
    ("грудень", 12),
    ("грудня", 12),
    ("груд", 12),
    // az
    ("yanvar", 1),
    ("fevral", 2),
    ("mart", 3),
    ("aprel", 4),
    ("may", 5),
    ("iyun", 6),
    ("iyul", 7),
    ("avqust", 8),
    ("sentyabr", 9),
    ("oktyabr", 10),
    ("noyabr", 11),
    ("dekabr", 12),
    // en
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
];

/// English month names, which chrono's `%B`/`%b` read.
const ENGLISH: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Words that make a stamp relative: it says how long ago, not when.
const RELATIVE: &[&str] = &[
    "назад",
    "вчера",
    "позавчера",
    "сегодня",
    "только что",
    "тому",
    "вчора",
    "сьогодні",
    "щойно",
    "əvvəl",
    "dünən",
    "bu gün",
    "ago",
    "yesterday",
    "today",
    "just now",
];

/// A word lowercased so that every spelling of a month name compares
/// equal. Rust lowercases «İ» to «i» + U+0307 (combining dot above), which
/// would miss «İyun»: the dot is dropped.
pub fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| *c != '\u{307}')
        .collect()
}

/// Whether a stamp is relative («1 час назад», «вчера», "2 hours ago").
pub fn is_relative(text: &str) -> bool {
    let folded = fold(text);
    RELATIVE.iter().any(|w| folded.contains(w))
}

/// A page's date text as a UTC instant: `None` for relative stamps; with
/// `format`, read by it (month names in any supported language) in `zone`;
/// without, by the feed date rules.
pub fn parse_stamp(text: &str, format: Option<&str>, zone: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || is_relative(text) {
        return None;
    }
    match format {
        Some(f) => parse_with_format(text, f, zone),
        None => crate::pipeline::parse::dates::parse_date(text, zone),
    }
}

/// `text` read by the strftime-like `format` in `zone`. Month words are
/// replaced by their English names first; text around the date (a
/// leading «-», say) is trimmed.
pub fn parse_with_format(text: &str, format: &str, zone: Tz) -> Option<DateTime<Utc>> {
    // chrono's `%b` reads only the three-letter names, `%B` both.
    let english = english_months(text, format.contains("%b") && !format.contains("%B"));
    let trimmed = english.trim_matches(|c: char| !c.is_alphanumeric());
    let naive = NaiveDateTime::parse_from_str(trimmed, format)
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(trimmed, format)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    if let Ok(with_offset) = DateTime::parse_from_str(trimmed, format) {
        return Some(with_offset.with_timezone(&Utc));
    }
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// `text` with every month word (in any supported language) replaced by
/// its English name.
fn english_months(text: &str, short: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let folded = fold(word);
        match MONTHS.iter().find(|(name, _)| *name == folded) {
            Some((_, m)) => {
                let name = ENGLISH[*m as usize - 1];
                out.push_str(if short { &name[..3] } else { name })
            }
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphabetic() || c == '\u{307}' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAKU: Tz = chrono_tz::Asia::Baku;
    const F: &str = "%d %B %Y %H:%M";

    fn at(text: &str, format: &str) -> Option<String> {
        parse_stamp(text, Some(format), BAKU).map(|d| d.to_rfc3339())
    }

    #[test]
    fn month_names_in_four_languages_in_the_source_zone() {
        let z = |s: &str| Some(s.to_string());
        assert_eq!(at("9 август 2024 16:24", F), z("2024-08-09T12:24:00+00:00"));
        assert_eq!(
            at("- 9 августа 2024 16:24", F),
            z("2024-08-09T12:24:00+00:00")
        );
        assert_eq!(at("14 июль 2021 12:24", F), z("2021-07-14T08:24:00+00:00"));
        assert_eq!(at("16 İyun 2023 13:58", F), z("2023-06-16T09:58:00+00:00"));
        assert_eq!(at("16 İYUN 2023 13:58", F), z("2023-06-16T09:58:00+00:00"));
        assert_eq!(
            at("12 April 2024, 15:23", "%d %B %Y, %H:%M"),
            z("2024-04-12T11:23:00+00:00")
        );
        assert_eq!(at("3 серпня 2024 10:00", F), z("2024-08-03T06:00:00+00:00"));
        assert_eq!(
            at("3 серп 2024", "%d %b %Y"),
            z("2024-08-02T20:00:00+00:00")
        );
    }

    #[test]
    fn the_dotted_capital_i_folds_without_its_dot() {
        assert_eq!(fold("İyun"), "iyun");
        assert_ne!("İyun".to_lowercase(), "iyun", "the trap this avoids");
    }

    #[test]
    fn relative_stamps_are_never_dates() {
        for s in [
            "1 час назад",
            "вчера, 16:24",
            "Сегодня 10:00",
            "2 hours ago",
            "3 години тому",
            "dünən",
        ] {
            assert_eq!(parse_stamp(s, Some(F), BAKU), None, "{s}");
            assert_eq!(parse_stamp(s, None, BAKU), None, "{s}");
        }
    }
}
