//! The requests for one service's window: every pack query with the service's matchers
//! injected, range queries once for the window (plus their derived restart counts), and
//! instant queries once per period.

use super::AcquireError;
use super::PeriodName;
use crate::config::QueryConfig;
use crate::pack::{self, Pack, PackQuery, QueryKind, RANGE_PLACEHOLDER};
use crate::timespec::{format_duration, unix_seconds};
use promql_parser::label::Matcher;
use std::time::Duration;

/// One request to send.
#[derive(Debug, Clone)]
pub struct PlannedQuery {
    pub query: PackQuery,
    pub promql: String,
    /// Instant queries: the period they cover (name, start, end).
    pub period: Option<(PeriodName, f64, f64)>,
    /// For a derived restart count: the selector and function it counts with, so the
    /// PromQL can be written again for another step.
    count_of: Option<(String, &'static str)>,
}

impl PlannedQuery {
    /// A range request of `query` as `promql`, already written with its matchers.
    pub fn range(query: PackQuery, promql: String) -> PlannedQuery {
        PlannedQuery {
            query,
            promql,
            period: None,
            count_of: None,
        }
    }

    /// This query as sent at evaluation step `step` (only restart counts depend on it).
    pub fn at_step(&self, step: f64) -> PlannedQuery {
        let mut item = self.clone();
        if let Some(promql) = self
            .count_of
            .as_ref()
            .and_then(|(selector, function)| pack::restart_count_promql(selector, function, step))
        {
            item.promql = promql;
        }
        item
    }
}

/// Matchers for a query: the service matcher on the query's own label (or
/// `--service-label`), plus `--selector`.
pub fn matchers_for(config: &QueryConfig, pack: &Pack, query: &PackQuery) -> Vec<Matcher> {
    matchers_on(config, pack, query.service_label.as_deref())
}

/// Matchers with the service matcher on `label` (else the pack's, else
/// `--service-label`); a `container` label gets `--container`'s value.
pub fn matchers_on(config: &QueryConfig, pack: &Pack, label: Option<&str>) -> Vec<Matcher> {
    let label = label
        .or(pack.service_label.as_deref())
        .unwrap_or(&config.service_label);
    let value = if label == "container" && label != config.service_label {
        &config.container
    } else {
        &config.service
    };
    let mut matchers = vec![pack::equal_matcher(label, value)];
    matchers.extend(config.selector.iter().cloned());
    matchers
}

/// The service matcher on `--service-label` plus `--selector`.
pub fn base_matchers(config: &QueryConfig) -> Vec<Matcher> {
    let mut all = vec![pack::equal_matcher(&config.service_label, &config.service)];
    all.extend(config.selector.iter().cloned());
    all
}

/// The selector text shown to people, e.g. `{job="api",namespace="prod"}`.
pub fn selector_text(matchers: &[Matcher]) -> String {
    let inner: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
    format!("{{{}}}", inner.join(","))
}

/// `query`'s PromQL with `matchers` injected, or why it cannot be.
pub fn inject(promql: &str, matchers: &[Matcher], query_id: &str) -> Result<String, AcquireError> {
    pack::inject(promql, matchers).map_err(|detail| AcquireError::Plan {
        query_id: query_id.to_string(),
        detail,
    })
}

/// The window and, with a fix, the periods before and after it (Unix seconds).
pub fn periods(config: &QueryConfig) -> Vec<(PeriodName, f64, f64)> {
    let from = unix_seconds(config.window.from);
    let to = unix_seconds(config.window.to);
    let mut out = vec![(PeriodName::Window, from, to)];
    if let Some(fix) = config.window.fix_deployed {
        out.push((PeriodName::Before, from, unix_seconds(fix)));
        if let Some(after) = config.window.after_start() {
            out.push((PeriodName::After, unix_seconds(after), to));
        }
    }
    out
}

/// The window's length as a PromQL duration (at least one second).
fn window_range(config: &QueryConfig) -> String {
    let seconds = (unix_seconds(config.window.to) - unix_seconds(config.window.from))
        .round()
        .max(1.0);
    format_duration(Duration::from_secs(seconds as u64))
}

/// Every request for the pack at `step`, in the pack's order.
pub fn plan(
    config: &QueryConfig,
    pack: &Pack,
    step: f64,
) -> Result<Vec<PlannedQuery>, AcquireError> {
    let mut planned = Vec::new();
    for query in &pack.queries {
        let matchers = matchers_for(config, pack, query);
        match query.kind {
            QueryKind::Range => {
                // A range query's placeholder is the window's length (the route
                // requests' busiest routes, chosen once over the window).
                let text = pack::fill_window(
                    &query.promql,
                    &window_range(config),
                    unix_seconds(config.window.to),
                );
                let promql = inject(&text, &matchers, &query.id)?;
                planned.extend(restart_count(query, &promql, step));
                planned.push(PlannedQuery {
                    query: query.clone(),
                    promql,
                    period: None,
                    count_of: None,
                });
            }
            QueryKind::Instant => {
                for (name, start, end) in periods(config) {
                    let seconds = (end - start).round().max(1.0);
                    let range = format_duration(Duration::from_secs(seconds as u64));
                    let text = query.promql.replace(RANGE_PLACEHOLDER, &range);
                    planned.push(PlannedQuery {
                        query: query.clone(),
                        promql: inject(&text, &matchers, &query.id)?,
                        period: Some((name, start, end)),
                        count_of: None,
                    });
                }
            }
        }
    }
    Ok(planned)
}

/// The restart count derived from a start-time or counter query (see
/// `pack::restart_count_promql`), when `query` is one.
fn restart_count(query: &PackQuery, promql: &str, step: f64) -> Option<PlannedQuery> {
    let (role, function) = query.role.restart_count()?;
    let count = pack::restart_count_promql(promql, function, step)?;
    Some(PlannedQuery {
        query: PackQuery {
            id: format!("{}{}", query.id, pack::RESTART_COUNT_SUFFIX),
            role,
            promql: count.clone(),
            unit: "restarts".into(),
            description: format!(
                "Restarts per step counted between raw samples ({function}()), so two in one step count twice; derived from {}.",
                query.id
            ),
            optional: true,
            ..query.clone()
        },
        promql: count,
        period: None,
        count_of: Some((promql.to_string(), function)),
    })
}
