//! The serializable result of `leakcollect heap` (JSON schema `schema/heap.schema.json`,
//! id `leakcollect/heap/v1`), read by every renderer (`render::heap`). Bytes are bytes;
//! counts are counts. Every decision is a field here (the technique used, which suspect
//! is the leaked object, the pattern hints and the Fix Strategy box each would tick), so
//! a renderer only formats; no text for people is made here except the evidence a hint
//! or a warning is based on.

use serde::Serialize;

pub const SCHEMA_ID: &str = "leakcollect/heap/v1";

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum Format {
    #[serde(rename = "v8-heapsnapshot")]
    V8,
    #[serde(rename = "pprof")]
    Pprof,
    /// V8 sampling heap profiles (`.heapprofile`: `node --heap-prof`, the inspector's
    /// `HeapProfiler.getSamplingProfile`, DevTools' "Allocation sampling").
    #[serde(rename = "v8-heapprofile")]
    V8Sampling,
    /// Scalene's JSON profile (`scalene run -o profile.json`).
    #[serde(rename = "scalene")]
    Scalene,
    /// JVM heap dumps (HPROF 1.0.1/1.0.2).
    #[serde(rename = "hprof")]
    Hprof,
}

/// Where in the code an entry was allocated, for formats that know code positions:
/// pprof (the leaf frame's line), V8 sampling profiles (the function's position, made
/// 1-based), Scalene (the line).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CodeLocation {
    /// As the profile names it (an absolute path, a `file://` URL made a path).
    pub file: String,
    /// 1-based.
    pub line: u32,
    pub function: String,
}

impl CodeLocation {
    /// `file:line` with the file's last component, as the Markdown shows it next to a name.
    pub fn short(&self) -> String {
        let name = self.file.rsplit(['/', '\\']).next().unwrap_or(&self.file);
        format!("{name}:{}", self.line)
    }
}

/// The Tools Used box a heap report ticks, by what its files are.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ToolTick {
    /// "Chrome DevTools heap snapshots".
    DevtoolsSnapshots,
    /// "Python Scalene profiling".
    Scalene,
    /// "Other:", naming the format (pprof, V8 sampling heap profiles).
    Other,
}

impl Format {
    /// The Tools Used box files of this format tick.
    pub fn tool(self) -> ToolTick {
        match self {
            Format::V8 => ToolTick::DevtoolsSnapshots,
            Format::Scalene => ToolTick::Scalene,
            Format::Pprof | Format::V8Sampling | Format::Hprof => ToolTick::Other,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HeapReport {
    pub schema: &'static str,
    pub format: Format,
    /// In the order given (oldest first), checked where the format allows.
    pub snapshots: Vec<SnapshotInfo>,
    /// For pprof: the sample types compared (`inuse_space`/`inuse_objects` or `space`/`objects`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_types: Option<Vec<String>>,
    /// Whether objects were compared by id (V8 with two or more snapshots: always, since
    /// snapshots of different processes are refused).
    pub ids_comparable: bool,
    /// Classes (V8) or allocation sites (pprof) whose count or bytes grew first→last; V8
    /// by retained growth, pprof by bytes growth.
    pub growing: Vec<Growing>,
    /// The largest consumers in the last snapshot (V8: by retained size).
    pub top_consumers: Vec<Consumer>,
    pub suspects: Vec<Suspect>,
    pub warnings: Vec<String>,
    /// How objects were compared, and so what `Suspect::count` counts.
    pub technique: Technique,
    /// The suspect the report names as the leaked object (the first one: application
    /// classes before closures, by retained growth); null without suspects.
    pub leaked_object: Option<String>,
    /// The suspects' known patterns, one per pattern, in the suspects' order.
    pub hints: Vec<Hint>,
    /// HPROF with 2+ dumps: whether objects kept their ids (addresses) between
    /// consecutive dumps, which decides whether the three-dump set is computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_check: Option<IdCheck>,
    /// The Tools Used box these files tick.
    pub tool: ToolTick,
    /// The allocation site the Root Cause Analysis names, and why it leaks (generated);
    /// null when no entry has a code location.
    pub root_cause: Option<RootCause>,
}

/// What the Root Cause Analysis says: the allocation site, its code when `--source` was
/// given, and the three steps of Why This Leaks, each a decision made here.
#[derive(Debug, Clone, Serialize)]
pub struct RootCause {
    /// The entry (growing site, Scalene leak, or the largest consumer of one file).
    pub name: String,
    pub location: CodeLocation,
    /// Why this entry was chosen.
    pub basis: RootBasis,
    /// Growth of the entry first→last (bytes; Scalene: its growth over the run).
    pub growth_bytes: i64,
    /// Scalene's leak velocity (MB/s), when Scalene reported the line as a leak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub velocity_mb_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likelihood: Option<f64>,
    /// What holds the memory, from a V8 retainer path (the last named edge before the
    /// leaked object); null when the format records no retainers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<Step>,
    /// The suspect's pattern, when known.
    pub pattern: PatternKind,
    /// The Markdown fence's language for the site's file (`javascript`, `go`, `python`…;
    /// empty when the extension says nothing).
    pub language: String,
    /// The code around the allocation, from `--source DIR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceExcerpt>,
}

/// Why an entry is the Root Cause Analysis's allocation site.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RootBasis {
    /// The leaked object: the first suspect, growing at every file.
    Growing,
    /// A line Scalene's own leak detector reported.
    ScaleneLeak,
    /// One file only: the largest application entry (nothing compared).
    LargestOnly,
    /// V8 heap snapshots: the closure nearest the leaked object on its retainer path
    /// whose position the snapshot records (a listener, a callback) — the code that
    /// keeps it, not the code that allocates it.
    RetainerClosure,
}

/// Lines of the source file around an allocation site (`--source DIR`).
#[derive(Debug, Clone, Serialize)]
pub struct SourceExcerpt {
    /// Relative to DIR.
    pub path: String,
    /// The allocation's line (1-based), as in `location`.
    pub line: u32,
    /// 1-based number of `lines[0]`.
    pub first_line: u32,
    pub lines: Vec<String>,
}

/// How the files were compared; says what a suspect's `count` (the "leaked objects")
/// counts, next to `Growing::count_delta` (instances of the class, first→last).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// One V8 snapshot: what it holds, nothing compared.
    SingleSnapshot,
    /// V8, 3+ snapshots: leaked objects are those absent in the first snapshot, present
    /// in the second and still alive in the last.
    ThreeSnapshot,
    /// V8, 2 snapshots: leaked objects are those new in the second.
    NewInSecond,
    /// pprof: in-use objects and bytes per allocation site (flat), first→last; a
    /// suspect's count is its in-use objects' growth.
    PprofFlat,
    /// V8 sampling heap profiles: sampled live bytes per allocation site (self size),
    /// first→last; a suspect's count is its samples' growth.
    SamplingFlat,
    /// Scalene: per-line memory of one run; suspects are the lines Scalene's leak
    /// detector reported, ranked above lines that only allocate.
    ScaleneLines,
    /// HPROF whose objects moved between dumps (ids are addresses): no object is followed
    /// by id; a suspect's count is its class's instance growth first→last.
    InstanceGrowth,
}

/// The Fix Strategy box of the report template a pattern suggests ticking.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FixBox {
    RemoveListeners,
    CloseConnections,
    ClearTimers,
    WeakCache,
    Other,
}

/// One known pattern and the suspects whose retainer paths show it.
#[derive(Debug, Clone, Serialize)]
pub struct Hint {
    pub kind: PatternKind,
    pub suspects: Vec<String>,
    /// The first such suspect's evidence.
    pub based_on: String,
    pub fix: FixBox,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub path: String,
    pub size_bytes: u64,
    pub gzip: bool,
    /// Live bytes: V8's sum of self sizes; pprof's in-use bytes.
    pub total_heap_bytes: u64,
    pub objects: u64,
    /// When it was taken, as the file says (Node's and DevTools' default file names,
    /// pprof's `time_nanos`), else the file's modification time (RFC 3339, UTC); null
    /// only when neither is known.
    pub taken_at: Option<String>,
    /// Where `taken_at` comes from.
    pub taken_at_source: Option<TimeSource>,
    /// The file's absolute path (for the Appendix: where the file is).
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_object_id: Option<u64>,
}

/// Where a snapshot's time comes from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// Node's or DevTools' default file name (local time).
    FileName,
    /// The profile's own `time_nanos` (UTC).
    Profile,
    /// The HPROF header's time, when the JVM wrote the dump (UTC).
    DumpHeader,
    /// The file's modification time (UTC): when it was last written, which for a
    /// snapshot not copied since is when it was taken.
    FileModified,
}

#[derive(Debug, Clone, Serialize)]
pub struct Growing {
    pub name: String,
    pub count_delta: i64,
    pub bytes_delta: i64,
    pub count_first: u64,
    pub count_last: u64,
    pub bytes_first: u64,
    pub bytes_last: u64,
    /// V8 with 3+ snapshots: objects absent in the first, present in the second and
    /// alive in the last (with 2: new in the second). Null without comparable ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_between_first_two_alive_at_last: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retained_bytes_last: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retained_bytes_delta: Option<i64>,
    /// pprof: the allocation site's top stack frames, leaf first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<Vec<String>>,
    /// Where the site is in the code (formats that know code positions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<CodeLocation>,
    /// Scalene: the line's own figures and its leak report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scalene: Option<ScaleneLine>,
}

/// One line of a Scalene profile: its memory figures (MB as Scalene counts them, 2^20
/// bytes) and, when Scalene's leak detector reported it, the likelihood and velocity.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleneLine {
    pub malloc_mb: f64,
    pub peak_mb: f64,
    pub growth_mb: f64,
    pub mallocs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leak_likelihood: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leak_velocity_mb_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Consumer {
    pub name: String,
    pub count: u64,
    pub self_bytes: u64,
    pub retained_bytes: u64,
    pub retainer_path: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<CodeLocation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    pub name: String,
    /// Leaked objects: the three-snapshot set for V8 (the count delta without comparable
    /// ids); for pprof the in-use objects' growth.
    pub count: u64,
    pub retained_bytes: u64,
    pub retained_growth_bytes: i64,
    /// The representative shortest path from a GC root to one leaked object (V8), empty
    /// for pprof.
    pub retainer_path: Vec<Step>,
    /// How many of the leaked objects have a path of the same shape.
    pub path_count: u64,
    pub pattern: Pattern,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<CodeLocation>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Step {
    /// The node reached (class or function name, as in DevTools).
    pub node: String,
    /// The edge from the previous node: a property, `[N]`, a variable, V8's internal
    /// name; null for the first step (a root).
    pub edge: Option<String>,
    pub edge_type: Option<String>,
    pub id: u64,
    /// A closure's position, where the snapshot records it (its `locations`): DevTools'
    /// "Retainers" link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<CodeLocation>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PatternKind {
    EventEmitterListeners,
    Timers,
    OpenHandles,
    /// An Array held by a property of the global object or a scope's variable.
    GlobalCollection,
    MapSetCache,
    ObjectCache,
    ClosureContext,
    /// JVM: a collection held by a static field.
    StaticCollection,
    /// JVM: listeners or callbacks added and never removed.
    Listeners,
    /// JVM: values of a ThreadLocal on pooled threads, never removed.
    ThreadLocal,
    /// JVM: a cache without a bound or eviction.
    UnboundedCache,
    /// JVM: a class loader that is never released (with its classes).
    ClassLoader,
    /// JVM: objects held by finalizers or cleaners (resources never closed).
    Finalizer,
    Unknown,
}

impl PatternKind {
    /// What the pattern means, in the report's words (the Pattern line, the Root cause
    /// line and the TL;DR all say it so).
    pub fn text(self) -> &'static str {
        match self {
            PatternKind::EventEmitterListeners => "EventEmitter listeners never removed",
            PatternKind::Timers => "timers never cleared",
            PatternKind::OpenHandles => "sockets or handles left open",
            PatternKind::GlobalCollection => "a global or module-level Array that only grows",
            PatternKind::MapSetCache => "an unbounded Map/Set cache",
            PatternKind::ObjectCache => "an unbounded object used as a cache",
            PatternKind::ClosureContext => "closures retaining their context",
            PatternKind::StaticCollection => "a static collection that only grows",
            PatternKind::Listeners => "listeners never removed",
            PatternKind::ThreadLocal => "ThreadLocal values on pooled threads, never removed",
            PatternKind::UnboundedCache => "an unbounded cache",
            PatternKind::ClassLoader => "a class loader never released",
            PatternKind::Finalizer => "resources never closed, held by finalizers or cleaners",
            PatternKind::Unknown => "no known pattern",
        }
    }

    /// The Fix Strategy box this pattern suggests; none for an unknown one.
    pub fn fix(self) -> Option<FixBox> {
        match self {
            PatternKind::EventEmitterListeners => Some(FixBox::RemoveListeners),
            PatternKind::Timers => Some(FixBox::ClearTimers),
            PatternKind::OpenHandles => Some(FixBox::CloseConnections),
            PatternKind::MapSetCache | PatternKind::ObjectCache => Some(FixBox::WeakCache),
            PatternKind::GlobalCollection | PatternKind::ClosureContext => Some(FixBox::Other),
            PatternKind::Listeners => Some(FixBox::RemoveListeners),
            PatternKind::UnboundedCache => Some(FixBox::WeakCache),
            PatternKind::Finalizer => Some(FixBox::CloseConnections),
            PatternKind::StaticCollection | PatternKind::ThreadLocal | PatternKind::ClassLoader => {
                Some(FixBox::Other)
            }
            PatternKind::Unknown => None,
        }
    }
}

/// A hint, not a verdict: `based_on` says which part of the evidence suggested it.
#[derive(Debug, Clone, Serialize)]
pub struct Pattern {
    pub kind: PatternKind,
    pub based_on: String,
}

impl HeapReport {
    /// Fills the decisions every format shares from the suspects: the leaked object and
    /// the pattern hints (one per known pattern, with every suspect that shows it).
    pub fn decide(&mut self) {
        self.leaked_object = self.suspects.first().map(|s| s.name.clone());
        let mut hints: Vec<Hint> = Vec::new();
        for s in &self.suspects {
            let Some(fix) = s.pattern.kind.fix() else {
                continue;
            };
            match hints.iter_mut().find(|h| h.kind == s.pattern.kind) {
                Some(hint) => hint.suspects.push(s.name.clone()),
                None => hints.push(Hint {
                    kind: s.pattern.kind,
                    suspects: vec![s.name.clone()],
                    based_on: s.pattern.based_on.clone(),
                    fix,
                }),
            }
        }
        self.hints = hints;
        self.tool = self.format.tool();
    }
}

/// Whether objects can be followed by id through a series of JVM dumps: HPROF ids are
/// addresses, and a compacting collector moves objects.
#[derive(Debug, Clone, Serialize)]
pub struct IdCheck {
    /// Every consecutive pair kept its ids.
    pub stable: bool,
    pub pairs: Vec<IdPair>,
}

/// Sampled reachable objects of dump `from` (1-based) found again at the same id in
/// dump `to`: how many are other objects (another class or size) and how many refer to
/// other ids.
#[derive(Debug, Clone, Serialize)]
pub struct IdPair {
    pub from: usize,
    pub to: usize,
    pub sampled: u64,
    pub shared: u64,
    pub other: u64,
    pub changed: u64,
    pub stable: bool,
}
