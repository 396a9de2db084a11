//! Detection: the first alert that fired for the service and its rule, or when a
//! `leakcollect rules` alert would have fired.
//!
//! Would-have-fired follows Prometheus's alerting semantics on the evaluated steps: an
//! instance's alert goes pending at the first step its expression holds and fires at
//! the first step at least `for` later, every step in between holding too (a missing
//! step or one below the threshold starts over). The first instance to fire wins.

use crate::acquire::Acquired;
use crate::acquire::alerts::{AlertData, FirstAlert, GrowthData};
use crate::analysis::thresholds::{AlertThresholds, alert_prefix};
use crate::evidence::{AlertRule, AlertState, Detection, DetectionSource, Evidence};
use crate::prom::api::RulesData;
use crate::prom::{Labels, RangeSeries};
use crate::timespec::from_unix_seconds;

/// The detection figure from what was acquired; `thresholds` are the growth rule's
/// (those the report recommends under Preventive Measures).
pub fn detection(acquired: &Acquired, thresholds: &AlertThresholds, service: &str) -> Detection {
    let data = &acquired.alerts;
    let mut out = Detection {
        searched_from: data.searched.map(|s| from_unix_seconds(s.0)),
        searched_to: data.searched.map(|s| from_unix_seconds(s.1)),
        other_alerts: data.others.clone(),
        ..Default::default()
    };
    if let Some(error) = &data.error {
        out.because = format!(
            "the ALERTS series could not be read, so how the leak was detected is unknown: {error}"
        );
        return out;
    }
    match &data.first {
        Some(first) => from_alert(&mut out, first, data),
        None => would_have_fired(&mut out, data, thresholds, service),
    }
    out
}

/// An alert fired: its times, labels and rule.
fn from_alert(out: &mut Detection, first: &FirstAlert, data: &AlertData) {
    out.source = DetectionSource::Alert;
    out.alertname = Some(first.alertname.clone());
    out.severity = first.labels.get("severity").cloned();
    out.firing_before_search = first.firing_before_search;
    if !first.firing_before_search {
        out.pending_at = Some(from_unix_seconds(first.pending_at));
        out.firing_at = Some(from_unix_seconds(first.firing_at));
    } else if let Some(active) = first.active_since {
        // ALERTS_FOR_STATE still says when the episode became active.
        out.pending_at = Some(from_unix_seconds(active));
    }
    out.state_at_end = Some(match first.state_at_end.as_deref() {
        Some("firing") => AlertState::Firing,
        Some("pending") => AlertState::Pending,
        _ => AlertState::Resolved,
    });
    out.labels = first.labels.clone();
    match &data.rules {
        Some(Ok(rules)) if rules.groups.is_empty() => {
            out.rule_unavailable_because = Some(
                "the rules API answered with no rule groups at all (VictoriaMetrics does so without -vmalert.proxyURL; Mimir and Cortex need their ruler)".into(),
            )
        }
        Some(Ok(rules)) => match rule_for(rules, first) {
            Some(rule) => out.rule = Some(rule),
            None => {
                out.rule_unavailable_because = Some(format!(
                    "the rules API has no alerting rule named {} any more (changed or removed since it fired)",
                    first.alertname
                ))
            }
        },
        Some(Err(why)) => out.rule_unavailable_because = Some(why.clone()),
        None => out.rule_unavailable_because = Some("the rules API was not asked".into()),
    }
    out.because = match (out.firing_at, out.pending_at) {
        (Some(firing), Some(pending)) => format!(
            "ALERTS: {} fired at {} (pending since {})",
            first.alertname,
            crate::units::time_seconds(firing),
            crate::units::time_seconds(pending),
        ),
        (_, pending) => format!(
            "ALERTS: {} was already firing where the search began ({}){}; a longer --lookback shows when it fired",
            first.alertname,
            out.searched_from
                .map(crate::units::time_seconds)
                .unwrap_or_default(),
            pending
                .map(|p| format!(
                    ", active since {} (ALERTS_FOR_STATE)",
                    crate::units::time_seconds(p)
                ))
                .unwrap_or_default(),
        ),
    };
}

/// The rule named like the alert whose own labels the alert carries.
fn rule_for(rules: &RulesData, alert: &FirstAlert) -> Option<AlertRule> {
    rules
        .groups
        .iter()
        .flat_map(|g| g.rules.iter().map(move |r| (g, r)))
        .filter(|(_, r)| r.kind == "alerting" || r.kind.is_empty())
        .filter(|(_, r)| r.name == alert.alertname)
        .find(|(_, r)| r.labels.iter().all(|(k, v)| alert.labels.get(k) == Some(v)))
        .map(|(group, rule)| AlertRule {
            alertname: rule.name.clone(),
            expr: rule.query.clone(),
            for_seconds: rule.duration.unwrap_or(0.0),
            threshold: top_level_threshold(&rule.query),
            group: Some(group.name.clone()),
            file: (!group.file.is_empty()).then(|| group.file.clone()),
            evaluated_step_seconds: None,
        })
}

/// The number an expression compares with at its top level: `x > 5` gives 5, also
/// inside parentheses and on the left of `and`/`unless` (a guard such as "unless the
/// instance restarted"); `None` for anything else.
pub fn top_level_threshold(expr: &str) -> Option<f64> {
    use promql_parser::parser::{self, Expr};
    fn walk(expr: &Expr) -> Option<f64> {
        match expr {
            Expr::Paren(p) => walk(&p.expr),
            Expr::Binary(b) if matches!(b.op.to_string().as_str(), "and" | "unless") => {
                walk(&b.lhs)
            }
            Expr::Binary(b) if b.op.is_comparison_operator() => match (&*b.lhs, &*b.rhs) {
                (_, Expr::NumberLiteral(n)) | (Expr::NumberLiteral(n), _) => Some(n.val),
                _ => None,
            },
            _ => None,
        }
    }
    walk(&parser::parse(expr).ok()?)
}

/// No alert fired: when the growth rule of `leakcollect rules` would have.
fn would_have_fired(
    out: &mut Detection,
    data: &AlertData,
    thresholds: &AlertThresholds,
    service: &str,
) {
    let searched = match data.searched {
        Some((from, to)) => format!(
            " between {} and {}",
            crate::units::time_seconds(from_unix_seconds(from)),
            crate::units::time_seconds(from_unix_seconds(to))
        ),
        None => String::new(),
    };
    out.alerting_rules = match &data.rules {
        Some(Ok(rules)) => Some(
            rules
                .groups
                .iter()
                .flat_map(|g| &g.rules)
                .filter(|r| r.kind == "alerting")
                .count(),
        ),
        _ => None,
    };
    let none = if out.alerting_rules == Some(0) {
        format!(
            "no alerting rules are loaded on this server (its rules API lists none), so no alert could fire{searched}"
        )
    } else {
        format!("no alert fired for this service{searched} (ALERTS)")
    };
    let Some(growth) = &data.growth else {
        out.because = format!("{none}; the growth rule could not be built for this pack");
        return;
    };
    let for_seconds = crate::timespec::parse_duration(&thresholds.growth_for)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let threshold = thresholds.growth_bytes_per_hour;
    out.rule = Some(AlertRule {
        alertname: format!("{}MemoryGrowth", alert_prefix(service)),
        expr: growth.rule.alerting(threshold),
        for_seconds,
        threshold: Some(threshold),
        group: None,
        file: None,
        evaluated_step_seconds: Some(growth.step),
    });
    let rule_text = format!(
        "the leakcollect rules growth alert {}MemoryGrowth (over {} for {}, its expression evaluated every {} s over the window)",
        alert_prefix(service),
        crate::units::mb_per_hour(threshold),
        thresholds.growth_for,
        growth.step
    );
    match first_firing(growth, threshold, for_seconds) {
        Err(why) => {
            out.because = format!("{none}; when {rule_text} would have fired is unknown: {why}");
        }
        Ok(None) => {
            out.because = format!("{none}, and {rule_text} would not have fired either");
        }
        Ok(Some((pending, firing, labels))) => {
            out.source = DetectionSource::WouldHaveFired;
            out.pending_at = Some(from_unix_seconds(pending));
            out.firing_at = Some(from_unix_seconds(firing));
            let instance = labels
                .get("instance")
                .or_else(|| labels.get("pod"))
                .map(|i| format!(" on {i}"))
                .unwrap_or_default();
            out.because = format!(
                "{none}; the first time {rule_text} would have fired is {}{instance}, above the threshold since {}",
                crate::units::time_seconds(from_unix_seconds(firing)),
                crate::units::time_seconds(from_unix_seconds(pending)),
            );
            out.labels = labels;
        }
    }
}

/// The first (pending, firing, labels) of any series holding `> threshold` for
/// `for_seconds` on consecutive steps.
fn first_firing(
    growth: &GrowthData,
    threshold: f64,
    for_seconds: f64,
) -> Result<Option<(f64, f64, Labels)>, String> {
    let series = growth.series.as_ref().map_err(Clone::clone)?;
    if series.is_empty() {
        return Err("its expression returned no data over the window".into());
    }
    Ok(series
        .iter()
        .filter_map(|s| {
            fires_at(s, threshold, for_seconds, growth.step).map(|(p, f)| (p, f, s.labels.clone()))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1)))
}

/// When one series would first have fired: (pending, firing).
fn fires_at(
    series: &RangeSeries,
    threshold: f64,
    for_seconds: f64,
    step: f64,
) -> Option<(f64, f64)> {
    let mut active: Option<f64> = None;
    let mut previous: Option<f64> = None;
    for &(t, v) in &series.points {
        let consecutive = previous.is_some_and(|p| t - p <= step * 1.5);
        previous = Some(t);
        // NaN holds no more than a value below the threshold does.
        let holds = v > threshold;
        if !holds {
            active = None;
            continue;
        }
        let since = match active {
            Some(since) if consecutive => since,
            _ => t,
        };
        active = Some(since);
        if t - since >= for_seconds {
            return Some((since, t));
        }
    }
    None
}

/// The detection figure for the evidence, with the thresholds the report recommends.
pub fn for_evidence(acquired: &Acquired, evidence: &Evidence) -> Detection {
    let mut found = detection(acquired, &evidence.alert_thresholds, &evidence.service);
    // A would-have-fired rule pending from its first evaluation: the threshold was
    // crossed before the window, where the rule was not evaluated.
    found.pending_at_window_start = found.source == DetectionSource::WouldHaveFired
        && found.pending_at.is_some_and(|p| {
            (p - evidence.window.from).num_seconds() as f64
                <= evidence.window.step_seconds.max(60.0)
        });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(f64, f64)]) -> RangeSeries {
        RangeSeries {
            labels: Labels::new(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn fires_after_holding_for_the_whole_for() {
        let s = series(&[(0.0, 1.0), (60.0, 5.0), (120.0, 5.0), (180.0, 5.0)]);
        assert_eq!(fires_at(&s, 2.0, 120.0, 60.0), Some((60.0, 180.0)));
        assert_eq!(fires_at(&s, 2.0, 0.0, 60.0), Some((60.0, 60.0)));
        assert_eq!(fires_at(&s, 2.0, 180.0, 60.0), None);
        // A dip, or a missing step, starts over.
        let dip = series(&[(0.0, 5.0), (60.0, 1.0), (120.0, 5.0), (180.0, 5.0)]);
        assert_eq!(fires_at(&dip, 2.0, 120.0, 60.0), None);
        let gap = series(&[(0.0, 5.0), (60.0, 5.0), (240.0, 5.0), (300.0, 5.0)]);
        assert_eq!(fires_at(&gap, 2.0, 60.0, 60.0), Some((0.0, 60.0)));
        assert_eq!(fires_at(&gap, 2.0, 120.0, 60.0), None);
    }

    #[test]
    fn thresholds_at_the_top_level() {
        assert_eq!(top_level_threshold("x > 5"), Some(5.0));
        assert_eq!(
            top_level_threshold(
                "(deriv(x[1h]) * 3600 > 5e6) unless on (instance) (changes(y[1h]) > 0)"
            ),
            Some(5e6)
        );
        assert_eq!(top_level_threshold("rate(x[5m])"), None);
        assert_eq!(top_level_threshold("x > y"), None);
    }
}
