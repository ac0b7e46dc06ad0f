//! Publishing: the ways merged feeds leave the daemon besides a reader's
//! request: WebSub pings to a hub when a section changes, the OPML list of
//! sources and the static site written by `export --all`.
//!
//! Owns nothing that is stored; it reads through `feeds` and renders through
//! `export`. Never imports `server`, `scheduler` or `cli`.

pub mod opml;
pub mod site;
pub mod websub;
