//! The few places where Prometheus-compatible servers differ, in one table: which extra
//! query parameters each wants, how far behind "now" its newest data is complete, and
//! which refusals mean "ask for less at once" (answered by slicing, not by failing).

use std::time::Duration;

/// The server behind `--prometheus-url`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Deserialize,
    serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Prometheus,
    /// Thanos Query (or Query Frontend): `dedup` and `partial_response` are sent.
    Thanos,
    /// Grafana Mimir or Cortex: API under a prefix such as /prometheus, tenant header.
    Mimir,
    /// VictoriaMetrics (single node or vmselect).
    #[value(name = "victoriametrics")]
    #[serde(rename = "victoriametrics")]
    VictoriaMetrics,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Prometheus => "prometheus",
            Backend::Thanos => "thanos",
            Backend::Mimir => "mimir",
            Backend::VictoriaMetrics => "victoriametrics",
        }
    }

    /// How far behind the wall clock the server's answers are complete. VictoriaMetrics
    /// serves the newest 30 s (`-search.latencyOffset`) from older samples, so a window
    /// ending there would show a flat, stale tail.
    pub fn default_latency_offset(self) -> Duration {
        match self {
            Backend::VictoriaMetrics => Duration::from_secs(30),
            _ => Duration::ZERO,
        }
    }

    /// Form parameters this backend wants on every query (instant and range).
    pub fn query_params(self, partial_response: PartialResponse) -> Vec<(String, String)> {
        match self {
            // Without dedup, an HA pair of Prometheus replicas counts every instance twice.
            Backend::Thanos => vec![
                ("dedup".into(), "true".into()),
                (
                    "partial_response".into(),
                    (partial_response == PartialResponse::Allow).to_string(),
                ),
            ],
            _ => Vec::new(),
        }
    }

    /// Extra form parameters for range queries.
    pub fn range_params(self) -> Vec<(String, String)> {
        match self {
            // Without nocache, VictoriaMetrics moves start and end onto multiples of the
            // step for its cache, so points no longer fall where they were asked for.
            Backend::VictoriaMetrics => vec![("nocache".into(), "1".into())],
            _ => Vec::new(),
        }
    }
}

/// What Thanos should do when a store answers late or not at all.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Deserialize,
    serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PartialResponse {
    /// Answer with what it has, plus a warning (the report shows it; `validate` is then
    /// inconclusive rather than resolved).
    #[default]
    Allow,
    /// Fail the query instead.
    Deny,
}

/// Whether a refusal means the request asked for too much at once, so that the same
/// range in smaller pieces may succeed. Matches the wording of Prometheus, Thanos,
/// Cortex/Mimir and VictoriaMetrics limits, not other execution errors (which would fail
/// the same way however small the piece).
pub fn is_size_limit(message: &str) -> bool {
    const PHRASES: [&str; 9] = [
        // Prometheus/Thanos --query.max-samples.
        "too many samples",
        // Prometheus and Cortex: more than 11,000 points per series.
        "exceeded maximum resolution",
        // VictoriaMetrics -search.maxPointsPerTimeseries / -search.maxSamplesPerQuery.
        "maxpointspertimeseries",
        "maxsamplesperquery",
        "too many points",
        // Mimir/Cortex -querier.max-fetched-chunks-per-query and friends.
        "the query exceeded the maximum number of chunks",
        "max-fetched-chunks",
        "max-fetched-chunk-bytes",
        // Mimir/Cortex -store.max-query-length / -querier.max-query-length.
        "the query time range exceeds the limit",
    ];
    let lower = message.to_ascii_lowercase();
    PHRASES.iter().any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limits_are_told_from_other_errors() {
        for refusal in [
            "query processing would load too many samples into memory in query execution",
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            "cannot select more than -search.maxPointsPerTimeseries=500 points for the given step=60s, start=1 and end=2",
            "the query exceeded the maximum number of chunks fetched from ingesters (limit: 2000000)",
            "the query time range exceeds the limit (query length: 768h0m0s, limit: 721h0m0s)",
        ] {
            assert!(is_size_limit(refusal), "{refusal}");
        }
        for other in [
            "found duplicate series for the match group",
            "many-to-many matching not allowed: matching labels must be unique on one side",
            "vector cannot contain metrics with the same labelset",
        ] {
            assert!(!is_size_limit(other), "{other}");
        }
    }

    #[test]
    fn backend_parameters() {
        assert!(
            Backend::Prometheus
                .query_params(PartialResponse::Allow)
                .is_empty()
        );
        assert_eq!(
            Backend::Thanos.query_params(PartialResponse::Deny),
            vec![
                ("dedup".to_string(), "true".to_string()),
                ("partial_response".to_string(), "false".to_string())
            ]
        );
        assert_eq!(
            Backend::VictoriaMetrics.range_params(),
            vec![("nocache".to_string(), "1".to_string())]
        );
        assert_eq!(
            Backend::VictoriaMetrics.default_latency_offset(),
            Duration::from_secs(30)
        );
    }
}
