//! Real-world feeds from feed-rs and rss-parser: every one parses with the
//! item count and titles of its golden.

use super::corpus;
use feedmerge::model::sections::SectionMap;
use feedmerge::pipeline::ingest::{self, IngestOptions};
use feedmerge::pipeline::normalize::NormalizedFeed;
use feedmerge::pipeline::normalize::html::to_text;
use feedmerge::pipeline::parse::ParseOptions;

/// Parses through our path; `content_type` as the upstream test served it.
pub fn ours(body: &[u8], content_type: Option<&str>) -> Result<NormalizedFeed, String> {
    let sections = SectionMap::default();
    let opts = IngestOptions {
        parse: ParseOptions {
            content_type,
            base_url: Some("https://example.test/feed"),
            timezone: chrono_tz::Tz::UTC,
            encoding: None,
            content_language: None,
        },
        source: "golden",
        source_section: None,
        sections: &sections,
        now: chrono::Utc::now(),
    };
    ingest::ingest(body, &opts)
        .map(|ingested| ingested.feed)
        .map_err(|e| e.to_string())
}

/// Compares our titles with the golden's, as plain text.
pub fn compare(name: &str, got: &NormalizedFeed, want_titles: &[Option<String>]) -> Vec<String> {
    let mut problems = Vec::new();
    if got.items.len() != want_titles.len() {
        problems.push(format!(
            "{name}: {} items, golden has {}",
            got.items.len(),
            want_titles.len()
        ));
        return problems;
    }
    for (i, (item, want)) in got.items.iter().zip(want_titles).enumerate() {
        let want = want.as_deref().map(to_text).unwrap_or_default();
        if !same_title(&item.title, &want) {
            problems.push(format!(
                "{name}[{i}]: title {:?}, golden {:?}",
                item.title, want
            ));
        }
    }
    problems
}

/// Equal, where a U+FFFD in the golden matches any one character: upstream
/// read a Latin-1 file (uolNoticias.rss) as UTF-8 and froze the damage.
fn same_title(ours: &str, golden: &str) -> bool {
    ours.chars().count() == golden.chars().count()
        && ours
            .chars()
            .zip(golden.chars())
            .all(|(o, g)| o == g || g == '\u{FFFD}')
}

fn pairs(index: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus().join("indexes").join(index)).expect("pairs index");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn feed_rs_goldens() {
    let (mut checked, mut problems) = (0, Vec::new());
    for (input, golden) in pairs("feed-rs-pairs.tsv") {
        let body = std::fs::read(corpus().join("feed-rs").join(&input)).expect("input present");
        let result = ours(&body, None);
        if input.ends_with("rss_2.0_invalid_1.xml") {
            assert!(
                result.is_err(),
                "the truncated Reuters feed must fail to parse"
            );
            continue;
        }
        if golden == "-" {
            continue; // low-level XML inputs, not feeds
        }
        let got = match result {
            Ok(g) => g,
            Err(e) => {
                problems.push(format!("{input}: {e}"));
                continue;
            }
        };
        let golden: serde_json::Value = serde_json::from_slice(
            &std::fs::read(corpus().join("feed-rs").join(&golden)).expect("golden present"),
        )
        .expect("golden is JSON");
        let titles: Vec<Option<String>> = golden["entries"]
            .as_array()
            .map(|es| {
                es.iter()
                    .map(|e| e["title"]["content"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        problems.extend(compare(&input, &got, &titles));
        checked += 1;
    }
    eprintln!(
        "feed-rs: {checked} feeds checked, {} problems",
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 60, "only {checked} feed-rs goldens checked");
}

#[test]
fn rss_parser_goldens() {
    let (mut checked, mut problems) = (0, Vec::new());
    for (input, golden) in pairs("rss-parser-pairs.tsv") {
        let body = std::fs::read(corpus().join("rss-parser").join(&input)).expect("input present");
        // Upstream serves this one over HTTP as latin1.
        let ct = input
            .ends_with("encoding.rss")
            .then_some("text/xml; charset=latin1");
        let result = ours(&body, ct);
        if input.ends_with("unrecognized.rss") {
            assert!(result.is_err(), "unrecognized.rss must be rejected");
            continue;
        }
        let got = match result {
            Ok(g) => g,
            Err(e) => {
                problems.push(format!("{input}: {e}"));
                continue;
            }
        };
        if golden == "-" {
            continue;
        }
        // encoding.json is itself written in Latin-1.
        let bytes =
            std::fs::read(corpus().join("rss-parser").join(&golden)).expect("golden present");
        let text = String::from_utf8(bytes).unwrap_or_else(|e| {
            encoding_rs::WINDOWS_1252
                .decode(e.as_bytes())
                .0
                .into_owned()
        });
        let golden: serde_json::Value = serde_json::from_str(&text).expect("golden is JSON");
        let titles: Vec<Option<String>> = golden["feed"]["items"]
            .as_array()
            .map(|es| {
                es.iter()
                    .map(|e| e["title"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        problems.extend(compare(&input, &got, &titles));
        checked += 1;
    }
    eprintln!(
        "rss-parser: {checked} feeds checked, {} problems",
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 28, "only {checked} rss-parser goldens checked");
}
