//! GC figures of a period, from its instant answers: pause p95 (histograms), mean, max
//! and a summary's own quantiles, collections per hour — overall and split by the label
//! each runtime uses (`kind` in Node.js, `generation` in Python and .NET, `gc` in the JVM).

use super::PeriodView;
use crate::pack::Role;
use crate::prom::InstantSample;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GcSummary {
    pub p95: Option<f64>,
    pub p95_by_kind: BTreeMap<String, f64>,
    pub mean: Option<f64>,
    pub max: Option<f64>,
    pub quantiles: BTreeMap<String, f64>,
    pub collections_per_hour: Option<f64>,
    pub collections_per_hour_by: BTreeMap<String, f64>,
}

/// The label that splits a GC figure.
fn split_label(s: &InstantSample) -> String {
    ["kind", "generation", "gc", "quantile"]
        .iter()
        .find_map(|l| s.labels.get(*l).cloned())
        .unwrap_or_else(|| "all".into())
}

fn by_label(samples: &[InstantSample]) -> BTreeMap<String, f64> {
    samples
        .iter()
        .filter(|s| s.value.is_finite())
        .map(|s| (split_label(s), s.value))
        .collect()
}

/// The GC figures from `answers` (a later answer of a role replaces an earlier one,
/// in the pack's order), with why the p95 is missing when it is.
pub fn gc_summary(
    view: &PeriodView,
    answers: &[(Role, Vec<InstantSample>)],
) -> (GcSummary, Vec<String>) {
    let mut gc = GcSummary::default();
    let mut collections: Option<f64> = None;
    let mut collections_by = BTreeMap::new();
    for (role, samples) in answers {
        let first = samples.iter().map(|s| s.value).find(|v| v.is_finite());
        match role {
            Role::GcP95 => gc.p95 = first,
            Role::GcP95ByKind => gc.p95_by_kind = by_label(samples),
            Role::GcMean => gc.mean = first,
            Role::GcMax => gc.max = first,
            Role::GcQuantiles => gc.quantiles = by_label(samples),
            Role::GcCollections => {
                let values = by_label(samples);
                collections = (!values.is_empty()).then(|| values.values().sum());
                if values.len() > 1 || !values.contains_key("all") {
                    collections_by = values;
                }
            }
            _ => {}
        }
    }
    // A summary's quantile 1 is its largest observation (Go's go_gc_duration_seconds):
    // the longest pause, where the runtime gives no max of its own.
    if gc.max.is_none() {
        gc.max = gc
            .quantiles
            .iter()
            .find(|(q, _)| q.parse::<f64>().is_ok_and(|q| q == 1.0))
            .map(|(_, v)| *v);
    }
    let hours = view.hours();
    gc.collections_per_hour = collections.filter(|_| hours > 0.0).map(|n| n / hours);
    gc.collections_per_hour_by = collections_by
        .iter()
        .filter(|_| hours > 0.0)
        .map(|(k, n)| (k.clone(), n / hours))
        .collect();
    let mut missing = Vec::new();
    let name = view.name.as_str();
    let has_summary = gc.mean.is_some() || !gc.quantiles.is_empty();
    if gc.p95.is_none() && has_summary {
        missing.push(format!(
            "GC pause p95 for the {name} period is not available: {} publishes a summary, not a histogram; the report gives its mean, max and quantiles instead",
            view.pack.title
        ));
    } else if gc.p95.is_none() && view.pack.by_role(Role::GcP95).next().is_some() {
        missing.push(format!(
            "GC pause p95 for the {name} period is missing: the GC histogram is absent or has no observations in the period"
        ));
    }
    (gc, missing)
}
