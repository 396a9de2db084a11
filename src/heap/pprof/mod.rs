//! pprof heap profiles (gzip'd `profile.proto`): Go's `/debug/pprof/heap` and
//! `runtime/pprof.WriteHeapProfile`, Node.js `@datadog/pprof`. In-use objects and bytes
//! per allocation site first→last.
//!
//! A site is the leaf function (the first line of the first location: the innermost
//! inlined function), which is what `go tool pprof -top` calls "flat", so the deltas
//! agree with `go tool pprof -top -diff_base=first last`. The top few frames of the
//! site's biggest stack are kept to show where it is called from.
//!
//! Files: `format` (the protobuf messages), `decode` (reading and decoding a file, the
//! in-use sample types), `analysis` (sites, deltas, suspects: the registry's entry).

pub mod analysis;
pub mod decode;
pub mod format;

pub use analysis::analyse;

/// Decoded messages are a few times bigger than their wire form.
pub const MEMORY_PER_BYTE: f64 = 6.0;

/// A protobuf message starts with a field tag: profile.proto's fields are 1–14, varint
/// (0) or length-delimited (2); writers order them freely (Go starts with period_type,
/// 11). Text is never taken for one.
pub fn sniff(head: &[u8]) -> bool {
    let Some(&b) = head.first() else {
        return false;
    };
    head.len() > 2
        && matches!(b & 7, 0 | 2)
        && (1..=14).contains(&(b >> 3))
        && !head
            .iter()
            .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace())
}
