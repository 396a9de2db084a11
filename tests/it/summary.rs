//! The rest of the report (issue "the rest of the report"): the TL;DR, the suggested
//! severity, Affected users, Reproduction Time, the root cause, the draft's own timeline
//! rows, Similar Incidents and Report Completed — each from a field of the evidence, on
//! a real Prometheus loaded with synth's scenarios of known ground truth; the sentences
//! read back against the JSON.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn line<'a>(md: &'a str, start: &str) -> &'a str {
    md.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line {start:?} in:\n{md}"))
}

fn mbh(bytes_per_hour: f64) -> String {
    let mb = bytes_per_hour / 1e6;
    if format!("{mb:.2}").trim_start_matches('-').len() < 5 {
        format!("{mb:.2} MB/hour")
    } else {
        format!("{mb:.1} MB/hour")
    }
}

fn report(server: &PromServer, s: &synth::Scenario, extra: &[&str]) -> (Value, String) {
    let json = lc()
        .server(&server.url)
        .service(&s.service)
        .window(s.from, s.to)
        .args(extra)
        .json();
    let out = lc()
        .server(&server.url)
        .service(&s.service)
        .window(s.from, s.to)
        .args(extra)
        .run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (json, String::from_utf8(out.stdout).unwrap())
}

/// The TL;DR's numbers are the JSON's: growth, span, OOM kills, failed requests, the fix
/// and the growth after it, and the status word.
#[test]
fn the_tldr_reads_back_the_json() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix = format!("{}", s.fix_at.unwrap());
    let (e, md) = report(&server, &s, &["--fix-deployed", &fix]);
    let t = &e["tldr"];
    let tldr = line(&md, "**TL;DR**:");
    let before = &e["periods"]["before"];
    assert_eq!(t["growth_bytes_per_hour"], before["growth_bytes_per_hour"]);
    let growth = t["growth_bytes_per_hour"].as_f64().unwrap();
    assert!(within(growth, s.leak_bytes_per_hour, 0.03), "{growth}");
    assert!(
        tldr.contains(&format!(
            "leaked {} per instance in the 12.0 h before the fix",
            mbh(growth)
        )),
        "{tldr}"
    );
    let kills = before["oom_kills"].as_u64().unwrap();
    assert!(kills > 0);
    assert!(
        tldr.contains(&format!("with {kills} OOM kill(s)")),
        "{tldr}"
    );
    let failed = before["affected"]["failed"].as_f64().unwrap();
    assert!(
        tldr.contains(&format!("{failed:.0} failed requests")),
        "{tldr} vs {failed}"
    );
    let after = e["periods"]["after"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    assert!(
        tldr.contains(&format!(
            "brought growth to {} per instance (Resolved)",
            mbh(after)
        )),
        "{tldr}"
    );
    assert_eq!(e["status"]["state"], "resolved");
    // The lessons suggested say the same figures.
    let went_well = e["lessons"]["went_well"][0].as_str().unwrap();
    assert_eq!(
        went_well,
        format!(
            "The fix stopped the growth: {} per instance before it, {} after it (Status: Resolved)",
            mbh(growth),
            mbh(after)
        )
    );
    let improve: Vec<&str> = e["lessons"]["could_improve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        improve.contains(&format!("{kills} OOM kill(s) before the fix (12.0 h): a memory-near-limit alert warns before the kill").as_str()),
        "{improve:?}"
    );
    assert!(md.contains(&format!(
        "- {went_well} (suggested from the evidence)\n- [Positive aspect 2]"
    )));
    // No heap evidence in a report: no cause claimed.
    assert!(
        t["cause"].is_null() && !tldr.contains("heap evidence"),
        "{tldr}"
    );
    assert!(
        schema_errors("evidence.schema.json", &e).is_empty(),
        "{:?}",
        schema_errors("evidence.schema.json", &e)
    );
}

/// Severity by the documented rule: OOM kills → High; growth alone → Low; nothing
/// leaking → no severity, the template's placeholder kept, and no TL;DR.
#[test]
fn severity_follows_the_documented_rule() {
    let oom = scenario("oom-sawtooth", "oom");
    let steady = scenario("steady-leak", "steady");
    let healthy = scenario("no-leak", "healthy");
    let server = PromServer::start(&openmetrics(&[&oom, &steady, &healthy]));

    let (e, md) = report(&server, &oom, &[]);
    assert_eq!(e["severity"]["level"], "High", "{}", e["severity"]);
    let kills = e["periods"]["window"]["oom_kills"].as_u64().unwrap();
    assert!(
        line(&md, "**Severity**:").starts_with(&format!(
            "**Severity**: High (suggested by leakcollect from the evidence: {kills} OOM kill(s) over the window (24.0 h)"
        )),
        "{}",
        line(&md, "**Severity**:")
    );

    let (e, md) = report(&server, &steady, &[]);
    assert!(e["periods"]["window"]["oom_kills"].as_u64().unwrap_or(0) == 0);
    let level = e["severity"]["level"].as_str().unwrap();
    // Growth alone is Low unless the limit is within a day (Medium), as the rule says.
    let hours_to_limit = e["periods"]["window"]["hours_to_limit"].as_f64();
    let expected = if hours_to_limit.is_some_and(|h| h <= 24.0) {
        "Medium"
    } else {
        "Low"
    };
    assert_eq!(level, expected, "{}", e["severity"]);
    assert!(line(&md, "**Severity**:").contains(&format!("**Severity**: {expected} (suggested")));

    let (e, md) = report(&server, &healthy, &[]);
    assert!(
        e["severity"].is_null() && e["tldr"].is_null(),
        "{}",
        e["severity"]
    );
    assert_eq!(
        line(&md, "**Severity**:"),
        "**Severity**: [Critical/High/Medium/Low]"
    );
    assert!(line(&md, "**TL;DR**:").contains("[One sentence summary"));
}

/// Affected users: the requests served are synth's (10/s per instance while up), the
/// failed ones the sum of their two parts, and the line says so with its span.
#[test]
fn affected_users_count_requests_and_say_how() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let fix = format!("{}", s.fix_at.unwrap());
    let (e, md) = report(&server, &s, &["--fix-deployed", &fix]);
    let a = &e["periods"]["before"]["affected"];
    let served = a["requests"].as_f64().unwrap();
    let hours = e["periods"]["before"]["hours"].as_f64().unwrap();
    let truth = s.instances as f64 * hours * HOUR * s.requests_per_second;
    // Requests lost while OOM-killed pods restart are not served: a little under the truth.
    assert!(
        served <= truth && served > 0.97 * truth,
        "{served} vs {truth}"
    );
    let parts = a["server_errors"].as_f64().unwrap() + a["lost_at_oom_kills"].as_f64().unwrap();
    assert_eq!(a["failed"].as_f64().unwrap(), parts);
    // In flight at each kill: about the rate per instance × the p95 latency, per kill.
    let p95 = e["periods"]["before"]["latency_p95_seconds"]
        .as_f64()
        .unwrap();
    let kills = a["oom_kills"].as_f64().unwrap();
    let expected = kills * s.requests_per_second * p95;
    assert!(
        within(a["lost_at_oom_kills"].as_f64().unwrap(), expected, 0.25),
        "{a} vs {expected}"
    );
    let l = line(&md, "- Affected users:");
    assert!(
        l.starts_with(&format!(
            "- Affected users: {:.0} failed requests",
            a["failed"].as_f64().unwrap()
        )),
        "{l}"
    );
    assert!(
        l.contains(&format!(
            "the {served} the service served in the 12.0 h before the fix"
        )),
        "{l}"
    );
    assert!(
        l.contains("Little's law") && l.contains("Requests, not users"),
        "{l}"
    );
}

/// Reproduction Time: the sawtooth height is synth's (30 MB saw, its p95 28.5 MB), the
/// time that height over the growth, and the two request estimates agree.
#[test]
fn reproduction_time_is_the_sawtooth_over_the_growth() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (e, md) = report(&server, &s, &[]);
    let r = &e["periods"]["window"]["reproduction"];
    let noise = r["noise_bytes"].as_f64().unwrap();
    assert!(within(noise, 0.95 * s.sawtooth_bytes, 0.1), "{noise}");
    let growth = r["growth_bytes_per_hour"].as_f64().unwrap();
    let hours = r["hours"].as_f64().unwrap();
    assert!((hours - noise / growth).abs() < 1e-9);
    let at_rate = r["requests_at_production_rate"].as_f64().unwrap();
    let from_retention = r["requests_from_retention"].as_f64().unwrap();
    assert!(
        within(at_rate, from_retention, 0.1),
        "{at_rate} vs {from_retention}"
    );
    let l = line(&md, "**Reproduction Time**:");
    assert!(l.contains(&format!("about {at_rate} requests")), "{l}");
    assert!(
        l.contains("Assumes the reproduction's traffic mix is production's"),
        "{l}"
    );
}

fn node_snapshots(dir: &Path) -> Vec<PathBuf> {
    let node = std::env::var("NODE_BIN").unwrap_or_else(|_| "/usr/bin/node".into());
    let out = Command::new(&node)
        .arg(repo_path("tests/heap/node/leaky.js"))
        .arg("200,300,300")
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("Node.js at {node} (set NODE_BIN; Debian's nodejs): {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = serde_json::from_str(printed.lines().last().unwrap()).unwrap();
    names.iter().map(|n| dir.join(n)).collect()
}

fn run_ok(args: &[&str]) {
    let out = leakcollect(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A draft made after the fix: the root cause from `attach --heap`, kept by `validate
/// --draft` without the heap files (recorded); no "Investigation started" or "Root
/// cause identified" row (the draft's own times are not the investigation's); Report
/// Completed the day validate says resolved; an earlier report of the same service in
/// the folder under Similar Incidents, with its window's start.
#[test]
fn a_draft_after_the_fix_states_its_cause_and_neighbours() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let heap_dir = tempfile::tempdir().unwrap();
    let snapshots = node_snapshots(heap_dir.path());
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let earlier = dir.path().join("2026-10-api-leak.md");
    let draft = dir.path().join("api-leak.md");
    let d = draft.to_str().unwrap();
    for path in [&earlier, &draft] {
        run_ok(&[
            "init",
            path.to_str().unwrap(),
            "--service",
            "api",
            "--from",
            &from,
            "--to",
            &to,
            "--fix-deployed",
            "auto",
        ]);
    }
    let mut args = vec!["attach", d, "--prometheus-url", &server.url, "-q", "--heap"];
    let names: Vec<&str> = snapshots.iter().map(|p| p.to_str().unwrap()).collect();
    args.extend(&names);
    run_ok(&args);
    // The heap files are gone before validate: the cause comes from the draft's record.
    drop(heap_dir);
    let out = leakcollect(&[
        "validate",
        "--draft",
        d,
        "--prometheus-url",
        &server.url,
        "-q",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&draft).unwrap();
    for words in [
        "an unbounded Map/Set cache (CachedSession)",
        "EventEmitter listeners never removed",
    ] {
        assert!(
            line(&text, "- Root cause:").contains(words),
            "{}",
            line(&text, "- Root cause:")
        );
        assert!(
            line(&text, "**TL;DR**:").contains(words),
            "{}",
            line(&text, "**TL;DR**:")
        );
    }
    assert!(line(&text, "**TL;DR**:").contains("(Resolved)"));
    for row in [
        "| [HH:MM] | Investigation started |",
        "| [HH:MM] | Root cause identified |",
    ] {
        assert!(
            text.contains(row),
            "{row} kept for people: the draft came after the fix"
        );
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        line(&text, "**Report Completed**:").starts_with(&format!("**Report Completed**: {today}")),
        "{}",
        line(&text, "**Report Completed**:")
    );
    let similar = line(&text, "- **Similar Incidents**:");
    let start = chrono::DateTime::from_timestamp(s.from as i64, 0).unwrap();
    assert!(
        similar.contains(&format!(
            "[2026-10-api-leak.md](<2026-10-api-leak.md>) (api, window from {}; same service)",
            start.format("%Y-%m-%d %H:%M UTC")
        )),
        "{similar}"
    );
}

/// A draft of a leak still going (no fix): "Investigation started" and "Root cause
/// identified" are the draft's own times — unless a person wrote the row: theirs stays,
/// and no generated one is added to the table.
#[test]
fn a_draft_before_any_fix_times_the_investigation_and_keeps_a_persons_row() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let heap_dir = tempfile::tempdir().unwrap();
    let snapshots = node_snapshots(heap_dir.path());
    let draft = dir.path().join("api-leak.md");
    let d = draft.to_str().unwrap();
    let started = chrono::Utc::now();
    run_ok(&[
        "init",
        d,
        "--service",
        "api",
        "--from",
        &format!("{}", s.from),
        "--to",
        &format!("{}", s.to),
    ]);
    let own = "| 11:20 | Investigation started | On-call paged, heap dashboards opened |";
    let text = std::fs::read_to_string(&draft).unwrap().replace(
        "| [HH:MM] | Investigation started | [Initial actions taken] |",
        own,
    );
    std::fs::write(&draft, text).unwrap();
    let mut args = vec!["attach", d, "--prometheus-url", &server.url, "-q", "--heap"];
    let names: Vec<&str> = snapshots.iter().map(|p| p.to_str().unwrap()).collect();
    args.extend(&names);
    run_ok(&args);
    run_ok(&["attach", d, "--prometheus-url", &server.url, "-q"]);
    let text = std::fs::read_to_string(&draft).unwrap();
    let finished = chrono::Utc::now();
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("| Investigation started |"))
        .collect();
    assert_eq!(rows, vec![own], "the person's row, alone");
    let minutes: Vec<String> = (-1..=((finished - started).num_minutes() + 1))
        .map(|m| {
            (started + chrono::Duration::minutes(m))
                .format("| %m-%d %H:%M |")
                .to_string()
        })
        .collect();
    let identified = line(&text, "| ")
        .lines()
        .chain(text.lines())
        .find(|l| l.contains("| Root cause identified |"))
        .unwrap();
    assert!(
        minutes.iter().any(|m| identified.starts_with(m.as_str()))
            && identified.contains("an unbounded Map/Set cache (CachedSession)")
            && identified.contains("(leakcollect attach --heap: the draft's own time)"),
        "{identified}"
    );
    // A refresh is not a new finding: the time stays.
    let before = identified.to_string();
    run_ok(&["attach", d, "--prometheus-url", &server.url, "-q"]);
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(text.contains(&before));
}

/// A period that does not leak has no reproduction time, and a period without OOM kills
/// no in-flight estimate (none is zero requests).
#[test]
fn no_reproduction_without_a_leak_and_no_in_flight_without_kills() {
    let s = scenario("fix-mid-window", "api");
    let healthy = scenario("no-leak", "healthy");
    let server = PromServer::start(&openmetrics(&[&s, &healthy]));
    let (e, _) = report(&server, &healthy, &[]);
    assert!(
        e["periods"]["window"]["reproduction"].is_null(),
        "{}",
        e["periods"]["window"]["reproduction"]
    );
    let fix = format!("{}", s.fix_at.unwrap());
    let (e, _) = report(&server, &s, &["--fix-deployed", &fix]);
    let after = &e["periods"]["after"];
    assert_eq!(after["oom_kills"], 0);
    assert!(
        after["affected"]["lost_at_oom_kills"].is_null(),
        "{}",
        after["affected"]
    );
    assert!(after["reproduction"].is_null());
}
