//! Alert thresholds for `leakcollect rules` and the report's Preventive Measures: from
//! a measured leak when there is one, else defaults; and the alert names' prefix.

use crate::evidence::Evidence;
use serde::Serialize;

pub const MB: f64 = 1e6;

/// Alert thresholds for the rules and the report's Preventive Measures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertThresholds {
    pub growth_bytes_per_hour: f64,
    /// How long growth must last before the alert fires, in Prometheus syntax.
    pub growth_for: String,
    pub limit_percent: f64,
    pub memory_floor_bytes: f64,
    pub gc_p95_seconds: f64,
    /// Where the numbers come from, in words.
    pub basis: String,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            growth_bytes_per_hour: 10.0 * MB,
            growth_for: "2h".into(),
            limit_percent: 90.0,
            memory_floor_bytes: 256.0 * MB,
            gc_p95_seconds: 0.5,
            basis: "defaults (no measured leak)".into(),
        }
    }
}

/// Thresholds from measured evidence: alert at half the measured leak rate (at least
/// 1 MB/h), above the measured baseline, and at half the leak period's GC p95 (at least
/// 100 ms).
pub fn suggested(evidence: &Evidence) -> AlertThresholds {
    let leak = evidence
        .periods
        .before
        .as_ref()
        .unwrap_or(&evidence.periods.window);
    let mut t = AlertThresholds::default();
    if let Some(g) = leak.growth_bytes_per_hour.filter(|g| *g > 2.0 * MB) {
        // Rounded to 0.1 MB/h: a threshold people read in a rule file.
        t.growth_bytes_per_hour = ((g / 2.0).max(MB) / 1e5).round() * 1e5;
        t.basis = format!(
            "half the measured leak of {:.1} MB/hour ({} → {})",
            g / MB,
            crate::timespec::display(leak.from),
            crate::timespec::display(leak.to)
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
