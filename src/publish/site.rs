//! Static hosting: `feedmerge export --all --out DIR` writes the index, and
//! every section and named feed in Atom, RSS, JSON Feed and HTML, each file
//! atomically (temporary file, then rename), so a web server reading DIR
//! never serves half a file.

use crate::config::Config;
use crate::export::html;
use crate::export::render;
use crate::feeds::{self, FeedRequest, Target};
use crate::model::format::Format;
use crate::store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What an export wrote and left out.
#[derive(Debug, Default)]
pub struct SiteReport {
    /// Files written, relative to the output folder.
    pub written: Vec<PathBuf>,
    /// Feeds left out, with the reason.
    pub skipped: Vec<String>,
}

/// Why the export stopped.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Building a feed failed.
    #[error(transparent)]
    Feed(#[from] feeds::FeedError),
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Writes the whole site under `out` (created if missing).
pub async fn write_all(
    config: &Config,
    store: &dyn Store,
    out: &Path,
) -> Result<SiteReport, SiteError> {
    let mut report = SiteReport::default();
    let listing = html::index::collect(config, store).await?;
    write_atomic(
        out,
        Path::new("index.html"),
        html::index::render(config, &listing).as_bytes(),
        &mut report,
    )?;
    for row in listing.feeds.iter().chain(&listing.sections) {
        // A name becomes one file name: refuse what would leave the folder.
        if row.name.contains(['/', '\\', '\0']) || row.name.starts_with('.') {
            report.skipped.push(format!(
                "{}/{}: the name cannot be a file name",
                row.kind, row.name
            ));
            continue;
        }
        let target = match row.kind {
            "feeds" => Target::Named(row.name.clone()),
            _ => Target::Section(row.name.clone()),
        };
        let mut sel = feeds::select(config, store, &target, &FeedRequest::default()).await?;
        // Query strings do not exist on a static site: one page per feed.
        sel.next = None;
        let dir = Path::new(row.kind);
        for format in [Format::Atom, Format::Rss, Format::Json] {
            let body = render(&sel.to_doc(config, format), format);
            let file = dir.join(format!("{}.{}", row.name, format.extension()));
            write_atomic(out, &file, body.as_bytes(), &mut report)?;
        }
        let page = html::feed_page(config, &sel);
        write_atomic(
            out,
            &dir.join(format!("{}.html", row.name)),
            page.as_bytes(),
            &mut report,
        )?;
    }
    Ok(report)
}

/// Writes `out/rel` through a temporary file in the same folder, flushed
/// to disk before the rename, so readers see the old file or the new one.
fn write_atomic(
    out: &Path,
    rel: &Path,
    bytes: &[u8],
    report: &mut SiteReport,
) -> Result<(), SiteError> {
    let path = out.join(rel);
    let err = |source| SiteError::Write {
        path: path.clone(),
        source,
    };
    let dir = path.parent().unwrap_or(out);
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    report.written.push(rel.to_path_buf());
    Ok(())
}
