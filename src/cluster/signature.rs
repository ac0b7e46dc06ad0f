//! What the decision compares: a report reduced to sets of stem keys,
//! named entities, numbers with their neighbours, dates and markers.
//! Computed once per report, so the daemon's window index and
//! `feedmerge similar` share it.

use super::Report;
use super::gazetteer::{self, Group};
use super::lexicon::{self, is_outlet, is_stopword};
use super::text::{Token, lower, tokenize};
use chrono::{DateTime, Utc};
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::{BTreeSet, HashMap};
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
    /// The nearest content word before and after in the same sentence, as
    /// keys; `None` where that word stands beside several values of the
    /// report («… 1,7 маната, евро — 1,85 маната»), so it names no one.
    pub context: [Option<Key>; 2],
    /// An exact figure: a decimal, a time or score, three digits or more,
    /// not a year. Two reports sharing one are likely about one thing.
    pub exact: bool,
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
    /// Name keys (a shorter stem prefix) of every content word, sorted:
    /// where a name of the other report is looked for.
    pub names: Vec<String>,
    /// Name keys of the title's named entities, sorted.
    pub title_entities: Vec<String>,
    /// Name keys of the named entities of title and lead, sorted.
    pub entities: Vec<String>,
    /// Known places and parties named in title and lead, sorted.
    pub groups: Vec<Group>,
    /// Known places and parties any word of the report refers to
    /// («азербайджанский» too), sorted.
    pub mentioned_groups: Vec<Group>,
    /// Numbers of the title (values), sorted.
    pub title_numbers: Vec<Key>,
    /// Numbers of title and lead with their context.
    pub quantities: Vec<Quantity>,
    /// Every value of title and lead (amounts, times, scores), sorted.
    pub numbers: Vec<Key>,
    /// The values that are exact figures (a decimal, a time or score,
    /// three digits or more, not a year), sorted.
    pub exact_numbers: Vec<Key>,
    /// Dates (day, month) of title and lead, sorted.
    pub dates: Vec<(u8, u8)>,
    /// [`lexicon::Marker`] bits of title and lead.
    pub markers: u8,
}

static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));
static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Similarity keys are stems cut to this many letters: the Snowball
/// stemmer leaves proper names inconsistent («казахстана» → «казахста»,
/// «казахстане» → «казахстан»), the first six letters agree.
const KEY_LETTERS: usize = 6;

/// Names are compared on fewer letters still, so that «Габалинском» finds
/// «Габалы» and «Шамахинском» finds «Шамахы».
pub(super) const NAME_LETTERS: usize = 5;

impl Signature {
    /// Prepares `report`.
    pub fn new(report: &Report) -> Signature {
        let lead_text = super::text::lead_of(&report.lead);
        let lang = report
            .lang
            .as_deref()
            .and_then(|l| l.split(['-', '_']).next())
            .map(str::to_ascii_lowercase)
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| guess_lang(&report.title, lead_text));
        let title = Part::read(&report.title, &lang, false);
        let lead = Part::read(lead_text, &lang, true);
        let mut entities: BTreeSet<String> =
            title.entities.union(&lead.entities).cloned().collect();
        // A name that opens a sentence is still a name when the report
        // names it elsewhere too, or when it is a known one.
        let confirmed = |k: &String| {
            title.named.contains(k) || lead.named.contains(k) || gazetteer::group(k).is_some()
        };
        for k in title.initial_caps.iter().chain(&lead.initial_caps) {
            if confirmed(k) {
                entities.insert(k.clone());
            }
        }
        let title_entities: BTreeSet<String> = title
            .entities
            .iter()
            .chain(title.initial_caps.iter().filter(|k| confirmed(k)))
            .cloned()
            .collect();
        let groups: BTreeSet<Group> = entities
            .iter()
            .filter_map(|k| gazetteer::group(k))
            .collect();
        let mut quantities = title.quantities.clone();
        quantities.extend(lead.quantities.iter().cloned());
        forget_shared_context(&mut quantities);
        let numbers: BTreeSet<Key> = quantities.iter().map(|q| q.value).collect();
        let exact_numbers: BTreeSet<Key> = quantities
            .iter()
            .filter(|q| q.exact)
            .map(|q| q.value)
            .collect();
        let folded = format!("{} {}", fold_text(&report.title), fold_text(lead_text));
        Signature {
            source: fold_source(&report.source),
            published: report.published,
            title_keys: title.keys.iter().copied().collect(),
            keys: title.keys.union(&lead.keys).copied().collect(),
            mentioned_groups: title
                .names
                .union(&lead.names)
                .filter_map(|k| gazetteer::group(k))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            names: title.names.union(&lead.names).cloned().collect(),
            title_entities: title_entities.into_iter().collect(),
            entities: entities.into_iter().collect(),
            groups: groups.into_iter().collect(),
            title_numbers: title
                .quantities
                .iter()
                .map(|q| q.value)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            quantities,
            numbers: numbers.into_iter().collect(),
            exact_numbers: exact_numbers.into_iter().collect(),
            dates: title.dates.union(&lead.dates).copied().collect(),
            markers: lexicon::markers(&folded),
            lang,
        }
    }

    /// Whether this report mentions the name `key` (as a word, or as a
    /// longer word it begins, for names shorter than a key: «Гах» →
    /// «Гахском»).
    pub fn mentions(&self, key: &str) -> bool {
        if self.names.binary_search_by(|n| n.as_str().cmp(key)).is_ok() {
            return true;
        }
        if key.chars().count() < NAME_LETTERS && key.chars().count() >= 3 {
            return self.names.iter().any(|n| n.starts_with(key));
        }
        false
    }
}

/// A context word beside two different values of one report names
/// neither of them: drop it.
fn forget_shared_context(quantities: &mut [Quantity]) {
    for side in 0..2 {
        let mut values: HashMap<Key, BTreeSet<Key>> = HashMap::new();
        for q in quantities.iter() {
            if let Some(c) = q.context[side] {
                values.entry(c).or_default().insert(q.value);
            }
        }
        for q in quantities.iter_mut() {
            if let Some(c) = q.context[side]
                && values.get(&c).is_some_and(|v| v.len() > 1)
            {
                q.context[side] = None;
            }
        }
    }
}

/// One field (title or lead) read into sets.
#[derive(Default)]
struct Part {
    keys: BTreeSet<Key>,
    names: BTreeSet<String>,
    entities: BTreeSet<String>,
    /// Capitalised words that open a sentence: names or not, undecided.
    initial_caps: BTreeSet<String>,
    /// Name keys of capitalised words anywhere (to decide the initial ones).
    named: BTreeSet<String>,
    quantities: Vec<Quantity>,
    dates: BTreeSet<(u8, u8)>,
}

impl Part {
    fn read(text: &str, lang: &str, lead: bool) -> Part {
        let mut tokens = tokenize(text);
        if lead {
            let skip = dateline(&tokens);
            tokens.drain(..skip);
            // What follows a dateline opens the sentence.
            if skip > 0
                && let Some(Token::Word { initial, .. }) = tokens.first_mut()
            {
                *initial = true;
            }
        }
        let mut part = Part::default();
        // Similarity and name keys of content words by token position.
        let mut words: Vec<Option<(Key, String)>> = WORD_KEYS.with_borrow_mut(|cache| {
            tokens
                .iter()
                .map(|t| match t {
                    Token::Word { text, .. } => cache.get(text, lang),
                    _ => None,
                })
                .collect()
        });
        for (i, token) in tokens.iter().enumerate() {
            match token {
                Token::Word {
                    text,
                    capital,
                    upper,
                    initial,
                } => {
                    let Some((k, name)) = words[i].as_mut() else {
                        continue;
                    };
                    part.keys.insert(*k);
                    // Only the key is read again (as a number's
                    // neighbour), so the name moves into the sets.
                    let name = std::mem::take(name);
                    if (*upper || (*capital && !*initial)) && text.chars().count() > 1 {
                        part.entities.insert(name.clone());
                        part.named.insert(name.clone());
                    } else if *capital && text.chars().count() > 2 {
                        part.initial_caps.insert(name.clone());
                    }
                    part.names.insert(name);
                }
                Token::Number(n) | Token::Time(n) => part.quantities.push(Quantity {
                    value: hash(n),
                    context: [
                        nearest(&words, &tokens, i, false),
                        nearest(&words, &tokens, i, true),
                    ],
                    exact: is_exact(n),
                }),
                Token::Date(d, m) => {
                    part.dates.insert((*d, *m));
                }
                Token::Break | Token::Comma => {}
            }
        }
        part
    }
}

/// The keys of a content word (`None` for a stopword or an outlet's
/// name), remembered per thread: stemming was the largest part of a
/// signature, and news copy repeats its words. Bounded: emptied when full.
struct WordKeys {
    /// By stemmer (see [`stemmer_of`]), folded word → keys.
    by_stemmer: [HashMap<String, Option<(Key, String)>>; 3],
}

/// Words remembered per stemmer before [`WordKeys`] starts over (a few
/// MB; a day of a thousand outlets' copy uses fewer distinct words).
pub(super) const WORD_KEYS_KEPT: usize = 20_000;

/// Longest word (in bytes of UTF-8) [`WordKeys`] remembers: 32 Cyrillic
/// letters, longer than any Russian word in use.
const WORD_KEPT_BYTES: usize = 64;

thread_local! {
    static WORD_KEYS: std::cell::RefCell<WordKeys> = std::cell::RefCell::new(WordKeys {
        by_stemmer: Default::default(),
    });
}

impl WordKeys {
    fn get(&mut self, word: &str, lang: &str) -> Option<(Key, String)> {
        let stemmer = stemmer_of(lang);
        let map = &mut self.by_stemmer[stemmer as usize];
        if let Some(keys) = map.get(word) {
            return keys.clone();
        }
        let keys = word_keys(word, lang);
        // A run of letters no language has as a word (a long token of
        // junk) is not kept: the bound is a count, and it must bound bytes.
        if word.len() > WORD_KEPT_BYTES {
            return keys;
        }
        if map.len() >= WORD_KEYS_KEPT {
            map.clear();
        }
        map.insert(word.to_string(), keys.clone());
        keys
    }
}

/// Which stemmer [`stem`] uses for `lang`: the cache's partition.
#[derive(Clone, Copy)]
enum Stemming {
    Russian = 0,
    English = 1,
    None = 2,
}

fn stemmer_of(lang: &str) -> Stemming {
    match lang {
        "ru" | "uk" | "be" => Stemming::Russian,
        "en" => Stemming::English,
        _ => Stemming::None,
    }
}

/// The similarity key and name key of a folded word, or `None` when it
/// carries no event.
fn word_keys(word: &str, lang: &str) -> Option<(Key, String)> {
    if is_stopword(word) || is_outlet(word) {
        return None;
    }
    let stem = stem(word, lang);
    let prefix = stem
        .char_indices()
        .nth(KEY_LETTERS)
        .map_or(stem.as_str(), |(i, _)| &stem[..i]);
    Some((hash(prefix), name_of(word, &stem)))
}

/// A decimal, a time or score, or three digits or more that are not a
/// year.
fn is_exact(n: &str) -> bool {
    if n.contains(['.', ':']) {
        return true;
    }
    let year = n.len() == 4 && (n.starts_with("19") || n.starts_with("20"));
    n.len() >= 3 && !year
}

/// How many tokens open a lead as its dateline: «Баку, 22 ноября,
/// АЗЕРТАДЖ.», «АСТАНА. КАЗИНФОРМ —», «Баку /Trend/ -». Each outlet writes
/// its own city, date and name, which would read as names and dates that
/// two reprints disagree on. A dateline is at most three capitalised
/// words and a date, then the outlet's name (or a sentence end after the
/// date).
fn dateline(tokens: &[Token]) -> usize {
    let mut caps = 0;
    let mut dated = false;
    for (i, t) in tokens.iter().enumerate().take(12) {
        match t {
            Token::Word { text, .. } if is_outlet(text) => {
                let mut end = i + 1;
                while let Some(next) = tokens.get(end) {
                    match next {
                        Token::Break | Token::Comma => end += 1,
                        Token::Word { text, .. } if is_outlet(text) || is_stopword(text) => {
                            end += 1
                        }
                        _ => break,
                    }
                }
                return end;
            }
            Token::Word { capital: true, .. } if caps < 3 && !dated => caps += 1,
            Token::Date(..) => dated = true,
            Token::Break if dated && caps > 0 => return i + 1,
            Token::Break | Token::Comma => {}
            _ => return 0,
        }
    }
    0
}

/// The key of the nearest content word before (or after) token `i` in
/// its sentence, looking past at most one stopword and never past another
/// number.
fn nearest(
    words: &[Option<(Key, String)>],
    tokens: &[Token],
    i: usize,
    after: bool,
) -> Option<Key> {
    for step in 1..=2 {
        let j = if after {
            i.checked_add(step)?
        } else {
            i.checked_sub(step)?
        };
        match tokens.get(j)? {
            Token::Word { text, .. } => {
                if let Some((k, _)) = &words[j] {
                    // A verb beside a number names no quantity: «погибли
                    // 1 человек, 8 пострадали» puts it beside both.
                    return (!looks_like_verb(text)).then_some(*k);
                }
            }
            _ => return None,
        }
    }
    None
}

/// A Russian verb in the past tense or the third person («погибли»,
/// «составил», «составляет», «стоят»).
fn looks_like_verb(word: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "л", "ла", "ло", "ли", "лся", "лась", "лось", "лись", "ет", "ют", "ется", "ются", "ит",
        "ят",
    ];
    word.chars().count() > 4 && ENDINGS.iter().any(|e| word.ends_with(e))
}

/// The stem of a folded word in `lang`. Azerbaijani and the other Turkic
/// languages have no Snowball stemmer; their suffixes stack, so the word
/// itself is kept and the key's prefix does the light stemming.
fn stem(word: &str, lang: &str) -> String {
    match stemmer_of(lang) {
        Stemming::Russian => RUSSIAN.stem(word).into_owned(),
        Stemming::English => ENGLISH.stem(word).into_owned(),
        Stemming::None => word.to_string(),
    }
}

/// The name key of a folded word, as the gazetteer is indexed.
pub fn name_key(word: &str, lang: &str) -> String {
    name_of(word, &stem(word, lang))
}

/// A name's key from its stem, or from the word itself when the stemmer
/// cut a short name to almost nothing («алят» → «ал»).
fn name_of(word: &str, stem: &str) -> String {
    let base = if stem.chars().count() < 3 { word } else { stem };
    base.chars().take(NAME_LETTERS).collect()
}

fn hash(text: &str) -> Key {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Lowercase with «ё» → «е», every other character kept (markers are
/// phrases, spaces and all).
fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let yo = |c: char| if c == 'ё' { 'е' } else { c };
    for c in text.chars() {
        match lower(c) {
            Some(l) => out.push(yo(l)),
            None => out.extend(c.to_lowercase().map(yo)),
        }
    }
    out
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
    for c in title
        .chars()
        .chain(lead.chars())
        .flat_map(char::to_lowercase)
    {
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
