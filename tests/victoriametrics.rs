//! The same scenarios on a real VictoriaMetrics (Debian's `victoria-metrics`, loaded with
//! `POST /api/v1/import/prometheus`) and a real Prometheus: the figures agree within 1 %.

mod common;

use common::*;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Prometheus text with millisecond timestamps, as VictoriaMetrics imports it.
fn to_exposition(openmetrics: &[u8]) -> String {
    String::from_utf8_lossy(openmetrics)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (rest, ts) = l.rsplit_once(' ').unwrap();
            format!(
                "{rest} {}\n",
                (ts.parse::<f64>().unwrap() * 1000.0).round() as i64
            )
        })
        .collect()
}

fn start_victoria(data: &[u8]) -> (Guarded, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_loopback_port();
    let child = Command::new(binary("victoria-metrics"))
        .arg(format!("-storageDataPath={}", dir.path().display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg("-retentionPeriod=100y")
        .arg("-search.disableCache")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start victoria-metrics");
    let guard = Guarded(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if Command::new("curl")
            .args(["-sf", &format!("{url}/health")])
            .output()
            .unwrap()
            .status
            .success()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let file = dir.path().join("import.txt");
    std::fs::write(&file, to_exposition(data)).unwrap();
    let import = Command::new("curl")
        .args([
            "-sf",
            "--data-binary",
            &format!("@{}", file.display()),
            &format!("{url}/api/v1/import/prometheus"),
        ])
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "import: {}",
        String::from_utf8_lossy(&import.stderr)
    );
    let flush = Command::new("curl")
        .args(["-sf", &format!("{url}/internal/force_flush")])
        .output()
        .unwrap();
    assert!(flush.status.success());
    (guard, url, dir)
}

#[test]
fn prometheus_and_victoriametrics_agree() {
    let steady = scenario("steady-leak", "api");
    let oom = scenario("oom-sawtooth", "worker");
    let data = openmetrics(&[&steady, &oom]);
    let prometheus = PromServer::start(&data);
    let (_vm, vm_url, _vm_dir) = start_victoria(&data);
    for (service, s) in [("api", &steady), ("worker", &oom)] {
        let on_prometheus = collect_json(&prometheus.url, service, s.from, s.to, &[]);
        // VictoriaMetrics may need a moment after the flush before search sees everything.
        let mut on_vm = Value::Null;
        for _ in 0..20 {
            let out = leakcollect(&[
                "--prometheus-url",
                &vm_url,
                "--service",
                service,
                "--from",
                &format!("{}", s.from),
                "--to",
                &format!("{}", s.to),
                "--format",
                "json",
                "-q",
            ]);
            if out.status.success() {
                on_vm = serde_json::from_slice(&out.stdout).unwrap();
                if on_vm["periods"]["window"]["instance_count"]
                    == on_prometheus["periods"]["window"]["instance_count"]
                {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let (p, v) = (
            &on_prometheus["periods"]["window"],
            &on_vm["periods"]["window"],
        );
        assert_eq!(on_vm["runtime"], "nodejs", "{on_vm}");
        let (gp, gv) = (
            p["growth_bytes_per_hour"].as_f64().unwrap(),
            v["growth_bytes_per_hour"].as_f64().unwrap(),
        );
        eprintln!(
            "{service}: growth on Prometheus {:.3} MB/h, on VictoriaMetrics {:.3} MB/h",
            gp / 1e6,
            gv / 1e6
        );
        assert!(
            within(gv, gp, 0.01),
            "{service}: Prometheus {gp}, VictoriaMetrics {gv}"
        );
        assert_eq!(v["restarts"], p["restarts"], "{service}");
        assert_eq!(v["oom_kills"], p["oom_kills"], "{service}");
        assert_eq!(v["instance_count"], p["instance_count"], "{service}");
    }
}
