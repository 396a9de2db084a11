//! Error classes of the Prometheus client. Each names the query at fault and keeps
//! Prometheus's own error text, so the user sees one precise message.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PromError {
    #[error("cannot reach Prometheus at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("query {query_id} timed out after {seconds}s (raise --timeout or narrow the window)")]
    Timeout { query_id: String, seconds: u64 },
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

impl PromError {
    /// 2 for a URL that cannot be used, else 4 (unreachable, or a query failed).
    pub fn code(&self) -> i32 {
        match self {
            PromError::BadUrl { .. } => crate::exit::USAGE,
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
