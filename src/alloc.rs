//! Allocator settings for the daemon process.
//!
//! Rust allocations go to jemalloc, configured at build time (see
//! `.cargo/config.toml`): two arenas, so a poll burst spread over many
//! threads does not leave one arena per thread holding what it freed, and
//! per-thread caches, so parse threads allocating and the writer thread
//! freeing the same strings do not queue on an arena lock. Measured on the
//! ingest benchmark against glibc malloc capped at two arenas: about 15%
//! less CPU per item and 20% more items per second. Freed memory goes back
//! to the OS after about a second (`dirty_decay_ms`).

/// The global allocator of every binary that links this library (the
/// daemon, its tests and benchmarks), so all of them measure the same thing.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Caps glibc malloc, which C code (SQLite) still uses, at two arenas. By
/// default glibc gives busy threads arenas of their own (up to 8 per core)
/// and keeps what they freed. Call once, before threads start; a no-op off
/// glibc.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called before any
    // other thread exists, as glibc asks.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
