//! Deployments from a real Prometheus loaded with kube-state-metrics series of known
//! rollouts (`synth::rollout`): `--fix-deployed auto` finds rolling, recreate and canary
//! rollouts to the second of their first new pod's creation, with their strategy,
//! images and namespace; a mass OOM restart is never a deployment; a build-info version
//! change and a restart wave without kube-state-metrics; a deploy before the window (and
//! the leak's onset it marks); two deploys, the one after which growth fell picked;
//! none: exit 3 naming what was looked for. Also `attach` and `validate` with `auto`.

use crate::common::*;
use serde_json::Value;
use synth::rollout::{self, Extras, InPlaceRestart, Rollout};

const INTERVAL: f64 = 60.0;
const LEAK: f64 = 60.0 * MB;
const V1: &str = "registry.example/api:1.4.2";
const V2: &str = "registry.example/api:1.5.0";

/// Three pods of `api` (image 1.4.2) in namespace shop-prod, leaking `leak`, from 12 h
/// before the window to its end.
fn base(leak: f64) -> (Rollout, f64, f64) {
    let (from, to) = window();
    let data_from = from - 12.0 * HOUR;
    let r = Rollout {
        service: "api".into(),
        namespace: "shop-prod".into(),
        from: data_from,
        to,
        interval: INTERVAL,
        pods: rollout::initial_pods("api", 3, data_from - HOUR, leak),
        kube: true,
        build_info: false,
        cadvisor_oom: false,
    };
    (r, from, to)
}

fn time(v: &Value) -> f64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .timestamp() as f64
}

fn collect(server: &PromServer, from: f64, to: f64, extra: &[&str]) -> Value {
    let evidence = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .args(extra)
        .json();
    let errors = schema_errors("evidence.schema.json", &evidence);
    assert!(errors.is_empty(), "{errors:#?}");
    evidence
}

fn markdown(server: &PromServer, from: f64, to: f64, extra: &[&str]) -> String {
    let out = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .args(extra)
        .arg("-q")
        .expect_code(0);
    String::from_utf8(out.stdout).unwrap()
}

fn the_fix(evidence: &Value) -> &Value {
    let fixes: Vec<&Value> = evidence["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["fix"] == true)
        .collect();
    assert_eq!(fixes.len(), 1, "{}", evidence["deployments"]);
    fixes[0]
}

/// `auto` found the rollout of `truth` exactly (kube_pod_created is exact), with the
/// fix's periods split there.
fn assert_found(evidence: &Value, truth: f64, strategy: &str) {
    let found = time(&evidence["fix_deployed"]);
    assert!(
        (found - truth).abs() <= 1.0,
        "fix found at {found}, the rollout started at {truth} (one scrape interval is {INTERVAL} s)"
    );
    let fix = the_fix(evidence);
    assert_eq!(fix["strategy"], strategy, "{fix}");
    assert_eq!(fix["source"], "kube-state-metrics");
    assert_eq!(fix["versions_before"], serde_json::json!([V1]));
    assert_eq!(fix["versions_after"], serde_json::json!([V2]));
    assert_eq!(fix["namespaces"], serde_json::json!(["shop-prod"]));
    assert_eq!(evidence["fix_deployed_source"]["origin"], "detected");
    assert_eq!(
        evidence["fix_deployed_source"]["source"],
        "kube-state-metrics"
    );
    assert_eq!(time(&evidence["periods"]["before"]["to"]), found);
}

#[test]
fn rolling_rollout_found_to_the_second() {
    let (mut r, from, to) = base(LEAK);
    let truth = rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 12.0 * HOUR + 17.0,
        120.0,
        0.0,
    );
    let server = PromServer::start(r.openmetrics().as_bytes());
    let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
    assert_found(&evidence, truth, "rolling");
    let fix = the_fix(&evidence);
    assert_eq!(fix["instances_before"], 3);
    assert_eq!(fix["instances_after"], 3);
    // The last old pod went 90 s after the third new one came: seen within a scrape.
    let finished = time(&fix["finished"]);
    let last_old = truth + 2.0 * 120.0 + 90.0;
    assert!(
        finished <= last_old && finished > last_old - INTERVAL - 1.0,
        "{finished} vs {last_old}"
    );
    let before = fix["growth_before_bytes_per_hour"].as_f64().unwrap();
    let after = fix["growth_after_bytes_per_hour"].as_f64().unwrap();
    assert!(within(before, LEAK, 0.05), "{before}");
    assert!(after.abs() < 2.0 * MB, "{after}");
    let growth = evidence["periods"]["before"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    assert!(within(growth, LEAK, 0.05), "{growth}");
    // Every deploy request is listed.
    for id in [
        "deploy_pod_info",
        "deploy_pod_created",
        "deploy_pod_owner",
        "deploy_build_info",
        "onset_heap",
    ] {
        let q = query_record(&evidence, id);
        assert_eq!(q["ok"], true, "{q}");
    }

    let md = markdown(&server, from, to, &["--fix-deployed", "auto"]);
    let minute = chrono::DateTime::from_timestamp(truth as i64, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    for line in [
        format!("**Deployment Time**: {minute} (the first new instance; the rollout finished"),
        "**Environment**: shop-prod (namespace of the fix's new instances)".to_string(),
        "**Rollout Strategy**: rolling — new instances came while the old ones still ran (3 old → 3 new instances, registry.example/api:1.4.2 → registry.example/api:1.5.0;".to_string(),
        format!("- Fix deployed: {minute} (detected from kube-state-metrics (new pods: kube\\_pod\\_created, kube\\_pod\\_container\\_info): rolling rollout registry.example/api:1.4.2 → registry.example/api:1.5.0 in shop-prod)"),
    ] {
        assert!(md.contains(&line), "missing {line:?} in:\n{md}");
    }
}

#[test]
fn recreate_rollout_found_to_the_second() {
    let (mut r, from, to) = base(LEAK);
    let truth = rollout::recreate(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 10.0 * HOUR + 43.0,
        0.0,
    );
    let server = PromServer::start(r.openmetrics().as_bytes());
    let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
    assert_found(&evidence, truth, "recreate");
    // Finished when the last new pod came (3 s apart), not when the old ones went.
    let finished = time(&the_fix(&evidence)["finished"]);
    assert_eq!(finished, truth + 6.0);
}

#[test]
fn canary_found_at_the_canary_not_at_the_rest() {
    let (mut r, from, to) = base(LEAK);
    // One canary pod (its own ReplicaSet) for 3 h, then the main rollout.
    let truth = from + 8.0 * HOUR + 29.0;
    r.pods.push(rollout::new_pod(
        "api-canary",
        "6b5a4c3d2",
        0,
        "1.5.0",
        truth,
        0.0,
    ));
    r.pods.last_mut().unwrap().image = V2.into();
    rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        truth + 3.0 * HOUR,
        120.0,
        0.0,
    );
    // The canary stays; the main rollout must not have replaced it.
    let server = PromServer::start(r.openmetrics().as_bytes());
    let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
    assert_found(&evidence, truth, "canary");
    let fix = the_fix(&evidence);
    assert!(time(&fix["finished"]) > truth + 3.0 * HOUR, "{fix}");
    let warned = evidence["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("the fix is a canary rollout"));
    assert!(warned, "{}", evidence["warnings"]);
}

#[test]
fn mass_oom_restart_is_not_a_deployment() {
    for kube in [true, false] {
        let (mut r, from, to) = base(LEAK);
        r.kube = kube;
        r.cadvisor_oom = !kube;
        let at = from + 9.0 * HOUR;
        for (i, pod) in r.pods.iter_mut().enumerate() {
            pod.restarts.push(InPlaceRestart {
                at: at + 40.0 * i as f64,
                oom: true,
            });
        }
        let server = PromServer::start(r.openmetrics().as_bytes());
        let out = lc()
            .server(&server.url)
            .service("api")
            .window(from, to)
            .args(["--fix-deployed", "auto", "-q"])
            .expect_code(3);
        let err = String::from_utf8_lossy(&out.stderr);
        for needle in [
            "no deployment found",
            "kube_pod_container_info",
            "_build_info",
            "process_start_time_seconds",
            "--fix-deployed TIME",
        ] {
            assert!(
                err.contains(needle),
                "kube {kube}: {needle:?} missing from {err}"
            );
        }
        let evidence = collect(&server, from, to, &[]);
        assert_eq!(
            evidence["deployments"],
            serde_json::json!([]),
            "kube {kube}"
        );
    }
}

#[test]
fn restart_wave_without_kube_state_metrics_is_a_deployment() {
    let (mut r, from, to) = base(LEAK);
    r.kube = false;
    let at = from + 14.0 * HOUR + 5.0;
    rollout::roll(&mut r.pods, "api", "7f6c5d4b3", "1.5.0", at, 120.0, 0.0);
    let server = PromServer::start(r.openmetrics().as_bytes());
    let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
    let fix = the_fix(&evidence);
    assert_eq!(fix["source"], "restart-wave");
    // Restarts spread over two minutes: the series cannot tell the overlap.
    assert_eq!(fix["strategy"], "unknown");
    // The first new process started 4 s after its pod was created.
    let started = time(&fix["started"]);
    assert!((started - (at + 4.0)).abs() <= 1.0, "{started} vs {at}");
}

#[test]
fn build_info_version_change() {
    let (mut r, from, to) = base(LEAK);
    r.kube = false;
    r.build_info = true;
    let at = from + 15.0 * HOUR + 31.0;
    rollout::roll(&mut r.pods, "api", "7f6c5d4b3", "1.5.0", at, 120.0, 0.0);
    let server = PromServer::start(r.openmetrics().as_bytes());
    // The new version's first sample: the first scrape after the process started.
    let first_sample = r.from + ((at + 4.0 - r.from) / INTERVAL).ceil() * INTERVAL;
    // A 30-day lookback makes the deploy step 6 min: the first sample is still found
    // to the scrape (the subquery at the scrape interval), not to the step.
    for lookback in ["7d", "30d"] {
        let evidence = collect(
            &server,
            from,
            to,
            &["--fix-deployed", "auto", "--lookback", lookback],
        );
        let fix = the_fix(&evidence);
        assert_eq!(fix["source"], "build-info");
        assert_eq!(fix["versions_before"], serde_json::json!(["version=1.4.2"]));
        assert_eq!(fix["versions_after"], serde_json::json!(["version=1.5.0"]));
        let started = time(&fix["started"]);
        let step = query_record(&evidence, "deploy_build_info")["step_seconds"]
            .as_f64()
            .unwrap();
        assert_eq!(
            started, first_sample,
            "lookback {lookback}, step {step}: {started} vs {first_sample}"
        );
        if lookback == "30d" {
            assert!(step >= 300.0, "{step}");
        }
    }
}

#[test]
fn deploy_before_the_window_marks_the_onset() {
    // 1.4.2 did not leak; 1.5.0, rolled out 6 h before the window, leaks; no fix yet.
    let (mut r, from, to) = base(0.0);
    let truth = rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from - 6.0 * HOUR + 11.0,
        120.0,
        LEAK,
    );
    let server = PromServer::start(r.openmetrics().as_bytes());
    let out = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .args(["--fix-deployed", "auto", "-q"])
        .expect_code(3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no deployment found"));

    let evidence = collect(&server, from, to, &[]);
    let deployments = evidence["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 1, "{deployments:?}");
    assert_eq!(deployments[0]["in_window"], false);
    assert!((time(&deployments[0]["started"]) - truth).abs() <= 1.0);
    let onset = &evidence["onset"];
    assert_eq!(onset["event"], "deployment", "{onset}");
    assert!((time(&onset["at"]) - truth).abs() <= 1.0, "{onset}");
    assert_eq!(onset["version"], V2);
    assert_eq!(onset["still_growing"], true);
    let days = (to - truth) / 86_400.0;
    assert!((onset["hours"].as_f64().unwrap() / 24.0 - days).abs() < 0.01);

    let md = markdown(&server, from, to, &[]);
    let line = format!(
        "- Duration: since {} (the deployment of {V2}), {}, still growing at the window's end; 24.0 h of it in the window",
        chrono::DateTime::from_timestamp(truth as i64, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M UTC"),
        leakcollect::units::hours(days * 24.0)
    );
    assert!(
        md.contains(&line.replace('_', "\\_")),
        "missing {line:?} in:\n{md}"
    );
}

#[test]
fn two_deploys_the_one_after_which_growth_fell_is_the_fix() {
    let (mut r, from, to) = base(LEAK);
    let first = rollout::roll(
        &mut r.pods,
        "api",
        "6e5d4c3b2",
        "1.4.3",
        from + 5.0 * HOUR + 7.0,
        120.0,
        LEAK,
    );
    let second = rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 15.0 * HOUR + 13.0,
        120.0,
        0.0,
    );
    let server = PromServer::start(r.openmetrics().as_bytes());
    let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
    let fix = the_fix(&evidence);
    assert!((time(&fix["started"]) - second).abs() <= 1.0, "{fix}");
    let deployments = evidence["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 2);
    assert!((time(&deployments[0]["started"]) - first).abs() <= 1.0);
    assert_eq!(deployments[0]["fix"], false);
    assert_eq!(evidence["fix_deployed_source"]["candidates"], 2);
    let warned = evidence["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("2 deployments in the window"));
    assert!(warned, "{}", evidence["warnings"]);
    // Every lifetime read grew: the onset is before the data, whose first sample is
    // 12 h before the window.
    assert_eq!(
        evidence["onset"]["event"], "before-data",
        "{}",
        evidence["onset"]
    );
    let step = query_record(&evidence, "onset_heap")["step_seconds"]
        .as_f64()
        .unwrap();
    let at = time(&evidence["onset"]["at"]);
    assert!(
        at >= r.from && at < r.from + step,
        "{at} vs {} (step {step})",
        r.from
    );

    let md = markdown(&server, from, to, &["--fix-deployed", "auto"]);
    let row = format!(
        "| {} | Deployment | rolling rollout registry.example/api:1.4.2 → registry.example/api:1.4.3 in shop-prod, 3 → 3 instances",
        chrono::DateTime::from_timestamp(first as i64, 0)
            .unwrap()
            .format("%m-%d %H:%M")
    );
    assert!(md.contains(&row), "missing {row:?} in:\n{md}");
    // In time order: the earlier deployment's row comes before the fix's.
    assert!(md.find(&row).unwrap() < md.find("| Fix deployed |").unwrap());
    let duration = format!(
        "- Duration: since before {} (memory already grew in the earliest samples read), at least {}, until the fix;",
        chrono::DateTime::from_timestamp(at as i64, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M UTC"),
        leakcollect::units::hours((second - at) / 3600.0)
    );
    assert!(md.contains(&duration), "missing {duration:?} in:\n{md}");
}

#[test]
fn explicit_fix_time_is_kept_and_the_deployment_marked() {
    let (mut r, from, to) = base(LEAK);
    let truth = rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 12.0 * HOUR + 17.0,
        120.0,
        0.0,
    );
    let server = PromServer::start(r.openmetrics().as_bytes());
    let given = from + 12.0 * HOUR;
    let evidence = collect(&server, from, to, &["--fix-deployed", &format!("{given}")]);
    assert_eq!(time(&evidence["fix_deployed"]), given);
    assert_eq!(evidence["fix_deployed_source"]["origin"], "given");
    assert!((time(&the_fix(&evidence)["started"]) - truth).abs() <= 1.0);
}

#[test]
fn attach_and_validate_with_auto() {
    let (mut r, from, to) = base(LEAK);
    let truth = rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 12.0 * HOUR + 17.0,
        120.0,
        0.0,
    );
    let server = PromServer::start(r.openmetrics().as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api.md");
    let d = draft.to_str().unwrap();
    let (f, t) = (format!("{from}"), format!("{to}"));
    lc().args([
        "init",
        d,
        "--service",
        "api",
        "--from",
        &f,
        "--to",
        &t,
        "--fix-deployed",
        "auto",
    ])
    .expect_code(0);
    let created = std::fs::read_to_string(&draft).unwrap();
    assert!(created.contains(r#""fix_deployed":"auto""#), "{created}");
    // A line of the person's own next to the blocks must survive.
    let edited = created.replace("**Investigator**: [Your Name]", "**Investigator**: Dana");
    std::fs::write(&draft, &edited).unwrap();
    lc().args(["attach", d, "-q"])
        .server(&server.url)
        .expect_code(0);
    let text = std::fs::read_to_string(&draft).unwrap();
    let minute = chrono::DateTime::from_timestamp(truth as i64, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    for needle in [
        format!("**Deployment Time**: {minute}"),
        "**Environment**: shop-prod".to_string(),
        "**Rollout Strategy**: rolling".to_string(),
        format!("- Fix deployed: {minute} (detected from kube-state-metrics"),
        "**Investigator**: Dana".to_string(),
    ] {
        assert!(text.contains(&needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("**Environment**: [staging/production]"));
    // Still "auto" in the draft: each run finds the deployment again.
    assert!(text.contains(r#""fix_deployed":"auto""#));

    let out = lc()
        .args([
            "validate",
            "--draft",
            d,
            "--format",
            "json",
            "-q",
            "--dry-run",
        ])
        .server(&server.url)
        .expect_code(0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "resolved", "{v}");
    assert!((time(&v["evidence"]["fix_deployed"]) - truth).abs() <= 1.0);
    let errors = schema_errors("validation.schema.json", &v);
    assert!(errors.is_empty(), "{errors:#?}");
}

/// synth's fix-mid-window: pods OOM-killed every 4 h (their OOMKilled reason stays
/// raised), then every pod replaced by a new one at the fix. Only the process start
/// times and kube-state-metrics' restart and reason series exist: the replacement is a
/// restart wave, not an OOM kill, and the fix is found at its first new process.
#[test]
fn pods_replaced_after_earlier_oom_kills_are_the_fix() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["--fix-deployed", "auto"])
        .json();
    let fix = chrono::DateTime::parse_from_rfc3339(e["fix_deployed"].as_str().unwrap())
        .unwrap()
        .timestamp() as f64;
    assert!(
        (fix - s.fix_at.unwrap()).abs() <= s.interval,
        "{}",
        e["fix_deployed"]
    );
    assert_eq!(e["fix_deployed_source"]["source"], "restart-wave");
    assert_eq!(e["periods"]["before"]["oom_kills"], 9);
    // Every pod replaced within the same minute: all at once, never "unknown", and the
    // Deployment Time does not repeat that minute as the rollout's end.
    assert_eq!(the_fix(&e)["strategy"], "simultaneous", "{:#}", the_fix(&e));
    let md = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .args(["--fix-deployed", "auto"])
        .run();
    let md = String::from_utf8(md.stdout).unwrap();
    let line = |start: &str| {
        md.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start} in:\n{md}"))
            .to_string()
    };
    let strategy = line("**Rollout Strategy**:");
    assert!(
        strategy.contains("all-at-once") && strategy.contains("within the same minute"),
        "{strategy}"
    );
    let time = line("**Deployment Time**:");
    assert!(
        time.contains("every instance replaced within that minute") && !time.contains("finished"),
        "{time}"
    );
}

/// The base rollout without kube-state-metrics, 1.5.0 rolled out 15 h into the window,
/// with `extras`' series: the data and the window.
fn version_info_rollout(extras: &Extras) -> (String, Rollout, f64, f64, f64) {
    let (mut r, from, to) = base(LEAK);
    r.kube = false;
    let at = from + 15.0 * HOUR + 31.0;
    rollout::roll(&mut r.pods, "api", "7f6c5d4b3", "1.5.0", at, 120.0, 0.0);
    (r.openmetrics_with(extras), r, from, to, at)
}

/// A version in a bare `build_info` or in `app_info{app_version}` — with the Node.js
/// runtime's own `nodejs_version_info` changing in the same rollout, which is not the
/// application's version — is read: the fix is that version change, the series named
/// in the JSON and in the sentence, old → new.
#[test]
fn version_from_a_bare_build_info_or_app_info() {
    for (metric, label) in [("build_info", "version"), ("app_info", "app_version")] {
        let extras = Extras {
            version_info: vec![(metric.to_string(), label.to_string())],
            runtime_info: true,
            latency: false,
        };
        let (text, r, from, to, at) = version_info_rollout(&extras);
        let server = PromServer::start(text.as_bytes());
        let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
        let fix = the_fix(&evidence);
        assert_eq!(fix["source"], "build-info", "{metric}: {fix}");
        assert_eq!(fix["version_series"], metric, "{fix}");
        assert_eq!(
            fix["versions_before"],
            serde_json::json!([format!("{label}=1.4.2")]),
            "{fix}"
        );
        assert_eq!(
            fix["versions_after"],
            serde_json::json!([format!("{label}=1.5.0")]),
            "{fix}"
        );
        let first_sample = r.from + ((at + 4.0 - r.from) / INTERVAL).ceil() * INTERVAL;
        assert_eq!(time(&fix["started"]), first_sample, "{metric}");
        let reason = evidence["fix_deployed_source"]["reason"].as_str().unwrap();
        let says = format!("a version change in {metric} ({label})");
        assert!(reason.contains(&says), "{reason:?} lacks {says:?}");
        assert!(
            reason.contains(&format!("{label}=1.4.2 → {label}=1.5.0")),
            "{reason}"
        );
        assert!(!reason.contains("v20.11.1"), "{reason}");
        let md = markdown(&server, from, to, &["--fix-deployed", "auto"]);
        assert!(
            md.contains(&reason.replace('_', "\\_")),
            "the report does not say {reason:?}:\n{md}"
        );
        let strategy = md
            .lines()
            .find(|l| l.starts_with("**Rollout Strategy**"))
            .unwrap_or_else(|| panic!("no Rollout Strategy in:\n{md}"));
        assert!(
            strategy.contains(&format!(
                "from a version change in {})",
                metric.replace('_', "\\_")
            )),
            "{strategy}"
        );
    }
}

/// Only the runtime's own version info changes (no application version series): that is
/// not a version change; the rollout is still found, as a restart wave.
#[test]
fn a_runtime_version_info_is_not_the_applications_version() {
    let extras = Extras {
        runtime_info: true,
        ..Extras::default()
    };
    let (text, _, from, to, at) = version_info_rollout(&extras);
    let server = PromServer::start(text.as_bytes());
    let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
    let fix = the_fix(&evidence);
    assert_eq!(fix["source"], "restart-wave", "{fix}");
    assert_eq!(fix["version_series"], Value::Null, "{fix}");
    assert!((time(&fix["started"]) - (at + 4.0)).abs() <= 1.0, "{fix}");
}

/// The held-out scenario: 1.5.0 fixed a leak 14 h into the window, collected without
/// `--fix-deployed`. The report says up front that growth stopped at that rollout and to
/// rerun with `--fix-deployed auto`; the onset lies in the part that leaked and ends at
/// the rollout, not "still growing"; latency degradation is found over that part (the
/// window's last tenth is after the fix, where requests are fast again).
#[test]
fn growth_stopped_at_a_rollout_without_fix_deployed() {
    let (mut r, from, to) = base(LEAK);
    let truth = rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 14.0 * HOUR + 23.0,
        120.0,
        0.0,
    );
    let extras = Extras {
        latency: true,
        ..Extras::default()
    };
    let server = PromServer::start(r.openmetrics_with(&extras).as_bytes());
    let evidence = collect(&server, from, to, &[]);
    let stopped = &evidence["growth_stopped"];
    assert!((time(&stopped["at"]) - truth).abs() <= 1.0, "{stopped}");
    assert_eq!(stopped["source"], "kube-state-metrics", "{stopped}");
    assert_eq!(stopped["versions_before"], serde_json::json!([V1]));
    assert_eq!(stopped["versions_after"], serde_json::json!([V2]));
    let before = stopped["before_bytes_per_hour"].as_f64().unwrap();
    let after = stopped["after_bytes_per_hour"].as_f64().unwrap();
    assert!((before - LEAK).abs() <= 0.05 * LEAK, "{before} vs {LEAK}");
    assert!(after.abs() <= 1.0 * MB, "{after}");
    assert!((stopped["leak_hours"].as_f64().unwrap() - 14.0).abs() < 0.01);
    // No fix: no before/after periods, no Status.
    assert_eq!(evidence["fix_deployed"], Value::Null);
    assert_eq!(evidence["periods"]["before"], Value::Null);
    assert_eq!(evidence["status"], Value::Null);
    // The onset: the pods started 1 h before the data, so the leak is older than the
    // data; it ends at the rollout, and is not "still growing".
    let onset = &evidence["onset"];
    assert_ne!(onset, &Value::Null, "{:#?}", evidence["warnings"]);
    assert!((time(&onset["until"]) - truth).abs() <= 1.0, "{onset}");
    assert!(time(&onset["at"]) < truth, "{onset}");
    assert_eq!(onset["still_growing"], false, "{onset}");
    // The symptoms over the part that leaked.
    let degradation = &evidence["symptoms"]["service_degradation"];
    assert_eq!(degradation["present"], true, "{degradation}");
    let growth = &evidence["symptoms"]["linear_growth"];
    assert_eq!(growth["present"], true, "{growth}");
    let at = chrono::DateTime::from_timestamp(time(&stopped["at"]) as i64, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    let span = format!("before the rollout at {at}, after which growth stopped (14.0 h)");
    for symptom in ["service_degradation", "linear_growth"] {
        let because = evidence["symptoms"][symptom]["because"].as_str().unwrap();
        assert!(because.contains(&span), "{because:?} lacks {span:?}");
    }
    let warning = evidence["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with(&format!(
            "growth stopped at the rollout at {at} ({V1} → {V2})"
        )),
        "{warning}"
    );
    assert!(
        warning.contains("rerun with --fix-deployed auto"),
        "{warning}"
    );

    // The alert threshold: half the leak measured over the part that leaked.
    let t = &evidence["alert_thresholds"];
    let half = t["growth_bytes_per_hour"].as_f64().unwrap();
    assert!((half - LEAK / 2.0).abs() <= 0.05 * LEAK, "{t}");
    let basis = t["basis"].as_str().unwrap();
    assert!(basis.ends_with(&format!("→ {at})")), "{basis}");
    // No time to the limit projected from a growth that stopped.
    assert_eq!(evidence["periods"]["window"]["hours_to_limit"], Value::Null);

    // Up front, in the words of the JSON.
    let md = markdown(&server, from, to, &[]);
    let growth_line = md
        .lines()
        .find(|l| l.starts_with("- Memory growth: "))
        .unwrap_or_else(|| panic!("no growth line in:\n{md}"));
    let says = format!(
        "- Memory growth: growth stopped at the rollout at {at} ({V1} → {V2}): {} per instance in the {} before it, {} in the {} after (rerun with `--fix-deployed auto` for before/after figures); over the whole window, {} per instance",
        leakcollect::units::mb_per_hour(before),
        leakcollect::units::hours(stopped["before_hours"].as_f64().unwrap()),
        leakcollect::units::mb_per_hour(after),
        leakcollect::units::hours(stopped["after_hours"].as_f64().unwrap()),
        leakcollect::units::mb_per_hour(
            evidence["periods"]["window"]["growth_bytes_per_hour"]
                .as_f64()
                .unwrap()
        ),
    );
    assert!(growth_line.starts_with(&says), "{growth_line}\nvs\n{says}");
    let duration = md.lines().find(|l| l.starts_with("- Duration: ")).unwrap();
    assert!(
        duration.contains(&format!(
            "until the rollout at {at}, after which growth stopped; 14.0 h of it in the window"
        )),
        "{duration}"
    );
    assert!(!md.contains("still growing"), "{md}");
    let row = md
        .lines()
        .find(|l| l.contains("| Deployment |"))
        .unwrap_or_else(|| panic!("no Deployment row in:\n{md}"));
    assert!(
        row.ends_with(&format!(
            "; growth stopped after it: {} in the {} before, {} in the {} after |",
            leakcollect::units::mb_per_hour(before),
            leakcollect::units::hours(stopped["before_hours"].as_f64().unwrap()),
            leakcollect::units::mb_per_hour(after),
            leakcollect::units::hours(stopped["after_hours"].as_f64().unwrap()),
        )),
        "{row}"
    );
    assert!(!md.contains("if it kept growing"), "{md}");
    for symptom in ["service_degradation", "linear_growth"] {
        let because = evidence["symptoms"][symptom]["because"].as_str().unwrap();
        assert!(
            md.contains(&because.replace('_', "\\_")),
            "the report does not say {because:?}"
        );
    }
    assert!(md.contains(&warning.replace('_', "\\_")), "{warning}");
}

/// The same data collected with `--fix-deployed auto`: the fix is that rollout, and
/// nothing says growth stopped "without a fix".
#[test]
fn growth_stopped_is_the_fix_with_auto() {
    let (mut r, from, to) = base(LEAK);
    let truth = rollout::roll(
        &mut r.pods,
        "api",
        "7f6c5d4b3",
        "1.5.0",
        from + 14.0 * HOUR + 23.0,
        120.0,
        0.0,
    );
    let server = PromServer::start(r.openmetrics().as_bytes());
    let evidence = collect(&server, from, to, &["--fix-deployed", "auto"]);
    assert_found(&evidence, truth, "rolling");
    assert_eq!(evidence["growth_stopped"], Value::Null);
    let warnings = evidence["warnings"].to_string();
    assert!(!warnings.contains("growth stopped"), "{warnings}");
}

/// The same bare `build_info` on a real VictoriaMetrics (`{__name__=~…}` with
/// `label_replace` and `timestamp`, as MetricsQL runs them): the same versions and
/// series as on Prometheus, the start within one scrape interval.
#[test]
fn version_from_a_bare_build_info_on_victoriametrics() {
    let extras = Extras {
        version_info: vec![("build_info".to_string(), "version".to_string())],
        runtime_info: true,
        latency: false,
    };
    let (text, _, from, to, _) = version_info_rollout(&extras);
    let server = PromServer::start(text.as_bytes());
    let on_prometheus = collect(&server, from, to, &["--fix-deployed", "auto"]);
    let (_vm, vm_url, _dir) = start_victoria(text.as_bytes(), &["-search.disableCache"]);
    let on_vm = collect_on_vm(
        &vm_url,
        "api",
        &format!("{from}"),
        &format!("{to}"),
        &["--fix-deployed", "auto"],
        &on_prometheus["periods"]["window"]["instance_count"],
    );
    let (p, v) = (the_fix(&on_prometheus), the_fix(&on_vm));
    for field in [
        "source",
        "version_series",
        "versions_before",
        "versions_after",
    ] {
        assert_eq!(p[field], v[field], "{field}: {p} vs {v}");
    }
    // MetricsQL's `timestamp()` in a subquery does not give Prometheus' sample times:
    // the start agrees within one scrape interval.
    let (tp, tv) = (time(&p["started"]), time(&v["started"]));
    assert!((tp - tv).abs() < INTERVAL, "{tp} vs {tv}");
    assert_eq!(v["version_series"], "build_info");
}
