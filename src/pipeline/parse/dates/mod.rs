//! Lenient parsing of the dates found in real feeds.
//!
//! [`parse_date`] replaces feed-rs's own lenient RFC 3339 / RFC 2822 parser
//! (`Builder::timestamp_parser`), so it covers everything that one did plus
//! the formats of Russian, Ukrainian and Azerbaijani sites and the vectors of
//! feedparser's date test suite.
//!
//! Instead of trying a list of formats, the input is cut into tokens (numbers,
//! words, punctuation) and every token must be understood: a date number, a
//! month name, a time, a zone, or a known word that carries no information
//! (weekday, "г.", "в", "at"). Any token that is not understood makes the whole
//! input `None`, which keeps "confidently a date" without enumerating formats.
//! Besides the formats above this accepts US-style "Aug 9, 2024 4:24 PM",
//! web-server-log "09/Aug/2024:16:24:00 +0400", CJK "2024年8月9日", IANA zone
//! names ("… 16:24 Europe/Moscow", "Etc/GMT"), "GMT+3"/"UTC-01:01",
//! RFC 2822 comments (skipped) and Portuguese month abbreviations.
//!
//! Interpretation choices worth knowing:
//! - Anything without an offset or zone, *including bare dates* (`2024-08-09`,
//!   `Thu, 01 Jan 2004`, `9 августа 2024`, `2024-08`, `2024`), is read as wall
//!   time in the caller's `zone` (midnight for bare dates). feed-rs read bare
//!   dates as midnight UTC; we prefer one rule for all offset-less input.
//! - Korean dates (년/월/일, 오전/오후) without an offset are read in
//!   Asia/Seoul, as feedparser does: they come from Korean portals.
//! - DST: ambiguous wall times take the earlier instant; wall times in a gap
//!   use the offset in force before the gap (02:30 in a 02:00→03:00 gap is
//!   03:30 after it), like java.time.
//! - Numeric dates are day-first (`dd.mm.yyyy`, `dd/mm/yyyy`, `dd-mm-yyyy`)
//!   unless the year comes first. US `mm/dd/yyyy` is only recognised when the
//!   middle field cannot be a month (`08/29/2024`). Two-digit years are only
//!   accepted in `YY-MM-DD` (ISO 8601:1988) and `dd.mm.yy`.
//! - Two-digit years after month names follow RFC 822: < 50 is 20xx.
//! - Weekdays are ignored, never checked. Besides the listed names, any first
//!   word followed by a comma counts as one ("mer, 16 nov 2022", as feed-rs).
//! - Hour 24 means hour 0 of the *same* day, as in feed-rs: it is what Java's
//!   `kk` pattern (1–24) prints for the hour after midnight.
//! - Military zone letters other than `Z` are read as UTC (RFC 2822 §4.3,
//!   chrono does the same) because RFC 822 printed their signs backwards.
//! - ALMT is +05:00 (Kazakhstan moved to a single zone in 2024; it was +06:00).
//!   AMT and IST are ambiguous and not recognised.
//! - Four-digit years are taken as written, 0001..=9999 ("01 Jan 0100" is a
//!   valid RFC 822 date, if an odd one); far-future dates are normalize's
//!   business (clamped to first-seen time).
//! - A bare number is a date only as a four-digit year (`2024`) or compact
//!   ISO 8601 `YYMMDD` (`031231`). Longer numbers (Unix timestamps such as
//!   `1723206240`, which feedparser reads as year 1723) and five-digit ones
//!   are rejected: `YYDDD` ordinals (`03335`) cannot be told apart from a
//!   five-digit year (`22013`, which W3CDTF says to reject), and a five-digit
//!   counter in a date field is likelier than an ordinal date.

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Longer input is not a date; the cap also bounds the work per call.
const MAX_LEN: usize = 256;
const MAX_TOKENS: usize = 48;

mod tables;

use tables::{FILLERS, MONTHS, WEEKDAYS, ZONES};

/// Parses a feed date as found in the wild. `zone` is used for dates that carry no offset.
/// Returns None for anything that is not confidently a date.
///
/// Bare dates (no time) are midnight in `zone`; see the module documentation
/// for the other interpretation rules.
pub fn parse_date(raw: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() || s.len() > MAX_LEN {
        return None;
    }
    if let Some(rest) = s.strip_prefix('-') {
        return truncated_iso(rest, zone);
    }
    let mut buf = [Token {
        t: Tok::P(0),
        start: 0,
        end: 0,
    }; MAX_TOKENS];
    let n = tokenize(s, &mut buf)?;
    scan(s, &buf[..n])?.resolve(n, zone)
}

#[derive(Clone, Copy)]
enum Tok<'a> {
    /// Value (saturating) and digit count.
    Num(u32, usize),
    Word(&'a str),
    P(u8),
}

#[derive(Clone, Copy)]
struct Token<'a> {
    t: Tok<'a>,
    start: usize,
    end: usize,
}

fn tokenize<'a>(s: &'a str, out: &mut [Token<'a>; MAX_TOKENS]) -> Option<usize> {
    let b = s.as_bytes();
    let (mut i, mut n) = (0, 0);
    while let Some(c) = s.get(i..).and_then(|r| r.chars().next()) {
        let start = i;
        i += c.len_utf8();
        let t = if c.is_whitespace() || c == '\u{feff}' || c == '\u{200b}' {
            continue;
        } else if c.is_ascii_digit() {
            let (mut v, mut i2) = (0u32, start);
            while let Some(d) = b.get(i2).filter(|d| d.is_ascii_digit()) {
                v = v.saturating_mul(10).saturating_add(u32::from(d - b'0'));
                i2 += 1;
            }
            i = i2;
            Tok::Num(v, i - start)
        } else if c.is_alphabetic() {
            let mut chars = s[i..].chars().peekable();
            while let Some(c) = chars.next() {
                let inner_apostrophe =
                    is_apostrophe(c) && chars.peek().is_some_and(|n| n.is_alphabetic());
                if !c.is_alphabetic() && !inner_apostrophe {
                    break;
                }
                i += c.len_utf8();
            }
            // An IANA name ("Europe/Moscow", "Etc/GMT+5") is one token, so its
            // slash is not mistaken for a date separator.
            let rest = &s[i..];
            if rest.starts_with('/') && rest[1..].starts_with(char::is_alphabetic) {
                i += rest
                    .find(|c: char| c.is_whitespace() || c == '(' || c == ',')
                    .unwrap_or(rest.len());
            }
            Tok::Word(&s[start..i])
        } else if c == '(' {
            // RFC 2822 comment, e.g. "(AZT)": skipped; nesting and \-escapes allowed.
            let (mut depth, mut escaped) = (1usize, false);
            for c in s[i..].chars() {
                i += c.len_utf8();
                depth = match c {
                    _ if std::mem::take(&mut escaped) => depth,
                    '\\' => {
                        escaped = true;
                        depth
                    }
                    '(' => depth + 1,
                    ')' => depth - 1,
                    _ => depth,
                };
                if depth == 0 {
                    break;
                }
            }
            continue;
        } else {
            match c {
                '−' | '–' => Tok::P(b'-'),
                '-' | '+' | '/' | '.' | ':' | ',' => Tok::P(c as u8),
                _ => return None,
            }
        };
        *out.get_mut(n)? = Token { t, start, end: i };
        n += 1;
    }
    Some(n)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ')
}

/// Lower-cases `word` into `buf` without apostrophes, so that table lookups
/// are plain string comparisons. None if it does not fit: no known word is
/// that long.
fn lower<'b>(word: &str, buf: &'b mut [u8; 64]) -> Option<&'b str> {
    let mut len = 0;
    for c in word.chars().filter(|c| !is_apostrophe(*c)) {
        // Azerbaijani capital İ would otherwise lower-case to "i̇".
        let c = if c == 'İ' { 'i' } else { c };
        for l in c.to_lowercase() {
            len += l.encode_utf8(buf.get_mut(len..len + l.len_utf8())?).len();
        }
    }
    std::str::from_utf8(buf.get(..len)?).ok()
}

fn month_of(lw: &str) -> Option<u32> {
    (1..)
        .zip(MONTHS)
        .find(|(_, names)| names.contains(&lw))
        .map(|(m, _)| m)
}

#[derive(Clone, Copy, Default)]
struct DNum {
    v: u32,
    len: usize,
    /// Separator before this number within a date run ('-', '/', '.'), or 0.
    sep: u8,
    /// CJK marker that labelled it: b'y', b'm', b'd', or 0.
    role: u8,
}

#[derive(Clone, Copy)]
enum Zone {
    Fixed(i32),
    Named(Tz),
}

#[derive(Default)]
struct Fields {
    nums: [DNum; 3],
    n: usize,
    month: Option<u32>,
    /// Hour, minute, second, nanosecond.
    time: Option<(u32, u32, u32, u32)>,
    pm: Option<bool>,
    zone: Option<Zone>,
    /// Set by "GMT"/"UTC": an explicit offset may still follow ("GMT-01:01").
    zone_is_prefix: bool,
    korean: bool,
}

fn is_p(t: Option<&Token>, p: u8) -> bool {
    matches!(t, Some(Token { t: Tok::P(q), .. }) if *q == p)
}

fn num_at(toks: &[Token], k: usize) -> Option<(u32, usize)> {
    match toks.get(k)?.t {
        Tok::Num(v, len) => Some((v, len)),
        _ => None,
    }
}

fn scan(s: &str, toks: &[Token]) -> Option<Fields> {
    let mut f = Fields::default();
    let mut sep = 0u8; // separator waiting for the next date number
    let mut last_date: Option<usize> = None; // token index of the last date number or month
    let mut offset_ok = false; // a sign here starts a UTC offset
    let mut i = 0;
    while let Some(tok) = toks.get(i) {
        let after_time = std::mem::take(&mut offset_ok);
        match tok.t {
            Tok::Num(_, hl)
                if hl <= 2 && is_p(toks.get(i + 1), b':') && num_at(toks, i + 2).is_some() =>
            {
                if f.time.is_some() {
                    return None;
                }
                let (t, next) = parse_time(s, toks, i)?;
                f.time = Some(t);
                offset_ok = true;
                i = next;
                continue;
            }
            Tok::Num(v, len) => {
                let slot = f.nums.get_mut(f.n)?;
                *slot = DNum {
                    v,
                    len,
                    sep: std::mem::take(&mut sep),
                    role: 0,
                };
                f.n += 1;
                last_date = Some(i);
            }
            Tok::P(b'+' | b'-') if after_time && num_at(toks, i + 1).is_some() => {
                if f.zone.is_some() && !f.zone_is_prefix {
                    return None;
                }
                let (off, next) = parse_offset(toks, i)?;
                f.zone = Some(Zone::Fixed(off));
                f.zone_is_prefix = false;
                i = next;
                continue;
            }
            Tok::P(p @ (b'-' | b'/' | b'.')) => {
                let joins = last_date.is_some_and(|k| k + 1 == i)
                    && matches!(
                        toks.get(i + 1).map(|t| t.t),
                        Some(Tok::Num(..) | Tok::Word(_))
                    );
                if joins && sep == 0 {
                    sep = p;
                } else if p != b'.' {
                    // A lone dot ends abbreviations ("авг.", "г.", "Пт.", "9. August").
                    return None;
                }
            }
            // "09/Aug/2024:16:24:00" (web server log style).
            Tok::P(b':') if last_date == i.checked_sub(1) && f.time.is_none() => {}
            Tok::P(b',') => {}
            Tok::P(_) => return None,
            Tok::Word(w) => {
                let mut buf = [0; 64];
                let lw = if w.contains('/') {
                    w
                } else {
                    lower(w, &mut buf)?
                };
                if let Some(m) = month_of(lw) {
                    if f.month.replace(m).is_some() {
                        return None;
                    }
                    sep = 0;
                    last_date = Some(i);
                } else {
                    offset_ok = word(&mut f, toks, i, lw, last_date)?;
                }
            }
        }
        i += 1;
    }
    Some(f)
}

/// Handles a non-month word (lower-cased); returns whether an offset may follow it.
fn word(
    f: &mut Fields,
    toks: &[Token],
    i: usize,
    w: &str,
    last_date: Option<usize>,
) -> Option<bool> {
    let hangul = w.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
    f.korean |= hangul;
    let role = match w {
        "년" | "年" => b'y',
        "월" | "月" => b'm',
        "일" | "日" => b'd',
        _ => 0,
    };
    if role != 0 {
        let last = f.n.checked_sub(1).and_then(|k| f.nums.get_mut(k))?;
        if last_date != i.checked_sub(1) || last.role != 0 {
            return None;
        }
        last.role = role;
        return Some(false);
    }
    let pm = match w {
        "오전" => Some(false),
        "오후" => Some(true),
        "am" => Some(false),
        "pm" => Some(true),
        _ => None,
    };
    if let Some(pm) = pm {
        if f.pm.replace(pm).is_some() {
            return None;
        }
        return Some(f.time.is_some());
    }
    let next_is_num = num_at(toks, i + 1).is_some();
    if w == "t" && f.n > 0 && f.time.is_none() && next_is_num {
        return Some(false);
    }
    let leading_with_comma = i == 0 && is_p(toks.get(1), b',');
    if WEEKDAYS.contains(&w) || leading_with_comma || FILLERS.contains(&w) {
        return Some(false);
    }
    // "at" is Atlantic time only at the very end ("16:31:00 AT"); elsewhere it
    // is English ("9 Aug 2024 at 16:24").
    if w == "at" && (f.time.is_none() || i + 1 < toks.len()) {
        return Some(false);
    }
    let (zone, prefix) = if w.contains('/') {
        (Zone::Named(w.parse::<Tz>().ok()?), false)
    } else if matches!(w, "ut" | "utc" | "gmt") {
        (Zone::Fixed(0), true)
    } else if let Some((_, min)) = ZONES.iter().find(|(name, _)| *name == w) {
        (Zone::Fixed(min * 60), false)
    } else if f.time.is_some()
        && w.len() == 1
        && w.bytes().all(|b| b.is_ascii_lowercase())
        && w != "j"
    {
        (Zone::Fixed(0), false)
    } else {
        return None;
    };
    if f.zone.replace(zone).is_some() {
        return None;
    }
    f.zone_is_prefix = prefix;
    Some(prefix)
}

/// `H:MM[:SS[.frac]]` starting at token `i`; returns the time and the next token.
fn parse_time(s: &str, toks: &[Token], i: usize) -> Option<((u32, u32, u32, u32), usize)> {
    let (h, _) = num_at(toks, i)?;
    let (m, 2) = num_at(toks, i + 2)? else {
        return None;
    };
    let (mut sec, mut nanos, mut k) = (0, 0, i + 3);
    if is_p(toks.get(k), b':') {
        let (v, 2) = num_at(toks, k + 1)? else {
            return None;
        };
        sec = v;
        k += 2;
        let adjacent = |a: usize| matches!((toks.get(a), toks.get(a + 1)), (Some(x), Some(y)) if x.end == y.start);
        if (is_p(toks.get(k), b'.') || is_p(toks.get(k), b','))
            && num_at(toks, k + 1).is_some()
            && adjacent(k - 1)
            && adjacent(k)
        {
            let digits = toks.get(k + 1).and_then(|t| s.get(t.start..t.end))?;
            let (mut v, mut scale) = (0u32, 1_000_000_000u32);
            for d in digits.bytes().take(9) {
                scale /= 10;
                v += u32::from(d - b'0') * scale;
            }
            nanos = v;
            k += 2;
        }
    }
    if is_p(toks.get(k), b':') {
        return None; // "1:2:3:4"
    }
    Some(((h, m, sec, nanos), k))
}

/// `±HH`, `±H`, `±HMM`, `±HHMM`, `±HH:MM` at token `i`; returns seconds east of UTC.
fn parse_offset(toks: &[Token], i: usize) -> Option<(i32, usize)> {
    let sign = if is_p(toks.get(i), b'-') { -1 } else { 1 };
    let (v, len) = num_at(toks, i + 1)?;
    let (hh, mm, next) = match len {
        3 | 4 => (v / 100, v % 100, i + 2),
        1 | 2 if is_p(toks.get(i + 2), b':') => {
            let (m, 2) = num_at(toks, i + 3)? else {
                return None;
            };
            (v, m, i + 4)
        }
        1 | 2 => (v, 0, i + 2),
        _ => return None,
    };
    if hh > 23 || mm > 59 {
        return None;
    }
    Some((sign * i32::try_from(hh * 3600 + mm * 60).ok()?, next))
}

fn year(n: &DNum) -> Option<i32> {
    let v = i32::try_from(n.v).ok()?;
    match n.len {
        1 | 2 => Some(year2(v)),
        4 => Some(v),
        _ => None,
    }
}

/// RFC 822 convention for two-digit years.
fn year2(v: i32) -> i32 {
    if v < 50 { 2000 + v } else { 1900 + v }
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    if !(1..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

impl Fields {
    fn date(&self, whole: usize) -> Option<NaiveDate> {
        let nums = self.nums.get(..self.n)?;
        if nums.iter().any(|x| x.role != 0) {
            // "2004년 05월 28일": every number is labelled.
            let pick = |r| nums.iter().find(|x| x.role == r);
            if self.month.is_some() || nums.len() != 3 {
                return None;
            }
            return ymd(year(pick(b'y')?)?, pick(b'm')?.v, pick(b'd')?.v);
        }
        if let Some(mo) = self.month {
            return match nums {
                // The four-digit one is the year; otherwise day then year (RFC 822).
                [a, b] if a.len >= 3 && b.len <= 2 => ymd(year(a)?, mo, b.v),
                [a, b] if a.len <= 2 => ymd(year(b)?, mo, a.v),
                [a] if a.len == 4 && self.time.is_none() => ymd(year(a)?, mo, 1),
                _ => None,
            };
        }
        match nums {
            // W3CDTF reduced precision, only when nothing else is there.
            [a] if a.len == 4 && whole == 1 => ymd(year(a)?, 1, 1),
            // ISO 8601 basic YYMMDD; a wrong month or day rejects it.
            [a] if a.len == 6 && whole == 1 => {
                let yy = i32::try_from(a.v / 10_000).ok()?;
                ymd(year2(yy), a.v / 100 % 100, a.v % 100)
            }
            [a, b] if a.len == 4 && b.sep == b'-' && whole == 3 => match b.len {
                2 => ymd(year(a)?, b.v, 1),
                3 => ymd(year(a)?, 1, 1).and_then(|d| d.with_ordinal(b.v)),
                _ => None,
            },
            [a, b, c] if b.sep != 0 && b.sep == c.sep => {
                let s = b.sep;
                // "2003-012-31" has a zero-padded month (feedparser vector).
                let month_ok = b.len <= 2 || (b.len == 3 && s == b'-');
                if a.len == 4 && month_ok && c.len <= 2 {
                    ymd(year(a)?, b.v, c.v)
                } else if a.len <= 2 && b.len <= 2 && c.len == 4 {
                    if s == b'/' && b.v > 12 && a.v <= 12 {
                        ymd(year(c)?, a.v, b.v) // unmistakably US mm/dd/yyyy
                    } else {
                        ymd(year(c)?, b.v, a.v)
                    }
                } else if a.len == 2 && b.len == 2 && c.len == 2 && s == b'-' {
                    ymd(year(a)?, b.v, c.v) // ISO 8601:1988 YY-MM-DD
                } else if a.len <= 2 && b.len <= 2 && c.len == 2 && s == b'.' {
                    ymd(year(c)?, b.v, a.v) // dd.mm.yy
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn resolve(&self, whole: usize, zone: Tz) -> Option<DateTime<Utc>> {
        let date = self.date(whole)?;
        let (mut h, m, s, nanos) = match (self.time, self.pm) {
            (None, None) => (0, 0, 0, 0),
            (None, Some(_)) => return None,
            (Some(t), _) => t,
        };
        if let Some(pm) = self.pm {
            if !(1..=12).contains(&h) {
                return None;
            }
            h = h % 12 + if pm { 12 } else { 0 };
        }
        if h == 24 {
            h = 0;
        }
        // Leap seconds end a UTC minute 59; the hour varies with the offset.
        if h > 23 || m > 59 || s > 60 || (s == 60 && m != 59) {
            return None;
        }
        // chrono represents a leap second as 59 s plus more than 10^9 ns.
        let time = if s == 60 {
            NaiveTime::from_hms_nano_opt(h, m, 59, 1_000_000_000 + nanos)?
        } else {
            NaiveTime::from_hms_nano_opt(h, m, s, nanos)?
        };
        let local = date.and_time(time);
        match self.zone {
            Some(Zone::Fixed(off)) => fixed(local, off),
            Some(Zone::Named(tz)) => in_zone(local, tz),
            None if self.korean => in_zone(local, Tz::Asia__Seoul),
            None => in_zone(local, zone),
        }
    }
}

fn fixed(local: NaiveDateTime, offset_secs: i32) -> Option<DateTime<Utc>> {
    let utc = local.checked_sub_signed(TimeDelta::seconds(offset_secs.into()))?;
    Some(Utc.from_utc_datetime(&utc))
}

fn in_zone(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    if let Some(dt) = tz.from_local_datetime(&local).earliest() {
        return Some(dt.with_timezone(&Utc));
    }
    // In a DST gap: use the offset in force just before it. Gaps are usually
    // one hour, but some zones skipped a whole day (Pacific/Apia 2011).
    for hours in 1..=48 {
        let probe = local.checked_sub_signed(TimeDelta::hours(hours))?;
        if let Some(before) = tz.from_local_datetime(&probe).earliest() {
            return fixed(local, before.offset().fix().local_minus_utc());
        }
    }
    None
}

/// ISO 8601:2000 truncated forms with a leading hyphen: `-YYMM`, `-YY-MM`.
fn truncated_iso(rest: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let b = rest.as_bytes();
    let two = |x: u8, y: u8| {
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    let (yy, mm) = match *b {
        [a, b, c, d] => (two(a, b)?, two(c, d)?),
        [a, b, b'-', c, d] => (two(a, b)?, two(c, d)?),
        _ => return None,
    };
    let date = ymd(year2(i32::try_from(yy).ok()?), mm, 1)?;
    in_zone(date.and_time(NaiveTime::MIN), zone)
}

#[cfg(test)]
mod tests;
