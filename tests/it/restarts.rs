//! Restart counts when two restarts fall between two evaluation steps (a crash loop:
//! the process dies again 30 s after starting). Step-sampled, the start time (or the
//! CPU counter) changes once; between raw samples it changes twice. collect and scan
//! must count both, from start times and from counter resets, on a real Prometheus, and
//! VictoriaMetrics (whose `changes()` also counts the change into its window) the same.

use crate::common::*;
use std::fmt::Write;

const SCRAPE: f64 = 15.0;
const LEAK_PER_HOUR: f64 = 10.0 * MB;

/// A metric family: name, type, sample name, value at (time, process start).
type Family = (
    &'static str,
    &'static str,
    &'static str,
    Box<dyn Fn(f64, f64) -> f64>,
);

/// Restart times of instance `i`: every 2 h, and every third one followed by another
/// restart 30 s later. All well inside the window, so no edge decides a count.
fn restarts(from: f64, i: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for k in 0..11 {
        let at = from + 50.0 * 60.0 + i as f64 * 20.0 * 60.0 + k as f64 * 2.0 * HOUR;
        out.push(at);
        if k % 3 == 2 {
            out.push(at + 30.0);
        }
    }
    out
}

/// OpenMetrics for `service` with two instances scraped every 15 s; without
/// `process_start_time_seconds` when `start_times` is false (restarts then show only as
/// CPU-counter resets).
fn crash_loop(service: &str, from: f64, to: f64, start_times: bool) -> String {
    let mut families: Vec<Family> = vec![
        (
            "nodejs_heap_size_used_bytes",
            "gauge",
            "nodejs_heap_size_used_bytes",
            // A leak per lifetime, with a GC sawtooth on top.
            Box::new(|t, start| {
                100.0 * MB
                    + LEAK_PER_HOUR * (t - start) / HOUR
                    + 2.0 * MB * ((t / 60.0) % 5.0) / 5.0
            }),
        ),
        (
            "process_cpu_seconds",
            "counter",
            "process_cpu_seconds_total",
            Box::new(|t, start| 0.05 * (t - start)),
        ),
    ];
    if start_times {
        families.push((
            "process_start_time_seconds",
            "gauge",
            "process_start_time_seconds",
            Box::new(|_, start| start),
        ));
    }
    let mut text = String::new();
    for (family, kind, sample, value) in &families {
        writeln!(text, "# TYPE {family} {kind}").unwrap();
        for i in 0..2 {
            let events = restarts(from, i);
            let mut t = ((from - HOUR) / SCRAPE).ceil() * SCRAPE;
            while t <= to {
                let start = events
                    .iter()
                    .copied()
                    .filter(|r| *r <= t - 1.0)
                    .fold(from - 2.0 * 86_400.0, f64::max);
                writeln!(
                    text,
                    "{sample}{{job=\"{service}\",instance=\"10.1.0.{i}:9091\",namespace=\"prod\"}} {} {t}",
                    value(t, start)
                )
                .unwrap();
                t += SCRAPE;
            }
        }
    }
    text
}

#[test]
fn two_restarts_between_steps_count_twice() {
    let (from, to) = window();
    let mut text = crash_loop("loop", from, to, true);
    text.push_str(&crash_loop("loopreset", from, to, false));
    text.push_str("# EOF\n");
    let server = PromServer::start(text.as_bytes());
    let truth = (0..2).map(|i| restarts(from, i).len()).sum::<usize>() as u64;
    assert_eq!(truth, 28, "11 restarts and 3 doubles per instance");

    for service in ["loop", "loopreset"] {
        let e = lc()
            .server(&server.url)
            .service(service)
            .window(from, to)
            .args(["--runtime", "nodejs"])
            .json();
        let window = &e["periods"]["window"];
        let heap = query_record(&e, "heap_used");
        assert!(
            heap["step_seconds"].as_f64().unwrap() >= 60.0,
            "two restarts 30 s apart must share a step for this test to mean anything: {heap}"
        );
        assert_eq!(window["restarts"], truth, "{service}: {}", e["warnings"]);
        let per_instance: Vec<u64> = window["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["restarts"].as_u64().unwrap())
            .collect();
        assert_eq!(per_instance, [14, 14], "{service}");
        let growth = window["growth_bytes_per_hour"].as_f64().unwrap();
        assert!(within(growth, LEAK_PER_HOUR, 0.05), "{service}: {growth}");
        let count_id = if service == "loop" {
            "process_start_restarts"
        } else {
            "cpu_seconds_restarts"
        };
        let count = query_record(&e, count_id);
        assert_eq!(count["ok"], true, "{count}");
        assert!(
            count["promql"].as_str().unwrap().contains(" offset "),
            "{count}"
        );
        let errors = schema_errors("evidence.schema.json", &e);
        assert!(errors.is_empty(), "{errors:#?}");
    }

    let (_vm, vm_url, _vm_dir) = start_victoria(text.as_bytes(), &["-search.disableCache"]);
    let (vm_from, vm_to) = (format!("{from}"), format!("{to}"));
    for service in ["loop", "loopreset"] {
        let e = collect_on_vm(
            &vm_url,
            service,
            &vm_from,
            &vm_to,
            &["--runtime", "nodejs"],
            &serde_json::json!(2),
        );
        assert_eq!(
            e["periods"]["window"]["restarts"], truth,
            "VictoriaMetrics, {service}: {}",
            e["warnings"]
        );
    }

    let scan = scan_json(&server.url, from, to, &["--runtime", "nodejs"]);
    for row in scan["services"].as_array().unwrap() {
        assert_eq!(row["restarts"], truth, "{row}");
        assert_eq!(row["flag"], "leaking", "{row}");
    }
    assert_eq!(scan["services"].as_array().unwrap().len(), 2, "{scan}");
}
