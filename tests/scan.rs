//! `scan` over a fleet on a real Prometheus: services of different runtimes ranked by
//! growth per instance, the leaking ones flagged, the flat one not; its JSON against
//! `schema/scan.schema.json`, Markdown, `--min-growth`, and what an empty fleet says.

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
    let scan = scan_json(
        &server.url,
        api.from,
        api.to,
        &["--selector", r#"namespace="prod""#],
    );
    let mut broken = scan.clone();
    broken["services"][0]["flag"] = "maybe".into();
    assert!(!schema_errors("scan.schema.json", &broken).is_empty());
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

    // Markdown: a header, a separator, one row per service, the leader first.
    let markdown = leakcollect(&scan_args(
        &server.url,
        &from,
        &to,
        &["--format", "markdown"],
    ));
    let text = String::from_utf8_lossy(&markdown.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("| flag | service |"), "{text}");
    assert!(lines[1].starts_with("|---|"), "{text}");
    assert!(lines[2].starts_with("| leaking | worker | go | "), "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("| ")).count(),
        5,
        "{text}"
    );

    // A threshold above every growth flags nothing; the ranking stays.
    let high = scan_json(&server.url, api.from, api.to, &["--min-growth", "500MB/h"]);
    assert_eq!(high["threshold_bytes_per_hour"], 500e6);
    let flags: Vec<&str> = high["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["flag"].as_str().unwrap())
        .collect();
    assert_eq!(flags, ["ok"; 4], "{high}");
    assert_eq!(high["services"][0]["service"], "worker");
}

fn scan_args<'a>(url: &'a str, from: &'a str, to: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["scan", "--prometheus-url", url, "--from", from, "--to", to];
    args.extend_from_slice(extra);
    args
}

#[test]
fn an_empty_fleet_says_why_with_exit_3() {
    let api = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&api]));
    let (from, to) = (format!("{}", api.from), format!("{}", api.to));

    let typo = leakcollect(&scan_args(
        &server.url,
        &from,
        &to,
        &["--selector", r#"namespace="prdo""#],
    ));
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert_eq!(typo.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(r#"{namespace="prdo"}"#), "{stderr}");
    assert!(
        stderr.contains("exist in the window, but not under this selector"),
        "{stderr}"
    );
    assert!(typo.stdout.is_empty());

    let label = leakcollect(&scan_args(
        &server.url,
        &from,
        &to,
        &["--service-label", "app"],
    ));
    let stderr = String::from_utf8_lossy(&label.stderr);
    assert_eq!(label.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("none has the label `app`"), "{stderr}");

    // A window before any data: nothing anywhere.
    let early = (api.from - 30.0 * 86_400.0, api.from - 29.0 * 86_400.0);
    let (early_from, early_to) = (format!("{}", early.0), format!("{}", early.1));
    let none = leakcollect(&scan_args(
        &server.url,
        &early_from,
        &early_to,
        &["--selector", r#"namespace="prod""#],
    ));
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert_eq!(none.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no runtime metrics exist in the window at all"),
        "{stderr}"
    );
}
