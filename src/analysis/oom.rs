//! OOM kills in a period and where the count comes from: kube-state-metrics' restart
//! counter with the `OOMKilled` reason, else cAdvisor's OOM events, else restarts right
//! after memory reached 95 % of the container limit; with none of these, unknown.

use super::PeriodView;
use super::limit::MemoryLimit;
use super::restarts::{KubeCounts, RestartFigures};
pub use crate::evidence::OomSource;
use crate::pack::Role;

/// Memory (RSS, else the memory figure) under this share of the container limit at its
/// peak means an OOM kill cannot have been this container reaching its limit.
pub const FAR_BELOW_LIMIT_PERCENT: f64 = 80.0;

/// OOM kills counted in a period whose memory stayed far below the container limit.
pub fn kills_far_below_limit(p: &crate::evidence::Period) -> bool {
    p.oom_kills.is_some_and(|n| n > 0)
        && p.memory_peak_percent_of_limit
            .is_some_and(|x| x < FAR_BELOW_LIMIT_PERCENT)
}

/// The warning for [`kills_far_below_limit`], naming the period.
pub fn far_below_limit_warning(name: &str, p: &crate::evidence::Period) -> Option<String> {
    kills_far_below_limit(p).then(|| {
        format!(
            "{} OOM kill(s) in the {name} period, but memory peaked at only {} of the container limit: the kills did not come from this container reaching its limit — look for a limit on another container of the pod, a node-level OOM (kernel log, node memory pressure), or memory spikes between scrapes",
            p.oom_kills.unwrap_or(0),
            crate::units::percent(p.memory_peak_percent_of_limit.unwrap_or(0.0))
        )
    })
}

/// Increase of a counter over `[start, end)`, resets counted as restarts from zero.
fn counter_increase(points: &[(f64, f64)], start: f64, end: f64) -> u64 {
    points
        .windows(2)
        .filter(|p| (start..end).contains(&p[1].0))
        .map(|p| {
            if p[1].1 >= p[0].1 {
                p[1].1 - p[0].1
            } else {
                p[1].1
            }
        })
        .map(|inc| inc.round().max(0.0) as u64)
        .sum()
}

/// The period's OOM kills (`None`: no source can tell them from other restarts).
pub fn oom_kills(
    view: &PeriodView,
    kube: Option<KubeCounts>,
    restarts: &RestartFigures,
    limit: &MemoryLimit,
) -> (Option<u64>, OomSource) {
    let data = view.data;
    let events = data.has_data(Role::OomEvents).then(|| {
        data.series(Role::OomEvents)
            .iter()
            .map(|s| counter_increase(&s.points, view.start, view.end))
            .sum::<u64>()
    });
    let restarts_visible = view.boundaries.iter().any(Option::is_some);
    if let Some(k) = kube {
        (Some(k.oom_kills), OomSource::KubeStateMetrics)
    } else if let Some(events) = events.filter(|n| *n > 0 || restarts.restarts == 0) {
        // cAdvisor's counter is known to stay 0 when the container is replaced after an
        // OOM kill, so a 0 next to restarts says nothing.
        (Some(events), OomSource::Cadvisor)
    } else if let Some(bytes) = limit.bytes.filter(|_| restarts_visible) {
        // No OOM source: a restart right after memory reached 95 % of the limit counts.
        let near_limit = |at: f64| {
            limit.series.iter().any(|points| {
                points
                    .iter()
                    .filter(|(t, _)| *t < at && *t >= at - 3.0 * limit.step)
                    .any(|(_, v)| *v >= 0.95 * bytes)
            })
        };
        let count = restarts.times.iter().filter(|t| near_limit(**t)).count() as u64;
        (Some(count), OomSource::MemoryAtLimit)
    } else {
        (None, OomSource::Unknown)
    }
}
