//! At most `per_host` requests in flight per registrable domain: a site's
//! many section feeds are polled a couple at a time, never all at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The registrable domain of a URL's host (`ria.ru` for
/// `https://m.ria.ru/politics/`), by the Public Suffix List; the host itself
/// for IP addresses and unknown suffixes.
pub fn registrable_domain(url: &str) -> String {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        })
        .unwrap_or_default();
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return host;
    }
    psl::domain_str(&host).map(str::to_string).unwrap_or(host)
}

/// Per-domain semaphores, created on first use.
#[derive(Debug, Default)]
pub struct HostLimiter {
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimiter {
    /// Waits for a slot on `url`'s domain. The first caller for a domain
    /// fixes its size: sources of one domain should agree on `per_host`
    /// (the config takes the smallest, see `daemon`).
    pub async fn acquire(&self, url: &str, per_host: usize) -> OwnedSemaphorePermit {
        let domain = registrable_domain(url);
        let sem = {
            let mut map = self.limits.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(
                map.entry(domain)
                    .or_insert_with(|| Arc::new(Semaphore::new(per_host.max(1)))),
            )
        };
        // The semaphore is never closed, so acquiring cannot fail.
        match sem.acquire_owned().await {
            Ok(p) => p,
            Err(_) => unreachable!("host semaphores are never closed"),
        }
    }

    /// Sizes domains up front (the smallest `per_host` among a domain's
    /// sources wins), so the first poll does not decide by accident.
    pub fn with_limits<'a>(sources: impl IntoIterator<Item = (&'a str, usize)>) -> HostLimiter {
        let mut sizes: HashMap<String, usize> = HashMap::new();
        for (url, n) in sources {
            let e = sizes.entry(registrable_domain(url)).or_insert(n);
            *e = (*e).min(n);
        }
        let limits = sizes
            .into_iter()
            .map(|(d, n)| (d, Arc::new(Semaphore::new(n.max(1)))))
            .collect();
        HostLimiter {
            limits: Mutex::new(limits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        assert_eq!(registrable_domain("https://m.ria.ru/politics/"), "ria.ru");
        assert_eq!(
            registrable_domain("https://news.bbc.co.uk/rss"),
            "bbc.co.uk"
        );
        assert_eq!(registrable_domain("https://report.az/rss"), "report.az");
        // gov.az is itself a public suffix.
        assert_eq!(registrable_domain("https://www.gov.az/feed"), "www.gov.az");
        assert_eq!(
            registrable_domain("https://news.day.az/politics.rss"),
            "day.az"
        );
        assert_eq!(registrable_domain("http://127.0.0.1:8080/a"), "127.0.0.1");
        assert_eq!(registrable_domain("http://localhost:1/a"), "localhost");
    }

    // Paused time: the 50 ms waits pass at once, on tokio's clock.
    #[tokio::test(start_paused = true)]
    async fn a_domain_gets_at_most_its_slots() {
        let limiter = HostLimiter::with_limits([
            ("https://a.example.com/x", 2),
            ("https://b.example.com/y", 3),
        ]);
        let p1 = limiter.acquire("https://a.example.com/1", 2).await;
        let _p2 = limiter.acquire("https://c.example.com/2", 2).await;
        let third = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            limiter.acquire("https://example.com/3", 2),
        );
        assert!(third.await.is_err(), "a third request to example.com waits");
        drop(p1);
        let fourth = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            limiter.acquire("https://example.com/4", 2),
        );
        assert!(fourth.await.is_ok(), "a freed slot is reused");
    }
}
