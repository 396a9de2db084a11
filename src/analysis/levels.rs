//! Levels: the memory at the period's start (baseline), 6 h in and at its end as medians
//! across instances, and its peak as the highest sample of any instance; RSS at the end
//! (median) and its peak (highest), and active handles at the end (summed). Also the shared helpers every figure uses to cut a series
//! to a period.

use super::PeriodView;
use crate::pack::Role;
use crate::stats::median;

const HOUR: f64 = 3600.0;

/// The samples of `points` within `[start, end]`, finite values only.
pub fn clip(points: &[(f64, f64)], start: f64, end: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .copied()
        .filter(|(t, v)| *t >= start && *t <= end && v.is_finite())
        .collect()
}

/// An instance counts in a period only with a few samples spanning a couple of steps:
/// a pod that died at the fix (or started at it) leaves one sample on the other side of
/// the boundary, which must not make it an instance of that period.
pub fn belongs_to_period(points: &[(f64, f64)], step: f64) -> bool {
    points.len() >= 3 && points[points.len() - 1].0 - points[0].0 >= 2.0 * step - 1e-9
}

/// How far from a period's edge a sample may be and still stand for the level there:
/// the coarsest step of the window times three, or 5 % of the period.
pub fn tolerance(step: f64, start: f64, end: f64) -> f64 {
    (3.0 * step).max(0.05 * (end - start))
}

/// One instance's levels within tolerance of the period's edges.
#[derive(Debug, Clone, Copy, Default)]
pub struct Levels {
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub at_6h: Option<f64>,
    pub peak: Option<f64>,
}

pub fn levels(points: &[(f64, f64)], start: f64, end: f64, tolerance: f64) -> Levels {
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

/// The period's level figures.
#[derive(Debug, Clone, Default)]
pub struct LevelFigures {
    pub baseline: Option<f64>,
    pub after_6h: Option<f64>,
    pub end: Option<f64>,
    pub peak: Option<f64>,
    pub rss_end: Option<f64>,
    pub rss_peak: Option<f64>,
    /// Sum across instances of the last active-handles sample.
    pub handles_end: Option<f64>,
}

/// The last sample of each of `role`'s series that belongs to the period and lies
/// within tolerance of its end.
pub fn last_values(view: &PeriodView, role: Role) -> Vec<f64> {
    let data = view.data;
    data.series(role)
        .iter()
        .map(|s| clip(&s.points, view.start, view.end))
        .filter(|points| belongs_to_period(points, data.step_of(role)))
        .filter_map(|points| levels(&points, view.start, view.end, view.tolerance).last)
        .collect()
}

/// Levels of the memory figure (from the instances' own levels), RSS and handles; with
/// why each missing one is missing.
pub fn level_figures(view: &PeriodView) -> (LevelFigures, Vec<String>) {
    let pick = |f: fn(&Levels) -> Option<f64>| -> Vec<f64> {
        view.instances.iter().filter_map(|i| f(&i.levels)).collect()
    };
    let peaks = pick(|l| l.peak);
    let handles = last_values(view, Role::ActiveHandles);
    let rss_peak = view
        .data
        .series(Role::Rss)
        .iter()
        .map(|s| clip(&s.points, view.start, view.end))
        .filter(|points| belongs_to_period(points, view.data.step_of(Role::Rss)))
        .flatten()
        .map(|p| p.1)
        .max_by(f64::total_cmp);
    let figures = LevelFigures {
        baseline: median(&pick(|l| l.first)),
        after_6h: median(&pick(|l| l.at_6h)),
        end: median(&pick(|l| l.last)),
        peak: peaks.iter().copied().max_by(f64::total_cmp),
        rss_end: median(&last_values(view, Role::Rss)),
        rss_peak,
        handles_end: (!handles.is_empty()).then(|| handles.iter().sum()),
    };
    let missing = missing_levels(view, &figures);
    (figures, missing)
}

fn missing_levels(view: &PeriodView, f: &LevelFigures) -> Vec<String> {
    let name = view.name.as_str();
    let within = crate::timespec::format_duration(std::time::Duration::from_secs(
        (3.0 * view.data.step).max(0.05 * view.hours() * 3600.0) as u64,
    ));
    let seen = !view.instances.is_empty();
    let mut out = Vec::new();
    if f.baseline.is_none() && seen {
        out.push(format!(
            "heap baseline for the {name} period is missing: no instance has a sample within {within} of the period's start (does the data start later?)"
        ));
    }
    if f.end.is_none() && seen {
        out.push(format!(
            "heap at the end of the {name} period is missing: no instance has a sample within {within} of the period's end (did the data stop earlier?)"
        ));
    }
    if f.after_6h.is_none() && view.hours() >= 6.0 && seen {
        out.push(format!(
            "heap after 6 h for the {name} period is missing: no instance has a sample within {within} of start + 6 h"
        ));
    }
    if f.handles_end.is_none() && view.data.has_data(Role::ActiveHandles) {
        out.push(format!(
            "{} at the end of the {name} period is missing: no sample within {within} of the period's end",
            view.pack.handles_name
        ));
    }
    out
}

/// One process lifetime of a period at its measured growth, when restarts cut the
/// clock-time levels short: the median whole lifetime and the memory at its end from the
/// median baseline. `None` without restarts (the clock-time levels then say it).
pub fn lifetime(p: &crate::evidence::Period) -> Option<crate::evidence::Lifetime> {
    let (base, growth, hours) = (
        p.heap_baseline_bytes?,
        p.growth_bytes_per_hour?,
        p.growth_percent_over_hours?,
    );
    (p.restarts > 0).then(|| crate::evidence::Lifetime {
        hours,
        gain_bytes: growth * hours,
        end_bytes: base + growth * hours,
        after_6h_bytes: (hours >= 6.0).then_some(base + growth * 6.0),
    })
}
