//! Test harness: a real `prometheus` process on a free 127.0.0.1 port, loaded with
//! synthetic OpenMetrics data through `promtool tsdb create-blocks-from openmetrics`,
//! stopped when the handle drops. Missing binaries fail the test with a clear message.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use synth::Scenario;

pub const MB: f64 = 1e6;
pub const HOUR: f64 = 3600.0;

pub fn binary(name: &str) -> PathBuf {
    let env_name = format!("{}_BIN", name.to_uppercase());
    if let Ok(path) = std::env::var(&env_name) {
        return PathBuf::from(path);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` not found on PATH (or ${env_name}): install Debian's prometheus package \
         (`apt-get install -y prometheus`; scripts/test.sh does it)"
    );
}

pub struct PromServer {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Drop for PromServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl PromServer {
    /// Backfills `openmetrics` and starts Prometheus on it.
    pub fn start(openmetrics: &[u8]) -> Self {
        Self::start_with_prefix(openmetrics, None)
    }

    /// Same, serving the API under a path prefix such as `/prometheus`.
    pub fn start_with_prefix(openmetrics: &[u8], prefix: Option<&str>) -> Self {
        Self::start_with(openmetrics, prefix, &[])
    }

    /// Same, with extra command-line flags (e.g. a low `--query.max-samples`).
    pub fn start_with(openmetrics: &[u8], prefix: Option<&str>, flags: &[&str]) -> Self {
        Self::start_configured(openmetrics, prefix, flags, "")
    }

    /// Same, logging every query it evaluates to `query.log` in its folder (Prometheus's
    /// own `query_log_file`: one JSON line per query with its parameters), read with
    /// [`PromServer::query_log`].
    pub fn start_logging_queries(openmetrics: &[u8]) -> Self {
        Self::start_configured(
            openmetrics,
            None,
            &[],
            "  query_log_file: {dir}/query.log\n",
        )
    }

    /// The queries Prometheus evaluated, as its query log has them.
    pub fn query_log(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("query.log")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a query log line is JSON"))
            .collect()
    }

    /// HTTP requests this server has answered at `handler` (e.g. `/api/v1/series`), from
    /// its own `prometheus_http_requests_total`.
    pub fn http_requests(&self, handler: &str) -> f64 {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/metrics", self.url)])
            .output()
            .expect("run curl");
        assert!(out.status.success(), "GET /metrics failed");
        let wanted = format!("handler=\"{handler}\"");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("prometheus_http_requests_total{") && l.contains(&wanted))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    }

    /// `global`: more lines for the config's `global:` section (`{dir}`: the server's folder).
    fn start_configured(
        openmetrics: &[u8],
        prefix: Option<&str>,
        flags: &[&str],
        global: &str,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data.om");
        std::fs::write(&data, openmetrics).expect("write data");
        let tsdb = dir.path().join("tsdb");
        let out = Command::new(binary("promtool"))
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&data)
            .arg(&tsdb)
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 15s\n{}scrape_configs: []\n",
                global.replace("{dir}", &dir.path().display().to_string())
            ),
        )
        .unwrap();
        for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(binary("prometheus"));
            cmd.arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", tsdb.display()))
                .arg("--storage.tsdb.retention.time=100y")
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .args(flags)
                .stdout(Stdio::null())
                .stderr(Stdio::from(
                    std::fs::File::create(dir.path().join("prometheus.log")).unwrap(),
                ));
            let mut base = format!("http://127.0.0.1:{port}");
            if let Some(prefix) = prefix {
                cmd.arg(format!("--web.external-url={base}{prefix}"));
                cmd.arg(format!("--web.route-prefix={prefix}"));
                base.push_str(prefix);
            }
            let mut child = cmd.spawn().expect("start prometheus");
            if wait_ready(&mut child, &base, Duration::from_secs(30)) {
                return PromServer {
                    child,
                    url: base,
                    dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            let log =
                std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
            if !log.contains("address already in use") {
                panic!("prometheus did not become ready:\n{log}");
            }
        }
        panic!("prometheus could not bind a free port in 3 attempts");
    }
}

fn wait_ready(child: &mut Child, base: &str, limit: Duration) -> bool {
    let started = Instant::now();
    let ready = format!("{base}/-/ready");
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if http_get_ok(&ready) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
/// A tiny blocking HTTP GET (status 200?) so the harness needs no HTTP client crate.
fn http_get_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200")
}

/// A 24 h window ending at least 4 h before now, on a whole minute (the data's grid).
pub fn window() -> (f64, f64) {
    let now = chrono::Utc::now().timestamp() as f64;
    let to = ((now - 4.0 * HOUR) / 60.0).floor() * 60.0;
    (to - 24.0 * HOUR, to)
}

pub fn scenario(name: &str, service: &str) -> Scenario {
    let (from, to) = window();
    Scenario::preset(name, service, from, to, 3, 60.0).expect("known scenario")
}

/// A scenario emitting another runtime's exporter names.
pub fn runtime_scenario(name: &str, service: &str, runtime: &str) -> Scenario {
    Scenario {
        runtime: runtime.to_string(),
        ..scenario(name, service)
    }
}

pub fn openmetrics(scenarios: &[&Scenario]) -> Vec<u8> {
    // Several scenarios share one file by concatenating their families; promtool wants a
    // single # EOF, so the per-scenario terminators are dropped and one is added.
    let mut text = String::new();
    for s in scenarios {
        let mut one = Vec::new();
        s.write_openmetrics(&mut one).unwrap();
        let one = String::from_utf8(one).unwrap();
        text.push_str(one.trim_end().strip_suffix("# EOF").unwrap());
    }
    text.push_str("# EOF\n");
    text.into_bytes()
}

/// A run of the real binary, built fluently:
/// `lc().server(&url).service("api").window(from, to).json()`, or
/// `lc().args(["validate", …]).expect_code(3)`. `PROMETHEUS_URL` is never inherited.
#[derive(Debug, Clone, Default)]
pub struct Lc {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

pub fn lc() -> Lc {
    Lc::default()
}

impl Lc {
    pub fn arg(mut self, arg: impl AsRef<str>) -> Self {
        self.args.push(arg.as_ref().to_string());
        self
    }
    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }
    pub fn env(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.env.push((name.into(), value.as_ref().into()));
        self
    }
    pub fn server(self, url: &str) -> Self {
        self.arg("--prometheus-url").arg(url)
    }
    pub fn service(self, name: &str) -> Self {
        self.arg("--service").arg(name)
    }
    /// `--from` and `--to` as Unix seconds.
    pub fn window(self, from: f64, to: f64) -> Self {
        self.arg("--from")
            .arg(format!("{from}"))
            .arg("--to")
            .arg(format!("{to}"))
    }
    /// Runs the binary this test build made, or `$LEAKCOLLECT_BIN` (to show a test fails
    /// on another build).
    pub fn run(&self) -> Output {
        let bin = std::env::var("LEAKCOLLECT_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_leakcollect").to_string());
        let mut command = Command::new(bin);
        command.args(&self.args).env_remove("PROMETHEUS_URL");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command.output().expect("run leakcollect")
    }
    /// Runs and asserts the exit code, showing stderr when it differs.
    pub fn expect_code(&self, code: i32) -> Output {
        let out = self.run();
        assert_eq!(
            out.status.code(),
            Some(code),
            "leakcollect {:?} exited {:?}, not {code}: {}",
            self.args,
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
    /// With `--format json -q`: exit 0 and the parsed JSON.
    pub fn json(&self) -> serde_json::Value {
        let out = self.clone().args(["--format", "json", "-q"]).expect_code(0);
        serde_json::from_slice(&out.stdout).expect("valid JSON")
    }
}

pub fn leakcollect(args: &[&str]) -> Output {
    lc().args(args).run()
}

pub fn within(actual: f64, expected: f64, relative: f64) -> bool {
    (actual - expected).abs() <= relative * expected.abs()
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A Prometheus that scrapes `targets` (job name, host:port) every second, on loopback.
pub fn start_scraping_prometheus(targets: &[(&str, String)]) -> PromServer {
    start_scraping_prometheus_with_rules(targets, &[], None)
}

/// Same, also evaluating the alerting rules in `rule_files` (written into its folder)
/// every `evaluation_interval` (Prometheus's default 1m when `None`).
pub fn start_scraping_prometheus_with_rules(
    targets: &[(&str, String)],
    rule_files: &[&str],
    evaluation_interval: Option<&str>,
) -> PromServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n");
    if let Some(interval) = evaluation_interval {
        config.push_str(&format!("  evaluation_interval: {interval}\n"));
    }
    if !rule_files.is_empty() {
        config.push_str("rule_files:\n");
        for (index, text) in rule_files.iter().enumerate() {
            let path = dir.path().join(format!("rules-{index}.yml"));
            std::fs::write(&path, text).unwrap();
            config.push_str(&format!("  - '{}'\n", path.display()));
        }
    }
    config.push_str("scrape_configs:\n");
    for (job, target) in targets {
        config.push_str(&format!(
            "  - job_name: '{job}'\n    static_configs:\n      - targets: ['{target}']\n"
        ));
    }
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, config).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(binary("prometheus"))
        .arg(format!("--config.file={}", path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("prometheus.log")).unwrap(),
        ))
        .spawn()
        .expect("start prometheus");
    assert!(
        wait_ready(&mut child, &base, Duration::from_secs(30)),
        "prometheus did not start: {}",
        std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
    );
    PromServer {
        child,
        url: base,
        dir,
    }
}

/// A child process killed when dropped.
pub struct Guarded(pub Child);

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_loopback_port() -> u16 {
    free_port()
}

/// Why `doc` does not match `schema/NAME` (empty when it does). Every file in `schema/`
/// is registered under its `$id`, so one schema may refer to another.
pub fn schema_errors(name: &str, doc: &serde_json::Value) -> Vec<String> {
    let load = |file: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(repo_path(&format!("schema/{file}"))).unwrap(),
        )
        .unwrap_or_else(|e| panic!("schema/{file}: {e}"))
    };
    let mut registry = jsonschema::Registry::new();
    for file in [
        "evidence.schema.json",
        "scan.schema.json",
        "validation.schema.json",
    ] {
        let schema = load(file);
        let id = schema["$id"]
            .as_str()
            .expect("every schema has an $id")
            .to_string();
        registry = registry.add(id, schema).expect("schema registers");
    }
    let registry = registry.prepare().expect("schemas resolve");
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&load(name))
        .expect("schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// `leakcollect scan --format json` over `[from, to]`: the JSON, checked against its
/// schema; panics with stderr when scan fails.
pub fn scan_json(server_url: &str, from: f64, to: f64, extra: &[&str]) -> serde_json::Value {
    let scan = lc()
        .arg("scan")
        .server(server_url)
        .window(from, to)
        .args(extra)
        .json();
    let errors = schema_errors("scan.schema.json", &scan);
    assert!(errors.is_empty(), "{errors:#?}");
    scan
}

/// The record of query `id` in an evidence JSON's `queries`.
pub fn query_record<'a>(evidence: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    evidence["queries"]
        .as_array()
        .expect("queries is a list")
        .iter()
        .find(|q| q["id"] == id)
        .unwrap_or_else(|| panic!("no query {id} in the evidence"))
}

/// Prometheus text with millisecond timestamps, as VictoriaMetrics imports it.
pub fn to_exposition(openmetrics: &[u8]) -> String {
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

/// A real VictoriaMetrics on a free loopback port, loaded with `data` (OpenMetrics).
pub fn start_victoria(data: &[u8], flags: &[&str]) -> (Guarded, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_loopback_port();
    let child = Command::new(binary("victoria-metrics"))
        .arg(format!("-storageDataPath={}", dir.path().display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg("-retentionPeriod=100y")
        .args(flags)
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

/// Collect on VictoriaMetrics, retrying while its search catches up with the import.
pub fn collect_on_vm(
    url: &str,
    service: &str,
    from: &str,
    to: &str,
    extra: &[&str],
    expected_instances: &serde_json::Value,
) -> serde_json::Value {
    let mut last = String::new();
    for _ in 0..20 {
        let out = lc()
            .server(url)
            .args(["--backend", "victoriametrics"])
            .service(service)
            .args(["--from", from, "--to", to, "--format", "json", "-q"])
            .args(extra)
            .run();
        if out.status.success() {
            let on_vm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            if &on_vm["periods"]["window"]["instance_count"] == expected_instances {
                return on_vm;
            }
        }
        last = String::from_utf8_lossy(&out.stderr).to_string();
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("VictoriaMetrics never answered with every instance: {last}");
}
