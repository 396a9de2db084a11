//! Every runtime pack against a real Prometheus loaded with data under that exporter's
//! real metric names: auto-detection, growth within ±3 %, counts exact, GC figures of the
//! kind the runtime really publishes (no made-up p95 for summaries).

use crate::common::*;
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

fn check_runtime(runtime: &str) {
    let service = format!("svc-{runtime}");
    let s = runtime_scenario("oom-sawtooth", &service, runtime);
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service(&service)
        .window(s.from, s.to)
        .json();
    assert_eq!(
        e["runtime"], runtime,
        "detected {}",
        e["runtime_detected_from"]
    );
    let detected = e["runtime_detected_from"].as_array().unwrap();
    assert!(!detected.is_empty());
    let w = &e["periods"]["window"];
    let growth = f(&w["growth_bytes_per_hour"]);
    assert!(
        within(growth, 120.0 * MB, 0.03),
        "{runtime}: growth {growth}"
    );
    let expected = s.expected_oom_kills(s.from, s.to);
    assert_eq!(w["oom_kills"], expected, "{runtime}");
    assert_eq!(w["restarts"], expected, "{runtime}");
    assert_eq!(w["instance_count"], 3, "{runtime}");
    assert_eq!(w["leak_pattern"], "sawtooth-to-oom");
    assert!(f(&w["memory_limit_bytes"]) == s.memory_limit(), "{runtime}");
    // The kills happen at the limit: memory peaked within a few percent of it.
    let peak = f(&w["memory_peak_percent_of_limit"]);
    assert!(
        peak > 85.0 && peak <= 100.0,
        "{runtime}: peak {peak}% of the limit"
    );
    let interval = w["growth_interval_bytes_per_hour"].as_array().unwrap();
    assert!(f(&interval[0]) <= growth && growth <= f(&interval[1]));
    if runtime != "container" {
        let per_1k = f(&w["bytes_per_1k_requests"]);
        assert!(
            within(per_1k, s.leak_bytes_per_request() * 1000.0, 0.05),
            "{runtime}: {per_1k}"
        );
    }
    match runtime {
        "nodejs" => assert!(w["gc_pause_p95_seconds"].is_number()),
        "jvm" => {
            // Micrometer summary: no p95, but mean (0.25 s) and max (0.5 s).
            assert!(w["gc_pause_p95_seconds"].is_null());
            assert!(within(f(&w["gc_pause_mean_seconds"]), 0.25, 0.01));
            assert!(within(f(&w["gc_pause_max_seconds"]), 0.5, 0.01));
            assert!(
                e["warnings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|w| w.as_str().unwrap().contains("summary"))
            );
        }
        "go" => {
            assert!(w["gc_pause_p95_seconds"].is_null());
            assert!(within(f(&w["gc_pause_quantiles"]["1"]), 0.016, 0.01));
            assert!(within(f(&w["gc_pause_mean_seconds"]), 0.004, 0.01));
        }
        "python" | "dotnet" => {
            assert!(w["gc_pause_p95_seconds"].is_null());
            let per_hour = f(&w["gc_collections_per_hour"]);
            assert!(per_hour > 0.0, "{runtime}: {per_hour}");
            assert!(
                w["gc_collections_per_hour_by"]
                    .as_object()
                    .unwrap()
                    .contains_key("2")
            );
        }
        "container" => assert_eq!(w["oom_kills_source"], "kube-state-metrics"),
        _ => {}
    }
}

#[test]
fn nodejs() {
    check_runtime("nodejs");
}

#[test]
fn python() {
    check_runtime("python");
}

#[test]
fn jvm() {
    check_runtime("jvm");
}

#[test]
fn go() {
    check_runtime("go");
}

#[test]
fn dotnet() {
    check_runtime("dotnet");
}

#[test]
fn container_only() {
    check_runtime("container");
}

#[test]
fn container_without_kube_state_metrics_sees_restarts_from_cadvisor() {
    let s = Scenario {
        kube: false,
        ..runtime_scenario("oom-sawtooth", "worker", "container")
    };
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("worker")
        .window(s.from, s.to)
        .json();
    let w = &e["periods"]["window"];
    assert_eq!(e["runtime"], "container");
    assert_eq!(w["restarts"], s.expected_oom_kills(s.from, s.to));
    assert!(
        within(f(&w["growth_bytes_per_hour"]), 120.0 * MB, 0.03),
        "{}",
        w["growth_bytes_per_hour"]
    );
    // No kube-state-metrics: OOM kills come from restarts within three steps of memory at
    // 95 % of the limit. This scenario's kills happen at the limit, but its 30 MB GC
    // sawtooth puts some last scrapes in a trough below 95 %: most are found, never more
    // than the restarts.
    assert_eq!(w["oom_kills_source"], "memory at limit");
    let found = w["oom_kills"].as_u64().unwrap();
    let restarts = s.expected_oom_kills(s.from, s.to);
    assert!(
        found * 2 >= restarts && found <= restarts,
        "{found} of {restarts}"
    );
}

#[test]
fn sidecar_runtimes_are_reported_not_mixed() {
    // The same job exports Node.js metrics (the app) and Go metrics (a sidecar).
    let app = runtime_scenario("steady-leak", "api", "nodejs");
    // One kube-state-metrics view of the pod is enough (the app's).
    let sidecar = Scenario {
        instances: 1,
        kube: false,
        ..runtime_scenario("no-leak", "api", "go")
    };
    let server = PromServer::start(&openmetrics(&[&app, &sidecar]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(app.from, app.to)
        .json();
    assert_eq!(e["runtime"], "nodejs");
    let warnings: Vec<&str> = e["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("Go (client_golang)") && w.contains("--runtime go")),
        "{warnings:?}"
    );
    // Explicitly asking for the sidecar's pack reports the sidecar alone.
    let go = lc()
        .server(&server.url)
        .service("api")
        .window(app.from, app.to)
        .args(["--runtime", "go"])
        .json();
    assert_eq!(go["periods"]["window"]["instance_count"], 1);
    assert!(f(&go["periods"]["window"]["growth_bytes_per_hour"]).abs() < 0.5 * MB);
}

#[test]
fn unknown_service_without_runtime_metrics_is_no_data() {
    let s = runtime_scenario("no-leak", "api", "python");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "apx",
        "--from",
        &from,
        "--to",
        &to,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no runtime metrics found"), "{stderr}");
    assert!(stderr.contains(r#"did you mean job="api"?"#), "{stderr}");
}

#[test]
fn queries_list_and_check() {
    let out = leakcollect(&["queries", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for runtime in synth::RUNTIMES {
        assert!(
            text.lines().any(|l| l.starts_with(runtime)),
            "{runtime} missing:\n{text}"
        );
    }

    // The built-in packs pass; against a server they say which queries have data.
    let s = runtime_scenario("steady-leak", "api", "go");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let out = leakcollect(&[
        "queries",
        "check",
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let series_of = |runtime: &str, id: &str| -> String {
        let section = text.split(&format!("\n{runtime}: ")).nth(1).unwrap();
        let line = section
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap();
        line.split_whitespace().last().unwrap().to_string()
    };
    assert_eq!(series_of("go", "heap_inuse"), "3", "{text}");
    assert_eq!(series_of("nodejs", "heap_used"), "0", "{text}");

    // A pack repeating the template's mistake, rate() on a gauge, is flagged (exit 1).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nodejs.toml"),
        "runtime = \"nodejs\"\ntitle = \"t\"\n[[query]]\nid = \"heap\"\nrole = \"heap\"\nkind = \"range\"\npromql = \"rate(nodejs_heap_used_bytes[1h])\"\n",
    )
    .unwrap();
    let out = leakcollect(&[
        "queries",
        "check",
        "--queries",
        dir.path().to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("PROBLEM nodejs/heap: rate() applied to nodejs_heap_used_bytes"),
        "{text}"
    );
}

use synth::Scenario;
