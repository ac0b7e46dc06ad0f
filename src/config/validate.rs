//! Turns config text into a `Config`, collecting every problem on the way.
//!
//! Each top-level table and each `[[source]]`/`[[feed]]` entry is
//! deserialized on its own, so one typo does not hide the next; spans from
//! the TOML parser become line numbers.

use super::checks::{Ctx, check_name, duration, http_url, in_range, regexes, schedule};
use super::raw::{RawFeed, RawPoll, RawSections, RawServer, RawSource, RawStorage};
use super::spans::Keys;
use super::{BasicAuth, Config, ConfigProblem, FeedConfig, FetchSettings, Schedule, SourceConfig};
use crate::normalize::sections::SectionMap;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use toml::de::{DeTable, DeValue};

pub(super) const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub(super) const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;
pub(super) const DEFAULT_CONCURRENCY: u64 = 16;
const DEFAULT_FEED_LIMIT: u64 = 50;
pub(super) const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
pub(super) const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_PER_HOST: u64 = 2;

pub(super) fn validate(text: &str, path: &Path) -> Result<Config, Vec<ConfigProblem>> {
    let mut cx = Ctx {
        text,
        problems: Vec::new(),
    };
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e.span().map(|s| s.start);
            cx.problem("(syntax)", at, e.message().trim().to_string());
            return Err(cx.problems);
        }
    };

    let mut storage = RawStorage::default();
    let mut server = RawServer::default();
    let mut poll = RawPoll::default();
    let mut sections = RawSections::default();
    // Original index kept: an entry that failed to deserialize must not
    // shift the names of the ones after it.
    let mut sources: Vec<(Keys, RawSource)> = Vec::new();
    let mut feeds: Vec<(Keys, RawFeed)> = Vec::new();
    let mut poll_keys = Keys::absent("poll");
    let mut server_keys = Keys::absent("server");

    for (key, value) in doc.into_inner() {
        let span = value.span();
        match key.get_ref().as_ref() {
            "storage" => storage = cx.de("storage", value).unwrap_or_default(),
            "server" => {
                server_keys = Keys::of("server", &value);
                server = cx.de("server", value).unwrap_or_default();
            }
            "poll" => {
                poll_keys = Keys::of("poll", &value);
                poll = cx.de("poll", value).unwrap_or_default();
            }
            "sections" => sections = cx.de("sections", value).unwrap_or_default(),
            "source" | "feed" => {
                let name = key.get_ref().to_string();
                let DeValue::Array(entries) = value.get_ref() else {
                    cx.problem(
                        &name,
                        Some(span.start),
                        format!("must be an array of tables: [[{name}]]"),
                    );
                    continue;
                };
                for (i, entry) in entries.iter().cloned().enumerate() {
                    let keys = Keys::of(&format!("{name}[{i}]"), &entry);
                    if name == "source" {
                        if let Some(s) = cx.de::<RawSource>(keys.name(), entry) {
                            sources.push((keys, s));
                        }
                    } else if let Some(f) = cx.de::<RawFeed>(keys.name(), entry) {
                        feeds.push((keys, f));
                    }
                }
            }
            other => cx.problem(
                other.to_string(),
                Some(key.span().start),
                "unknown key; expected one of storage, server, poll, sections, source, feed",
            ),
        }
    }

    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let storage_path = {
        let p = Path::new(storage.path.as_deref().unwrap_or("feedmerge.db"));
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base_dir.join(p)
        }
    };

    let listen = server.listen.as_deref().unwrap_or("127.0.0.1:8080");
    let listen = match listen.parse() {
        Ok(a) => a,
        Err(_) => {
            cx.bad(
                &server_keys,
                "listen",
                format!("`{listen}` is not an address like 127.0.0.1:8080"),
            );
            ([127, 0, 0, 1], 8080).into()
        }
    };
    let base_url = server
        .base_url
        .as_deref()
        .map(|b| b.trim_end_matches('/').to_string());
    if let Some(b) = &base_url {
        http_url(&mut cx, &server_keys, "base_url", b);
    }

    let websub_hub = server.websub_hub.clone();
    if let Some(h) = &websub_hub {
        http_url(&mut cx, &server_keys, "websub_hub", h);
    }

    let default_schedule = schedule(
        &mut cx,
        &poll_keys,
        poll.interval.as_deref(),
        poll.cron.as_deref(),
    )
    .unwrap_or(Schedule::Every(DEFAULT_INTERVAL));
    let default_timeout = duration(&mut cx, &poll_keys, "timeout", poll.timeout.as_deref())
        .unwrap_or(DEFAULT_TIMEOUT);
    let max_body = poll.max_body.unwrap_or(DEFAULT_MAX_BODY);
    if max_body < 1024 {
        cx.bad(&poll_keys, "max_body", "must be at least 1024 bytes");
    }
    let concurrency = poll.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    in_range(
        &mut cx,
        &poll_keys,
        "concurrency",
        concurrency,
        1..=1024,
        "must be between 1 and 1024",
    );
    let user_agent = poll
        .user_agent
        .clone()
        .unwrap_or_else(crate::fetch::default_user_agent);
    let max_backoff = duration(
        &mut cx,
        &poll_keys,
        "max_backoff",
        poll.max_backoff.as_deref(),
    )
    .unwrap_or(DEFAULT_MAX_BACKOFF);
    let stale_after = duration(
        &mut cx,
        &poll_keys,
        "stale_after",
        poll.stale_after.as_deref(),
    )
    .unwrap_or(DEFAULT_STALE_AFTER);
    let default_per_host = poll.per_host.unwrap_or(DEFAULT_PER_HOST);
    in_range(
        &mut cx,
        &poll_keys,
        "per_host",
        default_per_host,
        1..=64,
        "must be between 1 and 64",
    );
    let default_hints = poll.respect_cache_hints.unwrap_or(true);

    let entries: Vec<(&str, &[String])> = sections
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let (section_map, clashes) = SectionMap::new(entries);
    for alias in clashes {
        cx.problem(
            "sections",
            None,
            format!("alias `{alias}` belongs to two sections"),
        );
    }

    let mut names = HashSet::new();
    let mut source_configs = Vec::new();
    for (keys, raw) in sources {
        let keys = &keys;
        check_name(&mut cx, keys, &raw.name, &mut names);
        http_url(&mut cx, keys, "url", &raw.url);
        let sched = if raw.interval.is_some() || raw.cron.is_some() {
            schedule(&mut cx, keys, raw.interval.as_deref(), raw.cron.as_deref())
                .unwrap_or_else(|| default_schedule.clone())
        } else {
            default_schedule.clone()
        };
        let timeout =
            duration(&mut cx, keys, "timeout", raw.timeout.as_deref()).unwrap_or(default_timeout);
        let timezone = match raw.timezone.as_deref() {
            None => chrono_tz::UTC,
            Some(z) => z.parse().unwrap_or_else(|_| {
                cx.bad(
                    keys,
                    "timezone",
                    format!("`{z}` is not an IANA zone like Asia/Baku"),
                );
                chrono_tz::UTC
            }),
        };
        let section = raw.section.as_deref().and_then(|s| {
            let c = section_map.canonical(s);
            if c.is_none() {
                cx.bad(keys, "section", "must not be blank");
            }
            c
        });
        let per_host = raw.per_host.unwrap_or(default_per_host);
        in_range(
            &mut cx,
            keys,
            "per_host",
            per_host,
            1..=64,
            "must be between 1 and 64",
        );
        let mut headers = Vec::new();
        for (name, value) in &raw.headers {
            let valid = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && reqwest::header::HeaderValue::from_str(value).is_ok();
            if valid {
                headers.push((name.clone(), value.clone()));
            } else {
                cx.bad(
                    keys,
                    "headers",
                    format!("`{name}: {value}` is not a valid HTTP header"),
                );
            }
        }
        if let Some(proxy) = &raw.proxy
            && reqwest::Proxy::all(proxy.as_str()).is_err()
        {
            cx.bad(
                keys,
                "proxy",
                format!("`{proxy}` is not a proxy URL like socks5://127.0.0.1:1080"),
            );
        }
        if let Some(auth) = &raw.auth
            && std::env::var_os(&auth.password_env).is_none()
        {
            cx.bad(
                keys,
                "auth.password_env",
                format!("environment variable `{}` is not set", auth.password_env),
            );
        }
        let encoding = raw.encoding.as_deref().and_then(|label| {
            let e = crate::parse::decode::encoding_for_label(label);
            if e.is_none() {
                cx.bad(
                    keys,
                    "encoding",
                    format!("`{label}` is not a known charset"),
                );
            }
            e
        });
        source_configs.push(SourceConfig {
            name: raw.name,
            url: raw.url,
            title: raw.title,
            schedule: sched,
            timeout,
            timezone,
            section,
            respect_cache_hints: raw.respect_cache_hints.unwrap_or(default_hints),
            per_host: per_host.clamp(1, 64) as usize,
            user_agent: raw.user_agent,
            headers,
            proxy: raw.proxy,
            auth: raw.auth.map(|a| BasicAuth {
                username: a.username,
                password_env: a.password_env,
            }),
            encoding,
        });
    }

    let mut feed_names = HashSet::new();
    let mut feed_configs = Vec::new();
    for (keys, raw) in feeds {
        let keys = &keys;
        check_name(&mut cx, keys, &raw.name, &mut feed_names);
        let mut canon = Vec::new();
        for s in &raw.sections {
            match section_map.canonical(s) {
                Some(c) if !canon.contains(&c) => canon.push(c),
                Some(_) => {}
                None => cx.bad(keys, "sections", "a section name is blank"),
            }
        }
        if raw.sections.is_empty() {
            cx.bad(keys, "sections", "must list at least one section");
        }
        let limit = raw.limit.unwrap_or(DEFAULT_FEED_LIMIT);
        in_range(
            &mut cx,
            keys,
            "limit",
            limit,
            1..=500,
            "must be between 1 and 500",
        );
        let include = regexes(&mut cx, keys, "include", &raw.include);
        let exclude = regexes(&mut cx, keys, "exclude", &raw.exclude);
        for s in &raw.sources {
            if !names.contains(s) {
                cx.bad(
                    keys,
                    "sources",
                    format!("`{s}` is not the name of a [[source]]"),
                );
            }
        }
        feed_configs.push(FeedConfig {
            title: raw.title.unwrap_or_else(|| raw.name.clone()),
            name: raw.name,
            sections: canon,
            limit: limit.clamp(1, 500) as usize,
            include,
            exclude,
            sources: raw.sources,
        });
    }

    if !cx.problems.is_empty() {
        cx.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        return Err(cx.problems);
    }
    Ok(Config {
        path: path.to_path_buf(),
        storage_path,
        listen,
        base_url,
        websub_hub,
        fetch: FetchSettings {
            max_body,
            concurrency: concurrency as usize,
            user_agent,
            max_backoff,
            stale_after,
        },
        sections: section_map,
        sources: source_configs,
        feeds: feed_configs,
    })
}
