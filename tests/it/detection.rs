//! Detection: the first alert that fired for the service, from a real Prometheus (and a
//! real vmalert + VictoriaMetrics) evaluating the rule file `leakcollect rules` writes
//! against a live, scraped, leaking Node.js process; its times must equal the server's
//! own (`ALERTS`, `ALERTS_FOR_STATE`, the rules API's `activeAt`) to the millisecond.
//! And the absences: no alert (when the growth rule would have fired, checked against
//! the data), no rules API, an alert before `--from`, another service's alert.

use crate::common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// GET `url` with curl, as JSON.
fn get_json(url: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-sfg", url])
        .output()
        .expect("run curl");
    assert!(out.status.success(), "GET {url} failed");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query's `data.result` on `server`.
fn instant(server: &str, promql: &str, time: f64) -> Vec<serde_json::Value> {
    let answer = get_json(&format!(
        "{server}/api/v1/query?query={}&time={time:.3}",
        urlencode(promql)
    ));
    answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn unix(rfc3339: &serde_json::Value) -> f64 {
    let t =
        chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("a time")).expect("RFC 3339");
    t.timestamp_millis() as f64 / 1000.0
}

/// The rule file `leakcollect rules` writes for `service`, with the GC rule's `for`
/// shortened from 30m to `gc_for` so it fires within a test (its expression is
/// untouched), and the GC threshold low enough for any GC to cross.
fn leakcollect_rules(service: &str, gc_for: &str) -> String {
    let out = leakcollect(&[
        "rules",
        "--runtime",
        "nodejs",
        "--service",
        service,
        "--gc-p95",
        "0.0001",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let gc = text.find("GCPauses").expect("a GC rule");
    let (head, tail) = text.split_at(gc);
    assert!(tail.contains("        for: 30m\n"), "{tail}");
    format!(
        "{head}{}",
        tail.replacen("        for: 30m\n", &format!("        for: {gc_for}\n"), 1)
    )
}

/// A rule for another service that fires at once: it must never be picked.
const OTHER_RULES: &str = "groups:
  - name: other
    rules:
      - alert: OtherNodeHeap
        expr: nodejs_heap_size_used_bytes{job=\"other-node\"} > 0
        for: 0s
        labels:
          severity: critical
";

fn start_leaky_node() -> (Guarded, u16) {
    let app_dir = repo_path("tests/live/nodejs");
    assert!(
        app_dir.join("node_modules/prom-client").is_dir(),
        "prom-client is not installed: run `npm ci` in tests/live/nodejs (scripts/test.sh does)"
    );
    let port = free_loopback_port();
    let node = Command::new(binary("node"))
        .arg("leaky.js")
        .current_dir(&app_dir)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("start node");
    (Guarded(node), port)
}

/// Waits until `firing(server)` says the alert fires, for at most `limit`.
fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("{what} did not happen within {limit:?}");
}

/// The rules API's alert `name`, when active.
fn rules_api_alert(server: &str, name: &str) -> Option<serde_json::Value> {
    let rules = get_json(&format!("{server}/api/v1/rules?type=alert"));
    rules["data"]["groups"]
        .as_array()?
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["name"] == name)
        .flat_map(|r| r["alerts"].as_array().cloned().unwrap_or_default())
        .next()
}

/// The first raw sample time of `selector` in the last `range` before `at`.
fn first_sample(server: &str, selector: &str, range: &str, at: f64) -> Option<f64> {
    instant(server, &format!("{selector}[{range}]"), at)
        .iter()
        .flat_map(|s| s["values"].as_array().cloned().unwrap_or_default())
        .map(|v| v[0].as_f64().unwrap())
        .reduce(f64::min)
}

#[test]
fn prometheus_evaluating_leakcollect_rules_on_a_live_leak() {
    let (_node, port) = start_leaky_node();
    let target = format!("127.0.0.1:{port}");
    let rules = leakcollect_rules("live-node", "15s");
    let server = start_scraping_prometheus_with_rules(
        &[("live-node", target.clone()), ("other-node", target)],
        &[&rules, OTHER_RULES],
        Some("1s"),
    );
    let started = chrono::Utc::now().timestamp() - 1;
    wait_until(Duration::from_secs(75), "LiveNodeGCPauses firing", || {
        rules_api_alert(&server.url, "LiveNodeGCPauses").is_some_and(|a| a["state"] == "firing")
    });
    std::thread::sleep(Duration::from_secs(2));
    let e = lc()
        .server(&server.url)
        .service("live-node")
        .args(["--from", &started.to_string(), "--to", "now"])
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");
    let d = &e["detection"];
    assert_eq!(d["source"], "alert", "{d:#}");
    assert_eq!(d["alertname"], "LiveNodeGCPauses", "{d:#}");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["state_at_end"], "firing");
    assert!(
        !d["other_alerts"].to_string().contains("OtherNodeHeap"),
        "another service's alert: {d:#}"
    );
    // Prometheus's own times, exact.
    let to = unix(&e["window"]["to"]);
    let firing = first_sample(
        &server.url,
        r#"ALERTS{alertname="LiveNodeGCPauses",alertstate="firing"}"#,
        "10m",
        to,
    )
    .expect("Prometheus has the firing samples");
    assert_eq!(unix(&d["firing_at"]), firing, "{d:#}");
    let active = rules_api_alert(&server.url, "LiveNodeGCPauses").expect("still active");
    assert_eq!(
        unix(&d["pending_at"]),
        unix(&active["activeAt"]),
        "{d:#} {active:#}"
    );
    let for_state = instant(
        &server.url,
        r#"ALERTS_FOR_STATE{alertname="LiveNodeGCPauses"}"#,
        firing,
    );
    let active_since: f64 = for_state[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert_eq!(unix(&d["pending_at"]).floor(), active_since);
    // Fired 15 s (the rule's `for`) after it went pending, to the evaluation.
    let held = unix(&d["firing_at"]) - unix(&d["pending_at"]);
    assert!((15.0..17.0).contains(&held), "held {held} s");
    // The rule, from the rules API.
    let rule = &d["rule"];
    assert_eq!(rule["for_seconds"], 15.0);
    assert_eq!(rule["threshold"], 0.0001);
    assert_eq!(rule["group"], "leakcollect-live-node");
    assert!(
        rule["expr"]
            .as_str()
            .unwrap()
            .contains("nodejs_gc_duration_seconds_bucket"),
        "{rule:#}"
    );
    assert!(rule["file"].as_str().unwrap().ends_with("rules-0.yml"));
    assert!(d["rule_unavailable_because"].is_null());
    for id in ["alerts", "alerts_first_firing", "alerts_for_state", "rules"] {
        assert_eq!(query_record(&e, id)["ok"], true, "{id}");
    }
    assert_eq!(query_record(&e, "rules")["kind"], "rules");
    eprintln!(
        "live detection: {} pending {} firing {}",
        d["alertname"], d["pending_at"], d["firing_at"]
    );
    // The report says the same.
    let md = lc()
        .server(&server.url)
        .service("live-node")
        .args(["--from", &started.to_string(), "--to", "now", "--quiet"])
        .run();
    let md = String::from_utf8_lossy(&md.stdout).to_string();
    let discovered = md
        .lines()
        .find(|l| l.starts_with("**How Discovered**:"))
        .expect("a How Discovered line");
    assert!(discovered.contains("LiveNodeGCPauses"), "{discovered}");
    assert!(md.contains("| Detection | Alert LiveNodeGCPauses"), "{md}");
}

/// A real VictoriaMetrics scraping the live process every second, and a real vmalert
/// evaluating the same rule file against it, writing `ALERTS` back by remote write;
/// VictoriaMetrics proxies the rules API to vmalert (`-vmalert.proxyURL`).
#[test]
fn vmalert_evaluating_leakcollect_rules_on_a_live_leak() {
    let vmalert_bin = binary("vmalert");
    let (_node, port) = start_leaky_node();
    let dir = tempfile::tempdir().unwrap();
    let scrape = dir.path().join("scrape.yml");
    std::fs::write(
        &scrape,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: live-node\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, leakcollect_rules("live-node", "15s")).unwrap();
    let vmalert_port = free_loopback_port();
    let (_vm, url, _data) = start_victoria(
        b"# EOF\n",
        &[
            &format!("-promscrape.config={}", scrape.display()),
            &format!("-vmalert.proxyURL=http://127.0.0.1:{vmalert_port}"),
        ],
    );
    let started = chrono::Utc::now().timestamp() - 1;
    let vmalert = Command::new(vmalert_bin)
        .arg(format!("-rule={}", rules.display()))
        .arg(format!("-datasource.url={url}"))
        .arg(format!("-remoteWrite.url={url}"))
        .arg("-remoteWrite.flushInterval=1s")
        // Debian's vmalert (1.79) has no -notifier.blackhole; nothing listens here and
        // the failed notifications are only logged.
        .arg(format!(
            "-notifier.url=http://127.0.0.1:{}",
            free_loopback_port()
        ))
        .arg("-evaluationInterval=1s")
        .arg(format!("-httpListenAddr=127.0.0.1:{vmalert_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vmalert");
    let _vmalert = Guarded(vmalert);
    wait_until(
        Duration::from_secs(75),
        "LiveNodeGCPauses firing in vmalert",
        || {
            Command::new("curl")
            .args(["-sf", &format!("{url}/api/v1/rules?type=alert")])
            .output()
            .is_ok_and(|o| o.status.success())
            && rules_api_alert(&url, "LiveNodeGCPauses").is_some_and(|a| a["state"] == "firing")
            // Remote write flushes every second.
            && first_sample(&url, r#"ALERTS{alertstate="firing"}"#, "10m", now()).is_some()
        },
    );
    // VictoriaMetrics's answers are complete only 30 s behind now (-search.latencyOffset),
    // and windows on it end there.
    std::thread::sleep(Duration::from_secs(32));
    let e = lc()
        .server(&url)
        .args(["--backend", "victoriametrics"])
        .service("live-node")
        .args(["--from", &started.to_string(), "--to", "now"])
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");
    let d = &e["detection"];
    assert_eq!(d["source"], "alert", "{d:#}");
    assert_eq!(d["alertname"], "LiveNodeGCPauses", "{d:#}");
    let to = unix(&e["window"]["to"]);
    // vmalert's own: the ALERTS samples it wrote, ALERTS_FOR_STATE, the rules API.
    let firing = first_sample(
        &url,
        r#"ALERTS{alertname="LiveNodeGCPauses",alertstate="firing"}"#,
        "10m",
        to,
    )
    .expect("the firing samples");
    assert_eq!(unix(&d["firing_at"]), firing, "{d:#}");
    let pending = first_sample(
        &url,
        r#"ALERTS{alertname="LiveNodeGCPauses",alertstate="pending"}"#,
        "10m",
        to,
    )
    .expect("the pending samples");
    assert_eq!(unix(&d["pending_at"]), pending, "{d:#}");
    let for_state = instant(
        &url,
        r#"ALERTS_FOR_STATE{alertname="LiveNodeGCPauses"}"#,
        firing,
    );
    let active_since: f64 = for_state[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert_eq!(unix(&d["pending_at"]), active_since);
    let active = rules_api_alert(&url, "LiveNodeGCPauses").expect("still active");
    assert_eq!(unix(&d["pending_at"]), unix(&active["activeAt"]).floor());
    let rule = &d["rule"];
    assert_eq!(rule["for_seconds"], 15.0, "{rule:#}");
    assert_eq!(rule["group"], "leakcollect-live-node");
    assert_eq!(rule["threshold"], 0.0001);
    eprintln!(
        "vmalert detection: pending {} firing {}",
        d["pending_at"], d["firing_at"]
    );
}

fn now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

/// `ALERTS` and `ALERTS_FOR_STATE` as Prometheus writes them for one alert episode,
/// evaluated every 15 s: pending from `pending` (for `hold` seconds), then firing until
/// `resolved`.
fn alert_episode(labels: &str, pending: f64, hold: f64, resolved: f64) -> (String, String) {
    let (mut alerts, mut for_state) = (String::new(), String::new());
    let mut t = pending;
    while t < resolved {
        let state = if t - pending >= hold {
            "firing"
        } else {
            "pending"
        };
        alerts.push_str(&format!(
            "ALERTS{{{labels},alertstate=\"{state}\"}} 1 {t:.3}\n"
        ));
        for_state.push_str(&format!(
            "ALERTS_FOR_STATE{{{labels}}} {} {t:.3}\n",
            pending.floor()
        ));
        t += 15.0;
    }
    (alerts, for_state)
}

/// A steady leak with, in the seven days before the window, another service's alert
/// (earliest), the service's growth alert (pending 2 h before `--from`, firing 30 min
/// later, resolved 1 h into the window) and a later GC alert.
fn leak_with_alerts() -> (Vec<u8>, f64, f64, f64, f64) {
    let s = scenario("steady-leak", "api");
    let (from, to) = (s.from, s.to);
    let pending = from - 2.0 * HOUR + 7.25;
    let firing = pending + 1800.0;
    let episodes = [
        alert_episode(
            r#"alertname="OtherMemoryGrowth",job="other",instance="other-0:9100",severity="critical""#,
            from - 3.0 * HOUR,
            0.0,
            from,
        ),
        alert_episode(
            r#"alertname="ApiMemoryGrowth",job="api",instance="api-0:9100",namespace="prod",pod="api-0",severity="warning""#,
            pending,
            1800.0,
            from + HOUR,
        ),
        alert_episode(
            r#"alertname="ApiGCPauses",service="api",severity="warning""#,
            from + 5.0 * HOUR,
            600.0,
            from + 6.0 * HOUR,
        ),
    ];
    let mut text = String::from_utf8(openmetrics(&[&s])).unwrap();
    text.truncate(text.rfind("# EOF").unwrap());
    text.push_str("# TYPE ALERTS gauge\n");
    for (alerts, _) in &episodes {
        text.push_str(alerts);
    }
    text.push_str("# TYPE ALERTS_FOR_STATE gauge\n");
    for (_, for_state) in &episodes {
        text.push_str(for_state);
    }
    text.push_str("# EOF\n");
    (text.into_bytes(), from, to, pending, firing)
}

fn assert_first_alert(d: &serde_json::Value, pending: f64, firing: f64) {
    assert_eq!(d["source"], "alert", "{d:#}");
    assert_eq!(
        d["alertname"], "ApiMemoryGrowth",
        "not another service's: {d:#}"
    );
    assert_eq!(unix(&d["pending_at"]), pending, "{d:#}");
    assert_eq!(unix(&d["firing_at"]), firing, "{d:#}");
    assert_eq!(d["state_at_end"], "resolved");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["labels"]["pod"], "api-0");
    assert_eq!(d["other_alerts"], serde_json::json!(["ApiGCPauses"]));
}

/// The alert fired before `--from` (within the lookback); the rule is no longer in the
/// rules API (Prometheus answers, without it); another service's earlier alert is not
/// taken; a lookback too short to reach it finds none.
#[test]
fn alert_before_the_window_and_a_rule_gone() {
    let (data, from, to, pending, firing) = leak_with_alerts();
    let server = PromServer::start_with(&data, None, &["--web.enable-lifecycle"]);
    // The rule behind the alert is gone: the server now evaluates another one only.
    let rules = server.dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: api\n    rules:\n      - alert: ApiMemoryNearLimit\n        expr: process_resident_memory_bytes{job=\"api\"} > 1e12\n        for: 15m\n",
    )
    .unwrap();
    let config = server.dir.path().join("prometheus.yml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}rule_files:\n  - '{}'\n", rules.display()),
    )
    .unwrap();
    let reload = Command::new("curl")
        .args(["-sf", "-X", "POST", &format!("{}/-/reload", server.url)])
        .output()
        .unwrap();
    assert!(reload.status.success(), "reload: {reload:?}");
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");
    let d = &e["detection"];
    assert_first_alert(d, pending, firing);
    assert!(d["rule"].is_null());
    assert!(
        d["rule_unavailable_because"]
            .as_str()
            .unwrap()
            .contains("no alerting rule named ApiMemoryGrowth"),
        "{d:#}"
    );
    assert_eq!(query_record(&e, "rules")["ok"], true);
    // The draft: How Discovered and the timeline's Detection row filled, the Alert rule
    // line says why there is no rule.
    let md = String::from_utf8(
        lc().server(&server.url)
            .service("api")
            .window(from, to)
            .arg("--quiet")
            .run()
            .stdout,
    )
    .unwrap();
    assert!(
        md.contains("**How Discovered**: Alert ApiMemoryGrowth (severity warning), from Prometheus's `ALERTS`"),
        "{md}"
    );
    assert!(md.contains("resolved at the window's end"), "{md}");
    assert!(
        md.contains("Also fired for this service: ApiGCPauses."),
        "{md}"
    );
    assert!(md.contains("Alert rule: ApiMemoryGrowth; the rule could not be read: the rules API has no alerting rule named ApiMemoryGrowth"), "{md}");
    assert!(!md.contains("| [HH:MM] | Detection |"), "{md}");
    // With a lookback that starts while it fires, the firing time is not known.
    let short = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .args(["--lookback", "1h"])
        .json();
    let d = &short["detection"];
    assert_eq!(d["alertname"], "ApiMemoryGrowth", "{d:#}");
    assert_eq!(d["firing_before_search"], true, "{d:#}");
    assert!(d["firing_at"].is_null(), "{d:#}");
    // ALERTS_FOR_STATE still knows when it became active (whole seconds).
    assert_eq!(unix(&d["pending_at"]), pending.floor(), "{d:#}");
}

/// VictoriaMetrics without `-vmalert.proxyURL` answers the rules API with no groups: the
/// alert is still reported from `ALERTS`, and the report says why the rule is missing.
#[test]
fn no_rules_api_on_victoriametrics() {
    let (data, from, to, pending, firing) = leak_with_alerts();
    let (_vm, url, _dir) = start_victoria(&data, &[]);
    let e = collect_on_vm(
        &url,
        "api",
        &from.to_string(),
        &to.to_string(),
        &[],
        &serde_json::json!(3),
    );
    let d = &e["detection"];
    assert_first_alert(d, pending, firing);
    let why = d["rule_unavailable_because"].as_str().unwrap();
    assert!(
        why.contains("no rule groups at all") && why.contains("-vmalert.proxyURL"),
        "{why}"
    );
    assert_eq!(query_record(&e, "rules")["ok"], true);
}

/// No alert at all: when the growth rule of `leakcollect rules` (the same thresholds
/// the report recommends) would first have fired, checked against the data with the
/// rule file's own expression on Prometheus.
#[test]
fn no_alert_says_when_the_growth_rule_would_have_fired() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");
    let d = &e["detection"];
    assert_eq!(d["source"], "would-have-fired", "{d:#}");
    assert!(d["alertname"].is_null());
    let rule = &d["rule"];
    assert_eq!(rule["alertname"], "ApiMemoryGrowth");
    assert_eq!(rule["for_seconds"], 7200.0);
    assert_eq!(rule["evaluated_step_seconds"], 60.0);
    // The rule file `leakcollect rules` writes for this window has the same expression.
    let file = lc()
        .arg("rules")
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .run();
    let file = String::from_utf8(file.stdout).unwrap();
    let expr = rule["expr"].as_str().unwrap();
    assert!(
        file.contains(&serde_json::to_string(expr).unwrap()),
        "{expr}\n{file}"
    );
    // Against the data: the expression holds at every minute from pending to firing,
    // two hours apart, and not the minute before pending.
    let (pending, firing) = (unix(&d["pending_at"]), unix(&d["firing_at"]));
    assert_eq!(firing - pending, 7200.0);
    assert!(pending > s.from && firing < s.to, "{d:#}");
    let mut t = pending;
    while t <= firing {
        assert!(
            !instant(&server.url, expr, t).is_empty(),
            "not holding at {t}"
        );
        t += 60.0;
    }
    assert!(instant(&server.url, expr, pending - 60.0).is_empty());
    let because = d["because"].as_str().unwrap();
    // This Prometheus loads no rule file: no alert could have fired, and the report
    // says that first (the rules API was asked and listed none).
    assert_eq!(d["alerting_rules"], 0, "{d:#}");
    assert_eq!(query_record(&e, "rules")["ok"], true);
    assert!(
        because.starts_with("no alerting rules are loaded on this server (its rules API lists none), so no alert could fire between"),
        "{because}"
    );
    assert!(
        because.contains(
            &chrono::DateTime::from_timestamp(firing as i64, 0)
                .unwrap()
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        ),
        "{because}"
    );
    assert_eq!(query_record(&e, "growth_rule")["ok"], true);
    eprintln!("would have fired: {because}");
}

/// A server without the rules API (HTTP 404, as Mimir without its /prometheus prefix or
/// a Prometheus-compatible store without rules): played by the scripted fake, which
/// otherwise answers like a healthy Prometheus with one firing alert.
#[test]
fn rules_api_404_is_not_an_error() {
    use crate::faults::{Reply, healthy, ok_json};
    const TO: f64 = crate::faults::TO;
    let (url, _) = crate::faults::fake(|_, path, body| {
        if path.contains("/api/v1/rules") {
            return Reply::Json(404, "404 page not found".into());
        }
        let matrix = |values: &str, state: &str| {
            Reply::Json(
                200,
                ok_json(
                    &format!(
                        r#"{{"resultType":"matrix","result":[{{"metric":{{"alertname":"ApiMemoryGrowth","alertstate":"{state}","job":"api"}},"values":[{values}]}}]}}"#
                    ),
                    "",
                ),
            )
        };
        if body.contains("count_over_time(ALERTS{") {
            return matrix(&format!(r#"[{TO},"3"]"#), "firing");
        }
        if body.contains(r#"alertstate="firing"}["#) {
            return matrix(&format!(r#"[{},"1"],[{TO},"1"]"#, TO - 59.5), "firing");
        }
        if body.contains(r#"alertstate="pending"}["#) {
            return matrix(&format!(r#"[{},"1"]"#, TO - 659.5), "pending");
        }
        if body.contains("ALERTS_FOR_STATE") {
            return Reply::Json(
                200,
                ok_json(
                    &format!(
                        r#"{{"resultType":"vector","result":[{{"metric":{{"__name__":"ALERTS_FOR_STATE","alertname":"ApiMemoryGrowth","job":"api"}},"value":[{TO},"{}"]}}]}}"#,
                        TO - 660.0
                    ),
                    "",
                ),
            );
        }
        healthy(body, path, "")
    });
    let e = lc()
        .server(&url)
        .service("api")
        .window(crate::faults::FROM, TO)
        .args(["--runtime", "nodejs"])
        .json();
    let d = &e["detection"];
    assert_eq!(d["source"], "alert", "{d:#}");
    assert_eq!(d["alertname"], "ApiMemoryGrowth");
    assert_eq!(unix(&d["firing_at"]), TO - 59.5, "{d:#}");
    assert_eq!(unix(&d["pending_at"]), TO - 659.5, "{d:#}");
    let why = d["rule_unavailable_because"].as_str().unwrap();
    assert!(
        why.contains("HTTP 404") && why.contains("/prometheus"),
        "{why}"
    );
    let record = query_record(&e, "rules");
    assert_eq!(record["ok"], false);
    assert_eq!(record["kind"], "rules");
    assert!(e["warnings"].to_string().contains("rules") || !why.is_empty());
}

/// `init` → `attach` on a draft: How Discovered, the timeline's Detection row (without
/// a fix too) and the Alert rule line are filled where the template's placeholders
/// were; people's words around them stay; a second attach changes nothing.
#[test]
fn attach_fills_how_discovered_the_timeline_and_the_alert_rule() {
    let (data, from, to, _, _) = leak_with_alerts();
    let server = PromServer::start(&data);
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api-leak.md");
    let path = draft.to_str().unwrap();
    let init = leakcollect(&[
        "init",
        path,
        "--service",
        "api",
        "--from",
        &from.to_string(),
        "--to",
        &to.to_string(),
    ]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let created = std::fs::read_to_string(&draft).unwrap();
    assert!(created.contains("**How Discovered**: [Alert, monitoring dashboard"));
    // A person writes in the Monitoring Data block's section before leakcollect runs.
    let edited = created.replace(
        "Dashboard: [Link to Grafana dashboard]",
        "Dashboard: https://grafana.example/d/api",
    );
    std::fs::write(&draft, &edited).unwrap();
    let attach = |extra: &[&str]| {
        let mut args = vec!["attach", path, "--prometheus-url", &server.url, "-q"];
        args.extend_from_slice(extra);
        leakcollect(&args)
    };
    let out = attach(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&draft).unwrap();
    let discovered = text
        .lines()
        .find(|l| l.starts_with("**How Discovered**:"))
        .unwrap();
    assert!(
        discovered.starts_with("**How Discovered**: Alert ApiMemoryGrowth (severity warning)"),
        "{discovered}"
    );
    assert!(
        !text.contains("**How Discovered**: [Alert"),
        "placeholder replaced"
    );
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("| Detection |"))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("Alert ApiMemoryGrowth fired (warning)"),
        "{rows:?}"
    );
    // The Detection row sits where the placeholder was: first in its table.
    let table = text.find("| Time | Event | Details |").unwrap();
    let first_row = text[table..].lines().nth(2).unwrap();
    assert!(first_row.contains("| Detection |"), "{first_row}");
    assert!(text.contains("| [HH:MM] | Fix deployed | [Deployment details] |"));
    assert!(
        text.contains("Alert rule: ApiMemoryGrowth; the rule could not be read: the rules API answered with no rule groups at all"),
        "{text}"
    );
    assert!(text.contains("Dashboard: https://grafana.example/d/api"));
    let again = attach(&["--check"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// The report's detection lines for an alert with its rule, with Prometheus's values
/// made safe where they land (a table cell, inline text, a code fence).
#[test]
fn detection_in_the_report() {
    use leakcollect::evidence::{AlertRule, AlertState, Detection, DetectionSource, Evidence};
    let path = repo_path("tests/fixtures/evidence-fix.json");
    let mut e: Evidence = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    e.detection = Some(Detection {
        source: DetectionSource::Alert,
        searched_from: Some(t("2026-11-13T08:00:00Z")),
        searched_to: Some(t("2026-11-21T08:00:00Z")),
        alertname: Some("Api|Memory*Growth".into()),
        severity: Some("warning".into()),
        pending_at: Some(t("2026-11-20T09:10:07.250Z")),
        firing_at: Some(t("2026-11-20T11:10:07.250Z")),
        state_at_end: Some(AlertState::Resolved),
        other_alerts: vec!["ApiGCPauses".into()],
        rule: Some(AlertRule {
            alertname: "Api|Memory*Growth".into(),
            expr: "deriv(x[1h]) * 3600 > 5e+06".into(),
            for_seconds: 7200.0,
            threshold: Some(5e6),
            group: Some("leakcollect-api".into()),
            file: Some("/etc/prometheus/rules/api.yml".into()),
            evaluated_step_seconds: None,
        }),
        because: "ALERTS: fired".into(),
        ..Default::default()
    });
    let text = leakcollect::render::evidence::report(&e, None).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("Detection |")
                || l.starts_with("**How Discovered**")
                || l.starts_with("Alert rule:")
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
    // Without an alert the sentence says so, and the placeholders stay for people.
    e.detection = Some(Detection {
        source: DetectionSource::WouldHaveFired,
        searched_from: Some(t("2026-11-13T08:00:00Z")),
        searched_to: Some(t("2026-11-21T08:00:00Z")),
        pending_at: Some(t("2026-11-20T08:14:00Z")),
        firing_at: Some(t("2026-11-20T10:14:00Z")),
        labels: [("instance".to_string(), "10.0.0.3:9091".to_string())].into(),
        rule: Some(AlertRule {
            alertname: "ApiMemoryGrowth".into(),
            expr: "deriv(x[1h]) * 3600 > 25000000".into(),
            for_seconds: 7200.0,
            threshold: Some(25e6),
            evaluated_step_seconds: Some(60.0),
            ..Default::default()
        }),
        because: "no alert fired".into(),
        ..Default::default()
    });
    let text = leakcollect::render::evidence::report(&e, None).unwrap();
    let discovered = text
        .lines()
        .find(|l| l.starts_with("**How Discovered**"))
        .unwrap();
    insta::assert_snapshot!("would_have_fired", discovered);
    assert!(text.contains("| [HH:MM] | Detection | [How was leak detected?"));
    // No alert fired: the line says so, with the rule to add.
    assert!(
        text.contains("Alert rule: none fired for this service from ")
            && text.contains("suggested: ApiMemoryGrowth, memory growth over"),
        "{}",
        text.lines()
            .find(|l| l.starts_with("Alert rule:"))
            .unwrap_or_default()
    );
}

/// A server that fails the `ALERTS` query: a warning and `source: none` saying why; the
/// run and its figures go on.
#[test]
fn a_failed_alerts_query_is_a_warning() {
    use crate::faults::{Reply, healthy};
    let (url, _) = crate::faults::fake(|_, path, body| {
        if body.contains("ALERTS") {
            return Reply::Json(
                422,
                r#"{"status":"error","errorType":"execution","error":"query timed out in expression evaluation"}"#.into(),
            );
        }
        healthy(body, path, "")
    });
    let e = lc()
        .server(&url)
        .service("api")
        .window(crate::faults::FROM, crate::faults::TO)
        .args(["--runtime", "nodejs"])
        .json();
    let d = &e["detection"];
    assert_eq!(d["source"], "none", "{d:#}");
    let because = d["because"].as_str().unwrap();
    assert!(
        because.contains("could not be read") && because.contains("query timed out"),
        "{because}"
    );
    assert!(
        e["warnings"]
            .to_string()
            .contains("the ALERTS series could not be read"),
        "{}",
        e["warnings"]
    );
    assert!(e["periods"]["window"]["growth_bytes_per_hour"].is_number());
    assert_eq!(query_record(&e, "alerts")["ok"], false);
}
