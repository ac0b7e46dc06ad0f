//! Static hosting: `feedmerge export --all --out DIR` writes the index, and
//! every section and named feed in Atom, RSS, JSON Feed and HTML.
//!
//! The whole site is written into a sibling folder and then swapped in
//! with one rename, so a web server reading DIR sees the old site or the
//! new one, and a failure half-way (a full disk, a store error) leaves the
//! old site whole. File names are bounded: a name that is long (a
//! 300-character category) or not a file name keeps a readable prefix and
//! gains a short hash of the whole name, stable from export to export.

use crate::config::Config;
use crate::export::html;
use crate::export::render;
use crate::feeds::{self, FeedRequest, Target};
use crate::model::format::Format;
use crate::store::Store;
use sha2::Digest;
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

/// The longest name used as it is, in bytes; longer ones are cut (on a
/// character boundary) and hashed. With the hash and extension a file name
/// stays far below the 255 bytes file systems allow.
const MAX_STEM: usize = 60;

/// The file name (without extension) for a feed or section name: the name
/// itself when it is short and a safe file name, else a prefix of it
/// plus `-` and eight hex digits of its SHA-256.
pub fn file_stem(name: &str) -> String {
    let safe = !name.is_empty() && !name.contains(['/', '\\', '\0']) && !name.starts_with('.');
    if safe && name.len() <= MAX_STEM {
        return name.to_string();
    }
    let mut cut = name.len().min(MAX_STEM);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let prefix: String = name[..cut]
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let hash = sha2::Sha256::digest(name.as_bytes());
    let hex: String = hash[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", prefix.trim_start_matches('.'))
}

/// Writes the whole site and swaps it in for what `out` held (created if
/// missing). `out` is replaced whole: keep nothing else in it.
pub async fn write_all(
    config: &Config,
    store: &dyn Store,
    out: &Path,
) -> Result<SiteReport, SiteError> {
    // A folder named `.` or through a link is swapped where it really is.
    let out = &std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let staging = Staging::beside(out)?;
    let report = write_site(config, store, &staging.path).await?;
    staging.swap_in(out)?;
    Ok(report)
}

/// Every file of the site, under `out`.
async fn write_site(
    config: &Config,
    store: &dyn Store,
    out: &Path,
) -> Result<SiteReport, SiteError> {
    let mut report = SiteReport::default();
    let listing = html::index::collect(config, store).await?;
    let mut index = html::index::render(config, &listing);
    let base = config.public_base();
    for row in listing.feeds.iter().chain(&listing.sections) {
        let stem = file_stem(&row.name);
        if stem != row.name {
            index = relink(&index, &base, row.kind, &row.name, &stem);
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
            let file = dir.join(format!("{stem}.{}", format.extension()));
            write_file(out, &file, body.as_bytes(), &mut report)?;
        }
        let page = html::feed_page(config, &sel);
        write_file(
            out,
            &dir.join(format!("{stem}.html")),
            page.as_bytes(),
            &mut report,
        )?;
    }
    write_file(out, Path::new("index.html"), index.as_bytes(), &mut report)?;
    Ok(report)
}

/// The index with the links to `name` pointed at its bounded file `stem`.
fn relink(index: &str, base: &str, kind: &str, name: &str, stem: &str) -> String {
    let mut index = index.to_string();
    // Feed links first: the page link is a prefix of theirs.
    for ext in [Some("atom"), Some("rss"), Some("json"), None] {
        let from = feeds::url_for(base, kind, name, ext);
        let to = feeds::url_for(base, kind, stem, ext);
        for (from, to) in [
            (from.clone(), to.clone()),
            (html::site_path(&from), html::site_path(&to)),
        ] {
            index = index.replace(
                &format!("href=\"{}\"", html::escape(&from)),
                &format!("href=\"{}\"", html::escape(&to)),
            );
        }
    }
    index
}

/// Writes `out/rel`, creating its folder.
fn write_file(
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
    std::fs::create_dir_all(path.parent().unwrap_or(out)).map_err(err)?;
    std::fs::write(&path, bytes).map_err(err)?;
    report.written.push(rel.to_path_buf());
    Ok(())
}

/// The folder a new site is written into, beside the one it replaces;
/// removed if the export stops before the swap.
struct Staging {
    path: PathBuf,
    swapped: bool,
}

impl Staging {
    /// An empty `.NAME.new` beside `out` (a leftover of a crashed export
    /// is cleared first).
    fn beside(out: &Path) -> Result<Staging, SiteError> {
        let path = sibling(out, "new");
        let err = |source| SiteError::Write {
            path: path.clone(),
            source,
        };
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(err)?;
        }
        std::fs::create_dir_all(&path).map_err(err)?;
        Ok(Staging {
            path,
            swapped: false,
        })
    }

    /// Flushes the new site to disk, then puts it where `out` was: one
    /// atomic exchange where the system has it (Linux), else two renames
    /// with the old site kept until the second is done.
    fn swap_in(mut self, out: &Path) -> Result<(), SiteError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SiteError::Write { path, source }
        };
        sync_tree(&self.path).map_err(err(&self.path))?;
        if !out.exists() {
            std::fs::rename(&self.path, out).map_err(err(out))?;
            self.swapped = true;
            return Ok(());
        }
        if exchange(&self.path, out).is_ok() {
            // The staging path now holds the old site.
            self.swapped = false;
            return Ok(());
        }
        let old = sibling(out, "old");
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(out, &old).map_err(err(out))?;
        if let Err(e) = std::fs::rename(&self.path, out) {
            let _ = std::fs::rename(&old, out);
            return Err(err(out)(e));
        }
        let _ = std::fs::remove_dir_all(&old);
        self.swapped = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.swapped {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// `DIR/.NAME.tag` for `DIR/NAME`: on the same file system, so renames
/// between them are atomic.
fn sibling(out: &Path, tag: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "site".into());
    out.with_file_name(format!(".{name}.{tag}"))
}

/// Swaps two paths in one step (`renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths for the call's duration.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Every file under `dir` on disk before the swap makes it visible.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path)?.sync_all()?;
        }
    }
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_odd_names_get_bounded_stable_stems() {
        assert_eq!(file_stem("Политика"), "Политика");
        let long = "Экономика".repeat(34);
        let stem = file_stem(&long);
        assert!(stem.len() <= MAX_STEM + 9, "{}", stem.len());
        assert!(stem.starts_with("Экономика"));
        assert_eq!(stem, file_stem(&long), "stable");
        assert_ne!(stem, file_stem(&format!("{long}!")), "distinct");
        assert!(!file_stem("../etc").contains('/'));
        assert!(!file_stem(".hidden").starts_with('.'));
    }

    #[test]
    fn a_failed_export_leaves_the_old_site_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("site");
        std::fs::create_dir_all(out.join("sections")).unwrap();
        std::fs::write(out.join("index.html"), "old index").unwrap();
        std::fs::write(out.join("sections/a.atom"), "old a").unwrap();
        // A site half written, then a failure: the staging folder goes.
        {
            let staging = Staging::beside(&out).unwrap();
            std::fs::write(staging.path.join("index.html"), "new index").unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "old index"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("sections/a.atom")).unwrap(),
            "old a"
        );
        assert!(
            !sibling(&out, "new").exists(),
            "no half site left beside it"
        );
        // A finished one replaces it whole.
        let staging = Staging::beside(&out).unwrap();
        std::fs::write(staging.path.join("index.html"), "new index").unwrap();
        staging.swap_in(&out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "new index"
        );
        assert!(!out.join("sections/a.atom").exists());
        assert!(!sibling(&out, "new").exists());
    }
}
