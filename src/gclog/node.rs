//! Node.js `--trace-gc` lines (V8's tracer):
//! `[pid:0xisolate]   1234 ms: Mark-Compact 42.0 (65.6) -> 32.6 (65.9) MB, 29.34 / 0.00 ms …`
//! — the isolate's clock in ms, the kind, heap used (committed) before → after in MiB,
//! the pause (main-thread time) before the slash. `--trace-gc-verbose`'s space tables
//! and other lines are not collections and are skipped.

use super::{Parsed, Process, bytes_of, scaled};
use regex::Regex;
use std::sync::LazyLock;

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\[(?P<pid>\d+):0x[0-9a-fA-F]+\]\s+)?(?P<t>\d+(?:\.\d+)?) ms: (?P<kind>[A-Za-z][A-Za-z -]*?(?: \([a-z ]+\))?) (?P<b>\d+(?:\.\d+)?) \(\d+(?:\.\d+)?\) -> (?P<a>\d+(?:\.\d+)?) \(\d+(?:\.\d+)?\) MB,(?P<rest>.*)$",
    )
    .expect("the pattern compiles")
});

static PAUSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<p>\d+(?:\.\d+)?) / \d+(?:\.\d+)? ms").expect("the pattern compiles")
});

/// One `--trace-gc` collection line.
pub fn parse(line: &str) -> Option<Parsed> {
    let m = LINE.captures(line.trim_end())?;
    let number = |name: &str| m[name].parse::<f64>().ok();
    let kind = m["kind"].trim().to_string();
    let pause_seconds = PAUSE.captures(&m["rest"]).and_then(|p| scaled(&p["p"], -3));
    Some(Parsed {
        // Mark-Compact, Mark-Compact (reduce), and older V8's Mark-sweep collect the old
        // space too; Scavenge and the minor mark-sweep/compact only the young one.
        floor: kind.starts_with("Mark-"),
        kind,
        at_seconds: scaled(&m["t"], -3),
        before_bytes: number("b").map(|v| bytes_of(v, "MB")),
        after_bytes: number("a").map(|v| bytes_of(v, "MB")),
        pause_seconds,
        gc_id: None,
        process: m
            .name("pid")
            .and_then(|p| p.as_str().parse().ok())
            .map_or(Process::Unknown, Process::Pid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kinds_of_several_v8_versions() {
        let mc = parse("[6451:0xa0cdc00]      502 ms: Mark-Compact 42.0 (65.6) -> 32.6 (65.9) MB, 29.34 / 0.00 ms  (+ 85.2 ms in 98 steps since start of marking, biggest step 45.5 ms, walltime since start of marking 126 ms) (average mu = 0.688, current mu = 0.688) finalize incremental marking via task; GC in old space requested").unwrap();
        assert_eq!(mc.kind, "Mark-Compact");
        assert!(mc.floor);
        assert_eq!(mc.at_seconds, Some(0.502));
        assert_eq!(mc.after_bytes, Some(bytes_of(32.6, "MB")));
        assert_eq!(mc.pause_seconds, Some(0.02934));
        let reduce = parse("[1:0x5]  9 ms: Mark-Compact (reduce) 3.9 (5.2) -> 3.4 (6.2) MB, pooled: 0.0 MB, 4.33 / 0.00 ms (average mu = 1.000) low memory notification; GC in old space requested").unwrap();
        assert_eq!(reduce.kind, "Mark-Compact (reduce)");
        assert_eq!(reduce.pause_seconds, Some(0.00433));
        let scavenge = parse("[6451:0xa0cdc00]       46 ms: Scavenge 3.9 (4.0) -> 3.3 (5.0) MB, 8.92 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ").unwrap();
        assert!(!scavenge.floor);
        assert_eq!(scavenge.kind, "Scavenge");
        let old = parse("[9:0x2]     301 ms: Mark-sweep 20.1 (40.0) -> 12.0 (41.0) MB, 12.1 / 0.0 ms [allocation failure]").unwrap();
        assert!(old.floor);
        assert!(parse("[6598:0x1d954cb0] Old space,              used:   2476 KB, available:      7 KB, committed:   2528 KB").is_none());
        assert!(parse("[0.084s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 12M->1M(256M) 1.060ms").is_none());
    }
}
