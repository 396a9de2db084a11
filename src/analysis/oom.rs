//! OOM kills in a period and where the count comes from: kube-state-metrics' restart
//! counter with the `OOMKilled` reason, else cAdvisor's OOM events, else restarts right
//! after memory reached 95 % of the container limit; with none of these, unknown.

use super::PeriodView;
use super::limit::MemoryLimit;
pub use super::restarts::OomKill;
use super::restarts::{KubeCounts, RestartFigures};
pub use crate::evidence::OomSource;
use crate::pack::Role;
use crate::prom::RangeSeries;

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

/// Each rise of a counter in `[start, end)`, resets counted as restarts from zero.
fn counter_rises(series: &RangeSeries, start: f64, end: f64) -> impl Iterator<Item = OomKill> {
    series
        .points
        .windows(2)
        .filter(move |p| (start..end).contains(&p[1].0))
        .filter_map(|p| {
            let increase = if p[1].1 >= p[0].1 {
                p[1].1 - p[0].1
            } else {
                p[1].1
            };
            let count = increase.round().max(0.0) as u64;
            (count > 0).then(|| OomKill {
                at: p[1].0,
                count,
                labels: series.labels.clone(),
            })
        })
}

/// The period's OOM kills, each with its time and container (`None`: no source can tell
/// them from other restarts), and their source. The one place that decides what a kill
/// is: [`oom_kills`] counts these, the memory chart marks them.
pub fn oom_kill_events(
    view: &PeriodView,
    kube: Option<KubeCounts>,
    restarts: &RestartFigures,
    limit: &MemoryLimit,
) -> (Option<Vec<OomKill>>, OomSource) {
    let data = view.data;
    let events: Option<Vec<OomKill>> = data.has_data(Role::OomEvents).then(|| {
        data.series(Role::OomEvents)
            .iter()
            .flat_map(|s| counter_rises(s, view.start, view.end))
            .collect()
    });
    let restarts_visible = view.boundaries.iter().any(Option::is_some);
    if let Some(k) = kube {
        (Some(k.kills), OomSource::KubeStateMetrics)
    } else if let Some(events) = events.filter(|e| !e.is_empty() || restarts.restarts == 0) {
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
        // The period's restarts (`restart_figures`' times), instance by instance.
        let kills = view
            .instances
            .iter()
            .flat_map(|i| {
                i.cut
                    .iter()
                    .filter(|t| **t > view.start && **t <= view.end && near_limit(**t))
                    .map(|t| OomKill {
                        at: *t,
                        count: 1,
                        labels: i.heap.labels.clone(),
                    })
            })
            .collect();
        (Some(kills), OomSource::MemoryAtLimit)
    } else {
        (None, OomSource::Unknown)
    }
}

/// The period's OOM kills (`None`: no source can tell them from other restarts).
pub fn oom_kills(
    view: &PeriodView,
    kube: Option<KubeCounts>,
    restarts: &RestartFigures,
    limit: &MemoryLimit,
) -> (Option<u64>, OomSource) {
    let (kills, source) = oom_kill_events(view, kube, restarts, limit);
    (kills.map(|k| k.iter().map(|k| k.count).sum()), source)
}
