//! Process lifetimes: where each memory series' lifetimes begin (a restart), found
//! once for the whole window from the process start time, else a counter reset (or a
//! falling uptime: OpenTelemetry's `process.uptime`), else kube-state-metrics' restart
//! counter, and which of them was used ([`restart_source_note`]); and how series of
//! different metrics are matched to one process. Part of normalising what was fetched: every figure that reads a
//! lifetime (growth, growth %, restarts, the finer step) reads these boundaries.

use super::RangeData;
use crate::pack::{Pack, Role};
use crate::prom::{Labels, RangeSeries};

/// Labels that identify one process across the metrics of one exporter.
const IDENTITY_LABELS: &[&str] = &["instance", "pod", "namespace", "container"];
/// A start time moving by less than this is clock jitter, not a restart.
const START_TIME_JITTER_SECONDS: f64 = 1.0;

/// A stable key for "the same process", used to match series of different metrics.
pub fn instance_key(labels: &Labels) -> String {
    let parts: Vec<String> = IDENTITY_LABELS
        .iter()
        .filter_map(|name| labels.get(*name).map(|v| format!("{name}={v:?}")))
        .collect();
    if parts.is_empty() {
        labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        parts.join(",")
    }
}

/// A short human name for an instance: its `instance` or `pod` label, else its labels.
pub fn instance_name(labels: &Labels) -> String {
    labels
        .get("instance")
        .or_else(|| labels.get("pod"))
        .cloned()
        .unwrap_or_else(|| instance_key(labels))
}

/// The series among `candidates` that belongs to the same process as `labels`.
pub fn matching<'a>(labels: &Labels, candidates: &'a [RangeSeries]) -> Option<&'a RangeSeries> {
    let key = instance_key(labels);
    candidates.iter().find(|c| instance_key(&c.labels) == key)
}

/// The kube-state-metrics series of the same pod (and container, when the series names
/// one) as `labels`.
pub fn matching_container<'a>(
    labels: &Labels,
    candidates: &'a [RangeSeries],
) -> Option<&'a RangeSeries> {
    let pod = labels.get("pod")?;
    candidates.iter().find(|c| {
        c.labels.get("pod") == Some(pod)
            && c.labels.get("namespace") == labels.get("namespace")
            && labels
                .get("container")
                .is_none_or(|container| c.labels.get("container") == Some(container))
    })
}

/// Times at which a restart counter went up: each is a new lifetime.
pub fn boundaries_from_counter_increments(counter: &[(f64, f64)]) -> Vec<f64> {
    counter
        .windows(2)
        .filter(|p| p[1].1 > p[0].1)
        .map(|p| p[1].0)
        .collect()
}

/// Times at which a new process lifetime began, from a start-time series: the new start
/// time itself, clamped between the samples that saw the change.
pub fn boundaries_from_start_times(start_times: &[(f64, f64)]) -> Vec<f64> {
    let mut out = Vec::new();
    for pair in start_times.windows(2) {
        let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
        if v0.is_finite() && v1.is_finite() && (v1 - v0).abs() > START_TIME_JITTER_SECONDS {
            let at = if v1 > t0 && v1 <= t1 { v1 } else { t1 };
            out.push(at);
        }
    }
    out
}

/// Times at which a counter reset (fell), marking a restart when start times are absent.
pub fn boundaries_from_counter_resets(counter: &[(f64, f64)]) -> Vec<f64> {
    counter
        .windows(2)
        .filter(|p| p[1].1 < p[0].1)
        .map(|p| p[1].0)
        .collect()
}

/// Restart boundaries with how many restarts each stands for, from per-step counts of
/// changes between raw samples (`pack::restart_count_promql`): a boundary's count is the
/// first non-zero one at or after it and before the next boundary, since several
/// restarts between two steps are one boundary but as many changes. Counts at or before
/// `first_seen` (the source series' first point: restarts before the window) are
/// ignored. Other counts with no boundary are either new boundaries
/// (`unseen_are_restarts`: a counter fell between raw samples, then climbed back above
/// its value at the step before) or a reason to distrust the counts (`None`: a start
/// time jittering between scrapes, which the boundaries deliberately ignore).
pub fn restarts_per_boundary(
    times: &[f64],
    counts: &[(f64, f64)],
    first_seen: f64,
    unseen_are_restarts: bool,
) -> Option<Vec<(f64, u64)>> {
    let counted = |n: f64| n.is_finite() && n >= 0.5;
    let mut out: Vec<(f64, u64)> = times.iter().map(|t| (*t, 1)).collect();
    let mut claimed = vec![false; counts.len()];
    let mut next_free = 0;
    for (i, (time, weight)) in out.iter_mut().enumerate() {
        let before = times.get(i + 1).copied().unwrap_or(f64::INFINITY);
        let first = counts.partition_point(|(t, _)| *t < *time).max(next_free);
        let found = (first..counts.len())
            .take_while(|j| counts[*j].0 < before)
            .find(|j| counted(counts[*j].1));
        if let Some(j) = found {
            claimed[j] = true;
            *weight = (counts[j].1.round() as u64).max(1);
            next_free = j + 1;
        }
    }
    for ((t, n), claimed) in counts.iter().zip(&claimed) {
        if !claimed && *t > first_seen && counted(*n) {
            if !unseen_are_restarts {
                return None;
            }
            out.push((*t, n.round() as u64));
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(out)
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
                    .and_then(|(count_role, _)| matching(&heap.labels, data.series(count_role)))
                    .and_then(|c| {
                        restarts_per_boundary(
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
            if let Some(start) = matching(&heap.labels, data.series(Role::ProcessStart)) {
                let times = boundaries_from_start_times(&start.points);
                return Some(from_process(Role::ProcessStart, start, times));
            }
            if let Some(counter) = matching(&heap.labels, data.series(Role::ResetCounter)) {
                let times = boundaries_from_counter_resets(&counter.points);
                return Some(from_process(Role::ResetCounter, counter, times));
            }
            matching_container(&heap.labels, data.series(Role::K8sRestarts)).map(|k| Boundaries {
                times: boundaries_from_counter_increments(&k.points),
                from_process: false,
                counts: Vec::new(),
            })
        })
        .collect()
}

/// Where restarts come from when no process start time was found but a counter (or an
/// uptime) was: which query, in the report's words, since OpenTelemetry exports often
/// have no `process_start_time_seconds` and a reader should know what a restart means.
pub fn restart_source_note(pack: &Pack, data: &RangeData) -> Option<String> {
    if data.has_data(Role::ProcessStart) || !data.has_data(Role::ResetCounter) {
        return None;
    }
    let query = pack.by_role(Role::ResetCounter).next()?;
    let what = query
        .description
        .split([':', ';'])
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('.');
    let mut chars = what.chars();
    let what: String = chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default();
    Some(format!(
        "no process start time was found: a restart is where the query `{}` ({what}) falls",
        query.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], points: Vec<(f64, f64)>) -> RangeSeries {
        RangeSeries {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points,
        }
    }

    #[test]
    fn start_time_changes_become_boundaries() {
        let st = vec![
            (0.0, 100.0),
            (60.0, 100.0),
            (120.0, 100.0),
            (180.0, 150.0),
            (240.0, 150.0),
            (300.0, 300.5),
        ];
        assert_eq!(boundaries_from_start_times(&st), vec![150.0, 300.0]);
        assert_eq!(
            boundaries_from_counter_resets(&[(0.0, 5.0), (1.0, 6.0), (2.0, 0.5)]),
            vec![2.0]
        );
    }

    #[test]
    fn keys_match_across_metrics() {
        let heap = series(
            &[("__name__", "a"), ("job", "api"), ("instance", "h:1")],
            vec![],
        );
        let start = series(
            &[("__name__", "b"), ("job", "api"), ("instance", "h:1")],
            vec![],
        );
        assert_eq!(instance_key(&heap.labels), instance_key(&start.labels));
        assert!(matching(&heap.labels, std::slice::from_ref(&start)).is_some());
        assert_eq!(instance_name(&heap.labels), "h:1");
    }

    #[test]
    fn several_restarts_between_two_steps_count_each() {
        // Steps every 60 s; restarts seen at 120 (two of them) and 300 (one).
        let counts: Vec<(f64, f64)> = [0.0, 60.0, 120.0, 180.0, 240.0, 300.0]
            .iter()
            .map(|t| {
                (
                    *t,
                    if *t == 120.0 {
                        2.0
                    } else if *t == 300.0 {
                        1.0
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        for unseen_are_restarts in [false, true] {
            assert_eq!(
                restarts_per_boundary(&[95.0, 300.0], &counts, 0.0, unseen_are_restarts),
                Some(vec![(95.0, 2), (300.0, 1)])
            );
        }
        // A zero or missing count never makes a seen restart vanish.
        let zeros: Vec<(f64, f64)> = counts.iter().map(|(t, _)| (*t, 0.0)).collect();
        assert_eq!(
            restarts_per_boundary(&[170.0], &zeros, 0.0, false),
            Some(vec![(170.0, 1)])
        );
        assert_eq!(
            restarts_per_boundary(&[400.0], &[], 0.0, false),
            Some(vec![(400.0, 1)])
        );
        // A counted restart no boundary explains: a start time's jitter, not trusted...
        assert_eq!(
            restarts_per_boundary(&[200.0], &counts[..4], 0.0, false),
            None
        );
        let jitter: Vec<(f64, f64)> = (0..6).map(|i| (i as f64 * 60.0, 4.0)).collect();
        assert_eq!(restarts_per_boundary(&[120.0], &jitter, 0.0, false), None);
        // A restart just before the window, counted at its first step: not this window's.
        let early: Vec<(f64, f64)> = vec![(0.0, 1.0), (60.0, 0.0), (120.0, 2.0)];
        assert_eq!(
            restarts_per_boundary(&[100.0], &early, 0.0, false),
            Some(vec![(100.0, 2)])
        );
        // A boundary far from its count (a gap in the start times) still finds it, and
        // does not take the next boundary's.
        let gap: Vec<(f64, f64)> = vec![(60.0, 0.0), (120.0, 0.0), (180.0, 2.0), (240.0, 3.0)];
        assert_eq!(
            restarts_per_boundary(&[70.0, 230.0], &gap, 0.0, false),
            Some(vec![(70.0, 2), (230.0, 3)])
        );
        // ...but a counter that fell between steps and climbed back: a restart.
        assert_eq!(
            restarts_per_boundary(&[300.0], &counts, 0.0, true),
            Some(vec![(120.0, 2), (300.0, 1)])
        );
    }
}
