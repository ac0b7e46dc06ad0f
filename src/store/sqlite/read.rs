//! Reads, on pooled read-only connections.

use super::super::{Cursor, FeedStats, PollState, SourceStatus, StoreError, StoryQuery};
use super::search::{self, Phrase};
use crate::model::Validators;
use crate::model::{SourceRef, Story};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};

const STORY_COLUMNS: &str = "s.uid, s.title, s.link, s.summary, s.content, s.authors, s.categories,
     s.language, s.published, s.updated, src.name, COALESCE(src.config_title, src.title), src.url, src.site_url,
     s.enclosures";

pub(super) fn poll_state(conn: &Connection, source: &str) -> Result<PollState, StoreError> {
    let v = conn
        .prepare_cached(
            "SELECT etag, last_modified, consecutive_failures FROM sources WHERE name = ?1",
        )?
        .query_row([source], |r| {
            Ok(PollState {
                validators: Validators {
                    etag: r.get(0)?,
                    last_modified: r.get(1)?,
                },
                consecutive_failures: r.get::<_, i64>(2)?.try_into().unwrap_or(u32::MAX),
            })
        })
        .optional()?;
    Ok(v.unwrap_or_default())
}

pub(super) fn stories(conn: &Connection, q: &StoryQuery) -> Result<Vec<Story>, StoreError> {
    Ok(story_page(conn, q)?.into_iter().map(|(_, s)| s).collect())
}

/// Stories newest first with their positions. The position columns follow
/// the table that orders the scan, so SQLite walks an index in order and
/// stops after `limit` rows, however many stories a section holds.
pub(super) fn story_page(
    conn: &Connection,
    q: &StoryQuery,
) -> Result<Vec<(Cursor, Story)>, StoreError> {
    let Some((sql, params)) = page_sql(conn, q)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        let story = story_from_row(r)?;
        let cursor = Cursor {
            published: r.get(15)?,
            seq: r.get(16)?,
        };
        Ok((cursor, story))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The statement of [`story_page`] and its parameters; `None` when the
/// keyword matches no stored word (so no story).
///
/// A keyword without a source filter walks the keyword index itself,
/// newest first (its rowids are in feed order, see `search`), checking
/// each hit's sections and other filters, and stops at `limit`: no match
/// list is built or sorted. With a source filter the source's own stories
/// (fewer) are walked instead and checked against the keyword's matches.
fn page_sql(conn: &Connection, q: &StoryQuery) -> Result<Option<(String, Vec<Value>)>, StoreError> {
    let phrase = match q.q.as_deref() {
        Some(k) => match search::phrase(conn, k)? {
            Some(Phrase::Nothing) => return Ok(None),
            Some(Phrase::Match(p)) => Some(p),
            None => None,
        },
        None => None,
    };
    Ok(Some(match phrase {
        Some(p) if q.sources.is_empty() && search::ordered(conn)? => keyword_walk_sql(q, p),
        phrase => scan_sql(q, phrase),
    }))
}

/// A page found by walking the keyword index newest first.
fn keyword_walk_sql(q: &StoryQuery, phrase: String) -> (String, Vec<Value>) {
    let mut params = vec![Value::Text(phrase)];
    let mut conds = vec!["t.story_text MATCH ?".to_string()];
    // Bounds on the walk itself (the index's rowid range), beside the
    // exact conditions on the story's columns below.
    if let Some(c) = q.before {
        conds.push("t.rowid < ?".into());
        params.push(Value::Integer(search::bound(c.published, c.seq)));
    }
    if let Some(since) = q.since {
        conds.push("t.rowid >= ?".into());
        params.push(Value::Integer(search::bound(since.timestamp(), 0)));
    }
    if !q.section_keys.is_empty() {
        // On the key's own parts (exact: every key packs, or this plan is
        // not used), so SQLite checks the section in the walk's loop,
        // through the section index, and reads a story's row only when
        // it is in the section.
        conds.push(format!(
            "EXISTS (SELECT 1 FROM story_sections x WHERE x.section_key IN ({})
                     AND x.published = {} AND x.story_id = {})",
            placeholders(q.section_keys.len()),
            search::published_of_key_sql("t.rowid"),
            search::story_of_key_sql("t.rowid"),
        ));
        params.extend(q.section_keys.iter().cloned().map(Value::Text));
    }
    story_conds(q, ("s.published", "s.id"), &mut conds, &mut params);
    params.push(Value::Integer(q.limit.try_into().unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {STORY_COLUMNS}, s.published, s.id
         FROM story_text t CROSS JOIN stories s ON s.id = {story}
         JOIN sources src ON src.id = s.source_id
         WHERE {filter}
         ORDER BY t.rowid DESC LIMIT ?",
        story = search::story_of_key_sql("t.rowid"),
        filter = conds.join(" AND ")
    );
    (sql, params)
}

/// A page found by walking a section's, a source's or the date index.
fn scan_sql(q: &StoryQuery, phrase: Option<String>) -> (String, Vec<Value>) {
    let mut params: Vec<Value> = Vec::new();
    let stories_first = "stories s JOIN sources src ON src.id = s.source_id".to_string();
    let (from, pos, mut conds) = match q.section_keys.len() {
        0 => (stories_first, ("s.published", "s.id"), Vec::new()),
        // The hot path: the section index is already in feed order. Not
        // with a source filter: a few sources' stories, found through
        // `stories_by_source`, are fewer than a section's.
        1 if q.sources.is_empty() => {
            params.push(Value::Text(q.section_keys[0].clone()));
            (
                "story_sections ss JOIN stories s ON s.id = ss.story_id
                 JOIN sources src ON src.id = s.source_id"
                    .to_string(),
                ("ss.published", "ss.story_id"),
                vec!["ss.section_key = ?".to_string()],
            )
        }
        // With a source filter, each of the source's stories is checked
        // for the sections (correlated, through `story_sections_by_story`)
        // rather than every story of the sections listed first.
        n if !q.sources.is_empty() => {
            params.extend(q.section_keys.iter().cloned().map(Value::Text));
            (
                stories_first,
                ("s.published", "s.id"),
                vec![format!(
                    "EXISTS (SELECT 1 FROM story_sections x WHERE x.story_id = s.id AND x.section_key IN ({}))",
                    placeholders(n)
                )],
            )
        }
        n => {
            params.extend(q.section_keys.iter().cloned().map(Value::Text));
            (
                stories_first,
                ("s.published", "s.id"),
                vec![format!(
                    "s.id IN (SELECT story_id FROM story_sections WHERE section_key IN ({}))",
                    placeholders(n)
                )],
            )
        }
    };
    story_conds(q, pos, &mut conds, &mut params);
    if let Some(phrase) = phrase {
        conds.push(format!(
            "s.id IN (SELECT {} FROM story_text WHERE story_text MATCH ?)",
            search::story_of_key_sql("rowid")
        ));
        params.push(Value::Text(phrase));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    params.push(Value::Integer(q.limit.try_into().unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {STORY_COLUMNS}, {p}, {i} FROM {from} {filter}
         ORDER BY {p} DESC, {i} DESC LIMIT ?",
        p = pos.0,
        i = pos.1
    );
    (sql, params)
}

/// The source, cursor, `since` and language conditions, on the position
/// columns `pos` (`published`, id) that order the scan.
fn story_conds(
    q: &StoryQuery,
    pos: (&str, &str),
    conds: &mut Vec<String>,
    params: &mut Vec<Value>,
) {
    if !q.sources.is_empty() {
        // On the index's leading column, so SQLite walks each source's
        // stories in feed order.
        conds.push(format!(
            "s.source_id IN (SELECT id FROM sources WHERE name IN ({}))",
            placeholders(q.sources.len())
        ));
        params.extend(q.sources.iter().cloned().map(Value::Text));
    }
    if let Some(c) = q.before {
        conds.push(format!("({}, {}) < (?, ?)", pos.0, pos.1));
        params.push(Value::Integer(c.published));
        params.push(Value::Integer(c.seq));
    }
    if let Some(since) = q.since {
        conds.push(format!("{} >= ?", pos.0));
        params.push(Value::Integer(since.timestamp()));
    }
    if let Some(lang) = &q.lang {
        // As `feeds::filter` compares: `_` read as `-`, ASCII case ignored
        // (LIKE's default), the tag itself or one of its subtags. A tag
        // holds only letters, digits and `-`: nothing LIKE treats as a
        // pattern.
        conds.push(
            "(lower(replace(s.language, '_', '-')) = ? OR replace(s.language, '_', '-') LIKE ?)"
                .to_string(),
        );
        let want = lang.to_ascii_lowercase();
        params.push(Value::Text(want.clone()));
        params.push(Value::Text(format!("{want}-%")));
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn story_from_row(r: &Row<'_>) -> rusqlite::Result<Story> {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    Ok(Story {
        id: r.get(0)?,
        title: r.get(1)?,
        link: r.get(2)?,
        summary: r.get(3)?,
        content: r.get(4)?,
        authors: list(r.get(5)?),
        categories: list(r.get(6)?),
        language: r.get(7)?,
        enclosures: serde_json::from_str(&r.get::<_, String>(14)?).unwrap_or_default(),
        published: time(r.get(8)?),
        updated: time(r.get(9)?),
        source: SourceRef {
            name: r.get(10)?,
            title: r.get(11)?,
            feed_url: r.get(12)?,
            site_url: r.get(13)?,
        },
        related: Vec::new(),
    })
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

pub(super) fn stored_section(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name FROM story_sections WHERE section_key = ?1 LIMIT 1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(super) fn stored_sections(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT section_key, MIN(name) FROM story_sections GROUP BY section_key ORDER BY section_key",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn feed_stats(conn: &Connection, keys: &[String]) -> Result<FeedStats, StoreError> {
    if keys.is_empty() {
        return Ok(FeedStats::default());
    }
    let sql = format!(
        "SELECT COUNT(*), MAX(s.updated) FROM stories s WHERE s.id IN
           (SELECT story_id FROM story_sections WHERE section_key IN ({}))",
        placeholders(keys.len())
    );
    let (count, updated): (i64, Option<i64>) = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(keys), |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(FeedStats {
        stories: count.try_into().unwrap_or(0),
        updated: updated.map(time),
    })
}

pub(super) fn source_status(conn: &Connection) -> Result<Vec<SourceStatus>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, url, COALESCE(config_title, title), last_attempt, last_success, last_status, last_error,
                consecutive_failures, (SELECT COUNT(*) FROM items i WHERE i.source_id = sources.id),
                failing_since, next_check_at, moved_to, site_url
         FROM sources ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SourceStatus {
            name: r.get(0)?,
            url: r.get(1)?,
            title: r.get(2)?,
            last_attempt: r.get::<_, Option<i64>>(3)?.map(time),
            last_success: r.get::<_, Option<i64>>(4)?.map(time),
            last_status: r
                .get::<_, Option<i64>>(5)?
                .and_then(|s| u16::try_from(s).ok()),
            last_error: r.get(6)?,
            consecutive_failures: r.get::<_, i64>(7)?.try_into().unwrap_or(u32::MAX),
            items: r.get::<_, i64>(8)?.try_into().unwrap_or(0),
            failing_since: r.get::<_, Option<i64>>(9)?.map(time),
            next_check: r.get::<_, Option<i64>>(10)?.map(time),
            moved_to: r.get(11)?,
            site_url: r.get(12)?,
            // One process polls an SQLite store.
            polled_by: None,
            lease_holder: None,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The remembered article pages among `links` of `source`.
pub(super) fn article_pages(
    conn: &Connection,
    source: &str,
    links: &[String],
) -> Result<std::collections::HashMap<String, crate::model::article::ArticlePage>, StoreError> {
    let mut out = std::collections::HashMap::new();
    let mut q = conn.prepare_cached(
        "SELECT a.attempts, a.extract FROM article_pages a JOIN sources s ON s.id = a.source_id
         WHERE s.name = ?1 AND a.link = ?2",
    )?;
    for link in links {
        let row: Option<(i64, Option<String>)> = q
            .query_row(rusqlite::params![source, link], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((attempts, extract)) = row {
            out.insert(
                link.clone(),
                crate::model::article::ArticlePage {
                    attempts: attempts.try_into().unwrap_or(u32::MAX),
                    extract: extract.and_then(|e| serde_json::from_str(&e).ok()),
                },
            );
        }
    }
    Ok(out)
}

/// Per source and UTC day, the stories whose sort date falls on that day
/// (?1: start of the first day, ?2: end of the last). The range walks the
/// date index (`stories_by_published`, covering `published` and `id`) and
/// each story's items through `items_by_story` (covering `source_id`), so
/// the cost is the stories of the span, not of the store; names are
/// joined after grouping, once per (source, day).
pub(super) const DAILY_STORIES: &str = "
    SELECT src.name, g.day, g.n FROM
        (SELECT i.source_id AS source_id, (s.published - ?1) / 86400 AS day, COUNT(*) AS n
         FROM stories s INDEXED BY stories_by_published
              CROSS JOIN items i INDEXED BY items_by_story ON i.story_id = s.id
         WHERE s.published >= ?1 AND s.published < ?2
         GROUP BY i.source_id, day) g
    JOIN sources src ON src.id = g.source_id";

/// See [`crate::store::Store::daily_stories`].
pub(super) fn daily_stories(
    conn: &Connection,
    now: DateTime<Utc>,
    days: u32,
) -> Result<std::collections::HashMap<String, Vec<u32>>, StoreError> {
    let mut out = std::collections::HashMap::new();
    if days == 0 {
        return Ok(out);
    }
    let end = (now.timestamp().div_euclid(86_400) + 1).saturating_mul(86_400);
    let start = end.saturating_sub(i64::from(days) * 86_400);
    let mut stmt = conn.prepare_cached(DAILY_STORIES)?;
    let rows = stmt.query_map([start, end], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (name, day, n) = row?;
        let counts = out.entry(name).or_insert_with(|| vec![0u32; days as usize]);
        if let Some(slot) = usize::try_from(day).ok().and_then(|d| counts.get_mut(d)) {
            *slot = u32::try_from(n).unwrap_or(u32::MAX);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(sections: &[&str], sources: &[&str], q: Option<&str>) -> StoryQuery {
        StoryQuery {
            section_keys: sections.iter().map(|s| s.to_string()).collect(),
            limit: 50,
            before: None,
            since: None,
            sources: sources.iter().map(|s| s.to_string()).collect(),
            q: q.map(str::to_string),
            lang: None,
        }
    }

    fn plan(conn: &Connection, q: &StoryQuery) -> String {
        let (sql, params) = page_sql(conn, q).unwrap().expect("a statement");
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let steps: Vec<String> = stmt
            .query_map(params_from_iter(params), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        steps.join("\n")
    }

    fn migrated() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("db")).unwrap();
        let tx = conn.transaction().unwrap();
        super::super::schema::migrate(&tx).unwrap();
        tx.commit().unwrap();
        (dir, conn)
    }

    #[test]
    fn the_source_filter_walks_the_source_index() {
        let (_dir, conn) = migrated();
        for q in [
            query(&[], &["f77"], None),
            query(&["политика"], &["f77"], None),
            query(&["a", "b"], &["f77", "f78"], None),
        ] {
            let plan = plan(&conn, &q);
            assert!(plan.contains("stories_by_source"), "{q:?}:\n{plan}");
            assert!(!plan.contains("SCAN s"), "no scan of every story:\n{plan}");
        }
        // A section alone still walks its own index in feed order.
        let plan = plan(&conn, &query(&["политика"], &[], None));
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn keywords_are_found_through_the_text_index() {
        let (_dir, conn) = migrated();
        conn.execute_batch(
            "INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://e.org/a');
             INSERT INTO stories (id, story_key, uid, source_id, title, summary, published, updated, first_seen)
                 VALUES (1, 'k1', 'u1', 1, 'Бюджет на 2025 год', NULL, 2, 2, 2),
                        (2, 'k2', 'u2', 1, 'Спорт', '<p>Bakı İdman</p>', 1, 1, 1);",
        )
        .unwrap();
        for (id, title, summary) in [
            (1, "Бюджет на 2025 год", None),
            (2, "Спорт", Some("<p>Bakı İdman</p>")),
        ] {
            let published = 3 - id;
            search::index(
                &conn,
                id,
                published,
                &crate::model::text::index_text(title, summary),
            )
            .unwrap();
        }
        let titles = |q: &str| -> Vec<String> {
            story_page(&conn, &query(&[], &[], Some(q)))
                .unwrap()
                .into_iter()
                .map(|(_, s)| s.title)
                .collect()
        };
        assert_eq!(titles("бюджет"), ["Бюджет на 2025 год"]);
        assert_eq!(titles("БЮДЖЕТ НА"), ["Бюджет на 2025 год"]);
        assert_eq!(titles("baki idman"), ["Спорт"]);
        assert_eq!(titles("İDMAN"), ["Спорт"]);
        assert!(titles("ничего такого").is_empty());
        conn.execute_batch(
            "UPDATE stories SET language = 'az_AZ' WHERE id = 2; UPDATE stories SET language = 'RU' WHERE id = 1;",
        )
        .unwrap();
        let in_lang = |lang: &str| -> Vec<i64> {
            let mut q = query(&[], &[], None);
            q.lang = Some(lang.into());
            story_page(&conn, &q)
                .unwrap()
                .into_iter()
                .map(|(c, _)| c.seq)
                .collect()
        };
        assert_eq!(in_lang("az"), [2]);
        assert_eq!(in_lang("az-az"), [2]);
        assert_eq!(in_lang("ru"), [1]);
        assert!(in_lang("a").is_empty(), "a tag, not a prefix");
        let plan = plan(&conn, &query(&[], &[], Some("бюджет")));
        assert!(plan.starts_with("SCAN t VIRTUAL TABLE"), "{plan}");
    }
}

#[cfg(test)]
mod daily_tests {
    use super::*;
    use chrono::TimeZone;

    fn store_with_stories(stories: &[(i64, i64, &[i64])]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://e.org/a'), (2, 'b', 'https://e.org/b'), (3, 'quiet', 'https://e.org/q');",
        )
        .unwrap();
        for (id, published, sources) in stories {
            conn.execute(
                "INSERT INTO stories (id, story_key, uid, source_id, title, published, updated, first_seen)
                 VALUES (?1, ?1, ?1, ?2, 't', ?3, ?3, ?3)",
                rusqlite::params![id, sources[0], published],
            )
            .unwrap();
            for s in *sources {
                conn.execute(
                    "INSERT INTO items (source_id, item_key, story_id, content_hash, first_seen)
                     VALUES (?1, ?2, ?2, 'h', 0)",
                    rusqlite::params![s, id],
                )
                .unwrap();
            }
        }
        conn
    }

    #[test]
    fn daily_stories_counts_each_source_per_day_of_the_span() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 11, 0, 0).unwrap();
        let today = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let day = 86_400;
        let conn = store_with_stories(&[
            (1, today + 60, &[1, 2]),       // today, both sources
            (2, today + day - 1, &[1]),     // last second of today
            (3, today - day, &[1]),         // yesterday
            (4, today - 29 * day, &[2]),    // the first day of 30
            (5, today - 30 * day, &[1, 2]), // one day too old
            (6, today + day, &[2]),         // tomorrow: not shown
        ]);
        let counts = daily_stories(&conn, now, 30).unwrap();
        let a = &counts["a"];
        assert_eq!(a.len(), 30);
        assert_eq!((a[29], a[28], a.iter().sum::<u32>()), (2, 1, 3));
        let b = &counts["b"];
        assert_eq!((b[0], b[29], b.iter().sum::<u32>()), (1, 1, 2));
        assert!(!counts.contains_key("quiet"), "{counts:?}");
        assert!(daily_stories(&conn, now, 0).unwrap().is_empty());
    }

    /// The range and the join go through indexes: a full scan of the
    /// stories or items of a year would take seconds per page view.
    #[test]
    fn daily_stories_reads_through_indexes() {
        let conn = store_with_stories(&[]);
        let steps: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {DAILY_STORIES}"))
            .unwrap()
            .query_map([0, 1], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let scans: Vec<&String> = steps
            .iter()
            .filter(|s| s.starts_with("SCAN ") && *s != "SCAN g")
            .collect();
        assert!(scans.is_empty(), "{steps:#?}");
        assert!(
            steps.iter().any(|s| s.contains("stories_by_published")),
            "{steps:#?}"
        );
    }
}

/// The keyword walk against the plan it replaced (the scan checked
/// against every match), on a seeded store: the same stories in the same
/// order for every mix of filters.
#[cfg(test)]
mod walk_tests {
    use super::*;

    const WORDS: [&str; 6] = ["бюджет", "бюджетный", "газ", "нефть", "İdman", "суд"];

    fn seeded() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://e.org/a'), (2, 'b', 'https://e.org/b');",
        )
        .unwrap();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n) as i64
        };
        for id in 1..=600i64 {
            // Few distinct dates, so ties are ordered by id.
            let published = 1_700_000_000 + next(40) * 3600;
            let title = format!("{} и {}", WORDS[next(6) as usize], WORDS[next(6) as usize]);
            let lang = ["ru", "az-AZ", "en"][next(3) as usize];
            conn.execute(
                "INSERT INTO stories (id, story_key, uid, source_id, title, language, published, updated, first_seen)
                 VALUES (?1, ?1, ?1, ?2, ?3, ?4, ?5, ?5, ?5)",
                rusqlite::params![id, 1 + next(2), title, lang, published],
            )
            .unwrap();
            for key in ["политика", "спорт", "экономика"] {
                if next(2) == 0 {
                    conn.execute(
                        "INSERT INTO story_sections (section_key, published, story_id, name) VALUES (?1, ?2, ?3, ?1)",
                        rusqlite::params![key, published, id],
                    )
                    .unwrap();
                }
            }
            let text = crate::model::text::index_text(&title, None);
            search::index(&conn, id, published, &text).unwrap();
        }
        conn
    }

    fn ids(conn: &Connection, sql: &str, params: Vec<Value>) -> Vec<(i64, i64)> {
        conn.prepare(sql)
            .unwrap()
            .query_map(params_from_iter(params), |r| Ok((r.get(15)?, r.get(16)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn the_keyword_walk_finds_what_the_scan_found_in_the_same_order() {
        let conn = seeded();
        assert!(search::ordered(&conn).unwrap());
        let mut compared = 0;
        for q in ["бюджет", "бюдж", "газ нефть", "idman", "İDMAN", "суд", "г"]
        {
            for sections in [&[][..], &["политика"][..], &["спорт", "экономика"][..]]
            {
                for (before, since, lang) in [
                    (None, None, None),
                    (Some((1_700_000_000 + 20 * 3600, 300)), None, None),
                    (None, Some(1_700_000_000 + 10 * 3600), Some("az")),
                    (
                        Some((1_700_000_000 + 30 * 3600, i64::MAX)),
                        Some(1_700_000_000 + 5 * 3600),
                        None,
                    ),
                ] {
                    let query = StoryQuery {
                        section_keys: sections.iter().map(|s| s.to_string()).collect(),
                        limit: 17,
                        before: before.map(|(published, seq)| Cursor { published, seq }),
                        since: since.and_then(|t| DateTime::from_timestamp(t, 0)),
                        sources: Vec::new(),
                        q: Some(q.into()),
                        lang: lang.map(str::to_string),
                    };
                    let Some(Phrase::Match(phrase)) = search::phrase(&conn, q).unwrap() else {
                        panic!("{q} matches stored words");
                    };
                    let (walk, walk_params) = page_sql(&conn, &query).unwrap().unwrap();
                    assert!(walk.contains("t.rowid DESC"), "{walk}");
                    let (scan, scan_params) = scan_sql(&query, Some(phrase));
                    let found = ids(&conn, &walk, walk_params);
                    assert_eq!(found, ids(&conn, &scan, scan_params), "{query:?}");
                    compared += usize::from(!found.is_empty());
                }
            }
        }
        assert!(compared > 40, "most comparisons had rows: {compared}");
        assert_eq!(
            search::phrase(&conn, "парламент").unwrap(),
            Some(Phrase::Nothing)
        );
    }

    #[test]
    fn the_keyword_walk_stops_at_the_page_without_sorting() {
        let conn = seeded();
        let query = StoryQuery {
            section_keys: vec!["политика".into()],
            limit: 10,
            before: None,
            since: None,
            sources: Vec::new(),
            q: Some("бюджет".into()),
            lang: None,
        };
        let (sql, params) = page_sql(&conn, &query).unwrap().unwrap();
        let steps: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(params_from_iter(params), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = steps.join("\n");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        assert!(plan.starts_with("SCAN t VIRTUAL TABLE"), "{plan}");
        // Stories out of the packable range fall back to the scan.
        conn.execute(
            "UPDATE stories SET published = -9000000000 WHERE id = 5",
            [],
        )
        .unwrap();
        assert!(!search::ordered(&conn).unwrap());
        let (sql, _) = page_sql(&conn, &query).unwrap().unwrap();
        assert!(!sql.contains("t.rowid DESC"), "{sql}");
    }
}
