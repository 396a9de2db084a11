//! The one table of report blocks: every block leakcollect writes — its id, the partial
//! that renders it, what it needs from the evidence, where it goes the first time in a
//! draft made from the team template, the lines it owns in a section people share, and
//! which command writes it. `render/` renders from it, `draft/` places and merges from it,
//! and the commands pick their blocks from it; no other file names a block.
//!
//! Anchors name the team template's own lines by a short key; the placeholder text a
//! draft must still have for a block to take its place is read from the template file
//! itself (`draft::place`), so a change to the template needs no change here unless a
//! key disappears (a unit test says so).

use serde::Serialize;

/// The team's report template, as shipped (`templates/team-report-template.md`).
pub const TEAM_TEMPLATE: &str = include_str!("../../templates/team-report-template.md");

/// Every block, in the order the table lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum BlockId {
    Params,
    Service,
    Date,
    Investigator,
    Severity,
    Tldr,
    ImpactGrowth,
    ImpactOom,
    AffectedUsers,
    ImpactDuration,
    RootCause,
    FixDeployed,
    Status,
    Timeline,
    Symptoms,
    SymptomOther,
    HowDiscovered,
    MonitoringData,
    ExampleMetrics,
    PerInstance,
    LeakByRoute,
    ReproductionStep,
    LoadTest,
    ReproductionTime,
    ReproductionSteps,
    DeploymentTime,
    Environment,
    RolloutStrategy,
    BeforeFix,
    AfterFix,
    Improvement,
    PrometheusQueries,
    Warnings,
    PreventiveAlerts,
    PoolAlert,
    DashboardItem,
    QueryLinks,
    KeyPanels,
    GrafanaLink,
    MemoryChart,
    GcChart,
    NextReview,
    ReportCompleted,
    SimilarIncidents,
    LessonsWentWell,
    LessonsWentWell2,
    LessonsCouldImprove,
    LessonsCouldImprove2,
    ValidationRuns,
    HeapTools,
    HeapSnapshots,
    HeapMethod,
    HeapFindings,
    HeapLeakedObject,
    HeapRetainerPath,
    HeapWarnings,
    HeapPattern,
    HeapFixStrategy,
    HeapFiles,
    GcLogs,
    HeapVulnerableCode,
    HeapWhyLeaks,
}

/// Which command writes a block into a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// `init` records the parameters; `attach` and `validate` update them.
    Params,
    /// Every command that reads Prometheus (`attach`, `validate --draft`, the report).
    Evidence,
    /// Only `validate`.
    Validate,
    /// `attach --heap` (and `heap`'s own report).
    Heap,
    /// `attach --gc-log` (and `gclog`'s own report).
    GcLog,
}

/// What a block needs from the evidence to say anything; without it the block is left
/// out (the team template's placeholder stays for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// A fix time (`--fix-deployed`).
    Fix,
    /// A fix, an alert that fired or a deployment in the window (the timeline's rows).
    TimelineRow,
    /// A detection figure.
    Detection,
    /// The fix found as a deployment in the series.
    FixDeployment,
    /// The fix found as a deployment whose namespaces are known.
    FixNamespaces,
    /// A chart written next to the report, by name.
    Chart(&'static str),
    /// Grafana Explore links (`--grafana-url`), or a dashboard link.
    Explore,
    /// A dashboard `leakcollect dashboard` wrote, by its uid.
    Dashboard,
    /// `validate`'s verdict.
    Validation,
    /// `init --investigator` (a draft).
    Investigator,
    /// A suggested severity (something leaked).
    Severity,
    /// The TL;DR's facts (something leaked).
    Tldr,
    /// Requests served in the leak period (a request counter).
    Affected,
    /// A reproduction time for the leak period (growth above a measured sawtooth).
    Reproduction,
    /// The heap evidence's cause (`attach --heap`, recorded in the draft).
    RootCause,
    /// Other drafts in the folder for the same service or pattern.
    SimilarIncidents,
    /// Suggested lessons: what went well, the first (0) or second (1).
    WentWell(usize),
    /// Suggested lessons: what could be improved, the first (0) or second (1).
    CouldImprove(usize),
    /// Per-route request counters in the leak period (figures or why they are missing).
    RouteCounters,
    /// A route whose requests retain memory in the leak period.
    RetainingRoute,
}

/// Where a block goes the first time, in a draft that does not have it yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `count` consecutive template lines, from the one that starts with `first`.
    Lines { first: &'static str, count: usize },
    /// `count` template lines from the one that starts with `first`, in the draft right
    /// after `block` (where the line is not unique: "- [ ] Other: ___" is in three lists).
    Following {
        block: BlockId,
        first: &'static str,
        count: usize,
    },
    /// `count` consecutive template lines ending with the one that starts with `last`
    /// (where the first line is not unique: "2. [Step 2]" is in two lists).
    Ending { last: &'static str, count: usize },
    /// The template's fenced code block with a line that starts with this.
    Fence(&'static str),
    /// The template's table with a row that starts with this.
    Table(&'static str),
    /// Right after another block.
    After(BlockId),
    /// Right after the draft's first line (its title).
    Top,
}

/// A line leakcollect owns in a block people also write in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnedLine {
    pub key: &'static str,
    /// The line starts with this ("" for any start) …
    pub starts: &'static str,
    /// … and contains all of these.
    pub contains: &'static [&'static str],
    /// The template's placeholder line (a key of one) a new owned line takes the place of.
    pub placeholder: Option<&'static str>,
    /// Written only in its placeholder's place: when a person already wrote that row
    /// (their own "Investigation started"), no generated one is added after it.
    pub only_in_place: bool,
}

impl OwnedLine {
    pub fn matches(&self, line: &str) -> bool {
        line.starts_with(self.starts) && self.contains.iter().all(|c| line.contains(c))
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub id: BlockId,
    /// The id in the draft's markers (`<!-- leakcollect:begin id=… -->`).
    pub name: &'static str,
    /// The handlebars partial (evidence and validation blocks; heap and params blocks
    /// are rendered by their own renderers).
    pub partial: Option<&'static str>,
    pub writer: Writer,
    pub needs: Needs,
    pub anchor: Anchor,
    /// Empty: the whole block is leakcollect's. Else only these lines are.
    pub owned: &'static [OwnedLine],
    /// Placed only where the template's placeholder still is: a line a person already
    /// wrote (their own TL;DR, severity, root cause) is theirs, and the generated one is
    /// not added elsewhere. Otherwise a block with no place goes under the Evidence heading.
    pub only_in_place: bool,
}

macro_rules! partial {
    ($file:literal) => {
        Some(include_str!(concat!(
            "../../templates/blocks/",
            $file,
            ".md.hbs"
        )))
    };
}

const fn block(
    id: BlockId,
    name: &'static str,
    partial: Option<&'static str>,
    writer: Writer,
    needs: Needs,
    anchor: Anchor,
) -> Block {
    Block {
        id,
        name,
        partial,
        writer,
        needs,
        anchor,
        owned: &[],
        only_in_place: false,
    }
}

/// A block placed only where its placeholder still is (see [`Block::only_in_place`]).
const fn in_place(b: Block) -> Block {
    Block {
        only_in_place: true,
        ..b
    }
}

const fn lines(first: &'static str, count: usize) -> Anchor {
    Anchor::Lines { first, count }
}

use Anchor::{After, Fence, Table, Top};
use BlockId as B;
use Needs as N;
use Writer as W;

const MONITORING_OWNED: &[OwnedLine] = &[
    OwnedLine {
        key: "query",
        starts: "Prometheus query:",
        contains: &[],
        placeholder: None,
        only_in_place: false,
    },
    OwnedLine {
        key: "alert-rule",
        starts: "Alert rule:",
        contains: &["(leakcollect"],
        placeholder: Some("Alert rule:"),
        only_in_place: true,
    },
    OwnedLine {
        key: "dashboard",
        starts: "Dashboard:",
        contains: &["(leakcollect)"],
        placeholder: Some("Dashboard:"),
        only_in_place: true,
    },
];

const TIMELINE_OWNED: &[OwnedLine] = &[
    OwnedLine {
        key: "detection",
        starts: "",
        contains: &["| Detection |", "leakcollect)"],
        placeholder: Some("| [HH:MM] | Detection |"),
        only_in_place: false,
    },
    OwnedLine {
        key: "investigation",
        starts: "",
        contains: &["| Investigation started |", "(leakcollect init"],
        placeholder: Some("| [HH:MM] | Investigation started |"),
        only_in_place: true,
    },
    OwnedLine {
        key: "root-cause",
        starts: "",
        contains: &["| Root cause identified |", "(leakcollect attach"],
        placeholder: Some("| [HH:MM] | Root cause identified |"),
        only_in_place: true,
    },
    OwnedLine {
        key: "fix",
        starts: "",
        contains: &["| Fix deployed |"],
        placeholder: None,
        only_in_place: false,
    },
    OwnedLine {
        key: "validation",
        starts: "",
        contains: &["| Validation complete |", "leakcollect validate"],
        placeholder: Some("| [HH:MM] | Validation complete |"),
        only_in_place: false,
    },
];

/// Every block. The report's and validate's blocks are written in this order.
pub const BLOCKS: &[Block] = &[
    block(B::Params, "params", None, W::Params, N::Nothing, Top),
    block(
        B::Service,
        "service",
        partial!("service"),
        W::Evidence,
        N::Nothing,
        lines("**Service**:", 1),
    ),
    block(
        B::Date,
        "date",
        partial!("date"),
        W::Evidence,
        N::Nothing,
        lines("**Date**:", 1),
    ),
    in_place(block(
        B::Investigator,
        "investigator",
        partial!("investigator"),
        W::Evidence,
        N::Investigator,
        lines("**Investigator**:", 1),
    )),
    in_place(block(
        B::Severity,
        "severity",
        partial!("severity"),
        W::Evidence,
        N::Severity,
        lines("**Severity**:", 1),
    )),
    in_place(block(
        B::Tldr,
        "tldr",
        partial!("tldr"),
        W::Evidence,
        N::Tldr,
        lines("**TL;DR**:", 1),
    )),
    block(
        B::ImpactGrowth,
        "impact-growth",
        partial!("impact-growth"),
        W::Evidence,
        N::Nothing,
        lines("- Memory growth:", 1),
    ),
    block(
        B::ImpactOom,
        "impact-oom",
        partial!("impact-oom"),
        W::Evidence,
        N::Nothing,
        lines("- OOM incidents:", 1),
    ),
    in_place(block(
        B::AffectedUsers,
        "affected-users",
        partial!("affected-users"),
        W::Evidence,
        N::Affected,
        lines("- Affected users:", 1),
    )),
    block(
        B::ImpactDuration,
        "impact-duration",
        partial!("impact-duration"),
        W::Evidence,
        N::Nothing,
        lines("- Duration:", 1),
    ),
    in_place(block(
        B::RootCause,
        "root-cause",
        partial!("root-cause"),
        W::Evidence,
        N::RootCause,
        lines("- Root cause:", 1),
    )),
    block(
        B::FixDeployed,
        "fix-deployed",
        partial!("fix-deployed"),
        W::Evidence,
        N::Fix,
        lines("- Fix deployed:", 1),
    ),
    block(
        B::Status,
        "status",
        partial!("status"),
        W::Evidence,
        N::Fix,
        lines("- Status:", 1),
    ),
    Block {
        owned: TIMELINE_OWNED,
        ..block(
            B::Timeline,
            "timeline",
            partial!("timeline"),
            W::Evidence,
            N::TimelineRow,
            Table("| [HH:MM] | Fix deployed |"),
        )
    },
    block(
        B::Symptoms,
        "symptoms",
        partial!("symptoms"),
        W::Evidence,
        N::Nothing,
        lines("- [ ] Linear memory growth", 5),
    ),
    in_place(block(
        B::SymptomOther,
        "symptom-other",
        partial!("symptom-other"),
        W::Evidence,
        N::Nothing,
        Anchor::Following {
            block: B::Symptoms,
            first: "- [ ] Other: ___",
            count: 1,
        },
    )),
    block(
        B::HowDiscovered,
        "how-discovered",
        partial!("how-discovered"),
        W::Evidence,
        N::Detection,
        lines("**How Discovered**:", 1),
    ),
    Block {
        owned: MONITORING_OWNED,
        ..block(
            B::MonitoringData,
            "monitoring-data",
            partial!("monitoring-data"),
            W::Evidence,
            N::Nothing,
            Fence("Prometheus query:"),
        )
    },
    block(
        B::ExampleMetrics,
        "example-metrics",
        partial!("example-metrics"),
        W::Evidence,
        N::Nothing,
        Fence("- Heap usage baseline:"),
    ),
    block(
        B::PerInstance,
        "per-instance",
        partial!("per-instance"),
        W::Evidence,
        N::Nothing,
        After(B::ExampleMetrics),
    ),
    block(
        B::LeakByRoute,
        "leak-by-route",
        partial!("leak-by-route"),
        W::Evidence,
        N::RouteCounters,
        After(B::PerInstance),
    ),
    block(
        B::ReproductionStep,
        "reproduction-step",
        partial!("reproduction-step"),
        W::Evidence,
        N::RetainingRoute,
        lines("1. [Step to reproduce leak in dev/staging]", 1),
    ),
    // Steps 2 and 3 of Reproduction Steps (step 1 is the route's).
    in_place(block(
        B::ReproductionSteps,
        "reproduction-steps",
        partial!("reproduction-steps"),
        W::Evidence,
        N::Reproduction,
        Anchor::Ending {
            last: "3. [Observed result: memory growth]",
            count: 2,
        },
    )),
    block(
        B::LoadTest,
        "load-test",
        partial!("load-test"),
        W::Evidence,
        N::Nothing,
        Fence("- Memory after 1000 requests:"),
    ),
    in_place(block(
        B::ReproductionTime,
        "reproduction-time",
        partial!("reproduction-time"),
        W::Evidence,
        N::Reproduction,
        lines("**Reproduction Time**:", 1),
    )),
    block(
        B::DeploymentTime,
        "deployment-time",
        partial!("deployment-time"),
        W::Evidence,
        N::Fix,
        lines("**Deployment Time**:", 1),
    ),
    block(
        B::Environment,
        "environment",
        partial!("environment"),
        W::Evidence,
        N::FixNamespaces,
        lines("**Environment**:", 1),
    ),
    block(
        B::RolloutStrategy,
        "rollout-strategy",
        partial!("rollout-strategy"),
        W::Evidence,
        N::FixDeployment,
        lines("**Rollout Strategy**:", 1),
    ),
    block(
        B::BeforeFix,
        "before-fix",
        partial!("before-fix"),
        W::Evidence,
        N::Nothing,
        Fence("Growth rate: Z MB/hour"),
    ),
    block(
        B::AfterFix,
        "after-fix",
        partial!("after-fix"),
        W::Evidence,
        N::Fix,
        Fence("Memory after 6h: X MB (stable!)"),
    ),
    block(
        B::Improvement,
        "improvement",
        partial!("improvement"),
        W::Evidence,
        N::Fix,
        lines("- Memory reduction:", 3),
    ),
    block(
        B::PrometheusQueries,
        "prometheus-queries",
        partial!("prometheus-queries"),
        W::Evidence,
        N::Nothing,
        Fence("rate(nodejs_heap_used_bytes"),
    ),
    block(
        B::Warnings,
        "warnings",
        partial!("warnings"),
        W::Evidence,
        N::Nothing,
        After(B::PrometheusQueries),
    ),
    block(
        B::PreventiveAlerts,
        "preventive-alerts",
        partial!("preventive-alerts"),
        W::Evidence,
        N::Nothing,
        lines("- [ ] Alert: Memory growth", 2),
    ),
    block(
        B::PoolAlert,
        "pool-alert",
        partial!("pool-alert"),
        W::Evidence,
        N::Nothing,
        lines("- [ ] Alert: Connection pool saturation", 1),
    ),
    block(
        B::DashboardItem,
        "dashboard-item",
        partial!("dashboard-item"),
        W::Evidence,
        N::Dashboard,
        lines("- [ ] Dashboard: Memory trend visualization", 1),
    ),
    block(
        B::QueryLinks,
        "query-links",
        partial!("query-links"),
        W::Evidence,
        N::Nothing,
        After(B::PrometheusQueries),
    ),
    block(
        B::KeyPanels,
        "key-panels",
        partial!("key-panels"),
        W::Evidence,
        N::Nothing,
        lines("- Heap usage trend:", 3),
    ),
    block(
        B::GrafanaLink,
        "grafana-link",
        partial!("grafana-link"),
        W::Evidence,
        N::Explore,
        lines("**Link**:", 1),
    ),
    block(
        B::MemoryChart,
        "memory-chart",
        partial!("memory-chart"),
        W::Evidence,
        N::Chart("memory"),
        After(B::PerInstance),
    ),
    block(
        B::GcChart,
        "gc-chart",
        partial!("gc-chart"),
        W::Evidence,
        N::Chart("gc"),
        After(B::Improvement),
    ),
    block(
        B::NextReview,
        "next-review",
        partial!("next-review"),
        W::Validate,
        N::Validation,
        lines("**Next Review**:", 1),
    ),
    in_place(block(
        B::ReportCompleted,
        "report-completed",
        partial!("report-completed"),
        W::Validate,
        N::Validation,
        lines("**Report Completed**:", 1),
    )),
    in_place(block(
        B::SimilarIncidents,
        "similar-incidents",
        partial!("similar-incidents"),
        W::Evidence,
        N::SimilarIncidents,
        lines("- **Similar Incidents**:", 1),
    )),
    block(
        B::ValidationRuns,
        "validation-runs",
        partial!("validation-runs"),
        W::Validate,
        N::Validation,
        After(B::Improvement),
    ),
    // One lesson per placeholder line: a second line only when there is a second lesson.
    in_place(block(
        B::LessonsWentWell,
        "lessons-went-well",
        partial!("lessons-went-well"),
        W::Evidence,
        N::WentWell(0),
        lines("- [Positive aspect 1]", 1),
    )),
    in_place(block(
        B::LessonsWentWell2,
        "lessons-went-well-2",
        partial!("lessons-went-well-2"),
        W::Evidence,
        N::WentWell(1),
        lines("- [Positive aspect 2]", 1),
    )),
    in_place(block(
        B::LessonsCouldImprove,
        "lessons-could-improve",
        partial!("lessons-could-improve"),
        W::Evidence,
        N::CouldImprove(0),
        lines("- [Improvement area 1]", 1),
    )),
    in_place(block(
        B::LessonsCouldImprove2,
        "lessons-could-improve-2",
        partial!("lessons-could-improve-2"),
        W::Evidence,
        N::CouldImprove(1),
        lines("- [Improvement area 2]", 1),
    )),
    block(
        B::HeapTools,
        "heap-tools",
        None,
        W::Heap,
        N::Nothing,
        lines("**Tools Used**:", 7),
    ),
    block(
        B::HeapSnapshots,
        "heap-snapshots",
        None,
        W::Heap,
        N::Nothing,
        lines("**Heap Snapshots Collected**:", 6),
    ),
    block(
        B::HeapMethod,
        "heap-method",
        None,
        W::Heap,
        N::Nothing,
        lines("**Method**:", 1),
    ),
    block(
        B::HeapFindings,
        "heap-findings",
        None,
        W::Heap,
        N::Nothing,
        lines("**Findings**:", 12),
    ),
    block(
        B::HeapLeakedObject,
        "heap-leaked-object",
        None,
        W::Heap,
        N::Nothing,
        lines("**Leaked Object**:", 1),
    ),
    block(
        B::HeapRetainerPath,
        "heap-retainer-path",
        None,
        W::Heap,
        N::Nothing,
        lines("**Retainer Path**:", 10),
    ),
    block(
        B::HeapWarnings,
        "heap-warnings",
        None,
        W::Heap,
        N::Nothing,
        After(B::HeapRetainerPath),
    ),
    block(
        B::HeapPattern,
        "heap-pattern",
        None,
        W::Heap,
        N::Nothing,
        lines("**Pattern**:", 1),
    ),
    block(
        B::HeapFixStrategy,
        "heap-fix-strategy",
        None,
        W::Heap,
        N::Nothing,
        lines("**Fix Strategy**:", 7),
    ),
    block(
        B::HeapFiles,
        "heap-files",
        None,
        W::Heap,
        N::Nothing,
        lines("### Heap Snapshot Files", 4),
    ),
    // Rendered by `render::gclog::appendix` (templates/gclog/appendix.md.hbs); the
    // Tools Used box the logs tick is a line of HeapTools, ticked there.
    block(
        B::GcLogs,
        "gc-logs",
        None,
        W::GcLog,
        N::Nothing,
        Fence("[Relevant GC log excerpts showing the leak]"),
    ),
    block(
        B::HeapVulnerableCode,
        "heap-vulnerable-code",
        None,
        W::Heap,
        N::Nothing,
        Fence("// [Brief explanation of why this leaks]"),
    ),
    block(
        B::HeapWhyLeaks,
        "heap-why-leaks",
        None,
        W::Heap,
        N::Nothing,
        lines("**Why This Leaks**:", 4),
    ),
];

/// Partials blocks share that are not blocks themselves: the timeline's Detection row,
/// which the report puts first in its table and the timeline block carries in a draft.
pub const SHARED_PARTIALS: &[(&str, &str)] = &[(
    "timeline-detection",
    include_str!("../../templates/blocks/timeline-detection.md.hbs"),
)];

impl BlockId {
    pub fn spec(self) -> &'static Block {
        BLOCKS
            .iter()
            .find(|b| b.id == self)
            .expect("every block id has a row in BLOCKS")
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The block whose markers carry `name`.
    pub fn from_name(name: &str) -> Option<BlockId> {
        BLOCKS.iter().find(|b| b.name == name).map(|b| b.id)
    }
}

/// The blocks a writer writes, in table order.
pub fn written_by(writer: Writer) -> impl Iterator<Item = &'static Block> {
    BLOCKS.iter().filter(move |b| b.writer == writer)
}

/// Every partial a template may include: the blocks' and the shared ones.
pub fn partials() -> Vec<(&'static str, &'static str)> {
    BLOCKS
        .iter()
        .filter_map(|b| b.partial.map(|p| (b.name, p)))
        .chain(SHARED_PARTIALS.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_has_one_row_and_one_name() {
        let mut names: Vec<&str> = BLOCKS.iter().map(|b| b.name).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "two rows share a name");
        for b in BLOCKS {
            assert_eq!(b.id.spec().name, b.name);
            assert_eq!(BlockId::from_name(b.name), Some(b.id));
        }
    }

    #[test]
    fn every_anchor_key_is_in_the_team_template() {
        let lines: Vec<&str> = TEAM_TEMPLATE.lines().collect();
        let has = |key: &str| lines.iter().any(|l| l.trim_start().starts_with(key));
        for b in BLOCKS {
            match b.anchor {
                Anchor::Lines { first, .. } => assert!(has(first), "{}: {first}", b.name),
                Anchor::Ending { last, .. } => assert!(has(last), "{}: {last}", b.name),
                Anchor::Following { block, first, .. } => {
                    assert!(has(first), "{}: {first}", b.name);
                    assert_ne!(block, b.id);
                }
                Anchor::Fence(key) | Anchor::Table(key) => assert!(has(key), "{}: {key}", b.name),
                Anchor::After(other) => assert_ne!(other, b.id),
                Anchor::Top => {}
            }
            for owned in b.owned {
                if let Some(p) = owned.placeholder {
                    assert!(has(p), "{}: {p}", b.name);
                }
            }
        }
    }

    #[test]
    fn evidence_blocks_have_partials() {
        for b in BLOCKS {
            let rendered_here = matches!(b.writer, Writer::Evidence | Writer::Validate);
            assert_eq!(b.partial.is_some(), rendered_here, "{}", b.name);
        }
    }
}
