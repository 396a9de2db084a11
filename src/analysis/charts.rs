//! The charts' model ([`ChartData`]) from the acquired series and the evidence: one
//! function, [`chart_data`], decides everything a chart draws, with the same functions
//! the report's figures come from — the instances of each period
//! ([`PeriodView`](super::PeriodView)), their fitted growth
//! ([`growth::lifetime_floor_segments`], the fit behind `growth::instance_growth`), the
//! OOM kills ([`oom::oom_kill_events`], what `oom::oom_kills` counts), the limit the
//! report compares with ([`limit::compared_role`]), the GC statistic. So the chart shows
//! the report's instances, fix, limit and kill count, and `render::chart` only draws.

use super::{PeriodView, growth, limit, oom, restarts};
use crate::acquire::lifetimes::{Boundaries, instance_key, instance_name};
use crate::acquire::{Acquired, PeriodName};
use crate::evidence::charts::{
    ChartData, FitSegment, GcChart, GcGroup, GcStatistic, GrowthPeriod, InstanceLine, LimitBasis,
    LimitLine, MedianLine, MemoryChart, MemoryLayout, OomKillMark, PeriodGrowth, RestartMark,
};
use crate::evidence::{Evidence, OomSource, Period};
use crate::pack::Role;
use crate::prom::{Labels, RangeSeries};
use crate::stats::median;
use crate::timespec::unix_seconds;

/// At most this many instances are drawn (the fastest-growing, plus the one nearest the
/// leak period's median rate); the median runs over all of them.
pub const MAX_INSTANCE_LINES: usize = 8;
/// Two lines closer than this share of the plot's height can't be told apart.
const CLOSE_SHARE: f64 = 0.03;
/// A panel per instance when at least this share of the drawn samples has another
/// instance's line that close at the same time.
const HEAVY_OVERLAP: f64 = 0.25;
/// More lines than this in one plot can't be followed by colour alone: sawtooth lines of
/// one service cross each other every cycle even where they never touch.
const MAX_OVERLAID: usize = 3;

/// Everything the report's charts draw.
pub fn chart_data(acquired: &Acquired, evidence: &Evidence) -> ChartData {
    ChartData {
        memory: memory_chart(acquired, evidence),
        gc: gc_chart(evidence),
    }
}

/// The period whose growth is the leak's: before the fix, else the whole window.
fn leak_period(evidence: &Evidence) -> &Period {
    evidence
        .periods
        .before
        .as_ref()
        .unwrap_or(&evidence.periods.window)
}

/// The periods the report gives a growth for, with theirs.
fn growth_periods(evidence: &Evidence) -> Vec<(GrowthPeriod, PeriodName, &Period)> {
    let p = &evidence.periods;
    match &p.before {
        Some(before) => [(GrowthPeriod::BeforeFix, PeriodName::Before, before)]
            .into_iter()
            .chain(
                p.after
                    .iter()
                    .map(|a| (GrowthPeriod::AfterFix, PeriodName::After, a)),
            )
            .collect(),
        None => vec![(GrowthPeriod::Window, PeriodName::Window, &p.window)],
    }
}

fn view<'a>(acquired: &'a Acquired, name: PeriodName, period: &Period) -> PeriodView<'a> {
    PeriodView::new(
        name,
        (unix_seconds(period.from), unix_seconds(period.to)),
        &acquired.data,
        &acquired.boundaries,
        &acquired.pack,
    )
}

fn memory_chart(acquired: &Acquired, evidence: &Evidence) -> MemoryChart {
    let heap = acquired.data.series(Role::Heap);
    let shown = pick_instances(evidence, heap);
    let (kills, oom_source) = window_oom_kills(acquired, evidence);
    let mut owned: Vec<Vec<oom::OomKill>> = vec![Vec::new(); heap.len()];
    let mut other_oom_kills = Vec::new();
    for kill in kills {
        match kill_owner(&kill.labels, heap).filter(|i| shown.contains(i)) {
            Some(i) => owned[i].push(kill),
            None => other_oom_kills.push(OomKillMark {
                at: kill.at,
                count: kill.count,
                bytes: None,
            }),
        }
    }
    let (from, to) = (
        unix_seconds(evidence.window.from),
        unix_seconds(evidence.window.to),
    );
    // Lifetimes begin up to a step or two before kube-state-metrics' counter shows it.
    let tolerance = 2.0 * acquired.data.step.max(acquired.data.step_of(Role::Heap));
    let mut instances: Vec<InstanceLine> = shown
        .iter()
        .map(|&i| {
            let points: Vec<(f64, f64)> = heap[i]
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect();
            let bounds = acquired.boundaries.get(i).and_then(Option::as_ref);
            let (restarts, oom_kills) =
                restarts_and_kills(bounds, &owned[i], &points, (from, to), tolerance);
            InstanceLine {
                name: instance_name(&heap[i].labels),
                points,
                restarts,
                oom_kills,
                fits: Vec::new(),
                growth: Vec::new(),
            }
        })
        .collect();
    let mut growth = Vec::new();
    for (period, name, figures) in growth_periods(evidence) {
        let view = view(acquired, name, figures);
        add_fits(&mut instances, &shown, heap, &view, period);
        growth.push(PeriodGrowth {
            period,
            bytes_per_hour: figures.growth_bytes_per_hour,
            instance_count: figures.instance_count,
        });
    }
    let leak = leak_period(evidence);
    let limit = leak.memory_limit_bytes.map(|bytes| LimitLine {
        bytes,
        compared: match limit::compared_role(&acquired.data) {
            Role::Rss => LimitBasis::Rss,
            _ => LimitBasis::Drawn,
        },
    });
    let layout = layout(&instances, limit.map(|l| l.bytes));
    MemoryChart {
        service: evidence.service.clone(),
        memory_name: evidence.memory_name.clone(),
        from: evidence.window.from,
        to: evidence.window.to,
        instances,
        series_total: heap.len(),
        median: MedianLine {
            points: median_line(heap),
        },
        growth,
        limit,
        fix: evidence.fix_deployed,
        oom_source,
        other_oom_kills,
        layout,
    }
}

/// The window's OOM kills, as the report counts them (`oom::oom_kill_events` on the
/// window's period, as `analyse` calls it).
fn window_oom_kills(acquired: &Acquired, evidence: &Evidence) -> (Vec<oom::OomKill>, OomSource) {
    let view = view(acquired, PeriodName::Window, &evidence.periods.window);
    let (figures, kube, _) = restarts::restart_figures(&view);
    let limit = limit::memory_limit(&view);
    let (kills, source) = oom::oom_kill_events(&view, kube, &figures, &limit);
    let kills = kills.unwrap_or_default();
    debug_assert_eq!(
        kills.iter().map(|k| k.count).sum::<u64>(),
        evidence.periods.window.oom_kills.unwrap_or(0),
        "the chart's OOM kills are the report's"
    );
    (kills, source)
}

/// The memory series a kill was counted on: the same pod (and namespace, and container
/// when both name one), else the same process labels.
fn kill_owner(kill: &Labels, heap: &[RangeSeries]) -> Option<usize> {
    let agree = |name: &str, other: &Labels| match (kill.get(name), other.get(name)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    heap.iter()
        .position(|s| {
            kill.contains_key("pod")
                && s.labels.get("pod") == kill.get("pod")
                && agree("namespace", &s.labels)
                && agree("container", &s.labels)
        })
        .or_else(|| {
            let key = instance_key(kill);
            heap.iter().position(|s| instance_key(&s.labels) == key)
        })
}

/// An instance's restarts in the window, split into OOM kills (each at the lifetime it
/// ended, when one begins within `tolerance` of it) and the other restarts.
fn restarts_and_kills(
    bounds: Option<&Boundaries>,
    kills: &[oom::OomKill],
    points: &[(f64, f64)],
    (from, to): (f64, f64),
    tolerance: f64,
) -> (Vec<RestartMark>, Vec<OomKillMark>) {
    let mut restarts: Vec<RestartMark> = bounds.map_or_else(Vec::new, |b| {
        b.times
            .iter()
            .enumerate()
            .filter(|(_, t)| **t > from && **t <= to)
            .map(|(i, t)| RestartMark {
                at: *t,
                count: b.counts.get(i).copied().unwrap_or(1),
            })
            .collect()
    });
    let mut marks = Vec::new();
    for kill in kills {
        let nearest = restarts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.count > 0 && (r.at - kill.at).abs() <= tolerance)
            .min_by(|a, b| {
                (a.1.at - kill.at)
                    .abs()
                    .total_cmp(&(b.1.at - kill.at).abs())
            })
            .map(|(i, _)| i);
        let at = match nearest {
            Some(i) => {
                let r = &mut restarts[i];
                r.count = r.count.saturating_sub(kill.count);
                r.at
            }
            None => kill.at,
        };
        // The marker sits on the last sample before the kill: the memory it died at.
        let bytes = points.iter().rev().find(|p| p.0 < at).map(|p| p.1);
        marks.push(OomKillMark {
            at,
            count: kill.count,
            bytes,
        });
    }
    restarts.retain(|r| r.count > 0);
    (restarts, marks)
}

/// Each drawn instance's fitted segments and growth in `view`'s period: the lifetimes
/// `growth::instance_growth` fits for the report, drawn along their post-GC floor.
fn add_fits(
    instances: &mut [InstanceLine],
    shown: &[usize],
    heap: &[RangeSeries],
    view: &PeriodView,
    period: GrowthPeriod,
) {
    for (line, &i) in instances.iter_mut().zip(shown) {
        let Some(member) = view
            .instances
            .iter()
            .find(|m| std::ptr::eq(m.heap, &heap[i]))
        else {
            continue;
        };
        line.growth
            .push((period, member.growth.as_ref().map(|g| g.bytes_per_hour)));
        line.fits.extend(
            growth::lifetime_floor_segments(&member.points, member.cut)
                .into_iter()
                .map(|[start, end]| FitSegment { period, start, end }),
        );
    }
}

/// Which heap series to draw, highest window growth first: at most
/// `MAX_INSTANCE_LINES`, and always the leak period's instance nearest its median rate
/// (the rate the report quotes), swapped in for the last one when not among them.
fn pick_instances(evidence: &Evidence, heap: &[RangeSeries]) -> Vec<usize> {
    let growth_of = |i: usize| {
        let name = instance_name(&heap[i].labels);
        evidence
            .periods
            .window
            .instances
            .iter()
            .find(|x| x.instance == name)
            .and_then(|x| x.growth_bytes_per_hour)
            .unwrap_or(f64::NEG_INFINITY)
    };
    let mut order: Vec<usize> = (0..heap.len()).collect();
    order.sort_by(|a, b| growth_of(*b).total_cmp(&growth_of(*a)));
    let mut shown: Vec<usize> = order.into_iter().take(MAX_INSTANCE_LINES).collect();
    let leak = leak_period(evidence);
    let typical = leak.growth_bytes_per_hour.and_then(|median_rate| {
        let nearest = leak
            .instances
            .iter()
            .filter_map(|x| Some((x, (x.growth_bytes_per_hour? - median_rate).abs())))
            .min_by(|a, b| a.1.total_cmp(&b.1))?
            .0;
        heap.iter()
            .position(|s| instance_name(&s.labels) == nearest.instance)
    });
    if let Some(i) = typical
        && !shown.contains(&i)
    {
        shown.pop();
        shown.push(i);
    }
    shown
}

/// The median across every instance (not only those drawn), at every sample time.
fn median_line(heap: &[RangeSeries]) -> Vec<(f64, f64)> {
    let mut grid: Vec<f64> = heap
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    grid.iter()
        .filter_map(|t| {
            let values: Vec<f64> = heap
                .iter()
                .filter_map(|s| value_at(&s.points, *t))
                .collect();
            median(&values).map(|m| (*t, m))
        })
        .collect()
}

/// The sample at exactly `t` (points are in time order: the client sorts them).
fn value_at(points: &[(f64, f64)], t: f64) -> Option<f64> {
    points
        .binary_search_by(|p| p.0.total_cmp(&t))
        .ok()
        .map(|i| points[i].1)
}

/// One plot while the lines can be followed; a panel per instance when there are more
/// than `MAX_OVERLAID`, or when at least `HEAVY_OVERLAP` of the drawn samples has
/// another instance within `CLOSE_SHARE` of the plot's height at the same time (pods of
/// one deployment running the same code draw nearly the same sawtooth).
fn layout(instances: &[InstanceLine], limit: Option<f64>) -> MemoryLayout {
    if instances.len() < 2 {
        return MemoryLayout::Overlaid;
    }
    if instances.len() > MAX_OVERLAID {
        return MemoryLayout::SmallMultiples;
    }
    let top = instances
        .iter()
        .flat_map(|i| i.points.iter().map(|p| p.1))
        .chain(limit)
        .fold(0.0_f64, f64::max);
    let close = CLOSE_SHARE * top;
    let (mut near, mut total) = (0usize, 0usize);
    for (k, line) in instances.iter().enumerate() {
        for &(t, v) in &line.points {
            total += 1;
            let crowded = instances.iter().enumerate().any(|(j, other)| {
                j != k && value_at(&other.points, t).is_some_and(|w| (w - v).abs() <= close)
            });
            near += usize::from(crowded);
        }
    }
    if total > 0 && near as f64 >= HEAVY_OVERLAP * total as f64 {
        MemoryLayout::SmallMultiples
    } else {
        MemoryLayout::Overlaid
    }
}

/// GC pauses before and after the fix: the p95 where the runtime has a histogram
/// (overall, then per kind), else a summary's mean and max — never a made-up p95.
pub fn gc_chart(evidence: &Evidence) -> Option<GcChart> {
    let (before, after) = (
        evidence.periods.before.as_ref()?,
        evidence.periods.after.as_ref()?,
    );
    let (statistic, groups) = gc_groups(before, after)?;
    Some(GcChart {
        service: evidence.service.clone(),
        statistic,
        groups,
        before: (before.from, before.to),
        after: (after.from, after.to),
    })
}

fn gc_groups(before: &Period, after: &Period) -> Option<(GcStatistic, Vec<GcGroup>)> {
    let group = |name: &str, before: Option<f64>, after: Option<f64>| GcGroup {
        name: name.to_string(),
        before,
        after,
    };
    if let (Some(b), Some(a)) = (before.gc_pause_p95_seconds, after.gc_pause_p95_seconds) {
        let mut groups = vec![group("all kinds", Some(b), Some(a))];
        let mut kinds: Vec<&String> = before
            .gc_pause_p95_by_kind
            .keys()
            .chain(after.gc_pause_p95_by_kind.keys())
            .collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            groups.push(group(
                kind,
                before.gc_pause_p95_by_kind.get(kind).copied(),
                after.gc_pause_p95_by_kind.get(kind).copied(),
            ));
        }
        return Some((GcStatistic::P95, groups));
    }
    let (b, a) = (before.gc_pause_mean_seconds?, after.gc_pause_mean_seconds?);
    let mut groups = vec![group("mean", Some(b), Some(a))];
    if before.gc_pause_max_seconds.is_some() || after.gc_pause_max_seconds.is_some() {
        groups.push(group(
            "max",
            before.gc_pause_max_seconds,
            after.gc_pause_max_seconds,
        ));
    }
    let statistic = if groups.len() > 1 {
        GcStatistic::MeanAndMax
    } else {
        GcStatistic::Mean
    };
    Some((statistic, groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::InstanceFigures;

    const MB: f64 = 1e6;

    fn fixture() -> Evidence {
        serde_json::from_str(include_str!("../../tests/fixtures/evidence-fix.json")).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn instance(name: &str, growth: f64) -> InstanceFigures {
        InstanceFigures {
            instance: name.into(),
            labels: Default::default(),
            growth_bytes_per_hour: Some(growth),
            growth_interval_bytes_per_hour: None,
            lifetimes_fitted: 1,
            heap_start_bytes: None,
            heap_end_bytes: None,
            heap_peak_bytes: None,
            restarts: 0,
        }
    }

    #[test]
    fn the_fastest_instances_are_drawn_and_always_the_median_like_one() {
        // Twelve pods growing 1..12 MB/h; the leak period's median rate is 2 MB/h, so
        // the pod it belongs to is not among the eight fastest.
        let mut evidence = fixture();
        let names: Vec<String> = (1..=12).map(|i| format!("pod-{i}")).collect();
        evidence.periods.window.instances = names
            .iter()
            .enumerate()
            .map(|(i, n)| instance(n, (i + 1) as f64 * MB))
            .collect();
        let leak = evidence.periods.before.as_mut().unwrap();
        leak.instances = evidence.periods.window.instances.clone();
        leak.growth_bytes_per_hour = Some(2.1 * MB);
        let heap: Vec<RangeSeries> = names
            .iter()
            .map(|n| RangeSeries {
                labels: labels(&[("pod", n)]),
                points: Vec::new(),
            })
            .collect();
        let shown = pick_instances(&evidence, &heap);
        assert_eq!(shown.len(), MAX_INSTANCE_LINES);
        assert_eq!(shown[..7], [11, 10, 9, 8, 7, 6, 5], "fastest first");
        assert_eq!(
            shown[7], 1,
            "pod-2, nearest the median rate, takes the last place"
        );
    }

    #[test]
    fn kills_belong_to_the_memory_series_of_their_pod() {
        let heap = vec![
            RangeSeries {
                labels: labels(&[
                    ("instance", "10.0.0.1:9091"),
                    ("pod", "api-0-0"),
                    ("namespace", "prod"),
                ]),
                points: Vec::new(),
            },
            RangeSeries {
                labels: labels(&[
                    ("instance", "10.0.0.2:9091"),
                    ("pod", "api-0-1"),
                    ("namespace", "prod"),
                ]),
                points: Vec::new(),
            },
        ];
        // kube-state-metrics: its own instance, the pod's name and a container.
        let ksm = labels(&[
            ("instance", "ksm:8080"),
            ("pod", "api-0-1"),
            ("namespace", "prod"),
            ("container", "api"),
        ]);
        assert_eq!(kill_owner(&ksm, &heap), Some(1));
        let other_namespace = labels(&[("pod", "api-0-1"), ("namespace", "staging")]);
        assert_eq!(kill_owner(&other_namespace, &heap), None);
        // Counted from memory at the limit: the memory series' own labels.
        assert_eq!(kill_owner(&heap[0].labels, &heap), Some(0));
        let unknown = labels(&[("instance", "elsewhere:1")]);
        assert_eq!(kill_owner(&unknown, &heap), None);
    }

    #[test]
    fn a_kill_replaces_the_restart_it_ended_and_sits_on_the_last_sample() {
        let points: Vec<(f64, f64)> = (0..100).map(|k| (k as f64 * 60.0, k as f64 * MB)).collect();
        let bounds = Boundaries {
            times: vec![600.0, 1800.0, 3000.0],
            from_process: true,
            counts: vec![1, 2, 1],
        };
        let kill = |at: f64, count: u64| oom::OomKill {
            at,
            count,
            labels: Labels::new(),
        };
        // kube-state-metrics sees the kill a step after the new process started; a
        // second kill nowhere near a restart (no boundary) stays at its own time.
        let kills = [kill(1860.0, 1), kill(4500.0, 1)];
        let (restarts, marks) =
            restarts_and_kills(Some(&bounds), &kills, &points, (0.0, 6000.0), 120.0);
        let at: Vec<(f64, u64)> = restarts.iter().map(|r| (r.at, r.count)).collect();
        assert_eq!(
            at,
            [(600.0, 1), (1800.0, 1), (3000.0, 1)],
            "one of two restarts at 1800 was the kill"
        );
        assert_eq!(marks.len(), 2);
        assert_eq!((marks[0].at, marks[0].bytes), (1800.0, Some(29.0 * MB)));
        assert_eq!((marks[1].at, marks[1].bytes), (4500.0, Some(74.0 * MB)));
        // Outside the window: no marks.
        let (restarts, _) =
            restarts_and_kills(Some(&bounds), &[], &points, (1000.0, 2000.0), 120.0);
        assert_eq!(restarts.len(), 1);
    }

    fn line(points: Vec<(f64, f64)>) -> InstanceLine {
        InstanceLine {
            name: String::new(),
            points,
            restarts: Vec::new(),
            oom_kills: Vec::new(),
            fits: Vec::new(),
            growth: Vec::new(),
        }
    }

    fn sawtooth(base: f64) -> Vec<(f64, f64)> {
        (0..600)
            .map(|k| (k as f64 * 60.0, base + 30.0 * MB * ((k % 7) as f64 / 7.0)))
            .collect()
    }

    #[test]
    fn instances_get_panels_when_their_lines_overlap_or_are_many() {
        use MemoryLayout::{Overlaid, SmallMultiples};
        assert_eq!(layout(&[line(sawtooth(200.0 * MB))], None), Overlaid);
        // Two pods 5 MB apart on a 500 MB axis: one line to the eye.
        let close = [line(sawtooth(200.0 * MB)), line(sawtooth(205.0 * MB))];
        assert_eq!(layout(&close, Some(500.0 * MB)), SmallMultiples);
        // 150 MB apart: each line can be followed.
        let apart = [line(sawtooth(100.0 * MB)), line(sawtooth(250.0 * MB))];
        assert_eq!(layout(&apart, Some(500.0 * MB)), Overlaid);
        // Samples at other times never overlap (a pod replaced at the fix).
        let later: Vec<(f64, f64)> = sawtooth(205.0 * MB)
            .into_iter()
            .map(|(t, v)| (t + 36_000.0 + 30.0, v))
            .collect();
        let replaced = [line(sawtooth(200.0 * MB)), line(later)];
        assert_eq!(layout(&replaced, Some(500.0 * MB)), Overlaid);
        // Four lines, however far apart, are too many to follow by colour.
        let many: Vec<InstanceLine> = (0..4)
            .map(|i| line(sawtooth(f64::from(i) * 150.0 * MB)))
            .collect();
        assert_eq!(layout(&many, None), SmallMultiples);
    }

    #[test]
    fn the_median_runs_over_every_series_at_each_time() {
        let series = |values: &[(f64, f64)]| RangeSeries {
            labels: Labels::new(),
            points: values.to_vec(),
        };
        let heap = [
            series(&[(0.0, 1.0), (60.0, 2.0)]),
            series(&[(0.0, 3.0), (60.0, 4.0), (120.0, 9.0)]),
            series(&[(0.0, 5.0), (60.0, 100.0)]),
        ];
        assert_eq!(median_line(&heap), [(0.0, 3.0), (60.0, 4.0), (120.0, 9.0)]);
    }

    #[test]
    fn gc_groups_per_kind_for_histograms_mean_and_max_for_summaries() {
        let mut before = Period {
            gc_pause_p95_seconds: Some(0.5),
            ..Default::default()
        };
        before.gc_pause_p95_by_kind.insert("major".into(), 0.9);
        before.gc_pause_p95_by_kind.insert("minor".into(), 0.01);
        let mut after = Period {
            gc_pause_p95_seconds: Some(0.05),
            ..Default::default()
        };
        after.gc_pause_p95_by_kind.insert("minor".into(), 0.009);
        after
            .gc_pause_p95_by_kind
            .insert("incremental".into(), 0.002);
        let (statistic, groups) = gc_groups(&before, &after).unwrap();
        assert_eq!(statistic, GcStatistic::P95);
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["all kinds", "incremental", "major", "minor"]);
        assert_eq!((groups[2].before, groups[2].after), (Some(0.9), None));
        // A summary runtime: no p95 at all, so mean and max, never a made-up p95.
        let summary = |mean, max| Period {
            gc_pause_mean_seconds: Some(mean),
            gc_pause_max_seconds: Some(max),
            ..Default::default()
        };
        let (statistic, groups) = gc_groups(&summary(0.02, 0.3), &summary(0.01, 0.1)).unwrap();
        assert_eq!(statistic, GcStatistic::MeanAndMax);
        assert_eq!(
            (groups[1].name.as_str(), groups[1].before),
            ("max", Some(0.3))
        );
        // Go's summary has no max series: the title must not promise one.
        let mean_only = |mean| Period {
            gc_pause_mean_seconds: Some(mean),
            ..Default::default()
        };
        let (statistic, groups) = gc_groups(&mean_only(0.004), &mean_only(0.001)).unwrap();
        assert_eq!((statistic, groups.len()), (GcStatistic::Mean, 1));
        assert!(gc_groups(&Period::default(), &Period::default()).is_none());
    }
}
