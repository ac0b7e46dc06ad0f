//! The `feedmerge` command line. `main.rs` only calls [`main`].
//!
//! Owns the commands, their arguments and what they print; each command
//! calls into the stages and holds no pipeline logic of its own. Read-only
//! commands (`check`, `status`, `export`, `inspect`, `import-opml`) never
//! write to the store; `backup` reads it and writes only its copy.

/// `println!` to stdout, except that a closed pipe (`feedmerge export |
/// head`) is not a panic: what is left of the output is dropped.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `print!` to stdout, a closed pipe dropping the output (see `say!`).
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub mod explain;
pub mod export_all;
pub mod import_opml;
pub mod inspect;
pub mod inspect_source;
pub mod logging;
pub mod migrate_store;
mod poll_progress;
pub mod similar;

use crate::config::{self, Config};
use crate::daemon;
use crate::export;
use crate::feeds::{self, FeedRequest, Target};
use crate::model::format::Format;
use crate::pipeline::{Pipeline, PollOutcome};
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Polls RSS, Atom and JSON feeds, deduplicates their stories into SQLite and
/// republishes merged section feeds.
#[derive(Debug, Parser)]
#[command(name = "feedmerge", version, about)]
pub struct Cli {
    /// Config file [default: $FEEDMERGE_CONFIG, else config/feedmerge.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Daemon: poll all sources now, then on schedule; serve HTTP.
    Run,
    /// Validate the config; exit 0, or non-zero listing every problem.
    Check,
    /// Poll every source once, store, print one line per source, exit.
    Poll,
    /// Print a merged feed to stdout, from what is stored; with `--all
    /// --out DIR`, write every feed and page as a static site.
    Export {
        /// A section (any spelling or alias).
        #[arg(long, conflicts_with_all = ["feed", "all"], required_unless_present_any = ["feed", "all"])]
        section: Option<String>,
        /// A configured [[feed]].
        #[arg(long)]
        feed: Option<String>,
        /// Output format.
        #[arg(long, default_value = "atom", value_parser = ["atom", "rss", "json"])]
        format: String,
        /// At most this many entries (1-500), or `all`: every story, read
        /// page by page into one document.
        #[arg(long, value_name = "N|all", value_parser = export_all::parse_limit)]
        limit: Option<export_all::Limit>,
        /// Only stories after this position: the `before` value of a
        /// document's `next` link (or the whole link).
        #[arg(long, value_name = "CURSOR", value_parser = export_all::parse_before, conflicts_with = "all")]
        before: Option<crate::store::Cursor>,
        /// Every section and named feed, in all formats plus HTML pages.
        #[arg(long, conflicts_with = "feed", requires = "out")]
        all: bool,
        /// Folder for `--all`, replaced whole in one swap (keep nothing else
        /// in it).
        #[arg(long, value_name = "DIR", requires = "all")]
        out: Option<PathBuf>,
    },
    /// Print `[[source]]` TOML for each feed in an OPML file (to append to
    /// the config); skipped outlines are listed on stderr.
    ImportOpml {
        /// The OPML file (a feed reader's export).
        file: PathBuf,
    },
    /// Show every source's health, failing ones first, then the store's
    /// story count and size.
    Status,
    /// Write a consistent copy of the database to PATH, also while the
    /// daemon runs; the copy is a database `--config` can point at.
    Backup {
        /// Where the copy goes (a new file).
        path: PathBuf,
        /// Replace PATH if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Copy a whole store (sources, stories, items, sections, ids,
    /// tombstones, article pages) from SQLite to PostgreSQL or back, into
    /// an empty target; needs no config.
    MigrateStore {
        /// The store to copy: an SQLite file or a postgres:// URL.
        #[arg(long, value_name = "PATH_OR_URL")]
        from: String,
        /// Where to copy it (must be empty): an SQLite file or a
        /// postgres:// URL.
        #[arg(long, value_name = "PATH_OR_URL")]
        to: String,
    },
    /// Parse one feed (file or URL) as a poll would and print it as JSON;
    /// stores nothing and needs no config.
    Inspect {
        /// A file path or an http(s) URL [default with --source: the
        /// source's URL].
        #[arg(required_unless_present = "source")]
        target: Option<String>,
        /// Base URL for relative links [default: the URL fetched]
        #[arg(long, value_name = "URL", conflicts_with = "source")]
        base: Option<String>,
        /// Zone for dates without an offset (IANA name) [default: UTC]
        #[arg(long, value_name = "ZONE", conflicts_with = "source")]
        timezone: Option<String>,
        /// Read the document with this configured source's settings and
        /// rules (`[source.html]`, zone, charset) and report what each
        /// selector matched.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Also read an article page with `[source.article]`: the target
        /// itself when given, else the first story's link.
        #[arg(long, requires = "source")]
        article: bool,
    },
    /// Decide labelled report pairs as the daemon would: reads JSON lines
    /// `{"id", "a": {"source", "title", "lead", "published"}, "b": {…}}`
    /// and prints `{"id", "same", "rule", "score"}` per line, in order;
    /// needs no config.
    /// Print a stored story's near-duplicate cluster as JSON: each member
    /// with the rule that admitted it and its score; with a second story,
    /// the decision for the pair.
    Explain {
        /// The story: its entry id (`urn:uuid:…`) or its link.
        story: String,
        /// Another story, to show why the two were or were not merged.
        other: Option<String>,
    },
    Similar {
        /// The JSON-lines file (`-` for standard input).
        #[arg(long, value_name = "FILE")]
        pairs: PathBuf,
        /// Reports further apart than this are never one event.
        #[arg(long, default_value = "48h", value_parser = humantime::parse_duration)]
        window: std::time::Duration,
    },
}

/// Runs the parsed command line.
pub async fn main(cli: Cli) -> ExitCode {
    if let Command::Inspect {
        target: Some(target),
        base,
        timezone,
        source: None,
        ..
    } = &cli.command
    {
        // A document on its own needs no config.
        return inspect(target, base.as_deref(), timezone.as_deref()).await;
    }
    if let Command::MigrateStore { from, to } = &cli.command {
        return migrate_store::migrate_store(from, to).await;
    }
    if let Command::Similar { pairs, window } = &cli.command {
        return similar(pairs, *window);
    }
    let path = config::resolve_path(cli.config);
    if let Command::ImportOpml { file } = &cli.command {
        // The config is optional here: when it loads, its sources are not
        // repeated; a new user may have none yet.
        return import_opml(file, Config::load(&path).ok().as_ref());
    }
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("feedmerge: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Check => {
            for warning in config.warnings() {
                eprintln!("warning: {warning}");
            }
            say!(
                "{}: ok ({} sources, {} feeds, {} sections)",
                path.display(),
                config.sources.len(),
                config.feeds.len(),
                config.sections.names().len()
            );
            ExitCode::SUCCESS
        }
        Command::Run => run(config).await,
        Command::Poll => poll(config).await,
        Command::Export {
            section,
            feed,
            format,
            limit,
            before,
            all,
            out,
        } => {
            if let (true, Some(out)) = (all, out) {
                return export_site(config, &out).await;
            }
            let target = match (section, feed) {
                (Some(s), _) => Target::Section(s),
                (None, Some(f)) => Target::Named(f),
                (None, None) => {
                    eprintln!("feedmerge: export needs --section, --feed or --all --out DIR");
                    return ExitCode::from(2);
                }
            };
            let format = Format::from_name(&format).unwrap_or(Format::Atom);
            export_cmd(config, target, format, limit, before).await
        }
        Command::Status => status(config).await,
        Command::Explain { story, other } => explain_cmd(config, &story, other.as_deref()).await,
        Command::Backup { path, force } => backup(config, path, force).await,
        Command::ImportOpml { .. } => ExitCode::SUCCESS,
        Command::MigrateStore { .. } | Command::Similar { .. } => {
            unreachable!("handled before the config is loaded")
        }
        Command::Inspect {
            target,
            source,
            article,
            ..
        } => {
            // Without --source, clap requires a target: handled above.
            let name = source.unwrap_or_default();
            inspect_source(&config, &name, target.as_deref(), article).await
        }
    }
}

async fn inspect_source(
    config: &Config,
    name: &str,
    target: Option<&str>,
    article: bool,
) -> ExitCode {
    match inspect_source::inspect_source(config, name, target, article).await {
        Ok(report) => match serde_json::to_string_pretty(&report) {
            Ok(json) => {
                say!("{json}");
                // The JSON says what is wrong; the status lets scripts see it.
                if report.is_ok() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("feedmerge: inspect: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("feedmerge: inspect: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn inspect(target: &str, base: Option<&str>, timezone: Option<&str>) -> ExitCode {
    match crate::cli::inspect::inspect_target(target, base, timezone).await {
        Ok(report) => match serde_json::to_string_pretty(&report) {
            Ok(json) => {
                say!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("feedmerge: inspect: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("feedmerge: inspect: {e}");
            ExitCode::FAILURE
        }
    }
}

fn similar(pairs: &std::path::Path, window: std::time::Duration) -> ExitCode {
    let stdout = std::io::stdout().lock();
    let result = if pairs.as_os_str() == "-" {
        similar::run(std::io::stdin().lock(), stdout, window)
    } else {
        match std::fs::File::open(pairs) {
            Ok(f) => similar::run(std::io::BufReader::new(f), stdout, window),
            Err(e) => {
                eprintln!("feedmerge: similar: cannot read {}: {e}", pairs.display());
                return ExitCode::from(2);
            }
        }
    };
    match result {
        Ok(errors) if errors.is_empty() => ExitCode::SUCCESS,
        Ok(errors) => {
            for e in &errors {
                eprintln!("feedmerge: similar: {}: {e}", pairs.display());
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("feedmerge: similar: {}: {e}", pairs.display());
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> ExitCode {
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    // Before binding: a second daemon on the same database would fail on
    // the port too, and that would hide the reason.
    if let Err(e) = daemon::storage::check_unclaimed(&config) {
        eprintln!("feedmerge: {e}");
        return ExitCode::FAILURE;
    }
    // `[worker] serve = false`: a poller that binds no port.
    let listener = if config.worker.serve {
        match tokio::net::TcpListener::bind(config.listen).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("feedmerge: cannot listen on {}: {e}", config.listen);
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    match daemon::run_worker(config, listener, daemon::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedmerge: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn poll(config: Config) -> ExitCode {
    let config = Arc::new(config);
    let store = match daemon::storage::open(&config, false).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("feedmerge: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dyn_store: Arc<dyn Store> = Arc::clone(&store.store);
    let pipeline = match Pipeline::new(Arc::clone(&config), dyn_store) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("feedmerge: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (i, source) in config.sources.iter().cloned().enumerate() {
        let pipeline = pipeline.clone();
        tasks.spawn(async move { (i, pipeline.poll(&source).await) });
    }
    let progress = poll_progress::Progress::for_stdout(config.sources.len());
    let mut reports = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(r) = done {
            progress.done(&r.1);
            reports.push(r);
        }
    }
    // Clustering places stories in the background: done before the
    // store closes, so a one-off poll leaves every story placed.
    pipeline.clusters_settled().await;
    reports.sort_by_key(|(i, _)| *i);
    let failed = reports
        .iter()
        .filter(|(_, r)| matches!(r.outcome, PollOutcome::Failed(_)))
        .count();
    progress.finish(reports.iter().map(|(_, r)| r));
    // `[storage] keep` applies to a store kept by `poll` from cron as to
    // the daemon's: after the poll, so stories it just stored and that are
    // already past `keep` leave tombstones at once.
    if let Some(keep) = config.storage_keep {
        daemon::warn_if_no_shrink(store.as_ref()).await;
        let _ = daemon::purge_once(store.as_ref(), &pipeline.changes, keep).await;
    }
    drop(pipeline);
    let _ = tokio::task::spawn_blocking(move || store.close()).await;
    // Partial failure is normal for a poller; only all-failed is an error.
    if failed > 0 && failed == reports.len() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `backup PATH`: a consistent copy of the database, live or not.
async fn backup(config: Config, dest: PathBuf, force: bool) -> ExitCode {
    let db = config.storage_path.clone();
    let to = dest.clone();
    let done =
        tokio::task::spawn_blocking(move || crate::store::sqlite::backup(&db, &to, force)).await;
    match done {
        Ok(Ok(report)) => {
            say!(
                "{}: backup of {} written ({} stories, {} bytes)",
                dest.display(),
                config.storage_path.display(),
                report.stories,
                report.bytes
            );
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("feedmerge: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("feedmerge: backup: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the store for `export`, which only reads; `None` after telling
/// the user why there is nothing to export.
async fn open_for_export(config: &Config) -> Option<daemon::storage::Opened> {
    match daemon::storage::open_read_only(config).await {
        Ok(Some(store)) => Some(store),
        Ok(None) => {
            // Not an empty feed: that would replace a good static site (or
            // a reader's copy) with nothing because of a wrong path.
            eprintln!(
                "feedmerge: no database at {} yet, so nothing to export; `feedmerge poll` or `feedmerge run` creates it",
                config.storage_path.display()
            );
            None
        }
        Err(e) => {
            eprintln!("feedmerge: {e}");
            None
        }
    }
}

async fn export_cmd(
    config: Config,
    target: Target,
    format: Format,
    limit: Option<export_all::Limit>,
    before: Option<crate::store::Cursor>,
) -> ExitCode {
    let Some(store) = open_for_export(&config).await else {
        return ExitCode::FAILURE;
    };
    let mut req = FeedRequest {
        before,
        ..FeedRequest::default()
    };
    match limit {
        Some(export_all::Limit::Entries(n)) => req.limit = Some(n),
        Some(export_all::Limit::All) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            return match export_all::export_all(
                &config,
                store.as_ref(),
                &target,
                format,
                &req,
                &mut out,
            )
            .await
            {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("feedmerge: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        None => {}
    }
    match feeds::build(&config, store.as_ref(), &target, format, &req).await {
        Ok(doc) => {
            say!("{}", export::render(&doc, format));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("feedmerge: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn export_site(config: Config, out: &std::path::Path) -> ExitCode {
    let Some(store) = open_for_export(&config).await else {
        return ExitCode::FAILURE;
    };
    match crate::publish::site::write_all(&config, store.as_ref(), out).await {
        Ok(report) => {
            for skipped in &report.skipped {
                eprintln!("feedmerge: skipped {skipped}");
            }
            say!("{}: wrote {} files", out.display(), report.written.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("feedmerge: {e}");
            ExitCode::FAILURE
        }
    }
}

fn import_opml(file: &std::path::Path, config: Option<&Config>) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("feedmerge: cannot read {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match import_opml::import(&bytes, config) {
        Ok(result) => {
            say!(
                "# {} sources imported from {}",
                result.imported,
                file.display()
            );
            say_raw!("{}", result.toml);
            for reason in &result.skipped {
                eprintln!("skipped {reason}");
            }
            eprintln!(
                "{} imported, {} skipped",
                result.imported,
                result.skipped.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("feedmerge: {}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

/// `status` only reads: the store is opened read-only, and with no database
/// yet every configured source is shown as never polled (what registering
/// them used to show) while the database is left uncreated.
async fn explain_cmd(config: Config, story: &str, other: Option<&str>) -> ExitCode {
    let store = match daemon::storage::open_read_only(&config).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            eprintln!(
                "feedmerge: explain: no database at {} yet: no source has been polled",
                config.storage_path.display()
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("feedmerge: explain: {e}");
            return ExitCode::FAILURE;
        }
    };
    let window = config.clustering.window;
    match explain::explain(store.as_ref(), story, other, window).await {
        Ok(report) => match serde_json::to_string_pretty(&report) {
            Ok(json) => {
                say!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("feedmerge: explain: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("feedmerge: explain: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn status(config: Config) -> ExitCode {
    let listed = match daemon::storage::open_read_only(&config).await {
        Ok(Some(store)) => {
            let (list, stats) = tokio::join!(store.source_status(), store.store_stats());
            list.and_then(|list| Ok((list, Some(stats?))))
                .map_err(daemon::DaemonError::from)
        }
        Ok(None) => {
            eprintln!(
                "feedmerge: no database at {} yet: no source has been polled; `feedmerge poll` or `feedmerge run` creates it",
                config.storage_path.display()
            );
            Ok((never_polled(&config), None))
        }
        Err(e) => Err(e),
    };
    match listed {
        Ok((list, stats)) => {
            say_raw!("{}", crate::server::status::table(&list));
            if let Some(stats) = stats {
                say_raw!("{}", crate::server::status::summary(&stats));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("feedmerge: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every configured source as `status` shows one that was never polled.
fn never_polled(config: &Config) -> Vec<crate::store::SourceStatus> {
    config
        .sources
        .iter()
        .map(|s| crate::store::SourceStatus {
            name: s.name.clone(),
            url: s.url.clone(),
            title: s.title.clone(),
            site_url: None,
            last_attempt: None,
            last_success: None,
            last_status: None,
            last_error: None,
            consecutive_failures: 0,
            failing_since: None,
            next_check: None,
            moved_to: None,
            items: 0,
            polled_by: None,
            lease_holder: None,
        })
        .collect()
}
