//! `scan` over a fleet on a real Prometheus: services of different runtimes ranked by
//! growth per instance, the leaking ones flagged, the flat one not; its JSON against
//! `schema/scan.schema.json`, Markdown, `--min-growth`, and what an empty fleet says.

use crate::common::*;

#[test]
fn scan_ranks_and_flags_the_fleet() {
    let api = scenario("steady-leak", "api");
    let billing = scenario("no-leak", "billing");
    let worker = synth::Scenario {
        kube: false,
        ..runtime_scenario("oom-sawtooth", "worker", "go")
    };
    let jvm = synth::Scenario {
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
    // Every request is listed as sent: the series call first, then the range queries
    // at the scan's step.
    let queries = scan["queries"].as_array().unwrap();
    assert_eq!(queries[0]["kind"], "series", "{}", queries[0]);
    assert!(queries.iter().all(|q| q["ok"] == true));
    let heap = queries
        .iter()
        .find(|q| q["id"] == "heap_used")
        .expect("the Node.js heap query");
    assert_eq!(heap["step_seconds"], scan["step_seconds"]);
    assert!(
        heap["promql"]
            .as_str()
            .unwrap()
            .contains(r#"namespace="prod""#),
        "{heap}"
    );
    // Restarts between raw samples are asked only for the services seen restarting.
    let counts: Vec<&str> = queries
        .iter()
        .filter(|q| q["id"].as_str().unwrap().ends_with("_restarts"))
        .map(|q| q["promql"].as_str().unwrap())
        .collect();
    assert!(!counts.is_empty(), "{queries:?}");
    for promql in &counts {
        assert!(promql.contains(r#"job=~"worker""#), "{promql}");
    }
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
    let markdown = lc()
        .arg("scan")
        .server(&server.url)
        .args(["--from", &from, "--to", &to])
        .args(["--format", "markdown"])
        .run();
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

#[test]
fn an_empty_fleet_says_why_with_exit_3() {
    let api = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&api]));
    let (from, to) = (format!("{}", api.from), format!("{}", api.to));

    let typo = lc()
        .arg("scan")
        .server(&server.url)
        .args(["--from", &from, "--to", &to])
        .args(["--selector", r#"namespace="prdo""#])
        .run();
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert_eq!(typo.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(r#"{namespace="prdo"}"#), "{stderr}");
    assert!(
        stderr
            .contains(r#"no runtime series has namespace="prdo": did you mean namespace="prod"?"#),
        "{stderr}"
    );
    assert!(
        !stderr.contains("--service,"),
        "scan has no --service: {stderr}"
    );
    assert!(typo.stdout.is_empty());

    let label = lc()
        .arg("scan")
        .server(&server.url)
        .args(["--from", &from, "--to", &to])
        .args(["--service-label", "app"])
        .run();
    let stderr = String::from_utf8_lossy(&label.stderr);
    assert_eq!(label.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("none has the label `app`"), "{stderr}");

    // A window before any data: nothing anywhere.
    let early = (api.from - 30.0 * 86_400.0, api.from - 29.0 * 86_400.0);
    let (early_from, early_to) = (format!("{}", early.0), format!("{}", early.1));
    let none = lc()
        .arg("scan")
        .server(&server.url)
        .args(["--from", &early_from, "--to", &early_to])
        .args(["--selector", r#"namespace="prod""#])
        .run();
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert_eq!(none.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no runtime metrics exist in the window at all"),
        "{stderr}"
    );
}

/// Drops every sample line of the metric `name` from OpenMetrics text.
fn without_metric(text: &str, name: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with(&format!("{name}{{")) && !l.ends_with(&format!(" {name} gauge")))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Each sample of `name` for `service` split into two series by a `space` label, 3:1.
fn split_by_space(text: &str, name: &str, service: &str) -> String {
    let mut out = String::new();
    let prefix = format!("{name}{{job=\"{service}\",");
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(&prefix) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let (labels, sample) = rest.split_once("} ").unwrap();
        let (value, time) = sample.split_once(' ').unwrap();
        let value: f64 = value.parse().unwrap();
        for (space, share) in [("old", 0.75), ("new", 0.25)] {
            out.push_str(&format!(
                "{prefix}{labels},space=\"{space}\"}} {} {time}\n",
                value * share
            ));
        }
    }
    out
}

/// Three shapes the plain fixtures do not have: a service whose exporter has no start
/// time (restarts seen only as counter resets), one leaking pod among healthy ones, and
/// a heap metric split by a label into parts of one process.
#[test]
fn counter_resets_one_bad_pod_and_split_heaps() {
    let (from, to) = window();
    let nostart = synth::Scenario {
        kube: false,
        ..scenario("oom-sawtooth", "nostart")
    };
    let healthy = synth::Scenario {
        instances: 4,
        only_instances: Some((0, 3)),
        ..scenario("no-leak", "cart")
    };
    let bad_pod = synth::Scenario {
        instances: 4,
        only_instances: Some((3, 4)),
        ..scenario("steady-leak", "cart")
    };
    let split = scenario("steady-leak", "spaces");
    let text = String::from_utf8(openmetrics(&[&nostart, &healthy, &bad_pod, &split])).unwrap();
    let text = split_by_space(&text, "nodejs_heap_size_used_bytes", "spaces");
    // The start-time gauge is dropped for the whole file: every service's restarts must
    // come from counter resets (the CPU counter) alone.
    let text = without_metric(&text, "process_start_time_seconds");
    assert!(text.contains(r#"space="old""#));
    let server = PromServer::start(text.as_bytes());

    let scan = scan_json(&server.url, from, to, &[]);
    let services = scan["services"].as_array().unwrap();
    let get = |name: &str| {
        services
            .iter()
            .find(|s| s["service"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {scan}"))
    };

    let row = get("nostart");
    let growth = row["growth_bytes_per_hour"].as_f64().unwrap();
    assert!(
        within(growth, 120.0 * MB, 0.03),
        "restart-aware from resets: {row}"
    );
    assert_eq!(row["flag"], "leaking", "{row}");
    assert_eq!(
        row["restarts"],
        nostart.expected_oom_kills(nostart.from, nostart.to),
        "{row}"
    );
    let percent = row["growth_percent"].as_f64().unwrap();
    // 120 MB/h over one 3 h lifetime on a ~170 MB baseline: about 210 %, not the
    // ~1,700 % that 24 h of lifetimes would read.
    assert!(
        (150.0..300.0).contains(&percent),
        "growth over one lifetime, not over 24 h of lifetimes: {percent}"
    );

    let row = get("cart");
    assert_eq!(row["instances"], 4, "{row}");
    assert_eq!(row["instances_leaking"], 1, "{row}");
    assert_eq!(row["flag"], "partial", "{row}");

    let row = get("spaces");
    assert_eq!(row["instances"], 3, "parts summed per process: {row}");
    let growth = row["growth_bytes_per_hour"].as_f64().unwrap();
    assert!(within(growth, 50.0 * MB, 0.03), "{row}");
    assert!(
        scan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("split by space")),
        "{scan}"
    );

    let table = lc()
        .arg("scan")
        .server(&server.url)
        .args(["--from", &format!("{from}"), "--to", &format!("{to}")])
        .run();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("partial (1 of 4)  cart"), "{text}");

    // collect agrees on the split service: three instances at the whole heap's growth.
    let evidence = lc()
        .server(&server.url)
        .service("spaces")
        .window(from, to)
        .json();
    let leak = &evidence["periods"]["window"];
    assert_eq!(leak["instance_count"], 3, "{leak}");
    assert!(within(
        leak["growth_bytes_per_hour"].as_f64().unwrap(),
        50.0 * MB,
        0.03
    ));
}
