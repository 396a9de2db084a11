//! Request latency and errors of a period, for the "Service degradation" symptom: the
//! p95 latency and the server-error ratio over the whole period (instant answers), and
//! how the latency moved from the period's start to its end (the range trend).

use super::PeriodView;
use crate::pack::Role;
use crate::prom::InstantSample;

/// Share of the period, at each end, whose latency points are compared for the trend.
const TREND_EDGE: f64 = 0.1;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// 95th percentile latency over the period, seconds.
    pub latency_p95: Option<f64>,
    /// Server errors (5xx) / requests over the period.
    pub error_ratio: Option<f64>,
    /// Median p95 of the first and of the last tenth of the period (the range trend).
    pub latency_trend: Option<(f64, f64)>,
}

/// The period's latency and error figures from its instant answers and the trend series.
pub fn traffic(view: &PeriodView, answers: &[(Role, Vec<InstantSample>)]) -> Traffic {
    let first = |role: Role| {
        answers
            .iter()
            .filter(|(r, _)| *r == role)
            .flat_map(|(_, samples)| samples.iter().map(|s| s.value))
            .find(|v| v.is_finite())
    };
    Traffic {
        latency_p95: first(Role::LatencyP95),
        error_ratio: first(Role::ErrorRatio),
        latency_trend: latency_trend(view),
    }
}

/// Median latency of the period's first and last tenth (at least one point each), from
/// the service-wide p95 series; `None` without enough points to tell the two apart.
fn latency_trend(view: &PeriodView) -> Option<(f64, f64)> {
    let edge = (view.end - view.start) * TREND_EDGE;
    let points: Vec<(f64, f64)> = view
        .data
        .series(Role::LatencyTrend)
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(t, v)| *t >= view.start && *t <= view.end && v.is_finite())
        .collect();
    let within = |lo: f64, hi: f64| -> Vec<f64> {
        points
            .iter()
            .filter(|(t, _)| *t >= lo && *t <= hi)
            .map(|p| p.1)
            .collect()
    };
    let start = within(view.start, view.start + edge);
    let end = within(view.end - edge, view.end);
    if start.is_empty() || end.is_empty() || points.len() < 4 {
        return None;
    }
    Some((crate::stats::median(&start)?, crate::stats::median(&end)?))
}
