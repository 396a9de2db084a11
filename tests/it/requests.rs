//! What a collect run sends, seen from a real Prometheus: its own query log (every
//! query it evaluated, with its parameters) and its `prometheus_http_requests_total`. A
//! run with every context feature — `--fix-deployed auto` on kube-state-metrics series
//! from `synth::rollout`, the onset from `--lookback`, detection, symptoms, a window cut
//! back to where the data ends, and the finer second round — sends each distinct request
//! once, evaluates no point of one query twice, and its records claim exactly the
//! requests the server received.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use synth::rollout::{self, Rollout};

/// One logged query: the endpoint, the expression and its range (Unix ms) and step (s).
#[derive(Debug, Clone, PartialEq, PartialOrd)]
struct Logged {
    path: String,
    query: String,
    start: i64,
    end: i64,
    step: f64,
}

fn millis(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

fn logged(line: &Value) -> Logged {
    let params = &line["params"];
    Logged {
        path: line["httpRequest"]["path"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        query: params["query"].as_str().unwrap_or("").to_string(),
        start: millis(&params["start"]),
        end: millis(&params["end"]),
        step: params["step"].as_f64().unwrap_or(0.0),
    }
}

/// Pairs of range queries of one expression at one step whose evaluation grids share a
/// timestamp: the server computing the same points twice.
fn overlapping(queries: &[Logged]) -> Vec<(Logged, Logged)> {
    let ranges: Vec<&Logged> = queries.iter().filter(|q| q.step > 0.0).collect();
    let mut out = Vec::new();
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            let step = (a.step * 1000.0).round() as i64;
            if a.query != b.query || a.step != b.step || step == 0 {
                continue;
            }
            let same_grid = (a.start - b.start) % step == 0;
            if same_grid && a.start.max(b.start) <= a.end.min(b.end) {
                out.push(((*a).clone(), (*b).clone()));
            }
        }
    }
    out
}

#[test]
fn a_collect_run_sends_each_request_once_and_says_so() {
    // Three leaking pods from 12 h before the window, rolled out to a new image 12 h
    // into it; the data ends 2 h before the window asked for does.
    let (from, data_to) = window();
    let data_from = from - 12.0 * HOUR;
    let mut r = Rollout {
        service: "api".into(),
        namespace: "shop-prod".into(),
        from: data_from,
        to: data_to,
        interval: 60.0,
        pods: rollout::initial_pods("api", 3, data_from - HOUR, 60.0 * MB),
        kube: true,
        build_info: false,
        cadvisor_oom: false,
    };
    rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 12.0 * HOUR + 17.0,
        120.0,
        0.0,
    );
    let server = PromServer::start_logging_queries(r.openmetrics().as_bytes());
    let evidence = lc()
        .server(&server.url)
        .service("api")
        .window(from, data_to + 2.0 * HOUR)
        .args(["--fix-deployed", "auto"])
        .json();
    let errors = schema_errors("evidence.schema.json", &evidence);
    assert!(errors.is_empty(), "{errors:#?}");
    // The context features ran: the fix found, the window cut, detection asked.
    assert!(
        evidence["fix_deployed"].is_string(),
        "{}",
        evidence["fix_deployed"]
    );
    assert!(evidence["window"]["requested_to"].is_string());
    for id in ["onset_heap", "deploy_pod_created", "alerts", "gc_pause_p95"] {
        assert_eq!(query_record(&evidence, id)["ok"], true, "{id}");
    }

    let log: Vec<Logged> = server.query_log().iter().map(logged).collect();
    assert!(log.len() > 20, "the query log has {} queries", log.len());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for q in &log {
        *seen.entry(format!("{q:?}")).or_default() += 1;
    }
    let twice: Vec<&String> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(q, _)| q)
        .collect();
    assert!(twice.is_empty(), "sent more than once: {twice:#?}");
    let overlaps = overlapping(&log);
    assert!(
        overlaps.is_empty(),
        "the same points evaluated twice: {overlaps:#?}"
    );

    // The records claim exactly what the server received, endpoint by endpoint.
    let records = evidence["queries"].as_array().unwrap();
    let claimed = |kinds: &[&str]| -> f64 {
        records
            .iter()
            .filter(|q| kinds.contains(&q["kind"].as_str().unwrap()))
            .map(|q| q["requests"].as_f64().unwrap())
            .sum()
    };
    let received = |path: &str| log.iter().filter(|q| q.path == path).count() as f64;
    assert_eq!(claimed(&["range"]), received("/api/v1/query_range"));
    assert_eq!(claimed(&["instant"]), received("/api/v1/query"));
    assert_eq!(
        claimed(&["range"]),
        server.http_requests("/api/v1/query_range")
    );
    assert_eq!(claimed(&["instant"]), server.http_requests("/api/v1/query"));
    assert_eq!(claimed(&["series"]), server.http_requests("/api/v1/series"));
    // A record the cache served claims nothing and names the one that sent it.
    for shared in records.iter().filter(|q| q["shared_with"].is_string()) {
        assert_eq!(shared["requests"], 0, "{shared}");
        query_record(&evidence, shared["shared_with"].as_str().unwrap());
    }
}
