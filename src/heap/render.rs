//! Rendering a [`HeapReport`]: JSON, and Markdown for the report template's
//! Investigation Steps and Appendix, one handlebars partial per section
//! (`templates/heap/*.hbs`) so that `attach` can later place each section in a draft.
//! Numbers are formatted here (MB = 10^6 bytes, as in the rest of the tool); templates
//! only lay text out.

use super::model::{Format, HeapReport, Step};
use handlebars::Handlebars;
use serde_json::{Value, json};

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
}

impl Section {
    pub const ALL: [Section; 10] = [
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
        }
    }
}

const PARTIALS: [(&str, &str); 11] = [
    (
        "heap/pattern",
        include_str!("../../templates/heap/pattern.md.hbs"),
    ),
    (
        "heap/fix-strategy",
        include_str!("../../templates/heap/fix-strategy.md.hbs"),
    ),
    (
        "heap/tools-used",
        include_str!("../../templates/heap/tools-used.md.hbs"),
    ),
    (
        "heap/snapshots-collected",
        include_str!("../../templates/heap/snapshots-collected.md.hbs"),
    ),
    (
        "heap/method",
        include_str!("../../templates/heap/method.md.hbs"),
    ),
    (
        "heap/findings",
        include_str!("../../templates/heap/findings.md.hbs"),
    ),
    (
        "heap/leaked-object",
        include_str!("../../templates/heap/leaked-object.md.hbs"),
    ),
    (
        "heap/retainer-path",
        include_str!("../../templates/heap/retainer-path.md.hbs"),
    ),
    (
        "heap/warnings",
        include_str!("../../templates/heap/warnings.md.hbs"),
    ),
    (
        "heap/appendix-files",
        include_str!("../../templates/heap/appendix-files.md.hbs"),
    ),
    (
        "heap/report",
        include_str!("../../templates/heap/report.md.hbs"),
    ),
];

fn registry() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.register_escape_fn(handlebars::no_escape);
    hb.set_strict_mode(true);
    for (name, text) in PARTIALS {
        hb.register_template_string(name, text)
            .expect("built-in heap templates parse");
        hb.register_partial(name, text)
            .expect("built-in heap templates parse");
    }
    hb
}

pub fn json(report: &HeapReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("the heap report serializes");
    text.push('\n');
    text
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

/// Megabytes (10^6 bytes), signed when asked.
pub fn mb(bytes: i64, signed: bool) -> String {
    let v = bytes as f64 / 1e6;
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 1.0 {
        1
    } else {
        3
    };
    if signed {
        format!("{v:+.digits$} MB")
    } else {
        format!("{v:.digits$} MB")
    }
}

/// A retainer path in the report's arrow format: the root's child, then one line per
/// edge, `→ edge: node @id`.
/// A run of identical steps (a linked list) shows its first and last step and how many
/// are left out.
pub fn path_lines(steps: &[Step]) -> Vec<String> {
    let line = |s: &Step| match &s.edge {
        None => format!("{} @{}", s.node, s.id),
        Some(edge) => format!("→ {edge}: {} @{}", s.node, s.id),
    };
    let same = |a: &Step, b: &Step| a.edge.is_some() && a.edge == b.edge && a.node == b.node;
    let mut lines = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let mut j = i + 1;
        while j < steps.len() && same(&steps[i], &steps[j]) {
            j += 1;
        }
        lines.push(line(&steps[i]));
        if j - i > 2 {
            lines.push(format!("→ … {} more of the same …", j - i - 2));
        }
        if j - i > 1 {
            lines.push(line(&steps[j - 1]));
        }
        i = j;
    }
    lines
}

fn one_line_path(steps: &[Step]) -> String {
    if steps.is_empty() {
        return "(no retainer path)".into();
    }
    steps
        .iter()
        .map(|s| match &s.edge {
            None => s.node.clone(),
            Some(edge) => format!("{edge}: {}", s.node),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn method(report: &HeapReport) -> String {
    let n = report.snapshots.len();
    match report.format {
        Format::V8 if n == 1 => "one V8 heap snapshot read by `leakcollect heap` (generated): classes by retained size (dominator tree over strong edges), shortest retainer paths from the GC roots; one snapshot cannot show growth.".into(),
        Format::V8 => format!(
            "{n} V8 heap snapshots compared by `leakcollect heap` (generated), as DevTools' Comparison view does: per-class instance and byte deltas first→last; {}; retained sizes from the dominator tree over strong edges; for each suspect the shortest retainer path from a GC root, the paths of all its leaked objects clustered by shape.",
            if report.ids_comparable {
                if n >= 3 {
                    "the three-snapshot technique (objects allocated between snapshots 1 and 2 and still alive in the last)"
                } else {
                    "objects new in the second snapshot (by object id)"
                }
            } else {
                "no object-id comparison (the files do not share ids)"
            }
        ),
        Format::Pprof => format!(
            "{n} pprof heap profile(s) compared by `leakcollect heap` (generated): in-use objects and bytes per allocation site (leaf function, as `go tool pprof -top` counts flat), first→last."
        ),
    }
}

/// The suspects' pattern hints (V8 only; known patterns only), one per pattern with the
/// suspects that show it, and which Fix Strategy box each would tick.
pub fn hints(report: &HeapReport) -> Value {
    use super::model::PatternKind;
    let mut hints: Vec<(PatternKind, Vec<&str>, &str)> = Vec::new();
    for s in &report.suspects {
        if s.pattern.kind == PatternKind::Unknown || report.format != Format::V8 {
            continue;
        }
        match hints
            .iter_mut()
            .find(|(kind, _, _)| *kind == s.pattern.kind)
        {
            Some((_, names, _)) => names.push(&s.name),
            None => hints.push((s.pattern.kind, vec![&s.name], &s.pattern.based_on)),
        }
    }
    let text = |kinds: &[PatternKind]| -> Option<String> {
        let found: Vec<String> = hints
            .iter()
            .filter(|(kind, _, _)| kinds.contains(kind))
            .map(|(kind, names, _)| format!("{} ({})", kind.describe(), names.join(", ")))
            .collect();
        (!found.is_empty()).then(|| found.join("; "))
    };
    json!({
        "any": !hints.is_empty(),
        "pattern": hints
            .iter()
            .map(|(kind, names, based_on)| format!("{} in {} — {based_on}", kind.describe(), names.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
        "listeners": text(&[PatternKind::EventEmitterListeners]),
        "connections": text(&[PatternKind::OpenHandles]),
        "timers": text(&[PatternKind::Timers]),
        "cache": text(&[PatternKind::MapSetCache, PatternKind::ObjectCache]),
        "other": text(&[PatternKind::ClosureContext]),
    })
}

fn view(report: &HeapReport) -> Value {
    let snapshots: Vec<Value> = report
        .snapshots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "number": i + 1,
                "taken_at": s.taken_at.clone().unwrap_or_else(|| "time not in the file".into()),
                "size": mb(s.size_bytes as i64, false),
                "heap": mb(s.total_heap_bytes as i64, false),
                "path": s.path,
                "name": super::file_name(std::path::Path::new(&s.path)),
                "gzip": s.gzip,
            })
        })
        .collect();
    let growing: Vec<Value> = report
        .growing
        .iter()
        .take(10)
        .map(|g| {
            let note = match (
                g.allocated_between_first_two_alive_at_last,
                g.retained_bytes_delta,
            ) {
                (Some(n), Some(r)) => format!(
                    "[{n} allocated between snapshots 1 and 2 still alive; retained {}]",
                    mb(r, true)
                ),
                (None, Some(r)) => format!("[retained {}]", mb(r, true)),
                _ => g
                    .stack
                    .as_ref()
                    .map(|s| format!("[at {}]", s.join(" ← ")))
                    .unwrap_or_default(),
            };
            json!({
                "name": g.name,
                "count": format!("{:+}", g.count_delta),
                "bytes": mb(g.bytes_delta, true),
                "note": note,
            })
        })
        .collect();
    let consumers: Vec<Value> = report
        .top_consumers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "number": i + 1,
                "name": c.name,
                "bytes": mb(c.retained_bytes as i64, false),
                "path": if report.format == Format::Pprof { "allocated here (pprof has no retainers)".to_string() } else { one_line_path(&c.retainer_path) },
            })
        })
        .collect();
    let suspect = report.suspects.first();
    let leaked_object = match suspect {
        Some(s) => format!(
            "{} — {} leaked objects; {} {} ({} since the first) (generated{})",
            s.name,
            s.count,
            if report.format == Format::Pprof {
                "in use where it is allocated, in the last profile:"
            } else {
                "all objects of the class retain, in the last snapshot,"
            },
            mb(s.retained_bytes as i64, false),
            mb(s.retained_growth_bytes, true),
            if report.suspects.len() > 1 {
                format!(
                    "; other suspects: {}",
                    report.suspects[1..]
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                String::new()
            }
        ),
        None if report.snapshots.len() < 2 => "[one snapshot: nothing to compare]".into(),
        None => "[none found: no application class grew at every snapshot]".into(),
    };
    let v8_path = |s: &super::model::Suspect| {
        (
            path_lines(&s.retainer_path),
            format!(
                "generated: {} of the {} leaked {} have a path of this shape",
                s.path_count, s.count, s.name
            ),
            format!(
                "(generated hint) {} — {}. Say in your words what keeps them alive.",
                s.pattern.kind.describe(),
                s.pattern.based_on
            ),
        )
    };
    let other_paths: Vec<Value> = if report.format == Format::V8 {
        report
            .suspects
            .iter()
            .skip(1)
            .take(2)
            .map(|s| {
                let (lines, note, why) = v8_path(s);
                json!({ "name": s.name, "lines": lines, "note": note, "why": why })
            })
            .collect()
    } else {
        Vec::new()
    };
    let (path_lines, path_note, why) = match suspect {
        Some(s) if report.format == Format::V8 => v8_path(s),
        Some(s) => (
            s.stack
                .clone()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, f)| if i == 0 { format!("{f} (allocates)") } else { format!("← {f}") })
                .collect(),
            "generated: allocation stack, leaf first; pprof records no retainers".into(),
            "[pprof cannot say what retains the memory: take V8 heap snapshots or read the code at the allocation site]".into(),
        ),
        None => (Vec::new(), String::new(), "[no suspect]".into()),
    };
    json!({
        "v8": report.format == Format::V8,
        "files": report.snapshots.len(),
        "sample_types": report.sample_types.clone().unwrap_or_default().join(", "),
        "snapshots": snapshots,
        "method": method(report),
        "growing": growing,
        "growing_none": if report.snapshots.len() < 2 { "one snapshot: nothing to compare" } else { "none" },
        "consumers": consumers,
        "leaked_object": leaked_object,
        "path_lines": path_lines,
        "other_paths": other_paths,
        "path_note": path_note,
        "path_none": "[no retainer path]",
        "why": why,
        "warnings": report.warnings,
        "hints": hints(report),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::model::{Pattern, PatternKind, SnapshotInfo, Suspect};

    fn report() -> HeapReport {
        let step = |edge: Option<&str>, node: &str, id| Step {
            node: node.into(),
            edge: edge.map(str::to_string),
            edge_type: edge.map(|_| "property".to_string()),
            id,
        };
        HeapReport {
            schema: crate::heap::model::SCHEMA_ID,
            format: Format::V8,
            snapshots: vec![SnapshotInfo {
                path: "/x/a.heapsnapshot".into(),
                size_bytes: 2_500_000,
                gzip: false,
                total_heap_bytes: 1,
                objects: 1,
                taken_at: None,
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
            }],
            warnings: vec!["careful".into()],
        }
    }

    #[test]
    fn every_section_is_part_of_the_whole_report() {
        let r = report();
        let whole = markdown(&r);
        for s in Section::ALL {
            let text = section(&r, s);
            assert!(!text.trim().is_empty(), "{s:?}");
            assert!(whole.contains(text.trim()), "{s:?} missing from the report");
        }
        assert!(whole.contains("(2.5 MB file) - /x/a.heapsnapshot"));
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

    #[test]
    fn megabytes_are_decimal() {
        assert_eq!(mb(1_500_000, true), "+1.5 MB");
        assert_eq!(mb(-250_000, true), "-0.250 MB");
        assert_eq!(mb(123_456_789, false), "123 MB");
    }
}
