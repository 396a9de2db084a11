//! Sentences a new user found wrong ("trust, second pass"), each checked against a real
//! Prometheus loaded with synth's scenarios: the report's words must agree with the
//! JSON and with each other.

use crate::common::*;
use serde_json::Value;

fn markdown(server: &PromServer, from: f64, to: f64, extra: &[&str]) -> String {
    let out = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .args(extra)
        .run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn line<'a>(md: &'a str, start: &str) -> &'a str {
    md.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line {start:?} in:\n{md}"))
}

fn unix(v: &Value) -> f64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp() as f64
}

fn day(t: f64) -> String {
    chrono::DateTime::from_timestamp(t as i64, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

/// `--from` a day before the data: the window starts where the data does, so the Date,
/// the duration and every rate (OOM kills per week) are taken over the data, and the
/// report says where the data starts, as it says where it ends.
#[test]
fn a_window_that_starts_before_the_data_starts_where_the_data_does() {
    let s = scenario("oom-sawtooth", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let exact = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let early = s.from - 24.0 * 3600.0;
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(early, s.to)
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");
    let from = unix(&e["window"]["from"]);
    assert!(
        (from - s.from).abs() <= 120.0,
        "window starts at the data: {from} vs {}",
        s.from
    );
    assert_eq!(unix(&e["window"]["requested_from"]), early);
    let hours = e["periods"]["window"]["hours"].as_f64().unwrap();
    assert!((hours - 24.0).abs() < 0.1, "{hours}");
    let per_week = |e: &Value| {
        e["periods"]["window"]["oom_kills_per_week"]
            .as_f64()
            .unwrap()
    };
    assert!(
        within(per_week(&e), per_week(&exact), 0.02),
        "{} vs {}",
        per_week(&e),
        per_week(&exact)
    );
    let md = markdown(&server, early, s.to, &[]);
    assert_eq!(line(&md, "**Date**:"), format!("**Date**: {}", day(s.from)));
    let duration = line(&md, "- Duration:");
    assert!(duration.contains("the data starts at"), "{duration}");
    let since = duration.split("; the data starts").next().unwrap();
    assert!(
        !since.contains(&day(early)),
        "no day without data: {duration}"
    );
}

/// A Go summary's quantile 1 is its longest observation: the max pause is that, not null.
#[test]
fn a_go_summary_quantile_one_is_the_longest_pause() {
    let s = runtime_scenario("steady-leak", "api", "go");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let p = &e["periods"]["window"];
    let max = p["gc_pause_max_seconds"].as_f64().expect("a max pause");
    assert_eq!(Some(max), p["gc_pause_quantiles"]["1"].as_f64(), "{p:#}");
}

/// The appendix is PromQL a person can paste: ranges as `[3m]`, not `[180000ms]`, and the
/// runtime detection's selectors one per line, each runnable on its own.
#[test]
fn the_query_appendix_reads_like_promql() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let detect = query_record(&e, "runtime_detection");
    let selectors: Vec<&str> = detect["promql"].as_str().unwrap().lines().collect();
    assert!(selectors.len() > 1, "{detect:#}");
    for selector in &selectors {
        assert!(
            selector.trim_start().starts_with('{') && selector.matches("}").count() == 1,
            "one selector per line: {selector}"
        );
    }
    let md = markdown(&server, s.from, s.to, &[]);
    assert!(md.contains(detect["promql"].as_str().unwrap()));
    let appendix = &md[md.find("### Prometheus Queries").unwrap()..];
    assert!(
        !appendix.contains("ms]") && !appendix.contains("ms offset"),
        "{appendix}"
    );
}

/// The hours to the limit say from when, from what share of the limit, and at which rate.
#[test]
fn hours_to_the_limit_say_from_when_and_at_which_rate() {
    let s = scenario("oom-sawtooth", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let w = &e["periods"]["window"];
    let md = markdown(&server, s.from, s.to, &[]);
    let oom = line(&md, "- OOM incidents:");
    if w["hours_to_limit"].is_null() {
        assert!(!oom.contains("to the limit"), "{oom}");
        return;
    }
    let rate = leakcollect::units::mb_per_hour(w["growth_bytes_per_hour"].as_f64().unwrap());
    let end = chrono::DateTime::parse_from_rfc3339(w["to"].as_str().unwrap())
        .unwrap()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    assert!(
        oom.contains(&format!("left to the limit from {end} (the window's end"))
            && oom.contains(&format!(
                "if it kept growing at {rate}, the median growth per instance over the window"
            )),
        "{oom}"
    );
}

/// A short window says its durations in minutes, never "0.0 h".
#[test]
fn a_short_window_says_minutes_not_zero_hours() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (from, to) = (s.to - 20.0 * 60.0, s.to);
    let md = markdown(&server, from, to, &[]);
    assert!(!md.contains("0.0 h"), "{md}");
    assert!(
        line(&md, "- Duration:").contains("min"),
        "{}",
        line(&md, "- Duration:")
    );
}

/// Collect's Status and validate's verdict come from one rule: the same data gives the
/// same word and the same reason.
#[test]
fn collect_and_validate_say_the_same_status() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix = format!("{}", s.fix_at.unwrap());
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["--fix-deployed", &fix])
        .json();
    let out = lc()
        .args([
            "validate",
            "--format",
            "json",
            "-q",
            "--prometheus-url",
            &server.url,
        ])
        .args([
            "--service",
            "api",
            "--from",
            &format!("{}", s.from),
            "--to",
            &format!("{}", s.to),
        ])
        .args(["--fix-deployed", &fix])
        .run();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["status"]["state"], "resolved", "{:#}", e["status"]);
    assert_eq!(v["verdict"], "resolved");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(e["status"]["reason"], v["reason"]);
    assert_eq!(v["evidence"]["status"]["state"], e["status"]["state"]);
    assert_eq!(v["evidence"]["status"]["source"], "validate");
    let md = markdown(&server, s.from, s.to, &["--fix-deployed", &fix]);
    assert!(
        line(&md, "- Status:").starts_with("- Status: Resolved ("),
        "{md}"
    );
    // synth's latency histogram puts the leak period's p95 in one bucket at both ends:
    // no rise is read from that, and the reason says the buckets are too coarse.
    let degradation = md
        .lines()
        .find(|l| l.contains("Service degradation"))
        .expect("a Service degradation box");
    assert!(degradation.contains("too coarse to tell"), "{degradation}");
    assert!(!degradation.contains("in its last"), "{degradation}");
    // Plain words, not "counts from …" or "only above …".
    assert!(
        !md.contains("counts from") && !md.contains("only above"),
        "{md}"
    );
}

/// `attach` without heap files still used Prometheus: Tools Used says so. And a person's
/// edit inside a block `validate --draft` rewrites does not cost a scheduled validation
/// its verdict: the block is left as they wrote it, with a warning, and the exit code
/// stays the verdict's.
#[test]
fn a_draft_ticks_prometheus_and_validate_keeps_its_verdict_over_a_hand_edit() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api.md");
    let path = draft.to_str().unwrap();
    let (from, to, fix) = (
        format!("{}", s.from),
        format!("{}", s.to),
        format!("{}", s.fix_at.unwrap()),
    );
    lc().args([
        "init",
        path,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
    ])
    .args(["--fix-deployed", &fix])
    .expect_code(0);
    lc().args(["attach", path, "-q", "--prometheus-url", &server.url])
        .expect_code(0);
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(text.contains("- [x] Prometheus metrics"), "{text}");
    assert!(text.contains("- [ ] Chrome DevTools heap snapshots"));
    // A person adds a word inside the Symptoms block.
    let edited = text.replacen(
        "- [x] Linear memory growth:",
        "- [x] Linear memory growth (confirmed by Ana):",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&draft, &edited).unwrap();
    let out = lc()
        .args(["validate", "--draft", path, "--prometheus-url", &server.url])
        .run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the verdict, not a write error: {stderr}"
    );
    assert!(
        stderr.contains("the symptoms block was edited by hand"),
        "{stderr}"
    );
    let after = std::fs::read_to_string(&draft).unwrap();
    assert!(after.contains("(confirmed by Ana)"), "the edit stays");
    assert!(after.contains("| resolved |"), "the run is recorded");
    // The runs table says what its hours are: data after the fix and its warm-up.
    assert!(after.contains("| Checked (UTC) | Data after the fix and warm-up |"));
    assert!(!after.contains("Hours after fix"));
}

/// fix-mid-window collected without `--fix-deployed`: growth stopped at the rollout in
/// the window, and nothing calls the leak growing — no Status of its own, no "still
/// growing", no time to the limit from the window's growth. With `--fix-deployed auto`,
/// collect and validate agree that it is resolved, at that same rollout.
#[test]
fn a_rollout_that_stopped_growth_is_not_called_growing() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix = s.fix_at.unwrap();
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");
    let stopped = &e["growth_stopped"];
    // A restart wave: the first new process started at the fix.
    assert!((unix(&stopped["at"]) - fix).abs() <= 60.0, "{stopped}");
    assert_eq!(e["status"], Value::Null);
    assert_eq!(e["onset"]["still_growing"], false, "{}", e["onset"]);
    assert_eq!(unix(&e["onset"]["until"]), unix(&stopped["at"]));
    assert!(
        unix(&e["onset"]["at"]) < unix(&stopped["at"]),
        "{}",
        e["onset"]
    );
    assert_eq!(e["periods"]["window"]["hours_to_limit"], Value::Null);
    let md = markdown(&server, s.from, s.to, &[]);
    assert!(!md.contains("growing at"), "{md}");
    // The OOM box's frequency is the leaking part's, as its count is.
    let per_week = leakcollect::units::per_week(stopped["oom_kills_per_week"].as_f64().unwrap());
    let oom = line(&md, "- [x] OOM crashes");
    assert!(
        oom.contains(&format!("(frequency: {per_week} across the service)")),
        "{oom} vs {per_week}"
    );
    assert!(
        line(&md, "- Memory growth:")
            .starts_with("- Memory growth: growth stopped at the rollout at "),
        "{md}"
    );

    let auto = ["--fix-deployed", "auto"];
    let with_fix = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(auto)
        .json();
    assert_eq!(with_fix["fix_deployed"], stopped["at"]);
    assert_eq!(with_fix["growth_stopped"], Value::Null);
    let out = lc()
        .args(["validate", "--format", "json", "-q"])
        .args(["--prometheus-url", &server.url, "--service", "api"])
        .args([
            "--from",
            &format!("{}", s.from),
            "--to",
            &format!("{}", s.to),
        ])
        .args(auto)
        .run();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        with_fix["status"]["state"], "resolved",
        "{}",
        with_fix["status"]
    );
    assert_eq!(v["verdict"], "resolved");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(with_fix["status"]["reason"], v["reason"]);
}
