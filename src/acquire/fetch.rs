//! Sending planned requests: all at once (the client bounds the concurrency), with a
//! progress bar on a terminal, into the range data, the instant answers per period and
//! one record per request. A failed optional query becomes a warning; a failed required
//! one (or an unreachable server) fails the run.

use super::plan::PlannedQuery;
use super::{PeriodAnswers, PeriodName, RangeData, links};
use crate::config::CollectConfig;
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::QueryKind;
use crate::prom::{Answer, Client, InstantSample, PromError, RangeSeries};
use crate::timespec::from_unix_seconds;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::task::JoinSet;

/// What the first round brought back.
pub struct Fetched {
    pub data: RangeData,
    pub instants: HashMap<PeriodName, PeriodAnswers>,
    pub records: Vec<QueryRecord>,
    pub warnings: Vec<String>,
}

enum Outcome {
    Range(Vec<RangeSeries>),
    Instant(Vec<InstantSample>),
}

/// What a finished query produced, with the warnings Prometheus attached and the
/// number of HTTP requests it took.
type QueryResult = Result<(Outcome, Vec<String>, usize), PromError>;

fn progress_bar(total: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} querying Prometheus {pos}/{len} {wide_msg}")
            .expect("static template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A warning the server attached to a query (Thanos's partial responses among them), as
/// the report and scan show it; `validate` looks for this prefix.
pub fn prometheus_warning(query_id: &str, warning: &str) -> String {
    format!("Prometheus warned on query {query_id}: {warning}")
}

/// Sends every planned request over the window `(from, to)` at `step`.
pub async fn fetch_all(
    client: &Client,
    config: &CollectConfig,
    planned: &[PlannedQuery],
    (from, to, step): (f64, f64, f64),
) -> Result<Fetched, PromError> {
    let bar = progress_bar(planned.len(), config.quiet);
    let mut tasks = JoinSet::new();
    for (index, item) in planned.iter().cloned().enumerate() {
        let client = client.clone();
        tasks.spawn(async move {
            let result = match item.period {
                None => client
                    .query_range(&item.query.id, &item.promql, from, to, step)
                    .await
                    .map(|a| (Outcome::Range(a.data), a.warnings, a.requests)),
                Some((_, _, end)) => client
                    .query(&item.query.id, &item.promql, end)
                    .await
                    .map(|a| (Outcome::Instant(a.data), a.warnings, a.requests)),
            };
            (index, result)
        });
    }
    let mut results: Vec<Option<QueryResult>> = planned.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.expect("query tasks do not panic");
        bar.inc(1);
        results[index] = Some(result);
    }
    bar.finish_and_clear();

    let mut fetched = Fetched {
        data: RangeData::new(step),
        instants: HashMap::new(),
        records: Vec::new(),
        warnings: Vec::new(),
    };
    for (item, result) in planned.iter().zip(results) {
        let mut record = record_for(config, item, (from, to, step));
        match result.expect("every task reported") {
            Err(error) => {
                if !item.query.optional || matches!(error, PromError::Unreachable { .. }) {
                    return Err(error);
                }
                let message = format!("optional query {} failed: {error}", item.query.id);
                fetched.warnings.push(message);
                record.error = Some(error.to_string());
            }
            Ok((outcome, query_warnings, requests)) => {
                record.requests = requests;
                for w in &query_warnings {
                    fetched.warnings.push(prometheus_warning(&item.query.id, w));
                }
                record.ok = true;
                record.warnings = query_warnings;
                match outcome {
                    Outcome::Range(series) => {
                        record.series = series.len();
                        let role = item.query.role;
                        fetched.data.by_role.entry(role).or_default().extend(series);
                    }
                    Outcome::Instant(samples) => {
                        record.series = samples.len();
                        let (name, _, _) = item.period.expect("instant queries have a period");
                        let answers = fetched.instants.entry(name).or_default();
                        answers.push((item.query.role, samples));
                    }
                }
            }
        }
        fetched.records.push(record);
    }
    Ok(fetched)
}

/// A request's record before it is answered, with its links over the range it covers.
pub fn record_for(
    config: &CollectConfig,
    item: &PlannedQuery,
    (from, to, step): (f64, f64, f64),
) -> QueryRecord {
    let (start, end) = match item.period {
        Some((_, start, end)) => (start, end),
        None => (from, to),
    };
    let (start_time, end_time) = (from_unix_seconds(start), from_unix_seconds(end));
    let span = (end_time - start_time).num_seconds() as f64;
    let range = item.period.is_none();
    QueryRecord {
        id: item.query.id.clone(),
        role: item.query.role.name(),
        kind: match item.query.kind {
            QueryKind::Range => RequestKind::Range,
            QueryKind::Instant => RequestKind::Instant,
        },
        period: item.period.map(|(name, _, _)| name.as_str().to_string()),
        description: item.query.description.clone(),
        promql: item.promql.clone(),
        start: range.then_some(from),
        end: range.then_some(to),
        step_seconds: range.then_some(step),
        time: item.period.map(|(_, _, end)| end),
        graph_url: links::prometheus_graph(
            &config.links.prometheus_ui,
            &item.promql,
            end_time,
            span,
        ),
        explore_url: config.links.grafana.as_deref().and_then(|g| {
            links::grafana_explore(
                g,
                config.links.grafana_datasource.as_deref(),
                &item.promql,
                start_time,
                end_time,
            )
        }),
        ..Default::default()
    }
}

/// Range queries at `step`, all at once (the client bounds the concurrency), in order.
pub async fn fetch_ranges(
    client: &Client,
    queries: &[PlannedQuery],
    (from, to, step): (f64, f64, f64),
) -> Result<Vec<Answer<Vec<RangeSeries>>>, PromError> {
    let mut tasks = JoinSet::new();
    for (index, item) in queries.iter().enumerate() {
        let (client, id, promql) = (client.clone(), item.query.id.clone(), item.promql.clone());
        tasks.spawn(async move {
            (
                index,
                client.query_range(&id, &promql, from, to, step).await,
            )
        });
    }
    let mut answers: Vec<Option<_>> = queries.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, answer) = joined.expect("query tasks do not panic");
        answers[index] = Some(answer?);
    }
    Ok(answers
        .into_iter()
        .map(|a| a.expect("every task reported"))
        .collect())
}
