//! Conformance against third-party suites, through the daemon's own path
//! (`ingest::ingest`: decode → parse → normalize):
//! - feedparser's documents with their `Expect:` assertions, per folder:
//!   evaluated / passed / skipped with the reason;
//! - feed-rs's and rss-parser's real-world feeds against their goldens
//!   (item count and titles).
//!
//! The corpora live in `tests/fixtures/corpus/` with their licences. Run
//! `cargo test --test conformance -- --nocapture` to see the tables.

#[path = "conformance/encodings.rs"]
mod encodings;
#[path = "conformance/html_canon.rs"]
mod html_canon;
#[path = "conformance/pyexpr.rs"]
mod pyexpr;
#[path = "conformance/realworld.rs"]
mod realworld;
#[path = "conformance/view.rs"]
mod view;

use feedmerge::model::sections::SectionMap;
use feedmerge::pipeline::ingest::{self, IngestOptions};
use feedmerge::pipeline::normalize::NormalizedFeed;
use feedmerge::pipeline::parse::{self, ParseOptions, decode};
use pyexpr::Expr;
use std::collections::BTreeMap;
use std::path::PathBuf;
use view::{Env, Stop};

/// Folders run, as named in the report.
const FOLDERS: &[&str] = &[
    "wellformed/rss",
    "wellformed/atom",
    "wellformed/atom10",
    "wellformed/rdf",
    "wellformed/base",
    "wellformed/amp",
    "wellformed/lang",
    "entities",
    "illformed",
    "illformed/chardet",
    "encoding",
];

/// Overall pass rate over evaluated assertions must stay at or above this
/// (per mille). Set from what the suite reaches (641/652 = 983‰); raise it
/// when it improves. Issue #12's target is 980‰.
const OVERALL_FLOOR_PERMILLE: usize = 983;
/// Evaluated assertions may not shrink below this: a mapping change that
/// turns evaluations into skips has to lower it in plain sight.
const MIN_EVALUATED: usize = 650;
/// Folders where every assertion on a well-formed document must pass (and
/// the chardet ones, which are all bozo for lacking a declaration but must
/// still decode right). Assertions on documents feedparser itself calls
/// broken (`bozo and …`) count in the totals but not here: their "right
/// text" is whatever feedparser's recovery happened to produce.
const MUST_BE_PERFECT: &[&str] = &["encoding", "illformed/chardet"];

pub fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

struct Record {
    path: String,
    expect: String,
    headers: Vec<(String, String)>,
    http: bool,
}

fn records() -> Vec<Record> {
    let text = std::fs::read_to_string(corpus().join("indexes/feedparser-expectations.jsonl"))
        .expect("expectations index present");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("valid JSON line");
            Record {
                path: v["path"].as_str().unwrap_or_default().to_string(),
                expect: v["expect"].as_str().unwrap_or_default().to_string(),
                headers: v["http_headers"]
                    .as_array()
                    .map(|hs| {
                        hs.iter()
                            .filter_map(|h| {
                                Some((h[0].as_str()?.to_string(), h[1].as_str()?.to_string()))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                http: v["served_over_http"].as_bool().unwrap_or(false),
            }
        })
        .collect()
}

/// The report folder of a corpus path, if it is one we run.
fn folder_of(path: &str) -> Option<&'static str> {
    let rel = path.strip_prefix("tests/")?;
    FOLDERS
        .iter()
        .copied()
        .filter(|f| rel.starts_with(&format!("{f}/")))
        .max_by_key(|f| f.len())
}

fn header<'a>(r: &'a Record, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Our output for one document: (encoding read as, normalized feed or error).
fn run(r: &Record, body: &[u8]) -> (&'static str, Result<NormalizedFeed, String>) {
    // Served over HTTP upstream: same URL, same headers (text/xml by default).
    let content_type = if r.http {
        Some(header(r, "content-type").unwrap_or("text/xml"))
    } else {
        None
    };
    let doc_url = format!("http://127.0.0.1:8097/{}", r.path);
    let base = r
        .http
        .then(|| parse::base_url(&doc_url, header(r, "content-location")));
    let sections = SectionMap::default();
    let opts = IngestOptions {
        parse: ParseOptions {
            content_type,
            base_url: base.as_deref(),
            timezone: chrono_tz::Tz::UTC,
            encoding: None,
            content_language: r.http.then(|| header(r, "content-language")).flatten(),
        },
        source: "conformance",
        source_section: None,
        sections: &sections,
        now: chrono::Utc::now(),
    };
    match ingest::ingest(body, &opts) {
        Ok(ingested) => {
            // Ids as `feedmerge inspect` prints them (relative ones resolved).
            let mut feed = ingested.feed;
            let base = base.as_deref().and_then(|b| url::Url::parse(b).ok());
            for it in &mut feed.items {
                it.guid = it
                    .guid
                    .take()
                    .map(|id| feedmerge::cli::inspect::resolved_id(id, base.as_ref()));
            }
            (ingested.encoding, Ok(feed))
        }
        Err(e) => {
            let charset = content_type.and_then(feedmerge::model::charset::charset_of);
            let enc = decode::decode(body, charset.as_deref(), None).encoding;
            (enc, Err(e.to_string()))
        }
    }
}

enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

fn judge(r: &Record, body: &[u8]) -> Verdict {
    let expr = match pyexpr::parse(&r.expect) {
        Ok(e) => e,
        Err(e) => return Verdict::Skip(format!("expression not understood: {e}")),
    };
    if matches!(expr, Expr::Int(_)) {
        return Verdict::Skip(
            "constant expectation (upstream only checks it does not crash)".into(),
        );
    }
    let parts = match expr {
        Expr::And(parts) => parts,
        other => vec![other],
    };
    let is_bozo = |e: &Expr| match e {
        Expr::Name(n) => n == "bozo",
        Expr::Not(inner) => matches!(&**inner, Expr::Name(n) if n == "bozo"),
        _ => false,
    };
    let parts: Vec<Expr> = parts.into_iter().filter(|p| !is_bozo(p)).collect();
    if parts.is_empty() {
        return Verdict::Skip("bozo (well-formedness flag) not in our model".into());
    }
    if let Some(why) = parts.iter().find_map(view::unmapped) {
        return Verdict::Skip(why);
    }
    let (encoding, out) = run(r, body);
    let empty = NormalizedFeed::default();
    let env = Env::new(encoding, out.as_ref().unwrap_or(&empty), body);
    let mut failure = None;
    for p in &parts {
        match env.eval(p) {
            Err(Stop::Skip(why)) => return Verdict::Skip(why),
            Err(Stop::Fail(why)) => failure = failure.or(Some(why)),
            Ok(v) if !view::truthy(&v) => {
                let ours = match p {
                    Expr::Compare(first, _) => format!("{:?}", env.eval(first)),
                    _ => format!("{v:?}"),
                };
                failure = failure.or(Some(format!("false; ours: {ours}")));
            }
            Ok(_) => {}
        }
    }
    match (failure, out) {
        (None, _) => Verdict::Pass,
        (Some(why), Err(e)) => Verdict::Fail(format!("{why} (parse failed: {e})")),
        (Some(why), Ok(_)) => Verdict::Fail(why),
    }
}

#[derive(Default)]
struct Tally {
    evaluated: usize,
    passed: usize,
    skipped: BTreeMap<String, usize>,
    failures: Vec<String>,
}

/// Groups skip reasons (entry indexes and quoted keys vary).
fn reason_key(why: &str) -> String {
    why.to_string()
}

#[test]
fn feedparser_suite() {
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    for r in records() {
        let Some(folder) = folder_of(&r.path) else {
            continue;
        };
        let body = std::fs::read(corpus().join("feedparser").join(&r.path))
            .unwrap_or_else(|e| panic!("{}: {e}", r.path));
        let t = tallies.entry(folder).or_default();
        match judge(&r, &body) {
            Verdict::Pass => {
                t.evaluated += 1;
                t.passed += 1;
            }
            Verdict::Fail(why) => {
                t.evaluated += 1;
                t.failures.push(format!(
                    "{}\n      expect: {}\n      got: {why}",
                    r.path, r.expect
                ));
            }
            Verdict::Skip(why) => *t.skipped.entry(reason_key(&why)).or_default() += 1,
        }
    }
    let (mut evaluated, mut passed) = (0, 0);
    eprintln!(
        "\n{:<20} {:>9} {:>7} {:>8}",
        "folder", "evaluated", "passed", "skipped"
    );
    for f in FOLDERS {
        let t = tallies.entry(f).or_default();
        let skipped: usize = t.skipped.values().sum();
        eprintln!("{f:<20} {:>9} {:>7} {:>8}", t.evaluated, t.passed, skipped);
        evaluated += t.evaluated;
        passed += t.passed;
    }
    eprintln!("{:<20} {evaluated:>9} {passed:>7}", "total");
    for f in FOLDERS {
        let t = &tallies[f];
        if !t.skipped.is_empty() {
            eprintln!("\nskipped in {f}:");
            for (why, n) in &t.skipped {
                eprintln!("  {n:>4}  {why}");
            }
        }
    }
    for f in FOLDERS {
        for fail in &tallies[f].failures {
            eprintln!("FAIL {fail}");
        }
    }
    for f in MUST_BE_PERFECT {
        let t = &tallies[f];
        let wrong: Vec<&String> = t
            .failures
            .iter()
            .filter(|x| *f != "encoding" || !x.contains("expect: bozo"))
            .collect();
        assert!(
            wrong.is_empty(),
            "{f}: every document that is not bozo must decode right: {wrong:?}"
        );
    }
    assert!(
        evaluated >= MIN_EVALUATED,
        "only {evaluated} assertions evaluated (floor {MIN_EVALUATED})"
    );
    assert!(
        passed * 1000 >= evaluated * OVERALL_FLOOR_PERMILLE,
        "{passed}/{evaluated} passed, below the floor of {OVERALL_FLOOR_PERMILLE}‰"
    );
}
