//! Sending planned requests through the run's request cache ([`Requests`]): range
//! queries ([`ranges`]) and instant queries ([`instants`]) all at once (the client bounds
//! the concurrency), with a progress bar on a terminal; their answers into the range data
//! and the instant answers per period, and one record per request ([`records`]), in the
//! plan's order whatever order they were sent in. A failed optional query becomes a
//! warning; a failed required one (or an unreachable server) fails the run.

use super::plan::PlannedQuery;
use super::requests::Requests;
use super::{PeriodAnswers, PeriodName, RangeData, links};
use crate::config::QueryConfig;
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::QueryKind;
use crate::prom::{Answer, InstantSample, PromError, RangeSeries};
use crate::timespec::from_unix_seconds;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// What a request's record needs from its answer: the series it matched, the warnings
/// Prometheus attached and the HTTP requests it took; or why it failed.
pub type Reply = Result<(usize, Vec<String>, usize), PromError>;

/// Replies by the request they answer: (query id, period; `None` for a range query).
pub type Replies = HashMap<(String, Option<PeriodName>), Reply>;

/// The key of `item`'s reply.
pub fn reply_key(item: &PlannedQuery) -> (String, Option<PeriodName>) {
    (item.query.id.clone(), item.period.map(|p| p.0))
}

/// A bar that counts answered requests; requests are added to it as they are planned.
pub fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
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

/// Sends `items` at once, each through `send`; the answers in `items`' order.
async fn send_all<T: Send + 'static, F, Fut>(
    items: &[PlannedQuery],
    bar: &ProgressBar,
    send: F,
) -> Vec<Result<T, PromError>>
where
    F: Fn(PlannedQuery) -> Fut,
    Fut: std::future::Future<Output = Result<T, PromError>> + Send + 'static,
{
    bar.inc_length(items.len() as u64);
    let mut tasks = JoinSet::new();
    for (index, item) in items.iter().cloned().enumerate() {
        let request = send(item);
        tasks.spawn(async move { (index, request.await) });
    }
    let mut answers: Vec<Option<Result<T, PromError>>> = items.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, answer) = joined.expect("query tasks do not panic");
        bar.inc(1);
        answers[index] = Some(answer);
    }
    answers
        .into_iter()
        .map(|a| a.expect("every task reported"))
        .collect()
}

/// Range queries over `(from, to)` at `step`, all at once, in order. The series are
/// taken from the cache (moved, not copied, unless another request of the run shares
/// them).
pub async fn ranges(
    requests: &Requests,
    queries: &[PlannedQuery],
    (from, to, step): (f64, f64, f64),
    bar: &ProgressBar,
) -> Vec<Result<Answer<Vec<RangeSeries>>, PromError>> {
    send_all(queries, bar, |item| {
        let requests = requests.clone();
        async move {
            requests
                .take_range(&item.query.id, &item.promql, from, to, step)
                .await
        }
    })
    .await
}

/// Instant queries, each at its period's end, all at once, in order.
pub async fn instants(
    requests: &Requests,
    queries: &[PlannedQuery],
    bar: &ProgressBar,
) -> Vec<Result<Arc<Answer<Vec<InstantSample>>>, PromError>> {
    send_all(queries, bar, |item| {
        let requests = requests.clone();
        async move {
            let (_, _, end) = item.period.expect("instant queries have a period");
            requests.query(&item.query.id, &item.promql, end).await
        }
    })
    .await
}

/// The series of range `answers` by role (failed ones left out), with the replies.
pub fn range_data(
    queries: &[PlannedQuery],
    answers: Vec<Result<Answer<Vec<RangeSeries>>, PromError>>,
    step: f64,
    replies: &mut Replies,
) -> RangeData {
    let mut data = RangeData::new(step);
    for (item, answer) in queries.iter().zip(answers) {
        let reply = answer.map(|answer| {
            let reply = (answer.data.len(), answer.warnings, answer.requests);
            data.by_role
                .entry(item.query.role)
                .or_default()
                .extend(answer.data);
            reply
        });
        replies.insert(reply_key(item), reply);
    }
    data
}

/// The instant `answers` by period, in the pack's order (failed ones left out), with the
/// replies.
pub fn instant_data(
    queries: &[PlannedQuery],
    answers: Vec<Result<Arc<Answer<Vec<InstantSample>>>, PromError>>,
    replies: &mut Replies,
) -> HashMap<PeriodName, PeriodAnswers> {
    let mut out: HashMap<PeriodName, PeriodAnswers> = HashMap::new();
    for (item, answer) in queries.iter().zip(answers) {
        let reply = answer.map(|answer| {
            let (name, _, _) = item.period.expect("instant queries have a period");
            out.entry(name)
                .or_default()
                .push((item.query.role, answer.data.clone()));
            (answer.data.len(), answer.warnings.clone(), answer.requests)
        });
        replies.insert(reply_key(item), reply);
    }
    out
}

/// One record per planned request, in the plan's order, from its reply, and the
/// warnings they bring; the first failed required query (or an unreachable server) is
/// the error. Range records cover `(from, to, step)`.
pub fn records(
    config: &QueryConfig,
    planned: &[PlannedQuery],
    replies: &mut Replies,
    span: (f64, f64, f64),
) -> Result<(Vec<QueryRecord>, Vec<String>), PromError> {
    let (mut records, mut warnings) = (Vec::new(), Vec::new());
    for item in planned {
        let mut record = record_for(config, item, span);
        let Some(reply) = replies.remove(&reply_key(item)) else {
            continue;
        };
        match reply {
            Err(error) => {
                if !item.query.optional || matches!(error, PromError::Unreachable { .. }) {
                    return Err(error);
                }
                warnings.push(format!("optional query {} failed: {error}", item.query.id));
                record.error = Some(error.to_string());
            }
            Ok((series, query_warnings, requests)) => {
                for w in &query_warnings {
                    warnings.push(prometheus_warning(&item.query.id, w));
                }
                record.ok = true;
                record.series = series;
                record.requests = requests;
                record.warnings = query_warnings;
            }
        }
        records.push(record);
    }
    Ok((records, warnings))
}

/// A request's record before it is answered, with its links over the range it covers.
pub fn record_for(
    config: &QueryConfig,
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
