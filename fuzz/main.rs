//! `cargo run --release --example fuzz -- [SECONDS] [SEED]`: fuzzes
//! decode → parse → normalize → export for SECONDS (default 600), saving
//! any input that panics to `target/fuzz-crashes/`.
//! `cargo run --example fuzz -- replay FILE…` reruns saved inputs with every
//! content type and prints each panic.

#[path = "harness.rs"]
mod harness;

use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().is_some_and(|a| a == "replay") {
        return replay(&argv[1..]);
    }
    let mut args = argv.into_iter();
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

/// Reruns saved inputs through the whole path, printing each panic.
fn replay(files: &[String]) -> ExitCode {
    let mut failed = false;
    for f in files {
        let Ok(body) = std::fs::read(f) else {
            eprintln!("{f}: unreadable");
            continue;
        };
        for ct in harness::CONTENT_TYPES {
            if std::panic::catch_unwind(|| harness::run_one(&body, *ct)).is_err() {
                println!("{f}: panics with content type {ct:?}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
