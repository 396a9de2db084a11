//! Lessons Learned, suggested from the evidence (docs/figures.md, "Lessons Learned"):
//! what the figures say went well (the fix worked, an alert fired early, no OOM kill)
//! and what could be improved (no alert fired, OOM kills before the fix, a long leak, a
//! fix that did not stop the growth), at most two of each, weightiest first.

use crate::evidence::{DetectionSource, Evidence, Lessons, StatusState};
use crate::units;

const MAX_EACH: usize = 2;

/// The suggested lessons; both lists empty when nothing leaked.
pub fn lessons(evidence: &Evidence) -> Lessons {
    if evidence.symptoms.linear_growth.present != Some(true) {
        return Lessons::default();
    }
    let has_fix = evidence.fix_deployed.is_some();
    let (leak, span) = evidence.leak_period();
    let span_words = super::symptoms::period_words(leak, span);
    let mut went_well = Vec::new();
    let mut could_improve = Vec::new();
    // In a draft, validate's Status (the one its Status block keeps) wins.
    let status = evidence
        .draft
        .as_ref()
        .and_then(|d| d.validated_state)
        .or(evidence.status.as_ref().map(|s| s.state));
    let after = evidence.periods.after.as_ref();
    if let (Some(StatusState::Resolved), Some(before), Some(after)) = (
        status,
        leak.growth_bytes_per_hour,
        after.and_then(|a| a.growth_bytes_per_hour),
    ) {
        went_well.push(format!(
            "The fix stopped the growth: {} per instance before it, {} after it (Status: Resolved)",
            units::mb_per_hour(before),
            units::mb_per_hour(after)
        ));
    }
    if let (Some(StatusState::InProgress), Some(after)) =
        (status, after.and_then(|a| a.growth_bytes_per_hour))
    {
        could_improve.push(format!(
            "The fix did not stop the leak: {} per instance after it (Status: In Progress)",
            units::mb_per_hour(after)
        ));
    }
    if let Some(cause) = &evidence.root_cause {
        let named: Vec<String> = cause
            .patterns
            .iter()
            .map(|p| format!("{} ({})", p.pattern, p.objects.join(", ")))
            .collect();
        went_well.push(format!(
            "The heap evidence ({}) named the cause: {}",
            cause.from,
            named.join("; ")
        ));
    }
    let detection = evidence.detection.as_ref();
    match detection.map(|d| d.source) {
        Some(DetectionSource::Alert) => {
            if let Some(at) = detection.and_then(|d| d.firing_at) {
                let since = evidence
                    .onset
                    .as_ref()
                    .filter(|o| o.at <= at)
                    .map(|o| {
                        format!(
                            ", {} after the growth began",
                            units::duration((at - o.at).num_seconds() as f64)
                        )
                    })
                    .unwrap_or_default();
                went_well.push(format!(
                    "An alert caught it: {} fired at {}{since}",
                    detection.and_then(|d| d.alertname.as_deref()).unwrap_or("?"),
                    units::time(at)
                ));
            }
        }
        Some(DetectionSource::WouldHaveFired) => {
            let d = detection.expect("matched");
            could_improve.push(format!(
                "No alert fired{}; the growth alert from leakcollect rules would have fired at {} (see Preventive Measures)",
                if d.alerting_rules == Some(0) {
                    " (no alerting rules were loaded)"
                } else {
                    ""
                },
                d.firing_at.map_or(units::NA.to_string(), units::time)
            ));
        }
        // ALERTS was read (the search has a span) and nothing fired.
        Some(DetectionSource::None) if detection.is_some_and(|d| d.searched_from.is_some()) => {
            could_improve.push(
                "No alert fired for this memory growth: add the growth alert from leakcollect rules (see Preventive Measures)"
                    .to_string(),
            )
        }
        _ => {}
    }
    match leak.oom_kills {
        Some(0) if has_fix && leak.memory_limit_bytes.is_some() => went_well.push(format!(
            "No OOM kill before the fix: it went out with memory at {} of the container limit at most",
            leak.memory_peak_percent_of_limit
                .map_or(units::NA.to_string(), units::percent)
        )),
        Some(0) => {}
        Some(n) => could_improve.push(format!(
            "{n} OOM kill(s) {span_words}: a memory-near-limit alert warns before the kill"
        )),
        None => {}
    }
    if let Some(onset) = evidence.onset.as_ref().filter(|o| o.hours >= 24.0) {
        could_improve.push(format!(
            "The leak ran at least {} before {}",
            units::hours(onset.hours),
            if has_fix {
                "the fix"
            } else {
                "the window's end"
            }
        ));
    }
    went_well.truncate(MAX_EACH);
    could_improve.truncate(MAX_EACH);
    Lessons {
        went_well,
        could_improve,
    }
}
