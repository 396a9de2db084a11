//! When the leak began: the deployment or restart after which lifetimes started growing.
//!
//! The memory series from `--lookback` before the window to the fix (or the window's
//! end) are cut into process lifetimes (start-time changes, as everywhere), and each
//! lifetime gets the restart-aware slope the growth figures use. A lifetime grows when
//! its slope is at least half the leak period's growth (and 1 MB/hour). The onset is the
//! latest deployment before which lifetimes did not grow and after which they did; else
//! the start of the first growing lifetime after the last one that did not grow (a
//! restart); else, when every lifetime grew, the earliest sample (the leak is older).

use super::growth::{MIN_LIFETIME_POINTS, instance_growth, split_lifetimes};
use crate::acquire::deployments::{DeployData, DeploySeries};
use crate::acquire::lifetimes;
use crate::evidence::{Deployment, Onset, OnsetEvent};
use crate::stats::median;
use crate::timespec::{from_unix_seconds, unix_seconds};

const MB: f64 = 1e6;
/// Lifetimes shorter than this say little about a slope.
const MIN_LIFETIME_SECONDS: f64 = 1800.0;
/// How far before a deployment the lifetimes it ended are looked at.
const BEFORE_SPAN: f64 = 24.0 * 3600.0;

/// One process lifetime: when it began and ended, and its slope.
#[derive(Debug, Clone, Copy)]
struct Lifetime {
    begin: f64,
    end: f64,
    bytes_per_hour: f64,
}

/// Every lifetime with a slope in `[start, until]`.
fn lifetimes_until(data: &DeployData, until: f64) -> Vec<Lifetime> {
    let starts = data.get(DeploySeries::ProcessStart);
    let mut out = Vec::new();
    for heap in data.get(DeploySeries::Heap) {
        let points: Vec<(f64, f64)> = heap
            .points
            .iter()
            .copied()
            .filter(|p| p.0 <= until)
            .collect();
        let cut = lifetimes::matching(&heap.labels, starts)
            .map(|s| lifetimes::boundaries_from_start_times(&s.points))
            .unwrap_or_default();
        for lifetime in split_lifetimes(&points, &cut) {
            let (begin, end) = (lifetime[0].0, lifetime[lifetime.len() - 1].0);
            if lifetime.len() < MIN_LIFETIME_POINTS || end - begin < MIN_LIFETIME_SECONDS {
                continue;
            }
            if let Some(g) = instance_growth(&lifetime, &[]) {
                out.push(Lifetime {
                    begin,
                    end,
                    bytes_per_hour: g.bytes_per_hour,
                });
            }
        }
    }
    out.sort_by(|a, b| a.begin.total_cmp(&b.begin));
    out
}

fn median_slope<'a>(lifetimes: impl Iterator<Item = &'a Lifetime>) -> Option<f64> {
    median(&lifetimes.map(|l| l.bytes_per_hour).collect::<Vec<_>>())
}

/// The onset of the leak, or why it cannot be told. `leak_growth` is the leak period's
/// growth (before the fix, else the window); `fix` the fix time; `window_end` where the
/// data ends; `still_growing` whether memory grew at the window's end (no fix).
pub fn onset(
    data: &DeployData,
    deployments: &[Deployment],
    leak_growth: Option<f64>,
    (window_start, fix, window_end): (f64, Option<f64>, f64),
    still_growing: bool,
) -> (Option<Onset>, Vec<String>) {
    // No leak, no onset: nothing to explain.
    let Some(leak) = leak_growth.filter(|g| *g >= MB) else {
        return (None, Vec::new());
    };
    if data.get(DeploySeries::Heap).is_empty() {
        return (
            None,
            vec!["no leak onset: the memory series before the window could not be read (query onset_heap)".into()],
        );
    }
    let until = fix.unwrap_or(window_end);
    let threshold = (leak / 2.0).max(MB);
    let all = lifetimes_until(data, until);
    let grows = |l: &Lifetime| l.bytes_per_hour >= threshold;
    let make = |at: f64, event, version: Option<String>, before, after| Onset {
        at: from_unix_seconds(at),
        event,
        version,
        growth_before_bytes_per_hour: before,
        growth_after_bytes_per_hour: after,
        until: from_unix_seconds(until),
        hours: (until - at) / 3600.0,
        still_growing: fix.is_none() && still_growing,
    };
    // The latest deployment with no growth before it and growth after it.
    for d in deployments.iter().rev() {
        let start = unix_seconds(d.started);
        if start >= until {
            continue;
        }
        // The old instances' lifetimes end when the rollout replaced them.
        let replaced = d.finished.map_or(start, unix_seconds) + 2.0 * data.step;
        let before = median_slope(
            all.iter()
                .filter(|l| l.begin < start && l.end <= replaced && l.end >= start - BEFORE_SPAN),
        );
        let after = median_slope(all.iter().filter(|l| l.begin >= start - data.step));
        if let (Some(b), Some(a)) = (before, after)
            && b < threshold
            && a >= threshold
        {
            let version = (!d.versions_after.is_empty()).then(|| d.versions_after.join(", "));
            return (
                Some(make(start, OnsetEvent::Deployment, version, before, after)),
                Vec::new(),
            );
        }
    }
    let Some(last_flat) = all
        .iter()
        .filter(|l| !grows(l))
        .max_by(|a, b| a.begin.total_cmp(&b.begin))
    else {
        if all.is_empty() {
            return (
                None,
                vec![format!(
                    "no leak onset: no process lifetime before the {} is long enough for a slope (the series before the window is read at a coarse step; a shorter --lookback reads it finer)",
                    if fix.is_some() { "fix" } else { "window's end" }
                )],
            );
        }
        let after = median_slope(all.iter());
        // The earliest sample read, not only the first fitted lifetime's start: the
        // lifetimes are cut at a coarse step, and the Duration line must never say less
        // than the growth the data shows.
        let earliest = data
            .get(DeploySeries::Heap)
            .iter()
            .filter_map(|s| s.points.first().map(|p| p.0))
            .chain(all.iter().map(|l| l.begin))
            // The leak period itself grows from the window's start.
            .chain([window_start])
            .fold(f64::INFINITY, f64::min);
        // Not a warning: the Duration line says "since before …", the JSON `before-data`.
        return (
            Some(make(earliest, OnsetEvent::BeforeData, None, None, after)),
            Vec::new(),
        );
    };
    let growing_after: Vec<&Lifetime> = all
        .iter()
        .filter(|l| grows(l) && l.begin >= last_flat.end - data.step)
        .collect();
    let Some(first) = growing_after.first() else {
        return (
            None,
            vec![format!(
                "no leak onset: the last process lifetimes before the {} did not grow",
                if fix.is_some() { "fix" } else { "window's end" }
            )],
        );
    };
    let before = median_slope(all.iter().filter(|l| !grows(l)));
    let after = median_slope(growing_after.iter().copied());
    (
        Some(make(first.begin, OnsetEvent::Restart, None, before, after)),
        Vec::new(),
    )
}
