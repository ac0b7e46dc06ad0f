//! The near-duplicate decision against the gold set (issue #16): every
//! pair of `tests/fixtures/clustering/{dev,holdout}.jsonl` goes through
//! `feedmerge similar`'s code path, and precision, recall and F1 are
//! printed per kind of pair and overall. The dev set must meet the goals
//! (precision ≥ 0.97, recall ≥ 0.75, formulaic traps merged ≤ 2 %); the
//! holdout figures are printed, and held to the same goals, since the
//! decision was not tuned on them.

use feedmerge::cli::similar;
use feedmerge::cluster::DEFAULT_WINDOW;
use std::collections::BTreeMap;

/// Kinds that are formulaic traps: copy that shares nearly every word
/// with another event's.
const TRAPS: &[&str] = &[
    "trap-entity",
    "trap-number",
    "trap-date",
    "follow-up",
    "denial",
    "verdict",
];

#[derive(Default)]
struct Tally {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
}

impl Tally {
    fn add(&mut self, label_same: bool, said_same: bool) {
        match (label_same, said_same) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
    fn line(&self, name: &str) -> String {
        let n = self.tp + self.fp + self.fn_ + self.tn;
        format!(
            "  {name:<22} n={n:<4} merged={:<4} P={:.3} R={:.3} F1={:.3}",
            self.tp + self.fp,
            self.precision(),
            self.recall(),
            self.f1()
        )
    }
}

fn ratio(x: usize, y: usize) -> f64 {
    if y == 0 { 1.0 } else { x as f64 / y as f64 }
}

struct Figures {
    overall: Tally,
    traps: Tally,
}

fn evaluate(name: &str) -> Figures {
    let path = format!(
        "{}/tests/fixtures/clustering/{name}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let input = std::fs::read_to_string(&path).expect("the gold set is readable");
    let mut out = Vec::new();
    let errors = similar::run(input.as_bytes(), &mut out, DEFAULT_WINDOW).expect("no I/O error");
    assert!(errors.is_empty(), "{name}: {errors:?}");
    let answers: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("UTF-8 answers")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON answer"))
        .collect();
    let pairs: Vec<serde_json::Value> = input
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON pair"))
        .collect();
    assert_eq!(answers.len(), pairs.len());
    let mut kinds: BTreeMap<String, Tally> = BTreeMap::new();
    let mut overall = Tally::default();
    let mut traps = Tally::default();
    let mut misses = Vec::new();
    for (pair, answer) in pairs.iter().zip(&answers) {
        assert_eq!(pair["id"], answer["id"], "answers keep the input order");
        let label = pair["label"].as_str() == Some("same");
        let said = answer["same"].as_bool().expect("same is a bool");
        let kind = pair["kind"].as_str().unwrap_or("?").to_string();
        kinds.entry(kind.clone()).or_default().add(label, said);
        overall.add(label, said);
        if TRAPS.contains(&kind.as_str()) {
            traps.add(label, said);
        }
        if label != said {
            misses.push(format!(
                "    {} {kind} label={} rule={} score={}\n      a: {}\n      b: {}",
                pair["id"],
                pair["label"],
                answer["rule"],
                answer["score"],
                pair["a"]["title"],
                pair["b"]["title"]
            ));
        }
    }
    println!("{name}: {} pairs", pairs.len());
    for (kind, tally) in &kinds {
        println!("{}", tally.line(kind));
    }
    println!("{}", overall.line("overall"));
    println!(
        "  traps merged: {} of {} ({:.1} %)",
        traps.fp,
        traps.fp + traps.tn,
        100.0 * ratio(traps.fp, traps.fp + traps.tn)
    );
    if std::env::var_os("GOLD_MISSES").is_some() {
        println!("  misses:\n{}", misses.join("\n"));
    }
    Figures { overall, traps }
}

fn assert_goals(name: &str, f: &Figures) {
    let trap_rate = ratio(f.traps.fp, f.traps.fp + f.traps.tn);
    assert!(
        f.overall.precision() >= 0.97,
        "{name}: precision {:.3} < 0.97",
        f.overall.precision()
    );
    assert!(
        f.overall.recall() >= 0.75,
        "{name}: recall {:.3} < 0.75",
        f.overall.recall()
    );
    assert!(
        trap_rate <= 0.02,
        "{name}: traps merged {:.3} > 0.02",
        trap_rate
    );
}

#[test]
fn the_decision_meets_the_goals_on_the_dev_set() {
    assert_goals("dev", &evaluate("dev"));
}

/// Hand-written pairs in free phrasing, outside the generator's
/// templates: a check that the decision is not tuned to them. Too few
/// merges (20) for the precision goal to mean much, so only the traps
/// are held to it; the figures are printed.
#[test]
fn handwritten_figures() {
    let f = evaluate("handwritten");
    assert_eq!(f.traps.fp, 0, "a formulaic trap was merged");
}

#[test]
fn holdout_figures() {
    assert_goals("holdout", &evaluate("holdout"));
}

/// The command itself, as the hidden gold set runs it: one answer line per
/// pair in order, a bad line named by its number on stderr and exit 1.
#[test]
fn the_similar_command_answers_in_order_and_names_bad_lines() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("pairs.jsonl");
    let good = std::fs::read_to_string(format!(
        "{}/tests/fixtures/clustering/handwritten.jsonl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the hand-written pairs");
    let first: Vec<&str> = good.lines().take(3).collect();
    std::fs::write(
        &path,
        format!(
            "{}\n{{\"id\": 9, \"a\": {{}}}}\n{}\n",
            first[..2].join("\n"),
            first[2]
        ),
    )
    .expect("written");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedmerge"))
        .args(["similar", "--pairs"])
        .arg(&path)
        .env_remove("FEEDMERGE_CONFIG")
        .output()
        .expect("feedmerge runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let ids: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["id"].to_string())
        .collect();
    assert_eq!(ids, ["\"hand-001\"", "\"hand-002\"", "\"hand-003\""]);
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(stderr.contains("line 3: "), "{stderr}");
}
