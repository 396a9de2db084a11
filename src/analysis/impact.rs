//! What the leak cost the service's clients (the Impact's "Affected users") and the
//! severity the report suggests from it (docs/figures.md, "Severity and affected users").
//!
//! Requests that failed are the known parts only: server errors (the period's 5xx share
//! × the requests served) and the requests in flight on an instance when it was
//! OOM-killed, estimated with Little's law (in flight = arrival rate × time in flight)
//! from the service's request rate per instance in the minutes before the kill and the
//! period's p95 latency — an upper estimate, since the p95 is longer than the mean.
//! Requests refused while the instance restarted are not counted (a load balancer may
//! have sent them elsewhere).

use super::PeriodView;
use super::oom::OomKill;
use crate::evidence::{Affected, Evidence, Period, Severity, SeverityLevel};
use crate::pack::Role;
use crate::prom::RangeSeries;
use crate::units;

/// How far before a kill the request rate is read (at least two steps of the data).
const RATE_BEFORE_KILL_SECONDS: f64 = 300.0;

/// Severity: this share of requests failed (percent) is Critical …
pub const CRITICAL_FAILED_PERCENT: f64 = 1.0;
/// … this share, or any OOM kill, is High.
pub const HIGH_FAILED_PERCENT: f64 = 0.1;
/// Medium: slower responses or GC pressure, or memory reaching the container limit
/// within this many hours at the measured growth.
pub const MEDIUM_HOURS_TO_LIMIT: f64 = 24.0;

/// A counter's increase over `[start, end]`, a fall counted as a restart from zero. The
/// points are in time order: the span is found by binary search, so asking once per OOM
/// kill of a fleet stays cheap.
fn increase(series: &RangeSeries, start: f64, end: f64) -> Option<f64> {
    let points = &series.points;
    let from = points.partition_point(|(t, _)| *t < start);
    let to = points.partition_point(|(t, _)| *t <= end);
    let inside: Vec<f64> = points[from..to.max(from)]
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    if inside.len() < 2 {
        return None;
    }
    Some(
        inside
            .windows(2)
            .map(|w| if w[1] >= w[0] { w[1] - w[0] } else { w[1] })
            .sum(),
    )
}

/// Requests served by every instance of the period (`None` without a request counter).
pub fn requests_served(view: &PeriodView) -> Option<f64> {
    let served: Vec<f64> = view
        .data
        .series(Role::Requests)
        .iter()
        .filter_map(|s| increase(s, view.start, view.end))
        .collect();
    (!served.is_empty()).then(|| served.iter().sum())
}

/// The request series grouped by instance (the `instance` label, else each series
/// alone): a pack that keeps another label (`handler`, `uri`) must not count one
/// instance as several.
fn by_instance<'a>(view: &PeriodView<'a>) -> Vec<Vec<&'a RangeSeries>> {
    let mut groups: std::collections::BTreeMap<String, Vec<&RangeSeries>> = Default::default();
    for (i, s) in view.data.series(Role::Requests).iter().enumerate() {
        let key = s
            .labels
            .get("instance")
            .cloned()
            .unwrap_or_else(|| format!("series {i}"));
        groups.entry(key).or_default().push(s);
    }
    groups.into_values().collect()
}

/// The service's request rate per instance in the minutes before `at`: the requests all
/// instances served then, over the instances that served any, per second.
fn rate_per_instance_before(view: &PeriodView, at: f64) -> Option<f64> {
    let span = RATE_BEFORE_KILL_SECONDS.max(2.0 * view.data.step_of(Role::Requests));
    let served: Vec<f64> = by_instance(view)
        .iter()
        .filter_map(|group| {
            let parts: Vec<f64> = group
                .iter()
                .filter_map(|s| increase(s, at - span, at))
                .collect();
            (!parts.is_empty()).then(|| parts.iter().sum())
        })
        .collect();
    (!served.is_empty()).then(|| served.iter().sum::<f64>() / served.len() as f64 / span)
}

/// Requests per second one instance served over the period: the requests all instances
/// served over the instance-seconds of request data in the period (an instance replaced
/// half way counts half).
pub fn rate_per_instance(view: &PeriodView) -> Option<f64> {
    let (mut served, mut seconds) = (0.0, 0.0);
    for group in by_instance(view) {
        let mut span: Option<(f64, f64)> = None;
        for s in &group {
            let inside = s
                .points
                .iter()
                .filter(|(t, v)| *t >= view.start && *t <= view.end && v.is_finite())
                .map(|(t, _)| *t);
            for t in inside {
                span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
            }
            served += increase(s, view.start, view.end).unwrap_or(0.0);
        }
        if let Some((first, last)) = span {
            seconds += last - first;
        }
    }
    (seconds > 0.0).then(|| served / seconds)
}

/// The period's requests and those that failed; `None` without a request counter.
pub fn affected(view: &PeriodView, period: &Period, kills: Option<&[OomKill]>) -> Option<Affected> {
    // Whole requests: an estimate in tenths of a request would claim a precision it has not.
    let requests = requests_served(view)?.round();
    let server_errors = period.error_ratio.map(|r| (r * requests).round());
    let latency = period.latency_p95_seconds;
    let kills = kills.unwrap_or(&[]);
    let killed: u64 = kills.iter().map(|k| k.count).sum();
    let (mut lost, mut counted) = (0.0, 0);
    if let Some(latency) = latency {
        for kill in kills {
            if let Some(rate) = rate_per_instance_before(view, kill.at) {
                lost += kill.count as f64 * rate * latency;
                counted += kill.count;
            }
        }
    }
    // Only kills the estimate saw count; none counted is no estimate, not zero requests.
    let lost = (counted > 0).then_some(lost.round());
    let failed = server_errors.unwrap_or(0.0) + lost.unwrap_or(0.0);
    Some(Affected {
        requests,
        server_errors,
        lost_at_oom_kills: lost,
        oom_kills: counted,
        in_flight_seconds: latency.filter(|_| lost.is_some()),
        failed,
        complete: server_errors.is_some() && counted == killed && period.oom_kills.is_some(),
        failed_percent: if requests > 0.0 {
            failed / requests * 100.0
        } else {
            0.0
        },
    })
}

/// The suggested severity, from the leak period (before the fix, else the window):
/// Critical when at least 1 % of requests failed; High with any OOM kill or 0.1 % failed;
/// Medium with slower responses, GC pressure or the limit within 24 h; Low for growth
/// alone; none when nothing leaked.
pub fn severity(evidence: &Evidence) -> Option<Severity> {
    let (leak, leak_span) = evidence.leak_period();
    let span = super::symptoms::period_words(leak, leak_span);
    let failed = leak.affected.as_ref().filter(|a| a.failed > 0.0);
    let kills = leak.oom_kills.unwrap_or(0);
    let failed_words = |a: &Affected| {
        format!(
            "{} of requests failed {span} ({} of {}: server errors and requests in flight at OOM kills)",
            units::percent(a.failed_percent),
            units::count(a.failed.round()),
            units::count(a.requests.round())
        )
    };
    let symptoms = &evidence.symptoms;
    if symptoms.linear_growth.present != Some(true) {
        // A severity is the leak's: kills or errors without growth are another story.
        return None;
    }
    let (level, reason) = if let Some(a) =
        failed.filter(|a| a.failed_percent >= CRITICAL_FAILED_PERCENT)
    {
        (SeverityLevel::Critical, failed_words(a))
    } else if kills > 0 {
        (
            SeverityLevel::High,
            format!("{kills} OOM kill(s) {span}: clients lost the requests in flight"),
        )
    } else if let Some(a) = failed.filter(|a| a.failed_percent >= HIGH_FAILED_PERCENT) {
        (SeverityLevel::High, failed_words(a))
    } else if symptoms.service_degradation.present == Some(true) {
        (SeverityLevel::Medium, format!("slower responses {span}"))
    } else if symptoms.gc_pressure.present == Some(true) {
        (SeverityLevel::Medium, format!("GC pressure {span}"))
    } else if let Some(h) = leak.hours_to_limit.filter(|h| *h <= MEDIUM_HOURS_TO_LIMIT) {
        (
            SeverityLevel::Medium,
            format!(
                "memory would reach the container limit in {} at the growth measured {span}",
                units::hours(h)
            ),
        )
    } else {
        (
            SeverityLevel::Low,
            format!(
                "memory growth only {span}: no OOM kill, failed requests or slower responses seen"
            ),
        )
    };
    Some(Severity { level, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(f64, f64)]) -> RangeSeries {
        RangeSeries {
            labels: Default::default(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn increase_counts_a_reset_as_a_restart_from_zero() {
        let s = series(&[(0.0, 100.0), (60.0, 160.0), (120.0, 20.0), (180.0, 80.0)]);
        // 60 before the reset, 20 served by the new process before its first sample, 60 after.
        assert_eq!(increase(&s, 0.0, 180.0), Some(140.0));
        assert_eq!(increase(&s, 60.0, 120.0), Some(20.0));
        assert_eq!(increase(&s, 200.0, 300.0), None);
    }
}
