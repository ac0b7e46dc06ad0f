//! Hostile clients, run as their own process (`serve_load --clients ADDR
//! IDLE SLOW SECS`): IDLE connections that send half a request line and
//! wait, and SLOW slowloris clients that send one header byte every two
//! seconds. Prints one line: how many were opened, how many the server
//! closed within SECS, and the longest time a closed one was held.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

pub fn run(args: &[String]) {
    let addr = args.first().cloned().unwrap_or_default();
    let num = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (idle, slow, secs) = (num(1, 2000), num(2, 500), num(3, 30) as u64);
    raise_nofile();
    let started = Instant::now();
    let mut conns = Vec::new();
    for i in 0..idle + slow {
        let Ok(mut c) = TcpStream::connect(&addr) else {
            continue;
        };
        let _ = c.set_nonblocking(true);
        let _ = c.write_all(b"GET /healthz HTTP/1.1\r\nHo");
        conns.push((c, i >= idle, None::<Duration>));
    }
    let opened = conns.len();
    let deadline = started + Duration::from_secs(secs);
    let mut last_drip = Instant::now();
    let mut buf = [0u8; 512];
    while Instant::now() < deadline && conns.iter().any(|c| c.2.is_none()) {
        let drip = last_drip.elapsed() >= Duration::from_secs(2);
        for (c, slowloris, closed) in conns.iter_mut() {
            if closed.is_some() {
                continue;
            }
            match c.read(&mut buf) {
                Ok(0) => *closed = Some(started.elapsed()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => *closed = Some(started.elapsed()),
                // A 408 or similar before closing: wait for the close.
                Ok(_) => {}
            }
            if drip && *slowloris && closed.is_none() && c.write_all(b"x").is_err() {
                *closed = Some(started.elapsed());
            }
        }
        if drip {
            last_drip = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let closed: Vec<Duration> = conns.iter().filter_map(|c| c.2).collect();
    let max = closed.iter().max().copied().unwrap_or_default();
    println!(
        "clients opened={opened} closed={} max_close_s={:.1}",
        closed.len(),
        max.as_secs_f64()
    );
}

/// Lifts this process's open-file limit to its hard limit (sockets are
/// files).
pub fn raise_nofile() {
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
