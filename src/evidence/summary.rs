//! The Executive Summary's judgements and the figures behind them: the suggested
//! severity, the requests that failed (Affected users), the TL;DR's facts, the heap's
//! root cause when heap evidence was attached, how long a reproduction takes, and the
//! draft's own facts (when it was started, when the cause was found, similar reports).
//! Computed by `analysis::impact`, `analysis::reproduction` and `analysis::summary`;
//! the partials only word them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The suggested severity levels, worst first (the team template's own four).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum SeverityLevel {
    Critical,
    High,
    Medium,
    Low,
}

/// A suggested severity from the documented rule (`analysis::impact::severity`), with
/// the figure that set it. A suggestion: people own the final word.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Severity {
    pub level: SeverityLevel,
    /// The figure that set the level, worded with its span.
    pub reason: String,
}

/// Requests a period served and the ones that failed: server errors, and the requests in
/// flight on an instance when it was OOM-killed (estimated).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Affected {
    /// Requests served by all instances in the period (the request counter's increase,
    /// restarts counted).
    pub requests: f64,
    /// Requests answered with a server error: the period's 5xx share × `requests`; null
    /// without an error-ratio metric.
    pub server_errors: Option<f64>,
    /// Requests in flight lost at OOM kills: each kill × the service's request rate per
    /// instance in the minutes before it × the p95 latency (Little's law; the p95 makes
    /// it an upper estimate); null without a latency metric or a known kill count.
    pub lost_at_oom_kills: Option<f64>,
    /// The kills that estimate counts.
    pub oom_kills: u64,
    /// The time in flight it assumed (the period's p95 latency).
    pub in_flight_seconds: Option<f64>,
    /// `server_errors` + `lost_at_oom_kills` (the known parts).
    pub failed: f64,
    #[serde(default)]
    /// Whether both parts are known: false when server errors or the requests in flight
    /// at OOM kills could not be estimated, so `failed` is a lower bound.
    pub complete: bool,
    /// `failed` as a percentage of `requests`.
    pub failed_percent: f64,
}

/// How long a reproduction takes to show the leak: until the memory floor has risen by
/// more than the GC sawtooth's height, so that a trough is above the earlier peaks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reproduction {
    /// The growth per instance it assumes (the period's median).
    pub growth_bytes_per_hour: f64,
    /// The GC sawtooth's height: the median across instances of the p95 of memory above
    /// its fitted floor within each lifetime.
    pub noise_bytes: f64,
    /// `noise_bytes / growth`, in hours.
    pub hours: f64,
    /// Requests one instance serves in that time at the period's traffic; null without
    /// a request counter.
    pub requests_at_production_rate: Option<f64>,
    /// Requests needed from the memory retained per request (`bytes_per_1k_requests`):
    /// `noise / (bytes per request)`; null without a request counter.
    pub requests_from_retention: Option<f64>,
    /// Requests per second one instance served in the period.
    pub requests_per_second_per_instance: Option<f64>,
}

/// The TL;DR's facts, chosen from the evidence (`analysis::summary::tldr`): which period
/// leaked, what it cost, the cause when heap evidence names one, the fix and after.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tldr {
    /// The growth per instance in the leaking period (before the fix, else the window).
    pub growth_bytes_per_hour: f64,
    /// That period's span.
    pub leak_from: DateTime<Utc>,
    pub leak_to: DateTime<Utc>,
    pub leak_hours: f64,
    /// What it cost, in the order the sentence gives them.
    pub consequences: Vec<Consequence>,
    /// Without a fix: the rollout after which growth stopped, which ends the period.
    #[serde(default)]
    pub stopped_at: Option<DateTime<Utc>>,
    pub cause: Option<HeapCause>,
    pub fix: Option<TldrFix>,
}

/// One consequence of the leak the TL;DR names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Consequence {
    OomKills {
        count: u64,
    },
    /// `at_least`: a lower bound (a part could not be estimated).
    FailedRequests {
        count: f64,
        percent: f64,
        #[serde(default)]
        at_least: bool,
    },
    /// The p95 latency of the leak period against the reference the degradation rule
    /// compared it with.
    SlowerResponses {
        p95_seconds: f64,
        reference_seconds: f64,
        reference: LatencyReference,
    },
}

/// What the leak period's latency was compared with.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LatencyReference {
    /// The period's first tenth (its last tenth is `p95_seconds`).
    PeriodStart,
    /// The period after the fix.
    AfterFix,
}

/// The fix as the TL;DR states it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TldrFix {
    pub at: DateTime<Utc>,
    /// Growth per instance after the fix and its warm-up; null when not measured yet.
    pub growth_bytes_per_hour: Option<f64>,
    /// The Resolution's status word.
    pub state: Option<super::StatusState>,
}

/// What the heap evidence attached to a draft names as the cause: its pattern hints,
/// the leaked object's first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeapCause {
    pub patterns: Vec<CausePattern>,
    /// What the hints were read from: "3 V8 heap snapshots".
    pub from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CausePattern {
    /// The pattern in words ("EventEmitter listeners never removed").
    pub pattern: String,
    /// The classes or functions it holds.
    pub objects: Vec<String>,
}

/// What a draft knows of itself: when it was started and when heap evidence was first
/// attached (its own times, not the incident's), and the other reports next to it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DraftFacts {
    /// `init --investigator`.
    #[serde(default)]
    pub investigator: Option<String>,
    /// When `init` created the draft; only while that is before the fix (or with no fix):
    /// a draft written after the fix did not start the investigation.
    pub investigation_started_at: Option<DateTime<Utc>>,
    /// When heap evidence naming the cause was first attached; only before the fix, as above.
    pub root_cause_identified_at: Option<DateTime<Utc>>,
    pub similar_incidents: Vec<SimilarIncident>,
    /// The Status of the last `validate --draft`, which the draft's Status block keeps.
    pub validated_state: Option<super::StatusState>,
    /// The first run of `validate`'s current streak of resolved verdicts: Report Completed.
    pub report_completed_at: Option<DateTime<Utc>>,
    /// When validate last ran, for Report Completed's "not yet".
    pub validated_at: Option<DateTime<Utc>>,
}

/// Another leakcollect report in the draft's folder for the same service or pattern.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SimilarIncident {
    /// Relative to the draft's folder.
    pub path: String,
    pub service: String,
    /// Its window's start, when recorded as a time (not relative: `now-2d`).
    pub from: Option<DateTime<Utc>>,
    /// What it shares with this draft.
    pub shares: Vec<Shared>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Shared {
    Service,
    Pattern,
}

/// Lessons Learned, suggested from the evidence (`analysis::lessons::lessons`): at most
/// two lines each, in order of weight. Suggestions: people own the section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Lessons {
    pub went_well: Vec<String>,
    pub could_improve: Vec<String>,
}
