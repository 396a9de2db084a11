//! The serializable result of `leakcollect heap` (JSON schema `schema/heap.schema.json`,
//! id `leakcollect/heap/v1`), read by every renderer. Bytes are bytes; counts are counts.

use serde::Serialize;

pub const SCHEMA_ID: &str = "leakcollect/heap/v1";

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum Format {
    #[serde(rename = "v8-heapsnapshot")]
    V8,
    #[serde(rename = "pprof")]
    Pprof,
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
    /// Whether the three-snapshot technique could be used (V8, ids shared).
    pub ids_comparable: bool,
    /// Classes (V8) or allocation sites (pprof) whose count or bytes grew first→last; V8
    /// by retained growth, pprof by bytes growth.
    pub growing: Vec<Growing>,
    /// The largest consumers in the last snapshot (V8: by retained size).
    pub top_consumers: Vec<Consumer>,
    pub suspects: Vec<Suspect>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub path: String,
    pub size_bytes: u64,
    pub gzip: bool,
    /// Live bytes: V8's sum of self sizes; pprof's in-use bytes.
    pub total_heap_bytes: u64,
    pub objects: u64,
    /// When the file says when it was taken (Node's and DevTools' default file names,
    /// pprof's `time_nanos`); null otherwise.
    pub taken_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_object_id: Option<u64>,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Consumer {
    pub name: String,
    pub count: u64,
    pub self_bytes: u64,
    pub retained_bytes: u64,
    pub retainer_path: Vec<Step>,
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
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PatternKind {
    EventEmitterListeners,
    Timers,
    OpenHandles,
    MapSetCache,
    ObjectCache,
    ClosureContext,
    Unknown,
}

impl PatternKind {
    pub fn describe(self) -> &'static str {
        match self {
            PatternKind::EventEmitterListeners => "EventEmitter listeners never removed",
            PatternKind::Timers => "timers never cleared",
            PatternKind::OpenHandles => "sockets or handles left open",
            PatternKind::MapSetCache => "an unbounded Map/Set cache",
            PatternKind::ObjectCache => "an unbounded object used as a cache",
            PatternKind::ClosureContext => "closures retaining their context",
            PatternKind::Unknown => "no known pattern",
        }
    }
}

/// A hint, not a verdict: `based_on` says which part of the evidence suggested it.
#[derive(Debug, Clone, Serialize)]
pub struct Pattern {
    pub kind: PatternKind,
    pub based_on: String,
}
