//! The dashboard's model: every decision behind the Grafana dashboard `leakcollect
//! dashboard` writes — its panels, each panel's PromQL (the report's own queries), the
//! fitted growth, the container limit and the fix — made by one function,
//! `analysis::dashboard::plan`; `render::dashboard` only lays it out as Grafana JSON.
//! Times are Unix seconds or UTC times, memory bytes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A dashboard for one service and one window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DashboardPlan {
    pub title: String,
    /// Grafana's dashboard uid: `--grafana-dashboard-uid`, else derived from the service.
    pub uid: String,
    pub service: String,
    /// The dashboard's time range: the report's window.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub panels: Vec<PanelPlan>,
    /// The fix, as an annotation.
    pub fix: Option<FixMark>,
    pub description: String,
}

/// What a panel shows (one of each at most).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PanelKind {
    Memory,
    GrowthRate,
    GcPause,
    RestartsAndOomKills,
}

/// The unit a panel's values are in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PanelUnit {
    Bytes,
    BytesPerHour,
    Seconds,
    Count,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PanelPlan {
    pub kind: PanelKind,
    pub title: String,
    /// What the panel shows and over which span, in words.
    pub description: String,
    pub unit: PanelUnit,
    pub targets: Vec<TargetPlan>,
    /// A horizontal line: the container memory limit on the memory panel, the growth
    /// alert's threshold on the growth panel.
    pub threshold: Option<f64>,
}

/// One PromQL target. `$__rate_interval` stands where the report's query has the
/// period's range; Grafana fills it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetPlan {
    pub ref_id: String,
    pub expr: String,
    pub legend: String,
    /// The evidence's `queries[].id` this is, or the pack query (or `leakcollect rules`
    /// expression) it is built from.
    pub source: String,
}

/// The fix as an event on every panel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FixMark {
    pub at: DateTime<Utc>,
    pub text: String,
}
