//! `scan` over a fleet on a real Prometheus: services of different runtimes ranked by
//! growth per instance, the leaking ones flagged, the flat one not.

mod common;

use common::*;

#[test]
fn scan_ranks_and_flags_the_fleet() {
    let api = scenario("steady-leak", "api");
    let billing = scenario("no-leak", "billing");
    let worker = leakcollect::synth::Scenario {
        kube: false,
        ..runtime_scenario("oom-sawtooth", "worker", "go")
    };
    let jvm = leakcollect::synth::Scenario {
        kube: false,
        ..runtime_scenario("no-leak", "orders", "jvm")
    };
    let server = PromServer::start(&openmetrics(&[&api, &billing, &worker, &jvm]));
    let (from, to) = (format!("{}", api.from), format!("{}", api.to));
    let out = leakcollect(&[
        "scan",
        "--prometheus-url",
        &server.url,
        "--selector",
        r#"namespace="prod""#,
        "--from",
        &from,
        "--to",
        &to,
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let services = scan["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..2],
        &["worker", "api"],
        "ranked by growth: {names:?}"
    );
    let get = |name: &str| services.iter().find(|s| s["service"] == name).unwrap();
    assert_eq!(get("worker")["runtime"], "go");
    assert_eq!(get("orders")["runtime"], "jvm");
    assert!(within(
        get("worker")["growth_bytes_per_hour"].as_f64().unwrap(),
        120.0 * MB,
        0.03
    ));
    assert!(within(
        get("api")["growth_bytes_per_hour"].as_f64().unwrap(),
        50.0 * MB,
        0.03
    ));
    assert_eq!(get("worker")["flag"], "leaking");
    assert_eq!(get("api")["flag"], "leaking");
    assert_eq!(get("billing")["flag"], "ok");
    assert_eq!(get("orders")["flag"], "ok");
    assert_eq!(
        get("worker")["restarts"],
        worker.expected_oom_kills(worker.from, worker.to)
    );

    let table = leakcollect(&[
        "scan",
        "--prometheus-url",
        &server.url,
        "--from",
        &from,
        "--to",
        &to,
    ]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.lines().next().unwrap().starts_with("flag"), "{text}");
    assert!(
        text.lines().nth(1).unwrap().starts_with("leaking  worker"),
        "{text}"
    );
}
