//! The leak-pattern hint read off a retainer path: which of the known shapes (listeners,
//! timers, handles, a Map/Set or object cache, a closure's context) it shows, and what
//! the hint is based on.

use crate::heap::model::{Pattern, PatternKind, Step};

/// The pattern a retainer path suggests, with what it is based on.
pub fn pattern(steps: &[Step]) -> Pattern {
    let hint = |kind, based_on: String| Pattern { kind, based_on };
    let prev_node = |i: usize| {
        if i == 0 {
            "a root".to_string()
        } else {
            steps[i - 1].node.clone()
        }
    };
    for (i, step) in steps.iter().enumerate() {
        if step.edge.as_deref() == Some("_events") {
            return hint(
                PatternKind::EventEmitterListeners,
                format!(
                    "the retainer path goes through `_events` of {} (its listener lists)",
                    prev_node(i)
                ),
            );
        }
    }
    const TIMER_EDGES: [&str; 3] = ["_idleNext", "_idlePrev", "_onTimeout"];
    const TIMER_NODES: [&str; 3] = ["Timeout", "TimersList", "Immediate"];
    for step in steps {
        let edge = step.edge.as_deref().unwrap_or("");
        if TIMER_EDGES.contains(&edge) || TIMER_NODES.contains(&step.node.as_str()) {
            return hint(
                PatternKind::Timers,
                format!(
                    "the retainer path goes through a {} (reached by `{edge}`): Node's list of active timers",
                    step.node
                ),
            );
        }
    }
    const HANDLE_NODES: [&str; 6] = [
        "Socket",
        "TLSSocket",
        "TCP",
        "Server",
        "Pipe",
        "WriteStream",
    ];
    for step in steps {
        if HANDLE_NODES.contains(&step.node.as_str()) || step.edge.as_deref() == Some("_handle") {
            return hint(
                PatternKind::OpenHandles,
                format!("the retainer path goes through a {}", step.node),
            );
        }
    }
    for (i, step) in steps.iter().enumerate() {
        if step.edge.as_deref() == Some("table") && i > 0 {
            let owner = &steps[i - 1].node;
            if ["Map", "Set"].contains(&owner.as_str()) {
                return hint(
                    PatternKind::MapSetCache,
                    format!("the retainer path goes through the `table` of a {owner}"),
                );
            }
        }
    }
    // The leaked object hangs off a plain object by a property: a keyed cache.
    if steps.len() >= 2 {
        let last = &steps[steps.len() - 1];
        let owner = &steps[steps.len() - 2].node;
        if owner == "Object" && last.edge_type.as_deref() == Some("property") {
            return hint(
                PatternKind::ObjectCache,
                format!(
                    "the leaked objects hang off a plain Object by property (`{}`)",
                    last.edge.as_deref().unwrap_or("")
                ),
            );
        }
    }
    if let Some(step) = steps
        .iter()
        .find(|s| s.edge_type.as_deref() == Some("context"))
    {
        return hint(
            PatternKind::ClosureContext,
            format!(
                "the retainer path goes through the closure variable `{}`",
                step.edge.as_deref().unwrap_or("")
            ),
        );
    }
    hint(
        PatternKind::Unknown,
        "the retainer path shows none of the known shapes".into(),
    )
}
