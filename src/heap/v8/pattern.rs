//! The leak-pattern hint read off a retainer path: which of the known shapes (listeners,
//! timers, handles, a global or module-level collection, a Map/Set or object cache, a
//! closure's context) it shows, and what the hint is based on. The shapes are tried in
//! [`DETECTORS`] order; the first that matches is the hint.

use crate::heap::model::{Pattern, PatternKind, Step};

/// One shape: the hint when the path shows it.
type Detector = fn(&[Step]) -> Option<Pattern>;

/// Most specific first: a listener or timer list explains more than the Array or Map
/// it happens to be stored in.
const DETECTORS: [Detector; 7] = [
    listeners,
    timers,
    handles,
    global_collection,
    map_set_cache,
    object_cache,
    closure_context,
];

/// The pattern a retainer path suggests, with what it is based on.
pub fn pattern(steps: &[Step]) -> Pattern {
    DETECTORS
        .iter()
        .find_map(|detect| detect(steps))
        .unwrap_or_else(|| {
            hint(
                PatternKind::Unknown,
                "the retainer path shows none of the known shapes".into(),
            )
        })
}

fn hint(kind: PatternKind, based_on: String) -> Pattern {
    Pattern { kind, based_on }
}

fn edge(step: &Step) -> &str {
    step.edge.as_deref().unwrap_or("")
}

fn edge_type(step: &Step) -> &str {
    step.edge_type.as_deref().unwrap_or("")
}

fn listeners(steps: &[Step]) -> Option<Pattern> {
    let i = steps.iter().position(|s| edge(s) == "_events")?;
    let owner = if i == 0 { "a root" } else { &steps[i - 1].node };
    Some(hint(
        PatternKind::EventEmitterListeners,
        format!("the retainer path goes through `_events` of {owner} (its listener lists)"),
    ))
}

fn timers(steps: &[Step]) -> Option<Pattern> {
    const TIMER_EDGES: [&str; 3] = ["_idleNext", "_idlePrev", "_onTimeout"];
    const TIMER_NODES: [&str; 3] = ["Timeout", "TimersList", "Immediate"];
    let step = steps
        .iter()
        .find(|s| TIMER_EDGES.contains(&edge(s)) || TIMER_NODES.contains(&s.node.as_str()))?;
    Some(hint(
        PatternKind::Timers,
        format!(
            "the retainer path goes through a {} (reached by `{}`): Node's list of active timers",
            step.node,
            edge(step)
        ),
    ))
}

fn handles(steps: &[Step]) -> Option<Pattern> {
    const HANDLE_NODES: [&str; 6] = [
        "Socket",
        "TLSSocket",
        "TCP",
        "Server",
        "Pipe",
        "WriteStream",
    ];
    let step = steps
        .iter()
        .find(|s| HANDLE_NODES.contains(&s.node.as_str()) || edge(s) == "_handle")?;
    Some(hint(
        PatternKind::OpenHandles,
        format!("the retainer path goes through a {}", step.node),
    ))
}

/// The leaked objects are elements of an Array held by a property of the global object
/// or by a variable of a scope (a module's or a function's): the commonest leak there is,
/// a list that is pushed to and never emptied.
fn global_collection(steps: &[Step]) -> Option<Pattern> {
    let [.., holder, array, leaked] = steps else {
        return None;
    };
    if array.node != "Array" || edge_type(leaked) != "element" {
        return None;
    }
    let held_by = match edge_type(array) {
        "property" if array.edge.is_some() && steps.len() == 3 => {
            format!("a property of the global object (`{}`)", holder.node)
        }
        "context" => "a variable of a module's or function's scope".to_string(),
        _ => return None,
    };
    Some(hint(
        PatternKind::GlobalCollection,
        format!(
            "the leaked objects are elements ({}) of an Array held by `{}`, {held_by}",
            edge(leaked),
            edge(array)
        ),
    ))
}

fn map_set_cache(steps: &[Step]) -> Option<Pattern> {
    let owner = steps.windows(2).find_map(|w| {
        let is_table = edge(&w[1]) == "table" && ["Map", "Set"].contains(&w[0].node.as_str());
        is_table.then_some(&w[0].node)
    })?;
    Some(hint(
        PatternKind::MapSetCache,
        format!("the retainer path goes through the `table` of a {owner}"),
    ))
}

/// The leaked object hangs off a plain object by a property: a keyed cache.
fn object_cache(steps: &[Step]) -> Option<Pattern> {
    let [.., owner, leaked] = steps else {
        return None;
    };
    (owner.node == "Object" && edge_type(leaked) == "property").then(|| {
        hint(
            PatternKind::ObjectCache,
            format!(
                "the leaked objects hang off a plain Object by property (`{}`)",
                edge(leaked)
            ),
        )
    })
}

fn closure_context(steps: &[Step]) -> Option<Pattern> {
    let step = steps.iter().find(|s| edge_type(s) == "context")?;
    Some(hint(
        PatternKind::ClosureContext,
        format!(
            "the retainer path goes through the closure variable `{}`",
            edge(step)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(steps: &[(&str, &str, &str)]) -> Vec<Step> {
        steps
            .iter()
            .enumerate()
            .map(|(i, (edge, ty, node))| Step {
                node: node.to_string(),
                edge: (i > 0).then(|| edge.to_string()),
                edge_type: (i > 0).then(|| ty.to_string()),
                id: 2 * i as u64 + 1,
                location: None,
            })
            .collect()
    }

    #[test]
    fn a_global_or_scope_array_is_a_global_collection() {
        let global = path(&[
            ("", "", "global"),
            ("leaked", "property", "Array"),
            ("[7]", "element", "Thing"),
        ]);
        let p = pattern(&global);
        assert_eq!(p.kind, PatternKind::GlobalCollection);
        assert!(
            p.based_on
                .contains("`leaked`, a property of the global object (`global`)")
        );
        let module = path(&[
            ("", "", "global"),
            ("handle", "property", "handle()"),
            ("context", "internal", "system / Context"),
            ("items", "context", "Array"),
            ("[0]", "element", "Thing"),
        ]);
        let p = pattern(&module);
        assert_eq!(p.kind, PatternKind::GlobalCollection);
        assert!(p.based_on.contains("scope"), "{}", p.based_on);
    }

    #[test]
    fn an_array_deep_in_an_object_is_not_global() {
        let nested = path(&[
            ("", "", "global"),
            ("app", "property", "App"),
            ("items", "property", "Array"),
            ("[0]", "element", "Thing"),
        ]);
        assert_eq!(pattern(&nested).kind, PatternKind::Unknown);
        // A listener list is an Array too, but the listeners are the better answer.
        let listeners = path(&[
            ("", "", "global"),
            ("_events", "property", "Object"),
            ("request", "property", "Array"),
            ("[0]", "element", "onRequest()"),
        ]);
        assert_eq!(pattern(&listeners).kind, PatternKind::EventEmitterListeners);
    }
}
