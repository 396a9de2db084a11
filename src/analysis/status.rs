//! The Resolution's Status line: `validate`'s verdict rule applied to the evidence, so a
//! report and a validation of the same data say the same word. A report applies it
//! with `validate`'s default thresholds; `validate` with those it was given.

use super::verdict;
use crate::evidence::{Evidence, Status, StatusSource, StatusState, Thresholds, Verdict};

/// `validate --max-growth`'s default ([`crate::cli::DEFAULT_MAX_GROWTH`]) in bytes/hour:
/// growth per instance below which the leak is gone.
pub const DEFAULT_MAX_GROWTH_BYTES_PER_HOUR: f64 = 1e6;
pub use crate::cli::DEFAULT_MIN_HOURS;

/// `validate`'s default thresholds with the run's warm-up.
pub fn default_thresholds(warmup_seconds: f64) -> Thresholds {
    Thresholds {
        max_growth_bytes_per_hour: DEFAULT_MAX_GROWTH_BYTES_PER_HOUR,
        min_hours: DEFAULT_MIN_HOURS,
        warmup_seconds,
    }
}

/// The Status word for a verdict: resolved is Resolved, still leaking is In Progress,
/// inconclusive (too little data, an interval that straddles the threshold) is Monitoring.
pub fn state(verdict: Verdict) -> StatusState {
    match verdict {
        Verdict::Resolved => StatusState::Resolved,
        Verdict::Leaking => StatusState::InProgress,
        Verdict::Inconclusive => StatusState::Monitoring,
    }
}

/// The Status with a fix; `None` without one (people write it).
pub fn status(
    evidence: &Evidence,
    thresholds: &Thresholds,
    source: StatusSource,
) -> Option<Status> {
    evidence.fix_deployed?;
    let j = verdict::judgement(evidence, thresholds);
    Some(Status {
        state: state(j.verdict),
        verdict: j.verdict,
        reason: j.reason,
        source,
        thresholds: thresholds.clone(),
        hours_after_fix: j.hours_after_fix,
        enough_data_at: j.enough_data_at,
        checked_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_per_verdict() {
        assert_eq!(state(Verdict::Resolved), StatusState::Resolved);
        assert_eq!(state(Verdict::Leaking), StatusState::InProgress);
        assert_eq!(state(Verdict::Inconclusive), StatusState::Monitoring);
    }

    #[test]
    fn the_cli_defaults_are_these() {
        let parsed = crate::timespec::parse_rate(crate::cli::DEFAULT_MAX_GROWTH).unwrap();
        assert_eq!(parsed, DEFAULT_MAX_GROWTH_BYTES_PER_HOUR);
    }
}
