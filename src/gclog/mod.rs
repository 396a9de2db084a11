//! GC logs from files: Node.js `--trace-gc`, JVM unified logging (`-Xlog:gc`,
//! `-Xlog:gc*`) and Go `GODEBUG=gctrace=1`, plain or gzip'd, one or several files oldest
//! first. This is the acquisition side of `leakcollect gclog` and `attach --gc-log`: it
//! recognises each file's runtime by its lines (never by its name), reads every
//! collection (kind, heap before and after, pause, the log's own clock, the line) and
//! says which collections leave the live-heap floor. `analysis::gclog` turns that into
//! the [`model::GcLogReport`]; `render::gclog` formats it.
//!
//! Files: `input` (opening, gzip, lines), one parser per runtime (`node`, `jvm`, `go`),
//! `model` (the serializable result).

pub mod go;
pub mod input;
pub mod jvm;
pub mod model;
pub mod node;

use serde::Serialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The runtimes whose GC logs are read.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    Node,
    Jvm,
    Go,
}

impl Runtime {
    pub const ALL: [Runtime; 3] = [Runtime::Node, Runtime::Jvm, Runtime::Go];

    /// What the log is, for messages.
    pub fn log_name(self) -> &'static str {
        match self {
            Runtime::Node => "Node.js --trace-gc log",
            Runtime::Jvm => "JVM unified GC log (-Xlog:gc)",
            Runtime::Go => "Go GODEBUG=gctrace=1 log",
        }
    }

    /// Which collections make the floor, for the "no full collection" message.
    fn full_kinds(self) -> &'static str {
        match self {
            Runtime::Node => "a Mark-Compact",
            Runtime::Jvm => {
                "a Pause Full, the end of a G1 mixed phase, a ZGC cycle or a Shenandoah cleanup"
            }
            Runtime::Go => "a gc line with A->B->C MB",
        }
    }

    /// One line of this runtime's log, if it is a collection.
    fn parse(self, line: &str) -> Option<Parsed> {
        match self {
            Runtime::Node => node::parse(line),
            Runtime::Jvm => jvm::parse(line),
            Runtime::Go => go::parse(line),
        }
    }
}

/// The formats read, for the "unknown format" message.
pub const FORMATS: &str = "Node.js --trace-gc (`[pid:0x…] 12 ms: Mark-Compact 10.1 (12.0) -> 8.2 (13.0) MB, …`), JVM unified logging -Xlog:gc or -Xlog:gc* (`[0.123s][info][gc] GC(3) Pause Full (System.gc()) 87M->5M(24M) 6.165ms`) and Go GODEBUG=gctrace=1 (`gc 4 @0.51s 2%: … ms clock, … ms cpu, 4->4->1 MB, …`)";

/// One collection line, as a runtime's parser reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub kind: String,
    /// Whether this kind leaves the live-heap floor by itself (JVM's end of a mixed phase
    /// is decided afterwards, from the sequence).
    pub floor: bool,
    /// The log's clock, seconds; `None` when the line has no time (a JVM log without
    /// time decorations).
    pub at_seconds: Option<f64>,
    pub before_bytes: Option<u64>,
    /// The heap left: Node/JVM the "after" figure, Go the live heap marked.
    pub after_bytes: Option<u64>,
    pub pause_seconds: Option<f64>,
    /// The JVM's collection id (`GC(12)`), which ties a cycle's lines together.
    pub gc_id: Option<u64>,
    /// Who wrote the line, where the log says: Node's process id (`[pid:0x…]`), else the
    /// first collection of a process (JVM `GC(0)`, Go `gc 1`) as `Process::First`.
    pub process: Process,
}

/// What a line says about the process that wrote it; a new process starts a new lifetime
/// of the floor even when its clock happens to continue the previous one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// Nothing (JVM and Go lines after the first collection).
    Unknown,
    /// A process's first collection (JVM `GC(0)`, Go `gc 1`).
    First,
    /// Node.js: the process id of the line's `[pid:0xisolate]` prefix.
    Pid(u64),
}

/// One collection read from a file.
#[derive(Debug, Clone)]
pub struct Collection {
    pub parsed: Parsed,
    /// 1-based.
    pub line: usize,
    /// The line verbatim, kept for floor collections only (the quotes come from them).
    pub text: Option<String>,
}

/// One file read.
#[derive(Debug, Clone)]
pub struct LogFile {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub gzip: bool,
    pub lines: usize,
    pub collections: Vec<Collection>,
}

/// Every file read, of one runtime.
#[derive(Debug, Clone)]
pub struct GcLog {
    pub runtime: Runtime,
    pub files: Vec<LogFile>,
}

/// Everything that can stop reading GC logs; each variant knows its exit code and says
/// what to do.
#[derive(Debug, Error)]
pub enum GcLogError {
    #[error("{path}: no such file; check the path")]
    Missing { path: PathBuf },
    #[error("{path}: cannot read it ({source}); give a readable file")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: the GC log is empty; give the log of a process that ran long enough to collect"
    )]
    Empty { path: PathBuf },
    #[error(
        "{path}: the gzip data ends early ({detail}); the file was cut off while being written or copied, copy it again"
    )]
    Truncated { path: PathBuf, detail: String },
    #[error("{path}: the gzip data is corrupt ({detail}); copy the file again")]
    Gzip { path: PathBuf, detail: String },
    #[error(
        "{path}: not a GC log leakcollect reads (it starts with {start}); give a log in one of these formats: {formats}"
    )]
    UnknownFormat {
        path: PathBuf,
        start: String,
        formats: &'static str,
    },
    #[error("{path} is a {this} but {first} is a {other}; give the logs of one runtime")]
    MixedRuntimes {
        path: PathBuf,
        first: PathBuf,
        this: &'static str,
        other: &'static str,
    },
    #[error(
        "{path}: line {line} of the {log} has no time; log with time decorations (-Xlog:gc:file=gc.log:uptime,level,tags, the default ones) so the floor's trend has a clock"
    )]
    NoClock {
        path: PathBuf,
        line: usize,
        log: &'static str,
    },
    #[error(
        "{paths}: {collections} collection(s) ({kinds}) but no full one ({full}), so there is no live-heap floor to follow; give a longer log"
    )]
    NoFullCollections {
        paths: String,
        collections: usize,
        kinds: String,
        full: &'static str,
    },
}

impl GcLogError {
    /// The documented exit code: 3 (no data) for a log with no full collection, 2 for
    /// every unreadable, unknown or mixed input.
    pub fn code(&self) -> i32 {
        match self {
            GcLogError::NoFullCollections { .. } => crate::exit::NO_DATA,
            _ => crate::exit::USAGE,
        }
    }
}

/// Reads every file (oldest first): each file's runtime by its first collection line,
/// one runtime for all, at least one floor collection in all.
pub fn read(paths: &[PathBuf]) -> Result<GcLog, GcLogError> {
    let mut files: Vec<(Runtime, LogFile)> = Vec::with_capacity(paths.len());
    for path in paths {
        let (runtime, file) = match read_file(path) {
            Ok(read) => read,
            // -Xlog's rotation leaves the newest file empty right after it rotated: among
            // several files an empty one says nothing and is passed over.
            Err(GcLogError::Empty { .. }) if paths.len() > 1 => continue,
            Err(e) => return Err(e),
        };
        if let Some((first_runtime, first)) = files.first()
            && *first_runtime != runtime
        {
            return Err(GcLogError::MixedRuntimes {
                path: path.clone(),
                first: first.path.clone(),
                this: runtime.log_name(),
                other: first_runtime.log_name(),
            });
        }
        files.push((runtime, file));
    }
    let Some(&(runtime, _)) = files.first() else {
        return Err(GcLogError::Empty {
            path: paths.first().cloned().unwrap_or_default(),
        });
    };
    let files: Vec<LogFile> = files.into_iter().map(|(_, f)| f).collect();
    let collections: Vec<&Collection> = files.iter().flat_map(|f| &f.collections).collect();
    if !collections.iter().any(|c| c.parsed.floor) {
        let mut kinds: Vec<&str> = Vec::new();
        for c in &collections {
            if !kinds.contains(&c.parsed.kind.as_str()) {
                kinds.push(&c.parsed.kind);
            }
        }
        return Err(GcLogError::NoFullCollections {
            paths: files
                .iter()
                .map(|f| f.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            collections: collections.len(),
            kinds: kinds.join(", "),
            full: runtime.full_kinds(),
        });
    }
    Ok(GcLog { runtime, files })
}

/// One file: its runtime (the first line any parser reads), then its collections.
fn read_file(path: &Path) -> Result<(Runtime, LogFile), GcLogError> {
    let mut lines = input::open(path)?;
    let mut runtime: Option<Runtime> = None;
    let mut collections = Vec::new();
    let mut start: Option<String> = None;
    let mut count = 0;
    // ZGC's live bytes per cycle (`-Xlog:gc*`), printed before the cycle's summary line.
    let mut live = std::collections::HashMap::new();
    while let Some(line) = lines.next_line()? {
        count += 1;
        if runtime == Some(Runtime::Jvm)
            && let Some((id, bytes)) = jvm::live(&line)
        {
            live.insert(id, bytes);
            continue;
        }
        if start.is_none() && !line.trim().is_empty() {
            start = Some(line.clone());
        }
        // GC logs are text: binary bytes before any collection (a heap snapshot, a core
        // dump) mean another kind of file, said at once rather than after reading it all.
        if runtime.is_none() && (line.contains('\0') || line.contains('\u{FFFD}')) {
            return Err(GcLogError::UnknownFormat {
                path: path.to_path_buf(),
                start: shorten(start.as_deref().unwrap_or(&line)),
                formats: FORMATS,
            });
        }
        let found = match runtime {
            Some(r) => r.parse(&line).map(|p| (r, p)),
            None => Runtime::ALL
                .iter()
                .find_map(|r| r.parse(&line).map(|p| (*r, p))),
        };
        let Some((this, mut parsed)) = found else {
            continue;
        };
        runtime = Some(this);
        if this == Runtime::Jvm {
            jvm::use_live(&mut parsed, &live);
        }
        if parsed.at_seconds.is_none() {
            return Err(GcLogError::NoClock {
                path: path.to_path_buf(),
                line: count,
                log: this.log_name(),
            });
        }
        // The text of the lines that are (or may turn out to be) floors only: a long log's
        // young pauses are counted, not kept.
        let keep = parsed.floor || (this == Runtime::Jvm && jvm::may_end_a_cycle(&parsed.kind));
        collections.push(Collection {
            parsed,
            line: count,
            text: keep.then_some(line),
        });
    }
    let Some(runtime) = runtime else {
        return Err(match start {
            None => GcLogError::Empty {
                path: path.to_path_buf(),
            },
            Some(first) => GcLogError::UnknownFormat {
                path: path.to_path_buf(),
                start: shorten(&first),
                formats: FORMATS,
            },
        });
    };
    if runtime == Runtime::Jvm {
        jvm::mark_cycle_ends(&mut collections);
    }
    for c in &mut collections {
        if !c.parsed.floor {
            c.text = None;
        }
    }
    Ok((
        runtime,
        LogFile {
            path: path.to_path_buf(),
            size_bytes: lines.size_bytes,
            gzip: lines.gzip,
            lines: count,
            collections,
        },
    ))
}

/// The start of a line for a message: at most 60 characters, control characters shown
/// escaped, quoted.
fn shorten(line: &str) -> String {
    let cut: String = line.chars().take(60).collect();
    let more = if line.chars().count() > 60 { "…" } else { "" };
    format!("{:?}{more}", cut)
}

/// `path` shortened for the quotes: the file name.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `text` (a decimal number) times 10^`exponent`, as the nearest double: `21.484` ms
/// read as `21.484e-3` s is 0.021484, where dividing by 1e3 would print 0.021484000000000003.
pub(crate) fn scaled(text: &str, exponent: i32) -> Option<f64> {
    format!("{text}e{exponent}").parse().ok()
}

/// A size with its unit letter (`B`, `K`, `M`, `G`, `T`; binary, as every runtime's log
/// means them) in bytes.
pub(crate) fn bytes_of(value: f64, unit: &str) -> u64 {
    let scale = match unit {
        "K" | "KB" => 1024.0,
        "M" | "MB" => 1024.0 * 1024.0,
        "G" | "GB" => 1024.0 * 1024.0 * 1024.0,
        "T" | "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => 1.0,
    };
    (value * scale).round() as u64
}
