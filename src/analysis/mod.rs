//! Turning acquired series into figures: one named function per figure, each returning
//! its value and, when missing, why — so every command says the same thing. No I/O.
//!
//! | figure | function |
//! | --- | --- |
//! | baseline, after 6 h, end, peak, RSS, handles | [`levels::level_figures`] |
//! | growth per instance | [`growth::instance_growth`] |
//! | service growth, interval, total, growth % | [`service_growth::growth_summary`] |
//! | restarts | [`restarts::restart_figures`] |
//! | OOM kills and their source | [`oom::oom_kills`] |
//! | GC p95, mean, max, quantiles, collections | [`gc::gc_summary`] |
//! | GC logs: collections by kind, the live-heap floor, its trend and verdict | [`gclog::gc_log_report`], [`gclog::verdict`] |
//! | leak pattern | [`pattern::leak_pattern`] |
//! | % of the limit, hours to the limit | [`limit::percent_of_limit`], [`limit::hours_to_limit`] |
//! | retained per 1,000 requests | [`requests::bytes_per_1k_requests`] |
//! | which requests retain memory (per route) | [`routes::leak_by_route`] |
//! | improvement | [`period::improvement`] |
//! | symptoms | [`symptoms::symptoms_over`] (latency, errors: [`traffic::traffic`]; pools: [`pools::pool_figures`]) |
//! | alert thresholds | [`thresholds::suggested_over`] |
//! | detection (first alert, or when the growth rule would have fired) | [`detection::detection`] |
//! | validate's verdict | [`verdict::judge`] |
//! | deployments, the fix `--fix-deployed auto` picks | [`deployments::deployments`], [`deployments::pick_fix`] |
//! | the leak's onset | [`onset::onset`] |
//! | what the charts draw | [`charts::chart_data`] |
//! | what the Grafana dashboard shows | [`dashboard::plan`] |

pub mod charts;
pub mod dashboard;
pub mod deployments;
pub mod detection;
pub mod gc;
pub mod gclog;
pub mod growth;
pub mod impact;
pub mod lessons;
pub mod levels;
pub mod limit;
pub mod onset;
pub mod oom;
pub mod pattern;
pub mod period;
pub mod pools;
pub mod reproduction;
pub mod requests;
pub mod restarts;
pub mod routes;
pub mod scan;
pub mod service_growth;
pub mod status;
pub mod summary;
pub mod symptoms;
pub mod thresholds;
pub mod traffic;
pub mod verdict;

use crate::acquire::lifetimes::Boundaries;
use crate::acquire::{Acquired, PeriodName, RangeData};
use crate::config::QueryConfig;
use crate::evidence::{Evidence, Periods, SCHEMA_ID, Window};
use crate::pack::{Pack, Role};
use crate::prom::RangeSeries;
use crate::timespec::unix_seconds;
use growth::GrowthEstimate;
use levels::Levels;

const HOUR: f64 = 3600.0;

/// One instance's memory series within a period, with what every figure reads of it.
#[derive(Debug)]
pub struct InstanceView<'a> {
    pub heap: &'a RangeSeries,
    /// The samples within the period.
    pub points: Vec<(f64, f64)>,
    /// Where its lifetimes begin (whole window).
    pub cut: &'a [f64],
    /// Restarts in the period.
    pub restarts: u64,
    /// The boundaries come from the process itself (start time or counter reset).
    pub from_process: bool,
    pub growth: Option<GrowthEstimate>,
    pub levels: Levels,
}

impl InstanceView<'_> {
    /// Seconds between its first and last sample in the period.
    pub fn span(&self) -> f64 {
        self.points[self.points.len() - 1].0 - self.points[0].0
    }
}

/// One period of the acquired data, with the instances that belong to it.
#[derive(Debug)]
pub struct PeriodView<'a> {
    pub name: PeriodName,
    pub start: f64,
    pub end: f64,
    /// How far from an edge a sample may be and still stand for the level there.
    pub tolerance: f64,
    pub data: &'a RangeData,
    pub boundaries: &'a [Option<Boundaries>],
    pub pack: &'a Pack,
    pub instances: Vec<InstanceView<'a>>,
}

impl<'a> PeriodView<'a> {
    pub fn new(
        name: PeriodName,
        (start, end): (f64, f64),
        data: &'a RangeData,
        boundaries: &'a [Option<Boundaries>],
        pack: &'a Pack,
    ) -> Self {
        // Levels are read within the coarsest step of the window; the heap may be finer.
        let tolerance = levels::tolerance(data.step, start, end);
        let heap_step = data.step_of(Role::Heap);
        let mut instances = Vec::new();
        for (heap, bounds) in data.series(Role::Heap).iter().zip(boundaries) {
            let points = levels::clip(&heap.points, start, end);
            if !levels::belongs_to_period(&points, heap_step) {
                continue;
            }
            let cut = bounds.as_ref().map_or(&[][..], |b| &b.times);
            instances.push(InstanceView {
                heap,
                growth: growth::instance_growth(&points, cut),
                levels: levels::levels(&points, start, end, tolerance),
                restarts: bounds.as_ref().map_or(0, |b| b.restarts_in(start, end)),
                from_process: bounds.as_ref().is_some_and(|b| b.from_process),
                cut,
                points,
            });
        }
        PeriodView {
            name,
            start,
            end,
            tolerance,
            data,
            boundaries,
            pack,
            instances,
        }
    }

    pub fn hours(&self) -> f64 {
        (self.end - self.start) / HOUR
    }

    /// First and last sample time of any instance.
    pub fn seen(&self) -> Option<(f64, f64)> {
        let first = self
            .instances
            .iter()
            .map(|i| i.points[0].0)
            .reduce(f64::min)?;
        let last = self
            .instances
            .iter()
            .map(|i| i.points[i.points.len() - 1].0)
            .reduce(f64::max)?;
        Some((first, last))
    }

    /// Longest span of samples any instance has in the period, in hours.
    pub fn observed_hours(&self) -> f64 {
        self.instances
            .iter()
            .map(|i| i.span() / HOUR)
            .fold(0.0, f64::max)
    }

    /// Median across instances of the share of evaluation steps with a sample.
    pub fn sample_coverage(&self) -> Option<f64> {
        let step = self.data.step_of(Role::Heap);
        let coverages: Vec<f64> = self
            .instances
            .iter()
            .filter(|i| i.span() > 0.0 && step > 0.0)
            .map(|i| (i.points.len() as f64 / (i.span() / step + 1.0)).min(1.0))
            .collect();
        crate::stats::median(&coverages)
    }
}

/// The evidence with the acquisition it was computed from, and what the charts draw.
#[derive(Debug)]
pub struct Collected {
    pub evidence: Evidence,
    pub acquired: Acquired,
    pub charts: crate::evidence::charts::ChartData,
}

/// Warnings for optional evidence that is absent, so the report says why restarts or
/// OOM kills cannot be seen.
fn explain_missing(config: &QueryConfig, acquired: &Acquired) -> Vec<String> {
    let (pack, data) = (&acquired.pack, &acquired.data);
    let missing = |role: Role| pack.by_role(role).next().is_some() && !data.has_data(role);
    let mut out = Vec::new();
    if missing(Role::ProcessStart) && !data.has_data(Role::ResetCounter) {
        out.push("no process start times or counter resets found: restarts cannot be seen, so growth is fitted across the whole window per instance".to_string());
    }
    if missing(Role::MemoryLimit) {
        out.push(format!(
            "no container memory limit found for container={:?} (kube-state-metrics or cAdvisor): memory as % of the limit and hours to the limit are missing (is --container right?)",
            config.container
        ));
    }
    if !data.has_data(Role::K8sRestarts) && !data.has_data(Role::OomEvents) {
        out.push(format!(
            "no kube-state-metrics restart series or cAdvisor OOM events for container={:?}: OOM kills are {}",
            config.container,
            if data.has_data(Role::MemoryLimit) {
                "counted from restarts right after memory reached 95% of the limit"
            } else {
                "unknown"
            }
        ));
    }
    out
}

/// The part of the window that leaked before a rollout after which growth stopped
/// (`[from, stop]`), from the "before" instant answers acquisition asked for it. Its
/// missing figures are the window's, already said.
fn leaked_part(acquired: &Acquired, from: f64, stop: f64) -> crate::evidence::Period {
    let view = PeriodView::new(
        PeriodName::Before,
        (from, stop),
        &acquired.data,
        &acquired.boundaries,
        &acquired.pack,
    );
    let answers = acquired
        .instants
        .get(&PeriodName::Before)
        .map_or(&[][..], Vec::as_slice);
    period::analyse_period(&view, answers).0
}

/// The evidence for one service's window: every period's figures, the improvement and
/// the symptoms, with the acquisition's requests and warnings.
pub fn analyse(config: &QueryConfig, acquired: &Acquired) -> Evidence {
    let window = &acquired.window;
    let (from, to) = (unix_seconds(window.from), unix_seconds(window.to));
    let mut warnings = acquired.warnings.clone();
    warnings.extend(explain_missing(config, acquired));
    let (deployments, fix_deployed_source, deploy_warnings) =
        deployments::deployments(config, acquired);
    // Without a fix, a rollout after which growth stopped ends the part that leaked:
    // the onset and the symptoms are taken over that part, said up front.
    let growth_stopped = deployments::growth_stopped(window, &deployments);
    if let Some(stopped) = &growth_stopped {
        warnings.insert(0, deployments::growth_stopped_warning(stopped));
    }
    let mut analyse = |name: PeriodName, start: f64, end: f64| {
        let view = PeriodView::new(
            name,
            (start, end),
            &acquired.data,
            &acquired.boundaries,
            &acquired.pack,
        );
        let answers = acquired.instants.get(&name).map_or(&[][..], Vec::as_slice);
        let (period, missing) = period::analyse_period(&view, answers);
        warnings.extend(missing);
        // With a fix, the window mixes pods before and after it: their disagreeing is
        // the fix, which the before/after periods already show.
        if name != PeriodName::Window || window.fix_deployed.is_none() {
            warnings.extend(service_growth::disagreement_warning(name.as_str(), &period));
        }
        period
    };
    let mut whole = analyse(PeriodName::Window, from, to);
    let before = window
        .fix_deployed
        .map(|fix| analyse(PeriodName::Before, from, unix_seconds(fix)));
    let after = window
        .after_start()
        .map(|start| analyse(PeriodName::After, unix_seconds(start), to));
    let improvement = match (&before, &after) {
        (Some(b), Some(a)) => Some(period::improvement(b, a)),
        _ => None,
    };
    let pack = &acquired.pack;
    warnings.extend(deploy_warnings);
    let mut growth_stopped = growth_stopped;
    let leaked = growth_stopped.as_mut().map(|s| {
        // The window's growth no longer runs: no time to the limit is projected from it.
        whole.hours_to_limit = None;
        let part = leaked_part(acquired, from, unix_seconds(s.at));
        s.oom_kills_per_week = part.oom_kills_per_week;
        part
    });
    let leak = before.as_ref().or(leaked.as_ref()).unwrap_or(&whole);
    let leak_span = match (&before, &growth_stopped) {
        (Some(_), _) => symptoms::LeakSpan::BeforeFix,
        (None, Some(s)) => symptoms::LeakSpan::BeforeRollout(s.at),
        (None, None) => symptoms::LeakSpan::Window,
    };
    let (onset, onset_warnings) = onset::onset(
        &acquired.deploys,
        &deployments,
        leak.growth_bytes_per_hour,
        (
            from,
            window
                .fix_deployed
                .or(growth_stopped.as_ref().map(|s| s.at))
                .map(unix_seconds),
            to,
        ),
        symptoms::linear_growth(&whole, "").present == Some(true) && growth_stopped.is_none(),
    );
    warnings.extend(onset_warnings);
    let mut evidence = Evidence {
        schema: SCHEMA_ID.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: chrono::Utc::now(),
        service: config.service.clone(),
        service_label: config.service_label.clone(),
        selector: crate::acquire::plan::selector_text(&crate::acquire::plan::base_matchers(config)),
        runtime: pack.runtime.clone(),
        runtime_title: pack.title.clone(),
        memory_name: pack.memory_name.clone(),
        handles_name: pack.handles_name.clone(),
        runtime_detected_from: acquired.runtime_detected_from.clone(),
        prometheus_url: acquired.prometheus_url.clone(),
        window: Window {
            from: window.from,
            to: window.to,
            hours: (to - from) / HOUR,
            step_seconds: acquired.step,
            requested_to: acquired.requested_to,
            requested_from: acquired.requested_from,
        },
        fix_deployed: window.fix_deployed,
        fix_deployed_source,
        deployments,
        detection: None,
        onset,
        status: None,
        alert_thresholds: Default::default(),
        severity: None,
        tldr: None,
        lessons: Default::default(),
        root_cause: None,
        draft: None,
        symptoms: symptoms::symptoms_over(leak, after.as_ref(), leak_span),
        growth_stopped,
        periods: Periods {
            window: whole,
            before,
            after,
            leaked: leaked.clone(),
        },
        improvement,
        queries: acquired.records.clone(),
        warnings,
        charts: Default::default(),
        grafana_dashboard: config
            .links
            .grafana_dashboard_uid
            .as_deref()
            .map(|uid| dashboard::link(config, uid, (window.from, window.to), None)),
    };
    evidence.alert_thresholds = thresholds::suggested_over(&evidence, leaked.as_ref());
    evidence.detection = Some(detection::for_evidence(acquired, &evidence));
    let warmup = config.window.warmup.as_secs_f64();
    evidence.status = status::status(
        &evidence,
        &status::default_thresholds(warmup),
        crate::evidence::StatusSource::Report,
    );
    evidence.severity = impact::severity(&evidence);
    evidence.tldr = summary::tldr(&evidence);
    evidence.lessons = lessons::lessons(&evidence);
    evidence
}
