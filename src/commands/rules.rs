//! `rules`: Prometheus alerting rules for the report's Preventive Measures — memory
//! growth (restart-aware, on the post-GC floor, never `rate()` of a gauge), memory near
//! the container limit, OOM kills, repeated restarts, GC pauses — with thresholds taken
//! from a measured leak when a window is given.

use crate::commands::collect::CollectError;
use crate::config::CollectConfig;
use crate::evidence::Evidence;
use crate::pack::{self, Pack, RANGE_PLACEHOLDER, Role};
use promql_parser::label::Matcher;
use serde::Serialize;
use std::fmt::Write;

const MB: f64 = 1e6;

/// Thresholds for the rules and the report's Preventive Measures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Thresholds {
    pub growth_bytes_per_hour: f64,
    /// How long growth must last before the alert fires, in Prometheus syntax.
    pub growth_for: String,
    pub limit_percent: f64,
    pub memory_floor_bytes: f64,
    pub gc_p95_seconds: f64,
    /// Where the numbers come from, in words.
    pub basis: String,
}

impl Default for Thresholds {
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
pub fn suggested(evidence: &Evidence) -> Thresholds {
    let leak = evidence
        .periods
        .before
        .as_ref()
        .unwrap_or(&evidence.periods.window);
    let mut t = Thresholds::default();
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
        t.gc_p95_seconds = (p95 / 2.0).max(0.1);
    }
    t
}

fn inject(config_matchers: &[Matcher], promql: &str, id: &str) -> Result<String, CollectError> {
    pack::inject(promql, config_matchers).map_err(|detail| CollectError::Plan {
        query_id: id.to_string(),
        detail,
    })
}

/// The matchers for a pack query: `container` queries get the container name.
fn matchers(config: &CollectConfig, pack: &Pack, label: Option<&str>) -> Vec<Matcher> {
    let label = label
        .or(pack.service_label.as_deref())
        .unwrap_or(&config.service_label);
    let value = if label == "container" && label != config.service_label {
        &config.container
    } else {
        &config.service
    };
    let mut m = vec![pack::equal_matcher(label, value)];
    m.extend(config.selector.iter().cloned());
    m
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

struct Rule {
    alert: String,
    expr: String,
    duration: String,
    severity: &'static str,
    summary: String,
    description: String,
}

fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// The rule file, YAML, for `config`'s service and `pack`.
pub fn render(config: &CollectConfig, pack: &Pack, t: &Thresholds) -> Result<String, CollectError> {
    let heap = pack
        .by_role(Role::Heap)
        .next()
        .expect("packs have a heap query");
    let heap_expr = inject(
        &matchers(config, pack, heap.service_label.as_deref()),
        &heap.promql,
        &heap.id,
    )?;
    let join = if pack.runtime == "container" {
        "pod"
    } else {
        "instance"
    };
    let service = &config.service;
    let camel = alert_prefix(service);
    let mut rules = Vec::new();

    // Growth of the post-GC floor (the lowest sample of every 10 minutes), per instance,
    // leaving out instances that restarted within the hour: deriv() across a restart is
    // meaningless, and rate() on a gauge counts every GC drop as a reset.
    let mut growth = format!(
        "deriv(min_over_time(({heap_expr})[10m:1m])[1h:1m]) * 3600 > {}",
        t.growth_bytes_per_hour
    );
    if let Some(start) = pack.by_role(Role::ProcessStart).next() {
        let start_expr = inject(
            &matchers(config, pack, start.service_label.as_deref()),
            &start.promql,
            &start.id,
        )?;
        growth = format!("({growth}) unless on ({join}) (changes(({start_expr})[1h:1m]) > 0)");
    }
    rules.push(Rule {
        alert: format!("{camel}MemoryGrowth"),
        expr: growth,
        duration: t.growth_for.clone(),
        severity: "warning",
        summary: format!("{service}: memory grows over {:.1} MB/hour", t.growth_bytes_per_hour / MB),
        description: format!(
            "The {} floor of {{{{ $labels.{join} }}}} has grown {{{{ $value | humanize }}}}B/hour for {}. Threshold: {}.",
            pack.memory_name, t.growth_for, t.basis
        ),
    });

    // Memory near the container limit, with a usage floor so deploy ramps don't page.
    if let Some(limit) = pack.by_role(Role::MemoryLimit).next() {
        let memory = pack.by_role(Role::Rss).next().unwrap_or(heap);
        let memory_expr = inject(
            &matchers(config, pack, memory.service_label.as_deref()),
            &memory.promql,
            &memory.id,
        )?;
        let limit_expr = inject(
            &matchers(config, pack, limit.service_label.as_deref()),
            &limit.promql,
            &limit.id,
        )?;
        rules.push(Rule {
            alert: format!("{camel}MemoryNearLimit"),
            expr: format!(
                "(max by (namespace, pod) ({memory_expr}) / max by (namespace, pod) ({limit_expr}) * 100 > {}) and (max by (namespace, pod) ({memory_expr}) > {})",
                t.limit_percent, t.memory_floor_bytes
            ),
            duration: "15m".into(),
            severity: "warning",
            summary: format!("{service}: memory above {}% of the container limit", t.limit_percent),
            description: "{{ $labels.pod }} uses {{ $value | humanize }}% of its memory limit.".into(),
        });
    }

    // OOM kills: restarts whose last termination reason is OOMKilled.
    if let (Some(restarts), Some(reason)) = (
        pack.by_role(Role::K8sRestarts).next(),
        pack.by_role(Role::K8sOomReason).next(),
    ) {
        let restarts_expr = inject(
            &matchers(config, pack, restarts.service_label.as_deref()),
            &restarts.promql,
            &restarts.id,
        )?;
        let reason_expr = inject(
            &matchers(config, pack, reason.service_label.as_deref()),
            &reason.promql,
            &reason.id,
        )?;
        rules.push(Rule {
            alert: format!("{camel}OOMKilled"),
            expr: format!(
                "(increase(({restarts_expr})[15m:1m]) > 0) and on (namespace, pod, container) ({reason_expr} == 1)"
            ),
            duration: "0m".into(),
            severity: "critical",
            summary: format!("{service}: a container was OOM-killed"),
            description: "{{ $labels.pod }} restarted after an OOM kill.".into(),
        });
    }
    if let Some(start) = pack.by_role(Role::ProcessStart).next() {
        let start_expr = inject(
            &matchers(config, pack, start.service_label.as_deref()),
            &start.promql,
            &start.id,
        )?;
        rules.push(Rule {
            alert: format!("{camel}RestartingRepeatedly"),
            expr: format!("changes(({start_expr})[1h:1m]) > 2"),
            duration: "0m".into(),
            severity: "warning",
            summary: format!("{service}: a process restarted more than twice in an hour"),
            description: "{{ $labels.instance }} restarted {{ $value }} times in the last hour."
                .into(),
        });
    }
    if let Some(gc) = pack.by_role(Role::GcP95).next() {
        let gc_expr = inject(
            &matchers(config, pack, gc.service_label.as_deref()),
            &gc.promql.replace(RANGE_PLACEHOLDER, "10m"),
            &gc.id,
        )?;
        rules.push(Rule {
            alert: format!("{camel}GCPauses"),
            expr: format!("{gc_expr} > {}", t.gc_p95_seconds),
            duration: "30m".into(),
            severity: "warning",
            summary: format!("{service}: GC pause p95 above {} s", t.gc_p95_seconds),
            description: "GC pause p95 is {{ $value | humanizeDuration }}.".into(),
        });
    }

    let mut out = format!(
        "# Generated by leakcollect rules for {} ({}); thresholds: {}.\ngroups:\n  - name: leakcollect-{}\n    rules:\n",
        crate::commands::collect::selector_text(&matchers(config, pack, None)),
        pack.title,
        t.basis,
        service
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    );
    for rule in rules {
        let _ = writeln!(out, "      - alert: {}", rule.alert);
        let _ = writeln!(out, "        expr: {}", yaml_string(&rule.expr));
        let _ = writeln!(out, "        for: {}", rule.duration);
        let _ = writeln!(
            out,
            "        labels:\n          severity: {}\n          service: {}",
            rule.severity,
            yaml_string(service)
        );
        let _ = writeln!(
            out,
            "        annotations:\n          summary: {}\n          description: {}",
            yaml_string(&rule.summary),
            yaml_string(&rule.description)
        );
    }
    Ok(out)
}

/// `leakcollect rules`.
pub async fn run(args: &crate::cli::RulesArgs) -> anyhow::Result<String> {
    use crate::config::ConfigError;
    let given = crate::commands::attach::given_params(&args.params);
    let measuring = given.from.is_some();
    let runtime = given.runtime.clone().unwrap_or_else(|| "auto".into());
    if runtime == "auto" && !measuring {
        return Err(ConfigError::RulesRuntime.into());
    }
    let mut params = given.clone();
    if !measuring {
        // The window is not used without measuring; any valid one will do.
        params.from = Some("now-1h".into());
    }
    let collect = crate::commands::attach::collect_args(
        std::path::Path::new("the command line"),
        &params,
        args.queries.clone(),
        None,
        &args.prometheus,
    )?;
    let config = CollectConfig::from_args(&collect, chrono::Utc::now())?;
    let (pack, mut thresholds) = if measuring {
        let evidence = crate::commands::collect::collect(&config).await?;
        let pack = pack::load(&evidence.runtime, args.queries.as_deref())?;
        (pack, suggested(&evidence))
    } else {
        (
            pack::load(&runtime, args.queries.as_deref())?,
            Thresholds::default(),
        )
    };
    let time_error = |flag: &'static str| move |source| ConfigError::Time { flag, source };
    if let Some(rate) = &args.growth_threshold {
        thresholds.growth_bytes_per_hour =
            crate::timespec::parse_rate(rate).map_err(time_error("--growth-threshold"))?;
        thresholds.basis = "given on the command line".into();
    }
    crate::timespec::parse_duration(&args.for_).map_err(time_error("--for"))?;
    thresholds.growth_for = args.for_.clone();
    thresholds.limit_percent = args.limit_percent;
    if let Some(gc) = &args.gc_p95 {
        thresholds.gc_p95_seconds = crate::timespec::parse_duration(gc)
            .map_err(time_error("--gc-p95"))?
            .as_secs_f64();
    }
    Ok(render(&config, &pack, &thresholds)?)
}
