//! The format registry: every kind of heap file `leakcollect heap` reads, in one table.
//!
//! A file is recognised by its content, never by its name: `input` strips gzip (by its
//! magic bytes) and hands the first decompressed bytes to each entry's `sniff`, in table
//! order; the first entry that claims them reads the series. Each entry also says how
//! much memory its analysis needs per byte of file (for the check made before parsing)
//! and how to analyse a series of its files into the common model ([`super::model`]).
//!
//! A new format (HPROF, V8 `.heapprofile`, Scalene JSON, GC logs…) plugs in by adding
//! one [`Entry`] to [`FORMATS`] and one variant to [`Format`].

use super::Opened;
use super::model::{Format, HeapReport};
use super::{HeapError, Options};

/// How many leading (decompressed) bytes `sniff` is shown.
pub const SNIFF_BYTES: usize = 64;

/// One format: how to recognise it and how to read a series of its files.
pub struct Entry {
    pub format: Format,
    /// As in messages: "V8 heap snapshot", "pprof heap profile".
    pub name: &'static str,
    /// Where such files come from, for the "not a heap file" message.
    pub source_hint: &'static str,
    /// Whether the first bytes (at most [`SNIFF_BYTES`], decompressed) are of this format.
    pub sniff: fn(&[u8]) -> bool,
    /// Peak memory of the analysis per byte of uncompressed file.
    pub memory_per_byte: f64,
    /// Reads the series (oldest first, all of this format) into the common model.
    pub analyse: fn(Vec<Opened>, &Options) -> Result<HeapReport, HeapError>,
}

/// Every format, in the order their `sniff` is tried (text formats before binary ones,
/// so that a text file is never taken for a binary format).
pub static FORMATS: &[Entry] = &[
    Entry {
        format: Format::V8,
        name: "V8 heap snapshot",
        source_hint: ".heapsnapshot files (Node.js v8.writeHeapSnapshot, Chrome DevTools)",
        sniff: super::v8::sniff,
        memory_per_byte: super::v8::MEMORY_PER_BYTE,
        analyse: super::v8::analyse,
    },
    Entry {
        format: Format::Hprof,
        name: "JVM heap dump (HPROF)",
        source_hint: "JVM heap dumps (.hprof: jcmd PID GC.heap_dump, jmap -dump)",
        sniff: super::hprof::sniff,
        memory_per_byte: super::hprof::MEMORY_PER_BYTE,
        analyse: super::hprof::analyse,
    },
    Entry {
        format: Format::Pprof,
        name: "pprof heap profile",
        source_hint: "pprof heap profiles (/debug/pprof/heap)",
        sniff: super::pprof::sniff,
        memory_per_byte: super::pprof::MEMORY_PER_BYTE,
        analyse: super::pprof::analyse,
    },
    Entry {
        format: Format::V8Sampling,
        name: "V8 sampling heap profile",
        source_hint: ".heapprofile files (node --heap-prof, the inspector's HeapProfiler.getSamplingProfile, DevTools' Allocation sampling)",
        sniff: super::sampling::sniff,
        memory_per_byte: super::sampling::MEMORY_PER_BYTE,
        analyse: super::sampling::analyse,
    },
    Entry {
        format: Format::Scalene,
        name: "Scalene profile",
        source_hint: "Scalene JSON profiles (scalene run -o profile.json)",
        sniff: super::scalene::sniff,
        memory_per_byte: super::scalene::MEMORY_PER_BYTE,
        analyse: super::scalene::analyse,
    },
];

/// The first key of a JSON object at the start of `head` (`{"head":…` → `head`); None
/// when the bytes are not one or stop before the key ends. Keys with escapes are not
/// looked into (no format's first key has one).
pub fn json_first_key(head: &[u8]) -> Option<&str> {
    let mut rest = head.trim_ascii_start().strip_prefix(b"{")?;
    rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    (rest[end] == b'"').then(|| std::str::from_utf8(&rest[..end]).ok())?
}

/// The format whose `sniff` claims these first bytes, if any.
pub fn sniff(head: &[u8]) -> Option<&'static Entry> {
    FORMATS.iter().find(|entry| (entry.sniff)(head))
}

/// The registry's entry of a format.
pub fn entry(format: Format) -> &'static Entry {
    FORMATS
        .iter()
        .find(|entry| entry.format == format)
        .expect("every Format has an entry in FORMATS")
}

/// "V8 heap snapshot nor a pprof heap profile": what a file was expected to be.
pub fn expected() -> String {
    let names: Vec<&str> = FORMATS.iter().map(|e| e.name).collect();
    names.join(" nor a ")
}

/// Where each format's files come from, for the "not a heap file" message.
pub fn source_hints() -> String {
    let hints: Vec<&str> = FORMATS.iter().map(|e| e.source_hint).collect();
    hints.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_exactly_one_entry() {
        for format in [
            Format::V8,
            Format::Hprof,
            Format::Pprof,
            Format::V8Sampling,
            Format::Scalene,
        ] {
            let n = FORMATS.iter().filter(|e| e.format == format).count();
            assert_eq!(n, 1, "{format:?}");
            assert_eq!(entry(format).format, format);
        }
    }

    #[test]
    fn content_decides_not_the_name() {
        assert_eq!(
            sniff(b"  {\"snapshot\":{").map(|e| e.format),
            Some(Format::V8)
        );
        // Go's heap profiles start with field 11 (period_type), length-delimited.
        assert_eq!(
            sniff(&[0x5a, 0x04, 0x08, 0x01, 0x10, 0x02]).map(|e| e.format),
            Some(Format::Pprof)
        );
        // `go tool pprof -proto`'s output starts with sample_type (1): a newline byte.
        assert_eq!(
            sniff(&[0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x0a, 0x04]).map(|e| e.format),
            Some(Format::Pprof)
        );
        assert_eq!(
            sniff(b"{\"head\":{\"callFrame\":{\"functionName\":\"(root)\"").map(|e| e.format),
            Some(Format::V8Sampling)
        );
        assert_eq!(
            sniff(b"{\"alloc_samples\": 547, \"args\": []").map(|e| e.format),
            Some(Format::Scalene)
        );
        // A V8 CPU profile (`node --cpu-prof`) is JSON too, and none of these.
        assert!(sniff(b"{\"nodes\":[{\"id\":1,\"callFrame\"").is_none());
        assert!(sniff(b"this is a text file\n").is_none());
        assert!(sniff(b"").is_none());
        assert!(
            expected().starts_with(
                "V8 heap snapshot nor a JVM heap dump (HPROF) nor a pprof heap profile"
            )
        );
        assert_eq!(
            sniff(b"JAVA PROFILE 1.0.2\0\0\0\0\x08").map(|e| e.format),
            Some(Format::Hprof)
        );
    }
}
