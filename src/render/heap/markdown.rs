//! The heap report's Markdown: the report template's Investigation Steps and Appendix,
//! one handlebars partial per section (`templates/heap/*.hbs`), so that `attach` places
//! each section in a draft. The partials only lay out what [`super::view`] formats.

use super::view::view;
use crate::heap::model::HeapReport;
use handlebars::Handlebars;

/// The report template's sections this command fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    ToolsUsed,
    SnapshotsCollected,
    Method,
    Findings,
    LeakedObject,
    RetainerPath,
    Warnings,
    Pattern,
    FixStrategy,
    AppendixFiles,
    VulnerableCode,
    WhyLeaks,
}

impl Section {
    pub const ALL: [Section; 12] = [
        Section::ToolsUsed,
        Section::SnapshotsCollected,
        Section::Method,
        Section::Findings,
        Section::LeakedObject,
        Section::RetainerPath,
        Section::Warnings,
        Section::Pattern,
        Section::FixStrategy,
        Section::AppendixFiles,
        Section::VulnerableCode,
        Section::WhyLeaks,
    ];
    fn partial(self) -> &'static str {
        match self {
            Section::ToolsUsed => "heap/tools-used",
            Section::SnapshotsCollected => "heap/snapshots-collected",
            Section::Method => "heap/method",
            Section::Findings => "heap/findings",
            Section::LeakedObject => "heap/leaked-object",
            Section::RetainerPath => "heap/retainer-path",
            Section::Warnings => "heap/warnings",
            Section::Pattern => "heap/pattern",
            Section::FixStrategy => "heap/fix-strategy",
            Section::AppendixFiles => "heap/appendix-files",
            Section::VulnerableCode => "heap/vulnerable-code",
            Section::WhyLeaks => "heap/why-leaks",
        }
    }
}

const PARTIALS: [(&str, &str); 13] = [
    (
        "heap/vulnerable-code",
        include_str!("../../../templates/heap/vulnerable-code.md.hbs"),
    ),
    (
        "heap/why-leaks",
        include_str!("../../../templates/heap/why-leaks.md.hbs"),
    ),
    (
        "heap/pattern",
        include_str!("../../../templates/heap/pattern.md.hbs"),
    ),
    (
        "heap/fix-strategy",
        include_str!("../../../templates/heap/fix-strategy.md.hbs"),
    ),
    (
        "heap/tools-used",
        include_str!("../../../templates/heap/tools-used.md.hbs"),
    ),
    (
        "heap/snapshots-collected",
        include_str!("../../../templates/heap/snapshots-collected.md.hbs"),
    ),
    (
        "heap/method",
        include_str!("../../../templates/heap/method.md.hbs"),
    ),
    (
        "heap/findings",
        include_str!("../../../templates/heap/findings.md.hbs"),
    ),
    (
        "heap/leaked-object",
        include_str!("../../../templates/heap/leaked-object.md.hbs"),
    ),
    (
        "heap/retainer-path",
        include_str!("../../../templates/heap/retainer-path.md.hbs"),
    ),
    (
        "heap/warnings",
        include_str!("../../../templates/heap/warnings.md.hbs"),
    ),
    (
        "heap/appendix-files",
        include_str!("../../../templates/heap/appendix-files.md.hbs"),
    ),
    (
        "heap/report",
        include_str!("../../../templates/heap/report.md.hbs"),
    ),
];

/// The one registry (`render::registry`: strict, no escaping, the units helpers) with
/// the heap's partials, each also a template of its own name.
fn registry() -> Handlebars<'static> {
    let mut hb = crate::render::registry::registry(&PARTIALS);
    for (name, text) in PARTIALS {
        hb.register_template_string(name, text)
            .expect("built-in heap templates parse");
    }
    hb
}

/// The whole Markdown: the Investigation Steps and the Appendix's files.
pub fn markdown(report: &HeapReport) -> String {
    registry()
        .render("heap/report", &view(report))
        .expect("built-in heap templates render")
}

/// One section, for placing into a draft.
pub fn section(report: &HeapReport, section: Section) -> String {
    registry()
        .render(section.partial(), &view(report))
        .expect("built-in heap templates render")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::model::Technique;
    use crate::heap::model::{Format, Pattern, PatternKind, SnapshotInfo, Step, Suspect};
    use crate::render::heap::view::path_lines;

    fn report() -> HeapReport {
        let step = |edge: Option<&str>, node: &str, id| Step {
            node: node.into(),
            edge: edge.map(str::to_string),
            edge_type: edge.map(|_| "property".to_string()),
            id,
            location: None,
        };
        let mut report = HeapReport {
            schema: crate::heap::model::SCHEMA_ID,
            format: Format::V8,
            snapshots: vec![SnapshotInfo {
                path: "/x/a.heapsnapshot".into(),
                size_bytes: 2_500_000,
                gzip: false,
                total_heap_bytes: 1,
                objects: 1,
                taken_at: None,
                taken_at_source: None,
                location: "/x/a.heapsnapshot".into(),
                max_object_id: Some(1),
            }],
            sample_types: None,
            ids_comparable: true,
            growing: Vec::new(),
            top_consumers: Vec::new(),
            suspects: vec![Suspect {
                name: "Item".into(),
                count: 4,
                retained_bytes: 10,
                retained_growth_bytes: 10,
                retainer_path: vec![
                    step(None, "global", 1),
                    step(Some("next"), "Item", 3),
                    step(Some("next"), "Item", 5),
                    step(Some("next"), "Item", 7),
                    step(Some("next"), "Item", 9),
                ],
                path_count: 4,
                pattern: Pattern {
                    kind: PatternKind::Unknown,
                    based_on: "x".into(),
                },
                stack: None,
                location: None,
            }],
            warnings: vec!["careful".into()],
            technique: Technique::ThreeSnapshot,
            leaked_object: None,
            hints: Vec::new(),
            tool: Format::V8.tool(),
            root_cause: None,
            id_check: None,
        };
        report.decide();
        report
    }

    #[test]
    fn every_section_is_part_of_the_whole_report() {
        let r = report();
        let whole = markdown(&r);
        for s in Section::ALL {
            let text = section(&r, s);
            if matches!(s, Section::VulnerableCode | Section::WhyLeaks) {
                // Without a code location there is no root cause to show.
                assert!(r.root_cause.is_none() && text.trim().is_empty(), "{s:?}");
                continue;
            }
            assert!(!text.trim().is_empty(), "{s:?}");
            assert!(whole.contains(text.trim()), "{s:?} missing from the report");
        }
        assert!(whole.contains("(2.5 MB file) - /x/a.heapsnapshot"));
        assert!(whole.contains("- a.heapsnapshot - /x/a.heapsnapshot (2.5 MB file)"));
    }

    #[test]
    fn runs_of_identical_steps_are_shortened() {
        let lines = path_lines(&report().suspects[0].retainer_path);
        assert_eq!(
            lines,
            [
                "global @1",
                "→ next: Item @3",
                "→ … 2 more of the same …",
                "→ next: Item @9"
            ]
        );
    }
}
