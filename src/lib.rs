//! feedmerge: polls RSS, Atom and JSON feeds, deduplicates their stories
//! into SQLite and republishes merged, section-filtered feeds.
//!
//! The modules are listed in the order a story travels through them; see
//! `ARCHITECTURE.md` for the bird's-eye view and the rules between them.
//!
//! ```text
//! config → scheduler → pipeline (fetch → parse → normalize) → store
//!        → feeds → export (Atom, RSS, JSON Feed, HTML) → server · publish
//! daemon wires them together; cli is the command line.
//! ```

pub mod model;

pub mod background;

pub mod cluster;

pub mod cli;
pub mod config;
pub mod daemon;
pub mod export;
pub mod feeds;
pub mod pipeline;
pub mod publish;
pub mod scheduler;
pub mod server;
pub mod store;
pub mod telemetry;

pub mod alloc;
