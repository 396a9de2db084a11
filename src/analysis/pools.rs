//! Connection pools of a period: the highest share of a pool's maximum that was in use
//! for two consecutive steps (for the "Connection pool exhaustion" symptom) and the connections in use at the
//! period's end (the report's "Active connections"). A pool's in-use series is paired
//! with its maximum by their labels, the metric name aside.

use super::PeriodView;
use crate::pack::Role;
use crate::prom::{Labels, RangeSeries};

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pools {
    /// Highest in-use / maximum of any pool held for two consecutive steps of the period.
    pub used_ratio_peak: Option<f64>,
    /// Connections in use at the period's end, summed over pools.
    pub in_use_end: Option<f64>,
}

fn identity(labels: &Labels) -> Labels {
    labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn within(series: &RangeSeries, view: &PeriodView) -> Vec<(f64, f64)> {
    series
        .points
        .iter()
        .copied()
        .filter(|(t, v)| *t >= view.start && *t <= view.end && v.is_finite())
        .collect()
}

/// The pool figures of the period; both `None` when no pool metric matched.
pub fn pool_figures(view: &PeriodView) -> Pools {
    let used = view.data.series(Role::ConnectionsUsed);
    let max = view.data.series(Role::ConnectionsMax);
    let mut peak: Option<f64> = None;
    let mut end: Option<f64> = None;
    for pool in used {
        let points = within(pool, view);
        if let Some(last) = points.last()
            && view.end - last.0 <= view.tolerance
        {
            *end.get_or_insert(0.0) += last.1;
        }
        let id = identity(&pool.labels);
        let Some(limit) = max.iter().find(|m| identity(&m.labels) == id) else {
            continue;
        };
        let limits = within(limit, view);
        // Each step's share of the maximum; a maximum of 0 means "unlimited" (Go's
        // database/sql): no ratio.
        let ratios: Vec<Option<f64>> = points
            .iter()
            .map(|(t, in_use)| {
                limits
                    .iter()
                    .find(|(u, _)| u == t)
                    .filter(|(_, size)| *size > 0.0)
                    .map(|(_, size)| in_use / size)
            })
            .collect();
        // Held for two consecutive steps, so one sample of a burst is not a peak.
        for pair in ratios.windows(2) {
            if let [Some(a), Some(b)] = pair {
                let held = a.min(*b);
                peak = Some(peak.map_or(held, |p: f64| p.max(held)));
            }
        }
    }
    Pools {
        used_ratio_peak: peak,
        in_use_end: end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::{PeriodName, RangeData};

    fn series(name: &str, pool: &str, values: &[f64]) -> RangeSeries {
        RangeSeries {
            labels: [("__name__", name), ("job", "api"), ("pool", pool)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64 * 60.0, *v))
                .collect(),
        }
    }

    fn figures(used: Vec<RangeSeries>, max: Vec<RangeSeries>) -> Pools {
        let mut data = RangeData::new(60.0);
        data.by_role.insert(Role::ConnectionsUsed, used);
        data.by_role.insert(Role::ConnectionsMax, max);
        let pack = crate::pack::load("jvm", None).unwrap();
        let view = PeriodView::new(PeriodName::Window, (0.0, 240.0), &data, &[], &pack);
        pool_figures(&view)
    }

    #[test]
    fn pools_pair_by_labels_and_peaks_must_hold_two_steps() {
        let used = vec![
            // One step at the maximum: a burst, not a peak.
            series(
                "hikaricp_connections_active",
                "a",
                &[2.0, 10.0, 3.0, 5.0, 5.0],
            ),
            series(
                "hikaricp_connections_active",
                "b",
                &[1.0, 1.0, 1.0, 1.0, 2.0],
            ),
        ];
        let max = vec![
            series("hikaricp_connections_max", "a", &[10.0; 5]),
            series("hikaricp_connections_max", "b", &[4.0; 5]),
        ];
        let p = figures(used, max);
        assert_eq!(p.used_ratio_peak, Some(0.5));
        assert_eq!(p.in_use_end, Some(7.0)); // 5 + 2 at the end
    }

    #[test]
    fn an_unlimited_pool_has_no_ratio_but_counts_its_connections() {
        let used = vec![series("go_sql_in_use_connections", "db", &[3.0; 5])];
        let max = vec![series("go_sql_max_open_connections", "db", &[0.0; 5])];
        let p = figures(used, max);
        assert_eq!(p.used_ratio_peak, None);
        assert_eq!(p.in_use_end, Some(3.0));
    }
}
