//! JVM heap dumps (HPROF 1.0.1 and 1.0.2, from `jcmd PID GC.heap_dump`, `jmap -dump`,
//! `-XX:+HeapDumpOnOutOfMemoryError`, `HotSpotDiagnosticMXBean.dumpHeap`): the
//! registry's HPROF entry.
//!
//! Files, in the order the data flows: `read` (big-endian numbers from a buffered
//! stream), `parse` (the records, streamed into flat per-object arrays), `dump` (the
//! indexed graph), `one` (one dump analysed: retained sizes with the shared dominator
//! tree, per-class figures, what is kept of it), `paths` (retainer paths in field
//! names, clustered), `pattern` (JVM pattern hints), `analysis` (the series: checks,
//! whether ids are stable, the three-dump set, suspects, top consumers).

pub mod analysis;
pub mod dump;
pub mod one;
pub mod parse;
pub mod paths;
pub mod pattern;
pub mod read;

pub use analysis::analyse;

/// Peak memory of the analysis per byte of uncompressed dump: measured 0.53 for one
/// 1.96 GB dump and 0.59 for a trio ending with it (~97 bytes of dump per object, ~53
/// bytes of memory per object; BENCHMARKS.md, benchmark 6), plus a margin.
pub const MEMORY_PER_BYTE: f64 = 0.8;

/// An HPROF file starts with "JAVA PROFILE 1.0." and a NUL after the version.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"JAVA PROFILE 1.0.")
}
