//! `cargo run --release --example fuzz -- [SECONDS] [SEED]`: fuzzes
//! decode → parse → normalize → export for SECONDS (default 600), saving
//! any input that panics to `target/fuzz-crashes/`. Replay one with
//! `feedmerge inspect <file>`.

#[path = "harness.rs"]
mod harness;

use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(600);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0x5eed);
    let started = Instant::now();
    let crash_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    let out = harness::fuzz(
        seed,
        started + Duration::from_secs(seconds),
        u64::MAX,
        &crash_dir,
    );
    println!(
        "{} inputs in {:.0?}, slowest input {:.0?}, {} crashes",
        out.inputs,
        started.elapsed(),
        out.slowest,
        out.crashes.len()
    );
    for c in &out.crashes {
        println!("  crash: {}", c.display());
    }
    if out.crashes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
