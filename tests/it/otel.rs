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
