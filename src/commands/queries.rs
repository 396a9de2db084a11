//! `queries list` and `queries check`: what the packs are, and whether they are sound —
//! PromQL that parses, no counter function on a gauge, and (against a server) which
//! queries find data for a service.

use crate::cli::CheckArgs;
use crate::config::{self, ConfigError};
use crate::pack::{self, Pack, QueryKind};
use crate::prom::{Client, ClientOptions};
use crate::timespec::{self, format_duration, unix_seconds};
use promql_parser::parser::{self, Expr};
use promql_parser::util::{ExprVisitor, walk_expr};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Functions that only make sense on counters (they treat every drop as a reset).
const COUNTER_FUNCTIONS: &[&str] = &["rate", "irate", "increase", "resets"];

fn all_packs(dir: Option<&Path>) -> Result<Vec<Pack>, pack::PackError> {
    pack::builtin_runtimes()
        .into_iter()
        .map(|name| pack::load(name, dir))
        .collect()
}

pub fn list(dir: Option<&Path>) -> anyhow::Result<String> {
    let mut out = String::new();
    for p in all_packs(dir)? {
        out.push_str(&format!(
            "{:<10} {} — {}\n           memory: {}; detected by: {}\n",
            p.runtime,
            p.title,
            p.exporter,
            p.memory_name,
            p.detect.join(", ")
        ));
        for q in &p.queries {
            out.push_str(&format!(
                "           {:<22} {:<8} {}{}\n",
                q.id,
                match q.kind {
                    QueryKind::Range => "range",
                    QueryKind::Instant => "instant",
                },
                q.description,
                if q.optional { "" } else { " (required)" }
            ));
        }
    }
    Ok(out)
}

/// Metric names that a counter function is applied to in `promql`.
pub fn counter_function_targets(promql: &str) -> Vec<(String, String)> {
    struct Finder(Vec<(String, String)>);
    impl ExprVisitor for Finder {
        type Error = ();
        fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
            if let Expr::Call(call) = expr
                && COUNTER_FUNCTIONS.contains(&call.func.name)
            {
                for arg in &call.args.args {
                    if let Expr::MatrixSelector(ms) = arg.as_ref() {
                        let name = ms.vs.name.clone().or_else(|| {
                            ms.vs
                                .matchers
                                .matchers
                                .iter()
                                .find(|m| m.name == "__name__")
                                .map(|m| m.value.clone())
                        });
                        if let Some(name) = name {
                            self.0.push((call.func.name.to_string(), name));
                        }
                    }
                }
            }
            Ok(true)
        }
    }
    let text = pack::fill_window(promql, "1h", 0.0);
    let Ok(expr) = parser::parse(&text) else {
        return Vec::new();
    };
    let mut finder = Finder(Vec::new());
    let _ = walk_expr(&mut finder, &expr);
    finder.0
}

/// Whether `metric` is a counter: by server metadata when known, else by the naming
/// conventions (`_total`, and a histogram's or summary's `_count`, `_sum`, `_bucket`).
fn is_counter(metric: &str, metadata: &BTreeMap<String, String>) -> (bool, &'static str) {
    let family = ["_total", "_bucket", "_count", "_sum"]
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
        .unwrap_or(metric);
    for name in [metric, family] {
        if let Some(kind) = metadata.get(name) {
            return (
                matches!(kind.as_str(), "counter" | "histogram" | "summary"),
                "metadata",
            );
        }
    }
    (family != metric, "name")
}

/// Whether `metric`, unknown to the server's metadata, is a counter or histogram written
/// without the suffixes OpenTelemetry's translators add (`UnderscoreEscapingWithoutSuffixes`,
/// or a native histogram, which has no `_bucket`): the same query names it with them too,
/// as alternatives (`increase(x_seconds_total[…]) or increase(x[…])`).
fn suffixless_form(
    metric: &str,
    targets: &[(String, String)],
    metadata: &BTreeMap<String, String>,
) -> bool {
    let prefix = format!("{metric}_");
    targets
        .iter()
        .any(|(_, other)| other.starts_with(&prefix) && is_counter(other, metadata).0)
}

/// Counter functions `promql` applies to gauges: (function, metric, how its type is
/// known). A suffix-less name whose suffixed form the same query also names is no gauge
/// ([`suffixless_form`]).
fn gauge_targets(
    promql: &str,
    metadata: &BTreeMap<String, String>,
) -> Vec<(String, String, &'static str)> {
    let targets = counter_function_targets(promql);
    targets
        .iter()
        .filter_map(|(function, metric)| {
            let (counter, source) = is_counter(metric, metadata);
            let suffixless = source == "name" && suffixless_form(metric, &targets, metadata);
            (!counter && !suffixless).then(|| (function.clone(), metric.clone(), source))
        })
        .collect()
}

/// Returns the report and whether every check passed.
pub async fn check(args: &CheckArgs) -> anyhow::Result<(String, bool)> {
    let packs = all_packs(args.queries.as_deref())?;
    let mut out = String::new();
    let mut ok = true;
    let client = match &args.prometheus_url {
        Some(url) => Some(Client::new(ClientOptions {
            base_url: url.clone(),
            timeout: timespec::parse_duration(&args.timeout).map_err(|source| {
                ConfigError::Time {
                    flag: "--timeout",
                    source,
                }
            })?,
            ..ClientOptions::default()
        })?),
        None => None,
    };
    let metadata = match &client {
        Some(c) => c.metadata().await?,
        None => BTreeMap::new(),
    };
    out.push_str(&format!(
        "{} packs parsed; metric types from {}\n",
        packs.len(),
        if metadata.is_empty() {
            "metric names (no server metadata)"
        } else {
            "server metadata"
        }
    ));
    for p in &packs {
        for q in &p.queries {
            for (function, metric, source) in gauge_targets(&q.promql, &metadata) {
                ok = false;
                out.push_str(&format!(
                    "PROBLEM {}/{}: {function}() applied to {metric}, a gauge by its {source}: every drop would count as a counter reset\n",
                    p.runtime, q.id
                ));
            }
        }
    }
    if let (Some(client), Some(service)) = (&client, &args.service) {
        let window = config::parse_window(Some(&args.from), &args.to, None, chrono::Utc::now())?;
        let mut matchers = vec![pack::equal_matcher(&args.service_label, service)];
        if let Some(text) = &args.selector {
            matchers.extend(pack::parse_selector(text).map_err(|detail| {
                ConfigError::Selector {
                    text: text.clone(),
                    detail,
                }
            })?);
        }
        let to = unix_seconds(window.to);
        let range = format_duration(Duration::from_secs(
            (to - unix_seconds(window.from)).max(1.0) as u64,
        ));
        for p in &packs {
            let mut lines = Vec::new();
            let mut found = 0;
            for q in &p.queries {
                let label = q
                    .service_label
                    .as_deref()
                    .or(p.service_label.as_deref())
                    .unwrap_or(&args.service_label);
                let mut these = vec![pack::equal_matcher(label, service)];
                these.extend(matchers.iter().skip(1).cloned());
                let text = match q.kind {
                    // A range query has data if its expression has any in the window.
                    QueryKind::Range => format!(
                        "last_over_time(({})[{range}:])",
                        pack::fill_window(&q.promql, &range, to)
                    ),
                    QueryKind::Instant => pack::fill_window(&q.promql, &range, to),
                };
                let promql = pack::inject(&text, &these).map_err(|detail| {
                    crate::acquire::AcquireError::Plan {
                        query_id: q.id.clone(),
                        detail,
                    }
                })?;
                let series = match client.query(&q.id, &promql, to).await {
                    Ok(answer) => answer.data.len().to_string(),
                    Err(e) => format!("error: {e}"),
                };
                if series != "0" && !series.starts_with("error") {
                    found += 1;
                }
                lines.push(format!("    {:<22} {series}\n", q.id));
            }
            out.push_str(&format!(
                "{}: {found}/{} queries return data for {}\n",
                p.runtime,
                p.queries.len(),
                crate::acquire::plan::selector_text(&matchers)
            ));
            for line in lines {
                out.push_str(&line);
            }
        }
    }
    Ok((out, ok))
}

/// `leakcollect queries list`.
pub fn run_list(dir: Option<&Path>) -> anyhow::Result<i32> {
    crate::output::print(&list(dir)?)?;
    Ok(crate::exit::OK)
}

/// `leakcollect queries check`: exit 1 when a query has a problem.
pub async fn run_check(args: &CheckArgs) -> anyhow::Result<i32> {
    let (report, ok) = check(args).await?;
    crate::output::print(&report)?;
    Ok(if ok {
        crate::exit::OK
    } else {
        crate::exit::FINDINGS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_counter_functions_on_gauges_but_not_on_counters() {
        let none = BTreeMap::new();
        let targets = counter_function_targets("rate(nodejs_heap_used_bytes[1h])");
        assert_eq!(
            targets,
            vec![("rate".to_string(), "nodejs_heap_used_bytes".to_string())]
        );
        assert!(!is_counter("nodejs_heap_used_bytes", &none).0);
        assert!(is_counter("nodejs_gc_duration_seconds_bucket", &none).0);
        assert!(is_counter("process_cpu_seconds_total", &none).0);
        let meta: BTreeMap<String, String> = [("odd".to_string(), "counter".to_string())].into();
        assert_eq!(is_counter("odd", &meta), (true, "metadata"));
        assert!(counter_function_targets("deriv(a[5m])").is_empty());
        // OpenTelemetry without suffixes: a bare name next to its suffixed form is the
        // same counter; alone, it is still a gauge by its name.
        assert!(
            gauge_targets("increase(x_seconds_total[1h]) or increase(x[1h])", &none).is_empty()
        );
        assert_eq!(gauge_targets("increase(x[1h])", &none).len(), 1);
        assert_eq!(
            gauge_targets("increase(x_bytes[1h]) or increase(x[1h])", &none).len(),
            2
        );
    }

    #[test]
    fn built_in_packs_apply_counter_functions_to_counters_only() {
        let none = BTreeMap::new();
        for p in all_packs(None).unwrap() {
            for q in &p.queries {
                let gauges = gauge_targets(&q.promql, &none);
                assert!(gauges.is_empty(), "{}/{}: {gauges:?}", p.runtime, q.id);
            }
        }
    }
}
