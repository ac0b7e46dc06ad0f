//! Expectation files (`NAME.expect.json`) and how a field of `feedmerge
//! inspect`'s JSON is judged against one. The same rules are implemented in
//! `tests/fixtures/classes/tools/expect.py`, which judges Python feedparser
//! by them; keep the two in step.
//!
//! An expectation names only the fields its case is about:
//! `format`, `title`, `link`, `language`, `item_count`, `items[]` (by
//! position: `id`, `title`, `link`, `published`, `updated`, `authors`,
//! `categories`, `summary`, `content`), or `error_contains` alone (a clean
//! non-zero exit whose message holds that text, ignoring case; with
//! `error_excludes`, a text it must not hold).
//!
//! - `null`: absent, null, blank or an empty list;
//! - a string: compared by the field's kind (below);
//! - a list (`authors`, `categories`): the same strings, each as often, in
//!   any order;
//! - a matcher object: `contains` / `not_contains` (a string or a list),
//!   `one_of` (values), `includes` (strings a list must hold), `len`;
//!   every key must hold.
//!
//! Kinds: `link` compares as a URL (scheme and host case; an empty path is
//! `/`), `published`/`updated` as instants, `summary`/`content` as HTML with
//! whitespace collapsed (runs become one space, none between tags,
//! `<br/>` is `<br>`, a numeric character reference is its character unless
//! that is markup or whitespace), `language` ignoring ASCII case, the rest
//! as trimmed text.

use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

const FEED_FIELDS: &[&str] = &["format", "title", "link", "language"];
const ITEM_FIELDS: &[&str] = &[
    "id",
    "title",
    "link",
    "published",
    "updated",
    "authors",
    "categories",
    "summary",
    "content",
];

/// What one run of `inspect` gave.
pub enum Outcome {
    /// Exit 0 and this JSON on stdout.
    Report(Value),
    /// A clean failure: non-zero exit, one message on stderr.
    Error(String),
    /// A panic, a signal or output that is not JSON.
    Crashed(String),
    /// Killed by the harness's watchdog.
    TimedOut(String),
}

/// One judged field.
pub struct Field {
    /// `title`, `items[0].link`, `item_count`, `error`.
    pub name: String,
    /// The expectation, as written.
    pub expected: Value,
    /// What we printed (or why there was nothing).
    pub got: String,
    /// Whether it matched.
    pub passed: bool,
}

/// Every field `expect` names, judged against `outcome`. Panics on an
/// expectation it does not understand: a typo must not pass silently.
pub fn evaluate(expect: &Value, outcome: &Outcome) -> Vec<Field> {
    let obj = expect
        .as_object()
        .unwrap_or_else(|| panic!("an expectation is a JSON object: {expect}"));
    check_keys(expect);
    if let Some(want) = obj.get("error_contains") {
        let needle = want.as_str().expect("error_contains is a string");
        let excluded = strings(obj.get("error_excludes").unwrap_or(&Value::Null));
        let (passed, got) = match outcome {
            Outcome::Error(e) => {
                let e_lower = e.to_lowercase();
                (
                    e_lower.contains(&needle.to_lowercase())
                        && excluded
                            .iter()
                            .all(|x| !e_lower.contains(&x.to_lowercase())),
                    format!("error: {e}"),
                )
            }
            Outcome::Report(r) => (false, summarize(r)),
            Outcome::Crashed(why) => (false, format!("crashed: {why}")),
            Outcome::TimedOut(why) => (false, why.clone()),
        };
        return vec![Field {
            name: "error".into(),
            expected: want.clone(),
            got,
            passed,
        }];
    }
    let report = match outcome {
        Outcome::Report(r) => Some(r),
        _ => None,
    };
    let mut out = Vec::new();
    for (name, want) in flatten(obj) {
        let Some(report) = report else {
            let got = match outcome {
                Outcome::Error(e) => format!("error: {e}"),
                Outcome::Crashed(why) => format!("crashed: {why}"),
                Outcome::TimedOut(why) => why.clone(),
                Outcome::Report(_) => unreachable!(),
            };
            out.push(Field {
                name,
                expected: want,
                got,
                passed: false,
            });
            continue;
        };
        let (got, passed) = if name == "item_count" {
            let n = report["items"].as_array().map_or(0, Vec::len);
            (n.to_string(), want.as_u64() == Some(n as u64))
        } else {
            match lookup(report, &name) {
                None => ("<no such item>".to_string(), false),
                Some(v) => (show(v), matches(leaf(&name), &want, v)),
            }
        };
        out.push(Field {
            name,
            expected: want,
            got,
            passed,
        });
    }
    out
}

fn check_keys(expect: &Value) {
    let obj = expect.as_object().expect("an object");
    for k in obj.keys() {
        assert!(
            FEED_FIELDS.contains(&k.as_str())
                || ["item_count", "items", "error_contains", "error_excludes"]
                    .contains(&k.as_str()),
            "unknown expectation key {k:?} in {expect}"
        );
    }
    if obj.contains_key("error_contains") {
        assert!(
            obj.keys()
                .all(|k| k == "error_contains" || k == "error_excludes"),
            "error_contains stands alone: {expect}"
        );
    } else {
        assert!(
            !obj.contains_key("error_excludes"),
            "error_excludes needs error_contains: {expect}"
        );
    }
    for item in obj
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for k in item.as_object().expect("an item is an object").keys() {
            assert!(
                ITEM_FIELDS.contains(&k.as_str()),
                "unknown item key {k:?} in {expect}"
            );
        }
    }
}

fn flatten(obj: &serde_json::Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for k in FEED_FIELDS {
        if let Some(v) = obj.get(*k) {
            out.push((k.to_string(), v.clone()));
        }
    }
    if let Some(v) = obj.get("item_count") {
        out.push(("item_count".into(), v.clone()));
    }
    for (i, item) in obj
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for k in ITEM_FIELDS {
            if let Some(v) = item.get(*k) {
                out.push((format!("items[{i}].{k}"), v.clone()));
            }
        }
    }
    out
}

fn leaf(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn lookup<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    match name.strip_prefix("items[") {
        Some(rest) => {
            let (idx, field) = rest.split_once("].")?;
            let i: usize = idx.parse().ok()?;
            let item = report["items"].as_array()?.get(i)?;
            Some(item.get(field).unwrap_or(&Value::Null))
        }
        None => Some(report.get(name).unwrap_or(&Value::Null)),
    }
}

fn summarize(report: &Value) -> String {
    format!(
        "a {} feed with {} items",
        report["format"].as_str().unwrap_or("?"),
        report["items"].as_array().map_or(0, Vec::len)
    )
}

/// A value for the failure list, cut to a readable length.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 240 {
        let cut: String = s.chars().take(240).collect();
        format!("{cut}… ({} chars)", s.chars().count())
    } else {
        s
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Url,
    Date,
    Html,
    List,
    Lang,
    Text,
}

fn kind(field: &str) -> Kind {
    match field {
        "link" => Kind::Url,
        "published" | "updated" => Kind::Date,
        "summary" | "content" => Kind::Html,
        "authors" | "categories" => Kind::List,
        "language" => Kind::Lang,
        _ => Kind::Text,
    }
}

fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().unwrap_or_default().trim().to_string())
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Whether `got` satisfies `want` for a field of kind `field`.
fn matches(field: &str, want: &Value, got: &Value) -> bool {
    match want {
        Value::Null => blank(got),
        Value::Object(m) => m.iter().all(|(k, arg)| matcher(field, k, arg, got)),
        _ if blank(got) => false,
        Value::Array(_) => {
            let (mut a, mut b) = (strings(want), strings(got));
            a.sort();
            b.sort();
            got.is_array() && a == b
        }
        Value::String(w) => got
            .as_str()
            .is_some_and(|g| normalize(field, w) == normalize(field, g)),
        other => panic!("unsupported expected value {other} for {field}"),
    }
}

fn matcher(field: &str, key: &str, arg: &Value, got: &Value) -> bool {
    match key {
        "one_of" => arg
            .as_array()
            .expect("one_of takes a list")
            .iter()
            .any(|a| matches(field, a, got)),
        "len" => got.as_array().map(Vec::len) == arg.as_u64().map(|n| n as usize),
        "includes" => {
            let have = strings(got);
            got.is_array()
                && strings(arg)
                    .iter()
                    .all(|a| have.contains(&a.trim().to_string()))
        }
        "contains" | "not_contains" => {
            let mut text = match got {
                Value::Array(_) => strings(got).join("\n"),
                Value::String(s) => s.clone(),
                _ => String::new(),
            };
            let mut needles = strings(arg);
            if kind(field) == Kind::Html {
                text = norm_html(&text);
                needles = needles.iter().map(|n| norm_html(n)).collect();
            }
            if key == "contains" {
                !text.is_empty() && needles.iter().all(|n| text.contains(n.as_str()))
            } else {
                needles.iter().all(|n| !text.contains(n.as_str()))
            }
        }
        other => panic!("unknown matcher {other:?} on {field}"),
    }
}

fn normalize(field: &str, s: &str) -> String {
    match kind(field) {
        Kind::Url => url::Url::parse(s.trim())
            .map(String::from)
            .unwrap_or_else(|_| s.trim().to_string()),
        Kind::Date => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|d| d.timestamp().to_string())
            .unwrap_or_else(|_| s.trim().to_string()),
        Kind::Html => norm_html(s),
        Kind::Lang => s.trim().to_ascii_lowercase(),
        Kind::List | Kind::Text => s.trim().to_string(),
    }
}

static CHAR_REF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"&#([0-9]+|[xX][0-9a-fA-F]+);").expect("valid regex"));
static SPACE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").expect("valid regex"));
static BETWEEN_TAGS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r">\s+<").expect("valid regex"));
static BR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<br\s*/?>").expect("valid regex"));

fn norm_html(s: &str) -> String {
    let s = CHAR_REF.replace_all(s, |c: &regex::Captures<'_>| {
        let num = &c[1];
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse().ok(),
        };
        match code.and_then(char::from_u32) {
            Some(ch) if !"<>&\"'".contains(ch) && !ch.is_whitespace() => ch.to_string(),
            _ => c[0].to_string(),
        }
    });
    let s = SPACE.replace_all(&s, " ");
    let s = BETWEEN_TAGS.replace_all(s.trim(), "><");
    BR.replace_all(&s, "<br>").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_compare_as_documented() {
        assert!(matches(
            "link",
            &json!("https://E.org"),
            &json!("https://e.org/")
        ));
        assert!(matches(
            "published",
            &json!("2024-08-09T13:24:00Z"),
            &json!("2024-08-09T16:24:00+03:00")
        ));
        assert!(matches(
            "content",
            &json!("<p>a</p> <p>b&#8230;</p>"),
            &json!("<p>a</p>\n<p>b…</p>")
        ));
        assert!(!matches("content", &json!("&#60;"), &json!("<")));
        assert!(matches("authors", &json!(["b", "a"]), &json!(["a", "b"])));
        assert!(!matches("authors", &json!(["a"]), &json!(["a", "a"])));
        assert!(matches("link", &Value::Null, &json!("")));
        assert!(!matches("link", &json!("https://e.org/"), &Value::Null));
        assert!(matches(
            "summary",
            &json!({"contains": "x", "not_contains": ["<script"]}),
            &json!("<p>x</p>")
        ));
        assert!(matches(
            "categories",
            &json!({"includes": ["a"], "len": 2}),
            &json!(["a", "b"])
        ));
        assert!(matches("language", &json!("ru-RU"), &json!("ru-ru")));
    }
}
