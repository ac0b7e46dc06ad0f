//! One `[[source]]`: a feed to poll, with `[poll]` defaults for what it
//! leaves out.

use super::poll::SourceDefaults;
use super::tables::Table;
use crate::config::checks::{Ctx, check_name, duration, http_url, in_range, schedule};
use crate::config::raw::{RawAuth, RawSource};
use crate::config::spans::Keys;
use crate::config::{BasicAuth, Schedule, SourceConfig};
use crate::model::sections::SectionMap;
use std::collections::HashSet;

/// Checks one `[[source]]`; `names` collects source names to refuse
/// duplicates (and for `[[feed]] sources`). Keys are checked in a fixed
/// order, so problems that share a line are always listed alike.
pub(super) fn source(
    cx: &mut Ctx<'_>,
    table: Table<RawSource>,
    defaults: &SourceDefaults,
    sections: &SectionMap,
    names: &mut HashSet<String>,
) -> SourceConfig {
    let Table { keys, raw } = table;
    let keys = &keys;
    check_name(cx, keys, &raw.name, names);
    http_url(cx, keys, "url", &raw.url);
    let schedule = source_schedule(cx, keys, &raw, &defaults.schedule);
    let timeout = duration(cx, keys, "timeout", raw.timeout.as_deref()).unwrap_or(defaults.timeout);
    let timezone = timezone(cx, keys, raw.timezone.as_deref());
    let section = section(cx, keys, raw.section.as_deref(), sections);
    let per_host = raw.per_host.unwrap_or(defaults.per_host);
    in_range(cx, keys, "per_host", per_host, 1..=64);
    let headers = headers(cx, keys, &raw);
    check_proxy(cx, keys, raw.proxy.as_deref());
    check_auth(cx, keys, raw.auth.as_ref());
    let encoding = encoding(cx, keys, raw.encoding.as_deref());
    let kind = super::html::kind(cx, keys, raw.kind.as_deref());
    let html = super::html::html_rules(cx, keys, kind, raw.html.as_ref());
    let article = raw
        .article
        .as_ref()
        .map(|a| super::html::article_rules(cx, keys, a));
    SourceConfig {
        name: raw.name,
        url: raw.url,
        title: raw.title,
        schedule,
        timeout,
        timezone,
        section,
        respect_cache_hints: raw
            .respect_cache_hints
            .unwrap_or(defaults.respect_cache_hints),
        per_host: per_host.clamp(1, 64) as usize,
        user_agent: raw.user_agent,
        headers,
        proxy: raw.proxy,
        auth: raw.auth.map(|a| BasicAuth {
            username: a.username,
            password_env: a.password_env,
        }),
        encoding,
        kind,
        html,
        article,
    }
}

/// The source's own `interval`/`cron`, else (or when invalid) `[poll]`'s.
fn source_schedule(cx: &mut Ctx<'_>, keys: &Keys, raw: &RawSource, default: &Schedule) -> Schedule {
    if raw.interval.is_none() && raw.cron.is_none() {
        return default.clone();
    }
    schedule(cx, keys, raw.interval.as_deref(), raw.cron.as_deref())
        .unwrap_or_else(|| default.clone())
}

/// The zone for dates without an offset; UTC when unset or unknown.
fn timezone(cx: &mut Ctx<'_>, keys: &Keys, zone: Option<&str>) -> chrono_tz::Tz {
    let Some(zone) = zone else {
        return chrono_tz::UTC;
    };
    zone.parse().unwrap_or_else(|_| {
        cx.bad(
            keys,
            "timezone",
            format!("`{zone}` is not an IANA zone like Asia/Baku"),
        );
        chrono_tz::UTC
    })
}

/// The canonical section (an alias resolves to its section).
fn section(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    section: Option<&str>,
    sections: &SectionMap,
) -> Option<String> {
    let canonical = sections.canonical(section?);
    if canonical.is_none() {
        cx.bad(keys, "section", "must not be blank");
    }
    canonical
}

/// The headers that are valid HTTP; each invalid one is a problem.
fn headers(cx: &mut Ctx<'_>, keys: &Keys, raw: &RawSource) -> Vec<(String, String)> {
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
    headers
}

fn check_proxy(cx: &mut Ctx<'_>, keys: &Keys, proxy: Option<&str>) {
    if let Some(proxy) = proxy
        && reqwest::Proxy::all(proxy).is_err()
    {
        cx.bad(
            keys,
            "proxy",
            format!("`{proxy}` is not a proxy URL like socks5://127.0.0.1:1080"),
        );
    }
}

/// The password is read at request time; an unset variable is refused at
/// load so that the mistake shows before the first poll, not as a 401.
fn check_auth(cx: &mut Ctx<'_>, keys: &Keys, auth: Option<&RawAuth>) {
    if let Some(auth) = auth
        && std::env::var_os(&auth.password_env).is_none()
    {
        cx.bad(
            keys,
            "auth.password_env",
            format!("environment variable `{}` is not set", auth.password_env),
        );
    }
}

/// The charset override, by any label `encoding_for_label` knows.
fn encoding(
    cx: &mut Ctx<'_>,
    keys: &Keys,
    label: Option<&str>,
) -> Option<&'static encoding_rs::Encoding> {
    let label = label?;
    let encoding = crate::model::charset::encoding_for_label(label);
    if encoding.is_none() {
        cx.bad(
            keys,
            "encoding",
            format!("`{label}` is not a known charset"),
        );
    }
    encoding
}
