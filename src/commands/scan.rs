//! `scan`: the fleet view. For every service (by the service label) under a selector,
//! the restart-aware growth per instance over a window, ranked, with the leaking ones
//! flagged — which report to write first. One series-API call finds each service's
//! runtime; then one range query per runtime pack covers all its services.

use crate::analysis::period::{self, PeriodInstants, RangeData};
use crate::analysis::resolution;
use crate::config::{self, ConfigError};
use crate::evidence::QueryRecord;
use crate::pack::{self, Pack, Role};
use crate::prom::range::{choose_step, finer_step, interval_from_samples};
use crate::prom::{Client, RangeSeries};
use crate::render::markdown::fixed;
use crate::timespec::format_duration;
use crate::timespec::{self, unix_seconds};
use promql_parser::label::Matcher;
use promql_parser::parser::token::T_EQL_REGEX;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRow {
    pub service: String,
    pub runtime: String,
    pub instances: usize,
    pub growth_bytes_per_hour: Option<f64>,
    pub growth_interval_bytes_per_hour: Option<[f64; 2]>,
    pub growth_bytes_per_hour_total: Option<f64>,
    pub growth_percent: Option<f64>,
    pub restarts: u64,
    pub heap_end_bytes: Option<f64>,
    /// Instances whose own growth interval is wholly above the threshold.
    pub instances_leaking: usize,
    /// `leaking` (the service's interval wholly above the threshold), `growing` (its
    /// median above it, not confidently), `partial` (neither, but some instances leak
    /// confidently: one bad pod among healthy ones), `unknown` (no growth figure: too few
    /// points per lifetime), or `ok`.
    pub flag: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    pub schema: String,
    pub selector: String,
    pub service_label: String,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
    pub step_seconds: f64,
    pub threshold_bytes_per_hour: f64,
    pub services: Vec<ServiceRow>,
    /// Every request scan sent, as collect lists its own (the floor benchmarks replay
    /// them; people paste them into Grafana).
    pub queries: Vec<QueryRecord>,
    pub warnings: Vec<String>,
}

pub async fn run(args: &crate::cli::ScanArgs) -> anyhow::Result<Scan> {
    let now = chrono::Utc::now();
    let mut window = config::parse_window(Some(&args.from), &args.to, None, now)?;
    let selector = match &args.selector {
        Some(text) => pack::parse_selector(text).map_err(|detail| ConfigError::Selector {
            text: text.clone(),
            detail,
        })?,
        None => Vec::new(),
    };
    let threshold = timespec::parse_rate(&args.min_growth).map_err(|source| ConfigError::Time {
        flag: "--min-growth",
        source,
    })?;
    let options = config::client_options(&args.prometheus)?;
    let held_back = config::hold_back(&mut window, now, options.latency_offset)?;
    let client = Client::new(options)?;
    let from = unix_seconds(window.from);
    let to = unix_seconds(window.to);
    let packs: Vec<Pack> = match args.runtime.as_str() {
        "auto" => pack::builtin_runtimes()
            .into_iter()
            .filter(|r| *r != "container")
            .map(|r| pack::load(r, args.queries.as_deref()))
            .collect::<Result<_, _>>()?,
        one => vec![pack::load(one, args.queries.as_deref())?],
    };
    let label = &args.service_label;
    let mut warnings: Vec<String> = held_back.into_iter().collect();
    let mut replica_labels = std::collections::BTreeSet::new();
    let mut part_labels = std::collections::BTreeSet::new();

    // Which services run which runtime: one series-API call over every pack's markers.
    let mut runtime_of: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut matches = Vec::new();
    for p in &packs {
        let mut m = vec![
            promql_parser::label::Matcher::new_matcher(
                promql_parser::parser::token::T_EQL_REGEX,
                "__name__".into(),
                p.detect.join("|"),
            )
            .map_err(|detail| ConfigError::Selector {
                text: p.detect.join("|"),
                detail,
            })?,
        ];
        m.extend(selector.iter().cloned());
        matches.push(crate::commands::collect::selector_text(&m));
    }
    let series = client.series("scan_detection", &matches, from, to).await?;
    let mut queries = vec![QueryRecord {
        id: "scan_detection".into(),
        role: "detect".into(),
        kind: "series".into(),
        description: "Which services run which runtime under the selector (series API).".into(),
        promql: matches.join(" "),
        start: Some(from),
        end: Some(to),
        ok: true,
        series: series.data.len(),
        warnings: series.warnings.clone(),
        requests: series.requests,
        ..Default::default()
    }];
    warnings.extend(
        series
            .warnings
            .iter()
            .map(|w| crate::commands::collect::prometheus_warning("scan_detection", w)),
    );
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for labels in &series.data {
        if let (Some(service), Some(name)) = (labels.get(label), labels.get("__name__"))
            && let Some(p) = packs.iter().find(|p| p.detect.contains(name))
        {
            *counts
                .entry((service.clone(), p.runtime.clone()))
                .or_default() += 1;
        }
    }
    for ((service, runtime), n) in counts {
        let entry = runtime_of.entry(service).or_insert((0, String::new()));
        if n > entry.0 {
            *entry = (n, runtime);
        }
    }
    if runtime_of.is_empty() {
        let markers: Vec<String> = packs.iter().flat_map(|p| p.detect.clone()).collect();
        let hint = if !series.data.is_empty() {
            format!(
                "; {} series matched, but none has the label `{label}` (is --service-label right?)",
                series.data.len()
            )
        } else if !selector.is_empty() {
            selector_hint(&client, &selector, &markers, from, to).await
        } else {
            "; no runtime metrics exist in the window at all".into()
        };
        return Err(crate::commands::collect::CollectError::NoFleet {
            selector: crate::commands::collect::selector_text(&selector),
            checked: markers.join(", "),
            hint,
        }
        .into());
    }

    let given_step = config::parse_step(args.step.as_deref(), to - from)?;
    let step = given_step
        .unwrap_or_else(|| choose_step(Duration::from_secs_f64(to - from), Duration::from_secs(15)))
        .as_secs_f64();
    let mut rows = Vec::new();
    for p in &packs {
        let services: Vec<&String> = runtime_of
            .iter()
            .filter(|(_, (_, r))| *r == p.runtime)
            .map(|(s, _)| s)
            .collect();
        if services.is_empty() {
            continue;
        }
        let fetch = |role: Role, matchers: Vec<Matcher>, step: f64| {
            let source = role.restart_count_source();
            let query = p.by_role(source.unwrap_or(role)).next().cloned();
            let start_query = p
                .by_role(Role::ProcessStart)
                .next()
                .map(|q| q.promql.clone());
            let client = client.clone();
            async move {
                let Some(query) = query else {
                    return Ok((None, HashMap::new()));
                };
                let plan = |promql: &str| {
                    pack::inject(promql, &matchers).map_err(|detail| {
                        crate::commands::collect::CollectError::Plan {
                            query_id: query.id.clone(),
                            detail,
                        }
                    })
                };
                let mut promql = plan(&query.promql)?;
                let mut id = query.id.clone();
                if let Some((_, function)) = source.and_then(Role::restart_count) {
                    let Some(count) = pack::restart_count_promql(&promql, function, step) else {
                        return Ok((None, HashMap::new()));
                    };
                    promql = count;
                    id.push_str(pack::RESTART_COUNT_SUFFIX);
                }
                // A counter reset only matters where there is no start time (the
                // analysis prefers it), so the server leaves the others out; `unless`
                // matches on every label but the metric name: the same target's.
                if let (Role::ResetCounter | Role::CounterResets, Some(start)) =
                    (role, &start_query)
                {
                    promql = format!("({promql}) unless ({})", plan(start)?);
                }
                let answer = client.query_range(&id, &promql, from, to, step).await?;
                let record = QueryRecord {
                    role: role.name(),
                    kind: "range".into(),
                    description: query.description.clone(),
                    start: Some(from),
                    end: Some(to),
                    step_seconds: Some(step),
                    ok: true,
                    series: answer.data.len(),
                    warnings: answer.warnings,
                    requests: answer.requests,
                    promql,
                    id,
                    ..Default::default()
                };
                anyhow::Ok((Some(record), by_service(answer.data, label)))
            }
        };
        // The memory series and both signs of a restart: a start time where the exporter
        // has one, else a counter reset.
        let fetch_series = |matchers: Vec<Matcher>, step: f64| async move {
            let (heap, starts, counters) = tokio::try_join!(
                fetch(Role::Heap, matchers.clone(), step),
                fetch(Role::ProcessStart, matchers.clone(), step),
                fetch(Role::ResetCounter, matchers, step)
            )?;
            anyhow::Ok(gather([
                (Role::Heap, heap),
                (Role::ProcessStart, starts),
                (Role::ResetCounter, counters),
            ]))
        };
        // Restarts per step counted between raw samples: heavier on the server than the
        // series themselves, so asked only for the services seen restarting.
        let fetch_counts = |matchers: Vec<Matcher>, step: f64| async move {
            let (start_changes, counter_resets) = tokio::try_join!(
                fetch(Role::StartChanges, matchers.clone(), step),
                fetch(Role::CounterResets, matchers, step)
            )?;
            anyhow::Ok(gather([
                (Role::StartChanges, start_changes),
                (Role::CounterResets, counter_resets),
            ]))
        };
        let (records, mut fetched) = fetch_series(selector.clone(), step).await?;
        note_queries(&mut queries, &mut warnings, records);
        let restarting: Vec<&str> = services
            .iter()
            .filter(|s| seen_restarting(&fetched, s))
            .map(|s| s.as_str())
            .collect();
        if !restarting.is_empty() {
            let mut narrowed = selector.clone();
            narrowed.push(service_matcher(label, &restarting)?);
            let (records, counts) = fetch_counts(narrowed, step).await?;
            note_queries(&mut queries, &mut warnings, records);
            fetched.extend(counts);
        }
        let mut jobs = Vec::new();
        for service in services {
            match take_service(&mut fetched, service) {
                Some(series) => jobs.push((service.clone(), series)),
                None => warnings.push(format!(
                    "{service}: {} metrics exist, but no {} series",
                    p.title, p.memory_name
                )),
            }
        }
        // The fetch is over; what is left is CPU (Theil–Sen per lifetime), one service
        // independent of the next, so it uses every core.
        let mut analysed = parallel_map(jobs, |(service, series)| {
            analyse_service(&service, &p.runtime, series, (from, to, step), threshold)
        });

        // Services whose lifetimes are too short for the step are asked again, finer.
        // Unless the step was given: then it is kept.
        let short: Vec<(usize, f64)> = if given_step.is_some() {
            Vec::new()
        } else {
            analysed
                .iter()
                .enumerate()
                .filter_map(|(i, a)| a.short_lifetime.map(|l| (i, l)))
                .collect()
        };
        if !short.is_empty() {
            let names: Vec<&str> = short
                .iter()
                .map(|(i, _)| analysed[*i].row.service.as_str())
                .collect();
            let mut narrowed = selector.clone();
            narrowed.push(service_matcher(label, &names)?);
            let shortest = short.iter().map(|(_, l)| *l).fold(f64::INFINITY, f64::min);
            let series: usize = short.iter().map(|(i, _)| analysed[*i].series).sum();
            let budget = Duration::from_secs_f64(
                (series as f64 * (to - from) / resolution::MAX_FINER_POINTS).ceil(),
            );
            let interval = scrape_interval(&client, p, &narrowed, to, &mut queries).await;
            let fine = interval.and_then(|interval| {
                finer_step(
                    Duration::from_secs_f64(step),
                    shortest / resolution::POINTS_PER_LIFETIME,
                    interval.max(budget),
                )
            });
            if let Some(fine) = fine {
                let fine = fine.as_secs_f64();
                let ((records, mut fetched), (count_records, counts)) = tokio::try_join!(
                    fetch_series(narrowed.clone(), fine),
                    fetch_counts(narrowed, fine)
                )?;
                note_queries(&mut queries, &mut warnings, records);
                note_queries(&mut queries, &mut warnings, count_records);
                fetched.extend(counts);
                let jobs: Vec<_> = short
                    .iter()
                    .filter_map(|(i, _)| {
                        let name = analysed[*i].row.service.clone();
                        let series = take_service(&mut fetched, &name)?;
                        Some((*i, (name, series)))
                    })
                    .collect();
                let (slots, jobs): (Vec<usize>, Vec<_>) = jobs.into_iter().unzip();
                let again = parallel_map(jobs, |(service, series)| {
                    analyse_service(&service, &p.runtime, series, (from, to, fine), threshold)
                });
                for (slot, result) in slots.into_iter().zip(again) {
                    analysed[slot] = result;
                }
                warnings.push(format!(
                    "{} {} service(s) have short process lifetimes (shortest median {}): their memory series were fetched again at a {} step (the scan's step is {})",
                    short.len(),
                    p.title,
                    format_duration(Duration::from_secs_f64(shortest.round())),
                    format_duration(Duration::from_secs_f64(fine)),
                    format_duration(Duration::from_secs_f64(step)),
                ));
            }
        }
        for a in analysed {
            rows.push(a.row);
            replica_labels.extend(a.replicas);
            part_labels.extend(a.parts);
        }
    }
    if !replica_labels.is_empty() {
        let names: Vec<&str> = replica_labels.iter().map(String::as_str).collect();
        warnings.push(format!(
            "series came in copies from HA replicas (label {}); the copies were merged (--backend thanos lets Thanos do it)",
            names.join(", ")
        ));
    }
    if !part_labels.is_empty() {
        warnings.push(crate::commands::collect::parts_warning(&part_labels));
    }
    rows.sort_by(|a, b| {
        b.growth_bytes_per_hour
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.growth_bytes_per_hour.unwrap_or(f64::NEG_INFINITY))
    });
    Ok(Scan {
        schema: "leakcollect/scan/v1".into(),
        selector: crate::commands::collect::selector_text(&selector),
        service_label: label.clone(),
        from: window.from,
        to: window.to,
        step_seconds: step,
        threshold_bytes_per_hour: threshold,
        services: rows,
        queries,
        warnings,
    })
}

/// One service's figures from its memory and restart series at `step`.
struct Analysed {
    row: ServiceRow,
    replicas: Vec<String>,
    /// Labels that split one process's memory series into parts (summed).
    parts: Vec<String>,
    /// The median lifetime, when it has too few points at this step for a slope.
    short_lifetime: Option<f64>,
    /// Series the analysis read, for sizing a finer fetch.
    series: usize,
}

fn analyse_service(
    service: &str,
    runtime: &str,
    by_role: HashMap<Role, Vec<RangeSeries>>,
    (from, to, step): (f64, f64, f64),
    threshold: f64,
) -> Analysed {
    let series = by_role.values().map(Vec::len).sum();
    let mut data = RangeData::new(step);
    data.by_role = by_role;
    let replicas = crate::analysis::replicas::merge_replicas(&mut data);
    let parts = crate::analysis::replicas::sum_memory_parts(&mut data);
    period::trim_stale_tails(&mut data, to);
    let boundaries = period::heap_boundaries(&data);
    let figures = period::analyze_period(from, to, &data, &boundaries, &PeriodInstants::default());
    let short_lifetime = resolution::median_lifetime(&data, &boundaries, from, to)
        .filter(|l| l / step < resolution::POINTS_PER_LIFETIME);
    Analysed {
        row: service_row(service, runtime, &figures, threshold),
        replicas: replicas.into_iter().collect(),
        parts: parts.into_iter().collect(),
        short_lifetime,
        series,
    }
}

/// Answers by role, each grouped by service, with the requests that fetched them.
type Fetched = HashMap<Role, HashMap<String, Vec<RangeSeries>>>;

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

/// One role's fetch: its request (none when the pack has no such query) and answer.
type FetchedRole = (Option<QueryRecord>, HashMap<String, Vec<RangeSeries>>);

/// Whether a service's start times changed or its counters fell anywhere in the window,
/// as its step-sampled series show.
fn seen_restarting(fetched: &Fetched, service: &str) -> bool {
    let series = |role: Role| {
        fetched
            .get(&role)
            .and_then(|by_service| by_service.get(service))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    series(Role::ProcessStart)
        .iter()
        .any(|s| !crate::analysis::restarts::boundaries_from_start_times(&s.points).is_empty())
        || series(Role::ResetCounter).iter().any(|s| {
            !crate::analysis::restarts::boundaries_from_counter_resets(&s.points).is_empty()
        })
}

/// Moves one service's series out of every role's answer; `None` without memory series.
fn take_service(fetched: &mut Fetched, service: &str) -> Option<HashMap<Role, Vec<RangeSeries>>> {
    let heap = fetched.get_mut(&Role::Heap)?.remove(service)?;
    let mut by_role = HashMap::from([(Role::Heap, heap)]);
    for (role, services) in fetched.iter_mut() {
        if *role != Role::Heap {
            by_role.insert(*role, services.remove(service).unwrap_or_default());
        }
    }
    Some(by_role)
}

/// Why a selector matched no runtime metrics: none in the window at all, or which of its
/// `label="value"` matchers has no such value, with the nearest one that exists.
async fn selector_hint(
    client: &Client,
    selector: &[Matcher],
    markers: &[String],
    from: f64,
    to: f64,
) -> String {
    let runtime_series = format!("{{__name__=~\"{}\"}}", markers.join("|"));
    match client
        .series("scan_hint", std::slice::from_ref(&runtime_series), from, to)
        .await
    {
        Ok(any) if any.data.is_empty() => {
            return "; no runtime metrics exist in the window at all".into();
        }
        Ok(_) => {}
        Err(_) => return String::new(),
    }
    for matcher in selector {
        if matcher.op != promql_parser::label::MatchOp::Equal || matcher.value.is_empty() {
            continue;
        }
        let Ok(values) = client
            .label_values(&matcher.name, &runtime_series, from, to)
            .await
        else {
            continue;
        };
        if values.contains(&matcher.value) {
            continue;
        }
        return match crate::commands::collect::closest(&matcher.value, &values) {
            Some(best) => format!(
                "; no runtime series has {}={:?}: did you mean {}={best:?}?",
                matcher.name, matcher.value, matcher.name
            ),
            None if values.is_empty() => {
                format!("; no runtime series has the label {}", matcher.name)
            }
            None => {
                let mut shown: Vec<&str> = values.iter().take(5).map(String::as_str).collect();
                if values.len() > 5 {
                    shown.push("…");
                }
                format!(
                    "; no runtime series has {}={:?} (it has {})",
                    matcher.name,
                    matcher.value,
                    shown.join(", ")
                )
            }
        };
    }
    "; runtime metrics exist in the window, but not under this selector".into()
}

/// `label=~"a|b|c"`, each name matched literally.
fn service_matcher(label: &str, names: &[&str]) -> Result<Matcher, ConfigError> {
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
        ConfigError::Selector {
            text: escaped.join("|"),
            detail,
        }
    })
}

/// The scrape interval of the pack's heap series under `matchers`, from the samples in
/// the window's last hour; `None` when unknown (then no finer step is tried).
async fn scrape_interval(
    client: &Client,
    p: &Pack,
    matchers: &[Matcher],
    to: f64,
    queries: &mut Vec<QueryRecord>,
) -> Option<Duration> {
    const ID: &str = "scan_scrape_interval_probe";
    let heap = p.by_role(Role::Heap).next()?;
    let selector = pack::first_selector(&heap.promql)?;
    let promql = pack::inject(&format!("max(count_over_time({selector}[1h]))"), matchers).ok()?;
    let answer = client.query(ID, &promql, to).await;
    queries.push(QueryRecord {
        id: ID.into(),
        role: "scrape_interval".into(),
        kind: "instant".into(),
        description:
            "Samples in the last hour, for the scrape interval (a finer step never goes below it)."
                .into(),
        promql,
        time: Some(to),
        ok: answer.is_ok(),
        error: answer.as_ref().err().map(ToString::to_string),
        series: answer.as_ref().map_or(0, |a| a.data.len()),
        requests: 1,
        ..Default::default()
    });
    interval_from_samples(3600.0, answer.ok()?.data.first()?.value)
}

/// Adds a fetch's records to the scan's, and the server's warnings on them to its own.
fn note_queries(
    queries: &mut Vec<QueryRecord>,
    warnings: &mut Vec<String>,
    records: Vec<QueryRecord>,
) {
    for record in records {
        warnings.extend(
            record
                .warnings
                .iter()
                .map(|w| crate::commands::collect::prometheus_warning(&record.id, w)),
        );
        queries.push(record);
    }
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

fn service_row(
    service: &str,
    runtime: &str,
    figures: &crate::evidence::Period,
    threshold: f64,
) -> ServiceRow {
    let instances_leaking = figures
        .instances
        .iter()
        .filter(|i| {
            i.growth_interval_bytes_per_hour
                .is_some_and(|[lo, _]| lo > threshold)
        })
        .count();
    let flag = match (
        figures.growth_interval_bytes_per_hour,
        figures.growth_bytes_per_hour,
    ) {
        (Some([lo, _]), _) if lo > threshold => "leaking",
        (_, Some(g)) if g > threshold => "growing",
        _ if instances_leaking > 0 => "partial",
        (_, None) => "unknown",
        _ => "ok",
    };
    ServiceRow {
        service: service.to_string(),
        runtime: runtime.to_string(),
        instances: figures.instance_count,
        growth_bytes_per_hour: figures.growth_bytes_per_hour,
        growth_interval_bytes_per_hour: figures.growth_interval_bytes_per_hour,
        growth_bytes_per_hour_total: figures.growth_bytes_per_hour_total,
        growth_percent: figures.growth_percent,
        restarts: figures.restarts,
        heap_end_bytes: figures.heap_end_bytes,
        instances_leaking,
        flag: flag.to_string(),
    }
}

/// `items.map(f)` in order, spread over the machine's cores in contiguous chunks.
fn parallel_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    let chunk_len = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(chunk_len).collect());
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a scan analysis thread panicked"))
            .collect()
    })
}

fn mbh(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |b| fixed(b / 1e6, 2))
}

/// A plain table for terminals, or Markdown.
pub fn render_table(scan: &Scan, markdown: bool) -> String {
    let mut out = String::new();
    let header = [
        "flag",
        "service",
        "runtime",
        "instances",
        "MB/h per instance",
        "95% interval",
        "MB/h total",
        "restarts",
    ];
    let rows: Vec<[String; 8]> = scan
        .services
        .iter()
        .map(|r| {
            [
                if r.flag == "partial" {
                    format!("partial ({} of {})", r.instances_leaking, r.instances)
                } else {
                    r.flag.clone()
                },
                if markdown {
                    crate::render::markdown::inline_safe(&r.service)
                } else {
                    r.service.clone()
                },
                r.runtime.clone(),
                r.instances.to_string(),
                mbh(r.growth_bytes_per_hour),
                r.growth_interval_bytes_per_hour
                    .map_or("n/a".into(), |[lo, hi]| {
                        format!("{} to {}", fixed(lo / 1e6, 2), fixed(hi / 1e6, 2))
                    }),
                mbh(r.growth_bytes_per_hour_total),
                r.restarts.to_string(),
            ]
        })
        .collect();
    if markdown {
        out.push_str(&format!(
            "| {} |\n|{}|\n",
            header.join(" | "),
            header.map(|_| "---").join("|")
        ));
        for row in &rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
    } else {
        let widths: Vec<usize> = (0..8)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
                + "\n"
        };
        out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
        for row in &rows {
            out.push_str(&line(row.to_vec()));
        }
    }
    for w in &scan.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_the_order_and_every_item() {
        for len in [0usize, 1, 2, 3, 17, 1000] {
            let items: Vec<usize> = (0..len).collect();
            let mapped = parallel_map(items, |i| i * 3 + 1);
            assert_eq!(mapped, (0..len).map(|i| i * 3 + 1).collect::<Vec<_>>());
        }
    }
}
