//! Markdown rendering through handlebars. The built-in template follows the team's report
//! template section by section; `--template` swaps in another. Values from Prometheus are
//! made safe for where they land (table cell, inline text, code fence) by helpers, since
//! HTML escaping is off.

use crate::evidence::{Evidence, Period};
use chrono::{DateTime, Utc};
use handlebars::{Handlebars, handlebars_helper};
use serde_json::{Value, json};
use std::path::Path;
use thiserror::Error;

pub const BUILTIN_TEMPLATE: &str = include_str!("../../templates/report.md.hbs");

/// The report's evidence sections, each a partial the report template includes and
/// `attach` writes into a draft as a leakcollect-owned block of the same id.
pub const BLOCKS: &[(&str, &str)] = &[
    (
        "service",
        include_str!("../../templates/blocks/service.md.hbs"),
    ),
    ("date", include_str!("../../templates/blocks/date.md.hbs")),
    (
        "impact-growth",
        include_str!("../../templates/blocks/impact-growth.md.hbs"),
    ),
    (
        "impact-oom",
        include_str!("../../templates/blocks/impact-oom.md.hbs"),
    ),
    (
        "impact-duration",
        include_str!("../../templates/blocks/impact-duration.md.hbs"),
    ),
    (
        "fix-deployed",
        include_str!("../../templates/blocks/fix-deployed.md.hbs"),
    ),
    (
        "status",
        include_str!("../../templates/blocks/status.md.hbs"),
    ),
    (
        "timeline",
        include_str!("../../templates/blocks/timeline.md.hbs"),
    ),
    (
        "symptoms",
        include_str!("../../templates/blocks/symptoms.md.hbs"),
    ),
    (
        "how-discovered",
        include_str!("../../templates/blocks/how-discovered.md.hbs"),
    ),
    (
        "monitoring-data",
        include_str!("../../templates/blocks/monitoring-data.md.hbs"),
    ),
    (
        "example-metrics",
        include_str!("../../templates/blocks/example-metrics.md.hbs"),
    ),
    (
        "per-instance",
        include_str!("../../templates/blocks/per-instance.md.hbs"),
    ),
    (
        "load-test",
        include_str!("../../templates/blocks/load-test.md.hbs"),
    ),
    (
        "deployment-time",
        include_str!("../../templates/blocks/deployment-time.md.hbs"),
    ),
    (
        "environment",
        include_str!("../../templates/blocks/environment.md.hbs"),
    ),
    (
        "rollout-strategy",
        include_str!("../../templates/blocks/rollout-strategy.md.hbs"),
    ),
    (
        "before-fix",
        include_str!("../../templates/blocks/before-fix.md.hbs"),
    ),
    (
        "after-fix",
        include_str!("../../templates/blocks/after-fix.md.hbs"),
    ),
    (
        "improvement",
        include_str!("../../templates/blocks/improvement.md.hbs"),
    ),
    (
        "prometheus-queries",
        include_str!("../../templates/blocks/prometheus-queries.md.hbs"),
    ),
    (
        "warnings",
        include_str!("../../templates/blocks/warnings.md.hbs"),
    ),
    (
        "preventive-alerts",
        include_str!("../../templates/blocks/preventive-alerts.md.hbs"),
    ),
    (
        "query-links",
        include_str!("../../templates/blocks/query-links.md.hbs"),
    ),
    (
        "key-panels",
        include_str!("../../templates/blocks/key-panels.md.hbs"),
    ),
    (
        "grafana-link",
        include_str!("../../templates/blocks/grafana-link.md.hbs"),
    ),
    (
        "memory-chart",
        include_str!("../../templates/blocks/memory-chart.md.hbs"),
    ),
    (
        "gc-chart",
        include_str!("../../templates/blocks/gc-chart.md.hbs"),
    ),
    (
        "next-review",
        include_str!("../../templates/blocks/next-review.md.hbs"),
    ),
    (
        "validation-runs",
        include_str!("../../templates/blocks/validation-runs.md.hbs"),
    ),
];

/// Blocks written only when a deployment was found as the fix (`analysis::deployments`).
pub const DEPLOYMENT_BLOCKS: &[&str] = &["environment", "rollout-strategy"];

/// Partials blocks share that are not blocks themselves: the timeline's Detection row,
/// which the report puts first in its table and the timeline block carries in a draft.
const PARTIALS: &[(&str, &str)] = &[(
    "timeline-detection",
    include_str!("../../templates/blocks/timeline-detection.md.hbs"),
)];

/// Blocks only `validate` writes.
pub const VALIDATION_BLOCKS: &[&str] = &["next-review", "validation-runs"];

/// Blocks that only mean something with a fix (`--fix-deployed`).
const FIX_BLOCKS: &[&str] = &[
    "fix-deployed",
    "timeline",
    "deployment-time",
    "after-fix",
    "improvement",
];
const TOP_INSTANCES: usize = 10;

#[derive(Debug, Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template {origin}: {detail}")]
    Invalid { origin: String, detail: String },
}

impl TemplateError {
    pub fn code(&self) -> i32 {
        crate::exit::USAGE
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

const NA: &str = "n/a";

/// `value` with `places` decimals, never `-0.00`: a slope of -0.0004 MB/h is no growth,
/// not a negative one.
pub fn fixed(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}
pub fn format_mb(v: &Value) -> String {
    number(v).map_or(NA.into(), |b| format!("{} MB", fixed(b / 1e6, 1)))
}
pub fn format_mb_per_hour(v: &Value) -> String {
    number(v).map_or(NA.into(), |b| format!("{} MB/hour", fixed(b / 1e6, 2)))
}
fn format_percent(v: &Value) -> String {
    number(v).map_or(NA.into(), |p| {
        let short = format!("{p:.1}");
        // Never round 99.95 up to a "100.0%" that reads as total, or 0.04 down to zero.
        if (short == "100.0" || short == "0.0" || short == "-0.0") && p != 100.0 && p != 0.0 {
            format!("{p:.2}%")
        } else {
            format!("{short}%")
        }
    })
}
pub fn format_seconds(v: &Value) -> String {
    match number(v) {
        None => NA.into(),
        Some(s) if s < 1.0 => format!("{:.1} ms", s * 1e3),
        Some(s) => format!("{s:.2} s"),
    }
}
fn format_count(v: &Value) -> String {
    match number(v) {
        None => "unknown".into(),
        Some(n) if n.fract() == 0.0 => format!("{n:.0}"),
        Some(n) => format!("{n:.1}"),
    }
}
fn format_hours(v: &Value) -> String {
    number(v).map_or(NA.into(), |h| {
        if h >= 48.0 {
            format!("{:.1} days", h / 24.0)
        } else {
            format!("{h:.1} h")
        }
    })
}
fn format_per_week(v: &Value) -> String {
    number(v).map_or("unknown".into(), |n| format!("{n:.1}/week"))
}
fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Text safe inline in Markdown: no HTML, no link or emphasis syntax, one line.
pub fn inline_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

handlebars_helper!(mb: |v: Json| format_mb(v));
handlebars_helper!(mbh: |v: Json| format_mb_per_hour(v));
handlebars_helper!(pct: |v: Json| format_percent(v));
handlebars_helper!(secs: |v: Json| format_seconds(v));
handlebars_helper!(count: |v: Json| format_count(v));
handlebars_helper!(hours: |v: Json| format_hours(v));
handlebars_helper!(per_week: |v: Json| format_per_week(v));
handlebars_helper!(time: |v: Json| parse_time(v).map_or(NA.into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()));
handlebars_helper!(tsec: |v: Json| parse_time(v).map_or(NA.into(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()));
handlebars_helper!(dur: |v: Json| number(v).filter(|s| *s >= 0.0).map_or(NA.into(), |s| crate::timespec::format_duration(std::time::Duration::from_secs_f64(s))));
handlebars_helper!(date: |v: Json| parse_time(v).map_or(NA.into(), |t| t.format("%Y-%m-%d").to_string()));
handlebars_helper!(hhmm: |v: Json| parse_time(v).map_or(NA.into(), |t| t.format("%m-%d %H:%M").to_string()));
handlebars_helper!(cell: |v: Json| inline_safe(&plain(v)));
handlebars_helper!(inline: |v: Json| inline_safe(&plain(v)));
handlebars_helper!(ratio: |v: Json| format_percent(&number(v).map_or(Value::Null, |r| json!(r * 100.0))));
handlebars_helper!(some: |v: Json| !v.is_null());
handlebars_helper!(check: |v: Json| if v.get("present") == Some(&Value::Bool(true)) { "x" } else { " " });
handlebars_helper!(oneline: |v: Json| plain(v).replace(['\n', '\r'], " "));

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A code fence longer than any run of backticks in the values it will enclose.
fn fence_for(evidence: &Evidence) -> String {
    let longest = serde_json::to_string(evidence)
        .unwrap_or_default()
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

fn seconds_map(map: &std::collections::BTreeMap<String, f64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{} {}", k, format_seconds(&json!(v))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line on GC pauses from whatever the runtime publishes: a histogram's p95, else a
/// summary's mean, max and quantiles, else collection counts. Never a made-up p95.
/// The period's GC pause in a few words: p95 (with the slowest kind's), else the mean.
fn gc_pause_line(period: &Period) -> String {
    let slowest = period
        .gc_pause_p95_by_kind
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(kind, v)| format!(" ({kind}: {})", format_seconds(&json!(v))))
        .unwrap_or_default();
    match (period.gc_pause_p95_seconds, period.gc_pause_mean_seconds) {
        (Some(p95), _) => format!("p95 {}{slowest}", format_seconds(&json!(p95))),
        (None, Some(mean)) => format!("mean {}", format_seconds(&json!(mean))),
        (None, None) => NA.to_string(),
    }
}

pub fn gc_line(period: &Period) -> String {
    let mut parts = Vec::new();
    if let Some(p95) = period.gc_pause_p95_seconds {
        let mut text = format!("p95 {}", format_seconds(&json!(p95)));
        if !period.gc_pause_p95_by_kind.is_empty() {
            text.push_str(&format!(" ({})", seconds_map(&period.gc_pause_p95_by_kind)));
        }
        parts.push(text);
    } else if period.gc_pause_mean_seconds.is_some()
        || period.gc_pause_max_seconds.is_some()
        || !period.gc_pause_quantiles.is_empty()
    {
        parts.push("no p95 (the runtime publishes a summary, not a histogram)".to_string());
    }
    if let Some(mean) = period.gc_pause_mean_seconds {
        parts.push(format!("mean {}", format_seconds(&json!(mean))));
    }
    if let Some(max) = period.gc_pause_max_seconds {
        parts.push(format!("max {}", format_seconds(&json!(max))));
    }
    if !period.gc_pause_quantiles.is_empty() {
        parts.push(format!(
            "summary quantiles, highest in the period: {}",
            seconds_map(&period.gc_pause_quantiles)
        ));
    }
    if let Some(rate) = period.gc_collections_per_hour {
        let by = period
            .gc_collections_per_hour_by
            .iter()
            .map(|(k, v)| format!("{k} {v:.0}"))
            .collect::<Vec<_>>()
            .join(", ");
        if by.is_empty() {
            parts.push(format!("{rate:.0} collections/hour"));
        } else {
            parts.push(format!("{rate:.0} collections/hour ({by})"));
        }
    }
    if parts.is_empty() {
        "n/a (no GC metrics found)".to_string()
    } else {
        parts.join("; ")
    }
}

/// What one process lifetime of the period shows, when restarts cut the clock-time
/// levels short: the median lifetime and the memory at its end at the measured growth.
fn lifetime_view(p: &Period) -> Option<Value> {
    let (base, growth, lifetime) = (
        p.heap_baseline_bytes?,
        p.growth_bytes_per_hour?,
        p.growth_percent_over_hours?,
    );
    (p.restarts > 0).then(|| {
        json!({
            "hours": lifetime,
            "gain": growth * lifetime,
            "end": base + growth * lifetime,
            "after_6h": (lifetime >= 6.0).then_some(base + growth * 6.0),
        })
    })
}

fn view(evidence: &Evidence) -> Value {
    let leak = evidence
        .periods
        .before
        .as_ref()
        .unwrap_or(&evidence.periods.window);
    let current = evidence
        .periods
        .after
        .as_ref()
        .unwrap_or(&evidence.periods.window);
    let status = match evidence.periods.after.as_ref() {
        Some(after) => match crate::analysis::symptoms::linear_growth(after, "").present {
            Some(false) => {
                "Monitoring (growth after the fix is below 1 MB/hour and 10% of the baseline)"
            }
            Some(true) => "In Progress (memory still grows after the fix)",
            None => {
                "In Progress (growth after the fix could not be measured yet; see the warnings)"
            }
        },
        None => "[Resolved/Monitoring/In Progress]",
    };
    let load_test = |p: &Period| match (p.heap_baseline_bytes, p.bytes_per_1k_requests) {
        (Some(base), Some(per_1k)) => Some(json!({
            "after_1k": base + per_1k,
            "after_10k": base + 10.0 * per_1k,
            "per_1k": per_1k,
        })),
        _ => None,
    };
    let heap_query = evidence
        .queries
        .iter()
        .find(|q| q.role == "heap")
        .map(|q| q.promql.clone())
        .unwrap_or_default();
    let top: Vec<_> = leak.instances.iter().take(TOP_INSTANCES).collect();
    json!({
        "e": evidence,
        "leak": leak,
        "before": evidence.periods.before,
        "after": evidence.periods.after,
        "current": current,
        "has_handles": evidence
            .queries
            .iter()
            .any(|q| q.role == "active_handles" && q.series > 0),
        "leak_disagree": crate::analysis::service_growth::instances_disagree(leak),
        "leak_oom_far_below_limit": crate::analysis::oom::kills_far_below_limit(leak),
        "leak_lifetime": lifetime_view(leak),
        "leak_gc": gc_line(leak),
        "current_gc": gc_line(current),
        "after_gc": evidence.periods.after.as_ref().map(gc_line),
        "leak_gc_pause": gc_pause_line(leak),
        "after_gc_pause": evidence.periods.after.as_ref().map(gc_pause_line),
        // "Would have fired" pending from the first evaluation: the threshold was crossed
        // before the window, where the rule was not evaluated.
        "detection_at_start": evidence.detection.as_ref().is_some_and(|d| {
            d.source == crate::evidence::DetectionSource::WouldHaveFired
                && d.pending_at.is_some_and(|p| {
                    (p - evidence.window.from).num_seconds() as f64
                        <= evidence.window.step_seconds.max(60.0)
                })
        }),
        "current_span": if evidence.periods.after.is_some() { "after the fix" } else { "over the window" },
        "after_trend": evidence.periods.after.as_ref().map(|after| {
            match crate::analysis::symptoms::linear_growth(after, "").present {
                Some(false) => "stable after the fix",
                Some(true) => "still growing after the fix",
                None => "growth after the fix unknown",
            }
        }),
        "leak_load": load_test(leak),
        "after_load": evidence.periods.after.as_ref().and_then(load_test),
        "top_instances": top,
        "top_count": top.len(),
        "status": status,
        "alerts": alerts_view(evidence),
        "has_explore": evidence.queries.iter().any(|q| q.explore_url.is_some()),
        "heap_explore": evidence
            .queries
            .iter()
            .find(|q| q.role == "heap")
            .and_then(|q| q.explore_url.clone()),
        "fence": fence_for(evidence),
        "heap_query": heap_query,
        "runtime_heap": inline_safe(&evidence.runtime_title),
        "deploy": deployments_view(evidence),
    })
}

/// The deployments as the blocks show them: the fix's rollout, the other deployments
/// in the window (timeline rows), and the leak's duration from its onset.
fn deployments_view(evidence: &Evidence) -> Value {
    use crate::analysis::deployments::strategy_name;
    use crate::evidence::{Deployment, OnsetEvent, RolloutStrategy};
    let versions = |d: &Deployment| {
        let list = |v: &[String]| {
            if v.is_empty() {
                "?".to_string()
            } else {
                v.join(", ")
            }
        };
        if d.versions_before.is_empty() && d.versions_after.is_empty() {
            String::new()
        } else {
            format!("{} → {}", list(&d.versions_before), list(&d.versions_after))
        }
    };
    let row = |d: &Deployment| {
        let how = match d.strategy {
            RolloutStrategy::Rolling => "new instances came while the old ones still ran",
            RolloutStrategy::Recreate => {
                "every old instance was gone before the first new one came"
            }
            RolloutStrategy::Canary => {
                "a subset ran the new version alongside the old one for 30 min or more before the rest followed"
            }
            RolloutStrategy::Unknown => "the series do not show how instances were replaced",
        };
        json!({
            "started": d.started,
            "finished": d.finished,
            "strategy": strategy_name(d.strategy),
            "how": how,
            "versions": versions(d),
            "source": d.source.describe(),
            "namespaces": d.namespaces.join(", "),
            "before": d.instances_before,
            "after": d.instances_after,
        })
    };
    let fix = evidence.deployments.iter().find(|d| d.fix).map(row);
    // Timeline rows either side of the fix's row, so the table stays in time order.
    let fix_time = evidence.fix_deployed;
    let others = |later: bool| -> Vec<Value> {
        evidence
            .deployments
            .iter()
            .filter(|d| d.in_window && !d.fix)
            // Without a fix every deployment is "later" (after the window's start).
            .filter(|d| fix_time.map_or(later, |f| (d.started > f) == later))
            .map(row)
            .collect()
    };
    let duration = evidence.onset.as_ref().map(|o| {
        let since = match o.event {
            OnsetEvent::BeforeData => format!(
                "before {} (memory already grew in the earliest samples read)",
                o.at.format("%Y-%m-%d %H:%M UTC")
            ),
            OnsetEvent::Deployment => format!(
                "{} (the deployment of {})",
                o.at.format("%Y-%m-%d %H:%M UTC"),
                o.version.as_deref().unwrap_or("a new version")
            ),
            OnsetEvent::Restart => format!(
                "{} (the first restart after which process lifetimes grew)",
                o.at.format("%Y-%m-%d %H:%M UTC")
            ),
        };
        let until = if evidence.fix_deployed.is_some() {
            "until the fix"
        } else if o.still_growing {
            "still growing at the window's end"
        } else {
            "until the window's end"
        };
        // Growth older than the data read has no known start: its length is a floor.
        let at_least = if o.event == OnsetEvent::BeforeData {
            "at least "
        } else {
            ""
        };
        format!(
            "since {}, {at_least}{} days, {until}",
            inline_safe(&since),
            fixed(o.hours / 24.0, 1)
        )
    });
    let fix_reason = evidence
        .fix_deployed_source
        .as_ref()
        .filter(|s| s.origin == crate::evidence::FixOrigin::Detected)
        .map(|s| s.reason.clone());
    json!({
        "fix": fix,
        "earlier": others(false),
        "later": others(true),
        "duration": duration,
        "fix_reason": fix_reason,
    })
}

/// The suggested alert thresholds (the same `leakcollect rules` uses) for Preventive Measures.
fn alerts_view(evidence: &Evidence) -> Value {
    let t = crate::analysis::thresholds::suggested(evidence);
    let prefix = crate::analysis::thresholds::alert_prefix(&evidence.service);
    json!({
        "growth_mb": format!("{:.1}", t.growth_bytes_per_hour / 1e6),
        "growth_for": t.growth_for,
        "limit_percent": t.limit_percent,
        "floor_mb": format!("{:.0}", t.memory_floor_bytes / 1e6),
        "basis": inline_safe(&t.basis),
        "prefix": prefix,
        // The rule compares resident memory when the pack reads it, else the memory figure.
        "limit_memory": if evidence.queries.iter().any(|q| q.role == "rss") {
            "Resident memory (RSS)".to_string()
        } else {
            inline_safe(&evidence.memory_name)
        },
    })
}

fn registry() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.register_escape_fn(handlebars::no_escape);
    for (name, text) in BLOCKS.iter().chain(PARTIALS) {
        hb.register_partial(name, *text)
            .expect("built-in block templates parse");
    }
    for (name, helper) in [
        (
            "mb",
            Box::new(mb) as Box<dyn handlebars::HelperDef + Send + Sync>,
        ),
        ("mbh", Box::new(mbh)),
        ("pct", Box::new(pct)),
        ("secs", Box::new(secs)),
        ("count", Box::new(count)),
        ("hours", Box::new(hours)),
        ("per_week", Box::new(per_week)),
        ("time", Box::new(time)),
        ("date", Box::new(date)),
        ("tsec", Box::new(tsec)),
        ("dur", Box::new(dur)),
        ("hhmm", Box::new(hhmm)),
        ("cell", Box::new(cell)),
        ("inline", Box::new(inline)),
        ("oneline", Box::new(oneline)),
        ("check", Box::new(check)),
        ("ratio", Box::new(ratio)),
        ("some", Box::new(some)),
    ] {
        hb.register_helper(name, helper);
    }
    hb
}

/// Renders with the built-in template, or the one at `template`.
pub fn render(evidence: &Evidence, template: Option<&Path>) -> Result<String, TemplateError> {
    let (origin, text) = match template {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
                path: path.display().to_string(),
                source,
            })?,
        ),
        None => (
            "built-in templates/report.md.hbs".to_string(),
            BUILTIN_TEMPLATE.to_string(),
        ),
    };
    let mut hb = registry();
    hb.register_template_string("report", &text)
        .map_err(|e| TemplateError::Invalid {
            origin: origin.clone(),
            detail: e.to_string(),
        })?;
    hb.render("report", &view(evidence))
        .map_err(|e| TemplateError::Invalid {
            origin,
            detail: e.to_string(),
        })
}

/// One block's content for `attach`, or `None` when the evidence has nothing for it
/// (the fix blocks without `--fix-deployed`).
pub fn render_block(evidence: &Evidence, id: &str) -> Option<String> {
    render_block_with(evidence, id, None)
}

/// Like [`render_block`], with `validate`'s verdict (see `commands::validate`) in the view
/// as `validation`, which the status, timeline and validation blocks use.
pub fn render_block_with(
    evidence: &Evidence,
    id: &str,
    validation: Option<&Value>,
) -> Option<String> {
    // The timeline also carries the Detection row of an alert that fired.
    let alert_fired = evidence
        .detection
        .as_ref()
        .is_some_and(|d| d.source == crate::evidence::DetectionSource::Alert);
    // … and a row per deployment in the window.
    let deployed = evidence.deployments.iter().any(|d| d.in_window);
    if FIX_BLOCKS.contains(&id)
        && evidence.fix_deployed.is_none()
        && !(id == "timeline" && (alert_fired || deployed))
    {
        return None;
    }
    if id == "how-discovered" && evidence.detection.is_none() {
        return None;
    }
    if VALIDATION_BLOCKS.contains(&id) && validation.is_none() {
        return None;
    }
    // Known only from a deployment found in the series.
    let fix_deploy = evidence.deployments.iter().find(|d| d.fix);
    match id {
        "rollout-strategy" if fix_deploy.is_none() => return None,
        "environment" if fix_deploy.is_none_or(|d| d.namespaces.is_empty()) => return None,
        _ => {}
    }
    let chart = match id {
        "memory-chart" => Some("memory"),
        "gc-chart" => Some("gc"),
        _ => None,
    };
    if chart.is_some_and(|c| !evidence.charts.contains_key(c)) {
        return None;
    }
    let has_explore = evidence.queries.iter().any(|q| q.explore_url.is_some());
    if id == "grafana-link" && !has_explore {
        return None;
    }
    let mut view = view(evidence);
    if let Some(v) = validation {
        view["validation"] = v.clone();
    }
    Some(
        registry()
            .render(id, &view)
            .expect("built-in blocks render any evidence"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_cannot_inject_markup() {
        let hostile = "a|b<script>[x](http://e) `c` **d**\nnext";
        let safe = inline_safe(hostile);
        assert!(!safe.contains('<'));
        assert!(!safe.contains('\n'));
        assert!(safe.contains("\\|"));
        assert!(safe.contains("\\[x\\]"));
    }

    #[test]
    fn no_negative_zero() {
        assert_eq!(fixed(-0.0004, 2), "0.00");
        assert_eq!(fixed(-0.004, 2), "0.00");
        assert_eq!(fixed(-0.006, 2), "-0.01");
        assert_eq!(fixed(1.234, 1), "1.2");
        assert_eq!(
            format_mb_per_hour(&serde_json::json!(-400.0)),
            "0.00 MB/hour"
        );
    }

    #[test]
    fn units() {
        assert_eq!(format_mb(&json!(123_456_789.0)), "123.5 MB");
        assert_eq!(format_mb(&Value::Null), "n/a");
        assert_eq!(format_mb_per_hour(&json!(120e6)), "120.00 MB/hour");
        assert_eq!(format_seconds(&json!(0.0123)), "12.3 ms");
        assert_eq!(format_seconds(&json!(2.5)), "2.50 s");
        assert_eq!(format_count(&Value::Null), "unknown");
    }
}
