//! `leakcollect gclog` and `attach --gc-log` on GC logs the real runtimes write at test
//! time: `node --trace-gc` (tests/gclog/node/gc.js), a JDK's `-Xlog:gc` and `-Xlog:gc*`
//! (tests/gclog/java/GcLoad.java, Debian's openjdk-17-jdk-headless) and Go's
//! `GODEBUG=gctrace=1` (tests/gclog/go/leaky, Debian's golang-go), each leaking by
//! construction or not. Counts are checked against the logs' lines counted here, the
//! verdicts against how the programs were built. A missing runtime fails with what to
//! install.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A program on PATH (or `$VAR`), else a failure saying which Debian package has it.
fn tool(name: &str, var: &str, package: &str) -> PathBuf {
    if let Ok(path) = std::env::var(var) {
        return PathBuf::from(path);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join(name).is_file() {
            return dir.join(name);
        }
    }
    panic!(
        "`{name}` not found on PATH (or ${var}): install Debian's {package} (scripts/test.sh does it)"
    );
}

/// Where the logs are written: one folder per test run, kept for a look after a failure.
fn work() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gclog");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `node --expose-gc --trace-gc gc.js ROUNDS [leak]` with extra flags; stdout is the log.
fn node_log(name: &str, leak: bool, flags: &[&str]) -> PathBuf {
    node_rounds(name, 40, leak, flags)
}

fn node_rounds(name: &str, rounds: u32, leak: bool, flags: &[&str]) -> PathBuf {
    let mut cmd = Command::new(tool("node", "NODE_BIN", "nodejs"));
    cmd.args(["--expose-gc", "--trace-gc"])
        .args(flags)
        .arg(repo("tests/gclog/node/gc.js"))
        .arg(rounds.to_string());
    if leak {
        cmd.arg("leak");
    }
    let out = cmd.output().expect("node runs");
    ok(&out, "node --trace-gc");
    let path = work().join(name);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

struct NodeLogs {
    leaky: PathBuf,
    healthy: PathBuf,
    verbose: PathBuf,
}

fn node_logs() -> &'static NodeLogs {
    static LOGS: OnceLock<NodeLogs> = OnceLock::new();
    LOGS.get_or_init(|| NodeLogs {
        leaky: node_log("node-leaky.log", true, &[]),
        healthy: node_log("node-healthy.log", false, &[]),
        verbose: node_log("node-verbose.log", true, &["--trace-gc-verbose"]),
    })
}

/// The Java program compiled once; `java -Xlog:SPEC:file=… GcLoad MODE`.
fn java_log(name: &str, collector: &str, spec: &str, mode: &str) -> PathBuf {
    let path = work().join(name);
    java_log_to(&path, collector, spec, "", mode);
    path
}

/// `java -Xlog:SPEC:file=PATH{options} GcLoad MODE` (`options`: `:decorators:rotation`).
fn java_log_to(path: &Path, collector: &str, spec: &str, options: &str, mode: &str) {
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    let classes = CLASSES.get_or_init(|| {
        let dir = work().join("classes");
        let out = Command::new(tool("javac", "JAVAC_BIN", "openjdk-17-jdk-headless"))
            .arg("-d")
            .arg(&dir)
            .arg(repo("tests/gclog/java/GcLoad.java"))
            .output()
            .expect("javac runs");
        ok(&out, "javac");
        dir
    });
    let out = Command::new(tool("java", "JAVA_BIN", "openjdk-17-jdk-headless"))
        .arg("-cp")
        .arg(classes)
        .arg("-Xmx256m")
        .arg(format!("-XX:+Use{collector}"))
        .arg(format!("-Xlog:{spec}:file={}{options}", path.display()))
        .args(["GcLoad", mode])
        .output()
        .expect("java runs");
    ok(&out, "java -Xlog");
}

/// The Go program built once (no gctrace while building), run with gctrace=1.
fn go_log(name: &str, mode: &str) -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    let bin = BIN.get_or_init(|| {
        let bin = work().join("go-leaky");
        let out = Command::new(tool("go", "GO_BIN", "golang-go"))
            .args(["build", "-o"])
            .arg(&bin)
            .arg("main.go")
            .current_dir(repo("tests/gclog/go/leaky"))
            .env(
                "GOCACHE",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("gocache"),
            )
            .env("HOME", work())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .env_remove("GODEBUG")
            .output()
            .expect("go runs");
        ok(&out, "go build");
        bin
    });
    let out = Command::new(bin)
        .arg(mode)
        .env("GODEBUG", "gctrace=1")
        .output()
        .expect("the Go program runs");
    ok(&out, "the Go program");
    let path = work().join(name);
    std::fs::write(&path, &out.stderr).unwrap();
    path
}

fn gclog(args: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .arg("gclog")
        .args(args)
        .args(extra)
        .output()
        .expect("leakcollect runs")
}

/// The JSON for `files`, checked against the schema.
fn json(files: &[&Path]) -> Value {
    let out = gclog(files, &["--format", "json", "-q"]);
    ok(&out, "leakcollect gclog");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let errors = crate::common::schema_errors("gclog.schema.json", &doc);
    assert!(errors.is_empty(), "schema: {errors:#?}");
    doc
}

fn count_of(doc: &Value, kind: &str) -> u64 {
    doc["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == kind)
        .map_or(0, |k| k["count"].as_u64().unwrap())
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every quoted line is the log's line at that number, byte for byte.
fn quotes_are_verbatim(doc: &Value, files: &[&Path]) {
    let quotes = doc["evidence"].as_array().unwrap();
    assert_eq!(quotes.len(), 3, "first, middle, last");
    for q in quotes {
        let file = files
            .iter()
            .find(|f| f.file_name().unwrap().to_str() == q["file"].as_str())
            .expect("the quote names a file given");
        let line = q["line"].as_u64().unwrap() as usize;
        assert_eq!(lines_of(file)[line - 1], q["text"].as_str().unwrap());
    }
}

fn verdict(doc: &Value) -> &str {
    doc["verdict"].as_str().unwrap()
}

#[test]
fn node_trace_gc_floor_rises_when_leaking_and_stays_flat_when_not() {
    let logs = node_logs();
    for (path, expected) in [(&logs.leaky, "rising"), (&logs.healthy, "flat")] {
        let doc = json(&[path]);
        assert_eq!(doc["runtime"], "node");
        assert_eq!(doc["tool"], "node-trace-gc");
        let lines = lines_of(path);
        let counted = |kind: &str| {
            lines
                .iter()
                .filter(|l| l.contains(&format!(" ms: {kind} ")))
                .count() as u64
        };
        assert_eq!(count_of(&doc, "Scavenge"), counted("Scavenge"));
        assert_eq!(count_of(&doc, "Mark-Compact"), counted("Mark-Compact"));
        assert_eq!(counted("Mark-Compact"), 40, "one gc() per round");
        assert_eq!(doc["floor"].as_array().unwrap().len(), 40);
        assert_eq!(verdict(&doc), expected, "{path:?}: {:#}", doc["trend"]);
        quotes_are_verbatim(&doc, &[path]);
    }
    let leaky = json(&[&logs.leaky]);
    // ~1 MB a round for 40 rounds: the floor's rise is tens of MB.
    let rise = leaky["trend"]["rise_bytes"].as_f64().unwrap();
    assert!(rise > 10e6, "{rise}");
}

#[test]
fn a_short_log_has_too_few_collections_to_say() {
    let path = node_rounds("node-short.log", 4, true, &[]);
    let doc = json(&[&path]);
    assert_eq!(count_of(&doc, "Mark-Compact"), 4);
    assert_eq!(verdict(&doc), "too-few-collections");
    let out = gclog(&[&path], &[]);
    ok(&out, "leakcollect gclog");
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("**Verdict**: too few collections: 4 floor collection(s)"),
        "{md}"
    );
    assert!(md.contains("at least 6 are needed"), "{md}");
}

#[test]
fn node_trace_gc_verbose_noise_is_skipped() {
    let path = &node_logs().verbose;
    let doc = json(&[path]);
    let lines = lines_of(path);
    let collections = lines
        .iter()
        .filter(|l| l.contains(" ms: Scavenge ") || l.contains(" ms: Mark-Compact "))
        .count();
    assert!(
        lines.len() > 5 * collections,
        "the verbose log has its tables"
    );
    assert_eq!(doc["collections"].as_u64().unwrap() as usize, collections);
    assert_eq!(verdict(&doc), "rising");
}

#[test]
fn jvm_xlog_gc_and_gc_star_from_a_real_jdk() {
    for (spec, mode, expected) in [
        ("gc", "leak", "rising"),
        ("gc*", "leak", "rising"),
        ("gc", "steady", "flat"),
    ] {
        let name = format!("jvm-{}-{mode}.log", spec.replace('*', "star"));
        let path = java_log(&name, "G1GC", spec, mode);
        let doc = json(&[&path]);
        assert_eq!(doc["runtime"], "jvm");
        assert_eq!(doc["tool"], "other-jvm-gc-log");
        let lines = lines_of(&path);
        // The collection lines carry a size change; -Xlog:gc*'s start lines do not.
        let with_sizes = |what: &str| {
            lines
                .iter()
                .filter(|l| l.contains(what) && l.contains("M->"))
                .count() as u64
        };
        assert_eq!(count_of(&doc, "Pause Full"), with_sizes(") Pause Full"));
        assert_eq!(
            count_of(&doc, "Pause Full"),
            10,
            "System.gc() every third round"
        );
        let young: u64 = doc["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["kind"].as_str().unwrap().starts_with("Pause Young"))
            .map(|k| k["count"].as_u64().unwrap())
            .sum();
        assert_eq!(young, with_sizes(") Pause Young"), "{spec} {mode}");
        assert_eq!(verdict(&doc), expected, "{spec} {mode}: {:#}", doc["trend"]);
        quotes_are_verbatim(&doc, &[&path]);
    }
}

#[test]
fn jvm_rotated_logs_with_other_decorations_continue_one_process() {
    // -Xlog's own rotation: gc.log.0 … gc.log.N, then gc.log (the newest), each line
    // decorated with wall-clock time, uptime in ms, pid, level and tags.
    let dir = work().join("rotated");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("gc.log");
    java_log_to(
        &log,
        "G1GC",
        "gc",
        ":time,uptimemillis,pid,level,tags:filecount=9,filesize=1k",
        "leak",
    );
    let mut rotated: Vec<PathBuf> = (0..9)
        .map(|i| dir.join(format!("gc.log.{i}")))
        .filter(|p| p.exists())
        .collect();
    assert!(rotated.len() >= 2, "the JDK rotated the log: {rotated:?}");
    rotated.push(log);
    let files: Vec<&Path> = rotated.iter().map(PathBuf::as_path).collect();
    let doc = json(&files);
    assert_eq!(doc["processes"], 1, "one JVM's clock throughout");
    for f in &doc["files"].as_array().unwrap()[1..] {
        assert_eq!(f["continues_previous"], true, "{f}");
    }
    let full: usize = files
        .iter()
        .map(|f| {
            lines_of(f)
                .iter()
                .filter(|l| l.contains(") Pause Full") && l.contains("M->"))
                .count()
        })
        .sum();
    assert_eq!(full, 10);
    assert_eq!(count_of(&doc, "Pause Full") as usize, full);
    assert_eq!(verdict(&doc), "rising", "{:#}", doc["trend"]);
    // The JDK leaves the newest file empty right after it rotated: among several files an
    // empty one is passed over, and the figures stay.
    let fresh = dir.join("gc.log.fresh");
    std::fs::write(&fresh, "").unwrap();
    let mut with_fresh = files.clone();
    with_fresh.push(&fresh);
    let again = json(&with_fresh);
    assert_eq!(count_of(&again, "Pause Full"), count_of(&doc, "Pause Full"));
    assert_eq!(again["trend"], doc["trend"]);
    // Without any decoration there is no clock: refused, saying how to log.
    let bare = work().join("jvm-bare.log");
    java_log_to(&bare, "G1GC", "gc", ":none", "leak");
    let out = gclog(&[&bare], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has no time") && stderr.contains("uptime"),
        "{stderr}"
    );
}

#[test]
fn jvm_parallel_serial_zgc_and_shenandoah_logs() {
    for (collector, spec) in [
        ("ParallelGC", "gc"),
        ("SerialGC", "gc"),
        ("ZGC", "gc"),
        ("ZGC", "gc*"),
        ("ShenandoahGC", "gc"),
    ] {
        let name = format!("jvm-{collector}-{}.log", spec.replace('*', "star"));
        let path = java_log(&name, collector, spec, "leak");
        let doc = json(&[&path]);
        assert_eq!(doc["runtime"], "jvm", "{collector}");
        let lines = lines_of(&path);
        let counted = |what: &str| lines.iter().filter(|l| l.contains(what)).count();
        let floors = doc["floor"].as_array().unwrap().len();
        match collector {
            "ZGC" => {
                // Every ZGC cycle is whole-heap. Under -Xlog:gc its "after" includes what
                // was allocated while it ran, so only the count is checked there
                // (docs/gclog.md); under -Xlog:gc* the floor is the live bytes marked.
                let cycles = lines
                    .iter()
                    .filter(|l| l.contains(") Garbage Collection (") && l.contains("->"))
                    .count();
                assert_eq!(count_of(&doc, "Garbage Collection") as usize, cycles);
                assert_eq!(floors, cycles);
                if spec == "gc*" {
                    assert_eq!(verdict(&doc), "rising", "{collector}: {:#}", doc["trend"]);
                }
            }
            "ShenandoahGC" => {
                // One floor per cycle: its last cleanup.
                assert_eq!(floors, counted(") Pause Init Mark"), "{collector}");
                assert_eq!(
                    count_of(&doc, "Concurrent cleanup") as usize,
                    counted(") Concurrent cleanup ")
                );
                assert_eq!(verdict(&doc), "rising", "{collector}: {:#}", doc["trend"]);
            }
            _ => {
                assert_eq!(count_of(&doc, "Pause Full"), 10, "{collector}");
                assert_eq!(floors, 10);
                assert_eq!(
                    count_of(&doc, "Pause Young") as usize,
                    counted(") Pause Young (")
                );
                assert_eq!(verdict(&doc), "rising", "{collector}: {:#}", doc["trend"]);
            }
        }
    }
}

#[test]
fn go_gctrace_counts_forced_cycles_and_follows_the_live_heap() {
    for (mode, expected) in [("leak", "rising"), ("steady", "flat")] {
        let path = go_log(&format!("go-{mode}.log"), mode);
        let doc = json(&[&path]);
        assert_eq!(doc["runtime"], "go");
        assert_eq!(doc["tool"], "other-go-gctrace");
        let lines = lines_of(&path);
        // Complete lines only: the runtime's last line can be cut off when the process
        // exits while printing it, and the reader rightly skips a cut line.
        let cycles: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("gc ") && l.contains(" MB goal"))
            .collect();
        let forced = cycles.iter().filter(|l| l.ends_with("(forced)")).count() as u64;
        // runtime.GC() once a round, and the runtime's own cycles for the garbage.
        assert!(forced >= 40, "{forced}");
        assert!(cycles.len() as u64 > forced, "no background cycle");
        assert_eq!(count_of(&doc, "GC (forced)"), forced);
        assert_eq!(count_of(&doc, "GC"), cycles.len() as u64 - forced);
        assert_eq!(doc["floor"].as_array().unwrap().len(), cycles.len());
        assert_eq!(verdict(&doc), expected, "{mode}: {:#}", doc["trend"]);
        quotes_are_verbatim(&doc, &[&path]);
    }
}

#[test]
fn gzip_and_several_processes_oldest_first() {
    let logs = node_logs();
    let gz = work().join("node-leaky.log.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &std::fs::read(&logs.leaky).unwrap()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let plain = json(&[&logs.leaky]);
    let zipped = json(&[&gz]);
    assert_eq!(zipped["files"][0]["gzip"], true);
    assert_eq!(zipped["kinds"], plain["kinds"]);
    // Two processes one after the other: each clock starts over.
    let both = json(&[&logs.healthy, &gz]);
    assert_eq!(both["processes"], 2);
    assert_eq!(both["files"][1]["continues_previous"], false);
    assert_eq!(
        both["collections"].as_u64().unwrap(),
        json(&[&logs.healthy])["collections"].as_u64().unwrap()
            + plain["collections"].as_u64().unwrap()
    );
    // A truncated gzip: one line, exit 2.
    let bytes = std::fs::read(&gz).unwrap();
    let cut = work().join("cut.log.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = gclog(&[&cut], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ends early"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn bad_logs_are_refused_with_one_line() {
    let logs = node_logs();
    let dir = work();
    let empty = dir.join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    let unknown = dir.join("app.log");
    std::fs::write(&unknown, "2026-12-06 10:00:00 INFO started\nGET / 200\n").unwrap();
    // A real node run too short for a Mark-Compact: Scavenges only.
    let out = Command::new(tool("node", "NODE_BIN", "nodejs"))
        .args([
            "--trace-gc",
            "-e",
            "let a=[];for(let i=0;i<2e5;i++)a.push({i, s:'x'+i})",
        ])
        .output()
        .unwrap();
    ok(&out, "node");
    let young = dir.join("young-only.log");
    std::fs::write(&young, &out.stdout).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Scavenge") && !text.contains("Mark-"),
        "{text}"
    );
    let go = go_log("go-mixed.log", "steady");
    let missing = dir.join("missing.log");
    // A binary: the Go program go_log built (an ELF executable), refused at its first line.
    let binary = dir.join("go-leaky");
    let cases: [(Vec<&Path>, i32, &str); 6] = [
        (vec![&binary], 2, "not a GC log"),
        (vec![&empty], 2, "empty"),
        (vec![&unknown], 2, "Node.js --trace-gc"),
        (vec![&young], 3, "no full one"),
        (vec![&logs.leaky, &go], 2, "one runtime"),
        (vec![&missing], 2, "no such file"),
    ];
    for (files, code, says) in cases {
        let out = gclog(&files, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{files:?}: {stderr}");
        assert!(stderr.contains(says), "{files:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
    }
    // The unknown format's line names what it read and every format read.
    let out = gclog(&[&unknown], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2026-12-06 10:00:00 INFO"), "{stderr}");
    assert!(
        stderr.contains("-Xlog:gc") && stderr.contains("gctrace"),
        "{stderr}"
    );
    // No output file is left behind.
    let target = dir.join("out.md");
    let out = gclog(&[&empty], &["-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!target.exists());
}

#[test]
fn markdown_of_a_real_jdk_log() {
    // Written by `java -Xlog:gc` (OpenJDK 17, G1) running tests/gclog/java/GcLoad.java
    // leak, kept so the snapshot is stable (the live tests above run the JDK each time).
    let path = repo("tests/gclog/fixtures/g1-leak.log");
    let out = gclog(&[&path], &[]);
    ok(&out, "leakcollect gclog");
    let md = String::from_utf8(out.stdout).unwrap();
    let doc = json(&[&path]);
    assert!(md.contains(&format!(
        "| Pause Full (floor) | {} |",
        count_of(&doc, "Pause Full")
    )));
    // -o writes the same text, through the one safe writer.
    let file = work().join("g1.md");
    ok(
        &gclog(&[&path], &["-o", file.to_str().unwrap()]),
        "leakcollect gclog -o",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), md);
    insta::assert_snapshot!("gclog_g1_markdown", md);
}

#[test]
fn attach_fills_the_gc_logs_appendix_and_ticks_the_box() {
    let s = crate::common::scenario("steady-leak", "api");
    let server = crate::common::PromServer::start(&crate::common::openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    // The same name in two folders: the charts' paths are named after the draft.
    let plain = other.path().join("api.md");
    let draft = dir.path().join("api.md");
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    for d in [&plain, &draft] {
        let path = d.to_str().unwrap();
        crate::common::lc()
            .args([
                "init",
                path,
                "--service",
                "api",
                "--from",
                &from,
                "--to",
                &to,
            ])
            .expect_code(0);
        crate::common::lc()
            .args(["attach", path, "-q"])
            .server(&server.url)
            .expect_code(0);
    }
    let before = std::fs::read_to_string(&draft).unwrap();
    // The two drafts differ only in their own times (init's, recorded; the timeline's
    // Investigation started row).
    let own_times = |line: &str| {
        line.starts_with("<!-- leakcollect:params")
            || line.starts_with("<!-- leakcollect:begin id=params ")
            || line.starts_with("<!-- leakcollect:begin id=timeline ")
            || line.contains("| Investigation started |")
    };
    let without_own_times =
        |t: &str| -> String { t.split_inclusive('\n').filter(|l| !own_times(l)).collect() };
    assert_eq!(
        without_own_times(&before),
        without_own_times(&std::fs::read_to_string(&plain).unwrap())
    );
    let log = node_logs().leaky.to_str().unwrap();
    let attach = |extra: &[&str]| {
        crate::common::lc()
            .args(["attach", draft.to_str().unwrap(), "-q"])
            .args(extra)
            .server(&server.url)
            .run()
    };
    // A bad log: refused before any query, the draft untouched.
    let unknown = dir.path().join("app.log");
    std::fs::write(&unknown, "hello\n").unwrap();
    let out = attach(&["--gc-log", unknown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), before);

    let out = attach(&["--gc-log", log]);
    ok(&out, "attach --gc-log");
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(
        text.contains("- [x] Node.js `--trace-gc` logs (read by `leakcollect gclog`: 1 file(s))"),
        "{text}"
    );
    assert!(!text.contains("[Relevant GC log excerpts showing the leak]"));
    assert!(text.contains("**Verdict**: rising"), "{text}");
    assert!(text.contains(r#""gc_log":["#), "--gc-log recorded");
    assert!(!text.contains("## Evidence (leakcollect)"));
    let doc = json(&[Path::new(log)]);
    for q in doc["evidence"].as_array().unwrap() {
        assert!(text.contains(q["text"].as_str().unwrap()), "quote missing");
    }
    // Everything else is as a plain attach wrote it: the lines outside the GC Logs block,
    // the ticked box and the params line are byte-identical.
    let outside = |t: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut inside = false;
        for line in t.split_inclusive('\n') {
            if line.starts_with("<!-- leakcollect:begin id=gc-logs") {
                inside = true;
            }
            // The two blocks that change carry their content's checksum in the marker.
            let changed = line.contains("Node.js `--trace-gc` logs")
                || own_times(line)
                || line.starts_with("<!-- leakcollect:begin id=heap-tools ");
            if !inside && !changed {
                out.push(line.to_string());
            }
            if inside && line.starts_with("<!-- leakcollect:end id=gc-logs") {
                inside = false;
            }
        }
        out
    };
    let plain_text = std::fs::read_to_string(&plain).unwrap();
    let template_fence = "```\n[Relevant GC log excerpts showing the leak]\n```\n";
    assert_eq!(
        outside(&text).concat(),
        outside(&plain_text)
            .concat()
            .replacen(template_fence, "", 1)
    );
    // The recorded log is read again: nothing moves.
    let again = attach(&["--check"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
