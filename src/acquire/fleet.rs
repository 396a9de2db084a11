//! Scan's acquisition: one range query per role for every service of a runtime under a
//! selector, grouped by service afterwards, and each service's series normalised like
//! one service's ([`normalise`](super::normalise), [`lifetimes`](super::lifetimes)).

use super::lifetimes::{self, Boundaries};
use super::normalise::{self, Normalised};
use super::plan::inject;
use super::requests::Requests;
use super::{AcquireError, RangeData};
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::{self, Pack, Role};
use crate::prom::RangeSeries;
use promql_parser::label::Matcher;
use promql_parser::parser::token::T_EQL_REGEX;
use std::collections::HashMap;

/// Answers by role, each grouped by service.
pub type Fetched = HashMap<Role, HashMap<String, Vec<RangeSeries>>>;

/// One role's request (none when the pack has no such query) and answer by service.
type FetchedRole = (Option<QueryRecord>, HashMap<String, Vec<RangeSeries>>);

/// The window and step every fleet request covers, and the label naming services.
#[derive(Debug, Clone, Copy)]
pub struct Span<'a> {
    pub from: f64,
    pub to: f64,
    pub step: f64,
    pub label: &'a str,
}

/// One role of the pack for every service under `matchers` (a restart-count role is
/// derived from its source query, as in `plan`).
async fn fetch_role(
    client: &Requests,
    p: &Pack,
    role: Role,
    matchers: &[Matcher],
    span: Span<'_>,
) -> anyhow::Result<FetchedRole> {
    let source = role.restart_count_source();
    let Some(query) = p.by_role(source.unwrap_or(role)).next() else {
        return Ok((None, HashMap::new()));
    };
    let mut promql = inject(&query.promql, matchers, &query.id)?;
    let mut id = query.id.clone();
    if let Some((_, function)) = source.and_then(Role::restart_count) {
        let Some(count) = pack::restart_count_promql(&promql, function, span.step) else {
            return Ok((None, HashMap::new()));
        };
        promql = count;
        id.push_str(pack::RESTART_COUNT_SUFFIX);
    }
    // A counter reset only matters where there is no start time (the analysis prefers
    // it), so the server leaves the others out; `unless` matches on every label but the
    // metric name: the same target's.
    if let (Role::ResetCounter | Role::CounterResets, Some(start)) =
        (role, p.by_role(Role::ProcessStart).next())
    {
        promql = format!(
            "({promql}) unless ({})",
            inject(&start.promql, matchers, &start.id)?
        );
    }
    let answer = client
        .take_range(&id, &promql, span.from, span.to, span.step)
        .await?;
    let record = QueryRecord {
        role: role.name(),
        kind: RequestKind::Range,
        description: query.description.clone(),
        start: Some(span.from),
        end: Some(span.to),
        step_seconds: Some(span.step),
        ok: true,
        series: answer.data.len(),
        warnings: answer.warnings,
        requests: answer.requests,
        promql,
        id,
        ..Default::default()
    };
    Ok((Some(record), by_service(answer.data, span.label)))
}

/// Records and answers of several roles' fetches, as one.
fn gather<const N: usize>(answers: [(Role, FetchedRole); N]) -> (Vec<QueryRecord>, Fetched) {
    let mut records = Vec::new();
    let mut fetched = HashMap::new();
    for (role, (record, by_service)) in answers {
        records.extend(record);
        fetched.insert(role, by_service);
    }
    (records, fetched)
}

/// The memory series and both signs of a restart: a start time where the exporter has
/// one, else a counter reset.
pub async fn fetch_series(
    client: &Requests,
    p: &Pack,
    matchers: &[Matcher],
    span: Span<'_>,
) -> anyhow::Result<(Vec<QueryRecord>, Fetched)> {
    let (heap, starts, counters) = tokio::try_join!(
        fetch_role(client, p, Role::Heap, matchers, span),
        fetch_role(client, p, Role::ProcessStart, matchers, span),
        fetch_role(client, p, Role::ResetCounter, matchers, span)
    )?;
    Ok(gather([
        (Role::Heap, heap),
        (Role::ProcessStart, starts),
        (Role::ResetCounter, counters),
    ]))
}

/// Restarts per step counted between raw samples: heavier on the server than the series
/// themselves, so asked only for the services seen restarting.
pub async fn fetch_counts(
    client: &Requests,
    p: &Pack,
    matchers: &[Matcher],
    span: Span<'_>,
) -> anyhow::Result<(Vec<QueryRecord>, Fetched)> {
    let (start_changes, counter_resets) = tokio::try_join!(
        fetch_role(client, p, Role::StartChanges, matchers, span),
        fetch_role(client, p, Role::CounterResets, matchers, span)
    )?;
    Ok(gather([
        (Role::StartChanges, start_changes),
        (Role::CounterResets, counter_resets),
    ]))
}

/// One service's per-route request counters (the pack's `route_requests`, its busiest
/// routes chosen over the window), for the top route of a leaking service; asked per
/// service, since the busiest routes are the service's own. `None` when the pack has no
/// such query; an error when the request failed.
pub async fn fetch_route_requests(
    client: &Requests,
    p: &Pack,
    matchers: &[Matcher],
    span: Span<'_>,
) -> Option<Result<(QueryRecord, Vec<RangeSeries>), String>> {
    let query = p.by_role(Role::RouteRequests).next()?;
    let seconds = (span.to - span.from).round().max(1.0);
    let range = crate::timespec::format_duration(std::time::Duration::from_secs(seconds as u64));
    let text = pack::fill_window(&query.promql, &range, span.to);
    let fetched = async {
        let promql = inject(&text, matchers, &query.id)?;
        let answer = client
            .take_range(&query.id, &promql, span.from, span.to, span.step)
            .await?;
        anyhow::Ok((promql, answer))
    };
    Some(match fetched.await {
        Ok((promql, answer)) => Ok((
            QueryRecord {
                role: Role::RouteRequests.name(),
                kind: RequestKind::Range,
                description: query.description.clone(),
                start: Some(span.from),
                end: Some(span.to),
                step_seconds: Some(span.step),
                ok: true,
                series: answer.data.len(),
                warnings: answer.warnings,
                requests: answer.requests,
                promql,
                id: query.id.clone(),
                ..Default::default()
            },
            answer.data,
        )),
        Err(error) => Err(format!("optional query {} failed: {error}", query.id)),
    })
}

/// Whether a service's start times changed or its counters fell anywhere in the window,
/// as its step-sampled series show.
pub fn seen_restarting(fetched: &Fetched, service: &str) -> bool {
    let series = |role: Role| {
        fetched
            .get(&role)
            .and_then(|by_service| by_service.get(service))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    series(Role::ProcessStart)
        .iter()
        .any(|s| !lifetimes::boundaries_from_start_times(&s.points).is_empty())
        || series(Role::ResetCounter)
            .iter()
            .any(|s| !lifetimes::boundaries_from_counter_resets(&s.points).is_empty())
}

/// One service's series, normalised, with its lifetimes.
#[derive(Debug)]
pub struct ServiceData {
    pub data: RangeData,
    pub boundaries: Vec<Option<Boundaries>>,
    pub normalised: Normalised,
    /// Series fetched for the service (before merging), for sizing a finer round.
    pub series: usize,
}

/// Moves one service's series out of every role's answer and normalises them; `None`
/// without memory series.
pub fn take_service(
    fetched: &mut Fetched,
    service: &str,
    step: f64,
    to: f64,
) -> Option<ServiceData> {
    let heap = fetched.get_mut(&Role::Heap)?.remove(service)?;
    let mut data = RangeData::new(step);
    data.by_role.insert(Role::Heap, heap);
    for (role, services) in fetched.iter_mut() {
        if *role != Role::Heap {
            data.by_role
                .insert(*role, services.remove(service).unwrap_or_default());
        }
    }
    let series = data.by_role.values().map(Vec::len).sum();
    let normalised = normalise::normalise(&mut data, to);
    Some(ServiceData {
        boundaries: lifetimes::heap_boundaries(&data),
        data,
        normalised,
        series,
    })
}

/// `label=~"a|b|c"`, each name matched literally.
pub fn service_matcher(label: &str, names: &[&str]) -> Result<Matcher, AcquireError> {
    const META: &str = "\\.+*?()|[]{}^$";
    let escaped: Vec<String> = names
        .iter()
        .map(|name| {
            name.chars()
                .flat_map(|c| META.contains(c).then_some('\\').into_iter().chain([c]))
                .collect()
        })
        .collect();
    Matcher::new_matcher(T_EQL_REGEX, label.to_string(), escaped.join("|")).map_err(|detail| {
        AcquireError::Plan {
            query_id: "scan".into(),
            detail,
        }
    })
}

/// Groups series by the service label, moving them (a fleet's answers are large).
fn by_service(all: Vec<RangeSeries>, label: &str) -> HashMap<String, Vec<RangeSeries>> {
    let mut out: HashMap<String, Vec<RangeSeries>> = HashMap::new();
    for s in all {
        if let Some(service) = s.labels.get(label) {
            out.entry(service.clone()).or_default().push(s);
        }
    }
    out
}
