//! Allocator settings for the daemon process.

/// Caps glibc malloc at two arenas. By default glibc gives busy threads
/// arenas of their own (up to 8 per core) and keeps what they freed, so a
/// poll burst spread over the blocking pool leaves the daemon holding far
/// more memory than it uses. Two arenas cost almost nothing in contention
/// here (parsing is a handful of threads) and keep the resident size near
/// what is live. Call once, before threads start; a no-op off glibc.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called before any
    // other thread exists, as glibc asks.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
