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
