//! The Initial Symptoms boxes, each decided by a documented rule (docs/figures.md,
//! "Symptoms") from the leak period — before the fix, or the whole window without one —
//! and, where a rule compares, the period after the fix. A box whose data does not
//! exist is neither ticked nor cleared: `present` is null and `because` says "no data".

use crate::evidence::{Period, Symptom, Symptoms};
use crate::units;

const MB: f64 = 1e6;
/// Growth that counts as a leak: 1 MB/hour per instance, or 10 % of the baseline over
/// the span the growth percentage is taken over.
pub const LINEAR_GROWTH_BYTES_PER_HOUR: f64 = MB;
pub const LINEAR_GROWTH_PERCENT: f64 = 10.0;
/// A GC pause (p95, or the mean where the runtime publishes no histogram) this long is
/// pressure whatever came after.
pub const GC_PAUSE_BOUND_SECONDS: f64 = 0.1;
/// Or, against the after-fix period: at least this many times as long, and longer by
/// at least `GC_PAUSE_MIN_DIFFERENCE_SECONDS`.
pub const GC_PAUSE_FACTOR: f64 = 2.0;
pub const GC_PAUSE_MIN_DIFFERENCE_SECONDS: f64 = 0.02;
/// A GC kind's p95 counts only when the kind ran this often in the period.
pub const GC_MIN_COLLECTIONS: f64 = 5.0;
/// For runtimes with a summary (mean and max, no p95): a longest pause this long.
pub const GC_MAX_BOUND_SECONDS: f64 = 1.0;
/// A pool is exhausted when its connections in use reach its maximum.
pub const POOL_EXHAUSTED_RATIO: f64 = 1.0;
/// Latency degraded: this many times the reference (after the fix, or the leak
/// period's first tenth), and longer by at least `LATENCY_MIN_DIFFERENCE_SECONDS`.
pub const LATENCY_FACTOR: f64 = 1.5;
pub const LATENCY_MIN_DIFFERENCE_SECONDS: f64 = 0.05;
/// Errors degraded: at least this share of requests, and (with a fix) twice the share
/// after it.
pub const ERROR_RATIO_BOUND: f64 = 0.01;
pub const ERROR_RATIO_FACTOR: f64 = 2.0;

/// Latency counts as degraded against a reference: `LATENCY_FACTOR` times it and longer
/// by at least `LATENCY_MIN_DIFFERENCE_SECONDS` (the Service degradation box, the TL;DR).
pub fn latency_worse(now: f64, then: f64) -> bool {
    now >= LATENCY_FACTOR * then && now - then >= LATENCY_MIN_DIFFERENCE_SECONDS
}

/// Which part of the window the boxes are decided over (the evidence's own notion).
pub use crate::evidence::LeakSpan;

/// How the leak period is named in the reasons ("before the fix (20.0 h)").
pub(crate) fn period_words(leak: &Period, span: LeakSpan) -> String {
    let name = match span {
        LeakSpan::BeforeFix => "before the fix".to_string(),
        LeakSpan::BeforeRollout(at) => format!(
            "before the rollout at {}, after which growth stopped",
            units::time(at)
        ),
        LeakSpan::Window => "over the window".to_string(),
    };
    format!("{name} ({})", units::hours(leak.hours))
}

fn no_data(what: &str) -> Symptom {
    Symptom {
        present: None,
        because: format!("no data: {what}"),
    }
}

/// Every box, from the leak period (before the fix with `has_fix`, else the window) and
/// the after-fix period when there is one.
pub fn symptoms(leak: &Period, after: Option<&Period>, has_fix: bool) -> Symptoms {
    let span = if has_fix {
        LeakSpan::BeforeFix
    } else {
        LeakSpan::Window
    };
    symptoms_over(leak, after, span)
}

/// Every box, from the leak period `span` names and the after-fix period when there is one.
pub fn symptoms_over(leak: &Period, after: Option<&Period>, span: LeakSpan) -> Symptoms {
    let span = period_words(leak, span);
    Symptoms {
        linear_growth: linear_growth(leak, &span),
        oom_crashes: oom_crashes(leak, &span),
        gc_pressure: gc_pressure(leak, after, &span),
        connection_pool_exhaustion: pool_exhaustion(leak, &span),
        service_degradation: degradation(leak, after, &span),
        other: other_restarts(leak, &span),
    }
}

/// The "Other" box: restarts in the leak period that were not OOM kills (crashes,
/// failed liveness probes, rollouts), when a source tells kills from other restarts.
fn other_restarts(period: &Period, span: &str) -> Symptom {
    let Some(kills) = period.oom_kills else {
        return no_data("no source tells an OOM kill from another restart");
    };
    let restarts = period.restarts;
    let others = restarts.saturating_sub(kills);
    Symptom {
        present: Some(others > 0),
        because: if others > 0 {
            format!(
                "restarts that were not OOM kills: {others} of the {restarts} restarts {span} (crashes, failed liveness probes or rollouts)"
            )
        } else if restarts > 0 {
            format!(
                "no other symptom in the metrics: each of the {restarts} restarts {span} was an OOM kill"
            )
        } else {
            format!("no other symptom in the metrics: no restarts {span}")
        },
    }
}

/// Growth of at least 1 MB/hour per instance, or 10 % of the baseline over the span
/// `growth_percent` is taken over.
pub fn linear_growth(period: &Period, span: &str) -> Symptom {
    let Some(growth) = period.growth_bytes_per_hour else {
        return no_data("the growth could not be computed (see the warnings)");
    };
    let percent = period.growth_percent;
    let present = growth >= LINEAR_GROWTH_BYTES_PER_HOUR
        || percent.is_some_and(|p| p >= LINEAR_GROWTH_PERCENT);
    let percent_text = match (percent, period.growth_percent_over_hours) {
        (Some(p), Some(h)) => format!(
            ", {} of the baseline in {}",
            units::percent(p),
            units::hours(h)
        ),
        _ => String::new(),
    };
    Symptom {
        present: Some(present),
        because: format!(
            "{} per instance (median) {span}{percent_text} (growth counts as a leak from 1 MB/hour, or when memory grows by 10% of its baseline within one process lifetime)",
            units::mb_per_hour(growth)
        ),
    }
}

/// At least one OOM kill in the leak period.
fn oom_crashes(period: &Period, span: &str) -> Symptom {
    let Some(kills) = period.oom_kills else {
        return no_data(
            "no source tells an OOM kill from another restart (kube-state-metrics, cAdvisor or a memory limit)",
        );
    };
    let source = serde_json::to_value(period.oom_kills_source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Symptom {
        present: Some(kills > 0),
        because: format!(
            "{kills} OOM {} {span}, counted from {source}",
            if kills == 1 { "kill" } else { "kills" }
        ),
    }
}

/// What a period's GC pause figure is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pause<'a> {
    /// The p95 of one GC kind (`kind`, `generation`, …).
    KindP95(&'a str),
    /// The p95 of all kinds together.
    P95,
    /// The mean pause, for runtimes that publish a summary, not a histogram.
    Mean,
}

impl Pause<'_> {
    fn describe(self) -> String {
        match self {
            Pause::KindP95(kind) => format!("{kind} collections' GC pause p95"),
            Pause::P95 => "GC pause p95".into(),
            Pause::Mean => "mean GC pause".into(),
        }
    }
}

/// Collections of the period by kind, where the pack counts them.
fn collections_of(period: &Period, kind: &str) -> Option<f64> {
    period
        .gc_collections_per_hour_by
        .get(kind)
        .map(|per_hour| per_hour * period.hours)
}

/// The period's GC pause: the slowest GC kind's p95 (when that kind ran at least
/// `GC_MIN_COLLECTIONS` times: one slow collection in a day is not pressure), else the
/// p95 of all kinds, else the mean pause.
fn gc_pause(period: &Period) -> Option<(f64, Pause<'_>)> {
    let slowest = period
        .gc_pause_p95_by_kind
        .iter()
        .filter(|(kind, v)| {
            v.is_finite() && collections_of(period, kind).is_none_or(|n| n >= GC_MIN_COLLECTIONS)
        })
        .max_by(|a, b| a.1.total_cmp(b.1));
    match (slowest, period.gc_pause_p95_seconds) {
        (Some((kind, p95)), overall) if overall.is_none_or(|o| *p95 >= o) => {
            Some((*p95, Pause::KindP95(kind)))
        }
        (_, Some(p95)) => Some((p95, Pause::P95)),
        (_, None) => period.gc_pause_mean_seconds.map(|mean| (mean, Pause::Mean)),
    }
}

/// The same figure in another period (the after-fix one): the same kind's p95, else the
/// p95 of all kinds (a kind that stopped running after the fix is the pressure gone).
fn same_pause(period: &Period, figure: Pause) -> Option<f64> {
    match figure {
        Pause::KindP95(kind) => period
            .gc_pause_p95_by_kind
            .get(kind)
            .copied()
            .or(period.gc_pause_p95_seconds),
        Pause::P95 => period.gc_pause_p95_seconds,
        Pause::Mean => period.gc_pause_mean_seconds,
    }
}

/// A GC pause of 100 ms or more in the leak period, or at least twice (and 20 ms more
/// than) the same figure after the fix; for summaries, also a longest pause of 1 s.
fn gc_pressure(leak: &Period, after: Option<&Period>, span: &str) -> Symptom {
    let Some((pause, figure)) = gc_pause(leak) else {
        return no_data("no GC pause metric for this runtime in the period");
    };
    let reference = after.and_then(|a| same_pause(a, figure));
    let long = pause >= GC_PAUSE_BOUND_SECONDS;
    let above_after = reference.is_some_and(|a| {
        pause >= GC_PAUSE_FACTOR * a && pause - a >= GC_PAUSE_MIN_DIFFERENCE_SECONDS
    });
    let longest = leak.gc_pause_max_seconds.filter(|_| figure == Pause::Mean);
    let mut because = format!("{} {} {span}", figure.describe(), units::pause(pause));
    if let Some(a) = reference {
        because.push_str(&format!(", {} after it", units::pause(a)));
    }
    if let Some(max) = longest {
        because.push_str(&format!(", longest pause {}", units::pause(max)));
    }
    because.push_str(&format!(
        " (pressure: a pause of 100 ms or more{}{})",
        if reference.is_some() {
            ", or at least twice the pause after the fix"
        } else {
            ""
        },
        if longest.is_some() {
            ", or a longest pause of 1 s or more"
        } else {
            ""
        },
    ));
    Symptom {
        present: Some(long || above_after || longest.is_some_and(|m| m >= GC_MAX_BOUND_SECONDS)),
        because,
    }
}

/// A pool's connections in use reached its maximum for two consecutive steps of the leak
/// period (`connections_used_ratio` is the share held for two steps).
fn pool_exhaustion(leak: &Period, span: &str) -> Symptom {
    let Some(ratio) = leak.connections_used_ratio else {
        if leak.connections_in_use_end.is_some() {
            return no_data(
                "connection pools found, but none with a maximum to compare with (a maximum of 0 means unlimited)",
            );
        }
        return no_data(
            "no connection pool metrics with a maximum (db_client_connections_usage/_max, db_client_connection_count/_max, HikariCP, Go database/sql stats)",
        );
    };
    Symptom {
        present: Some(ratio >= POOL_EXHAUSTED_RATIO - 1e-9),
        because: format!(
            "connections in use reached {} of a pool's maximum for two consecutive steps {span}",
            units::ratio(ratio)
        ),
    }
}

/// Latency p95 at least 1.5× (and 50 ms above) the after-fix p95 or the leak period's
/// first tenth, or server errors at least 1 % of requests (and twice the after-fix
/// share). Without a latency comparison and with errors below the bound, the box is
/// undecided (null): slow responses could not be judged.
fn degradation(leak: &Period, after: Option<&Period>, span: &str) -> Symptom {
    let latency_after = after.and_then(|a| a.latency_p95_seconds);
    let errors_after = after.and_then(|a| a.error_ratio);
    let worse = latency_worse;
    let mut reasons = Vec::new();
    let (mut latency_compared, mut present) = (false, false);
    if let Some(p95) = leak.latency_p95_seconds {
        let mut text = format!("request latency p95 {}", units::pause(p95));
        if let Some(a) = latency_after {
            text.push_str(&format!(", {} after the fix", units::pause(a)));
            latency_compared = true;
            present |= worse(p95, a);
        }
        reasons.push(text);
    }
    if let Some([first, last]) = leak.latency_trend_seconds {
        // The same p95 to the last digit at both ends is histogram_quantile interpolating
        // inside one bucket that never moved: the buckets cannot tell a rise.
        if (first - last).abs() <= 1e-9 * first.abs().max(1e-9) {
            // Compared, and no rise the buckets can show.
            reasons.push(format!(
                "p95 {} in both the period's first and last tenth: inside the same bucket of the latency histogram at both ends, so no rise the buckets can show (they are too coarse to tell a smaller one)",
                units::pause(first)
            ));
            latency_compared = true;
        } else {
            reasons.push(format!(
                "p95 {} in the period's first tenth, {} in its last",
                units::pause(first),
                units::pause(last)
            ));
            latency_compared = true;
            present |= worse(last, first);
        }
    }
    if let Some(ratio) = leak.error_ratio {
        let mut text = format!("server errors {} of requests", units::ratio(ratio));
        if let Some(a) = errors_after {
            text.push_str(&format!(", {} after the fix", units::ratio(a)));
        }
        reasons.push(text);
        present |= ratio >= ERROR_RATIO_BOUND
            && errors_after.is_none_or(|a| ratio >= ERROR_RATIO_FACTOR * a);
    }
    if reasons.is_empty() {
        return no_data(
            "no request latency histogram, and no request counter with a status label and 100 requests in the period",
        );
    }
    if !latency_compared {
        reasons.push("no after-fix latency or latency trend to compare with".into());
    }
    let reference = if after.is_some() {
        "the after-fix or the period's starting level"
    } else {
        "the period's starting level"
    };
    Symptom {
        present: (present || latency_compared).then_some(present),
        because: format!(
            "{span}: {} (degraded: latency at least 1.5 times and 50 ms above {reference}, or server errors on 1% of requests or more)",
            reasons.join("; ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period() -> Period {
        Period {
            hours: 10.0,
            ..Default::default()
        }
    }

    #[test]
    fn missing_data_is_neither_ticked_nor_cleared() {
        let s = symptoms(&period(), None, false);
        for symptom in [
            &s.linear_growth,
            &s.oom_crashes,
            &s.gc_pressure,
            &s.connection_pool_exhaustion,
            &s.service_degradation,
        ] {
            assert_eq!(symptom.present, None, "{symptom:?}");
            assert!(symptom.because.starts_with("no data"), "{symptom:?}");
        }
    }

    #[test]
    fn gc_pressure_reads_the_slowest_kind_and_compares_with_after_the_fix() {
        // The example of the issue: major p95 936 ms before, 92 ms after, while the
        // all-kinds p95 stays below the bound.
        let mut before = period();
        before.gc_pause_p95_seconds = Some(0.06);
        before.gc_pause_p95_by_kind = [("major".into(), 0.936), ("minor".into(), 0.004)].into();
        let mut after = period();
        after.gc_pause_p95_seconds = Some(0.01);
        after.gc_pause_p95_by_kind = [("major".into(), 0.092), ("minor".into(), 0.004)].into();
        let s = gc_pressure(&before, Some(&after), "before the fix (10.0 h)");
        assert_eq!(s.present, Some(true));
        assert!(
            s.because
                .contains("major collections' GC pause p95 936.0 ms"),
            "{}",
            s.because
        );
        assert!(s.because.contains("92.0 ms after it"), "{}", s.because);
        // Below the bound, but three times the after-fix pause and 40 ms longer.
        before.gc_pause_p95_by_kind = [("major".into(), 0.06)].into();
        after.gc_pause_p95_by_kind = [("major".into(), 0.02)].into();
        assert_eq!(gc_pressure(&before, Some(&after), "").present, Some(true));
        // Twice, but only 10 ms longer: not pressure.
        before.gc_pause_p95_seconds = Some(0.015);
        after.gc_pause_p95_seconds = Some(0.008);
        before.gc_pause_p95_by_kind = [("major".into(), 0.02)].into();
        after.gc_pause_p95_by_kind = [("major".into(), 0.01)].into();
        assert_eq!(gc_pressure(&before, Some(&after), "").present, Some(false));
        // A runtime with a summary: the mean pause, against the bound.
        let mut summary = period();
        summary.gc_pause_mean_seconds = Some(0.15);
        let s = gc_pressure(&summary, None, "");
        assert_eq!(s.present, Some(true));
        assert!(
            s.because.starts_with("mean GC pause 150.0 ms"),
            "{}",
            s.because
        );
    }

    #[test]
    fn gc_pressure_needs_the_kind_to_run_and_falls_back_when_it_stops() {
        // One major collection in 10 h: its p95 is not pressure; the minor ones decide.
        let mut before = period();
        before.gc_pause_p95_seconds = Some(0.004);
        before.gc_pause_p95_by_kind = [("major".into(), 0.9), ("minor".into(), 0.004)].into();
        before.gc_collections_per_hour_by = [("major".into(), 0.1), ("minor".into(), 600.0)].into();
        let s = gc_pressure(&before, None, "");
        assert_eq!(s.present, Some(false), "{}", s.because);
        assert!(s.because.starts_with("minor collections'"), "{}", s.because);
        // Major collections ran often before the fix and not at all after it: compared
        // with the after-fix p95 of all kinds.
        before.gc_collections_per_hour_by = [("major".into(), 6.0), ("minor".into(), 600.0)].into();
        before.gc_pause_p95_by_kind = [("major".into(), 0.08), ("minor".into(), 0.004)].into();
        let mut after = period();
        after.gc_pause_p95_seconds = Some(0.005);
        after.gc_pause_p95_by_kind = [("minor".into(), 0.005)].into();
        let s = gc_pressure(&before, Some(&after), "");
        assert_eq!(s.present, Some(true), "{}", s.because);
        assert!(s.because.contains("5.0 ms after it"), "{}", s.because);
        // A summary runtime: a short mean, but a longest pause of 1.2 s.
        let mut summary = period();
        summary.gc_pause_mean_seconds = Some(0.02);
        summary.gc_pause_max_seconds = Some(1.2);
        let s = gc_pressure(&summary, None, "");
        assert_eq!(s.present, Some(true), "{}", s.because);
        assert!(s.because.contains("longest pause 1.20 s"), "{}", s.because);
    }

    #[test]
    fn a_pool_is_exhausted_only_at_its_maximum() {
        let mut p = period();
        p.connections_used_ratio = Some(0.95);
        assert_eq!(pool_exhaustion(&p, "").present, Some(false));
        p.connections_used_ratio = Some(1.0);
        assert_eq!(pool_exhaustion(&p, "").present, Some(true));
    }

    #[test]
    fn a_p95_inside_one_bucket_at_both_ends_is_not_a_rise() {
        let mut leak = period();
        leak.latency_trend_seconds = Some([0.2425, 0.2425]);
        let s = degradation(&leak, None, "over the window (10.0 h)");
        assert_eq!(s.present, Some(false), "{}", s.because);
        assert!(s.because.contains("too coarse"), "{}", s.because);
        assert!(!s.because.contains("in its last"), "{}", s.because);
        leak.latency_trend_seconds = Some([0.2425, 0.4875]);
        let s = degradation(&leak, None, "over the window (10.0 h)");
        assert_eq!(s.present, Some(true), "{}", s.because);
    }

    #[test]
    fn degradation_from_the_after_fix_level_the_trend_or_errors() {
        let mut before = period();
        before.latency_p95_seconds = Some(0.3);
        let mut after = period();
        after.latency_p95_seconds = Some(0.1);
        assert_eq!(degradation(&before, Some(&after), "").present, Some(true));
        // 1.5× but only 30 ms more: not degraded.
        before.latency_p95_seconds = Some(0.09);
        after.latency_p95_seconds = Some(0.06);
        assert_eq!(degradation(&before, Some(&after), "").present, Some(false));
        // Without a fix: the period's last tenth against its first.
        let mut window = period();
        window.latency_trend_seconds = Some([0.05, 0.2]);
        assert_eq!(degradation(&window, None, "").present, Some(true));
        window.latency_trend_seconds = Some([0.2, 0.05]);
        assert_eq!(degradation(&window, None, "").present, Some(false));
        // Errors: 1 % of requests, and twice the share after the fix.
        let mut errors = period();
        errors.error_ratio = Some(0.02);
        assert_eq!(degradation(&errors, None, "").present, Some(true));
        // Errors not twice the after-fix share, and no latency to compare: undecided.
        let mut after_errors = period();
        after_errors.error_ratio = Some(0.015);
        let s = degradation(&errors, Some(&after_errors), "");
        assert_eq!(s.present, None, "{}", s.because);
        assert!(s.because.contains("no after-fix latency"), "{}", s.because);
        // A latency with nothing to compare it with decides nothing either.
        let mut alone = period();
        alone.latency_p95_seconds = Some(0.5);
        assert_eq!(degradation(&alone, None, "").present, None);
    }

    #[test]
    fn linear_growth_by_rate_or_percentage() {
        let mut p = period();
        p.growth_bytes_per_hour = Some(0.5 * MB);
        assert_eq!(linear_growth(&p, "").present, Some(false));
        p.growth_percent = Some(12.0);
        p.growth_percent_over_hours = Some(10.0);
        assert_eq!(linear_growth(&p, "").present, Some(true));
        p.growth_bytes_per_hour = Some(2.0 * MB);
        p.growth_percent = None;
        assert_eq!(linear_growth(&p, "").present, Some(true));
    }
}
