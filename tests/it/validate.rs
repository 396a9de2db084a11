//! `validate` against a real Prometheus: fix worked (0), fix failed (1), fix too recent
//! (3), OOM after the fix (1), server down (4); a draft gains one history row per run; the
//! textfile passes `promtool check metrics`; a real Pushgateway receives the result.

use crate::common::*;
use serde_json::Value;
use std::process::{Command, Stdio};
use synth::Scenario;

fn validate(server: &str, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec![
        "validate",
        "--prometheus-url",
        server,
        "--format",
        "json",
        "-q",
    ];
    all.extend_from_slice(args);
    let out = leakcollect(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    // Every verdict a test sees is also checked against the published schema.
    if !json.is_null() {
        let errors = schema_errors("validation.schema.json", &json);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    (out.status.code(), json, stderr)
}

fn t(v: f64) -> String {
    format!("{v}")
}

#[test]
fn fix_worked_failed_and_too_recent() {
    let fixed = scenario("fix-mid-window", "api");
    let failed = scenario("oom-sawtooth", "worker");
    let server = PromServer::start(&openmetrics(&[&fixed, &failed]));
    let fix = fixed.fix_at.unwrap();

    let api_until = |to: f64| {
        validate(
            &server.url,
            &[
                "--service",
                "api",
                "--fix-deployed",
                &t(fix),
                "--to",
                &t(to),
            ],
        )
    };
    let (code, v, err) = api_until(fixed.to);
    assert_eq!(code, Some(0), "{err}\n{v}");
    assert_eq!(v["verdict"], "resolved");
    assert_eq!(v["schema"], "leakcollect/validation/v1");

    // The same service, asked 3 h past its last sample (it stopped reporting): each
    // instance is fully covered up to its end, but the period is not.
    let (code, late, err) = api_until(fixed.to + 3.0 * HOUR);
    assert_eq!(code, Some(3), "{err}\n{late}");
    assert_eq!(late["verdict"], "inconclusive");
    assert!(
        late["reason"]
            .as_str()
            .unwrap()
            .contains("did the service stop reporting"),
        "{}",
        late["reason"]
    );
    assert!(v["reason"].as_str().unwrap().contains("below 1.00 MB/hour"));
    assert_eq!(v["thresholds"]["max_growth_bytes_per_hour"], 1e6);
    assert!(
        v["evidence"]["periods"]["before"]["growth_bytes_per_hour"]
            .as_f64()
            .unwrap()
            > 70e6
    );
    assert!(v["hours_after_fix"].as_f64().unwrap() > 11.0);
    // The schema is not vacuous, down to the evidence it refers to.
    let mut broken = v.clone();
    broken["verdict"] = "fixed".into();
    assert!(!schema_errors("validation.schema.json", &broken).is_empty());
    let mut broken = v.clone();
    broken["evidence"]["periods"]
        .as_object_mut()
        .unwrap()
        .remove("window");
    assert!(!schema_errors("validation.schema.json", &broken).is_empty());

    // The same service with a fix that did not fix anything: still 120 MB/h and OOMs.
    let mid = failed.from + 12.0 * HOUR;
    let (code, v, err) = validate(
        &server.url,
        &[
            "--service",
            "worker",
            "--fix-deployed",
            &t(mid),
            "--to",
            &t(failed.to),
        ],
    );
    assert_eq!(code, Some(1), "{err}\n{v}");
    assert_eq!(v["verdict"], "leaking");

    // Two hours after the fix: inconclusive, saying when enough data will exist.
    let (code, v, err) = validate(
        &server.url,
        &[
            "--service",
            "api",
            "--fix-deployed",
            &t(fix),
            "--to",
            &t(fix + 2.0 * HOUR),
        ],
    );
    assert_eq!(code, Some(3), "{err}\n{v}");
    assert_eq!(v["verdict"], "inconclusive");
    assert!(
        v["reason"].as_str().unwrap().contains(&format!(
            "only {} of data",
            leakcollect::units::hours(v["hours_after_fix"].as_f64().unwrap())
        )),
        "{}",
        v["reason"]
    );
    let enough: chrono::DateTime<chrono::Utc> =
        v["enough_data_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(enough.timestamp() as f64, fix + 1800.0 + 6.0 * HOUR);

    // A stricter threshold than the after-fix interval allows: inconclusive, not resolved.
    let (code, v, _) = validate(
        &server.url,
        &[
            "--service",
            "api",
            "--fix-deployed",
            &t(fix),
            "--to",
            &t(fixed.to),
            "--max-growth",
            "1KB/h",
        ],
    );
    assert_eq!(code, Some(3), "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("straddles"),
        "{}",
        v["reason"]
    );

    // Server down: 4.
    let (code, _, err) = validate(
        "http://127.0.0.1:9",
        &["--service", "api", "--fix-deployed", &t(fix)],
    );
    assert_eq!(code, Some(4), "{err}");
}

#[test]
fn an_oom_kill_after_the_fix_means_leaking_even_with_flat_growth() {
    // Growth far below the threshold, but the process is OOM-killed every 5 h anyway.
    let s = Scenario {
        leak_bytes_per_hour: 0.1e6,
        oom_every: Some(5.0 * HOUR),
        ..scenario("no-leak", "api")
    };
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix = s.from + 6.0 * HOUR;
    let (code, v, err) = validate(
        &server.url,
        &[
            "--service",
            "api",
            "--fix-deployed",
            &t(fix),
            "--to",
            &t(s.to),
        ],
    );
    assert_eq!(code, Some(1), "{err}\n{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains("OOM kill"), "{reason}");
    let after = &v["evidence"]["periods"]["after"];
    assert_eq!(after["oom_kills"], s.expected_oom_kills(fix + 1800.0, s.to));
}

#[test]
fn draft_textfile_and_pushgateway() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api.md");
    let (from, to, fix) = (t(s.from), t(s.to), t(s.fix_at.unwrap()));
    let out = leakcollect(&[
        "init",
        draft.to_str().unwrap(),
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
        "--fix-deployed",
        &fix,
    ]);
    assert!(out.status.success());
    // People write in the draft before validating.
    let text = std::fs::read_to_string(&draft).unwrap().replace(
        "**TL;DR**: [One sentence summary of the leak, cause, and fix]",
        "**TL;DR**: fixed by closing listeners",
    );
    std::fs::write(&draft, &text).unwrap();

    let pushgateway_port = free_loopback_port();
    let pushgateway = Command::new(binary("prometheus-pushgateway"))
        .arg(format!("--web.listen-address=127.0.0.1:{pushgateway_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus-pushgateway");
    let _pushgateway = Guarded(pushgateway);
    let pushgateway_url = format!("http://127.0.0.1:{pushgateway_port}");
    let textfile = dir.path().join("leakcollect.prom");

    let mut rows = Vec::new();
    for run in 0..2 {
        // Wait for the Pushgateway on the first run.
        if run == 0 {
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", pushgateway_port)).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        let out = leakcollect(&[
            "validate",
            "--draft",
            draft.to_str().unwrap(),
            "--prometheus-url",
            &server.url,
            "-q",
            "--textfile",
            textfile.to_str().unwrap(),
            "--pushgateway",
            &pushgateway_url,
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&draft).unwrap();
        let count = text
            .lines()
            .filter(|l| l.starts_with("| 20") && l.ends_with("| resolved |"))
            .count();
        rows.push(count);
        assert!(text.contains("**TL;DR**: fixed by closing listeners"));
        assert!(text.contains("- Status: Resolved (validate "), "status");
        assert!(
            text.contains("| Validation complete | leakcollect validate: resolved"),
            "timeline row"
        );
        assert!(
            !text.contains("**Next Review**: [Date for follow-up validation]"),
            "next review"
        );
        assert!(
            !text.contains("## Evidence (leakcollect)"),
            "every block found its place"
        );
    }
    assert_eq!(rows, vec![1, 2], "exactly one history row per run");

    // The textfile is valid exposition format.
    let body = std::fs::read_to_string(&textfile).unwrap();
    assert!(
        body.contains(r#"leakcollect_validation_verdict{service="api",verdict="resolved"} 1"#),
        "{body}"
    );
    assert!(body.contains(r#"leakcollect_growth_bytes_per_hour{service="api",period="after"}"#));
    let mut check = Command::new(binary("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let result = check.wait_with_output().unwrap();
    assert!(
        result.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );

    // The Pushgateway has it, grouped by job and service.
    let metrics = Command::new("curl")
        .args(["-sS", &format!("{pushgateway_url}/metrics")])
        .output()
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics.stdout);
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("leakcollect_validation_verdict{") && l.contains(r#"verdict="resolved""#)
        })
        .unwrap_or_else(|| panic!("not pushed:\n{metrics}"));
    assert!(
        line.contains(r#"job="leakcollect""#)
            && line.contains(r#"service="api""#)
            && line.ends_with(" 1"),
        "{line}"
    );
}

#[test]
fn prometheus_warnings_make_a_resolved_verdict_inconclusive() {
    let path = repo_path("tests/fixtures/evidence-fix.json");
    let mut evidence: leakcollect::evidence::Evidence =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let thresholds = leakcollect::evidence::Thresholds {
        max_growth_bytes_per_hour: 1e6,
        min_hours: 6.0,
        warmup_seconds: 0.0,
    };
    let now = chrono::Utc::now();
    let clean = leakcollect::analysis::verdict::judge(evidence.clone(), thresholds.clone(), now);
    assert_eq!(
        clean.verdict,
        leakcollect::evidence::Verdict::Resolved,
        "{}",
        clean.reason
    );
    evidence
        .warnings
        .push("Prometheus warned on query heap_used: partial response".into());
    let warned = leakcollect::analysis::verdict::judge(evidence, thresholds, now);
    assert_eq!(warned.verdict, leakcollect::evidence::Verdict::Inconclusive);
    assert!(warned.reason.contains("warnings"));
}
