//! `leakcollect heap` from what grows to the line of code, on files the real tools write
//! at test time: Go heap profiles passed through `go tool pprof -proto` (locations checked
//! against `go tool pprof -lines -top`), V8 sampling heap profiles from Node's inspector
//! and `node --heap-prof` (tests/heap/node/sampling.js), Scalene JSON profiles of
//! tests/heap/python/leaky.py (Scalene from PyPI in tests/heap/python/.venv, installed by
//! scripts/test.sh), CPU profiles refused, `--source` and `attach --source`.

use super::heap::synthetic_series;
use super::heap::{fails, go_bin, go_profiles, heap_json, leakcollect, leaky, node_bin, repo};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The 1-based line of the first line of `rel` (under the repo) containing `needle`.
fn script_line(rel: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(repo(rel)).unwrap();
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {rel}"));
    index as u64 + 1
}

fn go_tool(home: &Path, args: &[&str], file: &Path) -> Output {
    let out = Command::new(go_bin())
        .arg("tool")
        .args(args)
        .arg(file)
        .env("HOME", home)
        .env("GOCACHE", home.join("gocache"))
        .env("PPROF_TMPDIR", home)
        .output()
        .expect("go tool runs");
    assert!(
        out.status.success(),
        "go tool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `go tool pprof -proto FILE`, as people do to merge, filter or convert profiles.
fn through_pprof_proto(home: &Path, file: &Path, k: usize) -> PathBuf {
    let out = go_tool(home, &["pprof", "-proto"], file);
    let path = home.join(format!("converted.{k}.pb.gz"));
    std::fs::write(&path, out.stdout).unwrap();
    path
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
        &mut raw,
    )
    .unwrap();
    raw
}

fn run_heap(args: &[&str]) -> (i32, String, String) {
    let out = leakcollect(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn markdown(args: &[&str]) -> String {
    let (code, stdout, stderr) = run_heap(args);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

fn json_with(files: &[PathBuf], extra: &[&str]) -> Value {
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(["--format", "json", "-q"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = run_heap(&args);
    assert_eq!(code, 0, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let errors = crate::common::schema_errors("heap.schema.json", &json);
    assert!(errors.is_empty(), "schema/heap.schema.json: {errors:#?}");
    json
}

/// A refused run: its exit code and its one line (no output file written).
fn refused(args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.md");
    let mut all: Vec<&str> = args.to_vec();
    let out_arg = out_path.display().to_string();
    all.extend(["-o", &out_arg]);
    let (code, _, stderr) = run_heap(&all);
    assert!(!out_path.exists(), "an output file was written");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one message: {stderr}");
    (code, stderr)
}

fn paths(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| f.display().to_string()).collect()
}

#[test]
fn go_tool_pprof_proto_output_reads_as_the_raw_profiles() {
    let (dir, files) = go_profiles("leaky");
    let converted: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(k, f)| through_pprof_proto(dir.path(), f, k))
        .collect();
    // What made it a bug: the converted profile starts with field 1 (sample_type), a
    // byte that is a newline.
    let raw = gunzip(&converted[0]);
    assert_eq!(raw[0], 0x0a, "go tool pprof -proto starts with sample_type");
    assert_ne!(gunzip(&files[0])[0], 0x0a, "the runtime's does not");
    let a = heap_json(&files);
    let b = heap_json(&converted);
    assert_eq!(b["format"], "pprof");
    assert_eq!(a["growing"], b["growing"]);
    assert_eq!(a["suspects"], b["suspects"]);
    assert_eq!(b["suspects"][0]["name"], "main.retainRecord");
    // Uncompressed, and mixed with a runtime-written one.
    let plain = dir.path().join("converted.pb");
    std::fs::write(&plain, &raw).unwrap();
    let c = heap_json(&[plain, files[2].clone()]);
    let d = heap_json(&[files[0].clone(), files[2].clone()]);
    assert_eq!(c["growing"], d["growing"]);
}

/// `go tool pprof -lines -top`'s rows: flat bytes, function, file, line.
fn pprof_lines_top(home: &Path, file: &Path) -> Vec<(i64, String, String, u64)> {
    let args = [
        "pprof",
        "-lines",
        "-top",
        "-unit=B",
        "-nodefraction=0",
        "-nodecount=100000",
        "-sample_index=inuse_space",
    ];
    let text = String::from_utf8(go_tool(home, &args, file).stdout).unwrap();
    let mut rows = Vec::new();
    let mut table = false;
    for line in text.lines() {
        if line.trim_start().starts_with("flat") {
            table = true;
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        if !table || cols.len() < 7 {
            continue;
        }
        let flat: i64 = cols[0].trim_end_matches('B').parse().unwrap();
        let Some((path, number)) = cols[6].rsplit_once(':') else {
            continue;
        };
        rows.push((
            flat,
            cols[5].to_string(),
            path.to_string(),
            number.parse().unwrap(),
        ));
    }
    assert!(!rows.is_empty(), "no rows in:\n{text}");
    rows
}

#[test]
fn pprof_locations_are_what_go_tool_pprof_lines_says() {
    let (dir, files) = go_profiles("leaky");
    let json = heap_json(&files);
    let rows = pprof_lines_top(dir.path(), &files[2]);
    let suspect = &json["suspects"][0];
    assert_eq!(suspect["name"], "main.retainRecord");
    let loc = &suspect["location"];
    let row = rows
        .iter()
        .filter(|r| r.1 == "main.retainRecord")
        .max_by_key(|r| r.0)
        .expect("pprof lists main.retainRecord");
    assert_eq!(loc["file"].as_str().unwrap(), row.2);
    assert_eq!(loc["line"].as_u64().unwrap(), row.3);
    assert_eq!(loc["function"], "main.retainRecord");
    // …which is where the program allocates, by its text.
    assert_eq!(
        row.3,
        script_line("tests/heap/go/leaky/main.go", "head = &leakedRecord{")
    );
    // Every located entry of a function pprof shows at one line has that line.
    let mut checked = 0;
    for list in ["growing", "top_consumers"] {
        for entry in json[list].as_array().unwrap() {
            let Some(loc) = entry.get("location") else {
                continue;
            };
            let function = loc["function"].as_str().unwrap();
            let lines: Vec<_> = rows.iter().filter(|r| r.1 == function).collect();
            if lines.len() == 1 {
                assert_eq!(loc["file"].as_str().unwrap(), lines[0].2, "{entry:#}");
                assert_eq!(loc["line"].as_u64().unwrap(), lines[0].3, "{entry:#}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 2, "{checked} entries checked");
    let files = paths(&files);
    let args: Vec<&str> = files.iter().map(String::as_str).chain(["-q"]).collect();
    let md = markdown(&args);
    assert!(
        md.contains(&format!("- main.retainRecord (main.go:{}): +", row.3)),
        "{md}"
    );
}

#[test]
fn cpu_profiles_are_refused_saying_what_they_are() {
    let (dir, _files) = go_profiles("leaky");
    let cpu = dir.path().join("cpu.pb.gz");
    let (code, stderr) = fails(&[&cpu]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("a CPU profile"), "{stderr}");
    assert!(stderr.contains("found: samples, cpu"), "{stderr}");
    // `node --cpu-prof`: JSON, but none of the heap formats.
    let out = Command::new(node_bin())
        .args(["--cpu-prof", "--cpu-prof-dir"])
        .arg(dir.path().join("cpu"))
        .arg(repo("tests/heap/node/sampling.js"))
        .args(["once", "2000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let profile = std::fs::read_dir(dir.path().join("cpu"))
        .unwrap()
        .next()
        .expect("node wrote a .cpuprofile")
        .unwrap()
        .path();
    let (code, stderr) = fails(&[&profile]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a V8 heap snapshot nor"), "{stderr}");
    assert!(
        stderr.contains(".heapprofile"),
        "says what to give: {stderr}"
    );
}

/// Runs sampling.js under the inspector's sampling heap profiler; its profiles, in order.
/// TurboFan's inlining is off, so that an allocation is charged to the function that
/// makes it rather than to the one it was inlined into.
fn inspector_profiles(dir: &Path) -> Vec<PathBuf> {
    let out = Command::new(node_bin())
        .arg("--no-turbo-inlining")
        .arg(repo("tests/heap/node/sampling.js"))
        .args(["inspector", "2000,3000,3000"])
        .current_dir(dir)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = serde_json::from_str(printed.lines().last().unwrap()).unwrap();
    names.iter().map(|n| dir.join(n)).collect()
}

const SCRIPT: &str = "tests/heap/node/sampling.js";

#[test]
fn node_inspector_sampling_profiles_name_the_leaking_function_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let files = inspector_profiles(dir.path());
    let json = json_with(&files, &[]);
    assert_eq!(json["format"], "v8-heapprofile");
    assert_eq!(json["technique"], "sampling-flat");
    assert_eq!(json["tool"], "other");
    let suspect = &json["suspects"][0];
    assert_eq!(suspect["name"], "OrderContext", "{:#}", json["growing"]);
    let loc = &suspect["location"];
    assert!(loc["file"].as_str().unwrap().ends_with(SCRIPT), "{loc}");
    // V8 gives the function's position 0-based; the report's is 1-based.
    assert_eq!(
        loc["line"].as_u64().unwrap(),
        script_line(SCRIPT, "constructor(id)")
    );
    let enqueue = json["growing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "enqueue")
        .expect("enqueue grows (its Map entries)");
    assert_eq!(
        enqueue["location"]["line"].as_u64().unwrap(),
        script_line(SCRIPT, "function enqueue(")
    );
    for s in json["suspects"].as_array().unwrap() {
        assert_ne!(
            s["name"], "scratch",
            "what is dropped at once is no suspect"
        );
    }
    // 6,000 more OrderContexts, each an object and a 64-element array (about 550
    // bytes): the sampled estimate is within a factor of two of that.
    let grown = suspect["retained_growth_bytes"].as_f64().unwrap();
    let expected = 6000.0 * 550.0;
    assert!(
        grown > expected / 2.0 && grown < expected * 2.0,
        "{grown} vs {expected}"
    );
    let root = &json["root_cause"];
    assert_eq!(root["basis"], "growing");
    assert_eq!(root["language"], "javascript");
    let files = paths(&files);
    let args: Vec<&str> = files.iter().map(String::as_str).chain(["-q"]).collect();
    let md = markdown(&args);
    let line = script_line(SCRIPT, "constructor(id)");
    assert!(
        md.contains(&format!("- OrderContext (sampling.js:{line}): +")),
        "{md}"
    );
    assert!(
        md.contains("- [x] Other: V8 sampling heap profiles (3 file(s))"),
        "{md}"
    );
}

#[test]
fn node_heap_prof_profile_lists_the_largest_sites_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(node_bin())
        .args([
            "--heap-prof",
            "--heap-prof-interval",
            "512",
            "--heap-prof-dir",
        ])
        .arg(dir.path())
        .arg("--no-turbo-inlining")
        .arg(repo(SCRIPT))
        .args(["once", "20000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let json = json_with(&files, &[]);
    assert_eq!(json["format"], "v8-heapprofile");
    let top = &json["top_consumers"][0];
    assert_eq!(top["name"], "OrderContext", "{:#}", json["top_consumers"]);
    assert_eq!(
        top["location"]["line"].as_u64().unwrap(),
        script_line(SCRIPT, "constructor(id)")
    );
    assert_eq!(json["root_cause"]["basis"], "largest-only");
    assert!(json["suspects"].as_array().unwrap().is_empty());
}

fn scalene_bin() -> PathBuf {
    let bin = repo("tests/heap/python/.venv/bin/scalene");
    assert!(
        bin.is_file(),
        "{} missing: run scripts/test.sh (it installs tests/heap/python/requirements.txt, Scalene from PyPI, into that venv)",
        bin.display()
    );
    bin
}

const PY: &str = "tests/heap/python/leaky.py";

fn scalene(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out_path = dir.join(name);
    let out = Command::new(scalene_bin())
        .arg("run")
        .args(extra)
        .arg("-o")
        .arg(&out_path)
        .arg(repo(PY))
        .args(["---", "3000"])
        .current_dir(dir)
        .output()
        .expect("scalene runs");
    assert!(
        out.status.success() && out_path.is_file(),
        "scalene: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_path
}

/// The leaks Scalene reported in a profile (its own JSON, read here).
fn reported_leaks(path: &Path) -> Value {
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    raw["files"][repo(PY).display().to_string()]["leaks"].clone()
}

/// Scalene's leak detector is statistical (a line's new memory highs against its
/// frees); a run of leaky.py seen to report its leak every time is tried up to three
/// times before the test fails.
fn scalene_with_leak(dir: &Path) -> PathBuf {
    for attempt in 1..=3 {
        let path = scalene(dir, &format!("profile-{attempt}.json"), &[]);
        if reported_leaks(&path)
            .as_object()
            .is_some_and(|l| !l.is_empty())
        {
            return path;
        }
    }
    panic!("Scalene reported no leak in leaky.py in three runs");
}

#[test]
fn scalene_leak_ranks_first_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let profile = scalene_with_leak(dir.path());
    let leaks = reported_leaks(&profile);
    let line = script_line(PY, "self.payload = bytearray(");
    assert!(leaks.get(line.to_string()).is_some(), "{leaks}");
    let json = json_with(std::slice::from_ref(&profile), &[]);
    assert_eq!(json["format"], "scalene");
    assert_eq!(json["tool"], "scalene");
    let first = &json["growing"][0];
    assert_eq!(
        first["location"]["line"].as_u64().unwrap(),
        line,
        "{first:#}"
    );
    assert_eq!(first["location"]["function"], "OrderContext.__init__");
    assert_eq!(
        first["scalene"]["leak_likelihood"],
        leaks[line.to_string()]["likelihood"]
    );
    let suspect = &json["suspects"][0];
    assert_eq!(suspect["location"]["line"].as_u64().unwrap(), line);
    assert_eq!(json["root_cause"]["basis"], "scalene-leak");
    // Scalene's MB are 2^20 bytes: the line allocated 3,000 × 100 kB ≈ 300 MB.
    let malloc = first["scalene"]["malloc_mb"].as_f64().unwrap() * 1_048_576.0;
    assert!((malloc - 3.0e8).abs() < 0.25 * 3.0e8, "{malloc}");
    let p = profile.display().to_string();
    let md = markdown(&[&p, "-q"]);
    assert!(md.contains("- [x] Python Scalene profiling"), "{md}");
    assert!(md.contains(&format!("(leaky.py:{line})")), "{md}");
    assert!(md.contains("Scalene's leak detector reports"), "{md}");

    // One profile at a time; a CPU-only one has no memory data.
    let (code, stderr) = refused(&[&p, &p]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("one Scalene profile at a time"), "{stderr}");
    let cpu = scalene(dir.path(), "cpu.json", &["--cpu-only"]);
    let (code, stderr) = refused(&[cpu.to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no memory data"), "{stderr}");
    assert!(stderr.contains("--cpu-only"), "{stderr}");

    // --source: the function around the line, Python fence.
    let src = repo("tests/heap/python").display().to_string();
    let json = json_with(&[profile], &["--source", &src]);
    let source = &json["root_cause"]["source"];
    assert_eq!(source["path"], "leaky.py");
    let at = (line - source["first_line"].as_u64().unwrap()) as usize;
    assert!(
        source["lines"][at]
            .as_str()
            .unwrap()
            .contains("bytearray(100_000)"),
        "{source:#}"
    );
    assert_eq!(json["root_cause"]["language"], "python");
}

#[test]
fn source_dir_fills_vulnerable_code_with_the_function() {
    let (_dir, files) = go_profiles("leaky");
    let go_src = repo("tests/heap/go").display().to_string();
    let json = json_with(&files, &["--source", &go_src]);
    let root = &json["root_cause"];
    let source = &root["source"];
    assert_eq!(source["path"], "leaky/main.go");
    let line = script_line("tests/heap/go/leaky/main.go", "head = &leakedRecord{");
    assert_eq!(source["line"].as_u64().unwrap(), line);
    let lines = source["lines"].as_array().unwrap();
    assert!(lines.len() <= 25);
    let first = source["first_line"].as_u64().unwrap();
    assert!(
        lines[(line - first) as usize]
            .as_str()
            .unwrap()
            .contains("head = &leakedRecord{next: head}")
    );
    assert!(
        lines[0]
            .as_str()
            .unwrap()
            .starts_with("func retainRecord()")
    );
    let f = paths(&files);
    let mut args: Vec<&str> = f.iter().map(String::as_str).collect();
    args.extend(["-q", "--source", &go_src]);
    let md = markdown(&args);
    assert!(
        md.contains(&format!("```go\n// File: leaky/main.go:{line}\n")),
        "{md}"
    );
    assert!(md.contains("\nfunc retainRecord() {\n"), "{md}");
    assert!(
        md.contains("1. `main.retainRecord` allocates at main.go:"),
        "{md}"
    );

    // The sampling profiles' file matched under another folder.
    let dir = tempfile::tempdir().unwrap();
    let profiles = inspector_profiles(dir.path());
    let node_src = repo("tests/heap/node").display().to_string();
    let json = json_with(&profiles, &["--source", &node_src]);
    let source = &json["root_cause"]["source"];
    assert_eq!(source["path"], "sampling.js");
    let text: Vec<&str> = source["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(text[0].starts_with("class OrderContext"), "{text:?}");
    assert!(text.iter().any(|l| l.contains("new Array(64)")), "{text:?}");

    // Bad --source: one line each, exit 2, nothing written.
    let go_files = paths(&files);
    let missing = dir.path().join("no-such-folder").display().to_string();
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("other.go"), "package x\n").unwrap();
    let empty_dir = empty.path().display().to_string();
    // Snapshots whose closures have no recorded positions (generated: V8 always
    // records them) name no code.
    let synthetic = paths(&synthetic_series(dir.path(), &[(2, 0), (5, 0), (9, 0)]));
    for (files, dir, message) in [
        (&go_files, &missing, "no such folder"),
        (&go_files, &empty_dir, "no file under it matches"),
        (&synthetic, &empty_dir, "name no code location"),
    ] {
        let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
        args.extend(["--source", dir.as_str()]);
        let (code, stderr) = refused(&args);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(stderr.contains("--source"), "{stderr}");
    }
}

#[test]
fn v8_snapshot_closures_on_retainer_paths_carry_their_position() {
    let json = heap_json(&leaky().1);
    let listener = json["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "LeakyRequestContext")
        .expect("the listener leak is a suspect");
    let line = script_line("tests/heap/node/leaky.js", "function onRequest()");
    let closure = listener["retainer_path"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["node"] == "onRequest()")
        .expect("the path runs through the listener closure");
    let loc = &closure["location"];
    assert!(
        loc["file"]
            .as_str()
            .unwrap()
            .ends_with("tests/heap/node/leaky.js")
    );
    assert_eq!(loc["line"].as_u64().unwrap(), line);
    assert_eq!(loc["function"], "onRequest");
    let root = &json["root_cause"];
    assert_eq!(root["basis"], "retainer-closure");
    assert_eq!(root["name"], "LeakyRequestContext");
    // With the code: the listener, in a JavaScript fence.
    let src = repo("tests/heap/node").display().to_string();
    let json = json_with(&leaky().1, &["--source", &src]);
    let source = &json["root_cause"]["source"];
    assert_eq!(source["path"], "leaky.js");
    assert!(
        source["lines"][0]
            .as_str()
            .unwrap()
            .contains("bus.on('request', function onRequest() {"),
        "{source:#}"
    );
    let files = paths(&leaky().1);
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    args.extend(["-q", "--source", &src]);
    let md = markdown(&args);
    assert!(md.contains(": onRequest() @"), "{md}");
    assert!(md.contains(&format!("(leaky.js:{line})")), "{md}");
    assert!(
        md.contains(&format!("```javascript\n// File: leaky.js:{line}\n")),
        "{md}"
    );
}

/// The draft with every leakcollect block's content left out: the text people own.
fn outside_blocks(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("<!-- leakcollect:begin ") {
            inside = true;
            out.push_str(line.split(" sha=").next().unwrap());
            out.push('\n');
        } else if line.starts_with("<!-- leakcollect:end ") {
            inside = false;
        } else if !inside {
            out.push_str(line);
        }
    }
    out
}

fn attach(url: &str, draft: &str, args: &[&str]) -> (i32, String) {
    let out = crate::common::lc()
        .args(["attach", draft, "-q"])
        .args(args)
        .server(url)
        .run();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn attach_with_source_fills_root_cause_and_keeps_the_rest_of_the_draft() {
    let s = crate::common::scenario("steady-leak", "api");
    let server = crate::common::PromServer::start(&crate::common::openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api.md");
    let path = draft.to_str().unwrap();
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
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
    let edited = std::fs::read_to_string(&draft).unwrap().replace(
        "**TL;DR**: [One sentence summary of the leak, cause, and fix]",
        "**TL;DR**: records kept on a list; written by a person.",
    );
    std::fs::write(&draft, &edited).unwrap();
    let (_go, files) = go_profiles("leaky");
    let files = paths(&files);
    let mut heap: Vec<&str> = vec!["--heap"];
    heap.extend(files.iter().map(String::as_str));
    // Without --source: the location alone.
    let (code, stderr) = attach(&server.url, path, &heap);
    assert_eq!(code, 0, "{stderr}");
    let without = std::fs::read_to_string(&draft).unwrap();
    assert!(without.contains("// File: /"), "the profile's own path");
    assert!(without.contains("(give --source DIR for the code)"));
    assert!(!without.contains("[Paste vulnerable code here]"));
    assert!(without.contains("**Why This Leaks** (generated from the pprof profile"));

    // A --source that does not exist: refused, the draft untouched.
    let missing = dir.path().join("missing").display().to_string();
    let (code, stderr) = attach(&server.url, path, &["--source", &missing]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no such folder"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), without);

    let src = repo("tests/heap/go").display().to_string();
    let (code, stderr) = attach(&server.url, path, &["--source", &src]);
    assert_eq!(code, 0, "{stderr}");
    let with = std::fs::read_to_string(&draft).unwrap();
    let line = script_line("tests/heap/go/leaky/main.go", "head = &leakedRecord{");
    assert!(
        with.contains(&format!("// File: leaky/main.go:{line}\n")),
        "{with}"
    );
    assert!(with.contains("\nfunc retainRecord() {\n"));
    assert!(with.contains(r#""source":""#), "--source recorded");
    // Only leakcollect's blocks changed: every other byte is as before.
    assert_eq!(outside_blocks(&with), outside_blocks(&without));
    assert!(with.contains("records kept on a list; written by a person."));
    assert!(
        with.contains("// [Brief explanation of fix]"),
        "the Fixed Code fence is people's"
    );
    // The recorded --heap and --source are read again; nothing moves.
    let (code, stderr) = attach(&server.url, path, &["--check"]);
    assert_eq!(code, 0, "{stderr}");
}

/// A sampling profile written here, for a stable snapshot of the Markdown: the same
/// tree at each of `rounds`, `enqueue`'s OrderContexts growing with the round.
fn synthetic_profile(dir: &Path, k: usize, round: u64) -> PathBuf {
    let url = "file:///srv/app/src/orders.js";
    let frame = |name: &str, line: i64| serde_json::json!({"functionName": name, "scriptId": "7", "url": url, "lineNumber": line, "columnNumber": 2});
    let profile = serde_json::json!({
        "head": {
            "callFrame": {"functionName": "(root)", "scriptId": "0", "url": "", "lineNumber": -1, "columnNumber": -1},
            "selfSize": 0, "id": 1,
            "children": [
                {"callFrame": frame("handle", 7), "selfSize": 4096, "id": 2, "children": [
                    {"callFrame": frame("enqueue", 2), "selfSize": 65536 * round, "id": 3, "children": []}
                ]},
                {"callFrame": {"functionName": "(V8 API)", "scriptId": "0", "url": "", "lineNumber": -1, "columnNumber": -1},
                 "selfSize": 2048, "id": 4, "children": []}
            ]
        },
        // One sample per 16 kB, as V8 lists them (the tree's self sizes are their sums).
        "samples": (0..(4 * round + 1))
            .map(|i| serde_json::json!({"size": 16384, "nodeId": if i == 0 { 2 } else { 3 }, "ordinal": i + 1}))
            .collect::<Vec<_>>()
    });
    let path = dir.join(format!("orders-{k}.heapprofile"));
    std::fs::write(&path, profile.to_string()).unwrap();
    path
}

#[test]
fn sampling_markdown_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("checkout/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("orders.js"),
        "const pending = new Map();\n\nfunction enqueue(order) {\n  const ctx = { order, at: Date.now() };\n  pending.set(order.id, ctx);\n}\n\nfunction handle(req) {\n  enqueue(req.body);\n}\n\nfunction other() {}\n",
    )
    .unwrap();
    let files: Vec<PathBuf> = [1, 4, 9]
        .iter()
        .enumerate()
        .map(|(k, r)| synthetic_profile(dir.path(), k + 1, *r))
        .collect();
    let mut args = paths(&files);
    args.extend([
        "-q".into(),
        "--source".into(),
        dir.path().join("checkout").display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let md = markdown(&args).replace(&dir.path().display().to_string(), "<dir>");
    // The files' modification times are the run's.
    let md: String = md
        .lines()
        .map(|l| match l.find(": 20") {
            Some(i) if l.starts_with("Snapshot ") => {
                format!("{}: <time>{}", &l[..i], &l[l.find(" - ").unwrap()..])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("heap_sampling_markdown", md);
}
