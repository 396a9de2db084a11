//! Heap evidence from files: V8 heap snapshots (`.heapsnapshot`, plain or gzip'd), pprof
//! heap profiles (Go, `@datadog/pprof`, any `profile.proto`), V8 sampling heap profiles
//! (`.heapprofile`) and Scalene JSON profiles (Python). This is the acquisition + analysis layer
//! for `leakcollect heap`; it never reaches up into `commands` (it takes paths and a quiet
//! flag and returns a [`model::HeapReport`]), and `render` turns that report into text.
//!
//! Files: `formats` (the registry: which formats exist, recognised by content), `input`
//! (opening, gzip, the free-memory check), `model` (the common result), and one folder
//! per format: `v8/` (parse, graph, dominators, snapshot, series, paths, pattern,
//! suspects, analysis), `pprof/` (format, decode, analysis), `sampling/` and `scalene/`;
//! then `rootcause` (the allocation site the Root Cause Analysis names) and `source`
//! (`--source DIR`: the code around it). No text for people is made here:
//! `render::heap` formats the model.

pub mod formats;
pub mod graph;
pub mod hprof;
pub mod input;
pub mod model;
pub mod pprof;
pub mod rootcause;
pub mod sampling;
pub mod scalene;
pub mod source;
pub mod v8;

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Everything that can stop `leakcollect heap`; each variant knows its exit code and says
/// what to do about it.
#[derive(Debug, Error)]
pub enum HeapError {
    #[error("{path}: no such file; check the path")]
    Missing { path: PathBuf },
    #[error("{path}: cannot read it ({source}); give a readable file")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: the file is empty; the snapshot was probably not written completely, take it again"
    )]
    Empty { path: PathBuf },
    #[error(
        "{path}: the file ends early ({detail}); it was cut off while being written or copied, take or copy it again"
    )]
    Truncated { path: PathBuf, detail: String },
    #[error(
        "{path}: the gzip data is corrupt ({detail}); copy the file again or take a new snapshot"
    )]
    Gzip { path: PathBuf, detail: String },
    #[error("{path}: not a {expected} (it starts with {start}); give {hints}")]
    NotHeapFile {
        path: PathBuf,
        start: String,
        /// The registry's format names ("V8 heap snapshot nor a pprof heap profile").
        expected: String,
        hints: String,
    },
    #[error("{path}: not a valid {what}: {detail}; take the snapshot again")]
    Invalid {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
    #[error("{path} is a {this} but {first} is a {other}; give files of one kind")]
    MixedFormats {
        path: PathBuf,
        first: PathBuf,
        this: &'static str,
        other: &'static str,
    },
    #[error(
        "{path} seems out of order: its highest object id ({max_id}) is below that of the file before it, {previous} ({previous_max_id}); V8 ids only grow, so give the snapshots oldest first"
    )]
    OutOfOrder {
        path: PathBuf,
        max_id: u64,
        previous: PathBuf,
        previous_max_id: u64,
    },
    #[error(
        "{path} comes from a different process than {others} ({evidence}); object ids are a process's own, so snapshots compare only within one process: give snapshots of one process, oldest first"
    )]
    DifferentProcess {
        path: PathBuf,
        others: String,
        evidence: v8::process::Evidence,
    },
    #[error(
        "{path} holds the same heap as {previous} (same objects, same ids): the same snapshot given twice, or a copy; give snapshots taken some time apart, oldest first"
    )]
    Identical { path: PathBuf, previous: PathBuf },
    #[error(
        "{path}: {kind}: the profile has no in-use heap sample types (found: {found}); take a heap profile (Go: /debug/pprof/heap or pprof.WriteHeapProfile; Node: @datadog/pprof heap.profile()), not a CPU or allocation-only profile"
    )]
    NoInuse {
        path: PathBuf,
        found: String,
        /// "a CPU profile", "an allocation-only profile", "not a heap profile".
        kind: &'static str,
    },
    #[error(
        "{path}: the Scalene profile has no memory data (it was run with --cpu-only); run `scalene run -o profile.json` without --cpu-only"
    )]
    ScaleneNoMemory { path: PathBuf },
    #[error(
        "{path}: one Scalene profile at a time (it already holds the whole run's growth per line); give the one profile"
    )]
    ScaleneSeveral { path: PathBuf },
    #[error("--source {dir}: no such folder; give the folder of the code the profile was taken of")]
    SourceMissing { dir: PathBuf },
    #[error(
        "--source {dir}: no file under it matches the profile's {wanted}; give the checkout of the code that was profiled (its files are matched by the longest common path tail)"
    )]
    SourceNoMatch { dir: PathBuf, wanted: String },
    #[error(
        "--source {dir}: the files name no code location (no entry has one, and no application closure with a recorded position is on a leaked object's retainer path); give pprof, V8 sampling heap or Scalene profiles with --source, or leave --source out"
    )]
    SourceNoLocation { dir: PathBuf },
    #[error(
        "{path}: the dump holds no heap objects (no heap dump records); it was cut at a record boundary or written without its heap, take it again (jcmd PID GC.heap_dump FILE)"
    )]
    EmptyHeap { path: PathBuf },
    #[error(
        "{path} was written at {at} but {previous}, given before it, at {previous_at} (their HPROF headers); give the dumps oldest first"
    )]
    DumpOutOfOrder {
        path: PathBuf,
        at: String,
        previous: PathBuf,
        previous_at: String,
    },
    #[error(
        "{path} comes from a different JVM than {previous}: {moved} of the {shared} class and field names both hold are at other addresses, and within one JVM a name keeps its address; object ids are a JVM's own, so give dumps of one JVM, oldest first"
    )]
    DifferentJvm {
        path: PathBuf,
        previous: PathBuf,
        shared: u64,
        moved: u64,
    },
    #[error(
        "{path}: analysing it needs about {needed_mb} MB of memory but only {available_mb} MB are available (MemAvailable in /proc/meminfo); run on a machine with more free memory or close other programs"
    )]
    TooBig {
        path: PathBuf,
        needed_mb: u64,
        available_mb: u64,
    },
}

impl HeapError {
    /// The documented exit code: 3 (no data) for a profile without in-use samples, 2 for
    /// every other unreadable, invalid or unusable input file.
    pub fn code(&self) -> i32 {
        match self {
            HeapError::NoInuse { .. } | HeapError::ScaleneNoMemory { .. } => crate::exit::NO_DATA,
            _ => crate::exit::USAGE,
        }
    }
}

/// Options of one analysis run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// No progress bar (it is only ever shown on a terminal, for big files).
    pub quiet: bool,
    /// `--source DIR`: the code the profiles were taken of, for the Vulnerable Code.
    pub source: Option<PathBuf>,
}

/// Reads every file (oldest first) and analyses the series.
/// A heap file that exists, is not empty, fits in memory and looks like one of the
/// formats; its contents are read later by the parser.
#[derive(Debug)]
pub struct Opened {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub gzip: bool,
    /// Recognised by content ([`formats::sniff`]); defined here, where both the registry
    /// and the input side name it without naming each other.
    pub format: model::Format,
    /// The file's modification time, when the file system keeps one.
    pub modified: Option<std::time::SystemTime>,
}

/// The cause the Executive Summary names: the pattern hints, the leaked object's first
/// (hints follow the suspects' order); none without a known pattern.
pub fn cause(report: &model::HeapReport) -> Option<crate::evidence::HeapCause> {
    let patterns: Vec<crate::evidence::CausePattern> = report
        .hints
        .iter()
        .map(|h| crate::evidence::CausePattern {
            pattern: h.kind.text().to_string(),
            objects: h.suspects.clone(),
        })
        .collect();
    let what = formats::entry(report.format).name;
    let n = report.snapshots.len();
    // "JVM heap dump (HPROF)" → "JVM heap dumps (HPROF)": the plural is the noun's.
    let files = match (n, what.split_once(" (")) {
        (1, _) => what.to_string(),
        (_, Some((noun, rest))) => format!("{noun}s ({rest}"),
        (_, None) => format!("{what}s"),
    };
    (!patterns.is_empty()).then(|| crate::evidence::HeapCause {
        patterns,
        from: format!("{n} {files}"),
    })
}

pub fn analyse(paths: &[PathBuf], options: &Options) -> Result<model::HeapReport, HeapError> {
    if let Some(dir) = &options.source {
        source::check_dir(dir)?;
    }
    let mut opened = Vec::with_capacity(paths.len());
    for path in paths {
        opened.push(input::open(path)?);
    }
    let first = &opened[0];
    for other in &opened[1..] {
        if other.format != first.format {
            return Err(HeapError::MixedFormats {
                path: other.path.clone(),
                first: first.path.clone(),
                this: formats::entry(other.format).name,
                other: formats::entry(first.format).name,
            });
        }
    }
    let mut report = (formats::entry(first.format).analyse)(opened, options)?;
    report.decide();
    report.root_cause = rootcause::root_cause(&report);
    if let Some(dir) = &options.source {
        let root = report
            .root_cause
            .as_mut()
            .ok_or_else(|| HeapError::SourceNoLocation { dir: dir.clone() })?;
        root.source = Some(source::excerpt(dir, &root.location)?);
    }
    Ok(report)
}

/// `path` shortened for messages in the report: the file name.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
