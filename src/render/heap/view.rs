//! The values the heap partials show, formatted from the model: figures in MB, paths in
//! the report's arrow format, and the words for the model's decisions (technique,
//! pattern kinds, Fix Strategy boxes). Every choice was made in `heap`; here it is only
//! put into words.

use super::mb;
use crate::heap::model::{FixBox, Format, HeapReport, PatternKind, SnapshotInfo, Step};
use crate::heap::model::{RootBasis, RootCause, Suspect, Technique, TimeSource, ToolTick};
use serde_json::{Value, json};

/// A retainer path in the report's arrow format: the root's child, then one line per
/// edge, `→ edge: node @id`.
/// A run of identical steps (a linked list) shows its first and last step and how many
/// are left out.
pub fn path_lines(steps: &[Step]) -> Vec<String> {
    let line = |s: &Step| {
        let at = s
            .location
            .as_ref()
            .map(|l| format!(" ({})", l.short()))
            .unwrap_or_default();
        match &s.edge {
            None => format!("{} @{}{at}", s.node, s.id),
            Some(edge) => format!("→ {edge}: {} @{}{at}", s.node, s.id),
        }
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

/// What a pattern kind means, in the report's words (one wording: the model's).
pub fn pattern_text(kind: PatternKind) -> &'static str {
    kind.text()
}

/// The Method line for JVM dumps.
fn hprof_method(report: &HeapReport) -> String {
    let n = report.snapshots.len();
    let ids = match report.technique {
        Technique::SingleSnapshot => {
            return "one JVM heap dump (HPROF) read by `leakcollect heap` (generated): classes by retained size (dominator tree over strong references, weak referents left out), paths from the GC roots in field names; one dump cannot show growth.".into();
        }
        Technique::ThreeSnapshot => {
            "objects followed by id, which the id check showed stable: the three-dump set (allocated between dumps 1 and 2 and still alive in the last)"
        }
        Technique::NewInSecond => {
            "objects followed by id, which the id check showed stable: objects new in dump 2"
        }
        _ => {
            "no object followed by id, since objects moved between dumps (HPROF ids are addresses): a suspect's count is its class's instance growth"
        }
    };
    format!(
        "{n} JVM heap dumps (HPROF) compared by `leakcollect heap` (generated), as Eclipse MAT's histogram comparison does: per-class instance and shallow-byte deltas first→last over reachable objects; {ids}; retained sizes from the dominator tree over strong references (weak referents left out); for each suspect the shortest path from a GC root (classes' static fields first) in field names, the paths of its objects clustered by shape."
    )
}

/// The Method line: what was compared, and how.
fn method(report: &HeapReport) -> String {
    if report.format == Format::Hprof {
        return hprof_method(report);
    }
    let n = report.snapshots.len();
    let ids = match report.technique {
        Technique::ThreeSnapshot => {
            "the three-snapshot technique (objects allocated between snapshots 1 and 2 and still alive in the last)"
        }
        Technique::NewInSecond => "objects new in the second snapshot (by object id)",
        Technique::SingleSnapshot => {
            return "one V8 heap snapshot read by `leakcollect heap` (generated): classes by retained size (dominator tree over strong edges), retainer paths from the GC roots; one snapshot cannot show growth.".into();
        }
        Technique::PprofFlat | Technique::InstanceGrowth => {
            return format!(
                "{n} pprof heap profile(s) compared by `leakcollect heap` (generated): in-use objects and bytes per allocation site (leaf function, as `go tool pprof -top` counts flat), first→last."
            );
        }
        Technique::SamplingFlat => {
            return format!(
                "{n} V8 sampling heap profile(s) read by `leakcollect heap` (generated): sampled live bytes per allocation site (the function allocating, summed over the call tree as DevTools' Bottom-up view does), first→last."
            );
        }
        Technique::ScaleneLines => {
            return "one Scalene profile read by `leakcollect heap` (generated): memory per line over the run (allocated, peak, growth); the lines Scalene's own leak detector reports rank first, by likelihood, then leak velocity.".into();
        }
    };
    format!(
        "{n} V8 heap snapshots compared by `leakcollect heap` (generated), as DevTools' Comparison view does: per-class instance and byte deltas first→last; {ids}; retained sizes from the dominator tree over strong edges; for each suspect a retainer path from a GC root (the fewest V8-internal and `__proto__`/`constructor` edges, then the fewest edges), the paths of all its leaked objects clustered by shape."
    )
}

/// The template's key for each Fix Strategy box.
fn fix_key(fix: FixBox) -> &'static str {
    match fix {
        FixBox::RemoveListeners => "listeners",
        FixBox::CloseConnections => "connections",
        FixBox::ClearTimers => "timers",
        FixBox::WeakCache => "cache",
        FixBox::Other => "other",
    }
}

/// The Pattern line and the Fix Strategy boxes' hints, from the model's hints.
pub fn hints(report: &HeapReport) -> Value {
    let mut view = json!({
        "any": !report.hints.is_empty(),
        "pattern": report
            .hints
            .iter()
            .map(|h| format!("{} ({}) — {}", pattern_text(h.kind), h.suspects.join(", "), h.based_on))
            .collect::<Vec<_>>()
            .join("; "),
    });
    for fix in [
        FixBox::RemoveListeners,
        FixBox::CloseConnections,
        FixBox::ClearTimers,
        FixBox::WeakCache,
        FixBox::Other,
    ] {
        let found: Vec<String> = report
            .hints
            .iter()
            .filter(|h| h.fix == fix)
            .map(|h| format!("{} ({})", pattern_text(h.kind), h.suspects.join(", ")))
            .collect();
        view[fix_key(fix)] = if found.is_empty() {
            Value::Null
        } else {
            Value::String(found.join("; "))
        };
    }
    view
}

/// When a snapshot was taken, and how that is known.
fn taken_at(s: &SnapshotInfo) -> String {
    match (&s.taken_at, s.taken_at_source) {
        (Some(t), Some(TimeSource::FileModified)) => {
            format!("{t} (the file's modification time, UTC)")
        }
        (Some(t), Some(TimeSource::DumpHeader)) => format!("{t} (the dump's header, UTC)"),
        (Some(t), _) => t.clone(),
        (None, _) => "time unknown (not in the file, no modification time)".into(),
    }
}

fn snapshots(report: &HeapReport) -> Vec<Value> {
    report
        .snapshots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "number": i + 1,
                "taken_at": taken_at(s),
                "location": s.location,
                "size": mb(s.size_bytes as i64, false),
                "heap": mb(s.total_heap_bytes as i64, false),
                "path": s.path,
                "name": crate::heap::file_name(std::path::Path::new(&s.path)),
                "gzip": s.gzip,
            })
        })
        .collect()
}

/// What a suspect's leaked objects are, by how the files were compared.
fn leaked_meaning(report: &HeapReport) -> String {
    let last = report.snapshots.len();
    match report.technique {
        Technique::ThreeSnapshot if report.format == Format::Hprof => {
            format!("allocated between dumps 1 and 2 and still alive in dump {last}")
        }
        Technique::NewInSecond if report.format == Format::Hprof => {
            "new in dump 2 (absent in dump 1)".into()
        }
        Technique::ThreeSnapshot => {
            format!("allocated between snapshots 1 and 2 and still alive in snapshot {last}")
        }
        Technique::NewInSecond => "new in snapshot 2 (absent in snapshot 1)".into(),
        Technique::PprofFlat => "the growth of the site's in-use objects".into(),
        Technique::SamplingFlat => "the growth of the site's samples".into(),
        Technique::ScaleneLines => "Scalene's allocation samples of the line".into(),
        Technique::SingleSnapshot => "none (one snapshot)".into(),
        Technique::InstanceGrowth => format!(
            "the class's instance growth, dump 1 → {last}; objects moved between dumps, so none is followed by id"
        ),
    }
}

/// The legend of the growing list: what its two counts are.
fn growing_legend(report: &HeapReport) -> String {
    let last = report.snapshots.len();
    if report.format == Format::Hprof {
        return match report.technique {
            Technique::ThreeSnapshot | Technique::NewInSecond => format!(
                "reachable instances of each class and their shallow size, dump 1 → {last}; in brackets the class's objects {} — the leaked objects, which can outnumber the net gain when others were freed — and its retained-size change",
                leaked_meaning(report)
            ),
            Technique::SingleSnapshot => {
                "reachable instances of each class and their shallow size".into()
            }
            _ => format!(
                "reachable instances of each class and their shallow size, dump 1 → {last}; in brackets its retained-size change"
            ),
        };
    }
    match report.technique {
        Technique::PprofFlat => {
            format!("in-use objects and bytes per allocation site, profile 1 → {last}")
        }
        Technique::SamplingFlat => {
            format!("samples and sampled live bytes per allocation site, profile 1 → {last}")
        }
        Technique::ScaleneLines => "per line over the run: Scalene's allocation samples and the line's memory growth (MB = 2^20 bytes in Scalene, shown here in 10^6 bytes); Scalene's leaks first".into(),
        Technique::SingleSnapshot => {
            format!("instances of each class and their self size, snapshot 1 → {last}")
        }
        _ => format!(
            "instances of each class and their self size, snapshot 1 → {last}; in brackets the class's objects {} — the leaked objects, which can outnumber the net gain when others were freed — and its retained-size change",
            leaked_meaning(report)
        ),
    }
}

fn growing_note(report: &HeapReport, g: &crate::heap::model::Growing) -> String {
    let unit = if report.format == Format::Hprof {
        "dump"
    } else {
        "snapshot"
    };
    match (
        g.allocated_between_first_two_alive_at_last,
        g.retained_bytes_delta,
    ) {
        (Some(n), Some(r)) if report.technique == Technique::NewInSecond => {
            format!("[{n} new in {unit} 2; retained {}]", mb(r, true))
        }
        (Some(n), Some(r)) => format!(
            "[{n} allocated between {unit}s 1 and 2 still alive; retained {}]",
            mb(r, true)
        ),
        (None, Some(r)) => format!("[retained {}]", mb(r, true)),
        _ => match &g.scalene {
            Some(l) => scalene_note(l),
            None => g
                .stack
                .as_ref()
                .map(|s| format!("[at {}]", s.join(" ← ")))
                .unwrap_or_default(),
        },
    }
}

/// Scalene's figures of a line: its leak report first, then what it allocated.
fn scalene_note(l: &crate::heap::model::ScaleneLine) -> String {
    let mib = |v: f64| v * 1_048_576.0;
    let leak = match (l.leak_likelihood, l.leak_velocity_mb_s) {
        (Some(p), Some(v)) => format!(
            "Scalene reports a leak: likelihood {}, {}/s; ",
            crate::units::percent(p * 100.0),
            crate::units::mb(mib(v))
        ),
        _ => String::new(),
    };
    format!(
        "[{leak}allocated {} over the run, peak {}]",
        crate::units::mb(mib(l.malloc_mb)),
        crate::units::mb(mib(l.peak_mb))
    )
}

/// `file:line` to show next to a name, unless the name already has it (two sites of
/// one function name are told apart by their place).
fn at(name: &str, location: Option<&crate::heap::model::CodeLocation>) -> Option<String> {
    let short = location?.short();
    (!name.contains(&short)).then_some(short)
}

/// What a file of the format is called in a sentence.
fn format_name(format: Format) -> &'static str {
    match format {
        Format::V8 => "V8 heap snapshot",
        Format::Pprof => "pprof profile",
        Format::V8Sampling => "V8 sampling heap profile",
        Format::Scalene => "Scalene profile",
        Format::Hprof => "JVM heap dump",
    }
}

/// What a growing entry's count counts.
fn count_unit(report: &HeapReport) -> &'static str {
    match report.technique {
        Technique::SamplingFlat => "samples",
        Technique::ScaleneLines => "allocation samples",
        Technique::PprofFlat => "objects",
        _ => "instances",
    }
}

/// The Tools Used boxes: which one the model ticks, and what "Other" names.
fn tools(report: &HeapReport) -> Value {
    let n = report.snapshots.len();
    let other = match report.format {
        Format::Pprof => format!(
            "pprof heap profiles ({n} file(s), sample types {}), read by `leakcollect heap`",
            report.sample_types.clone().unwrap_or_default().join(", ")
        ),
        Format::V8Sampling => {
            format!("V8 sampling heap profiles ({n} file(s)), read by `leakcollect heap`")
        }
        Format::Hprof => format!(
            "JVM heap dumps (HPROF, {n} file(s)), read by `leakcollect heap` as Eclipse MAT would"
        ),
        Format::V8 | Format::Scalene => String::new(),
    };
    json!({
        "devtools": report.tool == ToolTick::DevtoolsSnapshots,
        "scalene": report.tool == ToolTick::Scalene,
        "other": (report.tool == ToolTick::Other).then_some(other),
    })
}

/// The Vulnerable Code fence and the three steps of Why This Leaks, in words.
fn root(report: &HeapReport, r: &RootCause) -> Value {
    let at = match &r.source {
        Some(s) => format!("{}:{}", s.path, s.line),
        None => format!("{}:{}", r.location.file, r.location.line),
    };
    let short = r.location.short();
    let f = &r.location.function;
    let files = report.snapshots.len();
    let kind = format_name(report.format);
    // The entry's name when it says more than the function's.
    let what = if &r.name == f || r.name.starts_with(&format!("{f} (")) {
        String::new()
    } else {
        format!(" {}", r.name)
    };
    let first = match r.basis {
        RootBasis::Growing => format!(
            "`{f}` allocates{what} at {short}, and what it allocates grew at every {kind} ({} from file 1 to {files})",
            mb(r.growth_bytes, true)
        ),
        RootBasis::ScaleneLeak => format!(
            "`{f}` allocates at {short}, the line Scalene's leak detector reports (likelihood {})",
            crate::units::percent(r.likelihood.unwrap_or(0.0) * 100.0)
        ),
        RootBasis::LargestOnly => format!(
            "`{f}` allocates the most memory still alive in the one {kind} ({short}); one file cannot show that it grows"
        ),
        RootBasis::RetainerClosure => format!(
            "the closure `{f}` ({short}) is on the retainer path of the leaked {} objects and keeps them reachable",
            r.name
        ),
    };
    let subject = if r.basis == RootBasis::RetainerClosure {
        "the closure"
    } else {
        "what it allocates"
    };
    let second = match &r.held_by {
        Some(h) => format!(
            "{subject} is kept through `{}` ({}) and never released",
            h.edge.as_deref().unwrap_or("?"),
            h.node
        ),
        None => format!(
            "a {kind} records where memory was allocated, not what keeps it: find where `{f}` stores what it makes (a module-level collection, a listener, a cache) and whether anything ever removes it"
        ),
    };
    let third = match r.basis {
        RootBasis::Growing => format!(
            "memory accumulates: {} from the first to the last of the {files} files, growing at each",
            mb(r.growth_bytes, true)
        ),
        RootBasis::ScaleneLeak => format!(
            "memory accumulates at {}/s over the run (Scalene's leak velocity)",
            crate::units::mb(r.velocity_mb_s.unwrap_or(0.0) * 1_048_576.0)
        ),
        RootBasis::LargestOnly => {
            "take two or three profiles minutes apart under load to see whether it grows".into()
        }
        RootBasis::RetainerClosure => format!(
            "memory accumulates: the objects {} retains grew by {} from the first to the last of the {files} snapshots",
            r.name,
            mb(r.growth_bytes, true)
        ),
    };
    json!({
        "at": at,
        "function": f,
        "name": r.name,
        "note": if r.basis == RootBasis::RetainerClosure {
            format!("{}, kept reachable by the closure `{f}`", r.name)
        } else {
            format!("{}, allocated in `{f}`", r.name)
        },
        "language": r.language,
        "code": r.source.as_ref().map(|s| s.lines.clone()),
        "steps": [first, second, third],
        "kind": kind,
    })
}

fn growing(report: &HeapReport) -> Vec<Value> {
    report
        .growing
        .iter()
        .take(10)
        .map(|g| {
            json!({
                "name": g.name,
                "count": format!("{:+}", g.count_delta),
                "bytes": mb(g.bytes_delta, true),
                "note": growing_note(report, g),
                "at": at(&g.name, g.location.as_ref()),
            })
        })
        .collect()
}

fn consumers(report: &HeapReport) -> Vec<Value> {
    report
        .top_consumers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "number": i + 1,
                "name": c.name,
                "bytes": mb(c.retained_bytes as i64, false),
                "at": at(&c.name, c.location.as_ref()),
                "path": if report.format == Format::V8 { one_line_path(&c.retainer_path) } else { format!("allocated here (a {} records no retainers)", format_name(report.format)) },
            })
        })
        .collect()
}

/// The Leaked Object line: the suspect, what its leaked objects are next to the class's
/// instance growth, and what the class retains.
fn leaked_object(report: &HeapReport) -> String {
    if report.technique == Technique::ScaleneLines {
        return scalene_leak(report);
    }
    let Some(s) = main_suspect(report) else {
        return if report.snapshots.len() < 2 {
            "[one snapshot: nothing to compare]".into()
        } else {
            "[none found: no application class grew at every snapshot]".into()
        };
    };
    let others: Vec<&str> = report
        .suspects
        .iter()
        .filter(|o| o.name != s.name)
        .map(|o| o.name.as_str())
        .collect();
    format!(
        "{} — {} leaked objects ({}{}); {} {} ({} since the first) (generated{})",
        s.name,
        s.count,
        leaked_meaning(report),
        class_growth(report, s),
        match report.format {
            Format::Hprof => "all objects of the class retain, in the last dump,",
            Format::V8 => "all objects of the class retain, in the last snapshot,",
            _ => "in use where it is allocated, in the last profile:",
        },
        mb(s.retained_bytes as i64, false),
        mb(s.retained_growth_bytes, true),
        if others.is_empty() {
            String::new()
        } else {
            format!("; other suspects: {}", others.join(", "))
        }
    )
}

/// Scalene's leak, in its own figures: one run compares nothing, so no leaked-object
/// count, but the likelihood and velocity Scalene reports and what the line allocated.
fn scalene_leak(report: &HeapReport) -> String {
    let line = main_suspect(report).and_then(|s| {
        let g = report.growing.iter().find(|g| g.name == s.name)?;
        Some((s, g.scalene.as_ref()?))
    });
    let Some((s, l)) = line else {
        return "[Scalene's leak detector reported no line: see the lines that allocate most in Findings]".into();
    };
    let at = s
        .location
        .as_ref()
        .map(|l| format!(" ({})", l.short()))
        .unwrap_or_default();
    format!(
        "`{}`{at} — {} (generated from Scalene's leak detector)",
        s.name,
        scalene_note(l).trim_matches(['[', ']'])
    )
}

/// "; the class has +N instances from snapshot 1 to M, …" when that differs from the
/// leaked objects (V8 with object ids).
fn class_growth(report: &HeapReport, s: &Suspect) -> String {
    let ids = matches!(
        report.technique,
        Technique::ThreeSnapshot | Technique::NewInSecond
    );
    let unit = if report.format == Format::Hprof {
        "dump"
    } else {
        "snapshot"
    };
    let Some(g) = report.growing.iter().find(|g| g.name == s.name) else {
        return String::new();
    };
    if !ids {
        return String::new();
    }
    let last = report.snapshots.len();
    let after = if report.technique == Technique::ThreeSnapshot {
        format!(", those made after {unit} 2 included")
    } else {
        String::new()
    };
    format!(
        "; the class has {:+} instances from {unit} 1 to {last}{after}",
        g.count_delta
    )
}

/// The suspect the model names as the leaked object.
fn main_suspect(report: &HeapReport) -> Option<&Suspect> {
    let name = report.leaked_object.as_deref()?;
    report.suspects.iter().find(|s| s.name == name)
}

/// A suspect's retainer path lines (V8, HPROF), the note on its cluster and its "Why
/// Not GC'd" hint.
fn v8_path(report: &HeapReport, s: &Suspect) -> (Vec<String>, String, String) {
    let instances = report
        .growing
        .iter()
        .find(|g| g.name == s.name)
        .map_or(0, |g| g.count_last);
    (
        path_lines(&s.retainer_path),
        if report.technique == Technique::InstanceGrowth {
            format!(
                "generated: {} of the {instances} {} in the last dump have a path of this shape (objects moved between dumps, so all of them were clustered)",
                s.path_count, s.name
            )
        } else {
            format!(
                "generated: {} of the {} leaked {} have a path of this shape",
                s.path_count, s.count, s.name
            )
        },
        format!(
            "(generated hint) {} — {}. Say in your words what keeps them alive.",
            pattern_text(s.pattern.kind),
            s.pattern.based_on
        ),
    )
}

/// A pprof suspect's allocation stack, leaf first, in place of a retainer path.
fn pprof_stack(s: &Suspect) -> (Vec<String>, String, String) {
    (
        s.stack
            .clone()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, f)| match (i, &s.location) {
                (0, Some(l)) => format!("{f} ({}) (allocates)", l.short()),
                (0, None) => format!("{f} (allocates)"),
                _ => format!("← {f}"),
            })
            .collect(),
        "generated: allocation stack, leaf first; pprof records no retainers".into(),
        "[pprof cannot say what retains the memory: take V8 heap snapshots or read the code at the allocation site]".into(),
    )
}

/// A suspect of a format with neither stacks nor retainers: its site.
fn site_only(report: &HeapReport, s: &Suspect) -> (Vec<String>, String, String) {
    let at = s
        .location
        .as_ref()
        .map(|l| format!(" ({})", l.short()))
        .unwrap_or_default();
    (
        vec![format!("{}{at} (allocates)", s.name)],
        format!(
            "generated: the allocation site; a {} records no retainers",
            format_name(report.format)
        ),
        "[the profile cannot say what retains the memory: read the code at the allocation site (see Why This Leaks)]".into(),
    )
}

/// The paths of the suspects after the leaked object (at most two; V8 only).
fn other_paths(report: &HeapReport) -> Vec<Value> {
    if report.format == Format::Pprof {
        return Vec::new();
    }
    let main = report.leaked_object.as_deref();
    report
        .suspects
        .iter()
        .filter(|s| Some(s.name.as_str()) != main)
        .take(2)
        .map(|s| {
            let (lines, note, why) = v8_path(report, s);
            json!({ "name": s.name, "lines": lines, "note": note, "why": why })
        })
        .collect()
}

/// Everything the partials show.
pub fn view(report: &HeapReport) -> Value {
    let (path_lines, path_note, why) = match main_suspect(report) {
        Some(s) if matches!(report.format, Format::V8 | Format::Hprof) => v8_path(report, s),
        Some(s) if report.format == Format::Pprof => pprof_stack(s),
        Some(s) => site_only(report, s),
        None => (Vec::new(), String::new(), "[no suspect]".into()),
    };
    json!({
        "tools": tools(report),
        "count_unit": count_unit(report),
        "root": report.root_cause.as_ref().map(|r| root(report, r)),
        "v8": report.format == Format::V8,
        "files": report.snapshots.len(),
        "sample_types": report.sample_types.clone().unwrap_or_default().join(", "),
        "snapshots": snapshots(report),
        "method": method(report),
        "growing": growing(report),
        "growing_legend": growing_legend(report),
        "growing_none": if report.snapshots.len() < 2 { "one snapshot: nothing to compare" } else { "none" },
        "consumers": consumers(report),
        "leaked_object": leaked_object(report),
        "path_lines": path_lines,
        "other_paths": other_paths(report),
        "path_note": path_note,
        "path_none": "[no retainer path]",
        "why": why,
        "warnings": report.warnings,
        "hints": hints(report),
    })
}
