//! Restart and OOM-kill counts from kube-state-metrics: restart-counter increments
//! matched with the `OOMKilled` last-termination gauge. (Process lifetimes themselves,
//! from start times and counter resets, are found in `acquire::lifetimes`.) And the
//! period's restart figure: from the process itself where it can tell, else from
//! kube-state-metrics.

use super::PeriodView;
use crate::evidence::RestartSources;
use crate::pack::Role;
use crate::prom::{Labels, RangeSeries};

/// The period's restarts, by source, and when lifetimes began in it.
#[derive(Debug, Clone, Default)]
pub struct RestartFigures {
    pub restarts: u64,
    pub by_source: RestartSources,
    /// Times in `(start, end]` at which a new lifetime began (any instance).
    pub times: Vec<f64>,
}

/// Restarts in the period: start times or counter resets where the process has them
/// (each boundary weighted by the restarts counted between raw samples), else
/// kube-state-metrics' restart counter. Also kube-state-metrics' own counts, for the OOM
/// kills, and a warning when the two sources disagree.
pub fn restart_figures(view: &PeriodView) -> (RestartFigures, Option<KubeCounts>, Vec<String>) {
    let data = view.data;
    let mut process: Option<u64> = None;
    let mut times = Vec::new();
    for i in &view.instances {
        times.extend(
            i.cut
                .iter()
                .copied()
                .filter(|b| *b > view.start && *b <= view.end),
        );
        if i.from_process {
            *process.get_or_insert(0) += i.restarts;
        }
    }
    let kube = data.has_data(Role::K8sRestarts).then(|| {
        kube_counts(
            data.series(Role::K8sRestarts),
            data.series(Role::K8sOomReason),
            view.start,
            view.end,
            data.step_of(Role::K8sRestarts)
                .max(data.step_of(Role::K8sOomReason)),
        )
    });
    let mut warnings = Vec::new();
    if let (Some(a), Some(b)) = (process, kube.as_ref().map(|k| k.restarts))
        && a != b
    {
        warnings.push(format!(
            "restarts in the {} period disagree: {a} from process start times, {b} from kube-state-metrics; the report uses the process start times",
            view.name.as_str()
        ));
    }
    let figures = RestartFigures {
        restarts: process.or(kube.as_ref().map(|k| k.restarts)).unwrap_or(0),
        by_source: RestartSources {
            process_start: process,
            kube_state_metrics: kube.as_ref().map(|k| k.restarts),
        },
        times,
    };
    (figures, kube, warnings)
}

/// Restart and OOM-kill counts from kube-state-metrics over `[start, end)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubeCounts {
    pub restarts: u64,
    pub oom_kills: u64,
    /// Each counted kill: when the restart counter rose, by how much, and whose.
    pub kills: Vec<OomKill>,
}

/// Counts restart-counter increments in `[start, end)`, and those of them after which the
/// container's last termination reason was `OOMKilled`.
pub fn kube_counts(
    restarts: &[RangeSeries],
    oom_reason: &[RangeSeries],
    start: f64,
    end: f64,
    step: f64,
) -> KubeCounts {
    let key = |l: &Labels| {
        ["namespace", "pod", "container"]
            .iter()
            .map(|n| l.get(*n).cloned().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let mut counts = KubeCounts::default();
    for series in restarts {
        let reason = oom_reason
            .iter()
            .find(|r| key(&r.labels) == key(&series.labels));
        for pair in series.points.windows(2) {
            let ((_, v0), (t1, v1)) = (pair[0], pair[1]);
            if !(start..end).contains(&t1) || !v0.is_finite() || !v1.is_finite() {
                continue;
            }
            let increase = if v1 >= v0 { v1 - v0 } else { v1 };
            let increase = increase.round() as u64;
            if increase == 0 {
                continue;
            }
            counts.restarts += increase;
            // The reason gauge reflects the termination just counted once kube-state-metrics
            // has seen it: look at the first reason sample at or shortly after the increment.
            let was_oom = reason.is_some_and(|r| {
                r.points
                    .iter()
                    .find(|(t, _)| *t >= t1 - 1e-6 && *t <= t1 + 2.0 * step)
                    .is_some_and(|(_, v)| *v >= 1.0)
            });
            if was_oom {
                counts.oom_kills += increase;
                counts.kills.push(OomKill {
                    at: t1,
                    count: increase,
                    labels: series.labels.clone(),
                });
            }
        }
    }
    counts
}

/// One OOM kill (or several between two samples), as its source saw it (kept here,
/// where kube-state-metrics' restart counts are read; `oom` re-exports it).
#[derive(Debug, Clone, PartialEq)]
pub struct OomKill {
    /// When: the sample at which the source's counter rose, or (counted from memory at
    /// the limit) the new lifetime's start.
    pub at: f64,
    pub count: u64,
    /// The series it was counted on: a kube-state-metrics or cAdvisor container, or a
    /// memory series.
    pub labels: Labels,
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
    fn kube_counts_restarts_and_ooms() {
        let l = [
            ("namespace", "prod"),
            ("pod", "api-0"),
            ("container", "api"),
        ];
        let restarts = vec![series(
            &l,
            vec![
                (0.0, 2.0),
                (60.0, 2.0),
                (120.0, 3.0),
                (180.0, 3.0),
                (240.0, 4.0),
                (300.0, 4.0),
            ],
        )];
        let reason = vec![series(
            &l,
            vec![(120.0, 1.0), (180.0, 1.0), (240.0, 0.0), (300.0, 0.0)],
        )];
        let all = kube_counts(&restarts, &reason, 0.0, 1000.0, 60.0);
        assert_eq!((all.restarts, all.oom_kills), (2, 1));
        // The kill is the increment the reason gauge was raised at, with its pod.
        assert_eq!(all.kills.len(), 1);
        assert_eq!((all.kills[0].at, all.kills[0].count), (120.0, 1));
        assert_eq!(all.kills[0].labels["pod"], "api-0");
        let late = kube_counts(&restarts, &reason, 200.0, 1000.0, 60.0);
        assert_eq!((late.restarts, late.oom_kills), (1, 0));
        assert!(late.kills.is_empty());
    }
}
