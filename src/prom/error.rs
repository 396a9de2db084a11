//! Error classes of the Prometheus client. Each names the query at fault and keeps
//! Prometheus's own error text, so the user sees one precise message.

use std::time::Duration;
use thiserror::Error;

/// Clone: one failed request is shared by every caller that asked for it (the run's
/// request cache, `acquire::requests`).
#[derive(Debug, Clone, Error)]
pub enum PromError {
    #[error("cannot reach Prometheus at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// Every attempt timed out. `answered`: the server answered another request of the
    /// run, so it is up and this query is slow; `cut_by`: the `--deadline` that stopped
    /// the retries (or shortened the last attempt).
    #[error("{}", no_answer(url, query_id, *attempts, *timeout, *answered, *cut_by))]
    NoAnswer {
        url: String,
        query_id: String,
        attempts: u32,
        timeout: Duration,
        answered: bool,
        cut_by: Option<Duration>,
    },
    #[error(
        "the --deadline of {} passed before query {query_id} could be sent: raise --deadline (or --concurrency), or narrow the window",
        seconds(*deadline)
    )]
    DeadlinePassed {
        query_id: String,
        deadline: Duration,
    },
    #[error(
        "{url} does not speak TLS on that port (its answer was not a TLS handshake): use {http_url}"
    )]
    NotTls { url: String, http_url: String },
    #[error(
        "{url} has no Prometheus API (HTTP 404 for {path}): drop /api/v1 from --prometheus-url and give the server's base URL, {base}; leakcollect appends /api/v1/... itself"
    )]
    ApiPathInUrl {
        url: String,
        path: String,
        base: String,
    },
    #[error(
        "{url} has no Prometheus API (HTTP 404 for {path}): give the server's base URL in --prometheus-url, e.g. http://prometheus:9090, plus the path prefix it serves the API under, if any (/prometheus for Mimir)"
    )]
    NotFound { url: String, path: String },
    #[error("Prometheus rejected query {query_id} as bad data (HTTP 400): {message}")]
    BadQuery { query_id: String, message: String },
    #[error("Prometheus could not execute query {query_id} (HTTP 422): {message}")]
    Unprocessable { query_id: String, message: String },
    #[error("Prometheus is unavailable (HTTP 503) for query {query_id}: {message}")]
    Unavailable { query_id: String, message: String },
    #[error("Prometheus at {url} answered HTTP {status} for query {query_id}: {message}")]
    Status {
        url: String,
        query_id: String,
        status: u16,
        message: String,
    },
    #[error("Prometheus returned an error for query {query_id} ({error_type}): {message}")]
    Api {
        query_id: String,
        error_type: String,
        message: String,
    },
    #[error("the response to query {query_id} is not a valid Prometheus API answer: {detail}")]
    Decode { query_id: String, detail: String },
    #[error("the response to query {query_id} is larger than the {limit_mib} MiB cap")]
    TooLarge { query_id: String, limit_mib: u64 },
    #[error(
        "invalid Prometheus URL {url:?} (--prometheus-url or PROMETHEUS_URL): {detail}; expected e.g. http://prometheus:9090"
    )]
    BadUrl { url: String, detail: String },
}

/// A duration as the messages show it: `60 s`, `2.5 s`.
pub fn seconds(d: Duration) -> String {
    let text = format!("{:.3}", d.as_secs_f64());
    format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
}

fn no_answer(
    url: &str,
    query_id: &str,
    attempts: u32,
    timeout: Duration,
    answered: bool,
    cut_by: Option<Duration>,
) -> String {
    let (plural, each) = if attempts == 1 {
        ("", "")
    } else {
        ("s", " each")
    };
    let cut = cut_by.map_or(String::new(), |deadline| {
        format!(", cut short by the --deadline of {}", seconds(deadline))
    });
    let tried = format!(
        "after {attempts} attempt{plural} of {}{each} (--timeout, --retries){cut}",
        seconds(timeout)
    );
    if answered {
        format!(
            "query {query_id} got no answer from {url} {tried}: the server answers other requests, so this query is slow: raise --timeout or narrow the window"
        )
    } else {
        format!(
            "no answer from {url} {tried}: is the server up and reachable, and is this its API URL?"
        )
    }
}

impl PromError {
    /// 2 for a URL that cannot be used (malformed, `https://` to a plain-HTTP port, the
    /// API path written into it), else 4 (unreachable, or a query failed).
    pub fn code(&self) -> i32 {
        match self {
            PromError::BadUrl { .. }
            | PromError::NotTls { .. }
            | PromError::ApiPathInUrl { .. } => crate::exit::USAGE,
            _ => crate::exit::PROMETHEUS,
        }
    }
}

impl PromError {
    /// The server refused the request as too large (samples, points, chunks, range).
    pub fn is_size_limit(&self) -> bool {
        match self {
            PromError::BadQuery { message, .. }
            | PromError::Unprocessable { message, .. }
            | PromError::Api { message, .. }
            | PromError::Status { message, .. } => super::backend::is_size_limit(message),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_answer_says_attempts_timeout_and_deadline() {
        assert_eq!(seconds(Duration::from_secs(60)), "60 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
        let error = PromError::NoAnswer {
            url: "http://prom:9090".into(),
            query_id: "heap".into(),
            attempts: 3,
            timeout: Duration::from_secs(60),
            answered: false,
            cut_by: None,
        };
        assert_eq!(
            error.to_string(),
            "no answer from http://prom:9090 after 3 attempts of 60 s each (--timeout, --retries): is the server up and reachable, and is this its API URL?"
        );
        assert_eq!(error.code(), crate::exit::PROMETHEUS);
    }
}
