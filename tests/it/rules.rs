//! `leakcollect rules`: the rule file passes `promtool check rules`, and `promtool test
//! rules` shows each alert firing on series that must fire it and staying silent on ones
//! that must not (a flat GC sawtooth, a freshly restarted process). With a window, the
//! thresholds come from the measured leak.

use crate::common::*;
use std::process::Command;

fn rules(args: &[&str]) -> String {
    let mut all = vec!["rules"];
    all.extend_from_slice(args);
    let out = leakcollect(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `count` values, one a minute, from `f(minute)`.
fn series(count: usize, f: impl Fn(usize) -> f64) -> String {
    (0..count)
        .map(|m| format!("{}", f(m)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn promtool_test(rule_file: &str, tests: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), rule_file).unwrap();
    std::fs::write(
        dir.path().join("test.yml"),
        format!("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n{tests}"),
    )
    .unwrap();
    let check = Command::new(binary("promtool"))
        .args(["check", "rules", "rules.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let test = Command::new(binary("promtool"))
        .args(["test", "rules", "test.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "promtool test rules failed:\n{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}

#[test]
fn nodejs_rules_fire_when_they_must_and_only_then() {
    let file = rules(&[
        "--service",
        "api",
        "--runtime",
        "nodejs",
        "--growth-threshold",
        "10MB/h",
        "--for",
        "2h",
    ]);
    let minutes = 5 * 60;
    let mb = 1e6;
    // Leaking at 60 MB/h under a 20 MB GC sawtooth (7-minute period); flat with the same
    // sawtooth; and one that leaks too but restarted 30 minutes before the evaluation.
    let leak = series(minutes, |m| {
        200.0 * mb + 1.0 * mb * m as f64 + 20.0 * mb * ((m % 7) as f64 / 7.0)
    });
    let flat = series(minutes, |m| 200.0 * mb + 20.0 * mb * ((m % 7) as f64 / 7.0));
    let restarted = series(minutes, |m| {
        if m < 270 {
            200.0 * mb + mb * m as f64
        } else {
            150.0 * mb + mb * (m - 270) as f64
        }
    });
    let restarted_start = series(minutes, |m| if m < 270 { -3600.0 } else { 270.0 * 60.0 });
    let start = series(minutes, |_| -3600.0);
    let tests = format!(
        r#"  - interval: 1m
    input_series:
      - series: 'nodejs_heap_size_used_bytes{{job="api",instance="leak:1"}}'
        values: '{leak}'
      - series: 'process_start_time_seconds{{job="api",instance="leak:1"}}'
        values: '{start}'
      - series: 'nodejs_heap_size_used_bytes{{job="api",instance="flat:1"}}'
        values: '{flat}'
      - series: 'process_start_time_seconds{{job="api",instance="flat:1"}}'
        values: '{start}'
      - series: 'nodejs_heap_size_used_bytes{{job="api",instance="restarted:1"}}'
        values: '{restarted}'
      - series: 'process_start_time_seconds{{job="api",instance="restarted:1"}}'
        values: '{restarted_start}'
      - series: 'nodejs_heap_size_used_bytes{{job="other",instance="x:1"}}'
        values: '{leak}'
    alert_rule_test:
      - eval_time: 4h50m
        alertname: ApiMemoryGrowth
        exp_alerts:
          - exp_labels: {{job: api, instance: "leak:1", service: api, severity: warning}}
            exp_annotations:
              summary: "api: memory grows over 10.0 MB/hour"
              description: "The V8 heap used floor of leak:1 has grown 59.74MB/hour for 2h. Threshold: given on the command line."
      - eval_time: 1h30m
        alertname: ApiMemoryGrowth
        exp_alerts: []
      - eval_time: 4h50m
        alertname: ApiRestartingRepeatedly
        exp_alerts: []
"#
    );
    promtool_test(&file, &tests);
}

#[test]
fn oom_limit_and_gc_rules() {
    let file = rules(&[
        "--service",
        "api",
        "--runtime",
        "nodejs",
        "--gc-p95",
        "100ms",
    ]);
    let k = r#"namespace="prod",pod="api-0",container="api""#;
    let tests = format!(
        r#"  - interval: 1m
    input_series:
      - series: 'kube_pod_container_status_restarts_total{{{k}}}'
        values: '0x30 1x30'
      - series: 'kube_pod_container_status_last_terminated_reason{{{k},reason="OOMKilled"}}'
        values: '_x30 1x30'
      - series: 'process_resident_memory_bytes{{job="api",namespace="prod",pod="api-0"}}'
        values: '950000000x60'
      - series: 'kube_pod_container_resource_limits{{{k},resource="memory",unit="byte"}}'
        values: '1000000000x60'
      - series: 'nodejs_gc_duration_seconds_bucket{{job="api",kind="major",le="0.1"}}'
        values: '0+0x60'
      - series: 'nodejs_gc_duration_seconds_bucket{{job="api",kind="major",le="1"}}'
        values: '0+10x60'
      - series: 'nodejs_gc_duration_seconds_bucket{{job="api",kind="major",le="+Inf"}}'
        values: '0+10x60'
    alert_rule_test:
      - eval_time: 35m
        alertname: ApiOOMKilled
        exp_alerts:
          - exp_labels: {{namespace: prod, pod: api-0, container: api, service: api, severity: critical}}
            exp_annotations:
              summary: "api: a container was OOM-killed"
              description: "api-0 restarted after an OOM kill."
      - eval_time: 20m
        alertname: ApiOOMKilled
        exp_alerts: []
      - eval_time: 30m
        alertname: ApiMemoryNearLimit
        exp_alerts:
          - exp_labels: {{namespace: prod, pod: api-0, service: api, severity: warning}}
            exp_annotations:
              summary: "api: memory above 90% of the container limit"
              description: "api-0 uses 95% of its memory limit."
      - eval_time: 45m
        alertname: ApiGCPauses
        exp_alerts:
          - exp_labels: {{service: api, severity: warning}}
            exp_annotations:
              summary: "api: GC pause p95 above 0.1 s"
              description: "GC pause p95 is 955ms."
"#
    );
    promtool_test(&file, &tests);
}

#[test]
fn thresholds_come_from_the_measured_leak() {
    let s = scenario("oom-sawtooth", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let file = rules(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
    ]);
    assert!(file.contains("half the measured leak of 1"), "{file}");
    let threshold: f64 = file
        .lines()
        .find(|l| l.contains("deriv(min_over_time"))
        .and_then(|l| l.split("* 3600 > ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("a growth threshold");
    assert!(within(threshold, 60e6, 0.03), "{threshold}");
    // Without a window or a runtime there is nothing to go on.
    let out = leakcollect(&["rules", "--service", "api"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A range query's series for `promql` over the scenario's window at 5 min.
fn evaluate(server: &str, promql: &str, from: f64, to: f64) -> Vec<serde_json::Value> {
    let out = Command::new(binary("curl"))
        .args(["-sS", "--fail-with-body"])
        .args(["--data-urlencode", &format!("query={promql}")])
        .args(["--data", &format!("start={from}&end={to}&step=300")])
        .arg(format!("{server}/api/v1/query_range"))
        .output()
        .expect("run curl");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{promql}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(body["status"], "success", "{promql}: {body}");
    body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The `expr` of the rule `alert` in a rule file.
fn rule_expr(file: &str, alert: &str) -> Option<String> {
    let mut lines = file.lines();
    lines.find(|l| l.trim() == format!("- alert: {alert}"))?;
    let expr = lines.next()?.trim().strip_prefix("expr: ")?;
    Some(serde_json::from_str(expr).unwrap())
}

/// The memory-near-limit and pool-saturation thresholds come from the measured leak
/// (`analysis::thresholds::limit_percent`, `pool_percent`), pass `promtool check rules`,
/// and on a real Prometheus fire on the leaking service and never on the healthy one.
#[test]
fn limit_and_pool_thresholds_fire_on_the_leak_only() {
    use crate::symptoms::{pool, with_extra};
    let leaky = scenario("oom-sawtooth", "api");
    let healthy = scenario("no-leak", "calm");
    let (from, to) = (leaky.from, leaky.to);
    let span = to - from;
    let pools = [
        // api: its pool fills up with the leak, exhausted for the last tenth.
        pool(
            "api",
            (from, to),
            ("db_client_connections_usage", "db_client_connections_max"),
            (",pool_name=\"pg\",state=\"used\"", ",pool_name=\"pg\""),
            |t| (2.0 + 18.0 * (t - from) / (0.9 * span)).floor().min(20.0),
            20.0,
        ),
        // calm: at most half its pool.
        pool(
            "calm",
            (from, to),
            ("db_client_connections_usage", "db_client_connections_max"),
            (",pool_name=\"pg\",state=\"used\"", ",pool_name=\"pg\""),
            |t| 3.0 + 2.0 * ((t - from) / 3600.0).sin().abs(),
            10.0,
        ),
    ];
    let server = PromServer::start(&with_extra(openmetrics(&[&leaky, &healthy]), &pools));
    let (f, t) = (format!("{from}"), format!("{to}"));
    for (service, fires) in [("api", true), ("calm", false)] {
        let window = ["--service", service, "--from", &f, "--to", &t];
        let evidence = lc().server(&server.url).args(window).json();
        let errors = schema_errors("evidence.schema.json", &evidence);
        assert!(errors.is_empty(), "{errors:?}");
        let th = &evidence["alert_thresholds"];
        let file = rules(&[&["--prometheus-url", &server.url][..], &window[..]].concat());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.yml"), &file).unwrap();
        let check = Command::new(binary("promtool"))
            .args(["check", "rules", "rules.yml"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
        let prefix = th["alert_prefix"].as_str().unwrap();
        let limit = rule_expr(&file, &format!("{prefix}MemoryNearLimit")).expect("a limit rule");
        let percent = th["limit_percent"].as_f64().unwrap();
        assert!(limit.contains(&format!("* 100 > {percent})")), "{limit}");
        let pool_rule = rule_expr(&file, &format!("{prefix}ConnectionPoolSaturation"))
            .expect("a pool rule from the measured pool");
        let pool_percent = th["pool_used_percent"].as_f64().unwrap();
        assert!(
            pool_rule.ends_with(&format!("> {pool_percent}")),
            "{pool_rule}"
        );
        let fired = |expr: &str| !evaluate(&server.url, expr, from, to).is_empty();
        assert_eq!(fired(&limit), fires, "{service}: {limit} ({th})");
        assert_eq!(fired(&pool_rule), fires, "{service}: {pool_rule} ({th})");
        if fires {
            // Exhausted: the alert sits below the maximum; the leak's 2 h lead on its limit.
            assert_eq!(pool_percent, 80.0, "{th}");
            let leak = &evidence["periods"]["window"];
            let lead = 2.0 * leak["growth_bytes_per_hour"].as_f64().unwrap()
                / leak["memory_limit_bytes"].as_f64().unwrap()
                * 100.0;
            assert_eq!(percent, ((100.0 - lead) / 5.0).floor() * 5.0, "{th}");
        } else {
            let peak = evidence["periods"]["window"]["connections_used_ratio"]
                .as_f64()
                .unwrap()
                * 100.0;
            assert!(within(peak, 50.0, 0.01), "{peak}");
            let halfway = ((peak + (100.0 - peak) / 2.0) / 5.0).floor() * 5.0;
            assert_eq!(
                pool_percent, halfway,
                "halfway from the peak to exhaustion: {th}"
            );
        }
    }
}
