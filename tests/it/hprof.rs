//! JVM heap dumps (HPROF), written at test time by a real JDK (Debian's
//! openjdk-17-jdk-headless): tests/heap/java/LeakDemo.java leaks by construction (500
//! `Order`s a round into a static HashMap, 200 `RequestListener`s a round into a listener
//! list, 100 `RequestBuffer`s a round into ThreadLocal lists of a 4-thread pool) and has a
//! healthy control (a bounded LRU cache, garbage). It dumps itself after every round with
//! HotSpotDiagnosticMXBean.dumpHeap.
//!
//! Under Epsilon (a collector that never moves objects, dumps without a GC) object ids
//! stay, so the three-dump set is exact; under G1 with live dumps (a full GC each) objects
//! move, and the three-dump set must be left out with the reason.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const ORDERS: i64 = 500;
const LISTENERS: i64 = 200;
const BUFFERS: i64 = 100;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A JDK tool on PATH, or a clear failure (scripts/test.sh installs the JDK).
fn jdk_tool(name: &str) -> PathBuf {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join(name).is_file() {
            return dir.join(name);
        }
    }
    panic!(
        "`{name}` not found on PATH: install Debian's openjdk-17-jdk-headless (scripts/test.sh does it)"
    );
}

/// LeakDemo compiled once.
fn classes() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(jdk_tool("javac"))
            .arg("-d")
            .arg(dir.path())
            .arg(repo("tests/heap/java/LeakDemo.java"))
            .output()
            .expect("javac runs");
        assert!(
            out.status.success(),
            "javac: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

/// Three dumps of one run: `mode` leaky or control; Epsilon (ids stay, no GC before the
/// dump) or G1 (live dumps).
fn dumps(mode: &str, epsilon: bool) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("dump-");
    let mut cmd = Command::new(jdk_tool("java"));
    if epsilon {
        cmd.args([
            "-XX:+UnlockExperimentalVMOptions",
            "-XX:+UseEpsilonGC",
            "-Xmx1g",
        ]);
    } else {
        cmd.arg("-XX:+UseG1GC");
    }
    let out = cmd
        .arg("-cp")
        .arg(classes())
        .args(["com.shop.LeakDemo", mode, "3"])
        .arg(&prefix)
        .arg(if epsilon { "all" } else { "live" })
        .output()
        .expect("java runs");
    assert!(
        out.status.success(),
        "java: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = (1..=3)
        .map(|k| dir.path().join(format!("dump-{k}.hprof")))
        .collect();
    (dir, files)
}

fn epsilon() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static FILES: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    FILES.get_or_init(|| dumps("leaky", true))
}

fn g1() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static FILES: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    FILES.get_or_init(|| dumps("leaky", false))
}

fn leakcollect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .arg("heap")
        .args(args)
        .output()
        .expect("leakcollect runs")
}

fn strings(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| f.display().to_string()).collect()
}

fn heap_json(files: &[PathBuf]) -> Value {
    let mut args = strings(files);
    args.extend(["--format".into(), "json".into(), "-q".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert!(
        out.status.success(),
        "leakcollect heap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let errors = crate::common::schema_errors("heap.schema.json", &json);
    assert!(errors.is_empty(), "schema/heap.schema.json: {errors:#?}");
    json
}

fn markdown(files: &[PathBuf]) -> String {
    let mut args = strings(files);
    args.push("-q".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn by_name<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing in {list:#}"))
}

/// A path as `edge: node` strings (the first step: the node alone).
fn steps(path: &Value) -> Vec<String> {
    path.as_array()
        .unwrap()
        .iter()
        .map(|s| match s["edge"].as_str() {
            Some(edge) => format!("{edge}: {}", s["node"].as_str().unwrap()),
            None => s["node"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// `[123]` → `[n]`: element indices depend on hash codes and placement.
fn shape(steps: &[String]) -> Vec<String> {
    steps
        .iter()
        .map(|s| match s.split_once("]: ") {
            Some((index, rest)) if index.starts_with('[') => format!("[n]: {rest}"),
            _ => s.clone(),
        })
        .collect()
}

#[test]
fn jvm_stable_ids_give_exact_deltas_the_three_dump_set_and_static_paths() {
    let json = heap_json(&epsilon().1);
    assert_eq!(json["format"], "hprof");
    assert_eq!(
        json["technique"], "three-snapshot",
        "{:#}",
        json["id_check"]
    );
    assert_eq!(json["ids_comparable"], true);
    assert_eq!(json["id_check"]["stable"], true);
    for pair in json["id_check"]["pairs"].as_array().unwrap() {
        assert_eq!(pair["other"], 0, "Epsilon never moves objects: {pair}");
        assert!(pair["shared"].as_u64().unwrap() > 1000, "{pair}");
    }
    let growing = &json["growing"];
    for (class, per_round) in [
        ("com.shop.Order", ORDERS),
        ("com.shop.RequestListener", LISTENERS),
        ("com.shop.RequestBuffer", BUFFERS),
    ] {
        let g = by_name(growing, class);
        assert_eq!(g["count_first"], per_round, "{class}: {g}");
        assert_eq!(g["count_delta"], 2 * per_round, "{class}: {g}");
        assert_eq!(
            g["allocated_between_first_two_alive_at_last"], per_round,
            "{class}: round 2's objects, still alive in dump 3: {g}"
        );
        let s = by_name(&json["suspects"], class);
        assert_eq!(s["count"], per_round, "{class}: {s}");
    }
    // 16-byte header + 8 (long) + 2 × 4 (references), 8-aligned: 32 bytes an Order.
    assert_eq!(
        by_name(growing, "com.shop.Order")["bytes_delta"],
        2 * ORDERS * 32
    );
    let order = by_name(&json["suspects"], "com.shop.Order");
    assert_eq!(
        shape(&steps(&order["retainer_path"])),
        [
            "class com.shop.Orders",
            "static PENDING: java.util.HashMap",
            "table: java.util.HashMap$Node[]",
            "[n]: java.util.HashMap$Node",
            "value: com.shop.Order",
        ]
    );
    assert_eq!(order["pattern"]["kind"], "static-collection");
    assert!(
        order["path_count"].as_u64().unwrap() * 10 >= 9 * ORDERS as u64,
        "most leaked Orders hang straight off the table: {order}"
    );
    let listener = by_name(&json["suspects"], "com.shop.RequestListener");
    assert_eq!(
        shape(&steps(&listener["retainer_path"])),
        [
            "class com.shop.EventBus",
            "static BUS: com.shop.EventBus",
            "listeners: java.util.ArrayList",
            "elementData: java.lang.Object[]",
            "[n]: com.shop.RequestListener",
        ]
    );
    assert_eq!(listener["pattern"]["kind"], "listeners");
    let buffer = by_name(&json["suspects"], "com.shop.RequestBuffer");
    let path = steps(&buffer["retainer_path"]);
    assert_eq!(
        path[0], "java.lang.Thread",
        "a pool thread is the root: {path:?}"
    );
    assert_eq!(
        path[1],
        "threadLocals: java.lang.ThreadLocal$ThreadLocalMap"
    );
    assert_eq!(
        path.last().unwrap().split(": ").nth(1),
        Some("com.shop.RequestBuffer")
    );
    assert_eq!(buffer["pattern"]["kind"], "thread-local");
    let hints: Vec<&str> = json["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    for kind in ["static-collection", "listeners", "thread-local"] {
        assert!(hints.contains(&kind), "{hints:?}");
    }
    assert_eq!(json["leaked_object"], "com.shop.Order");
}

#[test]
fn jvm_moved_ids_leave_the_three_dump_set_out_and_say_why() {
    let json = heap_json(&g1().1);
    assert_eq!(json["id_check"]["stable"], false, "{:#}", json["id_check"]);
    let moved = json["id_check"]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["other"].as_u64().unwrap() > 0);
    assert!(moved, "G1's full GCs reuse places: {:#}", json["id_check"]);
    assert_eq!(json["technique"], "instance-growth");
    assert_eq!(json["ids_comparable"], false);
    let order = by_name(&json["growing"], "com.shop.Order");
    assert_eq!(order["count_delta"], 2 * ORDERS, "{order}");
    assert!(
        order
            .get("allocated_between_first_two_alive_at_last")
            .is_none(),
        "{order}"
    );
    assert_eq!(
        by_name(&json["suspects"], "com.shop.Order")["count"],
        2 * ORDERS
    );
    let warning = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|w| {
            w.as_str()
                .filter(|w| w.starts_with("objects moved between dumps"))
        })
        .unwrap_or_else(|| panic!("no warning: {:#}", json["warnings"]));
    assert!(warning.contains("three-dump set is left out"), "{warning}");
    let md = markdown(&g1().1);
    assert!(md.contains("objects moved between dumps"), "{md}");
    assert!(md.contains("no object followed by id"), "{md}");
    assert!(
        md.contains(
            "com.shop.Order — 1000 leaked objects (the class's instance growth, dump 1 → 3"
        ),
        "{md}"
    );
}

#[test]
fn jvm_healthy_control_shows_no_suspect() {
    let (_dir, files) = dumps("control", false);
    let json = heap_json(&files);
    assert!(
        json["suspects"].as_array().unwrap().is_empty(),
        "{:#}",
        json["suspects"]
    );
    assert!(json["hints"].as_array().unwrap().is_empty());
    assert!(json["leaked_object"].is_null());
    let shop: Vec<&Value> = json["growing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["name"].as_str().unwrap().starts_with("com.shop."))
        .collect();
    assert!(
        shop.is_empty(),
        "the bounded cache does not grow: {shop:#?}"
    );
    let entries = json["snapshots"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|s| s["taken_at_source"] == "dump-header")
    );
}

#[test]
fn jvm_markdown_in_java_words() {
    let md = markdown(&epsilon().1);
    for wanted in [
        "JVM heap dumps (HPROF, 3 file(s)), read by `leakcollect heap`",
        "3 JVM heap dumps (HPROF) compared by `leakcollect heap`",
        "com.shop.Order — 500 leaked objects (allocated between dumps 1 and 2 and still alive in dump 3; the class has +1000 instances from dump 1 to 3",
        "→ static PENDING: java.util.HashMap @",
        "(the dump's header, UTC)",
        "a static collection that only grows (com.shop.Order)",
    ] {
        assert!(md.contains(wanted), "missing {wanted:?} in:\n{md}");
    }
    // The retainer path section, ids and indices (addresses, hash codes) left out.
    let start = md
        .find("**Retainer Path**")
        .expect("a retainer path section");
    let section: String = md[start..]
        .lines()
        .take_while(|l| !l.starts_with("**Pattern**"))
        .map(|l| {
            let l = l.split(" @").next().unwrap_or(l);
            let mut out = String::new();
            let mut digits = false;
            for c in l.chars() {
                if c.is_ascii_digit() {
                    if !digits {
                        out.push('N');
                    }
                    digits = true;
                } else {
                    digits = false;
                    out.push(c);
                }
            }
            out + "\n"
        })
        .collect();
    insta::assert_snapshot!("hprof_retainer_path", section);
}

#[test]
fn jvm_gzip_dumps_read_the_same() {
    let (_, files) = epsilon();
    let dir = tempfile::tempdir().unwrap();
    let gz: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            let p = dir
                .path()
                .join(format!("{}.gz", f.file_name().unwrap().to_string_lossy()));
            let mut enc = flate2::write::GzEncoder::new(
                std::fs::File::create(&p).unwrap(),
                flate2::Compression::fast(),
            );
            std::io::copy(&mut std::fs::File::open(f).unwrap(), &mut enc).unwrap();
            enc.finish().unwrap();
            p
        })
        .collect();
    let (plain, zipped) = (heap_json(files), heap_json(&gz));
    assert_eq!(plain["growing"], zipped["growing"]);
    assert_eq!(plain["suspects"], zipped["suspects"]);
    assert!(zipped["snapshots"][0]["gzip"].as_bool().unwrap());
}

/// Re-emits a real dump with identifiers of 4 bytes (the layout a 32-bit JVM writes),
/// walking its records: every id is mapped to a dense value, one map for all the dumps of
/// a run so that an object keeps its id from dump to dump; instance values are rewritten
/// through their class's field types (object fields shrink to 4 bytes) and every record's
/// length follows. The JDK here writes 8-byte identifiers only.
#[derive(Default)]
struct To32 {
    map: std::collections::HashMap<u64, u32>,
}

/// A cursor over a dump's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn id(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// Bytes of a value of HPROF basic type `ty` other than an object.
fn primitive_size(ty: u8) -> usize {
    match ty {
        4 | 8 => 1,
        5 | 9 => 2,
        6 | 10 => 4,
        7 | 11 => 8,
        _ => panic!("basic type {ty} in a real dump"),
    }
}

impl To32 {
    fn id(&mut self, c: &mut Cursor, out: &mut Vec<u8>) {
        let id = c.id();
        let next = u32::try_from((self.map.len() + 1) * 8).expect("a small dump's ids fit");
        let small = if id == 0 {
            0
        } else {
            *self.map.entry(id).or_insert(next)
        };
        out.extend_from_slice(&small.to_be_bytes());
    }

    fn value(&mut self, ty: u8, c: &mut Cursor, out: &mut Vec<u8>) {
        if ty == 2 {
            self.id(c, out);
        } else {
            out.extend_from_slice(c.take(primitive_size(ty)));
        }
    }

    /// The whole dump, converted.
    fn convert(&mut self, dump: &[u8]) -> Vec<u8> {
        let mut c = Cursor { bytes: dump, at: 0 };
        let name = dump.iter().position(|&b| b == 0).unwrap() + 1;
        let mut out = c.take(name).to_vec();
        assert_eq!(c.u32(), 8, "the JDK writes 8-byte identifiers");
        out.extend_from_slice(&4u32.to_be_bytes());
        out.extend_from_slice(c.take(8));
        // Per class: (superclass, instance field types), from the class dumps, which
        // HotSpot writes before any instance.
        let mut classes: std::collections::HashMap<u64, (u64, Vec<u8>)> = Default::default();
        while !c.done() {
            let tag = c.u8();
            let time = c.u32();
            let len = c.u32() as usize;
            let mut body = Cursor {
                bytes: c.take(len),
                at: 0,
            };
            let mut new = Vec::with_capacity(len);
            match tag {
                // UTF8: id, text.
                0x01 => {
                    self.id(&mut body, &mut new);
                    new.extend_from_slice(body.take(len - 8));
                }
                // Load class: serial, class id, stack trace serial, name id.
                0x02 => {
                    new.extend_from_slice(body.take(4));
                    self.id(&mut body, &mut new);
                    new.extend_from_slice(body.take(4));
                    self.id(&mut body, &mut new);
                }
                // Stack frame: frame, method, signature, source file ids, class serial, line.
                0x04 => {
                    for _ in 0..4 {
                        self.id(&mut body, &mut new);
                    }
                    new.extend_from_slice(body.take(8));
                }
                // Stack trace: serial, thread serial, frame count, frame ids.
                0x05 => {
                    new.extend_from_slice(body.take(8));
                    let frames = body.u32();
                    new.extend_from_slice(&frames.to_be_bytes());
                    for _ in 0..frames {
                        self.id(&mut body, &mut new);
                    }
                }
                0x0C | 0x1C => self.heap(&mut body, &mut new, &mut classes),
                0x2C => {}
                _ => panic!("record tag 0x{tag:02x}: teach To32 its layout"),
            }
            assert!(body.done(), "record 0x{tag:02x} read whole");
            out.push(tag);
            out.extend_from_slice(&time.to_be_bytes());
            out.extend_from_slice(&u32::try_from(new.len()).unwrap().to_be_bytes());
            out.extend_from_slice(&new);
        }
        out
    }

    /// The sub-records of one heap dump (segment).
    fn heap(
        &mut self,
        c: &mut Cursor,
        out: &mut Vec<u8>,
        classes: &mut std::collections::HashMap<u64, (u64, Vec<u8>)>,
    ) {
        while !c.done() {
            let tag = c.u8();
            out.push(tag);
            match tag {
                0xFF | 0x05 | 0x07 => self.id(c, out),
                0x01 => {
                    self.id(c, out);
                    self.id(c, out);
                }
                0x02 | 0x03 | 0x08 => {
                    self.id(c, out);
                    out.extend_from_slice(c.take(8));
                }
                0x04 | 0x06 => {
                    self.id(c, out);
                    out.extend_from_slice(c.take(4));
                }
                0x20 => self.class_dump(c, out, classes),
                0x21 => {
                    self.id(c, out);
                    out.extend_from_slice(c.take(4));
                    let class = u64::from_be_bytes(c.bytes[c.at..c.at + 8].try_into().unwrap());
                    self.id(c, out);
                    let n = c.u32() as usize;
                    let end = c.at + n;
                    let mut values = Vec::with_capacity(n);
                    let mut at = class;
                    while at != 0 {
                        let (sup, types) = classes.get(&at).unwrap_or_else(|| {
                            panic!("class 0x{at:x} dumped before its instances")
                        });
                        for &ty in types {
                            self.value(ty, c, &mut values);
                        }
                        at = *sup;
                    }
                    assert_eq!(c.at, end, "instance fields read through the class chain");
                    out.extend_from_slice(&u32::try_from(values.len()).unwrap().to_be_bytes());
                    out.extend_from_slice(&values);
                }
                0x22 => {
                    self.id(c, out);
                    out.extend_from_slice(c.take(4));
                    let n = c.u32();
                    out.extend_from_slice(&n.to_be_bytes());
                    for _ in 0..=n {
                        self.id(c, out); // the array class, then the elements
                    }
                }
                0x23 => {
                    self.id(c, out);
                    out.extend_from_slice(c.take(4));
                    let n = c.u32();
                    let ty = c.u8();
                    out.extend_from_slice(&n.to_be_bytes());
                    out.push(ty);
                    out.extend_from_slice(c.take(n as usize * primitive_size(ty)));
                }
                _ => panic!("heap dump tag 0x{tag:02x}: teach To32 its layout"),
            }
        }
    }

    /// A class dump: ids shrink, constant and static values by their types; the instance
    /// field types are kept for the instances.
    fn class_dump(
        &mut self,
        c: &mut Cursor,
        out: &mut Vec<u8>,
        classes: &mut std::collections::HashMap<u64, (u64, Vec<u8>)>,
    ) {
        let class = u64::from_be_bytes(c.bytes[c.at..c.at + 8].try_into().unwrap());
        self.id(c, out);
        out.extend_from_slice(c.take(4));
        let sup = u64::from_be_bytes(c.bytes[c.at..c.at + 8].try_into().unwrap());
        // Superclass, loader, signers, protection domain, two reserved.
        for _ in 0..6 {
            self.id(c, out);
        }
        out.extend_from_slice(c.take(4)); // instance size
        let constants = c.u16();
        out.extend_from_slice(&constants.to_be_bytes());
        for _ in 0..constants {
            out.extend_from_slice(c.take(2));
            let ty = c.u8();
            out.push(ty);
            self.value(ty, c, out);
        }
        let statics = c.u16();
        out.extend_from_slice(&statics.to_be_bytes());
        for _ in 0..statics {
            self.id(c, out);
            let ty = c.u8();
            out.push(ty);
            self.value(ty, c, out);
        }
        let fields = c.u16();
        out.extend_from_slice(&fields.to_be_bytes());
        let mut types = Vec::with_capacity(fields as usize);
        for _ in 0..fields {
            self.id(c, out);
            let ty = c.u8();
            out.push(ty);
            types.push(ty);
        }
        classes.insert(class, (sup, types));
    }
}

#[test]
fn jvm_dumps_with_4_byte_ids_read_the_same() {
    let (_, files) = epsilon();
    let dir = tempfile::tempdir().unwrap();
    let mut to32 = To32::default();
    let narrow: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let wide = std::fs::read(f).unwrap();
            let bytes = to32.convert(&wide);
            assert_eq!(bytes[19..23], 4u32.to_be_bytes(), "identifier size 4");
            assert!(bytes.len() < wide.len() * 9 / 10, "ids shrank");
            let p = dir.path().join(format!("dump32-{}.hprof", k + 1));
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    let (wide, narrow) = (heap_json(files), heap_json(&narrow));
    assert_eq!(
        narrow["technique"], "three-snapshot",
        "{:#}",
        narrow["id_check"]
    );
    assert_eq!(narrow["id_check"]["stable"], true);
    let deltas = |json: &Value| -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = json["growing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let name = g["name"].as_str().unwrap().to_string();
                (name, g["count_delta"].as_i64().unwrap())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(deltas(&narrow), deltas(&wide));
    for class in [
        "com.shop.Order",
        "com.shop.RequestListener",
        "com.shop.RequestBuffer",
    ] {
        let (s8, s4) = (
            by_name(&wide["suspects"], class),
            by_name(&narrow["suspects"], class),
        );
        assert_eq!(s4["count"], s8["count"], "{class}: {s4}");
        assert_eq!(
            s4["pattern"]["kind"], s8["pattern"]["kind"],
            "{class}: {s4}"
        );
        assert_eq!(
            shape(&steps(&s4["retainer_path"])),
            shape(&steps(&s8["retainer_path"])),
            "{class}"
        );
    }
    assert_eq!(narrow["leaked_object"], wide["leaked_object"]);
    let order = by_name(&narrow["suspects"], "com.shop.Order");
    assert_eq!(
        steps(&order["retainer_path"])[..2],
        ["class com.shop.Orders", "static PENDING: java.util.HashMap"]
    );
    // A 32-bit JVM's Order: 8-byte header + 8 (long) + 2 × 4 (references) = 24 bytes.
    assert_eq!(
        by_name(&narrow["growing"], "com.shop.Order")["bytes_delta"],
        2 * ORDERS * 24
    );
}

/// `leakcollect heap FILES -o OUT` expecting failure: (exit code, stderr); nothing
/// written, one line.
fn fails(files: &[&Path]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.md");
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(["-o".into(), out_path.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = leakcollect(&args);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one message: {stderr}");
    (out.status.code().expect("exit code"), stderr)
}

/// The offset of the first record with one of `tags` (walking the real records).
fn first_record(bytes: &[u8], tags: &[u8]) -> usize {
    let mut at = 19 + 4 + 8; // "JAVA PROFILE 1.0.2\0", identifier size, time
    while !tags.contains(&bytes[at]) {
        let len = u32::from_be_bytes(bytes[at + 5..at + 9].try_into().unwrap());
        at += 9 + len as usize;
    }
    at
}

#[test]
fn bad_hprof_inputs_each_say_what_to_do() {
    let (_, files) = epsilon();
    let real = std::fs::read(&files[0]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // Cut inside an instance record, well into the heap.
    let truncated = write("cut.hprof", &real[..real.len() * 2 / 3]);
    let text = write("notes.hprof", b"JAVA PROFILER NOTES\nnot a dump\n");
    let mut unknown = real.clone();
    unknown[31] = 0x55;
    let unknown = write("tag.hprof", &unknown);
    let mut id2 = real.clone();
    id2[19..23].copy_from_slice(&2u32.to_be_bytes());
    let id2 = write("id2.hprof", &id2);
    // Everything before the heap: strings and classes, then a clean end.
    let no_heap = write("noheap.hprof", &real[..first_record(&real, &[0x0c, 0x1c])]);
    let empty = write("empty.hprof", b"");
    let cases: [(&Path, &str); 6] = [
        (&truncated, "the file ends early (mid-record: "),
        (
            &text,
            "not a V8 heap snapshot nor a JVM heap dump (HPROF) nor a pprof heap profile",
        ),
        (&unknown, "unknown record tag 0x55 at byte 31"),
        (
            &id2,
            "its identifier size is 2 bytes, HPROF's are 4 (32-bit JVM) or 8 (64-bit JVM)",
        ),
        (&no_heap, "the dump holds no heap objects"),
        (&empty, "the file is empty"),
    ];
    for (bad, message) in cases {
        let (code, stderr) = fails(&[bad, &files[1]]);
        assert_eq!(code, 2, "{}: {stderr}", bad.display());
        assert!(stderr.contains(message), "{}: {stderr}", bad.display());
        assert!(
            stderr.contains(&bad.display().to_string()),
            "names the file: {stderr}"
        );
    }
}

#[test]
fn dumps_of_two_jvms_out_of_order_or_twice_are_refused() {
    let (a, b) = (&epsilon().1, &g1().1);
    let (code, stderr) = fails(&[&a[0], &b[1]]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("comes from a different JVM than"),
        "{stderr}"
    );
    let (code, stderr) = fails(&[&a[1], &a[0]]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("give the dumps oldest first"), "{stderr}");
    assert!(stderr.contains("(their HPROF headers)"), "{stderr}");
    let (code, stderr) = fails(&[&a[0], &a[0]]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds the same heap as"), "{stderr}");
}

#[test]
fn attach_heap_fills_the_investigation_steps_from_jvm_dumps() {
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
        "**TL;DR**: orders kept in a static map; written by a person.",
    );
    std::fs::write(&draft, &edited).unwrap();
    let files = strings(&epsilon().1);
    let out = crate::common::lc()
        .args(["attach", path, "-q", "--heap"])
        .args(&files)
        .server(&server.url)
        .run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&draft).unwrap();
    for wanted in [
        "**TL;DR**: orders kept in a static map; written by a person.",
        "- [ ] Chrome DevTools heap snapshots",
        "- [x] Other: JVM heap dumps (HPROF, 3 file(s)), read by `leakcollect heap`",
        "→ static PENDING: java.util.HashMap @",
        "**Leaked Object**: com.shop.Order — 500 leaked objects",
        "- [x] Remove event listeners (use `removeListener()` or `once()`) (generated hint: listeners never removed (com.shop.RequestListener",
    ] {
        assert!(text.contains(wanted), "missing {wanted:?} in:\n{text}");
    }
    let pattern = text
        .lines()
        .find(|l| l.starts_with("**Pattern**: "))
        .unwrap();
    assert!(
        pattern.contains("a static collection that only grows (com.shop.Order)"),
        "{pattern}"
    );
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
