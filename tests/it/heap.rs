//! `leakcollect heap` on real files: heap snapshots written by Node.js processes that
//! leak by construction (tests/heap/node/leaky.js) or not (control.js), and pprof heap
//! profiles written by Go programs (tests/heap/go/), compared with `go tool pprof`.
//! Node (`NODE_BIN`, default /usr/bin/node) and Go (`GO_BIN`, default `go` on PATH) must
//! be installed: a missing one fails the test with what to install.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Requests per round of the Node programs: W before snapshot 1, then N1, then N2.
const W: u64 = 10;
const N1: u64 = 300;
const N2: u64 = 200;
/// The Go programs' rounds (the steady one needs a first round ≥ 64 to fill its ring).
const GW: u64 = 100;
const GN1: u64 = 3000;
const GN2: u64 = 2000;

pub(super) fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub(super) fn node_bin() -> PathBuf {
    let path = PathBuf::from(std::env::var("NODE_BIN").unwrap_or_else(|_| "/usr/bin/node".into()));
    assert!(
        path.is_file(),
        "Node.js not found at {} (set NODE_BIN): install Debian's nodejs package",
        path.display()
    );
    path
}

pub(super) fn go_bin() -> PathBuf {
    if let Ok(path) = std::env::var("GO_BIN") {
        return PathBuf::from(path);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join("go").is_file() {
            return dir.join("go");
        }
    }
    panic!(
        "`go` not found on PATH (or $GO_BIN): install Debian's golang-go (scripts/test.sh does it)"
    );
}

pub(super) fn leakcollect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .arg("heap")
        .args(args)
        .output()
        .expect("leakcollect runs")
}

pub(super) fn heap_json(files: &[PathBuf]) -> Value {
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(["--format".into(), "json".into(), "-q".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert!(
        out.status.success(),
        "leakcollect heap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let errors = schema_errors(&json);
    assert!(errors.is_empty(), "schema/heap.schema.json: {errors:#?}");
    json
}

fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("schema/heap.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Runs a Node program in a fresh folder, its stdout a file (as a service's log would
/// be: Node then writes it through a SyncWriteStream); returns the folder and its
/// snapshots in order (the JSON array on the program's last line of output).
fn node_snapshots(script: &str, rounds: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stdout.log");
    let out = Command::new(node_bin())
        .arg(repo(&format!("tests/heap/node/{script}")))
        .arg(rounds)
        .current_dir(dir.path())
        .stdout(std::fs::File::create(&log).unwrap())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = std::fs::read_to_string(&log).unwrap();
    let last = printed.lines().last().unwrap_or_default();
    let names: Vec<String> = serde_json::from_str(last).expect("file names");
    std::fs::remove_file(&log).unwrap();
    let files = names.iter().map(|n| dir.path().join(n)).collect();
    (dir, files)
}

pub(super) fn leaky() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static LEAKY: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    LEAKY.get_or_init(|| node_snapshots("leaky.js", &format!("{W},{N1},{N2}")))
}

fn leaky_json() -> &'static Value {
    static JSON: OnceLock<Value> = OnceLock::new();
    JSON.get_or_init(|| heap_json(&leaky().1))
}

fn by_name<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|g| g["name"] == name)
}

fn edges(path: &Value) -> Vec<String> {
    path.as_array()
        .unwrap()
        .iter()
        .map(|s| s["edge"].as_str().unwrap_or("").to_string())
        .collect()
}

/// global_array.js: every request pushes a LeakyRequestContext onto `global.leaked`;
/// console.log first runs after snapshot 1, making `process.stdout` once.
fn global_array() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static FILES: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    FILES.get_or_init(|| node_snapshots("global_array.js", &format!("{W},{N1},{N2}")))
}

fn global_array_json() -> &'static Value {
    static JSON: OnceLock<Value> = OnceLock::new();
    JSON.get_or_init(|| heap_json(&global_array().1))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn only_classes_growing_at_every_step_are_suspects() {
    let files = &global_array().1;
    let json = global_array_json();
    // process.stdout (a SyncWriteStream) is made by the first console.log, between
    // snapshots 1 and 2: it is in the three-snapshot set, yet it does not grow.
    let stdout = by_name(&json["growing"], "SyncWriteStream")
        .unwrap_or_else(|| panic!("the scenario makes no stdout: {:#}", json["growing"]));
    assert!(stdout["allocated_between_first_two_alive_at_last"].as_u64() > Some(0));
    let early = heap_json(&files[..2]);
    let late = heap_json(&files[1..]);
    assert!(by_name(&late["growing"], "SyncWriteStream").is_none());
    let suspects = names(&json["suspects"]);
    assert!(
        !suspects.contains(&"SyncWriteStream".to_string()),
        "{suspects:?}"
    );
    // Every suspect grew between snapshots 1 and 2 and again between 2 and 3.
    for name in &suspects {
        for pair in [&early, &late] {
            let g = by_name(&pair["growing"], name);
            assert!(
                g.is_some_and(|g| g["count_delta"].as_i64() > Some(0)),
                "{name} is a suspect but did not grow in {:#}",
                pair["snapshots"]
            );
        }
    }
    assert_eq!(json["leaked_object"], "LeakyRequestContext");
    assert!(
        json["hints"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| !names_of(&h["suspects"]).contains(&"SyncWriteStream".to_string())),
        "{:#}",
        json["hints"]
    );
}

#[test]
fn a_global_array_that_only_grows_is_a_named_pattern() {
    let json = global_array_json();
    let s = by_name(&json["suspects"], "LeakyRequestContext")
        .unwrap_or_else(|| panic!("no suspect: {:#}", json["suspects"]));
    assert_eq!(s["count"], N1);
    let path = s["retainer_path"].as_array().unwrap();
    let n = path.len();
    assert_eq!(path[n - 2]["edge"], "leaked", "{path:#?}");
    assert_eq!(path[n - 2]["node"], "Array");
    assert_eq!(path[n - 1]["edge_type"], "element");
    assert_eq!(
        s["pattern"]["kind"], "global-collection",
        "{:#}",
        s["pattern"]
    );
    let based_on = s["pattern"]["based_on"].as_str().unwrap();
    assert!(based_on.contains("`leaked`"), "{based_on}");
    assert!(based_on.contains("global object"), "{based_on}");
    assert_eq!(json["hints"][0]["kind"], "global-collection");
}

#[test]
fn paths_follow_what_a_person_would_not_prototypes() {
    let json = global_array_json();
    // The module-level `sessions` Map is reachable from a leaked context's
    // `__proto__` → `constructor` (shorter) and from global.app…routes.get (longer).
    let map = by_name(&json["top_consumers"], "Map")
        .unwrap_or_else(|| panic!("sessions is no top consumer: {:#}", json["top_consumers"]));
    let e = edges(&map["retainer_path"]);
    assert_eq!(
        e[1..],
        [
            "app", "server", "router", "routes", "get", "context", "sessions"
        ],
        "{e:?}"
    );
    let avoided = ["__proto__", "constructor"];
    for list in ["top_consumers", "suspects"] {
        for item in json[list].as_array().unwrap() {
            let e = edges(&item["retainer_path"]);
            assert!(
                !e.iter().any(|x| avoided.contains(&x.as_str())),
                "{}: {e:?}",
                item["name"]
            );
        }
    }
}

#[test]
fn the_markdown_says_what_each_count_counts() {
    let (dir, files) = global_array();
    let md = markdown(files, dir.path());
    let json = global_array_json();
    let grown = by_name(&json["growing"], "LeakyRequestContext").unwrap()["count_delta"]
        .as_i64()
        .unwrap();
    for wanted in [
        "instances of each class and their self size, snapshot 1 → 3".to_string(),
        format!("- LeakyRequestContext: +{grown} instances"),
        format!(
            "LeakyRequestContext — {N1} leaked objects (allocated between snapshots 1 and 2 and still alive in snapshot 3; the class has +{grown} instances from snapshot 1 to 3, those made after snapshot 2 included)"
        ),
    ] {
        assert!(md.contains(&wanted), "missing {wanted:?} in:\n{md}");
    }
}

#[test]
fn renamed_snapshots_are_dated_by_their_files_and_listed_plainly() {
    let files: Vec<&Path> = global_array().1.iter().map(PathBuf::as_path).collect();
    let (dir, copies) = renamed(&files);
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z").unwrap();
    for (i, copy) in copies.iter().enumerate() {
        let at = base + chrono::Duration::minutes(10 * i as i64);
        let file = std::fs::File::options().write(true).open(copy).unwrap();
        file.set_modified(at.into()).unwrap();
    }
    // Given as they would be typed in their folder: s1.heapsnapshot…
    let out = Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .args([
            "heap",
            "s1.heapsnapshot",
            "s2.heapsnapshot",
            "s3.heapsnapshot",
            "-q",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    let json = heap_json(&copies);
    assert_eq!(json["snapshots"][1]["taken_at"], "2026-11-30T08:10:00Z");
    assert_eq!(json["snapshots"][1]["taken_at_source"], "file-modified");
    let folder = std::fs::canonicalize(dir.path()).unwrap();
    for wanted in [
        "Snapshot 2: 2026-11-30T08:10:00Z (the file's modification time, UTC) - ".to_string(),
        format!(
            "- s1.heapsnapshot - {} (",
            folder.join("s1.heapsnapshot").display()
        ),
        "**Heap Snapshots Collected** (MB = 10^6 bytes):".to_string(),
        "**Findings** (MB = 10^6 bytes):".to_string(),
    ] {
        assert!(md.contains(&wanted), "missing {wanted:?} in:\n{md}");
    }
    assert!(!md.contains("time not in the file"), "{md}");
    assert!(!md.contains("[s1.heapsnapshot]"), "{md}");
}

/// `leakcollect heap FILES -o DIR/report.md -q`: the Markdown.
fn markdown(files: &[PathBuf], dir: &Path) -> String {
    let out_path = dir.join("report.md");
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(["-o".into(), out_path.display().to_string(), "-q".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&out_path).unwrap()
}

fn names_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn node_leak_counts_are_exact_by_construction() {
    let json = leaky_json();
    assert_eq!(json["format"], "v8-heapsnapshot");
    assert_eq!(json["ids_comparable"], true);
    for class in ["LeakyRequestContext", "CachedSession"] {
        let g = by_name(&json["growing"], class)
            .unwrap_or_else(|| panic!("{class} not growing: {:#}", json["growing"]));
        assert_eq!(g["count_delta"], N1 + N2, "{class}");
        assert_eq!(g["count_first"], W, "{class}");
        assert_eq!(
            g["allocated_between_first_two_alive_at_last"], N1,
            "{class}: the three-snapshot set"
        );
        assert!(g["retained_bytes_delta"].as_i64().unwrap() > 0);
    }
    // Made and dropped between snapshots: never growing, never a suspect.
    assert!(by_name(&json["growing"], "TransientWork").is_none());
    assert!(by_name(&json["suspects"], "TransientWork").is_none());
    let snaps = json["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 3);
    assert!(
        snaps[0]["taken_at"]
            .as_str()
            .unwrap()
            .contains("from the file name")
    );
    let ids: Vec<u64> = snaps
        .iter()
        .map(|s| s["max_object_id"].as_u64().unwrap())
        .collect();
    assert!(ids[0] < ids[1] && ids[1] < ids[2], "{ids:?}");
}

#[test]
fn node_listener_leak_path_and_pattern() {
    let json = leaky_json();
    let s = by_name(&json["suspects"], "LeakyRequestContext")
        .unwrap_or_else(|| panic!("no suspect LeakyRequestContext: {:#}", json["suspects"]));
    assert_eq!(s["count"], N1);
    assert_eq!(
        s["path_count"], N1,
        "every leaked context has the same path shape"
    );
    assert_eq!(s["pattern"]["kind"], "event-emitter-listeners");
    let e = edges(&s["retainer_path"]);
    let tail = &e[e.len() - 5..];
    assert_eq!(tail[0], "_events", "{e:?}");
    assert_eq!(tail[1], "request", "{e:?}");
    assert!(
        tail[2].starts_with('[') && tail[2][1..tail[2].len() - 1].parse::<u64>().is_ok(),
        "{e:?}"
    );
    assert_eq!(tail[3], "context", "{e:?}");
    assert_eq!(tail[4], "ctx", "{e:?}");
    let path = s["retainer_path"].as_array().unwrap();
    assert_eq!(path[path.len() - 1]["node"], "LeakyRequestContext");
    assert_eq!(path[path.len() - 2]["node"], "system / Context");
    assert_eq!(path[path.len() - 3]["node"], "onRequest()");
    assert_eq!(path[path.len() - 1]["edge_type"], "context");
    assert_eq!(path[path.len() - 3]["edge_type"], "element");
}

#[test]
fn node_map_cache_path_and_pattern() {
    let json = leaky_json();
    let s = by_name(&json["suspects"], "CachedSession")
        .unwrap_or_else(|| panic!("no suspect CachedSession: {:#}", json["suspects"]));
    assert_eq!(s["count"], N1);
    assert_eq!(s["pattern"]["kind"], "map-set-cache");
    let path = s["retainer_path"].as_array().unwrap();
    let n = path.len();
    assert_eq!(path[n - 3]["edge"], "sessionCache");
    assert_eq!(path[n - 3]["node"], "Map");
    assert_eq!(path[n - 2]["edge"], "table");
    assert!(path[n - 1]["edge"].as_str().unwrap().starts_with('['));
    // The sessions' `roles` arrays are parts of the sessions, not suspects of their own.
    assert!(
        by_name(&json["suspects"], "Array").is_none(),
        "{:#}",
        json["suspects"]
    );
}

#[test]
fn node_markdown_report() {
    let (dir, files) = leaky();
    let out_path = dir.path().join("report.md");
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(["-o".into(), out_path.display().to_string(), "-q".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "-o writes nothing to stdout");
    let md = std::fs::read_to_string(&out_path).unwrap();
    for line in [
        "- [x] Chrome DevTools heap snapshots",
        &format!("- LeakyRequestContext: +{} instances", N1 + N2),
        &format!("- CachedSession: +{} instances", N1 + N2),
        "→ _events: Object @",
        "→ request: Array @",
        "→ context: system / Context @",
        "→ ctx: LeakyRequestContext @",
        "**Why Not GC'd**: (generated hint) EventEmitter listeners never removed",
        "### Heap Snapshot Files",
    ] {
        assert!(md.contains(line), "missing {line:?} in:\n{md}");
    }
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(md.contains(&format!("- {name} - {} (", files[0].display())));
    assert!(md.contains("Snapshot 3: "));
    assert!(!md.contains("TransientWork"));
}

#[test]
fn node_two_snapshots_new_in_second() {
    let files = &leaky().1;
    let json = heap_json(&files[..2]);
    let g = by_name(&json["growing"], "LeakyRequestContext").unwrap();
    assert_eq!(g["count_delta"], N1);
    assert_eq!(g["allocated_between_first_two_alive_at_last"], N1);
}

#[test]
fn node_gzip_input_detected_by_magic() {
    use std::io::Write;
    let (_, files) = leaky();
    let dir = tempfile::tempdir().unwrap();
    let mut gz = Vec::new();
    for (i, f) in files.iter().enumerate() {
        // No .gz extension: detection is by the magic bytes.
        let path = dir.path().join(format!("snap{i}.heapsnapshot"));
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(&std::fs::read(f).unwrap()).unwrap();
        enc.finish().unwrap();
        gz.push(path);
    }
    let json = heap_json(&gz);
    assert_eq!(json["snapshots"][0]["gzip"], true);
    let plain = leaky_json();
    assert_eq!(json["growing"], plain["growing"]);
    assert_eq!(json["suspects"], plain["suspects"]);
}

#[test]
fn node_control_shows_none_of_its_classes() {
    let (_dir, files) = node_snapshots("control.js", "100,300,200");
    let json = heap_json(&files);
    for class in ["ControlRequestContext", "ControlSession", "TransientWork"] {
        assert!(
            by_name(&json["growing"], class).is_none(),
            "{class} growing: {:#}",
            json["growing"]
        );
        assert!(
            by_name(&json["suspects"], class).is_none(),
            "{class} suspect"
        );
    }
    for s in json["suspects"].as_array().unwrap() {
        assert_ne!(s["pattern"]["kind"], "event-emitter-listeners", "{s:#}");
    }
}

#[test]
fn node_uncleared_timers_pattern() {
    let (_dir, files) = node_snapshots("timers.js", &format!("{W},{N1},{N2}"));
    let json = heap_json(&files);
    let job = by_name(&json["growing"], "LeakyTimerJob").unwrap();
    assert_eq!(job["count_delta"], N1 + N2);
    assert_eq!(job["allocated_between_first_two_alive_at_last"], N1);
    // The timers are the leak: the jobs hang off them (and are reported as their part).
    let s = by_name(&json["suspects"], "Timeout")
        .unwrap_or_else(|| panic!("no Timeout suspect: {:#}", json["suspects"]));
    assert_eq!(s["count"], N1);
    assert_eq!(s["pattern"]["kind"], "timers");
    let e = edges(&s["retainer_path"]);
    assert!(
        e.iter().any(|x| x == "_idleNext" || x == "_idlePrev"),
        "{e:?}"
    );
    // Chains of Timeouts cluster into one shape whatever their position in the list.
    assert!(s["path_count"].as_u64().unwrap() * 2 > N1, "{s:#}");
}

/// Runs `leakcollect heap ARGS -o OUT` expecting failure: (exit code, stderr); checks that
/// no output file appeared.
pub(super) fn fails(files: &[&Path]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.md");
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(["-o".into(), out_path.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert!(!out_path.exists(), "an output file was written");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one message: {stderr}");
    (out.status.code().expect("exit code"), stderr)
}

#[test]
fn bad_v8_inputs_each_say_what_to_do() {
    let (_, files) = leaky();
    let real = std::fs::read(&files[0]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let empty = write("empty.heapsnapshot", b"");
    let truncated = write("cut.heapsnapshot", &real[..real.len() / 2]);
    let text = write("notes.heapsnapshot", b"this is a text file\n");
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
        enc.write_all(&real).unwrap();
        enc.finish().unwrap();
    }
    let mut corrupt = gz.clone();
    for b in &mut corrupt[100..400] {
        *b ^= 0x5a;
    }
    let corrupt = write("corrupt.heapsnapshot.gz", &corrupt);
    let gz_cut = write("cut.heapsnapshot.gz", &gz[..gz.len() / 2]);
    let missing = dir.path().join("missing.heapsnapshot");
    let second = files[1].as_path();
    let cases: [(&Path, i32, &str); 6] = [
        (&empty, 2, "the file is empty"),
        (&truncated, 2, "the file ends early"),
        (
            &text,
            2,
            "not a V8 heap snapshot nor a JVM heap dump (HPROF) nor a pprof heap profile",
        ),
        (&corrupt, 2, "the gzip data is corrupt"),
        (&gz_cut, 2, "the file ends early"),
        (&missing, 2, "no such file"),
    ];
    for (bad, code, message) in cases {
        let (got, stderr) = fails(&[bad, second]);
        assert_eq!(got, code, "{}: {stderr}", bad.display());
        assert!(stderr.contains(message), "{}: {stderr}", bad.display());
        assert!(
            stderr.contains(&bad.display().to_string()),
            "names the file: {stderr}"
        );
    }
}

/// Inputs the fuzzer (fuzz/fuzz_targets/v8_snapshot.rs) found to crash the analysis:
/// each is refused as an invalid snapshot (exit 2), never a panic.
#[test]
fn fuzz_regressions_are_refused_not_crashes() {
    let dir = repo("tests/heap/fuzz-regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let (code, stderr) = fails(&[&path]);
        assert_eq!(code, 2, "{}: {stderr}", path.display());
        assert!(stderr.contains("not a valid V8 heap snapshot"), "{stderr}");
        count += 1;
    }
    assert!(count >= 1);
}

#[test]
fn unwritable_output_is_exit_5_before_any_parsing() {
    let (_, files) = leaky();
    let out = leakcollect(&[
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "-o",
        "/nonexistent-folder/heap.md",
    ]);
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the folder /nonexistent-folder does not exist"),
        "{stderr}"
    );
}

#[test]
fn out_of_order_snapshots_are_refused() {
    let (_, files) = leaky();
    let (code, stderr) = fails(&[&files[1], &files[0]]);
    assert_eq!(code, 2);
    assert!(stderr.contains("seems out of order"), "{stderr}");
    assert!(stderr.contains(&files[0].display().to_string()), "{stderr}");
    // One process, the last two swapped and renamed: out of order, not another process.
    let (_d, swapped) = renamed(&[&files[0], &files[2], &files[1]]);
    let (code, stderr) = fails(&[&swapped[0], &swapped[1], &swapped[2]]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("{} seems out of order", swapped[2].display())),
        "{stderr}"
    );
}

#[test]
fn the_same_snapshot_twice_is_refused_not_an_all_clear() {
    let (_, files) = leaky();
    // The same path twice, and a copy under another name.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.heapsnapshot");
    std::fs::copy(&files[0], &copy).unwrap();
    for pair in [
        [files[0].as_path(), files[0].as_path()],
        [files[0].as_path(), copy.as_path()],
    ] {
        let (code, stderr) = fails(&pair);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("holds the same heap as"), "{stderr}");
    }
}

#[test]
fn file_bigger_than_free_memory_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.heapsnapshot");
    let available = leakcollect::heap::input::mem_available().expect("/proc/meminfo");
    let file = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut &file, b"{\"snapshot\":{").unwrap();
    // Sparse: no disk used; parsing it would take minutes, refusing takes none.
    file.set_len(available * 2).unwrap();
    let started = std::time::Instant::now();
    let (code, stderr) = fails(&[&path]);
    assert_eq!(code, 2);
    assert!(stderr.contains("MB of memory but only"), "{stderr}");
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn one_snapshot_lists_consumers_and_says_what_it_cannot_tell() {
    let (_, files) = leaky();
    let out = leakcollect(&[files[2].to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("one snapshot only"), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema_errors(&json).is_empty());
    assert_eq!(json["growing"].as_array().unwrap().len(), 0);
    let top = json["top_consumers"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert!(
        top.iter()
            .all(|c| c["retained_bytes"].as_u64().unwrap() > 0)
    );
    assert!(!top[0]["retainer_path"].as_array().unwrap().is_empty());
}

/// Builds a Go program with Debian's toolchain (stdlib only, nothing downloaded).
fn go_build(name: &str, dir: &Path) -> PathBuf {
    let bin = dir.join(name);
    let out = Command::new(go_bin())
        .args(["build", "-o"])
        .arg(&bin)
        .arg("main.go")
        .current_dir(repo(&format!("tests/heap/go/{name}")))
        .env("GOCACHE", dir.join("gocache"))
        .env("HOME", dir)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .output()
        .expect("go runs");
    assert!(
        out.status.success(),
        "go build {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

pub(super) fn go_profiles(name: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let bin = go_build(name, dir.path());
    let out = Command::new(&bin)
        .arg(dir.path())
        .arg(format!("{GW},{GN1},{GN2}"))
        .env("LEAKY_CPU_PROFILE", dir.path().join("cpu.pb.gz"))
        .output()
        .expect("the Go program runs");
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = (1..=3)
        .map(|k| dir.path().join(format!("heap.{k}.pb.gz")))
        .collect();
    (dir, files)
}

/// `go tool pprof -top -diff_base=first last`'s flat bytes per function.
fn pprof_flat_diff(first: &Path, last: &Path, home: &Path) -> Vec<(String, i64)> {
    let out = Command::new(go_bin())
        .args([
            "tool",
            "pprof",
            "-top",
            "-unit=B",
            "-nodefraction=0",
            "-nodecount=100000",
        ])
        .args(["-sample_index=inuse_space", "-diff_base"])
        .arg(first)
        .arg(last)
        .env("HOME", home)
        .env("GOCACHE", home.join("gocache"))
        .env("PPROF_TMPDIR", home)
        .output()
        .expect("go tool pprof runs");
    assert!(
        out.status.success(),
        "pprof: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    let mut table = false;
    for line in text.lines() {
        if line.trim_start().starts_with("flat") {
            table = true;
            continue;
        }
        if !table {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 6 {
            continue;
        }
        let flat = cols[0].trim_end_matches('B');
        let flat: i64 = flat.parse().unwrap_or_else(|_| panic!("flat {line:?}"));
        let name = cols[5..].join(" ");
        let name = name.trim_end_matches(" (inline)").to_string();
        rows.push((name, flat));
    }
    assert!(!rows.is_empty(), "no rows in:\n{text}");
    rows
}

#[test]
fn go_leak_top_and_agrees_with_go_tool_pprof() {
    let (dir, files) = go_profiles("leaky");
    let json = heap_json(&files);
    assert_eq!(json["format"], "pprof");
    let top = &json["growing"][0];
    assert_eq!(top["name"], "main.retainRecord", "{:#}", json["growing"]);
    // MemProfileRate = 1: every record counted; each is one 1,024-byte size class. The
    // runtime may charge a stray small allocation to the same frame (seen: one of 96 B),
    // hence 0.1 % rather than equality.
    let count = top["count_delta"].as_f64().unwrap();
    let want = (GN1 + GN2) as f64;
    assert!((count - want).abs() <= want * 0.001, "{count} vs {want}");
    let expected = ((GN1 + GN2) * 1024) as f64;
    let bytes = top["bytes_delta"].as_f64().unwrap();
    assert!(
        (bytes - expected).abs() <= expected * 0.001,
        "{bytes} vs {expected}"
    );
    assert_eq!(json["suspects"][0]["name"], "main.retainRecord");
    // churn's objects are dropped at once: at most a stray runtime allocation charged to
    // it, never one of its 512-byte objects.
    if let Some(churn) = by_name(&json["growing"], "main.churn") {
        assert!(churn["bytes_delta"].as_i64().unwrap() < 512, "{churn:#}");
    }

    let pprof = pprof_flat_diff(&files[0], &files[2], dir.path());
    let ours = &json["growing"];
    for (name, flat) in &pprof {
        match by_name(ours, name) {
            Some(g) => assert_eq!(g["bytes_delta"].as_i64().unwrap(), *flat, "{name}"),
            None => assert!(
                *flat <= 0,
                "{name}: pprof says +{flat} B, leakcollect has nothing"
            ),
        }
    }
    for g in ours.as_array().unwrap() {
        if g["bytes_delta"].as_i64().unwrap() != 0 {
            let name = g["name"].as_str().unwrap();
            assert!(
                pprof.iter().any(|(n, _)| n == name),
                "{name} not in pprof's output"
            );
        }
    }
}

#[test]
fn go_steady_program_has_no_growing_site() {
    let (_dir, files) = go_profiles("steady");
    let json = heap_json(&files);
    // At most a stray runtime allocation charged to an app frame (seen: 96 B), never
    // one of the program's 1,024-byte records, and never a suspect.
    for g in json["growing"].as_array().unwrap() {
        if g["name"].as_str().unwrap().starts_with("main.") {
            assert!(g["bytes_delta"].as_i64().unwrap() < 1024, "{g:#}");
        }
    }
    for s in json["suspects"].as_array().unwrap() {
        assert!(!s["name"].as_str().unwrap().starts_with("main."), "{s:#}");
    }
    let site = |k: usize| json["snapshots"][k]["objects"].as_u64().unwrap();
    assert!(site(2) < site(0) + 20, "in-use objects stay flat");
}

#[test]
fn pprof_without_inuse_types_is_no_data() {
    let (dir, files) = go_profiles("leaky");
    let cpu = dir.path().join("cpu.pb.gz");
    let (code, stderr) = fails(&[&cpu, &files[0]]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no in-use heap sample types"), "{stderr}");
    assert!(
        stderr.contains("samples") || stderr.contains("cpu"),
        "names what it found: {stderr}"
    );
}

#[test]
fn bad_pprof_inputs_and_uncompressed_profiles() {
    let (dir, files) = go_profiles("steady");
    let gz = std::fs::read(&files[2]).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut raw).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let plain = write("plain.pb", &raw);
    let gz_cut = write("cut.pb.gz", &gz[..gz.len() / 2]);
    // Cut inside a length-delimited field's payload, so the cut is always detectable (a
    // protobuf cut between two top-level fields is a valid, shorter message).
    let raw_cut = write("cut.pb", &raw[..inside_a_field(&raw)]);
    for (bad, message) in [
        (&gz_cut, "the file ends early"),
        (&raw_cut, "the file ends early"),
    ] {
        let (code, stderr) = fails(&[&files[0], bad]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
    // An uncompressed profile reads the same as its gzip'd original.
    let a = heap_json(&[files[0].clone(), files[2].clone()]);
    let b = heap_json(&[files[0].clone(), plain]);
    assert_eq!(a["growing"], b["growing"]);
}

#[test]
fn mixed_formats_are_refused() {
    let (_, v8) = leaky();
    let (_dir, pprof) = go_profiles("steady");
    let (code, stderr) = fails(&[&v8[0], &pprof[0]]);
    assert_eq!(code, 2);
    assert!(stderr.contains("give files of one kind"), "{stderr}");
}

/// A small V8 snapshot written here (for a deterministic report and for what real
/// processes cannot easily produce): `global.bus._events.request[i]` are `onRequest`
/// closures whose context holds `ctx`, a `LeakyThing`; one per request. Object ids are
/// stable across snapshots (as in one process) plus `id_offset`.
fn synthetic_snapshot(requests: u32, id_offset: u32) -> String {
    // node: type, name, id, self_size, edge_count; types: 0 hidden, 1 object, 2 closure,
    // 3 synthetic. edge: type, name_or_index, to_node; types: 0 context, 1 element,
    // 2 property, 3 internal.
    let strings = [
        "",
        "global",
        "(GC roots)",
        "EventEmitter",
        "Object",
        "Array",
        "onRequest",
        "system / Context",
        "LeakyThing",
        "bus",
        "_events",
        "request",
        "context",
        "ctx",
    ];
    let s = |name: &str| strings.iter().position(|x| *x == name).unwrap() as u32;
    let mut nodes: Vec<[u32; 5]> = vec![
        [3, s(""), 1, 0, 2],
        [1, s("global"), 3 + id_offset, 100, 1],
        [3, s("(GC roots)"), 5, 0, 0],
        [1, s("EventEmitter"), 7 + id_offset, 40, 1],
        [1, s("Object"), 9 + id_offset, 30, 1],
        [1, s("Array"), 11 + id_offset, 16 + 8 * requests, requests],
    ];
    let mut edges: Vec<[u32; 3]> = vec![
        [1, 1, 1],
        [1, 2, 2],
        [2, s("bus"), 3],
        [2, s("_events"), 4],
        [2, s("request"), 5],
    ];
    for j in 0..requests {
        let base = nodes.len() as u32;
        edges.push([1, j, base]);
        nodes.push([2, s("onRequest"), 101 + 6 * j + id_offset, 32, 1]);
        edges.push([3, s("context"), base + 1]);
        nodes.push([1, s("system / Context"), 103 + 6 * j + id_offset, 24, 1]);
        edges.push([0, s("ctx"), base + 2]);
        nodes.push([1, s("LeakyThing"), 105 + 6 * j + id_offset, 100, 0]);
    }
    // The edge list above is in node order only if each node's edges are contiguous:
    // root (2), global (1), bus (1), _events (1), array (requests), then per request.
    let mut ordered: Vec<[u32; 3]> = edges[..5].to_vec();
    ordered.extend((0..requests as usize).map(|j| edges[5 + 3 * j]));
    for j in 0..requests as usize {
        ordered.push(edges[6 + 3 * j]);
        ordered.push(edges[7 + 3 * j]);
    }
    let flat = |rows: Vec<String>| rows.join(",");
    let nodes_json = flat(
        nodes
            .iter()
            .map(|n| format!("{},{},{},{},{}", n[0], n[1], n[2], n[3], n[4]))
            .collect(),
    );
    let edges_json = flat(
        ordered
            .iter()
            .map(|e| format!("{},{},{}", e[0], e[1], e[2] * 5))
            .collect(),
    );
    format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["hidden","object","closure","synthetic"],"string","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal"],"string_or_number","node"]}},"node_count":{},"edge_count":{}}},
"nodes":[{nodes_json}],
"edges":[{edges_json}],
"strings":{}}}"#,
        nodes.len(),
        ordered.len(),
        serde_json::to_string(&strings).unwrap()
    )
}

pub(super) fn synthetic_series(dir: &Path, rounds: &[(u32, u32)]) -> Vec<PathBuf> {
    rounds
        .iter()
        .enumerate()
        .map(|(k, (requests, offset))| {
            let path = dir.join(format!(
                "Heap.20261201.10{k}000.4242.0.00{}.heapsnapshot",
                k + 1
            ));
            std::fs::write(&path, synthetic_snapshot(*requests, *offset)).unwrap();
            path
        })
        .collect()
}

#[test]
fn synthetic_markdown_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let files = synthetic_series(dir.path(), &[(2, 0), (5, 0), (9, 0)]);
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.push("-q".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&dir.path().display().to_string(), "<dir>");
    insta::assert_snapshot!("heap_synthetic_markdown", md);
}

/// A second run of leaky.js: another process of the same program, whose objects are
/// numbered almost as the first's (same startup snapshot, same code).
fn leaky_again() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static FILES: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    FILES.get_or_init(|| node_snapshots("leaky.js", &format!("{W},{N1},{N2}")))
}

/// Copies `files` to s1.heapsnapshot, s2… in a new folder: Node's file names (and their
/// process ids) gone, only the contents can tell the processes apart.
fn renamed(files: &[&Path]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let copies = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let copy = dir.path().join(format!("s{}.heapsnapshot", i + 1));
            std::fs::copy(f, &copy).unwrap();
            copy
        })
        .collect();
    (dir, copies)
}

/// Refused with exit 2 and one line naming `odd` as the file from another process.
fn refused_naming(files: &[&Path], odd: &Path) -> String {
    let (code, stderr) = fails(files);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("out of order"), "{stderr}");
    let odd = odd.display().to_string();
    assert!(
        stderr.starts_with(&format!("error: {odd} comes from a different process")),
        "{stderr}"
    );
    stderr
}

#[test]
fn another_process_is_refused_wherever_it_is_given() {
    let a = &leaky().1;
    let b = &leaky_again().1;
    // Node's names carry the pid; another program (control.js) differs in content too.
    let (_c, control) = node_snapshots("control.js", "100,300,200");
    refused_naming(&[&control[0], &a[1], &a[2]], &control[0]);
    refused_naming(&[&a[0], &control[1], &a[2]], &control[1]);
    // The same program run twice, renamed: only the contents tell (objects with the
    // same id but another class).
    let (_d, first) = renamed(&[&b[0], &a[1], &a[2]]);
    let stderr = refused_naming(&[&first[0], &first[1], &first[2]], &first[0]);
    assert!(stderr.contains("of other classes"), "{stderr}");
    let (_e, middle) = renamed(&[&a[0], &b[1], &a[2]]);
    refused_naming(&[&middle[0], &middle[1], &middle[2]], &middle[1]);
    let (_f, last) = renamed(&[&a[0], &a[1], &b[2]]);
    refused_naming(&[&last[0], &last[1], &last[2]], &last[2]);
    // Two files: either may be the odd one; the message names both.
    let (_g, two) = renamed(&[&a[0], &b[2]]);
    let stderr = refused_naming(&[&two[0], &two[1]], &two[1]);
    assert!(stderr.contains(&two[0].display().to_string()), "{stderr}");
}

#[test]
fn snapshots_sharing_no_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The second file's objects all have other ids: not the same process.
    let files = synthetic_series(dir.path(), &[(2, 0), (6, 1_000_000)]);
    let stderr = refused_naming(&[&files[0], &files[1]], &files[1]);
    assert!(stderr.contains("share almost no objects"), "{stderr}");
}

/// A length at which `message` ends inside the payload of a top-level length-delimited
/// field at or after its middle.
fn inside_a_field(message: &[u8]) -> usize {
    let varint = |at: &mut usize| {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = message[*at];
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                break;
            }
        }
        value
    };
    let mut at = 0;
    while at < message.len() {
        let key = varint(&mut at);
        match key & 7 {
            0 => {
                varint(&mut at);
            }
            1 => at += 8,
            5 => at += 4,
            2 => {
                let len = varint(&mut at) as usize;
                if len >= 2 && at + len >= message.len() / 2 {
                    return at + len / 2;
                }
                at += len;
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    panic!("no length-delimited field after the middle");
}

#[test]
fn attach_heap_fills_the_investigation_steps_and_keeps_the_draft() {
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
    // A person's words before leakcollect's heap blocks arrive.
    let edited = std::fs::read_to_string(&draft).unwrap().replace(
        "**TL;DR**: [One sentence summary of the leak, cause, and fix]",
        "**TL;DR**: request contexts kept by a listener; written by a person.",
    );
    std::fs::write(&draft, &edited).unwrap();
    let files: Vec<&str> = leaky().1.iter().map(|p| p.to_str().unwrap()).collect();
    // A bad heap file: refused before any query, the draft and its folder untouched.
    let empty = dir.path().join("empty.heapsnapshot");
    std::fs::write(&empty, b"").unwrap();
    let (code, _) = attach_heap(&server.url, path, &[files[0], empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), edited);
    assert!(!dir.path().join("api-assets").exists(), "no chart written");

    let (code, stderr) = attach_heap(&server.url, path, &files);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(text.contains("request contexts kept by a listener; written by a person."));
    assert!(
        text.contains("- [x] Chrome DevTools heap snapshots"),
        "{text}"
    );
    assert!(text.contains("- [x] Prometheus metrics"));
    assert!(text.contains("Snapshot 3: "), "{text}");
    assert!(
        !text.contains("[Object type 1]"),
        "findings placed in their section"
    );
    assert!(text.contains("LeakyRequestContext"), "{text}");
    assert!(text.contains("→ ctx"), "{text}");
    assert!(
        !text.contains("[snapshot1.heapsnapshot]"),
        "appendix filled"
    );
    assert!(
        !text.contains("## Evidence (leakcollect)"),
        "every block found its section"
    );
    assert!(
        text.contains(r#""heap":["#),
        "--heap recorded in the params"
    );
    // The pattern hints fill Pattern and tick their Fix Strategy boxes, in their own words.
    let pattern = text
        .lines()
        .find(|l| l.starts_with("**Pattern**: "))
        .unwrap();
    assert!(
        pattern.contains("EventEmitter listeners never removed"),
        "{pattern}"
    );
    assert!(pattern.contains("generated hints"), "{pattern}");
    assert!(
        text.contains("- [x] Remove event listeners (use `removeListener()` or `once()`) (generated hint: EventEmitter listeners never removed (LeakyRequestContext"),
        "{text}"
    );
    assert!(text.contains(
        "- [x] Use WeakMap/WeakSet (for cache) (generated hint: an unbounded Map/Set cache (CachedSession"
    ));
    assert!(text.contains("- [ ] Implement generator/streaming (for large datasets)"));
    // The recorded files are read again; nothing moves.
    let again = crate::common::lc()
        .args(["attach", path, "--check"])
        .server(&server.url)
        .run();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

fn attach_heap(url: &str, draft: &str, files: &[&str]) -> (i32, String) {
    let out = crate::common::lc()
        .args(["attach", draft, "-q", "--heap"])
        .args(files)
        .server(url)
        .run();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}
