//! A stable-Rust fuzzer for decode → parse → normalize → export: mutates
//! corpus documents (byte flips, splices, feed-shaped tokens, random
//! charsets) and runs each through the daemon's path, catching panics and
//! timing every input. Shared by `tests/fuzz.rs` (a few seconds in every
//! `cargo test`) and `fuzz/main.rs` (`cargo run --release --example fuzz`).

use chrono::Utc;
use feedmerge::export::{self, Format};
use feedmerge::model::sections::SectionMap;
use feedmerge::model::{FeedDoc, SourceRef, Story};
use feedmerge::pipeline::ingest::{self, IngestOptions};
use feedmerge::pipeline::parse::ParseOptions;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Feed-shaped fragments spliced into inputs: where parsers break.
const TOKENS: &[&str] = &[
    "<",
    ">",
    "&",
    "&amp;",
    "&#x",
    "&#X41;",
    "&#0;",
    "&#1114112;",
    "&nbsp;",
    "]]>",
    "<![CDATA[",
    "<item>",
    "</item>",
    "<entry>",
    "</entry>",
    "<title>",
    "</title>",
    "<link>",
    "<description>",
    "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">",
    "</div></content>",
    " xml:base=\"",
    " xml:base=\"../\" ",
    " xml:lang=\"ru_RU\"",
    "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    "<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
    "\u{feff}",
    "\u{0}",
    "\u{fffe}",
    "<img data-src=\"",
    "<img src=\"data:image/png;base64,",
    "srcset=\"",
    "javascript:",
    "<script>",
    "<pubDate>",
    "Пт, 09 авг 2024 16:24:00 MSK",
    "-0312",
    "9999-12-31T23:59:59-99:99",
    "<dc:subject>",
    "<media:category>",
    "<rss version=\"2.01\">",
    "http://purl.org/atom/ns#",
    "http://my.netscape.com/rdf/simple/0.9/",
    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{",
    "\u{92}",
    "Ã©",
    "é",
    "\u{10FFFF}",
    "\\u0000",
    "\"",
    "'",
];

/// Content types inputs are served with (charset handling differs).
pub const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("text/xml"),
    Some("text/xml; charset=windows-1251"),
    Some("application/rss+xml; charset=koi8-r"),
    Some("application/json"),
    Some("text/html"),
    Some("text/xml; charset=utf-16"),
    Some("text/xml; charset=\"bogus\""),
];

/// A small deterministic PRNG (xorshift64*): no crate for ten lines.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator (a zero seed is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Every corpus document under `tests/fixtures/corpus` (and the feed
/// fixtures), as seeds.
pub fn seeds(root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut dirs = vec![
        root.join("tests/fixtures/corpus"),
        root.join("tests/fixtures/feeds"),
    ];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| {
                ["xml", "rss", "atom", "json", "rdf"].contains(&x.to_string_lossy().as_ref())
            }) && let Ok(bytes) = std::fs::read(&p)
                && bytes.len() < 512 * 1024
            {
                out.push(bytes);
            }
        }
    }
    out.sort();
    out
}

/// One mutated input from the seeds.
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut doc = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let len = doc.len();
        let at = rng.below(len + 1);
        match rng.below(7) {
            0 if len > 0 => doc[at.min(len - 1)] = rng.next() as u8,
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                doc.splice(at..at, t.iter().copied());
            }
            2 if len > 0 => {
                let end = (at + rng.below(64)).min(len);
                doc.drain(at.min(end)..end);
            }
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(256)).min(other.len());
                doc.splice(at..at, other[from..to].iter().copied());
            }
            4 if len > 0 => {
                let end = (at + rng.below(32)).min(len);
                let chunk = doc[at.min(end)..end].to_vec();
                doc.splice(at..at, chunk);
            }
            5 => doc.truncate(at),
            _ => doc.insert(at.min(doc.len()), rng.next() as u8),
        }
    }
    doc
}

/// Runs one input through ingest (decode → parse → normalize) → export
/// (all three formats). Panics propagate to the caller.
pub fn run_one(body: &[u8], content_type: Option<&str>) {
    let base = "https://fuzz.example/feed/rss";
    let sections = SectionMap::default();
    let now = Utc::now();
    let opts = IngestOptions {
        parse: ParseOptions {
            content_type,
            base_url: Some(base),
            timezone: chrono_tz::Tz::Europe__Moscow,
            encoding: None,
            content_language: None,
        },
        source: "fuzz",
        source_section: None,
        sections: &sections,
        now,
    };
    let Ok(ingested) = ingest::ingest(body, &opts) else {
        return;
    };
    let norm = ingested.feed;
    let source = SourceRef {
        name: "fuzz".into(),
        title: norm.meta.title.clone(),
        feed_url: base.into(),
        site_url: norm.meta.site_url.clone(),
    };
    let stories = norm
        .items
        .into_iter()
        .map(|it| Story {
            id: feedmerge::model::ids::story_uid(&it.story_key),
            title: it.title,
            link: it.link,
            summary: it.summary,
            content: it.content,
            authors: it.authors,
            categories: it.categories,
            language: it.language,
            published: it.published.unwrap_or(now),
            updated: it.updated.or(it.published).unwrap_or(now),
            enclosures: it.enclosures,
            source: source.clone(),
            related: Vec::new(),
        })
        .collect();
    let doc = FeedDoc {
        title: "fuzz".into(),
        id: "urn:uuid:00000000-0000-8000-8000-000000000000".into(),
        self_url: "https://fuzz.example/out.atom".into(),
        home_url: None,
        next_url: Some("https://fuzz.example/out.atom?before=1".into()),
        hub_url: Some("https://hub.example/".into()),
        updated: now,
        stories,
    };
    for f in [Format::Atom, Format::Rss, Format::Json] {
        let _ = export::render(&doc, f);
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs run.
    pub inputs: u64,
    /// Inputs that panicked, saved to `crash_dir`.
    pub crashes: Vec<PathBuf>,
    /// The slowest input's time.
    pub slowest: Duration,
    /// The most CPU time one input took (this thread's, so other work on
    /// the machine does not count).
    pub slowest_cpu: Duration,
}

/// CPU time of the calling thread so far.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write; the clock id is a constant.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs until `deadline` or `max_inputs`, saving panicking inputs.
pub fn fuzz(seed: u64, deadline: Instant, max_inputs: u64, crash_dir: &Path) -> Outcome {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = seeds(root);
    assert!(
        !seeds.is_empty(),
        "no seed documents under {}",
        root.display()
    );
    let mut rng = Rng::new(seed);
    let mut out = Outcome::default();
    // Panics are expected to be caught; keep the default hook quiet.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while out.inputs < max_inputs && Instant::now() < deadline {
        let body = mutate(&mut rng, &seeds);
        let ct = CONTENT_TYPES[rng.below(CONTENT_TYPES.len())];
        let started = Instant::now();
        let cpu = thread_cpu();
        let result = std::panic::catch_unwind(|| run_one(&body, ct));
        out.slowest_cpu = out.slowest_cpu.max(thread_cpu().saturating_sub(cpu));
        out.slowest = out.slowest.max(started.elapsed());
        out.inputs += 1;
        if result.is_err() {
            let _ = std::fs::create_dir_all(crash_dir);
            let path = crash_dir.join(format!("crash-{seed}-{}.bin", out.inputs));
            let _ = std::fs::write(&path, &body);
            out.crashes.push(path);
        }
    }
    std::panic::set_hook(hook);
    out
}
