//! Per-request options: what differs between sources on one shared client.

use super::FetchError;
use crate::config::SourceConfig;
use crate::model::Validators;
use reqwest::header;
use std::time::Duration;

/// Everything one GET needs besides the client.
#[derive(Debug, Clone)]
pub struct RequestOptions<'a> {
    /// The URL to fetch.
    pub url: &'a str,
    /// Validators of the last 200.
    pub validators: &'a Validators,
    /// Whole-exchange timeout.
    pub timeout: Duration,
    /// `User-Agent` override.
    pub user_agent: Option<&'a str>,
    /// Extra headers.
    pub headers: &'a [(String, String)],
    /// Proxy URL (selects the client).
    pub proxy: Option<&'a str>,
    /// Basic auth: user name and the environment variable with the password.
    pub auth: Option<(&'a str, &'a str)>,
}

impl<'a> RequestOptions<'a> {
    /// Options for polling `source`.
    pub fn for_source(source: &'a SourceConfig, validators: &'a Validators) -> RequestOptions<'a> {
        RequestOptions {
            url: &source.url,
            validators,
            timeout: source.timeout,
            user_agent: source.user_agent.as_deref(),
            headers: &source.headers,
            proxy: source.proxy.as_deref(),
            auth: source
                .auth
                .as_ref()
                .map(|a| (a.username.as_str(), a.password_env.as_str())),
        }
    }

    /// Plain options for a one-off fetch (`inspect`).
    pub fn plain(
        url: &'a str,
        validators: &'a Validators,
        timeout: Duration,
    ) -> RequestOptions<'a> {
        RequestOptions {
            url,
            validators,
            timeout,
            user_agent: None,
            headers: &[],
            proxy: None,
            auth: None,
        }
    }

    pub(super) fn build(
        &self,
        mut request: reqwest::RequestBuilder,
        default_agent: &str,
    ) -> Result<reqwest::RequestBuilder, FetchError> {
        request = request
            .header(header::USER_AGENT, self.user_agent.unwrap_or(default_agent))
            .header(
                header::ACCEPT,
                "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, \
                 application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
            );
        if let Some(etag) = &self.validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &self.validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        for (name, value) in self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some((user, var)) = self.auth {
            // Read at request time: a rotated secret needs no restart.
            let password =
                std::env::var(var).map_err(|_| FetchError::MissingSecret(var.to_string()))?;
            request = request.basic_auth(user, Some(password));
        }
        Ok(request)
    }
}
