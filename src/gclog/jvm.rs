//! JVM unified logging (`-Xlog:gc`, `-Xlog:gc*`, JDK 9+), with any decorations:
//! `[0.192s][info][gc] GC(3) Pause Full (System.gc()) 87M->5M(24M) 6.165ms`. The clock
//! is the first time decoration found (uptime `0.192s`, else an ISO time, else
//! `…ms`/`…ns`). Read: G1, Parallel and Serial pauses (`Pause Young …`, `Pause Full …`,
//! `Pause Remark`, `Pause Cleanup`), G1's `Concurrent Mark Cycle`, ZGC's cycles
//! (`Garbage Collection (…) 14M(1%)->8M(1%)`, JDK 21's `Major/Minor Collection`) and
//! Shenandoah's pauses and `Concurrent cleanup` — the lines with a size change or a
//! duration. `-Xlog:gc*`'s other lines (phases, regions, metaspace, start lines) are not
//! collections and are skipped.

use super::{Collection, Parsed, Process, bytes_of, scaled};
use regex::Regex;
use std::sync::LazyLock;

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<decorations>(?:\[[^\]]*\]\s*)*)GC\((?P<id>\d+)\)\s+(?P<name>(?:Pause |Concurrent Mark Cycle|Concurrent Undo Cycle|Garbage Collection|Major Collection|Minor Collection|Concurrent cleanup).*?)(?:\s+(?P<b>\d+(?:\.\d+)?)(?P<bu>[BKMGT])(?:\(\d+%\))?->(?P<a>\d+(?:\.\d+)?)(?P<au>[BKMGT])(?:\(\d+%\)|\(\d+(?:\.\d+)?[BKMGT]\))?)?(?:\s+(?P<d>\d+(?:\.\d+)?)(?P<du>ms|s|us|ns))?\s*$",
    )
    .expect("the pattern compiles")
});

/// ZGC's heap table under `-Xlog:gc*` (tag gc,heap): `GC(3)  Live:  -  9M (4%)  …`, the
/// bytes marked live at Mark End (the second column).
static LIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"GC\((?P<id>\d+)\)\s+Live:\s+-\s+(?P<v>\d+(?:\.\d+)?)(?P<u>[BKMGT])\b")
        .expect("the pattern compiles")
});

static DECORATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]]*)\]").expect("the pattern compiles"));

/// G1's young pause types, kept in the kind: they say where a mixed phase ends.
const G1_YOUNG_TYPES: [&str; 4] = [
    "(Normal)",
    "(Concurrent Start)",
    "(Prepare Mixed)",
    "(Mixed)",
];

/// One unified-logging collection line.
pub fn parse(line: &str) -> Option<Parsed> {
    let m = LINE.captures(line.trim_end())?;
    let has_sizes = m.name("b").is_some();
    let duration = m.name("d").and_then(|d| {
        let exponent = match &m["du"] {
            "ms" => -3,
            "us" => -6,
            "ns" => -9,
            _ => 0,
        };
        scaled(d.as_str(), exponent)
    });
    if !has_sizes && duration.is_none() {
        return None; // a start line (`-Xlog:gc*`'s gc,start), not the collection
    }
    let name = m["name"].trim();
    let kind = kind_of(name);
    let size = |value: &str, unit: &str| {
        m.name(value)
            .and_then(|v| v.as_str().parse::<f64>().ok())
            .map(|v| bytes_of(v, &m[unit]))
    };
    Some(Parsed {
        floor: has_sizes
            && (kind.starts_with("Pause Full")
                || kind == "Garbage Collection"
                || kind == "Major Collection"),
        at_seconds: clock(&m["decorations"]),
        before_bytes: size("b", "bu"),
        after_bytes: size("a", "au"),
        // Only a pause stops the world; a concurrent cycle's duration is not a pause.
        pause_seconds: duration.filter(|_| kind.starts_with("Pause ")),
        gc_id: m["id"].parse().ok(),
        process: if m["id"] == *"0" {
            Process::First
        } else {
            Process::Unknown
        },
        kind,
    })
}

/// A ZGC cycle's live bytes at Mark End, from `-Xlog:gc*`'s heap table: (GC id, bytes).
pub fn live(line: &str) -> Option<(u64, u64)> {
    let m = LIVE.captures(line)?;
    let value = m["v"].parse::<f64>().ok()?;
    Some((m["id"].parse().ok()?, bytes_of(value, &m["u"])))
}

/// A ZGC cycle's floor is the live heap its mark found when the log has it (`-Xlog:gc*`):
/// the "after" figure of its summary line also holds what was allocated while it ran.
pub fn use_live(parsed: &mut Parsed, live: &std::collections::HashMap<u64, u64>) {
    let zgc = parsed.kind == "Garbage Collection" || parsed.kind == "Major Collection";
    if let (true, Some(id)) = (zgc, parsed.gc_id)
        && let Some(bytes) = live.get(&id)
    {
        parsed.after_bytes = Some(*bytes);
    }
}

/// The collection's kind: its name without the cause in parentheses, except G1's young
/// pause type (`Pause Young (Mixed) (G1 Evacuation Pause)` → `Pause Young (Mixed)`).
fn kind_of(name: &str) -> String {
    let Some(open) = name.find(" (") else {
        return name.to_string();
    };
    let (head, tail) = name.split_at(open);
    match G1_YOUNG_TYPES
        .iter()
        .find(|t| tail.trim_start().starts_with(*t))
    {
        Some(t) => format!("{head} {t}"),
        None => head.to_string(),
    }
}

/// Seconds on the log's clock from its decorations: uptime (`0.123s`) first, then an
/// ISO 8601 time, then milliseconds or nanoseconds (uptime or time since the epoch).
fn clock(decorations: &str) -> Option<f64> {
    let values: Vec<&str> = DECORATION
        .captures_iter(decorations)
        .filter_map(|c| c.get(1).map(|m| m.as_str().trim()))
        .collect();
    let number = |v: &str, suffix: &str| -> Option<f64> {
        v.strip_suffix(suffix)
            .filter(|n| n.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .and_then(|n| n.parse::<f64>().ok())
    };
    let uptime = values
        .iter()
        .filter(|v| !v.ends_with("ms") && !v.ends_with("ns"))
        .find_map(|v| number(v, "s"));
    uptime
        .or_else(|| {
            values.iter().find_map(|v| {
                chrono::DateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f%z")
                    .ok()
                    .map(|t| t.timestamp_millis() as f64 / 1e3)
            })
        })
        .or_else(|| {
            values
                .iter()
                .find_map(|v| v.strip_suffix("ms").and_then(|n| scaled(n, -3)))
        })
        .or_else(|| {
            values
                .iter()
                .find_map(|v| v.strip_suffix("ns").and_then(|n| scaled(n, -9)))
        })
}

/// The collections that end a concurrent cycle, decided from the sequence: G1's last
/// mixed pause of a phase ([`mark_mixed_phase_ends`]) and Shenandoah's last cleanup of a
/// cycle ([`mark_shenandoah_cycle_ends`]).
pub fn mark_cycle_ends(collections: &mut [Collection]) {
    mark_mixed_phase_ends(collections);
    mark_shenandoah_cycle_ends(collections);
}

/// Shenandoah cleans up twice in a cycle: after the final mark (regions found all
/// garbage) and after updating references (the evacuated regions); the last cleanup
/// before the next cycle's `Pause Init Mark` (or the log's end) leaves the cycle's floor.
pub fn mark_shenandoah_cycle_ends(collections: &mut [Collection]) {
    let marks: Vec<usize> = (0..collections.len())
        .filter(|&i| {
            let kind = &collections[i].parsed.kind;
            kind == "Concurrent cleanup" || kind == "Pause Init Mark"
        })
        .collect();
    for (k, &i) in marks.iter().enumerate() {
        let cleanup = collections[i].parsed.kind == "Concurrent cleanup";
        let next_is_cleanup = marks
            .get(k + 1)
            .is_some_and(|&j| collections[j].parsed.kind == "Concurrent cleanup");
        if cleanup && !next_is_cleanup && collections[i].parsed.after_bytes.is_some() {
            collections[i].parsed.floor = true;
        }
    }
}

/// Whether a collection of this kind may end a concurrent cycle, which only the lines
/// after it tell ([`mark_cycle_ends`]).
pub fn may_end_a_cycle(kind: &str) -> bool {
    kind == "Pause Young (Mixed)" || kind == "Concurrent cleanup"
}

/// G1's mixed phase ends with its last `Pause Young (Mixed)`: the heap it leaves is the
/// floor after the concurrent cycle's old-region reclamation. Marked only when another
/// young pause follows (a log ending mid-phase has not reached the floor yet).
pub fn mark_mixed_phase_ends(collections: &mut [Collection]) {
    let young: Vec<usize> = (0..collections.len())
        .filter(|&i| collections[i].parsed.kind.starts_with("Pause Young"))
        .collect();
    for pair in young.windows(2) {
        let (this, next) = (pair[0], pair[1]);
        let mixed = |i: usize| collections[i].parsed.kind == "Pause Young (Mixed)";
        if mixed(this) && !mixed(next) && collections[this].parsed.after_bytes.is_some() {
            collections[this].parsed.floor = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_g1_parallel_zgc_shenandoah_lines() {
        let full = parse("[0.192s][info][gc] GC(3) Pause Full (System.gc()) 87M->5M(24M) 6.165ms")
            .unwrap();
        assert_eq!(full.kind, "Pause Full");
        assert!(full.floor);
        assert_eq!(full.at_seconds, Some(0.192));
        assert_eq!(full.before_bytes, Some(87 << 20));
        assert_eq!(full.after_bytes, Some(5 << 20));
        assert!((full.pause_seconds.unwrap() - 0.006165).abs() < 1e-12);
        let young = parse("[0.051s][info][gc          ] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 12M->1M(256M) 1.315ms").unwrap();
        assert_eq!(young.kind, "Pause Young (Normal)");
        assert!(!young.floor);
        assert!(
            parse("[0.050s][info][gc,start    ] GC(0) Pause Young (Normal) (G1 Evacuation Pause)")
                .is_none()
        );
        assert!(parse("[0.051s][info][gc,heap     ] GC(0) Eden regions: 12->0(22)").is_none());
        assert!(parse("[0.051s][info][gc,metaspace] GC(0) Metaspace: 74K(320K)->74K(320K) NonClass: 70K(192K)->70K(192K)").is_none());
        let parallel = parse("[2026-12-06T17:00:00.250+0000][info][gc] GC(1) Pause Young (Allocation Failure) 63M->10M(245M) 5.123ms").unwrap();
        assert_eq!(parallel.kind, "Pause Young");
        assert_eq!(parallel.at_seconds, Some(1_796_576_400.25));
        let zgc =
            parse("[1.002s][info][gc] GC(0) Garbage Collection (Warmup) 14M(1%)->8M(1%)").unwrap();
        assert_eq!(zgc.kind, "Garbage Collection");
        assert!(zgc.floor);
        assert_eq!(zgc.pause_seconds, None);
        let cycle = parse("[0.9s][info][gc] GC(4) Concurrent Mark Cycle 12.345ms").unwrap();
        assert_eq!(cycle.pause_seconds, None);
        assert!(!cycle.floor);
        let cleanup =
            parse("[3.1s][info][gc] GC(2) Concurrent cleanup 84M->12M(128M) 0.030ms").unwrap();
        assert_eq!(cleanup.after_bytes, Some(12 << 20));
        assert_eq!(zgc.gc_id, Some(0));
        // Any order and mix of decorations: the uptime wins, then the time.
        let decorated = parse(
            "[info][2.5s][12ms][gc] GC(1) Pause Full (G1 Compaction Pause) 9M->3M(16M) 4.0ms",
        )
        .unwrap();
        assert_eq!(decorated.at_seconds, Some(2.5));
        assert_eq!(
            live(
                "[0.465s][info][gc,heap     ] GC(3)      Live:         -                 9M (4%)            9M (4%)            9M (4%)             -                  -          "
            ),
            Some((3, 9 << 20))
        );
        let mixed = parse(
            "[5.0s][info][gc] GC(9) Pause Young (Mixed) (G1 Evacuation Pause) 40M->20M(64M) 2.0ms",
        )
        .unwrap();
        assert_eq!(mixed.kind, "Pause Young (Mixed)");
        assert!(parse("gc 1 @0.004s 3%: 0.022+0.76+0.003 ms clock, 0.045+0.11/0.29/0.43+0.007 ms cpu, 4->4->0 MB, 5 MB goal, 2 P").is_none());
    }

    #[test]
    fn the_last_mixed_pause_and_the_last_cleanup_of_a_cycle_are_floors() {
        let line = |kind: &str| Collection {
            parsed: Parsed {
                kind: kind.into(),
                floor: false,
                at_seconds: Some(0.0),
                before_bytes: Some(2),
                after_bytes: Some(1),
                pause_seconds: None,
                gc_id: None,
                process: Process::Unknown,
            },
            line: 1,
            text: None,
        };
        let mut c = vec![
            line("Pause Young (Mixed)"),
            line("Pause Young (Mixed)"),
            line("Pause Remark"),
            line("Pause Young (Normal)"),
            line("Pause Young (Mixed)"),
        ];
        mark_cycle_ends(&mut c);
        let floors: Vec<bool> = c.iter().map(|c| c.parsed.floor).collect();
        assert_eq!(floors, [false, true, false, false, false]);
        let mut s = vec![
            line("Pause Init Mark"),
            line("Concurrent cleanup"),
            line("Pause Init Update Refs"),
            line("Concurrent cleanup"),
            line("Pause Init Mark"),
            line("Concurrent cleanup"),
        ];
        mark_cycle_ends(&mut s);
        let floors: Vec<bool> = s.iter().map(|c| c.parsed.floor).collect();
        assert_eq!(floors, [false, false, false, true, false, true]);
    }
}
