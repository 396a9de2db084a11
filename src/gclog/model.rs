//! The serializable result of `leakcollect gclog` (JSON schema `schema/gclog.schema.json`,
//! id `leakcollect/gclog/v1`), read by every renderer (`render::gclog`). Bytes are bytes,
//! seconds are seconds. Every decision a sentence states is a field here — the runtime,
//! which collections make the floor, the verdict, the Tools Used box to tick — computed
//! in `analysis::gclog::gc_log_report`; renderers only format.

use super::Runtime;
use serde::Serialize;

pub const SCHEMA_ID: &str = "leakcollect/gclog/v1";

#[derive(Debug, Clone, Serialize)]
pub struct GcLogReport {
    pub schema: &'static str,
    pub runtime: Runtime,
    /// In the order given (oldest first).
    pub files: Vec<LogFile>,
    /// Process lifetimes: a clock that goes back, another Node.js pid, or a JVM's
    /// `GC(0)` / Go's `gc 1` after other collections starts a new one.
    pub processes: usize,
    /// Seconds from the first to the last collection read, with the gaps between
    /// processes left out (their clocks are each their own).
    pub span_seconds: f64,
    /// Every collection read.
    pub collections: usize,
    /// By kind, in the order each kind first appears.
    pub kinds: Vec<KindSummary>,
    /// Which collections' "after" figure makes the floor.
    pub floor_basis: FloorBasis,
    /// The heap left after each of those collections, oldest first.
    pub floor: Vec<FloorPoint>,
    /// The floor's trend; null slope with fewer than two points a lifetime.
    pub trend: Trend,
    pub verdict: Verdict,
    /// The thresholds `verdict` applied.
    pub verdict_rule: VerdictRule,
    /// The first, middle and last floor collections, quoted verbatim.
    pub evidence: Vec<Quote>,
    /// The Tools Used box of the team template these logs tick.
    pub tool: ToolBox,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogFile {
    /// As given.
    pub path: String,
    /// The file name, as the quotes name it.
    pub name: String,
    pub size_bytes: u64,
    pub gzip: bool,
    /// Lines read (after decompression).
    pub lines: usize,
    /// Collections read from it.
    pub collections: usize,
    /// Whether its clock continues the previous file's (a rotated log of one process).
    pub continues_previous: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindSummary {
    /// As the runtime names it, without the cause (`Pause Young (Normal)`, `Scavenge`,
    /// `GC (forced)`).
    pub kind: String,
    /// Whether collections of this kind make the floor.
    pub floor: bool,
    pub count: usize,
    /// Stop-the-world pause, nearest-rank 95th percentile; null for kinds the log gives
    /// no pause for (concurrent cycles).
    pub pause_p95_seconds: Option<f64>,
    pub pause_max_seconds: Option<f64>,
}

/// Which collections' "after" figure is the live-heap floor, by runtime.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FloorBasis {
    /// Node.js: each Mark-Compact (full, old space included); Scavenges only empty the
    /// young generation.
    NodeMarkCompact,
    /// JVM: each Pause Full, and the end of each whole-heap concurrent cycle the log
    /// shows: G1's last mixed pause of a mixed phase, a ZGC cycle, Shenandoah's cleanup.
    JvmFullAndCycleEnd,
    /// Go: each collection (Go's collector is not generational), its live heap marked
    /// (the C of A->B->C).
    GoLiveHeap,
}

#[derive(Debug, Clone, Serialize)]
pub struct FloorPoint {
    /// Seconds on the combined timeline (first collection at its own log time).
    pub at_seconds: f64,
    pub bytes: u64,
    /// Index into `files`.
    pub file: usize,
    /// 1-based line number in that file.
    pub line: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    /// Theil–Sen slope of the floor per process lifetime, weighted by lifetime length.
    pub bytes_per_hour: Option<f64>,
    /// Sen's 95 % interval of that slope.
    pub interval_bytes_per_hour: Option<[f64; 2]>,
    /// Seconds the fitted lifetimes cover (the span the rate is taken over).
    pub fitted_seconds: f64,
    /// Floor collections in the fitted lifetimes (3 or more floor collections each).
    pub fitted_points: usize,
    /// The slope times `fitted_seconds`: how much the floor rose over the log.
    pub rise_bytes: Option<f64>,
    pub first_bytes: Option<u64>,
    pub last_bytes: Option<u64>,
    /// The lowest and highest floor.
    pub min_bytes: Option<u64>,
    pub max_bytes: Option<u64>,
}

/// The leak verdict from the floor's trend (`analysis::gclog::verdict`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The 95 % interval is above zero and the floor rose by at least
    /// `analysis::gclog::MIN_RISE_SHARE` of its first value (and 1 MB): leak evidence.
    Rising,
    /// Anything else with enough collections.
    Flat,
    /// Fewer floor collections than `analysis::gclog::MIN_FLOOR_POINTS`.
    TooFewCollections,
}

/// The thresholds of the verdict, so every sentence states the rule that was applied.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct VerdictRule {
    /// Fewer floor collections (in lifetimes that can be fitted) are too few.
    pub min_floor_points: usize,
    /// A rising floor rises by at least this share of its first value …
    pub min_rise_share: f64,
    /// … and at least this many bytes.
    pub min_rise_bytes: f64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum QuoteRole {
    First,
    Middle,
    Last,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub role: QuoteRole,
    /// The file's name.
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// The line exactly as the log has it.
    pub text: String,
    /// The floor it shows.
    pub bytes: u64,
}

/// The team template's Tools Used box the logs tick.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ToolBox {
    /// "Node.js `--trace-gc` logs".
    NodeTraceGc,
    /// "Other: JVM GC log".
    OtherJvmGcLog,
    /// "Other: Go gctrace".
    OtherGoGctrace,
}
