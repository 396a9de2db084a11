//! Connection pools of a period: the highest share of a pool's maximum that was in use
//! (for the "Connection pool exhaustion" symptom) and the connections in use at the
//! period's end (the report's "Active connections"). A pool's in-use series is paired
//! with its maximum by their labels, the metric name aside.

use super::PeriodView;
use crate::pack::Role;
use crate::prom::{Labels, RangeSeries};

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pools {
    /// Highest in-use / maximum of any pool at any step of the period.
    pub used_ratio_peak: Option<f64>,
    /// Connections in use at the period's end, summed over pools.
    pub in_use_end: Option<f64>,
}

fn identity(labels: &Labels) -> Labels {
    labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn within(series: &RangeSeries, view: &PeriodView) -> Vec<(f64, f64)> {
    series
        .points
        .iter()
        .copied()
        .filter(|(t, v)| *t >= view.start && *t <= view.end && v.is_finite())
        .collect()
}

/// The pool figures of the period; both `None` when no pool metric matched.
pub fn pool_figures(view: &PeriodView) -> Pools {
    let used = view.data.series(Role::ConnectionsUsed);
    let max = view.data.series(Role::ConnectionsMax);
    let mut peak: Option<f64> = None;
    let mut end: Option<f64> = None;
    for pool in used {
        let points = within(pool, view);
        if let Some(last) = points.last()
            && view.end - last.0 <= view.tolerance
        {
            *end.get_or_insert(0.0) += last.1;
        }
        let id = identity(&pool.labels);
        let Some(limit) = max.iter().find(|m| identity(&m.labels) == id) else {
            continue;
        };
        let limits = within(limit, view);
        for (t, in_use) in &points {
            // A maximum of 0 means "unlimited" (Go's database/sql): no ratio.
            if let Some((_, size)) = limits.iter().find(|(u, _)| u == t)
                && *size > 0.0
            {
                let ratio = in_use / size;
                peak = Some(peak.map_or(ratio, |p: f64| p.max(ratio)));
            }
        }
    }
    Pools {
        used_ratio_peak: peak,
        in_use_end: end,
    }
}
