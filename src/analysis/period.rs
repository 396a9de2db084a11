//! One period's figures (the whole window, before the fix, or after it), assembled from
//! the function that computes each ([`levels`](super::levels),
//! [`service_growth`](super::service_growth), [`restarts`](super::restarts),
//! [`oom`](super::oom), [`gc`](super::gc), [`pattern`](super::pattern),
//! [`limit`](super::limit), [`requests`](super::requests)), each with why it is missing
//! when it is; and the before/after improvement.

use super::{PeriodView, gc, growth, levels, limit, oom, pattern, requests, restarts};
use crate::evidence::{Improvement, InstanceFigures, Period};
use crate::pack::Role;
use crate::prom::InstantSample;
use crate::timespec::from_unix_seconds;

/// Every figure of the period, and why those missing are missing (in the order the
/// report lists them: levels, growth, GC, restarts).
pub fn analyse_period(
    view: &PeriodView,
    answers: &[(Role, Vec<InstantSample>)],
) -> (Period, Vec<String>) {
    let (levels, mut missing) = levels::level_figures(view);
    let (restarts, kube, restart_warnings) = restarts::restart_figures(view);
    let (growth, growth_missing) =
        super::service_growth::growth_summary(view, levels.baseline, !restarts.times.is_empty());
    missing.extend(growth_missing);
    let (gc, gc_missing) = gc::gc_summary(view, answers);
    let traffic = super::traffic::traffic(view, answers);
    let pools = super::pools::pool_figures(view);
    missing.extend(gc_missing);
    missing.extend(restart_warnings);
    let limit = limit::memory_limit(view);
    let (kill_events, oom_source) = oom::oom_kill_events(view, kube, &restarts, &limit);
    let oom_kills = kill_events
        .as_ref()
        .map(|k| k.iter().map(|k| k.count).sum::<u64>());
    let (peak_percent, end_percent) = limit::percent_of_limit(&limit);
    let jump_shares: Vec<f64> = view
        .instances
        .iter()
        .filter_map(|i| growth::jump_share(&i.points))
        .collect();
    let hours = view.hours();
    let mut period = Period {
        from: from_unix_seconds(view.start),
        to: from_unix_seconds(view.end),
        hours,
        instance_count: view.instances.len(),
        observed_hours: view.observed_hours(),
        sample_coverage: view.sample_coverage(),
        heap_baseline_bytes: levels.baseline,
        heap_after_6h_bytes: levels.after_6h,
        heap_end_bytes: levels.end,
        heap_peak_bytes: levels.peak,
        rss_end_bytes: levels.rss_end,
        rss_peak_bytes: levels.rss_peak,
        growth_bytes_per_hour: growth.bytes_per_hour,
        growth_bytes_per_hour_total: growth.total_bytes_per_hour,
        growth_interval_bytes_per_hour: growth.interval_bytes_per_hour,
        growth_percent: growth.percent,
        growth_percent_over_hours: growth.percent_over_hours,
        leak_pattern: pattern::leak_pattern(
            growth.bytes_per_hour,
            growth.percent,
            oom_kills,
            (restarts.restarts, &restarts.times),
            view.end,
            &jump_shares,
        ),
        bytes_per_1k_requests: requests::bytes_per_1k_requests(view),
        gc_pause_p95_seconds: gc.p95,
        gc_pause_p95_by_kind: gc.p95_by_kind,
        gc_pause_mean_seconds: gc.mean,
        gc_pause_max_seconds: gc.max,
        gc_pause_quantiles: gc.quantiles,
        gc_collections_per_hour: gc.collections_per_hour,
        gc_collections_per_hour_by: gc.collections_per_hour_by,
        memory_limit_bytes: limit.bytes,
        memory_peak_percent_of_limit: peak_percent,
        memory_end_percent_of_limit: end_percent,
        hours_to_limit: limit::hours_to_limit(&limit, growth.bytes_per_hour),
        restarts: restarts.restarts,
        restarts_by_source: restarts.by_source,
        oom_kills,
        oom_kills_source: oom_source,
        oom_kills_per_week: oom_kills
            .filter(|_| hours > 0.0)
            .map(|n| n as f64 / hours * 24.0 * 7.0),
        active_handles_end: levels.handles_end,
        latency_p95_seconds: traffic.latency_p95,
        error_ratio: traffic.error_ratio,
        latency_trend_seconds: traffic.latency_trend.map(|(a, b)| [a, b]),
        connections_used_ratio: pools.used_ratio_peak,
        connections_in_use_end: pools.in_use_end,
        instances: instance_figures(view),
        ..Period::default()
    };
    period.instances_disagree = super::service_growth::instances_disagree(&period);
    period.oom_kills_far_below_limit = oom::kills_far_below_limit(&period);
    period.lifetime = levels::lifetime(&period);
    period.load_test = requests::load_test(&period);
    period.affected = super::impact::affected(view, &period, kill_events.as_deref());
    let rate = super::impact::rate_per_instance(view);
    // Only a leak has a reproduction time: growth the Symptoms rule counts.
    if super::symptoms::linear_growth(&period, "").present == Some(true) {
        period.reproduction = super::reproduction::reproduction(view, &period, rate);
    }
    let routes = super::routes::leak_by_route(view, period.heap_baseline_bytes);
    period.leak_by_route = routes.routes;
    period.leak_by_route_missing = routes.missing;
    period.leak_by_route_unexplained_share = routes.unexplained_share;
    period.leak_by_route_alike = routes.alike;
    period.leak_by_route_top = routes.top;
    period.leak_by_route_steps = routes.steps;
    period.leak_by_route_hours = routes.hours;
    missing.extend(oom::far_below_limit_warning(view.name.as_str(), &period));
    (period, missing)
}

/// Every instance of the period, highest growth first.
fn instance_figures(view: &PeriodView) -> Vec<InstanceFigures> {
    let mut out: Vec<InstanceFigures> = view
        .instances
        .iter()
        .map(|i| InstanceFigures {
            instance: crate::acquire::lifetimes::instance_name(&i.heap.labels),
            labels: i.heap.labels.clone(),
            growth_bytes_per_hour: i.growth.as_ref().map(|g| g.bytes_per_hour),
            growth_interval_bytes_per_hour: i
                .growth
                .as_ref()
                .map(|g| [g.interval_bytes_per_hour.0, g.interval_bytes_per_hour.1]),
            lifetimes_fitted: i.growth.as_ref().map_or(0, |g| g.lifetimes_fitted),
            heap_start_bytes: i.points.first().map(|p| p.1),
            heap_end_bytes: i.points.last().map(|p| p.1),
            heap_peak_bytes: i.levels.peak,
            restarts: i.restarts,
        })
        .collect();
    out.sort_by(|a, b| {
        b.growth_bytes_per_hour
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.growth_bytes_per_hour.unwrap_or(f64::NEG_INFINITY))
    });
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::lifetimes::heap_boundaries;
    use crate::acquire::{PeriodName, RangeData};
    use crate::prom::RangeSeries;

    const HOUR: f64 = 3600.0;
    const MB: f64 = 1e6;

    /// The window period's figures for `data`, as collect computes them.
    fn analyse(start: f64, end: f64, data: &RangeData) -> Period {
        let bounds = heap_boundaries(data);
        let pack = crate::pack::load("nodejs", None).unwrap();
        let view = PeriodView::new(PeriodName::Window, (start, end), data, &bounds, &pack);
        analyse_period(&view, &[]).0
    }

    fn labels(instance: &str, name: &str) -> crate::prom::Labels {
        [("__name__", name), ("job", "api"), ("instance", instance)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
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
        let p = analyse(0.0, 12.0 * HOUR, &data);
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
        let p = analyse(0.0, 24.0 * HOUR, &data);
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
        let p = analyse(0.0, 24.0 * HOUR, &data);
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
        let p = analyse(0.0, 24.0 * HOUR, &data);
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
        let p = analyse(0.0, 7.0 * 24.0 * HOUR, &data);
        assert_eq!(p.restarts, 2);
        let percent = p.growth_percent.unwrap();
        assert!(
            percent > 150.0,
            "the nine uninterrupted pods' 168 %: {percent}"
        );
    }
}
