//! Alert thresholds for `leakcollect rules` and the report's Preventive Measures: from
//! a measured leak when there is one, else defaults; and the alert names' prefix.

pub use crate::evidence::AlertThresholds;
use crate::evidence::{Evidence, Period};
use crate::units;

pub const MB: f64 = 1e6;

/// Thresholds from measured evidence: alert at half the measured leak rate (at least
/// 1 MB/h), above the measured baseline, and at half the leak period's GC p95 (at least
/// 100 ms). The leak period is the one before the fix, else the window.
pub fn suggested(evidence: &Evidence) -> AlertThresholds {
    suggested_over(evidence, None)
}

/// [`suggested`], with `leaked` — without a fix, the part of the window before a rollout
/// after which growth stopped — as the leak period when there is no fix.
pub fn suggested_over(evidence: &Evidence, leaked: Option<&Period>) -> AlertThresholds {
    let leak = evidence
        .periods
        .before
        .as_ref()
        .or(leaked)
        .unwrap_or(&evidence.periods.window);
    let mut t = AlertThresholds {
        alert_prefix: alert_prefix(&evidence.service),
        ..AlertThresholds::default()
    };
    if let Some(g) = leak.growth_bytes_per_hour.filter(|g| *g > 2.0 * MB) {
        // Rounded to 0.1 MB/h: a threshold people read in a rule file.
        t.growth_bytes_per_hour = ((g / 2.0).max(MB) / 1e5).round() * 1e5;
        t.basis = format!(
            "half the measured leak of {} ({} → {})",
            units::mb_per_hour(g),
            units::time(leak.from),
            units::time(leak.to)
        );
    }
    if let Some(base) = leak.heap_baseline_bytes {
        t.memory_floor_bytes = t.memory_floor_bytes.max(base);
    }
    if let Some(p95) = leak.gc_pause_p95_seconds {
        // Rounded to the millisecond: a threshold people read in a rule file.
        t.gc_p95_seconds = ((p95 / 2.0).max(0.1) * 1000.0).round() / 1000.0;
    }
    if let Some((percent, basis)) = limit_percent(leak, evidence.periods.after.as_ref()) {
        t.limit_percent = percent;
        t.limit_basis = basis;
    }
    if let Some((percent, basis)) = pool_percent(leak) {
        t.pool_used_percent = Some(percent);
        t.pool_basis = Some(basis);
    }
    t
}

/// Hours of warning the memory-near-limit alert aims to give before the limit, at the
/// measured growth.
pub const LIMIT_LEAD_HOURS: f64 = 2.0;
const LIMIT_PERCENT_RANGE: (f64, f64) = (50.0, 95.0);

fn floor_to_5(p: f64) -> f64 {
    (p / 5.0).floor() * 5.0
}

/// The memory-near-limit alert's % of the container limit, when the leak period has a
/// limit: the level the measured growth reaches [`LIMIT_LEAD_HOURS`] before the limit
/// (100 % − 2 h × growth / limit), at most 5 points under the peak the period reached
/// (so this incident would have crossed it), rounded down to 5 %; then at least 5 points
/// over the after-fix peak (so the fixed service does not page), rounded up to 5 %; kept
/// within 50–95 %.
pub fn limit_percent(leak: &Period, after: Option<&Period>) -> Option<(f64, String)> {
    let limit = leak.memory_limit_bytes.filter(|l| *l > 0.0)?;
    let peak = leak.memory_peak_percent_of_limit?;
    let growth = leak.growth_bytes_per_hour.unwrap_or(0.0).max(0.0);
    let lead = LIMIT_LEAD_HOURS * growth / limit * 100.0;
    let mut z = floor_to_5(100.0 - lead).min(floor_to_5(peak - 5.0));
    let healthy = after.and_then(|a| a.memory_peak_percent_of_limit);
    if let Some(h) = healthy {
        // Rounded up: at least 5 points over it.
        z = z.max(((h + 5.0) / 5.0).ceil() * 5.0);
    }
    let z = z.clamp(LIMIT_PERCENT_RANGE.0, LIMIT_PERCENT_RANGE.1);
    let mut basis = format!(
        "the memory peaked at {} of the {} limit between {} and {}, growing {}: the alert sits {} h of that growth below the limit, at most 5 points under that peak",
        units::percent(peak),
        units::mb(limit),
        units::time(leak.from),
        units::time(leak.to),
        units::mb_per_hour(growth),
        units::fixed(LIMIT_LEAD_HOURS, 0),
    );
    if let Some(h) = healthy {
        basis.push_str(&format!(
            " and above the after-fix peak of {}",
            units::percent(h)
        ));
    }
    Some((z, basis))
}

/// The pool-saturation alert's % of a pool's maximum, from the leak period's pool peak
/// (held two steps, `analysis::pools`): 80 % when the pools were exhausted (alert on the
/// way there), else halfway from that peak to exhaustion, rounded down to 5 % and kept
/// within 50–95 % (above anything the period saw, so normal load does not page).
pub fn pool_percent(leak: &Period) -> Option<(f64, String)> {
    let ratio = leak.connections_used_ratio?;
    let peak = ratio * 100.0;
    let (z, why) = if ratio >= crate::analysis::symptoms::POOL_EXHAUSTED_RATIO - 1e-9 {
        (80.0, "exhausted: the alert fires on the way there")
    } else {
        (
            floor_to_5(peak + (100.0 - peak) / 2.0).clamp(50.0, 95.0),
            "the alert sits halfway from there to exhaustion",
        )
    };
    Some((
        z,
        format!(
            "connections in use reached {} of a pool's maximum between {} and {}; {why}",
            units::percent(peak),
            units::time(leak.from),
            units::time(leak.to)
        ),
    ))
}

/// The service name as an alert-name prefix: `checkout-api` → `CheckoutApi`.
pub fn alert_prefix(service: &str) -> String {
    service
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(limit: f64, peak_percent: f64, growth: f64) -> Period {
        Period {
            memory_limit_bytes: Some(limit),
            memory_peak_percent_of_limit: Some(peak_percent),
            growth_bytes_per_hour: Some(growth),
            ..Period::default()
        }
    }

    #[test]
    fn the_limit_alert_gives_two_hours_and_stays_under_the_peak() {
        // 60 MB/h on 600 MB: 2 h is 20 % of the limit → 80 %.
        let (z, _) = limit_percent(&period(600e6, 99.0, 60e6), None).unwrap();
        assert_eq!(z, 80.0);
        // A peak of 72 %: at most 5 points under it, rounded down → 65 %.
        assert_eq!(
            limit_percent(&period(600e6, 72.0, 60e6), None).unwrap().0,
            65.0
        );
        // Fast growth would put it under 50 %: kept at 50.
        assert_eq!(
            limit_percent(&period(600e6, 99.0, 200e6), None).unwrap().0,
            50.0
        );
        // Not growing: 5 points under the peak, within 50–95.
        assert_eq!(
            limit_percent(&period(600e6, 40.0, 0.0), None).unwrap().0,
            50.0
        );
        // Above the fixed service's peak of 78 %: 5 points over it, rounded → 85.
        let after = period(600e6, 78.0, 0.0);
        assert_eq!(
            limit_percent(&period(600e6, 99.0, 60e6), Some(&after))
                .unwrap()
                .0,
            85.0
        );
        // No limit: no measured threshold.
        assert!(limit_percent(&Period::default(), None).is_none());
    }

    #[test]
    fn the_pool_alert_sits_under_exhaustion_or_halfway_to_it() {
        let pools = |ratio| Period {
            connections_used_ratio: Some(ratio),
            ..Period::default()
        };
        assert_eq!(pool_percent(&pools(1.0)).unwrap().0, 80.0);
        assert_eq!(pool_percent(&pools(0.5)).unwrap().0, 75.0);
        assert_eq!(pool_percent(&pools(0.1)).unwrap().0, 55.0);
        assert!(pool_percent(&Period::default()).is_none());
    }
}
