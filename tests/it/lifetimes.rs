//! Process lifetimes short against the window's step: pods OOM-killed every 8 minutes,
//! scraped every 15 s, over a 24 h window whose step (90 s) leaves 5 points per lifetime,
//! fewer than a slope needs. collect and scan must fetch the memory series again at a
//! finer step (16 s here) and give the leak's rate, on a real Prometheus.

use crate::common::*;
use synth::Scenario;

fn short_lived() -> Scenario {
    Scenario {
        oom_every: Some(8.0 * 60.0),
        sawtooth_bytes: 4.0 * MB,
        sawtooth_period: 60.0,
        interval: 15.0,
        ..scenario("oom-sawtooth", "api")
    }
}

#[test]
fn short_lifetimes_get_a_finer_step_in_collect_and_scan() {
    let s = short_lived();
    let server = PromServer::start(&openmetrics(&[&s]));
    let e = lc()
        .server(&server.url)
        .service("api")
        .window(s.from, s.to)
        .json();
    let window = &e["periods"]["window"];
    assert_eq!(e["window"]["step_seconds"], 90.0, "{}", e["window"]);
    let growth = window["growth_bytes_per_hour"].as_f64().unwrap_or(f64::NAN);
    assert!(
        within(growth, 120.0 * MB, 0.05),
        "growth {growth}, warnings {}",
        e["warnings"]
    );
    assert_eq!(window["restarts"], s.expected_oom_kills(s.from, s.to));
    // Both rounds are listed as sent: the window's step, then the finer one the figures
    // come from (8 min / 30 points = 16 s: a divisor of 6 h, above the 15 s scrape interval).
    assert_eq!(query_record(&e, "heap_used")["step_seconds"], 90.0);
    let heap = query_record(&e, "heap_used_finer");
    assert_eq!(heap["step_seconds"], 16.0, "{heap}");
    assert_eq!(heap["ok"], true, "{heap}");
    let warnings = e["warnings"].to_string();
    assert!(
        warnings.contains("fetched again at a 16s step"),
        "{warnings}"
    );
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:#?}");

    let scan = scan_json(&server.url, s.from, s.to, &[]);
    let row = &scan["services"][0];
    let growth = row["growth_bytes_per_hour"].as_f64().unwrap_or(f64::NAN);
    assert!(
        within(growth, 120.0 * MB, 0.05),
        "scan growth {growth}: {scan}"
    );
    assert_eq!(row["flag"], "leaking");
    assert!(
        scan["warnings"]
            .to_string()
            .contains("fetched again at a 16s step"),
        "{scan}"
    );

    // A given --step is kept: no second round at a finer step.
    let fixed = scan_json(&server.url, s.from, s.to, &["--step", "90s"]);
    assert_eq!(fixed["step_seconds"], 90.0);
    assert!(!fixed["warnings"].to_string().contains("fetched again"));
    let steps: Vec<f64> = fixed["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["step_seconds"].as_f64())
        .collect();
    assert!(steps.iter().all(|s| *s == 90.0), "{steps:?}");
    // -q drops the warning lines under the table, not the rows.
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let table = |extra: &[&str]| {
        let out = lc()
            .arg("scan")
            .server(&server.url)
            .args(["--from", &from, "--to", &to])
            .args(extra)
            .run();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(table(&[]).contains("warning: "));
    let quiet = table(&["-q"]);
    assert!(!quiet.contains("warning: "), "{quiet}");
    assert!(quiet.contains("leaking  api"), "{quiet}");
}
