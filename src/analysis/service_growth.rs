//! The service's growth in a period, from its instances' restart-aware slopes
//! (`growth::instance_growth`): the median (weighted by hours observed), its 95 %
//! interval, the total for the service, and growth % — the gain over one process
//! lifetime as a share of the baseline, with the span it is taken over.

use super::PeriodView;
use crate::stats::{median, weighted_median};

const HOUR: f64 = 3600.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GrowthSummary {
    pub bytes_per_hour: Option<f64>,
    pub interval_bytes_per_hour: Option<[f64; 2]>,
    pub total_bytes_per_hour: Option<f64>,
    pub percent: Option<f64>,
    /// The span `percent` is taken over: the period when nothing restarted, else the
    /// median whole process lifetime (at most the period).
    pub percent_over_hours: Option<f64>,
}

/// Hours each instance was observed in the period, with its growth estimate.
fn observed(view: &PeriodView) -> Vec<(f64, f64, (f64, f64))> {
    view.instances
        .iter()
        .filter_map(|i| {
            let g = i.growth.as_ref()?;
            Some((g.bytes_per_hour, i.span() / HOUR, g.interval_bytes_per_hour))
        })
        .collect()
}

/// The length of one process lifetime, in hours, as each instance shows it: its whole
/// lifetimes when it restarted at least twice, else its longest stretch (the whole span
/// when it never restarted), so a fleet that mostly runs uninterrupted is not judged by
/// one pod's crash loop.
fn lifetime_hours(view: &PeriodView) -> Vec<f64> {
    let mut out = Vec::new();
    for i in &view.instances {
        let (first_t, last_t) = (i.points[0].0, i.points[i.points.len() - 1].0);
        let inside: Vec<f64> = i
            .cut
            .iter()
            .copied()
            .filter(|t| *t > first_t && *t < last_t)
            .collect();
        if inside.len() >= 2 {
            out.extend(inside.windows(2).map(|w| (w[1] - w[0]) / HOUR));
        } else {
            let edges: Vec<f64> = [first_t]
                .into_iter()
                .chain(inside.iter().copied())
                .chain([last_t])
                .collect();
            if let Some(longest) = edges.windows(2).map(|w| w[1] - w[0]).max_by(f64::total_cmp) {
                out.push(longest / HOUR);
            }
        }
    }
    out
}

/// The service's growth figures; `baseline` is the period's median baseline and
/// `restarted` whether any lifetime began inside it.
pub fn growth_summary(
    view: &PeriodView,
    baseline: Option<f64>,
    restarted: bool,
) -> (GrowthSummary, Vec<String>) {
    let hours = view.hours();
    let growths = observed(view);
    let weights: Vec<(f64, f64)> = growths.iter().map(|(g, h, _)| (*g, *h)).collect();
    // Weighted by hours observed, so a pod that lived ten minutes counts for ten minutes.
    let median_growth = weighted_median(&weights);
    // Averaged over the hours the service was seen, not the period: a window reaching
    // past the data (or before the service existed) must not dilute the total.
    let seen_hours = match view.seen() {
        Some((first, last)) if last > first => (last - first) / HOUR,
        _ => hours,
    };
    let total = (!growths.is_empty() && seen_hours > 0.0).then(|| {
        growths
            .iter()
            .map(|(g, h, _)| g * (h / seen_hours).min(1.0))
            .sum::<f64>()
    });
    let interval = (!growths.is_empty()).then(|| {
        let lows: Vec<(f64, f64)> = growths.iter().map(|(_, h, (lo, _))| (*lo, *h)).collect();
        let highs: Vec<(f64, f64)> = growths.iter().map(|(_, h, (_, hi))| (*hi, *h)).collect();
        [
            weighted_median(&lows).unwrap_or(f64::NAN),
            weighted_median(&highs).unwrap_or(f64::NAN),
        ]
    });
    // What the heap gains in one process lifetime: over the period when nothing
    // restarts, else over the median lifetime (a restart gives the gain back).
    let lifetime = if restarted {
        median(&lifetime_hours(view)).map_or(hours, |l| l.min(hours))
    } else {
        hours
    };
    let percent = match (median_growth, baseline) {
        (Some(g), Some(b)) if b > 0.0 => Some(g * lifetime / b * 100.0),
        _ => None,
    };
    let mut missing = Vec::new();
    if median_growth.is_none() {
        missing.push(format!(
            "growth for the {} period is missing: no instance has a process lifetime of at least {} samples in it",
            view.name.as_str(),
            super::growth::MIN_LIFETIME_POINTS
        ));
    }
    let summary = GrowthSummary {
        bytes_per_hour: median_growth,
        interval_bytes_per_hour: interval,
        total_bytes_per_hour: total,
        percent,
        percent_over_hours: percent.map(|_| lifetime),
    };
    (summary, missing)
}

/// Whether the instances disagree on the growth: fewer than half of those with a growth
/// interval have the period's median inside it (e.g. leaking pods and fixed ones in one
/// period). The median then describes none of them.
pub fn instances_disagree(p: &crate::evidence::Period) -> bool {
    let Some(median) = p.growth_bytes_per_hour else {
        return false;
    };
    let intervals: Vec<[f64; 2]> = p
        .instances
        .iter()
        .filter_map(|i| i.growth_interval_bytes_per_hour)
        .collect();
    let containing = intervals
        .iter()
        .filter(|[lo, hi]| *lo <= median && median <= *hi)
        .count();
    intervals.len() >= 2 && containing * 2 < intervals.len()
}

/// The warning for [`instances_disagree`], naming the period.
pub fn disagreement_warning(name: &str, p: &crate::evidence::Period) -> Option<String> {
    instances_disagree(p).then(|| {
        let rates: Vec<String> = p
            .instances
            .iter()
            .filter_map(|i| i.growth_bytes_per_hour)
            .map(crate::units::mb_per_hour_number)
            .collect();
        format!(
            "the instances disagree on the growth in the {name} period ({} MB/hour): their median, {}, lies outside most of their 95% intervals and describes none of them; a fix or a rollout inside the period? give --fix-deployed, or read the per-instance table",
            rates.join(", "),
            crate::units::mb_per_hour(p.growth_bytes_per_hour.unwrap_or(0.0))
        )
    })
}
