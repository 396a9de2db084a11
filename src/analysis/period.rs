//! Figures of one period (the whole window, before the fix, or after it) from the
//! range series fetched once for the window and the instant answers for the period.

use super::growth::{bytes_per_request, instance_growth, jump_share};
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
    /// Roles fetched at another step than `step` (a finer one, for short lifetimes).
    pub role_steps: HashMap<Role, f64>,
}

impl RangeData {
    pub fn new(step: f64) -> Self {
        RangeData {
            step,
            ..Default::default()
        }
    }
    /// The step `role`'s series were evaluated at.
    pub fn step_of(&self, role: Role) -> f64 {
        self.role_steps.get(&role).copied().unwrap_or(self.step)
    }
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
    pub gc_mean: Option<f64>,
    pub gc_max: Option<f64>,
    pub gc_quantiles: BTreeMap<String, f64>,
    /// Collections in the period, in total and by kind/generation/collector.
    pub gc_collections: Option<f64>,
    pub gc_collections_by: BTreeMap<String, f64>,
}

/// Prometheus's default lookback delta: how long a series' last sample keeps answering.
const LOOKBACK_SECONDS: f64 = 300.0;

/// Drops the repeated values a range query returns after a series stopped: without a
/// staleness marker (backfilled data, a dead remote-write sender) Prometheus keeps
/// answering with the last sample for its 5-minute lookback, which would otherwise
/// read as a flat stretch of a process that no longer exists. Only level gauges are
/// trimmed: flags and counters stay flat for real, and their last value matters.
pub fn trim_stale_tails(data: &mut RangeData, window_end: f64) {
    let levels = [Role::Heap, Role::HeapTotal, Role::Rss, Role::ActiveHandles];
    let steps: HashMap<Role, f64> = levels.iter().map(|r| (*r, data.step_of(*r))).collect();
    for (role, all) in data
        .by_role
        .iter_mut()
        .filter(|(role, _)| levels.contains(role))
    {
        let step = steps[role];
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
            // Samples older than the lookback before the last point are real even when the
            // value is constant (a flat gauge); only the lookback's worth can be repeats.
            let mut index = 0;
            series.points.retain(|&(t, _)| {
                let keep = index <= run_start || t <= last_t - LOOKBACK_SECONDS;
                index += 1;
                keep
            });
        }
    }
}

/// Where a heap series' process lifetimes begin, and how that was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundaries {
    pub times: Vec<f64>,
    /// From the process itself (start time or counter reset), not from kube-state-metrics.
    pub from_process: bool,
    /// Restarts each time stands for (several between two steps are one boundary);
    /// empty: one each.
    pub counts: Vec<u64>,
}

impl Boundaries {
    /// Restarts in `(start, end]`.
    pub fn restarts_in(&self, start: f64, end: f64) -> u64 {
        self.times
            .iter()
            .enumerate()
            .filter(|(_, t)| **t > start && **t <= end)
            .map(|(i, _)| self.counts.get(i).copied().unwrap_or(1))
            .sum()
    }
}

/// Restart boundaries of each heap series, by index, found once for the whole window:
/// from the process start time, else a counter reset, else kube-state-metrics' restart
/// counter for the same pod and container (the container pack has no process metrics).
pub fn heap_boundaries(data: &RangeData) -> Vec<Option<Boundaries>> {
    data.series(Role::Heap)
        .iter()
        .map(|heap| {
            // Boundaries from the process's own series, each weighted by its restart
            // count between raw samples when that count is there and trustworthy.
            let from_process = |role: Role, source: &RangeSeries, times: Vec<f64>| {
                let first_seen = source.points.first().map_or(f64::NEG_INFINITY, |p| p.0);
                let counted = role
                    .restart_count()
                    .and_then(|(count_role, _)| {
                        restarts::matching(&heap.labels, data.series(count_role))
                    })
                    .and_then(|c| {
                        restarts::restarts_per_boundary(
                            &times,
                            &c.points,
                            first_seen,
                            role == Role::ResetCounter,
                        )
                    });
                let (times, counts) = match counted {
                    Some(counted) => counted.into_iter().unzip(),
                    None => (times, Vec::new()),
                };
                Boundaries {
                    times,
                    from_process: true,
                    counts,
                }
            };
            if let Some(start) = restarts::matching(&heap.labels, data.series(Role::ProcessStart)) {
                let times = restarts::boundaries_from_start_times(&start.points);
                return Some(from_process(Role::ProcessStart, start, times));
            }
            if let Some(counter) = restarts::matching(&heap.labels, data.series(Role::ResetCounter))
            {
                let times = restarts::boundaries_from_counter_resets(&counter.points);
                return Some(from_process(Role::ResetCounter, counter, times));
            }
            restarts::matching_container(&heap.labels, data.series(Role::K8sRestarts)).map(|k| {
                Boundaries {
                    times: restarts::boundaries_from_counter_increments(&k.points),
                    from_process: false,
                    counts: Vec::new(),
                }
            })
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
    boundaries: &[Option<Boundaries>],
    instants: &PeriodInstants,
) -> Period {
    // Levels are read within the coarsest step of the window; the heap may be finer.
    let tolerance = (3.0 * data.step).max(0.05 * (end - start));
    let heap_step = data.step_of(Role::Heap);
    let hours = (end - start) / HOUR;
    let mut instances = Vec::new();
    let mut baselines = Vec::new();
    let mut ends = Vec::new();
    let mut at_6h = Vec::new();
    let mut peaks = Vec::new();
    let mut growths = Vec::new();
    let mut intervals = Vec::new();
    let mut jump_shares = Vec::new();
    let mut per_request = Vec::new();
    let mut restart_times = Vec::new();
    let mut process_restarts: Option<u64> = None;
    let mut observed_hours: f64 = 0.0;
    let mut lifetime_hours = Vec::new();
    let (mut seen_from, mut seen_to): (Option<f64>, Option<f64>) = (None, None);
    let mut coverages = Vec::new();
    for (heap, bounds) in data.series(Role::Heap).iter().zip(boundaries) {
        let points = clip(&heap.points, start, end);
        if !belongs_to_period(&points, heap_step) {
            continue;
        }
        let no_bounds = Vec::new();
        let cut = bounds.as_ref().map_or(&no_bounds, |b| &b.times);
        let restarts_here = bounds.as_ref().map_or(0, |b| b.restarts_in(start, end));
        restart_times.extend(cut.iter().copied().filter(|b| *b > start && *b <= end));
        if bounds.as_ref().is_some_and(|b| b.from_process) {
            *process_restarts.get_or_insert(0) += restarts_here;
        }
        let span = points[points.len() - 1].0 - points[0].0;
        observed_hours = observed_hours.max(span / HOUR);
        seen_from = Some(seen_from.map_or(points[0].0, |f: f64| f.min(points[0].0)));
        seen_to = Some(seen_to.map_or(points[points.len() - 1].0, |l: f64| {
            l.max(points[points.len() - 1].0)
        }));
        // Lifetimes between two restarts are whole; the first and last are cut by the
        // period or the data, so they only stand in when no whole one exists.
        let first_t = points[0].0;
        let last_t = points[points.len() - 1].0;
        let inside: Vec<f64> = cut
            .iter()
            .copied()
            .filter(|t| *t > first_t && *t < last_t)
            .collect();
        // Each instance speaks once per lifetime it shows: its whole lifetimes when it
        // restarted at least twice, else its longest stretch (the whole span when it
        // never restarted), so a fleet that mostly runs uninterrupted is not judged by
        // one pod's crash loop.
        if inside.len() >= 2 {
            lifetime_hours.extend(inside.windows(2).map(|w| (w[1] - w[0]) / HOUR));
        } else {
            let edges = [first_t]
                .into_iter()
                .chain(inside.iter().copied())
                .chain([last_t])
                .collect::<Vec<f64>>();
            if let Some(longest) = edges.windows(2).map(|w| w[1] - w[0]).max_by(f64::total_cmp) {
                lifetime_hours.push(longest / HOUR);
            }
        }
        if span > 0.0 && heap_step > 0.0 {
            coverages.push((points.len() as f64 / (span / heap_step + 1.0)).min(1.0));
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
            intervals.push((g.interval_bytes_per_hour, observed_hours));
        }
        jump_shares.extend(jump_share(&points));
        if let Some(requests) = restarts::matching(&heap.labels, data.series(Role::Requests)) {
            let requests = clip(&requests.points, start, end);
            if let Some(bpr) = bytes_per_request(&points, &requests, cut) {
                let observed_hours = (points[points.len() - 1].0 - points[0].0) / HOUR;
                per_request.push((bpr, observed_hours));
            }
        }
        instances.push(InstanceFigures {
            instance: restarts::instance_name(&heap.labels),
            labels: heap.labels.clone(),
            growth_bytes_per_hour: growth.as_ref().map(|g| g.bytes_per_hour),
            growth_interval_bytes_per_hour: growth
                .as_ref()
                .map(|g| [g.interval_bytes_per_hour.0, g.interval_bytes_per_hour.1]),
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
                data.step_of(Role::K8sRestarts)
                    .max(data.step_of(Role::K8sOomReason)),
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

    // Memory against the container limit: RSS where the pack has it, else the memory figure.
    let memory_role = if data.has_data(Role::Rss) {
        Role::Rss
    } else {
        Role::Heap
    };
    let memory_step = data.step_of(memory_role);
    let limits: Vec<f64> = data
        .series(Role::MemoryLimit)
        .iter()
        .filter_map(|s| clip(&s.points, start, end).last().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .collect();
    let memory_limit = median(&limits);
    let memory_series: Vec<Vec<(f64, f64)>> = data
        .series(memory_role)
        .iter()
        .map(|s| clip(&s.points, start, end))
        .filter(|points| belongs_to_period(points, memory_step))
        .collect();

    let restarts_visible = boundaries.iter().any(Option::is_some);
    let (oom_kills, oom_kills_source) = if let Some(k) = kube {
        (Some(k.oom_kills), "kube-state-metrics")
    } else if let Some(events) = oom_events.filter(|n| *n > 0 || restarts == 0) {
        // cAdvisor's counter is known to stay 0 when the container is replaced after an
        // OOM kill, so a 0 next to restarts says nothing.
        (Some(events), "cadvisor")
    } else if let Some(limit) = memory_limit.filter(|_| restarts_visible) {
        // No OOM source: a restart right after memory reached 95 % of the limit counts.
        let near_limit = |at: f64| {
            memory_series.iter().any(|points| {
                points
                    .iter()
                    .filter(|(t, _)| *t < at && *t >= at - 3.0 * memory_step)
                    .any(|(_, v)| *v >= 0.95 * limit)
            })
        };
        let count = restart_times.iter().filter(|t| near_limit(**t)).count() as u64;
        (Some(count), "memory at limit")
    } else {
        (None, "unknown")
    };

    // Weighted by hours observed, so a pod that lived ten minutes counts for ten
    // minutes, and the total is the service's growth averaged over the period.
    let growth_median = weighted_median(&growths);
    // Averaged over the hours the service was seen, not the period: a window reaching
    // past the data (or before the service existed) must not dilute the total.
    let seen_hours = match (seen_from, seen_to) {
        (Some(first), Some(last)) if last > first => (last - first) / HOUR,
        _ => hours,
    };
    let growth_total = (!growths.is_empty() && seen_hours > 0.0).then(|| {
        growths
            .iter()
            .map(|(g, h)| g * (h / seen_hours).min(1.0))
            .sum::<f64>()
    });
    let baseline = median(&baselines);
    // What the heap gains in one process lifetime: over the period when nothing
    // restarts, else over the median lifetime (a restart gives the gain back).
    let lifetime = if restart_times.is_empty() {
        hours
    } else {
        median(&lifetime_hours).map_or(hours, |l| l.min(hours))
    };
    let growth_percent = match (growth_median, baseline) {
        (Some(g), Some(b)) if b > 0.0 => Some(g * lifetime / b * 100.0),
        _ => None,
    };
    let growth_interval = (!intervals.is_empty()).then(|| {
        let lows: Vec<(f64, f64)> = intervals.iter().map(|((lo, _), w)| (*lo, *w)).collect();
        let highs: Vec<(f64, f64)> = intervals.iter().map(|((_, hi), w)| (*hi, *w)).collect();
        [
            weighted_median(&lows).unwrap_or(f64::NAN),
            weighted_median(&highs).unwrap_or(f64::NAN),
        ]
    });
    let last_values = |role: Role| -> Vec<f64> {
        data.series(role)
            .iter()
            .map(|s| clip(&s.points, start, end))
            .filter(|points| belongs_to_period(points, data.step_of(role)))
            .filter_map(|points| levels(&points, start, end, tolerance).last)
            .collect()
    };
    let rss_last = last_values(Role::Rss);
    let handles_last = last_values(Role::ActiveHandles);
    let rss_peak = data
        .series(Role::Rss)
        .iter()
        .map(|s| clip(&s.points, start, end))
        .filter(|points| belongs_to_period(points, data.step_of(Role::Rss)))
        .flatten()
        .map(|p| p.1)
        .max_by(f64::total_cmp);
    let memory_peak = memory_series
        .iter()
        .flatten()
        .map(|p| p.1)
        .max_by(f64::total_cmp);
    let memory_end = median(&last_values(memory_role));
    let percent_of_limit = |v: Option<f64>| match (v, memory_limit) {
        (Some(v), Some(limit)) => Some(v / limit * 100.0),
        _ => None,
    };
    let hours_to_limit = match (memory_limit, memory_end, growth_median) {
        (Some(limit), Some(now), Some(g)) if g > 0.0 => Some(((limit - now) / g).max(0.0)),
        _ => None,
    };
    let gc_collections_per_hour = instants
        .gc_collections
        .filter(|_| hours > 0.0)
        .map(|n| n / hours);
    let gc_collections_per_hour_by = instants
        .gc_collections_by
        .iter()
        .filter(|_| hours > 0.0)
        .map(|(k, n)| (k.clone(), n / hours))
        .collect();
    let growing = leak_is_visible(growth_median, growth_percent);
    let leak_pattern = if !growing {
        "none"
    } else if oom_kills.is_some_and(|n| n > 0)
        || restarts > 0 && restarts_before_end(&restart_times, end)
    {
        "sawtooth-to-oom"
    } else if median(&jump_shares).is_some_and(|share| share > 0.6) {
        "staircase"
    } else {
        "gradual"
    };
    let bytes_per_1k_requests = weighted_median(&per_request).map(|b| b * 1000.0);

    Period {
        from: from_unix_seconds(start),
        to: from_unix_seconds(end),
        hours,
        instance_count: instances.len(),
        observed_hours,
        sample_coverage: median(&coverages),
        heap_baseline_bytes: baseline,
        heap_after_6h_bytes: median(&at_6h),
        heap_end_bytes: median(&ends),
        heap_peak_bytes: peaks.iter().copied().max_by(f64::total_cmp),
        rss_end_bytes: median(&rss_last),
        rss_peak_bytes: rss_peak,
        growth_bytes_per_hour: growth_median,
        growth_bytes_per_hour_total: growth_total,
        growth_interval_bytes_per_hour: growth_interval,
        growth_percent,
        leak_pattern: leak_pattern.to_string(),
        bytes_per_1k_requests,
        gc_pause_p95_seconds: instants.gc_p95,
        gc_pause_p95_by_kind: instants.gc_p95_by_kind.clone(),
        gc_pause_mean_seconds: instants.gc_mean,
        gc_pause_max_seconds: instants.gc_max,
        gc_pause_quantiles: instants.gc_quantiles.clone(),
        gc_collections_per_hour,
        gc_collections_per_hour_by,
        memory_limit_bytes: memory_limit,
        memory_peak_percent_of_limit: percent_of_limit(memory_peak),
        memory_end_percent_of_limit: percent_of_limit(memory_end),
        hours_to_limit,
        restarts,
        restarts_by_source: RestartSources {
            process_start: process_restarts,
            kube_state_metrics: kube.map(|k| k.restarts),
        },
        oom_kills,
        oom_kills_source: oom_kills_source.to_string(),
        oom_kills_per_week: oom_kills
            .filter(|_| hours > 0.0)
            .map(|n| n as f64 / hours * 24.0 * 7.0),
        active_handles_end: (!handles_last.is_empty()).then(|| handles_last.iter().sum()),
        instances,
    }
}

/// An instance counts in a period only with a few samples spanning a couple of steps:
/// a pod that died at the fix (or started at it) leaves one sample on the other side of
/// the boundary, which must not make it an instance of that period.
fn belongs_to_period(points: &[(f64, f64)], step: f64) -> bool {
    points.len() >= 3 && points[points.len() - 1].0 - points[0].0 >= 2.0 * step - 1e-9
}

/// Whether a growth figure shows a leak: at least 1 MB/h, or 10 % of the baseline over
/// the period.
pub fn leak_is_visible(growth: Option<f64>, growth_percent: Option<f64>) -> bool {
    growth.is_some_and(|g| g > 0.0 && (g >= MB || growth_percent.is_some_and(|p| p >= 10.0)))
}

/// Restarts that happened before the period's last step (a lifetime ended, not just began).
fn restarts_before_end(times: &[f64], end: f64) -> bool {
    times.iter().any(|t| *t < end)
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
        // A heap shrinking slightly after the fix is the leak gone, not "100.002 %".
        growth_reduction_percent: reduction_percent(
            before.growth_bytes_per_hour,
            after.growth_bytes_per_hour,
        )
        .map(|p| p.min(100.0)),
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
        gc_mean_reduction_percent: reduction_percent(
            before.gc_pause_mean_seconds,
            after.gc_pause_mean_seconds,
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
        let series = |name: &str, points: Vec<(f64, f64)>| RangeSeries {
            labels: labels(name, "h"),
            points,
        };
        let ended = vec![(0.0, 1.0), (60.0, 2.0), (120.0, 2.0), (180.0, 2.0)];
        let running: Vec<(f64, f64)> = (0..=20)
            .map(|i| (i as f64 * 60.0, 2.0 + i as f64))
            .collect();
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64 * 60.0, 5.0)).collect();
        data.by_role.insert(
            Role::Heap,
            vec![
                series("a", ended),
                series("b", running.clone()),
                series("c", flat.clone()),
            ],
        );
        trim_stale_tails(&mut data, 1200.0);
        // Ended with a repeated value: the repeats within the lookback go.
        assert_eq!(
            data.series(Role::Heap)[0].points,
            vec![(0.0, 1.0), (60.0, 2.0)]
        );
        // Still running at the window's end: untouched.
        assert_eq!(data.series(Role::Heap)[1].points, running);
        // Flat for its whole life: only the lookback's worth of samples can be repeats.
        assert_eq!(data.series(Role::Heap)[2].points, flat[..5].to_vec());
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

    #[test]
    fn the_total_is_not_diluted_by_a_window_longer_than_the_data() {
        // 24 h window, two instances seen only in its second half, each 10 MB/h.
        let step = 60.0;
        let heap: Vec<RangeSeries> = ["a:1", "b:1"]
            .iter()
            .map(|i| RangeSeries {
                labels: labels(i, "heap"),
                points: (720..=1440)
                    .map(|k| {
                        let t = k as f64 * step;
                        (t, 100.0 * MB + 10.0 * MB * (t - 12.0 * HOUR) / HOUR)
                    })
                    .collect(),
            })
            .collect();
        let mut data = RangeData::new(step);
        data.by_role.insert(Role::Heap, heap);
        let bounds = heap_boundaries(&data);
        let p = analyze_period(0.0, 24.0 * HOUR, &data, &bounds, &PeriodInstants::default());
        let total = p.growth_bytes_per_hour_total.unwrap();
        assert!((total - 20.0 * MB).abs() < 0.01 * MB, "{total}");
        // A pod replaced halfway: each half-lived pod counts for half.
        let mut data = RangeData::new(step);
        let half = |name: &str, range: std::ops::RangeInclusive<i32>| RangeSeries {
            labels: labels(name, "heap"),
            points: range
                .map(|k| {
                    (
                        k as f64 * step,
                        100.0 * MB + 10.0 * MB * k as f64 * step / HOUR,
                    )
                })
                .collect(),
        };
        data.by_role.insert(
            Role::Heap,
            vec![half("old:1", 0..=720), half("new:1", 721..=1440)],
        );
        let bounds = heap_boundaries(&data);
        let p = analyze_period(0.0, 24.0 * HOUR, &data, &bounds, &PeriodInstants::default());
        let total = p.growth_bytes_per_hour_total.unwrap();
        assert!((total - 10.0 * MB).abs() < 0.05 * MB, "{total}");
    }

    #[test]
    fn growth_percent_is_over_one_whole_lifetime() {
        // Restarts every 3 h from 1 h in: lifetimes cut by the window (1 h, 2 h) and whole
        // ones (3 h); 10 MB/h from 100 MB in each. The gain per lifetime is 30 MB: 30 %.
        let step = 60.0;
        let start_of = |t: f64| {
            if t < HOUR {
                -HOUR
            } else {
                HOUR + ((t - HOUR) / (3.0 * HOUR)).floor() * 3.0 * HOUR
            }
        };
        let times: Vec<f64> = (0..=1440).map(|k| k as f64 * step).collect();
        let mut data = RangeData::new(step);
        data.by_role.insert(
            Role::Heap,
            vec![RangeSeries {
                labels: labels("a:1", "heap"),
                points: times
                    .iter()
                    .map(|t| {
                        (
                            *t,
                            100.0 * MB + 10.0 * MB * (t - start_of(*t).max(0.0)) / HOUR,
                        )
                    })
                    .collect(),
            }],
        );
        data.by_role.insert(
            Role::ProcessStart,
            vec![RangeSeries {
                labels: labels("a:1", "start"),
                points: times.iter().map(|t| (*t, start_of(*t))).collect(),
            }],
        );
        let bounds = heap_boundaries(&data);
        let p = analyze_period(0.0, 24.0 * HOUR, &data, &bounds, &PeriodInstants::default());
        assert_eq!(p.restarts, 8);
        let percent = p.growth_percent.unwrap();
        assert!((percent - 30.0).abs() < 0.5, "{percent}");
    }

    #[test]
    fn one_crash_looping_pod_does_not_set_the_fleet_lifetime() {
        // 10 instances over 7 days at 1 MB/h from 100 MB; one restarts twice, 10 min apart.
        let step = 600.0;
        let n = (7.0 * 24.0 * HOUR / step) as usize;
        let mut data = RangeData::new(step);
        let mut heap = Vec::new();
        let mut starts = Vec::new();
        for i in 0..10 {
            let name = format!("i{i}:1");
            let start_at = |t: f64| -> f64 {
                if i == 0 && t >= 3600.0 * 50.0 + 600.0 {
                    3600.0 * 50.0 + 600.0
                } else if i == 0 && t >= 3600.0 * 50.0 {
                    3600.0 * 50.0
                } else {
                    -1.0
                }
            };
            let times: Vec<f64> = (0..=n).map(|k| k as f64 * step).collect();
            heap.push(RangeSeries {
                labels: labels(&name, "heap"),
                points: times
                    .iter()
                    .map(|t| (*t, 100.0 * MB + MB * (t - start_at(*t).max(0.0)) / HOUR))
                    .collect(),
            });
            starts.push(RangeSeries {
                labels: labels(&name, "start"),
                points: times.iter().map(|t| (*t, start_at(*t))).collect(),
            });
        }
        data.by_role.insert(Role::Heap, heap);
        data.by_role.insert(Role::ProcessStart, starts);
        let bounds = heap_boundaries(&data);
        let p = analyze_period(
            0.0,
            7.0 * 24.0 * HOUR,
            &data,
            &bounds,
            &PeriodInstants::default(),
        );
        assert_eq!(p.restarts, 2);
        let percent = p.growth_percent.unwrap();
        assert!(
            percent > 150.0,
            "the nine uninterrupted pods' 168 %: {percent}"
        );
    }
}
