//! The Root Cause Analysis's decisions: which allocation site the report names (the
//! leaked object when it has a code location, a Scalene leak, or — one file only — the
//! largest application entry), and what the three generated steps of Why This Leaks are
//! made of (the site, what holds it from a retainer path, the growth). The words are the
//! partials'; every choice is here.

use super::model::{CodeLocation, Format, HeapReport, PatternKind, RootBasis, RootCause, Step};

/// The Root Cause Analysis of a report whose suspects and leaked object are decided.
pub fn root_cause(report: &HeapReport) -> Option<RootCause> {
    let mut root = site(report)?;
    root.language = super::source::language(std::path::Path::new(&root.location.file)).into();
    Some(root)
}

/// The entry named, by the rule above.
fn site(report: &HeapReport) -> Option<RootCause> {
    let main = report
        .leaked_object
        .as_deref()
        .and_then(|name| report.suspects.iter().find(|s| s.name == name));
    if let Some(s) = main {
        let Some(location) = s.location.clone() else {
            // V8 snapshots: the first suspect whose path passes an application closure.
            return report.suspects.iter().find_map(retainer_closure);
        };
        let scalene = report
            .growing
            .iter()
            .find(|g| g.name == s.name)
            .and_then(|g| g.scalene.as_ref());
        return Some(RootCause {
            name: s.name.clone(),
            location,
            basis: if report.format == Format::Scalene {
                RootBasis::ScaleneLeak
            } else {
                RootBasis::Growing
            },
            growth_bytes: s.retained_growth_bytes,
            velocity_mb_s: scalene.and_then(|l| l.leak_velocity_mb_s),
            likelihood: scalene.and_then(|l| l.leak_likelihood),
            held_by: holder(&s.retainer_path),
            pattern: s.pattern.kind,
            language: String::new(),
            source: None,
        });
    }
    if report.snapshots.len() != 1 {
        return None;
    }
    // One file: nothing was compared, so the largest application entry is named, and
    // the basis says it is only the largest.
    let top = report
        .top_consumers
        .iter()
        .find(|c| c.location.as_ref().is_some_and(is_application))?;
    Some(RootCause {
        name: top.name.clone(),
        location: top.location.clone()?,
        basis: RootBasis::LargestOnly,
        growth_bytes: 0,
        velocity_mb_s: None,
        likelihood: None,
        held_by: None,
        pattern: PatternKind::Unknown,
        language: String::new(),
        source: None,
    })
}

/// A V8 suspect: the closure nearest it on its retainer path whose position is known.
fn retainer_closure(s: &super::model::Suspect) -> Option<RootCause> {
    let closure = s
        .retainer_path
        .iter()
        .rev()
        .find(|st| st.location.as_ref().is_some_and(is_application))?;
    Some(RootCause {
        name: s.name.clone(),
        location: closure.location.clone()?,
        basis: RootBasis::RetainerClosure,
        growth_bytes: s.retained_growth_bytes,
        velocity_mb_s: None,
        likelihood: None,
        held_by: holder(&s.retainer_path),
        pattern: s.pattern.kind,
        language: String::new(),
        source: None,
    })
}

/// Code of the application rather than of the runtime: a file is named and it is not
/// one of Node's built-in modules or Go's runtime.
pub fn is_application(location: &CodeLocation) -> bool {
    let file = location.file.as_str();
    !file.is_empty()
        && !file.starts_with("node:")
        && !file.contains("/src/runtime/")
        && !location.function.starts_with("runtime.")
        && !location.function.starts_with('(')
}

/// What holds the leaked object: the last step before it reached by a named property
/// or variable (`pending: Map`, `ctx: Context`), skipping elements and V8's internals.
fn holder(path: &[Step]) -> Option<Step> {
    let before = path.len().checked_sub(1)?;
    path[..before]
        .iter()
        .rev()
        .find(|s| {
            matches!(s.edge_type.as_deref(), Some("property" | "context"))
                && s.edge.as_deref().is_some_and(|e| !e.starts_with('['))
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(edge: Option<&str>, kind: &str, node: &str) -> Step {
        Step {
            node: node.into(),
            edge: edge.map(str::to_string),
            edge_type: Some(kind.into()),
            id: 1,
            location: None,
        }
    }

    #[test]
    fn the_holder_is_the_last_named_edge_before_the_object() {
        let path = vec![
            step(None, "element", "(GC roots)"),
            step(Some("pending"), "context", "Map"),
            step(Some("table"), "internal", "(object elements)"),
            step(Some("[3]"), "element", "OrderContext"),
        ];
        assert_eq!(holder(&path).unwrap().edge.as_deref(), Some("pending"));
        assert!(holder(&path[..1]).is_none());
    }

    #[test]
    fn runtime_frames_are_not_application_code() {
        let loc = |file: &str, function: &str| CodeLocation {
            file: file.into(),
            line: 1,
            function: function.into(),
        };
        assert!(is_application(&loc("/srv/app.js", "enqueue")));
        assert!(!is_application(&loc("node:internal/x", "f")));
        assert!(!is_application(&loc(
            "/usr/lib/go/src/runtime/malloc.go",
            "x"
        )));
        assert!(!is_application(&loc("", "(V8 API)")));
    }
}
