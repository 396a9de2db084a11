//! The charts' model: every series a chart draws and every decision behind it — which
//! instances, their restarts and OOM kills, their fitted growth, the median, the memory
//! limit, the fix, whether the instances need a panel each; the GC chart's statistic and
//! groups. Built by one function, `analysis::charts::chart_data`, from the acquired
//! series and the evidence, so the charts say what the report says; `render::chart` only
//! draws it. Serializable (to inspect or test it) but not part of the evidence JSON.
//! Times are Unix seconds, memory bytes, pauses seconds.

use super::OomSource;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Both charts of a report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChartData {
    pub memory: MemoryChart,
    /// Only with a fix and GC figures on both sides of it.
    pub gc: Option<GcChart>,
}

/// Memory per instance over the window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemoryChart {
    pub service: String,
    /// What the series measure ("V8 heap used").
    pub memory_name: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The instances drawn, in drawing order (highest growth first).
    pub instances: Vec<InstanceLine>,
    /// How many memory series the window has (drawn or not).
    pub series_total: usize,
    pub median: MedianLine,
    /// The report's growth figure for each period the fitted segments cover.
    pub growth: Vec<PeriodGrowth>,
    pub limit: Option<LimitLine>,
    pub fix: Option<DateTime<Utc>>,
    /// Where the OOM kills come from (the report's source).
    pub oom_source: OomSource,
    /// OOM kills in the window of instances not drawn (or of no memory series): drawn at
    /// the top edge, so the chart shows as many kills as the report counts.
    pub other_oom_kills: Vec<OomKillMark>,
    pub layout: MemoryLayout,
}

impl MemoryChart {
    /// OOM kills the chart marks: the report's count for the window.
    pub fn oom_kill_count(&self) -> u64 {
        self.instances
            .iter()
            .flat_map(|i| &i.oom_kills)
            .chain(&self.other_oom_kills)
            .map(|k| k.count)
            .sum()
    }

    /// Restarts that were not OOM kills, over the drawn instances.
    pub fn other_restart_count(&self) -> u64 {
        self.instances
            .iter()
            .flat_map(|i| &i.restarts)
            .map(|r| r.count)
            .sum()
    }
}

/// One instance's memory series and what is drawn on it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InstanceLine {
    /// Its `instance` or `pod` label, as the report's per-instance table names it.
    pub name: String,
    /// Samples in the window, finite only.
    pub points: Vec<(f64, f64)>,
    /// Restarts that were not OOM kills (new process lifetimes).
    pub restarts: Vec<RestartMark>,
    pub oom_kills: Vec<OomKillMark>,
    /// The fitted growth: one segment per process lifetime long enough to fit, along its
    /// post-GC floor, in each period the report gives a growth for.
    pub fits: Vec<FitSegment>,
    /// Its growth per period, as the report's per-instance table gives it.
    pub growth: Vec<(GrowthPeriod, Option<f64>)>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct RestartMark {
    pub at: f64,
    /// Restarts this mark stands for (several between two samples are one lifetime).
    pub count: u64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct OomKillMark {
    pub at: f64,
    /// Kills counted at this time (a counter may rise by more than one between samples).
    pub count: u64,
    /// The instance's last sample before the kill: where the marker sits. `None` when
    /// the kill belongs to no drawn series.
    pub bytes: Option<f64>,
}

/// A fitted straight segment: (time, bytes) at both ends.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct FitSegment {
    pub period: GrowthPeriod,
    pub start: (f64, f64),
    pub end: (f64, f64),
}

/// The periods the report gives a growth figure for.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum GrowthPeriod {
    /// No fix: the whole window.
    Window,
    BeforeFix,
    /// From the fix plus the warm-up to the window's end.
    AfterFix,
}

/// The service's growth in one period: the weighted median of its instances' fits.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PeriodGrowth {
    pub period: GrowthPeriod,
    pub bytes_per_hour: Option<f64>,
    /// Instances in the period (the report's "median of N instances").
    pub instance_count: usize,
}

/// The median across every instance (drawn or not) at every sample time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MedianLine {
    pub points: Vec<(f64, f64)>,
}

/// What the report compares with the container limit.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LimitBasis {
    /// The resident memory, which the chart does not draw.
    Rss,
    /// The memory the chart draws.
    Drawn,
}

/// The container memory limit the report's "% of the limit" uses (the leak period's).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct LimitLine {
    pub bytes: f64,
    pub compared: LimitBasis,
}

/// How the instances are laid out.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MemoryLayout {
    /// One plot: the lines are far enough apart to follow each.
    Overlaid,
    /// The overview plot, then one small panel per drawn instance on the same axes: the
    /// lines overlap too much to follow in one plot.
    SmallMultiples,
}

/// GC pauses before and after the fix.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GcChart {
    pub service: String,
    pub statistic: GcStatistic,
    pub groups: Vec<GcGroup>,
    pub before: (DateTime<Utc>, DateTime<Utc>),
    pub after: (DateTime<Utc>, DateTime<Utc>),
}

/// Which statistic the bars show: a histogram's p95, else a summary's mean and max.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum GcStatistic {
    P95,
    MeanAndMax,
    Mean,
}

impl GcStatistic {
    /// As the title says it.
    pub fn as_str(self) -> &'static str {
        match self {
            GcStatistic::P95 => "p95",
            GcStatistic::MeanAndMax => "mean and max",
            GcStatistic::Mean => "mean",
        }
    }
}

/// One group of bars: every pause ("all kinds"), one kind, or a summary's mean or max.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GcGroup {
    pub name: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
}
