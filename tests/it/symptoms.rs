//! The Initial Symptoms boxes and the per-period latency, error and connection-pool
//! figures behind them, on a real Prometheus loaded with series under their real names:
//! synth's services plus hand-built request histograms (latency rising with the heap),
//! request counters with 5xx answers, and connection pools (OpenTelemetry's
//! `db_client_connections_*`, HikariCP through Micrometer) — one exhausting its pool,
//! one not — and services without any of them ("no data").

use crate::common::*;
use serde_json::Value;
use std::fmt::Write as _;

/// One OpenMetrics family: `samples` gives (labels, time, value) lines.
fn family(kind: &str, name: &str, samples: impl IntoIterator<Item = (String, f64, f64)>) -> String {
    let mut text = format!("# TYPE {name} {kind}\n");
    for (series, t, v) in samples {
        let _ = writeln!(text, "{series} {v} {t}");
    }
    text
}

/// Minutes of `(from, to)`, as sample times.
fn minutes(from: f64, to: f64) -> impl Iterator<Item = f64> + Clone {
    (0..=((to - from) / 60.0) as i64).map(move |m| from + m as f64 * 60.0)
}

/// A request histogram whose every request at time t takes `latency(t)` seconds,
/// `latency` never decreasing: the requests up to t that fit under `le` are those made
/// before latency passed `le`.
fn latency_histogram(
    job: &str,
    from: f64,
    to: f64,
    rps: f64,
    latency: impl Fn(f64) -> f64,
) -> String {
    const BUCKETS: [f64; 5] = [0.05, 0.1, 0.25, 0.5, 1.0];
    let name = "http_request_duration_seconds";
    let labels = format!("job=\"{job}\",instance=\"{job}-0\",route=\"/api\"");
    let count = |t: f64| ((t - from) * rps).floor();
    let mut samples = Vec::new();
    for t in minutes(from, to) {
        for le in BUCKETS {
            // The last minute whose latency fits under le, found on the minute grid.
            let fits = minutes(from, t).filter(|u| latency(*u) <= le).last();
            let value = fits.map_or(0.0, &count);
            samples.push((format!("{name}_bucket{{{labels},le=\"{le}\"}}"), t, value));
        }
        samples.push((
            format!("{name}_bucket{{{labels},le=\"+Inf\"}}"),
            t,
            count(t),
        ));
        samples.push((format!("{name}_count{{{labels}}}"), t, count(t)));
    }
    family("histogram", name, samples)
}

fn pool(
    job: &str,
    from: f64,
    to: f64,
    names: (&str, &str),
    extra: &str,
    used: impl Fn(f64) -> f64,
    max: f64,
) -> String {
    let labels = format!("job=\"{job}\",instance=\"{job}-0\"{extra}");
    let (used_name, max_name) = names;
    let used_samples = minutes(from, to).map(|t| (format!("{used_name}{{{labels}}}"), t, used(t)));
    let max_labels = labels.replace(",state=\"used\"", "");
    let max_samples = minutes(from, to).map(|t| (format!("{max_name}{{{max_labels}}}"), t, max));
    family("gauge", used_name, used_samples) + &family("gauge", max_name, max_samples)
}

fn with_extra(base: Vec<u8>, extra: &[String]) -> Vec<u8> {
    let text = String::from_utf8(base).unwrap();
    let mut text = text.trim_end().strip_suffix("# EOF").unwrap().to_string();
    for e in extra {
        text.push_str(e);
    }
    text.push_str("# EOF\n");
    text.into_bytes()
}

fn symptom<'a>(e: &'a Value, name: &str) -> &'a Value {
    &e["symptoms"][name]
}

#[test]
fn pools_latency_and_errors_tick_their_boxes() {
    let leaky = scenario("steady-leak", "orders");
    let healthy = runtime_scenario("no-leak", "billing", "jvm");
    let bare = runtime_scenario("steady-leak", "reports", "python");
    let (from, to) = (leaky.from, leaky.to);
    let span = to - from;
    let extra = vec![
        // orders: an OpenTelemetry pool (node-postgres) filling up to its maximum of 20.
        pool(
            "orders",
            from,
            to,
            ("db_client_connections_usage", "db_client_connections_max"),
            ",pool_name=\"pg\",state=\"used\"",
            |t| (2.0 + 18.0 * (t - from) / span).floor().min(20.0),
            20.0,
        ),
        // billing: HikariCP through Micrometer, half used at most.
        pool(
            "billing",
            from,
            to,
            ("hikaricp_connections_active", "hikaricp_connections_max"),
            ",pool=\"HikariPool-1\"",
            |t| 3.0 + 2.0 * ((t - from) / 3600.0).sin().abs(),
            10.0,
        ),
    ];
    let data = with_extra(openmetrics(&[&leaky, &healthy, &bare]), &extra);
    let server = PromServer::start(&data);
    let run = |service: &str| {
        lc().server(&server.url)
            .service(service)
            .window(from, to)
            .json()
    };

    let orders = run("orders");
    let w = &orders["periods"]["window"];
    assert_eq!(w["connections_used_ratio"].as_f64(), Some(1.0), "{w}");
    assert_eq!(w["connections_in_use_end"].as_f64(), Some(20.0), "{w}");
    assert_eq!(
        symptom(&orders, "connection_pool_exhaustion")["present"],
        true
    );
    assert!(
        symptom(&orders, "connection_pool_exhaustion")["because"]
            .as_str()
            .unwrap()
            .contains("100%"),
        "{}",
        symptom(&orders, "connection_pool_exhaustion")
    );
    // synth's Node.js requests take 200 ms while leaking, all answered 200.
    let p95 = w["latency_p95_seconds"].as_f64().unwrap();
    assert!((0.1..=0.25).contains(&p95), "{p95}");
    assert_eq!(w["error_ratio"].as_f64(), Some(0.0));
    // Constant latency and no errors: no degradation, and the reason gives the figures.
    assert_eq!(symptom(&orders, "service_degradation")["present"], false);
    assert_eq!(
        symptom(&orders, "gc_pressure")["present"],
        true,
        "{}",
        symptom(&orders, "gc_pressure")
    );

    let billing = run("billing");
    let bw = &billing["periods"]["window"];
    let ratio = bw["connections_used_ratio"].as_f64().unwrap();
    assert!((0.45..=0.5).contains(&ratio), "{ratio}");
    assert_eq!(
        symptom(&billing, "connection_pool_exhaustion")["present"],
        false
    );
    assert_eq!(symptom(&billing, "linear_growth")["present"], false);

    // reports (Python) has neither pools nor a latency histogram.
    let reports = run("reports");
    for name in ["connection_pool_exhaustion", "gc_pressure"] {
        let s = symptom(&reports, name);
        assert!(s["present"].is_null(), "{name}: {s}");
        assert!(s["because"].as_str().unwrap().starts_with("no data"), "{s}");
    }
    let rw = &reports["periods"]["window"];
    assert!(rw["latency_p95_seconds"].is_null() && rw["connections_used_ratio"].is_null());
    // Its request counter exists (all 200s): the error ratio is 0, so degradation is
    // decided (absent) rather than "no data".
    assert_eq!(rw["error_ratio"].as_f64(), Some(0.0));
    assert_eq!(symptom(&reports, "service_degradation")["present"], false);
    for e in [&orders, &billing, &reports] {
        let errors = schema_errors("evidence.schema.json", e);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn latency_rising_with_the_heap_is_degradation() {
    let slow = runtime_scenario("steady-leak", "search", "python");
    let (from, to) = (slow.from, slow.to);
    let span = to - from;
    let extra = vec![
        latency_histogram("search", from, to, 5.0, |t| 0.04 + 0.4 * (t - from) / span),
        // 2 % of search's requests fail: a counter with 5xx answers beside synth's 200s.
        family(
            "counter",
            "http_requests",
            minutes(from, to).flat_map(|t| {
                let n = ((t - from) * 0.2).floor();
                (0..3).map(move |i| {
                    (
                        format!("http_requests_total{{job=\"search\",instance=\"search-{i}\",method=\"GET\",handler=\"/api\",status=\"500\"}}"),
                        t,
                        n,
                    )
                })
            }),
        ),
    ];
    let server = PromServer::start(&with_extra(openmetrics(&[&slow]), &extra));
    let e = lc()
        .server(&server.url)
        .service("search")
        .window(from, to)
        .json();
    let w = &e["periods"]["window"];
    let trend = w["latency_trend_seconds"].as_array().expect("a trend");
    let (first, last) = (trend[0].as_f64().unwrap(), trend[1].as_f64().unwrap());
    assert!(first < 0.12 && last > 0.3, "{first} → {last}");
    let s = symptom(&e, "service_degradation");
    assert_eq!(s["present"], true, "{s}");
    // synth's Python counter serves 10 requests/s per instance with status 200; 0.2/s
    // fail: 0.2 / 10.2.
    let ratio = w["error_ratio"].as_f64().unwrap();
    assert!(within(ratio, 0.2 / 10.2, 0.05), "{ratio}");
    let markdown = String::from_utf8(
        lc().server(&server.url)
            .service("search")
            .window(from, to)
            .args(["-q"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    let line = markdown
        .lines()
        .find(|l| l.contains("Service degradation"))
        .expect("a degradation box");
    assert!(line.starts_with("- [x]"), "{line}");
    assert!(line.contains("over the window (24.0 h)"), "{line}");
    // The Key Panels line and the JSON say the same.
    let panel = format!(
        "- Error rate: server errors {:.1}% of requests over the window",
        ratio * 100.0
    );
    assert!(markdown.contains(&panel), "{panel}\n{markdown}");
    assert_eq!(markdown.matches("Connection pool exhaustion").count(), 1);
}
