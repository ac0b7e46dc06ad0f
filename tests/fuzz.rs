//! A short fuzz run in every `cargo test` (the long one is
//! `cargo run --release --example fuzz -- 600`, see README "Fuzzing").

#[path = "../fuzz/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

#[test]
fn a_few_seconds_of_mutated_feeds_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    let out = harness::fuzz(7, Instant::now() + Duration::from_secs(3), 20_000, &dir);
    assert!(out.inputs > 100, "only {} inputs ran", out.inputs);
    assert!(
        out.crashes.is_empty(),
        "panicking inputs saved: {:?}",
        out.crashes
    );
    // Debug build: generous, but catches a quadratic blow-up.
    assert!(
        out.slowest < Duration::from_secs(5),
        "slowest input took {:?}",
        out.slowest
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
