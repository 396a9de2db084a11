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
    t
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
