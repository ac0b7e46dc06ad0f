//! feedparser's result dict, rebuilt from *our* output (`ParsedFeed` +
//! `NormalizedFeed`), so its `Expect:` expressions can be evaluated against
//! what feedmerge would store and republish.
//!
//! Mapping rules (each one is stated in the README's Conformance section):
//! - Keys our model has map to our fields; a key it has but that is empty
//!   is absent (Python would raise `KeyError`, so the assertion fails).
//! - Keys our model does not have make the assertion *skipped* with the key
//!   as the reason; `bozo` and `not bozo` conjuncts are skipped the same way.
//! - Titles are plain text by design: a title is compared with the text
//!   content of the expected value (`<b>x</b>` expects `x`).
//! - HTML fields are compared after both sides are serialized the same way
//!   (html5ever via a permissive ammonia pass), minus the `rel="noopener
//!   noreferrer"` we add to links on purpose.
//! - `encoding == 'x'` passes when reading the bytes as `x` gives exactly the
//!   text we decoded (what matters is the text; names differ between
//!   Python codecs and WHATWG labels, e.g. `us-ascii` vs `windows-1252`).

use super::pyexpr::{CmpOp, Expr};
use chrono::{DateTime, Datelike, Timelike, Utc};
use feedmerge::pipeline::normalize::NormalizedFeed;
use feedmerge::pipeline::normalize::html::{title_text, to_text};
use std::rc::Rc;

/// Why an assertion was not a plain pass.
#[derive(Debug, Clone)]
pub enum Stop {
    /// Not evaluable against our model; the reason groups it in the report.
    Skip(String),
    /// Evaluated and wrong (or a `KeyError`/`IndexError` in Python terms).
    Fail(String),
}

/// A Python value, or one of ours with its own comparison rule.
#[derive(Debug, Clone)]
pub enum V {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<V>),
    Dict(Vec<(V, V)>),
    /// A plain-text field of ours.
    Text(String),
    /// A sanitized HTML field of ours.
    Html(String),
    /// A date of ours (compared with feedparser's 9-tuples).
    Date(DateTime<Utc>),
    /// The encoding we read the body as, with the body and our text.
    Enc(Rc<EncodingFacts>),
    /// A dict-like object with a fixed set of keys our model has.
    Obj(Rc<Obj>),
}

/// What `encoding` needs to be judged.
#[derive(Debug)]
pub struct EncodingFacts {
    /// Our encoding name.
    pub name: &'static str,
    /// The raw bytes.
    pub body: Vec<u8>,
}

/// A dict whose keys are the ones our model has; any other key is a skip.
#[derive(Debug)]
pub struct Obj {
    /// `feed`, `entries[n]`, `entries[n]['content'][n]`…
    pub path: String,
    /// Known keys; `None` = the model has the field but this item lacks it.
    pub fields: Vec<(&'static str, Option<V>)>,
}

impl Obj {
    fn get(&self, key: &str) -> Result<Option<&V>, Stop> {
        match self.fields.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => Ok(v.as_ref()),
            None => Err(Stop::Skip(format!(
                "{}['{key}'] not in our model",
                self.path
            ))),
        }
    }
}

fn obj(path: &str, fields: Vec<(&'static str, Option<V>)>) -> V {
    V::Obj(Rc::new(Obj {
        path: path.to_string(),
        fields,
    }))
}

fn opt_str(s: &Option<String>) -> Option<V> {
    s.as_ref().map(|s| V::Str(s.clone()))
}

fn lang(s: &Option<String>) -> Option<V> {
    Some(s.as_ref().map_or(V::None, |s| V::Str(s.clone())))
}

/// The evaluation environment: `feed`, `entries`, `encoding`.
pub struct Env {
    feed: V,
    entries: V,
    encoding: V,
}

impl Env {
    /// Builds the view of one parsed and normalized document.
    pub fn new(encoding: &'static str, norm: &NormalizedFeed, body: &[u8]) -> Env {
        let m = &norm.meta;
        let title = m.title.as_ref().map(|t| V::Text(t.clone()));
        let feed = obj(
            "feed",
            vec![
                ("title", title.clone()),
                (
                    "title_detail",
                    title.clone().map(|t| {
                        obj(
                            "feed['title_detail']",
                            vec![("value", Some(t)), ("language", lang(&m.language))],
                        )
                    }),
                ),
                ("link", opt_str(&m.site_url)),
                ("language", opt_str(&m.language)),
            ],
        );
        let entries = norm
            .items
            .iter()
            .map(|it| {
                let title = Some(V::Text(it.title.clone())).filter(|_| !it.title.is_empty());
                // feedparser fills `summary` from the content when an entry
                // has none; so does its `description` alias.
                let summary = it
                    .summary
                    .as_ref()
                    .or(it.content.as_ref())
                    .map(|s| V::Html(s.clone()));
                let detail = |name: &str, v: &Option<V>| {
                    v.clone().map(|v| {
                        obj(
                            &format!("entries[n]['{name}_detail']"),
                            vec![("value", Some(v)), ("language", lang(&it.language))],
                        )
                    })
                };
                let content = it.content.as_ref().map(|c| {
                    V::Seq(vec![obj(
                        "entries[n]['content'][n]",
                        vec![
                            ("value", Some(V::Html(c.clone()))),
                            ("language", lang(&it.language)),
                        ],
                    )])
                });
                let first_author = it.authors.first().map(|a| V::Str(a.clone()));
                let authors = (!it.authors.is_empty()).then(|| {
                    V::Seq(
                        it.authors
                            .iter()
                            .map(|a| {
                                obj(
                                    "entries[n]['authors'][n]",
                                    vec![("name", Some(name_part(V::Str(a.clone()))))],
                                )
                            })
                            .collect(),
                    )
                });
                let tags = (!it.categories.is_empty()).then(|| {
                    V::Seq(
                        it.categories
                            .iter()
                            .map(|c| {
                                obj(
                                    "entries[n]['tags'][n]",
                                    vec![("term", Some(V::Str(c.clone())))],
                                )
                            })
                            .collect(),
                    )
                });
                obj(
                    "entries[n]",
                    vec![
                        ("title", title.clone()),
                        ("title_detail", detail("title", &title)),
                        ("link", opt_str(&it.link)),
                        ("id", opt_str(&it.guid)),
                        ("guid", opt_str(&it.guid)),
                        ("summary", summary.clone()),
                        ("description", summary.clone()),
                        ("summary_detail", detail("summary", &summary)),
                        ("content", content),
                        ("published_parsed", it.published.map(V::Date)),
                        ("updated_parsed", it.updated.map(V::Date)),
                        ("author", first_author.clone()),
                        (
                            "author_detail",
                            first_author.map(|a| {
                                obj(
                                    "entries[n]['author_detail']",
                                    vec![("name", Some(name_part(a)))],
                                )
                            }),
                        ),
                        ("authors", authors),
                        ("tags", tags),
                        ("category", it.categories.first().map(|c| V::Str(c.clone()))),
                        ("language", opt_str(&it.language)),
                    ],
                )
            })
            .collect();
        Env {
            feed,
            entries: V::Seq(entries),
            encoding: V::Enc(Rc::new(EncodingFacts {
                name: encoding,
                body: body.to_vec(),
            })),
        }
    }

    /// Evaluates an expression.
    pub fn eval(&self, e: &Expr) -> Result<V, Stop> {
        Ok(match e {
            Expr::Name(n) => match n.as_str() {
                "feed" => self.feed.clone(),
                "entries" => self.entries.clone(),
                "encoding" => self.encoding.clone(),
                "bozo" | "bozo_exception" => {
                    return Err(Stop::Skip(
                        "bozo (well-formedness flag) not in our model".into(),
                    ));
                }
                other => return Err(Stop::Skip(format!("`{other}` not in our model"))),
            },
            Expr::Str(s) => V::Str(s.clone()),
            Expr::Int(v) => V::Int(*v),
            Expr::Float(v) => V::Float(*v),
            Expr::Const(None) => V::None,
            Expr::Const(Some(b)) => V::Bool(*b),
            Expr::Tuple(items) | Expr::List(items) => V::Seq(
                items
                    .iter()
                    .map(|i| self.eval(i))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Dict(pairs) => V::Dict(
                pairs
                    .iter()
                    .map(|(k, v)| Ok((self.eval(k)?, self.eval(v)?)))
                    .collect::<Result<_, Stop>>()?,
            ),
            Expr::Index(target, idx) => {
                let t = self.eval(target)?;
                let i = self.eval(idx)?;
                index(&t, &i)?
            }
            Expr::Attr(target, name) => {
                let t = self.eval(target)?;
                index(&t, &V::Str(name.clone()))?
            }
            Expr::Call(f, args) => self.call(f, args)?,
            Expr::Not(x) => V::Bool(!truthy(&self.eval(x)?)),
            Expr::And(parts) => {
                let mut last = V::Bool(true);
                for p in parts {
                    last = self.eval(p)?;
                    if !truthy(&last) {
                        return Ok(last);
                    }
                }
                last
            }
            Expr::Or(parts) => {
                let mut last = V::Bool(false);
                for p in parts {
                    last = self.eval(p)?;
                    if truthy(&last) {
                        return Ok(last);
                    }
                }
                last
            }
            Expr::Compare(first, rest) => {
                let mut left = self.eval(first)?;
                for (op, right) in rest {
                    let right = self.eval(right)?;
                    let ok = match op {
                        CmpOp::Eq => eq(&left, &right),
                        CmpOp::Ne => !eq(&left, &right),
                        CmpOp::In => contains(&right, &left),
                        CmpOp::NotIn => !contains(&right, &left),
                    };
                    if !ok {
                        return Ok(V::Bool(false));
                    }
                    left = right;
                }
                V::Bool(true)
            }
        })
    }

    fn call(&self, f: &Expr, args: &[Expr]) -> Result<V, Stop> {
        match (f, args) {
            (Expr::Name(n), [a]) if n == "len" => match self.eval(a)? {
                V::Seq(v) => Ok(V::Int(v.len() as i64)),
                V::Str(s) | V::Text(s) | V::Html(s) => Ok(V::Int(s.chars().count() as i64)),
                other => Err(Stop::Skip(format!("len() of {other:?}"))),
            },
            (Expr::Name(n), [a]) if n == "ord" => match self.eval(a)? {
                V::Str(s) | V::Text(s) | V::Html(s) => {
                    let mut chars = s.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => Ok(V::Int(i64::from(u32::from(c)))),
                        _ => Err(Stop::Fail(format!("ord() of {s:?}"))),
                    }
                }
                other => Err(Stop::Fail(format!("ord() of {other:?}"))),
            },
            (Expr::Attr(target, m), [key]) if m == "get" || m == "has_key" => {
                let t = self.eval(target)?;
                let k = self.eval(key)?;
                let got = match index(&t, &k) {
                    Ok(v) => Some(v),
                    Err(Stop::Fail(_)) => None,
                    Err(skip) => return Err(skip),
                };
                Ok(match (m.as_str(), got) {
                    ("get", v) => v.unwrap_or(V::None),
                    (_, v) => V::Bool(v.is_some()),
                })
            }
            _ => Err(Stop::Skip(format!("call {f:?} not supported"))),
        }
    }
}

fn index(t: &V, i: &V) -> Result<V, Stop> {
    match (t, i) {
        (V::Obj(o), V::Str(k)) => match o.get(k)? {
            Some(v) => Ok(v.clone()),
            None => Err(Stop::Fail(format!(
                "KeyError: {}['{k}'] is empty in our output",
                o.path
            ))),
        },
        (V::Seq(v), V::Int(n)) => usize::try_from(*n)
            .ok()
            .and_then(|n| v.get(n))
            .cloned()
            .ok_or_else(|| Stop::Fail(format!("IndexError: [{n}] of {} items", v.len()))),
        (V::Str(s) | V::Text(s) | V::Html(s), V::Int(n)) => usize::try_from(*n)
            .ok()
            .and_then(|n| s.chars().nth(n))
            .map(|c| V::Str(c.to_string()))
            .ok_or_else(|| Stop::Fail(format!("IndexError: [{n}] of {s:?}"))),
        (other, k) => Err(Stop::Fail(format!("cannot index {other:?} with {k:?}"))),
    }
}

/// Python truthiness.
pub fn truthy(v: &V) -> bool {
    match v {
        V::None => false,
        V::Bool(b) => *b,
        V::Int(i) => *i != 0,
        V::Float(f) => *f != 0.0,
        V::Str(s) | V::Text(s) | V::Html(s) => !s.is_empty(),
        V::Seq(v) => !v.is_empty(),
        V::Dict(v) => !v.is_empty(),
        V::Date(_) | V::Enc(_) | V::Obj(_) => true,
    }
}

fn eq(a: &V, b: &V) -> bool {
    match (a, b) {
        // feedparser's titles are text (`History of the <blink> tag`) or
        // sanitized HTML (`A <b>bold</b> move`): read as ours are.
        (V::Text(ours), V::Str(want)) | (V::Str(want), V::Text(ours)) => {
            *ours == to_text(want) || *ours == title_text(want)
        }
        (V::Html(ours), V::Str(want)) | (V::Str(want), V::Html(ours)) => {
            super::html_canon::same_html(ours, want)
        }
        (V::Date(d), V::Seq(t)) | (V::Seq(t), V::Date(d)) => {
            let ours = [
                i64::from(d.year()),
                d.month().into(),
                d.day().into(),
                d.hour().into(),
                d.minute().into(),
                d.second().into(),
                d.weekday().num_days_from_monday().into(),
                d.ordinal().into(),
                0,
            ];
            t.len() == 9
                && t.iter()
                    .zip(ours)
                    .all(|(x, o)| matches!(x, V::Int(v) if *v == o))
        }
        (V::Enc(facts), V::Str(want)) | (V::Str(want), V::Enc(facts)) => {
            super::encodings::same_text(facts.name, want, &facts.body)
        }
        (V::Str(x), V::Str(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Float(x), V::Float(y)) => x == y,
        (V::Int(x), V::Float(y)) | (V::Float(y), V::Int(x)) => (*x as f64) == *y,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Bool(x), V::Int(y)) | (V::Int(y), V::Bool(x)) => i64::from(*x) == *y,
        (V::None, V::None) => true,
        (V::Seq(x), V::Seq(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq(p, q)),
        (V::Dict(x), V::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| eq(k, k2) && eq(v, v2)))
        }
        _ => false,
    }
}

fn contains(hay: &V, needle: &V) -> bool {
    match (hay, needle) {
        (V::Str(h) | V::Text(h) | V::Html(h), V::Str(n)) => h.contains(n.as_str()),
        (V::Seq(v), n) => v.iter().any(|x| eq(x, n)),
        _ => false,
    }
}

/// Every field path our model maps (`[n]` stands for any index). Per-field
/// `xml:lang` (`title_detail['language']`…) is not mapped: our model keeps one
/// language per feed and per item.
const MAPPED: &[&str] = &[
    "feed['title']",
    "feed['title_detail']['value']",
    "feed['link']",
    "feed['language']",
    "entries[n]['title']",
    "entries[n]['title_detail']['value']",
    "entries[n]['link']",
    "entries[n]['id']",
    "entries[n]['guid']",
    "entries[n]['summary']",
    "entries[n]['description']",
    "entries[n]['summary_detail']['value']",
    "entries[n]['content'][n]['value']",
    "entries[n]['published_parsed']",
    "entries[n]['updated_parsed']",
    "entries[n]['author']",
    "entries[n]['author_detail']['name']",
    "entries[n]['authors'][n]['name']",
    "entries[n]['tags'][n]['term']",
    "entries[n]['category']",
    "entries[n]['language']",
];

/// The field path of a subscript chain rooted at `feed`/`entries`.
fn path_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) if n == "feed" || n == "entries" => Some(n.clone()),
        Expr::Index(t, i) => {
            let base = path_of(t)?;
            Some(match &**i {
                Expr::Str(k) => format!("{base}['{k}']"),
                _ => format!("{base}[n]"),
            })
        }
        Expr::Attr(t, k) => Some(format!("{}['{k}']", path_of(t)?)),
        Expr::Call(f, args) => match (&**f, args.as_slice()) {
            (Expr::Attr(t, m), [Expr::Str(k)]) if m == "get" || m == "has_key" => {
                Some(format!("{}['{k}']", path_of(t)?))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Why an expression cannot be judged against our model, decided from the
/// expression alone (so the verdict never depends on what we parsed): a
/// field path we do not map, or a whole object compared with a dict.
pub fn unmapped(e: &Expr) -> Option<String> {
    let check = |x: &Expr, leaf: bool| -> Option<String> {
        let p = path_of(x)?;
        let known = MAPPED
            .iter()
            .any(|m| if leaf { *m == p } else { m.starts_with(&p) });
        (!known).then(|| {
            if MAPPED.iter().any(|m| m.starts_with(&p)) {
                format!("{p} compared as a whole object (has fields not in our model)")
            } else {
                format!("{p} not in our model")
            }
        })
    };
    match e {
        Expr::Compare(first, rest) => std::iter::once(&**first)
            .chain(rest.iter().map(|(_, x)| x))
            .find_map(|x| check(x, true).or_else(|| unmapped(x))),
        Expr::Index(..) | Expr::Attr(..) => check(e, false),
        Expr::Call(f, args) => check(e, false)
            .or_else(|| match &**f {
                Expr::Attr(t, _) => unmapped(t),
                _ => None,
            })
            .or_else(|| args.iter().find_map(unmapped)),
        Expr::Not(x) => unmapped(x),
        Expr::And(xs) | Expr::Or(xs) | Expr::Tuple(xs) | Expr::List(xs) => {
            xs.iter().find_map(unmapped)
        }
        _ => None,
    }
}

/// The name in an author shown as `Name (address)`: feedparser's
/// `author_detail.name`.
fn name_part(author: V) -> V {
    match author {
        V::Str(s) => match s.strip_suffix(')').and_then(|r| r.rsplit_once(" (")) {
            Some((name, address)) if address.contains('@') => V::Str(name.to_string()),
            _ => V::Str(s),
        },
        other => other,
    }
}
