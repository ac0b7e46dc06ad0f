//! Near-duplicate reports: whether two reports from different outlets tell
//! one event, by a rule a reader can follow.
//!
//! Owns the pure decision ([`decide`]) and what it compares
//! ([`Signature`]); the store keeps the clusters it forms and the CLI's
//! `similar` measures it. Imports only `model`-level crates: every layer
//! that clusters may use it.
//!
//! The decision is lexical and precision-first, because a wrong merge
//! hides a story. Agency copy is formulaic («Президент Азербайджана принял
//! министра иностранных дел Венгрии» / «… Словакии»), so shared words
//! alone prove nothing: numbers, dates, named entities and the kind of
//! report (a denial, a verdict) veto a merge when they disagree, and count
//! as evidence when they agree.

mod gazetteer;
mod lexicon;
mod signature;
mod text;
mod window;

pub use signature::{Key, Signature, fold_source};
pub use text::LEAD_CHARS;
pub use window::{MAX_MEMBERS, Placement, Window, rule_of};

use chrono::{DateTime, Utc};
use lexicon::Marker;
use std::time::Duration;

/// One report as the decision sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The outlet (source name or host).
    pub source: String,
    /// Plain-text title.
    pub title: String,
    /// Plain-text lead: the first few hundred characters of the text.
    pub lead: String,
    /// Publication time, when known (no window check without it).
    pub published: Option<DateTime<Utc>>,
    /// Language tag (`ru`, `az`, `en-GB`), when known.
    pub lang: Option<String>,
}

/// Why two reports were or were not judged one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Same: nearly the same words (a reprint with small edits).
    Reprint,
    /// Same: enough shared words, names and numbers, and nothing disagrees.
    Rewrite,
    /// Different: one outlet's stories are never merged (columns repeat).
    SameSource,
    /// Different: reports in two languages are not merged.
    DifferentLanguage,
    /// Different: published further apart than the window.
    OutsideWindow,
    /// Different: they give one quantity two values, or disjoint numbers.
    NumberConflict,
    /// Different: they name different days.
    DateConflict,
    /// Different: each names someone or somewhere the other does not.
    EntityConflict,
    /// Different: one is a denial or a verdict and the other is not, or
    /// one tells a start and the other an end.
    MarkerConflict,
    /// Different: too few words in common.
    TooDifferent,
}

impl Rule {
    /// The rule's name as `similar` and `explain` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Reprint => "reprint",
            Rule::Rewrite => "rewrite",
            Rule::SameSource => "same-source",
            Rule::DifferentLanguage => "different-language",
            Rule::OutsideWindow => "outside-window",
            Rule::NumberConflict => "number-conflict",
            Rule::DateConflict => "date-conflict",
            Rule::EntityConflict => "entity-conflict",
            Rule::MarkerConflict => "marker-conflict",
            Rule::TooDifferent => "too-different",
        }
    }

    /// Whether the rule merges.
    pub fn same(self) -> bool {
        matches!(self, Rule::Reprint | Rule::Rewrite)
    }
}

/// The outcome for a pair.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Decision {
    /// One event.
    pub same: bool,
    /// The rule that decided.
    pub rule: Rule,
    /// Lexical similarity, 0-1, rounded to three places (also reported for
    /// a veto, to show how close the pair came).
    pub score: f64,
}

/// The default window: reports of one event more than this far apart are
/// not merged.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(48 * 3600);

/// Dice over title+lead keys from which a pair is a reprint.
const REPRINT_DICE: f64 = 0.75;
/// Score from which a pair with shared evidence is a rewrite.
const REWRITE_SCORE: f64 = 0.45;
/// Score from which a pair that shares a name and an exact figure is a
/// rewrite.
const CORROBORATED_SCORE: f64 = 0.2;
/// Added to [`REWRITE_SCORE`] when the two are more than a day apart.
const LATE_PENALTY: f64 = 0.1;

/// Decides whether two reports tell one event.
pub fn decide(a: &Report, b: &Report, window: Duration) -> Decision {
    decide_signatures(&Signature::new(a), &Signature::new(b), window)
}

/// [`decide`] on prepared signatures (the daemon keeps them).
pub fn decide_signatures(a: &Signature, b: &Signature, window: Duration) -> Decision {
    let s = Similarity::of(a, b);
    let score = (s.score() * 1000.0).round() / 1000.0;
    let verdict = |rule: Rule| Decision {
        same: rule.same(),
        rule,
        score,
    };
    // An unknown outlet is not taken for the other's.
    if a.source == b.source && !a.source.is_empty() {
        return verdict(Rule::SameSource);
    }
    if a.lang != b.lang {
        return verdict(Rule::DifferentLanguage);
    }
    let apart = match (a.published, b.published) {
        (Some(x), Some(y)) => Some((x - y).abs().to_std().unwrap_or(Duration::MAX)),
        _ => None,
    };
    if apart.is_some_and(|d| d > window) {
        return verdict(Rule::OutsideWindow);
    }
    if let Some(rule) = veto(a, b) {
        return verdict(rule);
    }
    if s.dice >= REPRINT_DICE {
        return verdict(Rule::Reprint);
    }
    let late = apart.is_some_and(|d| d > Duration::from_secs(24 * 3600));
    let needed = REWRITE_SCORE + if late { LATE_PENALTY } else { 0.0 };
    if s.score() >= needed && s.evidence() > 0 {
        return verdict(Rule::Rewrite);
    }
    // Few words in common, but the same name with the same exact figure
    // («Загатала тряхнуло: магнитуда 3,2» / «В Загатальском районе
    // произошло землетрясение … магнитудой 3,2»), or a name, a day and a
    // figure, and nothing that disagrees.
    let corroborated = s.names > 0
        && ((s.exact_numbers > 0 && s.score() >= CORROBORATED_SCORE)
            || (s.evidence() >= 3
                && s.dates + s.numbers > 0
                && s.score() >= CORROBORATED_SCORE + 0.1));
    if corroborated && !late {
        return verdict(Rule::Rewrite);
    }
    verdict(Rule::TooDifferent)
}

/// The first veto that applies, if any.
fn veto(a: &Signature, b: &Signature) -> Option<Rule> {
    if dates_conflict(a, b) {
        return Some(Rule::DateConflict);
    }
    if numbers_conflict(a, b) {
        return Some(Rule::NumberConflict);
    }
    if entities_conflict(a, b) {
        return Some(Rule::EntityConflict);
    }
    if markers_conflict(a.markers, b.markers) {
        return Some(Rule::MarkerConflict);
    }
    None
}

/// Each names a day the other does not.
fn dates_conflict(a: &Signature, b: &Signature) -> bool {
    let only = |x: &Signature, y: &Signature| x.dates.iter().any(|d| !y.dates.contains(d));
    !a.dates.is_empty() && !b.dates.is_empty() && only(a, b) && only(b, a)
}

/// The titles give numbers the other lacks; or one quantity (the same
/// word beside it) has two values; or both give numbers and share none.
fn numbers_conflict(a: &Signature, b: &Signature) -> bool {
    let title_only =
        |x: &Signature, y: &Signature| x.title_numbers.iter().any(|n| !has(&y.numbers, *n));
    if !a.title_numbers.is_empty()
        && !b.title_numbers.is_empty()
        && title_only(a, b)
        && title_only(b, a)
    {
        return true;
    }
    // A word both put beside values: the values beside it must meet.
    fn beside(s: &Signature, side: usize, c: Key) -> impl Iterator<Item = Key> + '_ {
        s.quantities
            .iter()
            .filter(move |q| q.context[side] == Some(c))
            .map(|q| q.value)
    }
    let clash = a.quantities.iter().any(|qa| {
        (0..2).any(|side| {
            let Some(c) = qa.context[side] else {
                return false;
            };
            let theirs: Vec<Key> = beside(b, side, c).collect();
            !theirs.is_empty() && !beside(a, side, c).any(|v| theirs.contains(&v))
        })
    });
    clash || (!a.numbers.is_empty() && !b.numbers.is_empty() && shared(&a.numbers, &b.numbers) == 0)
}

/// Each report names a known place or party the other never mentions; or
/// each title names someone the other report never mentions; or, over
/// the whole text, the names each has alone outnumber those they share.
fn entities_conflict(a: &Signature, b: &Signature) -> bool {
    let unknown_to =
        |x: &Signature, y: &Signature| x.groups.iter().any(|g| !y.mentioned_groups.contains(g));
    if unknown_to(a, b) && unknown_to(b, a) {
        return true;
    }
    let alone = |names: &[String], other: &Signature| {
        names
            .iter()
            .filter(|e| {
                !other.mentions(e)
                    && !gazetteer::group(e).is_some_and(|g| other.mentioned_groups.contains(&g))
            })
            .count()
    };
    if alone(&a.title_entities, b) > 0 && alone(&b.title_entities, a) > 0 {
        return true;
    }
    let (only_a, only_b) = (alone(&a.entities, b), alone(&b.entities, a));
    let both = a.entities.iter().filter(|e| b.entities.contains(e)).count();
    let fewer = only_a.min(only_b);
    fewer >= 2 && fewer >= both
}

/// A denial or a verdict on one side only, or a start against an end.
fn markers_conflict(a: u8, b: u8) -> bool {
    let one_sided = |m: Marker| (a & m.bit() != 0) != (b & m.bit() != 0);
    // Only one of the two: a report of both a start and an end conflicts
    // with neither.
    let only = |x: u8, m: Marker, n: Marker| x & m.bit() != 0 && x & n.bit() == 0;
    one_sided(Marker::Denial)
        || one_sided(Marker::Verdict)
        || one_sided(Marker::FollowUp)
        || (only(a, Marker::Start, Marker::End) && only(b, Marker::End, Marker::Start))
        || (only(a, Marker::End, Marker::Start) && only(b, Marker::Start, Marker::End))
}

/// Lexical overlap of two signatures.
struct Similarity {
    /// Share of each title's keys found anywhere in the other report.
    title_cover: f64,
    /// Dice over title+lead keys.
    dice: f64,
    /// Overlap coefficient over title+lead keys.
    overlap: f64,
    /// Shared named entities.
    names: usize,
    /// Shared numbers.
    numbers: usize,
    /// Shared numbers that are exact figures (a decimal, a time or score,
    /// three digits or more, not a year).
    exact_numbers: usize,
    /// Shared dates.
    dates: usize,
}

impl Similarity {
    fn of(a: &Signature, b: &Signature) -> Similarity {
        let common = shared(&a.keys, &b.keys) as f64;
        let (na, nb) = (a.keys.len() as f64, b.keys.len() as f64);
        let covered = shared(&a.title_keys, &b.keys) + shared(&b.title_keys, &a.keys);
        let titles = a.title_keys.len() + b.title_keys.len();
        Similarity {
            title_cover: ratio(covered as f64, titles as f64),
            dice: ratio(2.0 * common, na + nb),
            overlap: ratio(common, na.min(nb)),
            names: a.entities.iter().filter(|e| b.entities.contains(e)).count(),
            numbers: shared(&a.numbers, &b.numbers),
            exact_numbers: shared(&a.exact_numbers, &b.exact_numbers),
            dates: a.dates.iter().filter(|d| b.dates.contains(d)).count(),
        }
    }

    fn evidence(&self) -> usize {
        self.names + self.numbers + self.dates
    }

    fn score(&self) -> f64 {
        (self.title_cover + self.dice + self.overlap) / 3.0
    }
}

fn ratio(x: f64, y: f64) -> f64 {
    if y > 0.0 { x / y } else { 0.0 }
}

fn has(sorted: &[Key], k: Key) -> bool {
    sorted.binary_search(&k).is_ok()
}

/// Size of the intersection of two sorted sets.
fn shared(a: &[Key], b: &[Key]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests;
