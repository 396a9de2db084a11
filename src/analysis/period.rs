//! Figures of one period (the whole window, before the fix, or after it) from the
//! range series fetched once for the window and the instant answers for the period.

use super::growth::instance_growth;
use super::restarts::{self, KubeCounts};
use super::stats::{median, weighted_median};
use crate::evidence::{Improvement, InstanceFigures, Period, RestartSources, Symptoms};
use crate::pack::Role;
use crate::prom::RangeSeries;
use crate::timespec::from_unix_seconds;
use std::collections::{BTreeMap, HashMap};

const HOUR: f64 = 3600.0;
const MB: f64 = 1e6;

/// Range answers by role, for the whole window. A role is absent when its query was
/// not in the pack or failed; present and empty when it matched nothing.
#[derive(Debug, Default, Clone)]
pub struct RangeData {
    pub step: f64,
    pub by_role: HashMap<Role, Vec<RangeSeries>>,
}

impl RangeData {
    pub fn series(&self, role: Role) -> &[RangeSeries] {
        self.by_role.get(&role).map(Vec::as_slice).unwrap_or(&[])
    }
    pub fn has_data(&self, role: Role) -> bool {
        !self.series(role).is_empty()
    }
}

/// Instant answers for one period.
#[derive(Debug, Default, Clone)]
pub struct PeriodInstants {
    pub gc_p95: Option<f64>,
    pub gc_p95_by_kind: BTreeMap<String, f64>,
}

/// Drops the repeated values a range query returns after a series stopped: without a
/// staleness marker (backfilled data, a dead remote-write sender) Prometheus keeps
/// answering with the last sample for its 5-minute lookback, which would otherwise
/// read as a flat stretch of a process that no longer exists. Only level gauges are
/// trimmed: flags and counters stay flat for real, and their last value matters.
pub fn trim_stale_tails(data: &mut RangeData, window_end: f64) {
    let step = data.step;
    let levels = [Role::Heap, Role::HeapTotal, Role::Rss, Role::ActiveHandles];
    for (_, all) in data
        .by_role
        .iter_mut()
        .filter(|(role, _)| levels.contains(role))
    {
        for series in all.iter_mut() {
            let Some(&(last_t, last_v)) = series.points.last() else {
                continue;
            };
            if last_t >= window_end - step / 2.0 {
                continue;
            }
            let run_start = series
                .points
                .iter()
                .rposition(|&(_, v)| v != last_v)
                .map_or(0, |i| i + 1);
            series.points.truncate(run_start + 1);
        }
    }
}

/// Restart boundaries of each heap series, by index, found once for the whole window.
pub fn heap_boundaries(data: &RangeData) -> Vec<Option<Vec<f64>>> {
    data.series(Role::Heap)
        .iter()
        .map(|heap| {
            if let Some(start) = restarts::matching(&heap.labels, data.series(Role::ProcessStart)) {
                Some(restarts::boundaries_from_start_times(&start.points))
            } else {
                restarts::matching(&heap.labels, data.series(Role::ResetCounter))
                    .map(|c| restarts::boundaries_from_counter_resets(&c.points))
            }
        })
        .collect()
}

fn clip(points: &[(f64, f64)], start: f64, end: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .copied()
        .filter(|(t, v)| *t >= start && *t <= end && v.is_finite())
        .collect()
}

/// Per-instance level figures within tolerance of the period's edges.
struct Levels {
    first: Option<f64>,
    last: Option<f64>,
    at_6h: Option<f64>,
    peak: Option<f64>,
}

fn levels(points: &[(f64, f64)], start: f64, end: f64, tolerance: f64) -> Levels {
    let first = points
        .first()
        .filter(|(t, _)| *t <= start + tolerance)
        .map(|p| p.1);
    let last = points
        .last()
        .filter(|(t, _)| *t >= end - tolerance)
        .map(|p| p.1);
    let at_6h = if end - start >= 6.0 * HOUR {
        let target = start + 6.0 * HOUR;
        points
            .iter()
            .min_by(|a, b| (a.0 - target).abs().total_cmp(&(b.0 - target).abs()))
            .filter(|(t, _)| (t - target).abs() <= tolerance)
            .map(|p| p.1)
    } else {
        None
    };
    let peak = points.iter().map(|p| p.1).max_by(f64::total_cmp);
    Levels {
        first,
        last,
        at_6h,
        peak,
    }
}

pub fn analyze_period(
    start: f64,
    end: f64,
    data: &RangeData,
    boundaries: &[Option<Vec<f64>>],
    instants: &PeriodInstants,
) -> Period {
    let step = data.step;
    let tolerance = (3.0 * step).max(0.05 * (end - start));
    let hours = (end - start) / HOUR;
    let mut instances = Vec::new();
    let mut baselines = Vec::new();
    let mut ends = Vec::new();
    let mut at_6h = Vec::new();
    let mut peaks = Vec::new();
    let mut growths = Vec::new();
    let mut process_restarts: Option<u64> = None;
    for (heap, bounds) in data.series(Role::Heap).iter().zip(boundaries) {
        let points = clip(&heap.points, start, end);
        if points.is_empty() {
            continue;
        }
        let no_bounds = Vec::new();
        let cut = bounds.as_ref().unwrap_or(&no_bounds);
        let restarts_here = cut.iter().filter(|b| **b > start && **b <= end).count() as u64;
        if bounds.is_some() {
            *process_restarts.get_or_insert(0) += restarts_here;
        }
        let growth = instance_growth(&points, cut);
        let level = levels(&points, start, end, tolerance);
        baselines.extend(level.first);
        ends.extend(level.last);
        at_6h.extend(level.at_6h);
        peaks.extend(level.peak);
        if let Some(g) = &growth {
            let observed_hours = (points[points.len() - 1].0 - points[0].0) / HOUR;
            growths.push((g.bytes_per_hour, observed_hours));
        }
        instances.push(InstanceFigures {
            instance: restarts::instance_name(&heap.labels),
            labels: heap.labels.clone(),
            growth_bytes_per_hour: growth.as_ref().map(|g| g.bytes_per_hour),
            lifetimes_fitted: growth.as_ref().map_or(0, |g| g.lifetimes_fitted),
            heap_start_bytes: points.first().map(|p| p.1),
            heap_end_bytes: points.last().map(|p| p.1),
            heap_peak_bytes: level.peak,
            restarts: restarts_here,
        });
    }
    instances.sort_by(|a, b| {
        b.growth_bytes_per_hour
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.growth_bytes_per_hour.unwrap_or(f64::NEG_INFINITY))
    });

    let kube = (data.by_role.contains_key(&Role::K8sRestarts) && data.has_data(Role::K8sRestarts))
        .then(|| {
            restarts::kube_counts(
                data.series(Role::K8sRestarts),
                data.series(Role::K8sOomReason),
                start,
                end,
                step,
            )
        });
    let oom_events = data.has_data(Role::OomEvents).then(|| {
        data.series(Role::OomEvents)
            .iter()
            .map(|s| counter_increase(&s.points, start, end))
            .sum::<u64>()
    });
    let restarts = process_restarts
        .or(kube.map(|k: KubeCounts| k.restarts))
        .unwrap_or(0);
    let oom_kills = kube.map(|k| k.oom_kills).or(oom_events);

    // Weighted by hours observed, so a pod that lived ten minutes counts for ten
    // minutes, and the total is the service's growth averaged over the period.
    let growth_median = weighted_median(&growths);
    let growth_total = (!growths.is_empty() && hours > 0.0).then(|| {
        growths
            .iter()
            .map(|(g, h)| g * (h / hours).min(1.0))
            .sum::<f64>()
    });
    let baseline = median(&baselines);
    let growth_percent = match (growth_median, baseline) {
        (Some(g), Some(b)) if b > 0.0 => Some(g * hours / b * 100.0),
        _ => None,
    };
    let last_values = |role: Role| -> Vec<f64> {
        data.series(role)
            .iter()
            .filter_map(|s| levels(&clip(&s.points, start, end), start, end, tolerance).last)
            .collect()
    };
    let rss_last = last_values(Role::Rss);
    let handles_last = last_values(Role::ActiveHandles);
    let rss_peak = data
        .series(Role::Rss)
        .iter()
        .flat_map(|s| clip(&s.points, start, end))
        .map(|p| p.1)
        .max_by(f64::total_cmp);

    Period {
        from: from_unix_seconds(start),
        to: from_unix_seconds(end),
        hours,
        instance_count: instances.len(),
        heap_baseline_bytes: baseline,
        heap_after_6h_bytes: median(&at_6h),
        heap_end_bytes: median(&ends),
        heap_peak_bytes: peaks.iter().copied().max_by(f64::total_cmp),
        rss_end_bytes: median(&rss_last),
        rss_peak_bytes: rss_peak,
        growth_bytes_per_hour: growth_median,
        growth_bytes_per_hour_total: growth_total,
        growth_percent,
        gc_pause_p95_seconds: instants.gc_p95,
        gc_pause_p95_by_kind: instants.gc_p95_by_kind.clone(),
        restarts,
        restarts_by_source: RestartSources {
            process_start: process_restarts,
            kube_state_metrics: kube.map(|k| k.restarts),
        },
        oom_kills,
        oom_kills_per_week: oom_kills
            .filter(|_| hours > 0.0)
            .map(|n| n as f64 / hours * 24.0 * 7.0),
        active_handles_end: (!handles_last.is_empty()).then(|| handles_last.iter().sum()),
        instances,
    }
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

fn reduction_percent(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    match (before, after) {
        (Some(b), Some(a)) if b > 0.0 => Some((b - a) / b * 100.0),
        _ => None,
    }
}

pub fn improvement(before: &Period, after: &Period) -> Improvement {
    Improvement {
        growth_reduction_percent: reduction_percent(
            before.growth_bytes_per_hour,
            after.growth_bytes_per_hour,
        ),
        heap_peak_reduction_bytes: match (before.heap_peak_bytes, after.heap_peak_bytes) {
            (Some(b), Some(a)) => Some(b - a),
            _ => None,
        },
        heap_peak_reduction_percent: reduction_percent(
            before.heap_peak_bytes,
            after.heap_peak_bytes,
        ),
        gc_p95_reduction_percent: reduction_percent(
            before.gc_pause_p95_seconds,
            after.gc_pause_p95_seconds,
        ),
        oom_kills_reduction_percent: reduction_percent(
            before.oom_kills_per_week,
            after.oom_kills_per_week,
        ),
    }
}

/// Symptom checkboxes ticked from the leak period (before the fix, or the whole window).
pub fn symptoms(leak_period: &Period) -> Symptoms {
    let linear_growth = match (
        leak_period.growth_bytes_per_hour,
        leak_period.growth_percent,
    ) {
        (Some(g), percent) => g >= MB || percent.is_some_and(|p| p >= 10.0),
        _ => false,
    };
    Symptoms {
        linear_growth,
        oom_crashes: leak_period.oom_kills.is_some_and(|n| n > 0),
        gc_pressure: leak_period.gc_pause_p95_seconds.is_some_and(|p| p >= 0.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(instance: &str, name: &str) -> crate::prom::Labels {
        [("__name__", name), ("job", "api"), ("instance", instance)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn stale_tails_are_trimmed_only_when_the_series_ended() {
        let mut data = RangeData {
            step: 60.0,
            ..Default::default()
        };
        let ended = vec![(0.0, 1.0), (60.0, 2.0), (120.0, 2.0), (180.0, 2.0)];
        let running = vec![(0.0, 1.0), (60.0, 2.0), (120.0, 2.0), (600.0, 2.0)];
        data.by_role.insert(
            Role::Heap,
            vec![
                RangeSeries {
                    labels: labels("a", "h"),
                    points: ended,
                },
                RangeSeries {
                    labels: labels("b", "h"),
                    points: running.clone(),
                },
            ],
        );
        trim_stale_tails(&mut data, 600.0);
        assert_eq!(
            data.series(Role::Heap)[0].points,
            vec![(0.0, 1.0), (60.0, 2.0)]
        );
        assert_eq!(data.series(Role::Heap)[1].points, running);
    }

    #[test]
    fn period_figures_for_two_instances_one_restarting() {
        let step = 60.0;
        let n = 12 * 60;
        let mut heap = Vec::new();
        let mut start = Vec::new();
        for (i, rate) in [("a:1", 10.0 * MB), ("b:1", 30.0 * MB)] {
            let points: Vec<(f64, f64)> = (0..=n)
                .map(|k| {
                    let t = k as f64 * step;
                    // b restarts at 6 h and starts over at 100 MB.
                    let since = if i == "b:1" && t >= 6.0 * HOUR {
                        t - 6.0 * HOUR
                    } else {
                        t
                    };
                    (t, 100.0 * MB + rate * since / HOUR)
                })
                .collect();
            heap.push(RangeSeries {
                labels: labels(i, "heap"),
                points,
            });
            let st: Vec<(f64, f64)> = (0..=n)
                .map(|k| {
                    let t = k as f64 * step;
                    (
                        t,
                        if i == "b:1" && t >= 6.0 * HOUR {
                            6.0 * HOUR
                        } else {
                            -100.0
                        },
                    )
                })
                .collect();
            start.push(RangeSeries {
                labels: labels(i, "start"),
                points: st,
            });
        }
        let mut data = RangeData {
            step,
            ..Default::default()
        };
        data.by_role.insert(Role::Heap, heap);
        data.by_role.insert(Role::ProcessStart, start);
        let bounds = heap_boundaries(&data);
        let p = analyze_period(0.0, 12.0 * HOUR, &data, &bounds, &PeriodInstants::default());
        assert_eq!(p.instance_count, 2);
        assert_eq!(p.restarts, 1);
        assert_eq!(p.oom_kills, None);
        assert!((p.growth_bytes_per_hour.unwrap() - 20.0 * MB).abs() < 0.01 * MB);
        assert!((p.growth_bytes_per_hour_total.unwrap() - 40.0 * MB).abs() < 0.01 * MB);
        assert_eq!(p.heap_baseline_bytes, Some(100.0 * MB));
        assert_eq!(p.instances[0].instance, "b:1");
        // b ends its second lifetime at 100 + 30 × 6 MB.
        assert_eq!(p.heap_peak_bytes, Some(280.0 * MB));
    }
}
