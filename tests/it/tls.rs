//! TLS and basic auth against a real Prometheus started with `--web.config.file`: a CA
//! and server certificate made here with openssl, a bcrypt password. Verified by default;
//! `--ca-file` makes it trusted; `--insecure-skip-verify` is explicit; a wrong password
//! is a clear failure; secrets never appear in output.

use crate::common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian's openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tls_and_basic_auth() {
    let s = scenario("steady-leak", "api");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=leakcollect test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(d.join("san.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    let hash = bcrypt::hash("correct horse", 4).unwrap();
    std::fs::write(
        d.join("web.yml"),
        format!("tls_server_config:\n  cert_file: {0}/server.pem\n  key_file: {0}/server.key\nbasic_auth_users:\n  alice: '{hash}'\n", d.display()),
    )
    .unwrap();
    // Backfill and start Prometheus with the web config.
    std::fs::write(d.join("data.om"), openmetrics(&[&s])).unwrap();
    let out = Command::new(binary("promtool"))
        .args([
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "data.om",
            "tsdb",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(
        d.join("prometheus.yml"),
        "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
    )
    .unwrap();
    let port = free_loopback_port();
    let child = Command::new(binary("prometheus"))
        .arg(format!(
            "--config.file={}",
            d.join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", d.join("tsdb").display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--web.config.file={}", d.join("web.yml").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _prometheus = Guarded(child);
    let url = format!("https://127.0.0.1:{port}");
    let ca = d.join("ca.pem");
    for _ in 0..100 {
        let ready = Command::new("curl")
            .args([
                "-sf",
                "--cacert",
                ca.to_str().unwrap(),
                "-u",
                "alice:correct horse",
                &format!("{url}/-/ready"),
            ])
            .output()
            .unwrap();
        if ready.status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let run = |extra: &[&str], password: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_leakcollect"))
            .args([
                "--prometheus-url",
                &url,
                "--service",
                "api",
                "--from",
                &from,
                "--to",
                &to,
                "--format",
                "json",
                "-q",
                "--retries",
                "0",
            ])
            .args(["--basic-auth-user", "alice"])
            .args(extra)
            .env("LEAKCOLLECT_BASIC_AUTH_PASSWORD", password)
            .env_remove("PROMETHEUS_URL")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Trusted through --ca-file: the right figures.
    let (code, stdout, stderr) = run(&["--ca-file", ca.to_str().unwrap()], "correct horse");
    assert_eq!(code, Some(0), "{stderr}");
    let e: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(within(
        e["periods"]["window"]["growth_bytes_per_hour"]
            .as_f64()
            .unwrap(),
        50.0 * MB,
        0.03
    ));
    assert!(!stdout.contains("correct horse"));
    // Verification is on by default: an unknown CA is refused.
    let (code, _, stderr) = run(&[], "correct horse");
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("cannot reach Prometheus"), "{stderr}");
    // …unless explicitly skipped.
    let (code, _, stderr) = run(&["--insecure-skip-verify"], "correct horse");
    assert_eq!(code, Some(0), "{stderr}");
    // A wrong password: HTTP 401, exit 4, no password in the message.
    let (code, _, stderr) = run(&["--ca-file", ca.to_str().unwrap()], "wrong");
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("401") && !stderr.contains("wrong") && !stderr.contains("correct horse"),
        "{stderr}"
    );
}
