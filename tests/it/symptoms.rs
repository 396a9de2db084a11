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
pub(crate) fn family(
    kind: &str,
    name: &str,
    samples: impl IntoIterator<Item = (String, f64, f64)>,
) -> String {
    let mut text = format!("# TYPE {name} {kind}\n");
    for (series, t, v) in samples {
        let _ = writeln!(text, "{series} {v} {t}");
    }
    text
}

/// Minutes of `(from, to)`, as sample times.
pub(crate) fn minutes(from: f64, to: f64) -> impl Iterator<Item = f64> + Clone {
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

/// A pool's in-use gauge (with `used_extra` labels) and its maximum (`max_extra`).
pub(crate) fn pool(
    job: &str,
    (from, to): (f64, f64),
    (used_name, max_name): (&str, &str),
    (used_extra, max_extra): (&str, &str),
    used: impl Fn(f64) -> f64,
    max: f64,
) -> String {
    let labels = format!("job=\"{job}\",instance=\"{job}-0\"");
    let used_samples =
        minutes(from, to).map(|t| (format!("{used_name}{{{labels}{used_extra}}}"), t, used(t)));
    let max_samples =
        minutes(from, to).map(|t| (format!("{max_name}{{{labels}{max_extra}}}"), t, max));
    family("gauge", used_name, used_samples) + &family("gauge", max_name, max_samples)
}

pub(crate) fn with_extra(base: Vec<u8>, extra: &[String]) -> Vec<u8> {
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
        // orders: an OpenTelemetry pool (db.client.connections.*) full (20 of 20) for the last 10 %.
        pool(
            "orders",
            (from, to),
            ("db_client_connections_usage", "db_client_connections_max"),
            (",pool_name=\"pg\",state=\"used\"", ",pool_name=\"pg\""),
            |t| (2.0 + 18.0 * (t - from) / (0.9 * span)).floor().min(20.0),
            20.0,
        ),
        // billing: HikariCP through Micrometer, half used at most.
        pool(
            "billing",
            (from, to),
            ("hikaricp_connections_active", "hikaricp_connections_max"),
            (",pool=\"HikariPool-1\"", ",pool=\"HikariPool-1\""),
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
            .contains("reached 100.0% of a pool's maximum for two consecutive steps"),
        "{}",
        symptom(&orders, "connection_pool_exhaustion")
    );
    // synth's Node.js requests take 200 ms while leaking, all answered 200.
    let p95 = w["latency_p95_seconds"].as_f64().unwrap();
    assert!((0.1..=0.25).contains(&p95), "{p95}");
    assert_eq!(w["error_ratio"].as_f64(), Some(0.0));
    // Constant latency (the trend compares the first and last tenth) and no errors: no
    // degradation.
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
    // Its request counter exists (all 200s): the error ratio is 0, but without a latency
    // to compare, slow responses cannot be judged: undecided, and the reason says why.
    assert_eq!(rw["error_ratio"].as_f64(), Some(0.0));
    let s = symptom(&reports, "service_degradation");
    assert!(s["present"].is_null(), "{s}");
    assert!(
        s["because"]
            .as_str()
            .unwrap()
            .contains("server errors 0.0% of requests; no after-fix latency or latency trend"),
        "{s}"
    );
    for e in [&orders, &billing, &reports] {
        let errors = schema_errors("evidence.schema.json", e);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

/// synth's dotnet instances (`10.0.0.N:9095`, prometheus-net labels) with some requests
/// answered 500, in the counter and in a histogram with the very same labels, as
/// prometheus-net's `UseHttpMetrics` exports them.
fn dotnet_errors(
    job: &str,
    from: f64,
    to: f64,
    instances: usize,
    ok_rps: f64,
    error_rps: f64,
) -> String {
    let labels = |i: usize, code: &str| {
        format!(
            "job=\"{job}\",instance=\"10.0.0.{}:9095\",namespace=\"prod\",pod=\"{job}-0-{i}\",method=\"GET\",code=\"{code}\",controller=\"\",action=\"\"",
            i + 1
        )
    };
    let failed = |t: f64| ((t - from) * error_rps).floor();
    let counter = family(
        "counter",
        "http_requests_received",
        minutes(from, to).flat_map(|t| {
            (0..instances).map(move |i| {
                (
                    format!("http_requests_received_total{{{}}}", labels(i, "500")),
                    t,
                    failed(t),
                )
            })
        }),
    );
    let name = "http_request_duration_seconds";
    let mut samples = Vec::new();
    for t in minutes(from, to) {
        for i in 0..instances {
            for (code, rps) in [("200", ok_rps), ("500", error_rps)] {
                let n = ((t - from) * rps).floor();
                let l = labels(i, code);
                samples.push((format!("{name}_bucket{{{l},le=\"+Inf\"}}"), t, n));
                samples.push((format!("{name}_sum{{{l}}}"), t, n * 0.01));
                samples.push((format!("{name}_count{{{l}}}"), t, n));
            }
        }
    }
    counter + &family("histogram", name, samples)
}

#[test]
fn latency_rising_with_the_heap_and_server_errors_are_degradation() {
    let slow = runtime_scenario("steady-leak", "search", "python");
    let failing = runtime_scenario("no-leak", "shop", "dotnet");
    let (from, to) = (slow.from, slow.to);
    let span = to - from;
    let extra = vec![
        latency_histogram("search", from, to, 5.0, |t| 0.04 + 0.4 * (t - from) / span),
        dotnet_errors(
            "shop",
            from,
            to,
            failing.instances,
            failing.requests_per_second,
            0.3,
        ),
    ];
    let server = PromServer::start(&with_extra(openmetrics(&[&slow, &failing]), &extra));
    let run = |service: &str| lc().server(&server.url).service(service).window(from, to);

    // search: the latency rises from 40 to 440 ms; no request fails.
    let e = run("search").json();
    let w = &e["periods"]["window"];
    let trend = w["latency_trend_seconds"].as_array().expect("a trend");
    let (first, last) = (trend[0].as_f64().unwrap(), trend[1].as_f64().unwrap());
    assert!(first < 0.12 && last > 0.3, "{first} → {last}");
    assert_eq!(w["error_ratio"].as_f64(), Some(0.0));
    let s = symptom(&e, "service_degradation");
    assert_eq!(s["present"], true, "{s}");
    let markdown = String::from_utf8(run("search").args(["-q"]).expect_code(0).stdout).unwrap();
    let line = markdown
        .lines()
        .find(|l| l.contains("Service degradation"))
        .expect("a degradation box");
    assert!(line.starts_with("- [x]"), "{line}");
    assert!(line.contains("over the window (24.0 h): "), "{line}");
    assert_eq!(markdown.matches("Connection pool exhaustion").count(), 1);

    // shop: 0.3 of 10.3 requests/s fail, counted once although the counter and the
    // histogram carry the same labels.
    let e = run("shop").json();
    let w = &e["periods"]["window"];
    let ratio = w["error_ratio"].as_f64().expect("an error ratio");
    assert!(within(ratio, 0.3 / 10.3, 0.02), "{ratio}");
    assert!(w["latency_p95_seconds"].is_null());
    let s = symptom(&e, "service_degradation");
    assert_eq!(s["present"], true, "{s}");
    let markdown = String::from_utf8(run("shop").args(["-q"]).expect_code(0).stdout).unwrap();
    // The Key Panels line and the JSON say the same.
    let panel = format!(
        "- Error rate: server errors {:.1}% of requests over the window",
        ratio * 100.0
    );
    assert!(markdown.contains(&panel), "{panel}\n{markdown}");
}

#[test]
fn a_fix_compares_each_symptom_with_after_it() {
    let s = scenario("fix-mid-window", "cart");
    let fix = s.fix_at.unwrap();
    let (from, to) = (s.from, s.to);
    // A pool filling up to its maximum before the fix, idle at the end.
    let extra = vec![pool(
        "cart",
        (from, to),
        ("db_client_connection_count", "db_client_connection_max"),
        (
            ",db_client_connection_pool_name=\"main\",db_client_connection_state=\"used\"",
            ",db_client_connection_pool_name=\"main\"",
        ),
        |t| {
            if t < fix {
                (4.0 + 8.0 * (t - from) / (fix - from)).floor().min(10.0)
            } else {
                0.0
            }
        },
        10.0,
    )];
    let server = PromServer::start(&with_extra(openmetrics(&[&s]), &extra));
    let run = || {
        lc().server(&server.url)
            .service("cart")
            .window(from, to)
            .args(["--fix-deployed", &format!("{fix}")])
    };
    let e = run().json();
    let (before, after) = (&e["periods"]["before"], &e["periods"]["after"]);
    // synth: major GC pauses of 300 ms before the fix, 30 ms after.
    let gc = symptom(&e, "gc_pressure");
    assert_eq!(gc["present"], true, "{gc}");
    assert!(
        gc["because"]
            .as_str()
            .unwrap()
            .contains("major collections'"),
        "{gc}"
    );
    // Requests take 200 ms before the fix, 40 ms after.
    let b = before["latency_p95_seconds"].as_f64().unwrap();
    let a = after["latency_p95_seconds"].as_f64().unwrap();
    assert!(b > 0.1 && a < 0.05, "{b} {a}");
    assert_eq!(symptom(&e, "service_degradation")["present"], true);
    assert_eq!(
        before["connections_used_ratio"].as_f64(),
        Some(1.0),
        "{before}"
    );
    assert_eq!(symptom(&e, "connection_pool_exhaustion")["present"], true);
    assert_eq!(
        after["connections_in_use_end"].as_f64(),
        Some(0.0),
        "{after}"
    );
    let markdown = String::from_utf8(run().args(["-q"]).expect_code(0).stdout).unwrap();
    // An idle pool at the end is 0 connections, not "no connection pool metric".
    assert!(
        markdown.contains("- Active connections: 0 in use across the connection pools at the end"),
        "{markdown}"
    );
    assert!(
        markdown.contains("of a pool's maximum after the fix"),
        "{markdown}"
    );
    let heap = markdown
        .lines()
        .find(|l| l.starts_with("- Heap usage trend"))
        .unwrap();
    assert!(heap.contains("stable after the fix"), "{heap}");
}
