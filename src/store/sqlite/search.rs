//! The keyword index (`story_text`, FTS5) laid out so that `q=` stops early.
//!
//! Two things made a keyword query at a million stories cost tens to
//! hundreds of milliseconds: FTS5 answers a prefix query (`"бюдж"*`) by
//! merging the posting lists of every word with that prefix over the whole
//! index before the first row comes out, and its rows came in story-id
//! order, which is not the feed's, so every match was read and sorted.
//!
//! So since migration 8:
//! - a row's rowid is the story's *feed key* ([`key`]): its `published`
//!   and id packed so that rowid order is feed order (`published`, then
//!   id). FTS5 walks a posting list newest first from a cursor and SQLite
//!   stops at `LIMIT`;
//! - the text is the story's words separated by spaces under the `ascii`
//!   tokenizer (every non-ASCII character and ASCII letters and digits are
//!   word characters, anything else separates), so FTS5's terms are
//!   exactly the words Rust split ([`words`]), and `story_words` can list
//!   every term: a keyword's prefix is expanded to the words that start
//!   with it (`"бюджет" OR "бюджета"`), which FTS5 reads lazily.
//!
//! The packing is exact while every story's `published` lies within
//! [`MIN_PUBLISHED`]..=[`MAX_PUBLISHED`] (1834–2106) and its id below
//! [`MAX_ID`]; [`ordered`] checks that (three index seeks) and the reader
//! falls back to ordering by the stories' own columns when it does not
//! hold.

use super::super::StoreError;
use rusqlite::{Connection, params};

/// Bits of the key that hold the story id.
const ID_BITS: u32 = 30;
/// Story ids below this pack exactly.
pub(super) const MAX_ID: i64 = 1 << ID_BITS;
/// Earliest `published` that packs exactly (1833-12-15).
pub(super) const MIN_PUBLISHED: i64 = -(1 << 32);
/// Latest `published` that packs exactly (2106-02-07).
pub(super) const MAX_PUBLISHED: i64 = (1 << 32) - 1;
/// Keys of stories whose id does not pack start here, above every packed
/// key.
const OUT_OF_BAND: i64 = 1 << 62;

/// A prefix matching more words than this is left to FTS5's own prefix
/// query (slow, but such short prefixes are not what readers search for).
const MAX_EXPANSION: usize = 64;

/// The feed key of a story: `published * 2^30 + id`, so that keys order as
/// (`published`, id) do. `published` outside the exact range is clamped
/// (the key stays unique; only the order among such stories is lost, which
/// [`ordered`] detects). Ids from 2^30 on get keys above every packed one.
pub(super) fn key(published: i64, id: i64) -> i64 {
    if !(0..MAX_ID).contains(&id) {
        return OUT_OF_BAND.wrapping_add(id.clamp(0, OUT_OF_BAND - 1));
    }
    published.clamp(MIN_PUBLISHED, MAX_PUBLISHED) * MAX_ID + id
}

/// [`key`] in SQL, of the columns `p` and `i`.
pub(super) fn key_sql(p: &str, i: &str) -> String {
    format!(
        "(CASE WHEN {i} < 0 OR {i} >= {MAX_ID} THEN {OUT_OF_BAND} + max(0, min({i}, {last})) \
         ELSE max({MIN_PUBLISHED}, min({p}, {MAX_PUBLISHED})) * {MAX_ID} + {i} END)",
        last = OUT_OF_BAND - 1
    )
}

/// The story id of key column `k` (the inverse of [`key`]), in SQL.
pub(super) fn story_of_key_sql(k: &str) -> String {
    format!(
        "(CASE WHEN {k} >= {OUT_OF_BAND} THEN {k} - {OUT_OF_BAND} ELSE {k} & {} END)",
        MAX_ID - 1
    )
}

/// The `published` of key column `k`, in SQL: exact for packed keys
/// (`>>` is arithmetic in SQLite, so negative dates floor as they should).
pub(super) fn published_of_key_sql(k: &str) -> String {
    format!("({k} >> {ID_BITS})")
}

/// The smallest key of a story at (`published`, `id`) or after, for
/// bounds: keys of stories before it are smaller.
pub(super) fn bound(published: i64, id: i64) -> i64 {
    if published < MIN_PUBLISHED {
        return i64::MIN;
    }
    if published > MAX_PUBLISHED {
        return OUT_OF_BAND;
    }
    published * MAX_ID + id.clamp(0, MAX_ID)
}

/// Whether every stored story packs exactly, so key order is feed order.
pub(super) fn ordered(conn: &Connection) -> Result<bool, StoreError> {
    let (lo, hi, id): (Option<i64>, Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT (SELECT MIN(published) FROM stories), (SELECT MAX(published) FROM stories),
                    (SELECT MAX(id) FROM stories)",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(lo.is_none_or(|p| p >= MIN_PUBLISHED)
        && hi.is_none_or(|p| p <= MAX_PUBLISHED)
        && id.is_none_or(|i| i < MAX_ID))
}

/// The words of a folded text, each once, in order
/// ([`crate::model::text::keyword_words`]).
pub(super) fn words(text: &str) -> Vec<&str> {
    crate::model::text::keyword_words(text)
}

/// The writer thread's keyword-index rows of the open transaction, by
/// feed key, written in key order just before it commits.
///
/// FTS5 keeps a transaction's new rows in memory and writes them out as
/// one segment, but only while rowids rise: a row below the last one
/// flushes what it holds first. Feed keys follow `published`, which a
/// poll's items give newest first, so written as they came nearly every
/// story made a segment of its own, and merging those segments doubled
/// the writer's time on the ingest benchmark. Sorted, a transaction makes
/// one.
/// Key → (story id, text, whether the story is new: its row is inserted,
/// not replaced, which spares FTS5 a lookup of the row to delete).
type Pending = std::collections::BTreeMap<i64, (i64, String, bool)>;

thread_local! {
    /// `Some` only on the writer thread inside a transaction (see
    /// [`Transactions`]); elsewhere (migrations, `migrate-store`) rows are
    /// written at once.
    static PENDING: std::cell::RefCell<Option<Pending>> = const { std::cell::RefCell::new(None) };
}

/// Most words the writer thread remembers as stored in `story_words`
/// (about a megabyte); the set starts over when full. News text is
/// Zipfian: the common words come back at once, and they are most of
/// every story's words.
const KNOWN_WORDS: usize = 20_000;

/// The writer thread's memory of `story_words`, so a word already stored
/// costs no statement: `known` holds words of committed transactions only
/// (words are never deleted), `pending` those the open transaction stored,
/// which a rollback forgets.
#[derive(Default)]
struct Words {
    known: std::collections::HashSet<Box<str>>,
    pending: std::collections::HashSet<Box<str>>,
}

thread_local! {
    static WORDS: std::cell::RefCell<Words> = std::cell::RefCell::new(Words::default());
}

/// What the writer thread tells the keyword index about its transactions.
pub(super) struct Transactions;

impl Transactions {
    /// A transaction began on this thread: index rows wait for [`Self::flush`].
    pub(super) fn begin() {
        PENDING.with(|p| *p.borrow_mut() = Some(Pending::new()));
    }

    /// Writes the transaction's index rows in key order, each only if its
    /// story is still there (a purge in the same transaction may have
    /// removed it after it was indexed). Call before `COMMIT`.
    pub(super) fn flush(conn: &Connection) -> rusqlite::Result<()> {
        let Some(rows) = PENDING.with(|p| p.borrow_mut().as_mut().map(std::mem::take)) else {
            return Ok(());
        };
        if rows.is_empty() {
            return Ok(());
        }
        // One statement per row, each a single-row `VALUES`: a statement
        // that needs a statement journal (`INSERT … SELECT`, a trigger, a
        // multi-row write) opens a savepoint, and FTS5 writes out all it
        // holds in memory at every savepoint, a segment per row.
        let mut exists = conn.prepare_cached("SELECT 1 FROM stories WHERE id = ?1")?;
        for (key, (id, text, new)) in rows {
            if !exists.exists([id])? {
                continue;
            }
            let sql = if new {
                "INSERT INTO story_text (rowid, text) VALUES (?1, ?2)"
            } else {
                "INSERT OR REPLACE INTO story_text (rowid, text) VALUES (?1, ?2)"
            };
            conn.prepare_cached(sql)?.execute(params![key, text])?;
        }
        Ok(())
    }

    /// The transaction ended, `committed` after [`Self::flush`] or rolled
    /// back: rows are written at once again until the next one begins, and
    /// the words it stored are known from now on only if it committed.
    pub(super) fn ended(committed: bool) {
        PENDING.with(|p| *p.borrow_mut() = None);
        WORDS.with(|w| {
            let mut w = w.borrow_mut();
            let pending = std::mem::take(&mut w.pending);
            if committed {
                if w.known.len() + pending.len() > KNOWN_WORDS {
                    w.known.clear();
                }
                w.known.extend(pending);
            }
        });
    }
}

/// Writes (or rewrites) the index row of story `id`, published at
/// `published`, from its terms (`index_text`: [`crate::model::text::index_text`]),
/// and remembers its words.
pub(super) fn index(
    conn: &Connection,
    id: i64,
    published: i64,
    index_text: &str,
) -> Result<(), StoreError> {
    write_row(conn, id, published, index_text, false)
}

/// [`index`] for a story stored in this transaction, which has no row yet.
pub(super) fn index_new(
    conn: &Connection,
    id: i64,
    published: i64,
    index_text: &str,
) -> Result<(), StoreError> {
    write_row(conn, id, published, index_text, true)
}

fn write_row(
    conn: &Connection,
    id: i64,
    published: i64,
    index_text: &str,
    new: bool,
) -> Result<(), StoreError> {
    let key = key(published, id);
    // On the writer thread the row waits for the transaction's end.
    let now = PENDING.with(|p| match p.borrow_mut().as_mut() {
        Some(rows) => {
            // A story stored and edited in one transaction stays new.
            let new = new || rows.get(&key).is_some_and(|r| r.2);
            rows.insert(key, (id, index_text.to_string(), new));
            false
        }
        None => true,
    });
    if now {
        conn.prepare_cached("INSERT OR REPLACE INTO story_text (rowid, text) VALUES (?1, ?2)")?
            .execute(params![key, index_text])?;
    }
    let mut remember =
        conn.prepare_cached("INSERT OR IGNORE INTO story_words (word) VALUES (?1)")?;
    // Already split and each once: single spaces between words.
    let words = index_text.split(' ').filter(|w| !w.is_empty());
    if now {
        // Not in a writer transaction: nothing to remember them by.
        for w in words {
            remember.execute([w])?;
        }
        return Ok(());
    }
    WORDS.with(|known| {
        let mut known = known.borrow_mut();
        for w in words {
            if known.known.contains(w) || known.pending.contains(w) {
                continue;
            }
            remember.execute([w])?;
            known.pending.insert(w.into());
        }
        Ok(())
    })
}

/// What a keyword asks of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phrase {
    /// Some word of the keyword starts no stored word: nothing matches.
    Nothing,
    /// The FTS5 query for the stories holding, for each of the keyword's
    /// words, a word starting with it.
    Match(String),
}

/// The FTS5 query for keyword `q`: each of its words expanded to the
/// stored words it begins, all required. Stories holding them all are a
/// superset of those whose title or summary holds `q` from the start of a
/// word, which the caller's filter narrows to `q` itself. `None` when `q`
/// has no letters or digits (the caller's filter then does all the work).
pub(super) fn phrase(conn: &Connection, q: &str) -> Result<Option<Phrase>, StoreError> {
    let folded = crate::model::text::search_fold(q);
    let mut asked = words(&folded);
    if asked.is_empty() {
        return Ok(None);
    }
    asked.sort_unstable();
    let mut groups = Vec::with_capacity(asked.len());
    let mut expand = conn.prepare_cached(
        "SELECT word FROM story_words WHERE word >= ?1 AND word < ?1 || char(1114111) LIMIT ?2",
    )?;
    for w in asked {
        let found: Vec<String> = expand
            .query_map(params![w, MAX_EXPANSION as i64 + 1], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let group = match found.len() {
            0 => return Ok(Some(Phrase::Nothing)),
            n if n > MAX_EXPANSION => format!("\"{}\"*", quoted(w)),
            _ => {
                let terms: Vec<String> =
                    found.iter().map(|t| format!("\"{}\"", quoted(t))).collect();
                format!("({})", terms.join(" OR "))
            }
        };
        groups.push(group);
    }
    Ok(Some(Phrase::Match(groups.join(" AND "))))
}

fn quoted(w: &str) -> String {
    w.replace('"', "\"\"")
}

/// A migrated in-memory store with one source and a story per
/// (id, published), for the keyword index's tests and the purge's.
#[cfg(test)]
pub(super) fn test_store(stories: &[(i64, i64)]) -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    let tx = conn.transaction().unwrap();
    super::schema::migrate(&tx).unwrap();
    tx.commit().unwrap();
    conn.execute(
        "INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://e.org/a')",
        [],
    )
    .unwrap();
    for (id, published) in stories {
        conn.execute(
            "INSERT INTO stories (id, story_key, uid, source_id, title, published, updated, first_seen)
             VALUES (?1, 'k' || ?1, 'u' || ?1, 1, 't', ?2, ?2, ?2)",
            params![id, published],
        )
        .unwrap();
    }
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer transaction's rows wait for `flush`, go in in key order
    /// whatever order they came in, and skip a story deleted meanwhile.
    #[test]
    fn a_transactions_rows_are_written_at_flush_and_only_for_stories_still_there() {
        let conn = test_store(&[(1, 30), (2, 20), (3, 10)]);
        let rows = |conn: &Connection| -> Vec<i64> {
            let mut s = conn
                .prepare("SELECT rowid FROM story_text ORDER BY rowid")
                .unwrap();
            s.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let hits = |conn: &Connection, word: &str| -> i64 {
            conn.query_row(
                "SELECT COUNT(*) FROM story_text WHERE story_text MATCH ?1",
                [format!("\"{word}\"")],
                |r| r.get(0),
            )
            .unwrap()
        };
        conn.execute_batch("BEGIN").unwrap();
        Transactions::begin();
        // Newest first, as a feed lists them.
        index_new(&conn, 1, 30, "бюджет год").unwrap();
        index_new(&conn, 2, 20, "бюджет").unwrap();
        index_new(&conn, 3, 10, "спорт").unwrap();
        assert!(rows(&conn).is_empty(), "nothing written before the flush");
        conn.execute("DELETE FROM stories WHERE id = 3", [])
            .unwrap();
        Transactions::flush(&conn).unwrap();
        Transactions::ended(true);
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(rows(&conn), vec![key(20, 2), key(30, 1)]);
        assert_eq!(hits(&conn, "бюджет"), 2);
        // Outside a writer transaction a row is written at once.
        index(&conn, 1, 30, "выборы").unwrap();
        assert_eq!(rows(&conn), vec![key(20, 2), key(30, 1)]);
        assert_eq!(hits(&conn, "выборы"), 1);
    }

    /// A word the writer stored in a transaction that rolled back is not
    /// taken for stored: the job's rerun stores it, and a keyword prefix
    /// finds it.
    #[test]
    fn words_of_a_rolled_back_transaction_are_stored_again() {
        let conn = test_store(&[(1, 30)]);
        let stored = |conn: &Connection| -> i64 {
            conn.query_row(
                "SELECT COUNT(*) FROM story_words WHERE word = 'альфа'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let run = |conn: &Connection, commit: bool| {
            conn.execute_batch("BEGIN").unwrap();
            Transactions::begin();
            index(conn, 1, 30, "альфа").unwrap();
            Transactions::flush(conn).unwrap();
            conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" })
                .unwrap();
            Transactions::ended(commit);
        };
        run(&conn, false);
        assert_eq!(stored(&conn), 0);
        run(&conn, true);
        assert_eq!(stored(&conn), 1, "stored by the rerun");
        assert_eq!(
            phrase(&conn, "альф").unwrap(),
            Some(Phrase::Match("(\"альфа\")".into()))
        );
        // Known now: a later transaction needs no statement for it, and
        // the word stays stored.
        run(&conn, true);
        assert_eq!(stored(&conn), 1);
    }

    #[test]
    fn keys_order_as_published_then_id() {
        let points = [
            (MIN_PUBLISHED, 1),
            (-1, MAX_ID - 1),
            (0, 0),
            (0, 1),
            (1, 0),
            (1_733_000_000, 5),
            (1_733_000_000, 6),
            (1_733_000_001, 1),
            (MAX_PUBLISHED, MAX_ID - 1),
        ];
        for w in points.windows(2) {
            assert!(key(w[0].0, w[0].1) < key(w[1].0, w[1].1), "{w:?}");
        }
        assert!(
            key(MAX_PUBLISHED, MAX_ID - 1) < key(0, MAX_ID),
            "ids out of band above"
        );
        assert!(key(i64::MAX, i64::MAX) > 0 && key(i64::MIN, 7) < key(MIN_PUBLISHED, 8));
        let conn = Connection::open_in_memory().unwrap();
        for (p, i) in points.iter().copied().chain([(7, MAX_ID), (7, 1 << 40)]) {
            let (k, back): (i64, i64) = conn
                .query_row(
                    &format!(
                        "SELECT {k}, {b} FROM (SELECT {k} AS k)",
                        k = key_sql(&p.to_string(), &i.to_string()),
                        b = story_of_key_sql("k")
                    ),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!((k, back), (key(p, i), i), "({p}, {i})");
            if (MIN_PUBLISHED..=MAX_PUBLISHED).contains(&p) && i < MAX_ID {
                let published: i64 = conn
                    .query_row(
                        &format!("SELECT {}", published_of_key_sql(&k.to_string())),
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(published, p);
                assert!(bound(p, i) == key(p, i) && bound(p, i + 1) > key(p, i));
            }
        }
    }

    #[test]
    fn words_are_runs_of_letters_and_digits_once_each() {
        assert_eq!(
            words("бюджет-2025: «бюджет» принят, bakı"),
            ["бюджет", "2025", "принят", "bakı"]
        );
        assert!(words(" ,.!").is_empty());
    }
}
