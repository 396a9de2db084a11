//! The evidence model: everything a report says, in one serializable structure that the
//! Markdown and JSON renderers both read. Bytes and seconds throughout; `None` means the
//! figure could not be computed, and `warnings` says why.

pub mod charts;
pub mod dashboard;
mod deployments;
mod detection;
pub mod routes;
pub mod scan;
mod summary;

pub use deployments::{
    DeploySource, Deployment, FixOrigin, FixSource, GrowthStopped, Onset, OnsetEvent,
    RolloutStrategy,
};
pub use detection::{AlertRule, AlertState, Detection, DetectionSource};
pub use summary::{
    Affected, CausePattern, Consequence, DraftFacts, HeapCause, LatencyReference, Lessons,
    Reproduction, Severity, SeverityLevel, Shared, SimilarIncident, Tldr, TldrFix,
};

use crate::prom::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_ID: &str = "leakcollect/evidence/v2";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    pub schema: String,
    pub tool_version: String,
    pub generated_at: DateTime<Utc>,
    pub service: String,
    pub service_label: String,
    /// The matchers injected into every query, as PromQL text.
    pub selector: String,
    pub runtime: String,
    pub runtime_title: String,
    /// What the memory figures measure for this runtime ("V8 heap used", "resident memory (RSS)").
    pub memory_name: String,
    /// What `active_handles_end` counts for this runtime.
    pub handles_name: String,
    /// Why this runtime: the metrics `--runtime auto` found, or that `--runtime` named it.
    pub runtime_detected_from: Vec<String>,
    pub prometheus_url: String,
    pub window: Window,
    pub fix_deployed: Option<DateTime<Utc>>,
    /// Where the fix time came from: `--fix-deployed TIME`, or the deployment
    /// `--fix-deployed auto` picked; null without a fix.
    #[serde(default)]
    pub fix_deployed_source: Option<FixSource>,
    /// Every deployment found from `lookback` before the window to its end, oldest first.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// The first alert that fired for the service, or why none is known.
    #[serde(default)]
    pub detection: Option<Detection>,
    /// When the growth began, looking back before the window.
    #[serde(default)]
    pub onset: Option<Onset>,
    /// Without a fix: the rollout in the window after which growth stopped (the onset
    /// and the symptoms are then taken over the part before it); null otherwise.
    #[serde(default)]
    pub growth_stopped: Option<GrowthStopped>,
    /// The Resolution's Status with a fix: `validate`'s verdict under its thresholds
    /// (`analysis::status::status`); null without a fix.
    #[serde(default)]
    pub status: Option<Status>,
    /// The alert thresholds `leakcollect rules` writes and Preventive Measures suggests
    /// (`analysis::thresholds::suggested`).
    #[serde(default)]
    pub alert_thresholds: AlertThresholds,
    /// A suggested severity from the documented rule (`analysis::impact::severity`);
    /// null when nothing leaked.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// The TL;DR's facts (`analysis::summary::tldr`); null when nothing leaked.
    #[serde(default)]
    pub tldr: Option<Tldr>,
    /// Lessons Learned suggested from the evidence (`analysis::lessons::lessons`).
    #[serde(default)]
    pub lessons: Lessons,
    /// The cause heap evidence attached to a draft names (`attach --heap`); null otherwise.
    #[serde(default)]
    pub root_cause: Option<HeapCause>,
    /// A draft's own facts (`attach`); null for a report.
    #[serde(default)]
    pub draft: Option<DraftFacts>,
    pub periods: Periods,
    pub improvement: Option<Improvement>,
    pub symptoms: Symptoms,
    pub queries: Vec<QueryRecord>,
    pub warnings: Vec<String>,
    /// Charts written next to the report, by name (`memory`, `gc`), as relative paths.
    #[serde(default)]
    pub charts: BTreeMap<String, String>,
    /// The Grafana dashboard `leakcollect dashboard` (or `attach --dashboard`) writes,
    /// when its uid is given (`--grafana-dashboard-uid`, `[grafana] dashboard_uid`) or
    /// attach wrote it (`analysis::dashboard::link`).
    #[serde(default)]
    pub grafana_dashboard: Option<GrafanaDashboard>,
}

/// A dashboard `leakcollect dashboard` wrote under a known uid.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GrafanaDashboard {
    pub uid: String,
    /// `GRAFANA/d/UID?from=…&to=…` over the window, with `--grafana-url`: valid once the
    /// dashboard is imported under that uid.
    pub url: Option<String>,
    /// Where `attach --dashboard` wrote the dashboard JSON; null when only its uid is
    /// known (`--grafana-dashboard-uid`).
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Window {
    pub from: DateTime<Utc>,
    /// Where the figures end: the end asked for, or the last memory sample when the data
    /// ends well before it (then `requested_to` is the end asked for).
    pub to: DateTime<Utc>,
    pub hours: f64,
    pub step_seconds: f64,
    #[serde(default)]
    pub requested_to: Option<DateTime<Utc>>,
    /// The start asked for, when the data starts well after it (then `from` is the
    /// first memory sample).
    #[serde(default)]
    pub requested_from: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Periods {
    /// The whole window, always present.
    pub window: Period,
    /// `from` → fix; null without `--fix-deployed`.
    pub before: Option<Period>,
    /// fix → `to`; null without `--fix-deployed`.
    pub after: Option<Period>,
    /// Without `--fix-deployed`, `from` → the rollout after which growth stopped
    /// (`growth_stopped`): the part that leaked, which the summary lines read.
    #[serde(default)]
    pub leaked: Option<Period>,
}

/// Which part of the window leaked: what the summary lines and the symptoms read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LeakSpan {
    /// Before `--fix-deployed`.
    BeforeFix,
    /// Without a fix, before the rollout after which growth stopped (its start).
    BeforeRollout(DateTime<Utc>),
    /// The whole window.
    Window,
}

impl Evidence {
    /// The period that leaked and which it is: before the fix; without one, before the
    /// rollout after which growth stopped; else the whole window.
    pub fn leak_period(&self) -> (&Period, LeakSpan) {
        let p = &self.periods;
        match (&p.before, &p.leaked, &self.growth_stopped) {
            (Some(before), _, _) if self.fix_deployed.is_some() => (before, LeakSpan::BeforeFix),
            (_, Some(leaked), Some(stopped)) => (leaked, LeakSpan::BeforeRollout(stopped.at)),
            _ => (&p.window, LeakSpan::Window),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub hours: f64,
    pub instance_count: usize,
    /// Longest span of heap samples any instance has in the period.
    pub observed_hours: f64,
    /// Median across instances of the share of evaluation steps with a sample (gaps lower it).
    pub sample_coverage: Option<f64>,
    /// Median across instances of the first heap sample in the period.
    pub heap_baseline_bytes: Option<f64>,
    /// Median across instances of the heap 6 h into the period (null if shorter).
    pub heap_after_6h_bytes: Option<f64>,
    /// Median across instances of the last heap sample in the period.
    pub heap_end_bytes: Option<f64>,
    /// Highest heap sample of any instance in the period.
    pub heap_peak_bytes: Option<f64>,
    pub rss_end_bytes: Option<f64>,
    pub rss_peak_bytes: Option<f64>,
    /// Median across instances of the restart-aware growth rate, each instance weighted
    /// by the hours it was observed in the period.
    pub growth_bytes_per_hour: Option<f64>,
    /// Sum across instances of the growth rate, each scaled by the share of the period it
    /// was observed: the service's growth as a whole.
    pub growth_bytes_per_hour_total: Option<f64>,
    /// 95 % interval of `growth_bytes_per_hour` (weighted medians of the instances'
    /// Sen intervals).
    pub growth_interval_bytes_per_hour: Option<[f64; 2]>,
    /// What the median instance gains over one process lifetime, as a percentage of the
    /// median baseline: median growth × `growth_percent_over_hours` / baseline.
    pub growth_percent: Option<f64>,
    /// The span `growth_percent` is taken over, in hours: the period when nothing
    /// restarted, else the median whole process lifetime (at most the period).
    #[serde(default)]
    pub growth_percent_over_hours: Option<f64>,
    pub leak_pattern: LeakPattern,
    /// Memory retained per 1,000 requests, from the cumulative request counter.
    pub bytes_per_1k_requests: Option<f64>,
    /// From a histogram; null for runtimes that publish summaries (see mean/max/quantiles).
    pub gc_pause_p95_seconds: Option<f64>,
    pub gc_pause_p95_by_kind: BTreeMap<String, f64>,
    pub gc_pause_mean_seconds: Option<f64>,
    pub gc_pause_max_seconds: Option<f64>,
    /// A summary's own quantiles (highest value in the period), by quantile.
    pub gc_pause_quantiles: BTreeMap<String, f64>,
    pub gc_collections_per_hour: Option<f64>,
    /// By kind, generation or collector.
    pub gc_collections_per_hour_by: BTreeMap<String, f64>,
    /// Median container memory limit of the service's containers.
    pub memory_limit_bytes: Option<f64>,
    /// Highest memory (RSS, or the memory figure) as % of the limit.
    pub memory_peak_percent_of_limit: Option<f64>,
    /// Memory at the period's end as % of the limit.
    pub memory_end_percent_of_limit: Option<f64>,
    /// Hours until the limit at the measured growth, from the period's end; null when not growing.
    pub hours_to_limit: Option<f64>,
    pub restarts: u64,
    pub restarts_by_source: RestartSources,
    /// Null when no source can tell an OOM kill from another restart.
    pub oom_kills: Option<u64>,
    pub oom_kills_source: OomSource,
    pub oom_kills_per_week: Option<f64>,
    /// Sum across instances of the last active-handles sample.
    pub active_handles_end: Option<f64>,
    /// 95th percentile request latency over the period, all instances and routes.
    #[serde(default)]
    pub latency_p95_seconds: Option<f64>,
    /// Requests answered with a server error (5xx) / all requests, over the period.
    #[serde(default)]
    pub error_ratio: Option<f64>,
    /// Median request latency p95 in the period's first and in its last tenth, seconds
    /// (from the latency trend series).
    #[serde(default)]
    pub latency_trend_seconds: Option<[f64; 2]>,
    /// Highest share of a connection pool's maximum in use at any step of the period.
    #[serde(default)]
    pub connections_used_ratio: Option<f64>,
    /// Connections in use at the period's end, summed over pools and instances.
    #[serde(default)]
    pub connections_in_use_end: Option<f64>,
    /// Fewer than half of the instances with a growth interval have the period's median
    /// growth inside it: the median describes none of them
    /// (`analysis::service_growth::instances_disagree`).
    #[serde(default)]
    pub instances_disagree: bool,
    /// OOM kills counted while memory peaked far below the container limit
    /// (`analysis::oom::kills_far_below_limit`).
    #[serde(default)]
    pub oom_kills_far_below_limit: bool,
    /// One process lifetime at the measured growth, when restarts cut the period's
    /// clock-time levels short (`analysis::levels::lifetime`).
    #[serde(default)]
    pub lifetime: Option<Lifetime>,
    /// Memory after 1,000 and 10,000 requests from the baseline at the measured retention
    /// per request (`analysis::requests::load_test`).
    #[serde(default)]
    pub load_test: Option<LoadTest>,
    /// Requests served and failed (Affected users); null without a request counter.
    #[serde(default)]
    pub affected: Option<Affected>,
    /// How long a reproduction takes to show the growth; null without growth.
    #[serde(default)]
    pub reproduction: Option<Reproduction>,
    /// Which requests retain memory: each fitted route, most growth first
    /// (`analysis::routes::leak_by_route`); empty when `leak_by_route_missing` says why.
    #[serde(default)]
    pub leak_by_route: Vec<routes::RouteLeak>,
    /// Why the period has no per-route figures.
    #[serde(default)]
    pub leak_by_route_missing: Option<routes::RoutesMissing>,
    /// The share of the fitted growth no route explains (0–1).
    #[serde(default)]
    pub leak_by_route_unexplained_share: Option<f64>,
    /// The routes whose traffic shapes are too alike to tell apart (`traffic_shapes_alike`).
    #[serde(default)]
    pub leak_by_route_alike: Vec<String>,
    /// The route the report names: the one with the largest share among those that
    /// retain memory (never `other`, which is many routes).
    #[serde(default)]
    pub leak_by_route_top: Option<routes::RouteLeak>,
    /// Memory floor steps fitted (all instances), and the hours they cover per instance.
    #[serde(default)]
    pub leak_by_route_steps: usize,
    #[serde(default)]
    pub leak_by_route_hours: Option<f64>,
    /// Every instance, highest growth first.
    pub instances: Vec<InstanceFigures>,
}

/// What the median process lifetime of a period shows: the memory at its end from the
/// median baseline at the median growth.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lifetime {
    /// The span `growth_percent` is taken over (the median whole lifetime).
    pub hours: f64,
    pub gain_bytes: f64,
    pub end_bytes: f64,
    /// Null when a lifetime is shorter than 6 h.
    pub after_6h_bytes: Option<f64>,
}

/// Memory from the period's baseline after a number of requests, at the measured
/// retention per 1,000 requests.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadTest {
    pub baseline_bytes: f64,
    pub per_1k_requests_bytes: f64,
    pub after_1k_requests_bytes: f64,
    pub after_10k_requests_bytes: f64,
}

/// The Resolution's Status word.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StatusState {
    /// `validate` would say resolved.
    Resolved,
    /// Inconclusive: not enough data after the fix yet, or the interval straddles the
    /// threshold.
    Monitoring,
    /// Still leaking after the fix.
    InProgress,
}

/// Who decided the Status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StatusSource {
    /// The report applied `validate`'s rule with its default thresholds.
    Report,
    /// `validate` decided it, with the thresholds it was given.
    Validate,
}

/// The Status of the Resolution, from `validate`'s verdict rule (one rule, one word).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub state: StatusState,
    pub verdict: Verdict,
    pub reason: String,
    pub source: StatusSource,
    pub thresholds: Thresholds,
    /// Hours of data after the fix and warm-up the verdict rests on.
    pub hours_after_fix: f64,
    pub enough_data_at: Option<DateTime<Utc>>,
    /// When `validate` decided it (source `validate`).
    #[serde(default)]
    pub checked_at: Option<DateTime<Utc>>,
}

/// Alert thresholds for `leakcollect rules` and the report's Preventive Measures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlertThresholds {
    pub growth_bytes_per_hour: f64,
    /// How long growth must last before the alert fires, in Prometheus syntax.
    pub growth_for: String,
    pub limit_percent: f64,
    pub memory_floor_bytes: f64,
    pub gc_p95_seconds: f64,
    /// Where the numbers come from, in words.
    pub basis: String,
    /// The service name as the alert names' prefix (`checkout-api` → `CheckoutApi`).
    #[serde(default)]
    pub alert_prefix: String,
    /// Where `limit_percent` comes from, in words (`analysis::thresholds::limit_percent`).
    #[serde(default)]
    pub limit_basis: String,
    /// Alert when a connection pool's connections in use exceed this % of its maximum;
    /// null without pool figures (then no pool rule is written).
    #[serde(default)]
    pub pool_used_percent: Option<f64>,
    /// Where `pool_used_percent` comes from, in words.
    #[serde(default)]
    pub pool_basis: Option<String>,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            growth_bytes_per_hour: 10e6,
            growth_for: "2h".into(),
            limit_percent: 90.0,
            memory_floor_bytes: 256e6,
            gc_p95_seconds: 0.5,
            basis: "defaults (no measured leak)".into(),
            alert_prefix: String::new(),
            limit_basis: "the default (no container limit measured)".into(),
            pool_used_percent: None,
            pool_basis: None,
        }
    }
}

/// The shape of a period's growth (`analysis::pattern::leak_pattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LeakPattern {
    #[default]
    None,
    Gradual,
    Staircase,
    SawtoothToOom,
}

/// Where an OOM-kill count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum OomSource {
    #[serde(rename = "kube-state-metrics")]
    KubeStateMetrics,
    #[serde(rename = "cadvisor")]
    Cadvisor,
    #[serde(rename = "memory at limit")]
    MemoryAtLimit,
    #[default]
    #[serde(rename = "unknown")]
    Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RestartSources {
    pub process_start: Option<u64>,
    pub kube_state_metrics: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceFigures {
    pub instance: String,
    pub labels: Labels,
    pub growth_bytes_per_hour: Option<f64>,
    pub growth_interval_bytes_per_hour: Option<[f64; 2]>,
    pub lifetimes_fitted: usize,
    pub heap_start_bytes: Option<f64>,
    pub heap_end_bytes: Option<f64>,
    pub heap_peak_bytes: Option<f64>,
    pub restarts: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Improvement {
    /// (before − after) / before growth, in %.
    pub growth_reduction_percent: Option<f64>,
    /// Before peak − after peak.
    pub heap_peak_reduction_bytes: Option<f64>,
    pub heap_peak_reduction_percent: Option<f64>,
    pub gc_p95_reduction_percent: Option<f64>,
    /// Reduction of the mean GC pause, in % (for runtimes without a p95).
    pub gc_mean_reduction_percent: Option<f64>,
    /// Reduction of OOM kills per week, in %.
    pub oom_kills_reduction_percent: Option<f64>,
}

/// What `validate` concluded (exit code 0, 1 or 3).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Resolved,
    Leaking,
    Inconclusive,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Thresholds {
    pub max_growth_bytes_per_hour: f64,
    pub min_hours: f64,
    pub warmup_seconds: f64,
}

/// `validate`'s answer, with the evidence it was drawn from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Validation {
    pub schema: String,
    pub verdict: Verdict,
    pub reason: String,
    pub checked_at: DateTime<Utc>,
    pub thresholds: Thresholds,
    /// Hours of data after the fix and warm-up.
    pub hours_after_fix: f64,
    /// When enough data will exist, if that is what is missing.
    pub enough_data_at: Option<DateTime<Utc>>,
    /// When to look again: a week after a resolved verdict, when enough data will exist
    /// (or in an hour) after an inconclusive one; null while leaking (after the next fix).
    #[serde(default)]
    pub next_review: Option<DateTime<Utc>>,
    pub evidence: Evidence,
}

/// One Initial Symptoms box (`analysis::symptoms`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Symptom {
    /// True: the evidence shows it; false: the evidence shows it absent; null: no data.
    pub present: Option<bool>,
    /// Why, with the figures and the period they were taken over.
    pub because: String,
}

/// The Initial Symptoms boxes, each decided from the leak period (before the fix, or
/// the whole window) by the rule `docs/figures.md` gives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Symptoms {
    pub linear_growth: Symptom,
    pub oom_crashes: Symptom,
    pub gc_pressure: Symptom,
    pub connection_pool_exhaustion: Symptom,
    pub service_degradation: Symptom,
    /// The template's "Other" box: restarts that were not OOM kills.
    #[serde(default)]
    pub other: Symptom,
}

/// What kind of request a query record is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// A range query over the window.
    #[default]
    Range,
    /// An instant query at a period's end.
    Instant,
    /// A series-API call (runtime detection).
    Series,
    /// A rules-API call (`/api/v1/rules`: the rule behind an alert).
    Rules,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct QueryRecord {
    pub id: String,
    pub role: String,
    pub kind: RequestKind,
    /// For instant queries: the period they were evaluated for.
    pub period: Option<String>,
    pub description: String,
    /// The PromQL exactly as sent.
    pub promql: String,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub step_seconds: Option<f64>,
    pub time: Option<f64>,
    pub ok: bool,
    pub error: Option<String>,
    pub series: usize,
    pub warnings: Vec<String>,
    /// The query on Prometheus's graph page over the range it covers.
    pub graph_url: Option<String>,
    /// The query in Grafana Explore, with `--grafana-url`.
    pub explore_url: Option<String>,
    /// HTTP requests the query took: more than one when its range was sliced, or split
    /// after the server refused it as too large; 0 when served from the run's request
    /// cache (`shared_with`).
    #[serde(default)]
    pub requests: usize,
    /// The id of the earlier record whose request this one is: the same request (query,
    /// range and step, or time) is sent once per run and its answer shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<String>,
}
