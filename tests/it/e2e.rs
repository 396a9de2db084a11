//! End-to-end: the real binary against a real Prometheus loaded with synthetic data of
//! known ground truth. Growth within ±3 %, counts exact.

use crate::common::*;
use serde_json::Value;

fn period<'a>(e: &'a Value, name: &str) -> &'a Value {
    &e["periods"][name]
}

fn f(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

#[test]
fn steady_leak_growth_and_levels() {
    let s = scenario("steady-leak", "checkout");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("checkout")
        .window(s.from, s.to)
        .json();
    let w = period(&e, "window");
    assert!(
        within(f(&w["growth_bytes_per_hour"]), 50.0 * MB, 0.03),
        "{}",
        w["growth_bytes_per_hour"]
    );
    assert!(within(
        f(&w["growth_bytes_per_hour_total"]),
        150.0 * MB,
        0.03
    ));
    assert_eq!(w["instance_count"], 3);
    assert_eq!(w["restarts"], 0);
    assert_eq!(w["oom_kills"], 0);
    // Baselines are 150/160/170 MB plus up to 30 MB of sawtooth and 2 MB of noise.
    let baseline = f(&w["heap_baseline_bytes"]);
    assert!((158.0 * MB..=192.0 * MB).contains(&baseline), "{baseline}");
    let after_6h = f(&w["heap_after_6h_bytes"]);
    assert!(
        within(after_6h - baseline, 300.0 * MB, 0.15),
        "{after_6h} vs {baseline}"
    );
    assert!(e["periods"]["before"].is_null() && e["periods"]["after"].is_null());
    assert_eq!(e["symptoms"]["linear_growth"]["present"], true);
    assert_eq!(e["schema"], "leakcollect/evidence/v2");
    assert_eq!(e["runtime"], "nodejs");
}

#[test]
fn oom_sawtooth_reports_the_leak_rate_and_exact_counts() {
    let s = scenario("oom-sawtooth", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let w = period(&e, "window");
    let growth = f(&w["growth_bytes_per_hour"]);
    assert!(within(growth, 120.0 * MB, 0.03), "growth {growth}");
    let expected = s.expected_oom_kills(s.from, s.to);
    assert!(expected >= 20, "scenario should kill often, got {expected}");
    assert_eq!(w["restarts"], expected);
    assert_eq!(w["oom_kills"], expected);
    assert_eq!(w["restarts_by_source"]["kube_state_metrics"], expected);
    assert_eq!(e["symptoms"]["oom_crashes"]["present"], true);
    for instance in w["instances"].as_array().unwrap() {
        assert!(
            within(f(&instance["growth_bytes_per_hour"]), 120.0 * MB, 0.03),
            "{instance}"
        );
        assert!(instance["lifetimes_fitted"].as_u64().unwrap() >= 8);
    }
}

#[test]
fn fix_mid_window_splits_periods_and_measures_improvement() {
    let s = scenario("fix-mid-window", "api");
    let fix = s.fix_at.unwrap();
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix_text = format!("{fix}");
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["--fix-deployed", &fix_text])
        .json();
    let before = period(&e, "before");
    let after = period(&e, "after");
    assert!(
        within(f(&before["growth_bytes_per_hour"]), 80.0 * MB, 0.03),
        "{}",
        before["growth_bytes_per_hour"]
    );
    let after_growth = f(&after["growth_bytes_per_hour"]);
    assert!(
        after_growth.abs() < 0.5 * MB,
        "after-fix growth {after_growth}"
    );
    assert_eq!(before["oom_kills"], s.expected_oom_kills(s.from, fix));
    assert_eq!(after["oom_kills"], 0);
    assert_eq!(after["restarts"], 0);
    // The rollout replaced every pod: three old and three new instances, never mixed.
    assert_eq!(before["instance_count"], 3);
    assert_eq!(after["instance_count"], 3);
    let imp = &e["improvement"];
    assert!(f(&imp["growth_reduction_percent"]) > 99.0, "{imp}");
    assert_eq!(imp["oom_kills_reduction_percent"], 100.0);
    assert!(f(&imp["gc_p95_reduction_percent"]) > 50.0, "{imp}");
    assert!(f(&imp["heap_peak_reduction_percent"]) > 30.0, "{imp}");
    assert!(f(&before["gc_pause_p95_seconds"]) > f(&after["gc_pause_p95_seconds"]));
    assert!(before["gc_pause_p95_by_kind"]["major"].is_number());
    assert_eq!(e["fix_deployed"].as_str().map(|t| t.len() > 10), Some(true));
}

#[test]
fn no_leak_sawtooth_reports_flat() {
    let s = scenario("no-leak", "billing");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("billing")
        .window(s.from, s.to)
        .json();
    let w = period(&e, "window");
    let growth = f(&w["growth_bytes_per_hour"]);
    assert!(growth.abs() < 0.5 * MB, "flat service grew {growth}");
    assert_eq!(e["symptoms"]["linear_growth"]["present"], false);
    assert_eq!(w["oom_kills"], 0);
}

#[test]
fn services_selectors_and_hostile_values() {
    let api = scenario("steady-leak", "api");
    let other = scenario("no-leak", "billing");
    let server = PromServer::start(&openmetrics(&[&api, &other]));
    let (from, to) = (format!("{}", api.from), format!("{}", api.to));
    let base = [
        "--prometheus-url",
        &server.url,
        "--from",
        &from,
        "--to",
        &to,
        "--quiet",
    ];

    // The service matcher keeps the two services apart.
    let e = lc()
        .server(&server.url)
        .service("billing")
        .window(api.from, api.to)
        .json();
    assert!(f(&e["periods"]["window"]["growth_bytes_per_hour"]).abs() < 0.5 * MB);
    // Every query names the service; the rules API (server-wide, no PromQL) is the one
    // request without a selector.
    for q in e["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["kind"] != "rules")
    {
        let promql = q["promql"].as_str().unwrap();
        assert!(
            promql.contains(r#"job="billing""#) || promql.contains(r#"container="billing""#),
            "{promql}"
        );
    }

    // --selector narrows every query.
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(api.from, api.to)
        .args(["--selector", r#"namespace="prod""#])
        .json();
    assert!(
        e["queries"][1]["promql"]
            .as_str()
            .unwrap()
            .contains(r#"namespace="prod""#)
    );
    let mut args = base.to_vec();
    args.extend(["--service", "api", "--selector", r#"namespace="staging""#]);
    let out = leakcollect(&args);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A hostile service value selects nothing instead of everything.
    let mut args = base.to_vec();
    args.extend(["--service", r#"api"} or vector(1) #"#, "--format", "json"]);
    let out = leakcollect(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(r#"job="api\"} or vector(1) #""#),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // A near-miss name gets a suggestion.
    let mut args = base.to_vec();
    args.extend(["--service", "apu"]);
    let out = leakcollect(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr.contains(r#"did you mean job="api"?"#), "{stderr}");
}

#[test]
fn base_path_prefix_keeps_working() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start_with_prefix(&openmetrics(&[&s]), Some("/prometheus"));
    assert!(server.url.ends_with("/prometheus"));
    let e = lc()
        .server(&format!("{}/", server.url))
        .service("api")
        .window(s.from, s.to)
        .json();
    assert!(within(
        f(&e["periods"]["window"]["growth_bytes_per_hour"]),
        50.0 * MB,
        0.03
    ));
}

#[test]
fn markdown_report_follows_the_team_template_and_writes_atomically() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("report.md");
    let (from, to, fix) = (
        format!("{}", s.from),
        format!("{}", s.to),
        format!("{}", s.fix_at.unwrap()),
    );
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
        "--fix-deployed",
        &fix,
        "-o",
        report.to_str().unwrap(),
        "--quiet",
        "--grafana-url",
        "https://grafana.example",
        "--grafana-datasource",
        "prom-uid",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&report).unwrap();
    // Every heading of the team template, in the same order.
    let template = std::fs::read_to_string(repo_path("templates/team-report-template.md")).unwrap();
    let mut cursor = 0;
    let mut in_code = false;
    let headings = template.lines().filter(|l| {
        if l.starts_with("```") {
            in_code = !in_code;
        }
        !in_code && l.starts_with('#')
    });
    for heading in headings {
        let found = text[cursor..]
            .find(&format!("{heading}\n"))
            .unwrap_or_else(|| panic!("heading {heading:?} missing or out of order"));
        cursor += found + heading.len();
    }
    assert!(text.contains("- [x] Linear memory growth: "));
    assert!(text.contains("- [x] OOM crashes (frequency: "));
    assert!(
        text.contains("**Investigator**: [Your Name]"),
        "person-written parts keep placeholders"
    );
    assert!(
        text.contains("**TL;DR**: api (Node.js (prom-client)) leaked "),
        "the TL;DR is generated"
    );
    assert!(text.contains(r#"nodejs_heap_size_used_bytes{job="api"}"#));
    assert!(
        !text.contains("rate(nodejs_heap_used_bytes"),
        "the template's wrong sample query is not repeated"
    );
    assert!(text.contains("MB = 10^6 bytes"));
    // Links: the Grafana Link line and one graph/explore pair per query, decodable.
    assert!(
        text.contains(
            "**Link**: [Grafana Explore: V8 heap used](<https://grafana.example/explore?"
        )
    );
    let explore = text
        .split("[explore](<")
        .nth(1)
        .and_then(|rest| rest.split(">)").next())
        .expect("an explore link");
    let url = reqwest::Url::parse(explore).unwrap();
    let panes = url
        .query_pairs()
        .find(|(k, _)| k == "panes")
        .unwrap()
        .1
        .to_string();
    let panes: Value = serde_json::from_str(&panes).unwrap();
    assert_eq!(panes["leakcollect"]["datasource"], "prom-uid");
    assert!(
        panes["leakcollect"]["queries"][0]["expr"]
            .as_str()
            .unwrap()
            .contains(r#"job="api""#)
    );
    assert!(text.contains(&format!("[graph](<{}/graph?g0.expr=", server.url)));
    // Only the report and its charts were written: no temp file left behind.
    let mut names: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, vec!["report-assets", "report.md"]);
}

#[test]
fn json_output_matches_its_schema() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix = format!("{}", s.fix_at.unwrap());
    let with_fix = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["--fix-deployed", &fix])
        .json();
    let without = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    for doc in [&with_fix, &without] {
        let errors = schema_errors("evidence.schema.json", doc);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // And the schema is not vacuous: a document missing a required field fails.
    let mut broken = without.clone();
    broken["periods"]["window"]
        .as_object_mut()
        .unwrap()
        .remove("growth_bytes_per_hour");
    assert!(!schema_errors("evidence.schema.json", &broken).is_empty());
}

#[test]
fn errors_have_documented_exit_codes() {
    // Unreachable server: 4, one clear message.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = leakcollect(&[
        "--prometheus-url",
        &url,
        "--service",
        "api",
        "--from",
        "now-1h",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("cannot reach Prometheus at"), "{stderr}");

    // Usage errors: 2, naming the flag.
    for (args, needle) in [
        (
            vec!["--service", "api", "--from", "yesterday"],
            "--from: invalid time",
        ),
        (
            vec!["--service", "api", "--from", "now", "--to", "now-1h"],
            "must be before --to",
        ),
        (
            vec![
                "--service",
                "api",
                "--from",
                "now-2h",
                "--fix-deployed",
                "now-3h",
            ],
            "--fix-deployed",
        ),
        (
            vec!["--service", "api", "--from", "now-2h", "--runtime", "cobol"],
            "unknown runtime \"cobol\"",
        ),
        (
            vec![
                "--service",
                "api",
                "--from",
                "now-2h",
                "--selector",
                "namespace=prod",
            ],
            "--selector",
        ),
        (vec!["--from", "now-2h"], "--service is required"),
        (
            vec!["--service", "api", "--from", "now-2h", "--timeout", "soon"],
            "--timeout",
        ),
    ] {
        let mut full = vec!["--prometheus-url", &url];
        full.extend(args);
        let out = leakcollect(&full);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{full:?}: {stderr}");
        assert!(stderr.contains(needle), "{full:?}: {stderr}");
        // One precise message: no cause repeating the error it is attached to.
        assert_eq!(stderr.lines().count(), 1, "{full:?}: {stderr}");
    }
    let out = leakcollect(&[
        "--prometheus-url",
        "127.0.0.1:9",
        "--service",
        "api",
        "--from",
        "now-1h",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--prometheus-url or PROMETHEUS_URL") && stderr.contains("http://"),
        "{stderr}"
    );
}

#[test]
fn output_into_missing_folder_fails_with_code_5_and_names_the_path() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
        "-o",
        "/nonexistent-dir/report.md",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("/nonexistent-dir/report.md"), "{stderr}");
    assert!(
        stderr.contains("the folder /nonexistent-dir does not exist"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(".leakcollect-"),
        "temp names are internal: {stderr}"
    );
}

#[test]
fn figures_do_not_move_with_the_step() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix = format!("{}", s.fix_at.unwrap());
    let auto = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["--fix-deployed", &fix])
        .json();
    for step in ["60s", "2m", "5m"] {
        let e = lc()
            .server(&server.url)
            .service("api")
            .window(s.from, s.to)
            .args(["--fix-deployed", &fix, "--step", step])
            .json();
        for name in ["before", "after"] {
            let (a, b) = (&auto["periods"][name], &e["periods"][name]);
            // Pods that died at the fix (or started at it) never count on the other side.
            assert_eq!(b["instance_count"], 3, "{step} {name}");
            assert_eq!(b["oom_kills"], a["oom_kills"], "{step} {name}");
            assert!(
                within(
                    f(&b["heap_baseline_bytes"]),
                    f(&a["heap_baseline_bytes"]),
                    0.05
                ),
                "{step} {name}"
            );
            assert!(
                within(f(&b["heap_peak_bytes"]), f(&a["heap_peak_bytes"]), 0.10),
                "{step} {name}"
            );
        }
        let growth = f(&e["periods"]["before"]["growth_bytes_per_hour"]);
        assert!(within(growth, 80.0 * MB, 0.03), "{step}: {growth}");
    }
}

#[test]
fn after_6h_is_the_value_prometheus_gives_at_start_plus_6h() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    // The median of three instances is what quantile(0.5, …) answers at that instant.
    let at = s.from + 6.0 * HOUR;
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--data-urlencode",
            r#"query=quantile(0.5, nodejs_heap_size_used_bytes{job="api"})"#,
        ])
        .args(["--data-urlencode", &format!("time={at}")])
        .arg(format!("{}/api/v1/query", server.url))
        .output()
        .expect("curl");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let direct: f64 = answer["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(f(&e["periods"]["window"]["heap_after_6h_bytes"]), direct);
}

#[test]
fn unwritable_output_and_a_window_reaching_into_the_future() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let from = format!("{}", s.from);
    // /proc refuses new files even to root: a folder we cannot write is exit 5, nothing written.
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        "now",
        "--format",
        "json",
        "-o",
        "/proc/leakcollect-report.json",
        "-q",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cannot create a file in /proc"), "{stderr}");
    // Checked before any query: with no server at all, the output's folder is named.
    let early = lc()
        .args(["--prometheus-url", "http://127.0.0.1:9", "--service", "api"])
        .args([
            "--from",
            &from,
            "-o",
            "/proc/leakcollect-report.md",
            "--retries",
            "0",
        ])
        .run();
    let stderr = String::from_utf8_lossy(&early.stderr);
    assert_eq!(early.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cannot create a file in /proc"), "{stderr}");
    // A --to in the future (a skewed clock): figures from the data there is, and the
    // missing end level says why instead of printing a zero.
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        "now+1h",
        "--format",
        "json",
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(within(
        f(&e["periods"]["window"]["growth_bytes_per_hour"]),
        50.0 * MB,
        0.03
    ));
    // The data ended hours before now: the window ends with it, so the level at its end
    // is there, and the report says where the data ends.
    assert!(e["periods"]["window"]["heap_end_bytes"].is_number());
    let warnings: Vec<&str> = e["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("the data ends at")),
        "{warnings:?}"
    );
    // The window ends now, not in the future, and says so.
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("is in the future; it ends now")),
        "{warnings:?}"
    );
    let end = chrono::DateTime::parse_from_rfc3339(e["window"]["to"].as_str().unwrap()).unwrap();
    assert!(end.timestamp() <= chrono::Utc::now().timestamp());
}

/// Runs leakcollect with a standard output whose reader is already gone.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    std::process::Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .args(args)
        .env_remove("PROMETHEUS_URL")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run leakcollect")
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_with_0() {
    // Local output (no server) and a whole report from a real server.
    let out = with_closed_stdout(&["queries", "list"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    for format in ["markdown", "json"] {
        let out = with_closed_stdout(&[
            "--prometheus-url",
            &server.url,
            "--service",
            "api",
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            format,
            "-q",
        ]);
        assert_eq!(out.status.code(), Some(0), "{format}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{stderr}"
        );
    }
}

#[test]
fn a_window_past_the_data_ends_where_the_data_ends() {
    // `--to now` on data that ended 4 h earlier: every figure as for the exact window.
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let past = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to + 4.0 * 3600.0)
        .json();
    let exact = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let time = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .timestamp() as f64
    };
    assert!(
        (time(&past["window"]["to"]) - s.to).abs() <= 300.0,
        "{}",
        past["window"]
    );
    assert_eq!(time(&past["window"]["requested_to"]), s.to + 4.0 * 3600.0);
    assert!(
        (f(&past["window"]["hours"]) - 24.0).abs() < 0.1,
        "{}",
        past["window"]
    );
    assert!(
        past["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("the data ends at")),
        "{}",
        past["warnings"]
    );
    let (p, x) = (period(&past, "window"), period(&exact, "window"));
    for figure in [
        "heap_end_bytes",
        "active_handles_end",
        "gc_collections_per_hour",
        "growth_bytes_per_hour",
    ] {
        assert!(
            within(f(&p[figure]), f(&x[figure]), 0.02),
            "{figure}: {} vs {}",
            p[figure],
            x[figure]
        );
    }
    let errors = schema_errors("evidence.schema.json", &past);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn instances_that_disagree_are_called_out() {
    // Pods replaced by fixed ones mid-window, read without --fix-deployed: three leak,
    // three are flat, and their median describes none of them.
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let mixed = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let says = |e: &Value, what: &str| {
        e["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains(what))
    };
    assert!(says(
        &mixed,
        "the instances disagree on the growth in the window period"
    ));
    let fix = format!("{}", s.fix_at.unwrap());
    let split = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["--fix-deployed", &fix])
        .json();
    assert!(!says(
        &split,
        "the instances disagree on the growth in the before period"
    ));
    assert!(!says(
        &split,
        "the instances disagree on the growth in the after period"
    ));
    let report = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["-q"])
        .run();
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        text.contains("(which disagree: see the per-instance table"),
        "{text}"
    );
    assert!(
        text.contains("No after-fix period: no --fix-deployed given."),
        "{text}"
    );
}
