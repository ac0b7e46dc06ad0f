//! The `feedmerge` binary: logging, the runtime, and the CLI in `feedmerge::cli`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    feedmerge::alloc::limit_arenas();
    feedmerge::cli::logging::init();
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
