//! The evidence model as Markdown: the whole report (built-in `templates/report.md.hbs`
//! or `--template`) and each block alone (for `attach` and `validate --draft`). The view
//! only names and formats the model's fields — which period a block reads, lists joined
//! into one line — every decision (status, flags, thresholds, lifetimes) is a field of
//! the model, computed in `analysis`.

use super::blocks::{self, Block, BlockId, Needs};
use super::registry::{fence_for, inline_safe, registry};
use crate::evidence::{
    Deployment, Evidence, LeakSpan, OnsetEvent, Period, RolloutStrategy, StatusState,
};
use crate::units;
use serde_json::{Value, json};
use std::path::Path;
use thiserror::Error;

pub const BUILTIN_TEMPLATE: &str = include_str!("../../templates/report.md.hbs");
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

/// `seconds` by GC kind, one line: `major 12.0 ms, minor 1.2 ms`.
fn seconds_map(map: &std::collections::BTreeMap<String, f64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{} {}", k, units::pause(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The period's GC pause in a few words: p95 (with the slowest kind's), else the mean.
fn gc_pause_line(period: &Period) -> String {
    let slowest = period
        .gc_pause_p95_by_kind
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(kind, v)| format!(" ({kind}: {})", units::pause(*v)))
        .unwrap_or_default();
    match (period.gc_pause_p95_seconds, period.gc_pause_mean_seconds) {
        (Some(p95), _) => format!("p95 {}{slowest}", units::pause(p95)),
        (None, Some(mean)) => format!("mean {}", units::pause(mean)),
        (None, None) => units::NA.to_string(),
    }
}

/// Everything the runtime publishes on GC pauses, one line: a histogram's p95, else a
/// summary's mean, max and quantiles; collection counts. Never a made-up p95.
pub fn gc_line(period: &Period) -> String {
    let mut parts = Vec::new();
    if let Some(p95) = period.gc_pause_p95_seconds {
        let mut text = format!("p95 {}", units::pause(p95));
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
        parts.push(format!("mean {}", units::pause(mean)));
    }
    if let Some(max) = period.gc_pause_max_seconds {
        parts.push(format!("max {}", units::pause(max)));
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
            .map(|(k, v)| format!("{k} {}", units::fixed(*v, 0)))
            .collect::<Vec<_>>()
            .join(", ");
        let rate = units::fixed(rate, 0);
        parts.push(if by.is_empty() {
            format!("{rate} collections/hour")
        } else {
            format!("{rate} collections/hour ({by})")
        });
    }
    if parts.is_empty() {
        "n/a (no GC metrics found)".to_string()
    } else {
        parts.join("; ")
    }
}

/// The Status word as the team template spells it.
fn status_word(state: StatusState) -> &'static str {
    match state {
        StatusState::Resolved => "Resolved",
        StatusState::Monitoring => "Monitoring",
        StatusState::InProgress => "In Progress",
    }
}

/// The after-fix trend in the Key Panels, in the Status's words.
fn trend_words(state: StatusState) -> &'static str {
    match state {
        StatusState::Resolved => "stable after the fix",
        StatusState::Monitoring => "not yet settled after the fix",
        StatusState::InProgress => "still growing after the fix",
    }
}

fn view(evidence: &Evidence, validation: Option<&Value>) -> Value {
    let (part, part_span) = evidence.leak_period();
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
    let heap_query = evidence
        .queries
        .iter()
        .find(|q| q.role == "heap")
        .map(|q| q.promql.clone())
        .unwrap_or_default();
    let top: Vec<_> = leak.instances.iter().take(TOP_INSTANCES).collect();
    let t = &evidence.alert_thresholds;
    json!({
        "e": evidence,
        "leak": leak,
        "before": evidence.periods.before,
        "after": evidence.periods.after,
        "current": current,
        "detection": evidence.detection.clone().unwrap_or_default(),
        "status_word": evidence.status.as_ref().map(|s| status_word(s.state)),
        "after_trend": evidence.status.as_ref().map(|s| trend_words(s.state)),
        "has_handles": evidence
            .queries
            .iter()
            .any(|q| q.role == "active_handles" && q.series > 0),
        "leak_gc": gc_line(leak),
        "current_gc": gc_line(current),
        "after_gc": evidence.periods.after.as_ref().map(gc_line),
        "leak_gc_pause": gc_pause_line(leak),
        "after_gc_pause": evidence.periods.after.as_ref().map(gc_pause_line),
        // The period the summary lines read, and its name with its span.
        "leak_part": part,
        "leak_span": format!(
            "{} ({} → {})",
            match part_span {
                LeakSpan::BeforeFix => format!("in the {} before the fix", units::hours(part.hours)),
                LeakSpan::BeforeRollout(at) => format!(
                    "in the {} before the rollout at {}, after which growth stopped",
                    units::hours(part.hours),
                    units::time(at)
                ),
                LeakSpan::Window => format!("over the {} window", units::hours(part.hours)),
            },
            units::time(part.from),
            units::time(part.to)
        ),
        "current_span": if evidence.periods.after.is_some() { "after the fix" } else { "over the window" },
        "top_instances": top,
        "top_count": top.len(),
        "alerts": {
            "prefix": t.alert_prefix,
            "basis": inline_safe(&t.basis),
            // The rule compares resident memory when the pack reads it, else the memory figure.
            "limit_memory": if evidence.queries.iter().any(|q| q.role == "rss") {
                "Resident memory (RSS)".to_string()
            } else {
                inline_safe(&evidence.memory_name)
            },
        },
        "heap_explore": evidence
            .queries
            .iter()
            .find(|q| q.role == "heap")
            .and_then(|q| q.explore_url.clone()),
        "dashboard": evidence.grafana_dashboard,
        "dashboard_url": evidence.grafana_dashboard.as_ref().and_then(|d| d.url.clone()),
        "fence": fence_for(evidence),
        "heap_query": heap_query,
        "deploy": deployments_view(evidence),
        "validation": validation,
        "routes_missing": leak.leak_by_route_missing.map(|m| m.reason()),
        "routes_shown": routes_shown(evidence).0,
        "route_step_shown": routes_shown(evidence).1,
    })
}

/// How a rollout replaced its instances, in words.
fn rollout_words(strategy: RolloutStrategy) -> &'static str {
    match strategy {
        RolloutStrategy::Rolling => "new instances came while the old ones still ran",
        RolloutStrategy::Recreate => "every old instance was gone before the first new one came",
        RolloutStrategy::Canary => {
            "a subset ran the new version alongside the old one for 30 min or more before the rest followed"
        }
        RolloutStrategy::Simultaneous => {
            "every instance was replaced within the same minute: a recreate, or a rollout in one step (the series cannot tell which)"
        }
        RolloutStrategy::Unknown => {
            "the series do not show whether new instances overlapped the old ones"
        }
    }
}

fn deployment_row(d: &Deployment) -> Value {
    let versions = versions_words(&d.versions_before, &d.versions_after);
    json!({
        "started": d.started,
        "finished": d.finished,
        // Started and finished read the same in the report's minutes: say it once.
        "same_minute": d.finished.is_some_and(|f| units::time(f) == units::time(d.started)),
        "strategy": d.strategy.name(),
        "how": rollout_words(d.strategy),
        "versions": versions,
        "source": match &d.version_series {
            Some(series) => format!("a version change in {series}"),
            None => d.source.describe().to_string(),
        },
        "namespaces": d.namespaces.join(", "),
        "before": d.instances_before,
        "after": d.instances_after,
    })
}

/// The leak's duration from its onset, in words.
fn duration_words(evidence: &Evidence) -> Option<String> {
    let o = evidence.onset.as_ref()?;
    let since = match o.event {
        OnsetEvent::BeforeData => format!(
            "before {} (memory already grew in the earliest samples read)",
            units::time(o.at)
        ),
        OnsetEvent::Deployment => format!(
            "{} (the deployment of {})",
            units::time(o.at),
            o.version.as_deref().unwrap_or("a new version")
        ),
        OnsetEvent::Restart => format!(
            "{} (the first restart after which process lifetimes grew)",
            units::time(o.at)
        ),
    };
    let until = if evidence.fix_deployed.is_some() {
        "until the fix".to_string()
    } else if let Some(stopped) = &evidence.growth_stopped {
        format!(
            "until the rollout at {}, after which growth stopped",
            units::time(stopped.at)
        )
    } else if o.still_growing {
        "still growing at the window's end".to_string()
    } else {
        "until the window's end".to_string()
    };
    // Growth older than the data read has no known start: its length is a floor.
    let at_least = if o.event == OnsetEvent::BeforeData {
        "at least "
    } else {
        ""
    };
    Some(format!(
        "since {}, {at_least}{}, {until}",
        inline_safe(&since),
        units::hours(o.hours)
    ))
}

/// The deployments as the blocks show them: the fix's rollout, the other deployments
/// in the window (timeline rows), and the leak's duration from its onset.
fn deployments_view(evidence: &Evidence) -> Value {
    let fix = evidence
        .deployments
        .iter()
        .find(|d| d.fix)
        .map(deployment_row);
    // Timeline rows either side of the fix's row, so the table stays in time order.
    let fix_time = evidence.fix_deployed;
    let others = |later: bool| -> Vec<Value> {
        evidence
            .deployments
            .iter()
            .filter(|d| d.in_window && !d.fix)
            // Without a fix every deployment is "later" (after the window's start).
            .filter(|d| fix_time.map_or(later, |f| (d.started > f) == later))
            .map(|d| {
                let mut row = deployment_row(d);
                // The rollout `growth_stopped` names (its start is the deployment's).
                row["growth_stopped"] = json!(
                    evidence
                        .growth_stopped
                        .as_ref()
                        .is_some_and(|g| g.at == d.started)
                );
                row
            })
            .collect()
    };
    let fix_reason = evidence
        .fix_deployed_source
        .as_ref()
        .filter(|s| s.origin == crate::evidence::FixOrigin::Detected)
        .map(|s| s.reason.clone());
    json!({
        "fix": fix,
        "earlier": others(false),
        "later": others(true),
        "duration": duration_words(evidence),
        "fix_reason": fix_reason,
        "stopped_versions": evidence.growth_stopped.as_ref().map(|g| versions_words(&g.versions_before, &g.versions_after)),
    })
}

/// "old → new" ("?" for a side not known); empty when neither is.
fn versions_words(before: &[String], after: &[String]) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "?".to_string()
        } else {
            v.join(", ")
        }
    };
    if before.is_empty() && after.is_empty() {
        String::new()
    } else {
        format!("{} → {}", list(before), list(after))
    }
}

/// The team template's Tools Used list with Prometheus metrics ticked, for a draft
/// filled without heap files (with them, the heap renderer ticks its own tools too).
pub fn tools_used_prometheus_only() -> String {
    let lines: Vec<&str> = blocks::TEAM_TEMPLATE.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("**Tools Used**:"))
        .expect("the team template has Tools Used");
    let mut out = String::new();
    for line in lines[start..].iter().take_while(|l| !l.trim().is_empty()) {
        out.push_str(&line.replace("- [ ] Prometheus metrics", "- [x] Prometheus metrics"));
        out.push('\n');
    }
    out
}

/// Renders the whole report with the built-in template, or the one at `template`.
pub fn report(evidence: &Evidence, template: Option<&Path>) -> Result<String, TemplateError> {
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
    let invalid = |e: &dyn std::fmt::Display| TemplateError::Invalid {
        origin: origin.clone(),
        detail: e.to_string(),
    };
    let mut hb = registry(&blocks::partials());
    hb.register_template_string("report", &text)
        .map_err(|e| invalid(&e))?;
    hb.render("report", &view(evidence, None))
        .map_err(|e| invalid(&e))
}

/// Whether the evidence has what `block` needs.
fn has_what_it_needs(evidence: &Evidence, block: &Block, validation: bool) -> bool {
    let (leak, _) = evidence.leak_period();
    let fix_deploy = evidence.deployments.iter().find(|d| d.fix);
    match block.needs {
        Needs::Nothing => true,
        Needs::Fix => evidence.fix_deployed.is_some(),
        Needs::TimelineRow => {
            evidence.fix_deployed.is_some()
                || evidence
                    .detection
                    .as_ref()
                    .is_some_and(|d| d.source == crate::evidence::DetectionSource::Alert)
                || evidence.deployments.iter().any(|d| d.in_window)
                || validation
                || evidence.draft.as_ref().is_some_and(|d| {
                    d.investigation_started_at.is_some() || d.root_cause_identified_at.is_some()
                })
        }
        Needs::Detection => evidence.detection.is_some(),
        Needs::FixDeployment => fix_deploy.is_some(),
        Needs::FixNamespaces => fix_deploy.is_some_and(|d| !d.namespaces.is_empty()),
        Needs::Chart(name) => evidence.charts.contains_key(name),
        Needs::Explore => {
            evidence.queries.iter().any(|q| q.explore_url.is_some())
                || evidence
                    .grafana_dashboard
                    .as_ref()
                    .is_some_and(|d| d.url.is_some())
        }
        Needs::Dashboard => evidence.grafana_dashboard.is_some(),
        Needs::Validation => validation,
        Needs::Severity => evidence.severity.is_some(),
        Needs::Investigator => evidence
            .draft
            .as_ref()
            .is_some_and(|d| d.investigator.is_some()),
        Needs::Tldr => evidence.tldr.is_some(),
        Needs::Affected => leak.affected.is_some(),
        Needs::Reproduction => leak.reproduction.is_some(),
        Needs::RootCause => evidence.root_cause.is_some(),
        Needs::WentWell(i) => evidence.lessons.went_well.len() > i,
        Needs::CouldImprove(i) => evidence.lessons.could_improve.len() > i,
        Needs::SimilarIncidents => evidence
            .draft
            .as_ref()
            .is_some_and(|d| !d.similar_incidents.is_empty()),
        Needs::RouteCounters => routes_shown(evidence).0,
        Needs::RetainingRoute => routes_shown(evidence).1,
    }
}

/// Whether the leak period has per-route request counters (figures, or why they are
/// missing other than having none), and a route that retains memory.
fn routes_shown(evidence: &Evidence) -> (bool, bool) {
    let leak = evidence
        .periods
        .before
        .as_ref()
        .unwrap_or(&evidence.periods.window);
    let counters = !leak.leak_by_route.is_empty()
        || leak
            .leak_by_route_missing
            .is_some_and(|m| m != crate::evidence::routes::RoutesMissing::NoRouteCounters);
    (counters, leak.leak_by_route_top.is_some())
}

/// One block's content for a draft, or `None` when the evidence has nothing for it
/// (the fix blocks without `--fix-deployed`). `validation` is `validate`'s view
/// ([`super::validation::view`]), for the blocks that show it.
pub fn block(evidence: &Evidence, id: BlockId, validation: Option<&Value>) -> Option<String> {
    let spec = id.spec();
    spec.partial?;
    if !has_what_it_needs(evidence, spec, validation.is_some()) {
        return None;
    }
    Some(
        built_in()
            .render(spec.name, &view(evidence, validation))
            .unwrap_or_else(|e| panic!("built-in block {} renders any evidence: {e}", spec.name)),
    )
}

/// The registry with every block registered as a template of its own name too, built
/// once per run.
fn built_in() -> &'static handlebars::Handlebars<'static> {
    static REGISTRY: std::sync::OnceLock<handlebars::Handlebars<'static>> =
        std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        let partials = blocks::partials();
        let mut hb = registry(&partials);
        for (name, text) in partials {
            hb.register_template_string(name, text)
                .expect("built-in blocks parse");
        }
        hb
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_line_says_what_the_runtime_publishes() {
        let mut p = Period::default();
        assert_eq!(gc_line(&p), "n/a (no GC metrics found)");
        p.gc_pause_mean_seconds = Some(0.012);
        assert!(gc_line(&p).starts_with("no p95"));
        p.gc_pause_p95_seconds = Some(0.2);
        assert_eq!(gc_line(&p), "p95 200.0 ms; mean 12.0 ms");
    }
}
