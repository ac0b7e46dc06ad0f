//! A short fuzz run in every `cargo test` (the long one is
//! `cargo run --release --example fuzz -- 600`, see README "Fuzzing").

#[path = "../fuzz/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

/// Inputs in the short run: a fixed number, so every run tries the same
/// inputs (seed 7) and a busy machine makes it slower, not smaller. About
/// three seconds of a debug build.
const SHORT_RUN: u64 = 2_000;

#[test]
fn a_few_seconds_of_mutated_feeds_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    // The deadline is only a backstop; the run ends at SHORT_RUN inputs.
    let out = harness::fuzz(
        7,
        Instant::now() + Duration::from_secs(600),
        SHORT_RUN,
        &dir,
    );
    assert_eq!(out.inputs, SHORT_RUN, "only {} inputs ran", out.inputs);
    assert!(
        out.crashes.is_empty(),
        "panicking inputs saved: {:?}",
        out.crashes
    );
    // Debug build: generous, but catches a quadratic blow-up. CPU time of
    // the input, not wall time, which a loaded machine stretches at will.
    assert!(
        out.slowest_cpu < Duration::from_secs(5),
        "slowest input took {:?} of CPU",
        out.slowest_cpu
    );
}

/// The long run as a test: `FUZZ_SECONDS=600 cargo test --release --test fuzz -- --ignored`.
#[test]
#[ignore]
fn long_fuzz_run() {
    let secs = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    let out = harness::fuzz(
        11,
        Instant::now() + Duration::from_secs(secs),
        u64::MAX,
        &dir,
    );
    eprintln!("{} inputs, slowest {:?}", out.inputs, out.slowest);
    assert!(
        out.crashes.is_empty(),
        "panicking inputs saved: {:?}",
        out.crashes
    );
}
