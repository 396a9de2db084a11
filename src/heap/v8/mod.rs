//! V8 heap snapshots (`.heapsnapshot`, from Node.js and Chrome DevTools): the registry's
//! V8 entry.
//!
//! Files, in the order the data flows: `parse` (the streaming snapshot parser),
//! `graph` (class names, edge names, which edges keep objects alive), `dominators`
//! (retained sizes), `snapshot` (one snapshot analysed, and the summary kept of it),
//! `names` (what Node's default file names say), `process` (whether two
//! snapshots come from one process), `series` (deltas first→last, the
//! three-snapshot set), `paths` (retainer paths, clustered), `pattern` (the
//! pattern hint read off a path), `suspects` (suspects and top consumers), `analysis`
//! (the whole series: reading, checks, assembling the report).

pub mod analysis;
pub mod dominators;
pub mod graph;
pub mod names;
pub mod parse;
pub mod paths;
pub mod pattern;
pub mod process;
pub mod series;
pub mod snapshot;
pub mod suspects;

pub use analysis::analyse;

/// Peak memory of the analysis per byte of uncompressed snapshot: measured 1.12 on a
/// 293 MB Node.js snapshot (328 MB peak RSS, see BENCHMARKS.md), plus a margin.
pub const MEMORY_PER_BYTE: f64 = 1.4;

/// A snapshot is a JSON object whose first key is `snapshot` (its meta data); a key
/// not yet in the bytes shown (a lot of leading blanks) still counts, as before.
pub fn sniff(head: &[u8]) -> bool {
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && super::formats::json_first_key(head).is_none_or(|k| k == "snapshot")
}
