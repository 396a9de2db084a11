//! Memory against the container limit: the limit, the peak and end as % of it, and the
//! hours left at the measured growth. RSS where the pack has it, else the memory figure.

use super::PeriodView;
use super::levels::{belongs_to_period, clip, last_values};
use crate::acquire::RangeData;
use crate::pack::Role;
use crate::stats::median;

/// The limit and the memory series compared with it.
#[derive(Debug, Clone, Default)]
pub struct MemoryLimit {
    /// Median container memory limit of the service's containers.
    pub bytes: Option<f64>,
    /// The compared series (RSS, else the memory figure), cut to the period.
    pub series: Vec<Vec<(f64, f64)>>,
    /// Their step.
    pub step: f64,
    pub end: Option<f64>,
}

/// The memory compared with the limit: RSS where the pack has it, else the memory
/// figure (the chart says which).
pub fn compared_role(data: &RangeData) -> Role {
    if data.has_data(Role::Rss) {
        Role::Rss
    } else {
        Role::Heap
    }
}

pub fn memory_limit(view: &PeriodView) -> MemoryLimit {
    let data = view.data;
    let role = compared_role(data);
    let step = data.step_of(role);
    let limits: Vec<f64> = data
        .series(Role::MemoryLimit)
        .iter()
        .filter_map(|s| clip(&s.points, view.start, view.end).last().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .collect();
    MemoryLimit {
        bytes: median(&limits),
        series: data
            .series(role)
            .iter()
            .map(|s| clip(&s.points, view.start, view.end))
            .filter(|points| belongs_to_period(points, step))
            .collect(),
        step,
        end: median(&last_values(view, role)),
    }
}

/// Peak and end memory as % of the limit.
pub fn percent_of_limit(limit: &MemoryLimit) -> (Option<f64>, Option<f64>) {
    let peak = limit
        .series
        .iter()
        .flatten()
        .map(|p| p.1)
        .max_by(f64::total_cmp);
    let percent = |v: Option<f64>| Some(v? / limit.bytes? * 100.0);
    (percent(peak), percent(limit.end))
}

/// Hours from the period's end until the limit at `growth` bytes per hour; `None` when
/// not growing.
pub fn hours_to_limit(limit: &MemoryLimit, growth: Option<f64>) -> Option<f64> {
    match (limit.bytes, limit.end, growth) {
        (Some(bytes), Some(now), Some(g)) if g > 0.0 => Some(((bytes - now) / g).max(0.0)),
        _ => None,
    }
}
