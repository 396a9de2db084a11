//! Deployments in and before the window (kube-state-metrics, build-info versions,
//! restart waves), where `--fix-deployed auto` took the fix from, and the leak's onset.
//! Filled by `analysis::deployments` and `analysis::onset`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a deployment was recognised from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploySource {
    /// New pods with another image or ReplicaSet (`kube_pod_container_info`,
    /// `kube_pod_created`, `kube_pod_owner`).
    KubeStateMetrics,
    /// A new value of a version label of one of the service's info series (`build_info`,
    /// `*_build_info`, `app_info`, `target_info`, another `*_info`): `version_series`.
    BuildInfo,
    /// Most instances restarted within minutes, none of them OOM-killed.
    RestartWave,
}

impl DeploySource {
    /// How the report names the source.
    pub fn describe(self) -> &'static str {
        match self {
            DeploySource::KubeStateMetrics => {
                "kube-state-metrics (new pods: kube_pod_created, kube_pod_container_info)"
            }
            DeploySource::BuildInfo => "a version change in the build-info series",
            DeploySource::RestartWave => {
                "a wave of restarts across most instances (process_start_time_seconds), none OOM-killed"
            }
        }
    }
}

/// The shape of a rollout, from when new instances came and old ones went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutStrategy {
    /// New instances came while old ones still ran, and replaced them within minutes.
    Rolling,
    /// Every old instance was gone before the first new one came.
    Recreate,
    /// A subset ran the new version alongside the old one for a long time before the
    /// rest followed.
    Canary,
    /// Every instance was replaced within one minute (or one step of the series): a
    /// recreate, or a rollout in one step; the series cannot tell which.
    Simultaneous,
    /// The series cannot tell (build-info without instance overlap, restart waves spread
    /// over several minutes).
    Unknown,
}

impl RolloutStrategy {
    /// How the report names a strategy (as in the JSON).
    pub fn name(self) -> &'static str {
        match self {
            RolloutStrategy::Rolling => "rolling",
            RolloutStrategy::Recreate => "recreate",
            RolloutStrategy::Canary => "canary",
            RolloutStrategy::Simultaneous => "all-at-once",
            RolloutStrategy::Unknown => "unknown",
        }
    }
}

/// One deployment: a change of version (or ReplicaSet) across the service's instances.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Deployment {
    /// When the first new instance appeared: its pod's creation time (kube-state-metrics),
    /// the new version's first raw sample (build-info), or the first new process start.
    pub started: DateTime<Utc>,
    /// When the last old instance was last seen or the last new one appeared, whichever
    /// is later (the last new process start, for a restart wave); null when old
    /// instances still ran at the end of the data.
    pub finished: Option<DateTime<Utc>>,
    pub strategy: RolloutStrategy,
    pub source: DeploySource,
    /// Images (kube-state-metrics), versions (build-info) or ReplicaSets the old
    /// instances ran; empty for a restart wave.
    pub versions_before: Vec<String>,
    /// The same for the new instances.
    pub versions_after: Vec<String>,
    /// The info series the versions were read from (`build_info`, `app_info`, …), for a
    /// deployment found from one; null otherwise.
    #[serde(default)]
    pub version_series: Option<String>,
    /// The namespaces the new instances ran in (kube-state-metrics and the service's own
    /// `namespace` label): the environment.
    pub namespaces: Vec<String>,
    /// Instances running the old version when the rollout started.
    pub instances_before: usize,
    /// New instances the rollout brought.
    pub instances_after: usize,
    /// Whether it started inside the window (else in the lookback before it).
    pub in_window: bool,
    /// Whether it is the fix (`--fix-deployed auto` picked it, or `--fix-deployed TIME`
    /// falls within one step of its start).
    pub fix: bool,
    /// Median growth of the instances before and after it (the same restart-aware
    /// slopes as the periods', over the hours either side, at the lookback's step).
    pub growth_before_bytes_per_hour: Option<f64>,
    pub growth_after_bytes_per_hour: Option<f64>,
    /// The spans those are taken over, in hours: up to 24 h before the start (not past
    /// the previous deployment's end) and after the end (not past the next one's start).
    pub growth_before_hours: f64,
    pub growth_after_hours: f64,
}

impl Deployment {
    /// A deployment found at `started` from `source`, before the rest is known: not yet
    /// placed against the window, not the fix, its growth either side not yet measured.
    pub fn found(started: DateTime<Utc>, source: DeploySource) -> Self {
        Deployment {
            started,
            finished: None,
            strategy: RolloutStrategy::Unknown,
            source,
            versions_before: Vec::new(),
            versions_after: Vec::new(),
            version_series: None,
            namespaces: Vec::new(),
            instances_before: 0,
            instances_after: 0,
            in_window: false,
            fix: false,
            growth_before_bytes_per_hour: None,
            growth_after_bytes_per_hour: None,
            growth_before_hours: 0.0,
            growth_after_hours: 0.0,
        }
    }
}

/// How the fix time was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixOrigin {
    /// `--fix-deployed TIME`.
    Given,
    /// `--fix-deployed auto`: the deployment picked from the series.
    Detected,
}

/// Where the fix time came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FixSource {
    pub origin: FixOrigin,
    /// What the picked deployment was recognised from (null for a time given).
    pub source: Option<DeploySource>,
    /// Deployments that started in the window (the picked one included).
    pub candidates: usize,
    /// One sentence for the report: how the fix was found, or that it was given.
    pub reason: String,
}

/// What marks the leak's onset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnsetEvent {
    /// A deployment after which lifetimes began to grow.
    Deployment,
    /// A restart after which lifetimes began to grow (no deployment near it).
    Restart,
    /// Memory already grew in the earliest samples read (the lookback's start, or where
    /// the data begins): the onset is earlier than `at`.
    BeforeData,
}

/// When the growth began, looking back before the window (bounded by `--lookback`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Onset {
    /// The start of the first growing lifetime (or the earliest sample, when it already grew).
    pub at: DateTime<Utc>,
    pub event: OnsetEvent,
    /// The version the deployment brought, when known.
    pub version: Option<String>,
    /// Median growth of the lifetimes that began before the onset, and after it.
    pub growth_before_bytes_per_hour: Option<f64>,
    pub growth_after_bytes_per_hour: Option<f64>,
    /// Where the leak ends in the data: the fix, else the window's end.
    pub until: DateTime<Utc>,
    /// `at` → `until`, in hours.
    pub hours: f64,
    /// No fix: memory still grew at the window's end.
    pub still_growing: bool,
}

/// A rollout in the window after which the service's growth stopped, in a run without
/// `--fix-deployed`: the window mixes a leaking part and a flat one, so the onset and
/// the symptoms are taken over the part before it (`analysis::deployments::growth_stopped`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GrowthStopped {
    /// The deployment's start (as in `deployments[]`).
    pub at: DateTime<Utc>,
    pub source: DeploySource,
    /// The info series its versions were read from, when one was.
    pub version_series: Option<String>,
    pub versions_before: Vec<String>,
    pub versions_after: Vec<String>,
    /// The deployment's growth either side (as in `deployments[]`), and their spans in hours.
    pub before_bytes_per_hour: f64,
    pub after_bytes_per_hour: f64,
    pub before_hours: f64,
    pub after_hours: f64,
    /// The leaking part the onset and the symptoms are taken over: the window's start →
    /// `at`, in hours.
    pub leak_hours: f64,
    /// OOM kills per week in that part (the OOM crashes box's frequency); null when OOM
    /// kills cannot be told.
    #[serde(default)]
    pub oom_kills_per_week: Option<f64>,
}
