//! Fault injection: a scripted fake HTTP server (in this process) plays a Prometheus that
//! misbehaves in ways a real one will not on demand. Each row of docs/reliability.md's
//! server-side matrix: one precise message, the documented exit code, no partial output.

use crate::common::{leakcollect, query_record, scan_json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What the fake answers to one request.
pub(crate) enum Reply {
    Json(u16, String),
    Raw(Vec<u8>),
    Slow(Duration, String),
}

pub(crate) const FROM: f64 = 1_700_000_000.0;
pub(crate) const TO: f64 = FROM + 6.0 * 3600.0;

pub(crate) fn ok_json(data: &str, warnings: &str) -> String {
    format!(r#"{{"status":"success","warnings":[{warnings}],"data":{data}}}"#)
}

/// A healthy answer for whichever query leakcollect sends: heap growing 10 MB/h.
pub(crate) fn healthy(body: &str, path: &str, warnings: &str) -> Reply {
    if path.contains("/label/") {
        return Reply::Json(200, r#"{"status":"success","data":[]}"#.into());
    }
    if path.ends_with("/series") {
        return Reply::Json(
            200,
            ok_json(
                r#"[{"__name__":"nodejs_heap_size_used_bytes","job":"api","instance":"a:1"}]"#,
                warnings,
            ),
        );
    }
    if path.ends_with("/query") {
        let data = if body.contains("count_over_time") {
            format!(r#"{{"resultType":"vector","result":[{{"metric":{{}},"value":[{TO},"60"]}}]}}"#)
        } else {
            r#"{"resultType":"vector","result":[]}"#.to_string()
        };
        return Reply::Json(200, ok_json(&data, warnings));
    }
    if body.contains("nodejs_heap_size_used_bytes") {
        let points: Vec<String> = (0..=360)
            .map(|i| {
                let t = FROM + i as f64 * 60.0;
                // A NaN and an +Inf in the middle must be skipped, not break the fit.
                let v = match i {
                    100 => "NaN".to_string(),
                    200 => "+Inf".to_string(),
                    _ => format!("{}", 100e6 + 10e6 * i as f64 / 60.0),
                };
                format!("[{t},\"{v}\"]")
            })
            .collect();
        let data = format!(
            r#"{{"resultType":"matrix","result":[{{"metric":{{"job":"api","instance":"a:1"}},"values":[{}]}}]}}"#,
            points.join(",")
        );
        return Reply::Json(200, ok_json(&data, warnings));
    }
    Reply::Json(
        200,
        ok_json(r#"{"resultType":"matrix","result":[]}"#, warnings),
    )
}

/// Serves `script(request_number, path, body)` on a loopback port until dropped.
pub(crate) fn fake(
    script: impl Fn(usize, &str, &str) -> Reply + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    fake_with_headers(move |n, _, path, body| script(n, path, body))
}

/// Like [`fake`], the script also seeing the request head (headers).
fn fake_with_headers(
    script: impl Fn(usize, &str, &str, &str) -> Reply + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let script = Arc::new(script);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read headers, then the body by Content-Length.
                let (head_end, length) = loop {
                    let Ok(read) = stream.read(&mut chunk) else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..read]);
                    if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        break (pos + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let Ok(read) = stream.read(&mut chunk) else {
                        return;
                    };
                    if read == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..read]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let body = urlencoding_decode(&String::from_utf8_lossy(&buf[head_end..]));
                let reply = script(n, &head, &path, &body);
                let bytes = match reply {
                    Reply::Json(status, text) => http(status, &text),
                    Reply::Raw(bytes) => bytes,
                    Reply::Slow(delay, text) => {
                        std::thread::sleep(delay);
                        http(200, &text)
                    }
                };
                let _ = stream.write_all(&bytes);
            });
        }
    });
    (url, count)
}

fn http(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn urlencoding_decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn run(url: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    run_as(url, "api", Some("nodejs"), extra)
}

/// Collect for `service` as JSON; `runtime: None` leaves the runtime to detection.
fn run_as(
    url: &str,
    service: &str,
    runtime: Option<&str>,
    extra: &[&str],
) -> (Option<i32>, String, String) {
    let (from, to) = (format!("{FROM}"), format!("{TO}"));
    let mut args = vec![
        "--prometheus-url",
        url,
        "--service",
        service,
        "--from",
        &from,
        "--to",
        &to,
        "--format",
        "json",
        "-q",
    ];
    if let Some(runtime) = runtime {
        args.extend(["--runtime", runtime]);
    }
    args.extend_from_slice(extra);
    let out = leakcollect(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn healthy_fake_with_nan_and_inf_values() {
    let (url, _) = fake(|_, path, body| healthy(body, path, ""));
    let (code, stdout, stderr) = run(&url, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let e: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let growth = e["periods"]["window"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    assert!((growth / 10e6 - 1.0).abs() < 0.01, "{growth}");
}

#[test]
fn a_503_then_success_is_retried() {
    let (url, count) = fake(|n, path, body| {
        if n == 0 {
            Reply::Json(
                503,
                r#"{"status":"error","errorType":"unavailable","error":"warming up"}"#.into(),
            )
        } else {
            healthy(body, path, "")
        }
    });
    let (code, _, stderr) = run(&url, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(count.load(Ordering::SeqCst) >= 2);
}

#[test]
fn server_errors_keep_prometheus_text_and_exit_4() {
    for (status, body, needle) in [
        (
            503,
            r#"{"status":"error","errorType":"unavailable","error":"TSDB not ready"}"#,
            "unavailable (HTTP 503)",
        ),
        (
            400,
            r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"}"#,
            "1:5: parse error: unexpected",
        ),
        (
            422,
            r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#,
            "too many samples",
        ),
        (500, "<html>internal</html>", "HTTP 500"),
        (
            200,
            "<html>not an API</html>",
            "not a valid Prometheus API answer",
        ),
        (
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"#,
            "not a valid Prometheus API answer",
        ),
        (
            200,
            r#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#,
            "query timed out in expression evaluation",
        ),
    ] {
        let (url, _) = fake(move |_, _, _| Reply::Json(status, body.to_string()));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.json");
        let (code, stdout, stderr) = run(&url, &["--retries", "0", "-o", out.to_str().unwrap()]);
        assert_eq!(code, Some(4), "{status} {body}: {stderr}");
        assert!(stderr.contains(needle), "{status} {body}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
        assert!(stdout.is_empty() && !out.exists(), "no partial output");
    }
}

#[test]
fn enormous_bodies_are_refused_without_reading_them() {
    let (url, _) = fake(|_, _, _| {
        Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\n\r\n{".to_vec())
    });
    let (code, _, stderr) = run(&url, &["--retries", "0"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("larger than the 256 MiB cap"), "{stderr}");
}

#[test]
fn slow_servers_time_out_within_the_deadline() {
    let (url, _) = fake(|_, path, body| match healthy(body, path, "") {
        Reply::Json(_, text) => Reply::Slow(Duration::from_secs(5), text),
        other => other,
    });
    let started = std::time::Instant::now();
    let (code, _, stderr) = run(
        &url,
        &["--timeout", "1s", "--retries", "1", "--deadline", "3s"],
    );
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no answer from {url} after 2 attempts of 1 s each (--timeout, --retries): "
        )),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline bounds retries"
    );
}

/// A server that accepts connections and never answers (nor closes them).
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.extend(stream.ok());
        }
    });
    url
}

#[test]
fn a_server_that_never_answers_is_named_and_the_deadline_is_kept() {
    let url = silent_server();
    // Three attempts of 1 s do not fit in 2.5 s: the third is not started.
    let started = std::time::Instant::now();
    let (code, _, stderr) = run(&url, &["--timeout", "1s", "--deadline", "2500ms"]);
    let took = started.elapsed();
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: no answer from {url} after 2 attempts of 1 s each (--timeout, --retries), cut short by the --deadline of 2.5 s: is the server up and reachable, and is this its API URL?"
        )
    );
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    // Without a deadline in the way, every attempt is made and the message says so.
    let (code, _, stderr) = run_as(&url, "api", None, &["--timeout", "1s", "--retries", "1"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no answer from {url} after 2 attempts of 1 s each (--timeout, --retries): is the server up"
        )),
        "{stderr}"
    );
}

#[test]
fn a_slow_query_on_a_server_that_answers_says_to_raise_the_timeout() {
    // The probe (an instant query) answers at once; the range queries never do in time.
    let (url, _) = fake(|_, path, body| match healthy(body, path, "") {
        Reply::Json(_, text) if path.ends_with("/query_range") => {
            Reply::Slow(Duration::from_secs(5), text)
        }
        other => other,
    });
    let (code, _, stderr) = run(&url, &["--timeout", "1s", "--retries", "0"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!("got no answer from {url} after 1 attempt of 1 s (--timeout, --retries): "))
            && stderr.contains(
                "the server answers other requests, so this query is slow: raise --timeout or narrow the window"
            ),
        "{stderr}"
    );
}

#[test]
fn a_404_says_to_drop_api_v1_or_check_the_base_url() {
    let (url, count) = fake(|_, _, _| Reply::Json(404, "404 page not found".into()));
    let (code, _, stderr) = run(&format!("{url}/api/v1/"), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: {url}/api/v1 has no Prometheus API (HTTP 404 for /api/v1/api/v1/query): drop /api/v1 from --prometheus-url and give the server's base URL, {url}; leakcollect appends /api/v1/... itself"
        )
    );
    assert_eq!(count.load(Ordering::SeqCst), 1, "a 404 is not retried");
    let (code, _, stderr) = run(&format!("{url}/grafana"), &[]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{url}/grafana has no Prometheus API (HTTP 404 for /api/v1/query): give the server's base URL"
        )),
        "{stderr}"
    );
}

#[test]
fn dns_failure_and_refused_connections() {
    let (code, _, stderr) = run("http://leakcollect-test.invalid:9090", &["--retries", "0"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("cannot reach Prometheus at http://leakcollect-test.invalid:9090"),
        "{stderr}"
    );
}

#[test]
fn warnings_reach_the_report_and_make_validate_inconclusive() {
    let (url, _) =
        fake(|_, path, body| healthy(body, path, r#""partial response: store eu-1 unavailable""#));
    let (code, stdout, _) = run(&url, &[]);
    assert_eq!(code, Some(0));
    let e: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let warnings = e["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| {
        w.as_str()
            .unwrap()
            .contains("partial response: store eu-1 unavailable")
    }));
    let fix = format!("{}", FROM + 3600.0);
    let to = format!("{TO}");
    let out = leakcollect(&[
        "validate",
        "--prometheus-url",
        &url,
        "--service",
        "api",
        "--runtime",
        "nodejs",
        "--fix-deployed",
        &fix,
        "--to",
        &to,
        "--max-growth",
        "100MB/h",
        "--min-hours",
        "1",
        "--format",
        "json",
        "-q",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("warnings"),
        "{}",
        v["reason"]
    );

    // scan ranks on the same partial data: it must say so too, naming the query.
    let scan = scan_json(&url, FROM, TO, &["--runtime", "nodejs"]);
    assert_eq!(scan["services"][0]["service"], "api", "{scan}");
    let warned = scan["warnings"].to_string();
    assert!(
        warned.contains("Prometheus warned on query heap_used: partial response: store eu-1"),
        "{warned}"
    );
    assert!(warned.contains("query scan_detection"), "{warned}");
}

#[test]
fn credentials_in_the_url_never_appear_in_output() {
    let (url, _) = fake(|_, path, body| healthy(body, path, ""));
    let with_secret = url.replace("http://", "http://alice:hunter2@");
    let (code, stdout, stderr) = run(&with_secret, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
    // Nor in errors: a closed port with credentials.
    let (code, stdout, stderr) = run("http://alice:hunter2@127.0.0.1:9", &["--retries", "0"]);
    assert_eq!(code, Some(4));
    assert!(
        !stdout.contains("hunter2") && !stderr.contains("hunter2"),
        "{stderr}"
    );
    let out = leakcollect(&[
        "--prometheus-url",
        "alice:hunter2@nohost",
        "--service",
        "api",
        "--from",
        "now-1h",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
}

#[test]
fn bearer_tokens_tenant_headers_and_basic_auth_are_sent_and_never_printed() {
    let (url, _) = fake_with_headers(|_, head, path, body| {
        let head = head.to_lowercase();
        let bearer = head.contains("authorization: bearer s3cr3t-token\r\n");
        let basic = head.contains(&format!(
            "authorization: basic {}\r\n",
            base64_of("alice:pa55word").to_lowercase()
        ));
        if (bearer || basic) && head.contains("x-scope-orgid: tenant-1\r\n") {
            healthy(body, path, "")
        } else {
            Reply::Json(401, "unauthorized".into())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cr3t-token\n").unwrap();
    let (code, stdout, stderr) = run(
        &url,
        &[
            "--bearer-token-file",
            token.to_str().unwrap(),
            "--header",
            "X-Scope-OrgID: tenant-1",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains("s3cr3t") && !stderr.contains("s3cr3t"));
    // Without the tenant header: 401 from the server, exit 4, no secret in the message.
    let (code, _, stderr) = run(
        &url,
        &[
            "--bearer-token-file",
            token.to_str().unwrap(),
            "--retries",
            "0",
        ],
    );
    assert_eq!(code, Some(4));
    assert!(
        stderr.contains("HTTP 401") && !stderr.contains("s3cr3t"),
        "{stderr}"
    );
    // Basic auth with the password from the environment, and the same from a config file.
    let (from, to) = (format!("{FROM}"), format!("{TO}"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .args([
            "--prometheus-url",
            &url,
            "--service",
            "api",
            "--from",
            &from,
            "--to",
            &to,
            "--runtime",
            "nodejs",
            "--format",
            "json",
            "-q",
        ])
        .args([
            "--basic-auth-user",
            "alice",
            "--header",
            "X-Scope-OrgID: tenant-1",
        ])
        .env("LEAKCOLLECT_BASIC_AUTH_PASSWORD", "pa55word")
        .env_remove("PROMETHEUS_URL")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("pa55word"));
    let password = dir.path().join("password");
    std::fs::write(&password, "pa55word").unwrap();
    let config = dir.path().join("leakcollect.toml");
    std::fs::write(
        &config,
        format!(
            "[prometheus]\nurl = \"{}\"\nbasic_auth_user = \"alice\"\nbasic_auth_password_file = \"{}\"\nheaders = {{ \"X-Scope-OrgID\" = \"tenant-1\" }}\n",
            url,
            password.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .args([
            "--service",
            "api",
            "--from",
            &from,
            "--to",
            &to,
            "--runtime",
            "nodejs",
            "--format",
            "json",
            "-q",
        ])
        .env("LEAKCOLLECT_CONFIG", &config)
        .env_remove("PROMETHEUS_URL")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A user without a password is a usage error, named.
    let out = leakcollect(&[
        "--prometheus-url",
        &url,
        "--service",
        "api",
        "--from",
        "now-1h",
        "--basic-auth-user",
        "bob",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LEAKCOLLECT_BASIC_AUTH_PASSWORD"));
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Every request's path and decoded form, as the fake saw them.
type Requests = Arc<std::sync::Mutex<Vec<(String, String)>>>;

fn recording_fake() -> (String, Requests) {
    recording_fake_with(|_, path, body| healthy(body, path, ""))
}

/// Like [`recording_fake`], answering with `script(nth request to this path, path, body)`.
fn recording_fake_with(
    script: impl Fn(usize, &str, &str) -> Reply + Send + Sync + 'static,
) -> (String, Requests) {
    let seen: Requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let (url, _) = fake(move |_, path, body| {
        let nth = {
            let mut log = log.lock().unwrap();
            log.push((path.to_string(), body.to_string()));
            log.iter().filter(|(p, _)| p == path).count() - 1
        };
        script(nth, path, body)
    });
    (url, seen)
}

#[test]
fn backends_get_their_parameters() {
    let (url, seen) = recording_fake();
    let (code, _, stderr) = run(
        &url,
        &[
            "--backend",
            "thanos",
            "--partial-response",
            "deny",
            "--query-param",
            "max_source_resolution=5m",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let queries: Vec<(String, String)> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.ends_with("/query") || path.ends_with("/query_range"))
        .cloned()
        .collect();
    assert!(queries.len() > 5);
    for (path, body) in &queries {
        let fields: Vec<&str> = body.split('&').collect();
        for wanted in [
            "dedup=true",
            "partial_response=false",
            "max_source_resolution=5m",
        ] {
            assert!(fields.contains(&wanted), "{path}: {body}");
        }
        assert!(!fields.contains(&"nocache=1"), "{path}: {body}");
    }

    let (url, seen) = recording_fake();
    let (code, _, stderr) = run(&url, &["--backend", "victoriametrics"]);
    assert_eq!(code, Some(0), "{stderr}");
    for (path, body) in seen.lock().unwrap().iter() {
        let fields: Vec<&str> = body.split('&').collect();
        // Exact points only matter (and the cache is only bypassed) for ranges.
        assert_eq!(
            fields.contains(&"nocache=1"),
            path.ends_with("/query_range"),
            "{path}: {body}"
        );
        assert!(!fields.iter().any(|f| f.starts_with("dedup=")), "{body}");
    }
}

/// Runtime detection asks the series API, not a query: it must get the same treatment
/// (backend and user parameters, retries) or a Thanos/VictoriaMetrics tenant filter and
/// a passing 503 would make detection differ from the queries it chooses.
#[test]
fn runtime_detection_gets_parameters_and_retries_like_queries() {
    let (url, seen) = recording_fake_with(|nth, path, body| {
        if path.ends_with("/series") && nth == 0 {
            return Reply::Json(
                503,
                r#"{"status":"error","errorType":"unavailable","error":"store gateway warming up"}"#
                    .into(),
            );
        }
        healthy(body, path, "")
    });
    let (code, stdout, stderr) = run_as(
        &url,
        "api",
        None,
        &[
            "--backend",
            "thanos",
            "--query-param",
            "extra_label=tenant=a",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let evidence: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(evidence["runtime"], "nodejs", "{evidence}");
    let series: Vec<(String, String)> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.ends_with("/series"))
        .cloned()
        .collect();
    assert_eq!(series.len(), 2, "one 503, one retry: {series:?}");
    for (_, body) in &series {
        let fields: Vec<&str> = body.split('&').collect();
        for wanted in [
            "dedup=true",
            "partial_response=true",
            "extra_label=tenant=a",
        ] {
            assert!(fields.contains(&wanted), "{body}");
        }
    }

    // Label values (service suggestions for an empty answer) are a GET: the parameters
    // ride in the URL.
    let (url, seen) = recording_fake_with(|_, path, _| {
        if path.contains("/label/") {
            return Reply::Json(200, r#"{"status":"success","data":["api"]}"#.into());
        }
        let kind = if path.ends_with("/query") {
            "vector"
        } else {
            "matrix"
        };
        Reply::Json(
            200,
            ok_json(&format!(r#"{{"resultType":"{kind}","result":[]}}"#), ""),
        )
    });
    let (code, _, stderr) = run_as(
        &url,
        "apx",
        Some("nodejs"),
        &["--query-param", "extra_label=tenant=a"],
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains(r#"did you mean job="api"?"#), "{stderr}");
    let label_calls: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.contains("/label/"))
        .map(|(path, _)| urlencoding_decode(path))
        .collect();
    assert!(!label_calls.is_empty(), "no label-values call");
    for path in &label_calls {
        assert!(path.contains("extra_label=tenant=a"), "{path}");
    }
}

#[test]
fn query_params_are_checked() {
    let (url, _) = fake(|_, path, body| healthy(body, path, ""));
    let (code, _, stderr) = run(&url, &["--query-param", "step=5"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--query-param step: leakcollect sets this parameter itself"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&url, &["--query-param", "nonsense"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("expected NAME=VALUE"), "{stderr}");
}

#[test]
fn a_range_refused_as_too_large_is_split_until_it_fits() {
    // A server that refuses any range of more than 100 points, as VictoriaMetrics does
    // with -search.maxPointsPerTimeseries.
    let (url, seen) = {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let (url, _) = fake(move |_, path, body| {
            // The heap query only, not detection's growth rule (which reads the heap too).
            if path.ends_with("/query_range")
                && body.contains("nodejs_heap_size_used_bytes")
                && !body.contains("deriv(")
            {
                let field = |name: &str| -> f64 {
                    body.split('&')
                        .find_map(|f| f.strip_prefix(&format!("{name}=")))
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                let points = ((field("end") - field("start")) / field("step")) as u64 + 1;
                log.lock().unwrap().push((points, field("step")));
                if points > 100 {
                    return Reply::Json(
                        422,
                        format!(
                            r#"{{"status":"error","errorType":"422","error":"too many points for the given step: {points}; cannot exceed -search.maxPointsPerTimeseries=100"}}"#
                        ),
                    );
                }
            }
            healthy(body, path, "")
        });
        (url, seen)
    };
    let (code, stdout, stderr) = run(&url, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let e: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let growth = e["periods"]["window"]["growth_bytes_per_hour"]
        .as_f64()
        .unwrap();
    assert!((growth - 10e6).abs() < 1e4, "growth {growth}");
    let heap = query_record(&e, "heap_used");
    // The same selector over the lookback (onset_heap) goes at another step.
    let step = heap["step_seconds"].as_f64().unwrap();
    let asked: Vec<u64> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, s)| *s == step)
        .map(|(p, _)| *p)
        .collect();
    let served: u64 = asked.iter().filter(|p| **p <= 100).sum();
    assert!(asked[0] > 200, "{asked:?}");
    assert_eq!(served, asked[0], "every point once: {asked:?}");
    assert_eq!(heap["requests"].as_u64().unwrap() as usize, asked.len());
}

#[test]
fn mimir_without_a_tenant_gets_a_hint() {
    let (url, _) = fake(|_, _, _| Reply::Json(401, "no org id\n".into()));
    let (code, _, stderr) = run(&url, &["--backend", "mimir", "--retries", "0"]);
    assert_eq!(code, Some(4));
    assert!(
        stderr.contains("no org id") && stderr.contains("--header 'X-Scope-OrgID: <tenant>'"),
        "{stderr}"
    );
}
