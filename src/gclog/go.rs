//! Go `GODEBUG=gctrace=1` lines (the runtime's format, `runtime/extern.go`):
//! `gc 4 @0.512s 2%: 0.015+0.47+0.003 ms clock, … ms cpu, 4->4->1 MB, 5 MB goal, …, 2 P`
//! — seconds since the program started, wall-clock times of sweep termination, mark and
//! mark termination (the first and last stop the world), heap at the start, at the end,
//! and the live heap marked, in MiB; `(forced)` when `runtime.GC()` asked for it.

use super::{Parsed, Process, bytes_of};
use regex::Regex;
use std::sync::LazyLock;

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^gc (?P<n>\d+) @(?P<t>\d+(?:\.\d+)?)s \d+%: (?P<stw1>\d+(?:\.\d+)?)\+\d+(?:\.\d+)?\+(?P<stw2>\d+(?:\.\d+)?) ms clock, .*? (?P<a>\d+)->(?P<b>\d+)->(?P<c>\d+) MB(?P<rest>.*)$",
    )
    .expect("the pattern compiles")
});

/// One gctrace line.
pub fn parse(line: &str) -> Option<Parsed> {
    let m = LINE.captures(line.trim_end())?;
    let number = |name: &str| m[name].parse::<f64>().ok();
    let forced = m["rest"].trim_end().ends_with("(forced)");
    Some(Parsed {
        kind: if forced { "GC (forced)" } else { "GC" }.to_string(),
        // Go's collector is not generational: every cycle marks the whole heap.
        floor: true,
        at_seconds: number("t"),
        before_bytes: number("a").map(|v| bytes_of(v, "MB")),
        after_bytes: number("c").map(|v| bytes_of(v, "MB")),
        pause_seconds: Some((number("stw1")? + number("stw2")?) / 1e3),
        gc_id: None,
        process: if m["n"] == *"1" {
            Process::First
        } else {
            Process::Unknown
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forced_and_background_cycles() {
        let p = parse("gc 12 @1.204s 3%: 0.021+2.1+0.012 ms clock, 0.042+0.31/1.0/0.52+0.025 ms cpu, 9->10->6 MB, 11 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)").unwrap();
        assert_eq!(p.kind, "GC (forced)");
        assert_eq!(p.at_seconds, Some(1.204));
        assert_eq!(p.before_bytes, Some(9 << 20));
        assert_eq!(p.after_bytes, Some(6 << 20));
        assert!((p.pause_seconds.unwrap() - 0.000033).abs() < 1e-12);
        let q = parse("gc 1 @0.004s 3%: 0.022+0.76+0.003 ms clock, 0.045+0.11/0.29/0.43+0.007 ms cpu, 4->4->0 MB, 5 MB goal, 2 P").unwrap();
        assert_eq!(q.kind, "GC");
        assert!(parse("scvg: 0 MB released").is_none());
    }
}
