//! `leakcollect dashboard` against a real backfilled Prometheus: the JSON type-checks
//! with TypeScript against Grafana's own `Dashboard` type (`@grafana/schema`, pinned in
//! tests/grafana; `npm ci` there, scripts/test.sh does it) and a wrong field fails that
//! check; every panel's PromQL is the report's (the evidence's recorded query, the rule
//! `leakcollect rules` writes) and returns data from the same server; the window, the
//! fix and the container limit are the evidence's.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn grafana_dir() -> PathBuf {
    repo_path("tests/grafana")
}

/// Runs `tsc --noEmit --strict` on `const d: Dashboard = <json>;`; the compiler's output
/// on failure.
fn type_check(json: &str) -> Result<(), String> {
    let dir = grafana_dir();
    let tsc = dir.join("node_modules/.bin/tsc");
    assert!(
        tsc.is_file() && dir.join("node_modules/@grafana/schema").is_dir(),
        "{} is missing: run `npm ci` in tests/grafana (scripts/test.sh does it)",
        tsc.display()
    );
    // Inside tests/grafana, so `@grafana/schema` resolves from its node_modules.
    let work = tempfile::Builder::new()
        .prefix(".check-")
        .tempdir_in(&dir)
        .unwrap();
    let file = work.path().join("dashboard.ts");
    std::fs::write(
        &file,
        format!(
            "import type {{ Dashboard }} from \"@grafana/schema\";\nconst d: Dashboard = {json};\nexport default d;\n"
        ),
    )
    .unwrap();
    let out = Command::new(&tsc)
        .args([
            "--noEmit",
            "--strict",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "--skipLibCheck",
        ])
        .arg(&file)
        .current_dir(&dir)
        .output()
        .expect("run tsc");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A range query's series on `server`, over `[from, to]` at `step` seconds.
fn range_series(
    server: &str,
    promql: &str,
    from: f64,
    to: f64,
    step: f64,
) -> Vec<serde_json::Value> {
    let out = Command::new(binary("curl"))
        .args(["-sS", "--fail-with-body"])
        .args(["--data-urlencode", &format!("query={promql}")])
        .args(["--data", &format!("start={from}&end={to}&step={step}")])
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

fn dashboard(server: &str, args: &[&str], out: &Path) -> serde_json::Value {
    lc().arg("dashboard")
        .server(server)
        .args(args)
        .arg("-o")
        .arg(out.to_str().unwrap())
        .expect_code(0);
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).expect("valid JSON")
}

fn ms(rfc3339: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("a time"))
        .expect("RFC 3339")
        .timestamp_millis()
}

#[test]
fn the_dashboard_type_checks_and_runs_the_reports_queries() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let (from, to, fix) = (
        format!("{}", s.from),
        format!("{}", s.to),
        format!("{}", s.fix_at.unwrap()),
    );
    let window = [
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
        "--fix-deployed",
        &fix,
    ];
    let evidence = lc().server(&server.url).args(window).json();
    let dir = tempfile::tempdir().unwrap();
    let d = dashboard(&server.url, &window, &dir.path().join("dashboard.json"));
    let text = serde_json::to_string_pretty(&d).unwrap();

    // Grafana's own type accepts it …
    if let Err(e) = type_check(&text) {
        panic!("the dashboard does not type-check against @grafana/schema:\n{e}\n{text}");
    }
    // … and the check has teeth: an unknown panel field, a wrong type, a missing field.
    let mut bogus = d.clone();
    bogus["panels"][0]["bogus"] = serde_json::json!(1);
    let e = type_check(&bogus.to_string()).expect_err("an unknown panel field must fail");
    assert!(e.contains("bogus"), "{e}");
    let mut wrong = d.clone();
    wrong["schemaVersion"] = serde_json::json!("39");
    let e = type_check(&wrong.to_string()).expect_err("a string schemaVersion must fail");
    assert!(e.contains("not assignable to type 'number'"), "{e}");
    let mut missing = d.clone();
    missing["panels"][1].as_object_mut().unwrap().remove("type");
    assert!(
        type_check(&missing.to_string()).is_err(),
        "a panel without a type must fail"
    );

    // The window, the datasource variable, the fix and the limit are the evidence's.
    assert_eq!(ms(&d["time"]["from"]), ms(&evidence["window"]["from"]));
    assert_eq!(ms(&d["time"]["to"]), ms(&evidence["window"]["to"]));
    let var = &d["templating"]["list"][0];
    assert_eq!(
        (var["name"].as_str(), var["type"].as_str()),
        (Some("datasource"), Some("datasource"))
    );
    let fix_event = &d["annotations"]["list"][0]["snapshotData"][0];
    assert_eq!(
        fix_event["time"].as_i64(),
        Some(ms(&evidence["fix_deployed"]))
    );
    let panels = d["panels"].as_array().unwrap();
    let memory = &panels[0];
    let heap = query_record(&evidence, "heap_used");
    assert_eq!(
        memory["targets"][0]["expr"], heap["promql"],
        "the report's heap query"
    );
    let limit = evidence["periods"]["before"]["memory_limit_bytes"]
        .as_f64()
        .unwrap();
    let steps = &memory["fieldConfig"]["overrides"][0]["properties"][0]["value"]["steps"];
    assert_eq!(steps[1]["value"].as_f64(), Some(limit), "{steps}");

    // The growth panel runs the growth rule `leakcollect rules` writes, without its threshold.
    let rules = lc()
        .arg("rules")
        .server(&server.url)
        .args(window)
        .expect_code(0);
    let rules = String::from_utf8(rules.stdout).unwrap();
    let growth = panels
        .iter()
        .find(|p| p["title"].as_str().unwrap().starts_with("Growth"))
        .expect("a growth panel");
    let growth_expr = growth["targets"][0]["expr"].as_str().unwrap();
    let threshold = evidence["alert_thresholds"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    let rule_line = rules
        .lines()
        .find(|l| l.contains("deriv(min_over_time"))
        .expect("the growth rule");
    let rule_expr: String =
        serde_json::from_str(rule_line.trim().trim_start_matches("expr: ")).unwrap();
    assert_eq!(
        rule_expr.replacen(&format!(" > {threshold}"), "", 1),
        growth_expr,
        "the growth panel is the rule's expression"
    );
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"GC pause p95"), "{titles:?}");
    assert!(titles.contains(&"Restarts and OOM kills"), "{titles:?}");

    // Every target returns data from the real Prometheus, with Grafana's variables as
    // Grafana would fill them at this window (a 1 min scrape: $__rate_interval ≥ 4 min).
    let (f, t) = (s.from, s.to);
    for panel in panels {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$__rate_interval", "4m");
            let series = range_series(&server.url, &expr, f, t, 300.0);
            assert!(
                !series.is_empty(),
                "{}: {expr} returned nothing",
                panel["title"]
            );
        }
    }
    // The fitted growth: the report's per-instance growth as the lines' slopes.
    let fit = memory["targets"][1]["expr"]
        .as_str()
        .expect("a fitted-growth target");
    let fit_series = range_series(&server.url, fit, f, t, 300.0);
    let before_growth = evidence["periods"]["before"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    let mut slopes: Vec<f64> = fit_series
        .iter()
        .flat_map(|s| {
            let v: Vec<(f64, f64)> = s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_f64().unwrap(),
                        p[1].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect();
            v.windows(2)
                .filter(|w| w[1].0 - w[0].0 == 300.0 && w[1].0 < s_fix(&evidence))
                .map(|w| (w[1].1 - w[0].1) / 300.0 * 3600.0)
                .collect::<Vec<_>>()
        })
        .collect();
    slopes.sort_by(f64::total_cmp);
    let median = slopes[slopes.len() / 2];
    assert!(
        within(median, before_growth, 0.05),
        "fitted {median} vs the report's {before_growth}"
    );
    assert!(within(before_growth, 80.0 * MB, 0.05), "{before_growth}");
}

fn s_fix(evidence: &serde_json::Value) -> f64 {
    ms(&evidence["fix_deployed"]) as f64 / 1000.0
}

#[test]
fn a_bad_output_path_exits_5_before_any_query() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing/dashboard.json");
    // No server at this address: the path is refused first.
    let run = lc()
        .arg("dashboard")
        .server("http://127.0.0.1:9")
        .args(["--service", "api", "--from", "now-1h", "-o"])
        .arg(out.to_str().unwrap())
        .expect_code(5);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("does not exist"), "{err}");
}

/// The report's Dashboard lines, Grafana Dashboard link and the Preventive Measures'
/// dashboard and pool items, for evidence with a dashboard uid, a Grafana URL and a
/// pool threshold (and without them: the template's placeholders stay).
#[test]
fn dashboard_links_and_action_items_render() {
    let mut e: leakcollect::evidence::Evidence =
        serde_json::from_str(include_str!("../fixtures/evidence-fix.json")).unwrap();
    let lines = |e: &leakcollect::evidence::Evidence| -> String {
        leakcollect::render::evidence::report(e, None)
            .unwrap()
            .lines()
            .filter(|l| {
                l.starts_with("Dashboard:")
                    || l.starts_with("**Link**")
                    || l.contains("Dashboard: Memory trend")
                    || l.contains("Connection pool saturation")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let bare = lines(&e);
    assert!(
        bare.contains("Dashboard: [Link to Grafana dashboard]"),
        "{bare}"
    );
    assert!(
        bare.contains("- [ ] Dashboard: Memory trend visualization"),
        "{bare}"
    );
    assert!(
        bare.contains("- [ ] Alert: Connection pool saturation: no rule suggested, no data: no connection pool metrics"),
        "{bare}"
    );
    let (from, to) = (e.window.from, e.window.to);
    e.grafana_dashboard = Some(leakcollect::evidence::GrafanaDashboard {
        uid: "api-leak".into(),
        url: leakcollect::acquire::links::grafana_dashboard(
            "https://grafana.example",
            "api-leak",
            from,
            to,
        ),
        file: None,
    });
    e.alert_thresholds.pool_used_percent = Some(80.0);
    e.alert_thresholds.pool_basis = Some("connections in use reached 100.0% of a pool's maximum between 2026-11-20 08:00 UTC and 2026-11-20 20:00 UTC; exhausted: the alert fires on the way there".into());
    let filled = lines(&e);
    assert!(
        filled.contains(&format!(
            "d/api-leak?orgId=1&from={}",
            from.timestamp_millis()
        )),
        "{filled}"
    );
    insta::assert_snapshot!(filled);
}

/// `attach --dashboard FILE --grafana-url URL`: the dashboard is written next to the
/// draft's work (and type-checks), recorded in the draft's parameters so a plain
/// `attach` rewrites it, and the draft's Dashboard line, Grafana Dashboard link and
/// "Dashboard: Memory trend visualization" item point to it by its uid.
#[test]
fn attach_writes_the_dashboard_and_ticks_its_item() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api-leak.md");
    let board = dir.path().join("api-dashboard.json");
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let draft_arg = draft.to_str().unwrap();
    lc().args([
        "init",
        draft_arg,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
    ])
    .expect_code(0);
    let template = std::fs::read_to_string(&draft).unwrap();
    assert!(template.contains("- [ ] Dashboard: Memory trend visualization"));
    // A dashboard path in a missing folder: refused before any query, draft untouched.
    let missing = dir.path().join("missing/board.json");
    let refused = lc()
        .args([
            "attach",
            draft_arg,
            "-q",
            "--dashboard",
            missing.to_str().unwrap(),
        ])
        .server("http://127.0.0.1:9")
        .expect_code(5);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), template);
    lc().args([
        "attach",
        draft_arg,
        "-q",
        "--dashboard",
        board.to_str().unwrap(),
    ])
    .args(["--grafana-url", "https://grafana.example/"])
    .server(&server.url)
    .expect_code(0);
    let text = std::fs::read_to_string(&draft).unwrap();
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&board).unwrap()).unwrap();
    if let Err(e) = type_check(&d.to_string()) {
        panic!("attach's dashboard does not type-check:\n{e}");
    }
    let uid = d["uid"].as_str().unwrap();
    assert_eq!(uid, "leakcollect-api");
    let url = format!(
        "https://grafana.example/d/{uid}?orgId=1&from={}&to={}",
        ms(&d["time"]["from"]),
        ms(&d["time"]["to"])
    );
    let item = text
        .lines()
        .find(|l| l.contains("Dashboard: Memory trend visualization"))
        .unwrap();
    assert!(item.starts_with("- [x]"), "{item}");
    assert!(
        item.contains(&url) && item.contains(board.to_str().unwrap()),
        "{item}"
    );
    let monitoring = text.lines().find(|l| l.starts_with("Dashboard:")).unwrap();
    assert!(monitoring.contains(&url), "{monitoring}");
    let link = text.lines().find(|l| l.starts_with("**Link**")).unwrap();
    assert!(link.contains(&url), "{link}");
    assert!(
        text.contains("\"dashboard\":"),
        "recorded in the params block"
    );
    // A plain attach (with the Grafana address again: links are not recorded) rewrites it.
    std::fs::remove_file(&board).unwrap();
    lc().args([
        "attach",
        draft_arg,
        "-q",
        "--grafana-url",
        "https://grafana.example/",
    ])
    .server(&server.url)
    .expect_code(0);
    assert!(board.is_file(), "the recorded dashboard is written again");
    assert_eq!(
        std::fs::read_to_string(&draft).unwrap(),
        text,
        "nothing else moved"
    );
}
