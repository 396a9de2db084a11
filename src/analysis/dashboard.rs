//! What the Grafana dashboard of `leakcollect dashboard` shows, decided once
//! ([`plan`]): the report's own queries (the evidence's recorded PromQL, or the pack's
//! with `$__rate_interval` where the report has the period's range), the fitted growth
//! the memory chart draws (as PromQL lines), the growth rule `leakcollect rules`
//! writes, the container limit and the fix. `render::dashboard` only lays it out.

use crate::acquire::AcquireError;
use crate::acquire::alert_exprs::{expr, growth_expr, role_expr};
use crate::config::QueryConfig;
use crate::evidence::charts::{ChartData, LimitBasis};
use crate::evidence::dashboard::{
    DashboardPlan, FixMark, PanelKind, PanelPlan, PanelUnit, TargetPlan,
};
use crate::evidence::{Evidence, GrafanaDashboard};
use crate::pack::{Pack, RANGE_PLACEHOLDER, Role};
use crate::units;

/// At most this many fitted segments go into the fit's PromQL (the fastest-growing
/// drawn instances first): each is a term of one expression, and a sawtooth of short
/// lifetimes would make it longer than a reader can check.
pub const MAX_FIT_SEGMENTS: usize = 48;

/// Grafana's own range variable; `$__rate_interval` is at least four scrape intervals.
pub const RATE_INTERVAL: &str = "$__rate_interval";

/// A duration no pack writes, put where `${range}` stands so the PromQL parses for
/// matcher injection, then replaced by [`RATE_INTERVAL`].
const SENTINEL: &str = "13h17m19s";

/// The dashboard for `evidence` (and the charts' model of the same run).
pub fn plan(
    config: &QueryConfig,
    pack: &Pack,
    evidence: &Evidence,
    charts: &ChartData,
    uid: Option<&str>,
) -> Result<DashboardPlan, AcquireError> {
    let mut panels = vec![memory_panel(evidence, charts)];
    panels.push(growth_panel(config, pack, evidence)?);
    panels.extend(gc_panel(config, pack, evidence)?);
    panels.extend(restarts_panel(config, pack, evidence)?);
    let fix = evidence.fix_deployed.map(|at| FixMark {
        at,
        text: match evidence.fix_deployed_source.as_ref() {
            Some(source) => format!("Fix deployed ({})", source.reason),
            None => "Fix deployed (--fix-deployed)".to_string(),
        },
    });
    Ok(DashboardPlan {
        title: format!(
            "{}: memory leak ({})",
            evidence.service, evidence.runtime_title
        ),
        uid: uid.map_or_else(|| default_uid(&evidence.service), str::to_string),
        service: evidence.service.clone(),
        from: evidence.window.from,
        to: evidence.window.to,
        panels,
        fix,
        description: format!(
            "Written by leakcollect {} from the evidence of {} ({} → {}); the panels run the report's queries.",
            evidence.tool_version,
            evidence.selector,
            units::time(evidence.window.from),
            units::time(evidence.window.to)
        ),
    })
}

/// The dashboard under `uid` over `window`, as the report links it: by its uid, since a
/// link needs the uid it was imported under (only the user can vouch for the import);
/// `file` where `attach --dashboard` wrote it.
pub fn link(
    config: &QueryConfig,
    uid: &str,
    (from, to): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    file: Option<String>,
) -> GrafanaDashboard {
    let url = config
        .links
        .grafana
        .as_deref()
        .and_then(|g| crate::acquire::links::grafana_dashboard(g, uid, from, to));
    GrafanaDashboard {
        uid: uid.to_string(),
        url,
        file,
    }
}

/// `leakcollect-<service>`, in the characters and length Grafana allows in a uid (40).
pub fn default_uid(service: &str) -> String {
    let clean: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("leakcollect-{clean}").chars().take(40).collect()
}

/// A pack query's PromQL with the service's matchers and `$__rate_interval` for `${range}`.
fn with_rate_interval(
    config: &QueryConfig,
    pack: &Pack,
    role: Role,
    wrap: impl Fn(&str) -> String,
) -> Result<Option<(String, String)>, AcquireError> {
    let Some(query) = pack.by_role(role).next() else {
        return Ok(None);
    };
    let text = wrap(&query.promql).replace(RANGE_PLACEHOLDER, SENTINEL);
    let injected = expr(config, pack, query, &text)?;
    Ok(Some((
        injected.replace(SENTINEL, RATE_INTERVAL),
        query.id.clone(),
    )))
}

/// Whether the report's query of `role` found series (a panel without data says nothing).
fn had_data(evidence: &Evidence, role: Role) -> bool {
    let name = role.name();
    evidence
        .queries
        .iter()
        .any(|q| q.role == name && q.ok && q.series > 0)
}

fn memory_panel(evidence: &Evidence, charts: &ChartData) -> PanelPlan {
    let leak = evidence
        .periods
        .before
        .as_ref()
        .unwrap_or(&evidence.periods.window);
    let mut targets = Vec::new();
    if let Some(q) = evidence.queries.iter().find(|q| q.role == "heap") {
        targets.push(TargetPlan {
            ref_id: "A".into(),
            expr: q.promql.clone(),
            legend: "{{instance}}".into(),
            source: q.id.clone(),
        });
    }
    let (fit, drawn, left_out) = fit_expr(charts);
    if let Some(fit) = fit {
        targets.push(TargetPlan {
            ref_id: "B".into(),
            expr: fit,
            legend: "{{fit}} fitted".into(),
            source: "the memory chart's fitted growth".into(),
        });
    }
    let rate = |g: Option<f64>| g.map_or_else(|| units::NA.to_string(), units::mb_per_hour);
    let growth = match (&evidence.periods.before, &evidence.periods.after) {
        (Some(before), Some(after)) => format!(
            "{} per instance before the fix, {} after it",
            rate(before.growth_bytes_per_hour),
            rate(after.growth_bytes_per_hour)
        ),
        _ => format!(
            "{} per instance over the window",
            rate(leak.growth_bytes_per_hour)
        ),
    };
    let mut description = format!(
        "{} per instance (the report's query). Fitted growth: one straight line per process lifetime along its post-GC floor, for the {drawn} instances the report's chart draws; their weighted median is the report's growth, {growth}.",
        evidence.memory_name
    );
    if left_out > 0 {
        description.push_str(&format!(
            " {left_out} fitted segments of slower instances are left out (at most {MAX_FIT_SEGMENTS})."
        ));
    }
    // The limit the report's "% of the limit" uses, as the memory chart draws it.
    let limit = charts.memory.limit;
    if let Some(limit) = limit {
        let compared = match limit.compared {
            LimitBasis::Rss => "the report compares resident memory (RSS, not drawn here) with it",
            LimitBasis::Drawn => "the report compares this memory with it",
        };
        description.push_str(&format!(
            " The dashed threshold line is the container memory limit, {}; {compared}.",
            units::mb(limit.bytes)
        ));
    }
    PanelPlan {
        kind: PanelKind::Memory,
        title: format!(
            "{} per instance, with the fitted growth",
            evidence.memory_name
        ),
        description,
        unit: PanelUnit::Bytes,
        targets,
        threshold: limit.map(|l| l.bytes),
    }
}

/// The drawn instances' fitted segments as one PromQL expression: each segment is its
/// line `start + slope × (time() − t0)` kept only while `t0 ≤ time() ≤ t1`, labelled
/// `fit="<instance>"`. Returns the expression, the instances it covers and the segments
/// left out.
pub fn fit_expr(charts: &ChartData) -> (Option<String>, usize, usize) {
    let mut terms = Vec::new();
    let mut left_out = 0;
    let mut covered = 0;
    for line in &charts.memory.instances {
        if terms.len() + line.fits.len() > MAX_FIT_SEGMENTS {
            left_out += line.fits.len();
            continue;
        }
        if !line.fits.is_empty() {
            covered += 1;
        }
        let name = serde_json::to_string(&line.name).expect("strings serialize");
        for f in &line.fits {
            let (t0, v0) = f.start;
            let (t1, v1) = f.end;
            if t1 <= t0 {
                continue;
            }
            let slope = (v1 - v0) / (t1 - t0);
            terms.push(format!(
                "label_replace(vector({v0:.0} + {slope:.6} * (time() - {t0:.0})), \"fit\", {name}, \"\", \"\") and on () (vector(time()) >= {t0:.0}) and on () (vector(time()) <= {t1:.0})"
            ));
        }
    }
    let fit = (!terms.is_empty()).then(|| {
        terms
            .iter()
            .map(|t| format!("({t})"))
            .collect::<Vec<_>>()
            .join(" or ")
    });
    (fit, covered, left_out)
}

fn growth_panel(
    config: &QueryConfig,
    pack: &Pack,
    evidence: &Evidence,
) -> Result<PanelPlan, AcquireError> {
    let growth = growth_expr(config, pack)?;
    let t = &evidence.alert_thresholds;
    Ok(PanelPlan {
        kind: PanelKind::GrowthRate,
        title: "Growth of the post-GC floor, per hour".into(),
        description: format!(
            "Each instance's growth over the last hour of its post-GC floor (the lowest sample of every 10 minutes), in bytes per hour; instances that restarted within the hour are left out. The expression of the {}MemoryGrowth rule `leakcollect rules` writes; the dashed threshold line is that rule's threshold, {}: {}.",
            t.alert_prefix,
            units::mb_per_hour(t.growth_bytes_per_hour),
            t.basis
        ),
        unit: PanelUnit::BytesPerHour,
        targets: vec![TargetPlan {
            ref_id: "A".into(),
            expr: growth.value(),
            legend: format!("{{{{{}}}}}", growth.join),
            source: format!("{}MemoryGrowth (leakcollect rules)", t.alert_prefix),
        }],
        threshold: Some(t.growth_bytes_per_hour),
    })
}

fn gc_panel(
    config: &QueryConfig,
    pack: &Pack,
    evidence: &Evidence,
) -> Result<Option<PanelPlan>, AcquireError> {
    let (role, what) = if had_data(evidence, Role::GcP95) {
        (Role::GcP95, "GC pause p95")
    } else if had_data(evidence, Role::GcMean) {
        (Role::GcMean, "Mean GC pause")
    } else {
        return Ok(None);
    };
    let Some((promql, source)) = with_rate_interval(config, pack, role, str::to_string)? else {
        return Ok(None);
    };
    Ok(Some(PanelPlan {
        kind: PanelKind::GcPause,
        title: what.to_string(),
        description: format!(
            "{what} over each `$__rate_interval`: the report's query ({source}), which it evaluates over a whole period."
        ),
        unit: PanelUnit::Seconds,
        targets: vec![TargetPlan {
            ref_id: "A".into(),
            expr: promql,
            legend: what.to_string(),
            source,
        }],
        threshold: None,
    }))
}

fn restarts_panel(
    config: &QueryConfig,
    pack: &Pack,
    evidence: &Evidence,
) -> Result<Option<PanelPlan>, AcquireError> {
    let mut targets = Vec::new();
    if had_data(evidence, Role::ProcessStart)
        && let Some((promql, source)) = with_rate_interval(config, pack, Role::ProcessStart, |q| {
            format!("changes(({q})[{RANGE_PLACEHOLDER}:])")
        })?
    {
        targets.push(TargetPlan {
            ref_id: "A".into(),
            expr: promql,
            legend: "restarts {{instance}}".into(),
            source,
        });
    } else if had_data(evidence, Role::K8sRestarts)
        && let Some((promql, source)) = with_rate_interval(config, pack, Role::K8sRestarts, |q| {
            format!("increase(({q})[{RANGE_PLACEHOLDER}:])")
        })?
    {
        targets.push(TargetPlan {
            ref_id: "A".into(),
            expr: promql,
            legend: "restarts {{pod}}".into(),
            source,
        });
    }
    if had_data(evidence, Role::K8sRestarts)
        && had_data(evidence, Role::K8sOomReason)
        && let (Some(restarts), Some(reason)) = (
            role_expr(config, pack, Role::K8sRestarts)?,
            role_expr(config, pack, Role::K8sOomReason)?,
        )
    {
        // The OOMKilled rule's expression, over the panel's interval.
        targets.push(TargetPlan {
            ref_id: "B".into(),
            expr: format!(
                "(increase(({restarts})[{RATE_INTERVAL}:]) > 0) and on (namespace, pod, container) ({reason} == 1)"
            ),
            legend: "OOM kills {{pod}}".into(),
            source: format!(
                "{}OOMKilled (leakcollect rules)",
                evidence.alert_thresholds.alert_prefix
            ),
        });
    } else if had_data(evidence, Role::OomEvents)
        && let Some((promql, source)) = with_rate_interval(config, pack, Role::OomEvents, |q| {
            format!("increase(({q})[{RANGE_PLACEHOLDER}:])")
        })?
    {
        targets.push(TargetPlan {
            ref_id: "B".into(),
            expr: promql,
            legend: "OOM events {{pod}}".into(),
            source,
        });
    }
    if targets.is_empty() {
        return Ok(None);
    }
    let leak = &evidence.periods.window;
    Ok(Some(PanelPlan {
        kind: PanelKind::RestartsAndOomKills,
        title: "Restarts and OOM kills".into(),
        description: format!(
            "Process restarts and OOM kills per `$__rate_interval`, per instance. Over the window the report counts {} restarts and {} OOM kills ({}).",
            leak.restarts,
            leak.oom_kills
                .map_or_else(|| units::NA.to_string(), |k| k.to_string()),
            serde_json::to_value(leak.oom_kills_source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        unit: PanelUnit::Count,
        targets,
        threshold: None,
    }))
}
