//! The `feedmerge` binary: logging, the runtime, and the CLI in `feedmerge::cli`.

use clap::Parser;
use std::process::ExitCode;

/// Logging when `RUST_LOG` is unset: feedmerge's own INFO lines, only
/// warnings from dependencies (tokio-cron-scheduler alone says "Job creator
/// created" at INFO once per source).
const DEFAULT_LOG: &str = "warn,feedmerge=info";

fn main() -> ExitCode {
    feedmerge::alloc::limit_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = feedmerge::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("feedmerge: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(feedmerge::cli::main(cli))
}
