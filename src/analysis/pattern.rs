//! The leak pattern of a period: none, gradual, staircase (most of the growth in a few
//! jumps) or sawtooth-to-oom (growth cut short by OOM kills or restarts).

pub use crate::evidence::LeakPattern;
use crate::stats::median;

const MB: f64 = 1e6;

/// Whether a growth figure shows a leak: at least 1 MB/h, or 10 % of the baseline over
/// the span growth % is taken over.
pub fn leak_is_visible(growth: Option<f64>, growth_percent: Option<f64>) -> bool {
    growth.is_some_and(|g| g > 0.0 && (g >= MB || growth_percent.is_some_and(|p| p >= 10.0)))
}

/// The pattern from the growth, the OOM kills and restarts (times of new lifetimes),
/// and the instances' jump shares (`growth::jump_share`).
pub fn leak_pattern(
    growth: Option<f64>,
    growth_percent: Option<f64>,
    oom_kills: Option<u64>,
    (restarts, restart_times): (u64, &[f64]),
    end: f64,
    jump_shares: &[f64],
) -> LeakPattern {
    if !leak_is_visible(growth, growth_percent) {
        LeakPattern::None
    } else if oom_kills.is_some_and(|n| n > 0)
        || restarts > 0 && restart_times.iter().any(|t| *t < end)
    {
        // A restart before the period's last step: a lifetime ended, not just began.
        LeakPattern::SawtoothToOom
    } else if median(jump_shares).is_some_and(|share| share > 0.6) {
        LeakPattern::Staircase
    } else {
        LeakPattern::Gradual
    }
}
