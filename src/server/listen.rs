//! The accept loop: HTTP/1.1 connections, at most so many open at once,
//! each with a deadline for its request headers, stopped gracefully.
//!
//! A client that opens connections and sends half a request (slowloris)
//! or nothing at all would otherwise hold a file descriptor each until the
//! process hits its limit and `/healthz` cannot be accepted. Here every
//! connection must deliver its headers within `header_read_timeout` of
//! opening or of its previous answer (hyper starts the timer whenever it
//! waits for a request head, so an idle keep-alive connection closes after
//! it too), and connections beyond the cap are closed as soon as they are
//! accepted, leaving room for those that finish.

use crate::config::ServingLimits;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The largest request head read: URL and headers together. Feed readers
/// send well under 2 KB; hyper answers 431 past it.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Headers a request may carry.
const MAX_HEADERS: usize = 64;

/// The connection cap when none is configured: this many at most, and a
/// quarter of the file limit always left for the database, the WAL, polls
/// and the log.
const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// Connection limits in force.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// See [`ServingLimits::header_read_timeout`].
    pub header_read_timeout: Duration,
}

impl ConnLimits {
    /// From the config; an unset cap is derived from `RLIMIT_NOFILE` now.
    pub(super) fn from_config(limits: &ServingLimits) -> ConnLimits {
        let max_connections = limits.max_connections.unwrap_or_else(|| {
            let files = open_file_limit();
            let cap = default_cap(files);
            tracing::info!(
                open_file_limit = files,
                max_connections = cap,
                "connection cap from the file limit"
            );
            cap
        });
        ConnLimits {
            max_connections,
            header_read_timeout: limits.header_read_timeout,
        }
    }
}

/// Three quarters of the file limit, at most [`DEFAULT_MAX_CONNECTIONS`].
fn default_cap(files: u64) -> usize {
    let three_quarters = usize::try_from(files / 4 * 3).unwrap_or(usize::MAX);
    three_quarters.clamp(16, DEFAULT_MAX_CONNECTIONS)
}

/// The soft `RLIMIT_NOFILE` of this process.
#[cfg(unix)]
fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if ok { limit.rlim_cur } else { 1024 }
}

#[cfg(not(unix))]
fn open_file_limit() -> u64 {
    1024
}

/// Serves `app` on `listener` until `shutdown`, then lets the connections
/// finish their answers (idle ones close at once).
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    let service = TowerToHyperService::new(app);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Over the cap: closed now, so the client learns at once and
            // the descriptor is free again.
            crate::telemetry::metrics().http("refused", 503);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), service.clone());
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A client that went away or timed out is no server error.
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// After a failed accept: errors of one connection are ignored; running
/// out of descriptors waits a moment for some to close instead of spinning.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_a_quarter_of_the_files() {
        assert_eq!(default_cap(1024), 768);
        assert_eq!(default_cap(65536), 4096);
        assert_eq!(default_cap(8), 16);
    }
}
