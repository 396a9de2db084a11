//! OpenTelemetry: Node.js processes instrumented only with the OpenTelemetry JS SDK (the
//! runtime-node instrumentation and the SDK's Prometheus exporter), one leaking on purpose
//! and one healthy, scraped every second by a real Prometheus. `--runtime auto` must tell
//! the OpenTelemetry names apart from prom-client's, the leak's growth must be within
//! ±30 % of PromQL's own `deriv()` of the heap, and the healthy one well below.

use crate::common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn start_app(dir: &std::path::Path, port: u16, leak: bool) -> Guarded {
    let child = Command::new(binary("node"))
        .arg("app.js")
        .current_dir(dir)
        .env("PORT", port.to_string())
        .env("LEAK", if leak { "1" } else { "0" })
        .stdout(Stdio::null())
        .spawn()
        .expect("start node");
    Guarded(child)
}

#[test]
fn opentelemetry_nodejs_is_detected_and_measured() {
    let app_dir = repo_path("tests/live/otel");
    assert!(
        app_dir
            .join("node_modules/@opentelemetry/instrumentation-runtime-node")
            .is_dir(),
        "the OpenTelemetry JS SDK is not installed: run `npm ci` in tests/live/otel (scripts/test.sh does)"
    );
    let (leaky_port, healthy_port) = (free_loopback_port(), free_loopback_port());
    let _leaky = start_app(&app_dir, leaky_port, true);
    let _healthy = start_app(&app_dir, healthy_port, false);
    let server = start_scraping_prometheus(&[
        ("otel-leaky", format!("127.0.0.1:{leaky_port}")),
        ("otel-healthy", format!("127.0.0.1:{healthy_port}")),
    ]);
    let started = chrono::Utc::now().timestamp();
    let deadline = Instant::now() + Duration::from_secs(65);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
    }
    let growth = |service: &str| {
        let e = lc()
            .server(&server.url)
            .service(service)
            .args(["--from", &started.to_string(), "--to", "now"])
            .json();
        assert_eq!(
            e["runtime"], "nodejs-otel",
            "{}",
            e["runtime_detected_from"]
        );
        let w = &e["periods"]["window"];
        assert_eq!(w["instance_count"], 1, "{service}");
        assert_eq!(w["restarts"], 0, "{service}");
        assert!(w["gc_pause_p95_seconds"].is_number(), "{service}: {w}");
        assert!(
            w["gc_pause_p95_by_kind"]["minor"].is_number(),
            "{service}: GC types become kinds: {w}"
        );
        let errors = schema_errors("evidence.schema.json", &e);
        assert!(errors.is_empty(), "{errors:#?}");
        w["growth_bytes_per_hour"]
            .as_f64()
            .expect("a growth figure")
    };
    let leaky = growth("otel-leaky");
    let healthy = growth("otel-healthy");
    // PromQL's own slope of the summed heap over the same minute.
    let truth = {
        let query = "deriv(sum without (v8js_heap_space_name, otel_scope_name, otel_scope_version) (v8js_memory_heap_used{job=\"otel-leaky\"})[60s:1s]) * 3600";
        let url = format!("{}/api/v1/query", server.url);
        let out = Command::new("curl")
            .args(["-fsS", &url, "--data-urlencode", &format!("query={query}")])
            .output()
            .expect("curl");
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        answer["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    eprintln!(
        "OpenTelemetry Node.js: leaky {:.1} MB/h (deriv {:.1}), healthy {:.1} MB/h",
        leaky / 1e6,
        truth / 1e6,
        healthy / 1e6
    );
    assert!(within(leaky, truth, 0.30), "leaky {leaky} vs deriv {truth}");
    assert!(leaky > 100e6, "leaky {leaky}");
    assert!(healthy < 0.2 * leaky, "healthy {healthy} vs leaky {leaky}");
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

/// A backfilled OOM sawtooth under one OpenTelemetry runtime's names: detected as that
/// convention, growth within ±3 % of the truth, restarts from the reset counter (no
/// process start time exported) equal to the OOM kills.
fn check_otel_runtime(runtime: &str) -> serde_json::Value {
    let service = format!("svc-{runtime}");
    let s = runtime_scenario("oom-sawtooth", &service, runtime);
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service(&service)
        .window(s.from, s.to)
        .json();
    assert_eq!(e["runtime"], runtime, "{}", e["runtime_detected_from"]);
    let w = &e["periods"]["window"];
    let growth = f(&w["growth_bytes_per_hour"]);
    assert!(
        within(growth, 120.0 * MB, 0.03),
        "{runtime}: growth {growth}"
    );
    assert_eq!(w["instance_count"], 3, "{runtime}");
    let expected = s.expected_oom_kills(s.from, s.to);
    assert!(expected > 0);
    assert_eq!(
        w["restarts"], expected,
        "{runtime}: restarts from counter resets"
    );
    assert_eq!(w["oom_kills"], expected, "{runtime}");
    let per_1k = f(&w["bytes_per_1k_requests"]);
    assert!(
        within(per_1k, s.leak_bytes_per_request() * 1000.0, 0.05),
        "{runtime}: {per_1k}"
    );
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");
    let warnings = e["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().contains(
            "no process start time was found: a restart is where the query `uptime_or_counters`"
        )),
        "{runtime}: the restart source is said: {warnings:?}"
    );
    assert!(
        !warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("also exports")),
        "{runtime}: one convention only: {warnings:?}"
    );
    e
}

#[test]
fn opentelemetry_jvm_backfilled() {
    let e = check_otel_runtime("jvm-otel");
    let w = &e["periods"]["window"];
    // Every pause takes 0.25 s, so all of them fall in the (0.1, 1] bucket: p95 is
    // interpolated there, per action (as `kind`) too.
    let p95 = f(&w["gc_pause_p95_seconds"]);
    assert!(p95 > 0.1 && p95 <= 1.0, "{p95}");
    assert!(
        within(f(&w["gc_pause_p95_by_kind"]["end of minor GC"]), p95, 0.001),
        "{w}"
    );
    assert!(within(f(&w["gc_pause_mean_seconds"]), 0.25, 0.01), "{w}");
    assert!(
        w["gc_collections_per_hour_by"]
            .as_object()
            .unwrap()
            .contains_key("G1 Young Generation"),
        "{w}"
    );
    let detected = e["runtime_detected_from"].to_string();
    assert!(detected.contains("jvm_memory_type"), "{detected}");
}

#[test]
fn opentelemetry_go_backfilled() {
    let e = check_otel_runtime("go-otel");
    // The contrib runtime instrumentation exports no GC pause timing: none is made up.
    assert!(e["periods"]["window"]["gc_pause_p95_seconds"].is_null());
}

#[test]
fn opentelemetry_dotnet_backfilled() {
    let e = check_otel_runtime("dotnet-otel");
    let w = &e["periods"]["window"];
    // No pause histogram in .NET's conventions: the mean (pause time over collections).
    assert!(w["gc_pause_p95_seconds"].is_null());
    assert!(within(f(&w["gc_pause_mean_seconds"]), 0.004, 0.05), "{w}");
    let by = w["gc_collections_per_hour_by"].as_object().unwrap();
    assert!(by.contains_key("2") && by.contains_key("0"), "{w}");
}

#[test]
fn jvm_exporting_micrometer_and_opentelemetry_is_reported_once() {
    // The same three processes export Micrometer's names and the OpenTelemetry agent's:
    // `jvm_memory_used_bytes` twice over, with different labels.
    let micrometer = runtime_scenario("oom-sawtooth", "api", "jvm");
    let otel = synth::Scenario {
        kube: false,
        ..runtime_scenario("oom-sawtooth", "api", "jvm-otel")
    };
    let server = PromServer::start(&openmetrics(&[&micrometer, &otel]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(micrometer.from, micrometer.to)
        .json();
    assert_eq!(e["runtime"], "jvm-otel", "{}", e["runtime_detected_from"]);
    let w = &e["periods"]["window"];
    assert_eq!(w["instance_count"], 3, "one process each, not two");
    let growth = f(&w["growth_bytes_per_hour"]);
    assert!(within(growth, 120.0 * MB, 0.03), "not doubled: {growth}");
    assert_eq!(
        w["restarts"],
        micrometer.expected_oom_kills(micrometer.from, micrometer.to)
    );
    let warnings: Vec<&str> = e["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let convention: Vec<&&str> = warnings
        .iter()
        .filter(|w| w.contains("also exports"))
        .collect();
    assert_eq!(convention.len(), 1, "{warnings:?}");
    assert!(
        convention[0].contains("JVM (Micrometer / client_java)")
            && convention[0].contains("second naming convention")
            && convention[0].contains("--runtime jvm"),
        "{warnings:?}"
    );
    // The other convention stays readable on its own.
    let other = lc()
        .server(&server.url)
        .service("api")
        .window(micrometer.from, micrometer.to)
        .args(["--runtime", "jvm"])
        .json();
    assert!(within(
        f(&other["periods"]["window"]["growth_bytes_per_hour"]),
        120.0 * MB,
        0.03
    ));
}

#[test]
fn queries_check_passes_every_opentelemetry_pack() {
    // Without a server (metric types by name) and against one holding the OTel series
    // (types from its metadata): no counter function on a gauge in any pack.
    let out = leakcollect(&["queries", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("PROBLEM"), "{text}");
    let listed = String::from_utf8_lossy(&leakcollect(&["queries", "list"]).stdout).to_string();
    for runtime in [
        "nodejs-otel",
        "jvm-otel",
        "go-otel",
        "python-otel",
        "dotnet-otel",
    ] {
        assert!(
            listed.lines().any(|l| l.starts_with(runtime)),
            "{runtime} not listed:\n{listed}"
        );
    }
    let s = runtime_scenario("steady-leak", "api", "dotnet-otel");
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
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("PROBLEM"), "{text}");
    assert!(text.contains("dotnet-otel: "), "{text}");
}

fn start_python_app(dir: &std::path::Path, port: u16, leak: bool) -> Guarded {
    let child = Command::new(dir.join(".venv/bin/python"))
        .arg("app.py")
        .current_dir(dir)
        .env("PORT", port.to_string())
        .env("LEAK", if leak { "1" } else { "0" })
        .stdout(Stdio::null())
        .spawn()
        .expect("start python");
    Guarded(child)
}

/// PromQL's own slope, in bytes per hour, of `series` over the last minute.
fn deriv_per_hour(server: &PromServer, series: &str) -> f64 {
    let query = format!("deriv(({series})[60s:1s]) * 3600");
    let url = format!("{}/api/v1/query", server.url);
    let out = Command::new("curl")
        .args(["-fsS", &url, "--data-urlencode", &format!("query={query}")])
        .output()
        .expect("curl");
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    answer["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("no deriv for {series}: {answer}"))
        .parse::<f64>()
        .unwrap()
}

#[test]
fn opentelemetry_python_is_detected_and_measured() {
    let app_dir = repo_path("tests/live/otel-python");
    assert!(
        app_dir.join(".venv/bin/python").is_file(),
        "the OpenTelemetry Python SDK is not installed: run `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt` in tests/live/otel-python (scripts/test.sh does)"
    );
    let (leaky_port, healthy_port) = (free_loopback_port(), free_loopback_port());
    let _leaky = start_python_app(&app_dir, leaky_port, true);
    let _healthy = start_python_app(&app_dir, healthy_port, false);
    let server = start_scraping_prometheus(&[
        ("otel-py-leaky", format!("127.0.0.1:{leaky_port}")),
        ("otel-py-healthy", format!("127.0.0.1:{healthy_port}")),
    ]);
    let started = chrono::Utc::now().timestamp();
    std::thread::sleep(Duration::from_secs(65));
    let growth = |service: &str| {
        let e = lc()
            .server(&server.url)
            .service(service)
            .args(["--from", &started.to_string(), "--to", "now"])
            .json();
        assert_eq!(
            e["runtime"], "python-otel",
            "{}",
            e["runtime_detected_from"]
        );
        let w = &e["periods"]["window"];
        assert_eq!(w["instance_count"], 1, "{service}");
        assert_eq!(w["restarts"], 0, "{service}");
        assert!(
            w["gc_collections_per_hour_by"]
                .as_object()
                .is_some_and(|by| by.contains_key("0")),
            "{service}: {w}"
        );
        // The SDK's exporter serves prometheus_client's default collectors too: the
        // same process under a second convention, named once, never counted twice.
        let warnings = e["warnings"].to_string();
        assert!(
            warnings.contains("Python (prometheus_client)")
                && warnings.contains("second naming convention"),
            "{warnings}"
        );
        let errors = schema_errors("evidence.schema.json", &e);
        assert!(errors.is_empty(), "{errors:#?}");
        w["growth_bytes_per_hour"]
            .as_f64()
            .expect("a growth figure")
    };
    let leaky = growth("otel-py-leaky");
    let healthy = growth("otel-py-healthy");
    let truth = deriv_per_hour(
        &server,
        "sum without (otel_scope_name, otel_scope_version, otel_scope_schema_url) (process_memory_usage_bytes{job=\"otel-py-leaky\"})",
    );
    eprintln!(
        "OpenTelemetry Python: leaky {:.1} MB/h (deriv {:.1}), healthy {:.1} MB/h",
        leaky / 1e6,
        truth / 1e6,
        healthy / 1e6
    );
    assert!(within(leaky, truth, 0.30), "leaky {leaky} vs deriv {truth}");
    assert!(leaky > 500e6, "leaky {leaky}");
    assert!(
        healthy.abs() < 0.2 * leaky,
        "healthy {healthy} vs leaky {leaky}"
    );
}

#[test]
fn opentelemetry_service_identity_hints() {
    // Through the Collector, OpenTelemetry writes service.namespace/service.name into job.
    let s = runtime_scenario("steady-leak", "shop/api", "jvm-otel");
    let server = PromServer::start(&openmetrics(&[&s]));
    let out = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .expect_code(3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert!(
        stderr.contains(r#"did you mean job="shop/api"?"#) && stderr.contains("--service shop/api"),
        "{stderr}"
    );
    let e = lc()
        .server(&server.url)
        .service("shop/api")
        .window(s.from, s.to)
        .json();
    assert_eq!(e["runtime"], "jvm-otel");

    // Scraped from a Collector, job names the Collector; the service is a promoted
    // resource attribute, service_name.
    let (from, step) = (1_790_000_000.0_f64, 60.0);
    let mut text = String::from("# TYPE jvm_memory_used_bytes gauge\n");
    for k in 0..120 {
        let t = from + k as f64 * step;
        let heap = 200e6 + 1e6 * k as f64;
        text.push_str(&format!(
            "jvm_memory_used_bytes{{job=\"otel-collector\",instance=\"collector:8889\",service_name=\"api\",service_instance_id=\"a1\",jvm_memory_type=\"heap\",jvm_memory_pool_name=\"G1 Old Gen\"}} {heap} {t}\n"
        ));
    }
    text.push_str("# EOF\n");
    let server = PromServer::start(text.as_bytes());
    let to = from + 119.0 * step;
    let out = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .expect_code(3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert!(
        stderr.contains(r#"service_name="api" has"#)
            && stderr.contains("--service-label service_name"),
        "{stderr}"
    );
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .args(["--service-label", "service_name"])
        .json();
    assert_eq!(e["runtime"], "jvm-otel");
    let growth = e["periods"]["window"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    assert!(within(growth, 60e6, 0.03), "{growth}");
}

#[test]
fn utf8_names_get_a_hint_on_a_server_that_stores_them() {
    // Prometheus 3's OTLP receiver can keep OpenTelemetry's names as they are; the
    // Prometheus this suite runs (2.x) cannot store them, VictoriaMetrics can.
    let from = 1_790_000_000.0_f64;
    let mut text = String::new();
    for k in 0..60 {
        let t = from + 60.0 * k as f64;
        text.push_str(&format!(
            "jvm.memory.used_bytes{{job=\"api\",instance=\"a:1\",jvm.memory.type=\"heap\",jvm.memory.pool.name=\"G1 Old Gen\"}} {} {t}\n",
            200e6 + 1e6 * k as f64
        ));
    }
    let (_vm, url, _dir) = start_victoria(text.as_bytes(), &[]);
    let to = format!("{}", from + 59.0 * 60.0);
    let from = format!("{from}");
    let mut stderr = String::new();
    // VictoriaMetrics' search catches up with an import within a few seconds.
    for _ in 0..30 {
        let out = leakcollect(&[
            "--prometheus-url",
            &url,
            "--service",
            "api",
            "--from",
            &from,
            "--to",
            &to,
        ]);
        assert_eq!(out.status.code(), Some(3));
        stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if stderr.contains("UTF-8") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("{stderr}");
    assert!(
        stderr.contains("OpenTelemetry's UTF-8 names (jvm.memory.used_bytes)")
            && stderr.contains("UnderscoreEscapingWithSuffixes")
            && stderr.contains("--queries"),
        "{stderr}"
    );
}

#[test]
fn scan_ranks_a_fleet_of_opentelemetry_services() {
    // A leaking JVM with the agent, a flat .NET service, and a JVM with both conventions:
    // each service under its own pack, the last one once.
    let orders = synth::Scenario {
        kube: false,
        ..runtime_scenario("steady-leak", "orders", "jvm-otel")
    };
    let billing = synth::Scenario {
        kube: false,
        ..runtime_scenario("no-leak", "billing", "dotnet-otel")
    };
    let both_micrometer = synth::Scenario {
        kube: false,
        ..runtime_scenario("oom-sawtooth", "legacy", "jvm")
    };
    let both_otel = synth::Scenario {
        kube: false,
        ..runtime_scenario("oom-sawtooth", "legacy", "jvm-otel")
    };
    let server = PromServer::start(&openmetrics(&[
        &orders,
        &billing,
        &both_micrometer,
        &both_otel,
    ]));
    let scan = scan_json(&server.url, orders.from, orders.to, &[]);
    let services = scan["services"].as_array().unwrap();
    let get = |name: &str| {
        services
            .iter()
            .find(|s| s["service"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {scan}"))
    };
    assert_eq!(get("orders")["runtime"], "jvm-otel");
    assert_eq!(get("billing")["runtime"], "dotnet-otel");
    assert_eq!(get("legacy")["runtime"], "jvm-otel");
    assert!(within(
        f(&get("orders")["growth_bytes_per_hour"]),
        50.0 * MB,
        0.03
    ));
    assert!(within(
        f(&get("legacy")["growth_bytes_per_hour"]),
        120.0 * MB,
        0.03
    ));
    assert_eq!(get("orders")["flag"], "leaking");
    assert_eq!(get("billing")["flag"], "ok");
}

#[test]
fn opentelemetry_go_deprecated_names_without_suffixes() {
    // contrib's older process.runtime.go.* set, suffixes off: memory from heap_alloc,
    // restarts from runtime.uptime falling, the mean pause from the nanosecond histogram
    // and no p95 (its default buckets hold nothing but +Inf).
    let service = "svc-go-deprecated";
    let s = runtime_scenario("oom-sawtooth", service, "go-otel-deprecated");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service(service)
        .window(s.from, s.to)
        .json();
    assert_eq!(e["runtime"], "go-otel", "{}", e["runtime_detected_from"]);
    assert!(
        e["runtime_detected_from"]
            .to_string()
            .contains("process_runtime_go_mem_heap_alloc ("),
        "{}",
        e["runtime_detected_from"]
    );
    let w = &e["periods"]["window"];
    assert!(
        within(f(&w["growth_bytes_per_hour"]), 120.0 * MB, 0.03),
        "{w}"
    );
    assert_eq!(w["restarts"], s.expected_oom_kills(s.from, s.to));
    assert!(w["gc_pause_p95_seconds"].is_null(), "{w}");
    assert!(within(f(&w["gc_pause_mean_seconds"]), 150e-6, 0.01), "{w}");
    assert!(f(&w["gc_collections_per_hour"]) > 300.0, "{w}");
}
