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
    ImpactGrowth,
    ImpactOom,
    ImpactDuration,
    FixDeployed,
    Status,
    Timeline,
    Symptoms,
    HowDiscovered,
    MonitoringData,
    ExampleMetrics,
    PerInstance,
    LeakByRoute,
    ReproductionStep,
    LoadTest,
    DeploymentTime,
    Environment,
    RolloutStrategy,
    BeforeFix,
    AfterFix,
    Improvement,
    PrometheusQueries,
    Warnings,
    PreventiveAlerts,
    QueryLinks,
    KeyPanels,
    GrafanaLink,
    MemoryChart,
    GcChart,
    NextReview,
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
    /// Grafana Explore links (`--grafana-url`).
    Explore,
    /// `validate`'s verdict.
    Validation,
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
    },
    OwnedLine {
        key: "alert-rule",
        starts: "Alert rule:",
        contains: &["(leakcollect"],
        placeholder: Some("Alert rule:"),
    },
];

const TIMELINE_OWNED: &[OwnedLine] = &[
    OwnedLine {
        key: "detection",
        starts: "",
        contains: &["| Detection |", "leakcollect)"],
        placeholder: Some("| [HH:MM] | Detection |"),
    },
    OwnedLine {
        key: "fix",
        starts: "",
        contains: &["| Fix deployed |"],
        placeholder: None,
    },
    OwnedLine {
        key: "validation",
        starts: "",
        contains: &["| Validation complete |", "leakcollect validate"],
        placeholder: Some("| [HH:MM] | Validation complete |"),
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
    block(
        B::ImpactDuration,
        "impact-duration",
        partial!("impact-duration"),
        W::Evidence,
        N::Nothing,
        lines("- Duration:", 1),
    ),
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
    block(
        B::LoadTest,
        "load-test",
        partial!("load-test"),
        W::Evidence,
        N::Nothing,
        Fence("- Memory after 1000 requests:"),
    ),
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
    block(
        B::ValidationRuns,
        "validation-runs",
        partial!("validation-runs"),
        W::Validate,
        N::Validation,
        After(B::Improvement),
    ),
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
