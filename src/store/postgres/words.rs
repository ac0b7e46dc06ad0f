//! The keyword filter (`q=`) on PostgreSQL: `stories.words`, a `tsvector`
//! of the story's words as Rust splits and folds them for SQLite's index
//! (`model::text::index_text`), under a GIN index (migration 3).
//!
//! The vector is built with `array_to_tsvector`, which takes lexemes as
//! given, and a keyword becomes a `tsquery` of prefix terms (`'бюдж':*`),
//! also taken as given: PostgreSQL's own text-search parser and
//! dictionaries never see the text, so both backends split and fold
//! alike (Cyrillic, Azerbaijani `İ`/`ı`) whatever the database's locale.
//! As on SQLite, a match is a superset (every word of the keyword starts
//! some word of the story); the caller's filter narrows it to the keyword.

use super::super::StoreError;
use super::pg_error;
use crate::model::text::{index_text, keyword_words, search_fold};
use deadpool_postgres::GenericClient;
use std::borrow::Cow;

/// Longest lexeme PostgreSQL stores (its limit is 2,047 bytes); longer
/// words are cut, at a character boundary, in stories and keywords alike,
/// so a cut keyword still finds the cut word.
const MAX_LEXEME: usize = 2_046;

/// Bytes of lexemes kept per story (a `tsvector` holds at most 1 MiB);
/// words past it are not indexed. A summary that long is hostile or an
/// archive; its first half a megabyte of distinct words is plenty.
const MAX_VECTOR: usize = 512 * 1024;

/// SQL of a story's vector from the text parameter `p` (words separated by
/// single spaces, as [`vector_text`] gives them).
pub(super) fn vector_sql(p: &str) -> String {
    format!("array_to_tsvector(string_to_array({p}, ' '))")
}

/// A story's words (`index_text`'s output) as the vector's parameter: each
/// cut to [`MAX_LEXEME`], at most [`MAX_VECTOR`] bytes in all. Borrowed in
/// the usual case, where nothing needs cutting.
pub(super) fn vector_text(index_text: &str) -> Cow<'_, str> {
    let fits =
        index_text.len() <= MAX_VECTOR && index_text.split(' ').all(|w| w.len() <= MAX_LEXEME);
    if fits {
        return Cow::Borrowed(index_text);
    }
    let mut out = String::new();
    for w in index_text.split(' ').filter(|w| !w.is_empty()) {
        let w = cut(w);
        if out.len() + w.len() + 1 > MAX_VECTOR {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    Cow::Owned(out)
}

/// The `tsquery` of keyword `q`: each of its words, folded and cut as
/// stories' words are, as a required prefix. `None` when `q` has no letters
/// or digits (the caller's filter then does all the work).
pub(super) fn keyword_query(q: &str) -> Option<String> {
    let folded = search_fold(q);
    let words = keyword_words(&folded);
    if words.is_empty() {
        return None;
    }
    // Words are runs of letters and digits: nothing to escape in quotes.
    let terms: Vec<String> = words.iter().map(|w| format!("'{}':*", cut(w))).collect();
    Some(terms.join(" & "))
}

/// `w` cut to at most [`MAX_LEXEME`] bytes at a character boundary.
fn cut(w: &str) -> &str {
    if w.len() <= MAX_LEXEME {
        return w;
    }
    let mut end = MAX_LEXEME;
    while !w.is_char_boundary(end) {
        end -= 1;
    }
    &w[..end]
}

/// Stories given their vector per statement while filling.
const FILL_BATCH: i64 = 2_000;

/// Gives every story without a vector its vector, in id order, saying how
/// far it got every second when that takes longer than one: after
/// migration 3 (stories stored before it) and after `migrate-store` copied
/// stories in (the vector is derived, so not copied). Returns how many.
pub(super) async fn fill_missing(client: &impl GenericClient) -> Result<u64, StoreError> {
    let started = std::time::Instant::now();
    let mut last_report = started;
    let (mut done, mut after) = (0u64, i64::MIN);
    loop {
        let rows = client
            .query(
                "SELECT id, title, summary FROM stories WHERE id > $1 AND words IS NULL
                 ORDER BY id LIMIT $2",
                &[&after, &FILL_BATCH],
            )
            .await
            .map_err(pg_error)?;
        let Some(last) = rows.last() else { break };
        after = last.get(0);
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let texts: Vec<String> = rows
            .iter()
            .map(|r| {
                let text = index_text(r.get(1), r.get::<_, Option<&str>>(2));
                vector_text(&text).into_owned()
            })
            .collect();
        client
            .execute(
                &format!(
                    "UPDATE stories s SET words = {}
                     FROM unnest($1::bigint[], $2::text[]) AS v(id, t) WHERE s.id = v.id",
                    vector_sql("v.t")
                ),
                &[&ids, &texts],
            )
            .await
            .map_err(pg_error)?;
        done += ids.len() as u64;
        if last_report.elapsed() >= std::time::Duration::from_secs(1) {
            last_report = std::time::Instant::now();
            tracing::info!(done, "indexing stories for keyword search");
        }
    }
    if started.elapsed() >= std::time::Duration::from_secs(1) {
        tracing::info!(
            stories = done,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "stories indexed for keyword search"
        );
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyword_is_folded_prefix_terms_all_required() {
        assert_eq!(
            keyword_query("Бюджет İstanbul").as_deref(),
            Some("'бюджет':* & 'istanbul':*")
        );
        assert_eq!(keyword_query(" -- "), None);
    }

    #[test]
    fn overlong_words_are_cut_alike_in_stories_and_keywords() {
        let long = "я".repeat(3_000);
        let text = format!("бюджет {long} год");
        let vector = vector_text(&text);
        let cut_word = vector.split(' ').nth(1).unwrap();
        assert!(cut_word.len() <= MAX_LEXEME && long.starts_with(cut_word));
        let query = keyword_query(&long).unwrap();
        assert_eq!(query, format!("'{cut_word}':*"));
        assert!(matches!(vector_text("бюджет год"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_vector_holds_at_most_its_budget() {
        let text: Vec<String> = (0..200_000).map(|i| format!("w{i}")).collect();
        let text = text.join(" ");
        let vector = vector_text(&text);
        assert!(vector.len() <= MAX_VECTOR);
        assert!(vector.starts_with("w0 w1 "));
        assert!(!vector.contains("  ") && !vector.ends_with(' '));
    }
}
