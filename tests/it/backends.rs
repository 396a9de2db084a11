//! Other backends and server limits, all real processes: the same scenarios on a real
//! VictoriaMetrics (Debian's `victoria-metrics`, loaded with `POST
//! /api/v1/import/prometheus`) and a real Prometheus agree within 1 %, also when the
//! servers refuse ranges as too large (answered by slicing) and when VictoriaMetrics
//! shifts unaligned ranges and hides its newest 30 s.

use crate::common::*;
use serde_json::Value;
use synth::Scenario;

#[test]
fn prometheus_and_victoriametrics_agree() {
    let steady = scenario("steady-leak", "api");
    let oom = scenario("oom-sawtooth", "worker");
    let fixed = scenario("fix-mid-window", "billing");
    let flat = scenario("no-leak", "search");
    let data = openmetrics(&[&steady, &oom, &fixed, &flat]);
    let prometheus = PromServer::start(&data);
    let (_vm, vm_url, _vm_dir) = start_victoria(&data, &["-search.disableCache"]);
    let fix = format!("{}", fixed.fix_at.unwrap());
    for (service, s, periods, extra) in [
        ("api", &steady, &["window"][..], &[][..]),
        ("worker", &oom, &["window"][..], &[][..]),
        (
            "billing",
            &fixed,
            &["window", "before", "after"][..],
            &["--fix-deployed", fix.as_str()][..],
        ),
        ("search", &flat, &["window"][..], &[][..]),
    ] {
        let on_prometheus = lc()
            .server(&prometheus.url)
            .service(service)
            .window(s.from, s.to)
            .args(extra)
            .json();
        let on_vm = collect_on_vm(
            &vm_url,
            service,
            &format!("{}", s.from),
            &format!("{}", s.to),
            extra,
            &on_prometheus["periods"]["window"]["instance_count"],
        );
        assert_eq!(on_vm["runtime"], "nodejs", "{on_vm}");
        for period in periods {
            assert_same_figures(
                &format!("{service} {period}"),
                &on_prometheus["periods"][period],
                &on_vm["periods"][period],
            );
        }
    }
}

fn assert_same_figures(label: &str, a: &Value, b: &Value) {
    let (gp, gv) = (
        a["growth_bytes_per_hour"].as_f64().unwrap(),
        b["growth_bytes_per_hour"].as_f64().unwrap(),
    );
    eprintln!("{label}: growth {:.3} vs {:.3} MB/h", gp / 1e6, gv / 1e6);
    // 1 %, or 10 kB/h where there is (next to) no growth to be relative to.
    assert!(
        within(gv, gp, 0.01) || (gv - gp).abs() < 10e3,
        "{label}: {gp} vs {gv}"
    );
    assert_eq!(a["restarts"], b["restarts"], "{label}");
    assert_eq!(a["oom_kills"], b["oom_kills"], "{label}");
    assert_eq!(a["instance_count"], b["instance_count"], "{label}");
}

fn requests_of(evidence: &Value, id: &str) -> u64 {
    evidence["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == id)
        .and_then(|q| q["requests"].as_u64())
        .unwrap_or_else(|| panic!("no query {id}"))
}

#[test]
fn prometheus_sample_limit_is_answered_by_slicing() {
    let s = scenario("oom-sawtooth", "api");
    let data = openmetrics(&[&s]);
    let roomy = PromServer::start(&data);
    // 3 series × 961 points fit; the 5-minute rate windows behind `requests` do not.
    let tight = PromServer::start_with(&data, None, &["--query.max-samples=3000"]);
    let normal = lc()
        .server(&roomy.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let sliced = lc()
        .server(&tight.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    assert!(
        sliced["warnings"].as_array().unwrap().is_empty(),
        "{}",
        sliced["warnings"]
    );
    let split = requests_of(&sliced, "requests");
    assert!(split > 1, "the refused query was not split");
    assert_eq!(requests_of(&normal, "requests"), 1);
    assert_eq!(sliced["periods"], normal["periods"]);
    assert_eq!(sliced["symptoms"], normal["symptoms"]);
    eprintln!("`requests` took {split} requests under --query.max-samples=3000");
}

#[test]
fn victoriametrics_point_limit_and_unaligned_windows() {
    let s = scenario("oom-sawtooth", "worker");
    let data = openmetrics(&[&s]);
    let prometheus = PromServer::start(&data);
    // The cache stays on (VictoriaMetrics then moves unaligned starts onto the step grid
    // unless asked not to) and a series may not exceed 400 points.
    let (_vm, vm_url, _dir) = start_victoria(&data, &["-search.maxPointsPerTimeseries=400"]);
    // 37 s off the minute, so the start is not a multiple of the 90 s step.
    let (from, to) = (s.from + 37.0, s.to - 23.0);
    let on_prometheus = lc()
        .server(&prometheus.url)
        .service("worker")
        .window(from, to)
        .json();
    let on_vm = collect_on_vm(
        &vm_url,
        "worker",
        &format!("{from}"),
        &format!("{to}"),
        &[],
        &on_prometheus["periods"]["window"]["instance_count"],
    );
    assert_same_figures(
        "worker, unaligned, 400-point limit",
        &on_prometheus["periods"]["window"],
        &on_vm["periods"]["window"],
    );
    assert!(requests_of(&on_vm, "heap_used") > 1);
    assert_eq!(requests_of(&on_prometheus, "heap_used"), 1);
    // Levels read at given instants need the points where they were asked for: a
    // start moved onto the step grid would read the sawtooth at another phase.
    for level in [
        "heap_baseline_bytes",
        "heap_after_6h_bytes",
        "heap_end_bytes",
    ] {
        let (p, v) = (
            on_prometheus["periods"]["window"][level].as_f64().unwrap(),
            on_vm["periods"]["window"][level].as_f64().unwrap(),
        );
        assert!(
            within(v, p, 0.001),
            "{level}: Prometheus {p}, VictoriaMetrics {v}"
        );
    }
}

#[test]
fn victoriametrics_newest_30s_are_left_out_of_a_window_ending_now() {
    let now = chrono::Utc::now().timestamp() as f64;
    let to = (now / 15.0).floor() * 15.0;
    let from = to - 6.0 * 3600.0;
    let s = Scenario::preset("steady-leak", "api", from, to, 2, 15.0).unwrap();
    let (_vm, vm_url, _dir) = start_victoria(&openmetrics(&[&s]), &["-search.disableCache"]);
    let on_vm = collect_on_vm(&vm_url, "api", "now-6h", "now", &[], &serde_json::json!(2));
    let end = chrono::DateTime::parse_from_rfc3339(on_vm["window"]["to"].as_str().unwrap())
        .unwrap()
        .timestamp() as f64;
    let after = chrono::Utc::now().timestamp() as f64;
    assert!(
        end <= after - 30.0 && end >= now - 40.0,
        "window end {end}, now {now}"
    );
    let warnings = on_vm["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("--latency-offset")),
        "{warnings:?}"
    );
    let growth = on_vm["periods"]["window"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    assert!(
        within(growth, s.leak_bytes_per_hour, 0.03),
        "growth {growth}"
    );
}

/// Every sample twice, as an HA pair of Prometheus servers federated without dedup
/// would give it: once with `prometheus_replica="r0"`, once with `"r1"`.
fn as_ha_pair(openmetrics: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in String::from_utf8_lossy(openmetrics).lines() {
        match line.split_once('{') {
            Some((name, rest)) if !line.starts_with('#') => {
                for replica in ["r0", "r1"] {
                    out.push_str(&format!(
                        "{name}{{prometheus_replica=\"{replica}\",{rest}\n"
                    ));
                }
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}

#[test]
fn copies_from_an_ha_pair_are_merged_with_a_warning() {
    let s = scenario("oom-sawtooth", "api");
    let single = PromServer::start(&openmetrics(&[&s]));
    let pair = PromServer::start(&as_ha_pair(&openmetrics(&[&s])));
    let once = lc()
        .server(&single.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let twice = lc()
        .server(&pair.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    for figure in [
        "instance_count",
        "growth_bytes_per_hour",
        "growth_bytes_per_hour_total",
        "restarts",
        "oom_kills",
        "heap_after_6h_bytes",
    ] {
        assert_eq!(
            twice["periods"]["window"][figure], once["periods"]["window"][figure],
            "{figure}"
        );
    }
    let warnings = twice["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("HA replicas (label prometheus_replica)") && w.contains("--backend thanos")
        }),
        "{warnings:?}"
    );
    // The fleet view counts each process once too.
    let out = leakcollect(&[
        "scan",
        "--prometheus-url",
        &pair.url,
        "--from",
        &format!("{}", s.from),
        "--to",
        &format!("{}", s.to),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(scan["services"][0]["instances"], 3, "{scan}");
    assert!(
        scan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("prometheus_replica")),
        "{scan}"
    );
}
