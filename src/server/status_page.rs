//! `/status` for people: the page a browser gets (`Accept: text/html`, or
//! `/status.html`). Failing and blocked sources first, each with its state,
//! last error, last success, next check and an inline SVG chart of its
//! stories per day over the last [`DAYS`] days, so a source going quiet
//! shows before anyone complains. No scripts; source names, titles and
//! errors are hostile input and are escaped.

use super::status::summary;
use crate::export::html::{escape, layout, site_path, time};
use crate::model::redact::redact;
use crate::store::{SourceStatus, StoreError, StoreStats};
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Days each chart covers, today included.
pub const DAYS: u32 = 30;

/// Chart geometry in CSS pixels: a bar and its gap per day.
const BAR: u32 = 3;
const STEP: u32 = 4;
const HEIGHT: u32 = 24;

/// Whether a `/status` request asked for the page rather than JSON: the
/// `Accept` header's q-values decide (the most specific range naming a
/// type gives its q); HTML only when it is preferred strictly, so JSON
/// stays the answer to `application/json`, `*/*` and no header at all.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let q_html = quality(accept, "text", "html").max(quality(accept, "application", "xhtml+xml"));
    q_html > quality(accept, "application", "json")
}

/// The q-value `accept` gives `kind/sub`: from the exact range if listed,
/// else `kind/*`, else `*/*`, else 0.
fn quality(accept: &str, kind: &str, sub: &str) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',').take(64) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let Some((t, s)) = media.split_once('/') else {
            continue;
        };
        let specificity = match (t.trim(), s.trim()) {
            (t, s) if t.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(sub) => 2,
            (t, "*") if t.eq_ignore_ascii_case(kind) => 1,
            ("*", "*") => 0,
            _ => continue,
        };
        let q = parts
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| v.trim().parse::<f32>().ok())?
            })
            .unwrap_or(1.0);
        let q = if q.is_finite() {
            q.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if best.is_none_or(|(spec, _)| specificity > spec) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// Per-source daily counts, shared by page views: one grouped read of the
/// store serves every view until a poll changes the stories (the answer
/// cache's generation moves) or the day turns, and at most one read per
/// [`MIN_AGE`] however busy the polls are. Views meanwhile wait for the
/// one read in flight rather than each running their own.
#[derive(Default)]
pub struct Charts {
    slot: tokio::sync::Mutex<Option<Snapshot>>,
}

/// Counts are read again at most this often while polls keep changing
/// stories (a chart of days needs no fresher figures).
const MIN_AGE: Duration = Duration::from_secs(15);
/// And at least this often, whatever happens.
const MAX_AGE: Duration = Duration::from_secs(600);

struct Snapshot {
    read_at: Instant,
    generation: u64,
    day: i64,
    counts: Arc<HashMap<String, Vec<u32>>>,
}

impl Charts {
    /// The counts for the [`DAYS`] days ending today, read from `store`
    /// unless the last read still holds.
    pub async fn counts(
        &self,
        store: &dyn crate::store::Store,
        generation: u64,
        now: DateTime<Utc>,
    ) -> Result<Arc<HashMap<String, Vec<u32>>>, StoreError> {
        let day = now.timestamp().div_euclid(86_400);
        let mut slot = self.slot.lock().await;
        if let Some(s) = slot.as_ref() {
            let age = s.read_at.elapsed();
            let unchanged = s.generation == generation && age < MAX_AGE;
            if s.day == day && (unchanged || age < MIN_AGE) {
                return Ok(Arc::clone(&s.counts));
            }
        }
        let counts = Arc::new(store.daily_stories(now, DAYS).await?);
        *slot = Some(Snapshot {
            read_at: Instant::now(),
            generation,
            day,
            counts: Arc::clone(&counts),
        });
        Ok(counts)
    }
}

/// A source's state word: `ok`, `new` (never polled), `failing`, or the
/// error's own state word where it has one (`blocked`, `scrape_empty`,
/// `scrape_degraded`).
pub fn state(s: &SourceStatus) -> &'static str {
    if s.consecutive_failures == 0 {
        return if s.last_attempt.is_none() {
            "new"
        } else {
            "ok"
        };
    }
    let error = s.last_error.as_deref().unwrap_or("");
    ["blocked", "scrape_empty", "scrape_degraded"]
        .into_iter()
        .find(|word| {
            error
                .strip_prefix(word)
                .is_some_and(|rest| rest.starts_with(':'))
        })
        .unwrap_or("failing")
}

/// What the page shows besides the sources.
pub struct Page<'a> {
    /// The configured base URL (for the link home).
    pub base: String,
    /// Every source, in any order.
    pub sources: &'a [SourceStatus],
    /// Stories per source per day ([`DAYS`] each), or why they are missing.
    pub counts: Result<&'a HashMap<String, Vec<u32>>, String>,
    /// The store's figures, or why they could not be read.
    pub store: Result<&'a StoreStats, String>,
    /// The last day charted.
    pub now: DateTime<Utc>,
}

/// The page: a summary, then one row per source, failing ones first.
pub fn render(page: &Page<'_>) -> String {
    let mut rows: Vec<&SourceStatus> = page.sources.iter().collect();
    rows.sort_by(|a, b| {
        (a.consecutive_failures == 0, &a.name).cmp(&(b.consecutive_failures == 0, &b.name))
    });
    let failing = rows.iter().filter(|s| s.consecutive_failures > 0).count();
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<header><p class="crumbs"><a href="{home}">All feeds</a> · <a href="{json}">JSON</a></p><h1>Status</h1>
<p class="meta">{sources} sources, {failing} failing · {store} · as of {now}</p></header>
<main>
"#,
        home = escape(&site_path(&format!("{}/", page.base))),
        json = escape(&site_path(&format!("{}/status", page.base))),
        sources = page.sources.len(),
        store = escape(
            match &page.store {
                Ok(stats) => summary(stats),
                Err(e) => format!("store: {e}"),
            }
            .trim_end()
        ),
        now = time(page.now),
    );
    if let Err(e) = &page.counts {
        let _ = writeln!(
            body,
            r#"<p class="meta">Charts unavailable: {}</p>"#,
            escape(e)
        );
    }
    body.push_str(
        r#"<div class="scroll"><table class="status">
<thead><tr><th>Source</th><th>State</th><th>Last error</th><th>Last success</th><th>Next check</th><th>Stories per day, last 30 days</th></tr></thead>
<tbody>
"#,
    );
    for s in rows {
        let counts = page.counts.as_ref().ok().and_then(|c| c.get(&s.name));
        body.push_str(&row(s, counts));
    }
    body.push_str("</tbody></table></div>\n</main>");
    layout("Status", &[], &body)
}

fn row(s: &SourceStatus, counts: Option<&Vec<u32>>) -> String {
    let state = state(s);
    let title = s
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty() && *t != s.name)
        .map(|t| format!(r#"<br><span class="meta">{}</span>"#, escape(t)))
        .unwrap_or_default();
    let streak = if s.consecutive_failures > 0 {
        let since = s
            .failing_since
            .map(|t| format!(" since {}", time(t)))
            .unwrap_or_default();
        format!(
            r#"<br><span class="meta">{} in a row{since}</span>"#,
            s.consecutive_failures
        )
    } else {
        String::new()
    };
    let mut note = s
        .last_error
        .as_deref()
        .map(|e| escape(&redact(e)))
        .unwrap_or_default();
    if let Some(to) = &s.moved_to {
        if !note.is_empty() {
            note.push_str("<br>");
        }
        let _ = write!(
            note,
            "moved permanently to {}: update the config's url",
            escape(&redact(to))
        );
    }
    let when = |t: Option<DateTime<Utc>>| t.map(time).unwrap_or_else(|| "—".into());
    let zeros = vec![0; DAYS as usize];
    format!(
        r#"<tr class="{state}"><td>{name}{title}</td><td><span class="state {state}">{state}</span>{streak}</td><td class="error">{note}</td><td>{success}</td><td>{next}</td><td class="num">{chart}</td></tr>
"#,
        name = escape(&s.name),
        success = when(s.last_success),
        next = when(s.next_check),
        chart = chart(counts.unwrap_or(&zeros)),
    )
}

/// One bar per day, oldest on the left, scaled to the source's busiest
/// day; a day without stories is a thin baseline, so a quiet spell shows
/// as a gap rather than nothing. The total follows.
fn chart(counts: &[u32]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let total: u64 = counts.iter().map(|&n| u64::from(n)).sum();
    let today = counts.last().copied().unwrap_or(0);
    let width = STEP * counts.len() as u32;
    let mut svg = format!(
        r#"<svg class="chart" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{total} stories in {days} days, {today} today"><title>{total} stories in {days} days (busiest day {busiest}), {today} today</title>"#,
        days = counts.len(),
        busiest = counts.iter().copied().max().unwrap_or(0),
    );
    for (i, &n) in counts.iter().enumerate() {
        let h = if n == 0 {
            1
        } else {
            (u64::from(n) * u64::from(HEIGHT))
                .div_ceil(u64::from(max))
                .clamp(2, u64::from(HEIGHT)) as u32
        };
        let class = if n == 0 { r#" class="z""# } else { "" };
        let _ = write!(
            svg,
            r#"<rect{class} x="{}" y="{}" width="{BAR}" height="{h}"/>"#,
            i as u32 * STEP,
            HEIGHT - h
        );
    }
    svg.push_str("</svg>");
    format!(r#"{svg} <span class="total">{total}</span>"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: Option<&str>) -> bool {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        wants_html(&h)
    }

    #[test]
    fn browsers_get_the_page_and_everyone_else_json() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert!(accept(Some(firefox)) && accept(Some(chrome)));
        assert!(accept(Some("text/html")) && accept(Some("TEXT/HTML; charset=utf-8")));
        assert!(accept(Some("application/json;q=0.5, text/*")));
        for json in [
            None,
            Some("*/*"),
            Some("application/json"),
            Some("application/json, text/html"),
            Some("text/html;q=0.5, application/json"),
            Some("text/html;q=0, */*"),
            Some("garbage,,;;=="),
            Some(""),
        ] {
            assert!(!accept(json), "{json:?}");
        }
    }

    fn source(name: &str, failures: u32, error: Option<&str>) -> SourceStatus {
        SourceStatus {
            name: name.into(),
            url: format!("https://e.org/{name}"),
            title: Some(format!("Title of {name}")),
            site_url: None,
            last_attempt: Some(DateTime::UNIX_EPOCH),
            last_success: None,
            last_status: None,
            last_error: error.map(String::from),
            consecutive_failures: failures,
            failing_since: None,
            next_check: None,
            moved_to: None,
            items: 0,
            polled_by: None,
            lease_holder: None,
        }
    }

    #[test]
    fn states_come_from_the_failure_and_its_word() {
        assert_eq!(state(&source("a", 0, None)), "ok");
        let mut new = source("a", 0, None);
        new.last_attempt = None;
        assert_eq!(state(&new), "new");
        assert_eq!(state(&source("a", 2, Some("HTTP 500"))), "failing");
        assert_eq!(
            state(&source("a", 1, Some("blocked: HTTP 403: …"))),
            "blocked"
        );
        assert_eq!(
            state(&source("a", 1, Some("scrape_empty: nothing"))),
            "scrape_empty"
        );
        assert_eq!(state(&source("a", 1, Some("blockedness"))), "failing");
    }

    #[test]
    fn the_page_escapes_and_orders_and_charts_every_day() {
        let list = [
            source("a-fine", 0, None),
            source("<b>z</b>", 1, Some("blocked: <script>alert(1)</script>")),
        ];
        let mut counts = HashMap::new();
        counts.insert("a-fine".to_string(), {
            let mut v = vec![0; DAYS as usize];
            v[29] = 12;
            v[0] = 3;
            v
        });
        let stats = StoreStats::default();
        let html = render(&Page {
            base: "http://127.0.0.1:1".into(),
            sources: &list,
            counts: Ok(&counts),
            store: Ok(&stats),
            now: DateTime::UNIX_EPOCH,
        });
        assert!(
            !html.contains("<script>") && !html.contains("<b>z"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let blocked = html.find("&lt;b&gt;z&lt;/b&gt;").unwrap();
        let fine = html.find("a-fine").unwrap();
        assert!(blocked < fine, "failing first");
        assert_eq!(html.matches("<svg").count(), 2, "a chart per source");
        assert_eq!(html.matches("<rect").count(), 2 * DAYS as usize);
        assert!(
            html.contains(r#"height="24"/>"#),
            "the busiest day is full height"
        );
        assert!(html.contains("15 stories in 30 days, 12 today"));
    }
}
