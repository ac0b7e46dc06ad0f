//! feedmerge: polls RSS, Atom and JSON feeds, deduplicates their stories
//! into SQLite and republishes merged, section-filtered feeds.
//!
//! The modules follow the pipeline:
//! `scheduler → fetch → parse → normalize → store → export`, with `pipeline`
//! running one poll through all stages, `feeds` choosing the stories of a
//! merged feed, and `server`/`cli` as the two front doors.

pub mod alloc;
pub mod cache;
pub mod changes;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod export;
pub mod feeds;
pub mod fetch;
pub mod inspect;
pub mod model;
pub mod normalize;
pub mod notify;
pub mod opml;
pub mod parse;
pub mod pipeline;
pub mod politeness;
pub mod scheduler;
pub mod server;
pub mod status;
pub mod store;
pub mod web;
pub mod websub;
