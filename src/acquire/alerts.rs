//! The alerts Prometheus evaluated for the service: the `ALERTS` series from
//! `--lookback` before the window to its end, and the rules API's groups; when no
//! alert fired, the growth of `leakcollect rules`' growth rule over the window.
//!
//! Exact times without fetching a week of raw samples: one range query counts the
//! `ALERTS` samples per coarse step (`count_over_time` over ranges that tile the span,
//! so no sample is missed whatever the evaluation interval), which gives the step in
//! which the first firing sample lies; raw samples over two steps there give its exact
//! timestamp. `ALERTS_FOR_STATE` at that instant holds the alert's active-since time
//! (whole seconds), and the raw pending samples from then give the exact pending time.

use super::requests::Requests;
use super::{alert_exprs, plan};
use crate::config::QueryConfig;
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::{self, Pack};
use crate::prom::api::RulesData;
use crate::prom::{Labels, PromError, RangeSeries};
use promql_parser::label::Matcher;

/// Coarse steps over the searched span: enough to keep the first range query small.
const COARSE_POINTS: f64 = 1000.0;
/// At most this many series first seen firing in the same coarse step get a raw query.
const MAX_CANDIDATES: usize = 10;
/// Windows up to this long get the growth rule evaluated at its own 1 min resolution
/// (each step costs 600 inner evaluations: its subqueries are 1h and 10m at 1m).
const FINE_GROWTH_SPAN: f64 = 2.0 * 86400.0;

/// What detection has to go on.
#[derive(Debug, Default, Clone)]
pub struct AlertData {
    /// The span searched (Unix seconds): `--lookback` before the window to its end.
    pub searched: Option<(f64, f64)>,
    /// Why `ALERTS` could not be read (the query failed).
    pub error: Option<String>,
    /// The first alert that fired in the span.
    pub first: Option<FirstAlert>,
    /// Names of the other alerts that fired in the span, first firing first.
    pub others: Vec<String>,
    /// The rules API's alerting rules, or why they could not be read.
    pub rules: Option<Result<RulesData, String>>,
    /// With no alert: the growth rule's value over the window.
    pub growth: Option<GrowthData>,
}

/// The first firing alert, with its times exact to the evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstAlert {
    pub alertname: String,
    /// The alert's labels (`alertname` among them, `alertstate` not).
    pub labels: Labels,
    /// The first `ALERTS{alertstate="firing"}` sample.
    pub firing_at: f64,
    /// When the alert became active: the first pending sample of the same episode, else
    /// `ALERTS_FOR_STATE` (whole seconds); equal to `firing_at` for a rule without `for`.
    pub pending_at: f64,
    /// The value of `ALERTS_FOR_STATE` at `firing_at`, when the server has it.
    pub active_since: Option<f64>,
    /// The alert's state at the window's end: `firing`, `pending`, or `None` (resolved).
    pub state_at_end: Option<String>,
    /// It was already firing where the search began: `firing_at` is only the first
    /// sample seen, and it fired earlier (a longer `--lookback` would show when).
    pub firing_before_search: bool,
}

/// The growth rule's value, bytes per hour, over the window.
#[derive(Debug, Clone)]
pub struct GrowthData {
    /// The growth expression as sent (the rule's, without its threshold).
    pub expr: String,
    /// The rule file's growth expression builder, to show the rule with a threshold.
    pub rule: alert_exprs::GrowthExpr,
    pub step: f64,
    pub series: Result<Vec<RangeSeries>, String>,
}

/// The `ALERTS`-style selector(s) for the service: the alert keeps the series' labels
/// (the service label and `--selector`s, e.g. `job`, `namespace`), or carries the
/// `service` label `leakcollect rules` puts on every rule. Two selectors (to be joined
/// by `or`) where those differ.
pub fn selectors(config: &QueryConfig, pack: &Pack, metric: &str) -> Vec<String> {
    let kept = plan::matchers_on(config, pack, None);
    let own_label = kept.first().is_some_and(|m| m.name == "service");
    let mut out = vec![format!("{metric}{}", plan::selector_text(&kept))];
    if !own_label {
        let mut labelled = vec![pack::equal_matcher("service", &config.service)];
        labelled.extend(config.selector.iter().cloned());
        out.push(format!("{metric}{}", plan::selector_text(&labelled)));
    }
    out
}

/// A selector matching exactly `labels` (with `extra` set) on `metric`.
fn exact_selector(metric: &str, labels: &Labels, extra: &[(&str, &str)]) -> String {
    let mut matchers: Vec<Matcher> = labels
        .iter()
        .filter(|(k, _)| *k != "__name__" && !extra.iter().any(|(e, _)| e == k))
        .map(|(k, v)| pack::equal_matcher(k, v))
        .collect();
    for (k, v) in extra {
        matchers.push(pack::equal_matcher(k, v));
    }
    format!("{metric}{}", plan::selector_text(&matchers))
}

/// The records of the detection requests, in the order sent.
struct Log {
    records: Vec<QueryRecord>,
}

impl Log {
    fn record(
        &mut self,
        id: &str,
        kind: RequestKind,
        promql: &str,
        description: &str,
    ) -> &mut QueryRecord {
        self.records.push(QueryRecord {
            id: id.into(),
            role: "detection".into(),
            kind,
            description: description.into(),
            promql: promql.into(),
            ..Default::default()
        });
        self.records.last_mut().expect("just pushed")
    }
}

/// Everything detection needs, with a record of every request. Nothing here fails the
/// run: a failed request is said in `AlertData` (and a warning).
pub async fn acquire_alerts(
    client: &Requests,
    config: &QueryConfig,
    pack: &Pack,
    (from, to): (f64, f64),
    window_step: f64,
) -> (AlertData, Vec<QueryRecord>, Vec<String>) {
    let mut log = Log {
        records: Vec::new(),
    };
    let mut warnings = Vec::new();
    let start = from - config.lookback.as_secs_f64();
    let mut data = AlertData {
        searched: Some((start, to)),
        ..Default::default()
    };
    match first_alert(client, config, pack, (start, to), &mut log).await {
        Ok((first, others)) => {
            data.others = others;
            data.first = first;
        }
        Err(error) => {
            warnings.push(format!(
                "the ALERTS series could not be read, so the alert that detected the leak is unknown: {error}"
            ));
            data.error = Some(error.to_string());
        }
    }
    // The rules say which rule fired, or, when none did, whether any could have.
    if data.first.is_some() || data.error.is_none() {
        data.rules = Some(rules_api(client, &mut log).await);
    }
    if data.first.is_none() && data.error.is_none() {
        data.growth = growth(client, config, pack, (from, to), window_step, &mut log).await;
    }
    // Links over what each request covers, like the pack's queries have.
    for record in &mut log.records {
        let (end, span) = match (record.start, record.end, record.time) {
            (Some(start), Some(end), _) => (end, end - start),
            (_, _, Some(time)) => (time, 3600.0),
            _ => continue,
        };
        let end = crate::timespec::from_unix_seconds(end);
        record.graph_url =
            super::links::prometheus_graph(&config.links.prometheus_ui, &record.promql, end, span);
    }
    (data, log.records, warnings)
}

/// Coarse step over `span` seconds: a whole number of minutes, at least one.
fn coarse_step(span: f64) -> f64 {
    ((span / COARSE_POINTS / 60.0).ceil() * 60.0).max(60.0)
}

/// The first firing alert in `[start, to]` and the names of the others that fired.
async fn first_alert(
    client: &Requests,
    config: &QueryConfig,
    pack: &Pack,
    (start, to): (f64, f64),
    log: &mut Log,
) -> Result<(Option<FirstAlert>, Vec<String>), PromError> {
    let step = coarse_step(to - start);
    // `to` is a step, so the last samples are counted too.
    let start = to - ((to - start) / step).ceil() * step;
    let range = crate::timespec::format_duration(std::time::Duration::from_secs_f64(step));
    let promql = selectors(config, pack, "ALERTS")
        .iter()
        .map(|s| format!("count_over_time({s}[{range}])"))
        .collect::<Vec<_>>()
        .join(" or ");
    let answer = client.query_range("alerts", &promql, start, to, step).await;
    let record = log.record(
        "alerts",
        RequestKind::Range,
        &promql,
        "ALERTS samples per step for the service (pending and firing), from --lookback before the window to its end: in which step each alert first fired.",
    );
    record.start = Some(start);
    record.end = Some(to);
    record.step_seconds = Some(step);
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            record.error = Some(error.to_string());
            return Err(error);
        }
    };
    record.ok = true;
    record.series = answer.data.len();
    record.requests = answer.requests;
    record.warnings = answer.warnings.clone();
    // Each firing series' first step with a sample.
    let mut firing: Vec<(f64, Labels)> = answer
        .data
        .iter()
        .filter(|s| s.labels.get("alertstate").is_some_and(|v| v == "firing"))
        .filter_map(|s| {
            let first = s.points.iter().find(|p| p.1 > 0.0)?.0;
            let mut labels = s.labels.clone();
            labels.remove("alertstate");
            Some((first, labels))
        })
        .collect();
    firing.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut others: Vec<String> = Vec::new();
    for (_, labels) in &firing {
        let name = labels.get("alertname").cloned().unwrap_or_default();
        if !others.contains(&name) {
            others.push(name);
        }
    }
    let Some(first_step) = firing.first().map(|f| f.0) else {
        return Ok((None, Vec::new()));
    };
    // The first step's range lies before the searched span: an alert seen there was
    // firing when the span began, since some unknown time.
    let firing_before_search = first_step <= start;
    let mut best: Option<(f64, Labels)> = None;
    for (_, labels) in firing
        .iter()
        .filter(|f| f.0 == first_step)
        .take(MAX_CANDIDATES)
    {
        let firing_selector = exact_selector("ALERTS", labels, &[("alertstate", "firing")]);
        let samples = raw_samples(
            client,
            log,
            "alerts_first_firing",
            &firing_selector,
            first_step,
            2.0 * step,
        )
        .await?;
        if let Some(t) = samples.first().map(|p| p.0)
            && best.as_ref().is_none_or(|b| t < b.0)
        {
            best = Some((t, labels.clone()));
        }
    }
    let Some((firing_at, labels)) = best else {
        return Ok((None, Vec::new()));
    };
    let alertname = labels.get("alertname").cloned().unwrap_or_default();
    others.retain(|n| *n != alertname);
    let active_since = for_state(client, log, &labels, firing_at).await?;
    let pending_at = pending_since(
        client,
        log,
        &labels,
        firing_at,
        active_since,
        &answer.data,
        step,
    )
    .await?;
    let state_at_end = state_at(client, log, &labels, to).await?;
    Ok((
        Some(FirstAlert {
            alertname,
            labels,
            firing_at,
            pending_at,
            active_since,
            state_at_end,
            firing_before_search,
        }),
        others,
    ))
}

/// The raw samples of `selector` in the `range` seconds up to `at`, in time order,
/// for the series whose labels are exactly those of the selector.
async fn raw_samples(
    client: &Requests,
    log: &mut Log,
    id: &str,
    selector: &str,
    at: f64,
    range: f64,
) -> Result<Vec<(f64, f64)>, PromError> {
    let promql = format!("{selector}[{}s]", range.ceil() as u64);
    let answer = client.query_raw(id, &promql, at).await;
    let record = log.record(
        id,
        RequestKind::Instant,
        &promql,
        "Raw samples of one alert series (range selector), for its exact timestamps.",
    );
    record.time = Some(at);
    let answer = answer.inspect_err(|e| record.error = Some(e.to_string()))?;
    record.ok = true;
    record.series = answer.data.len();
    record.requests = answer.requests;
    let mut points: Vec<(f64, f64)> = answer
        .data
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|p| !p.1.is_nan())
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(points)
}

/// `ALERTS_FOR_STATE` of the alert at `at`: the Unix second it became active.
async fn for_state(
    client: &Requests,
    log: &mut Log,
    labels: &Labels,
    at: f64,
) -> Result<Option<f64>, PromError> {
    let promql = exact_selector("ALERTS_FOR_STATE", labels, &[]);
    let answer = client.query("alerts_for_state", &promql, at).await;
    let record = log.record(
        "alerts_for_state",
        RequestKind::Instant,
        &promql,
        "ALERTS_FOR_STATE at the first firing sample: the Unix time the alert became active (pending).",
    );
    record.time = Some(at);
    let answer = answer.inspect_err(|e| record.error = Some(e.to_string()))?;
    record.ok = true;
    record.series = answer.data.len();
    Ok(answer
        .data
        .iter()
        .find(|s| same_labels(&s.labels, labels))
        .map(|s| s.value))
}

/// Labels equal but for the metric name (and the state `ALERTS` has and
/// `ALERTS_FOR_STATE` has not).
fn same_labels(got: &Labels, want: &Labels) -> bool {
    let strip = |l: &Labels| -> Labels {
        l.iter()
            .filter(|(k, _)| *k != "__name__" && *k != "alertstate")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    strip(got) == strip(want)
}

/// When the episode that fired at `firing_at` went pending: its first pending sample
/// (from `ALERTS_FOR_STATE`'s second, or from the pending run the coarse counts show),
/// else the active-since second, else the firing time (a rule without `for`).
async fn pending_since(
    client: &Requests,
    log: &mut Log,
    labels: &Labels,
    firing_at: f64,
    active_since: Option<f64>,
    coarse: &[RangeSeries],
    step: f64,
) -> Result<f64, PromError> {
    let from = match active_since {
        Some(active) => active - 1.0,
        None => {
            // The run of steps with pending samples that ends where the firing began.
            let pending = coarse.iter().find(|s| {
                s.labels.get("alertstate").is_some_and(|v| v == "pending")
                    && same_labels(&s.labels, labels)
            });
            let Some(pending) = pending else {
                return Ok(firing_at);
            };
            let mut run_start = None;
            for p in pending
                .points
                .iter()
                .rev()
                .filter(|p| p.0 <= firing_at + step)
            {
                match run_start {
                    Some(s) if s - p.0 > step + 0.5 => break,
                    _ if p.1 > 0.0 => run_start = Some(p.0),
                    _ => break,
                }
            }
            let Some(run_start) = run_start else {
                return Ok(firing_at);
            };
            run_start - step
        }
    };
    if from >= firing_at {
        return Ok(firing_at);
    }
    let selector = exact_selector("ALERTS", labels, &[("alertstate", "pending")]);
    let samples = raw_samples(
        client,
        log,
        "alerts_pending",
        &selector,
        firing_at,
        firing_at - from,
    )
    .await?;
    Ok(samples
        .iter()
        .map(|p| p.0)
        .find(|t| *t >= from && *t < firing_at)
        .or(active_since.filter(|a| firing_at - a >= 1.0))
        .unwrap_or(firing_at))
}

/// The alert's state at `at` (`firing`, `pending`), or `None` when it is not active.
async fn state_at(
    client: &Requests,
    log: &mut Log,
    labels: &Labels,
    at: f64,
) -> Result<Option<String>, PromError> {
    let promql = exact_selector("ALERTS", labels, &[]);
    let answer = client.query("alerts_at_end", &promql, at).await;
    let record = log.record(
        "alerts_at_end",
        RequestKind::Instant,
        &promql,
        "The first alert at the window's end: still firing, pending again, or resolved.",
    );
    record.time = Some(at);
    let answer = answer.inspect_err(|e| record.error = Some(e.to_string()))?;
    record.ok = true;
    record.series = answer.data.len();
    let states: Vec<&str> = answer
        .data
        .iter()
        .filter(|s| same_labels(&s.labels, labels))
        .filter_map(|s| s.labels.get("alertstate").map(String::as_str))
        .collect();
    Ok(["firing", "pending"]
        .into_iter()
        .find(|s| states.contains(s))
        .map(str::to_string))
}

/// The rules API's alerting rules, or why they could not be read (not an error: the
/// alert is still known from `ALERTS`).
async fn rules_api(client: &Requests, log: &mut Log) -> Result<RulesData, String> {
    let answer = client.rules().await;
    let record = log.record(
        "rules",
        RequestKind::Rules,
        &format!("GET {}?type=alert", crate::prom::api::RULES_PATH),
        "The alerting rules (expression, for, group, file): the rule behind the alert that fired, or, when none fired, whether any alerting rule is loaded at all.",
    );
    match answer {
        Ok(answer) => {
            record.ok = true;
            record.series = answer.data.groups.iter().map(|g| g.rules.len()).sum();
            Ok(answer.data.clone())
        }
        Err(error) => {
            record.error = Some(error.to_string());
            Err(rules_unavailable(&error))
        }
    }
}

/// Why the rules API gave nothing, in words that say where it lives.
fn rules_unavailable(error: &PromError) -> String {
    match error {
        PromError::NotFound { url, .. } | PromError::ApiPathInUrl { url, .. } => format!(
            "{url} has no rules API (HTTP 404 for {}): Prometheus and Thanos serve it there, Mimir and Cortex under /prometheus (include it in --prometheus-url), VictoriaMetrics only with -vmalert.proxyURL",
            crate::prom::api::RULES_PATH
        ),
        PromError::BadQuery { message, .. } => format!(
            "the server refused the rules API (HTTP 400: {message}); VictoriaMetrics serves it only with -vmalert.proxyURL"
        ),
        other => format!("the rules API could not be read: {other}"),
    }
}

/// The growth rule's value over the window, at the rule's 1 min resolution (or the
/// window's step, in whole minutes, for windows over 2 days).
async fn growth(
    client: &Requests,
    config: &QueryConfig,
    pack: &Pack,
    (from, to): (f64, f64),
    window_step: f64,
    log: &mut Log,
) -> Option<GrowthData> {
    let rule = alert_exprs::growth_expr(config, pack).ok()?;
    let expr = rule.value();
    let step = if to - from <= FINE_GROWTH_SPAN {
        60.0
    } else {
        (window_step / 60.0).ceil() * 60.0
    };
    let answer = client
        .query_range("growth_rule", &expr, from, to, step)
        .await;
    let record = log.record(
        "growth_rule",
        RequestKind::Range,
        &expr,
        "The growth rule of `leakcollect rules` without its threshold (bytes per hour of the post-GC floor, restarted instances left out): when it would have fired.",
    );
    record.start = Some(from);
    record.end = Some(to);
    record.step_seconds = Some(step);
    let series = match answer {
        Ok(answer) => {
            record.ok = true;
            record.series = answer.data.len();
            record.requests = answer.requests;
            record.warnings = answer.warnings.clone();
            Ok(answer.data.clone())
        }
        Err(error) => {
            record.error = Some(error.to_string());
            Err(error.to_string())
        }
    };
    Some(GrowthData {
        expr,
        rule,
        step,
        series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_steps_are_whole_minutes() {
        assert_eq!(coarse_step(3600.0), 60.0);
        assert_eq!(coarse_step(8.0 * 86400.0), 720.0);
    }

    #[test]
    fn exact_selectors_escape_values() {
        let labels: Labels = [("alertname".to_string(), "A\"b".to_string())].into();
        assert_eq!(
            exact_selector("ALERTS", &labels, &[("alertstate", "firing")]),
            r#"ALERTS{alertname="A\"b",alertstate="firing"}"#
        );
    }
}
