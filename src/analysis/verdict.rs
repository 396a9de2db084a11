//! `validate`'s verdict from the evidence after a fix: resolved only with enough clean
//! data and a growth interval wholly below the threshold; leaking on a confident growth
//! above it or any OOM kill; otherwise inconclusive, saying why and until when.

use crate::evidence::{Evidence, Period, Thresholds, Validation, Verdict};
use chrono::{DateTime, Duration, Utc};

pub const VALIDATION_SCHEMA: &str = "leakcollect/validation/v1";
/// Below this share of evaluation steps with a sample, the data has too many gaps.
const MIN_COVERAGE: f64 = 0.8;

use crate::units::{self, mb_per_hour as mb};

/// The verdict on the period after the fix (and warm-up): its growth intervals, OOM
/// kills, data sufficiency and gaps, and whether Prometheus warned.
fn judge_after(
    after: &Period,
    thresholds: &Thresholds,
    prometheus_warned: bool,
    enough_data_at: &mut Option<DateTime<Utc>>,
) -> (Verdict, String, f64) {
    let limit = thresholds.max_growth_bytes_per_hour;
    let hours = after.observed_hours;
    let instances: Vec<(&str, [f64; 2])> = after
        .instances
        .iter()
        .filter_map(|i| {
            i.growth_interval_bytes_per_hour
                .map(|iv| (i.instance.as_str(), iv))
        })
        .collect();
    let over: Vec<&str> = instances
        .iter()
        .filter(|(_, iv)| iv[0] > limit)
        .map(|(name, _)| *name)
        .collect();
    let straddling: Vec<&str> = instances
        .iter()
        .filter(|(_, iv)| iv[0] <= limit && iv[1] >= limit)
        .map(|(name, _)| *name)
        .collect();
    let growth = after.growth_bytes_per_hour;
    let oom = after.oom_kills;
    if oom.is_some_and(|n| n > 0) {
        (
            Verdict::Leaking,
            format!("{} OOM kill(s) after the fix", oom.unwrap_or(0)),
            hours,
        )
    } else if !over.is_empty() {
        (
            Verdict::Leaking,
            format!(
                "growth after the fix is above {} with 95% confidence on {} of {} instances ({}); median {}",
                mb(limit),
                over.len(),
                instances.len(),
                over.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                growth.map_or("n/a".into(), mb)
            ),
            hours,
        )
    } else if hours < thresholds.min_hours {
        *enough_data_at = Some(
            after.from + Duration::milliseconds((thresholds.min_hours * 3600.0 * 1000.0) as i64),
        );
        (
            Verdict::Inconclusive,
            format!(
                "only {} of data after the fix and warm-up; {} needed",
                units::hours(hours),
                units::hours(thresholds.min_hours)
            ),
            hours,
        )
    } else if instances.is_empty() {
        (
            Verdict::Inconclusive,
            "no instance has enough samples after the fix for a growth figure".into(),
            hours,
        )
    } else if after.sample_coverage.is_some_and(|c| c < MIN_COVERAGE) {
        (
            Verdict::Inconclusive,
            format!(
                "too many gaps after the fix: samples at {:.0}% of steps (at least {:.0}% needed)",
                after.sample_coverage.unwrap_or(0.0) * 100.0,
                MIN_COVERAGE * 100.0
            ),
            hours,
        )
    } else if after.heap_end_bytes.is_none() {
        // Coverage is measured within each instance's own span: a service that
        // stopped reporting looks perfectly covered up to its last sample. (Pods
        // replaced later in the period are fine: the new ones reach the end.)
        (
            Verdict::Inconclusive,
            format!(
                "no instance has data near the end of the {} after the fix (the longest ran {}): did the service stop reporting, or does the window reach past the data?",
                units::hours(after.hours),
                units::hours(after.observed_hours)
            ),
            hours,
        )
    } else if !straddling.is_empty() {
        (
            Verdict::Inconclusive,
            format!(
                "the growth interval straddles {} on {} of {} instances ({}); more data will narrow it",
                mb(limit),
                straddling.len(),
                instances.len(),
                straddling
                    .iter()
                    .take(5)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hours,
        )
    } else if oom.is_none() && after.restarts > 0 {
        (
            Verdict::Inconclusive,
            format!(
                "{} restart(s) after the fix and no OOM source to tell whether they were OOM kills",
                after.restarts
            ),
            hours,
        )
    } else if prometheus_warned {
        (
            Verdict::Inconclusive,
            "Prometheus answered with warnings (partial data?); not calling it resolved".into(),
            hours,
        )
    } else {
        (
            Verdict::Resolved,
            format!(
                "growth after the fix is below {} with 95% confidence on all {} instances (median {}) over {}, and {}",
                mb(limit),
                instances.len(),
                growth.map_or("n/a".into(), mb),
                units::hours(hours),
                if oom.is_some() {
                    "no OOM kills"
                } else {
                    "no restarts (OOM kills themselves are unknown: no OOM source)"
                }
            ),
            hours,
        )
    }
}

/// The verdict on evidence with a fix, and what it rests on: one rule for `validate`
/// and for the Status line of every report (`analysis::status`).
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub reason: String,
    /// Hours of data after the fix and warm-up.
    pub hours_after_fix: f64,
    /// When enough data will exist, if that is what is missing.
    pub enough_data_at: Option<DateTime<Utc>>,
}

/// The verdict for `evidence` under `thresholds`.
pub fn judgement(evidence: &Evidence, thresholds: &Thresholds) -> Judgement {
    let mut enough_data_at = None;
    let (verdict, reason, hours) = match &evidence.periods.after {
        None => {
            let start = evidence.fix_deployed.map(|fix| {
                fix + Duration::milliseconds((thresholds.warmup_seconds * 1000.0) as i64)
            });
            enough_data_at = start.map(|s| {
                s + Duration::milliseconds((thresholds.min_hours * 3600.0 * 1000.0) as i64)
            });
            (
                Verdict::Inconclusive,
                "no data after the fix and its warm-up yet".to_string(),
                0.0,
            )
        }
        Some(after) => {
            let prometheus_warned = evidence
                .warnings
                .iter()
                .any(|w| w.starts_with("Prometheus warned"));
            judge_after(after, thresholds, prometheus_warned, &mut enough_data_at)
        }
    };
    Judgement {
        verdict,
        reason,
        hours_after_fix: hours,
        enough_data_at,
    }
}

pub fn judge(evidence: Evidence, thresholds: Thresholds, now: DateTime<Utc>) -> Validation {
    let j = judgement(&evidence, &thresholds);
    Validation {
        schema: VALIDATION_SCHEMA.to_string(),
        verdict: j.verdict,
        reason: j.reason,
        checked_at: now,
        thresholds,
        hours_after_fix: j.hours_after_fix,
        enough_data_at: j.enough_data_at,
        next_review: match j.verdict {
            Verdict::Resolved => Some(now + Duration::days(7)),
            Verdict::Inconclusive => Some(j.enough_data_at.unwrap_or(now + Duration::hours(1))),
            Verdict::Leaking => None,
        },
        evidence,
    }
}
