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
