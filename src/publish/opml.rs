//! OPML 2.0: `GET /sources.opml` lists the configured sources, so a reader
//! can subscribe to all of them at once. (Reading OPML is the CLI's
//! `import-opml`, in `cli/import_opml.rs`.)

use crate::config::Config;
use crate::export::html::escape;
use crate::store::SourceStatus;
use std::fmt::Write;

/// The sources as OPML: title, `xmlUrl`, `htmlUrl` (when the feed gave a
/// site), and the configured section as `category`.
pub fn render(config: &Config, status: &[SourceStatus]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head><title>feedmerge sources</title></head>\n<body>\n",
    );
    for source in &config.sources {
        let seen = status.iter().find(|s| s.name == source.name);
        let title = source
            .title
            .clone()
            .or_else(|| seen.and_then(|s| s.title.clone()))
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| source.name.clone());
        let _ = write!(
            out,
            r#"<outline type="rss" text="{t}" title="{t}" xmlUrl="{x}""#,
            t = escape(&crate::export::xml_text(&title)),
            x = escape(&crate::model::redact::redact(&source.url))
        );
        if let Some(site) = seen.and_then(|s| s.site_url.as_deref()) {
            let _ = write!(out, r#" htmlUrl="{}""#, escape(site));
        }
        if let Some(section) = &source.section {
            let _ = write!(
                out,
                r#" category="/{}""#,
                escape(&crate::export::xml_text(section))
            );
        }
        out.push_str("/>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out
}
