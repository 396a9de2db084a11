//! Query packs: loading the per-runtime TOML files from `queries/` (built in, or a
//! directory given with `--queries`), checking them, and injecting the service and
//! selector matchers into every selector of the parsed PromQL.

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr};
use promql_parser::util::visitor::{ExprVisitorMut, walk_expr_mut};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Packs compiled into the binary, by runtime name.
/// In the order auto-detection prefers them when several match equally.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    ("nodejs", include_str!("../queries/nodejs.toml")),
    ("nodejs-otel", include_str!("../queries/nodejs-otel.toml")),
    ("jvm", include_str!("../queries/jvm.toml")),
    ("jvm-otel", include_str!("../queries/jvm-otel.toml")),
    ("go", include_str!("../queries/go.toml")),
    ("go-otel", include_str!("../queries/go-otel.toml")),
    ("dotnet", include_str!("../queries/dotnet.toml")),
    ("dotnet-otel", include_str!("../queries/dotnet-otel.toml")),
    ("python", include_str!("../queries/python.toml")),
    ("python-otel", include_str!("../queries/python-otel.toml")),
    ("container", include_str!("../queries/container.toml")),
];

/// The placeholder an instant query uses for its period's length; in a range query, the
/// window's length (with `@ end()`: a choice made once over the whole window).
pub const RANGE_PLACEHOLDER: &str = "${range}";

/// The placeholder a range query uses for its window's end, as Unix seconds (`@ ${end}`):
/// fixed, unlike `@ end()`, when the client slices a long range into several requests.
pub const END_PLACEHOLDER: &str = "${end}";

/// `promql` with the window's placeholders filled: `${range}` as `range`, `${end}` as
/// `end` (Unix seconds).
pub fn fill_window(promql: &str, range: &str, end: f64) -> String {
    promql
        .replace(RANGE_PLACEHOLDER, range)
        .replace(END_PLACEHOLDER, &format!("{end:.3}"))
}

#[derive(Debug, Error)]
pub enum PackError {
    #[error("unknown runtime {runtime:?}: known runtimes are {known}")]
    UnknownRuntime { runtime: String, known: String },
    #[error("cannot read query pack {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("query pack {origin}, line {line}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("query pack {origin}: query {id:?}: {message}")]
    Query {
        origin: String,
        id: String,
        message: String,
    },
    #[error("query pack {origin}: {message}")]
    Pack { origin: String, message: String },
}

impl PackError {
    pub fn code(&self) -> i32 {
        crate::exit::USAGE
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Heap,
    HeapTotal,
    Rss,
    ProcessStart,
    ResetCounter,
    ActiveHandles,
    GcP95,
    GcP95ByKind,
    /// Mean pause over the period (summaries: sum/count).
    GcMean,
    /// Longest pause in the period.
    GcMax,
    /// A summary's published quantiles, by `quantile` label.
    GcQuantiles,
    /// Collections in the period, total or by a label (kind, generation, gc).
    GcCollections,
    MemoryLimit,
    /// Cumulative request counter, for bytes retained per request.
    Requests,
    /// Cumulative requests per instance, method and route (the busiest routes, the rest
    /// as `route="other"`), for attributing growth to routes (`analysis::routes`).
    RouteRequests,
    /// 95th percentile request latency over a period (instant; service-wide).
    LatencyP95,
    /// Share of requests answered with a server error (5xx) over a period (instant).
    ErrorRatio,
    /// The service's request latency p95 at each step (range), to see it rise.
    LatencyTrend,
    /// Connections in use per connection pool (range).
    ConnectionsUsed,
    /// The maximum size of each connection pool (range).
    ConnectionsMax,
    K8sRestarts,
    K8sOomReason,
    OomEvents,
    /// Run and listed in the report, but feeds no figure.
    Info,
    /// Derived from a `process_start` query, never written in a pack: restarts between
    /// raw samples per evaluation step (`changes()`), where two restarts between two
    /// steps show in the step-sampled series as one.
    #[serde(skip_deserializing)]
    StartChanges,
    /// The same from a `reset_counter` query (`resets()`).
    #[serde(skip_deserializing)]
    CounterResets,
}

impl Role {
    /// The derived per-step restart count of a restart-marking role, with the PromQL
    /// function that counts its changes between raw samples.
    pub fn restart_count(self) -> Option<(Role, &'static str)> {
        match self {
            Role::ProcessStart => Some((Role::StartChanges, "changes")),
            Role::ResetCounter => Some((Role::CounterResets, "resets")),
            _ => None,
        }
    }

    /// The role's name as packs and the evidence's `queries[].role` spell it.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// For a derived restart count, the role it is derived from.
    pub fn restart_count_source(self) -> Option<Role> {
        [Role::ProcessStart, Role::ResetCounter]
            .into_iter()
            .find(|source| source.restart_count().map(|(count, _)| count) == Some(self))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    Range,
    Instant,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackQuery {
    pub id: String,
    pub role: Role,
    pub kind: QueryKind,
    pub promql: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub optional: bool,
    /// Select the service by this label instead of `--service-label` (e.g. kube-state-metrics'
    /// `container`, since its series carry the exporter's own job).
    #[serde(default)]
    pub service_label: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    pub runtime: String,
    pub title: String,
    #[serde(default)]
    pub exporter: String,
    /// What the heap query measures, in words ("V8 heap used", "resident memory (RSS)").
    #[serde(default)]
    pub memory_name: String,
    /// What the active-handles role counts ("libuv active handles", "goroutines").
    #[serde(default = "default_handles_name")]
    pub handles_name: String,
    /// What identifies this runtime for `--runtime auto`: metric names, or selectors with
    /// label matchers where two conventions share a name
    /// (`jvm_memory_used_bytes{jvm_memory_type="heap"}`); see [`Marker`].
    #[serde(default)]
    pub detect: Vec<String>,
    /// The runtime whose metrics this pack reads under a second naming convention (the
    /// OpenTelemetry packs: `variant_of = "jvm"`). When a service exports both, this pack
    /// is used and the other convention is named in a warning, never both counted.
    #[serde(default)]
    pub variant_of: Option<String>,
    /// Default service label for this pack's queries (the container pack uses `container`).
    #[serde(default)]
    pub service_label: Option<String>,
    #[serde(rename = "query")]
    pub queries: Vec<PackQuery>,
    /// Where it was loaded from, for error messages.
    #[serde(skip)]
    pub origin: String,
}

fn default_handles_name() -> String {
    "active handles".to_string()
}

impl Pack {
    pub fn by_role(&self, role: Role) -> impl Iterator<Item = &PackQuery> {
        self.queries.iter().filter(move |q| q.role == role)
    }

    /// The `detect` entries, parsed (checked when the pack was loaded, so none is lost).
    pub fn markers(&self) -> Vec<Marker> {
        self.detect
            .iter()
            .filter_map(|text| Marker::parse(text).ok())
            .collect()
    }
}

/// One `detect` entry: a metric name, and the label matchers that tell its convention
/// apart when another convention exports the same name (Micrometer's and OpenTelemetry's
/// `jvm_memory_used_bytes` differ only in their labels).
#[derive(Debug, Clone)]
pub struct Marker {
    /// As written in the pack, which is also how `runtime_detected_from` names it.
    pub text: String,
    pub name: String,
    pub matchers: Vec<Matcher>,
}

impl Marker {
    /// Parses `name` or `name{label="value", …}` (any PromQL vector selector with a name).
    pub fn parse(text: &str) -> Result<Marker, String> {
        let Expr::VectorSelector(vs) = parser::parse(text)? else {
            return Err(
                "expected a metric name or a selector such as name{label=\"value\"}".into(),
            );
        };
        if !vs.matchers.or_matchers.is_empty() {
            return Err("`or` inside a detect selector is not supported: list two entries".into());
        }
        let mut name = vs.name.clone();
        let mut matchers = Vec::new();
        for m in vs.matchers.matchers {
            if m.name == "__name__" && m.op == MatchOp::Equal && name.is_none() {
                name = Some(m.value);
            } else if m.name != "__name__" {
                matchers.push(m);
            }
        }
        let name = name.ok_or("a detect entry needs a metric name")?;
        Ok(Marker {
            text: text.to_string(),
            name,
            matchers,
        })
    }

    /// Whether a series (its labels, `__name__` included) is this marker.
    pub fn matches(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        labels.get("__name__") == Some(&self.name)
            && self
                .matchers
                .iter()
                .all(|m| m.is_match(labels.get(&m.name).map_or("", String::as_str)))
    }
}

/// Every built-in pack, parsed (they are checked by the unit tests, so this cannot fail).
pub fn builtin_packs() -> Vec<Pack> {
    BUILTIN_PACKS
        .iter()
        .map(|(name, text)| {
            parse(text, &format!("built-in queries/{name}.toml")).expect("built-in packs parse")
        })
        .collect()
}

pub fn builtin_runtimes() -> Vec<&'static str> {
    BUILTIN_PACKS.iter().map(|(name, _)| *name).collect()
}

/// Loads the pack for `runtime`, from `dir` when given (falling back to the built-in pack
/// when the directory has no file for it), else the built-in one.
pub fn load(runtime: &str, dir: Option<&Path>) -> Result<Pack, PackError> {
    if let Some(dir) = dir {
        let path = dir.join(format!("{runtime}.toml"));
        if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|source| PackError::Read {
                path: path.clone(),
                source,
            })?;
            return parse(&text, &path.display().to_string());
        }
    }
    match BUILTIN_PACKS.iter().find(|(name, _)| *name == runtime) {
        Some((name, text)) => parse(text, &format!("built-in queries/{name}.toml")),
        None => Err(PackError::UnknownRuntime {
            runtime: runtime.to_string(),
            known: builtin_runtimes().join(", "),
        }),
    }
}

/// Parses and checks a pack: TOML shape, unique ids, PromQL that parses, a heap query.
pub fn parse(text: &str, origin: &str) -> Result<Pack, PackError> {
    let mut pack: Pack = toml::from_str(text).map_err(|e| PackError::Syntax {
        origin: origin.to_string(),
        line: e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1))
            .unwrap_or(1),
        message: e.message().to_string(),
    })?;
    pack.origin = origin.to_string();
    let mut seen = HashSet::new();
    for query in &pack.queries {
        let fail = |message: String| PackError::Query {
            origin: origin.to_string(),
            id: query.id.clone(),
            message,
        };
        if !seen.insert(query.id.as_str()) {
            return Err(fail("duplicate id".to_string()));
        }
        let sample = fill_window(&query.promql, "1h", 0.0);
        parser::parse(&sample).map_err(|e| fail(format!("PromQL does not parse: {e}")))?;
    }
    for entry in &pack.detect {
        Marker::parse(entry).map_err(|message| PackError::Pack {
            origin: origin.to_string(),
            message: format!("detect entry {entry:?}: {message}"),
        })?;
    }
    if pack.by_role(Role::Heap).count() != 1 {
        return Err(PackError::Pack {
            origin: origin.to_string(),
            message: "a pack needs exactly one query with role = \"heap\"".to_string(),
        });
    }
    Ok(pack)
}

/// Parses `--selector` text (`namespace="prod",env=~"eu-.*"`, braces optional) into matchers.
pub fn parse_selector(text: &str) -> Result<Vec<Matcher>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(trimmed);
    // A name-less selector needs one non-empty matcher to parse; add a harmless one and
    // drop it after.
    let probe = format!("{{__leakcollect_probe__=\"x\",{inner}}}");
    match parser::parse(&probe) {
        Ok(Expr::VectorSelector(vs)) if vs.matchers.or_matchers.is_empty() => Ok(vs
            .matchers
            .matchers
            .into_iter()
            .filter(|m| m.name != "__leakcollect_probe__")
            .collect()),
        Ok(_) => Err("expected label matchers such as namespace=\"prod\"".to_string()),
        Err(e) => Err(e),
    }
}

/// The first vector selector of `promql`, printed (e.g. the raw metric behind a `sum`),
/// for probes that must count stored samples.
pub fn first_selector(promql: &str) -> Option<String> {
    use promql_parser::util::{ExprVisitor, walk_expr};
    struct First(Option<String>);
    impl ExprVisitor for First {
        type Error = ();
        fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
            if self.0.is_some() {
                return Ok(false);
            }
            match expr {
                Expr::VectorSelector(vs) => {
                    self.0 = Some(Expr::VectorSelector(vs.clone()).to_string());
                    Ok(false)
                }
                Expr::MatrixSelector(ms) => {
                    self.0 = Some(Expr::VectorSelector(ms.vs.clone()).to_string());
                    Ok(false)
                }
                _ => Ok(true),
            }
        }
    }
    let expr = parser::parse(promql).ok()?;
    let mut first = First(None);
    let _ = walk_expr(&mut first, &expr);
    first.0
}

pub fn equal_matcher(label: &str, value: &str) -> Matcher {
    Matcher::new(MatchOp::Equal, label, value)
}

/// Adds `matchers` to every vector and matrix selector of `promql` (and to every
/// `or` group of a selector), then prints the tree back. Values only ever become
/// string literals of the AST, so no value can change the query's structure.
pub fn inject(promql: &str, matchers: &[Matcher]) -> Result<String, String> {
    let mut expr = parser::parse(promql)?;
    struct Injector<'a>(&'a [Matcher]);
    impl ExprVisitorMut for Injector<'_> {
        type Error = String;
        fn pre_visit(&mut self, expr: &mut Expr) -> Result<bool, String> {
            let selector = match expr {
                Expr::VectorSelector(vs) => &mut vs.matchers,
                Expr::MatrixSelector(ms) => &mut ms.vs.matchers,
                _ => return Ok(true),
            };
            for matcher in self.0 {
                selector.matchers.push(matcher.clone());
                for group in &mut selector.or_matchers {
                    group.push(matcher.clone());
                }
            }
            Ok(true)
        }
    }
    walk_expr_mut(&mut Injector(matchers), &mut expr)?;
    Ok(expr.to_string())
}

/// Appended to a restart-marking query's id for its derived per-step restart count.
pub const RESTART_COUNT_SUFFIX: &str = "_restarts";

/// Restarts first seen in each `(t - step, t]` at evaluation step `step`, counted between
/// raw samples: `f(x[2 step]) - f(x[step] offset step)` is the changes whose second sample
/// falls in the last step, whether a range includes its left edge (Prometheus 2) or not
/// (Prometheus 3), or counts the change into it (VictoriaMetrics). `None` unless the
/// query is a plain selector: a range over an expression would be a subquery, evaluated
/// at its own resolution instead of the raw samples.
pub fn restart_count_promql(selector_promql: &str, function: &str, step: f64) -> Option<String> {
    let expr = promql_parser::parser::parse(selector_promql).ok()?;
    if !matches!(expr, promql_parser::parser::Expr::VectorSelector(_)) {
        return None;
    }
    let ms = (step * 1000.0).round() as u64;
    if ms == 0 {
        return None;
    }
    // Durations as people write them ([3m], not [180000ms]): the appendix is read.
    let d = |ms: u64| crate::timespec::format_duration(std::time::Duration::from_millis(ms));
    Some(format!(
        "{function}({selector_promql}[{double}]) - {function}({selector_promql}[{one}] offset {one})",
        double = d(2 * ms),
        one = d(ms)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selectors_of(promql: &str) -> Vec<Vec<(String, String, String)>> {
        use promql_parser::util::{ExprVisitor, walk_expr};
        struct Collect(Vec<Vec<(String, String, String)>>);
        impl ExprVisitor for Collect {
            type Error = ();
            fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
                let m = match expr {
                    Expr::VectorSelector(vs) => &vs.matchers,
                    Expr::MatrixSelector(ms) => &ms.vs.matchers,
                    _ => return Ok(true),
                };
                self.0.push(
                    m.matchers
                        .iter()
                        .map(|m| (m.name.clone(), m.op.to_string(), m.value.clone()))
                        .collect(),
                );
                Ok(true)
            }
        }
        let expr = parser::parse(promql).unwrap();
        let mut c = Collect(Vec::new());
        walk_expr(&mut c, &expr).unwrap();
        c.0
    }

    #[test]
    fn builtin_packs_load() {
        for runtime in builtin_runtimes() {
            let pack = load(runtime, None).unwrap();
            assert_eq!(pack.runtime, runtime);
            assert!(pack.queries.len() >= 3);
        }
        assert!(matches!(
            load("cobol", None),
            Err(PackError::UnknownRuntime { .. })
        ));
    }

    #[test]
    fn injects_into_every_selector() {
        let out = inject(
            "histogram_quantile(0.95, sum by (le) (increase(m_bucket[1h]))) / on() group_left vector(1) + n",
            &[equal_matcher("job", "api")],
        )
        .unwrap();
        let selectors = selectors_of(&out);
        assert_eq!(selectors.len(), 2);
        for s in selectors {
            assert!(
                s.contains(&("job".into(), "=".into(), "api".into())),
                "{out}"
            );
        }
    }

    #[test]
    fn hostile_values_stay_string_literals() {
        for hostile in [
            r#"api"} or vector(1) #"#,
            r#"a\"b"#,
            "line\nbreak",
            r#"x"}[5m]) or up{job=~".*"#,
            "ünï😀",
            ".*",
        ] {
            let out = inject(
                "nodejs_heap_size_used_bytes",
                &[equal_matcher("job", hostile)],
            )
            .unwrap();
            // The printed query must parse back to one plain selector whose job matcher
            // holds the hostile text verbatim.
            match parser::parse(&out).unwrap() {
                Expr::VectorSelector(vs) => {
                    assert_eq!(vs.name.as_deref(), Some("nodejs_heap_size_used_bytes"));
                    assert!(vs.matchers.or_matchers.is_empty(), "{out}");
                    let job: Vec<_> = vs
                        .matchers
                        .matchers
                        .iter()
                        .filter(|m| m.name == "job")
                        .collect();
                    assert_eq!(job.len(), 1, "{out}");
                    assert_eq!(job[0].value, hostile);
                    assert_eq!(job[0].op, MatchOp::Equal);
                }
                other => panic!("{hostile:?} changed the query into {other:?}"),
            }
        }
    }

    #[test]
    fn first_selector_finds_the_raw_metric() {
        assert_eq!(
            first_selector(r#"sum without (id) (jvm_memory_used_bytes{area="heap"}) or x"#)
                .as_deref(),
            Some(r#"jvm_memory_used_bytes{area="heap"}"#)
        );
        assert_eq!(first_selector("rate(a[5m])").as_deref(), Some("a"));
        assert_eq!(first_selector("vector(1)"), None);
    }

    #[test]
    fn selector_parsing() {
        let m = parse_selector(r#"namespace="prod", env=~"eu-.*""#).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name, "namespace");
        assert!(parse_selector(r#"{namespace="prod"}"#).is_ok());
        assert!(parse_selector("namespace=prod").is_err());
        assert!(parse_selector(r#"a="b"} or vector(1"#).is_err());
    }

    #[test]
    fn bad_packs_name_file_and_line() {
        let err = parse(
            "runtime = \"x\"\ntitle = \"t\"\n[[query]]\nid = 3\n",
            "p.toml",
        )
        .unwrap_err();
        match err {
            PackError::Syntax { line, origin, .. } => {
                assert_eq!(origin, "p.toml");
                assert_eq!(line, 4);
            }
            other => panic!("{other}"),
        }
        let err = parse(
            "runtime = \"x\"\ntitle = \"t\"\n[[query]]\nid = \"h\"\nrole = \"heap\"\nkind = \"range\"\npromql = \"sum(\"\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"h\""), "{err}");
    }

    #[test]
    fn detect_markers_tell_conventions_apart_by_labels() {
        let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let otel = Marker::parse(r#"jvm_memory_used_bytes{jvm_memory_type="heap"}"#).unwrap();
        let micrometer = Marker::parse(r#"jvm_memory_used_bytes{area="heap"}"#).unwrap();
        let plain = Marker::parse("jvm_memory_bytes_used").unwrap();
        let agent = labels(&[
            ("__name__", "jvm_memory_used_bytes"),
            ("jvm_memory_type", "heap"),
        ]);
        let spring = labels(&[("__name__", "jvm_memory_used_bytes"), ("area", "heap")]);
        assert!(otel.matches(&agent) && !otel.matches(&spring));
        assert!(micrometer.matches(&spring) && !micrometer.matches(&agent));
        assert!(!plain.matches(&agent));
        // Prometheus 3's quoted UTF-8 names parse too.
        let utf8 = Marker::parse(r#"{"jvm.memory.used", "jvm.memory.type"="heap"}"#).unwrap();
        assert_eq!(utf8.name, "jvm.memory.used");
        assert!(utf8.matches(&labels(&[
            ("__name__", "jvm.memory.used"),
            ("jvm.memory.type", "heap")
        ])));
        for bad in ["sum(x)", r#"{job="api"}"#, "a or b"] {
            assert!(Marker::parse(bad).is_err(), "{bad}");
        }
        let err = parse(
            "runtime = \"x\"\ntitle = \"t\"\ndetect = [\"sum(x)\"]\n[[query]]\nid = \"h\"\nrole = \"heap\"\nkind = \"range\"\npromql = \"x\"\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("detect entry \"sum(x)\""), "{err}");
    }

    #[test]
    fn quoted_utf8_names_survive_injection() {
        // A --queries pack for a server that keeps OpenTelemetry's UTF-8 names.
        let out = inject(
            r#"sum without ("jvm.memory.pool.name") ({"jvm.memory.used", "jvm.memory.type"="heap"})"#,
            &[equal_matcher("service.name", "api")],
        )
        .unwrap();
        assert!(
            out.contains(r#"sum without ("jvm.memory.pool.name")"#),
            "{out}"
        );
        assert!(out.contains(r#"__name__="jvm.memory.used""#), "{out}");
        assert!(out.contains(r#""service.name"="api""#), "{out}");
        assert!(parser::parse(&out).is_ok(), "{out}");
    }

    #[test]
    fn restart_counts_only_for_plain_selectors() {
        assert_eq!(
            restart_count_promql(r#"process_start_time_seconds{job="api"}"#, "changes", 240.0)
                .as_deref(),
            Some(
                r#"changes(process_start_time_seconds{job="api"}[8m]) - changes(process_start_time_seconds{job="api"}[4m] offset 4m)"#
            )
        );
        assert_eq!(
            restart_count_promql("max by (pod) (process_start_time_seconds)", "changes", 60.0),
            None
        );
        assert_eq!(restart_count_promql("up", "resets", 0.0), None);
    }

    #[test]
    fn window_placeholders_fill_and_parse() {
        let text = "topk(8, sum by (route) (x @ ${end})) and increase(x[${range}])";
        let filled = fill_window(text, "1d", 1_764_950_400.0);
        assert_eq!(
            filled,
            "topk(8, sum by (route) (x @ 1764950400.000)) and increase(x[1d])"
        );
        let injected = inject(&filled, &[equal_matcher("job", "api")]).unwrap();
        assert!(injected.contains("@ 1764950400"), "{injected}");
        assert_eq!(injected.matches(r#"job="api""#).count(), 2, "{injected}");
    }
}
