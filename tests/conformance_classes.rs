//! Issue #12's miss classes, measured the way the hidden conformance suite
//! measures them: every document goes through the built binary
//! (`feedmerge inspect FILE`, the contract) and the JSON it prints is
//! compared field by field with an expectation.
//!
//! Documents:
//! - `tests/fixtures/classes/<class>/NAME.{xml,json}`, written by hand, each
//!   with `NAME.expect.json` (format in `conformance_classes/expect.rs`;
//!   field precedence and where feedparser differs in
//!   `tests/fixtures/classes/README.md`);
//! - third-party documents from `tests/fixtures/corpus/` listed in
//!   `tests/fixtures/classes/corpus.expect.jsonl` (expectations generated
//!   with Python feedparser, then reviewed), reported as `corpus/<class>`;
//! - hostile documents too big to commit, built at run time
//!   (`conformance_classes/hostile.rs`), reported by their own test as
//!   `hostile/generated`.
//!
//! Every hostile document's time is printed, never asserted. The floor is
//! asserted on the committed documents only: whether a generated 10 MiB
//! document beats the watchdog depends on the machine.
//!
//! Run `cargo test --test conformance_classes -- --nocapture` to see the
//! per-class lines, the failing fields and the timings.

#[path = "conformance_classes/expect.rs"]
mod expect;
#[path = "conformance_classes/hostile.rs"]
mod hostile;

use expect::{Field, Outcome};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Fields passed over fields evaluated, committed documents, must stay at
/// or above this (per mille). Set to what passes today (271/396 = 684‰,
/// before the ParsedFeed rewrite); raise it as the parser improves.
/// Issue #12's target is 970‰ (97%).
const CLASSES_FLOOR_PERMILLE: usize = 985;

/// Evaluated fields may not shrink below this: deleting fixtures or
/// expectations to pass has to lower it in plain sight.
const MIN_EVALUATED: usize = 414;

/// Watchdog per document, so a quadratic path costs a bounded wait instead
/// of a hung test; the document then fails every field it was judged on.
/// Not a timing assertion (only generated documents come near it, and they
/// are never asserted on): override with `FEEDMERGE_CLASSES_TIMEOUT_SECS`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One document to inspect.
struct Case {
    /// Report group: the class folder, `corpus/<class>`, `hostile/generated`.
    class: String,
    /// Shown in the failure list.
    name: String,
    path: PathBuf,
    expect: Value,
}

fn hand_written() -> Vec<Case> {
    let root = fixtures_dir().join("classes");
    let mut cases = Vec::new();
    let mut classes: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures/classes exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_dir() && !p.ends_with("tools"))
        .collect();
    classes.sort();
    for dir in classes {
        let class = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let mut docs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("a class folder is readable")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| {
                let n = p.to_string_lossy();
                !n.ends_with(".expect.json") && (n.ends_with(".xml") || n.ends_with(".json"))
            })
            .collect();
        docs.sort();
        for path in docs {
            let stem = path.file_stem().expect("a name").to_string_lossy();
            let exp = dir.join(format!("{stem}.expect.json"));
            let text = std::fs::read_to_string(&exp)
                .unwrap_or_else(|e| panic!("{} needs {}: {e}", path.display(), exp.display()));
            let expect: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", exp.display()));
            cases.push(Case {
                name: format!(
                    "{class}/{}",
                    path.file_name().expect("a name").to_string_lossy()
                ),
                class: class.clone(),
                path,
                expect,
            });
        }
    }
    cases
}

fn corpus() -> Vec<Case> {
    let index = fixtures_dir().join("classes/corpus.expect.jsonl");
    let Ok(text) = std::fs::read_to_string(&index) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let rec: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: bad line ({e}): {l}", index.display()));
            let rel = rec["path"].as_str().expect("a path");
            let path = fixtures_dir().join("corpus").join(rel);
            assert!(path.exists(), "{} is listed but missing", path.display());
            Case {
                class: format!("corpus/{}", rec["class"].as_str().expect("a class")),
                name: rel.to_string(),
                path,
                expect: rec["expect"].clone(),
            }
        })
        .collect()
}

fn generated(dir: &Path) -> Vec<Case> {
    hostile::all()
        .into_iter()
        .map(|g| {
            let path = dir.join(g.name);
            std::fs::write(&path, &g.body).expect("write a generated document");
            Case {
                class: "hostile/generated".into(),
                name: format!("hostile/generated/{}", g.name),
                path,
                expect: g.expect,
            }
        })
        .collect()
}

fn timeout() -> Duration {
    std::env::var("FEEDMERGE_CLASSES_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs)
}

/// `feedmerge inspect FILE`, as the hidden suite runs it. Output goes to
/// files: a 10 MiB feed prints more JSON than a pipe holds.
fn inspect(path: &Path, scratch: &Path, limit: Duration) -> (Outcome, Duration) {
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    let stdout = std::fs::File::create(&out_path).expect("create stdout file");
    let stderr = std::fs::File::create(&err_path).expect("create stderr file");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .arg("inspect")
        .arg(path)
        .env("RUST_LOG", "warn")
        // inspect needs no config: point at one that does not exist.
        .env("FEEDMERGE_CONFIG", "/nonexistent/feedmerge.toml")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("run feedmerge");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for feedmerge") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = started.elapsed();
    let Some(status) = status else {
        return (
            Outcome::TimedOut(format!("killed after {} s", limit.as_secs())),
            took,
        );
    };
    let out = std::fs::read(&out_path).unwrap_or_default();
    let err = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default())
        .trim()
        .to_string();
    let outcome = match status.code() {
        Some(0) => match serde_json::from_slice(&out) {
            Ok(v) => Outcome::Report(v),
            Err(e) => Outcome::Crashed(format!("exit 0 but stdout is not JSON: {e}")),
        },
        Some(101) => Outcome::Crashed(format!("panicked: {err}")),
        Some(_) if err.contains("panicked") => Outcome::Crashed(err),
        Some(_) => Outcome::Error(err),
        None => Outcome::Crashed(format!("killed by a signal ({status})")),
    };
    (outcome, took)
}

#[derive(Default)]
struct Tally {
    evaluated: usize,
    passed: usize,
}

/// What a set of cases gave.
#[derive(Default)]
struct Results {
    tallies: BTreeMap<String, Tally>,
    failures: Vec<(String, Field)>,
    /// One line per hostile document: size, time, what happened.
    timings: Vec<String>,
}

impl Results {
    fn totals(&self) -> (usize, usize) {
        self.tallies
            .values()
            .fold((0, 0), |(p, e), t| (p + t.passed, e + t.evaluated))
    }

    /// The per-class lines, the total, the timings and the failing fields.
    fn print(&self, heading: &str, total_label: &str) {
        let mut out = format!("\n{heading}\n");
        for (class, t) in &self.tallies {
            let _ = writeln!(out, "class {class}: {}/{}", t.passed, t.evaluated);
        }
        let (passed, evaluated) = self.totals();
        let pct = 100.0 * passed as f64 / evaluated.max(1) as f64;
        let _ = writeln!(out, "{total_label}: {passed}/{evaluated} ({pct:.1}%)");
        let build = if cfg!(debug_assertions) {
            "debug build, several times slower than release"
        } else {
            "release build"
        };
        let _ = writeln!(
            out,
            "\nhostile timings ({build}; issue #12 wants under 1 s each on one core):"
        );
        for t in &self.timings {
            let _ = writeln!(out, "{t}");
        }
        let _ = writeln!(out, "\nfailing fields (fixture  field  expected  got):");
        for (name, f) in &self.failures {
            let _ = writeln!(
                out,
                "  {name}  {}  expected {}  got {}",
                f.name, f.expected, f.got
            );
        }
        eprintln!("{out}");
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Inspects every case and judges it; hostile ones are timed.
fn run(cases: &[Case], scratch: &Path) -> Results {
    let limit = timeout();
    let mut results = Results::default();
    for case in cases {
        let (outcome, took) = inspect(&case.path, scratch, limit);
        let fields = expect::evaluate(&case.expect, &outcome);
        let t = results.tallies.entry(case.class.clone()).or_default();
        for f in fields {
            t.evaluated += 1;
            if f.passed {
                t.passed += 1;
            } else {
                results.failures.push((case.name.clone(), f));
            }
        }
        if case.class.starts_with("hostile") {
            let size = std::fs::metadata(&case.path).map_or(0, |m| m.len());
            let how = match &outcome {
                Outcome::Report(_) => "read".to_string(),
                Outcome::Error(e) => format!("refused: {e}"),
                Outcome::Crashed(why) => format!("crashed: {why}"),
                Outcome::TimedOut(why) => format!("timed out: {why}"),
            };
            results.timings.push(format!(
                "  {:<42} {:>6.2} MiB {:>7.2} s  {how}",
                case.name,
                mib(size),
                took.as_secs_f64()
            ));
        }
    }
    results
}

/// The committed documents: hand-written fixtures and the mined corpus.
/// Deterministic, so the floor is asserted on them.
#[test]
fn conformance_classes() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut cases = hand_written();
    let hand = cases.len();
    cases.extend(corpus());
    let results = run(&cases, scratch.path());
    results.print(
        &format!(
            "{hand} hand-written documents, {} from the corpus",
            cases.len() - hand
        ),
        "classes total",
    );
    let (passed, evaluated) = results.totals();
    assert!(
        evaluated >= MIN_EVALUATED,
        "only {evaluated} fields evaluated (floor {MIN_EVALUATED})"
    );
    assert!(
        passed * 1000 >= evaluated * CLASSES_FLOOR_PERMILLE,
        "{passed}/{evaluated} fields passed, below the floor of {CLASSES_FLOOR_PERMILLE}‰"
    );
}

/// The generated hostile documents (10 MiB, 20,000 categories, 1,000
/// items on one guid…): judged and timed, never asserted on, because
/// whether one finishes inside the watchdog depends on the machine. A
/// separate test, so the committed figures do not wait for them.
#[test]
fn hostile_generated() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let cases = generated(scratch.path());
    let results = run(&cases, scratch.path());
    results.print(
        &format!("{} generated hostile documents", cases.len()),
        "generated total",
    );
}
