//! `collect`: plan the pack's queries for the window, run them concurrently, analyse the
//! answers into [`Evidence`] and render it.

use crate::analysis::period::{self, PeriodInstants, RangeData};
use crate::analysis::resolution;
use crate::config::CollectConfig;
use crate::evidence::{Evidence, Periods, QueryRecord, SCHEMA_ID, Window};
use crate::pack::{self, Pack, PackQuery, QueryKind, RANGE_PLACEHOLDER, Role};
use crate::prom::range::{choose_step, interval_from_samples};
use crate::prom::{Client, PromError, RangeSeries};
use crate::render::links;
use crate::timespec::{format_duration, from_unix_seconds, unix_seconds};
use indicatif::{ProgressBar, ProgressStyle};
use promql_parser::label::Matcher;
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::time::Duration;
use thiserror::Error;
use tokio::task::JoinSet;

#[derive(Debug, Error)]
pub enum CollectError {
    #[error(
        "no data: {selector} matched no series between {from} and {to}{hint} (check --service, --service-label, --selector and the window)"
    )]
    NoData {
        selector: String,
        from: String,
        to: String,
        hint: String,
    },
    #[error(
        "no runtime metrics found for {selector} in the window{hint} (looked for {checked}); check --service, --service-label and --selector, or name a pack with --runtime"
    )]
    NoRuntime {
        selector: String,
        checked: String,
        hint: String,
    },
    #[error(
        "no runtime metrics found under --selector {selector} in the window{hint} (looked for {checked}); check --selector, --service-label and the window, or name a pack with --runtime"
    )]
    NoFleet {
        selector: String,
        checked: String,
        hint: String,
    },
    #[error("query {query_id} could not be prepared: {detail}")]
    Plan { query_id: String, detail: String },
}

/// Which slice of the window an instant query covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodName {
    Window,
    Before,
    After,
}

impl PeriodName {
    fn as_str(self) -> &'static str {
        match self {
            PeriodName::Window => "window",
            PeriodName::Before => "before",
            PeriodName::After => "after",
        }
    }
}

/// Appended to a range query's id for its second round at a finer step.
pub const FINER_SUFFIX: &str = "_finer";

/// One request to send.
#[derive(Debug, Clone)]
struct PlannedQuery {
    query: PackQuery,
    promql: String,
    period: Option<(PeriodName, f64, f64)>,
    /// For a derived restart count: the selector and function it counts with, so the
    /// PromQL can be written again for another step.
    count_of: Option<(String, &'static str)>,
}

impl PlannedQuery {
    /// This query as sent at evaluation step `step` (only restart counts depend on it).
    fn at_step(&self, step: f64) -> PlannedQuery {
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

/// What a finished query produced, with the warnings Prometheus attached and the
/// number of HTTP requests it took.
type QueryResult = Result<(Outcome, Vec<String>, usize), PromError>;

enum Outcome {
    Range(Vec<RangeSeries>),
    Instant(Vec<crate::prom::InstantSample>),
}

/// Matchers for a query: the service matcher on the query's own label (or
/// `--service-label`), plus `--selector`.
fn matchers_for(config: &CollectConfig, pack: &Pack, query: &PackQuery) -> Vec<Matcher> {
    let label = query
        .service_label
        .as_deref()
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

/// The selector text shown to people, e.g. `{job="api",namespace="prod"}`.
pub fn selector_text(matchers: &[Matcher]) -> String {
    let inner: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
    format!("{{{}}}", inner.join(","))
}

fn periods(config: &CollectConfig) -> Vec<(PeriodName, f64, f64)> {
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

fn plan(config: &CollectConfig, pack: &Pack, step: f64) -> Result<Vec<PlannedQuery>, CollectError> {
    let mut planned = Vec::new();
    for query in &pack.queries {
        let matchers = matchers_for(config, pack, query);
        let prepare = |text: &str| {
            pack::inject(text, &matchers).map_err(|detail| CollectError::Plan {
                query_id: query.id.clone(),
                detail,
            })
        };
        match query.kind {
            QueryKind::Range => {
                let promql = prepare(&query.promql)?;
                if let Some((role, function)) = query.role.restart_count()
                    && let Some(count) = pack::restart_count_promql(&promql, function, step)
                {
                    planned.push(PlannedQuery {
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
                        count_of: Some((promql.clone(), function)),
                    });
                }
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
                    planned.push(PlannedQuery {
                        query: query.clone(),
                        promql: prepare(&query.promql.replace(RANGE_PLACEHOLDER, &range))?,
                        period: Some((name, start, end)),
                        count_of: None,
                    });
                }
            }
        }
    }
    Ok(planned)
}

/// Finds the scrape interval of the heap series from how many samples the last hour
/// (or the whole window, if shorter) holds, so the step never undercuts it.
async fn probe_scrape_interval(
    client: &Client,
    config: &CollectConfig,
    pack: &Pack,
    records: &mut Vec<QueryRecord>,
) -> Result<Option<Duration>, PromError> {
    let heap = heap_query(pack);
    let Some(selector) = pack::first_selector(&heap.promql) else {
        return Ok(None);
    };
    let to = unix_seconds(config.window.to);
    let span = (to - unix_seconds(config.window.from))
        .min(3600.0)
        .floor()
        .max(1.0);
    let window = format_duration(Duration::from_secs(span as u64));
    // count_over_time on the raw selector counts stored samples, not evaluation steps.
    let text = format!("max(count_over_time({selector}[{window}]))");
    let promql = pack::inject(&text, &matchers_for(config, pack, heap)).map_err(|message| {
        PromError::BadQuery {
            query_id: PROBE_ID.into(),
            message,
        }
    })?;
    let answer = client.query(PROBE_ID, &promql, to).await?;
    let count = answer.data.first().map(|s| s.value);
    records.push(QueryRecord {
        id: PROBE_ID.into(),
        role: "probe".into(),
        kind: "instant".into(),
        period: None,
        description: "Samples per heap series in the last hour of the window, to keep the step above the scrape interval.".into(),
        promql,
        start: None,
        end: None,
        step_seconds: None,
        time: Some(to),
        ok: true,
        error: None,
        series: answer.data.len(),
        warnings: answer.warnings,
        graph_url: None,
        explore_url: None,
        requests: answer.requests,
    });
    Ok(count.and_then(|c| interval_from_samples(span, c)))
}

const PROBE_ID: &str = "scrape_interval_probe";
const DETECT_ID: &str = "runtime_detection";

fn heap_query(pack: &Pack) -> &PackQuery {
    pack.by_role(Role::Heap)
        .next()
        .expect("packs are checked to have a heap query")
}

/// `--runtime auto`: one series-API call (index only) for every pack's marker metrics
/// under the service's matchers; the pack with the most series wins, the container
/// pack only when no runtime's own metrics exist. Other runtimes found are reported.
async fn detect_runtime(
    client: &Client,
    config: &CollectConfig,
    records: &mut Vec<QueryRecord>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<(Pack, Vec<String>)> {
    let packs: Vec<Pack> = pack::builtin_runtimes()
        .into_iter()
        .map(|name| pack::load(name, config.queries_dir.as_deref()))
        .collect::<Result<_, _>>()?;
    let mut matches = Vec::new();
    for p in &packs {
        let names: Vec<&str> = p.detect.iter().map(String::as_str).collect();
        if names.is_empty() {
            continue;
        }
        let name_matcher = promql_parser::label::Matcher::new_matcher(
            promql_parser::parser::token::T_EQL_REGEX,
            "__name__".to_string(),
            names.join("|"),
        )
        .map_err(|detail| CollectError::Plan {
            query_id: DETECT_ID.into(),
            detail,
        })?;
        let mut all = vec![name_matcher];
        all.extend(matchers_for(config, p, heap_query(p)));
        let text = selector_text(&all);
        if !matches.contains(&text) {
            matches.push(text);
        }
    }
    let from = unix_seconds(config.window.from);
    let to = unix_seconds(config.window.to);
    let answer = client.series(DETECT_ID, &matches, from, to).await?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for labels in &answer.data {
        if let Some(name) = labels.get("__name__") {
            *counts.entry(name.clone()).or_default() += 1;
        }
    }
    records.push(QueryRecord {
        id: DETECT_ID.into(),
        role: "detect".into(),
        kind: "series".into(),
        period: None,
        description: "Which runtimes' metrics exist for the service in the window (series API)."
            .into(),
        promql: matches.join(" "),
        start: Some(from),
        end: Some(to),
        step_seconds: None,
        time: None,
        ok: true,
        error: None,
        series: answer.data.len(),
        warnings: answer.warnings,
        graph_url: None,
        explore_url: None,
        requests: answer.requests,
    });
    let found: Vec<(usize, &Pack, Vec<String>)> = packs
        .iter()
        .map(|p| {
            let hits: Vec<String> = p
                .detect
                .iter()
                .filter_map(|n| counts.get(n).map(|c| format!("{n} ({c} series)")))
                .collect();
            let total = p.detect.iter().filter_map(|n| counts.get(n)).sum::<usize>();
            (total, p, hits)
        })
        .filter(|(total, _, _)| *total > 0)
        .collect();
    let runtime_found: Vec<&(usize, &Pack, Vec<String>)> = found
        .iter()
        .filter(|(_, p, _)| p.runtime != "container")
        .collect();
    let pool = if runtime_found.is_empty() {
        found.iter().collect::<Vec<_>>()
    } else {
        runtime_found
    };
    // Highest series count wins; on a tie, the pack listed first.
    let Some(best) = pool
        .iter()
        .copied()
        .reduce(|a, b| if b.0 > a.0 { b } else { a })
    else {
        let series_match = packs
            .iter()
            .map(|p| p.detect.join("|"))
            .collect::<Vec<_>>()
            .join("|");
        return Err(CollectError::NoRuntime {
            selector: selector_text(&base_matchers(config)),
            hint: suggestion(
                client,
                config,
                &format!("{{__name__=~\"{series_match}\"}}"),
                from,
                to,
            )
            .await,
            checked: packs
                .iter()
                .flat_map(|p| p.detect.clone())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    };
    for (_, other, hits) in &found {
        if other.runtime != best.1.runtime && other.runtime != "container" {
            warnings.push(format!(
                "the service also exports {} metrics ({}): a sidecar or a second process? This report covers {}; run with --runtime {} for the other",
                other.title,
                hits.join(", "),
                best.1.title,
                other.runtime
            ));
        }
    }
    Ok((best.1.clone(), best.2.clone()))
}

fn base_matchers(config: &CollectConfig) -> Vec<Matcher> {
    let mut all = vec![pack::equal_matcher(&config.service_label, &config.service)];
    all.extend(config.selector.iter().cloned());
    all
}

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

/// Runs the queries for `config` and returns the evidence.
pub async fn collect(config: &CollectConfig) -> anyhow::Result<Evidence> {
    Ok(collect_full(config).await?.evidence)
}

/// The evidence with the series it was computed from, for charts.
pub struct Collected {
    pub evidence: Evidence,
    pub data: RangeData,
    pub boundaries: Vec<Option<period::Boundaries>>,
}

/// Like [`collect`], keeping the series.
pub async fn collect_full(config: &CollectConfig) -> anyhow::Result<Collected> {
    let client = Client::new(config.client.clone())?;
    let from = unix_seconds(config.window.from);
    let to = unix_seconds(config.window.to);
    let mut records = Vec::new();
    let mut warnings = config.notes.clone();

    let (pack, runtime_detected_from) = match &config.pack {
        Some(pack) => (
            pack.clone(),
            vec![format!("--runtime {} given", pack.runtime)],
        ),
        None => detect_runtime(&client, config, &mut records, &mut warnings).await?,
    };
    let pack = &pack;
    // With an unknown scrape interval no finer step is tried: below the interval, points
    // repeat samples and flatten the slope.
    let (step, scrape_interval) = match config.step {
        Some(step) => (step, None),
        None => {
            let interval = probe_scrape_interval(&client, config, pack, &mut records).await?;
            let step = choose_step(
                Duration::from_secs_f64(to - from),
                interval.unwrap_or(Duration::from_secs(1)),
            );
            (step, interval)
        }
    };
    let step_seconds = step.as_secs_f64();

    let planned = plan(config, pack, step_seconds)?;
    let bar = progress_bar(planned.len(), config.quiet);
    let mut tasks = JoinSet::new();
    for (index, item) in planned.iter().cloned().enumerate() {
        let client = client.clone();
        tasks.spawn(async move {
            let result = match item.period {
                None => client
                    .query_range(&item.query.id, &item.promql, from, to, step_seconds)
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

    let mut data = RangeData {
        step: step_seconds,
        role_steps: Default::default(),
        by_role: HashMap::new(),
    };
    let mut instants: HashMap<PeriodName, PeriodInstants> = HashMap::new();
    for (item, result) in planned.iter().zip(results) {
        let result = result.expect("every task reported");
        let mut record = QueryRecord {
            id: item.query.id.clone(),
            role: item.query.role.name(),
            kind: match item.query.kind {
                QueryKind::Range => "range".into(),
                QueryKind::Instant => "instant".into(),
            },
            period: item.period.map(|(name, _, _)| name.as_str().to_string()),
            description: item.query.description.clone(),
            promql: item.promql.clone(),
            start: item.period.is_none().then_some(from),
            end: item.period.is_none().then_some(to),
            step_seconds: item.period.is_none().then_some(step_seconds),
            time: item.period.map(|(_, _, end)| end),
            ok: false,
            error: None,
            series: 0,
            warnings: Vec::new(),
            graph_url: None,
            explore_url: None,
            requests: 0,
        };
        {
            let (start, end) = match item.period {
                Some((_, start, end)) => (start, end),
                None => (from, to),
            };
            let (start, end) = (from_unix_seconds(start), from_unix_seconds(end));
            let span = (end - start).num_seconds() as f64;
            record.graph_url =
                links::prometheus_graph(&config.links.prometheus_ui, &item.promql, end, span);
            record.explore_url = config.links.grafana.as_deref().and_then(|g| {
                links::grafana_explore(
                    g,
                    config.links.grafana_datasource.as_deref(),
                    &item.promql,
                    start,
                    end,
                )
            });
        }
        match result {
            Err(error) => {
                if !item.query.optional || matches!(error, PromError::Unreachable { .. }) {
                    return Err(error.into());
                }
                warnings.push(format!("optional query {} failed: {error}", item.query.id));
                record.error = Some(error.to_string());
            }
            Ok((outcome, query_warnings, requests)) => {
                record.requests = requests;
                for w in &query_warnings {
                    warnings.push(prometheus_warning(&item.query.id, w));
                }
                record.ok = true;
                record.warnings = query_warnings;
                match outcome {
                    Outcome::Range(series) => {
                        record.series = series.len();
                        data.by_role
                            .entry(item.query.role)
                            .or_default()
                            .extend(series);
                    }
                    Outcome::Instant(samples) => {
                        record.series = samples.len();
                        let (name, _, _) = item.period.expect("instant queries have a period");
                        let slot = instants.entry(name).or_default();
                        store_instant(slot, item.query.role, &samples);
                    }
                }
            }
        }
        records.push(record);
    }

    let heap_query = heap_query(pack);
    if !data.has_data(Role::Heap) {
        return Err(CollectError::NoData {
            selector: pack::inject(&heap_query.promql, &matchers_for(config, pack, heap_query))
                .unwrap_or_else(|_| heap_query.promql.clone()),
            from: config.window.from.to_rfc3339(),
            to: config.window.to.to_rfc3339(),
            hint: suggestion(&client, config, &heap_query.promql, from, to).await,
        }
        .into());
    }
    explain_missing(config, pack, &data, &mut warnings);
    let replica_labels = crate::analysis::replicas::merge_replicas(&mut data);
    if !replica_labels.is_empty() {
        let names: Vec<&str> = replica_labels.iter().map(String::as_str).collect();
        warnings.push(format!(
            "series came in copies from HA replicas (label {}): the copies were merged for the per-instance figures, but GC collection counts summed on the server may be doubled; use --backend thanos (dedup) or --selector '{}=\"…\"'",
            names.join(", "),
            names[0]
        ));
    }
    let part_labels = crate::analysis::replicas::sum_memory_parts(&mut data);
    if !part_labels.is_empty() {
        warnings.push(parts_warning(&part_labels));
    }
    period::trim_stale_tails(&mut data, to);

    let mut boundaries = period::heap_boundaries(&data);
    if let Some(interval) = scrape_interval {
        let refine = resolution::roles_to_refine(&data);
        let series = refine.iter().map(|r| data.series(*r).len()).sum();
        if let Some(lifetime) = resolution::median_lifetime(&data, &boundaries, from, to)
            && let Some(fine) =
                resolution::finer_growth_step(&data, &boundaries, (from, to), interval, series)
        {
            let (fine, coarse) = (fine.as_secs_f64(), step_seconds);
            let growth_queries: Vec<PlannedQuery> = planned
                .iter()
                .filter(|i| i.period.is_none() && refine.contains(&i.query.role))
                .map(|i| i.at_step(fine))
                .collect();
            let growth_queries: Vec<&PlannedQuery> = growth_queries.iter().collect();
            match fetch_ranges(&client, &growth_queries, from, to, fine).await {
                Ok(answers) => {
                    let mut finer = RangeData::new(fine);
                    for (item, answer) in growth_queries.iter().zip(answers) {
                        // Listed as a request of its own: both rounds were sent, and the
                        // figures come from this one.
                        let id = format!("{}{FINER_SUFFIX}", item.query.id);
                        if let Some(first) = records
                            .iter()
                            .find(|r| r.id == item.query.id && r.kind == "range")
                            .cloned()
                        {
                            records.push(QueryRecord {
                                id: id.clone(),
                                description: format!(
                                    "{} Fetched again at a finer step: process lifetimes are short for the window's step.",
                                    first.description
                                ),
                                promql: item.promql.clone(),
                                step_seconds: Some(fine),
                                requests: answer.requests,
                                series: answer.data.len(),
                                warnings: answer.warnings.clone(),
                                ..first
                            });
                        }
                        for w in &answer.warnings {
                            warnings.push(prometheus_warning(&id, w));
                        }
                        finer.by_role.entry(item.query.role).or_default().extend(answer.data);
                    }
                    crate::analysis::replicas::merge_replicas(&mut finer);
                    crate::analysis::replicas::sum_memory_parts(&mut finer);
                    period::trim_stale_tails(&mut finer, to);
                    for (role, series) in finer.by_role {
                        data.by_role.insert(role, series);
                        data.role_steps.insert(role, fine);
                    }
                    boundaries = period::heap_boundaries(&data);
                    warnings.push(format!(
                        "process lifetimes are short for this window (median {}): the memory and restart series were fetched again at a {} step (the rest at {}), so each lifetime has points enough for a slope",
                        format_duration(Duration::from_secs_f64(lifetime.round())),
                        format_duration(Duration::from_secs_f64(fine)),
                        format_duration(Duration::from_secs_f64(coarse)),
                    ));
                }
                Err(error) => warnings.push(format!(
                    "process lifetimes are short for this window (median {}), but fetching the memory series at a finer step failed ({error}); growth may be missing",
                    format_duration(Duration::from_secs_f64(lifetime.round())),
                )),
            }
        }
    }
    let analyze = |name: PeriodName, start: f64, end: f64| {
        let inst = instants.get(&name).cloned().unwrap_or_default();
        period::analyze_period(start, end, &data, &boundaries, &inst)
    };
    let whole = analyze(PeriodName::Window, from, to);
    let before = config
        .window
        .fix_deployed
        .map(|fix| analyze(PeriodName::Before, from, unix_seconds(fix)));
    let after = config
        .window
        .after_start()
        .map(|start| analyze(PeriodName::After, unix_seconds(start), to));
    for (name, p) in [
        ("window", Some(&whole)),
        ("before", before.as_ref()),
        ("after", after.as_ref()),
    ] {
        let Some(p) = p else { continue };
        let tolerance = crate::timespec::format_duration(Duration::from_secs(
            (3.0 * step_seconds).max(0.05 * p.hours * 3600.0) as u64,
        ));
        if p.heap_baseline_bytes.is_none() && p.instance_count > 0 {
            warnings.push(format!(
                "heap baseline for the {name} period is missing: no instance has a sample within {tolerance} of the period's start (does the data start later?)"
            ));
        }
        if p.heap_end_bytes.is_none() && p.instance_count > 0 {
            warnings.push(format!(
                "heap at the end of the {name} period is missing: no instance has a sample within {tolerance} of the period's end (did the data stop earlier?)"
            ));
        }
        if p.heap_after_6h_bytes.is_none() && p.hours >= 6.0 && p.instance_count > 0 {
            warnings.push(format!(
                "heap after 6 h for the {name} period is missing: no instance has a sample within {tolerance} of start + 6 h"
            ));
        }
        if p.active_handles_end.is_none() && data.has_data(Role::ActiveHandles) {
            warnings.push(format!(
                "{} at the end of the {name} period is missing: no sample within {tolerance} of the period's end",
                pack.handles_name
            ));
        }
        if p.growth_bytes_per_hour.is_none() {
            warnings.push(format!(
                "growth for the {name} period is missing: no instance has a process lifetime of at least {} samples in it",
                crate::analysis::growth::MIN_LIFETIME_POINTS
            ));
        }
        let has_summary_gc = p.gc_pause_mean_seconds.is_some() || !p.gc_pause_quantiles.is_empty();
        if p.gc_pause_p95_seconds.is_none() && has_summary_gc {
            warnings.push(format!(
                "GC pause p95 for the {name} period is not available: {} publishes a summary, not a histogram; the report gives its mean, max and quantiles instead",
                pack.title
            ));
        } else if p.gc_pause_p95_seconds.is_none() && pack.by_role(Role::GcP95).next().is_some() {
            warnings.push(format!(
                "GC pause p95 for the {name} period is missing: the GC histogram is absent or has no observations in the period"
            ));
        }
        if let (Some(a), Some(b)) = (
            p.restarts_by_source.process_start,
            p.restarts_by_source.kube_state_metrics,
        ) && a != b
        {
            warnings.push(format!(
                "restarts in the {name} period disagree: {a} from process start times, {b} from kube-state-metrics; the report uses the process start times"
            ));
        }
    }
    let improvement = match (&before, &after) {
        (Some(b), Some(a)) => Some(period::improvement(b, a)),
        _ => None,
    };
    let symptoms = period::symptoms(before.as_ref().unwrap_or(&whole));
    let mut all_matchers = vec![pack::equal_matcher(&config.service_label, &config.service)];
    all_matchers.extend(config.selector.iter().cloned());

    let evidence = Evidence {
        schema: SCHEMA_ID.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: chrono::Utc::now(),
        service: config.service.clone(),
        service_label: config.service_label.clone(),
        selector: selector_text(&all_matchers),
        runtime: pack.runtime.clone(),
        runtime_title: pack.title.clone(),
        memory_name: pack.memory_name.clone(),
        handles_name: pack.handles_name.clone(),
        runtime_detected_from,
        prometheus_url: client.display_url().to_string(),
        window: Window {
            from: config.window.from,
            to: config.window.to,
            hours: (to - from) / 3600.0,
            step_seconds,
        },
        fix_deployed: config.window.fix_deployed,
        periods: Periods {
            window: whole,
            before,
            after,
        },
        improvement,
        symptoms,
        queries: records,
        warnings,
        charts: std::collections::BTreeMap::new(),
    };
    Ok(Collected {
        evidence,
        data,
        boundaries,
    })
}

fn store_instant(slot: &mut PeriodInstants, role: Role, samples: &[crate::prom::InstantSample]) {
    let first = || samples.iter().map(|s| s.value).find(|v| v.is_finite());
    // The label that splits a GC figure: kind (Node.js), generation (Python, .NET), gc (JVM).
    let split_label = |s: &crate::prom::InstantSample| {
        ["kind", "generation", "gc", "quantile"]
            .iter()
            .find_map(|l| s.labels.get(*l).cloned())
            .unwrap_or_else(|| "all".into())
    };
    let by_label = || {
        samples
            .iter()
            .filter(|s| s.value.is_finite())
            .map(|s| (split_label(s), s.value))
            .collect::<BTreeMap<_, _>>()
    };
    match role {
        Role::GcP95 => slot.gc_p95 = first(),
        Role::GcP95ByKind => slot.gc_p95_by_kind = by_label(),
        Role::GcMean => slot.gc_mean = first(),
        Role::GcMax => slot.gc_max = first(),
        Role::GcQuantiles => slot.gc_quantiles = by_label(),
        Role::GcCollections => {
            let values = by_label();
            slot.gc_collections = (!values.is_empty()).then(|| values.values().sum());
            if values.len() > 1 || !values.contains_key("all") {
                slot.gc_collections_by = values;
            }
        }
        _ => {}
    }
}

/// Warnings for optional evidence that is absent, so the report says why a figure is missing.
fn explain_missing(
    config: &CollectConfig,
    pack: &Pack,
    data: &RangeData,
    warnings: &mut Vec<String>,
) {
    let missing = |role: Role| pack.by_role(role).next().is_some() && !data.has_data(role);
    if missing(Role::ProcessStart) && !data.has_data(Role::ResetCounter) {
        warnings.push("no process start times or counter resets found: restarts cannot be seen, so growth is fitted across the whole window per instance".to_string());
    }
    if !data.has_data(Role::K8sRestarts) && !data.has_data(Role::OomEvents) {
        warnings.push(format!(
            "no kube-state-metrics restart series or cAdvisor OOM events for container={:?}: OOM kills are {}",
            config.container,
            if data.has_data(Role::MemoryLimit) {
                "counted from restarts right after memory reached 95% of the limit"
            } else {
                "unknown"
            }
        ));
    }
}

/// "did you mean …" from the values the service label does take in the window.
/// Range queries at `step`, all at once (the client bounds the concurrency), in order.
async fn fetch_ranges(
    client: &Client,
    queries: &[&PlannedQuery],
    from: f64,
    to: f64,
    step: f64,
) -> Result<Vec<crate::prom::Answer<Vec<RangeSeries>>>, PromError> {
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

async fn suggestion(
    client: &Client,
    config: &CollectConfig,
    series_match: &str,
    from: f64,
    to: f64,
) -> String {
    let Ok(values) = client
        .label_values(&config.service_label, series_match, from, to)
        .await
    else {
        return String::new();
    };
    match closest(&config.service, &values) {
        Some(best) if *best == config.service && !config.selector.is_empty() => format!(
            "; {}={best:?} has series, so --selector {} matched nothing",
            config.service_label,
            selector_text(&config.selector)
        ),
        Some(best) if *best == config.service => format!(
            "; {}={best:?} has series, but not of this metric: is --runtime right?",
            config.service_label
        ),
        Some(best) => format!("; did you mean {}={best:?}?", config.service_label),
        None if values.is_empty() => {
            format!("; no series of {series_match} exist in the window at all")
        }
        None => String::new(),
    }
}

pub(crate) fn closest<'a>(wanted: &str, candidates: &'a [String]) -> Option<&'a String> {
    candidates
        .iter()
        .map(|c| (strsim_distance(wanted, c), c))
        .filter(|(d, c)| *d <= (wanted.chars().count().max(c.chars().count()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// A warning the server attached to a query (Thanos's partial responses among them), as
/// the report and scan show it; `validate` looks for this prefix.
pub fn prometheus_warning(query_id: &str, warning: &str) -> String {
    format!("Prometheus warned on query {query_id}: {warning}")
}

/// The warning for memory series that came in parts (see `replicas::sum_memory_parts`).
pub fn parts_warning(labels: &std::collections::BTreeSet<String>) -> String {
    let names: Vec<&str> = labels.iter().map(String::as_str).collect();
    format!(
        "the memory series come in parts per process (split by {}): the parts were summed per process, so each instance counts once",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let values = vec!["api".to_string(), "billing".to_string()];
        assert_eq!(closest("apu", &values).map(String::as_str), Some("api"));
        assert_eq!(closest("checkout", &values), None);
        assert_eq!(strsim_distance("kitten", "sitting"), 3);
    }
}
