//! systemd readiness (`Type=notify`): one datagram to `$NOTIFY_SOCKET`.
//! A dozen lines do not justify a crate; without the variable it is a no-op.

/// Sends `state` (e.g. `READY=1`) to systemd, if it is listening.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let result = (|| -> std::io::Result<()> {
        let socket = std::os::unix::net::UnixDatagram::unbound()?;
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            // A leading '@' names a socket in the abstract namespace.
            #[cfg(target_os = "linux")]
            {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                socket.send_to_addr(state.as_bytes(), &addr)?;
            }
            #[cfg(not(target_os = "linux"))]
            let _ = name;
        } else {
            socket.send_to(state.as_bytes(), &path)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not notify systemd");
    }
}

/// Tells systemd a reload started. systemd 253 and later want the
/// monotonic clock beside `RELOADING=1` to match it with the reload it
/// asked for; older ones ignore the extra line.
pub fn reloading() {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } == 0;
    let usec = if ok {
        (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
    } else {
        0
    };
    notify(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
}
