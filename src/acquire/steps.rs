//! Whether the window's step is too coarse for the process lifetimes in it. The step
//! aims at about 1,000 points per series, so a 30-day window gets a 45-minute step; a
//! pod OOM-killed every 3 h then has 4 points per lifetime, too few for any slope, and
//! the growth would be missing exactly where the leak is worst. Collect and scan ask
//! again, at a finer step, for the series the growth reads — by one rule,
//! [`finer_step_for`]. [`window_step`] is the first round's step for every command.

use super::RangeData;
use super::lifetimes::Boundaries;
use crate::pack::Role;
use crate::prom::range::{choose_step, finer_step};
use crate::stats::median;
use std::time::Duration;

/// The scrape interval assumed when the probe could not tell it (no samples in the
/// window's last hour): the interval most Prometheus configurations use.
pub const ASSUMED_SCRAPE_INTERVAL: Duration = Duration::from_secs(15);

/// The first round's step for a window of `span` seconds: about 1,000 points, dividing
/// six hours, never below the scrape interval (assumed when unknown).
pub fn window_step(span: f64, scrape_interval: Option<Duration>) -> Duration {
    choose_step(
        Duration::from_secs_f64(span),
        scrape_interval.unwrap_or(ASSUMED_SCRAPE_INTERVAL),
    )
}

/// The one rule for a second, finer round: when a typical lifetime (`lifetime` seconds)
/// has fewer than `POINTS_PER_LIFETIME` points at `step`, the largest step that gives it
/// that many — never below `scrape_interval`, and coarse enough that `series` series
/// over `span` seconds stay within `MAX_FINER_POINTS`. `None`: no finer round.
pub fn finer_step_for(
    step: f64,
    lifetime: f64,
    scrape_interval: Duration,
    series: usize,
    span: f64,
) -> Option<Duration> {
    if lifetime / step >= POINTS_PER_LIFETIME {
        return None;
    }
    let budget_step = series as f64 * span / MAX_FINER_POINTS;
    let floor = scrape_interval.max(Duration::from_secs_f64(budget_step.ceil()));
    // Any finer step is worth the second round: at 16 points per lifetime (7 days, OOM
    // every 3 h) the slope already reads 0.5 % low.
    finer_step(
        Duration::from_secs_f64(step),
        lifetime / POINTS_PER_LIFETIME,
        floor,
    )
}

/// Points a typical lifetime should have for a steady Theil–Sen slope on its floor.
pub const POINTS_PER_LIFETIME: f64 = 30.0;
/// What the finer fetch may bring in, over all its series (16 bytes a point: ~100 MB).
pub const MAX_FINER_POINTS: f64 = 6_000_000.0;
/// The roles fetched again at a finer step: the memory, the requests (bytes per request
/// pairs them point by point with the memory), and the one source of restart boundaries
/// the analysis will use (start times, else counter resets, else kube-state-metrics), with
/// its restart count. The others are not read per lifetime, so the coarse step serves.
pub fn roles_to_refine(data: &RangeData) -> Vec<Role> {
    let mut roles = vec![Role::Heap, Role::Requests];
    roles.extend(if data.has_data(Role::ProcessStart) {
        vec![Role::ProcessStart, Role::StartChanges]
    } else if data.has_data(Role::ResetCounter) {
        vec![Role::ResetCounter, Role::CounterResets]
    } else {
        vec![Role::K8sRestarts, Role::K8sOomReason]
    });
    roles.retain(|role| data.has_data(*role));
    roles
}

/// Median length, in seconds, of the process lifetimes the heap series show within
/// `[from, to]` (the first and last of each series cut by the window or the data).
pub fn median_lifetime(
    data: &RangeData,
    boundaries: &[Option<Boundaries>],
    from: f64,
    to: f64,
) -> Option<f64> {
    let mut lengths = Vec::new();
    for (heap, bounds) in data.series(Role::Heap).iter().zip(boundaries) {
        let (Some(first), Some(last)) = (heap.points.first(), heap.points.last()) else {
            continue;
        };
        let (start, end) = (first.0.max(from), last.0.min(to));
        if end <= start {
            continue;
        }
        let mut edges = vec![start];
        if let Some(bounds) = bounds {
            edges.extend(
                bounds
                    .times
                    .iter()
                    .copied()
                    .filter(|t| *t > start && *t < end),
            );
        }
        edges.push(end);
        lengths.extend(edges.windows(2).map(|w| w[1] - w[0]));
    }
    median(&lengths)
}

/// [`finer_step_for`] the median lifetime of the heap series in `window`.
pub fn finer_growth_step(
    data: &RangeData,
    boundaries: &[Option<Boundaries>],
    window: (f64, f64),
    scrape_interval: Duration,
    series: usize,
) -> Option<Duration> {
    let (from, to) = window;
    let lifetime = median_lifetime(data, boundaries, from, to)?;
    finer_step_for(data.step, lifetime, scrape_interval, series, to - from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prom::RangeSeries;

    fn heap(step: f64, from: f64, to: f64) -> RangeSeries {
        let mut points = Vec::new();
        let mut t = from;
        while t <= to {
            points.push((t, 1.0));
            t += step;
        }
        RangeSeries {
            labels: Default::default(),
            points,
        }
    }

    #[test]
    fn short_lifetimes_at_a_coarse_step_get_a_finer_one() {
        let (from, to) = (0.0, 30.0 * 86_400.0);
        let mut data = RangeData::new(2700.0);
        data.by_role.insert(
            Role::Heap,
            vec![heap(2700.0, from, to), heap(2700.0, from, to)],
        );
        let every_3h: Vec<f64> = (1..240).map(|i| i as f64 * 10_800.0).collect();
        let bounds = vec![
            Some(Boundaries {
                times: every_3h.clone(),
                from_process: true,
                counts: Vec::new(),
            });
            2
        ];
        assert_eq!(median_lifetime(&data, &bounds, from, to), Some(10_800.0));
        let one_minute = Duration::from_secs(60);
        assert_eq!(
            finer_growth_step(&data, &bounds, (from, to), one_minute, 10),
            Some(Duration::from_secs(360))
        );
        // A fleet too large for 360 s within the budget gets the finest step that fits.
        let step = finer_growth_step(&data, &bounds, (from, to), one_minute, 2_000).unwrap();
        assert!(2_000.0 * (to - from) / step.as_secs_f64() <= MAX_FINER_POINTS);
        assert!(step.as_secs() < 2700 && step.as_secs() > 360, "{step:?}");
        // Long lifetimes: nothing to do.
        let rare = vec![
            Some(Boundaries {
                times: vec![15.0 * 86_400.0],
                from_process: true,
                counts: Vec::new(),
            });
            2
        ];
        assert_eq!(
            finer_growth_step(&data, &rare, (from, to), one_minute, 10),
            None
        );
        // The scrape interval is the limit.
        assert_eq!(
            finer_growth_step(&data, &bounds, (from, to), Duration::from_secs(3600), 10),
            None
        );
    }

    #[test]
    fn only_the_boundary_source_in_use_is_refined() {
        let mut data = RangeData::new(60.0);
        for role in [
            Role::Heap,
            Role::ProcessStart,
            Role::StartChanges,
            Role::ResetCounter,
            Role::CounterResets,
            Role::K8sRestarts,
        ] {
            data.by_role.insert(role, vec![heap(60.0, 0.0, 600.0)]);
        }
        assert_eq!(
            roles_to_refine(&data),
            [Role::Heap, Role::ProcessStart, Role::StartChanges]
        );
        data.by_role.remove(&Role::ProcessStart);
        assert_eq!(
            roles_to_refine(&data),
            [Role::Heap, Role::ResetCounter, Role::CounterResets]
        );
        data.by_role.remove(&Role::ResetCounter);
        assert_eq!(roles_to_refine(&data), [Role::Heap, Role::K8sRestarts]);
    }
}
