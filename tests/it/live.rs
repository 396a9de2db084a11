//! Live test: a real Node.js process instrumented with prom-client that leaks on purpose,
//! scraped every second by a real Prometheus, both on 127.0.0.1 and started here.
//! leakcollect with the default `--runtime auto` must detect Node.js and a positive growth.

use crate::common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn leaking_nodejs_process_scraped_live() {
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
    let _node = Guarded(node);
    let server = start_scraping_prometheus(&[("live-node", format!("127.0.0.1:{port}"))]);
    let started = chrono::Utc::now().timestamp();
    // About a minute of 1 s scrapes.
    let deadline = Instant::now() + Duration::from_secs(65);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
    }
    let from = format!("{}", started);
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "live-node",
        "--from",
        &from,
        "--to",
        "now",
        "--format",
        "json",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["runtime"], "nodejs", "{}", e["runtime_detected_from"]);
    let w = &e["periods"]["window"];
    assert_eq!(w["instance_count"], 1);
    assert_eq!(w["restarts"], 0);
    let growth = w["growth_bytes_per_hour"]
        .as_f64()
        .expect("a growth figure");
    eprintln!(
        "live Node.js growth: {:.1} MB/h, step {} s",
        growth / 1e6,
        e["window"]["step_seconds"]
    );
    // ~400 KB/s of retained strings is over 1 GB/h; GC noise cannot hide that.
    assert!(growth > 100e6, "growth {growth}");
    assert!(e["window"]["step_seconds"].as_f64().unwrap() <= 2.0);
    assert!(w["gc_pause_p95_seconds"].is_number() || w["gc_pause_mean_seconds"].is_number());
    assert!(w["bytes_per_1k_requests"].as_f64().is_some_and(|b| b > 0.0));
}
