//! What the decision compares: a report reduced to sets of stem keys,
//! named entities, numbers with their neighbours, dates and markers.
//! Computed once per report, so the daemon's window index and
//! `feedmerge similar` share it.

use super::lexicon::{self, is_outlet, is_stopword};
use super::text::{Token, tokenize};
use super::Report;
use chrono::{DateTime, Utc};
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

/// A stem key, hashed: stems are compared only for equality, and a `u64`
/// keeps the sets small and the intersections cheap.
pub type Key = u64;

/// A number of a report with the words beside it («магнитудой 4,1 балла»
/// → 4.1, магнит…, балл…): two reports that give one quantity two values
/// disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The normalised value, hashed.
    pub value: Key,
    /// The nearest content word before and after, as keys.
    pub context: [Option<Key>; 2],
    /// A clock time rather than an amount.
    pub time: bool,
}

/// A report prepared for comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// The outlet, folded (case, `www.`).
    pub source: String,
    /// The language: the report's own tag, else guessed from its letters.
    pub lang: String,
    /// When it was published, if known.
    pub published: Option<DateTime<Utc>>,
    /// Content keys of the title, sorted.
    pub title_keys: Vec<Key>,
    /// Content keys of title and lead, sorted.
    pub keys: Vec<Key>,
    /// Entity keys of the title, sorted.
    pub title_entities: Vec<Key>,
    /// Entity keys of title and lead, sorted.
    pub entities: Vec<Key>,
    /// Numbers of the title (values), sorted.
    pub title_numbers: Vec<Key>,
    /// Numbers of title and lead with their context.
    pub quantities: Vec<Quantity>,
    /// Number values of title and lead (no clock times), sorted.
    pub numbers: Vec<Key>,
    /// Dates (day, month) of title and lead, sorted.
    pub dates: Vec<(u8, u8)>,
    /// [`lexicon::Marker`] bits of title and lead.
    pub markers: u8,
}

static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));
static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Keys are stems cut to this many letters: the Snowball stemmer leaves
/// proper names inconsistent («казахстана» → «казахста», «казахстане» →
/// «казахстан»), the first six letters agree.
const KEY_LETTERS: usize = 6;

/// Azerbaijani and the other Turkic languages have no Snowball stemmer;
/// their suffixes stack, so a short prefix is the light stemming used.
const TURKIC_LETTERS: usize = 5;

impl Signature {
    /// Prepares `report`.
    pub fn new(report: &Report) -> Signature {
        let lang = report
            .lang
            .as_deref()
            .and_then(|l| l.split(['-', '_']).next())
            .map(str::to_ascii_lowercase)
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| guess_lang(&report.title, &report.lead));
        let title = Part::read(&report.title, &lang);
        let lead = Part::read(&report.lead, &lang);
        let mut entities: BTreeSet<Key> = title.entities.union(&lead.entities).copied().collect();
        // A name that opens a sentence is still a name when the report
        // names it elsewhere too.
        for k in title.initial_caps.iter().chain(&lead.initial_caps) {
            if title.named.contains(k) || lead.named.contains(k) {
                entities.insert(*k);
            }
        }
        let title_entities: Vec<Key> = title
            .entities
            .iter()
            .chain(title.initial_caps.iter().filter(|k| entities.contains(k)))
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut quantities = title.quantities.clone();
        quantities.extend(lead.quantities.iter().cloned());
        let numbers: BTreeSet<Key> = quantities
            .iter()
            .filter(|q| !q.time)
            .map(|q| q.value)
            .collect();
        let folded = format!("{} {}", fold_text(&report.title), fold_text(&report.lead));
        Signature {
            source: fold_source(&report.source),
            published: report.published,
            title_keys: title.keys.iter().copied().collect(),
            keys: title.keys.union(&lead.keys).copied().collect(),
            title_entities,
            entities: entities.into_iter().collect(),
            title_numbers: title
                .quantities
                .iter()
                .map(|q| q.value)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            quantities,
            numbers: numbers.into_iter().collect(),
            dates: title
                .dates
                .union(&lead.dates)
                .copied()
                .collect::<Vec<_>>(),
            markers: lexicon::markers(&folded),
            lang,
        }
    }
}

/// One field (title or lead) read into sets.
#[derive(Default)]
struct Part {
    keys: BTreeSet<Key>,
    entities: BTreeSet<Key>,
    /// Capitalised words that open a sentence: names or not, undecided.
    initial_caps: BTreeSet<Key>,
    /// Keys of capitalised words anywhere (to decide the initial ones).
    named: BTreeSet<Key>,
    quantities: Vec<Quantity>,
    dates: BTreeSet<(u8, u8)>,
}

impl Part {
    fn read(text: &str, lang: &str) -> Part {
        let tokens = tokenize(text);
        let mut part = Part::default();
        // Keys of content words by token position, for number context.
        let word_keys: Vec<Option<Key>> = tokens
            .iter()
            .map(|t| match t {
                Token::Word { text, .. } if !is_stopword(text) && !is_outlet(text) => {
                    Some(key(text, lang))
                }
                _ => None,
            })
            .collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                Token::Word {
                    text,
                    capital,
                    upper,
                    initial,
                } => {
                    let Some(k) = word_keys[i] else { continue };
                    part.keys.insert(k);
                    if *upper || (*capital && !*initial) {
                        part.entities.insert(k);
                        part.named.insert(k);
                    } else if *capital && text.chars().count() > 2 {
                        part.initial_caps.insert(k);
                    }
                }
                Token::Number(n) | Token::Time(n) => part.quantities.push(Quantity {
                    value: hash(n),
                    context: [
                        nearest(&word_keys, &tokens, i, false),
                        nearest(&word_keys, &tokens, i, true),
                    ],
                    time: matches!(token, Token::Time(_)),
                }),
                Token::Date(d, m) => {
                    part.dates.insert((*d, *m));
                }
            }
        }
        part
    }
}

/// The key of the nearest content word before (or after) token `i`,
/// looking past at most one stopword and never past another number.
fn nearest(keys: &[Option<Key>], tokens: &[Token], i: usize, after: bool) -> Option<Key> {
    for step in 1..=2 {
        let j = if after { i.checked_add(step)? } else { i.checked_sub(step)? };
        match tokens.get(j)? {
            Token::Word { .. } => {
                if let Some(k) = keys[j] {
                    return Some(k);
                }
            }
            _ => return None,
        }
    }
    None
}

/// The key of a folded word in `lang`.
fn key(word: &str, lang: &str) -> Key {
    let stem = match lang {
        "ru" | "uk" | "be" => RUSSIAN.stem(word).into_owned(),
        "en" => ENGLISH.stem(word).into_owned(),
        _ => word.chars().take(TURKIC_LETTERS).collect(),
    };
    hash(&stem.chars().take(KEY_LETTERS).collect::<String>())
}

fn hash(text: &str) -> Key {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

fn fold_text(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// An outlet's name, compared without case and `www.`.
pub fn fold_source(source: &str) -> String {
    let s = source.trim().to_lowercase();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(&s);
    let s = s.strip_prefix("www.").unwrap_or(s);
    s.trim_end_matches('/').to_string()
}

/// The language of a report without a tag, from its letters: Azerbaijani
/// and Kazakh by their own letters, else Cyrillic → ru, Latin → en.
fn guess_lang(title: &str, lead: &str) -> String {
    let (mut cyr, mut lat, mut az, mut kk) = (0usize, 0usize, 0usize, 0usize);
    for c in title.chars().chain(lead.chars()).flat_map(char::to_lowercase) {
        match c {
            'ə' | 'ğ' | 'ı' | 'ş' => {
                az += 1;
                lat += 1;
            }
            'ә' | 'ғ' | 'қ' | 'ң' | 'ө' | 'ұ' | 'ү' | 'һ' | 'і' => {
                kk += 1;
                cyr += 1;
            }
            'а'..='я' | 'ё' => cyr += 1,
            'a'..='z' | 'ç' | 'ö' | 'ü' => lat += 1,
            _ => {}
        }
    }
    let lang = if cyr >= lat {
        if kk > 0 && kk * 40 >= cyr { "kk" } else { "ru" }
    } else if az > 0 && az * 60 >= lat {
        "az"
    } else {
        "en"
    };
    lang.to_string()
}
