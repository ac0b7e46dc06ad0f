//! The module graph stays a pipeline: every `crate::` path in `src/` is
//! read, each top-level module's dependencies are collected, and the test
//! fails when one points up the layers below (or when a new top-level module
//! appears without a place in them). The stages inside `pipeline/` are held
//! to the same rule.
//!
//! A text scan rather than a compiler query: it needs nothing installed, and
//! `use crate::…` / `super::` paths are the only way a module reaches
//! another, so the scan sees every edge the compiler does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules, lowest first. A module may depend on those listed
/// before it, never on one after it. `alloc` stands apart: nothing uses it
/// but `main.rs`.
const LAYERS: &[&str] = &[
    "model",
    "background",
    "cluster",
    "config",
    "telemetry",
    "store",
    "pipeline",
    "scheduler",
    "feeds",
    "export",
    "publish",
    "server",
    "daemon",
    "cli",
    "alloc",
];

/// The stages inside `pipeline/`, lowest first, by the same rule. `poll`
/// (one poll through every stage), the pipeline's own `mod.rs` and
/// `parse_pool.rs` may use them all.
const STAGES: &[&str] = &[
    "politeness",
    "fetch",
    "parse",
    "scrape",
    "normalize",
    "ingest",
    "poll",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file, from `src/`: `src/pipeline/parse/mod.rs` →
/// `["pipeline", "parse"]`, `src/pipeline/mod.rs` → `["pipeline"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("a file under src/");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// Absolute module paths (from the crate root) that `text` refers to.
fn references(text: &str, own: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = find_path_start(rest) {
            let tail = &rest[at..];
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            rest = &tail[path.len().max(1)..];
            let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let mut base: Vec<String> = Vec::new();
            let mut iter = segments.iter().peekable();
            match iter.peek() {
                Some(&&"crate") => {
                    iter.next();
                }
                Some(&&"super") => {
                    // `own` is the module the file defines; each `super`
                    // climbs one level.
                    base = own.to_vec();
                    while iter.peek() == Some(&&"super") {
                        iter.next();
                        base.pop();
                    }
                }
                _ => continue,
            }
            base.extend(iter.map(|s| s.to_string()));
            out.push(base);
        }
    }
    out
}

fn find_path_start(s: &str) -> Option<usize> {
    let a = s.find("crate::");
    let b = s.find("super::");
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Edges between modules at `depth` (1 = top level, 2 = inside a top-level
/// module named `within`), from → set of to.
fn edges(depth: usize, within: Option<&str>) -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let own = module_path(&src, &file);
        if let Some(w) = within
            && own.first().map(String::as_str) != Some(w)
        {
            continue;
        }
        if own.len() < depth {
            continue;
        }
        let from = own[depth - 1].clone();
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        // Unit tests may reach for fixtures anywhere; the rule is about
        // what the shipped code depends on.
        let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
        for target in references(shipped, &own) {
            if within.is_some() && target.first().map(String::as_str) != within {
                continue;
            }
            if let Some(to) = target.get(depth - 1)
                && *to != from
            {
                graph.entry(from.clone()).or_default().insert(to.clone());
            }
        }
    }
    graph
}

fn check_layers(graph: &BTreeMap<String, BTreeSet<String>>, layers: &[&str], free: &[&str]) {
    let rank = |m: &str| layers.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    for (from, tos) in graph {
        if free.contains(&from.as_str()) {
            continue;
        }
        let Some(rf) = rank(from) else {
            wrong.push(format!("{from} has no place in the layers"));
            continue;
        };
        for to in tos {
            match rank(to) {
                Some(rt) if rt < rf => {}
                Some(_) => wrong.push(format!("{from} → {to} points up the layers")),
                None if free.contains(&to.as_str()) => {
                    wrong.push(format!("{from} → {to}: only the pipeline itself runs it"))
                }
                None => {} // a function or type of the parent module
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "module dependencies break the layering ({}):\n  {}\n(graph: {graph:?})",
        layers.join(" < "),
        wrong.join("\n  ")
    );
}

#[test]
fn top_level_modules_depend_only_on_lower_layers() {
    let graph = edges(1, None);
    assert!(
        graph.contains_key("pipeline") && graph.contains_key("server"),
        "the scan found the modules: {graph:?}"
    );
    check_layers(&graph, LAYERS, &[]);
}

#[test]
fn pipeline_stages_depend_only_on_earlier_stages() {
    let graph = edges(2, Some("pipeline"));
    assert!(
        graph.contains_key("ingest"),
        "the scan found the stages: {graph:?}"
    );
    check_layers(&graph, STAGES, &["parse_pool"]);
}

#[test]
fn the_scan_sees_an_upward_edge() {
    // The check itself must be able to fail: a fake file's references.
    let own = vec!["model".to_string()];
    let refs = references(
        "use crate::pipeline::fetch::X; // crate::cli in a comment\nuse super::store;",
        &own,
    );
    assert_eq!(
        refs,
        vec![
            vec!["pipeline".to_string(), "fetch".into(), "X".into()],
            vec!["store".to_string()]
        ]
    );
    let mut graph = BTreeMap::new();
    graph.insert(
        "model".to_string(),
        BTreeSet::from(["pipeline".to_string()]),
    );
    let caught = std::panic::catch_unwind(|| check_layers(&graph, LAYERS, &[]));
    assert!(caught.is_err(), "model → pipeline must be refused");
}
